"""Uniform against differentiated evaluation: scores, ranks and the reasons for every move."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.composite import aggregate, effective_weights, parts
from perflab.differentiated.baseline import own_baseline
from perflab.differentiated.vetting import target_attainment, vet_targets, vetted_attainment
from perflab.differentiated.zones import zone_relative
from perflab.errors import DataError, SchemeError
from perflab.io import Dataset
from perflab.scheme import Scheme
from perflab.scoring import (
    Scorer,
    final_scores,
    impute_components,
    indicator_scores,
    rank_desc,
    routine_formula,
    routine_parts,
)


@dataclass(frozen=True)
class Evaluation:
    """Uniform against differentiated evaluation, with the reasons for every move (:func:`evaluate` makes it).

    Examples
    --------
    A hand-made one, three districts:

    >>> ev = Evaluation(
    ...     scores=pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "zone": "core",
    ...         "name_zh": "", "name_en": "", "rank_uniform": [1, 2, 3], "rank_differentiated": [2, 1, 3],
    ...         "rank_change": [-1, 1, 0], "uniform": [90.0, 89.5, 80.0], "differentiated": [88.0, 90.5, 80.0]}),
    ...     contributions=pd.DataFrame({"unit": ["D01", "D01", "D02", "D02", "D03", "D03"],
    ...         "item": ["key_tasks", "gdp_growth"] * 3, "part": ["indicator", "measure"] * 3,
    ...         "uniform": [50.0, 40.0, 49.0, 40.5, 48.0, 32.0], "differentiated": [50.0, 38.0, 49.0, 41.5, 48.0, 32.0],
    ...         "relative_delta": [0.0, -1.5, 0.0, 1.5, 0.0, 0.0]}),
    ...     objective=None, baseline=None, attainment=None, vetting=None, method="mean", years=3, too_few_years="zone")
    >>> ev.summary()[["kind", "units", "moved", "mean_abs_move"]].values.tolist()
    [['district', 3, 2, 0.6666666666666666]]
    >>> ev.movers(1)[["unit", "rank_change", "why"]].values.tolist()
    [['D01', -1, 'gdp_growth -1.50; key_tasks +0.00']]
    """

    scores: pd.DataFrame  # one row per unit: uniform and differentiated scores and ranks
    contributions: pd.DataFrame  # unit × item: contribution to each score, delta, delta against the kind's mean delta
    objective: pd.DataFrame  # unit × measure: attainment, improvement, zone percentile, objective score, weight
    baseline: pd.DataFrame  # own_baseline for every unit × measure × year
    attainment: pd.DataFrame  # target_attainment for every target
    vetting: pd.DataFrame  # vet_targets flags
    method: str
    years: int
    too_few_years: str

    def movers(self, n: int = 10) -> pd.DataFrame:
        """The units whose rank moves most, each with the two items that moved it most against its kind.

        Parameters
        ----------
        n : int
            How many units.

        Returns
        -------
        pandas.DataFrame
            unit, kind, zone, names, both ranks and scores, rank_change (> 0: moved up) and ``why``: the two
            items with their points against the kind's mean change, e.g. ``"gdp_growth -1.50; key_tasks +0.00"``.
        """
        s = self.scores.assign(abs_move=self.scores["rank_change"].abs()).sort_values(
            ["abs_move", "unit"], ascending=[False, True], kind="mergesort"
        )
        top = s[s["abs_move"] > 0].head(n)
        reasons = {}
        for unit in top["unit"]:
            cu = self.why(unit)
            reasons[unit] = "; ".join(f"{r.item} {r.relative_delta:+.2f}" for r in cu.head(2).itertuples())
        cols = [
            "unit",
            "kind",
            "zone",
            "name_zh",
            "name_en",
            "rank_uniform",
            "rank_differentiated",
            "rank_change",
            "uniform",
            "differentiated",
        ]
        return top[cols].assign(why=top["unit"].map(reasons)).reset_index(drop=True)

    def why(self, unit: str) -> pd.DataFrame:
        """One unit's contributions, the item that moved it most against its kind first.

        Parameters
        ----------
        unit : str
            The unit id.

        Returns
        -------
        pandas.DataFrame
            The unit's rows of ``contributions``.
        """
        c = self.contributions[self.contributions["unit"] == unit]
        return c.reindex(c["relative_delta"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def spread(self) -> pd.DataFrame:
        """Per kind: how far apart the on-site and the routine parts set the units, in final-score points.

        The standard deviation over the units of each part's contribution (on-site: the indicators and an imputed
        on-site score; routine: the measures, satisfaction and verification) under both evaluations. A part whose
        spread grows moves the ranking more, whatever its nominal weight.

        Returns
        -------
        pandas.DataFrame
            kind, component (``on-site`` or ``routine``), uniform_sd, differentiated_sd and their ratio.
        """
        c = self.contributions
        part = np.where(
            c["part"].eq("indicator") | c["item"].eq("on-site (imputed)"),
            "on-site",
            np.where(c["item"].eq("adjustment"), "", "routine"),
        )
        c = c.assign(component=part)
        c = c[c["component"] != ""]
        per_unit = c.groupby(["unit", "component"])[["uniform", "differentiated"]].sum().reset_index()
        per_unit["kind"] = per_unit["unit"].map(self.scores.set_index("unit")["kind"])
        out = per_unit.groupby(["kind", "component"], sort=False)[["uniform", "differentiated"]].std(ddof=0)
        out = out.rename(columns={"uniform": "uniform_sd", "differentiated": "differentiated_sd"}).reset_index()
        out["ratio"] = out["differentiated_sd"] / out["uniform_sd"].where(out["uniform_sd"] > 0)
        return out

    def summary(self) -> pd.DataFrame:
        """Per kind: units, how many change rank, the mean absolute move and the rank correlation.

        Returns
        -------
        pandas.DataFrame
            kind, units, moved, mean_abs_move, spearman_rho (of the two rankings) and the baseline used.
        """
        rows = []
        for kind, s in self.scores.groupby("kind", sort=False):
            rho = s["rank_uniform"].astype(float).corr(s["rank_differentiated"].astype(float), method="spearman")
            rows.append(
                {
                    "kind": kind,
                    "units": len(s),
                    "moved": int((s["rank_change"] != 0).sum()),
                    "mean_abs_move": float(s["rank_change"].abs().mean()),
                    "spearman_rho": float(rho),
                    "baseline": f"{self.method} of {self.years} previous years (too few: {self.too_few_years})",
                }
            )
        return pd.DataFrame(rows)


def _per_unit_weights(units: pd.Index, zone_of: pd.Series, weights_for, columns) -> pd.DataFrame:
    """Unit × item weight matrix from a zone -> weights function."""
    table = {z: weights_for(z) for z in pd.unique(zone_of.reindex(units))}
    return pd.DataFrame([table[zone_of[u]].reindex(columns).to_numpy() for u in units], index=units, columns=columns)


def _weighted(
    values: pd.DataFrame, weights: pd.DataFrame, method: str = "arithmetic"
) -> tuple[pd.Series, pd.DataFrame]:
    """The composite score over the items a unit has, and each item's part of it (:func:`perflab.composite.parts`).

    The score is the sum of its parts (NaN without an item), so the contributions add up to it: exactly the
    weighted mean under the arithmetic composite, the geometric mean up to rounding under the geometric one.
    """
    v = values.to_numpy(float)
    p = parts(v, weights.to_numpy(float), method)
    score = np.where(effective_weights(v, weights.to_numpy(float)).sum(axis=1) > 0, p.sum(axis=1), np.nan)
    return pd.Series(score, index=values.index), pd.DataFrame(p, index=values.index, columns=values.columns)


def _contributions(final, comps, onsite_parts, rated, meas_parts, meas_has, routine, scheme, net=None) -> pd.DataFrame:
    """Each item's contribution to the final score; a residual item ('adjustment') makes them add up exactly.

    ``onsite_parts`` and ``meas_parts`` are the items' parts of the on-site score and of the objective part of the
    routine score (:func:`perflab.composite.parts`); ``rated`` says which units were scored on site and
    ``meas_has`` which have an objective figure.
    """
    W = pd.Series({k: v for k, v in scheme.components.items() if v > 0})
    wc = pd.DataFrame(effective_weights(comps[list(W.index)].to_numpy(float), W.to_numpy()), comps.index, W.index)
    zero = pd.Series(0.0, index=comps.index)
    w_on = wc["onsite"] if "onsite" in wc else zero
    w_rt = wc["routine"] if "routine" in wc else zero
    w_sat = wc["satisfaction"] if "satisfaction" in wc else zero
    pieces = [
        onsite_parts.mul(w_on, axis=0).where(rated, 0.0),
        pd.DataFrame({"on-site (imputed)": (w_on * comps["onsite"]).where(~rated, 0.0)}),
    ]
    if scheme.routine is not None:
        # the routine score's split between the objective part and satisfaction (routine_formula), per unit
        s = scheme.routine.satisfaction_share
        wa = np.where(meas_has, 1 - s, 0.0)
        ws = np.where(routine["satisfaction"].notna().to_numpy(), s, 0.0)
        norm = np.where(wa + ws > 0, wa + ws, 1.0)
        pieces.append(meas_parts.mul(w_rt * wa / norm, axis=0))
        sat_in_routine = w_rt * ws / norm * routine["satisfaction"].fillna(0.0)
        pieces.append(
            pd.DataFrame(
                {
                    "satisfaction": sat_in_routine + w_sat * routine["satisfaction"].fillna(0.0),
                    "verification": -w_rt * scheme.routine.verification_penalty * routine["failed_verifications"],
                }
            )
        )
    if net is not None:  # the scheme's bonus and deduction items, outside the weighted score (both evaluations)
        pieces.append(pd.DataFrame({"bonus_deduction": net.reindex(comps.index)}))
    wide = pd.concat(pieces, axis=1)
    wide = wide.T.groupby(level=0, sort=False).sum().T  # an id used twice (indicator and measure) adds up
    wide["adjustment"] = final - wide.sum(axis=1)
    return wide


@dataclass(frozen=True)
class _Objective:
    """The objective figures of the year: per unit × measure, and wide (differentiated and uniform)."""

    table: pd.DataFrame  # unit × measure rows: improvement, attainment, T-scores, objective score, weight
    wide: pd.DataFrame  # unit × measure objective scores (differentiated)
    attainment_wide: pd.DataFrame  # unit × measure attainment scores (uniform)
    weights: pd.DataFrame  # unit × measure weights of the unit's zone
    pooled: set  # units with a T-score standardised by the kind's pooled spread
    baseline: pd.DataFrame
    attainment: pd.DataFrame
    vetting: pd.DataFrame


def _objective(dataset: Dataset, scheme: Scheme, method: str, years: int) -> _Objective:
    """Own targets and improvement on the own baseline, each as a T-score among the units of the zone."""
    d = scheme.differentiated
    units = dataset.units.set_index("unit")
    idx, year, small = units.index, d.year, d.min_zone_size
    base = own_baseline(
        dataset.history, method, years, directions=scheme, too_few_years=d.baseline.too_few_years, units=dataset.units
    )
    att_all = target_attainment(dataset.history, scheme)
    # both parts as T-scores among the units of the zone (50 = the zone's average), so they weigh alike;
    # a part a unit has no figure for counts as the zone's average: no evidence neither lifts nor sinks it
    now = zone_relative(base[base["year"] == year], dataset.units, "improvement", by=["measure"], min_zone_size=small)
    now = now.assign(improvement_score=np.clip(50.0 + 10.0 * now["zone_z"], 0.0, 100.0))
    vetting = vet_targets(dataset.history, dataset.verification, scheme)
    att_now = vetted_attainment(att_all[att_all["year"] == year], vetting, base[base["year"] == year], scheme)
    att_rel = zone_relative(att_now, dataset.units, "attainment_vetted", by=["measure"], min_zone_size=small)
    att_now = att_now.assign(
        attainment_score=np.clip(50.0 + 10.0 * att_rel["zone_z"].to_numpy(), 0.0, 100.0),
        spread_from=att_rel["spread_from"].to_numpy(),
    )
    obj = now[["unit", "measure", "improvement", "source", "zone_z", "zone_pct", "improvement_score"]].merge(
        att_now.drop(columns=["spread_from", "year"]), on=["unit", "measure"], how="outer"
    )
    spread = pd.concat([now[["unit", "spread_from"]], att_now[["unit", "spread_from"]]])
    kind_of = units["kind"].astype(str)
    reported = set(dataset.history["measure"])
    grid = pd.DataFrame(
        [(u, m.id) for u in idx for m in scheme.measures if m.kind in (kind_of[u], "all") and m.id in reported],
        columns=["unit", "measure"],
    )
    obj = grid.merge(obj, on=["unit", "measure"], how="left")
    a = d.attainment_share
    both = np.column_stack([obj["attainment_score"].fillna(50.0), obj["improvement_score"].fillna(50.0)])
    obj["objective"] = aggregate(both, [a, 1.0 - a])  # per measure: attainment and improvement, shares a and 1 − a
    meas_ids = [m.id for m in scheme.measures]
    obj_wide = obj.pivot_table(index="unit", columns="measure", values="objective", observed=True).reindex(
        index=idx, columns=[m for m in meas_ids if m in set(obj["measure"])]
    )
    att_wide = att_now.pivot_table(index="unit", columns="measure", values="attainment", observed=True).reindex(
        index=idx, columns=obj_wide.columns
    )
    meas_w = _per_unit_weights(idx, units["zone"].astype(str), scheme.zone_measure_weights, obj_wide.columns)
    obj = obj.assign(
        weight=[meas_w.at[u, m] if m in meas_w.columns else np.nan for u, m in zip(obj["unit"], obj["measure"])]
    )
    pooled = set(spread.loc[spread["spread_from"] == "kind", "unit"])
    return _Objective(obj, obj_wide, att_wide, meas_w, pooled, base, att_all, vetting)


def _both_contributions(out, comps_u, comps_d, rated, on_u, on_d, meas_d, ob: _Objective, routine, scheme, net=None):
    """Each item's contribution to the uniform and to the differentiated score (unit × item tables)."""
    plain = pd.DataFrame(1.0, index=ob.wide.index, columns=ob.wide.columns)  # the uniform routine score: plain mean
    meas_u = _weighted(ob.attainment_wide, plain)[1]
    has_u, has_d = ob.attainment_wide.notna().any(axis=1).to_numpy(), ob.wide.notna().any(axis=1).to_numpy()
    cu = _contributions(out["uniform"], comps_u, on_u, rated, meas_u, has_u, routine, scheme, net)
    cd = _contributions(out["differentiated"], comps_d, on_d, rated, meas_d, has_d, routine, scheme, net)
    return cu, cd


