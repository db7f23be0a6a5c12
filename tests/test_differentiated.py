"""Differentiated evaluation: own baselines, own targets, zone-relative scores, zone weights, the composite."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR, SCHEME_FILE, make_scheme
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.differentiated import evaluate, own_baseline, target_attainment, vet_targets, zone_relative
from perflab.errors import DataError
from perflab.io import dataset_from_tables, load_dataset, validate_panel
from perflab.scheme import load_scheme
from perflab.scoring import rank_desc
from perflab.simulate import simulate

UP = {"x": "higher"}


def panel(rows: dict[str, list[float]], start: int = 2012, measure: str = "x") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"unit": u, "measure": measure, "year": start + k, "value": v}
            for u, vals in rows.items()
            for k, v in enumerate(vals)
        ]
    )


# --- own baseline ---------------------------------------------------------------------------


@pytest.mark.parametrize("method, years", [("mean", 3), ("trend", 4), ("zscore", 4)])
def test_worst_in_level_but_most_improved_ranks_first_on_improvement(method, years):
    h = panel({"A": [1, 2, 1, 2, 12], "B": [50, 51, 50, 51, 52], "C": [90, 89, 90, 89, 90]})
    b = own_baseline(h, method, years, directions=UP)
    last = b[b["year"] == 2016].set_index("unit")
    assert last["value"].idxmin() == "A"  # worst in level
    ranks = rank_desc(last["improvement"])
    assert ranks["A"] == 1


def test_mean_baseline_by_hand():
    b = own_baseline(panel({"A": [10, 20, 30, 70]}), "mean", 3, directions=UP).set_index("year")
    assert b.loc[2015, "baseline"] == 20 and b.loc[2015, "change"] == 50 and b.loc[2015, "n_years"] == 3
    assert b.loc[2014, "baseline"] == 15 and b.loc[2014, "n_years"] == 2  # what there is of the window
    assert np.isnan(b.loc[2012, "change"]) and b.loc[2012, "source"] == "none"


def test_zscore_is_the_change_in_units_of_the_own_year_to_year_variability():
    b = own_baseline(panel({"A": [10, 12, 11, 13, 19]}), "zscore", 4, directions=UP).set_index("year")
    diffs = np.diff([10, 12, 11, 13])
    assert b.loc[2016, "baseline"] == 13
    assert b.loc[2016, "change"] == pytest.approx((19 - 13) / np.std(diffs, ddof=1))


@settings(max_examples=60, deadline=None)
@given(st.floats(-50, 50), st.floats(-5, 5), st.integers(2, 6))
def test_trend_gives_zero_change_on_a_perfect_straight_line(intercept, slope, years):
    h = panel({"A": [intercept + slope * k for k in range(8)]})
    b = own_baseline(h, "trend", years, directions=UP)
    enough = b[b["n_years"] >= 2]
    assert len(enough) >= 5
    np.testing.assert_allclose(enough["change"], 0.0, atol=1e-7 * (1 + abs(intercept) + abs(slope)))


def test_lower_is_better_is_turned_the_right_way_round():
    h = pd.concat([panel({"A": [90, 85, 80, 70]}, measure="pm25"), panel({"A": [5, 5, 5, 8]}, measure="gdp")])
    b = own_baseline(h, "mean", 3, directions={"pm25": "lower", "gdp": "higher"})
    last = b[b["year"] == 2015].set_index("measure")
    assert last.loc["pm25", "change"] < 0 < last.loc["pm25", "improvement"]  # pollution fell: better
    assert last.loc["gdp", "improvement"] > 0
    h2 = h.assign(target=[np.nan, 88, 82, 75, np.nan, 5, 6, 7])
    s = make_scheme(_panel_scheme({"pm25": "lower", "gdp": "higher"}))
    att = target_attainment(h2, s).set_index(["measure", "year"])
    assert att.loc[("pm25", 2015), "score"] == 100  # 70 is better than the target 75: capped at 100
    assert att.loc[("pm25", 2013), "ratio"] == pytest.approx(88 / 85)
    assert att.loc[("gdp", 2014), "score"] == pytest.approx(100 * 5 / 6)


def test_too_few_years_follows_the_policy():
    units = pd.DataFrame({"unit": ["A", "B", "C"], "zone": ["z", "z", "z"]})
    h = pd.concat([panel({"A": [10, 11, 12, 13], "B": [20, 22, 24, 26]}), panel({"C": [30, 33]}, start=2014)])
    missing = own_baseline(h, "trend", 3, directions=UP, too_few_years="missing").set_index(["unit", "year"])
    assert np.isnan(missing.loc[("C", 2015), "change"]) and missing.loc[("C", 2015), "source"] == "none"
    assert (missing["too_few_years"] == "missing").all()  # the policy is stated in the output
    zone = own_baseline(h, "trend", 3, directions=UP, too_few_years="zone", units=units).set_index(["unit", "year"])
    # the zone's mean series over 2012-2014 is (15, 16.5, 22) [C joins in 2014]: its trend at 2015
    zx = np.array([2012, 2013, 2014.0])
    zy = np.array([15, 16.5, (12 + 24 + 30) / 3])
    fit = np.polyfit(zx, zy, 1)
    assert zone.loc[("C", 2015), "source"] == "zone"
    assert zone.loc[("C", 2015), "baseline"] == pytest.approx(np.polyval(fit, 2015))
    assert zone.loc[("A", 2015), "source"] == "own" and zone.loc[("A", 2015), "change"] == pytest.approx(0)
    # error: a unit short of years the panel has (C joined in 2014); the panel's own first years are never an error
    with pytest.raises(
        DataError, match=r"unit C, measure x, year 2014: 0 previous year\(s\) of its own, the trend baseline needs 2"
    ):
        own_baseline(h, "trend", 3, directions=UP, too_few_years="error")
    full = own_baseline(h[h["unit"] != "C"], "trend", 3, directions=UP, too_few_years="error")
    assert (full.loc[full["year"] <= 2013, "source"] == "none").all() and (
        full.loc[full["year"] >= 2014, "source"] == "own"
    ).all()


def test_a_gap_year_shortens_the_window_instead_of_shifting_it():
    h = panel({"A": [10, 20, 30, 40, 50]}).query("year != 2014")
    b = own_baseline(h, "mean", 2, directions=UP).set_index("year")
    assert b.loc[2016, "baseline"] == 40 and b.loc[2016, "n_years"] == 1  # 2014 is missing: only 2015 in the window


@pytest.mark.parametrize(
    "history, kwargs, message",
    [
        (panel({"A": [1, 2, 3]}), {"directions": {}}, "measure 'x' has no direction"),
        (
            panel({"A": [1, 2, 3]}).assign(year=["2012", "2013", "twenty"]),
            {"directions": UP},
            "year 'twenty' is not a whole number",
        ),
        (panel({"A": [1, 2, 3]}), {"directions": {"x": "up"}}, "direction 'up'; it must be higher or lower"),
        (panel({"A": [1, 2, 3]}), {"directions": UP, "too_few_years": "zone"}, "needs the units table"),
    ],
)
def test_bad_panels_get_one_clear_error(history, kwargs, message):
    with pytest.raises((DataError, ValueError), match=message):
        own_baseline(history, "mean", 2, **kwargs)


# --- zone-relative ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 800).map(lambda k: k / 8), min_size=6, max_size=6),  # eighths: shifts stay exact
    st.integers(-8000, 8000).map(lambda k: k / 8),
    st.integers(-8000, 8000).map(lambda k: k / 8),
)
def test_adding_a_constant_to_a_zone_leaves_zone_relative_scores_unchanged(values, c1, c2):
    units = pd.DataFrame({"unit": list("ABCDEF"), "zone": ["p", "p", "p", "q", "q", "q"]})
    t = pd.DataFrame({"unit": list("ABCDEF"), "v": values})
    shifted = t.assign(v=t["v"] + np.where(units["zone"] == "p", c1, c2))
    a, b = zone_relative(t, units, "v"), zone_relative(shifted, units, "v")
    np.testing.assert_allclose(a["zone_z"], b["zone_z"], atol=1e-6)
    np.testing.assert_allclose(a["zone_pct"], b["zone_pct"], atol=1e-9)


def test_zone_relative_by_hand():
    units = pd.DataFrame({"unit": list("ABCD"), "zone": ["p", "p", "p", "q"]})
    r = zone_relative(pd.DataFrame({"unit": list("ABCD"), "v": [1.0, 2.0, 3.0, 7.0]}), units, "v").set_index("unit")
    assert list(r["zone_pct"]) == [0, 50, 100, 50]  # a zone of one sits in the middle
    assert r.loc["A", "zone_z"] == pytest.approx(-1 / np.std([1, 2, 3])) and r.loc["D", "zone_z"] == 0


def test_a_two_unit_zone_with_a_tiny_gap_is_not_standardised_to_plus_minus_one():
    """Below min_zone_size the zone's own sd would make any gap z = ±1: the kind's pooled spread is used instead."""
    units = pd.DataFrame({"unit": list("ABCDEFG"), "zone": ["core"] * 2 + ["wide"] * 5, "kind": "district"})
    t = pd.DataFrame({"unit": list("ABCDEFG"), "v": [1.0, 1.01, 1.0, 2.0, 3.0, 4.0, 5.0]})
    own = zone_relative(t, units, "v").set_index("unit")
    assert own.loc["A", "zone_z"] == pytest.approx(-1.0) and own.loc["B", "zone_z"] == pytest.approx(
        1.0
    )  # today's rule
    r = zone_relative(t, units, "v", min_zone_size=5).set_index("unit")
    pooled = np.sqrt((2 * 0.005**2 + 10.0) / (1 + 4))  # Σ squared deviations from zone means / Σ (n − 1)
    assert r.loc["A", "zone_sd"] == pytest.approx(pooled) and r.loc["A", "spread_from"] == "kind"
    assert r.loc["B", "zone_z"] == pytest.approx(0.005 / pooled) and abs(r.loc["B", "zone_z"]) < 0.01
    # a zone at the minimum keeps its own spread, and the largest |z| no longer depends on zone size alone
    assert (r.loc[list("CDEFG"), "spread_from"] == "zone").all()
    np.testing.assert_allclose(r.loc[list("CDEFG"), "zone_z"], own.loc[list("CDEFG"), "zone_z"])
    # a bigger gap in the small zone gives a bigger z: the gap counts, not only the order
    wide_gap = zone_relative(t.assign(v=[1.0, 3.0, 1.0, 2.0, 3.0, 4.0, 5.0]), units, "v", min_zone_size=5).set_index(
        "unit"
    )
    assert wide_gap.loc["B", "zone_z"] > 5 * r.loc["B", "zone_z"]


def test_pooling_stays_within_the_kind_and_the_by_groups():
    units = pd.DataFrame(
        {
            "unit": list("ABCDEF"),
            "zone": ["s1", "s1", "big", "big", "big", "other"],
            "kind": ["district"] * 5 + ["department"],
        }
    )
    t = pd.DataFrame(
        {"unit": list("ABCDEF") * 2, "m": ["x"] * 6 + ["y"] * 6, "v": [0, 2, 0, 10, 20, 5, 0, 2, 0, 1, 2, 5.0]}
    )
    r = zone_relative(t, units, "v", by=["m"], min_zone_size=3).set_index(["unit", "m"])
    # districts, measure x: zones s1 (0, 2) and big (0, 10, 20): SS = 2 + 200, dof = 1 + 2
    assert r.loc[("A", "x"), "zone_sd"] == pytest.approx(np.sqrt(202 / 3))
    assert r.loc[("A", "y"), "zone_sd"] == pytest.approx(np.sqrt(4 / 3))  # measure y pools apart
    assert r.loc[("F", "x"), "zone_z"] == 0  # a department alone: nothing to pool with, z = 0


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_min_zone_size_must_be_a_whole_number(bad):
    units = pd.DataFrame({"unit": ["A"], "zone": ["z"]})
    with pytest.raises(ValueError, match="min_zone_size"):
        zone_relative(pd.DataFrame({"unit": ["A"], "v": [1.0]}), units, "v", min_zone_size=bad)


def test_the_demo_capital_core_gets_the_pooled_spread(demo):
    s, _, ev = demo
    assert s.differentiated.min_zone_size == 5
    pooled = ev.scores.set_index("unit")["spread_pooled"]
    core = ev.scores.loc[ev.scores["zone"] == "core", "unit"]
    assert pooled[core].all()
    # with its own spread the two core districts would sit at exactly ±1 on every measure they both report
    o = ev.objective[ev.objective["unit"].isin(core)]
    z = o.groupby("measure")["zone_z"].apply(lambda v: sorted(np.round(v, 9)))
    assert not all(v == [-1.0, 1.0] for v in z if len(v) == 2)


# --- target vetting -------------------------------------------------------------------------


def test_vet_targets_flags_repeats_unambitious_targets_and_failed_claims():
    h = pd.DataFrame(
        {
            "unit": ["A"] * 4 + ["B"] * 3,
            "measure": ["firms"] * 4 + ["days"] * 3,
            "year": [2013, 2014, 2015, 2016, 2014, 2015, 2016],
            "value": [30, 35, 40, 42, 10, 9, 8],
            "target": [np.nan, 36, 35, 41, np.nan, 11, 8.5],
        }
    )
    ver = pd.DataFrame(
        {"unit": ["A", "B"], "year": [2016, 2016], "claim": ["关停污染企业 42家", "ok"], "verified": [False, True]}
    )
    flags = vet_targets(h, ver, {"firms": "higher", "days": "lower"})
    got = {(r.unit, r.measure if isinstance(r.measure, str) else None, r.year, r.flag) for r in flags.itertuples()}
    assert got == {
        ("A", "firms", 2015, "repeats_result"),  # 35 was achieved in 2014: "closing" what is closed
        ("B", "days", 2015, "not_ambitious"),  # 11 days when 10 were already reached (lower is better)
        ("A", None, 2016, "failed_verification"),
    }
    assert (
        "repeats the result already achieved in 2014" in flags.loc[flags["flag"] == "repeats_result", "reason"].item()
    )


# --- the demo data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    s = load_scheme(SCHEME_FILE)
    ds = load_dataset(DEMO_DIR, s)
    return s, ds, evaluate(ds, s)


def test_the_planted_repeated_targets_are_flagged(demo):
    _, _, ev = demo
    planted = json.loads((DEMO_DIR / "truth" / "planted.json").read_text(encoding="utf-8"))["repeated_targets"]
    assert planted
    flags = ev.vetting[ev.vetting["flag"] == "repeats_result"]
    found = set(zip(flags["unit"], flags["measure"], flags["year"]))
    for p in planted:
        assert (p["unit"], p["measure"], p["year"]) in found


def test_contributions_add_up_to_both_scores_exactly(demo):
    _, _, ev = demo
    # against the kind's mean: the relative deltas of a unit add up to its score change minus its kind's mean change
    rel = ev.contributions.groupby("unit")["relative_delta"].sum()
    change = ev.scores.set_index("unit")["differentiated"] - ev.scores.set_index("unit")["uniform"]
    kind = ev.scores.set_index("unit")["kind"]
    np.testing.assert_allclose(rel, (change - change.groupby(kind).transform("mean")).loc[rel.index], atol=1e-9)
    sums = ev.contributions.groupby("unit")[["uniform", "differentiated"]].sum()
    s = ev.scores.set_index("unit")
    np.testing.assert_allclose(sums["uniform"], s.loc[sums.index, "uniform"], atol=1e-9)
    np.testing.assert_allclose(sums["differentiated"], s.loc[sums.index, "differentiated"], atol=1e-9)


def test_the_decomposition_needs_no_residual(demo):
    """Every point of both scores is attributed to an item: the residual 'adjustment' item stays at zero."""
    _, _, ev = demo
    adj = ev.contributions[ev.contributions["item"] == "adjustment"]
    assert adj[["uniform", "differentiated"]].abs().max().max() < 1e-9


def test_a_unit_without_its_own_baseline_counts_as_its_zones_average(scheme_dict):
    """No evidence neither lifts nor sinks a unit: a missing improvement part scores 50, the zone's average."""
    scheme_dict["differentiated"]["baseline"]["too_few_years"] = "missing"
    s = make_scheme(scheme_dict)
    ds = load_dataset(DEMO_DIR, s)
    t = {n: getattr(ds, n) for n in ("units", "raters", "ratings", "history", "survey", "verification")}
    h = t["history"]
    t["history"] = h[~((h["unit"] == "M10") & (h["year"] < 2016))]
    ev = evaluate(dataset_from_tables(t, s), s)
    o = ev.objective[ev.objective["unit"] == "M10"]
    assert o["improvement_score"].isna().all() and len(o) == 4
    a = s.differentiated.attainment_share
    np.testing.assert_allclose(o["objective"], a * o["attainment_score"].fillna(50) + (1 - a) * 50)
    full = evaluate(ds, s).scores.set_index("unit")
    cut = ev.scores.set_index("unit")
    assert abs(cut.loc["M10", "rank_differentiated"] - full.loc["M10", "rank_differentiated"]) < 15


