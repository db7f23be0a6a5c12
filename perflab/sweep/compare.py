"""What moved across the scenarios of a sweep, how far, and why: the comparison tables.

Every table compares each scenario with the scenario ``base`` (the base scheme),
rank against rank within each ranking group (a unit's kind, unless the scheme
ranks all units together). Ranks: 1 = best, ties take the lowest rank, as
:func:`perflab.scoring.rank_codes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.scheme import KINDS
from perflab.scoring import ScoreArrays, Scorer, contribution_items, contributions, rank_codes
from perflab.sensitivity import kendall_tau_b
from perflab.sweep.spec import BASE, BuiltScenario, format_value

TOP_K = 3  # "whether the top 3 changed"
MOVERS = 5  # movers listed per scenario and ranking group
UNIT_COLUMNS = ["unit", "kind", "zone", "name_zh", "name_en"]

SUMMARY_COLUMNS = [
    "scenario",
    "rank_group",
    "n_units",
    "kendall_tau",
    "spearman_rho",
    "units_moved",
    "mean_abs_move",
    "largest_move",
    "largest_mover",
    "largest_mover_rank_base",
    "largest_mover_rank",
    "top3_changed",
    "top3",
    "top3_base",
    "grade_changes",
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
        return {
            "scenarios": self.scenarios,
            "ranks": self.ranks,
            "scores": self.scores,
            "grades": self.grades,
            "summary": self.summary,
            "movers": self.movers,
            "weights": self.weights,
        }


def _unit_order(scorer: Scorer, base: ScoreArrays) -> np.ndarray:
    """Rows in reading order: kind (districts first), base rank, unit id."""
    u = scorer._units
    kind = u["kind"].map({k: n for n, k in enumerate(KINDS)}).fillna(len(KINDS)).to_numpy()
    rank = np.where(np.isnan(base.rank), np.inf, base.rank)
    return np.lexsort((u.index.to_numpy().astype(str), rank, kind))


def _wide(unit_table: pd.DataFrame, names: list[str], matrix: np.ndarray, order: np.ndarray, kind: str) -> pd.DataFrame:
    """Units (rows, in ``order``) × scenarios (columns) from a (scenario, unit) matrix: ranks as Int64, grades as
    text, scores as floats; built column by column from arrays (pandas' own inference is 1,000 times slower here)."""
    m = matrix[:, order]
    if kind == "rank":
        mask = np.isnan(m)
        values = np.where(mask, 0, m).astype(np.int64)
        body = pd.DataFrame({n: pd.arrays.IntegerArray(values[i], mask[i]) for i, n in enumerate(names)})
    elif kind == "grade":
        body = pd.DataFrame(m.T, dtype=object)
    else:
        body = pd.DataFrame(m.T)
    body.columns = pd.Index(names, dtype=object)
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


def _patterns(built, arrays) -> dict:
    """Scenarios that rank the same groups and leave the same units unranked, to be compared all at once."""
    patterns: dict = {}
    for n, b in enumerate(built):
        a = arrays[b.name]
        key = (a.rank_codes.tobytes(), a.rank_groups, np.isnan(a.rank).tobytes())
        patterns.setdefault(key, []).append(n)
    return patterns


def _why_rows(relative: np.ndarray, items: Sequence[str], n: int = 3, eps: float = 0.005) -> list[str]:
    """The parts that moved each mover against its group, largest first: ``key_tasks -0.52, routine +0.31``.

    ``relative``: (movers × items) the change of each part's contribution minus that change's mean over
    the unit's ranking group, so what every unit gained alike (a weight raised for all) does not count.
    """
    order = np.argsort(-np.abs(relative), axis=1, kind="stable")[:, :n]
    out = []
    for row, idx in zip(relative, order):
        parts = [f"{items[i]} {row[i]:+.2f}" for i in idx if abs(row[i]) >= eps]
        out.append(", ".join(parts) if parts else "no part changed against the group (ties or rounding)")
    return out


def compare(
    built: Sequence[BuiltScenario],
    scorer: Scorer,
    arrays: Mapping[str, ScoreArrays] | None = None,
    movers: int = MOVERS,
) -> Comparison:
    """Compare every scenario's ranks, scores and grades with the base scenario's (the first, named ``base``).

    Vectorised over scenarios: those that rank the same groups and leave the same units unranked are
    compared at once (a 1,000-scenario grid in well under a second).
    """
    if not built or built[0].name != BASE:
        raise ValueError("the first scenario must be the base scheme")
    arrays = dict(arrays) if arrays is not None else {b.name: scorer.arrays(b.scheme) for b in built}
    base = arrays[BASE]
    unit_table = scorer._units.reset_index()[UNIT_COLUMNS]
    order = _unit_order(scorer, base)
    names = [b.name for b in built]

    ranks = _wide(unit_table, names, np.vstack([arrays[n].rank for n in names]), order, "rank")
    scores = _wide(unit_table, names, np.round(np.vstack([arrays[n].final for n in names]), 6), order, "score")
    grades = _wide(unit_table, names, np.vstack([arrays[n].grade for n in names]), order, "grade")

    ustr = scorer.units.to_numpy().astype(object).astype(str)
    summary_parts, picks = [], []  # picks: (scenario, group, label, members, chosen units) for the movers table
    for idx in _patterns(built, arrays).values():
        part, chosen = _pattern_summary(idx, names, arrays, ustr, movers)
        summary_parts += part
        picks += chosen
    summary = pd.concat(summary_parts, ignore_index=True).sort_values(["_s", "_g"], kind="mergesort")
    summary = summary.drop(columns=["_s", "_g"]).reset_index(drop=True)[SUMMARY_COLUMNS]
    movers_df = _movers(built, arrays, picks, unit_table)

    scen = pd.DataFrame(
        {
            "scenario": names,
            "origin": [b.scenario.origin for b in built],
            "overrides": ["; ".join(f"{p}={format_value(v)}" for p, v in b.scenario.overrides) for b in built],
            "weight_set": [
                "scheme" if b.scenario.weight_set is None else format_value(b.scenario.weight_set) for b in built
            ],
        }
    )
    weights = pd.DataFrame(np.vstack([b.weights() for b in built]), columns=built[0].scheme.indicator_ids)
    weights.insert(0, "scenario", names)
    return Comparison(scen, ranks, scores, grades, summary, movers_df, weights)


def _base_rank(a: ScoreArrays, base: ScoreArrays) -> np.ndarray:
    """The base scores ranked within the scenario's rank groups (the base's own ranks when the groups agree)."""
    return base.rank if np.array_equal(a.rank_codes, base.rank_codes) else rank_codes(base.final, a.rank_codes)


def _pattern_summary(idx, names, arrays, ustr, movers: int) -> tuple[list[pd.DataFrame], list[tuple]]:
    """Summary rows of the scenarios ``idx`` (which rank the same groups) per rank group, and their movers."""
    base = arrays[BASE]
    a0 = arrays[names[idx[0]]]
    base_rank = _base_rank(a0, base)
    R = np.vstack([arrays[names[i]].rank for i in idx])
    dF = np.vstack([arrays[names[i]].final for i in idx]) - base.final
    G = np.vstack([arrays[names[i]].grade for i in idx])
    parts, picks = [], []
    for g, label in enumerate(a0.rank_groups):
        m = (a0.rank_codes == g) & ~np.isnan(a0.rank) & ~np.isnan(base_rank)
        if not m.any():
            continue
        x, Y, u = base_rank[m], R[:, m], ustr[m]
        A, D = np.abs(x - Y), np.abs(dF[:, m])
        n_moved = (A > 0).sum(axis=1)
        # within each scenario: the largest move first, then the largest change of score, then the unit id
        srt = np.lexsort((np.broadcast_to(np.argsort(np.argsort(u)), A.shape), -D, -A), axis=-1)
        rows = np.arange(len(idx))
        first = srt[:, 0]
        if m.sum() < 2:
            tau = rho = np.full(len(idx), np.nan)
        else:
            tau, rho = kendall_tau_b(Y, x), _spearman(Y, x)
            const = (Y == Y[:, [0]]).all(axis=1) | bool((x == x[0]).all())
            tau[const], rho[const] = np.nan, np.nan
        top_base = _top(u, x)
        in_base = x <= TOP_K
        changed = ((Y <= TOP_K) != in_base).any(axis=1)
        same = ~changed & (Y[:, in_base] == x[in_base]).all(axis=1)  # the same units at the same places
        top = [" ".join(top_base) if k else " ".join(_top(u, y)) for k, y in zip(same, Y)]
        parts.append(
            pd.DataFrame(
                {
                    "_s": idx,
                    "_g": g,
                    "scenario": [names[i] for i in idx],
                    "rank_group": label,
                    "n_units": int(m.sum()),
                    "kendall_tau": tau,
                    "spearman_rho": rho,
                    "units_moved": n_moved,
                    "mean_abs_move": A.mean(axis=1),
                    "largest_move": np.where(n_moved > 0, A[rows, first], 0).astype(int),
                    "largest_mover": np.where(n_moved > 0, u[first], ""),
                    "largest_mover_rank_base": pd.array(
                        np.where(n_moved > 0, x[first], np.nan), dtype="Float64"
                    ).astype("Int64"),
                    "largest_mover_rank": pd.array(
                        np.where(n_moved > 0, Y[rows, first], np.nan), dtype="Float64"
                    ).astype("Int64"),
                    "top3_changed": changed,  # the same set exactly when every unit is in it under both or neither
                    "top3": top,
                    "top3_base": " ".join(top_base),
                    "grade_changes": (G[:, m] != base.grade[m]).sum(axis=1).astype(int),
                }
            )
        )
        members = np.flatnonzero(m)
        for r in np.flatnonzero(n_moved > 0):
            if names[idx[r]] != BASE:
                picks.append((idx[r], g, label, members, members[srt[r, : min(movers, n_moved[r])]]))
    return parts, picks


def _movers(built, arrays, picks, unit_table: pd.DataFrame) -> pd.DataFrame:
    """The movers, with the change of each part's contribution (and that change against the group's mean change)."""
    base_b, base = built[0], arrays[BASE]
    items = contribution_items(base_b.scheme)
    base_contrib = contributions(base, base_b.scheme)
    units = unit_table["unit"].to_numpy(dtype=object)
    cols = {c: unit_table[c].to_numpy(dtype=object) for c in UNIT_COLUMNS}
    mover_cols = [
        "scenario",
        "rank_group",
        *UNIT_COLUMNS,
        "rank_base",
        "rank",
        "move",
        "final_base",
        "final",
        "final_change",
        "final_change_vs_group",
        "why",
    ] + [f"change_{it}" for it in items]
    table: dict[str, list] = {c: [] for c in mover_cols}
    contrib: dict[int, np.ndarray] = {}
    for s_i, _g, label, members, chosen in sorted(picks, key=lambda p: (p[0], p[1])):  # scenario order, then group
        b = built[s_i]
        a = arrays[b.name]
        if s_i not in contrib:
            contrib[s_i] = contributions(a, b.scheme) - base_contrib
        c = contrib[s_i]
        relative = c[chosen] - c[members].mean(axis=0)  # against the group: what all gained alike drops out
        base_rank = _base_rank(a, base)
        dfin = a.final - base.final
        k = len(chosen)
        for col, values in (
            ("scenario", [b.name] * k),
            ("rank_group", [label] * k),
            ("unit", units[chosen]),
            *((c_, cols[c_][chosen]) for c_ in UNIT_COLUMNS[1:]),
            ("rank_base", base_rank[chosen].astype(int)),
            ("rank", a.rank[chosen].astype(int)),
            ("move", (base_rank[chosen] - a.rank[chosen]).astype(int)),
            ("final_base", base.final[chosen]),
            ("final", a.final[chosen]),
            ("final_change", dfin[chosen]),
            ("final_change_vs_group", dfin[chosen] - dfin[members].mean()),
            ("why", _why_rows(relative, items)),
        ):
            table[col].extend(values)
        for j, it in enumerate(items):
            table[f"change_{it}"].extend(c[chosen, j])
    movers_df = pd.DataFrame(table, columns=mover_cols)
    for col in ("rank_base", "rank", "move"):
        movers_df[col] = movers_df[col].astype(int)
    return movers_df
