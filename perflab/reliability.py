"""How trustworthy are the scores? ICC, Krippendorff's alpha, G-study variance components and D-study panel sizes.

pingouin style: a long DataFrame and column names in, a tidy table out.

- :func:`icc` — the six Shrout & Fleiss (1979) forms. Balanced data give the
  classical two-way ANOVA (identical to ``pingouin.intraclass_corr``);
  unbalanced or sparse data (not every rater scores every target) use
  Henderson's Method III (fitting constants) for the two-way random model on
  the cells present, and the unbalanced one-way ANOVA (``n0``) for ICC1, so no
  target is dropped.
- :func:`krippendorff_alpha` — nominal, ordinal, interval and ratio alpha from
  the coincidence matrix (Krippendorff 2011), missing values allowed, with an
  optional bootstrap interval over units.
- :func:`g_study` — variance components of a balanced random-effects design,
  crossed or with a facet nested in another (Brennan 2001, ANOVA/EMS
  estimators); ``.d_study(sizes)`` gives the generalizability (``g``) and
  dependability (``phi``) coefficients for other panel sizes.
- :func:`panel_sizes` — per evaluator group: the G-study of units × raters ×
  indicators and the number of raters needed for ``g >= target``.

For rankings (issue 10): a reliability near 1 does not make adjacent ranks safe.

- :func:`icc_by` — the ICCs pooled and per kind (the rankings are within
  kind); every ICC table has a column ``k``, the raters it is the reliability of.
- :func:`effective_raters` — Kish's effective number of raters of each unit
  under the group shares and the scheme's trimmed mean.
- :func:`score_precision` — each unit's SEM from its raters' spread as the
  scheme weighs them, the SE of the difference of every pair of units ranked
  next to each other, and the share of adjacent gaps within z SE, per
  ranking group (:class:`ScorePrecision`).
- :func:`composite_g_study` / :func:`onsite_g_study` — the multivariate
  G-study (p• × r°) of the groups' composite with the shares as a-priori
  weights, and its D-study (:class:`CompositeGStudy`): g, phi, SEMs, the g a
  given SEM needs and the panel that reaches it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from perflab.errors import DataError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _need_columns(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(
            f"{what}: no column(s) {', '.join(map(repr, missing))} in the data; it has {', '.join(map(str, data.columns))}"
        )


# ---------------------------------------------------------------------------
# ICC
# ---------------------------------------------------------------------------

_ICC_DESCRIPTION = {
    "ICC1": "Single rater, one-way random (raters interchangeable)",
    "ICC2": "Single rater, two-way random, absolute agreement",
    "ICC3": "Single rater, two-way mixed, consistency",
    "ICC1k": "Mean of k raters, one-way random",
    "ICC2k": "Mean of k raters, two-way random, absolute agreement",
    "ICC3k": "Mean of k raters, two-way mixed, consistency",
}


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, alpha: float = 0.05) -> pd.DataFrame:
    """The six Shrout–Fleiss intraclass correlations with F test, p-value and (1 − alpha) interval.

    Several ratings of one target by one rater (e.g. one per indicator) are
    averaged first. Balanced data: the classical two-way ANOVA (as
    ``pingouin.intraclass_corr``). Unbalanced data: variance components by
    Henderson's Method III on the cells present (targets after raters and
    raters after targets), plugged into the same formulas with the effective
    number of raters per target ``k`` (``n0`` for the one-way forms); F tests
    are the exact fitting-constants tests, intervals the balanced-case
    formulas with these effective sizes (approximate). ``result.attrs`` records
    the method and sizes. Non-numeric ratings raise a DataError naming the
    value; a zero residual (exact agreement or an exact additive fit) gives
    F = inf, p = 0 and an interval collapsed on the estimate where it is undefined.

    Column ``k`` names the number of raters each coefficient is the
    reliability of: 1 for the single-rater forms, the (effective) number of
    raters per target for the averaged forms (``n0`` for ICC1k). A reliability
    without its k says nothing: ICC(k) of 148 raters near 1 is compatible with
    a single rater's ICC of 0.5.
    """
    _need_columns(data, [targets, raters, ratings], "icc")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    d = data[[targets, raters, ratings]].dropna(subset=[targets, raters, ratings])
    num = pd.to_numeric(d[ratings], errors="coerce")
    if num.isna().any():
        raise DataError(f"icc: rating {d[ratings][num.isna()].iloc[0]!r} in column {ratings!r} is not a number")
    d = d.assign(**{ratings: num.astype(float)})
    cells = d.groupby([targets, raters], observed=True, sort=True)[ratings].mean().reset_index()
    t_codes, t_levels = pd.factorize(cells[targets], sort=True)
    r_codes, r_levels = pd.factorize(cells[raters], sort=True)
    n, k_all, N = len(t_levels), len(r_levels), len(cells)
    all_targets = pd.unique(data[targets].dropna())
    unrated = sorted(set(map(str, all_targets)) - set(map(str, t_levels)))
    if n < 2:
        raise DataError(f"icc needs at least 2 targets with ratings, got {n}")
    if k_all < 2:
        raise DataError(f"icc needs at least 2 raters, got {k_all} ({', '.join(map(str, r_levels))})")
    y = cells[ratings].to_numpy(float)
    per_target = np.bincount(t_codes, minlength=n)
    if per_target.max() < 2:
        raise DataError("icc needs at least one target scored by 2 or more raters")

    balanced = N == n * k_all
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
    df_t, df_r = n - n_blocks, k_all - n_blocks
    R_t = ss_full - ss_r  # targets after raters
    R_r = ss_full - ss_t  # raters after targets
    # coefficients of the variance components in E[R(.)] (Henderson III); 0/1 cells after averaging
    h_t = N - k_all
    h_r = N - n
    var_t = (R_t - df_t * mse) / h_t
    var_r = (R_r - df_r * mse) / h_r
    k = h_t / df_t  # effective raters per target (= k when balanced)
    msb = mse + k * var_t  # = R_t / df_t
    # pingouin's formulas take msj with the n of targets: express var_r on that scale
    msj_n = mse + n * var_r

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

        q = 1 - alpha / 2
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
    out = pd.DataFrame(
        {
            "Type": list(_ICC_DESCRIPTION),
            "Description": list(_ICC_DESCRIPTION.values()),
            "ICC": values,
            "k": [1.0, 1.0, 1.0, float(n0), float(k), float(k)],
            "F": [f1, f2, f2, f1, f2, f2],
            "df1": [df_b, df_t, df_t, df_b, df_t, df_t],
            "df2": [df_w, df_e, df_e, df_w, df_e, df_e],
            "pval": [p1, p2, p2, p1, p2, p2],
            "CI95_low": lows,
            "CI95_high": highs,
        }
    )
    out.attrs.update(
        method="anova" if balanced else "henderson3",
        n_targets=n,
        n_raters=k_all,
        n_cells=N,
        k=float(k),
        n0=float(n0),
        targets_without_ratings=unrated,
        var_target=float(var_t),
        var_rater=float(var_r),
        var_residual=float(mse),
    )
    return out


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


# ---------------------------------------------------------------------------
# Krippendorff's alpha
# ---------------------------------------------------------------------------


def krippendorff_alpha(
    data: pd.DataFrame,
    unit: str,
    rater: str,
    value: str,
    level: str = "nominal",
    n_boot: int = 0,
    rng: np.random.Generator | None = None,
    ci: float = 0.95,
    cluster: str | None = None,
):
    """Krippendorff's alpha for nominal, ordinal, interval or ratio values; missing values allowed.

    Computed from the coincidence matrix of pairable values (Krippendorff
    2011): units with fewer than two values do not count. With ``n_boot > 0``
    returns ``(alpha, array([low, high]))``: a percentile interval from
    resampling units with replacement (seeded ``rng``).

    ``cluster``: a column grouping the units (the evaluated unit of each
    unit × indicator item). The bootstrap then resamples whole clusters, as
    the clusters, not the items, are the independent draws: the seven grades
    one evaluator gives one unit share that evaluator's view of the unit, so
    resampling items one by one understates the interval (Field & Welsh 2007,
    the cluster bootstrap). Each unit must lie in one cluster.
    """
    cols = [unit, rater, value] + ([cluster] if cluster is not None else [])
    _need_columns(data, cols, "krippendorff_alpha")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    d = data[cols].dropna(subset=[value])
    if cluster is not None:
        if d[cluster].isna().any():
            raise DataError(f"krippendorff_alpha: unit {d.loc[d[cluster].isna(), unit].iloc[0]!r} has no {cluster}")
        spread = d.groupby(unit, sort=False)[cluster].nunique()
        if (spread > 1).any():
            raise DataError(
                f"krippendorff_alpha: unit {spread.index[np.argmax(spread.to_numpy() > 1)]!r} lies in "
                f"more than one {cluster}; a cluster must hold whole units"
            )
    dup = d.duplicated([unit, rater])
    if dup.any():
        row = d[dup].iloc[0]
        raise DataError(f"krippendorff_alpha: rater {row[rater]!r} gives unit {row[unit]!r} more than one value")
    if level != "nominal":
        vals = pd.to_numeric(d[value], errors="coerce")
        if vals.isna().any():
            raise DataError(
                f"krippendorff_alpha: {level} level needs numeric values; got {d[value][vals.isna()].iloc[0]!r}"
            )
        d = d.assign(**{value: vals})
    u_codes, _ = pd.factorize(d[unit])
    v_codes, v_levels = pd.factorize(d[value], sort=True)
    n_u, n_v = int(u_codes.max()) + 1 if len(u_codes) else 0, len(v_levels)
    counts = np.zeros((n_u, n_v))
    np.add.at(counts, (u_codes, v_codes), 1.0)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts = counts[pairable]
    m = m[pairable]
    if counts.sum() == 0 or n_v < 1:
        raise DataError("krippendorff_alpha: no unit has two or more values (nothing is pairable)")
    delta = _delta(np.asarray(v_levels), level, counts.sum(axis=0))
    a = _alpha_from_counts(counts, m, delta, level, np.asarray(v_levels))
    if n_boot <= 0:
        return a
    rng = rng if rng is not None else np.random.default_rng(0)
    if cluster is None:
        w = rng.multinomial(len(m), np.full(len(m), 1.0 / len(m)), size=n_boot).astype(float)
    else:
        first = d.drop_duplicates(unit).assign(_u=lambda x: pd.factorize(x[unit])[0]).set_index("_u")[cluster]
        c_codes, _ = pd.factorize(first.sort_index().to_numpy()[pairable])
        n_c = int(c_codes.max()) + 1
        wc = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot).astype(float)
        w = wc[:, c_codes]
    boots = np.array([_alpha_from_counts(counts, m, None, level, np.asarray(v_levels), weights=wb) for wb in w])
    lo, hi = np.nanquantile(boots, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return a, np.array([lo, hi])


def _delta(v, level, n_c):
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    v = v.astype(float)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(s != 0, ((v[:, None] - v[None, :]) / np.where(s != 0, s, 1.0)) ** 2, 0.0)
        return out
    # ordinal: (sum of n_g from c to k - (n_c + n_k)/2)^2
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    i, j = np.meshgrid(np.arange(len(v)), np.arange(len(v)), indexing="ij")
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return (cum[hi + 1] - cum[lo] - (n_c[i] + n_c[j]) / 2.0) ** 2


def _alpha_from_counts(counts, m, delta, level, levels, weights=None):
    w = np.ones(len(m)) if weights is None else weights
    # coincidences: o_ck = sum_u w_u (n_uc n_uk - [c=k] n_uc) / (m_u - 1)
    cw = counts * (w / (m - 1))[:, None]
    o = cw.T @ counts - np.diag(cw.sum(axis=0))
    n_c = o.sum(axis=1)
    n_tot = n_c.sum()
    if n_tot <= 1:
        return np.nan
    if delta is None:
        delta = _delta(levels, level, n_c)
    do = (o * delta).sum()
    de = (np.outer(n_c, n_c) * delta).sum() / (n_tot - 1)
    return float(1.0 - do / de) if de > 0 else np.nan


# ---------------------------------------------------------------------------
# G-study / D-study
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GStudy:
    """Variance components of a balanced random-effects design and the D-study that uses them.

    ``components``: effect, variance, df, ms, and the facets in the effect
    (``index``, nesting facets included). ``sizes``: levels of each facet in
    the G-study (for a nested facet: levels within one level of its parent).
    """

    components: pd.DataFrame
    object: str
    facets: tuple[str, ...]
    nested: Mapping[str, str]
    sizes: Mapping[str, int]
    index: Mapping[str, frozenset] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        c = self.components.copy()
        total = c["variance"].clip(lower=0).sum()
        c["share"] = c["variance"].clip(lower=0) / total if total > 0 else np.nan
        return c[["effect", "variance", "share", "df", "ms"]]

    def d_study(self, sizes: Mapping[str, int | Sequence[int]] | None = None, fixed: Sequence[str] = ()):
        """g (relative) and phi (absolute) coefficients for panel sizes ``sizes`` (facet -> n or list of n).

        Facets not given keep their G-study size. Facets in ``fixed`` are fixed
        in the D-study (Brennan 2001, ch. 4): their interactions with the object
        join the universe-score variance. All scalars: a Series; any list: a
        DataFrame with one row per combination.
        """
        sizes = dict(sizes or {})
        unknown = set(sizes) - set(self.facets)
        if unknown:
            raise ValueError(f"d_study: unknown facet(s) {sorted(unknown)}; facets are {', '.join(self.facets)}")
        bad_fixed = set(fixed) - set(self.facets)
        if bad_fixed:
            raise ValueError(f"d_study: unknown fixed facet(s) {sorted(bad_fixed)}")
        grid = {f: np.atleast_1d(sizes.get(f, self.sizes[f])) for f in self.facets}
        for f, vals in grid.items():
            if np.any(np.asarray(vals) < 1):
                raise ValueError(f"d_study: size of {f!r} must be >= 1, got {list(vals)}")
        rows = []
        for combo in itertools.product(*grid.values()):
            n = dict(zip(grid, (int(x) for x in combo)))
            rows.append({**n, **self._coefficients(n, set(fixed))})
        out = pd.DataFrame(rows)
        if all(np.ndim(sizes.get(f, 0)) == 0 for f in sizes):
            return out.iloc[0]
        return out

    def _coefficients(self, n, fixed):
        p = self.object
        tau = delta = Delta = 0.0
        for effect, var in zip(self.components["effect"], self.components["variance"]):
            var = max(float(var), 0.0)  # negative estimates set to zero (Brennan's convention)
            idx = self.index[effect]
            others = idx - {p}
            div = float(np.prod([n[f] for f in others])) if others else 1.0
            random_part = others - fixed
            if p in idx:
                if not random_part:
                    tau += var / div
                else:
                    delta += var / div
            elif random_part:
                Delta += var / div
        Delta += delta
        g = tau / (tau + delta) if tau + delta > 0 else np.nan
        phi = tau / (tau + Delta) if tau + Delta > 0 else np.nan
        return {"var_object": tau, "rel_error": delta, "abs_error": Delta, "g": g, "phi": phi}


def g_study(
    data: pd.DataFrame,
    score: str,
    object: str,
    facets: Sequence[str],
    nested: Mapping[str, str] | None = None,
) -> GStudy:
    """Variance components (ANOVA / expected mean squares) of object × facets, crossed or nested.

    ``nested={"rater": "group"}`` means raters are nested in groups (each rater
    belongs to one group); rater labels may repeat across groups. The design
    must be balanced: every combination present once (replicates are
    averaged), the same number of nested levels in each parent. The last
    (highest-order) effect is confounded with error (``...,e``). Negative
    estimates are reported as estimated and set to zero in the D-study.
    """
    facets = list(facets)
    nested = dict(nested or {})
    factors = [object] + facets
    _need_columns(data, [score] + factors, "g_study")
    if len(set(factors)) != len(factors):
        raise ValueError(f"g_study: object and facets must be distinct, got {factors}")
    for child, parent in nested.items():
        if child not in facets or parent not in factors:
            raise ValueError(f"g_study: nested {child!r} in {parent!r}: both must be facets of the design")
        if parent == object:
            raise ValueError("g_study: facets nested in the object of measurement are not supported")
    d = data[factors + [score]].copy()
    d[score] = pd.to_numeric(d[score], errors="coerce")
    d = d.dropna()
    cells = d.groupby(factors, observed=True, sort=True)[score].mean().reset_index()
    # levels: a nested facet is coded within its parent
    codes, sizes = {}, {}
    for f in factors:
        if f in nested:
            parent = nested[f]
            within = cells.groupby(parent, observed=True)[f].transform(lambda s: pd.factorize(s, sort=True)[0])
            per_parent = cells.groupby(parent, observed=True)[f].nunique()
            if per_parent.nunique() != 1:
                raise DataError(
                    f"g_study: {f} nested in {parent} needs the same number of {f} levels in each {parent}; "
                    f"got {per_parent.to_dict()}"
                )
            codes[f] = within.to_numpy()
            sizes[f] = int(per_parent.iloc[0])
        else:
            codes[f], lv = pd.factorize(cells[f], sort=True)
            sizes[f] = len(lv)
    for f, s in sizes.items():
        if s < 2:
            raise DataError(f"g_study: facet {f!r} has {s} level; a variance needs at least 2")
    shape = tuple(sizes[f] for f in factors)
    full = int(np.prod(shape))
    if len(cells) != full:
        raise DataError(
            f"g_study needs a balanced design: {full - len(cells)} of {full} {' × '.join(factors)} cells are missing "
            "(run it on a complete block, e.g. per session, or use icc for unbalanced data)"
        )
    Y = np.full(shape, np.nan)
    Y[tuple(codes[f] for f in factors)] = cells[score].to_numpy(float)
    if np.isnan(Y).any():
        raise DataError(
            "g_study: duplicated cells after coding nested facets (is each nested level in one parent only?)"
        )

    # effects: subsets of factors, a nested facet always with its parent (and the parent's parents)
    def closure(s):
        s = set(s)
        changed = True
        while changed:
            changed = False
            for c, p in nested.items():
                if c in s and p not in s:
                    s.add(p)
                    changed = True
        return frozenset(s)

    effects = []
    for r in range(1, len(factors) + 1):
        for combo in itertools.combinations(factors, r):
            idx = closure(combo)
            if idx in [e[0] for e in effects]:
                continue
            effects.append((idx, _primary(idx, nested)))
    # order by size of index set
    effects.sort(key=lambda e: (len(e[0]), [factors.index(f) for f in sorted(e[0], key=factors.index)]))
    axes = {f: i for i, f in enumerate(factors)}
    means = {}

    def mean_over(keep):
        keep = frozenset(keep)
        if keep not in means:
            drop = tuple(axes[f] for f in factors if f not in keep)
            means[keep] = Y.mean(axis=drop, keepdims=True) if drop else Y
        return means[keep]

    rows = []
    for idx, primary in effects:
        nest = idx - primary
        est = 0.0
        # inclusion-exclusion over subsets T with nest ⊆ T ⊆ idx
        prim = sorted(primary, key=factors.index)
        for r in range(len(prim) + 1):
            for sub in itertools.combinations(prim, len(prim) - r):
                est = est + (-1) ** r * mean_over(nest | frozenset(sub))
        est = np.broadcast_to(est, shape)
        ss = float((est**2).sum())
        df = int(np.prod([sizes[f] - 1 for f in primary]) * np.prod([sizes[f] for f in nest]))
        rows.append({"idx": idx, "primary": primary, "ss": ss, "df": df, "ms": ss / df})
    # expected mean squares: E[MS_a] = sum over b with idx_a ⊆ idx_b of (prod of sizes not in idx_b) var_b
    m = len(rows)
    C = np.zeros((m, m))
    for a, ra in enumerate(rows):
        for b, rb in enumerate(rows):
            if ra["idx"] <= rb["idx"]:
                C[a, b] = np.prod([sizes[f] for f in factors if f not in rb["idx"]])
    var = np.linalg.solve(C, np.array([r["ms"] for r in rows]))
    names = [_effect_name(r["idx"], r["primary"], factors) for r in rows]
    names[-1] = names[-1] + ",e"
    comp = pd.DataFrame(
        {
            "effect": names,
            "variance": var,
            "df": [r["df"] for r in rows],
            "ms": [r["ms"] for r in rows],
            "index": [" ".join(sorted(r["idx"], key=factors.index)) for r in rows],
        }
    )
    return GStudy(
        components=comp,
        object=object,
        facets=tuple(facets),
        nested=nested,
        sizes={f: sizes[f] for f in facets},
        index={n: r["idx"] for n, r in zip(names, rows)},
    )


def _primary(idx, nested):
    """Facets of an effect that are not there only as the parent of a nested facet in it."""
    parents = {p for c, p in nested.items() if c in idx}
    return frozenset(f for f in idx if f not in parents)


def _effect_name(idx, primary, factors):
    prim = "×".join(sorted(primary, key=factors.index))
    nest = idx - primary
    return f"{prim}:{'×'.join(sorted(nest, key=factors.index))}" if nest else prim


# ---------------------------------------------------------------------------
# panel sizes per evaluator group
# ---------------------------------------------------------------------------


def panel_sizes(
    ratings: pd.DataFrame,
    raters: pd.DataFrame,
    target: float = 0.8,
    fixed: Sequence[str] = ("indicator",),
    max_raters: int = 1000,
) -> pd.DataFrame:
    """Per evaluator group: units × raters × indicators variance components and the raters needed for g ≥ target.

    Within a group, raters who scored the same set of units form a complete
    block (e.g. the grassroots representatives of one session); each block's
    G-study is run and the components pooled (weighted by units × raters), so
    the sparse overall design needs no imputation. Indicators are a fixed facet
    by default (the same scoring sheet every year). Blocks with fewer than 2
    raters or 2 units are skipped; ``n_raters_used`` says how many raters count.
    ``result.attrs["curves"]``: g and phi for 1..max_raters raters per group.
    """
    _need_columns(ratings, ["rater", "unit", "indicator", "score"], "panel_sizes")
    _need_columns(raters, ["rater", "group"], "panel_sizes")
    if not 0 < target < 1:
        raise ValueError(f"target must lie in (0, 1), got {target}")
    unknown = ~ratings["rater"].isin(raters["rater"])
    if unknown.any():
        raise DataError(f"panel_sizes: rater {ratings.loc[unknown, 'rater'].iloc[0]!r} is not in the raters table")
    r = ratings.dropna(subset=["score"]).merge(raters[["rater", "group"]], on="rater", how="left")
    if r["group"].isna().any():
        raise DataError(f"panel_sizes: rater {r.loc[r['group'].isna(), 'rater'].iloc[0]!r} has no group")
    n_ind = r["indicator"].nunique()
    rows, curves = [], []
    for group, sub in r.groupby("group", sort=True, observed=True):
        full = sub.groupby(["rater", "unit"], observed=True)["indicator"].nunique()
        complete = full[full == n_ind].reset_index()
        sets = complete.groupby("rater")["unit"].agg(lambda s: "\x1f".join(sorted(map(str, s))))
        comps, weights, n_used, panel = [], [], 0, []
        for key, members in sets.groupby(sets.astype(object)):
            units = key.split("\x1f")
            rids = list(members.index)
            if len(rids) < 2 or len(units) < 2:
                continue
            block = sub[sub["rater"].isin(rids) & sub["unit"].isin(units)]
            gs = g_study(block, "score", "unit", ["rater", "indicator"])
            comps.append(gs.components.set_index("effect")["variance"])
            weights.append(len(units) * len(rids))
            n_used += len(rids)
            panel.append((len(rids), len(units)))
        base = {"group": group, "n_raters": sub["rater"].nunique(), "n_raters_used": n_used}
        if not comps:
            rows.append(
                {
                    **base,
                    "raters_per_unit": np.nan,
                    "g": np.nan,
                    "phi": np.nan,
                    "raters_needed_g": np.nan,
                    "raters_needed_phi": np.nan,
                }
            )
            continue
        pooled = (pd.concat(comps, axis=1) * np.array(weights)).sum(axis=1) / sum(weights)
        ref = gs  # same structure for every block
        pooled_gs = GStudy(
            components=ref.components.assign(variance=pooled.reindex(ref.components["effect"]).to_numpy()),
            object="unit",
            facets=("rater", "indicator"),
            nested={},
            sizes={
                "rater": int(round(np.average([p[0] for p in panel], weights=[p[1] for p in panel]))),
                "indicator": n_ind,
            },
            index=ref.index,
        )
        per_unit = sub.groupby("unit")["rater"].nunique().mean()
        now = pooled_gs.d_study({"rater": max(int(round(per_unit)), 1)}, fixed=fixed)
        grid = pooled_gs.d_study({"rater": list(range(1, max_raters + 1))}, fixed=fixed)
        curves.append(grid.assign(group=group)[["group", "rater", "g", "phi"]])
        need_g = grid.loc[grid["g"] >= target, "rater"]
        need_phi = grid.loc[grid["phi"] >= target, "rater"]
        row = {
            **base,
            "raters_per_unit": per_unit,
            "g": now["g"],
            "phi": now["phi"],
            "raters_needed_g": int(need_g.min()) if len(need_g) else np.nan,
            "raters_needed_phi": int(need_phi.min()) if len(need_phi) else np.nan,
        }
        for eff, v in pooled.items():
            row[f"var_{eff}"] = v
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["curves"] = (
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["group", "rater", "g", "phi"])
    )
    return out


# ---------------------------------------------------------------------------
# ICC per kind, effective number of raters
# ---------------------------------------------------------------------------


def icc_by(
    data: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    by: str,
    alpha: float = 0.05,
    overall: str = "all",
) -> pd.DataFrame:
    """:func:`icc` pooled over all targets (``by`` = ``overall``) and then for each level of column ``by``.

    Units of different kinds are ranked separately, so the reliability that
    matters for a ranking is the one within its kind: a pooled ICC counts the
    differences between kinds as true variance. One row per level and ICC
    form, with the column ``by`` first; ``attrs["by"]`` holds each level's
    :func:`icc` attrs (variance components, k).
    """
    _need_columns(data, [targets, raters, ratings, by], "icc_by")
    if data[by].isna().any():
        raise DataError(f"icc_by: target {data.loc[data[by].isna(), targets].iloc[0]!r} has no {by}")
    spread = data.groupby(targets, sort=False)[by].nunique()
    if (spread > 1).any():
        raise DataError(f"icc_by: target {spread.index[np.argmax(spread.to_numpy() > 1)]!r} has more than one {by}")
    parts, attrs = [], {}
    levels = [(overall, data)] + [(str(k), sub) for k, sub in data.groupby(by, sort=True, observed=True)]
    for level, sub in levels:
        out = icc(sub, targets, raters, ratings, alpha=alpha)
        attrs[level] = dict(out.attrs)
        out.insert(0, by, level)
        parts.append(out)
    res = pd.concat(parts, ignore_index=True)
    res.attrs["by"] = attrs
    return res


def _kept(n: np.ndarray, trim: int) -> np.ndarray:
    """Number of values a trimmed mean averages: n − 2·trim, or the one or two middle values (the median) when n ≤ 2·trim."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 2 * trim, n - 2 * trim, np.where(n % 2 == 1, 1.0, np.minimum(n, 2.0)))


