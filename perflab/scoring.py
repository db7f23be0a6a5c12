"""Scores and ranks: raters → groups → indicators → on-site score; figures → routine score; components → final.

The chain follows the 2016 evaluation: within each evaluator group the raters'
scores for a unit and an indicator are combined (mean or trimmed mean); the
groups are combined by their shares; the indicators by their weights into the
on-site score. The routine score comes from the special-evaluation
departments' figures (target attainment), the satisfaction survey and on-site
verification. The final score is the weighted mean of the components, and
units are ranked within their kind (and zone) unless the scheme says otherwise.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.io import Dataset
from perflab.scheme import KINDS, Scheme

_TIE_DECIMALS = 9  # scores equal to 9 decimals tie (guards against float noise in sums)


def group_scores(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """One row per unit × indicator × evaluator group: the group's aggregated score and its number of raters.

    Aggregation is the scheme's: ``mean``, or ``trimmed_mean`` dropping the ``trim``
    highest and lowest scores; a group with too few raters to trim (n <= 2·trim)
    gets its median, the limit of trimming.
    """
    r = dataset.ratings[["rater", "unit", "indicator", "score"]].merge(
        dataset.raters[["rater", "group"]], on="rater", how="left"
    )
    keys = ["unit", "indicator", "group"]
    k = scheme.aggregation.trim
    if k == 0:
        out = r.groupby(keys, sort=True, observed=True)["score"].agg(score="mean", n_raters="size")
        return out.reset_index()
    r = r.sort_values(keys + ["score"], kind="mergesort")
    g = r.groupby(keys, sort=False, observed=True)["score"]
    pos = g.cumcount()
    n = g.transform("size")
    kept = r[(pos >= k) & (pos < n - k)]
    trimmed = kept.groupby(keys, observed=True)["score"].mean()
    stats = r.groupby(keys, sort=True, observed=True)["score"].agg(median="median", n_raters="size")
    stats["score"] = trimmed.reindex(stats.index)
    small = stats["n_raters"] <= 2 * k
    stats.loc[small, "score"] = stats.loc[small, "median"]
    return stats[["score", "n_raters"]].reset_index()


def indicator_scores(dataset: Dataset, scheme: Scheme, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unit × indicator on-site scores (wide): group scores combined by the scheme's shares.

    Shares are rescaled over the groups that scored the unit (a group absent for a
    unit does not pull its score towards zero).
    """
    gs = group_scores(dataset, scheme) if groups is None else groups
    share = gs["group"].map(scheme.shares).fillna(0.0).to_numpy()
    gs = gs.assign(_w=share, _ws=share * gs["score"].to_numpy())
    gs = gs[gs["_w"] > 0]
    agg = gs.groupby(["unit", "indicator"], observed=True)[["_w", "_ws"]].sum()
    wide = (agg["_ws"] / agg["_w"]).unstack("indicator")
    return wide.reindex(columns=[i for i in scheme.indicator_ids if i in wide.columns])


def onsite_scores(dataset: Dataset, scheme: Scheme, indicators: pd.DataFrame | None = None) -> pd.Series:
    """The on-site score per unit: indicator scores combined by the weights (rescaled over indicators scored)."""
    wide = indicator_scores(dataset, scheme) if indicators is None else indicators
    w = scheme.weights.reindex(wide.columns).to_numpy()
    vals = wide.to_numpy()
    have = ~np.isnan(vals)
    wsum = (have * w).sum(axis=1)
    total = np.nansum(vals * w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, total / wsum, np.nan)
    return pd.Series(out, index=wide.index, name="onsite")


