"""Benchmark: many-facet Rasch fits of the demo-sized and a national-sized sparse design.

Prints wall time, peak traced memory (numpy/pandas allocations, tracemalloc) and
peak resident memory of the process, and a baseline in the same process: the
same fit with Gauss-Seidel sweeps written as a Python loop over the units is
not feasible, so the baseline is the cost of one full sweep (probabilities of
every rating) times the number of iterations, i.e. how close the fit is to
its irreducible vectorised cost. The fit includes the cluster-robust (rater ×
unit) standard errors; their design effect per facet is printed.

    python bench/bench_mfrm.py            # demo (≈220 raters × 59 units × 7 indicators) and national
    python bench/bench_mfrm.py --demo     # demo only
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perflab import bias  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def national_design(n_raters=2000, n_units=3000, n_items=10, per_rater=60, seed=1) -> tuple[pd.DataFrame, np.ndarray]:
    """A sparse design: each rater scores `per_rater` random units on every indicator (≈1.2M ratings), 5 categories."""
    rng = np.random.default_rng(seed)
    units = np.concatenate([rng.choice(n_units, per_rater, replace=False) for _ in range(n_raters)])
    raters = np.repeat(np.arange(n_raters), per_rater)
    quality = rng.normal(0, 1.0, n_units)
    severity = rng.normal(0, 0.7, n_raters)
    difficulty = rng.normal(0, 0.5, n_items)
    rr, uu = np.repeat(raters, n_items), np.repeat(units, n_items)
    ii = np.tile(np.arange(n_items), len(raters))
    psi = np.concatenate([[0.0], np.cumsum([-2.0, -0.7, 0.7, 2.0])])
    P = bias.category_probabilities(quality[uu] - severity[rr] - difficulty[ii], psi)
    x = (P.cumsum(axis=1) > rng.random(len(rr))[:, None]).argmax(axis=1)
    df = pd.DataFrame({"unit": uu, "rater": rr, "indicator": ii, "score": x})
    return df, severity


def run(label, data, **kw):
    tracemalloc.start()
    t0 = time.perf_counter()
    fit = bias.mfrm(data, **kw)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**30
    tracemalloc.stop()
    # baseline: one vectorised evaluation of all rating probabilities, times 2 per iteration
    eta = np.zeros(len(data))
    psi = np.concatenate([[0.0], np.cumsum(np.nan_to_num(fit.thresholds["threshold"].to_numpy()[1:]))])
    t1 = time.perf_counter()
    bias.category_probabilities(eta, psi)
    one = time.perf_counter() - t1
    floor = 2 * one * fit.iterations
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"{label}: {len(data):,} ratings, {len(fit.raters)} raters × {len(fit.units)} units × {len(fit.items)} indicators"
    )
    print(
        f"  fit {elapsed:.2f} s, {fit.iterations} iterations, converged={fit.converged}, "
        f"max |observed − expected| = {fit.max_residual:.4f}"
    )
    print(f"  peak traced memory {peak:.2f} GiB, peak RSS of the process {rss:.2f} GiB")
    print(f"  baseline (2 probability sweeps × iterations) {floor:.2f} s → fit/baseline = {elapsed / floor:.1f}×")
    sep = fit.separation.set_index("facet")
    print(
        "  design effect of the cluster-robust (rater × unit) SEs: "
        + ", ".join(f"{f} {sep.loc[f, 'design_effect']:.2f}" for f in sep.index)
        + f"; unit reliability {sep.loc['units', 'reliability']:.3f} (model SEs {sep.loc['units', 'reliability_model']:.3f})"
    )
    return fit, elapsed, max(peak, rss)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", action="store_true", help="demo-sized fit only")
    args = ap.parse_args(argv)
    from perflab.io import load_dataset
    from perflab.scheme import load_scheme

    scheme = load_scheme(ROOT / "params" / "beijing_2016.yaml")
    ds = load_dataset(ROOT / "data" / "raw" / "demo", scheme)
    _, t_demo, _ = run("demo (bands A–E)", ds.ratings, scheme=scheme)
    print(f"  target ≤ 5 s: {'OK' if t_demo <= 5 else 'MISSED'}")
    if args.demo:
        return
    data, severity = national_design()
    fit, t_nat, mem_nat = run("national (sparse)", data, score="score")
    r = np.corrcoef(fit.raters["measure"].to_numpy(), severity)[0, 1]
    print(f"  correlation of rater measures with the simulated severities: {r:.4f}")
    # memory: the larger of the traced peak and the process's peak RSS (which includes the data and Python itself)
    time_ok, mem_ok = t_nat <= 60, mem_nat <= 4.0
    print(
        f"  target ≤ 60 s: {'OK' if time_ok else 'MISSED'} ({t_nat:.1f} s); "
        f"≤ 4 GiB: {'OK' if mem_ok else 'MISSED'} ({mem_nat:.2f} GiB peak)"
    )


if __name__ == "__main__":
    main()