def _with_groups(ratings: pd.DataFrame, raters: pd.DataFrame, what: str) -> pd.DataFrame:
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


def effective_raters(ratings: pd.DataFrame, raters: pd.DataFrame, scheme) -> pd.DataFrame:
    """Per unit: raters, values the scheme's aggregation keeps, and the effective number of raters under the shares.

    The on-site score gives each rater of group g the weight s_g / m_g, with
    s_g the group's share (rescaled over the groups that scored the unit) and
    m_g the number of that group's values the aggregation averages (all n_g
    raters for a mean; n_g − 2·trim for a trimmed mean). The effective number
    of raters is Kish's (Σw)² / Σw² = 1 / Σ_g s_g² / m_g: the number of equally
    weighted raters whose mean has the same variance, if all raters scatter
    alike. It counts trimmed values as lost, which is conservative: for
    well-behaved scores a trimmed mean is nearly as precise as the full mean
    (:func:`score_precision` uses the trimmed mean's own variance instead).
    Columns: unit, n_raters, n_kept, k_effective, k_effective_all (the same
    with every rater counted, as if the groups were averaged untrimmed).
    """
    r = _with_groups(ratings, raters, "effective_raters")
    shares = scheme.shares
    missing = sorted(set(r["group"]) - set(shares.index))
    if missing:
        raise DataError(f"effective_raters: group {missing[0]!r} is not a group of scheme {scheme.name!r}")
    per = r.groupby(["unit", "group"], observed=True)["rater"].nunique().rename("n").reset_index()
    per["share"] = shares.reindex(per["group"]).to_numpy()
    per = per[per["share"] > 0]
    per["share"] = per["share"] / per.groupby("unit")["share"].transform("sum")
    per["kept"] = _kept(per["n"].to_numpy(), scheme.aggregation.trim)
    per["w2_kept"] = per["share"] ** 2 / per["kept"]
    per["w2_all"] = per["share"] ** 2 / per["n"]
    g = per.groupby("unit", sort=True)
    out = pd.DataFrame(
        {
            "n_raters": g["n"].sum().astype(int),
            "n_kept": g["kept"].sum(),
            "k_effective": 1.0 / g["w2_kept"].sum(),
            "k_effective_all": 1.0 / g["w2_all"].sum(),
        }
    )
    return out.reset_index()


