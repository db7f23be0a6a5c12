"""`perflab run`: papermill executes the notebooks, HTML with code hidden, tables, and failures named by cell."""

from __future__ import annotations

import json
import shutil

import nbformat
import pandas as pd
import pytest
from conftest import DEMO_DIR, SCHEME_FILE
from nbformat.v4 import new_code_cell, new_notebook

from perflab.cli import main
from perflab.errors import PerflabError
from perflab.report import discover_notebooks, notebook_candidates, notebook_dir


def test_run_writes_executed_notebooks_html_and_tables(full_run):
    out = full_run
    data = out.parent / "data" / "raw" / "demo"
    for nb in discover_notebooks():
        assert (out / nb.name).is_file()
        page = (out / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert "load_dataset(" not in page  # code hidden
        assert "<img" in page  # the figures are there
    executed = nbformat.read(str(out / "10_scores.ipynb"), as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(data) in injected[0].source
    for table in ("scores", "grades", "differentiated_scores", "differentiated_contributions", "target_vetting"):
        assert (out / "tables" / f"{table}.csv").is_file(), table
    scores = pd.read_csv(out / "tables" / "scores.csv")
    assert len(scores) == 76 and sorted(scores.loc[scores["kind"] == "district", "rank"]) == list(range(1, 17))
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scheme"]["name"] == "beijing_2016" and "ratings.csv.gz" in prov["data"]["files"]
    assert (out.parent / "data" / "processed" / "demo" / "ratings.parquet").is_file()
    assert (out / "scheme.yaml").read_bytes() == SCHEME_FILE.read_bytes()  # the run's scheme travels with its tables
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "10_scores.html" in index and "tables/scores.csv" in index
    # the demo is simulated: every page, and the index, opens with the notice
    for page in [out / "index.html", *(out / f"{nb.stem}.html" for nb in discover_notebooks())]:
        text = page.read_text(encoding="utf-8")
        assert "perflab-notice" in text and "Simulated data" in text, page.name
        assert text.index("perflab-notice") < text.index("<h1"), page.name  # it opens the page
    assert prov["data"]["simulated"] is True
    # effective weights beside the nominal ones, on pages 10 and 30, and in their table
    assert (out / "tables" / "effective_weights.csv").is_file()
    for page in ("10_scores.html", "30_weight_sensitivity.html"):
        assert "Share of the variance" in (out / page).read_text(encoding="utf-8"), page


def _notebook(path, *sources, params="scheme = ''\ndata = ''\noutput = ''\nseed = 0"):
    cells = [new_code_cell(params, metadata={"tags": ["parameters"]})] + [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def test_only_simulated_data_carry_the_notice(tmp_path, capsys):
    """A copy of the whole simulated directory keeps the notice; a copy of the tables alone is a user's own data."""
    books = tmp_path / "nbs"
    books.mkdir()
    _notebook(books / "10_page.ipynb", "print('a page')")
    whole, tables = tmp_path / "copied" / "whole", tmp_path / "copied" / "tables"
    shutil.copytree(DEMO_DIR, whole)
    tables.mkdir(parents=True)
    for f in DEMO_DIR.glob("*.csv*"):
        shutil.copy(f, tables / f.name)
    for data, simulated in ((whole, True), (tables, False)):
        out = tmp_path / f"o_{data.name}"
        code = main(
            ["run", "--scheme", str(SCHEME_FILE), "--data", str(data), "--out", str(out), "--notebooks", str(books)]
        )
        assert code == 0, capsys.readouterr().err
        for page in ("10_page.html", "index.html"):
            assert ("Simulated data" in (out / page).read_text(encoding="utf-8")) is simulated, (data.name, page)
        executed = nbformat.read(str(out / "10_page.ipynb"), as_version=4)
        assert ("perflab-notice" in executed.cells[0].metadata.get("tags", [])) is simulated


def test_a_failing_notebook_exits_non_zero_naming_notebook_and_cell(tmp_path, capsys):
    books = tmp_path / "nbs"
    books.mkdir()
    _notebook(books / "10_ok.ipynb", "x = 1")
    _notebook(books / "20_broken.ipynb", "x = 1", "y = x / 0")
    code = main(
        [
            "run",
            "--scheme",
            str(SCHEME_FILE),
            "--data",
            str(DEMO_DIR),
            "--out",
            str(tmp_path / "o"),
            "--notebooks",
            str(books),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "perflab: error: notebook 20_broken.ipynb, cell 4 (In [4]): ZeroDivisionError" in err
    )  # 4th cell, after the injected parameters
    assert "Traceback" not in err
    assert (tmp_path / "o.failed" / "20_broken.ipynb").is_file()  # the executed copy shows where it failed


def test_a_notebook_without_the_run_parameters_is_refused(tmp_path, capsys):
    books = tmp_path / "nbs"
    books.mkdir()
    _notebook(books / "10_old.ipynb", "x = 1", params="scheme = ''\ndata = ''")
    code = main(
        [
            "run",
            "--scheme",
            str(SCHEME_FILE),
            "--data",
            str(DEMO_DIR),
            "--out",
            str(tmp_path / "o"),
            "--notebooks",
            str(books),
        ]
    )
    assert code == 1
    assert "notebook 10_old.ipynb: unknown parameter(s) output, seed" in capsys.readouterr().err


def test_run_validates_the_data_before_running_any_notebook(tmp_path, capsys):
    code = main(
        ["run", "--scheme", str(SCHEME_FILE), "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and "data directory not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("nb", discover_notebooks(), ids=lambda p: p.name)
def test_notebooks_are_committed_clean_with_one_parameters_cell(nb):
    book = nbformat.read(str(nb), as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("scheme", "data", "output", "seed"):
        assert f"{name} = " in tagged[0].source
    # papermill must see every parameter the cell assigns (a stray quote in a comment hides the rest)
    import ast

    import papermill

    assigned = {t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign) for t in node.targets}
    assert set(papermill.inspect_notebook(str(nb))) == assigned
    assert book.cells[0].cell_type == "markdown" and book.cells[0].source.startswith("# ")


def test_param_goes_to_the_notebooks_that_declare_it(tmp_path, capsys):
    books = tmp_path / "nbs"
    books.mkdir()
    _notebook(books / "10_plain.ipynb", "y = seed")
    _notebook(
        books / "20_knob.ipynb",
        "assert isinstance(draws, int) and draws == 500 and method == 'trend'",
        params="scheme = ''\ndata = ''\noutput = ''\nseed = 0\ndraws = 10\nmethod = 'mean'",
    )
    out = tmp_path / "o"
    code = main(
        [
            "run",
            "--scheme",
            str(SCHEME_FILE),
            "--data",
            str(DEMO_DIR),
            "--out",
            str(out),
            "--notebooks",
            str(books),
            "--param",
            "draws=500",
            "--param",
            "method=trend",
        ]
    )
    assert code == 0, capsys.readouterr().err
    injected = [
        c
        for c in nbformat.read(str(out / "20_knob.ipynb"), as_version=4).cells
        if "injected-parameters" in c.metadata.get("tags", [])
    ][0].source
    assert "draws = 500" in injected and 'method = "trend"' in injected
    plain = [
        c
        for c in nbformat.read(str(out / "10_plain.ipynb"), as_version=4).cells
        if "injected-parameters" in c.metadata.get("tags", [])
    ][0].source
    assert "draws" not in plain
    code = main(
        [
            "run",
            "--scheme",
            str(SCHEME_FILE),
            "--data",
            str(DEMO_DIR),
            "--out",
            str(out),
            "--notebooks",
            str(books),
            "--param",
            "drawz=5",
        ]
    )
    assert code == 2 and "no notebook has the parameter 'drawz'; they have: draws, method" in capsys.readouterr().err


def test_the_notebooks_are_found_in_the_checkout_then_in_the_installed_copy(tmp_path):
    installed = tmp_path / "prefix" / "share" / "perflab" / "notebooks"
    installed.mkdir(parents=True)
    _notebook(installed / "10_page.ipynb", "print('a page')")
    assert notebook_dir(candidates=[tmp_path / "no_checkout", installed]) == installed
    assert discover_notebooks(notebook_dir(candidates=[tmp_path / "no_checkout", installed])) == [
        installed / "10_page.ipynb"
    ]
    assert notebook_candidates()[0].name == "notebooks" and notebook_dir() == notebook_candidates()[0]
    with pytest.raises(PerflabError, match=r"^no notebooks found \(looked in .*no_checkout\); pass --notebooks DIR"):
        notebook_dir(candidates=[tmp_path / "no_checkout"])


def test_run_with_a_notebooks_directory_without_notebooks_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    args = ["run", "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "o"), "--notebooks", str(tmp_path / "empty")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert (
        err == f"perflab: error: {tmp_path / 'empty'}: no notebooks (NN_name.ipynb) in this directory (--notebooks)\n"
    )


def test_notebooks_run_side_by_side_give_the_same_report(tmp_path, capsys):
    """--jobs 2 runs the pages in two kernels at once: each page's tables and key figure as one at a time would write
    them, two pages saving the same table never interleave, and a failing page is still one line naming it."""
    import pandas as pd

    from perflab.plots import key_figures
    from perflab.report import save_table

    books = tmp_path / "nbs"
    books.mkdir()
    save = (
        "import pandas as pd, matplotlib.pyplot as plt\n"
        "from perflab.report import save_table\nfrom perflab import plots\n"
        "save_table(pd.DataFrame({{'x': range(5000)}}), output, 'shared')\n"
        "save_table(pd.DataFrame({{'y': [{n}]}}), output, 'own_{n}')\n"
        "fig, ax = plt.subplots(); plots.keep(fig, output, '{n}_fig', key=True)"
    )
    for n in (10, 20):
        _notebook(books / f"{n}_page.ipynb", save.format(n=n))
    _notebook(books / "30_broken.ipynb", "x = 1", "y = x / 0")
    out = tmp_path / "o"
    args = ["run", "--scheme", str(SCHEME_FILE), "--data", str(DEMO_DIR), "--out", str(out)]
    assert main(args + ["--notebooks", str(books), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "perflab: error: notebook 30_broken.ipynb, cell 4 (In [4]): ZeroDivisionError" in err
    assert "Traceback" not in err
    assert not out.exists()  # no report: the failed run's pages are set aside, whole
    out = tmp_path / "o.failed"
    expected = tmp_path / "expected"
    save_table(pd.DataFrame({"x": range(5000)}), expected, "shared")
    for n in (10, 20):
        save_table(pd.DataFrame({"y": [n]}), expected, f"own_{n}")
    for name in ("shared.csv", "own_10.csv", "own_20.csv"):
        assert (out / "tables" / name).read_bytes() == (expected / "tables" / name).read_bytes(), name
    assert not list((out / "tables").glob(".*part"))  # no half-written table left behind
    assert key_figures(out) == {"10": "10_fig.png", "20": "20_fig.png"}
