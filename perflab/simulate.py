"""Demo data shaped like Beijing's 2016 evaluation, with planted effects and a saved ground truth.

:func:`simulate` builds the six raw tables of the data model (units, raters,
ratings, history, survey, verification) for 16 districts and 60 municipal
departments, about 220 evaluators (106 grassroots representatives) scoring the
59 presented units on the scheme's indicators over three sessions. Into the
scores it plants the evaluator biases the workbench is meant to find, and it
returns the truth next to the tables so that tests can check that the analyses
recover them (analysis code never reads the truth).

Score model for rater r, unit u, indicator i (before rounding and clipping)::

    x = quality[u, i] - severity[r] + drift[u] + favour[r, u] + bloc[r, u]
        + grassroots[r, u] + rater_unit[r, u] + noise[r, u, i]

- ``severity`` is in score points and positive for a harsh rater (as everywhere in
  perflab: rater measures, flags and this truth share one direction, positive =
  harsher); the truth's ``rater_effects.severity_points`` is this number;

- halo raters use the unit's mean quality for every indicator and one noise
  per unit (plus a tiny per-indicator jitter);
- central-tendency raters' x is shrunk toward 80: ``80 + CENTRAL_SHRINK * (x - 80)``;
- then ``score = clip(rint(x), 0, 100)`` (evaluators write whole numbers).

Everything is drawn from one ``np.random.default_rng(seed)``: the same seed
gives the same tables, and :func:`write_simulated` writes them byte for byte
the same.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perflab.errors import SchemeError
from perflab.io import SIMULATED_MARKER
from perflab.scheme import Scheme

# ---------------------------------------------------------------------------
# planted effect sizes (score points on the 0-100 scale)
# ---------------------------------------------------------------------------

QUALITY_MEAN = 82.0  # mean true quality
UNIT_SD = 5.0  # sd of a unit's general level
INDICATOR_SD = 3.0  # sd of a unit's indicator-specific deviation
RATER_UNIT_SD = 2.0  # one rater's impression of one unit, shared over indicators
NOISE_SD = 3.5  # per rating (with RATER_UNIT_SD: about 4 in all)
SEVERITY_SD = 1.5  # ordinary raters' severity
N_LENIENT, LENIENT = 6, 7.0  # points a lenient rater adds to every score (severity -7)
N_SEVERE, SEVERE = 6, -7.0  # points a severe rater adds to every score (severity +7)
EXTREME_SD = 0.75  # spread of the lenient / severe raters' severities around -+7
N_HALO, HALO_JITTER_SD = 6, 0.5
N_CENTRAL, CENTRAL_TARGET, CENTRAL_SHRINK = 5, 80.0, 0.3
N_FAVOUR, FAVOUR, FAVOUR_SD = 8, 14.0, 1.0  # large enough to be found rater by rater (noise about 2.7 points)
N_BLOC, BLOC_SD = 8, 5.0
DRIFT_SESSION = 2  # the evening session
DRIFT_START, DRIFT_END = -3.0, -7.0  # linear in presentation order: mean -5, about 5 standard errors of a session mean
GRASSROOTS_COEF = 0.8  # grassroots term = coef * (satisfaction - mean satisfaction of the unit's kind)
N_FALSE_CLAIMS = 6

DISTRICT_SATISFACTION = 79.73  # source
DEPARTMENT_SATISFACTION = 93.9  # source
BELOW_AVERAGE = ("Fengtai", "Haidian", "Chaoyang", "Shijingshan", "Tongzhou", "Changping", "Dongcheng")  # source

SESSIONS = {
    1: "2017-02-10 afternoon",
    2: "2017-02-10 evening",
    3: "2017-02-11 morning",
}

GROUP_SIZES = {
    "city_leaders": 12,
    "state_council": 6,
    "unit_heads": 30,
    "supervisors": 8,
    "npc_deputies": 20,
    "cppcc_members": 20,
    "experts": 10,
    "media": 8,
    "grassroots": 106,
}
OTHER_GROUP_SIZE = 10  # a group of the scheme not listed above
N_HEADS_DISTRICT = 10  # unit heads leading a district (the other heads lead departments)
N_DEPT_BY_SESSION = {1: 12, 2: 20, 3: 11}  # districts: half in session 1, half in session 3
SESSION_DRAWS = 500  # random allocations to sessions tried; the best balanced in true quality is kept

# ---------------------------------------------------------------------------
# the units
# ---------------------------------------------------------------------------

DISTRICTS = (  # id, zone, name_zh, English stem
    ("D01", "core", "东城区", "Dongcheng"),
    ("D02", "core", "西城区", "Xicheng"),
    ("D03", "extension", "朝阳区", "Chaoyang"),
    ("D04", "extension", "海淀区", "Haidian"),
    ("D05", "extension", "丰台区", "Fengtai"),
    ("D06", "extension", "石景山区", "Shijingshan"),
    ("D07", "new_development", "房山区", "Fangshan"),
    ("D08", "new_development", "通州区", "Tongzhou"),
    ("D09", "new_development", "顺义区", "Shunyi"),
    ("D10", "new_development", "昌平区", "Changping"),
    ("D11", "new_development", "大兴区", "Daxing"),
    ("D12", "ecological", "门头沟区", "Mentougou"),
    ("D13", "ecological", "怀柔区", "Huairou"),
    ("D14", "ecological", "平谷区", "Pinggu"),
    ("D15", "ecological", "密云区", "Miyun"),
    ("D16", "ecological", "延庆区", "Yanqing"),
)

# zone, name_zh, name_en, presented (False: dispatched agency, centrally
# affiliated or department-managed body that submitted a written report only)
DEPARTMENTS = (
    ("economy", "市发展改革委", "Beijing Municipal Commission of Development and Reform", True),
    ("economy", "市经济信息化委", "Beijing Municipal Commission of Economy and Information Technology", True),
    ("economy", "市科委", "Beijing Municipal Science and Technology Commission", True),
    ("economy", "市商务委", "Beijing Municipal Commission of Commerce", True),
    ("economy", "市财政局", "Beijing Municipal Finance Bureau", True),
    ("economy", "市金融局", "Beijing Municipal Bureau of Financial Work", True),
    ("economy", "市旅游委", "Beijing Municipal Commission of Tourism Development", True),
    ("economy", "市国资委", "State-owned Assets Supervision and Administration Commission of Beijing", True),
    ("economy", "市统计局", "Beijing Municipal Bureau of Statistics", True),
    ("economy", "市农委", "Beijing Municipal Commission of Rural Affairs", True),
    ("economy", "市地税局", "Beijing Local Taxation Bureau", True),
    ("economy", "中关村管委会", "Zhongguancun Science Park Administrative Committee", False),
    (
        "economy",
        "北京经济技术开发区管委会",
        "Beijing Economic-Technological Development Area Administrative Committee",
        False,
    ),
    ("economy", "北京市国家税务局", "Beijing Municipal Office of the State Administration of Taxation", False),
    ("economy", "市知识产权局", "Beijing Intellectual Property Office", False),
    ("urban", "市规划国土委", "Beijing Municipal Commission of Urban Planning, Land and Resources Management", True),
    ("urban", "市住房城乡建设委", "Beijing Municipal Commission of Housing and Urban-Rural Development", True),
    ("urban", "市城市管理委", "Beijing Municipal Commission of City Management", True),
    ("urban", "市交通委", "Beijing Municipal Commission of Transport", True),
    ("urban", "市环保局", "Beijing Municipal Environmental Protection Bureau", True),
    ("urban", "市水务局", "Beijing Water Authority", True),
    ("urban", "市园林绿化局", "Beijing Municipal Bureau of Landscape and Forestry", True),
    ("urban", "市重大项目办", "Beijing Major Projects Construction Office", True),
    ("urban", "市城管执法局", "Beijing Municipal Administration of Urban Management Law Enforcement", False),
    ("urban", "市公园管理中心", "Beijing Municipal Administration Center of Parks", False),
    ("urban", "市路政局", "Beijing Municipal Road Administration Bureau", False),
    ("urban", "市运输管理局", "Beijing Municipal Transport Management Bureau", False),
    ("urban", "北京市气象局", "Beijing Meteorological Service", False),
    ("social", "市教委", "Beijing Municipal Commission of Education", True),
    ("social", "市人力社保局", "Beijing Municipal Human Resources and Social Security Bureau", True),
    ("social", "市民政局", "Beijing Municipal Civil Affairs Bureau", True),
    ("social", "市卫生计生委", "Beijing Municipal Commission of Health and Family Planning", True),
    ("social", "市文化局", "Beijing Municipal Bureau of Culture", True),
    ("social", "市新闻出版广电局", "Beijing Municipal Bureau of Press, Publication, Radio, Film and Television", True),
    ("social", "市文物局", "Beijing Municipal Administration of Cultural Heritage", True),
    ("social", "市体育局", "Beijing Municipal Bureau of Sports", True),
    ("social", "市民族宗教委", "Beijing Municipal Commission of Ethnic and Religious Affairs", True),
    ("social", "市侨办", "Beijing Overseas Chinese Affairs Office", True),
    ("social", "市医院管理局", "Beijing Municipal Administration of Hospitals", False),
    ("social", "北京住房公积金管理中心", "Beijing Housing Provident Fund Management Center", False),
    ("security", "市公安局", "Beijing Municipal Public Security Bureau", True),
    ("security", "市司法局", "Beijing Municipal Bureau of Justice", True),
    ("security", "市安全监管局", "Beijing Municipal Administration of Work Safety", True),
    ("security", "市工商局", "Beijing Administration for Industry and Commerce", True),
    ("security", "市质监局", "Beijing Municipal Bureau of Quality and Technical Supervision", True),
    ("security", "市食品药品监管局", "Beijing Municipal Food and Drug Administration", True),
    ("security", "市民防局", "Beijing Civil Defense Bureau", True),
    ("security", "市监狱管理局", "Beijing Municipal Prison Administration", False),
    ("security", "市戒毒管理局", "Beijing Municipal Drug Rehabilitation Administration", False),
    ("security", "北京出入境检验检疫局", "Beijing Entry-Exit Inspection and Quarantine Bureau", False),
    ("governance", "市政府办公厅", "General Office of the Beijing Municipal Government", True),
    ("governance", "市审计局", "Beijing Municipal Audit Bureau", True),
    ("governance", "市政府法制办", "Legislative Affairs Office of the Beijing Municipal Government", True),
    ("governance", "市监察局", "Beijing Municipal Bureau of Supervision", True),
    ("governance", "市政府外办", "Foreign Affairs Office of the Beijing Municipal Government", True),
    ("governance", "市信访办", "Beijing Municipal Bureau of Letters and Calls", True),
    ("governance", "市机关事务管理局", "Beijing Municipal Government Offices Administration", True),
    ("governance", "市政务服务中心", "Beijing Municipal Administrative Service Center", False),
    ("governance", "市档案局", "Beijing Municipal Archives Bureau", False),
    ("governance", "市地方志办", "Beijing Local Chronicles Office", False),
)

# zone effects on true quality, by indicator id (indicators not listed: 0)
ZONE_EFFECTS = {
    "core": {"main_indicators": 3.0, "service": 1.0},
    "extension": {"main_indicators": 1.5, "innovation": 2.5},
    "new_development": {"main_indicators": 1.0, "key_tasks": 2.0},
    "ecological": {"main_indicators": -4.0, "service": 3.0, "clean_admin": 1.0},
    "economy": {"main_indicators": 2.0},
    "urban": {"key_tasks": 2.0},
    "social": {"service": 2.0},
    "security": {"law_based_admin": 2.0},
    "governance": {"clean_admin": 1.5},
}

# ---------------------------------------------------------------------------
# verification claims: template, low, high (scaled by the zone), decimals
# ---------------------------------------------------------------------------

FIRMS_CLAIM = "关停污染企业 {}家"  # filled with the reported history value of polluting_firms_closed
DISTRICT_CLAIMS = (
    ("拆除违法建设 {}万平方米", 20, 120, 1),
    ("新建污水处理厂 {}座", 1, 4, 0),
    ("新增造林绿化 {}亩", 2000, 20000, 0),
    ("治理黑臭水体 {}条", 1, 8, 0),
    ("改造老旧小区 {}个", 5, 40, 0),
    ("疏解提升市场 {}个", 3, 30, 0),
    ("整治开墙打洞 {}处", 100, 1500, 0),
    ("完成煤改清洁能源 {}户", 2000, 30000, 0),
)
DISTRICT_SCALE = {"core": 0.5, "extension": 1.0, "new_development": 1.4, "ecological": 0.8}
DEPARTMENT_CLAIMS = {
    "economy": (
        ("新增科技型企业 {}家", 200, 2000, 0),
        ("压减行政审批事项 {}项", 10, 120, 0),
        ("新增网上办理事项 {}项", 20, 200, 0),
    ),
    "urban": (
        ("新建公共停车位 {}个", 1000, 20000, 0),
        ("新建改造城市道路 {}公里", 5, 60, 1),
        ("新增城市绿地 {}公顷", 50, 800, 0),
        ("新建污水处理设施 {}座", 2, 20, 0),
    ),
    "social": (
        ("新增养老床位 {}张", 500, 8000, 0),
        ("新建幼儿园 {}所", 5, 60, 0),
        ("新增就业岗位 {}万个", 5, 45, 1),
    ),
    "security": (
        ("检查食品生产经营单位 {}家", 5000, 60000, 0),
        ("排查整治安全隐患 {}处", 1000, 30000, 0),
        ("查处违法案件 {}起", 200, 5000, 0),
    ),
    "governance": (
        ("办结群众来信来访 {}件", 2000, 40000, 0),
        ("完成审计项目 {}个", 50, 600, 0),
        ("新增政务服务事项网上办理 {}项", 20, 300, 0),
    ),
}
N_DISTRICT_CLAIMS = 3  # per district and year, besides the polluting-firms claim
N_DEPARTMENT_CHECKED = 25  # departments checked per year (1 or 2 claims each)


@dataclass(frozen=True)
class Simulated:
    """Simulated raw tables (``units, raters, ratings, history, survey, verification``) and their truth
    (``unit_quality``, ``rater_effects`` DataFrames and the ``planted`` dict)."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]


