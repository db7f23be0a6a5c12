"""Scores and ranks: raters → groups → indicators → on-site score; figures → routine score; components → final.

The chain follows the 2016 evaluation: within each evaluator group the raters'
scores for a unit and an indicator are combined (mean or trimmed mean); the
groups are combined by their shares; the indicators by their weights into the
on-site score. The routine score comes from the special-evaluation
departments' figures (target attainment), the satisfaction survey and on-site
verification. The final score is the weighted mean of the components, and
units are ranked within their kind (and zone) unless the scheme says otherwise.

Every level combines its items through :mod:`perflab.composite` (weights
rescaled over the items a unit has): groups into an indicator, and components
into the final score, by the weighted arithmetic mean; indicators into the
on-site score by the scheme's ``composite`` (arithmetic or geometric). Every
rank comes from :func:`rank_codes`. :class:`Scorer` scores one data set under many schemes (a
sweep) by computing what a scheme change leaves alone only once;
:func:`score_units` is ``Scorer(dataset).score(scheme)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.composite import aggregate, effective_weights, parts
from perflab.errors import DataError
from perflab.io import Dataset
from perflab.ranking import group_codes as _codes
from perflab.ranking import rank_codes, rank_desc  # noqa: F401  (public here too)
from perflab.scheme import KINDS, Scheme
from perflab.scheme_extras import Challenge


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


def group_cube(groups: pd.DataFrame, units, indicators, group_ids) -> np.ndarray:
    """Dense (unit, indicator, group) array of group scores, NaN where a group did not score a unit and indicator."""
    ui = pd.Index(units)
    ii = pd.Index(indicators)
    gi = pd.Index(group_ids)
    u, i, g = ui.get_indexer(groups["unit"]), ii.get_indexer(groups["indicator"]), gi.get_indexer(groups["group"])
    keep = (u >= 0) & (i >= 0) & (g >= 0)
    cube = np.full((len(ui), len(ii), len(gi)), np.nan)
    cube[u[keep], i[keep], g[keep]] = groups["score"].to_numpy(float)[keep]
    return cube


def _indicator_table(cube: np.ndarray, units, indicators, shares: np.ndarray) -> pd.DataFrame:
    """Unit × indicator scores from a group cube and the shares; units and indicators nobody scored dropped."""
    vals = aggregate(cube, shares)
    rows, cols = ~np.isnan(vals).all(axis=1), ~np.isnan(vals).all(axis=0)
    return pd.DataFrame(
        vals[np.ix_(rows, cols)],
        index=pd.Index([u for u, r in zip(units, rows) if r], name="unit"),
        columns=pd.Index([i for i, c in zip(indicators, cols) if c], name="indicator"),
    )


def indicator_scores(dataset: Dataset, scheme: Scheme, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unit × indicator on-site scores (wide): group scores combined by the scheme's shares.

    Shares are rescaled over the groups that scored the unit (a group absent for a
    unit does not pull its score towards zero).
    """
    gs = group_scores(dataset, scheme) if groups is None else groups
    units = sorted(set(gs["unit"]))
    cube = group_cube(gs, units, scheme.indicator_ids, scheme.group_ids)
    return _indicator_table(cube, units, scheme.indicator_ids, scheme.shares.reindex(scheme.group_ids).to_numpy(float))


def onsite_scores(dataset: Dataset, scheme: Scheme, indicators: pd.DataFrame | None = None) -> pd.Series:
    """The on-site score per unit: indicator scores combined by the weights (rescaled over indicators scored).

    The scheme's ``composite`` names the combination: the weighted arithmetic mean (default) or the weighted
    geometric mean (:func:`perflab.composite.aggregate`).
    """
    wide = indicator_scores(dataset, scheme) if indicators is None else indicators
    w = scheme.weights.reindex(wide.columns).to_numpy()
    return pd.Series(aggregate(wide.to_numpy(float), w, scheme.composite), index=wide.index, name="onsite")


