"""Tests of perflab.simulate: shape of the demo data, determinism, and that the planted effects are there."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perflab.scheme import load_scheme
from perflab.simulate import Simulated, simulate, write_simulated

SCHEME_FILE = Path(__file__).resolve().parents[1] / "params" / "beijing_2016.yaml"

COLUMNS = {
    "units": ["unit", "kind", "zone", "name_zh", "name_en", "presented"],
    "raters": ["rater", "group", "home_unit"],
    "ratings": ["rater", "unit", "indicator", "score", "grade", "session", "order"],
    "history": ["unit", "measure", "year", "value", "target"],
    "survey": ["unit", "year", "satisfaction", "respondents"],
    "verification": ["unit", "year", "claim", "verified"],
    "assessments": ["unit", "indicator", "department", "summary", "opinion", "band"],
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
DISTRICT_NAMES = {
    "Dongcheng": "东城区", "Xicheng": "西城区", "Chaoyang": "朝阳区", "Haidian": "海淀区",
    "Fengtai": "丰台区", "Shijingshan": "石景山区", "Fangshan": "房山区", "Tongzhou": "通州区",
    "Shunyi": "顺义区", "Changping": "昌平区", "Daxing": "大兴区", "Mentougou": "门头沟区",
    "Huairou": "怀柔区", "Pinggu": "平谷区", "Miyun": "密云区", "Yanqing": "延庆区",
}  # fmt: skip
BELOW_AVERAGE = {"Fengtai", "Haidian", "Chaoyang", "Shijingshan", "Tongzhou", "Changping", "Dongcheng"}
OUTPUT_FILES = [
    "units.csv",
    "raters.csv",
    "ratings.csv",
    "history.csv",
    "survey.csv",
    "verification.csv",
    "assessments.csv",
    "truth/unit_quality.csv",
    "truth/rater_effects.csv",
    "truth/planted.json",
    "SIMULATED.json",
]


@pytest.fixture(scope="module")
def scheme():
    return load_scheme(SCHEME_FILE)


@pytest.fixture(scope="module")
def sim(scheme) -> Simulated:
    return simulate(scheme, seed=2016)


@pytest.fixture(scope="module")
def t(sim):
    return sim.tables


@pytest.fixture(scope="module")
def planted(sim):
    return sim.truth["planted"]


@pytest.fixture(scope="module")
def ratings(t):
    """Ratings with the residual from the unit x indicator mean over all raters."""
    r = t["ratings"].copy()
    r["res"] = r["score"] - r.groupby(["unit", "indicator"])["score"].transform("mean")
    return r


# ---------------------------------------------------------------------------
# shape
# ---------------------------------------------------------------------------


def test_tables_and_columns(sim):
    assert dataclasses.is_dataclass(sim)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.tables = {}
    assert list(sim.tables) == list(COLUMNS)
    for name, cols in COLUMNS.items():
        assert list(sim.tables[name].columns) == cols, name
    assert set(sim.truth) == {"unit_quality", "rater_effects", "planted"}


def test_units(t, scheme):
    u = t["units"]
    assert len(u) == 76 and u["unit"].is_unique
    d, m = u[u["kind"] == "district"], u[u["kind"] == "department"]
    assert list(d["unit"]) == [f"D{k:02d}" for k in range(1, 17)]
    assert list(m["unit"]) == [f"M{k:02d}" for k in range(1, 61)]
    assert dict(zip(d["name_en"].str.removesuffix(" District"), d["name_zh"])) == DISTRICT_NAMES
    assert u["name_zh"].is_unique and u["name_en"].is_unique
    zones = {(z.id, z.kind) for z in scheme.zones}
    assert all((z, k) in zones for z, k in zip(u["zone"], u["kind"]))
    assert set(d.loc[d["zone"] == "core", "name_en"]) == {"Dongcheng District", "Xicheng District"}
    assert len(d.loc[d["zone"] == "ecological"]) == 5
    assert m["zone"].value_counts().min() >= 8
    assert set(m["zone"]) == {z.id for z in scheme.zones if z.kind == "department"}
    assert u["presented"].dtype == bool
    assert u["presented"].sum() == 59 and d["presented"].all() and m["presented"].sum() == 43
    assert m.loc[m["name_zh"] == "市发展改革委", "presented"].item()
    assert not m.loc[m["name_zh"] == "中关村管委会", "presented"].item()


def test_raters(t, scheme):
    r, u = t["raters"], t["units"]
    assert len(r) == 220 and list(r["rater"]) == [f"R{k:03d}" for k in range(1, 221)]
    assert r["group"].value_counts().to_dict() == GROUP_SIZES
    assert set(r["group"]) <= set(scheme.group_ids)
    heads = r[r["group"] == "unit_heads"]
    assert heads["home_unit"].notna().all() and heads["home_unit"].is_unique
    assert set(heads["home_unit"]) <= set(u.loc[u["presented"], "unit"])
    assert r.loc[r["group"] != "unit_heads", "home_unit"].isna().all()


def test_ratings_design(t, scheme):
    r, u, raters = t["ratings"], t["units"], t["raters"]
    presented = set(u.loc[u["presented"], "unit"])
    n_ind = len(scheme.indicators)
    assert set(r["unit"]) == presented
    assert not r.duplicated(["rater", "unit", "indicator"]).any()
    assert r["score"].dtype.kind == "i" and r["score"].between(0, 100).all()
    assert (r["grade"].to_numpy() == scheme.grade_of(r["score"])).all()
    # each unit presents once: one session, one order; orders run 1..n within a session
    per_unit = r.groupby("unit")[["session", "order"]].nunique()
    assert (per_unit == 1).all().all()
    slots = r[["unit", "session", "order"]].drop_duplicates()
    assert sorted(slots["session"].unique()) == [1, 2, 3]
    for _s, g in slots.groupby("session"):
        assert sorted(g["order"]) == list(range(1, len(g) + 1))
        assert 15 <= len(g) <= 25
    kinds = slots.merge(u, on="unit").groupby("session")["kind"].agg(set)
    assert kinds[1] == kinds[3] == {"district", "department"}
    # non-grassroots raters score every presented unit on every indicator
    group = r["rater"].map(raters.set_index("rater")["group"])
    other = r[group != "grassroots"]
    assert other["rater"].nunique() == 114
    assert (other.groupby("rater").size() == len(presented) * n_ind).all()
    # each grassroots representative attends exactly one session and scores all of its units
    grass = r[group == "grassroots"]
    assert grass["rater"].nunique() == 106
    assert (grass.groupby("rater")["session"].nunique() == 1).all()
    size = slots.groupby("session").size()
    per_rater = grass.groupby("rater").agg(session=("session", "first"), n=("unit", "size"))
    assert (per_rater["n"] == per_rater["session"].map(size) * n_ind).all()
    assert per_rater["session"].value_counts().between(33, 38).all()
    # unit heads score their own unit too
    heads = raters.dropna(subset=["home_unit"])
    own = r.merge(heads, left_on=["rater", "unit"], right_on=["rater", "home_unit"])
    assert len(own) == len(heads) * n_ind
    # sorted by session, order, rater, indicator (scheme order)
    key = r.assign(ind=r["indicator"].map({i: k for k, i in enumerate(scheme.indicator_ids)}))
    expected = key.sort_values(["session", "order", "rater", "ind"], kind="stable")
    assert (expected.index == r.index).all()


def test_history(t, scheme):
    h, u = t["history"], t["units"]
    assert not h.duplicated(["unit", "measure", "year"]).any()
    years = sorted(h["year"].unique())
    assert len(years) >= 6 and years[-1] == scheme.year and years == list(range(years[0], years[-1] + 1))
    kind = u.set_index("unit")["kind"]
    for unit, g in h.groupby("unit"):
        expected = {m.id for m in scheme.measures if m.kind in (kind[unit], "all")}
        assert set(g["measure"]) == expected
        assert (g.groupby("measure").size() == len(years)).all()
    assert set(h["unit"]) == set(u["unit"])
    assert h["value"].notna().all()
    assert 0.02 < h["target"].isna().mean() < 0.3
    v = h.groupby("measure")["value"]
    assert v.min()["pm25"] > 40 and v.max()["pm25"] < 110
    assert v.min()["approval_days"] > 2 and v.max()["approval_days"] < 30
    assert (v.max()[["online_service_rate", "complaint_resolution", "budget_execution", "green_cover"]] <= 100).all()
    firms = h.loc[h["measure"] == "polluting_firms_closed", "value"]
    assert (firms == firms.round()).all()
    # PM2.5 falls over the years, and the ecological zone is greener than the core
    pm = h[h["measure"] == "pm25"].groupby("year")["value"].mean()
    assert pm.iloc[-1] < pm.iloc[0] - 5
    gc = (
        h[(h["measure"] == "green_cover") & (h["year"] == scheme.year)]
        .merge(u, on="unit")
        .groupby("zone")["value"]
        .mean()
    )
    assert gc["ecological"] > gc["extension"] > gc["core"]


def test_targets_mostly_more_ambitious(t, scheme):
    h = t["history"].sort_values(["unit", "measure", "year"]).copy()
    direction = {m.id: 1.0 if m.direction == "higher" else -1.0 for m in scheme.measures}
    h["prev"] = h.groupby(["unit", "measure"])["value"].shift()
    h = h.dropna(subset=["prev", "target"])
    gain = (h["target"] - h["prev"]) * h["measure"].map(direction)
    assert 0.7 < (gain > 0).mean() < 0.98


def test_repeated_target_planted(t, planted, scheme):
    h = t["history"].set_index(["unit", "measure", "year"])
    reps = planted["repeated_targets"]
    assert reps and any(r["measure"] == "polluting_firms_closed" for r in reps)
    for r in reps:
        assert r["unit"].startswith("D")
        assert (
            h.loc[(r["unit"], r["measure"], r["year"]), "target"]
            == h.loc[(r["unit"], r["measure"], r["year"] - 1), "value"]
        )
    # nowhere else does a target repeat last year's value
    hh = t["history"].sort_values(["unit", "measure", "year"]).copy()
    hh["prev"] = hh.groupby(["unit", "measure"])["value"].shift()
    same = hh[hh["target"] == hh["prev"]]
    assert {(a, b, int(c)) for a, b, c in same[["unit", "measure", "year"]].itertuples(index=False)} == {
        (r["unit"], r["measure"], r["year"]) for r in reps
    }
    # the repeated polluting-firms figure is the previous year's verified claim
    v = t["verification"]
    r = next(r for r in reps if r["measure"] == "polluting_firms_closed")
    claim = f"关停污染企业 {int(r['target'])}家"
    row = v[(v["unit"] == r["unit"]) & (v["year"] == r["year"] - 1) & (v["claim"] == claim)]
    assert len(row) == 1 and row["verified"].item()


def test_survey(t, scheme):
    s = t["survey"].merge(t["units"], on="unit")
    assert not s.duplicated(["unit", "year"]).any()
    cur = s[s["year"] == scheme.year]
    assert len(cur) == 76
    d = cur[cur["kind"] == "district"]
    mean = d["satisfaction"].mean()
    assert abs(mean - 79.73) <= 1
    assert set(d.loc[d["satisfaction"] < mean, "name_en"].str.removesuffix(" District")) == BELOW_AVERAGE
    assert abs(cur.loc[cur["kind"] == "department", "satisfaction"].mean() - 93.9) <= 1.5
    assert s["satisfaction"].between(0, 100).all()
    assert (s["satisfaction"] == s["satisfaction"].round(1)).all()
    assert (s["respondents"] > 0).all()


def test_verification(t, planted, scheme):
    v = t["verification"]
    assert v["verified"].dtype == bool
    assert not v.duplicated(["unit", "year", "claim"]).any()
    assert set(v["year"]) == {scheme.year - 1, scheme.year}
    per = v[v["unit"].str.startswith("D")].groupby(["unit", "year"]).size()
    assert len(per) == 32 and (per >= 3).all()
    assert v["unit"].str.startswith("M").sum() > 20
    false = {(c["unit"], c["year"], c["claim"]) for c in planted["false_claims"]}
    assert len(false) >= 3
    got = {(a, int(b), c) for a, b, c in v.loc[~v["verified"], ["unit", "year", "claim"]].itertuples(index=False)}
    assert got == false


# ---------------------------------------------------------------------------
# truth and planted effects
# ---------------------------------------------------------------------------


def test_truth_tables(sim, t, scheme):
    q = sim.truth["unit_quality"]
    assert list(q.columns) == ["unit", "indicator", "quality"]
    assert len(q) == 76 * len(scheme.indicators) and q["quality"].between(0, 100).all()
    assert abs(q["quality"].mean() - 82) < 2
    e = sim.truth["rater_effects"]
    assert list(e.columns) == [
        "rater", "group", "severity_points", "halo", "central", "favours_home", "bloc", "lenient", "severe",
    ]  # fmt: skip
    assert list(e["rater"]) == list(t["raters"]["rater"])
    flags = e[["halo", "central", "favours_home", "bloc", "lenient", "severe"]]
    assert (flags.sum(axis=1) <= 1).all()  # the effect sets are disjoint
    sizes = flags.sum()
    assert sizes["lenient"] >= 5 and sizes["severe"] >= 5 and sizes["halo"] >= 5 and sizes["central"] >= 4
    assert sizes["favours_home"] >= 6 and 6 <= sizes["bloc"] <= 10
    assert set(e.loc[e["favours_home"], "group"]) == {"unit_heads"}
    assert set(e.loc[e["bloc"], "group"]) <= {"npc_deputies", "cppcc_members"}
    # severity_points is positive for a harsh rater: the severe raters' are large and positive
    assert (e.loc[e["lenient"], "severity_points"] < -4).all() and (e.loc[e["severe"], "severity_points"] > 4).all()


def test_planted_json_consistent(sim, planted):
    e = sim.truth["rater_effects"]
    for key, col in [("lenient", "lenient"), ("severe", "severe"), ("halo", "halo"), ("central", "central")]:
        assert planted[key] == list(e.loc[e[col], "rater"])
    assert [f["rater"] for f in planted["favouring"]] == list(e.loc[e["favours_home"], "rater"])
    assert planted["bloc"]["members"] == list(e.loc[e["bloc"], "rater"])
    assert planted["seed"] == 2016
    assert set(planted["grassroots_term"]) == set(sim.tables["units"]["unit"])
    assert planted["drift"]["2"] < -2 and planted["drift"]["1"] == planted["drift"]["3"] == 0


def test_lenient_above_severe(ratings, planted):
    m = ratings.groupby("rater")["res"].mean()
    assert m[planted["lenient"]].min() > m[planted["severe"]].max()


def test_truth_severity_points_is_positive_for_raters_who_score_lower(sim, ratings, planted):
    """The truth's rater effect is named for its direction: severity_points > 0 = harsher (lower scores)."""
    e = sim.truth["rater_effects"].set_index("rater")["severity_points"]
    m = ratings.groupby("rater")["res"].mean().reindex(e.index)
    assert np.corrcoef(e, m)[0, 1] < -0.9
    assert planted["severe_severity_points"] > 0 > planted["lenient_severity_points"]
    assert m[planted["lenient"]].mean() > 4 and m[planted["severe"]].mean() < -4