def attainment(history: pd.DataFrame, directions: Mapping[str, str], cap: float = 1.0, file: str = "history") -> pd.DataFrame:
    """Achieved against target for every row of ``history`` with a target, scored 0–100.

    ratio = value / target (target / value when lower is better); score =
    100 · clip(ratio, 0, cap) / cap, so over-achievement is capped and meeting
    the target exactly scores 100 / cap. Targets must be positive (a ratio needs them).
    """
    cols = ["unit", "measure", "year", "value", "target", "ratio", "score"]
    h = history[history["target"].notna()]
    missing = sorted(set(h["measure"]) - set(directions))
    if missing:
        raise DataError(f"measure {missing[0]!r} has no direction (higher or lower is better) in the scheme", file=file, column="measure")
    bad = h["target"] <= 0
    if bad.any():
        row = int(h.index[np.argmax(bad.to_numpy())])
        raise DataError(
            f"target {h.loc[row, 'target']:g} must be positive to measure attainment as achieved/target "
            "(express growth rates as indices, e.g. 106.5 for +6.5%)",
            file=file,
            row=row,
            column="target",
        )
    value, target = h["value"].to_numpy(float), h["target"].to_numpy(float)
    lower = np.array([directions[m] == "lower" for m in h["measure"]], dtype=bool)
    with np.errstate(divide="ignore"):
        ratio = np.where(lower, np.where(value > 0, target / np.where(value > 0, value, 1.0), np.inf), value / target)
    score = 100.0 * np.clip(ratio, 0.0, cap) / cap
    return h.assign(ratio=ratio, score=score)[cols]


