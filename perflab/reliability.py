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
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

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
        raise DataError(f"{what}: no column(s) {', '.join(map(repr, missing))} in the data; it has {', '.join(map(str, data.columns))}")


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
):
    """Krippendorff's alpha for nominal, ordinal, interval or ratio values; missing values allowed.

    Computed from the coincidence matrix of pairable values (Krippendorff
    2011): units with fewer than two values do not count. With ``n_boot > 0``
    returns ``(alpha, array([low, high]))``: a percentile interval from
    resampling units with replacement (seeded ``rng``).
    """
    _need_columns(data, [unit, rater, value], "krippendorff_alpha")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    d = data[[unit, rater, value]].dropna(subset=[value])
    dup = d.duplicated([unit, rater])
    if dup.any():
        row = d[dup].iloc[0]
        raise DataError(f"krippendorff_alpha: rater {row[rater]!r} gives unit {row[unit]!r} more than one value")
    if level != "nominal":
        vals = pd.to_numeric(d[value], errors="coerce")
        if vals.isna().any():
            raise DataError(f"krippendorff_alpha: {level} level needs numeric values; got {d[value][vals.isna()].iloc[0]!r}")
        d = d.assign(**{value: vals})
    u_codes, _ = pd.factorize(d[unit])
    v_codes, v_levels = pd.factorize(d[value], sort=True)
    n_u, n_v = int(u_codes.max()) + 1 if len(u_codes) else 0, len(v_levels)
    counts = np.zeros((n_u, n_v))
    np.add.at(counts, (u_codes, v_codes), 1.0)
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if counts.sum() == 0 or n_v < 1:
        raise DataError("krippendorff_alpha: no unit has two or more values (nothing is pairable)")
    delta = _delta(np.asarray(v_levels), level, counts.sum(axis=0))
    a = _alpha_from_counts(counts, m, delta, level, np.asarray(v_levels))
    if n_boot <= 0:
        return a
    rng = rng if rng is not None else np.random.default_rng(0)
    w = rng.multinomial(len(m), np.full(len(m), 1.0 / len(m)), size=n_boot).astype(float)
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
        raise DataError("g_study: duplicated cells after coding nested facets (is each nested level in one parent only?)")

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
            rows.append({**base, "raters_per_unit": np.nan, "g": np.nan, "phi": np.nan,
                         "raters_needed_g": np.nan, "raters_needed_phi": np.nan})
            continue
        pooled = (pd.concat(comps, axis=1) * np.array(weights)).sum(axis=1) / sum(weights)
        ref = gs  # same structure for every block
        pooled_gs = GStudy(
            components=ref.components.assign(variance=pooled.reindex(ref.components["effect"]).to_numpy()),
            object="unit",
            facets=("rater", "indicator"),
            nested={},
            sizes={"rater": int(round(np.average([p[0] for p in panel], weights=[p[1] for p in panel]))), "indicator": n_ind},
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
    out.attrs["curves"] = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["group", "rater", "g", "phi"])
    return out
