"""Running a sweep: scores in-process, each scenario's notebooks by papermill (a process pool or Dask), one comparison.

Output directory (``perflab sweep FILE --out DIR``)::

    DIR/index.html                    the sweep's page: what varies, what moved, figures, links
    DIR/comparison/*.csv              ranks, scores, grades, summary, movers, scenarios, weights
    DIR/comparison/*.png|svg          rank heat maps, bump charts along each grid axis
    DIR/scenarios/NAME/scheme.yaml    each scenario's scheme (when notebooks run), its executed notebooks,
                                      their HTML, its tables/ and inputs.json (what it was run with)
    DIR/provenance.json               sweep file, base scheme and data hashes, package version, seed
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab import __version__
from perflab.errors import PerflabError, quote
from perflab.report import spawn_pool, stop_pool
from perflab.sweep.build import Scorers, build_scenarios, directory_name, scheme_yaml
from perflab.sweep.compare import Comparison, compare
from perflab.sweep.spec import BuiltScenario, SweepSpec, load_sweep

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = PROJECT / "data" / "raw" / "demo"
PARALLEL_FIGURES = (
    200  # scenarios from which a second process draws figures (below, its start-up costs more than it saves)
)
CSV = {"index": False, "encoding": "utf-8-sig", "float_format": "%.6f", "lineterminator": "\n"}


@dataclass(frozen=True)
class ScenarioRun:
    """What happened to one scenario's notebooks: ``status`` is ok, skipped (unchanged since the last run), same
    (the same scheme and parameters as ``twin``, whose pages it shares), failed or none (no notebooks)."""

    scenario: str
    directory: str | None
    status: str
    pages: tuple[str, ...] = ()
    error: str | None = None
    twin: str | None = None


@dataclass(frozen=True)
class SweepResult:
    out_dir: Path
    index: Path
    spec: SweepSpec
    scenarios: tuple[BuiltScenario, ...]
    comparison: Comparison
    runs: tuple[ScenarioRun, ...]
    figures: tuple[Path, ...] = field(default_factory=tuple)
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds per phase (for the benchmark)

    @property
    def failures(self) -> list[ScenarioRun]:
        return [r for r in self.runs if r.status == "failed"]


# ---------------------------------------------------------------------------
# notebook parameters
# ---------------------------------------------------------------------------

_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
# a parameters cell's trailing comment may end in a rule the value must follow: "; range: at least 1" (above, at
# most, below), "; range: (0, 1)" (a bracket: the bound is included), "; one of: uniform, dirichlet" ("" for the
# empty text); no "=" in it (papermill reads no line with two); see the README
_RULE = re.compile(r"(?:^|;)\s*(range|one of):\s*(.+?)\s*$")
_BOUND = re.compile(r"^(at least|above|at most|below)\s+(\S+)$")
_INTERVAL = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\])])$")
_OPS = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}
_WORDS = {"at least": ">=", "above": ">", "at most": "<=", "below": "<"}


def _declared_type(info: Mapping[str, Any]) -> str | None:
    """The type a notebook's parameter takes: its annotation, else the type of its default (``n_draws = 20000``: int)."""
    typ = info.get("inferred_type_name")
    if typ and typ != "None":
        return typ
    try:
        default = ast.literal_eval(str(info.get("default")))
    except (ValueError, SyntaxError):
        return None
    return type(default).__name__ if isinstance(default, (bool, int, float, str)) else None


def parameter_rule(comment: str) -> tuple[str, Any] | None:
    """The rule a parameter's trailing comment states: ``("bounds", [(op, number), ...])``, ``("choices", [...])``
    or None; a rule that cannot be read raises ValueError.

    Examples
    --------
    >>> parameter_rule("Monte Carlo weight draws; range: at least 1")
    ('bounds', [('>=', 1.0)])
    >>> parameter_rule("share of the value; range: (0, 1]")
    ('bounds', [('>', 0.0), ('<=', 1.0)])
    >>> parameter_rule('empty: as the scheme says; one of: "", mean, trend')
    ('choices', ['', 'mean', 'trend'])
    >>> parameter_rule("the unit to show") is None
    True
    """
    m = _RULE.search(comment or "")
    if not m:
        return None
    kind, text = m.groups()
    if kind == "one of":
        return "choices", [c.strip().strip('"') for c in text.split(",")]
    bound, interval = _BOUND.match(text), _INTERVAL.match(text)
    if bound:
        return "bounds", [(_WORDS[bound[1]], float(bound[2]))]
    if interval:
        low, high = float(interval[2]), float(interval[3])
        return "bounds", [(">=" if interval[1] == "[" else ">", low), ("<=" if interval[4] == "]" else "<", high)]
    raise ValueError(
        f"cannot read the range {text!r} (write e.g. 'range: at least 1', 'range: (0, 1)' or 'range: [0, 1]')"
    )


