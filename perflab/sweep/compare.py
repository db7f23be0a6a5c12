"""What moved across the scenarios of a sweep, how far, and why: the comparison tables.

Every table compares each scenario with the scenario ``base`` (the base scheme),
rank against rank within each ranking group (a unit's kind, unless the scheme
ranks all units together). Ranks: 1 = best, ties take the lowest rank, as
:func:`perflab.scoring.rank_codes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from perflab.scheme import KINDS
from perflab.sensitivity import kendall_tau_b
from perflab.scoring import ScoreArrays, Scorer, contribution_items, contributions, rank_codes
from perflab.sweep.spec import BASE, BuiltScenario

TOP_K = 3  # "whether the top 3 changed"
MOVERS = 5  # movers listed per scenario and ranking group
UNIT_COLUMNS = ["unit", "kind", "zone", "name_zh", "name_en"]

SUMMARY_COLUMNS = [
    "scenario", "rank_group", "n_units", "kendall_tau", "spearman_rho", "units_moved", "mean_abs_move", "largest_move",
    "largest_mover", "largest_mover_rank_base", "largest_mover_rank", "top3_changed", "top3", "top3_base", "grade_changes",
]


@dataclass(frozen=True)
class Comparison:
    """The comparison of a sweep's scenarios (the CSV files under ``DIR/comparison/``).

    ``ranks``, ``scores``, ``grades``: one row per unit (unit, kind, zone, names), one column per
    scenario; ``summary``: one row per scenario × ranking group against ``base``; ``movers``: the
    biggest movers of each scenario with the change of every item's contribution to their final
    score; ``scenarios``: what each scenario sets; ``weights``: each scenario's indicator weights
    (normalised to sum to 1).
    """

    scenarios: pd.DataFrame
    ranks: pd.DataFrame
    scores: pd.DataFrame
    grades: pd.DataFrame
    summary: pd.DataFrame
    movers: pd.DataFrame
    weights: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"scenarios": self.scenarios, "ranks": self.ranks, "scores": self.scores, "grades": self.grades,
                "summary": self.summary, "movers": self.movers, "weights": self.weights}


def _unit_order(scorer: Scorer, base: ScoreArrays) -> np.ndarray:
    """Rows in reading order: kind (districts first), base rank, unit id."""
    u = scorer._units
    kind = u["kind"].map({k: n for n, k in enumerate(KINDS)}).fillna(len(KINDS)).to_numpy()
    rank = np.where(np.isnan(base.rank), np.inf, base.rank)
    return np.lexsort((u.index.to_numpy().astype(str), rank, kind))


def _wide(unit_table: pd.DataFrame, columns: Mapping[str, np.ndarray], order: np.ndarray, dtype=None) -> pd.DataFrame:
    body = pd.DataFrame({name: pd.array(col[order], dtype=dtype) if dtype else col[order] for name, col in columns.items()})
    body.columns = pd.Index(list(columns), dtype=object)
    return pd.concat([unit_table.iloc[order].reset_index(drop=True), body], axis=1)


def average_ranks(R: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each row, ties given the average of their positions (``scipy.stats.rankdata(R, axis=1)``).

    Written here so the sweep does not import scipy.stats (a second of start-up) for one function.
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    n = R.shape[1]
    order = np.argsort(R, axis=1, kind="stable")
    s = np.take_along_axis(R, order, axis=1)
    pos = np.arange(1, n + 1, dtype=float)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones(s.shape, dtype=bool)
    ends[:, :-1] = s[:, :-1] != s[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0.0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, np.inf)[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(s)
    np.put_along_axis(out, order, (first + last) / 2.0, axis=1)
    return out


def _spearman(R: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of R against x (Pearson correlation of average ranks, as scipy.stats.spearmanr)."""
    ra = average_ranks(R)
    rx = average_ranks(x)[0]
    a = ra - ra.mean(axis=1, keepdims=True)
    b = rx - rx.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a @ b) / np.sqrt((a * a).sum(axis=1) * (b @ b))


