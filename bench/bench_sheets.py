"""Benchmark: the full scoring-sheet round trip on the demo data (220 evaluators' workbooks).

Makes one workbook per evaluator, fills each with the demo ratings, reads them
all back, checks the result equals the demo ratings exactly, and prints the
time per stage, sheets per second, and the ratio of reading to a bare
openpyxl load of the same files (the baseline: what reading costs before any
checking).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_sheets import fill  # noqa: E402

from perflab.scheme import load_scheme  # noqa: E402
from perflab.sheets import load_sheet_inputs, read_sheets, write_sheets  # noqa: E402


def main(n_raters: int | None = None):
    scheme = load_scheme(ROOT / "params" / "beijing_2016.yaml")
    inputs = load_sheet_inputs(ROOT / "data" / "raw" / "demo", scheme)
    raters = sorted(inputs.ratings["rater"].unique())[:n_raters]
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        paths = write_sheets(inputs, scheme, d, per_rater=True, raters=raters, progress=True)
        t_make = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p, rid in zip(paths, raters):
            fill(p, inputs.ratings[inputs.ratings["rater"] == rid], scheme)
        t_fill = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = read_sheets(paths, scheme, units=inputs.units)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p in paths:
            wb = load_workbook(p, read_only=True, data_only=True)
            for ws in wb.worksheets:
                for _ in ws.iter_rows(values_only=True):
                    pass
            wb.close()
        t_bare = time.perf_counter() - t0
    key = ["rater", "unit", "indicator"]
    got = result.ratings.astype({"rater": str, "unit": str, "indicator": str, "grade": str}).sort_values(key)
    exp = inputs.ratings[inputs.ratings["rater"].isin(raters)][got.columns]
    exp = exp.astype({"rater": str, "unit": str, "indicator": str, "grade": str}).sort_values(key)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), exp.reset_index(drop=True), check_dtype=False)
    n_sheets = len(result.sheets)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"round trip of {len(raters)} workbooks, {n_sheets} sheets, {len(result.ratings):,} ratings: exact")
    print(f"make:  {t_make:7.1f} s  ({n_sheets / t_make:6.1f} sheets/s)")
    print(f"fill:  {t_fill:7.1f} s  (openpyxl load + save, as an evaluator's spreadsheet would)")
    print(
        f"read:  {t_read:7.1f} s  ({n_sheets / t_read:6.1f} sheets/s); bare openpyxl read {t_bare:.1f} s "
        f"-> checking costs {t_read / t_bare:.2f}x a bare read"
    )
    print(f"peak memory (max RSS): {peak:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