def _rule_text(kind: str, rule: list) -> str:
    if kind == "choices":
        return "one of: " + ", ".join(repr(c) if not c else c for c in rule)
    if len(rule) == 2 and rule[0][0] in (">", ">=") and rule[1][0] in ("<", "<="):
        (lo_op, lo), (hi_op, hi) = rule
        return f"in {'[' if lo_op == '>=' else '('}{lo:g}, {hi:g}{']' if hi_op == '<=' else ')'}"
    names = {op: word for word, op in _WORDS.items()}
    return " and ".join(f"{names[op]} {x:g}" for op, x in rule)


def _shown(value) -> str:
    return quote(value) if isinstance(value, str) else repr(value)


def _check_value(name: str, value, info: Mapping[str, Any], notebook: str) -> str | None:
    """What is wrong with ``value`` for the parameter ``name`` of ``notebook`` (its type, then its rule), or None."""
    typ = _declared_type(info)
    ok = _TYPES.get(typ)
    if ok and (not isinstance(value, ok) or (typ != "bool" and isinstance(value, bool))):
        return f"notebook {notebook} expects {typ} (its default is {info.get('default')})"
    try:
        rule = parameter_rule(info.get("help", ""))
    except ValueError as exc:
        return f"notebook {notebook}: the comment on {name} {exc}"
    if rule is None:
        return None
    kind, spec = rule
    if kind == "choices":
        fits = str(value) in spec
    else:
        fits = isinstance(value, (int, float)) and all(_OPS[op](float(value), x) for op, x in spec)
    text = _rule_text(kind, spec)
    wanted = text if kind == "choices" else f"{typ or 'a number'}{' ' if text.startswith('in ') else ', '}{text}"
    return None if fits else f"notebook {notebook} expects {wanted}"


def check_parameters(
    notebooks: Sequence[Path],
    parameters: Mapping[str, Any],
    where: str,
    declared: Mapping[Path, dict] | None = None,
    scope: str = "of the sweep ",
) -> dict[Path, dict]:
    """Which parameters go to which notebook; an unknown name, a value of the wrong type or outside the rule its
    comment states is refused before anything starts (``perflab run --param`` and ``perflab sweep`` alike).

    papermill itself only logs an unknown parameter and injects whatever it is given; here each value is checked
    against the type of the default in the notebook's ``parameters`` cell and the rule (``range: at least 1``,
    ``one of: uniform, dirichlet``) that ends the default's comment, if any.

    Examples
    --------
    >>> from perflab.report import discover_notebooks
    >>> books = discover_notebooks()
    >>> sorted(check_parameters(books, {"n_draws": 100}, "--param")[books[2]])
    ['n_draws']
    >>> check_parameters(books, {"n_draws": 0}, "--param")
    Traceback (most recent call last):
    ...
    perflab.errors.PerflabError: --param: parameter 'n_draws' = 0: notebook 30_weight_sensitivity.ipynb expects int, at least 1
    """
    from perflab.report import PARAMETERS, _declared

    declared = declared if declared is not None else {nb: _declared(nb) for nb in notebooks}
    for nb, d in declared.items():
        if not d:
            raise PerflabError(f"{where}: notebook {nb.name} has no cell tagged 'parameters'")
        missing = [p for p in PARAMETERS if p not in d]
        if missing:
            raise PerflabError(f"{where}: notebook {nb.name} does not declare the parameter(s) {', '.join(missing)}")
    known = sorted(set().union(*[set(d) for d in declared.values()]) - set(PARAMETERS)) if declared else []
    for name, value in parameters.items():
        if name in PARAMETERS:
            raise PerflabError(
                f"{where}: parameter {name!r} is set by the run itself (--scheme, --data, --out, --seed)"
            )
        owners = [nb for nb, d in declared.items() if name in d]
        if not owners:
            raise PerflabError(
                f"{where}: no notebook {scope}has the parameter {name!r}; they have: {', '.join(known) or 'none'}"
            )
        for nb in owners:
            wrong = _check_value(name, value, declared[nb][name], nb.name)
            if wrong:
                raise PerflabError(f"{where}: parameter {name!r} = {_shown(value)}: {wrong}")
    return {nb: {k: v for k, v in parameters.items() if k in declared[nb]} for nb in notebooks}