# ---------------------------------------------------------------------------
# precision of each unit's score and of the ranking
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePrecision:
    """Rater-sampling error of each unit's score and of the gaps between units ranked next to each other.

    ``units``: unit, kind, rank_group, score, rank, sem, n_raters,
    k_effective. ``adjacent``: per ranking group, each pair of units ranked
    next to each other: rank of the upper one, both units, the gap, the
    standard error of the difference, the gap in standard errors and
    ``within_noise`` (gap < z · SE). ``influence``: raters × units, each
    rater's contribution to the error of each unit's score; the variance of
    any difference of scores is the sum of squares of the difference of
    columns. ``score``: "onsite" or "final"; ``z``: the multiple of the SE.
    """

    units: pd.DataFrame
    adjacent: pd.DataFrame
    influence: pd.DataFrame = field(repr=False)
    score: str = "onsite"
    z: float = 2.0

    def se_difference(self, a, b) -> float:
        """Standard error of score(a) − score(b): rater effects shared by the two units cancel."""
        for u in (a, b):
            if u not in self.influence.columns:
                raise KeyError(f"unit {u!r} has no {self.score} score")
        return float(np.sqrt(((self.influence[a] - self.influence[b]) ** 2).sum()))

    def summary(self) -> pd.DataFrame:
        """Per ranking group, then all groups pooled: units, SEM, gaps, SE of differences, share of gaps within noise."""
        rows = []
        groups = list(pd.unique(self.units["rank_group"].dropna()))
        for name in groups + ["all"]:
            u = self.units if name == "all" else self.units[self.units["rank_group"] == name]
            u = u[u["score"].notna()]
            a = self.adjacent if name == "all" else self.adjacent[self.adjacent["rank_group"] == name]
            rows.append(
                {
                    "rank_group": name,
                    "units": len(u),
                    "raters_per_unit": u.loc[u["n_raters"] > 0, "n_raters"].mean(),
                    "k_effective": u.loc[u["n_raters"] > 0, "k_effective"].mean(),
                    "median_sem": u["sem"].median(),
                    "max_sem": u["sem"].max(),
                    "median_gap": a["gap"].median(),
                    "median_se_difference": a["se_difference"].median(),
                    "pairs": len(a),
                    "share_within_noise": a["within_noise"].mean() if len(a) else np.nan,
                }
            )
        out = pd.DataFrame(rows)
        out.attrs["z"] = self.z
        return out