def test_halo_small_spread(ratings, planted):
    spread = ratings.groupby(["rater", "unit"])["score"].std().groupby("rater").mean()
    assert spread[planted["halo"]].max() < spread.median() / 2


def test_central_tendency(ratings, planted):
    sd = ratings.groupby("rater")["score"].std()
    assert sd[planted["central"]].max() < sd.median() / 2
    assert (ratings.groupby("rater")["score"].mean()[planted["central"]] - 80).abs().max() < 3


def test_favouritism(ratings, planted):
    gaps = []
    for f in planted["favouring"]:
        mine = ratings[ratings["rater"] == f["rater"]]
        home = mine.loc[mine["unit"] == f["home_unit"], "res"].mean()  # own score minus the panel's mean
        elsewhere = mine.loc[mine["unit"] != f["home_unit"], "res"].mean()
        assert home > 0
        gaps.append(home - elsewhere)
    assert np.mean(gaps) > 6


def test_bloc_residuals_correlate(ratings, planted):
    pu = ratings.groupby(["rater", "unit"])["res"].mean().unstack()
    members = planted["bloc"]["members"]
    c = pu.loc[members].T.corr().to_numpy()
    within = c[np.triu_indices(len(members), 1)].mean()
    others = pu.drop(members).dropna().iloc[:30]  # raters who scored every unit
    c0 = others.T.corr().to_numpy()
    assert within > 0.4 and within > c0[np.triu_indices(len(others), 1)].mean() + 0.3