# ---------------------------------------------------------------------------
# one scenario's notebooks: a picklable task for a process pool or a Dask worker
# ---------------------------------------------------------------------------


def run_scenario(task: Mapping[str, Any]) -> dict:
    """Execute one scenario's notebooks and export their HTML; failures come back as data, never raised.

    ``task``: scenario, out (its folder), notebooks [(path, parameters)], record (inputs.json content).
    The working directory is left alone, so several tasks may share a process (Dask threads).
    """
    from perflab.report import NotebookError, execute, export_html

    out = Path(task["out"])
    record = out / "inputs.json"
    pages: list[str] = []
    try:
        for nb, params in task["notebooks"]:
            nb = Path(nb)
            ex = execute(nb, out / nb.name, params, chdir=False, check=False)  # checked for every scenario up front
            pages.append(export_html(ex, out / f"{nb.stem}.html").name)
    except NotebookError as exc:
        return {"scenario": task["scenario"], "error": str(exc), "pages": pages}
    except Exception as exc:  # noqa: BLE001 - a dead kernel or a full disk fails this scenario, not the sweep
        return {"scenario": task["scenario"], "error": f"{type(exc).__name__}: {exc}".splitlines()[0], "pages": pages}
    record.write_text(json.dumps(task["record"], indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"scenario": task["scenario"], "error": None, "pages": pages}


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _up_to_date(out: Path, record: dict, notebooks: Sequence[Path]) -> bool:
    path = out / "inputs.json"
    if not path.is_file():
        return False
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return old == json.loads(json.dumps(record)) and all(
        (out / nb.name).is_file() and (out / f"{nb.stem}.html").is_file() for nb in notebooks
    )


def warm_notebooks() -> bool:
    """Import what running a notebook needs (first task of each pool process, while the sweep still scores)."""
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    import perflab.report  # noqa: F401  (first: it keeps nbformat's import fast)

    return True


def _result(future, task: Mapping[str, Any]) -> dict:
    """A task's result; a worker that died (killed, out of memory) fails that scenario, not the sweep."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001
        return {
            "scenario": task["scenario"],
            "error": f"the worker running it failed: {type(exc).__name__}: {exc}".splitlines()[0],
            "pages": [],
        }


def _execute(
    tasks: list[dict],
    jobs: int,
    dask: str | None,
    progress: Callable,
    meanwhile: Callable[[], None] = lambda: None,
    pool: ProcessPoolExecutor | None = None,
) -> list[dict]:
    """Run the tasks: in this process (jobs 1), in a process pool (jobs N: ``pool`` if started already), or on
    a Dask cluster.

    ``meanwhile`` is work for this process (the figures): done while the pool or the cluster runs
    the notebooks, or before them when they run here.
    """
    if not tasks:
        meanwhile()
        return []
    results = []
    if dask:
        return _execute_dask(tasks, jobs, dask, progress, meanwhile)
    if jobs > 1 and len(tasks) > 1:
        own = pool is None
        if own:  # fresh interpreters: no threads or state inherited
            pool = spawn_pool(min(jobs, len(tasks)))
        try:
            futures = {pool.submit(run_scenario, t): t for t in tasks}
            pending = set(futures)
            with progress(total=len(tasks), desc="notebooks", unit="scenario") as bar:
                # this process's own work waits until a process of the pool is idle (the last round of
                # notebooks leaves one free): done then, it does not slow the notebooks down
                while len(pending) > (jobs - 1) and pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        results.append(_result(f, futures[f]))
                        bar.update(1)
                meanwhile()
                for f in as_completed(pending):
                    results.append(_result(f, futures[f]))
                    bar.update(1)
        except BaseException:  # Ctrl-C: the pool's processes and their kernels are stopped now
            if own:
                stop_pool(pool)
            raise
        if own:
            pool.shutdown()
        return results
    meanwhile()
    with progress(total=len(tasks), desc="notebooks", unit="scenario") as bar:
        for t in tasks:
            results.append(run_scenario(t))
            bar.update(1)
    return results


def _execute_dask(
    tasks: list[dict], jobs: int, address: str, progress: Callable, meanwhile: Callable[[], None]
) -> list[dict]:
    """The tasks on a dask.distributed scheduler (``local``: a LocalCluster of ``jobs`` single-threaded workers)."""
    import logging

    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="5s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise PerflabError(f"could not reach the Dask scheduler at {address}: {str(exc).splitlines()[0]}") from None
    results = []
    try:
        run = uuid.uuid4().hex[:8]  # keys unique to this run: another sweep on the same cluster never shares them
        futures = {
            client.submit(run_scenario, t, pure=False, key=f"perflab-sweep-{run}-{n}"): t for n, t in enumerate(tasks)
        }
        meanwhile()
        with progress(total=len(tasks), desc="notebooks", unit="scenario") as bar:
            for f in dask_completed(list(futures)):
                results.append(_result(f, futures[f]))
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


# ---------------------------------------------------------------------------
# the whole sweep
# ---------------------------------------------------------------------------


def _progress(enabled: bool):
    from tqdm.auto import tqdm

    def bar(iterable=None, **kw):
        return tqdm(iterable, disable=not enabled, file=sys.stderr, leave=False, **kw)

    return bar


def _write_tables(comparison: Comparison, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in comparison.tables().items():
        path = directory / f"{name}.csv"
        df.to_csv(path, **CSV)
        paths.append(path)
    return paths


def run_sweep(
    file: str | Path,
    out: str | Path | None = None,
    data: str | Path | None = None,
    jobs: int = 1,
    dask: str | None = None,
    force: bool = False,
    notebooks_dir: str | Path | None = None,
    seed: int = 2016,
    progress: bool = True,
    figures: bool = True,
) -> SweepResult:
    """Build every scenario, score it, compare it with base, then run the scenarios' notebooks; see the module doc."""
    bar = _progress(progress)
    spec = load_sweep(file, notebooks_dir)
    books = None
    if spec.notebooks and jobs > 1 and not dask and len(spec.scenarios) > 1:
        # the kernels' pool, started now: its processes import papermill while this one scores
        books = spawn_pool(jobs)
        for _ in range(jobs):
            books.submit(warm_notebooks)
    pool = None
    if figures and len(spec.scenarios) >= PARALLEL_FIGURES:
        # a second process draws half the figures; started now, it imports matplotlib while this one scores
        from perflab.sweep.figures import warm

        pool = spawn_pool(1)
        pool.submit(warm)
    pools = [p for p in (pool, books) if p is not None]
    try:
        result = _run_sweep(spec, out, data, jobs, dask, force, seed, figures, bar, pool, books)
    except BaseException:  # Ctrl-C, or an error: the pools' processes (and any kernels) are stopped now
        for p in pools:
            stop_pool(p)
        raise
    for p in pools:
        p.shutdown(cancel_futures=True)
    return result


def _run_sweep(spec, out, data, jobs, dask, force, seed, figures, bar, pool, books) -> SweepResult:
    from perflab.io import ensure_outside, is_simulated, load_dataset, provenance
    from perflab.scheme import load_scheme

    clock = _Clock()
    base_scheme = load_scheme(spec.base)
    data_dir = Path(data) if data is not None else (spec.data or DEFAULT_DATA)
    dataset = load_dataset(data_dir, base_scheme)
    clock.lap("load data")
    out_dir = Path(out) if out is not None else Path("reports") / "sweeps" / spec.name
    ensure_outside(data_dir, out_dir)
    from perflab.report import _declared

    declared = {nb: _declared(nb) for nb in spec.notebooks}  # papermill reads each notebook once, not once per scenario
    per_notebook = (
        {
            s.name: check_parameters(spec.notebooks, s.parameters, f"{spec.file}, scenario {s.name!r}", declared)
            for s in spec.scenarios
        }
        if spec.notebooks
        else {}
    )

    scorers = Scorers(data_dir, base_scheme, dataset)
    scorer = scorers.base
    built = build_scenarios(spec, scorers, progress=lambda it: bar(it, desc="schemes", unit="scenario"))
    clock.lap("build schemes")
    arrays = {b.name: scorers.for_scheme(b.scheme).arrays(b.scheme) for b in bar(built, desc="scores", unit="scenario")}
    clock.lap("score")
    comparison = compare(built, scorer, arrays)
    clock.lap("compare")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    comp_dir = out_dir / "comparison"

    def write():
        _write_tables(comparison, comp_dir)
        clock.lap("write tables")

    # with a figure process and no notebooks, the tables are written while that process draws its first figure
    overlap = figures and pool is not None and not spec.notebooks
    if not overlap:
        write()
    figs: list[Path] = []

    def draw():  # while the notebooks run (a pool or a cluster), or before them (in this process)
        if figures:
            from perflab.sweep.figures import sweep_figures

            figs.extend(
                sweep_figures(spec, built, comparison, scorer, comp_dir, pool=pool, before=write if overlap else None)
            )
            clock.lap("figures")

    prov = provenance(dataset, base_scheme, seed)
    prov["sweep"] = {
        "file": str(spec.file.resolve()),
        "sha256": _sha256(spec.file),
        "scenarios": len(built),
        "notebooks": [nb.name for nb in spec.notebooks],
    }
    (out_dir / "provenance.json").write_text(
        json.dumps(prov, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    runs = _run_notebooks(spec, built, per_notebook, out_dir, data_dir, prov, seed, jobs, dask, force, bar, draw, books)
    clock.lap("notebooks")
    from perflab.sweep.page import write_index

    index = write_index(out_dir, spec, built, comparison, runs, figs, simulated=is_simulated(data_dir))
    clock.lap("page")
    return SweepResult(out_dir, index, spec, tuple(built), comparison, tuple(runs), tuple(figs), dict(clock.laps))


class _Clock:
    """Wall time of each phase of a sweep."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = now - self._t
        self._t = now


def _run_notebooks(
    spec,
    built,
    per_notebook,
    out_dir: Path,
    data_dir: Path,
    prov: dict,
    seed: int,
    jobs: int,
    dask: str | None,
    force: bool,
    bar,
    meanwhile: Callable[[], None],
    pool=None,
) -> list[ScenarioRun]:
    if not spec.notebooks:
        meanwhile()
        return [ScenarioRun(b.name, None, "none") for b in built]
    taken: set[str] = set()
    books = {nb.name: _sha256(nb) for nb in spec.notebooks}
    runs: dict[str, ScenarioRun] = {}
    tasks, first = [], {}
    for b in built:
        key = (b.digest, json.dumps(b.scenario.parameters, sort_keys=True))
        if key in first:  # the same scheme and parameters as an earlier scenario: its pages serve both
            runs[b.name] = ScenarioRun(b.name, runs[first[key]].directory, "same", twin=first[key])
            continue
        first[key] = b.name
        d = directory_name(b.name, taken)
        sdir = out_dir / "scenarios" / d
        sdir.mkdir(parents=True, exist_ok=True)
        scheme_file = sdir / "scheme.yaml"
        text = scheme_yaml(b)
        if not scheme_file.is_file() or scheme_file.read_text(encoding="utf-8") != text:
            scheme_file.write_text(text, encoding="utf-8")
        base_params = {
            "scheme": str(scheme_file),
            "data": str(Path(data_dir).resolve()),
            "output": str(sdir),
            "seed": int(seed),
        }
        nbs = [(str(nb), {**base_params, **per_notebook[b.name][nb]}) for nb in spec.notebooks]
        record = {
            "scheme_sha256": b.digest,
            "data": prov["data"]["files"],
            "perflab_version": __version__,
            "notebooks": books,
            "parameters": {Path(nb).name: p for nb, p in nbs},
            "seed": int(seed),
        }
        if not force and _up_to_date(sdir, record, spec.notebooks):
            runs[b.name] = ScenarioRun(b.name, d, "skipped", tuple(f"{nb.stem}.html" for nb in spec.notebooks))
            continue
        (sdir / "inputs.json").unlink(missing_ok=True)  # written back only when every notebook has run
        tasks.append({"scenario": b.name, "out": str(sdir), "notebooks": nbs, "record": record})
        runs[b.name] = ScenarioRun(b.name, d, "pending")
    for res in _execute(tasks, jobs, dask, bar, meanwhile, pool):
        old = runs[res["scenario"]]
        runs[res["scenario"]] = ScenarioRun(
            old.scenario, old.directory, "failed" if res["error"] else "ok", tuple(res["pages"]), res["error"]
        )
    for name, r in runs.items():
        if r.status == "same":
            twin = runs[r.twin]
            runs[name] = ScenarioRun(name, twin.directory, "same", twin.pages, twin.error, r.twin)
    return [runs[b.name] for b in built]
