"""Do scores drift across the sessions? Session and presentation-order effects on the rater-adjusted unit scores.

A drift hits every rater of a unit alike, so residuals within a unit cannot show it: it is estimated across
units, from each unit's score adjusted for the severity of the raters who scored it (:mod:`perflab.bias.additive`),
regressed on session (sum-to-zero coding), the order within each session (centred), and optionally the units'
kind and covariates, with t tests of each term and joint F tests.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from perflab.bias.additive import fit_additive
from perflab.bias.inputs import need_columns
from perflab.errors import DataError


@dataclass(frozen=True)
class DriftResult:
    """Session and presentation-order effects on the rater-adjusted unit scores.

    ``tests``: one row per term (each session's deviation from the mean of the
    sessions, the order slope within each session, and the joint F tests)
    with estimate, se, statistic, p_value and 95% interval (``ci95_low``, ``ci95_high``);
    ``units``: per unit its session, order, rater-adjusted score and the
    residual after the covariates (and its kind when the units table was given);
    ``composition``: per session the number of units of each kind presented
    in it (a session effect is a comparison of these units with the others);
    ``covariate_r2``: the share of the units' spread left after session and
    order that the covariates (and kind) explain (NaN without covariates).
    """

    tests: pd.DataFrame
    units: pd.DataFrame
    composition: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    covariate_r2: float = float("nan")

    def summary(self) -> pd.DataFrame:
        """The tests table.

        Returns
        -------
        DataFrame
            ``tests``: one row per term.
        """
        return self.tests


def adjusted_unit_scores(r: pd.DataFrame) -> pd.DataFrame:
    """Per unit: its score adjusted for the severity of its raters (mean of its cells), its session and order."""
    fit = fit_additive(r.assign(group="all"))
    per_unit = pd.Series(fit.cell, name="adjusted").groupby(fit.cell_unit).mean()
    units = pd.DataFrame({"unit": fit.units[per_unit.index].astype(str), "adjusted": per_unit.to_numpy()})
    slot = r.groupby("unit", observed=True)[["session", "order"]].agg(lambda s: s.mode().iat[0]).reset_index()
    slot["unit"] = slot["unit"].astype(str)
    return units.merge(slot, on="unit", how="left")


def session_composition(units: pd.DataFrame, unit_table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The units with their ``kind`` added, and per session the number of units of each kind and in all."""
    need_columns(unit_table, ["unit", "kind"], "session_drift units")
    kinds = unit_table.assign(unit=unit_table["unit"].astype(str)).set_index("unit")["kind"].astype(str)
    units = units.assign(kind=units["unit"].map(kinds))
    if units["kind"].isna().any():
        raise DataError(
            f"session_drift: unit {units.loc[units['kind'].isna(), 'unit'].iloc[0]!r} is not in the units table"
        )
    composition = pd.crosstab(units["session"], units["kind"]).rename_axis(columns=None)
    composition["units"] = composition.sum(axis=1)
    return units, composition.reset_index()


