"""Runs: execute the parameterised notebooks with papermill, export HTML memos, collect tables.

A run writes into one output directory: each executed notebook (``NN_name.ipynb``),
an HTML copy with the code hidden (``NN_name.html``), the result tables the
notebooks save under ``tables/``, an ``index.html`` linking them, and a
``provenance.json`` (scheme and data hashes, versions, seed).

A run is written into a hidden sibling, ``.NAME.partial-PID``, moved into place only once every notebook ran:
until then the previous report stays as it was. Interrupted (Ctrl-C), the partial run is deleted; failed (a notebook
raised), it is kept for reading as ``NAME.failed/`` with an ``INCOMPLETE`` file saying why, and the previous report
is left in place. Nothing in a finished report names the temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import os
import shutil
import signal
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perflab.errors import PerflabError
from perflab.io import is_simulated

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"  # the checkout's (an editable install)
INSTALLED_NOTEBOOKS = Path("share") / "perflab" / "notebooks"  # under the install prefix (pyproject's data-files)
PARAMETERS = ("scheme", "data", "output", "seed")
INCOMPLETE = "INCOMPLETE"  # in a directory that is not a finished report (a run in progress, or one that failed)
REPORT_FILES = ("index.html", "provenance.json", INCOMPLETE)  # any of them: a directory a run may replace

# nbformat imports jsonschema, which imports its optional IRI checker rfc3987_syntax when installed (JupyterLab's
# dependencies install it); that compiles a grammar at import: 2.8 s of every `perflab run` and of every process
# a sweep starts, for a format notebooks never use. Unless something imported it already, it is left out.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)


SIMULATED_NOTICE = {
    "en": "**Simulated data.** These tables were made by `perflab simulate`, with planted effects: the unit names are "
    "real, the scores are not. Nothing on this page is a finding about the real units.",
    "zh": "**模拟数据。** 本页数据由 `perflab simulate` 生成，含人为植入的效应：单位名称是真实的，分数不是。"
    "本页任何结果都不是对真实单位的评价。",
}


def simulated_notice(lang: str = "en") -> str:
    """The notice every page of a run on simulated data opens with (Markdown), in the page's language."""
    return SIMULATED_NOTICE["zh" if lang == "zh" else "en"]


def _notice_html(lang: str = "en") -> str:
    import re

    text = html.escape(simulated_notice(lang))
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return f'<div class="perflab-notice" role="note" style="{NOTICE_STYLE}">{text}</div>'


NOTICE_STYLE = (
    "border:2px solid #b45309;background:#fef3c7;color:#1f2937;padding:0.6em 0.9em;margin:0.5em 0 1em;"
    "border-radius:4px;font-family:sans-serif"
)