def test_uniform_side_is_the_foundation_score(demo):
    from perflab.scoring import score_units

    s, ds, ev = demo
    base = score_units(ds, s).set_index("unit")
    e = ev.scores.set_index("unit")
    np.testing.assert_allclose(e["uniform"], base.loc[e.index, "final"])
    assert (e["rank_uniform"] == base.loc[e.index, "rank"]).all()
    for kind, n in (("district", 16), ("department", 60)):
        assert sorted(e.loc[e["kind"] == kind, "rank_differentiated"]) == list(range(1, n + 1))


def test_demo_ranking_moves_the_way_the_planted_zone_differences_imply(demo):
    """Ecological districts are planted weak on main indicators and strong on service; their zone weighs
    main indicators less and service more, so the differentiated ranking lifts them against the other districts."""
    _, _, ev = demo
    d = ev.scores[ev.scores["kind"] == "district"]
    move = d.groupby("zone")["rank_change"].mean()
    assert move["ecological"] > 0
    assert move["ecological"] == move.max()
    assert (d["rank_change"] != 0).any()
    eco = ev.contributions.merge(d[["unit", "zone"]], on="unit").query("zone == 'ecological'")
    per_item = eco.groupby("item")["delta"].sum()
    assert per_item["main_indicators"] < 0 < per_item["service"]
    assert per_item["service"] + per_item["main_indicators"] > 0  # the net effect of the zone's weights lifts them


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_zone_weights_lift_the_ecological_onsite_scores_on_fresh_seeds(seed):
    s = load_scheme(SCHEME_FILE)
    ev = evaluate(dataset_from_tables(simulate(s, seed).tables, s), s)
    d = ev.scores[ev.scores["kind"] == "district"]
    lift = (d["onsite_differentiated"] - d["onsite_uniform"]).groupby(d["zone"]).mean()
    assert lift["ecological"] > 0 and lift["ecological"] == lift.max()


