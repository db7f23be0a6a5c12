"""Which raters show which effect? Per-rater flags for leniency/severity, halo, central tendency, favouritism,
bloc scoring and misfit, each from a stated rule with a known false-positive rate, and the FDR across the panel.

Every statistic is compared with the spread among the raters who attended the same sessions ("panel z"),
or tested within the rater (favouritism) or by permutation (blocs, :mod:`perflab.bias.blocs`). Each of the
six tests has false-positive rate ``alpha / 6``, so a clean rater's chance of any flag is at most ``alpha``
(Bonferroni); across raters ``flag_fdr`` controls the false-discovery rate (Benjamini–Hochberg).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from perflab.bias.additive import MIN_UNITS, fit_additive, rater_statistics, severity_variance
from perflab.bias.blocs import find_blocs
from perflab.bias.inputs import as_generator, need_columns, rated_by_group
from perflab.bias.rasch import mfrm
from perflab.bias.rasch_result import MFRMResult
from perflab.errors import DataError

N_TESTS = 6  # severity, halo, central, favouritism, bloc, misfit
MIN_RATINGS = 20  # ratings a rater must have given for the misfit test (else NA, no flag)
MIN_STRATUM = 15  # raters; smaller session patterns are compared with the largest stratum
FLAGS = ("lenient", "severe", "halo", "central", "favouritism", "bloc", "misfit")
UNTESTED = "a rater below the minimum gets NA for that statistic and never that flag"
PANEL_Z = (
    "panel z: (statistic − median of the raters who attended the same sessions) / "
    "sqrt(the panel's spread² from the MAD + the rater's own sampling variance)"
)
_TRUNC = 2.5  # |z| beyond which a rater is left out of the one-step re-estimate of the panel spread
_TRUNC_VAR = 1 - 2 * _TRUNC * stats.norm.pdf(_TRUNC) / (2 * stats.norm.cdf(_TRUNC) - 1)  # var of N(0,1) in ±2.5


def robust_z(stat: np.ndarray, se2: np.ndarray) -> np.ndarray:
    """(stat − median) / sqrt(tau² + se²): tau² the panel's own spread minus the typical sampling variance.

    The spread starts from the MAD and is re-estimated once from the raters
    within ±2.5 robust SDs (corrected for the truncation): nearly as efficient
    as the SD on clean panels, unmoved by the few raters with real effects.

    Examples
    --------
    >>> robust_z(np.array([0.0, 1.0, -1.0, 0.5, -0.5, 8.0]), np.zeros(6)).round(1)
    array([-0.3,  1. , -1.6,  0.3, -1. ,  9.9])
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


def session_strata(r: pd.DataFrame, raters: pd.Index) -> np.ndarray:
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
    return np.where(sizes[codes] < MIN_STRATUM, largest, codes)


def panel_z(stat, se2, strata):
    """Robust z with each stratum centred at its own median and one pooled spread (MAD) over all strata."""
    dev = np.full(len(stat), np.nan)
    for s in np.unique(strata):
        m = (strata == s) & np.isfinite(stat)
        if m.any():
            dev[m] = stat[m] - np.median(stat[m])
    return robust_z(dev, se2)


def n_permutations(alpha: float) -> int:
    """Permuted panels the bloc test needs for a false-positive rate of at most ``alpha / 6``."""
    return int(np.ceil(N_TESTS / alpha)) - 1


def flag_rules(alpha: float = 0.05, n_perm: int | None = None) -> pd.DataFrame:
    """The rule behind each flag of :func:`flag_raters`, its false-positive rate under the null and the minimum data.

    A rater below a test's ``minimum`` gets NA for that statistic and never
    that flag (a fit to two units is exact, and a mean square from a handful
    of ratings has no usable null spread): :data:`UNTESTED`; the panel z is
    explained in :data:`PANEL_Z`.

    Parameters
    ----------
    alpha : float
        A clean rater's chance of any flag (split over the six tests).
    n_perm : int, optional
        Permuted panels of the bloc test (default: enough for ``alpha / 6``).

    Returns
    -------
    DataFrame
        One row per flag: ``flag``, ``rule``, ``false_positive_rate``, ``minimum``.

    Examples
    --------
    >>> rules = flag_rules(0.05)
    >>> rules[["flag", "false_positive_rate"]].round(4).values.tolist()[:2]
    [['lenient / severe', 0.0083], ['halo', 0.0083]]
    """
    a = alpha / N_TESTS
    B = n_permutations(alpha) if n_perm is None else n_perm
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
    return pd.DataFrame(rows, columns=["flag", "rule", "false_positive_rate", "minimum"])