def _top(units: np.ndarray, rank: np.ndarray, k: int = TOP_K) -> list[str]:
    sel = np.flatnonzero(rank <= k)
    return [str(u) for u in units[sel[np.lexsort((units[sel].astype(str), rank[sel]))]]]


def _why(deltas: np.ndarray, items: Sequence[str], n: int = 3, eps: float = 0.005) -> str:
    """The parts that moved a unit against its group, largest first: ``key_tasks -0.52, routine +0.31``.

    ``deltas``: the change of each part's contribution minus that change's mean over the unit's
    ranking group, so what every unit gained alike (a weight raised for all) does not count.
    """
    order = np.argsort(-np.abs(deltas), kind="stable")[:n]
    parts = [f"{items[i]} {deltas[i]:+.2f}" for i in order if abs(deltas[i]) >= eps]
    return ", ".join(parts) if parts else "no part changed against the group (ties or rounding)"


def _corr_by_pattern(built, arrays, base: ScoreArrays) -> dict[tuple[str, int], tuple[float, float]]:
    """Kendall's tau-b and Spearman's rho against base for every scenario and ranking group, vectorised.

    Scenarios that rank the same groups and leave the same units unranked are stacked and done at once.
    """
    patterns: dict = {}
    for b in built:
        a = arrays[b.name]
        key = (a.rank_codes.tobytes(), a.rank_groups, np.isnan(a.rank).tobytes())
        patterns.setdefault(key, []).append(b.name)
    out = {}
    for (_, groups, _), names in patterns.items():
        a0 = arrays[names[0]]
        base_rank = base.rank if np.array_equal(a0.rank_codes, base.rank_codes) else rank_codes(base.final, a0.rank_codes)
        R_all = np.vstack([arrays[n].rank for n in names])
        for g in range(len(groups)):
            m = (a0.rank_codes == g) & ~np.isnan(a0.rank) & ~np.isnan(base_rank)
            if m.sum() < 2:
                tau = rho = np.full(len(names), np.nan)
            else:
                R, x = R_all[:, m], base_rank[m]
                tau = kendall_tau_b(R, x)
                rho = _spearman(R, x)
                const = (R == R[:, [0]]).all(axis=1) | bool((x == x[0]).all())
                tau[const], rho[const] = np.nan, np.nan
            for n, t_, r_ in zip(names, tau, rho):
                out[(n, g)] = (float(t_), float(r_))
    return out


