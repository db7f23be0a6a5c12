"""How far can one weight move? Exact stability intervals of ranks, the top k and grade bands, and one weight at a time.

With one weight set to t and the others rescaled proportionally to keep the total, every score is linear in t
under the arithmetic composite: :func:`stability_intervals` computes every crossing exactly (and refuses a
non-linear composite). :func:`one_at_a_time` only evaluates the ranks at two moved weights, so it works
under any composite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.composite import require_linear
from perflab.errors import SchemeError
from perflab.ranking import factorize_groups, ranks_by_group
from perflab.sensitivity._checks import check_composite, check_k, check_number, check_scores, check_weights
from perflab.sensitivity.paths import LinearPath, analyse_path, band_edges
from perflab.sensitivity.weighting import composite_scores, moved_weights


def one_at_a_time(
    scores: pd.DataFrame,
    weights,
    step: float = 0.2,
    rank_group=None,
    composite: str = "arithmetic",
    final_map: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each weight moved by −step and +step of its own value, the others rescaled to keep the total.

    Parameters
    ----------
    scores
        Unit × indicator scores.
    weights
        Weights by indicator.
    step
        A relative change (0.2: ±20 % of each weight, so ±5 points of a 25-point weight and ±2 points of a
        10-point one), the same for every indicator; a weight of 0 does not move and is left out.
    rank_group
        Each unit's rank group, or None (all units together).
    composite, final_map
        As :func:`monte_carlo` (any composite: the ranks are evaluated at the moved weights).

    Returns
    -------
    pandas.DataFrame
        Long: indicator, change (the relative change, −step/+step), nominal_weight, weight (the moved
        weight, at most the total), unit, rank_group, nominal_rank, rank, rank_change (positive = worse).

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> oat = one_at_a_time(scores, pd.Series({"a": 1.0, "b": 1.0}), step=0.5)
    >>> oat[(oat["rank_change"] != 0) & (oat["change"] > 0)][["indicator", "change", "unit", "rank"]]
       indicator  change unit  rank
    3          a     0.5    X     1
    4          a     0.5    Y     2
    9          b     0.5    X     3
    11         b     0.5    Z     2
    """
    from perflab.sensitivity.montecarlo import check_final_map

    scores = check_scores(scores)
    w = check_weights(weights, scores.columns)
    step = check_number(step, "step", "a relative change in (0, 1] (0.2 = ±20 % of each weight)")
    if not 0 < step <= 1:
        raise ValueError(f"step must be a relative change in (0, 1] (0.2 = ±20 % of each weight), got {step!r}")
    codes, labels = factorize_groups(rank_group, scores.index)
    composite, fmap = check_composite(composite), check_final_map(final_map, scores.index)
    S = scores.to_numpy(float)
    wn = w / w.sum()
    nominal = ranks_by_group(composite_scores(wn[None, :], S, composite, fmap), codes, len(labels))[0]
    rows = []
    for j, ind in enumerate(scores.columns):
        if w.sum() - w[j] <= 0 or w[j] <= 0:
            continue  # the only positive weight (nothing to rescale), or a zero weight (no relative change)
        for sign in (-1.0, 1.0):
            value = float(min(w[j] * (1.0 + sign * step), w.sum()))
            wj = moved_weights(w, j, value)
            r = ranks_by_group(composite_scores((wj / wj.sum())[None, :], S, composite, fmap), codes, len(labels))[0]
            rows.append(
                pd.DataFrame(
                    {
                        "indicator": ind,
                        "change": sign * step,
                        "nominal_weight": w[j],
                        "weight": value,
                        "unit": scores.index,
                        "rank_group": np.array(labels, dtype=object)[codes],
                        "nominal_rank": nominal,
                        "rank": r,
                        "rank_change": r - nominal,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class StabilityResult:
    """Exact weight-stability intervals, one indicator weight at a time (the others rescaled proportionally).

    ``units``: indicator, unit, rank_group, weight (nominal), rank, weight_low, weight_high (the unit keeps
    its rank for every weight strictly between them), grade, grade_weight_low, grade_weight_high (it stays in
    its grade band); ``top_k``: indicator, rank_group, weight, k, weight_low, weight_high (the top-k set is
    unchanged strictly between); ``swaps``: indicator, rank_group, unit_above, unit_below, weight_at_swap (where each pair
    adjacent in the nominal ranking swaps; NaN if never within [0, total]). Weights are in the
    units of the input weights, total = their sum.
    """

    units: pd.DataFrame
    top_k: pd.DataFrame
    swaps: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary(self, rel: float = 0.1) -> pd.DataFrame:
        """Per indicator and group: the nominal weight, the top-k interval, and how many units keep their rank
        (``keeps_rank``) for every value of the weight within ±rel of its value (0.1: ±10 %)."""
        rel = check_number(rel, "rel", "a relative change in [0, 1]")
        if not 0 <= rel <= 1:
            raise ValueError(f"rel must be a relative change in [0, 1], got {rel!r}")
        u = self.units
        w = u["weight"]
        keep = (u["weight_low"] <= w * (1 - rel)) & (u["weight_high"] >= w * (1 + rel))
        k = (
            u.assign(keeps_rank=keep)
            .groupby(["indicator", "rank_group"], sort=False)
            .agg(units=("unit", "size"), keeps_rank=("keeps_rank", "sum"))
        )
        t = self.top_k.set_index(["indicator", "rank_group"])[["weight", "k", "weight_low", "weight_high"]]
        return t.join(k).reset_index()


def _path_for_weight(S: np.ndarray, w: np.ndarray, j: int, codes, n_groups) -> LinearPath:
    total = w.sum()
    a = S @ moved_weights(w, j, 0.0) / total
    b = S @ moved_weights(w, j, total) / total
    return LinearPath(a, b, 0.0, total, 0.0, total, codes, n_groups)


def stability_intervals(
    scores: pd.DataFrame,
    weights,
    k: int = 3,
    bands: Sequence | None = None,
    rank_group=None,
    indicators: Sequence[str] | None = None,
    composite: str = "arithmetic",
) -> StabilityResult:
    """Exact intervals of each indicator weight over which ranks, the top-k set and grade bands do not change.

    With one weight set to t and the others rescaled proportionally to keep the total, every score
    is linear in t (under the arithmetic composite); two units swap only where their lines cross, so all
    crossing points are computed in closed form and the ranks are evaluated at every crossing and between
    them — the answers are exact, not sampled.

    Parameters
    ----------
    scores
        Unit × indicator scores (on the final 0–100 scale when ``bands`` are given).
    weights
        Weights by indicator, in the scheme's units (the intervals are in the same units).
    k
        The top k whose stability is tracked.
    bands
        The scheme's bands (``scheme.bands``), for the grade intervals; None: no grades.
    rank_group
        Each unit's rank group, or None (all units together).
    indicators
        The indicators whose weight moves (default: all).
    composite
        The scheme's composite: a non-linear one is refused (:class:`perflab.composite.NonLinearComposite`).

    Returns
    -------
    StabilityResult
        ``units``, ``top_k``, ``swaps``; ``summary(rel)`` per indicator and rank group.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> stab = stability_intervals(scores, pd.Series({"a": 50.0, "b": 50.0}), k=1)
    >>> stab.units[stab.units["indicator"] == "a"][["unit", "rank", "weight_low", "weight_high"]].round(2)
      unit  rank  weight_low  weight_high
    0    X     2        37.5         60.0
    1    Y     1         0.0         60.0
    2    Z     3        37.5        100.0
    """
    require_linear(check_composite(composite), "exact stability intervals")
    scores = check_scores(scores)
    w = check_weights(weights, scores.columns)
    k = check_k(k)
    codes, labels = factorize_groups(rank_group, scores.index)
    S = scores.to_numpy(float)
    edges, grades = grade_edges(bands)
    inds = list(scores.columns) if indicators is None else list(indicators)
    for ind in inds:
        if ind not in scores.columns:
            raise SchemeError(f"unknown indicator {ind!r}; known: {', '.join(map(str, scores.columns))}")
    movable = [i for i in inds if w.sum() - w[list(scores.columns).index(i)] > 0]
    if not movable:
        raise SchemeError(
            "stability intervals need another indicator with positive weight to rescale: "
            f"{', '.join(map(str, inds))} carr{'ies' if len(inds) == 1 else 'y'} all the weight"
            if len(scores.columns) > 1
            else "stability intervals need at least two indicators, the table has one"
        )
    tables = []
    for ind in inds:
        if ind not in scores.columns:
            raise SchemeError(f"unknown indicator {ind!r}; known: {', '.join(map(str, scores.columns))}")
        j = list(scores.columns).index(ind)
        if w.sum() - w[j] <= 0:
            continue
        path = _path_for_weight(S, w, j, codes, len(labels))
        tables.append(path_tables(path, w[j], ind, k, edges, grades, scores.index, labels))
    return stability_result(tables, {"k": k, "total": float(w.sum()), "weights": dict(zip(scores.columns, w))})


def grade_edges(bands) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The inner band edges and the grades from the lowest band up, or (None, None) without bands."""
    if bands is None:
        return None, None
    asc = sorted(bands, key=lambda b: b.lower)
    return band_edges(bands), np.array([b.grade for b in asc], dtype=object)


def path_tables(path: LinearPath, w0: float, ind, k: int, edges, grades, units: pd.Index, labels):
    """The rows of a :class:`StabilityResult` for one weight moving along ``path`` from its value ``w0``: the
    units', the top-k's and the adjacent swaps' (``weight_at_swap``)."""
    lab = np.array(labels, dtype=object)
    cr, rank, rlo, rhi, tlo, thi, band, blo, bhi = analyse_path(path, w0, k, edges)
    df = pd.DataFrame(
        {
            "indicator": ind,
            "unit": units,
            "rank_group": lab[path.codes],
            "weight": w0,
            "rank": rank,
            "weight_low": rlo,
            "weight_high": rhi,
        }
    )
    if band is not None:
        df["grade"] = grades[band]
        df["grade_weight_low"], df["grade_weight_high"] = blo, bhi
    top = pd.DataFrame(
        {"indicator": ind, "rank_group": labels, "weight": w0, "k": k, "weight_low": tlo, "weight_high": thi}
    )
    return df, top, _adjacent_swaps(path, rank, cr, units, lab).assign(indicator=ind)


def stability_result(tables, settings: dict) -> StabilityResult:
    """One :class:`StabilityResult` from the :func:`path_tables` of each weight (the swaps' ``t`` named
    ``weight_at_swap``)."""
    swaps = pd.concat([t[2] for t in tables], ignore_index=True) if tables else pd.DataFrame()
    if len(swaps):
        swaps = swaps.rename(columns={"t": "weight_at_swap"})[
            ["indicator", "rank_group", "unit_above", "unit_below", "weight_at_swap"]
        ]
    return StabilityResult(
        pd.concat([t[0] for t in tables], ignore_index=True),
        pd.concat([t[1] for t in tables], ignore_index=True),
        swaps,
        settings,
    )


def _adjacent_swaps(
    path: LinearPath, rank: np.ndarray, cr: pd.DataFrame, units: pd.Index, lab: np.ndarray
) -> pd.DataFrame:
    """For each pair adjacent in the nominal order of a group: where (if anywhere) their scores cross."""
    rows = []
    where = {(min(u, v), max(u, v)): t for t, u, v in zip(cr["t"], cr["u"], cr["v"])}
    for g in range(path.n_groups):
        idx = np.flatnonzero(path.codes == g)
        order = idx[np.lexsort((idx, rank[idx]))]
        for up, down in zip(order[:-1], order[1:]):
            rows.append(
                {
                    "rank_group": lab[g] if g < len(lab) else g,
                    "unit_above": units[up],
                    "unit_below": units[down],
                    "t": where.get((min(up, down), max(up, down)), np.nan),
                }
            )
    return pd.DataFrame(rows, columns=["rank_group", "unit_above", "unit_below", "t"])