@dataclass(frozen=True)
class RaterFlags:
    """The rater flags of :func:`flag_raters` and what they rest on.

    ``table``: one row per rater (see :func:`flag_raters`); ``rules``: :func:`flag_rules`; ``alpha``: a clean
    rater's chance of any flag; ``fdr``: the false-discovery rate of ``flag_fdr``; ``n_tested``: raters with at
    least one per-rater test; ``expected_false_flags``: at most this many flagged by chance (``n_tested × alpha``);
    ``bloc_threshold_z``: the permutation threshold of the bloc test.
    """

    table: pd.DataFrame
    rules: pd.DataFrame
    alpha: float
    fdr: float
    n_tested: int
    expected_false_flags: float
    bloc_threshold_z: float

    def summary(self) -> pd.DataFrame:
        """Per flag (and ``any_flag``, ``flag_fdr``): the raters who carry it, out of those tested.

        Returns
        -------
        DataFrame
            ``flag``, ``raters``, ``tested``.

        Examples
        --------
        >>> from perflab.bias.inputs import small_panel
        >>> flags = flag_raters(*small_panel(), n_perm=9)
        >>> flags.summary().set_index("flag").loc[["severe", "any_flag"], "raters"].tolist()
        [1, 1]
        """
        names = [*FLAGS, "any_flag", "flag_fdr"]
        return pd.DataFrame(
            {"flag": names, "raters": [int(self.table[n].sum()) for n in names], "tested": self.n_tested}
        )


def favouritism(info: pd.DataFrame, units: pd.Index, pr, pu, pres, nr):
    """Per rater: the home unit's residual minus the mean of its other units (points), its t and one-sided p.

    NA for a rater without a home unit among the units scored or with fewer than MIN_UNITS other units.
    """
    fav_pts, fav_t, fav_p = np.full(nr, np.nan), np.full(nr, np.nan), np.full(nr, np.nan)
    if "home_unit" not in info.columns:
        return fav_pts, fav_t, fav_p
    home = info["home_unit"].to_numpy(dtype=object)
    home_code = np.array([units.get_loc(h) if isinstance(h, str) and h in units else -1 for h in home], dtype=np.int64)
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
    return fav_pts, fav_t, fav_p


def misfit_fit(r: pd.DataFrame, scheme=None) -> MFRMResult:
    """The MFRM the misfit test reads when none is given: on the grades (A best) or the scores binned by ``scheme``."""
    score_col = "grade" if "grade" in r.columns and r["grade"].notna().all() else "score"
    cats = None
    if scheme is None and score_col == "grade":
        cats = sorted(r["grade"].astype(str).unique(), reverse=True)  # A best: E, D, C, B, A
    return mfrm(r, score=score_col, scheme=scheme, categories=cats)


def misfit_z(fit_raters: pd.DataFrame, strata: np.ndarray):
    """Per rater: infit, outfit, the panel z of log infit and of log outfit (NA below MIN_RATINGS ratings)."""
    infit, outfit = fit_raters["infit"].to_numpy(float), fit_raters["outfit"].to_numpy(float)
    cnt = fit_raters["count"].to_numpy(float)
    mse2 = 2.0 / np.maximum(cnt, 1)  # large-sample variance of a log mean square; too small below MIN_RATINGS
    testable = cnt >= MIN_RATINGS
    z_in = panel_z(np.where(testable, np.log(infit), np.nan), mse2, strata)
    z_out = panel_z(np.where(testable, np.log(outfit), np.nan), mse2, strata)
    return infit, outfit, z_in, z_out


