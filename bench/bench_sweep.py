"""Benchmark: scenario sweeps, with notebooks (one kernel against two) and scores only (1,000 scenarios).

1. The shipped grassroots sweep (13 distinct scenarios, notebook 10 for each) run by the
   ``perflab sweep`` command with ``--jobs 1`` and ``--jobs 2``: wall times, their ratio, and
   seconds per scenario.
2. A 1,000-scenario scores-only grid (grassroots share 40 values x key-task weight 25 values) by
   the command, with its figures, and without them; the same scenarios scored the straightforward
   way (``score_units`` once per scheme) on a subset, scaled up, in this process: the ratio.

Each command runs in a fresh process, as a user would run it; the acceptance targets are
60 s for the grassroots sweep with ``--jobs 2`` and 10 s for the 1,000-scenario grid.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PERFLAB = Path(sys.executable).parent / "perflab"
GRID = """base: {base}
notebooks: []
grid:
  groups.grassroots.share: {{from: 0.0, to: 0.39, step: 0.01}}
  indicators.key_tasks.weight: {{from: 1, to: 25, step: 1}}
"""
LOOP_SCENARIOS = 50


def run(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(PERFLAB), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"perflab {' '.join(args)} failed:\n{proc.stderr}")
    return elapsed


def naive_seconds_per_scenario(sweep: Path) -> float:
    """The straightforward way: build each scheme and call score_units on it, one by one."""
    from perflab.io import load_dataset
    from perflab.scheme import load_scheme
    from perflab.scoring import score_units
    from perflab.sweep import build_scenarios, load_sweep

    spec = load_sweep(sweep)
    built = build_scenarios(spec, None)[:LOOP_SCENARIOS]
    ds = load_dataset(ROOT / "data" / "raw" / "demo", load_scheme(spec.base))
    t0 = time.perf_counter()
    for b in built:
        score_units(ds, b.scheme)
    return (time.perf_counter() - t0) / len(built)


def main():
    shipped = ROOT / "params" / "sweeps" / "grassroots_share.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t1 = run(["sweep", str(shipped), "--out", str(tmp / "j1"), "--jobs", "1", "--quiet"])
        t2 = run(["sweep", str(shipped), "--out", str(tmp / "j2"), "--jobs", "2", "--quiet"])
        same = all(
            (tmp / "j1" / "comparison" / f).read_bytes() == (tmp / "j2" / "comparison" / f).read_bytes()
            for f in ("ranks.csv", "scores.csv", "grades.csv", "summary.csv", "movers.csv")
        )
        n = 13
        print(f"grassroots sweep, {n} scenarios x notebook 10 (base = share 0.25, run once):")
        print(f"  --jobs 1: {t1:7.1f} s  ({t1 / n:5.2f} s per scenario)")
        print(f"  --jobs 2: {t2:7.1f} s  ({t2 / n:5.2f} s per scenario)   target <= 60 s")
        print(f"  ratio jobs 1 / jobs 2: {t1 / t2:5.2f}x; comparison tables byte-identical: {same}")

        grid = tmp / "grid.yaml"
        grid.write_text(GRID.format(base=ROOT / "params" / "beijing_2016.yaml"), encoding="utf-8")
        tg = run(["sweep", str(grid), "--out", str(tmp / "g"), "--quiet"])
        tn = run(["sweep", str(grid), "--out", str(tmp / "g2"), "--quiet", "--no-figures"])
        per = naive_seconds_per_scenario(grid)
        m = 1001
        print(f"scores-only grid, {m} scenarios (base + 40 shares x 25 key-task weights):")
        print(f"  perflab sweep:              {tg:6.2f} s  ({tg / m * 1000:5.2f} ms per scenario)   target <= 10 s")
        print(f"  perflab sweep --no-figures: {tn:6.2f} s  ({tn / m * 1000:5.2f} ms per scenario)")
        print(
            f"  score_units per scheme (scaled from {LOOP_SCENARIOS}): {per * m:6.1f} s  ({per * 1000:5.1f} ms per scenario)"
        )
        print(f"  ratio naive scoring / sweep: {per * m / tg:5.1f}x (with figures), {per * m / tn:5.1f}x (tables only)")


if __name__ == "__main__":
    main()
