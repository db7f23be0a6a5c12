"""How much do the rater effects move the ranks? Each rater's severity in points, the ratings with it removed,
and each unit's rank as the scheme scores it from the raw ratings, the adjusted ones and without flagged raters.

Every score here comes from :func:`perflab.scoring.score_units`, so it follows the scheme's own aggregation
(trimming), group shares, weights and composite (arithmetic or geometric); ranks follow
:mod:`perflab.ranking` within each unit's ``rank_group``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.bias.additive import fit_additive, rater_statistics, severity_variance
from perflab.bias.flags import RaterFlags, flag_raters
from perflab.bias.inputs import need_columns, rated_by_group
from perflab.bias.rasch import mfrm
from perflab.bias.rasch_result import MFRMResult
from perflab.errors import DataError

EXCLUDE_RULES = ("flag_fdr", "any_flag")


@dataclass(frozen=True)
class RaterSeverity:
    """Each rater's severity and the adjustment that removes it (see :func:`rater_severity`).

    ``table``: one row per rater; ``tau2``: the raters' true spread of severity (points²);
    ``shrink``: whether the adjustments are empirical-Bayes shrunk.
    """

    table: pd.DataFrame
    tau2: float
    shrink: bool

    def summary(self) -> pd.DataFrame:
        """One row: raters, the true SD of severity (points), the mean shrinkage and the largest adjustment.

        Returns
        -------
        DataFrame
            ``raters``, ``true_sd_points``, ``mean_shrinkage``, ``max_abs_adjustment``.
        """
        t = self.table
        return pd.DataFrame(
            [
                {
                    "raters": len(t),
                    "true_sd_points": float(np.sqrt(self.tau2)),
                    "mean_shrinkage": float(t["shrinkage"].mean()),
                    "max_abs_adjustment": float(t["adjustment"].abs().max()),
                }
            ]
        )


def rater_severity(ratings: pd.DataFrame, shrink: bool = True) -> RaterSeverity:
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

    Parameters
    ----------
    ratings : DataFrame
        ``rater``, ``unit``, ``indicator``, ``score``.
    shrink : bool
        Shrink each adjustment towards 0 by its reliability (empirical Bayes).

    Returns
    -------
    RaterSeverity
        ``table`` (``rater``, ``n_units``, ``n_ratings``, ``severity_points``, ``se``, ``shrinkage``,
        ``adjustment``), ``tau2``, ``shrink``.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, _ = small_panel()
    >>> sev = rater_severity(ratings)
    >>> sev.table["severity_points"].round(1).tolist()[:2], sev.tau2 > 0
    ([7.9, -2.3], True)
    """
    need_columns(ratings, ["rater", "unit", "indicator", "score"], "rater_severity")
    r = ratings.dropna(subset=["score"])
    if r["rater"].nunique() < 2:
        raise DataError("rater_severity needs at least 2 raters with scores")
    fit = fit_additive(r)
    st = rater_statistics(fit)
    severity = -fit.leniency
    se2 = severity_variance(st)
    ok = np.isfinite(se2)
    # method of moments: E[severity²] = tau² + se² for each rater (severities are centred at 0)
    tau2 = max(float(np.mean(severity[ok] ** 2 - se2[ok])), 0.0) if ok.any() else 0.0
    if shrink:
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(ok, tau2 / (tau2 + se2), 0.0) if tau2 > 0 else np.zeros(len(severity))
        factor = np.nan_to_num(factor, nan=1.0)  # se² = 0 (an exact fit): no shrinkage
    else:
        factor = np.ones(len(severity))
    table = pd.DataFrame(
        {
            "rater": fit.raters.astype(str),
            "n_units": st.n_pairs.astype(np.int64),
            "n_ratings": st.n_obs.astype(np.int64),
            "severity_points": severity,
            "se": np.sqrt(se2),
            "shrinkage": factor,
            "adjustment": severity * factor,
        }
    )
    return RaterSeverity(table, tau2, shrink)


