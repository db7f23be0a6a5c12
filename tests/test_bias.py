"""Rater effects: the MFRM satisfies the JML equations on Guilford's data and recovers planted severities;
flag_raters finds planted effects at a stated false-positive rate; drift, impact and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from perflab import bias, simulate
from perflab.errors import DataError

REF = Path("/work/shared/reference")
FRESH_SEEDS = (11, 12)  # not the bundled demo's seed


# ---------------------------------------------------------------------------
# MFRM
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guilford():
    g = pd.read_csv(REF / "guilford1954_creativity_long.csv")
    return bias.mfrm(g, unit="examinee_name", rater="judge_name", item="trait_name", score="rating")


def test_guilford_observed_totals_equal_expected_for_every_element(guilford):
    assert guilford.converged
    for table, n in ((guilford.units, 7), (guilford.raters, 3), (guilford.items, 5)):
        assert len(table) == n
        assert np.all(np.abs(table["observed"] - table["expected"]) < 0.01)


def test_guilford_judge_mean_ratings(guilford):
    means = guilford.raters["mean_score"].round(3)
    assert means.to_dict() == {"Avogadro": 4.886, "Brahe": 4.457, "Cavendish": 5.171}
    # the judge with the lowest mean is the most severe
    assert guilford.raters["measure"].idxmax() == "Brahe" and guilford.raters["measure"].idxmin() == "Cavendish"
    assert guilford.raters["measure"].mean() == pytest.approx(0.0, abs=1e-9)
    assert guilford.thresholds["threshold"].iloc[1:].sum() == pytest.approx(0.0, abs=1e-9)


def test_guilford_fair_average_orders_examinees_like_their_measures(guilford):
    u = guilford.units
    assert (u["fair_average"].rank() == u["measure"].rank()).all()
    assert u["fair_average"].between(1, 9).all()
    assert set(guilford.summary()["facet"]) == {"units", "raters", "items"}


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_mfrm_solution_satisfies_the_likelihood_equations_on_random_designs(seed):
    rng = np.random.default_rng(seed)
    nu, nr, ni = 12, 6, 3
    rows = [(u, r, i) for u in range(nu) for r in rng.choice(nr, 3, replace=False) for i in range(ni)]
    d = pd.DataFrame(rows, columns=["unit", "rater", "indicator"])
    eta = rng.normal(0, 1, nu)[d["unit"]] - rng.normal(0, 0.7, nr)[d["rater"]]
    d["score"] = np.clip(np.rint(2 + eta + rng.normal(0, 0.8, len(d))), 0, 4).astype(int)
    fit = bias.mfrm(d, score="score")
    for t in (fit.units, fit.raters, fit.items):
        ok = ~t["extreme"]
        assert np.all(np.abs(t["observed"] - t["expected"])[ok] < 0.01)


def test_mfrm_rater_measures_track_planted_severity(scheme):
    """Severe = higher measure, as the planted severity_points (positive = harsher)."""
    for seed in (3, 4):
        sim = simulate.simulate(scheme, seed)
        fit = bias.mfrm(sim.tables["ratings"], scheme=scheme)
        truth = sim.truth["rater_effects"].set_index("rater")["severity_points"]
        r = np.corrcoef(fit.raters["measure"].reindex(truth.index), truth)[0, 1]
        assert r >= 0.95, (seed, r)


def test_fair_average_beats_raw_means_on_a_sparse_design():
    """Units differ little, raters a lot, each rater sees a different subset: fair averages rank better."""
    rng = np.random.default_rng(42)
    n_u, n_r, n_i, per = 60, 80, 4, 8
    quality = rng.normal(0, 0.4, n_u)
    severity = rng.normal(0, 1.5, n_r)
    rows = [(u, r) for r in range(n_r) for u in rng.choice(n_u, per, replace=False)]
    pairs = pd.DataFrame(rows, columns=["unit", "rater"])
    d = pairs.loc[pairs.index.repeat(n_i)].reset_index(drop=True)
    d["indicator"] = np.tile(np.arange(n_i), len(pairs))
    eta = quality[d["unit"]] - severity[d["rater"]]
    tau = np.array([-2.0, -0.7, 0.7, 2.0])
    psi = np.concatenate([[0.0], np.cumsum(tau)])
    P = np.exp(np.outer(eta, np.arange(5)) - psi)
    P /= P.sum(axis=1, keepdims=True)
    d["score"] = (P.cumsum(axis=1) > rng.random(len(d))[:, None]).argmax(axis=1)
    fit = bias.mfrm(d, score="score")
    raw = d.groupby("unit")["score"].mean()
    tau_fair = kendalltau(fit.fair_average.reindex(raw.index), quality[raw.index])[0]
    tau_raw = kendalltau(raw, quality[raw.index])[0]
    assert tau_fair > tau_raw + 0.15, (tau_fair, tau_raw)
    assert np.corrcoef(fit.raters["measure"].reindex(range(n_r)), severity)[0, 1] > 0.9


def test_mfrm_bad_input():
    d = pd.DataFrame({"unit": ["a", "b", "c", "d"], "rater": ["r1", "r1", "r2", "r2"], "indicator": "i", "score": [1, 2, 1, 2]})
    with pytest.raises(DataError, match="disconnected subsets"):
        bias.mfrm(d, score="score")
    with pytest.raises(DataError, match="one category"):
        bias.mfrm(d.assign(score=1), score="score")
    with pytest.raises(DataError, match="whole-number categories"):
        bias.mfrm(d.assign(score=[1.5, 2, 1, 2]), score="score")
    single = pd.DataFrame({"unit": np.repeat(list("abcde"), 3), "rater": "r1", "indicator": list("xyz") * 5,
                           "score": [1, 2, 3, 2, 2, 3, 1, 1, 2, 3, 4, 3, 2, 3, 2]})
    fit = bias.mfrm(single, score="score")  # a single rater: stated result, its measure is the origin
    assert fit.raters["measure"].tolist() == [0.0]


# ---------------------------------------------------------------------------
# flags on fresh simulated data
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flagged(scheme):
    out = []
    for seed in FRESH_SEEDS:
        sim = simulate.simulate(scheme, seed)
        f = bias.flag_raters(sim.tables["ratings"], sim.tables["raters"], scheme=scheme, rng=np.random.default_rng(seed))
        truth = sim.truth["rater_effects"].set_index("rater").reindex(f["rater"])
        out.append((sim, f.set_index("rater"), truth))
    return out


@pytest.mark.parametrize("flag, planted, recall", [
    ("lenient", "lenient", 0.9), ("severe", "severe", 0.9), ("halo", "halo", 0.9),
    ("central", "central", 0.8), ("bloc", "bloc", 0.8),
])
def test_planted_effects_are_found(flagged, flag, planted, recall):
    hits = sum(int(f[flag][t[planted]].sum()) for _, f, t in flagged)
    total = sum(int(t[planted].sum()) for _, _, t in flagged)
    assert total > 0 and hits / total >= recall, (flag, hits, total)


def test_favouritism_measures_the_planted_bonus_and_finds_most_favourers(flagged):
    """A ~14-point bonus on one unit against a rater's unit-to-unit spread of ~2.7 points: the estimated bonus is
    unbiased (pooled over seeds) and the flags find the favourers (a home unit near 100 leaves the bonus no room)."""
    err, hits, total = [], 0, 0
    for sim, f, _ in flagged:
        pl = pd.DataFrame(sim.truth["planted"]["favouring"]).set_index("rater")
        r = sim.tables["ratings"]
        capped = r[r["rater"].isin(pl.index)].merge(pl, left_on=["rater", "unit"], right_on=["rater", "home_unit"])
        room = ~capped.groupby("rater")["score"].max().ge(100).reindex(pl.index, fill_value=False)
        err += list((f.loc[pl.index[room], "favour_points"] - pl.loc[room, "bonus"]).to_numpy())
        hits += int(f.loc[pl.index, "favouritism"].sum())
        total += len(pl)
        assert (f.loc[pl.index, "favour_t"] > 0).all()
    assert abs(np.mean(err)) < 2.5, err  # se of the pooled mean ≈ 0.7 points
    assert hits / total >= 0.85, (hits, total)


def test_clean_raters_are_rarely_flagged_even_when_they_attend_one_session(flagged):
    kinds = ["lenient", "severe", "halo", "central", "favours_home", "bloc"]
    for sim, f, t in flagged:
        clean = ~t[kinds].any(axis=1)
        assert f.loc[clean, "any_flag"].mean() <= 0.05
        one_session = f.index.isin(list(sim.truth["planted"]["grassroots_sessions"]))
        assert f.loc[clean & one_session, "any_flag"].mean() <= 0.05


def test_each_flag_states_its_rule_and_false_positive_rate(flagged):
    _, f, _ = flagged[0]
    rules = f.attrs["rules"]
    assert list(rules["flag"]) == ["lenient / severe", "halo", "central", "favouritism", "bloc", "misfit"]
    assert rules["false_positive_rate"].sum() <= 0.05 + 1e-12


def test_bloc_members_share_one_bloc(flagged):
    for _, f, t in flagged:
        ids = f.loc[t["bloc"] & f["bloc"], "bloc_id"].dropna().unique()
        assert len(ids) == 1


def test_flags_are_deterministic_for_a_seeded_rng(scheme):
    sim = simulate.simulate(scheme, 21)
    r = sim.tables["ratings"]
    r = r[r["rater"].isin(sim.tables["raters"]["rater"].iloc[:60])]
    a = bias.flag_raters(r, sim.tables["raters"], scheme=scheme, n_perm=9, rng=np.random.default_rng(1))
    b = bias.flag_raters(r, sim.tables["raters"], scheme=scheme, n_perm=9, rng=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, b)


def test_session_drift_is_found_with_the_planted_sign_and_size(flagged):
    """The evening session's planted fatigue (−5 points, about −3.3 against the mean of the sessions) is found:
    p < 0.05 for the session and for the joint F test, the right sign, and an interval that covers the planted size.
    (A drift common to all raters is confounded with the quality of that session's units: see session_drift.)"""
    for sim, _, _ in flagged:
        tests = bias.session_drift(sim.tables["ratings"]).tests.set_index("term")
        planted = sim.truth["planted"]["drift_model"]["session"]
        shift = sim.truth["planted"]["drift"]
        size = shift[str(planted)] - np.mean(list(shift.values()))
        row = tests.loc[f"session {planted} vs mean of sessions"]
        assert row["estimate"] < 0 and row["p_value"] < 0.05, row
        assert tests.loc["session (joint F)", "p_value"] < 0.05
        assert row["ci95_low"] < size < row["ci95_high"], (row, size)
        others = [s for s in (1, 2, 3) if s != planted]
        assert all(tests.loc[f"session {s} vs mean of sessions", "estimate"] > row["estimate"] for s in others)


# ---------------------------------------------------------------------------
# impact and bad input
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(scheme):
    from perflab.io import load_dataset

    from conftest import DEMO_DIR

    return load_dataset(DEMO_DIR, scheme)


def test_impact_ranks_raw_fair_and_without_flagged_raters(demo, scheme):
    from perflab import scoring

    fit = bias.mfrm(demo.ratings, scheme=scheme)
    flags = bias.flag_raters(demo.ratings, demo.raters, scheme=scheme, fit=fit, n_perm=19)
    imp = bias.impact(demo, scheme, flags=flags, fit=fit)
    assert len(imp) == len(demo.units)
    onsite = scoring.onsite_scores(demo, scheme)
    assert np.allclose(imp.set_index("unit")["onsite"].reindex(onsite.index), onsite)
    presented = imp["onsite"].notna()
    for kind, sub in imp[presented].groupby("kind"):
        assert sorted(sub["rank_raw"]) == list(range(1, len(sub) + 1))
        fair = sub["rank_fair"].dropna()
        assert len(fair) == len(sub) and sorted(fair) == list(range(1, len(sub) + 1))
        assert (sub["fair_average"].rank(ascending=False, method="min") == sub["rank_fair"]).all()
    assert imp.loc[~presented, "rank_raw"].isna().all()
    excluded = set(imp.attrs["excluded_raters"])
    assert excluded == set(flags.loc[flags["any_flag"], "rater"])
    moved = (imp["rank_raw"] != imp["rank_fair"]).fillna(False) | (imp["rank_raw"] != imp["rank_excluded"]).fillna(False)
    assert (imp.loc[moved, "changed"]).all()


def test_bad_input_gets_one_clear_error(demo, scheme):
    raters = demo.raters.copy()
    raters.loc[raters.index[0], "group"] = None
    with pytest.raises(DataError, match=f"rater '{raters['rater'].iloc[0]}' has no group"):
        bias.flag_raters(demo.ratings, raters, scheme=scheme)
    ratings = demo.ratings.copy()
    ratings.loc[ratings.index[0], "unit"] = "X99"
    import dataclasses

    with pytest.raises(DataError, match="unit 'X99' is not in the units table"):
        bias.impact(dataclasses.replace(demo, ratings=ratings), scheme)
    one = demo.ratings[demo.ratings["rater"] == demo.ratings["rater"].iloc[0]]
    with pytest.raises(DataError, match="at least 3 raters"):
        bias.flag_raters(one, demo.raters, scheme=scheme)
    with pytest.raises(DataError, match="rater 'ghost' is not in the raters table"):
        bias.flag_raters(demo.ratings.assign(rater="ghost"), demo.raters, scheme=scheme)
    with pytest.raises(DataError, match="one session"):
        bias.session_drift(demo.ratings.assign(session=1))


# ---------------------------------------------------------------------------
# review defects: straight-lining, a whole-group bloc, raters with few units
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doctored(scheme):
    """Seed 77 with a clean expert straight-lining (one score per unit), a clean expert giving 85 to everything,
    all 8 media raters sharing a per-unit effect (sd 5) and three clean grassroots raters cut to 2 units,
    1 unit and 1 rating."""
    sim = simulate.simulate(scheme, 77)
    r = sim.tables["ratings"].copy()
    raters = sim.tables["raters"]
    eff = sim.truth["rater_effects"].set_index("rater")
    clean = eff.index[~eff[["lenient", "severe", "halo", "central", "favours_home", "bloc"]].any(axis=1)]
    experts = [x for x in clean if eff.loc[x, "group"] == "experts"]
    grass = [x for x in clean if eff.loc[x, "group"] == "grassroots"][:3]
    straight, constant = experts[0], experts[1]
    m = r["rater"] == straight
    r.loc[m, "score"] = r[m].groupby("unit")["score"].transform("mean").round().astype(int)
    r.loc[r["rater"] == constant, "score"] = 85
    shared = pd.Series(np.random.default_rng(5).normal(0, 5, r["unit"].nunique()), index=sorted(r["unit"].unique()))
    media = list(raters.loc[raters["group"] == "media", "rater"])
    mm = r["rater"].isin(media)
    r.loc[mm, "score"] = np.clip(np.rint(r.loc[mm, "score"] + r.loc[mm, "unit"].map(shared)), 0, 100).astype(int)
    units = {x: r.loc[r["rater"] == x, "unit"].unique() for x in grass}
    drop = (r["rater"] == grass[0]) & ~r["unit"].isin(units[grass[0]][:2])
    drop |= (r["rater"] == grass[1]) & ~r["unit"].isin(units[grass[1]][:1])
    drop |= (r["rater"] == grass[2]) & ~((r["unit"] == units[grass[2]][0]) & (r["indicator"] == r["indicator"].iloc[0]))
    r = r[~drop].assign(grade=lambda d: scheme.grade_of(d["score"].to_numpy()))
    f = bias.flag_raters(r, raters, scheme=scheme, rng=np.random.default_rng(77)).set_index("rater")
    return f, {"straight": straight, "constant": constant, "media": media, "few": grass, "clean": clean}


def test_a_perfect_halo_and_one_score_for_everything_are_flagged_halo(doctored):
    f, who = doctored
    for rid in (who["straight"], who["constant"]):
        assert np.isfinite(f.loc[rid, "halo_z"]) and f.loc[rid, "halo"], f.loc[rid]
    assert f.loc[who["constant"], "central"]


def test_a_bloc_covering_a_whole_group_is_found(doctored):
    f, who = doctored
    assert f.loc[who["media"], "bloc"].all()
    assert f.loc[who["media"], "bloc_id"].nunique() == 1
    others = f.index.isin(who["clean"]) & ~f.index.isin(who["media"] + [who["straight"], who["constant"]] + who["few"])
    assert not f.loc[others, "bloc"].any()


def test_raters_with_too_few_units_or_ratings_are_not_tested(doctored):
    f, who = doctored
    few = f.loc[who["few"]]
    assert list(few["n_units"]) == [2, 1, 1]
    for col in ("severity_z", "halo_z", "central_z", "misfit_z"):
        assert few[col].isna().all(), col
    assert not few["any_flag"].any()
    assert (f.loc[f["n_units"] >= bias.MIN_UNITS, "severity_z"].notna()).all()
    rules = f.attrs["rules"]
    assert "minimum" in rules.columns and rules["minimum"].notna().all()
