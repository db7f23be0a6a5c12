"""Which evaluators distort the scores? Many-facet Rasch severities, rater-effect flags, drift and impact on ranks.

One direction for every rater effect: **positive = harsher** (the MFRM rater
``measure`` and ``severity_logits``, ``severity_points``, ``severity_z``,
``mean_severity_points``, and the simulator's truth ``severity_points``).

- :func:`mfrm` — a rating-scale many-facet Rasch model (units × raters ×
  indicators) by joint maximum likelihood: vectorised Newton updates over the
  observation arrays (``np.bincount``), no loop per rating. Severity is
  *subtracted*: a higher rater measure means a more severe rater. Standard
  errors: the model's and a cluster-robust (sandwich) one that allows
  dependence among one rater's ratings of one unit; separation and
  reliability use the cluster-robust ones.
- :func:`flag_raters` — one row per rater with the size, test statistic and
  p-value of each effect (leniency/severity, halo, central tendency,
  favouritism to the home unit, bloc scoring, misfit) and a flag from a stated
  rule whose false-positive rate under the null is ``alpha / 6`` per test, so
  a clean rater's chance of any flag is at most ``alpha`` (Bonferroni over the
  six tests); across the panel about ``n_raters × alpha`` clean raters are
  flagged by chance, and ``flag_fdr`` controls the false-discovery rate
  across raters (Benjamini–Hochberg). :func:`flags_by_group` counts them.
- :func:`rater_severity`, :func:`adjusted_ratings` — each rater's severity in
  points and the ratings with it removed (nothing else changed).
- :func:`session_drift` — the effect of session and presentation order on the
  rater-adjusted unit scores, with F and t tests, and which kinds of unit
  presented in each session.
- :func:`impact` — each unit's rank, as the scheme scores it, from the raw
  ratings, from the rater-adjusted ratings and with flagged raters excluded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from perflab.errors import DataError
from perflab.reliability import _need_columns

EXTREME_ADJUST = 0.3  # score points moved off an extreme (all-minimum or all-maximum) total, as FACETS does
N_TESTS = 6  # severity, halo, central, favouritism, bloc, misfit
MIN_UNITS = 5  # units a rater must have scored for the severity, halo, central and favouritism tests (else NA, no flag)
MIN_RATINGS = 20  # ratings a rater must have given for the misfit test (else NA, no flag)
HALO_R_CLIP = 0.999  # within-unit correlations are clipped to ±this before Fisher's z (stays finite)


# ---------------------------------------------------------------------------
# many-facet Rasch model
# ---------------------------------------------------------------------------


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
        """Per facet: number of elements, mean and SD of measures, mean infit/outfit, separation and reliability."""
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


def _categories(values: pd.Series, categories, scheme):
    """Category codes 0..K-1 (worst to best) of the scores, the category labels and their scores on the original scale."""
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
        grades_best_first = scheme.grades
        cats = grades_best_first[::-1]
        cat_scores = np.array([scheme.band(g).score for g in cats], dtype=float)
        if pd.api.types.is_numeric_dtype(values):
            grades = scheme.grade_of(values.to_numpy(float))
        else:
            grades = values.astype(object).to_numpy()
        codes = pd.Categorical(grades, categories=cats, ordered=True).codes.astype(np.int64)
        if (codes < 0).any():
            raise DataError(
                f"mfrm: grade {grades[codes < 0][0]!r} is not one of the scheme's grades {grades_best_first}"
            )
        return codes, cats, cat_scores
    num = pd.to_numeric(values, errors="coerce")
    if num.isna().any() or (num != np.round(num)).any():
        raise DataError(
            "mfrm: scores must be whole-number categories (or pass the scheme to bin 0-100 scores to its grade bands, "
            f"or categories=[...]); got {values[num.isna() | (num != np.round(num))].iloc[0]!r}"
        )
    cats = sorted(int(v) for v in num.unique())
    codes = np.searchsorted(np.array(cats), num.to_numpy()).astype(np.int64)
    return codes, cats, np.array(cats, dtype=float)


def _probs(eta: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Rating-scale category probabilities, one row per observation: P_k ∝ exp(k·eta − psi_k)."""
    K = len(psi)
    L = np.multiply.outer(eta, np.arange(K, dtype=float))
    L -= psi
    L -= L.max(axis=1, keepdims=True)
    np.exp(L, out=L)
    L /= L.sum(axis=1, keepdims=True)
    return L


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
    """
    _need_columns(data, [unit, rater, item, score], "mfrm")
    d = data[[unit, rater, item, score]].dropna()
    if len(d) == 0:
        raise DataError("mfrm: no ratings with a score")
    x_all, cats, cat_scores = _categories(d[score], categories, scheme)
    used = np.bincount(x_all, minlength=len(cats)) > 0
    if used.sum() < 2:
        raise DataError(f"mfrm: all scores fall in one category ({cats[int(np.argmax(used))]!r}); nothing to measure")
    remap = np.cumsum(used) - 1
    x = remap[x_all]
    cats = [c for c, u in zip(cats, used) if u]
    cat_scores = cat_scores[used]
    K = len(cats)
    u_idx, u_lv = pd.factorize(d[unit], sort=True)
    r_idx, r_lv = pd.factorize(d[rater], sort=True)
    i_idx, i_lv = pd.factorize(d[item], sort=True)
    nU, nR, nI = len(u_lv), len(r_lv), len(i_lv)
    N = len(x)
    _check_connected(u_idx, r_idx, nU, nR, u_lv, r_lv)
    xf = x.astype(float)

    def totals(idx, n, w):
        return np.bincount(idx, weights=w, minlength=n)

    idxs, ns = (u_idx, r_idx, i_idx), (nU, nR, nI)
    counts = [np.bincount(idx, minlength=n).astype(float) for idx, n in zip(idxs, ns)]
    full_obs = [totals(idx, n, xf) for idx, n in zip(idxs, ns)]
    # extreme elements (every rating in the lowest or highest category) cannot be placed by the others'
    # ratings: like FACETS, they are left out of the estimation of the other elements (repeated until no
    # new extreme appears) and measured afterwards from their total moved by EXTREME_ADJUST
    extremes = [np.zeros(n, dtype=bool) for n in ns]
    active = np.ones(N, dtype=bool)
    while True:
        changed = False
        for f in range(3):
            a_cnt = np.bincount(idxs[f], weights=active.astype(float), minlength=ns[f])
            a_obs = np.bincount(idxs[f], weights=xf * active, minlength=ns[f])
            new = extremes[f] | (a_cnt == 0) | (a_obs <= 0) | (a_obs >= (K - 1) * a_cnt)
            if (new != extremes[f]).any():
                extremes[f] = new
                changed = True
        active = ~(extremes[0][u_idx] | extremes[1][r_idx] | extremes[2][i_idx])
        if not changed:
            break
    if not active.any():
        raise DataError(
            "mfrm: every unit, rater or indicator has an extreme score (all lowest or all highest); nothing to estimate"
        )
    weights, targets, observed = [], [], []
    for f in range(3):
        w = np.where(extremes[f][idxs[f]], 1.0, active.astype(float))
        obs = totals(idxs[f], ns[f], xf * w)
        t = obs.copy()
        full, cnt = full_obs[f], counts[f]
        lo = extremes[f] & (full <= 0)
        hi = extremes[f] & (full >= (K - 1) * cnt)
        t[lo] += EXTREME_ADJUST
        t[hi] -= EXTREME_ADJUST
        weights.append(w)
        targets.append(t)
        observed.append(obs)
    act = active.astype(float)

    # starting values: log-odds of the mean score
    def logit_start(obs, cnt):
        p = np.clip((obs / cnt) / (K - 1), 0.02, 0.98)
        return np.log(p / (1 - p))

    theta = logit_start(full_obs[0], counts[0])
    sev = -logit_start(full_obs[1], counts[1])
    sev -= sev.mean()
    dif = -logit_start(full_obs[2], counts[2])
    dif -= dif.mean()
    ge = np.array([((x >= k) & active).sum() for k in range(1, K)], dtype=float)
    tau = np.zeros(K - 1)
    kk = np.arange(K, dtype=float)

    def psi_of(tau):
        return np.concatenate([[0.0], np.cumsum(tau)])

    it_bar = None
    if progress:
        from tqdm.auto import tqdm

        it_bar = tqdm(total=max_iter, desc="MFRM", leave=False)
    converged = False
    resid_max = np.inf
    it = 0
    keep_r, keep_i = ~extremes[1], ~extremes[2]
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported after the loop)
        # units
        P = _probs(theta[u_idx] - sev[r_idx] - dif[i_idx], psi_of(tau))
        E = P @ kk
        V = P @ (kk * kk) - E * E
        g = targets[0] - totals(u_idx, nU, E * weights[0])
        h = totals(u_idx, nU, V * weights[0])
        step_u = np.clip(g / np.maximum(h, 1e-12), -1.0, 1.0)
        theta += step_u
        # raters, items and thresholds from the same probabilities
        P = _probs(theta[u_idx] - sev[r_idx] - dif[i_idx], psi_of(tau))
        E = P @ kk
        V = P @ (kk * kk) - E * E
        res_u = targets[0] - totals(u_idx, nU, E * weights[0])
        res_r = targets[1] - totals(r_idx, nR, E * weights[1])
        res_i = targets[2] - totals(i_idx, nI, E * weights[2])
        resid_max = float(max(np.abs(res_u).max(), np.abs(res_r).max(), np.abs(res_i).max()))
        S = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(x >= k), k = 1..K-1
        Sa = S * act[:, None]
        grad_t = Sa.sum(axis=0) - ge
        cov = -(S.T @ Sa)
        cov += np.array([[Sa[:, max(a, b)].sum() for b in range(K - 1)] for a in range(K - 1)])
        del S, Sa
        step_r = np.clip(res_r / np.maximum(totals(r_idx, nR, V * weights[1]), 1e-12), -1.0, 1.0)
        step_i = np.clip(res_i / np.maximum(totals(i_idx, nI, V * weights[2]), 1e-12), -1.0, 1.0)
        step_t = np.clip(np.linalg.lstsq(cov, grad_t, rcond=None)[0], -1.0, 1.0) if K > 2 else np.zeros(K - 1)
        if (
            resid_max < tol
            and max(np.abs(step_u).max(), np.abs(step_r).max(), np.abs(step_i).max(), np.abs(step_t).max()) < 1e-4
        ):
            converged = True
            break
        # the common level belongs to the units: project the other steps onto their zero-mean constraints
        # (otherwise raters, items and thresholds all chase the same total residual and oscillate)
        sev -= step_r - step_r[keep_r].mean()
        dif -= step_i - step_i[keep_i].mean()
        tau += step_t - step_t.mean()
        # identification: non-extreme raters and items centred at 0, thresholds sum to 0 (shifts go to the units)
        m = sev[keep_r].mean()
        sev -= m
        theta -= m
        m = dif[keep_i].mean()
        dif -= m
        theta -= m
        m = tau.mean()
        tau -= m
        theta -= m
        if it_bar is not None:
            it_bar.update(1)
    if it_bar is not None:
        it_bar.close()

    # final quantities at the solution
    eta = theta[u_idx] - sev[r_idx] - dif[i_idx]
    P = _probs(eta, psi_of(tau))
    E = P @ kk
    V = P @ (kk * kk) - E * E
    del P
    resid = xf - E
    z2 = resid**2 / np.maximum(V, 1e-12)

    sx = cat_scores[x]
    # cluster-robust (sandwich) variance: the residuals of one rater's ratings of one unit are summed before squaring,
    # so a shared impression of the unit (the rating's dependence within rater × unit) widens the interval
    pair_idx = u_idx * nR + r_idx
    pair_code, pair_of = np.unique(pair_idx, return_inverse=True)
    pair_sum = np.bincount(pair_of, weights=resid, minlength=len(pair_code))
    pair_u, pair_r = pair_code // nR, pair_code % nR
    robust_num = [
        np.bincount(pair_u, weights=pair_sum**2, minlength=nU),
        np.bincount(pair_r, weights=pair_sum**2, minlength=nR),
        # an item has one rating per rater × unit (clusters of one): its sandwich is the residuals' own variance
        _cluster_sq(pair_of * nI + i_idx, resid, i_idx, nI),
    ]

    def table(idx, n, levels, measure, obs, cnt, extreme, sign, w, num):
        info = totals(idx, n, V)
        exp_tot = totals(idx, n, E * w)
        infit = totals(idx, n, resid**2) / np.maximum(info, 1e-12)
        outfit = totals(idx, n, z2) / cnt
        info_c = np.maximum(info, 1e-12)
        return pd.DataFrame(
            {
                "measure": measure,
                "se": 1.0 / np.sqrt(info_c),
                "se_robust": np.sqrt(num) / info_c,
                "design_effect": num / info_c,
                "infit": infit,
                "outfit": outfit,
                "observed": obs,
                "expected": exp_tot,
                "count": cnt.astype(np.int64),
                "mean_score": totals(idx, n, sx) / cnt,
                "extreme": extreme,
            },
            index=pd.Index(levels, name=sign),
        )

    units_t = table(u_idx, nU, u_lv, theta, observed[0], counts[0], extremes[0], unit, weights[0], robust_num[0])
    raters_t = table(r_idx, nR, r_lv, sev, observed[1], counts[1], extremes[1], rater, weights[1], robust_num[1])
    items_t = table(i_idx, nI, i_lv, dif, observed[2], counts[2], extremes[2], item, weights[2], robust_num[2])

    # fair average: expected score on the original scale from a rater of average severity (0), averaged over items
    Pf = _probs((theta[:, None] - dif[None, :]).ravel(), psi_of(tau))
    fair = (Pf @ cat_scores).reshape(nU, nI).mean(axis=1)
    fair_s = pd.Series(fair, index=pd.Index(u_lv, name=unit), name="fair_average")
    units_t["fair_average"] = fair

    cat_counts = np.bincount(x, minlength=K)
    thr = pd.DataFrame(
        {
            "category": cats,
            "score": cat_scores,
            "count": cat_counts,
            "threshold": np.concatenate([[np.nan], tau]),
        }
    )
    sep = pd.DataFrame([_separation(n, t) for n, t in (("units", units_t), ("raters", raters_t), ("items", items_t))])
    res = pd.DataFrame(
        {
            unit: u_lv[u_idx],
            rater: r_lv[r_idx],
            item: i_lv[i_idx],
            "category": x,
            "expected": E,
            "variance": V,
            "residual": resid,
            "z": resid / np.sqrt(np.maximum(V, 1e-12)),
        },
        index=d.index,
    )
    return MFRMResult(
        units=units_t,
        raters=raters_t,
        items=items_t,
        thresholds=thr,
        separation=sep,
        fair_average=fair_s,
        categories=tuple(cats),
        category_scores=cat_scores,
        iterations=it,
        converged=converged,
        max_residual=resid_max,
        residuals=res,
    )


def _cluster_sq(cluster: np.ndarray, values: np.ndarray, element: np.ndarray, n: int) -> np.ndarray:
    """Per element, the sum over its clusters of (sum of the values in the cluster)²."""
    code, inv = np.unique(cluster, return_inverse=True)
    sums = np.bincount(inv, weights=values, minlength=len(code))
    first = np.zeros(len(code), dtype=np.int64)
    first[inv] = element
    return np.bincount(first, weights=sums**2, minlength=n)


def _sep_numbers(m: np.ndarray, se: np.ndarray) -> tuple[float, float, float, float]:
    obs_var = m.var(ddof=0)
    rmse = float(np.sqrt(np.mean(se**2)))
    true_var = max(obs_var - rmse**2, 0.0)
    sep = float(np.sqrt(true_var) / rmse) if rmse > 0 else np.nan
    rel = float(true_var / obs_var) if obs_var > 0 else np.nan
    return rmse, float(np.sqrt(true_var)), sep, rel


def _separation(name: str, t: pd.DataFrame) -> dict:
    """Separation and reliability of a facet (non-extreme elements): true SD over RMSE of the measures.

    ``rmse``, ``true_sd``, ``separation`` and ``reliability`` use the
    cluster-robust standard errors (``se_robust``: rater × unit clusters);
    the ``*_model`` columns use the model's (FACETS's "model S.E."), which
    treat one rater's ratings of one unit as independent and so overstate
    separation and reliability when they share an impression of the unit.
    """
    ok = ~t["extreme"].to_numpy()
    m = t["measure"].to_numpy()[ok]
    if len(m) < 2:
        nan = np.nan
        return {
            "facet": name,
            "rmse": nan,
            "true_sd": nan,
            "separation": nan,
            "reliability": nan,
            "rmse_model": nan,
            "separation_model": nan,
            "reliability_model": nan,
            "design_effect": nan,
        }
    rmse, true_sd, sep, rel = _sep_numbers(m, t["se_robust"].to_numpy()[ok])
    rmse_m, _, sep_m, rel_m = _sep_numbers(m, t["se"].to_numpy()[ok])
    return {
        "facet": name,
        "rmse": rmse,
        "true_sd": true_sd,
        "separation": sep,
        "reliability": rel,
        "rmse_model": rmse_m,
        "separation_model": sep_m,
        "reliability_model": rel_m,
        "design_effect": float(rmse**2 / rmse_m**2) if rmse_m > 0 else np.nan,
    }


def _check_connected(u_idx, r_idx, nU, nR, u_lv, r_lv):
    g = sparse.coo_matrix((np.ones(len(u_idx)), (u_idx, r_idx)), shape=(nU, nR)).tocsr()
    graph = sparse.bmat([[None, g], [g.T, None]])
    n, lab = connected_components(graph, directed=False)
    if n > 1:
        sizes = np.bincount(lab)
        small = int(np.argmin(sizes))
        members = [str(v) for v in np.concatenate([u_lv[lab[:nU] == small], r_lv[lab[nU:] == small]])][:5]
        raise DataError(
            f"mfrm: the raters and units form {n} disconnected subsets (e.g. {', '.join(members)}); "
            "measures are not comparable across them"
        )


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _check_inputs(ratings: pd.DataFrame, raters: pd.DataFrame, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ratings joined to the raters' groups; one clear DataError for a rater without a group or an unknown rater/unit."""
    _need_columns(ratings, ["rater", "unit", "indicator", "score"], "ratings")
    _need_columns(raters, ["rater", "group"], "raters")
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