# ---------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------


def simulate(scheme: Scheme, seed: int = 2016) -> Simulated:
    """Beijing-2016-shaped demo data with planted rater effects; deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    year = int(scheme.year or 2016)
    units = _units(scheme)
    n_units = len(units)
    kind = units["kind"].to_numpy()
    zone = units["zone"].to_numpy()
    presented = units["presented"].to_numpy()
    uid = units["unit"].to_numpy()

    # -- true quality ------------------------------------------------------
    ind_ids = scheme.indicator_ids
    general = rng.normal(0.0, UNIT_SD, n_units)
    for k in ("district", "department"):  # both kinds centred on QUALITY_MEAN: sessions mixing kinds stay comparable
        general[kind == k] -= general[kind == k].mean()
    specific = rng.normal(0.0, INDICATOR_SD, (n_units, len(ind_ids)))
    zone_eff = np.array([[ZONE_EFFECTS.get(z, {}).get(i, 0.0) for i in ind_ids] for z in zone])
    quality = np.clip(QUALITY_MEAN + general[:, None] + specific + zone_eff, 40.0, 99.0)
    quality = np.round(quality, 2)
    zscore = general / UNIT_SD  # the unit's standardised general level: drives the objective figures

    # -- survey and the grassroots perception term --------------------------
    survey, sat_year = _survey(rng, units, quality, ind_ids, year)
    grass_term = np.zeros(n_units)
    for k in ("district", "department"):
        m = kind == k
        grass_term[m] = GRASSROOTS_COEF * (sat_year[m] - sat_year[m].mean())

    # -- sessions and presentation order ------------------------------------
    session, order = _sessions(rng, units, quality.mean(axis=1))
    n_in_session = {s: int((session == s).sum()) for s in SESSIONS}
    drift = np.zeros(n_units)
    m2 = session == DRIFT_SESSION
    if m2.any():
        n2 = n_in_session[DRIFT_SESSION]
        frac = (order[m2] - 1) / max(n2 - 1, 1)
        drift[m2] = DRIFT_START + (DRIFT_END - DRIFT_START) * frac

    # -- raters and their effects --------------------------------------------
    raters, effects, r_session, favour_bonus = _raters(rng, scheme, units)
    n_raters = len(raters)
    group = raters["group"].to_numpy()
    home_idx = _home_index(raters, units)

    # who scores what: non-grassroots every presented unit, grassroots their session's units
    sees = np.zeros((n_raters, n_units), dtype=bool)
    grass = group == "grassroots"
    sees[~grass] = presented[None, :]
    sees[grass] = presented[None, :] & (session[None, :] == r_session[grass][:, None])
    r_of, u_of = np.nonzero(sees)
    n_pairs = len(r_of)
    n_ind = len(ind_ids)

    # per (rater, unit) terms
    bloc_effect = rng.normal(0.0, BLOC_SD, n_units)
    rater_unit = rng.normal(0.0, RATER_UNIT_SD, n_pairs)
    halo_noise = rng.normal(0.0, np.hypot(RATER_UNIT_SD, NOISE_SD), n_pairs)
    severity = effects["severity_points"].to_numpy()  # positive = harsher: subtracted from the score
    halo = effects["halo"].to_numpy()
    central = effects["central"].to_numpy()
    in_bloc = effects["bloc"].to_numpy()
    is_home = home_idx[r_of] == u_of
    pair = (
        -severity[r_of]
        + drift[u_of]
        + np.where(is_home, favour_bonus[r_of], 0.0)
        + np.where(in_bloc[r_of], bloc_effect[u_of], 0.0)
        + np.where(grass[r_of], grass_term[u_of], 0.0)
    )
    pair_halo = halo[r_of]
    pair_noise = np.where(pair_halo, halo_noise, rater_unit)

    # per rating rows: pairs x indicators
    rr = np.repeat(r_of, n_ind)
    uu = np.repeat(u_of, n_ind)
    ii = np.tile(np.arange(n_ind), n_pairs)
    h = np.repeat(pair_halo, n_ind)
    base = np.where(h, quality.mean(axis=1)[uu], quality[uu, ii])
    noise = np.where(h, rng.normal(0.0, HALO_JITTER_SD, len(rr)), rng.normal(0.0, NOISE_SD, len(rr)))
    x = base + np.repeat(pair + pair_noise, n_ind) + noise
    c = central[rr]
    x = np.where(c, CENTRAL_TARGET + CENTRAL_SHRINK * (x - CENTRAL_TARGET), x)
    score = np.clip(np.rint(x), 0, 100).astype(np.int64)

    sort = np.lexsort((ii, rr, order[uu], session[uu]))
    rr, uu, ii, score = rr[sort], uu[sort], ii[sort], score[sort]
    rater_ids = raters["rater"].to_numpy()
    ratings = pd.DataFrame(
        {
            "rater": pd.array(rater_ids[rr], dtype="str"),
            "unit": pd.array(uid[uu], dtype="str"),
            "indicator": pd.array(np.asarray(ind_ids, dtype=object)[ii], dtype="str"),
            "score": score,
            "grade": pd.array(scheme.grade_of(score), dtype="str"),
            "session": session[uu].astype(np.int64),
            "order": order[uu].astype(np.int64),
        }
    )

    # -- objective figures and on-site verification -------------------------
    history, repeats = _history(rng, scheme, units, zscore, year)
    verification, false_claims = _verification(rng, units, history, zscore, year)

    # -- truth ---------------------------------------------------------------
    unit_quality = pd.DataFrame(
        {
            "unit": pd.array(np.repeat(uid, n_ind), dtype="str"),
            "indicator": pd.array(np.tile(np.asarray(ind_ids, dtype=object), n_units), dtype="str"),
            "quality": quality.ravel(),
        }
    )

    def ids(col):
        return [str(r) for r in effects.loc[effects[col], "rater"]]

    heads = raters["home_unit"].notna().to_numpy()
    planted = {
        "seed": int(seed),
        "year": year,
        "quality": {
            "mean": QUALITY_MEAN,
            "unit_sd": UNIT_SD,
            "indicator_sd": INDICATOR_SD,
            "zone_effects": ZONE_EFFECTS,
            "centred_within_kind": True,
        },
        "noise": {"rater_unit_sd": RATER_UNIT_SD, "rating_sd": NOISE_SD, "ordinary_severity_sd": SEVERITY_SD},
        "sessions": {str(s): {"label": SESSIONS[s], "units": n_in_session[s]} for s in SESSIONS},
        "drift": {str(s): round(float(drift[session == s].mean()), 4) for s in SESSIONS},
        "drift_model": {
            "session": DRIFT_SESSION,
            "first": DRIFT_START,
            "last": DRIFT_END,
            "rule": "linear in presentation order within the session, added to every score",
        },
        "lenient": ids("lenient"),
        "lenient_severity_points": -LENIENT,
        "severe": ids("severe"),
        "severe_severity_points": -SEVERE,
        "severity_direction": "positive = harsher (points subtracted from the rater's scores)",
        "halo": ids("halo"),
        "halo_jitter_sd": HALO_JITTER_SD,
        "central": ids("central"),
        "central_target": CENTRAL_TARGET,
        "central_shrink": CENTRAL_SHRINK,
        "favouring": [
            {"rater": str(rater_ids[r]), "home_unit": str(uid[home_idx[r]]), "bonus": round(float(favour_bonus[r]), 3)}
            for r in np.flatnonzero(effects["favours_home"].to_numpy())
        ],
        "unit_heads": {str(rater_ids[r]): str(uid[home_idx[r]]) for r in np.flatnonzero(heads)},
        "bloc": {
            "members": ids("bloc"),
            "sd": BLOC_SD,
            "effect": {str(uid[u]): round(float(bloc_effect[u]), 3) for u in np.flatnonzero(presented)},
        },
        "grassroots_coefficient": GRASSROOTS_COEF,
        "grassroots_term": {str(uid[u]): round(float(grass_term[u]), 3) for u in range(n_units)},
        "grassroots_sessions": {str(rater_ids[r]): int(r_session[r]) for r in np.flatnonzero(grass)},
        "repeated_targets": repeats,
        "false_claims": false_claims,
    }
    truth = {"unit_quality": unit_quality, "rater_effects": effects, "planted": planted}
    # a separate stream: adding the evidence tables leaves every other table as it was for the seed
    assessments = _assessments(np.random.default_rng([seed, 6]), scheme, units, quality)
    tables = {
        "units": units,
        "raters": raters,
        "ratings": ratings,
        "history": history,
        "survey": survey,
        "verification": verification,
        "assessments": assessments,
    }
    return Simulated(tables=tables, truth=truth)


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


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

# decimals of float columns when written (others: 2)
_DECIMALS = {"satisfaction": 1, "severity_points": 3, "quality": 2, "value": 2, "target": 2}


def _fmt_float(values: np.ndarray, dec: int) -> list[str]:
    v = np.round(np.asarray(values, dtype=float), dec) + 0.0  # no "-0.00"
    return ["" if not np.isfinite(x) else f"{x:.{dec}f}" for x in v]


def _csv_bytes(df: pd.DataFrame, integral_by: str | None = None) -> bytes:
    """CSV text of a table: booleans as true/false, floats with fixed decimals, blanks for missing.

    ``integral_by``: a key column (history's ``measure``) within whose groups
    float columns holding only whole numbers are written without decimals
    (counts such as polluting firms closed).
    """
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = np.where(s.to_numpy(dtype=bool), "true", "false").astype(object)
        elif pd.api.types.is_float_dtype(s):
            dec = _DECIMALS.get(col, 2)
            text = np.array(_fmt_float(s.to_numpy(), dec), dtype=object)
            if integral_by is not None:
                for _, idx in df.groupby(integral_by, sort=True).indices.items():
                    vals = s.to_numpy()[idx]
                    fin = vals[np.isfinite(vals)]
                    if len(fin) and np.all(fin == np.rint(fin)):
                        text[idx] = ["" if not np.isfinite(x) else str(int(x)) for x in vals]
            out[col] = text
        else:  # integers and text: as pandas writes them, missing as blank
            out[col] = s
    text = pd.DataFrame(out, columns=list(df.columns))
    buf = io.StringIO()
    text.to_csv(buf, index=False, lineterminator="\n", na_rep="")
    return buf.getvalue().encode("utf-8")


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def _json_ready(obj):
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def write_simulated(sim: Simulated, out_dir: str | Path, gzip_ratings: bool = False) -> list[Path]:
    """Write the tables to ``out_dir`` and the truth to ``out_dir/truth``; returns the written paths.

    Files: units.csv, raters.csv, ratings.csv (ratings.csv.gz with
    ``gzip_ratings``), history.csv, survey.csv, verification.csv and
    truth/unit_quality.csv, truth/rater_effects.csv, truth/planted.json, and the marker
    ``SIMULATED.json`` (:data:`perflab.io.SIMULATED_MARKER`) that makes every page of a run on these
    tables say they are simulated, wherever the directory is copied. UTF-8 without BOM, "\\n" line
    ends, fixed decimals: the same data give the same bytes.
    """
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(path: Path, data: bytes):
        path.write_bytes(data)
        written.append(path)

    t = sim.tables
    for name in ("units", "raters", "ratings", "history", "survey", "verification", "assessments"):
        data = _csv_bytes(t[name], integral_by="measure" if name == "history" else None)
        if name == "ratings" and gzip_ratings:
            (out / "ratings.csv").unlink(missing_ok=True)  # one file per table: never leave a stale twin
            put(out / "ratings.csv.gz", _gzip_bytes(data))
        elif name == "ratings":
            (out / "ratings.csv.gz").unlink(missing_ok=True)
            put(out / "ratings.csv", data)
        else:
            put(out / f"{name}.csv", data)
    put(out / "truth" / "unit_quality.csv", _csv_bytes(sim.truth["unit_quality"]))
    put(out / "truth" / "rater_effects.csv", _csv_bytes(sim.truth["rater_effects"]))
    planted = json.dumps(_json_ready(sim.truth["planted"]), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    put(out / "truth" / "planted.json", planted.encode("utf-8"))
    marker = {
        "simulated": True,
        "generator": "perflab simulate",
        "seed": sim.truth["planted"].get("seed"),
        "note": "Simulated demo data with planted effects: the unit names are real, the scores are not.",
    }
    put(out / SIMULATED_MARKER, (json.dumps(_json_ready(marker), sort_keys=True, indent=2) + "\n").encode("utf-8"))
    return written
