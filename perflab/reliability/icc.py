"""How much of the spread of scores is the units' own? The Shrout–Fleiss intraclass correlations, pooled and by group.

Balanced data give the classical two-way ANOVA (identical to
``pingouin.intraclass_corr``); unbalanced or sparse data (not every rater
scores every target) use Henderson's Method III (fitting constants) for the
two-way random model on the cells present, and the unbalanced one-way ANOVA
(``n0``) for ICC1, so no target is dropped. Every coefficient names its ``k``,
the number of raters it is the reliability of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from perflab.errors import DataError
from perflab.reliability._checks import _need_columns

_ICC_DESCRIPTION = {
    "ICC1": "Single rater, one-way random (raters interchangeable)",
    "ICC2": "Single rater, two-way random, absolute agreement",
    "ICC3": "Single rater, two-way mixed, consistency",
    "ICC1k": "Mean of k raters, one-way random",
    "ICC2k": "Mean of k raters, two-way random, absolute agreement",
    "ICC3k": "Mean of k raters, two-way mixed, consistency",
}

#: our column -> pingouin's (``pingouin.intraclass_corr``); the other columns have the same names.
#: pingouin gives the interval as one column ``CI95`` of [low, high] pairs, rounded to 2 decimals.
PINGOUIN_NAMES = {"p_value": "pval", "ci95_low": "CI95", "ci95_high": "CI95"}
_ALPHA = 0.05  # the intervals are 95% intervals: the ci95_* columns


@dataclass(frozen=True, eq=False)
class ICC:
    """The six intraclass correlations of one set of ratings (``table``) and the design and components behind them.

    ``table``: one row per form — Type, Description, ICC, k, F, df1, df2,
    p_value, ci95_low, ci95_high. ``method``: ``anova`` (balanced) or
    ``henderson3``. ``k``: effective raters per target of the two-way forms,
    ``n0`` that of the one-way forms. The variance components (target, rater,
    residual) are those of the two-way random model.
    """

    table: pd.DataFrame
    method: str
    n_targets: int
    n_raters: int
    n_cells: int
    k: float
    n0: float
    var_target: float
    var_rater: float
    var_residual: float
    targets_without_ratings: tuple = ()

    def summary(self) -> pd.DataFrame:
        """The design and variance components in one row (the coefficients are in ``table``)."""
        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "n_targets": self.n_targets,
                    "n_raters": self.n_raters,
                    "n_cells": self.n_cells,
                    "k": self.k,
                    "n0": self.n0,
                    "var_target": self.var_target,
                    "var_rater": self.var_rater,
                    "var_residual": self.var_residual,
                }
            ]
        )


def _cells(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """Validated target × rater cells, several ratings of a target by a rater averaged."""
    d = data[[targets, raters, ratings]].dropna(subset=[targets, raters, ratings])
    num = pd.to_numeric(d[ratings], errors="coerce")
    if num.isna().any():
        raise DataError(f"icc: rating {d[ratings][num.isna()].iloc[0]!r} in column {ratings!r} is not a number")
    d = d.assign(**{ratings: num.astype(float)})
    return d.groupby([targets, raters], observed=True, sort=True)[ratings].mean().reset_index()


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> ICC:
    """The six Shrout–Fleiss intraclass correlations with F test, p-value and 95% interval.

    Several ratings of one target by one rater (e.g. one per indicator) are
    averaged first. Balanced data: the classical two-way ANOVA (as
    ``pingouin.intraclass_corr``, with the columns renamed as
    :data:`PINGOUIN_NAMES`). Unbalanced data: variance components by
    Henderson's Method III on the cells present (targets after raters and
    raters after targets), plugged into the same formulas with the effective
    number of raters per target ``k`` (``n0`` for the one-way forms); F tests
    are the exact fitting-constants tests, intervals the balanced-case
    formulas with these effective sizes (approximate). A zero residual (exact
    agreement or an exact additive fit) gives F = inf, p = 0 and an interval
    collapsed on the estimate where it is undefined.

    Column ``k`` names the number of raters each coefficient is the
    reliability of: 1 for the single-rater forms, the (effective) number of
    raters per target for the averaged forms (``n0`` for ICC1k). A reliability
    without its k says nothing: ICC(k) of 148 raters near 1 is compatible with
    a single rater's ICC of 0.5.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per rating.
    targets, raters, ratings : str
        Columns of the rated targets (units), the raters and the numeric ratings.

    Returns
    -------
    ICC
        ``.table`` one row per form (Type, Description, ICC, k, F, df1, df2,
        p_value, ci95_low, ci95_high); the design and variance components as
        attributes.

    Examples
    --------
    >>> d = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                   "score": [7.0, 8, 5, 5, 9, 8, 3, 4]})
    >>> res = icc(d, "unit", "rater", "score")
    >>> res.table[["Type", "ICC", "k"]].round(3)
        Type    ICC    k
    0   ICC1  0.931  1.0
    1   ICC2  0.930  1.0
    2   ICC3  0.916  1.0
    3  ICC1k  0.964  2.0
    4  ICC2k  0.964  2.0
    5  ICC3k  0.956  2.0
    >>> res.method, res.n_targets
    ('anova', 4)
    """
    _need_columns(data, [targets, raters, ratings], "icc")
    cells = _cells(data, targets, raters, ratings)
    t_codes, t_levels = pd.factorize(cells[targets], sort=True)
    r_codes, r_levels = pd.factorize(cells[raters], sort=True)
    n, k_all, N = len(t_levels), len(r_levels), len(cells)
    unrated = sorted(set(map(str, pd.unique(data[targets].dropna()))) - set(map(str, t_levels)))
    _check_design(t_codes, n, r_levels)
    s = _mean_squares(cells[ratings].to_numpy(float), t_codes, r_codes, n, k_all)
    table = _coefficients(s, n)
    return ICC(
        table=table,
        method="anova" if N == n * k_all else "henderson3",
        n_targets=n,
        n_raters=k_all,
        n_cells=N,
        k=float(s["k"]),
        n0=float(s["n0"]),
        var_target=float(s["var_t"]),
        var_rater=float(s["var_r"]),
        var_residual=float(s["mse"]),
        targets_without_ratings=tuple(unrated),
    )


def _check_design(t_codes, n: int, r_levels) -> None:
    if n < 2:
        raise DataError(f"icc needs at least 2 targets with ratings, got {n}")
    if len(r_levels) < 2:
        raise DataError(f"icc needs at least 2 raters, got {len(r_levels)} ({', '.join(map(str, r_levels))})")
    if np.bincount(t_codes, minlength=n).max() < 2:
        raise DataError("icc needs at least one target scored by 2 or more raters")


def _mean_squares(y, t_codes, r_codes, n, k_all) -> dict:
    """One-way and two-way (fitting constants) mean squares, degrees of freedom and variance components."""
    N = len(y)
    per_target = np.bincount(t_codes, minlength=n)
    grand = y.mean()
    # one-way ANOVA (targets), unbalanced allowed
    t_mean = np.bincount(t_codes, y, n) / per_target
    ssb = float((per_target * (t_mean - grand) ** 2).sum())
    ssw = float(((y - t_mean[t_codes]) ** 2).sum())
    df_b, df_w = n - 1, N - n
    msb1, msw = ssb / df_b, ssw / df_w
    n0 = (N - (per_target**2).sum() / N) / (n - 1)

    # two-way additive model: targets + raters (fitting constants)
    r_count = np.bincount(r_codes, minlength=k_all)
    r_mean = np.bincount(r_codes, y, k_all) / r_count
    ss_t = float((per_target * t_mean**2).sum())  # R(mu, t)
    ss_r = float((r_count * r_mean**2).sum())  # R(mu, r)
    fitted, rank = _two_way_fit(y, t_codes, r_codes, n, k_all)
    ss_full = float((fitted * y).sum())  # R(mu, t, r) = y' P y
    sse = float((y**2).sum() - ss_full)
    sst = float(((y - grand) ** 2).sum())
    if sst == 0:
        raise DataError(f"icc: every rating is {float(y[0])}; with no variation the ICC is undefined")
    if sse <= 1e-12 * sst:  # an exact additive fit (rounding error aside): zero residual
        sse = 0.0
    if ssw <= 1e-12 * sst:
        ssw = 0.0
        msw = np.float64(0.0)
    df_e = N - rank
    if df_e < 1:
        raise DataError("icc: no residual degrees of freedom (every target scored by one rater only?)")
    mse = np.float64(sse / df_e)
    n_blocks = n + k_all - rank
    df_t = n - n_blocks
    R_t = ss_full - ss_r  # targets after raters
    R_r = ss_full - ss_t  # raters after targets
    # coefficients of the variance components in E[R(.)] (Henderson III); 0/1 cells after averaging
    var_t = (R_t - df_t * mse) / (N - k_all)
    var_r = (R_r - (k_all - n_blocks) * mse) / (N - n)
    k = (N - k_all) / df_t  # effective raters per target (= k when balanced)
    return {
        "msb1": msb1,
        "msw": msw,
        "df_b": df_b,
        "df_w": df_w,
        "n0": n0,
        "mse": mse,
        "df_t": df_t,
        "df_e": df_e,
        "k": k,
        "var_t": var_t,
        "var_r": var_r,
        "msb": mse + k * var_t,  # = R_t / df_t
        "msj_n": mse + n * var_r,  # pingouin's formulas take msj with the n of targets: var_r on that scale
    }


def _coefficients(s: dict, n: int) -> pd.DataFrame:
    """The six forms, their F tests and intervals from the mean squares."""
    msb1, msw, n0, df_b, df_w = s["msb1"], s["msw"], s["n0"], s["df_b"], s["df_w"]
    msb, mse, msj_n, k, df_t, df_e = s["msb"], s["mse"], s["msj_n"], s["k"], s["df_t"], s["df_e"]
    icc1 = (msb1 - msw) / (msb1 + (n0 - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj_n - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb1 - msw) / msb1
    icc2k = (msb - mse) / (msb + (msj_n - mse) / n)
    icc3k = (msb - mse) / msb

    # a zero residual (perfect agreement or an exact additive fit) is a stated result: F = inf, p = 0
    # and the interval collapses on the estimate
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.float64(msb1) / np.float64(msw)
        p1 = stats.f.sf(f1, df_b, df_w)
        f2 = np.float64(msb) / np.float64(mse)
        p2 = stats.f.sf(f2, df_t, df_e)

        q = 1 - _ALPHA / 2
        f1l = f1 / stats.f.ppf(q, df_b, df_w)
        f1u = f1 * stats.f.ppf(q, df_w, df_b)
        l1, u1 = (f1l - 1) / (f1l + (n0 - 1)), (f1u - 1) / (f1u + (n0 - 1))
        f3l = f2 / stats.f.ppf(q, df_t, df_e)
        f3u = f2 * stats.f.ppf(q, df_e, df_t)
        l3, u3 = (f3l - 1) / (f3l + (k - 1)), (f3u - 1) / (f3u + (k - 1))
        # ICC2: Satterthwaite df (McGraw & Wong 1996), with msj on the n-target scale
        fjn = msj_n / mse
        vn = df_e * (k * icc2 * fjn + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df_t * k**2 * icc2**2 * fjn**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = stats.f.ppf(q, n - 1, v)
        f2l = stats.f.ppf(q, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj_n + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj_n + (k * n - k - n) * mse + n * f2l * msb)

    values = np.array([icc1, icc2, icc3, icc1k, icc2k, icc3k], dtype=float)
    lows = np.array([l1, l2, l3, 1 - 1 / f1l, l2 * k / (1 + l2 * (k - 1)), 1 - 1 / f3l], dtype=float)
    highs = np.array([u1, u2, u3, 1 - 1 / f1u, u2 * k / (1 + u2 * (k - 1)), 1 - 1 / f3u], dtype=float)
    exact = np.array([msw, mse, mse, msw, mse, mse]) == 0
    lows = np.where(exact & ~np.isfinite(lows), values, lows)
    highs = np.where(exact & ~np.isfinite(highs), values, highs)
    return pd.DataFrame(
        {
            "Type": list(_ICC_DESCRIPTION),
            "Description": list(_ICC_DESCRIPTION.values()),
            "ICC": values,
            "k": [1.0, 1.0, 1.0, float(n0), float(k), float(k)],
            "F": [f1, f2, f2, f1, f2, f2],
            "df1": [df_b, df_t, df_t, df_b, df_t, df_t],
            "df2": [df_w, df_e, df_e, df_w, df_e, df_e],
            "p_value": [p1, p2, p2, p1, p2, p2],
            "ci95_low": lows,
            "ci95_high": highs,
        }
    )


def _two_way_fit(y, t, r, n_t, n_r):
    """Least-squares fit of y ~ target + rater on the cells present: fitted values and rank of the design."""
    N = len(y)
    Zt = sparse.csr_matrix((np.ones(N), (np.arange(N), t)), shape=(N, n_t))
    Zr = sparse.csr_matrix((np.ones(N), (np.arange(N), r)), shape=(N, n_r))
    nt = np.asarray(Zt.sum(axis=0)).ravel()
    Ntr = (Zt.T @ Zr).toarray()  # incidence counts
    # absorb targets: (D_r - N' D_t^-1 N) b = Zr'y - N' D_t^-1 Zt'y
    ty = Zt.T @ y
    C = np.diag(np.asarray(Zr.sum(axis=0)).ravel()) - Ntr.T @ (Ntr / nt[:, None])
    rhs = Zr.T @ y - Ntr.T @ (ty / nt)
    b = np.linalg.lstsq(C, rhs, rcond=None)[0]
    a = (ty - Ntr @ b) / nt
    graph = sparse.bmat([[None, sparse.csr_matrix(Ntr)], [sparse.csr_matrix(Ntr.T), None]])
    n_comp = connected_components(graph, directed=False)[0]
    return a[t] + b[r], n_t + n_r - n_comp


@dataclass(frozen=True, eq=False)
class ICCByGroup:
    """:func:`icc` pooled and for each ranking group: ``table`` stacks the coefficient tables (column
    ``rank_group`` first), ``levels`` holds each level's :class:`ICC` (design, variance components) by its name."""

    table: pd.DataFrame
    levels: dict

    def summary(self) -> pd.DataFrame:
        """Per level: design and variance components (one row each)."""
        cols = ["method", "n_targets", "n_raters", "n_cells", "k", "n0", "var_target", "var_rater", "var_residual"]
        rows = [res.summary().assign(rank_group=name) for name, res in self.levels.items()]
        return pd.concat(rows, ignore_index=True)[["rank_group", *cols]]