# ---------------------------------------------------------------------------
# additive model on the raw scores: unit × indicator cell + rater severity
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Additive:
    r: np.ndarray  # rater code per rating
    u: np.ndarray  # unit code per rating
    c: np.ndarray  # cell (unit × indicator) code per rating
    y: np.ndarray
    cell: np.ndarray  # cell means adjusted for severity
    leniency: np.ndarray  # points the rater adds to every score (+ = lenient); its severity is −leniency
    raters: pd.Index
    units: pd.Index
    cell_unit: np.ndarray  # unit code of each cell


def _additive(r: pd.DataFrame, n_iter: int = 50) -> _Additive:
    """Least squares y = cell(unit, indicator) + rater by alternating means (the cells absorb session drift)."""
    r_idx, r_lv = pd.factorize(r["rater"], sort=True)
    u_idx, u_lv = pd.factorize(r["unit"], sort=True)
    c_idx, c_lv = pd.factorize(pd.MultiIndex.from_arrays([r["unit"], r["indicator"]]), sort=True)
    y = r["score"].to_numpy(float)
    nr, nc = len(r_lv), len(c_lv)
    n_r = np.bincount(r_idx, minlength=nr)
    n_c = np.bincount(c_idx, minlength=nc)
    len_ = np.zeros(nr)
    cell = np.bincount(c_idx, y, nc) / n_c
    for _ in range(n_iter):
        new = np.bincount(r_idx, y - cell[c_idx], nr) / n_r
        new -= np.average(new, weights=n_r)
        cell = np.bincount(c_idx, y - new[r_idx], nc) / n_c
        done = np.abs(new - len_).max() < 1e-8
        len_ = new
        if done:
            break
    cell_unit = pd.Index(u_lv).get_indexer(c_lv.get_level_values(0))
    return _Additive(r_idx, u_idx, c_idx, y, cell, len_, pd.Index(r_lv), pd.Index(u_lv), cell_unit)