def _contribution_table(cu: pd.DataFrame, cd: pd.DataFrame, scheme: Scheme, kinds: pd.Series) -> pd.DataFrame:
    """Long table of both evaluations' contributions per unit × item, their difference and its relative part."""
    items = list(dict.fromkeys(list(cu.columns) + list(cd.columns)))
    cu, cd = cu.reindex(columns=items, fill_value=0.0), cd.reindex(columns=items, fill_value=0.0)
    kind_of_item = {i: "indicator" for i in scheme.indicator_ids} | {m.id: "measure" for m in scheme.measures}
    contrib = (
        pd.DataFrame({"uniform": cu.stack(), "differentiated": cd.stack()}).rename_axis(["unit", "item"]).reset_index()
    )
    contrib["part"] = contrib["item"].map(kind_of_item).fillna("other")
    contrib["delta"] = contrib["differentiated"] - contrib["uniform"]
    # ranks are relative: what moves a unit is its change against the change of the other units of its kind
    kind = contrib["unit"].map(kinds)
    contrib["relative_delta"] = contrib["delta"] - contrib.groupby([kind, contrib["item"]])["delta"].transform("mean")
    keep = (contrib["uniform"] != 0) | (contrib["differentiated"] != 0) | (contrib["relative_delta"].abs() > 1e-12)
    contrib = contrib[keep].reset_index(drop=True)
    return contrib[["unit", "item", "part", "uniform", "differentiated", "delta", "relative_delta"]]


