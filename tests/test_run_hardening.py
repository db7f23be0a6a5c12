"""`perflab run` hardened: parameters checked before any kernel starts, an interrupted or failed run leaves the
previous report as it was (and nothing that looks like a report), no kernel noise, one bounded line per message."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from conftest import DEMO_DIR, SCHEME_FILE
from nbformat.v4 import new_code_cell, new_notebook

from perflab.cli import main, one_line
from perflab.errors import DataNote
from perflab.sweep import check_parameters
from perflab.sweep.run import parameter_rule

EXE = Path(sys.executable).parent / "perflab"
PARAMS = "scheme = ''\ndata = ''\noutput = ''\nseed = 0\nwait = 0.0  # seconds the page sleeps; range: at least 0"
# a page as the real ones: a table, a key figure, a printed path; it sleeps `wait` seconds at the end
PAGE = (
    "import time, pandas as pd, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    "from perflab.report import save_table\nfrom perflab import plots\n"
    "save_table(pd.DataFrame({'where': [output]}), output, 'where_NN')\n"
    "fig, ax = plt.subplots(); ax.set_title(output); plots.keep(fig, output, 'NN_fig', key=True)\n"
    "print(output)\ntime.sleep(wait)"
)


def _notebook(path: Path, source: str, params: str = PARAMS) -> None:
    nb = new_notebook(cells=[new_code_cell(params, metadata={"tags": ["parameters"]}), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


@pytest.fixture
def pages(tmp_path) -> Path:
    d = tmp_path / "nbs"
    d.mkdir()
    for n in ("10", "20"):
        _notebook(d / f"{n}_page{n}.ipynb", PAGE.replace("NN", n))
    return d


def _run_args(books: Path, out: Path) -> list[str]:
    return ["run", "--scheme", str(SCHEME_FILE), "--data", str(DEMO_DIR), "--out", str(out), "--notebooks", str(books)]


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in d.rglob("*") if p.is_file()}


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(EXE), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _interrupt_when(proc: subprocess.Popen, ready, timeout: float = 30.0) -> tuple[str, str, list]:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) once ``ready()``; the kernels alive then."""
    end = time.monotonic() + timeout
    while not ready() and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.05)
    kernels = [p for p in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in _cmdline(p)]
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return out, err, kernels


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:  # gone meanwhile
        return ""


def _alive(kernels: list) -> list:
    def running(k):
        try:
            return k.is_running() and k.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    deadline = time.monotonic() + 5  # a kernel whose parent is gone ends within a second or two
    while any(running(k) for k in kernels) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [k for k in kernels if running(k)]


def _progress_free(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("running ")]


# -- parameters: refused before anything starts ----------------------------------


