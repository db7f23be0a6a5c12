"""Who is evaluated and by whom: units, evaluators and their planted effects, sessions, the survey and the evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.errors import SchemeError
from perflab.scheme import Scheme
from perflab.simulate.design import (
    BELOW_AVERAGE,
    DEPARTMENT_SATISFACTION,
    DEPARTMENTS,
    DISTRICT_SATISFACTION,
    DISTRICTS,
    EXTREME_SD,
    FAVOUR,
    FAVOUR_SD,
    GROUP_SIZES,
    LENIENT,
    N_BLOC,
    N_CENTRAL,
    N_DEPT_BY_SESSION,
    N_FAVOUR,
    N_HALO,
    N_HEADS_DISTRICT,
    N_LENIENT,
    N_SEVERE,
    OTHER_GROUP_SIZE,
    SESSION_DRAWS,
    SESSIONS,
    SEVERE,
    SEVERITY_SD,
)

# ---------------------------------------------------------------------------
# the special-evaluation departments' evidence (one unit, one table)
# ---------------------------------------------------------------------------

# indicator -> the special-evaluation department that assesses it (assumption: a plausible division of work)
ASSESSING_DEPARTMENT = {
    "rectification": ("市政府督查室", "市政府督查室"),
    "main_indicators": ("市统计局", "市发展改革委"),  # (for districts, for departments)
    "key_tasks": ("市政府督查室", "市政府督查室"),
    "law_based_admin": ("市法制办", "市法制办"),
    "clean_admin": ("市监察局", "市监察局"),
    "innovation": ("市科委", "市编办"),
    "service": ("市政务服务中心", "市信访办"),
}
OPINIONS = {
    "A": "完成优秀，成效显著",
    "B": "完成较好，个别事项有待加强",
    "C": "基本完成，部分任务进度滞后",
    "D": "完成一般，与目标存在明显差距",
    "E": "未完成主要任务，需限期整改",
}


def _assessments(rng, scheme: Scheme, units: pd.DataFrame, quality: np.ndarray) -> pd.DataFrame:
    """For every unit and indicator: the assessing department, a completion summary, its opinion, a suggested band."""
    ind_ids = scheme.indicator_ids
    n_u, n_i = quality.shape
    seen = np.clip(quality + rng.normal(0.0, 3.0, quality.shape), 0.0, 100.0)  # the department's view of the quality
    bands = scheme.grade_of(seen.ravel()).reshape(n_u, n_i)
    tasks = rng.integers(6, 21, size=(n_u, n_i))
    done = np.minimum(tasks, np.rint(tasks * np.clip((seen - 40.0) / 55.0, 0.0, 1.0))).astype(int)
    district = (units["kind"] == "district").to_numpy()
    rows = []
    for u in range(n_u):
        for i, iid in enumerate(ind_ids):
            dept = ASSESSING_DEPARTMENT.get(iid, ("市政府绩效办", "市政府绩效办"))[0 if district[u] else 1]
            rows.append(
                (
                    units["unit"].iat[u],
                    iid,
                    dept,
                    f"年度任务{tasks[u, i]}项，已完成{done[u, i]}项",
                    OPINIONS.get(bands[u, i], ""),
                    bands[u, i],
                )
            )
    out = pd.DataFrame(rows, columns=["unit", "indicator", "department", "summary", "opinion", "band"])
    return out.astype("str")


def _str(values):
    return pd.array(list(values), dtype="str")


def _units(scheme: Scheme) -> pd.DataFrame:
    rows = [(d, "district", z, zh, f"{en} District", True) for d, z, zh, en in DISTRICTS]
    rows += [(f"M{n:02d}", "department", z, zh, en, p) for n, (z, zh, en, p) in enumerate(DEPARTMENTS, start=1)]
    known = {(z.id, z.kind) for z in scheme.zones}
    missing = sorted({(r[2], r[1]) for r in rows} - known)
    if missing:
        raise SchemeError(
            "simulate needs the Beijing zones in the scheme; missing: " + ", ".join(f"{z} ({k})" for z, k in missing),
            file=scheme.source,
        )
    cols = list(zip(*rows))
    return pd.DataFrame(
        {
            "unit": _str(cols[0]),
            "kind": _str(cols[1]),
            "zone": _str(cols[2]),
            "name_zh": _str(cols[3]),
            "name_en": _str(cols[4]),
            "presented": np.array(cols[5], dtype=bool),
        }
    )


def _survey(rng, units: pd.DataFrame, quality, ind_ids, year):
    """Satisfaction for year-1 and year; returns the table and the year's satisfaction by unit."""
    kind = units["kind"].to_numpy()
    n = len(units)
    sat = np.zeros(n)
    # districts: the seven named below the average, the others above, mean 79.73
    dm = kind == "district"
    stems = units["name_en"].str.replace(" District", "", regex=False).to_numpy()
    below = dm & np.isin(stems, BELOW_AVERAGE)
    above = dm & ~below
    dev = np.zeros(n)
    dev[below] = -(1.0 + rng.uniform(0.0, 4.0, below.sum()))
    dev[above] = 1.0 + rng.uniform(0.0, 4.0, above.sum())
    if above.any() and below.any():
        dev[above] *= -dev[below].sum() / dev[above].sum()
    sat[dm] = DISTRICT_SATISFACTION + dev[dm]
    # departments: mean 93.9, users of better-serving departments a little happier
    pm = kind == "department"
    svc = quality[:, ind_ids.index("service")] if "service" in ind_ids else quality.mean(axis=1)
    d = rng.normal(0.0, 1.5, pm.sum()) + 0.15 * (svc[pm] - svc[pm].mean())
    sat[pm] = np.clip(DEPARTMENT_SATISFACTION + d - d.mean(), 85.0, 99.5)
    sat = np.round(sat, 1)
    prev = np.round(np.clip(sat - rng.normal(0.8, 1.0, n), 0.0, 100.0), 1)
    resp = np.where(dm, rng.normal(1200, 150, n), rng.normal(400, 80, n)).round().astype(np.int64)
    resp_prev = np.where(dm, rng.normal(1100, 150, n), rng.normal(380, 80, n)).round().astype(np.int64)
    uid = units["unit"].to_numpy()
    survey = pd.DataFrame(
        {
            "unit": _str(np.concatenate([uid, uid])),
            "year": np.array([year - 1] * n + [year] * n, dtype=np.int64),
            "satisfaction": np.concatenate([prev, sat]),
            "respondents": np.concatenate([resp_prev, resp]),
        }
    )
    survey = survey.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    return survey, sat


