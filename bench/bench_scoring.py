"""Benchmark: on-site scoring of a national-sized sparse design, vectorised vs a per-unit loop.

3,000 units x 2,000 raters (each rater scores about 60 units) x 7 indicators,
about 840,000 ratings. perflab's grouped, vectorised path is timed against the
straightforward per-unit loop (filter the unit's ratings, trimmed mean per
indicator and group, shares, weights) run on a subset and scaled up, in the
same process. Prints both times, the ratio and peak memory.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perflab.io import Dataset  # noqa: E402
from perflab.scheme import load_scheme  # noqa: E402
from perflab.scoring import onsite_scores  # noqa: E402

N_UNITS, N_RATERS, PER_RATER, LOOP_UNITS = 3000, 2000, 60, 60


def make(scheme, rng):
    units = pd.DataFrame(
        {
            "unit": [f"U{i:05d}" for i in range(N_UNITS)],
            "kind": "department",
            "zone": "economy",
            "name_zh": "单位",
            "name_en": "unit",
            "presented": True,
        }
    )
    groups = rng.choice(scheme.group_ids, size=N_RATERS, p=scheme.shares.to_numpy())
    raters = pd.DataFrame({"rater": [f"R{i:05d}" for i in range(N_RATERS)], "group": groups, "home_unit": pd.NA})
    pick = np.argsort(rng.random((N_RATERS, N_UNITS)), axis=1)[:, :PER_RATER]
    r_idx = np.repeat(np.arange(N_RATERS), PER_RATER * 7)
    u_idx = np.repeat(pick.ravel(), 7)
    i_idx = np.tile(np.arange(7), N_RATERS * PER_RATER)
    ratings = pd.DataFrame(
        {
            "rater": raters["rater"].to_numpy()[r_idx],
            "unit": units["unit"].to_numpy()[u_idx],
            "indicator": np.array(scheme.indicator_ids)[i_idx],
            "score": np.clip(np.round(rng.normal(80, 8, r_idx.size)), 0, 100),
        }
    )
    return Dataset(units=units, raters=raters, ratings=ratings, indicators=scheme.indicator_table())


def loop_baseline(ds, scheme, units):
    """What a per-unit script does: one pass over the ratings per unit."""
    k = scheme.aggregation.trim
    shares, weights = scheme.shares, scheme.weights
    r = ds.ratings.merge(ds.raters[["rater", "group"]], on="rater")
    out = {}
    for u in units:
        sub = r[r["unit"] == u]
        ind_scores = {}
        for ind, g_ind in sub.groupby("indicator"):
            num = den = 0.0
            for grp, g in g_ind.groupby("group"):
                s = np.sort(g["score"].to_numpy())
                val = s[k : len(s) - k].mean() if len(s) > 2 * k else np.median(s)
                num += shares[grp] * val
                den += shares[grp]
            ind_scores[ind] = num / den
        w = weights[list(ind_scores)]
        out[u] = float((w * pd.Series(ind_scores)).sum() / w.sum())
    return pd.Series(out)


def main():
    scheme = load_scheme(ROOT / "params" / "beijing_2016.yaml")
    ds = make(scheme, np.random.default_rng(1))
    n = len(ds.ratings)
    t0 = time.perf_counter()
    fast = onsite_scores(ds, scheme)
    t_fast = time.perf_counter() - t0
    subset = ds.units["unit"].to_numpy()[:LOOP_UNITS]
    t0 = time.perf_counter()
    slow = loop_baseline(ds, scheme, subset)
    t_loop = (time.perf_counter() - t0) * N_UNITS / LOOP_UNITS
    np.testing.assert_allclose(fast.reindex(slow.index).to_numpy(), slow.to_numpy(), rtol=1e-12)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"design: {N_UNITS} units x {N_RATERS} raters x 7 indicators, {n:,} ratings")
    print(f"perflab (vectorised):       {t_fast:8.3f} s  ({n / t_fast:,.0f} ratings/s)")
    print(f"per-unit loop (scaled from {LOOP_UNITS} units): {t_loop:8.3f} s")
    print(f"ratio loop / perflab:       {t_loop / t_fast:8.1f}x  (results agree to 1e-12)")
    print(f"peak memory (max RSS):      {peak:8.0f} MiB")


if __name__ == "__main__":
    main()
