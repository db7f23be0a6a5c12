"""Differentiated evaluation (差异化评价): each unit against its own baseline, its own targets and its zone.

Units doing different jobs are not ranked on one scale. Here each unit is
compared with itself (its own history: :func:`own_baseline`; its own targets:
:func:`target_attainment`, vetted by :func:`vet_targets`) and with its peers
(:func:`zone_relative`), and the scheme's ``differentiated`` block may weigh
indicators and measures differently per zone. :func:`evaluate` puts the
uniform score and rank (as :func:`perflab.scoring.score_units` computes them)
beside the differentiated ones and decomposes the difference by indicator and
measure, so a reader sees why a unit moved.

The differentiated score keeps the uniform score's structure: the on-site
score uses the zone's indicator weights; inside the routine score, the
uniform mean target attainment is replaced by the objective score — per
measure ``a · attainment score + (1 − a) · improvement score``, each the
T-score ``50 + 10 · z`` (clipped to 0–100) of the unit's target attainment,
and of its improvement on its own baseline, among the units of its zone
(``a`` = ``attainment_share``; a part without a figure counts as 50, the
zone's average) — combined with the zone's measure weights.
Satisfaction, verification penalty and component weights are as in the
uniform score, so the two are on one 0–100 scale and their difference adds
up item by item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.errors import DataError, SchemeError
from perflab.io import Dataset
from perflab.scheme import BASELINE_METHODS, TOO_FEW_YEARS, Scheme
from perflab.scoring import (
    attainment,
    final_scores,
    impute_components,
    indicator_scores,
    rank_desc,
    routine_formula,
    routine_parts,
    score_units,
)

MIN_YEARS = {"mean": 1, "trend": 2, "zscore": 3}  # past years each method needs


# ---------------------------------------------------------------------------
# own-history baseline
# ---------------------------------------------------------------------------


def _check_panel(history: pd.DataFrame, directions: Mapping[str, str] | Scheme) -> tuple[pd.DataFrame, dict]:
    """Columns present, years whole numbers, every measure with a direction."""
    for col in ("unit", "measure", "year", "value"):
        if col not in history.columns:
            raise DataError(f"missing column {col!r} in the history table", column=col)
    dirs = dict(directions.directions if isinstance(directions, Scheme) else directions)
    year = pd.to_numeric(history["year"], errors="coerce")
    bad = year.isna() | (year != year.round())
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(f"year {history['year'].iloc[i]!r} is not a whole number", row=history.index[i], column="year")
    value = pd.to_numeric(history["value"], errors="coerce")
    bad = value.isna() & history["value"].notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(f"value {history['value'].iloc[i]!r} is not a number", row=history.index[i], column="value")
    missing = sorted(set(history["measure"]) - set(dirs))
    if missing:
        raise DataError(
            f"measure {missing[0]!r} has no direction (higher or lower is better) in the scheme", column="measure"
        )
    for m, d in dirs.items():
        if d not in ("higher", "lower"):
            raise DataError(f"measure {m!r} has direction {d!r}; it must be higher or lower", column="measure")
    h = history.assign(year=year.astype(int), value=value.astype(float))
    return h, dirs


def _window_stats(V: np.ndarray, years: np.ndarray, j: int, method: str, span: int):
    """Baseline, scale and number of past years for column j of the (rows × years) matrix V."""
    lo = np.searchsorted(years, years[j] - span)  # calendar window: the previous `span` years
    W = V[:, lo:j]
    x = years[lo:j].astype(float)
    have = ~np.isnan(W)
    n = have.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "mean":
            base = np.nansum(W, axis=1) / n
            scale = np.ones(len(V))
        elif method == "trend":
            xs = np.where(have, x, 0.0)
            ys = np.where(have, W, 0.0)
            sx, sy = xs.sum(1), ys.sum(1)
            sxx, sxy = (xs * xs).sum(1), (xs * ys).sum(1)
            slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            base = (sy - slope * sx) / n + slope * years[j]
            scale = np.ones(len(V))
        else:  # zscore: this year's change against last year, in units of the own year-to-year variability
            consecutive = np.diff(x) == 1
            D = np.diff(W, axis=1)[:, consecutive] if W.shape[1] > 1 else np.empty((len(V), 0))
            nd = (~np.isnan(D)).sum(axis=1)
            mean_d = np.nansum(D, axis=1) / nd
            var = np.nansum((D - mean_d[:, None]) ** 2, axis=1) / (nd - 1)
            scale = np.where(nd >= 2, np.sqrt(var), np.nan)
            scale = np.where(scale > 0, scale, np.nan)
            prev = V[:, j - 1] if j > 0 and years[j - 1] == years[j] - 1 else np.full(len(V), np.nan)
            base = prev
            n = np.where(np.isnan(prev), 0, n)
    return base, scale, n


def _apply_method(V: np.ndarray, years: np.ndarray, method: str, span: int):
    base = np.full(V.shape, np.nan)
    scale = np.full(V.shape, np.nan)
    n = np.zeros(V.shape, dtype=int)
    for j in range(V.shape[1]):  # a loop over years (a handful); every unit and measure at once
        base[:, j], scale[:, j], n[:, j] = _window_stats(V, years, j, method, span)
    return base, scale, n


def own_baseline(
    history: pd.DataFrame,
    method: str = "mean",
    years: int = 3,
    *,
    directions: Mapping[str, str] | Scheme,
    too_few_years: str = "missing",
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each unit × measure × year against the unit's own previous ``years`` years.

    ``mean``: change = value − mean of the previous years; ``trend``: change =
    value − the unit's own linear trend (fitted on the previous years) at this
    year; ``zscore``: change = (value − last year's value) / sd of the unit's own
    year-to-year changes. ``improvement`` is the change turned so that positive
    is better (the measure's direction). A unit with fewer past years than the
    method needs (1, 2, 3) follows ``too_few_years``: ``error``, ``missing``
    (NaN), or ``zone`` (the zone's mean series gives the baseline; needs
    ``units``). The ``source`` column says which baseline each row used.
    """
    if method not in BASELINE_METHODS:
        raise ValueError(f"unknown baseline method {method!r}; use one of {', '.join(BASELINE_METHODS)}")
    if too_few_years not in TOO_FEW_YEARS:
        raise ValueError(f"unknown too_few_years policy {too_few_years!r}; use one of {', '.join(TOO_FEW_YEARS)}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ValueError(f"years must be a whole number >= 1, got {years!r}")
    if method == "zscore" and years < MIN_YEARS["zscore"]:
        raise ValueError(f"the zscore method needs years >= 3 (two year-to-year changes), got {years}")
    h, dirs = _check_panel(history, directions)
    h = h[h["value"].notna()]
    if h.empty:
        raise DataError("the history table has no values", column="value")
    dup = h.duplicated(["unit", "measure", "year"])
    if dup.any():
        r = h[dup].iloc[0]
        raise DataError(
            f"unit {r['unit']}, measure {r['measure']}, year {r['year']} appears twice",
            row=h.index[dup.to_numpy()][0],
            column="year",
        )
    if too_few_years == "zone":
        if units is None:
            raise ValueError("too_few_years='zone' needs the units table (for each unit's zone)")
        unknown = sorted(set(h["unit"]) - set(units["unit"]))
        if unknown:
            raise DataError(f"unit {unknown[0]!r} is in the history but not in the units table", column="unit")
    wide = h.pivot_table(index=["unit", "measure"], columns="year", values="value", aggfunc="first", observed=True)
    all_years = np.arange(wide.columns.min(), wide.columns.max() + 1)
    wide = wide.reindex(columns=all_years)
    V = wide.to_numpy(float)
    base, scale, n = _apply_method(V, all_years, method, years)
    need = MIN_YEARS[method]
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(base) & np.isfinite(scale) & (scale > 0)  # zscore: no spread, no scale
    enough = (n >= need) & usable
    source = np.where(enough, "own", "none").astype(object)
    if too_few_years == "zone":
        zone_of = units.set_index("unit")["zone"].astype(str)
        zones = wide.index.get_level_values("unit").map(zone_of)
        measures = wide.index.get_level_values("measure")
        zwide = wide.groupby([zones, measures]).mean()  # the zone's mean series per measure
        zb, zs, zn = _apply_method(zwide.to_numpy(float), all_years, method, years)
        pos = zwide.index.get_indexer(pd.MultiIndex.from_arrays([zones, measures]))
        with np.errstate(invalid="ignore"):
            use = ~enough & (zn[pos] >= need) & np.isfinite(zb[pos]) & np.isfinite(zs[pos]) & (zs[pos] > 0)
        zb_rows = zb[pos]
        if method == "zscore":  # last year's own value when there is one, else the zone's
            own_prev = np.column_stack([np.full(len(V), np.nan), V[:, :-1]])
            zb_rows = np.where(np.isnan(own_prev), zb_rows, own_prev)
        base = np.where(use, zb_rows, base)
        scale = np.where(use, zs[pos], scale)
        source = np.where(use, "zone", source)
    observed = ~np.isnan(V)
    if too_few_years == "error":
        # a shortage counts when the panel itself reaches far enough back: the panel's first years never can
        panel_n = np.array([((all_years < y) & (all_years >= y - years)).sum() for y in all_years])
        short = observed & ~enough & (panel_n >= need)[None, :]
        if short.any():
            r, c = np.argwhere(short)[0]
            unit, measure = wide.index[r]
            raise DataError(
                f"unit {unit}, measure {measure}, year {all_years[c]}: {n[r, c]} previous year(s) of its own, "
                f"the {method} baseline needs {need} (set too_few_years to missing or zone)",
                column="year",
            )
    with np.errstate(invalid="ignore"):
        change = (V - base) / scale
    change = np.where(source == "none", np.nan, change)
    base = np.where(source == "none", np.nan, base)
    rows, cols = np.nonzero(observed)
    idx = wide.index[rows]
    out = pd.DataFrame(
        {
            "unit": idx.get_level_values("unit"),
            "measure": idx.get_level_values("measure"),
            "year": all_years[cols],
            "value": V[rows, cols],
            "baseline": base[rows, cols],
            "n_years": n[rows, cols],
            "source": pd.Series(source[rows, cols], dtype="string"),
            "change": change[rows, cols],
        }
    )
    sign = out["measure"].map({m: 1.0 if d == "higher" else -1.0 for m, d in dirs.items()}).astype(float)
    out["improvement"] = out["change"] * sign
    out["method"] = method
    out["too_few_years"] = too_few_years
    return out.sort_values(["unit", "measure", "year"], kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------
# own targets
# ---------------------------------------------------------------------------


def target_attainment(history: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Every target in the panel: achieved against target with the measure's direction, scored 0–100.

    The rule is the routine score's (:func:`perflab.scoring.attainment`): ratio
    achieved/target (target/achieved when lower is better), capped at the
    scheme's ``attainment_cap`` and scaled so the cap scores 100.
    """
    h, _ = _check_panel(history, scheme)
    if "target" not in h.columns:
        raise DataError("missing column 'target' in the history table", column="target")
    cap = scheme.routine.attainment_cap if scheme.routine else 1.0
    return attainment(h, scheme.directions, cap).reset_index(drop=True)


def vet_targets(
    history: pd.DataFrame, verification: pd.DataFrame | None, directions: Mapping[str, str] | Scheme
) -> pd.DataFrame:
    """Flag targets that ask for nothing new, and claims that failed on-site verification.

    One row per flag (unit, measure, year, flag, target, reference, reason):
    ``repeats_result`` — the target equals (up to rounding) a result already
    achieved in an earlier year and asks for no more than last year's result
    (the article's polluting firms "closed" years ago); ``not_ambitious`` — the
    target is below last year's result (above, when lower is better);
    ``failed_verification`` — a claim the on-site check did not confirm.
    """
    h, dirs = _check_panel(history, directions)
    cols = ["unit", "measure", "year", "flag", "target", "reference", "reason"]
    flags = []
    if "target" in h.columns:
        h = h.sort_values(["unit", "measure", "year"], kind="mergesort")
        prev = h.groupby(["unit", "measure"])["value"].shift()
        prev_year = h.groupby(["unit", "measure"])["year"].shift()
        prev = prev.where(prev_year == h["year"] - 1)
        sign = h["measure"].map({m: 1.0 if d == "higher" else -1.0 for m, d in dirs.items()})
        t = h["target"]
        ambition = (t - prev) * sign  # > 0: asks for more than last year's result
        tol = 1e-9 * np.maximum(1.0, prev.abs().fillna(1.0))  # equal up to rounding: 0.1 + 0.2 is 0.3
        # earlier results equal to the target (up to rounding), for targets not more ambitious than last year
        cand = h[t.notna() & ~(ambition > tol)].assign(ambition=ambition, prev=prev)
        past = h[["unit", "measure", "year", "value"]].rename(columns={"year": "result_year", "value": "result"})
        eq = cand.merge(past, on=["unit", "measure"])
        eq = eq[(eq["result_year"] < eq["year"]) & np.isclose(eq["target"], eq["result"], rtol=1e-9, atol=1e-12)]
        eq = eq.sort_values("result_year").groupby(["unit", "measure", "year"], as_index=False).last()
        repeated = set(zip(eq["unit"], eq["measure"], eq["year"]))
        for r in eq.itertuples(index=False):
            if r.result_year == r.year - 1:
                tail = ": no more than last year's result"
            elif pd.isna(r.prev):
                tail = " (last year's result is not known)"
            else:
                tail = f", and last year's result was already {r.prev:g}"
            flags.append(
                (
                    r.unit,
                    r.measure,
                    r.year,
                    "repeats_result",
                    r.target,
                    r.result,
                    f"target {r.target:g} repeats the result already achieved in {r.result_year}{tail}",
                )
            )
        worse = t.notna() & prev.notna() & (ambition < -tol)
        for unit, measure, year, tgt, ref in zip(
            h["unit"][worse], h["measure"][worse], h["year"][worse], t[worse], prev[worse]
        ):
            if (unit, measure, year) in repeated:
                continue
            word = "below" if dirs[measure] == "higher" else "above"
            flags.append(
                (
                    unit,
                    measure,
                    year,
                    "not_ambitious",
                    tgt,
                    ref,
                    f"target {tgt:g} is {word} last year's result {ref:g}: less ambitious than what was already done",
                )
            )
    if verification is not None and len(verification):
        failed = verification[~verification["verified"].astype(bool)]
        for r in failed.itertuples(index=False):
            flags.append(
                (
                    r.unit,
                    pd.NA,
                    r.year,
                    "failed_verification",
                    np.nan,
                    np.nan,
                    f"claim '{r.claim}' was not confirmed by on-site verification",
                )
            )
    out = pd.DataFrame(flags, columns=cols)
    out["measure"] = out["measure"].astype("string")
    out["year"] = out["year"].astype(int)
    return out.sort_values(["unit", "year", "flag"], kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------
# zone-relative scoring
# ---------------------------------------------------------------------------


def zone_relative(
    table: pd.DataFrame, units: pd.DataFrame, value: str, by: list[str] | None = None, min_zone: int = 1
) -> pd.DataFrame:
    """Each unit's ``value`` as a z-score and a percentile among the units of its zone (and ``by`` groups).

    z = (value − zone mean) / spread. The spread is the zone's population sd when the zone has at least
    ``min_zone`` units with a value; a smaller zone's own sd says little (two units always give z = ±1, whatever
    their gap), so it borrows the spread pooled over the zones of its kind: the pooled within-zone sd,
    sqrt(Σ squared deviations from each zone's mean / Σ (units − 1)). Zero spread gives z = 0.
    percentile = 100 · (mid-rank − 1) / (n − 1) within the zone, 50 for a zone of one. Only peers are compared,
    so adding a constant to every unit of a zone changes nothing. Columns added: zone, zone_n, zone_sd (the
    spread used), spread_from ('zone' or 'kind'), zone_z, zone_pct.
    """
    if value not in table.columns:
        raise DataError(f"no column {value!r} in the table", column=value)
    if isinstance(min_zone, bool) or not isinstance(min_zone, (int, np.integer)) or min_zone < 1:
        raise ValueError(f"min_zone must be a whole number >= 1, got {min_zone!r}")
    u = units.set_index("unit")
    zone_of = u["zone"]
    out = table.copy()
    unknown = ~out["unit"].isin(zone_of.index)
    if unknown.any():
        raise DataError(f"unit {out.loc[unknown, 'unit'].iloc[0]!r} is not in the units table", column="unit")
    out["zone"] = out["unit"].map(zone_of)
    if out["zone"].isna().any():
        raise DataError(
            f"unit {out.loc[out['zone'].isna(), 'unit'].iloc[0]!r} has no zone in the units table", column="zone"
        )
    keys = ["zone"] + list(by or [])
    x = out[value].astype(float).round(9)  # equal to 9 decimals is equal (as in perflab.scoring.rank_desc)
    g = x.groupby([out[k] for k in keys], observed=True)
    mean, sd, n = g.transform("mean"), g.transform(lambda s: s.std(ddof=0)), g.transform("count")
    small = n < min_zone
    if small.any():
        kind = out["unit"].map(u["kind"]) if "kind" in u.columns else pd.Series("all", index=out.index)
        pool_keys = [kind] + [out[k] for k in (by or [])]
        ss = ((x - mean) ** 2).groupby(pool_keys, observed=True).transform("sum")
        # each member carries (n − 1) / n of its zone's degrees of freedom: summed, Σ (n_zone − 1) over the kind
        dof = ((n - 1) / n.where(n > 0, 1)).where(x.notna(), 0.0).groupby(pool_keys, observed=True).transform("sum")
        pooled = np.sqrt(ss / dof.where(dof > 0, np.nan)).fillna(0.0)
        sd = sd.where(~small, pooled)
    spread = sd > 1e-12 * np.maximum(1.0, mean.abs())  # below this, differences are rounding, not performance
    out["zone_n"] = n.astype(int)
    out["zone_sd"] = sd.where(x.notna())
    out["spread_from"] = pd.Series(np.where(small, "kind", "zone"), index=out.index, dtype="string")
    out["zone_z"] = np.where(spread, (x - mean) / sd.where(spread, 1.0), np.where(x.notna(), 0.0, np.nan))
    rank = g.rank(method="average")
    out["zone_pct"] = np.where(n > 1, 100.0 * (rank - 1) / (n - 1).where(n > 1, 1), np.where(x.notna(), 50.0, np.nan))
    return out


# ---------------------------------------------------------------------------
# the differentiated composite
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Uniform against differentiated evaluation, with the reasons for every move."""

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
        """The units whose rank moves most, each with the two items that moved it most against its kind."""
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
        """One unit's contributions, the item that moved it most against its kind first."""
        c = self.contributions[self.contributions["unit"] == unit]
        return c.reindex(c["relative_delta"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def spread(self) -> pd.DataFrame:
        """Per kind: how far apart the on-site and the routine parts set the units, in final-score points.

        The standard deviation over the units of each part's contribution (on-site: the indicators and an imputed
        on-site score; routine: the measures, satisfaction and verification) under both evaluations. A part whose
        spread grows moves the ranking more, whatever its nominal weight.
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
        """Per kind: units, how many change rank, the mean absolute move and the rank correlation."""
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


def _weighted(values: pd.DataFrame, weights: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Weighted mean over the items a unit has, and each item's normalised weight (0 where missing)."""
    have = values.notna().to_numpy()
    w = np.where(have, weights.to_numpy(float), 0.0)
    total = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, w / total, 0.0)
        score = np.where(total[:, 0] > 0, np.nansum(share * np.nan_to_num(values.to_numpy(float)), axis=1), np.nan)
    return pd.Series(score, index=values.index), pd.DataFrame(share, index=values.index, columns=values.columns)


def _contributions(final, comps, onsite_vals, onsite_share, meas_vals, meas_share, parts, scheme) -> pd.DataFrame:
    """Each item's contribution to the final score; a residual item ('adjustment') makes them add up exactly."""
    W = pd.Series({k: v for k, v in scheme.components.items() if v > 0})
    C = comps[list(W.index)]
    have = C.notna().to_numpy()
    wc = np.where(have, W.to_numpy(), 0.0)
    wc = pd.DataFrame(wc / wc.sum(axis=1, keepdims=True), index=C.index, columns=W.index)
    zero = pd.Series(0.0, index=C.index)
    w_on = wc["onsite"] if "onsite" in wc else zero
    w_rt = wc["routine"] if "routine" in wc else zero
    w_sat = wc["satisfaction"] if "satisfaction" in wc else zero
    pieces = []
    ind = (onsite_share * onsite_vals.fillna(0.0)).mul(w_on, axis=0)
    rated = onsite_vals.notna().any(axis=1)
    pieces.append(ind.where(rated, 0.0))
    pieces.append(pd.DataFrame({"on-site (imputed)": (w_on * comps["onsite"]).where(~rated, 0.0)}))
    if scheme.routine is not None:
        s = scheme.routine.satisfaction_share
        a_has = meas_vals.notna().any(axis=1).to_numpy()
        s_has = parts["satisfaction"].notna().to_numpy()
        wa = np.where(a_has, 1 - s, 0.0)
        ws = np.where(s_has, s, 0.0)
        norm = np.where(wa + ws > 0, wa + ws, 1.0)
        meas = (meas_share * meas_vals.fillna(0.0)).mul(w_rt * wa / norm, axis=0)
        pieces.append(meas)
        sat_in_routine = w_rt * ws / norm * parts["satisfaction"].fillna(0.0)
        pieces.append(
            pd.DataFrame(
                {
                    "satisfaction": sat_in_routine + w_sat * parts["satisfaction"].fillna(0.0),
                    "verification": -w_rt * scheme.routine.verification_penalty * parts["failed_verifications"],
                }
            )
        )
    wide = pd.concat(pieces, axis=1)
    wide = wide.T.groupby(level=0, sort=False).sum().T  # an id used twice (indicator and measure) adds up
    wide["adjustment"] = final - wide.sum(axis=1)
    return wide


def vetted_attainment(
    scores: pd.DataFrame, vetting: pd.DataFrame, baseline: pd.DataFrame, scheme: Scheme
) -> pd.DataFrame:
    """The year's attainment with the scheme's rule for vetted targets applied (``differentiated.vetting``).

    A target is vetted when :func:`vet_targets` flags it ``repeats_result`` or ``not_ambitious``. ``flag``
    leaves its score; ``reject`` measures the result against the unit's own baseline instead of the target (as
    :func:`perflab.scoring.attainment`, missing when there is no baseline); ``penalty`` takes the scheme's
    points off. Returns unit, measure, attainment (as reported), attainment_vetted (what is scored) and vetted
    (the action applied, empty when none).
    """
    d = scheme.differentiated
    action = d.vetting if d is not None else "flag"
    out = scores[["unit", "measure", "year", "value", "target", "score"]].rename(columns={"score": "attainment"})
    out = out.reset_index(drop=True)
    flagged = vetting[vetting["flag"].isin(["repeats_result", "not_ambitious"])]
    key = pd.MultiIndex.from_frame(out[["unit", "measure", "year"]].astype({"measure": str}))
    hit = key.isin(pd.MultiIndex.from_frame(flagged[["unit", "measure", "year"]].astype({"measure": str})))
    out["attainment_vetted"] = out["attainment"].astype(float)
    out["vetted"] = pd.Series(np.where(hit & (action != "flag"), action, np.where(hit, "flagged", "")), dtype="string")
    if action == "penalty":
        out.loc[hit, "attainment_vetted"] = np.clip(out.loc[hit, "attainment"] - d.vetting_penalty, 0.0, 100.0)
    elif action == "reject" and hit.any():
        b = baseline.set_index(["unit", "measure", "year"])["baseline"]
        against = out.loc[hit, ["unit", "measure", "year", "value"]].copy()
        against["target"] = [
            b.get((u, m, y), np.nan) for u, m, y in against[["unit", "measure", "year"]].itertuples(index=False)
        ]
        ok = against["target"] > 0
        cap = scheme.routine.attainment_cap if scheme.routine else 1.0
        scored = attainment(against[ok], scheme.directions, cap) if ok.any() else against.iloc[:0].assign(score=[])
        out.loc[hit, "attainment_vetted"] = np.nan
        out.loc[scored.index, "attainment_vetted"] = scored["score"].to_numpy(float)
    return out[["unit", "measure", "year", "attainment", "attainment_vetted", "vetted"]]


def evaluate(dataset: Dataset, scheme: Scheme, method: str | None = None, years: int | None = None) -> Evaluation:
    """Uniform and differentiated score and rank for every unit, and the change decomposed by item."""
    d = scheme.differentiated
    if d is None:
        raise SchemeError("the scheme has no `differentiated` block", file=scheme.source, key="differentiated")
    if dataset.history is None:
        raise DataError("differentiated evaluation needs the history table (history.csv)")
    method = method or d.baseline.method
    years = int(years or d.baseline.years)
    uniform = score_units(dataset, scheme).set_index("unit")
    units = dataset.units.set_index("unit")
    idx = units.index
    zone_of = units["zone"].astype(str)

    # on-site with the zone's indicator weights
    ind = indicator_scores(dataset, scheme).reindex(idx)
    ind_w_u = pd.DataFrame([scheme.weights.reindex(ind.columns).to_numpy()] * len(idx), index=idx, columns=ind.columns)
    ind_w_d = _per_unit_weights(idx, zone_of, scheme.zone_indicator_weights, ind.columns)
    onsite_u, share_u = _weighted(ind, ind_w_u)
    onsite_d, share_d = _weighted(ind, ind_w_d)

    # objective: own targets and improvement on the own baseline, relative to the zone
    year = d.year
    base = own_baseline(
        dataset.history, method, years, directions=scheme, too_few_years=d.baseline.too_few_years, units=dataset.units
    )
    att_all = target_attainment(dataset.history, scheme)
    # both parts as T-scores among the units of the zone (50 = the zone's average), so they weigh alike;
    # a part a unit has no figure for counts as the zone's average: no evidence neither lifts nor sinks it
    small = d.min_zone_size
    now = zone_relative(base[base["year"] == year], dataset.units, "improvement", by=["measure"], min_zone=small)
    now = now.assign(improvement_score=np.clip(50.0 + 10.0 * now["zone_z"], 0.0, 100.0))
    vetting = vet_targets(dataset.history, dataset.verification, scheme)
    att_now = vetted_attainment(att_all[att_all["year"] == year], vetting, base[base["year"] == year], scheme)
    att_rel = zone_relative(att_now, dataset.units, "attainment_vetted", by=["measure"], min_zone=small)
    att_now = att_now.assign(
        attainment_score=np.clip(50.0 + 10.0 * att_rel["zone_z"].to_numpy(), 0.0, 100.0),
        spread_from=att_rel["spread_from"].to_numpy(),
    )
    obj = now[["unit", "measure", "improvement", "source", "zone_z", "zone_pct", "improvement_score"]].merge(
        att_now.drop(columns=["spread_from", "year"]), on=["unit", "measure"], how="outer"
    )
    spread = pd.concat([now[["unit", "spread_from"]], att_now[["unit", "spread_from"]]])
    pooled = spread.loc[spread["spread_from"] == "kind", "unit"]
    kind_of = units["kind"].astype(str)
    reported = set(dataset.history["measure"])
    grid = pd.DataFrame(
        [(u, m.id) for u in idx for m in scheme.measures if m.kind in (kind_of[u], "all") and m.id in reported],
        columns=["unit", "measure"],
    )
    obj = grid.merge(obj, on=["unit", "measure"], how="left")
    a = d.attainment_share
    obj["objective"] = a * obj["attainment_score"].fillna(50.0) + (1.0 - a) * obj["improvement_score"].fillna(50.0)
    meas_ids = [m.id for m in scheme.measures]
    obj_wide = obj.pivot_table(index="unit", columns="measure", values="objective", observed=True).reindex(
        index=idx, columns=[m for m in meas_ids if m in set(obj["measure"])]
    )
    att_wide = att_now.pivot_table(index="unit", columns="measure", values="attainment", observed=True).reindex(
        index=idx, columns=obj_wide.columns
    )
    meas_w_d = _per_unit_weights(idx, zone_of, scheme.zone_measure_weights, obj_wide.columns)
    meas_w_u = pd.DataFrame(1.0, index=idx, columns=obj_wide.columns)  # the uniform routine score: plain mean
    objective_d, mshare_d = _weighted(obj_wide, meas_w_d)
    _, mshare_u = _weighted(att_wide, meas_w_u)
    obj = obj.assign(
        weight=[meas_w_d.at[u, m] if m in meas_w_d.columns else np.nan for u, m in zip(obj["unit"], obj["measure"])]
    )

    parts = routine_parts(dataset, scheme, scheme.routine.year if scheme.routine else year)
    if scheme.routine is not None:
        routine_d = routine_formula(objective_d, parts["satisfaction"], parts["failed_verifications"], scheme)
    else:  # no routine block: the objective part stands alone
        routine_d = objective_d.rename("routine")
    comps_d = pd.DataFrame({"onsite": onsite_d, "routine": routine_d, "satisfaction": parts["satisfaction"]}, index=idx)
    fin_d = final_scores(comps_d, scheme, kinds=units["kind"])
    comps_u = uniform[["onsite", "routine", "satisfaction"]].reindex(idx)
    comps_d_filled = impute_components(comps_d, scheme, units["kind"])
    comps_u_filled = impute_components(comps_u, scheme, units["kind"])

    out = uniform[["kind", "zone", "name_zh", "name_en", "presented"]].reindex(idx).copy()
    out["uniform"] = uniform["final"].reindex(idx)
    out["rank_uniform"] = uniform["rank"].reindex(idx)
    out["differentiated"] = fin_d["final"]
    by = out["kind"] if scheme.ranking.within == "kind" else None
    out["rank_differentiated"] = rank_desc(out["differentiated"], by)
    out["rank_change"] = (out["rank_uniform"] - out["rank_differentiated"]).astype("Int64")  # > 0: moved up
    out["zone_rank_differentiated"] = rank_desc(out["differentiated"], [out["kind"], out["zone"]])
    rel = zone_relative(out.reset_index()[["unit", "differentiated"]], dataset.units, "differentiated", min_zone=small)
    out["zone_z"] = rel.set_index("unit")["zone_z"]
    out["spread_pooled"] = out.index.isin(
        set(pooled)
    )  # its zone is below min_zone_size: T-scores use the kind's spread
    out["zone_pct"] = rel.set_index("unit")["zone_pct"]
    out["onsite_uniform"], out["onsite_differentiated"] = onsite_u, onsite_d
    out["objective_differentiated"] = objective_d
    out["imputed"] = fin_d["imputed"]

    cu = _contributions(out["uniform"], comps_u_filled, ind, share_u, att_wide, mshare_u, parts, scheme)
    cd = _contributions(out["differentiated"], comps_d_filled, ind, share_d, obj_wide, mshare_d, parts, scheme)
    items = list(dict.fromkeys(list(cu.columns) + list(cd.columns)))
    cu, cd = cu.reindex(columns=items, fill_value=0.0), cd.reindex(columns=items, fill_value=0.0)
    kind_of_item = {i: "indicator" for i in scheme.indicator_ids} | {m: "measure" for m in meas_ids}
    contrib = (
        pd.DataFrame({"uniform": cu.stack(), "differentiated": cd.stack()}).rename_axis(["unit", "item"]).reset_index()
    )
    contrib["part"] = contrib["item"].map(kind_of_item).fillna("other")
    contrib["delta"] = contrib["differentiated"] - contrib["uniform"]
    # ranks are relative: what moves a unit is its change against the change of the other units of its kind
    kind = contrib["unit"].map(units["kind"])
    contrib["relative_delta"] = contrib["delta"] - contrib.groupby([kind, contrib["item"]])["delta"].transform("mean")
    keep = (contrib["uniform"] != 0) | (contrib["differentiated"] != 0) | (contrib["relative_delta"].abs() > 1e-12)
    contrib = contrib[keep].reset_index(drop=True)

    scores = out.reset_index()
    return Evaluation(
        scores=scores,
        contributions=contrib[["unit", "item", "part", "uniform", "differentiated", "delta", "relative_delta"]],
        objective=obj.sort_values(["unit", "measure"]).reset_index(drop=True),
        baseline=base,
        attainment=att_all,
        vetting=vetting,
        method=method,
        years=years,
        too_few_years=d.baseline.too_few_years,
    )
