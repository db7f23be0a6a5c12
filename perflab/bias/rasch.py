"""Severity on one scale: a rating-scale many-facet Rasch model (units × raters × indicators).

Joint maximum likelihood by vectorised Newton updates over the observation arrays (``np.bincount``), no
loop per rating. Severity is *subtracted*: a higher rater measure means a more severe rater. Standard
errors: the model's and a cluster-robust (sandwich) one that allows dependence among one rater's ratings
of one unit; separation and reliability use the cluster-robust ones.

:func:`mfrm` is a short sequence of named steps: :func:`rating_design` (categories and element codes),
:func:`extreme_elements` and :func:`fit_targets` (FACETS's treatment of extreme totals),
:func:`start_values`, :func:`jmle_iteration` (repeated until the totals match), then
:func:`element_table` (measures, standard errors and fit per element), :func:`fair_averages`,
:func:`threshold_table`, :func:`separation_table` and :func:`residual_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from perflab.bias.inputs import need_columns
from perflab.bias.rasch_result import MFRMResult, category_codes, separation_table
from perflab.errors import DataError

EXTREME_ADJUST = 0.3  # score points moved off an extreme (all-minimum or all-maximum) total, as FACETS does
FACETS = ("units", "raters", "items")


def category_probabilities(eta: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Rating-scale category probabilities, one row per observation: P_k ∝ exp(k·eta − psi_k).

    ``psi`` are the cumulative thresholds (``psi_0 = 0``).

    Examples
    --------
    >>> category_probabilities(np.array([0.0, 2.0]), np.array([0.0, 0.0])).round(3)
    array([[0.5  , 0.5  ],
           [0.119, 0.881]])
    """
    K = len(psi)
    L = np.multiply.outer(eta, np.arange(K, dtype=float))
    L -= psi
    L -= L.max(axis=1, keepdims=True)
    np.exp(L, out=L)
    L /= L.sum(axis=1, keepdims=True)
    return L


def cumulative_thresholds(tau: np.ndarray) -> np.ndarray:
    """psi_k = tau_1 + … + tau_k, with psi_0 = 0."""
    return np.concatenate([[0.0], np.cumsum(tau)])


@dataclass(frozen=True)
class RatingDesign:
    """The ratings as the model sees them: category codes 0..K-1 and, per facet, each rating's element code."""

    x: np.ndarray  # category code per rating
    idx: tuple[np.ndarray, np.ndarray, np.ndarray]  # unit, rater, item code per rating
    levels: tuple[pd.Index, pd.Index, pd.Index]
    names: tuple[str, str, str]  # the unit, rater and item columns
    categories: list
    category_scores: np.ndarray
    index: pd.Index  # the ratings' index in the data

    @property
    def n(self) -> tuple[int, int, int]:
        return tuple(len(lv) for lv in self.levels)

    @property
    def K(self) -> int:
        return len(self.categories)

    def counts(self, f: int, weights=None) -> np.ndarray:
        """Per element of facet ``f``: the number of ratings, or the sum of ``weights`` over them."""
        return np.bincount(self.idx[f], weights=weights, minlength=self.n[f])


def rating_design(data, unit, rater, item, score, scheme=None, categories=None) -> RatingDesign:
    """Score categories (unused ones dropped) and element codes of the scored ratings; a DataError if the
    raters and units fall apart into disconnected subsets or every score is in one category."""
    need_columns(data, [unit, rater, item, score], "mfrm")
    d = data[[unit, rater, item, score]].dropna()
    if len(d) == 0:
        raise DataError("mfrm: no ratings with a score")
    x_all, cats, cat_scores = category_codes(d[score], categories, scheme)
    used = np.bincount(x_all, minlength=len(cats)) > 0
    if used.sum() < 2:
        raise DataError(f"mfrm: all scores fall in one category ({cats[int(np.argmax(used))]!r}); nothing to measure")
    x = (np.cumsum(used) - 1)[x_all]
    codes = [pd.factorize(d[c], sort=True) for c in (unit, rater, item)]
    design = RatingDesign(
        x=x,
        idx=tuple(c[0] for c in codes),
        levels=tuple(c[1] for c in codes),
        names=(unit, rater, item),
        categories=[c for c, u in zip(cats, used) if u],
        category_scores=cat_scores[used],
        index=d.index,
    )
    check_connected(design)
    return design


