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
DEMO_TRUTH = Path(__file__).resolve().parents[1] / "data" / "raw" / "demo" / "truth"
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
    d = pd.DataFrame(
        {"unit": ["a", "b", "c", "d"], "rater": ["r1", "r1", "r2", "r2"], "indicator": "i", "score": [1, 2, 1, 2]}
    )
    with pytest.raises(DataError, match="disconnected subsets"):
        bias.mfrm(d, score="score")
    with pytest.raises(DataError, match="one category"):
        bias.mfrm(d.assign(score=1), score="score")
    with pytest.raises(DataError, match="whole-number categories"):
        bias.mfrm(d.assign(score=[1.5, 2, 1, 2]), score="score")
    single = pd.DataFrame(
        {
            "unit": np.repeat(list("abcde"), 3),
            "rater": "r1",
            "indicator": list("xyz") * 5,
            "score": [1, 2, 3, 2, 2, 3, 1, 1, 2, 3, 4, 3, 2, 3, 2],
        }
    )
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
        f = bias.flag_raters(sim.tables["ratings"], sim.tables["raters"], scheme=scheme, seed=seed).table
        truth = sim.truth["rater_effects"].set_index("rater").reindex(f["rater"])
        out.append((sim, f.set_index("rater"), truth))
    return out


@pytest.mark.parametrize(
    "flag, planted, recall",
    [
        ("lenient", "lenient", 0.9),
        ("severe", "severe", 0.9),
        ("halo", "halo", 0.9),
        ("central", "central", 0.8),
        ("bloc", "bloc", 0.8),
    ],
)
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


def test_each_flag_states_its_rule_and_false_positive_rate():
    rules = bias.flag_rules(0.05)
    assert list(rules["flag"]) == ["lenient / severe", "halo", "central", "favouritism", "bloc", "misfit"]
    assert rules["false_positive_rate"].sum() <= 0.05 + 1e-12


def test_bloc_members_share_one_bloc(flagged):
    for _, f, t in flagged:
        ids = f.loc[t["bloc"] & f["bloc"], "bloc_id"].dropna().unique()
        assert len(ids) == 1