def rater_p_values(per_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Each rater's p-value (smallest per-test p × 6, Bonferroni), its Benjamini–Hochberg q-value, raters tested.

    ``per_test``: raters × tests p-values (NaN where untested).
    """
    nr = len(per_test)
    has_p = np.isfinite(per_test).any(axis=1)
    p_rater = np.full(nr, np.nan)
    p_rater[has_p] = np.minimum(1.0, N_TESTS * np.nanmin(per_test[has_p], axis=1))
    q = np.full(nr, np.nan)
    if has_p.any():
        q[has_p] = stats.false_discovery_control(p_rater[has_p], method="bh")
    return p_rater, q, int(has_p.sum())


def _check_levels(alpha: float, fdr: float | None) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    fdr = alpha if fdr is None else fdr
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must lie in (0, 1), got {fdr}")
    return fdr


def flag_raters(  # long: the steps are named functions; the rest lines their results up in one table per rater
    ratings: pd.DataFrame,
    raters: pd.DataFrame,
    scheme=None,
    fit: MFRMResult | None = None,
    alpha: float = 0.05,
    n_perm: int | None = None,
    min_bloc_size: int = 3,
    seed: int | np.random.Generator | None = 0,
    fdr: float | None = None,
) -> RaterFlags:
    """One row per rater: the size, test statistic and p-value of each rater effect and a flag from a stated rule.

    Residuals are against the additive model score = cell(unit, indicator) −
    severity(rater) fitted on the raw 0–100 scores (:mod:`perflab.bias.additive`), so a rater who attended
    only the evening session is compared with the other raters of the same
    units. Every rater differs a little: each statistic is compared with the
    spread among the raters who attended the same sessions ("panel z"), or by a within-rater t test or
    a permutation test. Each of the six tests has false-positive rate
    ``alpha / 6`` (bloc: at most 1/(n_perm+1)), so a clean rater's chance of
    any flag is at most ``alpha`` (rules: :func:`flag_rules`). Raters with fewer than
    MIN_UNITS units (MIN_RATINGS ratings for misfit) get NA for the statistic and no flag.

    Direction: every rater effect is positive for a harsher rater —
    ``severity_points`` (points the rater takes off, against the other raters
    of the same units), ``severity_z`` and ``severity_logits`` (the MFRM
    measure). ``lenient`` / ``severe`` flag the two tails.

    Across a panel about ``n_raters × alpha`` clean raters are flagged by chance
    (``expected_false_flags``). For a decision about the panel each rater's ``p_value``
    (the smallest of the per-rater tests' p-values times six, Bonferroni: ``p_value < alpha`` exactly when
    the rater has a non-bloc flag) is corrected across raters by Benjamini–Hochberg: ``q_value``;
    ``flag_fdr`` = ``q_value < fdr`` (default ``alpha``) or a bloc member (the bloc test already controls the
    panel-wide rate by permutation).

    Parameters
    ----------
    ratings : DataFrame
        ``rater``, ``unit``, ``indicator``, ``score`` (0–100), optionally ``session`` and ``grade``.
    raters : DataFrame
        ``rater``, ``group``, optionally ``home_unit``.
    scheme : Scheme, optional
        Bins the scores into grade bands for the MFRM of the misfit test (when ``fit`` is not given).
    fit : MFRMResult, optional
        The MFRM for the misfit test.
    alpha : float
        A clean rater's chance of any flag.
    n_perm : int, optional
        Permuted panels of the bloc test (default ``ceil(6 / alpha) − 1``).
    min_bloc_size : int
        The fewest raters that make a bloc.
    seed : int or Generator
        Randomness of the bloc test's permutations (a Generator is used as is).
    fdr : float, optional
        False-discovery rate of ``flag_fdr`` (default ``alpha``).

    Returns
    -------
    RaterFlags
        ``table`` (one row per rater), ``rules``, ``alpha``, ``fdr``, ``n_tested``, ``expected_false_flags``,
        ``bloc_threshold_z``.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, raters = small_panel()
    >>> flags = flag_raters(ratings, raters, n_perm=9)
    >>> r0 = flags.table.set_index("rater").loc["R0"]
    >>> round(float(r0["severity_points"]), 1), bool(r0["severe"]), r0["flags"]
    (7.9, True, 'severe')
    >>> flags.n_tested, flags.expected_false_flags
    (8, 0.4)
    """
    fdr = _check_levels(alpha, fdr)
    r = rated_by_group(ratings, raters)
    n_r = r["rater"].nunique()
    if n_r < 3:
        raise DataError(f"flag_raters needs at least 3 raters with scores to compare a rater with the panel; got {n_r}")
    B = n_permutations(alpha) if n_perm is None else int(n_perm)
    if B < 1:
        raise ValueError(f"n_perm must be >= 1, got {n_perm}")
    a = alpha / N_TESTS
    zc2, zc1 = stats.norm.isf(a / 2), stats.norm.isf(a)
    fit_a = fit_additive(r)
    st = rater_statistics(fit_a)
    nr, rid = len(fit_a.raters), fit_a.raters
    info = raters.set_index("rater").reindex(rid)
    pr, pu, pres = st.pair_rater, st.pair_unit, st.pair_resid
    strata = session_strata(r, rid)
    severity = -fit_a.leniency  # + = harsher (points)
    sev_z = panel_z(np.where(st.n_pairs >= MIN_UNITS, severity, np.nan), severity_variance(st), strata)
    halo_z = panel_z(st.halo_index, st.halo_se2, strata)
    central_z = panel_z(st.central_index, st.central_se2, strata)
    fav_pts, fav_t, fav_p = favouritism(info, fit_a.units, pr, pu, pres, nr)
    bloc_id, bloc_z, z_star = find_blocs(
        pr, pu, st.calib_resid, nr, len(fit_a.units), B, min_bloc_size, as_generator(seed)
    )
    fit = misfit_fit(r, scheme) if fit is None else fit
    fr = fit.raters.reindex(rid)
    infit, outfit, z_in, z_out = misfit_z(fr, strata)
    z_mis = np.maximum(np.abs(z_in), np.abs(z_out))
    # p-values of the per-rater tests, each on the scale of its flag (flag ⇔ p < alpha / 6)
    with np.errstate(invalid="ignore"):
        sev_p = 2 * stats.norm.sf(np.abs(sev_z))
        halo_p = stats.norm.cdf(halo_z)
        central_p = stats.norm.cdf(central_z)
        misfit_p = np.minimum(1.0, 4 * stats.norm.sf(z_mis))
    p_rater, q, n_tested = rater_p_values(np.column_stack([sev_p, halo_p, central_p, fav_p, misfit_p]))
    bloc_arr = pd.array(bloc_id, dtype="Int64")
    out = pd.DataFrame(
        {
            "rater": rid.astype(str),
            "group": info["group"].astype(str).to_numpy(),
            "n_units": st.n_pairs.astype(np.int64),
            "n_ratings": st.n_obs.astype(np.int64),
            "severity_points": severity,
            "severity_z": sev_z,
            "severity_p_value": sev_p,
            "lenient": sev_z < -zc2,
            "severe": sev_z > zc2,
            "severity_logits": fr["measure"].to_numpy(float),
            "halo_r": st.halo_r,
            "halo_z": halo_z,
            "halo_p_value": halo_p,
            "halo": halo_z < -zc1,
            "slope": st.slope,
            "central_index": st.central_index,
            "central_z": central_z,
            "central_p_value": central_p,
            "central": central_z < -zc1,
            "favour_points": fav_pts,
            "favour_t": fav_t,
            "favour_p_value": fav_p,
            "favouritism": fav_p < a,
            "bloc_id": bloc_arr,
            "bloc_z": bloc_z,
            "bloc": pd.notna(bloc_arr).astype(bool) if len(bloc_id) else np.zeros(0, bool),
            "infit": infit,
            "outfit": outfit,
            "misfit_z": np.where(
                np.isnan(z_in) | np.isnan(z_out), np.nan, np.where(np.abs(z_in) >= np.abs(z_out), z_in, z_out)
            ),
            "misfit_p_value": misfit_p,
            "misfit": z_mis > stats.norm.isf(a / 4),
            "p_value": p_rater,
            "q_value": q,
        }
    )
    return RaterFlags(
        table=_with_flag_summary(out, fdr),
        rules=flag_rules(alpha, B),
        alpha=alpha,
        fdr=fdr,
        n_tested=n_tested,
        expected_false_flags=n_tested * alpha,  # at most, if every tested rater were clean
        bloc_threshold_z=z_star,
    )


def _with_flag_summary(out: pd.DataFrame, fdr: float) -> pd.DataFrame:
    """Flags NA → False (an untestable statistic never raises its flag), ``any_flag``, ``flag_fdr`` and ``flags``."""
    names = list(FLAGS)
    for n in names:
        out[n] = out[n].fillna(False).astype(bool)
    out["any_flag"] = out[names].any(axis=1)
    out["flag_fdr"] = (out["q_value"] < fdr).fillna(False).astype(bool) | out["bloc"]
    labels = np.where(out[names].to_numpy(bool), np.array([n + ", " for n in names], dtype=object), "")
    out["flags"] = pd.Series(labels.sum(axis=1) if len(out) else [], index=out.index, dtype=object).str.rstrip(", ")
    return out


def flags_by_group(flags: RaterFlags | pd.DataFrame) -> pd.DataFrame:
    """Per evaluator group: raters, how many carry each flag, the FDR flags, and the group's mean severity.

    ``mean_severity_points`` is positive for a group that scores lower than the
    other raters of the same units (harsher), as ``severity_points``.

    Parameters
    ----------
    flags : RaterFlags or DataFrame
        The result of :func:`flag_raters` (or its ``table``, e.g. read back from ``rater_flags.csv``).

    Returns
    -------
    DataFrame
        One row per group: ``group``, ``raters``, a count per flag, ``any_flag``, ``flag_fdr``,
        ``mean_severity_points``.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, raters = small_panel()
    >>> by = flags_by_group(flag_raters(ratings, raters, n_perm=9))
    >>> by[["group", "raters", "severe"]].values.tolist()
    [['experts', 4, 1], ['public', 4, 0]]
    """
    table = flags.table if isinstance(flags, RaterFlags) else flags
    need_columns(table, ["group", "severity_points", "any_flag", "flag_fdr"], "flags_by_group")
    names = [*FLAGS, "any_flag", "flag_fdr"]
    g = table.groupby("group", sort=False)
    out = g[names].sum().astype(np.int64)
    out.insert(0, "raters", g.size())
    out["mean_severity_points"] = g["severity_points"].mean()
    return out.reset_index()