def attainment(
    history: pd.DataFrame,
    directions: Mapping[str, str],
    cap: float = 1.0,
    file: str = "history",
    challenge: Challenge | None = None,
) -> pd.DataFrame:
    """Achieved against target for every row of ``history`` with a target, scored 0–100.

    ratio = value / target (target / value when lower is better); score =
    100 · clip(ratio, 0, cap) / cap, so over-achievement is capped and meeting
    the target exactly scores 100 / cap. Targets must be positive (a ratio needs them).

    With a ``challenge`` rule (the scheme's ``routine.challenge``) and a ``challenge`` column, a row with a
    challenge value scores ``target_score`` · clip(ratio, 0, 1) up to its target, ``target_score`` at the target,
    100 at the challenge and beyond, and between them linearly in the result (``between: linear``) or
    ``target_score`` (``between: step``); rows without a challenge value keep the rule above.

    Examples
    --------
    >>> from perflab.scheme_extras import Challenge
    >>> h = pd.DataFrame({"unit": "A", "measure": "x", "year": 2016, "value": [8.0, 10.0, 11.0, 12.0, 9.0],
    ...     "target": 10.0, "challenge": [12.0, 12.0, 12.0, 12.0, None]})
    >>> attainment(h, {"x": "higher"}, challenge=Challenge(target_score=80))["score"].tolist()
    [64.0, 80.0, 90.0, 100.0, 90.0]
    """
    cols = ["unit", "measure", "year", "value", "target", "ratio", "score"]
    h = history[history["target"].notna()]
    missing = sorted(set(h["measure"]) - set(directions))
    if missing:
        raise DataError(
            f"measure {missing[0]!r} has no direction (higher or lower is better) in the scheme",
            file=file,
            column="measure",
        )
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
    if challenge is not None and "challenge" in h.columns:
        score = _challenge_scores(score, ratio, value, target, h["challenge"].to_numpy(float), lower, challenge)
        cols.insert(5, "challenge")
    return h.assign(ratio=ratio, score=score)[cols]


