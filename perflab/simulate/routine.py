"""The objective record: six years of each measure with targets (history) and the on-site verification of claims."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.errors import SchemeError
from perflab.scheme import Scheme
from perflab.simulate.design import (
    DEPARTMENT_CLAIMS,
    DISTRICT_CLAIMS,
    DISTRICT_SCALE,
    FIRMS_CLAIM,
    N_DEPARTMENT_CHECKED,
    N_DISTRICT_CLAIMS,
    N_FALSE_CLAIMS,
)
from perflab.simulate.people import _str

# ---------------------------------------------------------------------------
# history (objective figures) with targets
# ---------------------------------------------------------------------------

# measure -> (minimum step of a target over last year's value, decimals of the target)
_TARGET_STEP = {
    "gdp_growth": (0.2, 1),
    "pm25": (1.5, 1),
    "budget_revenue_growth": (0.5, 1),
    "green_cover": (0.3, 1),
    "polluting_firms_closed": (2, 0),
    "approval_days": (0.5, 1),
    "online_service_rate": (2.0, 1),
    "complaint_resolution": (0.5, 1),
    "budget_execution": (0.5, 1),
}
_COUNTS = {"polluting_firms_closed"}
_GDP = {"core": 7.0, "extension": 7.3, "new_development": 8.2, "ecological": 6.6}
_PM25 = {"core": 92.0, "extension": 90.0, "new_development": 95.0, "ecological": 80.0}
_GREEN = {"core": 17.0, "extension": 32.0, "new_development": 27.0, "ecological": 63.0}
_GREEN_TREND = {"core": 0.3, "extension": 0.8, "new_development": 1.5, "ecological": 0.7}
_FIRMS = {"core": 8.0, "extension": 45.0, "new_development": 90.0, "ecological": 30.0}
MISSING_TARGET = 0.12  # share of unit-years without a target
LOWERED_TARGET = 0.12  # share of targets less ambitious than last year's value


def _series(rng, mid: str, direction: str, zone: str, z: float, t: np.ndarray) -> np.ndarray:
    """Six years of one measure for one unit; z = the unit's standardised general level."""
    T = len(t)
    e = rng.normal(0.0, 1.0, T)
    if mid == "gdp_growth":
        v = _GDP.get(zone, 7.0) + rng.normal(0, 0.4) + (-0.25 + 0.05 * z) * t + 0.25 * e
    elif mid == "pm25":
        v = _PM25.get(zone, 90.0) + rng.normal(0, 3.0) - (3.0 + 0.6 * z) * t + 1.5 * e
    elif mid == "budget_revenue_growth":
        v = 11.0 + 1.0 * z + rng.normal(0, 1.5) - 0.6 * t + 1.5 * e
    elif mid == "green_cover":
        slope = _GREEN_TREND.get(zone, 0.7) + 0.15 * z
        v = np.minimum(_GREEN.get(zone, 30.0) + rng.normal(0, 3.0) + slope * t + 0.2 * e, 80.0)
    elif mid == "polluting_firms_closed":
        level = _FIRMS.get(zone, 40.0) * np.exp(np.clip(rng.normal(0, 0.25), -0.5, 0.5))
        lam = level * (1 + 0.15 * t) * max(1 + 0.1 * z, 0.5)
        v = rng.poisson(lam).astype(float)
    elif mid == "approval_days":
        b = np.clip(rng.normal(18.0, 2.5), 12.0, 24.0)
        v = b * (1 - np.clip(0.12 + 0.03 * z, 0.03, 0.25)) ** t * np.exp(0.05 * e)
    elif mid == "online_service_rate":
        b = np.clip(rng.normal(45.0, 8.0), 20.0, 70.0)
        v = np.minimum(100 - (100 - b) * (1 - np.clip(0.2 + 0.05 * z, 0.05, 0.4)) ** t + 1.0 * e, 99.9)
    elif mid == "complaint_resolution":
        b = np.clip(rng.normal(86.0, 3.0), 75.0, 95.0)
        v = np.minimum(100 - (100 - b) * (1 - np.clip(0.12 + 0.04 * z, 0.02, 0.3)) ** t + 0.7 * e, 99.9)
    elif mid == "budget_execution":
        v = np.minimum(94.0 + rng.normal(0, 2.0) + 0.5 * z + 0.2 * t + 1.2 * e, 99.9)
    else:  # a measure this simulator does not know: an index around 50 improving by 1.5 a year
        sign = 1.0 if direction == "higher" else -1.0
        v = 50.0 + 10.0 * z + sign * (1.5 + 0.3 * z) * t + 2.0 * e
    return v


