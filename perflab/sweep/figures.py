"""The sweep's figures: a rank heat map per ranking group and a bump chart along each numeric grid axis."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.sweep.compare import Comparison
from perflab.sweep.overrides import base_number
from perflab.sweep.spec import BASE, BuiltScenario, SweepSpec


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def axis_slices(spec: SweepSpec, built: Sequence[BuiltScenario]) -> dict[str, list[tuple[float, str]]]:
    """For each numeric grid axis: (value, scenario) along it, the other axes held at the value nearest the base."""
    grid = [b for b in built if b.scenario.origin == "grid"]
    out = {}
    for path, values in spec.grid:
        if path == "weights" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            continue
        held = {}
        for other, ovals in spec.grid:
            if other == path:
                continue
            base_v = base_value(spec.base_raw, other)
            if base_v is not None and all(isinstance(v, (int, float)) for v in ovals):
                held[other] = min(ovals, key=lambda v: abs(v - base_v))
            else:
                held[other] = ovals[0]
        pts = []
        for b in grid:
            ov = dict(b.scenario.overrides)
            if b.scenario.weight_set is not None and "weights" in held and b.scenario.weight_set != held["weights"]:
                continue
            if all(ov.get(p) == v for p, v in held.items() if p != "weights"):
                pts.append((float(ov[path]), b.name))
        if len(pts) >= 2:
            out[path] = sorted(pts)
    return out


def base_value(raw: dict, path: str):
    """The base scheme's value at an override path (a node at any depth of a tree), or None when the path holds
    no single number."""
    return base_number(raw, path)


@dataclass(frozen=True)
class FigureJob:
    """One figure to draw, with everything it needs (picklable, so a worker process can draw it)."""

    what: str  # heatmap | bump
    stem: str
    args: dict

    @property
    def cost(self) -> float:
        """A rough relative cost (seconds on a slow machine), to share the jobs between processes."""
        if self.what == "heatmap":
            n = (
                len(self.args["ranks"])
                if self.args["rank_group"] == "all"
                else int((self.args["ranks"]["kind"] == self.args["kind"]).sum())
            )
            return 0.4 + 0.02 * n
        return 0.9 * len(self.args["groups"]) + (1.0 if self.args["share"] else 0.0)


def figure_jobs(
    spec: SweepSpec, built: Sequence[BuiltScenario], comparison: Comparison, scorer, k: int = 3
) -> list[FigureJob]:
    """The sweep's figures: a rank heat map per ranking group, and per numeric grid axis a bump chart per group."""
    base = built[0]
    assert base.name == BASE
    names = [b.name for b in built]
    groups = list(dict.fromkeys(comparison.summary.loc[comparison.summary["scenario"] == BASE, "rank_group"]))
    units = comparison.ranks[["unit", "kind", "zone", "name_zh", "name_en"]]
    matrix = comparison.ranks[names].to_numpy(
        dtype=float, na_value=np.nan
    )  # once: 1,000 Int64 columns are slow to read
    ranks = pd.concat([units, pd.DataFrame(matrix, columns=pd.Index(names, dtype=object))], axis=1)
    jobs = [
        FigureJob(
            "heatmap",
            f"rank_heatmap_{_slug(g)}",
            {"ranks": ranks, "scenarios": names, "kind": g if g != "all" else "district", "rank_group": g},
        )
        for g in groups
    ]
    by_name = {b.name: b for b in built}
    for path, pts in axis_slices(spec, built).items():
        position = {n: i for i, n in enumerate(names)}
        long = pd.DataFrame(
            {
                "unit": np.tile(units["unit"].to_numpy(dtype=object), len(pts)),
                "x": np.repeat([x for x, _ in pts], len(units)),
                "rank": matrix[:, [position[n] for _, n in pts]].T.ravel(),
            }
        )
        share = None
        if path.startswith("groups."):
            share = {
                "dataset": scorer.dataset,
                "scheme": by_name[pts[0][1]].scheme,
                "group": path.split(".")[1],
                "range": (pts[0][0], pts[-1][0]),
            }
        jobs.append(
            FigureJob(
                "bump",
                f"bump_{_slug(path)}",
                {
                    "long": long,
                    "units": units,
                    "scheme": base.scheme,
                    "groups": groups,
                    "path": path,
                    "share": share,
                    "nominal": base_value(spec.base_raw, path),
                    "k": k,
                },
            )
        )
    return jobs