def compare(built: Sequence[BuiltScenario], scorer: Scorer, arrays: Mapping[str, ScoreArrays] | None = None,
            movers: int = MOVERS) -> Comparison:
    """Compare every scenario's ranks, scores and grades with the base scenario's (the first, named ``base``)."""
    if not built or built[0].name != BASE:
        raise ValueError("the first scenario must be the base scheme")
    arrays = dict(arrays) if arrays is not None else {b.name: scorer.arrays(b.scheme) for b in built}
    base_b = built[0]
    base = arrays[BASE]
    units = scorer.units.to_numpy().astype(object)
    unit_table = scorer._units.reset_index()[UNIT_COLUMNS]
    cols = {c: unit_table[c].to_numpy(dtype=object) for c in UNIT_COLUMNS}
    order = _unit_order(scorer, base)
    names = [b.name for b in built]

    ranks = _wide(unit_table, {n: arrays[n].rank for n in names}, order, "Int64")
    scores = _wide(unit_table, {n: np.round(arrays[n].final, 6) for n in names}, order)
    grades = _wide(unit_table, {n: arrays[n].grade for n in names}, order, "string")

    corr = _corr_by_pattern(built, arrays, base)
    items = contribution_items(base_b.scheme)
    base_contrib = contributions(base, base_b.scheme)
    summary_rows, mover_rows = [], []
    for b in built:
        a = arrays[b.name]
        same_groups = np.array_equal(a.rank_codes, base.rank_codes)
        base_rank = base.rank if same_groups else rank_codes(base.final, a.rank_codes)
        move = base_rank - a.rank  # > 0: up
        dfinal = a.final - base.final
        contrib = None
        for g, label in enumerate(a.rank_groups):
            m = (a.rank_codes == g) & ~np.isnan(a.rank) & ~np.isnan(base_rank)
            if not m.any():
                continue
            x, y = base_rank[m], a.rank[m]
            absmv = np.abs(move[m])
            u = units[m]
            moved = absmv > 0
            if moved.any():
                pick = np.lexsort((u.astype(str), -np.abs(dfinal[m]), -absmv))[0]
                largest = (int(absmv[pick]), str(u[pick]), int(x[pick]), int(y[pick]))
            else:
                largest = (0, "", pd.NA, pd.NA)
            top, top_base = _top(u, y), _top(u, x)
            tau, rho = corr[(b.name, g)]
            summary_rows.append({
                "scenario": b.name, "rank_group": label, "n_units": int(m.sum()), "kendall_tau": tau, "spearman_rho": rho,
                "units_moved": int(moved.sum()), "mean_abs_move": float(absmv.mean()), "largest_move": largest[0],
                "largest_mover": largest[1], "largest_mover_rank_base": largest[2], "largest_mover_rank": largest[3],
                "top3_changed": set(top) != set(top_base), "top3": " ".join(top), "top3_base": " ".join(top_base),
                "grade_changes": int((a.grade[m] != base.grade[m]).sum()),
            })
            if b.name == BASE or not moved.any():
                continue
            if contrib is None:
                contrib = contributions(a, b.scheme) - base_contrib
            idx = np.flatnonzero(m)
            relative = contrib[idx] - contrib[idx].mean(axis=0)  # against the group: what all gained alike drops out
            sel = np.flatnonzero(moved)
            pick = sel[np.lexsort((units[idx[sel]].astype(str), -np.abs(dfinal[idx[sel]]), -absmv[sel]))][:movers]
            group_change = float(dfinal[idx].mean())
            for p in pick:
                i = idx[p]
                row = {"scenario": b.name, "rank_group": label, "unit": units[i], "kind": cols["kind"][i],
                       "zone": cols["zone"][i], "name_zh": cols["name_zh"][i], "name_en": cols["name_en"][i],
                       "rank_base": int(base_rank[i]), "rank": int(a.rank[i]), "move": int(move[i]),
                       "final_base": base.final[i], "final": a.final[i], "final_change": dfinal[i],
                       "final_change_vs_group": dfinal[i] - group_change, "why": _why(relative[p], items)}
                row.update({f"change_{it}": contrib[i, j] for j, it in enumerate(items)})
                mover_rows.append(row)

    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS)
    for c in ("largest_mover_rank_base", "largest_mover_rank"):
        summary[c] = summary[c].astype("Int64")
    mover_cols = ["scenario", "rank_group", "unit", "kind", "zone", "name_zh", "name_en", "rank_base", "rank", "move",
                  "final_base", "final", "final_change", "final_change_vs_group", "why"] + [f"change_{it}" for it in items]
    movers_df = pd.DataFrame(mover_rows, columns=mover_cols)

    scen = pd.DataFrame({
        "scenario": names,
        "origin": [b.scenario.origin for b in built],
        "overrides": ["; ".join(f"{p}={_fmt(v)}" for p, v in b.scenario.overrides) for b in built],
        "weight_set": [_weight_set(b.scenario.weight_set) for b in built],
        "scheme_sha256": [b.digest for b in built],
    })
    weights = pd.DataFrame(np.vstack([b.weights() for b in built]), columns=base_b.scheme.indicator_ids)
    weights.insert(0, "scenario", names)
    return Comparison(scen, ranks, scores, grades, summary, movers_df, weights)


def _fmt(v) -> str:
    from perflab.sweep.spec import format_value

    return format_value(v)


def _weight_set(ws) -> str:
    from perflab.sweep.spec import _weight_label

    return "scheme" if ws is None else _weight_label(ws)