def _influence(dataset, scheme, units: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
    """(raters × units) each rater's first-order contribution to the deviation of each unit's on-site score.

    Within a unit, indicator and group the aggregation is a mean or a
    trimmed mean; the trimmed mean's influence is the winsorized deviation
    divided by the number of values kept (Tukey & McLaughlin 1963), the
    mean's the deviation divided by n. Scaled by √(n/(n−1)) so that the sum
    of squares is the unbiased variance estimate (Brennan 2001, §5.4, the
    conditional SEM, when there is one group and no trimming). Groups are
    weighted by their shares and indicators by their weights, both as the
    scheme rescales them over what the unit has.
    """
    from perflab.composite import effective_weights
    from perflab.scoring import group_cube, group_scores

    r = _with_groups(dataset.ratings, dataset.raters, "score_precision")
    trim = scheme.aggregation.trim
    keys = ["unit", "indicator", "group"]
    r = r.sort_values(keys + ["score"], kind="mergesort").reset_index(drop=True)
    g = r.groupby(keys, sort=False, observed=True)["score"]
    pos = g.cumcount().to_numpy()
    n = g.transform("size").to_numpy()
    x = r["score"].to_numpy(float)
    idx = np.arange(len(x))
    start = idx - pos
    trimmed = n > 2 * trim
    if trim > 0:
        lo = x[np.where(trimmed, start + trim, idx)]
        hi = x[np.where(trimmed, start + n - trim - 1, idx)]
        xw = np.where(trimmed, np.clip(x, lo, hi), x)
    else:
        xw = x
    mean_w = pd.Series(xw).groupby([r[k] for k in keys], sort=False, observed=True).transform("mean").to_numpy()
    denom = np.where(trimmed, n - 2 * trim, n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n > 1, np.sqrt(n / np.maximum(n - 1, 1)), 0.0)
    psi = (xw - mean_w) / denom * scale

    groups = scheme.group_ids
    cube = group_cube(group_scores(dataset, scheme), units, scheme.indicator_ids, groups)
    S = effective_weights(cube, scheme.shares.reindex(groups).to_numpy(float))
    from perflab.composite import weighted_mean

    ind = weighted_mean(cube, scheme.shares.reindex(groups).to_numpy(float))
    W = effective_weights(ind, scheme.weights.reindex(scheme.indicator_ids).to_numpy(float))
    ui = units.get_indexer(r["unit"])
    ii = pd.Index(scheme.indicator_ids).get_indexer(r["indicator"])
    gi = pd.Index(groups).get_indexer(r["group"])
    ok = (ui >= 0) & (ii >= 0) & (gi >= 0)
    coef = np.zeros(len(x))
    coef[ok] = W[ui[ok], ii[ok]] * S[ui[ok], ii[ok], gi[ok]]
    rater_codes, rater_ids = pd.factorize(r["rater"], sort=True)
    infl = np.zeros((len(rater_ids), len(units)))
    np.add.at(infl, (rater_codes[ok], ui[ok]), coef[ok] * psi[ok])
    n_raters = np.zeros(len(units))
    seen = r.loc[ok, ["rater", "unit"]].drop_duplicates()
    np.add.at(n_raters, units.get_indexer(seen["unit"]), 1.0)
    return pd.DataFrame(infl, index=pd.Index(rater_ids, name="rater"), columns=units), n_raters


def score_precision(dataset, scheme, score: str = "onsite", z: float = 2.0) -> ScorePrecision:
    """Standard error of each unit's score from the sampling of raters, and how many adjacent ranks it can tell apart.

    The error of a unit's on-site score is the spread of its raters around
    their group's aggregate, weighted as the scheme weighs them (see
    :func:`_influence`): with one group and a plain mean this is Brennan's
    (2001, §5.4) conditional absolute SEM, √(Σ_r (x_pr − x̄_p)² / (n(n − 1))).
    Severity of the raters counts in the SEM of a unit; in the difference of
    two units scored by the same raters it cancels, so each adjacent pair gets
    its own SE of the difference. ``score="final"``: the same for the final
    score, where the on-site score enters with its effective weight and an
    imputed on-site score (``impute_mean``) carries the error of the kind's
    mean. Pairs are formed within the scheme's ranking groups (kinds, unless
    ``ranking.within: all``). The routine score has no rater error here.
    """
    from perflab.composite import effective_weights
    from perflab.scoring import Scorer, rank_codes

    if score not in ("onsite", "final"):
        raise ValueError(f"score must be 'onsite' or 'final', got {score!r}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    scorer = Scorer(dataset)
    a = scorer.arrays(scheme)
    units = a.units
    infl, n_raters = _influence(dataset, scheme, units)
    Psi = infl.to_numpy()
    kind = dataset.units.set_index("unit")["kind"].reindex(units).astype(object).to_numpy()
    if score == "onsite":
        values = a.onsite
    else:
        values = a.final
        names = list(a.component_names)
        Psi_f = np.zeros_like(Psi)
        if "onsite" in names:
            j = names.index("onsite")
            cw = effective_weights(a.components, np.array([scheme.components[c] for c in names]))[:, j]
            filled = Psi.copy()
            if scheme.missing_components == "impute_mean":
                have = ~np.isnan(a.onsite)
                for k in pd.unique(kind):
                    donors = have & (kind == k)
                    takers = ~have & (kind == k)
                    if donors.any() and takers.any():
                        filled[:, takers] = Psi[:, donors].mean(axis=1, keepdims=True)
            Psi_f = filled * np.where(np.isnan(cw), 0.0, cw)[None, :]
        Psi = Psi_f
    ok = ~np.isnan(values)
    sem = np.where(ok, np.sqrt((Psi**2).sum(axis=0)), np.nan)
    groups = np.asarray(a.rank_groups, dtype=object)
    codes = np.asarray(a.rank_codes)
    rank_group = np.where(codes >= 0, groups[np.clip(codes, 0, None)], None)
    rank = rank_codes(values, codes)
    eff = effective_raters(dataset.ratings, dataset.raters, scheme).set_index("unit")["k_effective"].reindex(units)
    table = pd.DataFrame(
        {
            "unit": units,
            "kind": kind,
            "rank_group": rank_group,
            "score": values,
            "rank": pd.array(np.where(np.isnan(rank), pd.NA, rank), dtype="Int64"),
            "sem": sem,
            "n_raters": n_raters.astype(int),
            "k_effective": np.where(n_raters > 0, eff.to_numpy(), np.nan),
        }
    )
    pairs = []
    for c, name in enumerate(groups):
        members = np.flatnonzero((codes == c) & ok)
        order = members[np.lexsort((units.to_numpy()[members], -values[members]))]
        for up, down in zip(order[:-1], order[1:]):
            se = float(np.sqrt(((Psi[:, up] - Psi[:, down]) ** 2).sum()))
            gap = float(values[up] - values[down])
            pairs.append(
                {
                    "rank_group": name,
                    "rank": int(rank[up]),
                    "unit_above": units[up],
                    "unit_below": units[down],
                    "gap": gap,
                    "se_difference": se,
                    "gap_in_se": gap / se if se > 0 else np.inf,
                    "within_noise": gap < z * se,
                }
            )
    adjacent = pd.DataFrame(
        pairs,
        columns=["rank_group", "rank", "unit_above", "unit_below", "gap", "se_difference", "gap_in_se", "within_noise"],
    )
    keep = ok | (np.abs(Psi).sum(axis=0) > 0)
    influence = pd.DataFrame(Psi[:, keep], index=infl.index, columns=units[keep])
    return ScorePrecision(units=table, adjacent=adjacent, influence=influence, score=score, z=float(z))


# ---------------------------------------------------------------------------
# multivariate G-study: the composite of the evaluator groups
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompositeGStudy:
    """Variance and covariance components of a p• × r° design and the D-study of the weighted composite.

    Each level v of the fixed facet (an evaluator group) has its own raters
    (r°: raters nested in groups, no rater in two groups) who score the same
    objects (p•: every unit is scored by every group). ``groups``: per group
    the a-priori weight, raters per object now (harmonic mean), the object,
    rater and residual (object × rater, e) variance components.
    ``universe``: the objects' universe-score variance–covariance matrix
    across groups. ``dropped``: values per group the aggregation discards
    (2 · trim for a trimmed mean), counted as lost by the D-study.
    """

    groups: pd.DataFrame
    universe: pd.DataFrame
    dropped: int = 0

    @property
    def weights(self) -> pd.Series:
        return self.groups.set_index("group")["weight"]

    @property
    def var_universe(self) -> float:
        """Universe-score variance of the composite, a'Σa (Brennan 2001, eq. 10.x): the true spread of the objects."""
        a = self.weights.reindex(self.universe.index).to_numpy()
        return float(max(a @ self.universe.to_numpy() @ a, 0.0))

    def _sizes(self, sizes=None) -> pd.Series:
        g = self.groups.set_index("group")
        if sizes is None:
            return (g["raters"] - self.dropped).clip(lower=1.0)
        s = pd.Series(sizes, dtype=float)
        unknown = sorted(set(s.index) - set(g.index))
        if unknown:
            raise ValueError(f"d_study: unknown group(s) {unknown}; groups are {', '.join(g.index)}")
        if (s < 1).any():
            raise ValueError(f"d_study: every group needs at least 1 rater, got {s[s < 1].to_dict()}")
        return s.reindex(g.index).fillna((g["raters"] - self.dropped).clip(lower=1.0))

    def d_study(self, sizes: Mapping[str, float] | None = None, scale=None):
        """g, phi and the SEMs of the composite for ``sizes`` (group → raters averaged) times ``scale``.

        Without ``sizes``: the values averaged now (raters per object minus
        ``dropped``). ``scale``: a number or a list (every group's panel
        multiplied by it); a list gives a DataFrame, one row per scale.
        Relative error σ²(δ) = Σ a_v² σ²_v(pr,e)/n_v; absolute error adds
        σ²_v(r)/n_v (Brennan 2001, ch. 10, for the p• × r° design; negative
        variance estimates set to zero). ``sem_rel`` is the SEM for
        comparing units scored by the same raters, ``se_difference`` = √2 ·
        ``sem_rel`` the SE of the difference of two such units.
        """
        base = self._sizes(sizes)
        scales = np.atleast_1d(1.0 if scale is None else scale).astype(float)
        if np.any(scales <= 0):
            raise ValueError(f"d_study: scale must be positive, got {list(scales)}")
        g = self.groups.set_index("group")
        a2 = g["weight"].to_numpy() ** 2
        vr = g["var_rater"].clip(lower=0).to_numpy()
        ve = g["var_residual"].clip(lower=0).to_numpy()
        tau = self.var_universe
        rows = []
        for m in scales:
            n = base.to_numpy() * m
            delta = float((a2 * ve / n).sum())
            Delta = float((a2 * (vr + ve) / n).sum())
            rows.append(
                {
                    "scale": m,
                    "values_averaged": float(n.sum()),
                    "raters": float(n.sum() + self.dropped * len(n)),
                    "var_universe": tau,
                    "rel_error": delta,
                    "abs_error": Delta,
                    "g": tau / (tau + delta) if tau + delta > 0 else np.nan,
                    "phi": tau / (tau + Delta) if tau + Delta > 0 else np.nan,
                    "sem_rel": np.sqrt(delta),
                    "sem_abs": np.sqrt(Delta),
                    "se_difference": np.sqrt(2 * delta),
                }
            )
        out = pd.DataFrame(rows)
        return out.iloc[0] if np.ndim(scale) == 0 else out

    def sem_for_g(self, g: float) -> float:
        """The relative SEM that a generalizability coefficient g implies for these objects: √(σ²_τ (1 − g) / g)."""
        if not 0 < g < 1:
            raise ValueError(f"g must lie in (0, 1), got {g}")
        return float(np.sqrt(self.var_universe * (1 - g) / g))

    def g_for_sem(self, sem: float) -> float:
        """The generalizability coefficient at which the relative SEM equals ``sem``: σ²_τ / (σ²_τ + sem²)."""
        if not sem > 0:
            raise ValueError(f"sem must be positive, got {sem}")
        tau = self.var_universe
        return float(tau / (tau + sem**2))

    def allocation(self, how: str = "current") -> pd.Series:
        """Each group's part of a panel: ``current`` (as now) or ``optimal``.

        ``optimal`` minimises the relative error Σ a_v² σ²_v / n_v for a given
        total Σ n_v: n_v ∝ a_v σ_v (Lagrange), σ_v² the group's residual variance.
        """
        g = self.groups.set_index("group")
        if how == "current":
            p = self._sizes()
        elif how == "optimal":
            p = g["weight"] * np.sqrt(g["var_residual"].clip(lower=0))
        else:
            raise ValueError(f"allocation must be 'current' or 'optimal', got {how!r}")
        return p / p.sum()

    def panel_for(self, sem_rel: float, allocation: str = "current") -> pd.Series:
        """The smallest panel (raters per group, allocated as ``allocation``) whose relative SEM is at most ``sem_rel``.

        With shares p_v of the total N, σ²(δ) = C / N with C = Σ a_v² σ²_v / p_v,
        so N = C / sem_rel²; each group's n_v = p_v N is rounded up and the
        values the aggregation drops are added back. Returns the raters per
        group, ``total`` and the D-study of that panel.
        """
        if not sem_rel > 0:
            raise ValueError(f"sem_rel must be positive, got {sem_rel}")
        g = self.groups.set_index("group")
        p = self.allocation(allocation)
        a2 = g["weight"] ** 2
        ve = g["var_residual"].clip(lower=0)
        use = p > 0
        C = float((a2[use] * ve[use] / p[use]).sum())
        N = C / sem_rel**2
        n = np.maximum(np.ceil(p * N - 1e-9), 1.0)
        ds = self.d_study(n.to_dict())
        out = pd.concat(
            [
                (n + self.dropped).rename(lambda s: f"raters_{s}"),
                pd.Series({"total": float((n + self.dropped).sum())}),
                ds.drop(["scale", "raters"]),
            ]
        )
        return out

    def summary(self) -> pd.DataFrame:
        """Per group: weight, raters now, variance components and the group's share of the composite's relative error."""
        g = self.groups.copy()
        n = self._sizes().to_numpy()
        part = g["weight"].to_numpy() ** 2 * g["var_residual"].clip(lower=0).to_numpy() / n
        g["values_averaged"] = n
        g["rel_error_share"] = part / part.sum() if part.sum() > 0 else np.nan
        return g


def composite_g_study(
    data: pd.DataFrame,
    score: str,
    object: str,
    rater: str,
    group: str,
    weights: Mapping[str, float],
    dropped: int = 0,
) -> CompositeGStudy:
    """Multivariate G-study of objects × (raters nested in groups), groups fixed with a-priori ``weights``.

    Brennan (2001, ch. 9–10), the p• × r° design: within each group the
    object, rater and residual components are estimated from that group's
    two-way table (Henderson's Method III via :func:`icc`, so raters need not
    score every object; the classical ANOVA when they do); between groups the
    object covariance is the covariance of the objects' group means, as the
    groups share no raters (their errors are uncorrelated). The composite
    universe score is Σ_v a_v μ_pv with a_v the weights rescaled to sum 1
    (here: the groups' shares). Several ratings of an object by a rater are
    averaged first. Each rater must belong to one group.
    """
    _need_columns(data, [score, object, rater, group], "composite_g_study")
    d = data[[object, rater, group, score]].dropna(subset=[score])
    num = pd.to_numeric(d[score], errors="coerce")
    if num.isna().any():
        raise DataError(f"composite_g_study: score {d[score][num.isna()].iloc[0]!r} is not a number")
    d = d.assign(**{score: num.astype(float)})
    if d[group].isna().any():
        raise DataError(f"composite_g_study: rater {d.loc[d[group].isna(), rater].iloc[0]!r} has no {group}")
    spread = d.groupby(rater, sort=False)[group].nunique()
    if (spread > 1).any():
        raise DataError(
            f"composite_g_study: rater {spread.index[np.argmax(spread.to_numpy() > 1)]!r} is in more than "
            f"one {group}; raters must be nested in groups"
        )
    w = pd.Series(weights, dtype=float)
    present = list(pd.unique(d[group]))
    unknown = sorted(set(map(str, present)) - set(map(str, w.index)))
    if unknown:
        raise DataError(f"composite_g_study: {group} {unknown[0]!r} has no weight")
    if (w < 0).any():
        raise ValueError(f"composite_g_study: weights must be >= 0, got {w[w < 0].to_dict()}")
    order = [v for v in w.index if v in set(present) and w[v] > 0]
    if not order:
        raise DataError("composite_g_study: no group with a positive weight has scores")
    w = w.reindex(order) / w.reindex(order).sum()
    cells = d.groupby([object, rater, group], observed=True, sort=True)[score].mean().reset_index()
    rows, means = [], {}
    for v in order:
        sub = cells[cells[group] == v]
        try:
            res = icc(sub, object, rater, score)
        except DataError as e:
            raise DataError(f"composite_g_study: {group} {v!r}: {e}") from None
        per_obj = sub.groupby(object, observed=True)[rater].nunique()
        rows.append(
            {
                "group": v,
                "weight": float(w[v]),
                "raters": float(len(per_obj) / (1.0 / per_obj).sum()),
                "objects": int(res.attrs["n_targets"]),
                "var_object": res.attrs["var_target"],
                "var_rater": res.attrs["var_rater"],
                "var_residual": res.attrs["var_residual"],
            }
        )
        means[v] = sub.groupby(object, observed=True)[score].mean()
    wide = pd.DataFrame(means)
    cov = wide.cov(min_periods=2)
    for v, row in zip(order, rows):
        cov.loc[v, v] = row["var_object"]
    cov = cov.reindex(index=order, columns=order)
    if cov.isna().to_numpy().any():
        i, j = np.argwhere(cov.isna().to_numpy())[0]
        raise DataError(
            f"composite_g_study: {group}s {order[i]!r} and {order[j]!r} share fewer than 2 {object}s; "
            "their covariance is not estimable"
        )
    return CompositeGStudy(groups=pd.DataFrame(rows), universe=cov, dropped=int(dropped))


def onsite_g_study(dataset, scheme, units=None) -> CompositeGStudy:
    """:func:`composite_g_study` of the on-site score: each rater's indicator-weighted score of each unit, groups weighted by their shares.

    Indicators are fixed (the same sheet every year): a rater's score of a unit
    is the weighted mean of the rater's indicator scores with the scheme's
    weights. ``units``: restrict to these units (e.g. one kind). The scheme's
    trimmed mean drops 2 · trim values per group (``dropped``).
    """
    r = _with_groups(dataset.ratings, dataset.raters, "onsite_g_study")
    if units is not None:
        r = r[r["unit"].isin(list(units))]
        if r.empty:
            raise DataError("onsite_g_study: none of the units given has ratings")
    w = scheme.weights
    r = r.assign(_w=w.reindex(r["indicator"]).to_numpy())
    if r["_w"].isna().any():
        raise DataError(
            f"onsite_g_study: indicator {r.loc[r['_w'].isna(), 'indicator'].iloc[0]!r} is not in scheme {scheme.name!r}"
        )
    r = r.assign(_wx=r["_w"] * r["score"])
    agg = r.groupby(["unit", "rater", "group"], observed=True)[["_wx", "_w"]].sum().reset_index()
    agg["score"] = agg["_wx"] / agg["_w"]
    return composite_g_study(
        agg, "score", "unit", "rater", "group", scheme.shares.to_dict(), dropped=2 * scheme.aggregation.trim
    )