def mark_simulated(executed: Path, lang: str = "en") -> None:
    """Open an executed notebook with the simulated-data notice (a Markdown cell before everything else)."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    if nb.cells and "perflab-notice" in nb.cells[0].get("metadata", {}).get("tags", []):
        return
    cell = nbformat.v4.new_markdown_cell(_notice_html(lang), metadata={"tags": ["perflab-notice"]})
    cell.id = "perflab-notice"
    nb.cells.insert(0, cell)
    nbformat.write(nb, str(executed))


class NotebookError(PerflabError):
    """A notebook failed: names the notebook and the failing cell (counted from 1, as shown in JupyterLab)."""

    def __init__(self, notebook: str, cell: str | None, message: str):
        self.notebook, self.cell, self.message = notebook, cell, message
        where = f"notebook {notebook}" + (f", cell {cell}" if cell is not None else "")
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # crosses process boundaries intact (perflab run --jobs)
        return (type(self), (self.notebook, self.cell, self.message))


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    index: Path
    executed: tuple[Path, ...]
    html: tuple[Path, ...]
    tables: tuple[Path, ...]


def notebook_candidates() -> list[Path]:
    """Where the notebooks may be, in the order they are looked for: the checkout's ``notebooks/`` next to the
    package (an editable install or a run from the source tree), then the copy a plain ``pip install`` puts
    under the install prefix (``<prefix>/share/perflab/notebooks``; a ``--user`` install's prefix too)."""
    prefixes = [sysconfig.get_path("data"), sys.prefix]
    try:
        prefixes.append(sysconfig.get_path("data", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    out = [NOTEBOOK_DIR]
    for prefix in prefixes:
        if prefix and (Path(prefix) / INSTALLED_NOTEBOOKS) not in out:
            out.append(Path(prefix) / INSTALLED_NOTEBOOKS)
    return out


def notebook_dir(directory: str | Path | None = None, candidates: list[Path] | None = None) -> Path:
    """The directory of the notebooks to run: ``directory`` (``--notebooks DIR``) when given, otherwise the first
    of ``candidates`` (default :func:`notebook_candidates`) that holds notebooks; one clear error if none does.

    Examples
    --------
    >>> notebook_dir().name
    'notebooks'
    """
    if directory is not None:
        d = Path(directory)
        if not any(d.glob("[0-9][0-9]_*.ipynb")):
            raise PerflabError(f"{d}: no notebooks (NN_name.ipynb) in this directory (--notebooks)")
        return d
    tried = notebook_candidates() if candidates is None else list(candidates)
    for d in tried:
        if any(Path(d).glob("[0-9][0-9]_*.ipynb")):
            return Path(d)
    raise PerflabError(
        "no notebooks found (looked in " + ", ".join(map(str, tried)) + "); pass --notebooks DIR, "
        "e.g. the notebooks/ folder of a perflab checkout"
    )


def discover_notebooks(directory: str | Path | None = None) -> list[Path]:
    """The numbered analysis notebooks (``NN_name.ipynb``) in reading order; ``9N`` notebooks (the memo) are not
    part of a run: they read a finished run's tables (``perflab memo``). ``directory`` None: :func:`notebook_dir`."""
    d = Path(directory) if directory is not None else notebook_dir()
    return sorted(p for p in d.glob("[0-8][0-9]_*.ipynb") if p.is_file())


def save_table(df: pd.DataFrame, output: str | Path, name: str, index: bool = False) -> Path:
    """Write a result table to ``output/tables/name.csv`` (UTF-8 with BOM so spreadsheet software reads the Chinese).

    Numbers keep six significant digits and lines end in ``\\n`` on every system, so a rerun writes the same bytes.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    output : str or pathlib.Path
        The run's output directory; the file goes to its ``tables/`` (created if need be).
    name : str
        The file name without ``.csv``.
    index : bool
        Write the row index as the first column too.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> out = tempfile.mkdtemp()
    >>> path = save_table(pd.DataFrame({"unit": ["D01"], "final": [91.23456789]}), out, "scores")
    >>> path.relative_to(out).as_posix(), path.is_file()
    ('tables/scores.csv', True)
    >>> path.read_bytes()
    b'\\xef\\xbb\\xbfunit,final\\nD01,91.2346\\n'
    """
    path = Path(output) / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")  # written whole, then moved: two pages saving the
    df.to_csv(part, index=index, encoding="utf-8-sig", float_format="%.6g", lineterminator="\n")
    os.replace(part, path)  # same table side by side (perflab run --jobs) never interleave
    return path


def _declared(notebook: Path) -> dict:
    """The parameters a notebook declares (papermill's reading of its ``parameters`` cell), read once per version."""
    path = Path(notebook)
    return _inspect(str(path), path.stat().st_mtime_ns if path.is_file() else 0)


@functools.lru_cache(maxsize=64)
def _inspect(path: str, version: int) -> dict:
    import papermill

    with _quiet_logs():  # a line it cannot read (two "=") is skipped: tests/test_report.py checks every one is read
        return papermill.inspect_notebook(path)


def check_parameters(notebook: Path, parameters: Mapping[str, Any]) -> None:
    """papermill only logs unknown parameters: refuse them here, and a notebook without a parameters cell."""
    declared = _declared(notebook)
    if not declared:
        raise NotebookError(notebook.name, None, "has no cell tagged 'parameters'")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise NotebookError(
            notebook.name, None, f"unknown parameter(s) {', '.join(unknown)}; it declares {', '.join(declared)}"
        )


def execute(
    notebook: Path,
    executed: Path,
    parameters: Mapping[str, Any],
    cwd: Path | None = None,
    chdir: bool = True,
    check: bool = True,
) -> Path:
    """Execute one notebook with papermill; a failing cell raises NotebookError naming notebook and cell.

    On simulated data (:func:`perflab.io.is_simulated` of the ``data`` parameter) the executed notebook, and so its
    HTML page, opens with the simulated-data notice.

    The kernel starts in ``cwd`` (default the notebook's folder); ``chdir=False`` leaves the working
    directory alone (papermill changes it for the whole process: not safe with several threads);
    ``check=False`` skips the parameter check (done already, e.g. by a sweep for all its scenarios).
    """
    if check:
        check_parameters(notebook, parameters)
    params = {k: (v.item() if hasattr(v, "item") else v) for k, v in parameters.items()}  # native values only
    executed.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_logs():
        return _execute(notebook, executed, params, cwd, chdir)


@contextlib.contextmanager
def _quiet_logs():
    """papermill's and the kernel client's log lines (a notebook's parameters it cannot parse, "Kernel died while
    waiting for execute reply" as a run is interrupted) are noise on a command's stderr: what matters comes back
    as an exception."""
    import logging

    loggers = [logging.getLogger(name) for name in ("papermill", "traitlets", "nbclient")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _execute(notebook: Path, executed: Path, params: dict, cwd: Path | None, chdir: bool) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=params,
                cwd=str(cwd or notebook.parent) if chdir else None,
                kernel_name="python3",
                # the kernel's own log (a "running over TCP" warning at start, "KeyboardInterrupt caught" as it is
                # shut down after a failing cell) is noise here: a failure comes back as PapermillExecutionError
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,  # written once at the end (or at the failing cell), not twice a cell
            )
            if is_simulated(params.get("data")):
                mark_simulated(executed)
            return executed
        except PapermillExecutionError as exc:
            message = f"{exc.ename}: {exc.evalue}".strip().splitlines()[0]
            raise NotebookError(notebook.name, f"{exc.cell_index + 1} (In [{exc.exec_count}])", message) from None
        except RuntimeError as exc:  # kernels started at the same instant can collide on ports: retry once
            if attempt == 2 or "kernel" not in str(exc).lower():
                raise NotebookError(notebook.name, None, f"could not start the kernel: {exc}") from None
            time.sleep(1.0)
    raise NotebookError(notebook.name, None, "could not start the kernel")  # not reached: the loop returns or raises


@functools.lru_cache(maxsize=1)
def _exporter():
    """One HTML exporter per process (it loads its templates once: a tenth of a second a page in a sweep)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    # a cell tagged remove-cell is for the notebook's reader only (the memo's note on how it is made)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
    return exporter


def export_html(executed: Path, target: Path, title: str | None = None) -> Path:
    """HTML copy of an executed notebook with code cells and prompts hidden (nbconvert ``--no-input``)."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    title = title or _title(executed)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})  # the browser tab's title
    target.write_text(body, encoding="utf-8")
    return target


def _title(notebook: Path) -> str:
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "perflab-notice" not in cell.get("metadata", {}).get("tags", []):
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def _headlines(out_dir: Path) -> list[tuple[str, str]]:
    """The memo's first findings (sentence, table) when the run saved every table they read; none otherwise."""
    from perflab.findings import findings
    from perflab.memo import MemoError, load_inputs

    try:
        return [(f.text, f.table) for f in findings(load_inputs(out_dir), "en")[:6]]
    except (MemoError, KeyError, ValueError, IndexError):  # a partial run (--only) has no headline numbers
        return []


def _thumbnails(out_dir: Path) -> dict[str, str]:
    """Page number -> its key figure (recorded by :func:`perflab.plots.keep`), where the file is there."""
    from perflab.plots import key_figures

    return {k: v for k, v in key_figures(out_dir).items() if (out_dir / "figures" / v).is_file()}


def write_index(
    out_dir: Path,
    pages: list[tuple[str, Path]],
    tables: list[Path],
    title: str,
    simulated: bool = False,
    name: str | None = None,
) -> Path:
    """The run's front page: headline numbers, a card per page with its key figure, the tables, provenance.

    ``name``: the report directory as the user gave it (``out_dir`` may be the run's temporary directory).
    """
    thumbs = _thumbnails(out_dir)
    cards = []
    for t, p in pages:
        img = thumbs.get(p.name[:2])
        pic = f'<img src="figures/{html.escape(img)}" alt="{html.escape(t)}" loading="lazy">' if img else ""
        cards.append(f'<a class="card" href="{html.escape(p.name)}">{pic}<span>{html.escape(t)}</span></a>')
    heads = _headlines(out_dir)
    head_html = ""
    if heads:
        items = "\n".join(
            f'<li>{html.escape(text)} <a href="{html.escape(table)}">table</a></li>' for text, table in heads
        )
        head_html = f"<h2>Headline numbers</h2><ol>\n{items}\n</ol>"
    tabs = "\n".join(
        f'<li><a href="{html.escape(str(p.relative_to(out_dir)))}">{html.escape(p.name)}</a></li>' for p in tables
    )
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:64em;margin:2em auto;line-height:1.45}}
.cards{{display:flex;flex-wrap:wrap;gap:1em}} .card{{display:flex;flex-direction:column;width:18em;border:1px solid #ccc;
border-radius:4px;padding:.5em;text-decoration:none;color:#1f2937}} .card img{{width:100%;height:12em;object-fit:contain}}
.card span{{margin-top:.4em;font-weight:bold}}</style></head>
<body>{_notice_html() if simulated else ""}<h1>{html.escape(title)}</h1>
{head_html}
<h2>Reports</h2><div class="cards">
{chr(10).join(cards)}
</div>
<p>The advisory memo of this run: <code>perflab memo {html.escape(name or out_dir.name)}</code> writes <a href="memo.html">memo.html</a>.</p>
<h2>Tables (CSV)</h2><ul>
{tabs}
</ul>
<p>How this run was made: <a href="provenance.json">provenance.json</a>; its scheme: <a href="scheme.yaml">scheme.yaml</a>.</p>
</body></html>
"""
    path = out_dir / "index.html"
    path.write_text(doc, encoding="utf-8")
    return path


def _execute_book(nb: Path, out: Path, params: Mapping[str, Any]) -> tuple[Path, Path]:
    """One notebook: executed into ``out`` and exported as HTML; returns both paths."""
    ex = execute(nb, out / nb.name, params)
    return ex, export_html(ex, out / f"{nb.stem}.html")


def _run_books(books, out: Path, params: list, jobs: int, progress) -> list[tuple[Path, Path]]:
    """Execute the notebooks, ``jobs`` kernels at a time, in separate processes when more than one; results in the
    notebooks' order. The first failure (in notebook order) is raised once the running notebooks finish."""
    if jobs <= 1 or len(books) <= 1:
        results = []
        for nb, p in zip(books, params):
            if progress:
                progress(f"running {nb.name}")
            results.append(_execute_book(nb, out, p))
        return results
    pool = spawn_pool(min(jobs, len(books)))
    try:
        futures = []
        for nb, p in zip(books, params):
            if progress:
                progress(f"running {nb.name}")
            futures.append(pool.submit(_execute_book, nb, out, p))
        results = [f.result() for f in futures]
    except NotebookError:
        try:
            pool.shutdown()  # the other pages finish: the failed run's pages are whole
        except BaseException:
            stop_pool(pool)
            raise
        raise
    except BaseException:  # Ctrl-C: the pool's processes and their kernels are stopped now
        stop_pool(pool)
        raise
    pool.shutdown()
    return results


def _worker_start() -> None:
    """A pool process leaves Ctrl-C to the command (which stops it); stopped, it takes its kernels with it, quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)


def _worker_stop(signum, frame) -> None:  # pragma: no cover - runs in a pool process being stopped
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):  # the notebook kernels it started
            child.kill()
    except Exception:  # noqa: BLE001, S110 - the kernels also notice their parent is gone
        pass
    os._exit(1)


def spawn_pool(workers: int):
    """A pool of ``workers`` fresh processes (spawn) that ignore Ctrl-C: :func:`stop_pool` ends them and their kernels."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start
    )


def stop_pool(pool) -> None:
    """Stop a pool now (Ctrl-C, or an error): queued tasks cancelled, running ones ended with their kernels."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)


def check_run(books: list[Path], extra: Mapping[str, Any], out_dir: str | Path | None) -> dict[Path, dict]:
    """What a run is given, checked before anything starts or is written: each ``--param`` against the notebooks'
    ``parameters`` cells (:func:`perflab.sweep.check_parameters`: name, type, range) and the output directory, if
    given (one the run may replace: none yet, empty, or an earlier report). Returns the parameters per notebook."""
    from perflab.sweep.run import check_parameters as check_values

    if not books:
        raise NotebookError(str(notebook_dir()), None, "no notebooks found")
    declared = {nb: _declared(nb) for nb in books}
    for nb, d in declared.items():  # the notebook's fault, not the command line's: exit 1, as when it fails
        missing = [p for p in PARAMETERS if p not in d]
        if not d or missing:
            check_parameters(nb, dict.fromkeys(PARAMETERS))
    per_book = check_values(books, dict(extra or {}), "--param", declared, scope="")
    if out_dir is None:
        return per_book
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PerflabError(f"{out}: exists and is not a directory (--out names the report's directory)")
    if out.is_dir() and any(out.iterdir()) and not any((out / f).exists() for f in REPORT_FILES):
        raise PerflabError(
            f"{out}: not empty and not a perflab report (no index.html or provenance.json): a run replaces its "
            "output directory whole; choose another --out"
        )
    return per_book


def _stage_name(out: Path, what: str, pid: int) -> Path:
    return out.parent / f".{out.name}.{what}-{pid}"


def _clear_stale(out: Path) -> None:
    """Remove what a run that was killed outright (no chance to clean up) left beside ``out``."""
    for path in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = path.name[len(out.name) + 2 :].rpartition("-")
        if kind not in ("partial", "old") or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # alive, someone else's
            continue


def _relocate(stage: Path, target: Path) -> None:
    """Every text file of a run written into ``stage`` names ``target`` instead (injected parameters, papermill's
    metadata, printed paths, the HTML made from them)."""
    old, new = str(stage), str(target)
    pairs = [(old, new), (json.dumps(old)[1:-1], json.dumps(new)[1:-1])]
    for path in stage.rglob("*"):
        if path.suffix.lower() not in (".ipynb", ".html", ".json", ".csv", ".svg", ".txt", ".md", ".yaml"):
            continue
        if not path.is_file():
            continue
        data = path.read_bytes()
        fixed = data
        for a, b in pairs:
            fixed = fixed.replace(a.encode("utf-8"), b.encode("utf-8"))
        if fixed != data:
            path.write_bytes(fixed)


def _swap(stage: Path, out: Path) -> None:
    """Move the finished run into place: the previous report out, the new one in, then the previous one deleted."""
    old = _stage_name(out, "old", os.getpid())
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:  # a Ctrl-C now waits until both renames are done
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        if out.exists():
            os.replace(out, old)
        os.replace(stage, out)
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(out.with_name(f"{out.name}.failed"), ignore_errors=True)


def _keep_failed(stage: Path, out: Path, error: NotebookError) -> NotebookError:
    """A failed run's pages, moved to ``NAME.failed/`` (marked INCOMPLETE) for reading; the error says where."""
    failed = out.with_name(f"{out.name}.failed")
    (stage / INCOMPLETE).write_text(f"perflab run failed: {error}\n", encoding="utf-8")
    shutil.rmtree(failed, ignore_errors=True)
    _relocate(stage, failed)
    os.replace(stage, failed)
    kept = "the previous report is unchanged" if out.exists() else "no report written"
    return NotebookError(error.notebook, error.cell, f"{error.message} ({kept}; this run's pages: {failed}/)")


def run_report(
    scheme: str | Path,
    data: str | Path,
    out_dir: str | Path,
    seed: int = 2016,
    notebooks: list[Path] | None = None,
    provenance: Mapping[str, Any] | None = None,
    title: str = "perflab report",
    progress: Callable[[str], None] | None = None,
    extra: Mapping[str, Any] | None = None,
    jobs: int = 1,
) -> RunResult:
    """Execute every notebook with (scheme, data, output, seed), export HTML, collect tables, write the index.

    ``extra`` parameters go to the notebooks that declare them; one that no notebook declares, or a value of the
    wrong type or out of range, is an error before anything is written (:func:`check_run`).
    ``jobs``: notebook kernels at a time (the notebooks are independent: each writes its own page and tables).
    The run is written beside ``out_dir`` and moved into place when complete (see the module's doc).
    """
    books = notebooks if notebooks is not None else discover_notebooks()
    per_book = check_run(books, extra or {}, out_dir)
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale(out)
    stage = _stage_name(out, "partial", os.getpid())
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        (stage / INCOMPLETE).write_text("perflab run in progress (or interrupted)\n", encoding="utf-8")
        if provenance is not None:
            (stage / "provenance.json").write_text(
                json.dumps(dict(provenance), indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
            )
        (stage / "scheme.yaml").write_bytes(Path(scheme).read_bytes())  # travels with the tables (the memo reads it)
        params = {"scheme": str(Path(scheme).resolve()), "data": str(Path(data).resolve()), "seed": int(seed)}
        params["output"] = str(stage)
        done = _run_books(books, stage, [{**params, **per_book[nb]} for nb in books], jobs, progress)
        pages = [(_title(nb), out / html.name) for nb, (_, html) in zip(books, done)]
        write_index(stage, pages, _tables(stage), title, simulated=is_simulated(data), name=str(out_dir))
        _relocate(stage, out)
        (stage / INCOMPLETE).unlink()
    except NotebookError as exc:
        raise _keep_failed(stage, out, exc) from None
    except BaseException:  # Ctrl-C, a full disk...: nothing half-done is left behind
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _swap(stage, out)
    executed = tuple(out / ex.name for ex, _ in done)
    return RunResult(out, out / "index.html", executed, tuple(p for _, p in pages), tuple(_tables(out)))


def _tables(out: Path) -> list[Path]:
    return sorted((out / "tables").glob("*.csv")) if (out / "tables").is_dir() else []
