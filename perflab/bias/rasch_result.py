"""What a many-facet Rasch fit gives back, and how scores become its ordered categories.

:class:`MFRMResult` holds the tables of :func:`perflab.bias.rasch.mfrm`; :func:`category_codes` turns scores
into categories 0..K-1; :func:`separation_table` tells how well each facet's elements are told apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.errors import DataError


@dataclass(frozen=True)
class MFRMResult:
    """A fitted rating-scale many-facet Rasch model.

    ``units``, ``raters``, ``items``: one row per element (index = element id)
    with ``measure`` (logits; for raters positive = more severe, for items
    positive = harder), ``se`` (the model's standard error, as FACETS's
    "model S.E."), ``se_robust`` (cluster-robust: the residuals of one rater's
    ratings of one unit summed before squaring, a sandwich estimator that
    allows any dependence within rater × unit) and ``design_effect``
    (``se_robust² / se²``), ``infit``, ``outfit`` (mean squares),
    ``observed`` and ``expected`` score totals (category scale, 0 = lowest; for
    a non-extreme element over the ratings that do not involve an extreme element),
    ``count``, ``mean_score`` (mean observed score on the category scores'
    scale: the original whole-number scores, or with a ``scheme`` the bands'
    scores such as 55–95, not the raw 0–100 scores) and ``extreme``; ``units``
    also has ``fair_average``.
    ``thresholds``: Andrich thresholds per category. ``separation``: per facet
    the RMSE, true SD, separation and reliability from the cluster-robust
    standard errors, the same from the model's (``*_model``) and the facet's
    design effect. ``fair_average``: per unit,
    the expected score (original scale) from a rater of average severity,
    averaged over the items.
    """

    units: pd.DataFrame
    raters: pd.DataFrame
    items: pd.DataFrame
    thresholds: pd.DataFrame
    separation: pd.DataFrame
    fair_average: pd.Series
    categories: tuple
    category_scores: np.ndarray
    iterations: int
    converged: bool
    max_residual: float
    residuals: pd.DataFrame = dataclasses.field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Per facet: number of elements, mean and SD of measures, mean infit/outfit, separation and reliability.

        Returns
        -------
        DataFrame
            One row per facet (``units``, ``raters``, ``items``) with the columns of ``separation`` too.

        Examples
        --------
        >>> from perflab.bias import mfrm
        >>> from perflab.bias.inputs import small_panel
        >>> fit = mfrm(small_panel()[0], categories=list("EDCBA"))
        >>> fit.summary()[["facet", "elements"]].values.tolist()
        [['units', 8], ['raters', 8], ['items', 3]]
        """
        rows = []
        for name, tab in (("units", self.units), ("raters", self.raters), ("items", self.items)):
            rows.append(
                {
                    "facet": name,
                    "elements": len(tab),
                    "mean_measure": tab["measure"].mean(),
                    "sd_measure": tab["measure"].std(ddof=0),
                    "mean_infit": tab["infit"].mean(),
                    "mean_outfit": tab["outfit"].mean(),
                }
            )
        return pd.DataFrame(rows).merge(self.separation, on="facet")

    def pair_correlation(self) -> float:
        """Intraclass correlation of the standardised residuals within rater × unit (one-way ANOVA estimator).

        The dependence the cluster-robust standard errors allow for: with m
        ratings per rater × unit the design effect is about 1 + (m − 1) × this.

        Returns
        -------
        float
            NaN when no rater × unit pair has more than one rating.

        Examples
        --------
        >>> from perflab.bias import mfrm
        >>> from perflab.bias.inputs import small_panel
        >>> -1 < mfrm(small_panel()[0], categories=list("EDCBA")).pair_correlation() < 1
        True
        """
        res = self.residuals
        cols = [c for c in res.columns if c not in ("category", "expected", "variance", "residual", "z")]
        unit_col, rater_col = cols[0], cols[1]
        pair, _ = pd.factorize(pd.MultiIndex.from_arrays([res[unit_col], res[rater_col]]))
        z = res["z"].to_numpy(float)
        n = np.bincount(pair).astype(float)
        keep = n[pair] > 1
        pair, z = pair[keep], z[keep]
        if len(z) == 0:
            return float("nan")
        _, pair = np.unique(pair, return_inverse=True)
        n = np.bincount(pair).astype(float)
        means = np.bincount(pair, z) / n
        g, N = len(n), len(z)
        msb = float(np.sum(n * (means - z.mean()) ** 2) / (g - 1)) if g > 1 else np.nan
        msw = float(np.sum((z - means[pair]) ** 2) / (N - g))
        n0 = (N - np.sum(n**2) / N) / (g - 1) if g > 1 else np.nan
        return float((msb - msw) / (msb + (n0 - 1) * msw))