def test_flags_are_deterministic_for_a_seed_and_a_generator_continues_its_stream(scheme):
    sim = simulate.simulate(scheme, 21)
    r = sim.tables["ratings"]
    r = r[r["rater"].isin(sim.tables["raters"]["rater"].iloc[:60])]
    a = bias.flag_raters(r, sim.tables["raters"], scheme=scheme, n_perm=9, seed=1)
    b = bias.flag_raters(r, sim.tables["raters"], scheme=scheme, n_perm=9, seed=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.bloc_threshold_z == b.bloc_threshold_z


def test_session_drift_is_found_with_the_planted_sign_and_size(flagged):
    """The evening session's planted fatigue (−5 points, about −3.3 against the mean of the sessions) is found:
    p < 0.05 for the session and for the joint F test, the right sign, and an interval that covers the planted size.
    (A drift common to all raters is confounded with the quality of that session's units: see session_drift.)"""
    for sim, _, _ in flagged:
        for units in (None, sim.tables["units"]):  # and compared within kind (the evening heard departments only)
            tests = bias.session_drift(sim.tables["ratings"], units=units).tests.set_index("term")
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
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    return load_dataset(DEMO_DIR, scheme)


@pytest.fixture(scope="module")
def demo_fit(demo, scheme):
    return bias.mfrm(demo.ratings, scheme=scheme)


@pytest.fixture(scope="module")
def demo_flags(demo, scheme, demo_fit):
    return bias.flag_raters(demo.ratings, demo.raters, scheme=scheme, fit=demo_fit, n_perm=19)


@pytest.fixture(scope="module")
def demo_impact(demo, scheme, demo_fit, demo_flags):
    return bias.impact(demo, scheme, flags=demo_flags, fit=demo_fit)


def test_impact_ranks_raw_adjusted_fair_and_without_flagged_raters(demo, scheme, demo_fit, demo_flags, demo_impact):
    from perflab import scoring

    fit, flags, imp = demo_fit, demo_flags.table, demo_impact.table
    assert len(imp) == len(demo.units)
    assert (imp["rank_group"] == imp["kind"]).all()  # the demo's scheme ranks within kind
    onsite = scoring.onsite_scores(demo, scheme)
    assert np.allclose(imp.set_index("unit")["onsite"].reindex(onsite.index), onsite)
    presented = imp["onsite"].notna()
    for _kind, sub in imp[presented].groupby("kind"):
        assert sorted(sub["rank_raw"]) == list(range(1, len(sub) + 1))
        fair = sub["rank_fair"].dropna()
        assert len(fair) == len(sub) and sorted(fair) == list(range(1, len(sub) + 1))
        assert (sub["fair_average"].rank(ascending=False, method="min") == sub["rank_fair"]).all()
    assert imp.loc[~presented, "rank_raw"].isna().all()
    excluded = set(demo_impact.excluded_raters)
    assert excluded == set(flags.loc[flags["flag_fdr"], "rater"])  # the FDR set by default
    per_rater = bias.impact(demo, scheme, flags=demo_flags, fit=fit, exclude="any_flag")
    assert (
        per_rater.exclude == "any_flag"
        and set(per_rater.excluded_raters) == set(flags.loc[flags["any_flag"], "rater"]) >= excluded
    )
    moved = (imp["rank_raw"] != imp["rank_adjusted"]).fillna(False) | (imp["rank_raw"] != imp["rank_excluded"]).fillna(
        False
    )
    assert (imp.loc[moved, "changed"]).all()
    # the adjusted on-site score is the scheme's own on-site score of the adjusted ratings
    import dataclasses

    adj = bias.adjusted_ratings(demo.ratings, scheme=scheme)
    onsite_adj = scoring.onsite_scores(dataclasses.replace(demo, ratings=adj), scheme)
    assert np.allclose(imp.set_index("unit")["onsite_adjusted"].reindex(onsite_adj.index), onsite_adj)
    with pytest.raises(ValueError, match="exclude must be one of"):
        bias.impact(demo, scheme, flags=flags, fit=fit, exclude="halo")


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
    flags = bias.flag_raters(r, raters, scheme=scheme, seed=np.random.default_rng(77))
    return flags.table.set_index("rater"), {
        "straight": straight,
        "constant": constant,
        "media": media,
        "few": grass,
        "clean": clean,
    }


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
    rules = bias.flag_rules()
    assert "minimum" in rules.columns and rules["minimum"].notna().all()
    assert "never that flag" in bias.UNTESTED


# ---------------------------------------------------------------------------
# issue 10: findings an expert can defend
# ---------------------------------------------------------------------------


def _demo_quality(demo):
    q = pd.read_csv(DEMO_TRUTH / "unit_quality.csv").set_index(["unit", "indicator"])["quality"]
    return q.reindex(pd.MultiIndex.from_arrays([demo.ratings["unit"], demo.ratings["indicator"]])).to_numpy()


def test_with_no_rater_effects_the_adjusted_ranks_equal_the_raw_ones(demo, scheme):
    """The demo's design (grassroots in one session each) with scores = true quality + noise and no rater effect:
    the adjustment changes nothing, while the MFRM fair average (band scores, equal weights, no shares or trimming)
    moves units by its change of scale alone."""
    import dataclasses

    rng = np.random.default_rng(3)
    score = np.clip(np.rint(_demo_quality(demo) + rng.normal(0, 4, len(demo.ratings))), 0, 100).astype(int)
    ds = dataclasses.replace(demo, ratings=demo.ratings.assign(score=score, grade=scheme.grade_of(score)))
    fit = bias.mfrm(ds.ratings, scheme=scheme)
    nobody = pd.DataFrame({"rater": demo.raters["rater"], "flag_fdr": False})
    imp = bias.impact(ds, scheme, flags=nobody, fit=fit).table.dropna(subset=["rank_raw"])
    assert (imp["rank_adjusted"] == imp["rank_raw"]).all()
    assert (imp["rank_final_adjusted"] == imp["rank_final"]).all()
    assert (imp["onsite_adjusted"] - imp["onsite"]).abs().max() < 0.01
    assert (imp["rank_fair"] - imp["rank_raw"]).abs().mean() > 0.3  # why rank_fair is not the adjustment
    assert not imp["changed"].any()


def test_the_adjustment_removes_planted_rater_shifts_and_nothing_else(demo, scheme):
    """Noise-free scores plus a constant per rater (grassroots see one session, so the shifts move whole sessions):
    the raw ranks move, the adjusted ranks are exactly the clean ranks, with or without shrinkage."""
    import dataclasses

    from perflab import scoring

    clean = np.rint(_demo_quality(demo))
    shift = pd.Series(np.random.default_rng(8).integers(-6, 7, len(demo.raters)), index=demo.raters["rater"])
    shifted = clean + demo.ratings["rater"].map(shift).to_numpy()

    def ranks(ratings):
        return scoring.score_units(dataclasses.replace(demo, ratings=ratings), scheme).set_index("unit")["rank"]

    r_clean = ranks(demo.ratings.assign(score=clean))
    r_shifted = ranks(demo.ratings.assign(score=shifted))
    assert not r_shifted.equals(r_clean)
    for shrink in (True, False):
        sev = bias.rater_severity(demo.ratings.assign(score=shifted), shrink=shrink)
        s = sev.table.set_index("rater")["severity_points"]
        assert np.allclose(s, -(shift - shift.mean()).reindex(s.index), atol=0.5)
        adj = bias.adjusted_ratings(demo.ratings.assign(score=shifted), scheme=scheme, severity=sev)
        assert ranks(adj).equals(r_clean), shrink
        assert np.allclose(adj["score_raw"], shifted)


def test_every_rater_effect_column_is_positive_for_harsher_raters(flagged, scheme):
    """severity_points, severity_z, severity_logits (and rater_severity's, and the groups' means) correlate positively
    with the planted severity_points (positive = harsher); the lenient flag sits on the negative side."""
    for sim, f, t in flagged:
        truth = t["severity_points"]
        for col in ("severity_points", "severity_z", "severity_logits"):
            ok = f[col].notna()
            assert np.corrcoef(f.loc[ok, col], truth[ok])[0, 1] > 0.9, col
        assert (f.loc[f["lenient"], "severity_points"] < 0).all() and (f.loc[f["severe"], "severity_points"] > 0).all()
        sev = bias.rater_severity(sim.tables["ratings"]).table.set_index("rater").reindex(f.index)
        assert np.corrcoef(sev["severity_points"], truth)[0, 1] > 0.9
        by = bias.flags_by_group(f.reset_index()).set_index("group")
        planted = t.groupby("group")["severity_points"].mean().reindex(by.index)
        assert np.corrcoef(by["mean_severity_points"], planted)[0, 1] > 0.8
        assert int(by["raters"].sum()) == len(f) and int(by["any_flag"].sum()) == int(f["any_flag"].sum())


def _crossed(seed, quality, severity, n_items=7, pair_sd=0.8):
    """Units × raters × items, every rater scores every unit; a shared impression per rater × unit (logits, sd pair_sd)."""
    rng = np.random.default_rng(seed)
    nu, nr = len(quality), len(severity)
    u = np.repeat(np.arange(nu), nr * n_items)
    r = np.tile(np.repeat(np.arange(nr), n_items), nu)
    i = np.tile(np.arange(n_items), nu * nr)
    eta = quality[u] - severity[r] + rng.normal(0, pair_sd, (nu, nr))[u, r] if pair_sd else quality[u] - severity[r]
    P = bias.category_probabilities(eta, np.concatenate([[0.0], np.cumsum([-2.0, -0.7, 0.7, 2.0])]))
    x = (P.cumsum(axis=1) > rng.random(len(eta))[:, None]).argmax(axis=1)
    return pd.DataFrame({"unit": u, "rater": r, "indicator": i, "score": x})


def test_cluster_robust_mfrm_se_matches_the_spread_of_measures_over_replications():
    """With a shared rater × unit impression (design effect ≈ 2) the model SE understates the units' sampling
    spread over 30 replications by about half its variance; the cluster-robust SE matches it."""
    rng = np.random.default_rng(0)
    quality, severity = rng.normal(0, 1, 30), rng.normal(0, 0.5, 12)
    m, se, se_r = [], [], []
    for k in range(30):
        u = bias.mfrm(_crossed(100 + k, quality, severity), score="score").units
        m.append(u["measure"]), se.append(u["se"] ** 2), se_r.append(u["se_robust"] ** 2)
    empirical = np.var(np.array(m), axis=0, ddof=1).mean()
    assert 0.75 < np.mean(se_r) / empirical < 1.3, (np.mean(se_r), empirical)
    assert np.mean(se) / empirical < 0.6, (np.mean(se), empirical)


def test_cluster_robust_se_equals_the_model_se_when_ratings_are_independent():
    rng = np.random.default_rng(1)
    fit = bias.mfrm(_crossed(5, rng.normal(0, 1, 40), rng.normal(0, 0.5, 12), pair_sd=0.0), score="score")
    for tab in (fit.units, fit.raters, fit.items):
        assert 0.8 < tab["design_effect"].mean() < 1.2
    assert np.allclose(fit.units["design_effect"], (fit.units["se_robust"] / fit.units["se"]) ** 2)


def test_mfrm_separation_and_reliability_use_the_cluster_robust_se(demo_fit):
    sep = demo_fit.separation.set_index("facet")
    for facet, tab in (("units", demo_fit.units), ("raters", demo_fit.raters)):
        ok = ~tab["extreme"]
        rmse = np.sqrt(np.mean(tab.loc[ok, "se_robust"] ** 2))
        var = tab.loc[ok, "measure"].var(ddof=0)
        assert sep.loc[facet, "rmse"] == pytest.approx(rmse)
        assert sep.loc[facet, "reliability"] == pytest.approx((var - rmse**2) / var)
        assert sep.loc[facet, "design_effect"] > 1.5  # one rater's seven ratings of a unit share an impression
        assert sep.loc[facet, "reliability"] < sep.loc[facet, "reliability_model"]
        assert sep.loc[facet, "separation"] < sep.loc[facet, "separation_model"]


def test_false_flags_expected_across_the_panel_and_fdr_flags_by_benjamini_hochberg(demo_flags):
    from statsmodels.stats.multitest import multipletests

    f = demo_flags.table
    alpha = demo_flags.alpha
    assert demo_flags.n_tested == int(f["p_value"].notna().sum()) == 220
    assert demo_flags.expected_false_flags == pytest.approx(220 * alpha)  # 11 at alpha = 0.05
    ok = f["p_value"].notna()
    q = multipletests(f.loc[ok, "p_value"], method="fdr_bh")[1]
    assert np.allclose(f.loc[ok, "q_value"], q)
    # p_value < alpha is exactly the per-rater rule (any flag but bloc); FDR flags are q < fdr or a bloc
    non_bloc = f[["lenient", "severe", "halo", "central", "favouritism", "misfit"]].any(axis=1)
    assert ((f["p_value"] < alpha) == non_bloc).all()
    assert (f["flag_fdr"] == ((f["q_value"] < demo_flags.fdr) | f["bloc"])).all()
    summary = demo_flags.summary().set_index("flag")
    assert summary.loc["flag_fdr", "raters"] == f["flag_fdr"].sum() and (summary["tested"] == 220).all()
    assert f["flag_fdr"].sum() <= f["any_flag"].sum()


def test_fdr_flags_leave_out_fewer_clean_raters(flagged):
    kinds = ["lenient", "severe", "halo", "central", "favours_home", "bloc"]
    clean_any = clean_fdr = 0
    for _, f, t in flagged:
        clean = ~t[kinds].any(axis=1)
        clean_any += int(f.loc[clean, "any_flag"].sum())
        clean_fdr += int(f.loc[clean, "flag_fdr"].sum())
        planted = ~clean
        assert f.loc[planted & ~t["central"], "flag_fdr"].mean() >= 0.85  # recall stays high
    assert clean_fdr <= clean_any


def test_halo_statistic_ignores_what_a_rater_adds_to_a_whole_unit(demo, scheme, demo_fit):
    """Adding to one rater's scores a per-unit amount that steepens its slope threefold (as a bloc's shared view
    does) leaves every rater's halo statistic unchanged."""
    some = demo.raters["rater"].iloc[::4]  # a quarter of the panel is enough, and quicker
    r = demo.ratings[demo.ratings["rater"].isin(some)]
    rid = "R001"
    unit_mean = r.groupby("unit")["score"].mean()
    m = r["rater"] == rid
    bump = 2.0 * (r.loc[m, "unit"].map(unit_mean) - unit_mean.mean())
    steep = r.assign(score=r["score"].astype(float))
    steep.loc[m, "score"] += bump.to_numpy()
    kw = dict(scheme=scheme, fit=demo_fit, n_perm=1)  # the demo's MFRM: misfit is not what this tests
    a = bias.flag_raters(r, demo.raters, **kw).table.set_index("rater")
    b = bias.flag_raters(steep, demo.raters, **kw).table.set_index("rater")
    assert b.loc[rid, "slope"] > 2.5 * a.loc[rid, "slope"]
    assert np.allclose(a["halo_r"], b["halo_r"], equal_nan=True)


def test_bloc_members_are_not_flagged_for_halo(flagged, demo, demo_flags):
    for _, f, t in flagged:
        assert not f.loc[t["bloc"], "halo"].any()
    planted = pd.read_json(DEMO_TRUTH / "planted.json", typ="series")
    f = demo_flags.table.set_index("rater")
    assert not f.loc[planted["bloc"]["members"], "halo"].any()
    assert set(f.index[f["halo"]]) >= set(planted["halo"])


def test_session_drift_shows_which_kinds_presented_in_each_session(demo):
    d = bias.session_drift(demo.ratings, units=demo.units)
    comp = d.composition.set_index("session")
    slot = demo.ratings.groupby("unit")["session"].first()
    kinds = demo.units.set_index("unit")["kind"].reindex(slot.index)
    expected = pd.crosstab(slot, kinds)
    for kind in expected.columns:
        assert (comp[kind] == expected[kind].reindex(comp.index, fill_value=0)).all()
    assert (comp["units"] == expected.sum(axis=1)).all()
    assert comp.loc[2, "district"] == 0  # the demo's evening session heard departments only
    assert "kind" in set(d.tests["kind"])  # and the session is compared within kind
    assert "kind" in d.units.columns
    without = bias.session_drift(demo.ratings, units=demo.units, adjust_for_kind=False)
    assert "kind" not in set(without.tests["kind"]) and np.isnan(without.covariate_r2)
    routine = pd.DataFrame({"unit": d.units["unit"], "routine": np.random.default_rng(0).normal(size=len(d.units))})
    assert 0 <= bias.session_drift(demo.ratings, covariates=routine).covariate_r2 <= 1


def test_pair_correlation_measures_the_dependence_within_rater_and_unit(demo_fit):
    rng = np.random.default_rng(2)
    q, sev = rng.normal(0, 1, 30), rng.normal(0, 0.5, 12)
    independent = bias.mfrm(_crossed(7, q, sev, pair_sd=0.0), score="score").pair_correlation()
    shared = bias.mfrm(_crossed(7, q, sev, pair_sd=0.8), score="score").pair_correlation()
    assert abs(independent) < 0.03 and shared > 0.1
    rho = demo_fit.pair_correlation()
    assert 0.1 < rho < 0.25  # about 0.16 on the demo: design effect ≈ 1 + 6 × 0.16
    deff = demo_fit.separation.set_index("facet").loc["units", "design_effect"]
    assert abs(deff - (1 + 6 * rho)) < 0.3


def test_rank_moves_summarises_each_correction(demo_impact):
    imp = demo_impact.table
    moves = bias.rank_moves(demo_impact).set_index("column")
    assert moves.equals(demo_impact.summary().set_index("column"))
    assert moves.loc["rank_excluded", "comparison"] == "flagged raters left out (false-discovery flags)"
    ok = imp["rank_raw"].notna()
    for col in ("rank_adjusted", "rank_excluded", "rank_fair"):
        d = (imp.loc[ok, col] - imp.loc[ok, "rank_raw"]).abs()
        assert moves.loc[col, "moves"] == pytest.approx(d.mean()) and moves.loc[col, "units_moved"] == (d > 0).sum()
    # removing the raters' severities moves the ranks far less than the fair average's change of scale
    assert moves.loc["rank_adjusted", "moves"] < moves.loc["rank_fair", "moves"] / 3