@pytest.mark.parametrize(
    "param, expected",
    [
        ("n_draws=abc", "parameter 'n_draws' = 'abc': notebook 30_weight_sensitivity.ipynb expects int"),
        ("n_draws=0", "parameter 'n_draws' = 0: notebook 30_weight_sensitivity.ipynb expects int, at least 1"),
        ("spread=2", "parameter 'spread' = 2: notebook 30_weight_sensitivity.ipynb expects float in (0, 1)"),
        ("method=foo", "parameter 'method' = 'foo': notebook 30_weight_sensitivity.ipynb expects one of: uniform"),
        ("share_max=1.5", "parameter 'share_max' = 1.5: notebook 50_group_shares.ipynb expects float in [0, 1]"),
        ("n_drawz=5", "no notebook has the parameter 'n_drawz'; they have: alpha"),
        ("output=/tmp/elsewhere", "parameter 'output' is set by the run itself"),
    ],
)
def test_a_bad_parameter_is_one_line_before_any_kernel_or_file(param, expected, tmp_path, capsys):
    out = tmp_path / "report"
    processed = tmp_path / "data" / "processed"
    start = time.monotonic()
    assert main(["run", "--scheme", str(SCHEME_FILE), "--out", str(out), "--param", param]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("perflab: error: --param: ") and expected in err, err
    assert time.monotonic() - start < 3  # no kernel started (one takes seconds)
    assert not out.exists() and not processed.exists()


def test_every_rule_in_the_notebooks_reads_and_holds_for_its_default():
    import ast

    import papermill

    from perflab.report import discover_notebooks, notebook_dir

    rules = 0
    for nb in [*discover_notebooks(), notebook_dir() / "90_memo.ipynb"]:
        for name, info in papermill.inspect_notebook(str(nb)).items():
            rule = parameter_rule(info["help"])
            rules += rule is not None
            if nb.name != "90_memo.ipynb":  # the memo's parameters are not a run's
                default = ast.literal_eval(info["default"])
                if name not in ("scheme", "data", "output", "seed"):
                    check_parameters(discover_notebooks(), {name: default}, "defaults", scope="")
    assert rules >= 15


def test_the_range_convention():
    assert parameter_rule("draws; range: at least 1") == ("bounds", [(">=", 1.0)])
    assert parameter_rule("x; range: above 0") == ("bounds", [(">", 0.0)])
    assert parameter_rule("x; range: [0, 1)") == ("bounds", [(">=", 0.0), ("<", 1.0)])
    assert parameter_rule('x; one of: "", zh, en') == ("choices", ["", "zh", "en"])
    assert parameter_rule("in range: not a rule, not at the end; the end") is None
    with pytest.raises(ValueError, match="cannot read the range 'between 1 and 2'"):
        parameter_rule("x; range: between 1 and 2")


# -- Ctrl-C and failures: the previous report stays ---------------------------------


def test_ctrl_c_leaves_the_previous_report_and_a_rerun_succeeds(pages, tmp_path):
    out = tmp_path / "report"
    (out / "tables").mkdir(parents=True)  # the previous report
    for name, text in (
        ("index.html", "<h1>the previous report</h1>"),
        ("provenance.json", "{}"),
        ("tables/x.csv", "x"),
    ):
        (out / name).write_text(text, encoding="utf-8")
    before = _tree(out)
    proc = _start([*_run_args(pages, out), "--param", "wait=30"])
    _, err, kernels = _interrupt_when(proc, lambda: any(tmp_path.glob(".report.partial-*/tables/where_10.csv")))
    assert proc.returncode == 130, err
    assert _progress_free(err) == ["perflab: interrupted"], err  # no traceback, no kernel log
    assert _tree(out) == before  # the previous report, byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "report"]  # no partial run left
    assert kernels and not _alive(kernels)
    again = subprocess.run([str(EXE), *_run_args(pages, out), "--only", "10"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    # a run prints its progress and nothing else: no kernel warning
    assert again.stderr == "running 10_page10.ipynb\n", again.stderr
    assert "TCP" not in again.stderr and "WARNING" not in again.stderr
    assert (out / "10_page10.html").is_file() and not (out / "tables" / "x.csv").exists()  # the new report, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "report"]
    # nothing in the finished report names the directory it was written in, but its own path
    for path in out.rglob("*"):
        assert b".partial-" not in path.read_bytes() if path.is_file() else ".partial-" not in path.name, path
    assert str(out) in (out / "10_page10.ipynb").read_text(encoding="utf-8")
    assert (out / "tables" / "where_10.csv").read_text(encoding="utf-8-sig") == f"where\n{out}\n"
    assert f"perflab memo {out}" in (out / "index.html").read_text(encoding="utf-8")  # the path as given


def test_ctrl_c_with_jobs_stops_every_kernel_quietly(pages, tmp_path):
    out = tmp_path / "report"
    proc = _start([*_run_args(pages, out), "--jobs", "2", "--param", "wait=30"])
    started = lambda: len(list(tmp_path.glob(".report.partial-*/tables/where_*.csv"))) == 2  # noqa: E731
    _, err, kernels = _interrupt_when(proc, started)
    assert proc.returncode == 130, err
    assert _progress_free(err) == ["perflab: interrupted"], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs"]
    assert len(kernels) == 2 and not _alive(kernels)


def test_a_failing_notebook_keeps_the_previous_report_and_its_pages_aside(pages, tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("the previous report", encoding="utf-8")
    _notebook(pages / "20_page20.ipynb", PAGE.replace("NN", "20") + "\nraise ValueError('no such unit')")
    assert main([*_run_args(pages, out), "--only", "20"]) == 1
    err = _progress_free(capsys.readouterr().err)
    assert (
        len(err) == 1 and "notebook 20_page20.ipynb, cell 3 (In [3])" in err[0] and "ValueError: no such unit" in err[0]
    )
    failed = tmp_path / "report.failed"
    assert f"the previous report is unchanged; this run's pages: {failed}/" in err[0]
    assert _tree(out) == {"index.html": hashlib.sha256(b"the previous report").hexdigest()}
    assert (failed / "20_page20.ipynb").is_file() and (failed / "INCOMPLETE").is_file()
    assert (failed / "tables" / "where_20.csv").read_text(encoding="utf-8-sig") == f"where\n{failed}\n"
    assert not list(tmp_path.glob(".report.*"))
    assert main(["memo", str(failed)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a complete report" in err and "ZeroDivision" not in err


def test_the_memo_refuses_a_half_written_run(tmp_path, capsys):
    """What a run interrupted before this version left: a table and provenance.json, but no index.html."""
    import pandas as pd

    run = tmp_path / "half"
    (run / "tables").mkdir(parents=True)
    cols = ("unit", "kind", "name_zh", "name_en", "presented", "final", "grade", "rank")
    pd.DataFrame([["D01", "district", "东城区", "Dongcheng", True, 91.0, "A", 1]], columns=cols).to_csv(
        run / "tables" / "scores.csv", index=False
    )
    (run / "provenance.json").write_text("{}", encoding="utf-8")
    assert main(["memo", str(run), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"perflab: error: {run}: not a complete report (no index.html: the run was interrupted or failed): rerun perflab run\n"
    )


def test_a_run_will_not_replace_a_directory_that_is_not_a_report(pages, tmp_path, capsys):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(_run_args(pages, out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty and not a perflab report" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and sorted(os.listdir(out)) == ["notes.txt"]


def test_ctrl_c_during_a_sweep_is_one_line_and_the_scenario_is_rerun(pages, tmp_path):
    sweep = tmp_path / "s.yaml"
    body = {"base": str(SCHEME_FILE), "notebooks": [10], "parameters": {"wait": 30.0}, "scenarios": {"a": {}}}
    sweep.write_text(yaml.safe_dump(body), encoding="utf-8")
    out = tmp_path / "sweep"
    argv = ["sweep", str(sweep), "--out", str(out), "--notebooks", str(pages), "--quiet", "--no-figures", "--jobs", "2"]
    proc = _start(argv)
    _, err, kernels = _interrupt_when(proc, lambda: len(list(out.glob("scenarios/*/tables/where_10.csv"))) >= 1)
    assert proc.returncode == 130, err
    assert err == "perflab: interrupted\n"
    assert kernels and not _alive(kernels)
    assert not list(out.glob("scenarios/*/inputs.json"))  # an interrupted scenario is not taken for a finished one


# -- the safety net in main ------------------------------------------------------


def test_every_message_is_one_bounded_line(capsys, monkeypatch):
    from perflab import cli
    from perflab.errors import PerflabError

    def boom(args):
        raise PerflabError("units.csv, row 3, column score: bad value\n  " + "x" * 100_000)

    monkeypatch.setattr(cli, "cmd_memo", boom)
    assert main(["memo", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("perflab: error: units.csv, row 3, column score: bad value xxx")
    assert len(err) < 600 and err.endswith("… (100058 characters)\n"), err[-60:]
    assert one_line("a\n b\r\n  c") == "a b c"


def test_a_data_note_is_shown_once(capsys, monkeypatch):
    from perflab import cli

    def noisy(args):
        for _ in range(2):
            warnings.warn("units.csv: extra column 'comment' kept as it is", DataNote, stacklevel=1)
        warnings.warn("ratings.csv: extra column 'remark' kept as it is", DataNote, stacklevel=1)
        warnings.warn("not a note", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "cmd_memo", noisy)
    with pytest.warns(UserWarning, match="not a note"):  # other warnings go on as before
        assert main(["memo", "x"]) == 0
        assert main(["memo", "x"]) == 0  # a second command in the same process shows its notes again
    err = capsys.readouterr().err
    note = "perflab: note: units.csv: extra column 'comment' kept as it is\n"
    other = "perflab: note: ratings.csv: extra column 'remark' kept as it is\n"
    assert err == (note + other) * 2


def test_notes_are_dropped_when_the_command_fails_so_the_error_stays_one_line(capsys, monkeypatch):
    from perflab import cli
    from perflab.errors import DataError

    def failing(args):
        warnings.warn("raters.csv: not UTF-8, read as GB18030", DataNote, stacklevel=1)
        raise DataError("unknown rater 'R3'", file="ratings.csv", row=4, column="rater")

    monkeypatch.setattr(cli, "cmd_memo", failing)
    assert main(["memo", "x"]) == 2
    assert capsys.readouterr().err == "perflab: error: ratings.csv, row 4, column rater: unknown rater 'R3'\n"
