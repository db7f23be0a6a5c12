"""Benchmark: Monte Carlo rank distributions, 1,000,000 weight draws × 76 units × 7 indicators.

perflab.sensitivity.monte_carlo (vectorised in chunks: weights matrix, weighted sums, one
packed-integer sort per draw row, one bincount into the unit × rank table, two threads) is timed
against the per-draw loop that peer tools run (pandas: weighted sum, then ``rank``, one draw at a
time, accumulating the same unit × rank counts), run on a smaller n and scaled up, in the same
process. The inputs are the demo data's unit × indicator scores on the final-score scale, all 76
units ranked together (the hardest case: one 76-unit sort per draw). Prints wall time, draws per
second, the ratio and peak memory (Python allocations traced by tracemalloc, and the process's
maximum resident set size).

It also times the Sobol analysis the sensitivity pages run (``sobol_indices`` at its default
``SOBOL_N`` base points: 7 weights and the grassroots share, every unit's rank and each ranking
group's mean rank shift as outputs, SALib's bootstrap intervals) against SALib's ``analyze`` called
once per output on the same model runs.

    .venv/bin/python bench/bench_monte_carlo.py [--n 1000000] [--loop-n 2000] [--method uniform]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perflab.io import load_dataset  # noqa: E402
from perflab.ranking import rank_groups  # noqa: E402
from perflab.scheme import load_scheme  # noqa: E402
from perflab.scoring import score_units  # noqa: E402
from perflab.sensitivity import (  # noqa: E402
    SOBOL_N,
    final_map,
    monte_carlo,
    score_cube,
    sobol_indices,
    unit_indicator_scores,
)


def loop_baseline(scores: pd.DataFrame, weights: pd.Series, n: int, spread: float, seed: int) -> pd.DataFrame:
    """What a per-draw script does: draw weights, weighted sum, ``rank``, count; one draw at a time."""
    rng = np.random.default_rng(seed)
    base = weights / weights.sum()
    counts = pd.DataFrame(0, index=scores.index, columns=range(1, len(scores) + 1))
    for _ in range(n):
        w = base * rng.uniform(1 - spread, 1 + spread, len(base))
        w = w / w.sum()
        rank = (scores * w).sum(axis=1).rank(ascending=False, method="min").astype(int)
        for unit, r in rank.items():
            counts.at[unit, r] += 1
    return counts


def loop_baseline_lean(scores: pd.DataFrame, weights: pd.Series, n: int, spread: float, seed: int) -> np.ndarray:
    """The same loop without the per-unit counting: pandas weighted sum and rank per draw, numpy counts."""
    rng = np.random.default_rng(seed)
    base = weights / weights.sum()
    counts = np.zeros((len(scores), len(scores)), dtype=np.int64)
    units = np.arange(len(scores))
    for _ in range(n):
        w = base * rng.uniform(1 - spread, 1 + spread, len(base))
        w = w / w.sum()
        rank = (scores @ w).rank(ascending=False, method="min").to_numpy(int)
        counts[units, rank - 1] += 1
    return counts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--loop-n", type=int, default=2_000)
    ap.add_argument("--method", default="uniform", choices=["uniform", "dirichlet"])
    ap.add_argument("--spread", type=float, default=0.2)
    a = ap.parse_args(argv)

    scheme = load_scheme(ROOT / "params" / "beijing_2016.yaml")
    ds = load_dataset(ROOT / "data" / "raw" / "demo", scheme)
    scores = unit_indicator_scores(ds, scheme)
    weights = scheme.weights
    print(
        f"scores: {scores.shape[0]} units x {scores.shape[1]} indicators; draws: {a.n:,}; "
        f"method {a.method}, spread {a.spread}"
    )

    monte_carlo(scores, weights, n=20_000, method=a.method, spread=a.spread, seed=1)  # warm-up (threads, BLAS)
    tracemalloc.start()
    t0 = time.perf_counter()
    res = monte_carlo(scores, weights, n=a.n, method=a.method, spread=a.spread, seed=2016)
    fast = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    assert int(res.frequencies.to_numpy().sum()) == a.n * len(scores)

    t0 = time.perf_counter()
    loop_baseline(scores, weights, a.loop_n, a.spread, 7)
    per_draw = (time.perf_counter() - t0) / a.loop_n
    t0 = time.perf_counter()
    loop_baseline_lean(scores, weights, a.loop_n, a.spread, 7)
    per_draw_lean = (time.perf_counter() - t0) / a.loop_n

    print(
        f"perflab monte_carlo: {fast:.3f} s wall for {a.n:,} draws = {a.n / fast:,.0f} draws/s "
        f"(full 76 x 76 rank table; Kendall's tau on the first {res.settings['tau_draws']:,} draws)"
    )
    print(
        f"peak memory: {peak / 2**20:.0f} MiB traced allocations during the run, "
        f"{rss:.0f} MiB process max RSS (includes pandas, scipy and the data)"
    )
    for name, pd_time in (
        ("pandas loop (sum, rank, count per unit)", per_draw),
        ("pandas loop, lean (dot, rank, numpy count)", per_draw_lean),
    ):
        scaled = pd_time * a.n
        print(
            f"{name}: {pd_time * 1e6:.0f} us/draw on {a.loop_n:,} draws -> {scaled:,.0f} s for {a.n:,} "
            f"(scaled); ratio {scaled / fast:,.0f}x"
        )
    print(
        f"targets: <= 2 s wall: {'yes' if fast <= 2 else 'NO'}; < 1 GB peak: "
        f"{'yes' if max(peak / 2**20, rss) < 1024 else 'NO'}; >= 50x the lean loop: "
        f"{'yes' if per_draw_lean * a.n / fast >= 50 else 'NO'}"
    )
    geometric_bench(ds, scheme, a)
    sobol_bench(ds, scheme)


def geometric_bench(ds, scheme, a) -> None:
    """The same run under a geometric composite (on-site profiles, mapped to the final score): aggregate() on chunks."""
    n = max(1, a.n // 10)
    profile = unit_indicator_scores(ds, scheme, scale="profile")
    t0 = time.perf_counter()
    monte_carlo(
        profile,
        scheme.weights,
        n=n,
        method=a.method,
        spread=a.spread,
        seed=2016,
        composite="geometric",
        final_map=final_map(ds, scheme),
    )
    geo = time.perf_counter() - t0
    print(f"perflab monte_carlo, geometric composite: {geo:.3f} s wall for {n:,} draws = {n / geo:,.0f} draws/s")


def sobol_bench(ds, scheme) -> None:
    """sobol_indices at the pages' default against SALib.analyze.sobol once per output (same runs, same intervals)."""
    from SALib.analyze import sobol as salib

    within = rank_groups(score_units(ds, scheme).set_index("unit"), scheme)
    cube = score_cube(ds, scheme)
    kw = dict(n=SOBOL_N, seed=2016, rank_group=within, cube=cube, shares=scheme.shares, group="grassroots")
    sobol_indices(None, scheme.weights, **{**kw, "n": 64})  # warm-up
    t0 = time.perf_counter()
    res = sobol_indices(None, scheme.weights, **kw)
    ours = time.perf_counter() - t0
    outputs = res.indices[["output", "rank_group"]].drop_duplicates()
    D = res.inputs.shape[0]
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(res.settings["runs"], 3))  # SALib's cost does not depend on the values: three outputs, scaled
    problem = {"num_vars": D, "names": [f"x{i}" for i in range(D)], "bounds": [[0, 1]] * D}
    t0 = time.perf_counter()
    for j in range(Y.shape[1]):
        salib.analyze(problem, Y[:, j], calc_second_order=False, num_resamples=100, seed=1)
    per_output = (time.perf_counter() - t0) / Y.shape[1]
    print(
        f"sobol_indices: {ours:.2f} s for {res.settings['runs']:,} model runs ({SOBOL_N:,} base points x {D + 2}), "
        f"{len(outputs)} outputs with bootstrap intervals; SALib analyze: {per_output:.2f} s per output -> "
        f"{per_output * len(outputs):.1f} s for the same outputs (model runs not included)"
    )


if __name__ == "__main__":
    main()
