"""Scoring: hand-computed known answers on the tiny data set, ranking rules, and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_scheme, tiny_tables
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.io import dataset_from_tables
from perflab.scoring import group_scores, rank_desc, routine_scores, score_units

INDICATORS = [
    "rectification",
    "main_indicators",
    "key_tasks",
    "law_based_admin",
    "clean_admin",
    "innovation",
    "service",
]
WEIGHTS = np.array([10, 25, 25, 10, 10, 10, 10], dtype=float)


def tiny(scheme, **edits):
    t = tiny_tables()
    for name, df in edits.items():
        t[name] = df
    return dataset_from_tables(t, scheme)


def test_onsite_score_combines_groups_by_share_and_indicators_by_weight(scheme_dict):
    scheme_dict["aggregation"] = {"method": "mean"}
    s = make_scheme(scheme_dict)
    t = tiny_tables()
    t["ratings"].loc[t["ratings"]["rater"] == "R4", "score"] += 2  # grassroots mean now 1 point above city leaders'
    scores = score_units(dataset_from_tables(t, s), s).set_index("unit")
    # by hand: D01 city leaders' mean 91 (+1 on odd indicators), grassroots 92 (+1 on odd indicators)
    city, grass = 0.20, 0.25  # shares of the two groups present, rescaled over them
    per_ind = (city * 91 + grass * 92) / (city + grass) + np.array([k % 2 for k in range(7)])
    expected = (WEIGHTS * per_ind).sum() / WEIGHTS.sum()
    assert scores.loc["D01", "onsite"] == pytest.approx(expected, abs=1e-12)
    assert scores.loc["D02", "onsite"] == pytest.approx(expected - 10, abs=1e-12)


def test_trimmed_mean_drops_highest_and_lowest_within_each_group(scheme_dict):
    s = make_scheme(scheme_dict)  # trim 1
    t = tiny_tables()
    extra = t["ratings"][t["ratings"]["rater"] == "R3"].assign(rater="R5", score=lambda d: d["score"] + 30)
    t["ratings"] = pd.concat([t["ratings"], extra.assign(score=lambda d: d["score"].clip(upper=100))])
    t["raters"] = pd.concat([t["raters"], pd.DataFrame({"rater": ["R5"], "group": ["grassroots"], "home_unit": [""]})])
    gs = group_scores(dataset_from_tables(t, s), s).set_index(["unit", "indicator", "group"])
    # grassroots on D01 rectification: R3 86, R4 96, R5 100 -> trimming one each side leaves R4's 96
    assert gs.loc[("D01", "rectification", "grassroots"), "score"] == 96
    assert gs.loc[("D01", "rectification", "grassroots"), "n_raters"] == 3
    # city leaders have only two raters: too few to trim, the median (= mean of two) is used
    assert gs.loc[("D01", "rectification", "city_leaders"), "score"] == 91


def test_routine_score_by_hand(scheme):
    rt = routine_scores(tiny(scheme), scheme)
    # D01: gdp 7/7 -> 100, pm25 lower is better 60/80 -> 75; mean 87.5; satisfaction 78; one failed claim
    assert rt.loc["D01", "attainment"] == pytest.approx(87.5)
    assert rt.loc["D01", "routine"] == pytest.approx(0.8 * 87.5 + 0.2 * 78 - 2.0)
    assert rt.loc["D01", "failed_verifications"] == 1
    # D02: 6 / 6.5 of target
    assert rt.loc["D02", "routine"] == pytest.approx(0.8 * 100 * 6 / 6.5 + 0.2 * 82)
    # M01: lower is better and over-achieved (10 days against 12): capped at 100
    assert rt.loc["M01", "attainment"] == pytest.approx(100.0)


def test_lower_is_better_measure_is_scored_the_right_way_round(scheme):
    t = tiny_tables()
    h = t["history"]
    h.loc[(h["unit"] == "D01") & (h["measure"] == "pm25"), "value"] = 50.0  # better than the target 60
    better = routine_scores(dataset_from_tables(t, scheme), scheme).loc["D01", "attainment"]
    worse = routine_scores(tiny(scheme), scheme).loc["D01", "attainment"]
    assert better > worse


def test_unit_without_onsite_scores_gets_its_kinds_mean_onsite_score(scheme):
    assert scheme.missing_components == "impute_mean"
    scores = score_units(tiny(scheme), scheme).set_index("unit")
    assert np.isnan(scores.loc["M02", "onsite"])  # the table still shows it has none
    m2 = scores.loc["M02"]
    # only one other department (M01) has an on-site score: its score is the mean
    assert m2["final"] == pytest.approx(0.6 * scores.loc["M01", "onsite"] + 0.4 * m2["routine"])
    assert m2["imputed"] == "onsite" and scores.loc["M01", "imputed"] == ""
    d = scores.loc["D01"]
    assert d["final"] == pytest.approx(0.6 * d["onsite"] + 0.4 * d["routine"])


def test_renormalise_scores_a_unit_on_the_components_it_has(scheme_dict):
    scheme_dict["missing_components"] = "renormalise"
    s = make_scheme(scheme_dict)
    scores = score_units(tiny(s), s).set_index("unit")
    assert scores.loc["M02", "final"] == pytest.approx(scores.loc["M02", "routine"])


def test_missing_components_error_policy(scheme_dict):
    from perflab.errors import DataError

    scheme_dict["missing_components"] = "error"
    s = make_scheme(scheme_dict)
    with pytest.raises(DataError, match="M02 has no onsite score"):
        score_units(tiny(s), s)


def test_ranks_are_within_kind_and_zone(scheme):
    scores = score_units(tiny(scheme), scheme).set_index("unit")
    assert sorted(scores.loc[scores["kind"] == "district", "rank"]) == [1, 2]
    assert sorted(scores.loc[scores["kind"] == "department", "rank"]) == [1, 2]
    assert scores.loc["D01", "rank"] == 1 and scores.loc["M02", "rank"] == 1
    assert (scores.loc[["D01", "D02"], "zone_rank"] == 1).all()  # each alone in its zone
    assert scores.loc["M02", "zone_rank"] == 1 and scores.loc["M01", "zone_rank"] == 2


def test_ranking_all_together_only_when_the_scheme_asks(scheme_dict):
    scheme_dict["ranking"] = {"within": "all", "zone": False}
    s = make_scheme(scheme_dict)
    scores = score_units(tiny(s), s)
    assert sorted(scores["rank"]) == [1, 2, 3, 4]
    assert scores["zone_rank"].isna().all()


def test_final_grade_follows_the_bands(scheme):
    scores = score_units(tiny(scheme), scheme)
    for _, row in scores.iterrows():
        band = scheme.band(row["grade"])
        assert band.lower <= row["final"] <= band.upper


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=30))
def test_rank_ties_take_the_lowest_rank(values):
    s = pd.Series(values, dtype=float)
    r = rank_desc(s)
    for v, rank in zip(values, r):
        assert rank == 1 + sum(x > v for x in values)


@settings(max_examples=15, deadline=None)
@given(st.floats(min_value=-20, max_value=20, allow_nan=False))
def test_adding_a_constant_to_every_rating_moves_onsite_scores_by_that_constant(shift):
    from conftest import SCHEME_FILE

    from perflab.scheme import load_scheme

    s = load_scheme(SCHEME_FILE)
    t = tiny_tables()
    base = score_units(dataset_from_tables(t, s), s).set_index("unit")["onsite"]
    t["ratings"]["score"] = (t["ratings"]["score"] + shift).clip(0, 100)
    if not ((tiny_tables()["ratings"]["score"] + shift).between(0, 100)).all():
        return  # clipping would break exact translation
    moved = score_units(dataset_from_tables(t, s), s).set_index("unit")["onsite"]
    np.testing.assert_allclose((moved - base).dropna(), shift, atol=1e-9)


def geometric_scheme(scheme_dict, composite="geometric"):
    scheme_dict["aggregation"] = {"method": "mean"}
    scheme_dict["composite"] = composite
    return make_scheme(scheme_dict)


def test_geometric_composite_combines_indicators_by_a_weighted_geometric_mean_by_hand(scheme_dict):
    s = geometric_scheme(scheme_dict)
    t = tiny_tables()
    r = t["ratings"]
    r.loc[(r["unit"] == "D01") & (r["indicator"] == "main_indicators"), "score"] = 40  # one weak indicator
    scores = score_units(dataset_from_tables(t, s), s).set_index("unit")
    # by hand: D01's indicators are 91 (even positions) and 92 (odd), main_indicators 40; weights 10,25,25,10,...
    # weight shares: 91 on 0.55, 40 on 0.25, 92 on 0.20
    expected = 91**0.55 * 40**0.25 * 92**0.20
    assert scores.loc["D01", "onsite"] == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(74.2584, abs=1e-4)  # the arithmetic mean would be 78.45: no full compensation
    # components still combine by the weighted arithmetic mean
    d = scores.loc["D01"]
    assert d["final"] == pytest.approx(0.6 * d["onsite"] + 0.4 * d["routine"], abs=1e-9)
    # equal indicator scores: the geometric and the arithmetic mean agree (D02: 81 and 82 alternate)
    assert scores.loc["D02", "onsite"] == pytest.approx(81**0.55 * 82**0.45, abs=1e-9)


def test_the_arithmetic_composite_is_the_default_and_gives_the_same_scores(scheme_dict):
    explicit = geometric_scheme(scheme_dict, "arithmetic")
    del scheme_dict["composite"]
    default = make_scheme(scheme_dict)
    assert default.composite == "arithmetic"
    a, b = score_units(tiny(default), default), score_units(tiny(explicit), explicit)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    d = a.set_index("unit").loc["D01"]
    assert d["onsite"] == pytest.approx((WEIGHTS * (91 + np.arange(7) % 2)).sum() / WEIGHTS.sum(), abs=1e-12)


def test_the_fast_path_and_onsite_scores_agree_under_the_geometric_composite(scheme_dict):
    from perflab.scoring import Scorer, contributions, onsite_scores

    s = geometric_scheme(scheme_dict)
    ds = tiny(s)
    fast = score_units(ds, s).set_index("unit")["onsite"].dropna()
    slow = onsite_scores(ds, s)
    np.testing.assert_allclose(fast.loc[slow.index], slow, rtol=0, atol=1e-12)
    a = Scorer(ds).arrays(s)
    np.testing.assert_allclose(np.nansum(contributions(a, s), axis=1), np.nan_to_num(a.final), atol=1e-9)