def _onsite(dataset: Dataset, scheme: Scheme, units: pd.DataFrame, groups: pd.DataFrame):
    """Indicator scores, and the on-site score with its indicators' parts under the base and the zones' weights."""
    idx = units.index
    ind = indicator_scores(dataset, scheme, groups).reindex(idx)
    ind_w_u = pd.DataFrame([scheme.weights.reindex(ind.columns).to_numpy()] * len(idx), index=idx, columns=ind.columns)
    ind_w_d = _per_unit_weights(idx, units["zone"].astype(str), scheme.zone_indicator_weights, ind.columns)
    return ind, _weighted(ind, ind_w_u, scheme.composite), _weighted(ind, ind_w_d, scheme.composite)


def _score_table(uniform: pd.DataFrame, final: pd.Series, dataset: Dataset, scheme: Scheme, pooled: set):
    """Per unit: the uniform and the differentiated score and rank, and the zone-relative position."""
    idx = final.index
    out = uniform[["kind", "zone", "name_zh", "name_en", "presented"]].reindex(idx).copy()
    out["uniform"] = uniform["final"].reindex(idx)
    out["rank_uniform"] = uniform["rank"].reindex(idx)
    out["differentiated"] = final
    by = out["kind"] if scheme.ranking.within == "kind" else None  # the rank_group: each unit's kind, or all units
    out["rank_differentiated"] = rank_desc(out["differentiated"], by)
    out["rank_change"] = (out["rank_uniform"] - out["rank_differentiated"]).astype("Int64")  # > 0: moved up
    out["zone_rank_differentiated"] = rank_desc(out["differentiated"], [out["kind"], out["zone"]])
    rel = zone_relative(
        out.reset_index()[["unit", "differentiated"]],
        dataset.units,
        "differentiated",
        min_zone_size=scheme.differentiated.min_zone_size,
    )
    out["zone_z"] = rel.set_index("unit")["zone_z"]
    out["spread_pooled"] = out.index.isin(pooled)  # its zone is below min_zone_size: the kind's spread
    out["zone_pct"] = rel.set_index("unit")["zone_pct"]
    return out