def design_matrix(units: pd.DataFrame, sessions: list, extra: list[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept, sessions (sum-to-zero: each against the mean of the sessions), the order centred within each
    session, and the ``extra`` columns centred; columns that are all zero are dropped (the intercept is kept)."""
    s_code = units["session"].map({s: k for k, s in enumerate(sessions)}).to_numpy()
    n = len(units)
    cols, names = [np.ones(n)], ["intercept"]
    for k in range(1, len(sessions)):
        cols.append((s_code == k).astype(float) - (s_code == 0))
        names.append(f"session_{sessions[k]}")
    order_c = units["order"].to_numpy(float)
    for k in range(len(sessions)):
        m = s_code == k
        cols.append(np.where(m, order_c - order_c[m].mean(), 0.0) if m.sum() > 1 else np.zeros(n))
        names.append(f"order_in_session_{sessions[k]}")
    for c in extra:
        cols.append(units[c].to_numpy(float) - units[c].mean())
        names.append(c)
    X = np.column_stack(cols)
    keep = np.abs(X).sum(axis=0) > 0
    keep[0] = True
    return X[:, keep], [nm for nm, k in zip(names, keep) if k]


@dataclass(frozen=True)
class _OLS:
    beta: np.ndarray
    resid: np.ndarray
    df: int
    sigma2: float
    XtX_inv: np.ndarray


def _ols(X: np.ndarray, y: np.ndarray) -> _OLS:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = len(y) - np.linalg.matrix_rank(X)
    if df < 1:
        raise DataError("session_drift: too few units for the terms (no residual degrees of freedom)")
    return _OLS(beta, resid, df, float(resid @ resid / df), np.linalg.pinv(X.T @ X))


def contrast(fit: _OLS, L: np.ndarray, term: str, kind: str) -> dict:
    """A t test (one row of ``L``: estimate, se and 95% interval) or a joint F test (several rows) of L·beta = 0."""
    L = np.atleast_2d(L)
    est = L @ fit.beta
    V = fit.sigma2 * L @ fit.XtX_inv @ L.T
    df = fit.df
    if L.shape[0] == 1:
        se = float(np.sqrt(V[0, 0]))
        t = float(est[0] / se) if se > 0 else np.nan
        half = float(stats.t.isf(0.025, df) * se)
        return {
            "term": term,
            "kind": kind,
            "estimate": float(est[0]),
            "se": se,
            "statistic": t,
            "df1": 1,
            "df2": df,
            "p_value": float(2 * stats.t.sf(abs(t), df)),
            "ci95_low": float(est[0]) - half,
            "ci95_high": float(est[0]) + half,
        }
    F = float(est @ np.linalg.pinv(V) @ est / L.shape[0])
    return {
        "term": term,
        "kind": kind,
        "estimate": np.nan,
        "se": np.nan,
        "statistic": F,
        "df1": L.shape[0],
        "df2": df,
        "p_value": float(stats.f.sf(F, L.shape[0], df)),
        "ci95_low": np.nan,
        "ci95_high": np.nan,
    }


def _picks(idx: list[int], p: int) -> np.ndarray:
    L = np.zeros((len(idx), p))
    for j, i in enumerate(idx):
        L[j, i] = 1.0
    return L


def drift_tests(fit: _OLS, names: list[str], sessions: list, kind_names, kind_base, cov_names) -> pd.DataFrame:
    """One row per term: each session against the mean of the sessions, the joint F of the sessions, the order
    slope in each session and their joint F, each kind against the first, each covariate."""
    p = len(names)
    s_idx = [i for i, nm in enumerate(names) if nm.startswith("session_")]
    rows = []
    for k, s in enumerate(sessions):
        L = np.zeros(p)
        if k == 0:
            L[s_idx] = -1.0
        else:
            L[names.index(f"session_{s}")] = 1.0
        rows.append(contrast(fit, L, f"session {s} vs mean of sessions", "session"))
    rows.append(contrast(fit, _picks(s_idx, p), "session (joint F)", "session"))
    o_idx = [i for i, nm in enumerate(names) if nm.startswith("order_in_session_")]
    for i in o_idx:
        rows.append(
            contrast(fit, _picks([i], p), f"order slope per slot in session {names[i].rsplit('_', 1)[1]}", "order")
        )
    if o_idx:
        rows.append(contrast(fit, _picks(o_idx, p), "order within sessions (joint F)", "order"))
    for c in kind_names:
        rows.append(
            contrast(fit, _picks([names.index(c)], p), f"kind {c.removeprefix('kind_')} vs {kind_base}", "kind")
        )
    for c in cov_names:
        rows.append(contrast(fit, _picks([names.index(c)], p), f"covariate {c}", "covariate"))
    return pd.DataFrame(rows)


def session_drift(
    ratings: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    adjust_for_kind: bool = True,
) -> DriftResult:
    """Effect of session and presentation order (fatigue or warm-up) on the scores, with F and t tests.

    Each unit's score adjusted for the severity of the raters who scored it
    is regressed on session (sum-to-zero coding) and the order within each
    session (centred), plus optional unit-level ``covariates`` (a table with a
    ``unit`` column, e.g. the routine score). How much of the units'
    differences the covariates explain is reported (``covariate_r2``), not
    assumed. With the ``units`` table (``unit``, ``kind``) the result shows
    which kinds presented in each session (``composition``) and, when
    ``adjust_for_kind`` and both kinds presented, a kind term compares each
    session with the others within kind. The test is sound when units are
    allocated to sessions without regard to their quality, or when the covariates capture it.

    What is identifiable: each unit presents in one session only and a drift
    common to all raters moves every score of those units, so no within-rater
    or within-unit comparison can separate it from the quality of the units
    presented then. The session contrast is therefore an across-unit
    comparison whose error is the units' own spread of quality (about 5
    points in the demo, ~20 units a session: se ≈ 1 point). The demo's
    evening fatigue (session 2 at −5, about −3.3 against the mean of the
    sessions) is found at p < 0.01; a drift of half that size has the right
    sign but a p-value around 0.05–0.15. Read the estimate and its interval, not only the p-value.

    Parameters
    ----------
    ratings : DataFrame
        ``rater``, ``unit``, ``indicator``, ``score``, ``session``, ``order``.
    covariates : DataFrame, optional
        ``unit`` and numeric unit-level covariates.
    units : DataFrame, optional
        ``unit`` and ``kind``: the composition of the sessions and a kind term.
    adjust_for_kind : bool
        Add the kind term when more than one kind presented.

    Returns
    -------
    DriftResult
        ``tests`` (``term``, ``kind``, ``estimate``, ``se``, ``statistic``, ``df1``, ``df2``, ``p_value``,
        ``ci95_low``, ``ci95_high``), ``units``, ``composition``, ``covariate_r2``.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, _ = small_panel()
    >>> unit_no = ratings["unit"].str[1:].astype(int)
    >>> ratings = ratings.assign(session=1 + unit_no % 2, order=1 + unit_no // 2)
    >>> drift = session_drift(ratings)
    >>> drift.tests[["term", "df1", "df2"]].head(3).values.tolist()
    [['session 1 vs mean of sessions', 1, 4], ['session 2 vs mean of sessions', 1, 4], ['session (joint F)', 1, 4]]
    """
    need_columns(ratings, ["rater", "unit", "indicator", "score", "session", "order"], "session_drift")
    r = ratings.dropna(subset=["score", "session", "order"])
    if r.empty:
        raise DataError("session_drift: no rating has a score, a session and an order")
    scores = adjusted_unit_scores(r)
    sessions = sorted(scores["session"].unique())
    if len(sessions) < 2:
        raise DataError(
            f"session_drift: all scored units were presented in one session ({sessions[0]}); nothing to compare"
        )
    composition, kind_names, kind_base = pd.DataFrame(), [], None
    if units is not None:
        scores, composition = session_composition(scores, units)
        kind_levels = sorted(scores["kind"].unique())
        kind_base = kind_levels[0]
        if adjust_for_kind and len(kind_levels) > 1:
            kind_names = [f"kind_{k}" for k in kind_levels[1:]]
            scores = scores.assign(**{f"kind_{k}": (scores["kind"] == k).astype(float) for k in kind_levels[1:]})
    cov_names: list[str] = []
    if covariates is not None:
        need_columns(covariates, ["unit"], "session_drift covariates")
        cov = covariates.assign(unit=covariates["unit"].astype(str)).set_index("unit")
        cov_names = [c for c in cov.columns if pd.api.types.is_numeric_dtype(cov[c])]
        scores = scores.merge(cov[cov_names].reset_index(), on="unit", how="left").dropna(subset=cov_names)
    X, names = design_matrix(scores, sessions, kind_names + cov_names)
    y = scores["adjusted"].to_numpy(float)
    fit = _ols(X, y)
    extra = [i for i, nm in enumerate(names) if nm in kind_names or nm in cov_names]
    covariate_r2 = _covariate_r2(X, y, fit.resid, extra)
    drifted = [i for i, nm in enumerate(names) if nm.startswith(("session_", "order_in_session_"))]
    scores = scores.assign(
        adjusted_for_covariates=fit.resid + X[:, drifted] @ fit.beta[drifted] if drifted else fit.resid
    )
    return DriftResult(
        tests=drift_tests(fit, names, sessions, kind_names, kind_base, cov_names),
        units=scores.drop(columns=kind_names).sort_values(["session", "order"]).reset_index(drop=True),
        composition=composition,
        covariate_r2=covariate_r2,
    )


def _covariate_r2(X, y, resid, extra: list[int]) -> float:
    """Share of the residual sum of squares without the ``extra`` columns that they explain (NaN without any)."""
    if not extra:
        return np.nan
    Xr = np.delete(X, extra, axis=1)
    br, *_ = np.linalg.lstsq(Xr, y, rcond=None)
    ssr_r = float(np.sum((y - Xr @ br) ** 2))
    return 1.0 - float(resid @ resid) / ssr_r if ssr_r > 0 else np.nan