def check_connected(design: RatingDesign) -> None:
    """A DataError naming a few members when the raters and units form more than one connected subset."""
    (u_idx, r_idx, _), (u_lv, r_lv, _) = design.idx, design.levels
    nU, nR = len(u_lv), len(r_lv)
    g = sparse.coo_matrix((np.ones(len(u_idx)), (u_idx, r_idx)), shape=(nU, nR)).tocsr()
    n, lab = connected_components(sparse.bmat([[None, g], [g.T, None]]), directed=False)
    if n > 1:
        small = int(np.argmin(np.bincount(lab)))
        members = [str(v) for v in np.concatenate([u_lv[lab[:nU] == small], r_lv[lab[nU:] == small]])][:5]
        raise DataError(
            f"mfrm: the raters and units form {n} disconnected subsets (e.g. {', '.join(members)}); "
            "measures are not comparable across them"
        )


def extreme_elements(design: RatingDesign) -> tuple[list[np.ndarray], np.ndarray]:
    """Per facet, which elements have an extreme total (all lowest or all highest category), and which ratings
    stay active (involve no extreme element).

    Extreme elements cannot be placed by the others' ratings: like FACETS they are left out of the
    estimation of the other elements (repeated until no new extreme appears) and measured afterwards from
    their total moved by EXTREME_ADJUST.
    """
    xf, K = design.x.astype(float), design.K
    extremes = [np.zeros(n, dtype=bool) for n in design.n]
    active = np.ones(len(xf), dtype=bool)
    while True:
        changed = False
        for f in range(3):
            a_cnt = design.counts(f, active.astype(float))
            a_obs = design.counts(f, xf * active)
            new = extremes[f] | (a_cnt == 0) | (a_obs <= 0) | (a_obs >= (K - 1) * a_cnt)
            if (new != extremes[f]).any():
                extremes[f] = new
                changed = True
        active = ~(extremes[0][design.idx[0]] | extremes[1][design.idx[1]] | extremes[2][design.idx[2]])
        if not changed:
            break
    if not active.any():
        raise DataError(
            "mfrm: every unit, rater or indicator has an extreme score (all lowest or all highest); nothing to estimate"
        )
    return extremes, active


@dataclass(frozen=True)
class FitTargets:
    """Per facet: each rating's weight in the element's total, the total each element is fitted to, and the
    observed total (an extreme element's target is its total moved by EXTREME_ADJUST)."""

    weights: list[np.ndarray]
    targets: list[np.ndarray]
    observed: list[np.ndarray]
    extremes: list[np.ndarray]
    active: np.ndarray


def fit_targets(design: RatingDesign, extremes: list[np.ndarray], active: np.ndarray) -> FitTargets:
    """The totals the estimation matches: a non-extreme element's over its active ratings, an extreme one's over
    all its ratings, moved off the extreme by EXTREME_ADJUST."""
    xf, K = design.x.astype(float), design.K
    weights, targets, observed = [], [], []
    for f in range(3):
        w = np.where(extremes[f][design.idx[f]], 1.0, active.astype(float))
        obs = design.counts(f, xf * w)
        t = obs.copy()
        full, cnt = design.counts(f, xf), design.counts(f).astype(float)
        t[extremes[f] & (full <= 0)] += EXTREME_ADJUST
        t[extremes[f] & (full >= (K - 1) * cnt)] -= EXTREME_ADJUST
        weights.append(w)
        targets.append(t)
        observed.append(obs)
    return FitTargets(weights, targets, observed, extremes, active)


