"""Each unit against its own history: the own baseline (mean, trend or z-score of its previous years)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from perflab.errors import DataError, quote
from perflab.scheme import BASELINE_METHODS, TOO_FEW_YEARS, Scheme

MIN_YEARS = {"mean": 1, "trend": 2, "zscore": 3}  # past years each method needs


def _check_panel(history: pd.DataFrame, directions: Mapping[str, str] | Scheme) -> tuple[pd.DataFrame, dict]:
    """Columns present, years whole numbers, every measure with a direction."""
    for col in ("unit", "measure", "year", "value"):
        if col not in history.columns:
            raise DataError(f"missing column {col!r} in the history table", column=col)
    dirs = dict(directions.directions if isinstance(directions, Scheme) else directions)
    year = pd.to_numeric(history["year"], errors="coerce")
    bad = year.isna() | (year != year.round())
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"year {quote(history['year'].iloc[i])} is not a whole number", row=history.index[i], column="year"
        )
    value = pd.to_numeric(history["value"], errors="coerce")
    bad = value.isna() & history["value"].notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"value {quote(history['value'].iloc[i])} is not a number", row=history.index[i], column="value"
        )
    missing = sorted(set(history["measure"]) - set(dirs))
    if missing:
        raise DataError(
            f"measure {quote(missing[0])} has no direction (higher or lower is better) in the scheme", column="measure"
        )
    for m, d in dirs.items():
        if d not in ("higher", "lower"):
            raise DataError(
                f"measure {quote(m)} has direction {quote(d)}; it must be higher or lower", column="measure"
            )
    h = history.assign(year=year.astype(int), value=value.astype(float))
    return h, dirs


def _window_stats(V: np.ndarray, years: np.ndarray, j: int, method: str, span: int):
    """Baseline, scale and number of past years for column j of the (rows × years) matrix V."""
    lo = np.searchsorted(years, years[j] - span)  # calendar window: the previous `span` years
    W = V[:, lo:j]
    x = years[lo:j].astype(float)
    have = ~np.isnan(W)
    n = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "mean":
            base = np.nansum(W, axis=1) / n
            scale = np.ones(len(V))
        elif method == "trend":
            xs = np.where(have, x, 0.0)
            ys = np.where(have, W, 0.0)
            sx, sy = xs.sum(1), ys.sum(1)
            sxx, sxy = (xs * xs).sum(1), (xs * ys).sum(1)
            slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            base = (sy - slope * sx) / n + slope * years[j]
            scale = np.ones(len(V))
        else:  # zscore: this year's change against last year, in units of the own year-to-year variability
            consecutive = np.diff(x) == 1
            D = np.diff(W, axis=1)[:, consecutive] if W.shape[1] > 1 else np.empty((len(V), 0))
            nd = (~np.isnan(D)).sum(axis=1)
            mean_d = np.nansum(D, axis=1) / nd
            var = np.nansum((D - mean_d[:, None]) ** 2, axis=1) / (nd - 1)
            scale = np.where(nd >= 2, np.sqrt(var), np.nan)
            scale = np.where(scale > 0, scale, np.nan)
            prev = V[:, j - 1] if j > 0 and years[j - 1] == years[j] - 1 else np.full(len(V), np.nan)
            base = prev
            n = np.where(np.isnan(prev), 0, n)
    return base, scale, n


def _apply_method(V: np.ndarray, years: np.ndarray, method: str, span: int):
    base = np.full(V.shape, np.nan)
    scale = np.full(V.shape, np.nan)
    n = np.zeros(V.shape, dtype=int)
    for j in range(V.shape[1]):  # a loop over years (a handful); every unit and measure at once
        base[:, j], scale[:, j], n[:, j] = _window_stats(V, years, j, method, span)
    return base, scale, n


def _check_baseline_input(history, method, years, directions, too_few_years, units) -> tuple[pd.DataFrame, dict]:
    """The arguments of :func:`own_baseline` checked; the panel's rows with a value, and the directions."""
    if method not in BASELINE_METHODS:
        raise ValueError(f"unknown baseline method {method!r}; use one of {', '.join(BASELINE_METHODS)}")
    if too_few_years not in TOO_FEW_YEARS:
        raise ValueError(f"unknown too_few_years policy {too_few_years!r}; use one of {', '.join(TOO_FEW_YEARS)}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    if method == "zscore" and years < MIN_YEARS["zscore"]:
        raise ValueError(f"the zscore method needs years >= 3 (two year-to-year changes), got {years}")
    h, dirs = _check_panel(history, directions)
    h = h[h["value"].notna()]
    if h.empty:
        raise DataError("the history table has no values", column="value")
    dup = h.duplicated(["unit", "measure", "year"])
    if dup.any():
        r = h[dup].iloc[0]
        raise DataError(
            f"unit {r['unit']}, measure {r['measure']}, year {r['year']} appears twice",
            row=h.index[dup.to_numpy()][0],
            column="year",
        )
    if too_few_years == "zone":
        if units is None:
            raise ValueError("too_few_years='zone' needs the units table (for each unit's zone)")
        unknown = sorted(set(h["unit"]) - set(units["unit"]))
        if unknown:
            raise DataError(f"unit {quote(unknown[0])} is in the history but not in the units table", column="unit")
    return h, dirs


def _zone_fallback(wide, units, all_years, method, years, enough, base, scale, source):
    """Where a unit has too few own years, the baseline of its zone's mean series (and its own last value)."""
    V = wide.to_numpy(float)
    need = MIN_YEARS[method]
    zone_of = units.set_index("unit")["zone"].astype(str)
    zones = wide.index.get_level_values("unit").map(zone_of)
    measures = wide.index.get_level_values("measure")
    zwide = wide.groupby([zones, measures]).mean()  # the zone's mean series per measure
    zb, zs, zn = _apply_method(zwide.to_numpy(float), all_years, method, years)
    pos = zwide.index.get_indexer(pd.MultiIndex.from_arrays([zones, measures]))
    with np.errstate(invalid="ignore"):
        use = ~enough & (zn[pos] >= need) & np.isfinite(zb[pos]) & np.isfinite(zs[pos]) & (zs[pos] > 0)
    zb_rows = zb[pos]
    if method == "zscore":  # last year's own value when there is one, else the zone's
        own_prev = np.column_stack([np.full(len(V), np.nan), V[:, :-1]])
        zb_rows = np.where(np.isnan(own_prev), zb_rows, own_prev)
    return np.where(use, zb_rows, base), np.where(use, zs[pos], scale), np.where(use, "zone", source)


def _refuse_short(wide: pd.DataFrame, all_years: np.ndarray, lacking: np.ndarray, n, method: str, years: int):
    """Under ``too_few_years: error``, refuse the first observation without enough own years.

    A shortage counts when the panel itself reaches far enough back: the panel's first years never can.
    """
    need = MIN_YEARS[method]
    panel_n = np.array([((all_years < y) & (all_years >= y - years)).sum() for y in all_years])
    short = lacking & (panel_n >= need)[None, :]
    if short.any():
        r, c = np.argwhere(short)[0]
        unit, measure = wide.index[r]
        raise DataError(
            f"unit {unit}, measure {measure}, year {all_years[c]}: {n[r, c]} previous year(s) of its own, "
            f"the {method} baseline needs {need} (set too_few_years to missing or zone)",
            column="year",
        )


def _observed_rows(wide, all_years, observed, table: dict, dirs: dict) -> pd.DataFrame:
    """One row per observed unit × measure × year of the (unit, measure) × year arrays in ``table``."""
    rows, cols = np.nonzero(observed)
    idx = wide.index[rows]
    out = pd.DataFrame(
        {
            "unit": idx.get_level_values("unit"),
            "measure": idx.get_level_values("measure"),
            "year": all_years[cols],
            **{k: v[rows, cols] for k, v in table.items()},
        }
    )
    out["source"] = out["source"].astype("string")
    sign = out["measure"].map({m: 1.0 if d == "higher" else -1.0 for m, d in dirs.items()}).astype(float)
    out["improvement"] = out["change"] * sign
    return out.sort_values(["unit", "measure", "year"], kind="mergesort").reset_index(drop=True)


def own_baseline(
    history: pd.DataFrame,
    method: str = "mean",
    years: int = 3,
    *,
    directions: Mapping[str, str] | Scheme,
    too_few_years: str = "missing",
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each unit × measure × year against the unit's own previous ``years`` years.

    ``mean``: change = value − mean of the previous years; ``trend``: change =
    value − the unit's own linear trend (fitted on the previous years) at this
    year; ``zscore``: change = (value − last year's value) / sd of the unit's own
    year-to-year changes. ``improvement`` is the change turned so that positive
    is better (the measure's direction). A unit with fewer past years than the
    method needs (1, 2, 3) follows ``too_few_years``: ``error``, ``missing``
    (NaN), or ``zone`` (the zone's mean series gives the baseline; needs
    ``units``). The ``source`` column says which baseline each row used.

    Parameters
    ----------
    history : pandas.DataFrame
        The panel: unit, measure, year, value.
    method : str
        ``mean``, ``trend`` or ``zscore``.
    years : int
        How many previous years form the baseline (a calendar window: a gap year shortens it).
    directions : Scheme or mapping
        Measure id → ``higher`` or ``lower`` (which way is better).
    too_few_years : str
        ``error``, ``missing`` or ``zone``.
    units : pandas.DataFrame, optional
        The units table; needed with ``too_few_years="zone"``.

    Returns
    -------
    pandas.DataFrame
        One row per observed unit × measure × year: value, baseline, n_years, source (``own``, ``zone`` or
        ``none``), change, improvement, method, too_few_years.

    Examples
    --------
    >>> history = pd.DataFrame({"unit": "A", "measure": "x", "year": [2014, 2015, 2016], "value": [10.0, 12.0, 15.0]})
    >>> b = own_baseline(history, "mean", 2, directions={"x": "higher"})
    >>> b[["year", "baseline", "improvement", "source"]].values.tolist()
    [[2014, nan, nan, 'none'], [2015, 10.0, 2.0, 'own'], [2016, 11.0, 4.0, 'own']]
    """
    h, dirs = _check_baseline_input(history, method, years, directions, too_few_years, units)
    wide = h.pivot_table(index=["unit", "measure"], columns="year", values="value", aggfunc="first", observed=True)
    all_years = np.arange(wide.columns.min(), wide.columns.max() + 1)
    wide = wide.reindex(columns=all_years)
    V = wide.to_numpy(float)
    base, scale, n = _apply_method(V, all_years, method, years)
    need = MIN_YEARS[method]
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(base) & np.isfinite(scale) & (scale > 0)  # zscore: no spread, no scale
    enough = (n >= need) & usable
    source = np.where(enough, "own", "none").astype(object)
    if too_few_years == "zone":
        base, scale, source = _zone_fallback(wide, units, all_years, method, years, enough, base, scale, source)
    observed = ~np.isnan(V)
    if too_few_years == "error":
        _refuse_short(wide, all_years, observed & ~enough, n, method, years)
    with np.errstate(invalid="ignore"):
        change = (V - base) / scale
    change = np.where(source == "none", np.nan, change)
    base = np.where(source == "none", np.nan, base)
    table = {"value": V, "baseline": base, "n_years": n, "source": source, "change": change}
    return _observed_rows(wide, all_years, observed, table, dirs).assign(method=method, too_few_years=too_few_years)