def test_session_drift(sim, ratings):
    q = sim.truth["unit_quality"]
    r = ratings.merge(q, on=["unit", "indicator"])
    res = (r["score"] - r["quality"]).groupby(r["session"]).mean()
    assert res[2] < res[1] - 1.5 and res[2] < res[3] - 1.5
    # fatigue grows with the order within the evening session
    s2 = r[r["session"] == 2]
    slope = np.polyfit(s2["order"], s2["score"] - s2["quality"], 1)[0]
    assert slope < -0.08


def test_grassroots_direction(t, ratings, planted):
    group = ratings["rater"].map(t["raters"].set_index("rater")["group"])
    um = ratings.groupby([ratings["unit"], group == "grassroots"])["score"].mean().unstack()
    diff = um[True] - um[False]
    term = pd.Series(planted["grassroots_term"])[diff.index]
    assert np.corrcoef(diff, term)[0, 1] > 0.6
    # the term follows satisfaction: negative for the seven districts below the average
    d = t["units"].query("kind == 'district'")
    below = d[d["name_en"].str.removesuffix(" District").isin(BELOW_AVERAGE)]["unit"]
    assert (term[below] < 0).all()


# ---------------------------------------------------------------------------
# determinism and files
# ---------------------------------------------------------------------------


def test_deterministic(scheme, sim):
    again = simulate(scheme, seed=2016)
    for name, df in sim.tables.items():
        pd.testing.assert_frame_equal(df, again.tables[name])
    for name in ("unit_quality", "rater_effects"):
        pd.testing.assert_frame_equal(sim.truth[name], again.truth[name])
    assert sim.truth["planted"] == again.truth["planted"]
    other = simulate(scheme, seed=7)
    assert not sim.tables["ratings"]["score"].equals(other.tables["ratings"]["score"])
    assert other.truth["planted"]["seed"] == 7


