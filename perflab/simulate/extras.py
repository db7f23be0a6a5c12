"""What a scheme may add to the demo data: bonus and deduction points, and challenge values beside targets.

Both come from a stream of their own and only when the scheme asks for them (``adjustments``,
``routine.challenge``), so the other tables of a seed stay as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.scheme import Scheme
from perflab.simulate.people import _str
from perflab.simulate.routine import _TARGET_STEP

N_BONUS_UNITS, N_DEDUCTION_UNITS = 6, 4  # units given points per type (one of each beyond its item's cap)
CHALLENGE_SHARE = 0.3  # share of the units whose targets carry a challenge value


def adjustments(rng: np.random.Generator, scheme: Scheme, units: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Bonus and deduction rows for a few units of each item type, and the planted truth (the points that
    count per unit and item, after the item's cap). One unit per type gets two rows summing beyond the cap."""
    rows, truth = [], []
    kind = units["kind"].to_numpy()
    for typ, n in (("bonus", N_BONUS_UNITS), ("deduction", N_DEDUCTION_UNITS)):
        items = [i for i in scheme.adjustments.items if i.type == typ]
        picked = 0
        for u in rng.permutation(len(units)):
            fit = [i for i in items if i.kind in ("all", kind[u])]
            if picked == n or not fit:
                continue
            item = fit[int(rng.integers(len(fit)))]
            if picked == 0:  # two cases that together exceed the cap
                pts = [item.cap, min(1.0, item.cap)]
            else:
                pts = [float(np.clip(np.round(rng.uniform(0.5, item.cap) * 2) / 2, 0.5, item.cap))]
            unit = str(units["unit"].iat[u])
            rows += [(unit, item.id, float(p), f"{item.name_zh}（模拟第{j}项）") for j, p in enumerate(pts, 1)]
            truth.append(
                {"unit": unit, "item": item.id, "type": typ, "points": sum(pts), "counted": min(sum(pts), item.cap)}
            )
            picked += 1
    table = pd.DataFrame(rows, columns=["unit", "item", "points", "reason"])
    for c in ("unit", "item", "reason"):
        table[c] = _str(table[c])
    return table.sort_values(["unit", "item"], kind="stable").reset_index(drop=True), truth


def challenges(rng: np.random.Generator, scheme: Scheme, history: pd.DataFrame, year: int) -> tuple[pd.DataFrame, dict]:
    """History with a ``challenge`` column: for about :data:`CHALLENGE_SHARE` of the units, every target gets a
    challenge one to two target steps beyond it; one challenge of ``year`` is planted soft (it equals the best
    result of the years before last, beyond a target that asks more than last year's result), for the vetting."""
    h = history.copy()
    unit_ids = np.asarray(sorted(set(h["unit"])), dtype=object)
    chosen = set(rng.choice(unit_ids, max(1, int(round(CHALLENGE_SHARE * len(unit_ids)))), replace=False))
    sign = h["measure"].map(scheme.directions).map({"higher": 1.0, "lower": -1.0}).to_numpy(float)
    step = h["measure"].map(lambda m: _TARGET_STEP.get(m, (1.0, 1))[0]).to_numpy(float)
    dec = h["measure"].map(lambda m: _TARGET_STEP.get(m, (1.0, 1))[1]).to_numpy(int)
    target = h["target"].to_numpy(float)
    ch = target + sign * step * (1.0 + np.abs(rng.normal(0.0, 1.0, len(h))))
    ch = np.array([np.round(c, d) for c, d in zip(ch, dec)])
    pct = h["measure"].map({m.id: m.unit == "%" for m in scheme.measures}).fillna(False).to_numpy(bool)
    ch = np.where(pct, np.minimum(ch, 100.0), ch)
    ok = h["unit"].isin(chosen).to_numpy() & ~np.isnan(target) & ((ch - target) * sign > 0) & (ch > 0)
    h["challenge"] = np.where(ok, ch, np.nan)
    g = h.groupby(["unit", "measure"])
    prev = g["value"].shift().to_numpy(float)
    best = (h["value"] * sign).groupby([h["unit"], h["measure"]]).transform(lambda s: s.shift(2).cummax())
    best = best.to_numpy(float) * sign  # the best result before last year
    now = ok & (h["year"].to_numpy() == year)
    cand = np.flatnonzero(now & ((best - target) * sign > 0) & ~((prev - target) * sign >= 0))
    soft = {}
    if cand.size:  # a target asking more than last year's result, with a challenge reached two or more years ago
        r = int(rng.choice(cand))
        h.iloc[r, h.columns.get_loc("challenge")] = best[r]
        soft = {"unit": str(h["unit"].iat[r]), "measure": str(h["measure"].iat[r]), "year": year, "challenge": best[r]}
    return h, {"units": sorted(map(str, chosen)), "soft_challenge": soft}