def render(job: FigureJob, directory: str | Path) -> list[Path]:
    """Draw one job's figures and save them as PNG and SVG; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    from perflab import plots
    from perflab.plots import sweep as sp

    plots.theme()
    directory = Path(directory)
    a = job.args
    if job.what == "heatmap":
        return sp.save(
            sp.rank_heatmap(a["ranks"], a["scenarios"], a["kind"], rank_group=a["rank_group"]), directory, job.stem
        )
    breaks: dict[str, list[float]] = {}
    tops: dict[str, list[float]] = {}
    label = a["path"]
    if a["share"]:
        from perflab.ranking import rank_groups
        from perflab.sensitivity import share_breakpoints, unit_group_scores

        sh = a["share"]
        scheme, gid = sh["scheme"], sh["group"]
        gname = next((g.name_zh if plots.lang() == "zh" else g.name_en for g in scheme.groups if g.id == gid), gid)
        label = plots.t(
            f"{gname}的权重（其余评委组按比例调整）",
            f"Share of the {gname} in the on-site score (other groups rescaled)",
        )
        gs = unit_group_scores(sh["dataset"], scheme)
        within = rank_groups(sh["dataset"].units.set_index("unit").reindex(gs.index).reset_index(), scheme)
        bp = share_breakpoints(gs, scheme.shares, gid, k=a["k"], share_range=sh["range"], rank_group=within)
        for rg, sw in bp.swaps.groupby("rank_group"):
            breaks[str(rg)] = sorted(set(sw["share"]))
            tops[str(rg)] = sorted(set(sw.loc[sw["top_k_changes"], "share"]))
    out = []
    for g in a["groups"]:
        fig = sp.grid_bump(
            a["long"], a["units"], a["scheme"], g, label, breaks.get(g), tops.get(g), a["nominal"], a["k"]
        )
        out += sp.save(fig, directory, f"{job.stem}_{_slug(g)}")
    return out


def warm() -> bool:
    """Import what drawing needs (run first in a worker process, while the sweep is still scoring)."""
    import matplotlib

    matplotlib.use("Agg")
    import perflab.plots.sweep  # noqa: F401
    import perflab.sensitivity  # noqa: F401

    return True


def sweep_figures(
    spec: SweepSpec,
    built: Sequence[BuiltScenario],
    comparison: Comparison,
    scorer,
    directory: Path,
    k: int = 3,
    pool=None,
    before: Callable[[], None] | None = None,
) -> list[Path]:
    """Draw and save (PNG and SVG) every figure; with ``pool`` (a process pool) that pool and this process share
    the figures, this process first doing ``before`` (other work). Returns the files written, in a fixed order."""
    canonical = figure_jobs(spec, built, comparison, scorer, k)  # heat maps, then bump charts, in ranking-group order
    jobs = sorted(canonical, key=lambda j: -j.cost)  # the costliest first: two processes share them more evenly
    directory.mkdir(parents=True, exist_ok=True)
    done: dict[str, list[Path]] = {}
    if pool is None:
        if before is not None:
            before()
        done = {j.stem: render(j, directory) for j in jobs}
    else:
        # the worker takes jobs from the front (the next one submitted as soon as it finishes one), this
        # process takes them from the back: the two share the work without knowing its cost in advance
        queue = list(jobs)
        lock = threading.Lock()
        futures: dict[str, Future] = {}
        finished = threading.Event()

        def feed(_=None):
            with lock:
                if not queue:
                    finished.set()
                    return
                job = queue.pop(0)
                fut = pool.submit(render, job, str(directory))
                futures[job.stem] = fut
            fut.add_done_callback(feed)

        feed()
        if before is not None:
            before()
        while True:
            with lock:
                job = queue.pop() if queue else None
            if job is None:
                break
            done[job.stem] = render(job, directory)
        finished.wait()
        done.update({stem: f.result() for stem, f in futures.items()})
    return [p for j in canonical for p in done[j.stem]]