def test_does_not_touch_global_random_state(scheme):
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    simulate(scheme, seed=1)
    assert np.random.random() == before


def test_write_byte_identical(sim, scheme, tmp_path):
    a = write_simulated(sim, tmp_path / "a")
    b = write_simulated(simulate(scheme, seed=2016), tmp_path / "b")
    assert [p.relative_to(tmp_path / "a").as_posix() for p in a] == OUTPUT_FILES
    assert [p.relative_to(tmp_path / "b").as_posix() for p in b] == OUTPUT_FILES
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    ga = write_simulated(sim, tmp_path / "ga", gzip_ratings=True)
    gb = write_simulated(sim, tmp_path / "gb", gzip_ratings=True)
    assert (tmp_path / "ga" / "ratings.csv.gz") in ga and not (tmp_path / "ga" / "ratings.csv").exists()
    for pa, pb in zip(ga, gb):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert (
        gzip.decompress((tmp_path / "ga" / "ratings.csv.gz").read_bytes())
        == (tmp_path / "a" / "ratings.csv").read_bytes()
    )


def test_written_format(sim, tmp_path):
    paths = write_simulated(sim, tmp_path)
    for p in paths:
        data = p.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
        data.decode("utf-8")
    units = (tmp_path / "units.csv").read_text(encoding="utf-8").splitlines()
    assert units[0] == "unit,kind,zone,name_zh,name_en,presented"
    assert units[1] == "D01,district,core,东城区,Dongcheng District,true"
    assert sum(line.endswith(",false") for line in units) == 17
    raters = (tmp_path / "raters.csv").read_text(encoding="utf-8").splitlines()
    assert raters[1] == "R001,city_leaders,"
    history = (tmp_path / "history.csv").read_text(encoding="utf-8").splitlines()
    assert any(line.endswith(",") for line in history)  # blank targets
    assert all(len(line.split(",")[3].split(".")[-1]) == 2 for line in history[1:] if ",pm25," in line)
    assert all("." not in line.split(",")[3] for line in history[1:] if ",polluting_firms_closed," in line)
    effects = (tmp_path / "truth" / "rater_effects.csv").read_text(encoding="utf-8")
    assert "true" in effects and "True" not in effects
    # read back: the same tables
    back = pd.read_csv(tmp_path / "ratings.csv", dtype={"rater": str, "unit": str})
    assert (back["score"].to_numpy() == sim.tables["ratings"]["score"].to_numpy()).all()
    sv = pd.read_csv(tmp_path / "survey.csv")
    assert np.allclose(sv["satisfaction"], sim.tables["survey"]["satisfaction"])
    text = (tmp_path / "truth" / "planted.json").read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(sim.truth["planted"]))
    assert sim.truth["planted"]["false_claims"][0]["claim"] in text and "\\u" not in text  # Chinese kept readable
    assert text == json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def test_assessments_cover_every_unit_and_indicator_and_follow_true_quality(t, sim, scheme):
    a = t["assessments"]
    assert len(a) == 76 * 7 and not a.duplicated(["unit", "indicator"]).any()
    assert set(a["band"]) <= set(scheme.grades)
    q = sim.truth["unit_quality"].merge(a, on=["unit", "indicator"])
    centre = {b.grade: b.score for b in scheme.bands}
    # the departments' suggested band tracks the true quality (they see it with some noise)
    assert np.corrcoef(q["quality"], q["band"].map(centre))[0, 1] > 0.7


def test_a_generator_as_seed_continues_its_stream_and_records_no_seed(scheme):
    a = simulate(scheme, seed=np.random.default_rng(5))
    b = simulate(scheme, seed=np.random.default_rng(5))
    for name, table in a.tables.items():
        pd.testing.assert_frame_equal(table, b.tables[name])
    assert a.truth["planted"]["seed"] is None