def category_codes(values: pd.Series, categories=None, scheme=None):
    """Category codes 0..K-1 (worst to best) of the scores, the category labels and their scores on the original scale.

    ``categories`` (worst first) if given; else with a ``scheme`` 0–100 scores binned to its grade bands (or
    grades read as they are); else whole-number scores are the categories.

    Examples
    --------
    >>> codes, cats, scores = category_codes(pd.Series([3, 1, 3, 2]))
    >>> codes.tolist(), cats
    ([2, 0, 2, 1], [1, 2, 3])
    """
    if categories is not None:
        cats = list(categories)
        codes = pd.Categorical(values, categories=cats, ordered=True).codes.astype(np.int64)
        if (codes < 0).any():
            bad = values[codes < 0].iloc[0]
            raise DataError(f"mfrm: score {bad!r} is not one of the categories {cats}")
        numeric = pd.to_numeric(pd.Series(cats), errors="coerce")
        cat_scores = numeric.to_numpy(float) if numeric.notna().all() else np.arange(len(cats), dtype=float)
        if scheme is not None and not numeric.notna().all():
            table = {b.grade: b.score for b in scheme.bands}
            if all(c in table for c in cats):
                cat_scores = np.array([table[c] for c in cats], dtype=float)
        return codes, cats, cat_scores
    if scheme is not None:
        return _scheme_codes(values, scheme)
    num = pd.to_numeric(values, errors="coerce")
    if num.isna().any() or (num != np.round(num)).any():
        raise DataError(
            "mfrm: scores must be whole-number categories (or pass the scheme to bin 0-100 scores to its grade bands, "
            f"or categories=[...]); got {values[num.isna() | (num != np.round(num))].iloc[0]!r}"
        )
    cats = sorted(int(v) for v in num.unique())
    codes = np.searchsorted(np.array(cats), num.to_numpy()).astype(np.int64)
    return codes, cats, np.array(cats, dtype=float)


def _scheme_codes(values: pd.Series, scheme):
    grades_best_first = scheme.grades
    cats = grades_best_first[::-1]
    cat_scores = np.array([scheme.band(g).score for g in cats], dtype=float)
    if pd.api.types.is_numeric_dtype(values):
        grades = scheme.grade_of(values.to_numpy(float))
    else:
        grades = values.astype(object).to_numpy()
    codes = pd.Categorical(grades, categories=cats, ordered=True).codes.astype(np.int64)
    if (codes < 0).any():
        raise DataError(f"mfrm: grade {grades[codes < 0][0]!r} is not one of the scheme's grades {grades_best_first}")
    return codes, cats, cat_scores


def separation_numbers(measures: np.ndarray, se: np.ndarray) -> tuple[float, float, float, float]:
    """RMSE of the standard errors, true SD, separation (true SD / RMSE) and reliability (true / observed variance).

    Examples
    --------
    >>> [round(v, 3) for v in separation_numbers(np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5]))]
    [0.5, 0.645, 1.291, 0.625]
    """
    obs_var = measures.var(ddof=0)
    rmse = float(np.sqrt(np.mean(se**2)))
    true_var = max(obs_var - rmse**2, 0.0)
    sep = float(np.sqrt(true_var) / rmse) if rmse > 0 else np.nan
    rel = float(true_var / obs_var) if obs_var > 0 else np.nan
    return rmse, float(np.sqrt(true_var)), sep, rel


def facet_separation(name: str, t: pd.DataFrame) -> dict:
    """Separation and reliability of a facet (non-extreme elements): true SD over RMSE of the measures.

    ``rmse``, ``true_sd``, ``separation`` and ``reliability`` use the
    cluster-robust standard errors (``se_robust``: rater × unit clusters);
    the ``*_model`` columns use the model's (FACETS's "model S.E."), which
    treat one rater's ratings of one unit as independent and so overstate
    separation and reliability when they share an impression of the unit.
    """
    ok = ~t["extreme"].to_numpy()
    m = t["measure"].to_numpy()[ok]
    keys = ("rmse", "true_sd", "separation", "reliability", "rmse_model", "separation_model", "reliability_model")
    if len(m) < 2:
        return {"facet": name, **dict.fromkeys(keys, np.nan), "design_effect": np.nan}
    rmse, true_sd, sep, rel = separation_numbers(m, t["se_robust"].to_numpy()[ok])
    rmse_m, _, sep_m, rel_m = separation_numbers(m, t["se"].to_numpy()[ok])
    return {
        "facet": name,
        **dict(zip(keys, (rmse, true_sd, sep, rel, rmse_m, sep_m, rel_m))),
        "design_effect": float(rmse**2 / rmse_m**2) if rmse_m > 0 else np.nan,
    }


def separation_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row of :func:`facet_separation` per facet (``tables``: facet name → element table)."""
    return pd.DataFrame([facet_separation(name, t) for name, t in tables.items()])
