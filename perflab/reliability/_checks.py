"""Input checks shared by the reliability modules: named columns, raters with their groups."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from perflab.errors import DataError


def _need_columns(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    """Refuse anything but a DataFrame holding ``cols``, naming the missing columns and the ones there are."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(
            f"{what}: no column(s) {', '.join(map(repr, missing))} in the data; it has {', '.join(map(str, data.columns))}"
        )


def _with_groups(ratings: pd.DataFrame, raters: pd.DataFrame, what: str) -> pd.DataFrame:
    """The ratings with each rater's evaluator group (column ``group``); missing scores dropped."""
    _need_columns(ratings, ["rater", "unit", "indicator", "score"], what)
    _need_columns(raters, ["rater", "group"], what)
    unknown = ~ratings["rater"].isin(raters["rater"])
    if unknown.any():
        raise DataError(f"{what}: rater {ratings.loc[unknown, 'rater'].iloc[0]!r} is not in the raters table")
    r = ratings[["rater", "unit", "indicator", "score"]].dropna(subset=["score"])
    r = r.merge(raters[["rater", "group"]], on="rater", how="left")
    if r["group"].isna().any():
        raise DataError(f"{what}: rater {r.loc[r['group'].isna(), 'rater'].iloc[0]!r} has no group")
    return r


def _kept(n: np.ndarray, trim: int) -> np.ndarray:
    """Number of values a trimmed mean averages: n − 2·trim, or the one or two middle values (the median) when n ≤ 2·trim."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 2 * trim, n - 2 * trim, np.where(n % 2 == 1, 1.0, np.minimum(n, 2.0)))