def _challenge_scores(score, ratio, value, target, chal, lower, rule: Challenge) -> np.ndarray:
    """The scores of the rows with a challenge value under the scheme's rule (see :func:`attainment`)."""
    has = ~np.isnan(chal)
    sign = np.where(lower, -1.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        progress = np.clip((value - target) * sign / ((chal - target) * sign), 0.0, 1.0)
    if rule.between == "step":
        progress = np.where(progress >= 1.0, 1.0, 0.0)
    t = rule.target_score
    above = t + (100.0 - t) * progress
    below = t * np.clip(ratio, 0.0, 1.0)
    return np.where(has, np.where(ratio >= 1.0, above, below), score)


def attainment_scores(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Per unit × measure in the routine year: achieved against target, scored 0–100 (see :func:`attainment`)."""
    if dataset.history is None or scheme.routine is None:
        return pd.DataFrame(columns=["unit", "measure", "year", "value", "target", "ratio", "score"])
    h = dataset.history[dataset.history["year"] == scheme.routine.year]
    r = scheme.routine
    return attainment(h, scheme.directions, r.attainment_cap, dataset.file("history"), r.challenge).reset_index(
        drop=True
    )


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
    base = aggregate(np.column_stack([attain.to_numpy(float), satisfaction.to_numpy(float)]), [1.0 - s, s])
    penalty = scheme.routine.verification_penalty * failed.to_numpy(float)
    return pd.Series(np.clip(base - penalty, 0.0, 100.0), index=attain.index, name="routine")


def routine_scores(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Per unit: mean attainment, satisfaction, failed verifications and the routine score (0–100).

    Parameters
    ----------
    dataset : Dataset
        The validated data (history, survey and verification tables).
    scheme : Scheme
        Its ``routine`` block (year, attainment cap, satisfaction share, verification penalty); without one,
        every column is missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit: attainment (the mean attainment score of the year's targets), satisfaction,
        failed_verifications and routine (:func:`routine_formula`).

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> rt = routine_scores(load_dataset("data/raw/demo", scheme), scheme)
    >>> list(rt.columns), bool(rt["routine"].between(0, 100).all())
    (['attainment', 'satisfaction', 'failed_verifications', 'routine'], True)
    """
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


def _impute(vals: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Fill NaN with the column mean over the rows of the same code (-1: no code, left missing)."""
    c = np.zeros(len(vals), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    n = int(c.max()) + 2 if c.size else 1
    have = ~np.isnan(vals)
    sums = np.zeros((n, vals.shape[1]))
    counts = np.zeros_like(sums)
    np.add.at(sums, c, np.where(have, vals, 0.0))  # code -1 lands in the spare last row, never used as a mean
    np.add.at(counts, c, have)
    counts[-1] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1.0), np.nan)
    return np.where(have, vals, means[c])


def impute_components(components: pd.DataFrame, scheme: Scheme, kinds: pd.Series | None = None) -> pd.DataFrame:
    """Under ``missing_components: impute_mean``, fill a missing component with its mean over the unit's kind."""
    if scheme.missing_components != "impute_mean":
        return components
    vals = _impute(components.to_numpy(float), _codes(kinds, components.index))
    return pd.DataFrame(vals, index=components.index, columns=components.columns)


def _indicator_weights(scheme: Scheme) -> np.ndarray:
    return np.array([i.weight for i in scheme.indicators], dtype=float)


def _component_weights(scheme: Scheme) -> pd.Series:
    return pd.Series({k: v for k, v in scheme.components.items() if v > 0}, dtype=float)


def _missing_error(missing: np.ndarray, units, names, scheme: Scheme, file: str):
    if scheme.missing_components == "error" and missing.any():
        i, j = np.argwhere(missing)[0]
        raise DataError(
            f"unit {units[i]} has no {names[j]} score and the scheme sets missing_components: error",
            file=file,
            column=names[j],
        )


def final_scores(
    components: pd.DataFrame, scheme: Scheme, kinds: pd.Series | None = None, file: str = "scores"
) -> pd.DataFrame:
    """Weighted mean of the components with positive weight, and which components were imputed.

    A unit without a component follows ``missing_components``: ``renormalise``
    rescales the weights over the components it has; ``impute_mean`` gives it the
    mean of that component over the units of its kind that have it; ``error`` refuses.
    """
    w = _component_weights(scheme)
    comp = components[list(w.index)].astype(float)
    missing = comp.isna().to_numpy()
    _missing_error(missing, components.index, list(w.index), scheme, file)
    vals = impute_components(comp, scheme, kinds).to_numpy(float)
    return pd.DataFrame(
        {
            "final": aggregate(vals, w.to_numpy()),
            "imputed": pd.Series(_imputed_names(missing, vals, list(w.index)), index=comp.index, dtype="string"),
        },
        index=comp.index,
    )


def _imputed_names(missing: np.ndarray, filled: np.ndarray, names: list[str]) -> list[str]:
    done = missing & ~np.isnan(filled)
    arr = np.asarray(names, dtype=object)
    return [", ".join(arr[row]) for row in done] if done.any() else [""] * len(done)


def adjustment_table(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Each unit's bonus and deduction items (加分, 扣分): the points given, the item's cap and what counts.

    A unit's points for one item are summed over its rows and capped at the item's ``cap``; the counted
    points of a unit's bonus items together are then capped at the scheme's ``bonus_cap`` (deductions at
    ``deduction_cap``), which :func:`adjustment_points` applies.

    Parameters
    ----------
    dataset : Dataset
        The validated data; its ``adjustments`` table (unit, item, points, reason) may be absent.
    scheme : Scheme
        Its ``adjustments`` (the items, their type and cap).

    Returns
    -------
    pandas.DataFrame
        One row per unit × item given points: unit, item, type (bonus or deduction), name_zh, name_en, points
        (as given, summed), cap, counted (min(points, cap)) and reasons (the rows' reasons joined by "; ");
        empty when the scheme or the data have none.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> len(adjustment_table(load_dataset("data/raw/demo", scheme), scheme))  # the 2016 scheme declares none
    0
    """
    cols = ["unit", "item", "type", "name_zh", "name_en", "points", "cap", "counted", "reasons"]
    a, adj = dataset.adjustments, scheme.adjustments
    if a is None or adj is None or not len(a):
        return pd.DataFrame(columns=cols)
    g = a.groupby(["unit", "item"], sort=True, observed=True)
    out = g["points"].sum().to_frame().join(g["reason"].agg(lambda r: "; ".join(map(str, r))).rename("reasons"))
    out = out.reset_index()
    items = {i.id: i for i in adj.items}
    for col in ("type", "name_zh", "name_en", "cap"):
        out[col] = [getattr(items[i], col) for i in out["item"]]
    out["counted"] = np.minimum(out["points"].to_numpy(float), out["cap"].to_numpy(float))
    return out[cols]


def adjustment_points(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Per unit: the bonus and the deduction that count, after the items' caps and the scheme's total caps.

    Parameters
    ----------
    dataset : Dataset
        The validated data.
    scheme : Scheme
        Its ``adjustments``.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit (every unit of the units table, in its order): bonus and deduction, both >= 0 (0 for a
        unit without any), so that the final score is the weighted score + bonus − deduction.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> adjustment_points(load_dataset("data/raw/demo", scheme), scheme).abs().sum().tolist()
    [0.0, 0.0]
    """
    out = pd.DataFrame(0.0, index=pd.Index(dataset.units["unit"], name="unit"), columns=["bonus", "deduction"])
    t = adjustment_table(dataset, scheme)
    adj = scheme.adjustments
    for kind, cap in (("bonus", adj.bonus_cap if adj else None), ("deduction", adj.deduction_cap if adj else None)):
        total = t[t["type"] == kind].groupby("unit")["counted"].sum()
        if cap is not None:
            total = np.minimum(total, cap)
        out[kind] = total.reindex(out.index).fillna(0.0).astype(float)
    return out


@dataclass(frozen=True)
class ScoreArrays:
    """One scheme's scores as arrays over the data set's units (in ``units`` order), for sweeps of many schemes."""

    units: pd.Index
    indicators: np.ndarray  # (unit, indicator) on-site indicator scores, NaN for units not scored on site
    onsite: np.ndarray
    components: np.ndarray  # (unit, component) the positive-weight components after missing_components
    component_names: tuple[str, ...]
    missing: np.ndarray  # (unit, component) which components the unit lacked
    final: np.ndarray
    grade: np.ndarray  # object: grade letters, None where unscored
    rank: np.ndarray  # float, NaN where unranked
    zone_rank: np.ndarray
    rank_codes: np.ndarray  # the rank group of each unit (an index into ``rank_groups``)
    rank_groups: tuple[str, ...]
    # with the scheme's bonus and deduction items (else None): the weighted score before them, and the points
    weighted: np.ndarray | None = None
    bonus: np.ndarray | None = None
    deduction: np.ndarray | None = None


class Scorer:
    """Scores one data set under many schemes (a sweep): what a scheme change leaves alone is computed once.

    The raters' aggregation within groups depends only on ``aggregation`` and the routine score
    only on ``routine`` and the measures' directions, so they are cached per setting; shares,
    weights, components, bands and ranking cost a few vectorised operations per scheme.
    ``Scorer(ds).score(scheme)`` is :func:`score_units`.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self._groups: dict = {}
        self._cubes: dict = {}
        self._routine: dict = {}
        self._routine_np: dict = {}
        self._adjust: dict = {}
        u = dataset.units.set_index("unit")
        self._units = u[["kind", "zone", "name_zh", "name_en", "presented"]].copy()
        self.units = self._units.index
        self._kind = pd.factorize(self._units["kind"])
        self._kind_zone = _codes([self._units["kind"], self._units["zone"]], self.units)

    def group_scores(self, scheme: Scheme) -> pd.DataFrame:
        """:func:`group_scores`, cached by the scheme's aggregation."""
        key = scheme.aggregation
        if key not in self._groups:
            self._groups[key] = group_scores(self.dataset, scheme)
        return self._groups[key]

    def _cube(self, scheme: Scheme) -> np.ndarray:
        key = (scheme.aggregation, tuple(scheme.indicator_ids), tuple(scheme.group_ids))
        if key not in self._cubes:
            self._cubes[key] = group_cube(self.group_scores(scheme), self.units, scheme.indicator_ids, scheme.group_ids)
        return self._cubes[key]

    def routine_scores(self, scheme: Scheme) -> pd.DataFrame:
        """:func:`routine_scores` (in the units' order), cached by the routine settings and the measures' directions."""
        key = (scheme.routine, tuple(sorted(scheme.directions.items())))
        if key not in self._routine:
            self._routine[key] = routine_scores(self.dataset, scheme).reindex(self.units)
        return self._routine[key]

    def _routine_arrays(self, scheme: Scheme) -> dict[str, np.ndarray]:
        """The routine and satisfaction columns of :meth:`routine_scores` as arrays (read once per setting)."""
        key = (scheme.routine, tuple(sorted(scheme.directions.items())))
        if key not in self._routine_np:
            rt = self.routine_scores(scheme)
            self._routine_np[key] = {c: rt[c].to_numpy(float) for c in ("routine", "satisfaction")}
        return self._routine_np[key]

    def adjustment_points(self, scheme: Scheme) -> tuple[np.ndarray, np.ndarray]:
        """:func:`adjustment_points` as (bonus, deduction) arrays in the units' order, cached by the items."""
        if scheme.adjustments not in self._adjust:
            p = adjustment_points(self.dataset, scheme).reindex(self.units)
            self._adjust[scheme.adjustments] = (p["bonus"].to_numpy(float), p["deduction"].to_numpy(float))
        return self._adjust[scheme.adjustments]

    def arrays(self, scheme: Scheme) -> ScoreArrays:
        """The scheme's scores as arrays: the computation behind :meth:`score`, without building tables."""
        ind = aggregate(self._cube(scheme), np.array([g.share for g in scheme.groups]))
        onsite = aggregate(ind, _indicator_weights(scheme), scheme.composite)
        rt = self._routine_arrays(scheme)
        names = [c for c, v in scheme.components.items() if v > 0]
        parts = {"onsite": onsite, **rt}
        comp = np.column_stack([parts[c] for c in names])
        missing = np.isnan(comp)
        _missing_error(missing, self.units, names, scheme, self.dataset.file("ratings"))
        if scheme.missing_components == "impute_mean":
            comp = _impute(comp, self._kind[0])
        final = aggregate(comp, np.array([scheme.components[c] for c in names]))
        weighted = bonus = deduction = None
        if scheme.adjustments is not None:  # added after the weighted composite, before grades and ranks
            weighted, (bonus, deduction) = final, self.adjustment_points(scheme)
            final = weighted + bonus - deduction
        grade = np.full(final.size, None, dtype=object)
        ok = ~np.isnan(final)
        grade[ok] = scheme.grade_of(np.clip(final[ok], 0, 100))
        if scheme.ranking.within == "kind":
            codes, groups = self._kind[0], tuple(str(k) for k in self._kind[1])
        else:
            codes, groups = np.zeros(final.size, dtype=np.int64), ("all",)
        zone_rank = rank_codes(final, self._kind_zone) if scheme.ranking.zone else np.full(final.size, np.nan)
        return ScoreArrays(
            self.units,
            ind,
            onsite,
            comp,
            tuple(names),
            missing,
            final,
            grade,
            rank_codes(final, codes),
            zone_rank,
            np.asarray(codes),
            groups,
            weighted,
            bonus,
            deduction,
        )

    def score(self, scheme: Scheme) -> pd.DataFrame:
        """One row per unit, as :func:`score_units`."""
        a = self.arrays(scheme)
        out = self._units.copy()
        out["onsite"] = a.onsite
        rt = self.routine_scores(scheme)
        for col in ("attainment", "routine", "satisfaction", "failed_verifications"):
            out[col] = rt[col].to_numpy()
        if a.weighted is not None:  # only with the scheme's bonus and deduction items: other outputs stay as they were
            out["weighted"], out["bonus"], out["deduction"] = a.weighted, a.bonus, a.deduction
        out["final"] = a.final
        out["imputed"] = pd.Series(
            _imputed_names(a.missing, a.components, list(a.component_names)), index=out.index, dtype="string"
        )
        out["grade"] = pd.Series(a.grade, index=out.index, dtype="string")
        out["rank"] = pd.Series(a.rank, index=out.index).astype("Int64")
        out["zone_rank"] = pd.Series(a.zone_rank, index=out.index).astype("Int64")
        out = out.reset_index()
        kind_order = out["kind"].map({k: n for n, k in enumerate(KINDS)})
        out = out.assign(_k=kind_order).sort_values(["_k", "rank", "unit"], kind="mergesort")
        return out.drop(columns="_k").reset_index(drop=True)


def contribution_items(scheme: Scheme) -> list[str]:
    """The items of :func:`contributions`: the indicators, then ``onsite_imputed``, ``routine``, ``satisfaction``
    (and ``bonus_deduction``, bonus − deduction, when the scheme declares bonus and deduction items)."""
    extra = ["bonus_deduction"] if scheme.adjustments is not None else []
    return list(scheme.indicator_ids) + ["onsite_imputed", "routine", "satisfaction"] + extra


def contributions(a: ScoreArrays, scheme: Scheme) -> np.ndarray:
    """(unit, item) what each indicator and component adds to the final score; each row sums to the final score.

    Items as :func:`contribution_items`: each indicator's part of the on-site score,
    ``onsite_imputed`` (the on-site score a written-report unit was given), ``routine``
    and ``satisfaction`` (and ``bonus_deduction``: bonus − deduction, with the scheme's items). A component's contribution is its score times its effective weight
    in the final score (weights rescaled over what the unit has, as the scheme does); the
    on-site contribution is split among the indicators by :func:`perflab.composite.parts`:
    score × effective weight under the arithmetic composite (exact), each indicator's share of
    the log of the on-site score under the geometric one (an attribution that adds up).
    """
    n_ind = len(scheme.indicator_ids)
    out = np.zeros((a.final.size, len(contribution_items(scheme))))
    cw = effective_weights(a.components, np.array([scheme.components[c] for c in a.component_names]))
    vals = np.nan_to_num(a.components)
    for j, c in enumerate(a.component_names):
        if c == "onsite":
            out[:, :n_ind] = parts(a.indicators, _indicator_weights(scheme), scheme.composite) * cw[:, [j]]
            out[:, n_ind] = np.where(a.missing[:, j], vals[:, j] * cw[:, j], 0.0)
        else:
            out[:, n_ind + 1 + ("routine", "satisfaction").index(c)] = vals[:, j] * cw[:, j]
    if a.bonus is not None:
        out[:, n_ind + 3] = a.bonus - a.deduction
    out[np.isnan(a.final)] = np.nan
    return out


def score_units(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """One row per unit: components, final score, its grade band, rank within its rank group and within its zone.

    Raters → groups (the scheme's aggregation) → indicators (the groups' shares) → on-site score (the
    indicator weights, by the scheme's ``composite``); figures → routine score; components → final score
    (the component weights, ``missing_components`` for a unit without one).

    Parameters
    ----------
    dataset : Dataset
        The validated data (:func:`perflab.io.load_dataset`).
    scheme : Scheme
        The scheme to score it with (:func:`perflab.scheme.load_scheme`).

    Returns
    -------
    pandas.DataFrame
        One row per unit, by kind and rank: unit, kind, zone, name_zh, name_en, presented, onsite,
        attainment, routine, satisfaction, failed_verifications, final, imputed (the components filled in),
        grade, rank (within the rank group: the unit's kind, or all units) and zone_rank. When the scheme declares
        bonus and deduction items (``adjustments``), ``weighted`` (the weighted score of the components),
        ``bonus`` and ``deduction`` (the points that count, after the caps) come before ``final`` = weighted +
        bonus − deduction, which grades and ranks use; it is not clipped to 0–100 (a score above 100 gets the top
        band's grade).

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = score_units(load_dataset("data/raw/demo", scheme), scheme)
    >>> best = scores.iloc[0]
    >>> best["unit"], best["kind"], round(float(best["final"]), 2), best["grade"], int(best["rank"])
    ('D09', 'district', 90.57, 'A', 1)
    >>> scores.groupby("kind", sort=False)["rank"].max().to_dict()
    {'district': 16, 'department': 60}
    """
    return Scorer(dataset).score(scheme)