def _history(rng, scheme: Scheme, units: pd.DataFrame, zscore, year: int):
    years = np.arange(year - 5, year + 1)
    t = np.arange(len(years), dtype=float)
    frames = []
    for u, (unit, kind, zone) in enumerate(units[["unit", "kind", "zone"]].itertuples(index=False)):
        for m in scheme.measures:
            if m.kind not in (kind, "all"):
                continue
            step, dec = _TARGET_STEP.get(m.id, (1.0, 1))
            v = _series(rng, m.id, m.direction, zone, zscore[u], t)
            count = m.id in _COUNTS
            v = np.maximum(np.rint(v), 0.0) if count else np.round(np.maximum(v, 0.0), 2)
            sign = 1.0 if m.direction == "higher" else -1.0
            prev = np.concatenate([[v[0]], v[:-1]])
            ambition = step * (1.0 + np.abs(rng.normal(0.0, 1.0, len(t)))) * max(1.0 + 0.3 * zscore[u], 0.4)
            if count:
                ambition = np.maximum(ambition, 0.1 * prev)
            lowered = rng.random(len(t)) < LOWERED_TARGET
            target = prev + sign * np.where(lowered, -0.5, 1.0) * ambition
            target[0] = v[0] + sign * rng.normal(0.0, step)  # first year: no previous value at hand
            if m.unit == "%":
                target = np.minimum(target, 100.0)
            target = np.round(np.maximum(target, 0.0), dec)
            # a target never merely repeats last year's value unless planted
            same = np.concatenate([[False], target[1:] == v[:-1]])
            target[same] += sign * 10.0**-dec
            target[rng.random(len(t)) < MISSING_TARGET] = np.nan
            frames.append(pd.DataFrame({"unit": unit, "measure": m.id, "year": years, "value": v, "target": target}))
    if not frames:
        raise SchemeError("simulate needs objective measures (the `measures` list) in the scheme", file=scheme.source)
    hist = pd.concat(frames, ignore_index=True)
    hist["unit"] = hist["unit"].astype("str")
    hist["measure"] = hist["measure"].astype("str")
    hist["year"] = hist["year"].astype(np.int64)

    # planted: targets that merely repeat last year's (verified) value
    repeats = []
    kind = units["kind"].to_numpy()
    zone = units["zone"].to_numpy()
    dist_measures = [m.id for m in scheme.measures if m.kind in ("district", "all")]
    wanted = [
        ("polluting_firms_closed", ("new_development", "ecological")),
        ("green_cover", ("extension", "new_development")),
    ]
    used = set()
    for mid, zones in wanted:
        if mid not in dist_measures:
            continue
        cand = [u for u in np.flatnonzero((kind == "district") & np.isin(zone, zones)) if u not in used]
        if not cand:
            continue
        u = int(rng.choice(cand))
        used.add(u)
        unit = str(units["unit"].iat[u])
        key = (hist["unit"] == unit) & (hist["measure"] == mid)
        prev_val = float(hist.loc[key & (hist["year"] == year - 1), "value"].iat[0])
        hist.loc[key & (hist["year"] == year), "target"] = prev_val
        repeats.append(
            {"unit": unit, "measure": mid, "year": year, "target": prev_val, "previous_year_value": prev_val}
        )
    return hist, repeats


# ---------------------------------------------------------------------------
# on-site verification
# ---------------------------------------------------------------------------


def _claim(rng, template, lo, hi, dec, scale=1.0) -> str:
    x = rng.uniform(lo, hi) * scale
    return template.format(f"{x:.{dec}f}" if dec else str(max(int(round(x)), 1)))


def _verification(rng, units: pd.DataFrame, history: pd.DataFrame, zscore, year: int):
    rows = []  # unit index, unit, year, claim, may be false
    firms = history[history["measure"] == "polluting_firms_closed"].set_index(["unit", "year"])["value"]
    uid = units["unit"].to_numpy()
    kind = units["kind"].to_numpy()
    zone = units["zone"].to_numpy()
    for y in (year - 1, year):
        for u in np.flatnonzero(kind == "district"):
            if (uid[u], y) in firms.index:
                rows.append((u, uid[u], y, FIRMS_CLAIM.format(int(firms[(uid[u], y)])), False))
            for k in rng.choice(len(DISTRICT_CLAIMS), N_DISTRICT_CLAIMS, replace=False):
                rows.append((u, uid[u], y, _claim(rng, *DISTRICT_CLAIMS[k], DISTRICT_SCALE.get(zone[u], 1.0)), True))
        depts = np.flatnonzero(kind == "department")
        checked = np.sort(rng.choice(depts, min(N_DEPARTMENT_CHECKED, len(depts)), replace=False))
        for u in checked:
            templates = DEPARTMENT_CLAIMS.get(zone[u], DEPARTMENT_CLAIMS["governance"])
            for k in rng.choice(len(templates), int(rng.integers(1, 3)), replace=False):
                rows.append((u, uid[u], y, _claim(rng, *templates[k]), True))
    u_idx = np.array([r[0] for r in rows])
    eligible = np.array([r[4] for r in rows])
    # planted false claims, more likely from weaker units
    p = np.where(eligible, np.exp(-zscore[u_idx]), 0.0)
    false_rows = rng.choice(len(rows), N_FALSE_CLAIMS, replace=False, p=p / p.sum())
    verified = np.ones(len(rows), dtype=bool)
    verified[false_rows] = False
    ver = pd.DataFrame(
        {
            "unit": _str(r[1] for r in rows),
            "year": np.array([r[2] for r in rows], dtype=np.int64),
            "claim": _str(r[3] for r in rows),
            "verified": verified,
        }
    )
    ver = ver.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    false_claims = [
        {"unit": rows[k][1], "year": int(rows[k][2]), "claim": rows[k][3]}
        for k in sorted(false_rows, key=lambda k: (rows[k][1], rows[k][2], rows[k][3]))
    ]
    return ver, false_claims
