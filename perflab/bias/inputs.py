"""What the rater analyses read: the columns they need, and the ratings joined to the raters' groups.

Each check raises one :class:`~perflab.errors.DataError` that names the offending value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from perflab.errors import DataError


def need_columns(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    """Raise a DataError naming the columns of ``cols`` that ``data`` lacks (``what`` names the caller)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(
            f"{what}: no column(s) {', '.join(map(repr, missing))} in the data; it has {', '.join(map(str, data.columns))}"
        )


def rated_by_group(ratings: pd.DataFrame, raters: pd.DataFrame, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """The scored ratings joined to the raters' groups (and home units, if listed).

    One clear DataError for a rater listed twice or without a group, a rating by a rater not in the raters
    table or of a unit not in the units table, or no scored rating at all.
    """
    need_columns(ratings, ["rater", "unit", "indicator", "score"], "ratings")
    need_columns(raters, ["rater", "group"], "raters")
    if raters["rater"].duplicated().any():
        raise DataError(f"raters: rater {raters.loc[raters['rater'].duplicated(), 'rater'].iloc[0]!r} is listed twice")
    no_group = raters["group"].isna() | (raters["group"].astype(str).str.strip() == "")
    if no_group.any():
        raise DataError(f"raters: rater {raters.loc[no_group, 'rater'].iloc[0]!r} has no group")
    unknown = ~ratings["rater"].isin(raters["rater"])
    if unknown.any():
        raise DataError(f"ratings: rater {ratings.loc[unknown, 'rater'].iloc[0]!r} is not in the raters table")
    if units is not None:
        bad = ~ratings["unit"].isin(units["unit"])
        if bad.any():
            raise DataError(f"ratings: unit {ratings.loc[bad, 'unit'].iloc[0]!r} is not in the units table")
    cols = ["rater", "group"] + (["home_unit"] if "home_unit" in raters.columns else [])
    r = ratings.dropna(subset=["score"]).merge(raters[cols], on="rater", how="left")
    if len(r) == 0:
        raise DataError("ratings: no rating has a score")
    return r


def as_generator(seed) -> np.random.Generator:
    """``seed`` (an int, None or a Generator, used as is so its stream continues) as a Generator."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def small_panel(seed: int = 0, n_raters: int = 8, n_units: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tiny crossed panel for examples: every rater scores every unit on three indicators (0–100, and a grade
    A–E in bands of 10 points from 90).

    Rater ``R0`` is 8 points harsher than the others; raters alternate between two groups.
    Returns ``(ratings, raters)``.

    Examples
    --------
    >>> ratings, raters = small_panel()
    >>> len(ratings), sorted(raters["group"].unique())
    (192, ['experts', 'public'])
    """
    rng = np.random.default_rng(seed)
    quality = rng.normal(75, 6, n_units)
    severity = np.zeros(n_raters)
    severity[0] = 8.0
    r, u, i = np.meshgrid(np.arange(n_raters), np.arange(n_units), np.arange(3), indexing="ij")
    r, u, i = r.ravel(), u.ravel(), i.ravel()
    score = np.clip(np.rint(quality[u] - severity[r] + 2.0 * (i - 1) + rng.normal(0, 3, r.size)), 0, 100)
    ratings = pd.DataFrame(
        {
            "rater": [f"R{k}" for k in r],
            "unit": [f"U{k}" for k in u],
            "indicator": [f"I{k}" for k in i],
            "score": score.astype(int),
            "grade": np.array(list("EDCBA"))[np.clip((score.astype(int) - 50) // 10, 0, 4)],
        }
    )
    raters = pd.DataFrame(
        {"rater": [f"R{k}" for k in range(n_raters)], "group": np.resize(["experts", "public"], n_raters)}
    )
    return ratings, raters