_TRUNC = 2.5  # |z| beyond which a rater is left out of the one-step re-estimate of the panel spread
_TRUNC_VAR = 1 - 2 * _TRUNC * stats.norm.pdf(_TRUNC) / (
    2 * stats.norm.cdf(_TRUNC) - 1
)  # variance of N(0,1) within ±2.5


def _robust_z(stat: np.ndarray, se2: np.ndarray) -> np.ndarray:
    """(stat − median) / sqrt(tau² + se²): tau² the panel's own spread minus the typical sampling variance.

    The spread starts from the MAD and is re-estimated once from the raters
    within ±2.5 robust SDs (corrected for the truncation): nearly as efficient
    as the SD on clean panels, unmoved by the few raters with real effects.
    """
    ok = np.isfinite(stat)
    if ok.sum() < 3:
        return np.full(len(stat), np.nan)
    med = np.median(stat[ok])
    dev = stat - med
    s0 = 1.4826 * np.median(np.abs(dev[ok]))
    keep = ok & (np.abs(dev) <= _TRUNC * s0) if s0 > 0 else ok
    s2 = float(np.mean(dev[keep] ** 2) / _TRUNC_VAR) if keep.sum() >= 3 and s0 > 0 else s0**2
    # a zero sampling variance is an artefact of an exact fit (e.g. one score for everything): use the panel's typical one
    se2 = np.asarray(se2, dtype=float)
    good = ok & np.isfinite(se2) & (se2 > 0)
    typical = float(np.median(se2[good])) if good.any() else 0.0
    se2 = np.where(np.isfinite(se2) & (se2 > 0), se2, typical)
    tau2 = max(s2 - np.median(se2[ok]), 0.0)
    scale = np.sqrt(tau2 + se2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok & (scale > 0), dev / scale, np.nan)


MIN_STRATUM = 15  # raters; smaller session patterns are compared with the largest stratum


def _strata(r: pd.DataFrame, raters: pd.Index) -> np.ndarray:
    """Comparison strata of raters: the set of sessions each attended (grassroots attend one each).

    Raters who saw the same sessions saw units of the same time of day and a
    similar number of them, so their statistics share one null spread; strata
    smaller than MIN_STRATUM join the largest.
    """
    if "session" not in r.columns or r["session"].isna().all():
        return np.zeros(len(raters), dtype=np.int64)
    pattern = r.dropna(subset=["session"]).groupby("rater")["session"].agg(lambda s: ",".join(map(str, sorted(set(s)))))
    pattern = pattern.reindex(raters).fillna("?")
    codes, _ = pd.factorize(pattern)
    sizes = np.bincount(codes)
    largest = int(np.argmax(sizes))
    codes = np.where(sizes[codes] < MIN_STRATUM, largest, codes)
    return codes


def _z_within(stat, se2, strata):
    """Robust z with each stratum centred at its own median and one pooled spread (MAD) over all strata."""
    dev = np.full(len(stat), np.nan)
    for s in np.unique(strata):
        m = (strata == s) & np.isfinite(stat)
        if m.any():
            dev[m] = stat[m] - np.median(stat[m])
    return _robust_z(dev, se2)