def test_movers_explain_themselves(demo):
    _, _, ev = demo
    m = ev.movers(5)
    assert len(m) == 5 and (m["rank_change"].abs().diff().dropna() <= 0).all()
    assert m["why"].str.len().gt(0).all()
    top = m.iloc[0]
    why = ev.why(top["unit"])
    assert why["item"].iloc[0] in top["why"]


def test_evaluate_needs_the_differentiated_block(scheme_dict):
    from perflab.errors import SchemeError

    scheme_dict.pop("differentiated")
    s = make_scheme(scheme_dict)
    with pytest.raises(SchemeError, match="no `differentiated` block"):
        evaluate(load_dataset(DEMO_DIR, s), s)


# --- a real public panel: Munnell's US states, 1970-86 --------------------------------------

CENSUS_REGIONS = {
    "northeast": "CT ME MA NH RI VT NJ NY PA",
    "midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "south": "DE FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "west": "AZ CO ID MT NV NM UT WY CA OR WA",
}


def _panel_scheme(directions: dict[str, str], zones=()) -> dict:
    return {
        "name": "panel",
        "indicators": [{"id": "overall", "weight": 1}],
        "bands": [{"grade": "pass", "lower": 0, "upper": 60}, {"grade": "good", "lower": 60, "upper": 100}],
        "groups": [{"id": "all", "share": 1}],
        "aggregation": {"method": "mean"},
        "components": {"onsite": 1, "routine": 0},
        "zones": [{"id": z, "kind": "district"} for z in zones],
        "measures": [{"id": m, "kind": "district", "direction": d} for m, d in directions.items()],
    }


