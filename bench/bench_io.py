"""Benchmark: simulate, load + validate, and score the demo-sized evaluation, end to end.

Prints seconds per stage and ratings per second for loading, beside the
baseline of a plain `pandas.read_csv` of the same files (no validation) in
the same process, so the cost of validation shows as a ratio.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perflab.io import TABLES, find_table_file, load_dataset  # noqa: E402
from perflab.scheme import load_scheme  # noqa: E402
from perflab.scoring import score_units  # noqa: E402
from perflab.simulate import simulate, write_simulated  # noqa: E402


def timed(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    scheme = load_scheme(ROOT / "params" / "beijing_2016.yaml")
    t_sim, sim = timed(lambda: simulate(scheme, seed=1))
    with tempfile.TemporaryDirectory() as d:
        write_simulated(sim, d)
        t_load, ds = timed(lambda: load_dataset(d, scheme))
        files = [find_table_file(Path(d), n) for n in TABLES]
        t_raw, _ = timed(lambda: [pd.read_csv(f) for f in files if f is not None])
    t_score, _ = timed(lambda: score_units(ds, scheme))
    n = len(ds.ratings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"demo-sized evaluation: {len(ds.units)} units, {len(ds.raters)} raters, {n:,} ratings (best of 5)")
    print(f"simulate:                 {t_sim:7.3f} s")
    print(f"load + validate:          {t_load:7.3f} s  ({n / t_load:,.0f} ratings/s)")
    print(f"plain read_csv baseline:  {t_raw:7.3f} s  -> validation costs {t_load / t_raw:.1f}x a bare read")
    print(f"score_units:              {t_score:7.3f} s")
    print(f"peak memory (max RSS):    {peak:7.0f} MiB")


if __name__ == "__main__":
    main()