def attainment_scores(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Per unit × measure in the routine year: achieved against target, scored 0–100 (see :func:`attainment`)."""
    if dataset.history is None or scheme.routine is None:
        return pd.DataFrame(columns=["unit", "measure", "year", "value", "target", "ratio", "score"])
    h = dataset.history[dataset.history["year"] == scheme.routine.year]
    return attainment(h, scheme.directions, scheme.routine.attainment_cap, dataset.file("history")).reset_index(drop=True)


def routine_parts(dataset: Dataset, scheme: Scheme, year: int) -> pd.DataFrame:
    """Per unit: the year's satisfaction and number of failed verifications (the non-target parts of routine)."""
    out = pd.DataFrame(index=pd.Index(dataset.units["unit"], name="unit"))
    if dataset.survey is not None:
        sv = dataset.survey[dataset.survey["year"] == year].set_index("unit")["satisfaction"]
        out["satisfaction"] = sv.reindex(out.index).astype(float)
    else:
        out["satisfaction"] = np.nan
    if dataset.verification is not None:
        v = dataset.verification
        failed = v[(v["year"] == year) & ~v["verified"].astype(bool)].groupby("unit").size()
        out["failed_verifications"] = failed.reindex(out.index).fillna(0).astype(int)
    else:
        out["failed_verifications"] = 0
    return out


def routine_formula(attain: pd.Series, satisfaction: pd.Series, failed: pd.Series, scheme: Scheme) -> pd.Series:
    """routine = (1 − s)·attainment + s·satisfaction − penalty·failed, clipped to 0–100.

    s is the scheme's satisfaction share, rescaled to the parts a unit has.
    """
    s = scheme.routine.satisfaction_share
    a, sat = attain.to_numpy(float), satisfaction.to_numpy(float)
    wa = np.where(np.isnan(a), 0.0, 1.0 - s)
    ws = np.where(np.isnan(sat), 0.0, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = (wa * np.nan_to_num(a) + ws * np.nan_to_num(sat)) / (wa + ws)
    base = np.where(wa + ws > 0, base, np.nan)
    penalty = scheme.routine.verification_penalty * failed.to_numpy(float)
    return pd.Series(np.clip(base - penalty, 0.0, 100.0), index=attain.index, name="routine")


def routine_scores(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Per unit: mean attainment, satisfaction, failed verifications and the routine score (0–100)."""
    units = dataset.units["unit"]
    if scheme.routine is None:
        out = pd.DataFrame(index=pd.Index(units, name="unit"))
        out[["attainment", "satisfaction", "failed_verifications", "routine"]] = np.nan
        return out
    out = routine_parts(dataset, scheme, scheme.routine.year)
    att = attainment_scores(dataset, scheme).groupby("unit")["score"].mean()
    out.insert(0, "attainment", att.reindex(out.index))
    out["routine"] = routine_formula(out["attainment"], out["satisfaction"], out["failed_verifications"], scheme)
    return out


def rank_desc(scores: pd.Series, by: pd.Series | list | None = None) -> pd.Series:
    """Rank 1 = highest score within each group of ``by``; ties take the lowest rank; NaN stays unranked."""
    s = scores.round(_TIE_DECIMALS)
    r = s.groupby(by, observed=True).rank(ascending=False, method="min") if by is not None else s.rank(
        ascending=False, method="min"
    )
    return r.astype("Int64")


def impute_components(components: pd.DataFrame, scheme: Scheme, kinds: pd.Series | None = None) -> pd.DataFrame:
    """Under ``missing_components: impute_mean``, fill a missing component with its mean over the unit's kind."""
    if scheme.missing_components != "impute_mean":
        return components
    by = kinds.reindex(components.index) if kinds is not None else pd.Series("all", index=components.index)
    return components.fillna(components.groupby(by.to_numpy()).transform("mean"))


def final_scores(components: pd.DataFrame, scheme: Scheme, kinds: pd.Series | None = None, file: str = "scores") -> pd.DataFrame:
    """Weighted mean of the components with positive weight, and which components were imputed.

    A unit without a component follows ``missing_components``: ``renormalise``
    rescales the weights over the components it has; ``impute_mean`` gives it the
    mean of that component over the units of its kind that have it; ``error`` refuses.
    """
    w = pd.Series({k: v for k, v in scheme.components.items() if v > 0})
    comp = components[list(w.index)].astype(float)
    missing = comp.isna()
    if scheme.missing_components == "error" and missing.to_numpy().any():
        i, j = np.argwhere(missing.to_numpy())[0]
        raise DataError(
            f"unit {components.index[i]} has no {w.index[j]} score and the scheme sets missing_components: error",
            file=file,
            column=w.index[j],
        )
    comp = impute_components(comp, scheme, kinds)
    vals = comp.to_numpy()
    have = ~np.isnan(vals)
    wsum = (have * w.to_numpy()).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        final = np.where(wsum > 0, np.nansum(vals * w.to_numpy(), axis=1) / wsum, np.nan)
    imputed = [", ".join(c for c, m, h in zip(w.index, mrow, hrow) if m and h) for mrow, hrow in zip(missing.to_numpy(), have)]
    return pd.DataFrame({"final": final, "imputed": pd.Series(imputed, index=comp.index, dtype="string")}, index=comp.index)


def score_units(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """One row per unit: components, final score, its grade band, rank within kind and rank within zone."""
    u = dataset.units.set_index("unit")
    out = u[["kind", "zone", "name_zh", "name_en", "presented"]].copy()
    out["onsite"] = onsite_scores(dataset, scheme).reindex(out.index)
    rt = routine_scores(dataset, scheme)
    out["attainment"] = rt["attainment"]
    out["routine"] = rt["routine"]
    out["satisfaction"] = rt["satisfaction"]
    out["failed_verifications"] = rt["failed_verifications"]
    fin = final_scores(out, scheme, kinds=out["kind"], file=dataset.file("ratings"))
    out["final"] = fin["final"]
    out["imputed"] = fin["imputed"]
    fin = out["final"].to_numpy()
    grade = np.full(len(out), None, dtype=object)
    ok = ~np.isnan(fin)
    grade[ok] = scheme.grade_of(np.clip(fin[ok], 0, 100))
    out["grade"] = pd.Series(grade, index=out.index, dtype="string")
    by = out["kind"] if scheme.ranking.within == "kind" else None
    out["rank"] = rank_desc(out["final"], by)
    if scheme.ranking.zone:
        out["zone_rank"] = rank_desc(out["final"], [out["kind"], out["zone"]])
    else:
        out["zone_rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out = out.reset_index()
    kind_order = out["kind"].map({k: n for n, k in enumerate(KINDS)})
    out = out.assign(_k=kind_order).sort_values(["_k", "rank", "unit"], kind="mergesort")
    return out.drop(columns="_k").reset_index(drop=True)
