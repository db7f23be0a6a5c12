"""The notebooks have one source: each .ipynb and its jupytext py:percent pair say the same, and carry no outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a reader edits in a notebook: each cell's type, source and tags."""
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def out_of_sync(ipynb: Path) -> list[str]:
    """The differences between a notebook and its .py pair, as readable lines; empty when they agree."""
    pair = ipynb.with_suffix(".py")
    if not pair.exists():
        return [f"{pair.name} is missing: pair it with `jupytext --set-formats ipynb,py:percent {ipynb.name}`"]
    a = cells(nbformat.read(ipynb, as_version=4))
    b = cells(jupytext.read(pair))
    problems = []
    if len(a) != len(b):
        problems.append(f"{ipynb.name} has {len(a)} cells, {pair.name} {len(b)}")
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            problems.append(f"cell {i} differs between {ipynb.name} and {pair.name}")
    return problems


def outputs(ipynb: Path) -> list[str]:
    """Code cells of a committed notebook that carry outputs or execution counts."""
    nb = nbformat.read(ipynb, as_version=4)
    return [
        f"{ipynb.name}: cell {i} carries outputs"
        for i, c in enumerate(nb.cells, start=1)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def test_every_notebook_is_paired():
    assert len(NOTEBOOKS) >= 6
    assert {p.stem for p in (ROOT / "notebooks").glob("*.py")} == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_its_pair_agree(ipynb):
    problems = out_of_sync(ipynb)
    assert not problems, "; ".join(problems) + " (run `jupytext --sync notebooks/*.ipynb`)"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(ipynb):
    assert not outputs(ipynb), "clear the outputs before committing (Kernel > Restart and Clear Outputs)"


def test_a_deliberately_edited_pair_is_caught(tmp_path):
    src = NOTEBOOKS[0]
    shutil.copy(src, tmp_path / src.name)
    shutil.copy(src.with_suffix(".py"), tmp_path / src.with_suffix(".py").name)
    assert out_of_sync(tmp_path / src.name) == []
    pair = tmp_path / src.with_suffix(".py").name
    pair.write_text(pair.read_text(encoding="utf-8") + "\n# %%\nprint('an edit made only in the .py')\n", "utf-8")
    assert out_of_sync(tmp_path / src.name)
    pair.write_text(
        pair.read_text(encoding="utf-8").replace("# %% [markdown]", "# %% [markdown]\n# changed", 1), "utf-8"
    )
    assert any("differs" in p for p in out_of_sync(tmp_path / src.name))


def test_a_notebook_with_outputs_is_caught(tmp_path):
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hello")]
    code.execution_count = 1
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert outputs(tmp_path / "x.ipynb")


def test_saving_in_jupyterlab_updates_the_pair(tmp_path):
    """JupyterLab saves through jupytext's contents manager (enabled by the jupytext server extension): a cell
    edited and saved there lands in both files of the pair."""
    from jupytext import TextFileContentsManager

    src = NOTEBOOKS[0]
    for path in (src, src.with_suffix(".py")):
        shutil.copy(path, tmp_path / path.name)
    cm = TextFileContentsManager(root_dir=str(tmp_path))
    model = cm.get(src.name)
    nb = model["content"]
    code = next(c for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
    code.source += "\nedited_in_lab = True"
    cm.save({"type": "notebook", "content": nb}, src.name)
    assert "edited_in_lab = True" in (tmp_path / src.with_suffix(".py").name).read_text(encoding="utf-8")
    assert out_of_sync(tmp_path / src.name) == []