def evaluate(dataset: Dataset, scheme: Scheme, method: str | None = None, years: int | None = None) -> Evaluation:
    """Uniform and differentiated score and rank for every unit, and the change decomposed by item.

    The on-site score uses the zone's indicator weights, combined by the scheme's ``composite``; the objective
    part of the routine score is the measures' objective scores (T-scores of attainment and improvement among
    the zone's units) combined by the zone's measure weights (a weighted arithmetic mean). Satisfaction,
    verification penalty and component weights are the uniform score's.

    Parameters
    ----------
    dataset : Dataset
        The validated data, with the history table (``history.csv``).
    scheme : Scheme
        A scheme with a ``differentiated`` block.
    method : str, optional
        The own-baseline method (``mean``, ``trend`` or ``zscore``); None: the scheme's.
    years : int, optional
        How many previous years form the own baseline; None: the scheme's.

    Returns
    -------
    Evaluation
        ``scores`` (one row per unit, both scores and ranks), ``contributions`` (unit × item, adding up to each
        score), ``objective``, ``baseline``, ``attainment`` and ``vetting``, with ``movers()``, ``why()``,
        ``spread()`` and ``summary()``.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> ev = evaluate(load_dataset("data/raw/demo", scheme), scheme)
    >>> ev.summary()[["kind", "units"]].values.tolist()
    [['district', 16], ['department', 60]]
    >>> bool((ev.contributions.groupby("unit")["differentiated"].sum() - ev.scores.set_index("unit")["differentiated"]).abs().max() < 1e-9)
    True
    """
    d = scheme.differentiated
    if d is None:
        raise SchemeError("the scheme has no `differentiated` block", file=scheme.source, key="differentiated")
    if dataset.history is None:
        raise DataError("differentiated evaluation needs the history table (history.csv)")
    method = method or d.baseline.method
    years = int(years or d.baseline.years)
    scorer = Scorer(dataset)  # the raters' group scores are read once, for both evaluations
    uniform = scorer.score(scheme).set_index("unit")
    units = dataset.units.set_index("unit")
    ind, (onsite_u, on_u), (onsite_d, on_d) = _onsite(dataset, scheme, units, scorer.group_scores(scheme))

    # objective: own targets and improvement on the own baseline, relative to the zone, by the zone's weights
    ob = _objective(dataset, scheme, method, years)
    objective_d, meas_d = _weighted(ob.wide, ob.weights)
    routine = routine_parts(dataset, scheme, scheme.routine.year if scheme.routine else d.year)
    routine_d = (  # without a routine block the objective part stands alone
        routine_formula(objective_d, routine["satisfaction"], routine["failed_verifications"], scheme)
        if scheme.routine is not None
        else objective_d.rename("routine")
    )
    comps_d = pd.DataFrame({"onsite": onsite_d, "routine": routine_d, "satisfaction": routine["satisfaction"]})
    fin_d = final_scores(comps_d, scheme, kinds=units["kind"])
    net = None
    if scheme.adjustments is not None:  # bonus and deduction points count alike in both evaluations
        bonus, deduction = scorer.adjustment_points(scheme)
        net = pd.Series(bonus - deduction, index=scorer.units).reindex(fin_d.index)
        fin_d = fin_d.assign(final=fin_d["final"] + net)
    out = _score_table(uniform, fin_d["final"], dataset, scheme, ob.pooled)
    out["onsite_uniform"], out["onsite_differentiated"] = onsite_u, onsite_d
    out["objective_differentiated"] = objective_d
    out["imputed"] = fin_d["imputed"]
    kinds = units["kind"]
    comps_u = impute_components(uniform[["onsite", "routine", "satisfaction"]].reindex(units.index), scheme, kinds)
    comps_d = impute_components(comps_d, scheme, kinds)
    rated = ind.notna().any(axis=1)
    cu, cd = _both_contributions(out, comps_u, comps_d, rated, on_u, on_d, meas_d, ob, routine, scheme, net)
    return Evaluation(
        scores=out.reset_index(),
        contributions=_contribution_table(cu, cd, scheme, kinds),
        objective=ob.table.sort_values(["unit", "measure"]).reset_index(drop=True),
        baseline=ob.baseline,
        attainment=ob.attainment,
        vetting=ob.vetting,
        method=method,
        years=years,
        too_few_years=d.baseline.too_few_years,
    )