def adjusted_ratings(
    ratings: pd.DataFrame, shrink: bool = True, scheme=None, severity: RaterSeverity | None = None
) -> pd.DataFrame:
    """The ratings with each rater's estimated severity put back: ``score`` + the rater's ``adjustment``.

    Only the raters' constant effects change (see :func:`rater_severity`):
    a harsh rater's scores go up, a lenient one's down, every rating of one
    rater by the same amount, and nothing else — the scheme's aggregation,
    shares and weights then score them as they score the raw ratings. Adjusted
    scores are not clipped to 0–100 (clipping would bring back part of the
    effect). ``score_raw`` keeps the original; ``grade`` is re-derived from the
    adjusted score (clipped) with the ``scheme``, else dropped.

    Parameters
    ----------
    ratings : DataFrame
        ``rater``, ``unit``, ``indicator``, ``score`` (and optionally ``grade``).
    shrink : bool
        Empirical-Bayes shrunk adjustments (when ``severity`` is not given).
    scheme : Scheme, optional
        Re-derives ``grade`` from the adjusted score.
    severity : RaterSeverity, optional
        A :func:`rater_severity` result to use instead of estimating it here.

    Returns
    -------
    DataFrame
        The ratings with ``score`` adjusted and ``score_raw`` the original.

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, _ = small_panel()
    >>> adj = adjusted_ratings(ratings)
    >>> adj.groupby("rater")["score"].mean().sub(adj.groupby("rater")["score_raw"].mean()).round(1).iloc[:2].tolist()
    [7.9, -2.2]
    """
    sev = rater_severity(ratings, shrink=shrink) if severity is None else severity
    adj = ratings["rater"].astype(str).map(sev.table.set_index("rater")["adjustment"]).fillna(0.0)
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


@dataclass(frozen=True)
class RankImpact:
    """Each unit's ranks with and without the rater corrections (see :func:`impact`).

    ``table``: one row per unit; ``excluded_raters``: the raters left out of the ``*_excluded`` ranks;
    ``exclude``: the flag that chose them; ``severity``: the :class:`RaterSeverity` behind the adjusted ranks.
    """

    table: pd.DataFrame
    excluded_raters: tuple[str, ...]
    exclude: str
    severity: RaterSeverity

    def summary(self) -> pd.DataFrame:
        """How far each correction moves the on-site ranks.

        Returns
        -------
        DataFrame
            :func:`rank_moves` of this result.
        """
        return rank_moves(self)