def icc_by(
    data: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    rank_group: str,
    overall: str = "all",
) -> ICCByGroup:
    """:func:`icc` pooled over all targets (level ``overall``) and then within each ranking group.

    Units of different kinds are ranked separately, so the reliability that
    matters for a ranking is the one within its ranking group: a pooled ICC
    counts the differences between kinds as true variance.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per rating, with the column ``rank_group``.
    targets, raters, ratings : str
        As in :func:`icc`.
    rank_group : str
        Column of the group each target is ranked within (e.g. ``kind``); each target in one group.
    overall : str
        Name of the pooled level.

    Returns
    -------
    ICCByGroup
        ``.table``: one row per level and ICC form, the column ``rank_group``
        first (then as :func:`icc`); ``.levels``: each level's :class:`ICC`.

    Examples
    --------
    >>> d = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], "rater": ["a", "b"] * 6,
    ...                   "kind": ["district"] * 6 + ["department"] * 6,
    ...                   "score": [7.0, 8, 5, 5, 9, 8, 3, 4, 6, 6, 2, 3]})
    >>> res = icc_by(d, "unit", "rater", "score", rank_group="kind")
    >>> res.table.query("Type == 'ICC1'")[["rank_group", "ICC", "k"]].round(3)
        rank_group    ICC    k
    0          all  0.939  1.0
    6   department  0.902  1.0
    12    district  0.902  1.0
    >>> res.levels["district"].n_targets
    3
    """
    by = rank_group
    _need_columns(data, [targets, raters, ratings, by], "icc_by")
    if data[by].isna().any():
        raise DataError(f"icc_by: target {data.loc[data[by].isna(), targets].iloc[0]!r} has no {by}")
    spread = data.groupby(targets, sort=False)[by].nunique()
    if (spread > 1).any():
        raise DataError(f"icc_by: target {spread.index[np.argmax(spread.to_numpy() > 1)]!r} has more than one {by}")
    parts, results = [], {}
    levels = [(overall, data)] + [(str(k), sub) for k, sub in data.groupby(by, sort=True, observed=True)]
    for level, sub in levels:
        res = icc(sub, targets, raters, ratings)
        results[level] = res
        parts.append(res.table.assign(rank_group=level)[["rank_group", *res.table.columns]])
    return ICCByGroup(table=pd.concat(parts, ignore_index=True), levels=results)