def _sessions(rng, units: pd.DataFrame, level):
    """Session and presentation order of each presented unit (0 for the others).

    Districts are split between sessions 1 and 3, departments over all three
    (N_DEPT_BY_SESSION). Of SESSION_DRAWS random allocations the one whose
    sessions have the most similar mean true quality is kept, so that the
    evening drift is not confounded with the quality of the units presented
    then; the order within a session is random.
    """
    n = len(units)
    kind = units["kind"].to_numpy()
    presented = units["presented"].to_numpy()
    dist = np.flatnonzero(presented & (kind == "district"))
    dept = np.flatnonzero(presented & (kind == "department"))
    d_sessions = np.repeat([1, 3], [len(dist) - len(dist) // 2, len(dist) // 2])
    counts = np.array([N_DEPT_BY_SESSION[s] for s in SESSIONS], dtype=float)
    counts = np.floor(counts / counts.sum() * len(dept)).astype(int)
    counts[1] += len(dept) - counts.sum()
    m_sessions = np.repeat(list(SESSIONS), counts)
    members = np.concatenate([dist, dept])
    # candidate allocations: one row each, a session for every presented unit
    cand = np.concatenate(
        [
            rng.permuted(np.tile(d_sessions, (SESSION_DRAWS, 1)), axis=1),
            rng.permuted(np.tile(m_sessions, (SESSION_DRAWS, 1)), axis=1),
        ],
        axis=1,
    )
    lv = level[members]
    means = np.stack([(np.where(cand == s, lv, 0.0).sum(axis=1) / (cand == s).sum(axis=1)) for s in SESSIONS], axis=1)
    best = int(np.argmin(means.max(axis=1) - means.min(axis=1)))
    session = np.zeros(n, dtype=np.int64)
    session[members] = cand[best]
    order = np.zeros(n, dtype=np.int64)
    for s in SESSIONS:
        idx = np.flatnonzero(session == s)
        order[rng.permutation(idx)] = np.arange(1, len(idx) + 1)
    return session, order


def _raters(rng, scheme: Scheme, units: pd.DataFrame):
    gids = scheme.group_ids
    for need in ("unit_heads", "grassroots"):
        if need not in gids:
            raise SchemeError(f"simulate needs the evaluator group {need!r} in the scheme", file=scheme.source)
    sizes = [GROUP_SIZES.get(g, OTHER_GROUP_SIZE) for g in gids]
    group = np.repeat(np.asarray(gids, dtype=object), sizes)
    n = len(group)
    rater = np.array([f"R{k:03d}" for k in range(1, n + 1)], dtype=object)

    # unit heads lead distinct presented units: some districts, the rest departments
    uid = units["unit"].to_numpy()
    kind = units["kind"].to_numpy()
    pres = units["presented"].to_numpy()
    heads = np.flatnonzero(group == "unit_heads")
    dists = rng.permutation(np.flatnonzero(pres & (kind == "district")))
    depts = rng.permutation(np.flatnonzero(pres & (kind == "department")))
    n_d = min(N_HEADS_DISTRICT, len(dists), len(heads))
    led = np.concatenate([dists[:n_d], depts[: len(heads) - n_d]])
    led = np.sort(led)
    home = np.full(n, None, dtype=object)
    home[heads[: len(led)]] = uid[led]

    # disjoint sets of biased raters
    taken = np.zeros(n, dtype=bool)

    def pick(pool_mask, k):
        pool = np.flatnonzero(pool_mask & ~taken)
        chosen = np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))
        flag = np.zeros(n, dtype=bool)
        flag[chosen] = True
        taken[chosen] = True
        return flag

    favours = pick(home != None, N_FAVOUR)  # noqa: E711 (elementwise)
    bloc = pick(np.isin(group, ["npc_deputies", "cppcc_members"]), N_BLOC)
    everyone = np.ones(n, dtype=bool)
    lenient = pick(everyone, N_LENIENT)
    severe = pick(everyone, N_SEVERE)
    halo = pick(everyone, N_HALO)
    central = pick(everyone, N_CENTRAL)

    shift = rng.normal(0.0, SEVERITY_SD, n)  # points added to the rater's scores; severity is its negative
    shift[lenient] = rng.normal(LENIENT, EXTREME_SD, lenient.sum())
    shift[severe] = rng.normal(SEVERE, EXTREME_SD, severe.sum())
    bonus = np.where(favours, rng.normal(FAVOUR, FAVOUR_SD, n), 0.0)

    # grassroots representatives attend one session each (about a third each)
    r_session = np.zeros(n, dtype=np.int64)
    grass = np.flatnonzero(group == "grassroots")
    sess = np.array(list(SESSIONS))
    r_session[rng.permutation(grass)] = np.resize(sess, len(grass))

    raters = pd.DataFrame({"rater": _str(rater), "group": _str(group), "home_unit": pd.array(home, dtype="str")})
    effects = pd.DataFrame(
        {
            "rater": _str(rater),
            "group": _str(group),
            "severity_points": np.round(-shift, 3) + 0.0,  # positive = harsher
            "halo": halo,
            "central": central,
            "favours_home": favours,
            "bloc": bloc,
            "lenient": lenient,
            "severe": severe,
        }
    )
    return raters, effects, r_session, np.round(bonus, 3)


def _home_index(raters: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    pos = {u: k for k, u in enumerate(units["unit"])}
    return np.array([pos.get(h, -1) if isinstance(h, str) else -1 for h in raters["home_unit"]], dtype=np.int64)