@pytest.mark.parametrize("action", ["flag", "reject", "penalty"])
def test_vetted_targets_follow_the_schemes_rule(scheme_dict, action):
    scheme_dict["differentiated"]["vetting"] = {"action": action, **({"penalty": 15} if action == "penalty" else {})}
    s = make_scheme(scheme_dict)
    ds = load_dataset(DEMO_DIR, s)
    ev = evaluate(ds, s)
    o = ev.objective.set_index(["unit", "measure"])
    flagged = ev.vetting[ev.vetting["flag"].isin(["repeats_result", "not_ambitious"]) & (ev.vetting["year"] == 2016)]
    keys = list(zip(flagged["unit"], flagged["measure"]))
    others = o.drop(index=keys)
    np.testing.assert_allclose(
        others["attainment_vetted"].dropna(), others["attainment"].dropna()
    )  # only vetted targets change
    v = o.loc[keys]
    if action == "flag":
        np.testing.assert_allclose(v["attainment_vetted"], v["attainment"])
        assert (v["vetted"] == "flagged").all()
    elif action == "penalty":
        np.testing.assert_allclose(v["attainment_vetted"], np.clip(v["attainment"] - 15, 0, 100))
    else:  # against the own baseline: value / baseline (capped), as the routine rule
        b = ev.baseline[ev.baseline["year"] == 2016].set_index(["unit", "measure"])
        for (u, m), row in v.iterrows():
            ratio = row_ratio = b.loc[(u, m), "value"] / b.loc[(u, m), "baseline"]
            if s.directions[m] == "lower":
                ratio = 1 / row_ratio
            assert row["attainment_vetted"] == pytest.approx(100 * min(max(ratio, 0), 1)), (u, m)
        assert (v["vetted"] == "reject").all()