def _rater_stats(fit: _Additive):
    """Per rater: pair (rater × unit) residuals and the slope, halo and central statistics.

    At the pair level the rater's mean score over the indicators is regressed
    on the consensus (the severity-adjusted cells): ``slope`` < 1 is a
    restricted range (central tendency). ``calib_resid`` are the pair
    residuals from that regression, free of leniency and range, used for blocs.
    Halo: ``halo_r``, the correlation, within units, of the rater's scores on
    the indicators with the consensus's (deviations from the unit's mean over
    the indicators, pooled over the rater's units). A rater who does not tell
    a unit's indicators apart has r ≈ 0. Anything the rater adds to a whole
    unit (leniency, a steep or flat slope, a bloc's shared view of the unit)
    cancels in these deviations, and the correlation does not depend on the
    rater's scale, so neither central tendency nor a bloc looks like halo.
    It is also low for a rater whose scores vary across the indicators at
    random (no agreement with the panel's profile); such a rater usually
    shows misfit too, which tells the two apart.
    """
    nr = len(fit.raters)
    y, r, c, u = fit.y, fit.r, fit.c, fit.u
    cons = fit.cell[c]
    e = y - cons - fit.leniency[r]
    pair_idx, pair_lv = pd.factorize(pd.MultiIndex.from_arrays([r, u]))
    pr = np.asarray(pair_lv.get_level_values(0))
    pu = np.asarray(pair_lv.get_level_values(1))
    npairs = len(pair_lv)
    cnt = np.bincount(pair_idx, minlength=npairs)
    py = np.bincount(pair_idx, y, npairs) / cnt
    pc = np.bincount(pair_idx, cons, npairs) / cnt
    pair_resid = np.bincount(pair_idx, e, npairs) / cnt
    n_obs = np.bincount(r, minlength=nr).astype(float)
    n_pairs = np.bincount(pr, minlength=nr).astype(float)
    # pair-level regression of the rater's unit means on the consensus
    my = np.bincount(pr, py, nr) / n_pairs
    mc = np.bincount(pr, pc, nr) / n_pairs
    dy, dc = py - my[pr], pc - mc[pr]
    sxx = np.bincount(pr, dc * dc, nr)
    sxy = np.bincount(pr, dc * dy, nr)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        calib = dy - slope[pr] * dc
        s2 = np.bincount(pr, calib**2, nr) / np.maximum(n_pairs - 2, 1)
        slope_se2 = s2 / sxx
    # within-pair (across indicators) deviations: correlation of the rater's with the consensus's
    dyw = y - py[pair_idx]
    dcw = cons - pc[pair_idx]
    w_y = np.bincount(r, dyw**2, nr)
    w_c = np.bincount(r, dcw**2, nr)
    w_yc = np.bincount(r, dyw * dcw, nr)
    df_w = n_obs - n_pairs
    b = np.clip(slope, 0.05, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        # a rater who gives every indicator of a unit the same score (perfect halo, or one score for
        # everything) has no within-unit variation: r = 0, as for a rater whose variation is unrelated
        halo_r = np.where(w_y > 0, w_yc / np.sqrt(w_y * w_c), 0.0)
        halo_index = np.arctanh(np.clip(halo_r, -HALO_R_CLIP, HALO_R_CLIP))
        halo_se2 = 1.0 / np.maximum(df_w - 1.0, 1.0)
        central_index = np.log(b)
        central_se2 = slope_se2 / b**2
    # untestable: too few units for a regression with residual df, or no spread across indicators
    few = n_pairs < MIN_UNITS
    no_within = (df_w < 3) | ~(w_c > 0)
    for arr in (slope, central_index, central_se2):
        arr[few] = np.nan
    for arr in (halo_r, halo_index, halo_se2):
        arr[few | no_within] = np.nan
    return {
        "pair_rater": pr,
        "pair_unit": pu,
        "pair_resid": pair_resid,
        "calib_resid": calib,
        "n_obs": n_obs,
        "n_pairs": n_pairs,
        "slope": slope,
        "halo_r": halo_r,
        "halo_index": halo_index,
        "halo_se2": halo_se2,
        "central_index": central_index,
        "central_se2": central_se2,
    }


# ---------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------


def flag_rules(alpha: float = 0.05, n_perm: int | None = None) -> pd.DataFrame:
    """The rule behind each flag of :func:`flag_raters`, its false-positive rate under the null and the minimum data.

    A rater below a test's ``minimum`` gets NA for that statistic and never
    that flag (a fit to two units is exact, and a mean square from a handful
    of ratings has no usable null spread).
    """
    a = alpha / N_TESTS
    B = _n_perm(alpha) if n_perm is None else n_perm
    zc2, zc1 = stats.norm.isf(a / 2), stats.norm.isf(a)
    mu, mr = MIN_UNITS, MIN_RATINGS
    rows = [
        (
            "lenient / severe",
            f"|panel z| of the rater's severity (points, positive = harsher, adjusted for the units and "
            f"indicators scored) > {zc2:.2f}: severe above, lenient below",
            a,
            f"{mu} units",
        ),
        (
            "halo",
            f"panel z of Fisher's z of the within-unit correlation between the rater's indicator scores and the "
            f"consensus's < −{zc1:.2f}; one score for all indicators of a unit counts as r = 0. What a rater adds to a whole "
            "unit (leniency, range, a bloc) does not enter",
            a,
            f"{mu} units",
        ),
        ("central", f"panel z of log(slope of the rater's unit means on the consensus) < −{zc1:.2f}", a, f"{mu} units"),
        (
            "favouritism",
            f"one-sided t test of the home unit's residual against the rater's other units, p < {a:.4f} "
            "(power is limited by the rater's own unit-to-unit spread, and a bonus on a unit scored near the maximum is censored)",
            a,
            f"{mu} other units",
        ),
        (
            "bloc",
            f"raters clustered (average linkage) on residual profiles (after each rater's own level and slope) whose mean "
            f"pairwise correlation z exceeds the largest pair z of {B} permuted panels; a whole evaluator group that scores "
            "in concert is a bloc too",
            1 / (B + 1),
            "5 units in common",
        ),
        ("misfit", f"|panel z| of log infit or log outfit (MFRM) > {stats.norm.isf(a / 4):.2f}", a, f"{mr} ratings"),
    ]
    out = pd.DataFrame(rows, columns=["flag", "rule", "false_positive_rate", "minimum"])
    out.attrs["untested"] = "a rater below the minimum gets NA for that statistic and never that flag"
    out.attrs["panel_z"] = (
        "panel z: (statistic − median of the raters who attended the same sessions) / "
        "sqrt(the panel's spread² from the MAD + the rater's own sampling variance)"
    )
    return out


def _n_perm(alpha):
    return int(np.ceil(N_TESTS / alpha)) - 1


def flag_raters(
    ratings: pd.DataFrame,
    raters: pd.DataFrame,
    scheme=None,
    fit: MFRMResult | None = None,
    alpha: float = 0.05,
    n_perm: int | None = None,
    min_bloc: int = 3,
    rng: np.random.Generator | None = None,
    fdr: float | None = None,
) -> pd.DataFrame:
    """One row per rater: the size, test statistic and p-value of each rater effect and a flag from a stated rule.

    Residuals are against the additive model score = cell(unit, indicator) −
    severity(rater) fitted on the raw 0–100 scores, so a rater who attended
    only the evening session is compared with the other raters of the same
    units (session drift hits every rater of a unit alike and stays in the
    cells). Every rater differs a little: each statistic is compared with the
    spread among the raters who attended the same sessions ("panel z": median
    and MAD, plus the rater's sampling error), or by a within-rater t test or
    a permutation test. Each of the six tests has false-positive rate
    ``alpha / 6`` (bloc: at most 1/(n_perm+1)), so a clean rater's chance of
    any flag is at most ``alpha``; the rules are in ``result.attrs['rules']``
    (see :func:`flag_rules`). ``fit`` is the MFRM for misfit (fitted on the
    grades, or scores binned by ``scheme``, if absent). Raters with fewer than
    MIN_UNITS units (MIN_RATINGS ratings for misfit) get NA for the statistic
    and no flag.

    Direction: every rater effect is positive for a harsher rater —
    ``severity_points`` (points the rater takes off, against the other raters
    of the same units), ``severity_z`` and ``severity_logits`` (the MFRM
    measure). ``lenient`` / ``severe`` flag the two tails.

    Across a panel: at the per-rater rate about ``n_raters × alpha`` clean
    raters are flagged by chance (``attrs['expected_false_flags']``). For a
    decision about the panel (leaving flagged raters out) each rater's
    p-value ``p_rater`` (the smallest of the per-rater tests' p-values times
    six, Bonferroni: ``p_rater < alpha`` exactly when the rater has a
    non-bloc flag) is corrected across raters by Benjamini–Hochberg
    (:func:`scipy.stats.false_discovery_control`): ``q_value``;
    ``flag_fdr`` = ``q_value < fdr`` (default ``alpha``) or a bloc member (the
    bloc test already controls the panel-wide rate by permutation), so
    that among the FDR-flagged raters the expected share of clean raters is
    at most ``fdr`` (for independent or positively dependent tests).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    fdr = alpha if fdr is None else fdr
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must lie in (0, 1), got {fdr}")
    r = _check_inputs(ratings, raters)
    n_r = r["rater"].nunique()
    if n_r < 3:
        raise DataError(f"flag_raters needs at least 3 raters with scores to compare a rater with the panel; got {n_r}")
    rng = rng if rng is not None else np.random.default_rng(0)
    B = _n_perm(alpha) if n_perm is None else int(n_perm)
    if B < 1:
        raise ValueError(f"n_perm must be >= 1, got {n_perm}")
    a = alpha / N_TESTS
    fit_a = _additive(r)
    st = _rater_stats(fit_a)
    nr = len(fit_a.raters)
    rid = fit_a.raters
    info = raters.set_index("rater").reindex(rid)

    # severity: + = harsher (points)
    pr, pu, pres = st["pair_rater"], st["pair_unit"], st["pair_resid"]
    n_pairs = st["n_pairs"]
    severity = -fit_a.leniency
    sev_se2 = _severity_se2(pr, pres, n_pairs)
    strata = _strata(r, rid)
    sev_z = _z_within(np.where(n_pairs >= MIN_UNITS, severity, np.nan), sev_se2, strata)
    zc2 = stats.norm.isf(a / 2)
    zc1 = stats.norm.isf(a)
    halo_z = _z_within(st["halo_index"], st["halo_se2"], strata)
    central_z = _z_within(st["central_index"], st["central_se2"], strata)

    # favouritism: residual on the home unit against the rater's other units
    fav_pts = np.full(nr, np.nan)
    fav_t = np.full(nr, np.nan)
    fav_p = np.full(nr, np.nan)
    if "home_unit" in info.columns:
        home = info["home_unit"].to_numpy(dtype=object)
        home_code = np.array(
            [fit_a.units.get_loc(h) if isinstance(h, str) and h in fit_a.units else -1 for h in home], dtype=np.int64
        )
        is_home = home_code[pr] == pu
        s1 = np.bincount(pr, np.where(is_home, 0.0, pres), nr)
        s2 = np.bincount(pr, np.where(is_home, 0.0, pres**2), nr)
        n_other = np.bincount(pr, (~is_home).astype(float), nr)
        has = np.bincount(pr, is_home.astype(float), nr) > 0
        h_res = np.bincount(pr, np.where(is_home, pres, 0.0), nr)
        with np.errstate(invalid="ignore", divide="ignore"):
            m_o = s1 / n_other
            sd_o = np.sqrt((s2 - n_other * m_o**2) / (n_other - 1))
            t = (h_res - m_o) / (sd_o * np.sqrt(1 + 1 / n_other))
        ok = has & (n_other >= MIN_UNITS)
        fav_pts[ok] = (h_res - m_o)[ok]
        fav_t[ok] = t[ok]
        fav_p[ok] = stats.t.sf(t[ok], n_other[ok] - 1)

    # bloc
    groups = info["group"].astype(str).to_numpy()
    bloc_id, bloc_z, z_star = _blocs(pr, pu, st["calib_resid"], nr, len(fit_a.units), B, min_bloc, rng)

    # misfit (MFRM)
    if fit is None:
        score_col = "grade" if "grade" in r.columns and r["grade"].notna().all() else "score"
        cats = None
        if scheme is None and score_col == "grade":
            cats = sorted(r["grade"].astype(str).unique(), reverse=True)  # A best: E, D, C, B, A
        fit = mfrm(r, score=score_col, scheme=scheme, categories=cats)
    fr = fit.raters.reindex(rid)
    infit, outfit = fr["infit"].to_numpy(float), fr["outfit"].to_numpy(float)
    cnt = fr["count"].to_numpy(float)
    mse2 = 2.0 / np.maximum(cnt, 1)  # large-sample variance of a log mean square; too small below MIN_RATINGS
    testable = cnt >= MIN_RATINGS
    z_in = _z_within(np.where(testable, np.log(infit), np.nan), mse2, strata)
    z_out = _z_within(np.where(testable, np.log(outfit), np.nan), mse2, strata)
    misfit_z = np.where(np.abs(z_in) >= np.abs(z_out), z_in, z_out)
    misfit_z = np.where(np.isnan(z_in) | np.isnan(z_out), np.nan, misfit_z)

    # p-values of the per-rater tests, each on the scale of its flag (flag ⇔ p < alpha / 6)
    with np.errstate(invalid="ignore"):
        sev_p = 2 * stats.norm.sf(np.abs(sev_z))
        halo_p = stats.norm.cdf(halo_z)
        central_p = stats.norm.cdf(central_z)
        misfit_p = np.minimum(1.0, 4 * stats.norm.sf(np.maximum(np.abs(z_in), np.abs(z_out))))
    p_all = np.column_stack([sev_p, halo_p, central_p, fav_p, misfit_p])
    has_p = np.isfinite(p_all).any(axis=1)
    p_rater = np.full(nr, np.nan)
    p_rater[has_p] = np.minimum(1.0, N_TESTS * np.nanmin(p_all[has_p], axis=1))
    q = np.full(nr, np.nan)
    if has_p.any():
        q[has_p] = stats.false_discovery_control(p_rater[has_p], method="bh")

    bloc_arr = pd.array(bloc_id, dtype="Int64")
    out = pd.DataFrame(
        {
            "rater": rid.astype(str),
            "group": groups,
            "n_units": n_pairs.astype(np.int64),
            "n_ratings": st["n_obs"].astype(np.int64),
            "severity_points": severity,
            "severity_z": sev_z,
            "severity_p": sev_p,
            "lenient": sev_z < -zc2,
            "severe": sev_z > zc2,
            "severity_logits": fr["measure"].to_numpy(float),
            "halo_r": st["halo_r"],
            "halo_z": halo_z,
            "halo_p": halo_p,
            "halo": halo_z < -zc1,
            "slope": st["slope"],
            "central_index": st["central_index"],
            "central_z": central_z,
            "central_p": central_p,
            "central": central_z < -zc1,
            "favour_points": fav_pts,
            "favour_t": fav_t,
            "favour_p": fav_p,
            "favouritism": fav_p < a,
            "bloc_id": bloc_arr,
            "bloc_z": bloc_z,
            "bloc": pd.notna(bloc_arr).astype(bool) if len(bloc_id) else np.zeros(0, bool),
            "infit": infit,
            "outfit": outfit,
            "misfit_z": misfit_z,
            "misfit_p": misfit_p,
            "misfit": np.maximum(np.abs(z_in), np.abs(z_out)) > stats.norm.isf(a / 4),
            "p_rater": p_rater,
            "q_value": q,
        }
    )
    names = ["lenient", "severe", "halo", "central", "favouritism", "bloc", "misfit"]
    for n in names:  # an untestable statistic (NA) never raises its flag
        out[n] = out[n].fillna(False).astype(bool)
    out["any_flag"] = out[names].any(axis=1)
    out["flag_fdr"] = (out["q_value"] < fdr).fillna(False).astype(bool) | out["bloc"]
    flag_matrix = out[names].to_numpy(bool)
    labels = np.where(flag_matrix, np.array([n + ", " for n in names], dtype=object), "")
    out["flags"] = pd.Series(labels.sum(axis=1) if len(out) else [], index=out.index, dtype=object).str.rstrip(", ")
    n_tested = int(has_p.sum())
    out.attrs["rules"] = flag_rules(alpha, B)
    out.attrs["bloc_threshold_z"] = z_star
    out.attrs["alpha"] = alpha
    out.attrs["fdr"] = fdr
    out.attrs["n_tested"] = n_tested
    out.attrs["expected_false_flags"] = n_tested * alpha  # at most, if every tested rater were clean
    return out


def _severity_se2(pr: np.ndarray, pres: np.ndarray, n_pairs: np.ndarray) -> np.ndarray:
    """Sampling variance of each rater's severity (points): the spread of its pair residuals over its number of units.

    Raters with fewer than MIN_UNITS units use the spread pooled over the raters who have enough.
    """
    nr = len(n_pairs)
    ss = np.bincount(pr, pres**2, nr)
    df = np.maximum(n_pairs - 1, 0)
    enough = n_pairs >= MIN_UNITS
    pooled = ss[enough].sum() / df[enough].sum() if enough.any() and df[enough].sum() > 0 else np.nan
    var = np.where(enough, ss / np.maximum(df, 1), pooled)
    return var / np.maximum(n_pairs, 1)


def flags_by_group(flags: pd.DataFrame) -> pd.DataFrame:
    """Per evaluator group: raters, how many carry each flag, the FDR flags, and the group's mean severity.

    ``mean_severity_points`` is positive for a group that scores lower than the
    other raters of the same units (harsher), as ``severity_points``.
    """
    _need_columns(flags, ["group", "severity_points", "any_flag", "flag_fdr"], "flags_by_group")
    names = ["lenient", "severe", "halo", "central", "favouritism", "bloc", "misfit", "any_flag", "flag_fdr"]
    g = flags.groupby("group", sort=False)
    out = g[names].sum().astype(np.int64)
    out.insert(0, "raters", g.size())
    out["mean_severity_points"] = g["severity_points"].mean()
    return out.reset_index()


def _pair_matrix(pr, pu, pres, nr, nu):
    A = np.zeros((nr, nu))
    M = np.zeros((nr, nu))
    A[pr, pu] = pres
    M[pr, pu] = 1.0
    cnt = M.sum(axis=1)
    mean = A.sum(axis=1) / np.maximum(cnt, 1)
    A = (A - mean[:, None]) * M
    return A, M


def _pair_z(A, M):
    """Fisher z of each rater pair's residual correlation over the units both scored (0 for fewer than 5).

    No baseline is subtracted here: the permutation maxima in :func:`_blocs` are
    the baseline, so a bloc that covers a whole evaluator group is found as
    readily as one that spans groups.
    """
    num = A @ A.T
    sq = (A * A) @ M.T  # sum over the common units of a_i²
    n = M @ M.T
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = num / np.sqrt(sq * sq.T)
    valid = (n >= 5) & np.isfinite(corr)
    np.fill_diagonal(valid, False)
    z = np.arctanh(np.clip(np.where(valid, corr, 0.0), -0.999, 0.999)) * np.sqrt(np.maximum(n - 3, 0))
    z[~valid] = 0.0
    return z


def _blocs(pr, pu, pres, nr, nu, B, min_bloc, rng):
    """Clusters of raters whose residual profiles agree far beyond a permutation baseline."""
    from sklearn.cluster import AgglomerativeClustering

    A, M = _pair_matrix(pr, pu, pres, nr, nu)
    Z = _pair_z(A, M)
    # permutation baseline: each rater's residuals shuffled over the units it scored
    maxima = np.empty(B)
    big = np.where(M > 0, 0.0, np.inf)
    dest = np.argsort(np.where(M > 0, 0, 1), axis=1, kind="stable")
    for b in range(B):
        keys = rng.random(M.shape) + big
        src = np.argsort(keys, axis=1, kind="stable")
        Ap = np.zeros_like(A)
        np.put_along_axis(Ap, dest, np.take_along_axis(A, src, axis=1), axis=1)
        maxima[b] = _pair_z(Ap, M).max()
    z_star = float(maxima.max())
    bloc_id = np.full(nr, -1, dtype=np.int64)
    bloc_z = np.full(nr, np.nan)
    if nr < min_bloc or Z.max() <= z_star:
        return np.where(bloc_id < 0, None, bloc_id).astype(object), bloc_z, z_star
    top = Z.max()
    D = np.clip(top - Z, 0.0, None)
    np.fill_diagonal(D, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=top - z_star
    ).fit_predict(D)
    next_id = 1
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        if len(members) < min_bloc:
            continue
        sub = Z[np.ix_(members, members)]
        mean_z = sub[~np.eye(len(members), dtype=bool)].mean()
        if mean_z > z_star:
            bloc_id[members] = next_id
            bloc_z[members] = (sub.sum(axis=1)) / (len(members) - 1)
            next_id += 1
    return np.where(bloc_id < 0, None, bloc_id).astype(object), bloc_z, z_star


# ---------------------------------------------------------------------------
# session drift
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftResult:
    """Session and presentation-order effects on the rater-adjusted unit scores.

    ``tests``: one row per term (each session's deviation from the mean of the
    sessions, the order slope within each session, and the joint F tests)
    with estimate, se, statistic, p-value and 95% interval;
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
        return self.tests


def session_drift(
    ratings: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    adjust_for_kind: bool = True,
) -> DriftResult:
    """Effect of session and presentation order (fatigue or warm-up) on the scores, with F and t tests.

    A drift hits every rater of a unit alike, so residuals within a unit
    cannot show it: it is estimated across units, from each unit's score
    adjusted for the severity of the raters who scored it (additive model),
    regressed on session (sum-to-zero coding) and the order within each
    session (centred), plus optional unit-level ``covariates`` (a table with a
    ``unit`` column, e.g. the routine score). How much of the units'
    differences the covariates explain is reported (``covariate_r2``), not
    assumed. With the ``units`` table (``unit``, ``kind``) the result shows
    which kinds presented in each session (``composition``) and, when
    ``adjust_for_kind`` and both kinds presented, a kind term compares each
    session with the others within kind (a session of departments only is
    not then read as a difference between districts and departments). The
    test is sound when units are allocated to sessions without regard to
    their quality, or when the covariates capture it.

    What is identifiable: each unit presents in one session only and a drift
    common to all raters moves every score of those units, so no within-rater
    or within-unit comparison can separate it from the quality of the units
    presented then (raters who attend all sessions see the same shift as
    those who attend one). The session contrast is therefore an across-unit
    comparison whose error is the units' own spread of quality (about 5
    points in the demo, ~20 units a session: se ≈ 1 point). The demo's
    evening fatigue (session 2 at −5, about −3.3 against the mean of the
    sessions) is found at p < 0.01; a drift of half that size has the right
    sign but a p-value around 0.05–0.15, and the order slope within a
    session is below the noise. Read the estimate and its interval, not only
    the p-value; covariates shrink the error only as far as they explain the
    units' differences (``covariate_r2``; the demo's routine score explains
    almost none of them).
    """
    _need_columns(ratings, ["rater", "unit", "indicator", "score", "session", "order"], "session_drift")
    unit_table = units
    r = ratings.dropna(subset=["score", "session", "order"])
    if r.empty:
        raise DataError("session_drift: no rating has a score, a session and an order")
    fit = _additive(r.assign(group="all"))
    cell_score = pd.Series(fit.cell, name="adjusted")
    per_unit = cell_score.groupby(fit.cell_unit).mean()
    units = pd.DataFrame({"unit": fit.units[per_unit.index].astype(str), "adjusted": per_unit.to_numpy()})
    slot = r.groupby("unit", observed=True)[["session", "order"]].agg(lambda s: s.mode().iat[0]).reset_index()
    slot["unit"] = slot["unit"].astype(str)
    units = units.merge(slot, on="unit", how="left")
    sessions = sorted(units["session"].unique())
    S = len(sessions)
    if S < 2:
        raise DataError(
            f"session_drift: all scored units were presented in one session ({sessions[0]}); nothing to compare"
        )
    composition = pd.DataFrame()
    kind_names: list[str] = []
    if unit_table is not None:
        _need_columns(unit_table, ["unit", "kind"], "session_drift units")
        kinds = unit_table.assign(unit=unit_table["unit"].astype(str)).set_index("unit")["kind"].astype(str)
        units["kind"] = units["unit"].map(kinds)
        if units["kind"].isna().any():
            raise DataError(
                f"session_drift: unit {units.loc[units['kind'].isna(), 'unit'].iloc[0]!r} is not in the units table"
            )
        composition = pd.crosstab(units["session"], units["kind"]).rename_axis(columns=None)
        composition["units"] = composition.sum(axis=1)
        composition = composition.reset_index()
        kind_levels = sorted(units["kind"].unique())
        if adjust_for_kind and len(kind_levels) > 1:
            for k in kind_levels[1:]:
                units[f"kind_{k}"] = (units["kind"] == k).astype(float)
                kind_names.append(f"kind_{k}")
    cov_names: list[str] = []
    if covariates is not None:
        _need_columns(covariates, ["unit"], "session_drift covariates")
        cov = covariates.assign(unit=covariates["unit"].astype(str)).set_index("unit")
        cov_names = [c for c in cov.columns if pd.api.types.is_numeric_dtype(cov[c])]
        units = units.merge(cov[cov_names].reset_index(), on="unit", how="left")
        units = units.dropna(subset=cov_names)
    s_code = units["session"].map({s: k for k, s in enumerate(sessions)}).to_numpy()
    n = len(units)
    cols, names = [np.ones(n)], ["intercept"]
    for k in range(1, S):  # sum-to-zero: session k vs the mean of sessions
        cols.append((s_code == k).astype(float) - (s_code == 0))
        names.append(f"session_{sessions[k]}")
    order_c = units["order"].to_numpy(float)
    for k in range(S):
        m = s_code == k
        oc = np.where(m, order_c - order_c[m].mean(), 0.0) if m.sum() > 1 else np.zeros(n)
        cols.append(oc)
        names.append(f"order_in_session_{sessions[k]}")
    for c in kind_names + cov_names:
        cols.append(units[c].to_numpy(float) - units[c].mean())
        names.append(c)
    X = np.column_stack(cols)
    y = units["adjusted"].to_numpy(float)
    keep = np.abs(X).sum(axis=0) > 0
    keep[0] = True
    X, names = X[:, keep], [nm for nm, k in zip(names, keep) if k]
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = n - np.linalg.matrix_rank(X)
    if df < 1:
        raise DataError("session_drift: too few units for the terms (no residual degrees of freedom)")
    sigma2 = float(resid @ resid / df)
    XtX_inv = np.linalg.pinv(X.T @ X)
    extra = [i for i, nm in enumerate(names) if nm in kind_names or nm in cov_names]
    covariate_r2 = np.nan
    if extra:
        Xr = np.delete(X, extra, axis=1)
        br, *_ = np.linalg.lstsq(Xr, y, rcond=None)
        ssr_r = float(np.sum((y - Xr @ br) ** 2))
        covariate_r2 = 1.0 - float(resid @ resid) / ssr_r if ssr_r > 0 else np.nan
    rows = []

    def contrast(L, label, kind):
        L = np.atleast_2d(L)
        est = L @ beta
        V = sigma2 * L @ XtX_inv @ L.T
        if L.shape[0] == 1:
            se = float(np.sqrt(V[0, 0]))
            t = float(est[0] / se) if se > 0 else np.nan
            half = float(stats.t.isf(0.025, df) * se)
            rows.append(
                {
                    "term": label,
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
            )
        else:
            F = float(est @ np.linalg.pinv(V) @ est / L.shape[0])
            rows.append(
                {
                    "term": label,
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
            )

    p = len(names)
    s_idx = [i for i, nm in enumerate(names) if nm.startswith("session_")]
    for k, s in enumerate(sessions):
        L = np.zeros(p)
        if k == 0:
            L[s_idx] = -1.0
        else:
            L[names.index(f"session_{s}")] = 1.0
        contrast(L, f"session {s} vs mean of sessions", "session")
    Ls = np.zeros((len(s_idx), p))
    for j, i in enumerate(s_idx):
        Ls[j, i] = 1.0
    contrast(Ls, "session (joint F)", "session")
    o_idx = [i for i, nm in enumerate(names) if nm.startswith("order_in_session_")]
    for i in o_idx:
        L = np.zeros(p)
        L[i] = 1.0
        contrast(L, f"order slope per slot in session {names[i].rsplit('_', 1)[1]}", "order")
    if o_idx:
        Lo = np.zeros((len(o_idx), p))
        for j, i in enumerate(o_idx):
            Lo[j, i] = 1.0
        contrast(Lo, "order within sessions (joint F)", "order")
    for c in kind_names:
        L = np.zeros(p)
        L[names.index(c)] = 1.0
        contrast(L, f"kind {c.removeprefix('kind_')} vs {kind_levels[0]}", "kind")
    for c in cov_names:
        L = np.zeros(p)
        L[names.index(c)] = 1.0
        contrast(L, f"covariate {c}", "covariate")
    units = units.assign(residual=resid + X[:, s_idx + o_idx] @ beta[s_idx + o_idx] if s_idx + o_idx else resid)
    units = units.rename(columns={"residual": "adjusted_for_covariates"})
    units = units.drop(columns=kind_names)
    return DriftResult(
        tests=pd.DataFrame(rows),
        units=units.sort_values(["session", "order"]).reset_index(drop=True),
        composition=composition,
        covariate_r2=covariate_r2,
    )


# ---------------------------------------------------------------------------
# impact on ranks
# ---------------------------------------------------------------------------


def rater_severity(ratings: pd.DataFrame, shrink: bool = True) -> pd.DataFrame:
    """Each rater's severity in score points (positive = harsher) and the adjustment that removes it.

    The severity is the rater's effect in the additive model score =
    cell(unit, indicator) − severity(rater) fitted by least squares to the
    raw 0–100 scores (so it is measured against the other raters of the same
    units; severities average 0 over the ratings). ``se`` is its standard
    error from the spread of the rater's unit means around the model (one
    rater's ratings of one unit count as one observation). ``adjustment`` is
    what :func:`adjusted_ratings` adds to the rater's scores: the severity
    itself, or with ``shrink`` its empirical-Bayes (BLUP) estimate
    ``severity × tau² / (tau² + se²)``, where tau² is the raters' true
    spread (observed variance of the severities less their mean squared
    error, floored at 0): when the severities differ no more than their
    errors would make them, tau² = 0 and nothing is adjusted.
    """
    _need_columns(ratings, ["rater", "unit", "indicator", "score"], "rater_severity")
    r = ratings.dropna(subset=["score"])
    if r["rater"].nunique() < 2:
        raise DataError("rater_severity needs at least 2 raters with scores")
    fit = _additive(r)
    st = _rater_stats(fit)
    severity = -fit.leniency
    se2 = _severity_se2(st["pair_rater"], st["pair_resid"], st["n_pairs"])
    ok = np.isfinite(se2)
    # method of moments: E[severity²] = tau² + se² for each rater (severities are centred at 0)
    tau2 = max(float(np.mean(severity[ok] ** 2 - se2[ok])), 0.0) if ok.any() else 0.0
    if shrink:
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(ok, tau2 / (tau2 + se2), 0.0) if tau2 > 0 else np.zeros(len(severity))
        factor = np.nan_to_num(factor, nan=1.0)  # se² = 0 (an exact fit): no shrinkage
    else:
        factor = np.ones(len(severity))
    out = pd.DataFrame(
        {
            "rater": fit.raters.astype(str),
            "n_units": st["n_pairs"].astype(np.int64),
            "n_ratings": st["n_obs"].astype(np.int64),
            "severity_points": severity,
            "se": np.sqrt(se2),
            "shrinkage": factor,
            "adjustment": severity * factor,
        }
    )
    out.attrs["tau2"] = tau2
    out.attrs["shrink"] = shrink
    return out


def adjusted_ratings(
    ratings: pd.DataFrame, shrink: bool = True, scheme=None, severity: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The ratings with each rater's estimated severity put back: ``score`` + the rater's ``adjustment``.

    Only the raters' constant effects change (see :func:`rater_severity`):
    a harsh rater's scores go up, a lenient one's down, every rating of one
    rater by the same amount, and nothing else — the scheme's aggregation,
    shares and weights then score them as they score the raw ratings. Adjusted
    scores are not clipped to 0–100 (clipping would bring back part of the
    effect). ``score_raw`` keeps the original; ``grade`` is re-derived from the
    adjusted score (clipped) with the ``scheme``, else dropped.
    """
    sev = rater_severity(ratings, shrink=shrink) if severity is None else severity
    adj = ratings["rater"].astype(str).map(sev.set_index("rater")["adjustment"]).fillna(0.0)
    out = ratings.copy()
    out["score_raw"] = ratings["score"]
    out["score"] = ratings["score"].astype(float) + adj.to_numpy(float)
    if "grade" in out.columns:
        if scheme is not None:
            ok = out["score"].notna()
            grade = pd.Series(pd.NA, index=out.index, dtype=object)
            grade[ok] = scheme.grade_of(np.clip(out.loc[ok, "score"].to_numpy(float), 0, 100))
            out["grade"] = (
                grade.astype(ratings["grade"].dtype) if ratings["grade"].dtype == object else grade.astype("string")
            )
        else:
            out = out.drop(columns="grade")
    return out


EXCLUDE_RULES = ("flag_fdr", "any_flag")


def impact(
    dataset,
    scheme,
    flags: pd.DataFrame | None = None,
    fit: MFRMResult | None = None,
    exclude: str = "flag_fdr",
    shrink: bool = True,
) -> pd.DataFrame:
    """Each unit's rank from raw on-site scores, with the raters' severities removed and with flagged raters left out.

    Ranks are within kind (1 = best, or overall if the scheme ranks overall),
    every one computed by :mod:`perflab.scoring` with the scheme's own
    aggregation (trimming), group shares and weights:

    - ``onsite`` / ``rank_raw``: the scheme's on-site score of the ratings as given;
    - ``onsite_adjusted`` / ``rank_adjusted``: of :func:`adjusted_ratings`
      (each rater's estimated severity in points put back, empirical-Bayes
      shrunk with ``shrink``): only the raters change, so with no rater
      effects the adjusted ranks are the raw ranks;
    - ``onsite_excluded`` / ``rank_excluded``: without the raters flagged by
      ``exclude`` — ``"flag_fdr"`` (default: Benjamini–Hochberg across the
      panel) or ``"any_flag"`` (the per-rater rule, with about
      ``n_raters × alpha`` clean raters among them by chance);
    - ``rank_final``, ``rank_final_adjusted``, ``rank_final_excluded``: the
      final ranks with every component;
    - ``fair_average`` / ``rank_fair``: for reference only, the MFRM fair
      average (the bands' scores, indicators weighted equally, no group
      shares or trimming): its moves mix the change of scale with the raters'
      effects, so ``max_shift`` and ``changed`` do not count them.

    ``changed`` marks units whose on-site or final rank moves under the
    adjustment or the exclusion; ``max_shift`` is the largest move.
    """
    from perflab import scoring

    if exclude not in EXCLUDE_RULES:
        raise ValueError(f"impact: exclude must be one of {EXCLUDE_RULES}, got {exclude!r}")
    _check_inputs(dataset.ratings, dataset.raters, dataset.units)
    if fit is None:
        fit = mfrm(dataset.ratings, scheme=scheme)
    if flags is None:
        flags = flag_raters(dataset.ratings, dataset.raters, scheme=scheme, fit=fit)
    _need_columns(flags, ["rater", exclude], "impact flags")
    flagged = set(flags.loc[flags[exclude].astype(bool), "rater"].astype(str))
    base = scoring.score_units(dataset, scheme).set_index("unit")
    kept = dataset.ratings[~dataset.ratings["rater"].astype(str).isin(flagged)]
    if kept.empty:
        raise DataError("impact: every rater is flagged; no scores remain without them")
    excl = scoring.score_units(dataclasses.replace(dataset, ratings=kept), scheme).set_index("unit")
    severity = rater_severity(dataset.ratings, shrink=shrink)
    adj_ratings = adjusted_ratings(dataset.ratings, scheme=scheme, severity=severity)
    adj = scoring.score_units(dataclasses.replace(dataset, ratings=adj_ratings), scheme).set_index("unit")
    out = base[["kind", "zone", "name_zh", "name_en"]].copy()
    out["onsite"] = base["onsite"]
    out["onsite_adjusted"] = adj["onsite"].reindex(out.index)
    out["onsite_excluded"] = excl["onsite"].reindex(out.index)
    out["fair_average"] = fit.fair_average.reindex(out.index.astype(str)).to_numpy()
    by = out["kind"] if scheme.ranking.within == "kind" else None
    out["rank_raw"] = scoring.rank_desc(out["onsite"], by)
    out["rank_adjusted"] = scoring.rank_desc(out["onsite_adjusted"], by)
    out["rank_excluded"] = scoring.rank_desc(out["onsite_excluded"], by)
    out["rank_fair"] = scoring.rank_desc(out["fair_average"], by)
    out["rank_final"] = base["rank"]
    out["rank_final_adjusted"] = adj["rank"].reindex(out.index)
    out["rank_final_excluded"] = excl["rank"].reindex(out.index)
    shifts = pd.concat(
        [
            (out["rank_adjusted"] - out["rank_raw"]).abs(),
            (out["rank_excluded"] - out["rank_raw"]).abs(),
            (out["rank_final_adjusted"] - out["rank_final"]).abs(),
            (out["rank_final_excluded"] - out["rank_final"]).abs(),
        ],
        axis=1,
    )
    out["max_shift"] = shifts.max(axis=1).astype("Int64")
    out["changed"] = (out["max_shift"].fillna(0) > 0).astype(bool)
    out.attrs["excluded_raters"] = sorted(flagged)
    out.attrs["exclude"] = exclude
    out.attrs["severity"] = severity
    return out.reset_index()


def rank_moves(imp: pd.DataFrame) -> pd.DataFrame:
    """How far each correction in an :func:`impact` table moves the on-site ranks: mean and largest move, units moved.

    One row per comparison with the raw ranks: the rater-adjusted ranks, the
    ranks without the flagged raters, and for reference the MFRM fair
    average's (whose moves include its change of scale).
    """
    _need_columns(imp, ["rank_raw", "rank_adjusted", "rank_excluded", "rank_fair"], "rank_moves")
    rows = []
    for col, name in (
        ("rank_adjusted", "rater severity removed"),
        (
            "rank_excluded",
            "flagged raters left out ("
            + {"flag_fdr": "false-discovery flags", "any_flag": "any per-rater flag"}.get(
                imp.attrs.get("exclude"), "flags"
            )
            + ")",
        ),
        ("rank_fair", "MFRM fair average (band scores, equal weights; reference)"),
    ):
        ok = imp["rank_raw"].notna() & imp[col].notna()
        d = (imp.loc[ok, col].astype(float) - imp.loc[ok, "rank_raw"].astype(float)).abs()
        rows.append(
            {
                "comparison": name,
                "column": col,
                "moves": float(d.mean()) if len(d) else np.nan,
                "units_moved": int((d > 0).sum()),
                "max_shift": int(d.max()) if len(d) else 0,
                "units": int(ok.sum()),
            }
        )
    return pd.DataFrame(rows)