def impact(
    dataset,
    scheme,
    flags: RaterFlags | pd.DataFrame | None = None,
    fit: MFRMResult | None = None,
    exclude: str = "flag_fdr",
    shrink: bool = True,
) -> RankImpact:
    """Each unit's rank from raw on-site scores, with the raters' severities removed and with flagged raters left out.

    Ranks are within each unit's ``rank_group`` (its kind, or ``all`` if the scheme ranks every unit together;
    1 = best), every one computed by :func:`perflab.scoring.score_units` with the scheme's own
    aggregation (trimming), group shares, weights and composite:

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

    Parameters
    ----------
    dataset : Dataset
        Ratings, raters and units (:func:`perflab.io.load_dataset`).
    scheme : Scheme
        Scores and ranks the units.
    flags : RaterFlags or DataFrame, optional
        :func:`flag_raters` (estimated here if absent).
    fit : MFRMResult, optional
        :func:`~perflab.bias.rasch.mfrm` of the ratings (estimated here if absent).
    exclude : {"flag_fdr", "any_flag"}
        The flag that leaves a rater out.
    shrink : bool
        Empirical-Bayes shrunk severity adjustments.

    Returns
    -------
    RankImpact
        ``table`` (one row per unit), ``excluded_raters``, ``exclude``, ``severity``.

    Examples
    --------
    >>> import dataclasses
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> demo = load_dataset("data/raw/demo", scheme)
    >>> demo = dataclasses.replace(demo, ratings=demo.ratings[demo.ratings["rater"].isin(demo.raters["rater"][::4])])
    >>> no_flags = pd.DataFrame({"rater": demo.raters["rater"], "flag_fdr": False})
    >>> fit = mfrm(demo.ratings, scheme=scheme, max_iter=5)  # rough: only the reference rank_fair reads it
    >>> imp = impact(demo, scheme, flags=no_flags, fit=fit)
    >>> imp.excluded_raters, bool((imp.table["rank_excluded"] == imp.table["rank_raw"]).all())
    ((), True)
    """
    from perflab import scoring
    from perflab.ranking import rank_desc, rank_groups

    if exclude not in EXCLUDE_RULES:
        raise ValueError(f"impact: exclude must be one of {EXCLUDE_RULES}, got {exclude!r}")
    rated_by_group(dataset.ratings, dataset.raters, dataset.units)
    if fit is None:
        fit = mfrm(dataset.ratings, scheme=scheme)
    if flags is None:
        flags = flag_raters(dataset.ratings, dataset.raters, scheme=scheme, fit=fit)
    flag_table = flags.table if isinstance(flags, RaterFlags) else flags
    need_columns(flag_table, ["rater", exclude], "impact flags")
    flagged = set(flag_table.loc[flag_table[exclude].astype(bool), "rater"].astype(str))
    base = scoring.score_units(dataset, scheme).set_index("unit")
    kept = dataset.ratings[~dataset.ratings["rater"].astype(str).isin(flagged)]
    if kept.empty:
        raise DataError("impact: every rater is flagged; no scores remain without them")
    excl = scoring.score_units(dataclasses.replace(dataset, ratings=kept), scheme).set_index("unit")
    severity = rater_severity(dataset.ratings, shrink=shrink)
    adj_ratings = adjusted_ratings(dataset.ratings, scheme=scheme, severity=severity)
    adj = scoring.score_units(dataclasses.replace(dataset, ratings=adj_ratings), scheme).set_index("unit")
    out = base[["kind", "zone", "name_zh", "name_en"]].copy()
    groups = rank_groups(out, scheme)
    out.insert(1, "rank_group", "all" if groups is None else groups.reindex(out.index))
    out["onsite"] = base["onsite"]
    out["onsite_adjusted"] = adj["onsite"].reindex(out.index)
    out["onsite_excluded"] = excl["onsite"].reindex(out.index)
    out["fair_average"] = fit.fair_average.reindex(out.index.astype(str)).to_numpy()
    by = out["rank_group"]
    for col, score in (("raw", "onsite"), ("adjusted", "onsite_adjusted"), ("excluded", "onsite_excluded")):
        out[f"rank_{col}"] = rank_desc(out[score], by)
    out["rank_fair"] = rank_desc(out["fair_average"], by)
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
    return RankImpact(out.reset_index(), tuple(sorted(flagged)), exclude, severity)


def rank_moves(imp: RankImpact | pd.DataFrame) -> pd.DataFrame:
    """How far each correction in an :func:`impact` result moves the on-site ranks: mean and largest move, units moved.

    One row per comparison with the raw ranks: the rater-adjusted ranks, the
    ranks without the flagged raters, and for reference the MFRM fair
    average's (whose moves include its change of scale).

    Parameters
    ----------
    imp : RankImpact or DataFrame
        An :func:`impact` result (or its ``table``, e.g. read back from ``rank_impact.csv``).

    Returns
    -------
    DataFrame
        ``comparison``, ``column``, ``moves`` (mean places), ``units_moved``, ``max_shift``, ``units``.

    Examples
    --------
    >>> table = pd.DataFrame({"rank_raw": [1, 2, 3], "rank_adjusted": [2, 1, 3], "rank_excluded": [1, 2, 3],
    ...                       "rank_fair": [1, 3, 2]})
    >>> rank_moves(table)[["column", "units_moved", "max_shift"]].values.tolist()
    [['rank_adjusted', 2, 1], ['rank_excluded', 0, 0], ['rank_fair', 2, 1]]
    """
    table, exclude = (imp.table, imp.exclude) if isinstance(imp, RankImpact) else (imp, None)
    need_columns(table, ["rank_raw", "rank_adjusted", "rank_excluded", "rank_fair"], "rank_moves")
    left_out = {"flag_fdr": "false-discovery flags", "any_flag": "any per-rater flag"}.get(exclude, "flags")
    rows = []
    for col, name in (
        ("rank_adjusted", "rater severity removed"),
        ("rank_excluded", f"flagged raters left out ({left_out})"),
        ("rank_fair", "MFRM fair average (band scores, equal weights; reference)"),
    ):
        ok = table["rank_raw"].notna() & table[col].notna()
        d = (table.loc[ok, col].astype(float) - table.loc[ok, "rank_raw"].astype(float)).abs()
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
