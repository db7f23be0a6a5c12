"""The ``perflab`` command: simulate, validate, score, run, sweep, memo, sheets.

Bad input ends with one line on stderr naming the file, row and column, exit
status 2 and no traceback; a failing notebook ends with exit status 1 naming
the notebook and the cell.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import warnings
from pathlib import Path

from perflab import __version__
from perflab.errors import DataError, DataNote, PerflabError
from perflab.io import ensure_outside
from perflab.io.processed import raw_tree

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEME = PROJECT / "params" / "beijing_2016.yaml"
EXIT_BAD_INPUT = 2
EXIT_NOTEBOOK = 1
EXIT_INTERRUPTED = 130
LINE_LIMIT = 500  # characters of a message line: the start (file, row, column) kept, the rest cut with its length


def _load(data: str, scheme_path: str):
    from perflab.io import load_dataset
    from perflab.scheme import load_scheme

    scheme = load_scheme(scheme_path)
    return scheme, load_dataset(data, scheme)


def cmd_simulate(args) -> int:
    from perflab.scheme import load_scheme
    from perflab.simulate import simulate, write_simulated

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataError("output exists and is not a directory", file=out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise DataError("output directory is not empty (use --force to overwrite)", file=out)
    scheme = load_scheme(args.scheme)
    sim = simulate(scheme, seed=args.seed)
    paths = write_simulated(sim, out, gzip_ratings=args.gzip)
    t = sim.tables
    print(
        f"simulated {len(t['units'])} units, {len(t['raters'])} raters, {len(t['ratings'])} ratings "
        f"(seed {args.seed}) -> {out}/ ({len(paths)} files; ground truth in {out}/truth/)"
    )
    return 0


def cmd_validate(args) -> int:
    from perflab.io import default_processed_dir, write_processed

    scheme, ds = _load(args.data, args.scheme)
    target = Path(args.processed) if args.processed else default_processed_dir(args.data)
    ensure_outside(args.data, target)
    write_processed(ds, scheme, target, seed=args.seed)
    sizes = ", ".join(f"{len(df)} {name}" for name, df in ds.tables().items())
    print(f"valid: {sizes}")
    print(f"processed tables and provenance.json -> {target}/")
    return 0


def cmd_score(args) -> int:
    from perflab.scoring import score_units

    scheme, ds = _load(args.data, args.scheme)
    out = Path(args.out)
    ensure_outside(args.data, out)
    scores = score_units(ds, scheme)
    if scheme.is_tree:  # each unit's score and rank at every node of the tree (pillar scores), after its own
        from perflab.pillars import pillar_columns, pillar_scores

        scores = scores.join(pillar_columns(pillar_scores(ds, scheme)), on="unit")
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False, float_format="%.6f", lineterminator="\n")
    counts = scores.groupby("kind").size()
    print(f"scored {len(scores)} units ({', '.join(f'{n} {k}s' for k, n in counts.items())}) -> {out}")
    return 0


def demo_data(scheme_path: str | Path, root: str | Path = "data/raw", create: bool = True) -> Path:
    """The demo data a scheme runs on when no ``--data`` is given: the bundled ``demo`` when its indicators and
    evaluator groups are the scheme's, else ``demo_<scheme file name>``, simulated (seed 2016) on first use.

    Parameters
    ----------
    scheme_path : str or Path
        The scheme file.
    root : str or Path
        Where the demo data sets live (``data/raw``).
    create : bool
        Simulate the scheme's own demo data if they are not there yet (False: only say where they would be).

    Returns
    -------
    Path
        The data directory.

    Examples
    --------
    >>> demo_data("params/beijing_2016.yaml").as_posix()
    'data/raw/demo'
    """
    import pandas as pd

    from perflab.io import find_table_file
    from perflab.scheme import load_scheme

    scheme, root = load_scheme(scheme_path), Path(root)
    bundled = root / "demo"
    ratings, raters = find_table_file(bundled, "ratings"), find_table_file(bundled, "raters")
    if ratings is not None and raters is not None and ratings.name.endswith((".csv", ".csv.gz")):
        indicators = set(pd.read_csv(ratings, usecols=["indicator"], dtype=str)["indicator"])
        groups = set(pd.read_csv(raters, usecols=["group"], dtype=str)["group"])
        if indicators == set(scheme.indicator_ids) and groups <= set(scheme.group_ids):
            return bundled
    own = root / f"demo_{Path(scheme_path).stem}"
    if create and not own.is_dir():
        from perflab.simulate import simulate, write_simulated

        print(f"no demo data fit {scheme_path}: simulating it (seed 2016) -> {own}/", file=sys.stderr, flush=True)
        write_simulated(simulate(scheme, seed=2016), own)
    return own


def cmd_run(args) -> int:
    from perflab.io import default_processed_dir, provenance, write_processed
    from perflab.report import check_run, discover_notebooks, notebook_dir, run_report

    if args.jobs < 1:
        raise PerflabError(f"--jobs must be at least 1, got {args.jobs}")
    books = discover_notebooks(notebook_dir(args.notebooks))  # first: a missing notebook folder costs nothing
    if args.only:
        wanted = set(args.only)
        books = [b for b in books if b.stem in wanted or b.stem.split("_", 1)[0] in wanted]
        if not books:
            raise PerflabError(f"no notebook matches {', '.join(args.only)}")
    default_data = args.data is None
    if default_data:
        args.data = str(demo_data(args.scheme, create=False))
    if args.out:
        ensure_outside(args.data, args.out)
    check_run(books, dict(args.param or []), args.out)  # before the data are read or anything is written
    if default_data:
        demo_data(args.scheme)  # the scheme's own demo data, simulated on first use
    scheme, ds = _load(args.data, args.scheme)
    out = Path(args.out) if args.out else Path("reports") / scheme.name
    ensure_outside(args.data, out)
    check_run(books, dict(args.param or []), out)
    processed = default_processed_dir(args.data)
    write_processed(ds, scheme, processed, seed=args.seed)
    result = run_report(
        args.scheme,
        args.data,
        out,
        seed=args.seed,
        notebooks=books,
        provenance=provenance(ds, scheme, args.seed),
        title=f"perflab report: {scheme.title_en}",
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        extra=dict(args.param or []),
        jobs=args.jobs,
    )
    print(f"processed tables -> {processed}/")
    for h in result.html:
        print(f"report: {h}")
    print(f"tables: {result.out_dir / 'tables'}/ ({len(result.tables)} CSV files)")
    print(f"HTML report: {result.index}")
    return 0


def cmd_sweep(args) -> int:
    from perflab.sweep import run_sweep

    if args.jobs < 1:
        raise PerflabError(f"--jobs must be at least 1, got {args.jobs}")
    result = run_sweep(
        args.file,
        out=args.out,
        data=args.data,
        jobs=args.jobs,
        dask=args.dask,
        force=args.force,
        notebooks_dir=args.notebooks,
        seed=args.seed,
        progress=not args.quiet,
        figures=not args.no_figures,
    )
    runs = result.runs
    n = len(result.scenarios)
    counts = {s: sum(r.status == s for r in runs) for s in ("ok", "skipped", "same", "failed")}
    print(f"sweep {result.spec.name}: {n} scenarios scored and compared with base")
    if result.spec.notebooks:
        print(
            f"notebooks: {counts['ok']} scenario(s) run, {counts['skipped']} unchanged since the last run (not rerun), "
            f"{counts['same']} sharing the pages of an identical scenario, {counts['failed']} failed"
        )
    print(f"comparison: {result.out_dir / 'comparison'}/ (ranks, scores, grades, summary, movers)")
    print(f"HTML: {result.index}")
    for r in result.failures:
        _say(f"perflab: error: scenario {r.scenario!r}: {r.error}")
    return EXIT_NOTEBOOK if result.failures else 0


def cmd_memo(args) -> int:
    from perflab.memo import run_memo

    result = run_memo(args.directory, lang=args.lang, pdf=args.pdf)
    print(f"memo: {result.html}")
    print(f"tables: {result.xlsx}")
    if result.figures:
        print(f"figures: {result.figures[0].parent}/ ({len(result.figures)} files)")
    if result.pdf:
        print(f"PDF: {result.pdf}")
    return 0


def cmd_sheets_make(args) -> int:
    from perflab.scheme import load_scheme
    from perflab.sheets import load_sheet_inputs, write_sheets

    scheme = load_scheme(args.scheme)
    inputs = load_sheet_inputs(args.data, scheme)
    out = Path(args.out)
    ensure_outside(args.data, out)
    paths = write_sheets(inputs, scheme, out, per_rater=args.per_rater, raters=args.raters, progress=True)
    if args.per_rater:
        print(f"wrote {len(paths)} workbooks (one per evaluator) -> {out}/")
    else:
        print(f"wrote one workbook with a sheet per presented unit -> {out}")
    return 0


def cmd_sheets_read(args) -> int:
    from perflab.scheme import load_scheme
    from perflab.sheets import load_sheet_inputs, problem_lines, read_sheets

    scheme = load_scheme(args.scheme)
    units = load_sheet_inputs(args.data, scheme).units if args.data else None
    out = Path(args.out)
    if args.data:
        ensure_outside(args.data, out)
    for f in args.files:  # filled workbooks kept under data/raw/ are raw data too
        tree = raw_tree(Path(f).parent)
        if tree.name == "raw" and tree.parent.name == "data":
            ensure_outside(tree, out)
    result = read_sheets(args.files, scheme, units=units)
    out.mkdir(parents=True, exist_ok=True)
    result.ratings.to_csv(out / "ratings.csv", index=False, lineterminator="\n")
    result.sheets.to_csv(out / "sheet_status.csv", index=False, lineterminator="\n")
    n_ok = int((result.sheets["status"] == "ok").sum())
    print(f"imported {len(result.ratings)} ratings from {n_ok} valid sheet(s) -> {out / 'ratings.csv'}")
    if result.ok:
        (out / "sheet_problems.csv").unlink(missing_ok=True)
        return 0
    result.problems.to_csv(out / "sheet_problems.csv", index=False, lineterminator="\n")
    bad = int((result.sheets["status"] != "ok").sum())  # invalid sheets and unreadable files
    lines = problem_lines(result)
    more = f"; {len(lines) - 1} more problem(s)" if len(lines) > 1 else ""
    _say(  # one line: the first problem where it is, then the count; every problem is in sheet_problems.csv
        f"perflab: error: {one_line(lines[0], 300)} ({bad} sheet(s) or file(s) not imported{more}: "
        f"see {out / 'sheet_problems.csv'})"
    )
    return EXIT_BAD_INPUT


def _param(text: str) -> tuple[str, object]:
    """NAME=VALUE with VALUE read as YAML (numbers, true/false, text), so notebooks get native values."""
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    if not isinstance(parsed, (str, int, float, bool)) or parsed is None:
        parsed = value
    return name.strip(), parsed


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; seeds are whole numbers >= 0")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``perflab: error: ...`` and exit status 2; the usage block on --help only."""

    def error(self, message: str):
        sub = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        self.exit(EXIT_BAD_INPUT, f"perflab: error: {sub}{message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="perflab",
        description="perflab: a research workbench for the methodology of government performance evaluation.",
    )
    p.add_argument("--version", action="version", version=f"perflab {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_simulate(sub)
    _add_validate(sub)
    _add_run(sub)
    _add_sweep(sub)
    _add_memo(sub)
    _add_sheets(sub)
    return p


def _add_simulate(sub) -> None:
    """Simulate: demo data with planted effects."""
    s = sub.add_parser("simulate", help="write demo data shaped like Beijing 2016, with planted effects and truth")
    s.add_argument("--out", required=True, help="directory to write the CSV tables into (truth goes to OUT/truth/)")
    s.add_argument(
        "--seed", type=_seed, default=2016, help="random seed >= 0 (default 2016); the same seed gives identical files"
    )
    s.add_argument(
        "--scheme",
        default=str(DEFAULT_SCHEME),
        help="scheme whose indicators, groups and bands to use (default: the bundled Beijing 2016 scheme)",
    )
    s.add_argument("--gzip", action="store_true", help="write ratings as ratings.csv.gz (compact, deterministic)")
    s.add_argument("--force", action="store_true", help="allow writing into a non-empty directory")
    s.set_defaults(func=cmd_simulate)


def _add_validate(sub) -> None:
    """Validate and score: check a data directory, score its units."""
    v = sub.add_parser("validate", help="check a data directory against a scheme; write typed parquet and provenance")
    v.add_argument("data", metavar="DIR", help="directory of raw tables (CSV, CSV.GZ or XLSX)")
    v.add_argument("--scheme", required=True, help="scheme YAML file (e.g. params/beijing_2016.yaml)")
    v.add_argument("--processed", help="where to write parquet (default data/processed/<name of DIR>)")
    v.add_argument("--seed", type=_seed, default=None, help="seed to record in provenance.json")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("score", help="score and rank every unit; write one row per unit as CSV")
    c.add_argument("data", metavar="DIR", help="directory of raw tables")
    c.add_argument("--scheme", required=True, help="scheme YAML file")
    c.add_argument("--out", required=True, metavar="FILE.csv", help="CSV file to write")
    c.set_defaults(func=cmd_score)


def _add_run(sub) -> None:
    """Run: the notebooks by papermill."""
    r = sub.add_parser("run", help="execute the notebooks with papermill: executed notebooks, HTML, tables")
    r.add_argument("--scheme", required=True, help="scheme YAML file")
    r.add_argument(
        "--data",
        help="directory of raw tables (default: data/raw/demo when the scheme's indicators and groups are the bundled "
        "demo's, else data/raw/demo_<scheme name>, simulated on first use)",
    )
    r.add_argument("--out", help="output directory (default reports/<scheme name>)")
    r.add_argument("--seed", type=_seed, default=2016, help="random seed passed to the notebooks (default 2016)")
    r.add_argument(
        "--notebooks",
        help="directory of notebooks (default: the checkout's notebooks/, else the installed copy)",
    )
    r.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (e.g. 10 or 10_scores)")
    r.add_argument("--jobs", type=int, default=1, metavar="N", help="notebook kernels at a time (default 1)")
    r.add_argument(
        "--param",
        action="append",
        type=_param,
        metavar="NAME=VALUE",
        help="a notebook parameter, e.g. baseline_method=trend or n_draws=100000 (repeatable; "
        "goes to the notebooks that declare it)",
    )
    r.set_defaults(func=cmd_run)


def _add_sweep(sub) -> None:
    """Sweep: many scenarios, one comparison."""
    w = sub.add_parser("sweep", help="run many scenarios (a grid and named schemes) and compare their rankings")
    w.add_argument("file", metavar="FILE", help="sweep file, e.g. params/sweeps/grassroots_share.yaml")
    w.add_argument("--out", help="output directory (default reports/sweeps/<name of FILE>)")
    w.add_argument("--data", help="directory of raw tables (default: the sweep file's data key, else data/raw/demo)")
    w.add_argument("--jobs", type=int, default=1, metavar="N", help="notebook kernels at a time (default 1)")
    w.add_argument(
        "--dask",
        metavar="ADDRESS|local",
        help="run the notebooks as tasks on a dask.distributed scheduler (local: start a LocalCluster of --jobs workers)",
    )
    w.add_argument(
        "--force", action="store_true", help="rerun every scenario's notebooks, even those unchanged since the last run"
    )
    w.add_argument("--seed", type=_seed, default=2016, help="random seed passed to the notebooks (default 2016)")
    w.add_argument(
        "--notebooks",
        help="directory of notebooks (default: the checkout's notebooks/, else the installed copy)",
    )
    w.add_argument("--no-figures", action="store_true", help="comparison tables only: no heat maps or bump charts")
    w.add_argument("--quiet", action="store_true", help="no progress bars")
    w.set_defaults(func=cmd_sweep)


def _add_memo(sub) -> None:
    """Memo: the advisory memo of a run or sweep."""
    m = sub.add_parser("memo", help="the advisory memo of a run or sweep directory: memo.html, memo.xlsx, figures/")
    m.add_argument("directory", metavar="DIR", help="output directory of perflab run or perflab sweep")
    m.add_argument("--lang", choices=("zh", "en"), help="language (default: zh when a CJK font is installed, else en)")
    m.add_argument("--pdf", action="store_true", help="also print memo.pdf (A4) with headless Chromium")
    m.set_defaults(func=cmd_memo)


def _add_sheets(sub) -> None:
    """Sheets: scoring sheets made and read back."""
    sh = sub.add_parser("sheets", help="scoring sheets (one unit, one table): make them, read them back filled")
    shs = sh.add_subparsers(dest="sheets_command", required=True, metavar="ACTION")
    mk = shs.add_parser(
        "make", help="write XLSX scoring sheets: one sheet per unit, protected, printable on A4 landscape"
    )
    mk.add_argument("--scheme", required=True, help="scheme YAML file")
    mk.add_argument("--data", required=True, metavar="DIR", help="data directory with units.csv (and assessments.csv)")
    mk.add_argument("--out", required=True, help="the .xlsx file to write (with --per-rater: a directory)")
    mk.add_argument("--per-rater", action="store_true", help="one workbook per evaluator, the evaluator id filled in")
    mk.add_argument(
        "--raters", nargs="+", metavar="ID", help="evaluator ids for --per-rater (default: from the ratings design)"
    )
    mk.set_defaults(func=cmd_sheets_make)
    rd = shs.add_parser("read", help="read filled sheets (XLSX, or CSV exports) back into a ratings table")
    rd.add_argument("files", nargs="+", metavar="FILE", help="filled workbooks (.xlsx) or sheets exported as .csv")
    rd.add_argument("--scheme", required=True, help="scheme YAML file")
    rd.add_argument(
        "--out", required=True, metavar="DIR", help="directory for ratings.csv, sheet_status.csv, sheet_problems.csv"
    )
    rd.add_argument(
        "--data",
        metavar="DIR",
        help="data directory whose units.csv names the known units "
        "(default: the units listed in each workbook made by perflab; CSV exports need --data)",
    )
    rd.set_defaults(func=cmd_sheets_read)


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """A message as one line: line breaks collapsed, and cut after ``limit`` characters with ``…`` and its length
    (the start, which names the file, row and column, is kept).

    Examples
    --------
    >>> one_line("units.csv, row 3:\\n  bad value")
    'units.csv, row 3: bad value'
    >>> one_line("a.csv: " + "x" * 50, limit=10)
    'a.csv: xxx… (57 characters)'
    """
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _say(line: str) -> None:
    print(one_line(line), file=sys.stderr, flush=True)


class _Notes:
    """Collects each distinct :class:`perflab.errors.DataNote` (other warnings go to the ``showwarning`` it replaces);
    the notes are shown as ``perflab: note:`` lines once the command has succeeded, and dropped when it fails, so a
    failure stays one line (a note about the same file is in the error's words already when it matters)."""

    def __init__(self):
        self.pending: list[str] = []
        self.shown = warnings.showwarning

    def show(self, message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, DataNote):
            return self.shown(message, category, filename, lineno, file, line)
        text = one_line(str(message))
        if text not in self.pending:
            self.pending.append(text)

    def say(self) -> None:
        for text in self.pending:
            _say(f"perflab: note: {text}")


def _quiet_exit() -> None:
    """After Ctrl-C: a second one is ignored, and nothing more reaches stderr (threads and exit handlers of the
    kernel clients being torn down would otherwise print their tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataNote)  # each distinct note once per command, however often it is raised
        notes = _Notes()
        warnings.showwarning = notes.show
        try:
            code = args.func(args)
            if code == 0:
                notes.say()
            return code
        except PerflabError as exc:
            from perflab.report import NotebookError

            _say(f"perflab: error: {exc}")
            return EXIT_NOTEBOOK if isinstance(exc, NotebookError) else EXIT_BAD_INPUT
        except OSError as exc:  # unwritable output, a file where a directory should be, ...
            where = exc.filename if exc.filename is not None else ""
            _say(f"perflab: error: {where}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            _say("perflab: interrupted")
            if argv is None:  # the command itself, not a caller in the same process
                _quiet_exit()
            return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