def test_the_vetting_rule_is_checked_in_the_scheme(scheme_dict):
    from perflab.errors import SchemeError

    scheme_dict["differentiated"]["vetting"] = {"action": "ignore"}
    with pytest.raises(SchemeError, match="differentiated.vetting.action"):
        make_scheme(scheme_dict)
    scheme_dict["differentiated"]["vetting"] = {"action": "flag", "penalty": 5}
    with pytest.raises(SchemeError, match="only used with action: penalty"):
        make_scheme(scheme_dict)
    scheme_dict["differentiated"].pop("vetting")
    assert make_scheme(scheme_dict).differentiated.vetting == "reject"  # the stated default


def test_a_real_panel_through_the_same_validation_path():
    munnell = pytest.importorskip("linearmodels.datasets.munnell").load()
    region = {st_: z for z, states in CENSUS_REGIONS.items() for st_ in states.split()}
    scheme = make_scheme(_panel_scheme({"gsp": "higher", "unemp": "lower"}, zones=CENSUS_REGIONS))
    units = pd.DataFrame({"unit": sorted(munnell["ST_ABB"].unique())})
    units = units.assign(kind="district", zone=units["unit"].map(region), name_zh=units["unit"], name_en=units["unit"])
    long = munnell.melt(id_vars=["ST_ABB", "YR"], value_vars=["GSP", "UNEMP"], var_name="measure", value_name="value")
    history = pd.DataFrame(
        {
            "unit": long["ST_ABB"],
            "measure": long["measure"].str.lower(),
            "year": long["YR"],
            "value": long["value"],
            "target": np.nan,
        }
    )
    u, h = validate_panel(units, history, scheme)
    assert len(u) == 48 and h["year"].nunique() == 17
    b = own_baseline(h, "mean", 3, directions=scheme, too_few_years="zone", units=u)
    unemp = b[b["measure"] == "unemp"]
    # the 1981-82 recession: in 1982 every state's unemployment is above its own 1979-81 mean (worse)
    assert (unemp.loc[unemp["year"] == 1982, "improvement"] < 0).all()
    # and the 1984 recovery: most states improve on their own 1981-83 mean
    assert (unemp.loc[unemp["year"] == 1984, "improvement"] > 0).mean() > 0.85
    rel = zone_relative(b[(b["year"] == 1986) & (b["measure"] == "gsp")], u, "improvement")
    assert rel.groupby("zone")["zone_z"].mean().abs().max() < 1e-9  # each region is centred on itself
    bad = history.assign(year=history["year"].astype(str).where(history.index != 5, "1975a"))
    with pytest.raises(DataError, match=r"history table, row 7, column year: '1975a' is not a number"):
        validate_panel(units, bad, scheme)


def test_a_geometric_scheme_evaluates_and_its_contributions_still_add_up(scheme_dict):
    from perflab.scoring import score_units

    scheme_dict["composite"] = "geometric"
    s = make_scheme(scheme_dict)
    ds = load_dataset(DEMO_DIR, s)
    ev = evaluate(ds, s)
    base = score_units(ds, s).set_index("unit")
    e = ev.scores.set_index("unit")
    np.testing.assert_allclose(e["uniform"], base.loc[e.index, "final"], atol=1e-9)
    np.testing.assert_allclose(e["onsite_uniform"].dropna(), base.loc[e.index, "onsite"].dropna(), atol=1e-9)
    sums = ev.contributions.groupby("unit")[["uniform", "differentiated"]].sum()
    np.testing.assert_allclose(sums["differentiated"], e.loc[sums.index, "differentiated"], atol=1e-9)
    adj = ev.contributions[ev.contributions["item"] == "adjustment"]
    assert adj[["uniform", "differentiated"]].abs().max().max() < 1e-9  # the parts of a geometric mean add up too