@dataclass
class Measures:
    """The current estimates (updated in place by :func:`jmle_iteration`): unit measures ``theta``, rater
    severities ``sev``, item difficulties ``dif`` (logits) and the Andrich thresholds ``tau``."""

    theta: np.ndarray
    sev: np.ndarray
    dif: np.ndarray
    tau: np.ndarray

    def eta(self, design: RatingDesign) -> np.ndarray:
        """Each rating's location B_unit − C_rater − D_item."""
        u, r, i = design.idx
        return self.theta[u] - self.sev[r] - self.dif[i]


def start_values(design: RatingDesign) -> Measures:
    """Starting values: the log-odds of each element's mean score (raters and items centred), thresholds 0."""
    xf, K = design.x.astype(float), design.K

    def logit_start(f):
        p = np.clip((design.counts(f, xf) / design.counts(f)) / (K - 1), 0.02, 0.98)
        return np.log(p / (1 - p))

    sev, dif = -logit_start(1), -logit_start(2)
    return Measures(theta=logit_start(0), sev=sev - sev.mean(), dif=dif - dif.mean(), tau=np.zeros(K - 1))


def moments(design: RatingDesign, m: Measures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category probabilities, expected category and its variance of every rating under the current measures."""
    kk = np.arange(design.K, dtype=float)
    P = category_probabilities(m.eta(design), cumulative_thresholds(m.tau))
    E = P @ kk
    return P, E, P @ (kk * kk) - E * E


def newton_step(design: RatingDesign, t: FitTargets, f: int, E: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Newton step of facet ``f``'s measures towards its target totals, capped at ±1 logit."""
    res = t.targets[f] - design.counts(f, E * t.weights[f])
    return np.clip(res / np.maximum(design.counts(f, V * t.weights[f]), 1e-12), -1.0, 1.0)


def threshold_step(P: np.ndarray, active: np.ndarray, at_least: np.ndarray) -> np.ndarray:
    """Newton step of the Andrich thresholds from the active ratings (``at_least[k-1]``: ratings in category ≥ k)."""
    K = P.shape[1]
    if K <= 2:
        return np.zeros(K - 1)
    S = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(x >= k), k = 1..K-1
    Sa = S * active.astype(float)[:, None]
    grad = Sa.sum(axis=0) - at_least
    cov = -(S.T @ Sa)
    cov += np.array([[Sa[:, max(a, b)].sum() for b in range(K - 1)] for a in range(K - 1)])
    return np.clip(np.linalg.lstsq(cov, grad, rcond=None)[0], -1.0, 1.0)


def jmle_iteration(design: RatingDesign, t: FitTargets, m: Measures, at_least: np.ndarray, tol: float):
    """One joint-maximum-likelihood iteration, updating ``m`` in place: a Newton step for the units, then from
    the same probabilities for the raters, items and thresholds (projected onto their zero-mean constraints).

    Returns ``(max_residual, converged)``: the largest |observed − expected| total before the update, and whether
    every total is within ``tol`` and every step below 1e-4 logits (then ``m`` is left as it was after the units).
    """
    _, E, V = moments(design, m)
    step_u = newton_step(design, t, 0, E, V)
    m.theta += step_u
    P, E, V = moments(design, m)
    resid_max = float(max(np.abs(t.targets[f] - design.counts(f, E * t.weights[f])).max() for f in range(3)))
    step_r = newton_step(design, t, 1, E, V)
    step_i = newton_step(design, t, 2, E, V)
    step_t = threshold_step(P, t.active, at_least)
    del P
    steps = (step_u, step_r, step_i, step_t)
    if resid_max < tol and max(np.abs(s).max() for s in steps) < 1e-4:
        return resid_max, True
    keep_r, keep_i = ~t.extremes[1], ~t.extremes[2]
    # the common level belongs to the units: project the other steps onto their zero-mean constraints
    # (otherwise raters, items and thresholds all chase the same total residual and oscillate)
    m.sev -= step_r - step_r[keep_r].mean()
    m.dif -= step_i - step_i[keep_i].mean()
    m.tau += step_t - step_t.mean()
    # identification: non-extreme raters and items centred at 0, thresholds sum to 0 (shifts go to the units)
    for values, keep in ((m.sev, keep_r), (m.dif, keep_i), (m.tau, slice(None))):
        shift = values[keep].mean()
        values -= shift
        m.theta -= shift
    return resid_max, False


def cluster_sq(cluster: np.ndarray, values: np.ndarray, element: np.ndarray, n: int) -> np.ndarray:
    """Per element, the sum over its clusters of (sum of the values in the cluster)²."""
    code, inv = np.unique(cluster, return_inverse=True)
    sums = np.bincount(inv, weights=values, minlength=len(code))
    first = np.zeros(len(code), dtype=np.int64)
    first[inv] = element
    return np.bincount(first, weights=sums**2, minlength=n)


def robust_numerators(design: RatingDesign, resid: np.ndarray) -> list[np.ndarray]:
    """Per facet, the sandwich's numerator: the residuals of one rater's ratings of one unit summed before squaring,
    so a shared impression of the unit (the ratings' dependence within rater × unit) widens the interval."""
    (u_idx, r_idx, i_idx), (nU, nR, nI) = design.idx, design.n
    pair_code, pair_of = np.unique(u_idx * nR + r_idx, return_inverse=True)
    pair_sum = np.bincount(pair_of, weights=resid, minlength=len(pair_code))
    return [
        np.bincount(pair_code // nR, weights=pair_sum**2, minlength=nU),
        np.bincount(pair_code % nR, weights=pair_sum**2, minlength=nR),
        # an item has one rating per rater × unit (clusters of one): its sandwich is the residuals' own variance
        cluster_sq(pair_of * nI + i_idx, resid, i_idx, nI),
    ]


def element_table(design, t: FitTargets, f: int, measure, E, V, resid, numerator) -> pd.DataFrame:
    """One row per element of facet ``f``: measure, model and cluster-robust standard errors, design effect,
    infit and outfit mean squares, observed and expected totals, count, mean score and whether extreme."""
    cnt = design.counts(f).astype(float)
    info_c = np.maximum(design.counts(f, V), 1e-12)
    z2 = resid**2 / np.maximum(V, 1e-12)
    return pd.DataFrame(
        {
            "measure": measure,
            "se": 1.0 / np.sqrt(info_c),
            "se_robust": np.sqrt(numerator) / info_c,
            "design_effect": numerator / info_c,
            "infit": design.counts(f, resid**2) / np.maximum(design.counts(f, V), 1e-12),
            "outfit": design.counts(f, z2) / cnt,
            "observed": t.observed[f],
            "expected": design.counts(f, E * t.weights[f]),
            "count": cnt.astype(np.int64),
            "mean_score": design.counts(f, design.category_scores[design.x]) / cnt,
            "extreme": t.extremes[f],
        },
        index=pd.Index(design.levels[f], name=design.names[f]),
    )


def fair_averages(design: RatingDesign, m: Measures) -> pd.Series:
    """Per unit, the expected score (original scale) from a rater of average severity (0), averaged over items."""
    nU, _, nI = design.n
    Pf = category_probabilities((m.theta[:, None] - m.dif[None, :]).ravel(), cumulative_thresholds(m.tau))
    fair = (Pf @ design.category_scores).reshape(nU, nI).mean(axis=1)
    return pd.Series(fair, index=pd.Index(design.levels[0], name=design.names[0]), name="fair_average")


def threshold_table(design: RatingDesign, tau: np.ndarray) -> pd.DataFrame:
    """Per category: its label, score, how often it was given and its Andrich threshold (NaN for the lowest)."""
    return pd.DataFrame(
        {
            "category": design.categories,
            "score": design.category_scores,
            "count": np.bincount(design.x, minlength=design.K),
            "threshold": np.concatenate([[np.nan], tau]),
        }
    )


def residual_table(design: RatingDesign, E: np.ndarray, V: np.ndarray) -> pd.DataFrame:
    """Per rating: its elements, category, expected category, variance, residual and standardised residual."""
    resid = design.x.astype(float) - E
    cols = {name: lv[idx] for name, lv, idx in zip(design.names, design.levels, design.idx)}
    return pd.DataFrame(
        {
            **cols,
            "category": design.x,
            "expected": E,
            "variance": V,
            "residual": resid,
            "z": resid / np.sqrt(np.maximum(V, 1e-12)),
        },
        index=design.index,
    )


def mfrm(
    data: pd.DataFrame,
    unit: str = "unit",
    rater: str = "rater",
    item: str = "indicator",
    score: str = "grade",
    scheme=None,
    categories: Sequence | None = None,
    max_iter: int = 500,
    tol: float = 1e-3,
    progress: bool = False,
) -> MFRMResult:
    """Fit a rating-scale many-facet Rasch model: log(P_k / P_k−1) = B_unit − C_rater − D_item − F_k.

    Scores become ordered categories: ``categories`` (worst first) if given;
    else with a ``scheme`` the 0–100 scores are binned to its grade bands (or
    a grade column is used), the fair average then being on the bands' score
    scale; else whole-number scores are the categories. Categories nobody used
    are dropped (their thresholds are not estimable).

    Estimation: joint maximum likelihood without bias correction (as FACETS),
    raters and items centred at 0; Newton steps (capped at 1 logit) for units,
    then raters and items, then the thresholds, until every element's observed
    total is within ``tol`` score points of its expected total. Elements with
    an extreme total (all lowest or all highest category) are fitted to that
    total moved by 0.3 score points.

    Parameters
    ----------
    data : DataFrame
        One row per rating.
    unit, rater, item, score : str
        The columns of the three facets and of the score.
    scheme : Scheme, optional
        Bins 0–100 scores (or reads grades) into the scheme's grade bands.
    categories : sequence, optional
        The categories, worst first (overrides the scheme).
    max_iter, tol : int, float
        At most ``max_iter`` iterations; converged when every total is within ``tol`` score points.
    progress : bool
        Show a progress bar.

    Returns
    -------
    MFRMResult
        Measures, standard errors and fit per element, thresholds, separation and fair averages.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, _ = small_panel()
    >>> fit = mfrm(ratings, categories=list("EDCBA"))  # the grades, worst first
    >>> fit.converged, fit.raters["measure"].idxmax()  # R0, the harsh rater, has the highest measure
    (True, 'R0')
    """
    design = rating_design(data, unit, rater, item, score, scheme, categories)
    extremes, active = extreme_elements(design)
    targets = fit_targets(design, extremes, active)
    m = start_values(design)
    at_least = np.array([((design.x >= k) & active).sum() for k in range(1, design.K)], dtype=float)
    bar = _progress_bar(max_iter) if progress else None
    converged, resid_max, it = False, np.inf, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported after the loop)
        resid_max, converged = jmle_iteration(design, targets, m, at_least, tol)
        if converged:
            break
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    _, E, V = moments(design, m)
    resid = design.x.astype(float) - E
    numerators = robust_numerators(design, resid)
    tables = [
        element_table(design, targets, f, values, E, V, resid, numerators[f])
        for f, values in enumerate((m.theta, m.sev, m.dif))
    ]
    fair = fair_averages(design, m)
    tables[0]["fair_average"] = fair.to_numpy()
    return MFRMResult(
        units=tables[0],
        raters=tables[1],
        items=tables[2],
        thresholds=threshold_table(design, m.tau),
        separation=separation_table(dict(zip(FACETS, tables))),
        fair_average=fair,
        categories=tuple(design.categories),
        category_scores=design.category_scores,
        iterations=it,
        converged=converged,
        max_residual=resid_max,
        residuals=residual_table(design, E, V),
    )


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="MFRM", leave=False)
