"""Reliability: Krippendorff's alpha, Brennan's G-study and the ICC reproduce published answers and pingouin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab import reliability as R
from perflab.errors import DataError

REF = Path(__file__).resolve().parents[2] / "shared" / "reference"
if not REF.is_dir():
    REF = Path("/work/shared/reference")


def _example_c():
    c = pd.read_csv(REF / "krippendorff2011_C_4coders_12units.csv", index_col=0)
    long = c.stack().rename("value").reset_index()
    long.columns = ["coder", "unit", "value"]
    return long


def _hayes():
    h = pd.read_csv(REF / "hayes_krippendorff_2007_units_x_observers.csv")
    return h.melt(id_vars="unit", var_name="observer", value_name="value").dropna()


@pytest.mark.parametrize(
    "level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_example_c_all_four_levels(level, published):
    a = R.krippendorff_alpha(_example_c(), "unit", "coder", "value", level=level)
    assert round(a, 3) == published


@pytest.mark.parametrize("level, published", [("ordinal", 0.7598), ("nominal", 0.4765)])
def test_krippendorff_hayes_2007(level, published):
    assert round(R.krippendorff_alpha(_hayes(), "unit", "observer", "value", level=level), 4) == published


def test_krippendorff_matches_the_krippendorff_package():
    kr = pytest.importorskip("krippendorff")
    d = _hayes()
    wide = d.pivot(index="observer", columns="unit", values="value").to_numpy(float)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ours = R.krippendorff_alpha(d, "unit", "observer", "value", level=level)
        theirs = kr.alpha(reliability_data=wide, level_of_measurement=level)
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_krippendorff_bootstrap_interval_brackets_alpha_and_is_seeded():
    d = _hayes()
    one = R.krippendorff_alpha_ci(d, "unit", "observer", "value", "ordinal", n_boot=300, seed=1)
    two = R.krippendorff_alpha_ci(d, "unit", "observer", "value", "ordinal", n_boot=300, seed=np.random.default_rng(1))
    assert one.ci95_low < one.alpha < one.ci95_high and one == two
    assert one.alpha == R.krippendorff_alpha(d, "unit", "observer", "value", "ordinal")


def test_krippendorff_perfect_agreement_is_one_and_bad_input_is_named():
    d = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "r": ["a", "b"] * 3, "v": [1, 1, 2, 2, 3, 3]})
    assert R.krippendorff_alpha(d, "u", "r", "v", "interval") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="level must be one of"):
        R.krippendorff_alpha(d, "u", "r", "v", "cardinal")
    with pytest.raises(DataError, match="nothing is pairable"):
        R.krippendorff_alpha(d.iloc[::2], "u", "r", "v")
    with pytest.raises(DataError, match="no column"):
        R.krippendorff_alpha(d, "unit", "r", "v")


def test_brennan_synthetic_1_p_x_i():
    d = pd.read_csv(REF / "brennan2001_synthetic1_p_x_i.csv")
    gs = R.g_study(d, "score", "person", ["item"])
    var = gs.components.set_index("effect")["variance"]
    assert round(var["person"], 4) == 0.0574
    assert round(var["item"], 4) == 0.0754
    assert round(var["person×item,e"], 4) == 0.1269
    d12 = gs.d_study({"item": 12})
    assert round(d12["g"], 3) == 0.844 and round(d12["phi"], 3) == 0.773


def test_brennan_synthetic_3_p_x_i_x_o():
    d = pd.read_csv(REF / "brennan2001_synthetic3_p_x_i_x_o.csv")
    gs = R.g_study(d, "score", "person", ["item", "occasion"])
    var = gs.components.set_index("effect")["variance"].round(4)
    published = {
        "person": 0.5528,
        "item": 0.4417,
        "occasion": 0.0074,
        "person×item": 0.5750,
        "person×occasion": 0.1009,
        "item×occasion": 0.1565,
        "person×item×occasion,e": 0.9352,
    }
    for effect, value in published.items():
        assert var[effect] == value, effect
    ds = gs.d_study({"item": 4, "occasion": 2})
    assert round(ds["g"], 2) == 0.64 and round(ds["phi"], 2) == 0.55
    grid = gs.d_study_grid({"item": [2, 4, 8], "occasion": 2})
    assert list(grid["item"]) == [2, 4, 8] and grid["g"].is_monotonic_increasing
    assert grid.iloc[1]["g"] == ds["g"]  # one design: the grid's row
    with pytest.raises(ValueError, match="use d_study_grid"):
        gs.d_study({"item": [2, 4]})


def test_nested_design_pools_the_crossed_components():
    """Occasions nested in items: o:i = o + io and po:i,e = po + pio,e (exact for ANOVA estimators)."""
    d = pd.read_csv(REF / "brennan2001_synthetic3_p_x_i_x_o.csv")
    crossed = R.g_study(d, "score", "person", ["item", "occasion"]).components.set_index("effect")["variance"]
    nested = R.g_study(d, "score", "person", ["item", "occasion"], nested={"occasion": "item"}).components
    v = nested.set_index("effect")["variance"]
    assert v["occasion:item"] == pytest.approx(crossed["occasion"] + crossed["item×occasion"])
    assert v["person×occasion:item,e"] == pytest.approx(crossed["person×occasion"] + crossed["person×item×occasion,e"])


def test_nested_raters_in_groups_recover_planted_components():
    rng = np.random.default_rng(5)
    n_p, n_g, n_r = 60, 4, 5
    p = rng.normal(0, 2.0, n_p)[:, None, None]
    g = rng.normal(0, 1.0, n_g)[None, :, None]
    rg = rng.normal(0, 1.5, (1, n_g, n_r))
    e = rng.normal(0, 1.0, (n_p, n_g, n_r))
    y = 50 + p + g + rg + e
    P, G, Rr = np.meshgrid(range(n_p), range(n_g), range(n_r), indexing="ij")
    d = pd.DataFrame(
        {"unit": P.ravel(), "group": G.ravel(), "rater": [f"r{k}" for k in Rr.ravel()], "score": y.ravel()}
    )
    gs = R.g_study(d, "score", "unit", ["group", "rater"], nested={"rater": "group"})
    v = gs.components.set_index("effect")["variance"]
    assert v["unit"] == pytest.approx(4.0, rel=0.4)
    assert v["rater:group"] == pytest.approx(2.25, rel=0.6)
    assert abs(v["unit×group"]) < 0.2 and v["unit×rater:group,e"] == pytest.approx(1.0, rel=0.15)
    assert gs.d_study({"rater": 10})["g"] > gs.d_study({"rater": 2})["g"]


def test_g_study_refuses_an_unbalanced_design():
    d = pd.read_csv(REF / "brennan2001_synthetic1_p_x_i.csv").iloc[1:]
    with pytest.raises(DataError, match="balanced design: 1 of 120"):
        R.g_study(d, "score", "person", ["item"])


def _balanced(seed, n=12, k=4):
    rng = np.random.default_rng(seed)
    t = rng.normal(0, 1.0, n)[:, None]
    r = rng.normal(0, 0.5, k)[None, :]
    y = t + r + rng.normal(0, 0.7, (n, k))
    T, Rr = np.meshgrid(range(n), range(k), indexing="ij")
    return pd.DataFrame({"target": T.ravel(), "rater": Rr.ravel(), "rating": y.ravel()})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc_equals_pingouin_on_balanced_data(seed):
    pg = pytest.importorskip("pingouin")
    d = _balanced(seed)
    ours = R.icc(d, "target", "rater", "rating").table.rename(columns={"p_value": R.PINGOUIN_NAMES["p_value"]})
    theirs = pg.intraclass_corr(d, "target", "rater", "rating")
    assert list(ours["Type"]) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    np.testing.assert_allclose(ours["ICC"], theirs["ICC"], rtol=1e-10)
    np.testing.assert_allclose(ours["F"], theirs["F"], rtol=1e-10)
    np.testing.assert_allclose(ours["pval"], theirs["pval"], rtol=1e-8)
    lows = np.array([ci[0] for ci in theirs["CI95"]])
    np.testing.assert_allclose(ours["ci95_low"], lows, atol=0.006)  # pingouin rounds its interval to 2 decimals
    assert R.icc(d, "target", "rater", "rating").method == "anova"


def test_icc_on_unbalanced_data_keeps_every_target_and_recovers_the_truth():
    rng = np.random.default_rng(3)
    n, k = 150, 12
    t = rng.normal(0, 2.0, n)
    r = rng.normal(0, 1.0, k)
    rows = [
        (i, j, t[i] + r[j] + rng.normal(0, 1.0))
        for i in range(n)
        for j in rng.choice(k, rng.integers(2, 6), replace=False)
    ]
    d = pd.DataFrame(rows, columns=["target", "rater", "rating"])
    res = R.icc(d, "target", "rater", "rating")
    assert res.method == "henderson3" and res.n_targets == n
    out = res.table
    icc = out.set_index("Type")["ICC"]
    vt, vr = t.var(ddof=1), r.var(ddof=1)  # the realised variances of the planted effects
    assert res.var_target == pytest.approx(vt, rel=0.15)
    assert icc["ICC2"] == pytest.approx(vt / (vt + vr + 1), abs=0.05)
    assert icc["ICC3"] == pytest.approx(vt / (vt + 1), abs=0.03)
    assert (out["ci95_low"] < out["ICC"]).all() and (out["ICC"] < out["ci95_high"]).all()


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(6, 12), st.integers(3, 6))
def test_unbalanced_icc_equals_the_fitting_constants_anova_of_statsmodels(seed, n, k):
    """Unbalanced path: F, df and p of ICC3 are statsmodels' sequential (type I) F for targets after raters,
    ICC1's F its one-way F, and the ICCs follow from them with the effective panel sizes."""
    sm = pytest.importorskip("statsmodels.formula.api")
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(seed)
    d = _balanced(seed, n, k)
    d = d[rng.random(len(d)) > 0.3]  # sparse: drop about 30% of the cells
    d = d[d.groupby("target")["rating"].transform("size") >= 1]
    if d["target"].nunique() < 3 or d["rater"].nunique() < 2 or (d.groupby("target").size() >= 2).sum() < 2:
        return
    out = R.icc(d, "target", "rater", "rating").table.set_index("Type")
    a2 = anova_lm(sm.ols("rating ~ C(rater) + C(target)", d).fit(), typ=1)
    a1 = anova_lm(sm.ols("rating ~ C(target)", d).fit(), typ=1)
    assert out.loc["ICC3", "F"] == pytest.approx(a2.loc["C(target)", "F"], rel=1e-8)
    assert out.loc["ICC3", "df2"] == a2.loc["Residual", "df"]
    assert out.loc["ICC3", "p_value"] == pytest.approx(a2.loc["C(target)", "PR(>F)"], rel=1e-6, abs=1e-12)
    assert out.loc["ICC1", "F"] == pytest.approx(a1.loc["C(target)", "F"], rel=1e-8)
    # Henderson III: E[MS targets after raters] = mse + k var_t with k = (N − raters) / df_t
    N, nr = len(d.groupby(["target", "rater"])), d["rater"].nunique()
    k_eff = (N - nr) / a2.loc["C(target)", "df"]
    F = a2.loc["C(target)", "F"]
    assert out.loc["ICC3", "ICC"] == pytest.approx((F - 1) / (F + k_eff - 1), rel=1e-8)
    assert out.loc["ICC3k", "ICC"] == pytest.approx(1 - 1 / F, rel=1e-8)
    n0 = (N - (d.groupby("target").size() ** 2).sum() / N) / (d["target"].nunique() - 1)
    F1 = a1.loc["C(target)", "F"]
    assert out.loc["ICC1", "ICC"] == pytest.approx((F1 - 1) / (F1 + n0 - 1), rel=1e-8)


def test_icc_on_a_perfect_fit_and_on_non_numeric_ratings():
    """A zero residual is a stated result (F = inf, p = 0, ICC3 = 1), not a ZeroDivisionError; bad values are named."""
    d = pd.DataFrame({"t": [0, 0, 1, 1, 2, 2], "r": [0, 1] * 3, "y": [0.0, 1, 2, 3, 4, 5]})
    out = R.icc(d, "t", "r", "y").table.set_index("Type")
    assert out.loc["ICC3", "ICC"] == 1.0 and out.loc["ICC3k", "ICC"] == 1.0
    assert np.isinf(out.loc["ICC3", "F"]) and out.loc["ICC3", "p_value"] == 0.0
    assert out.loc["ICC3", "ci95_low"] == out.loc["ICC3", "ci95_high"] == 1.0
    assert 0 < out.loc["ICC1", "ICC"] < 1 and np.isfinite(out.loc["ICC1", "F"])
    with pytest.raises(DataError, match="rating 'a' in column 'y' is not a number"):
        R.icc(d.assign(y=["a", 1, 2, 3, 4, 5]), "t", "r", "y")
    with pytest.raises(DataError, match="every rating is 1.0"):
        R.icc(d.assign(y=1.0), "t", "r", "y")


def test_icc_bad_input():
    d = _balanced(0)
    with pytest.raises(DataError, match="at least 2 raters"):
        R.icc(d[d["rater"] == 0], "target", "rater", "rating")
    with pytest.raises(DataError, match="no column"):
        R.icc(d, "target", "judge", "rating")


def test_panel_sizes_on_the_demo_data(scheme):
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    ds = load_dataset(DEMO_DIR, scheme)
    res = R.panel_sizes(ds.ratings, ds.raters, target=0.8)
    out = res.groups
    assert set(out["group"]) == set(ds.raters["group"])
    grass = out.set_index("group").loc["grassroots"]
    assert grass["n_raters_used"] == grass["n_raters"]  # session blocks: every grassroots rater counted
    assert (out["raters_needed_g"] >= 1).all() and (out["g"] > 0).all()
    curves = res.curves
    assert curves.groupby("group")["g"].apply(lambda s: s.is_monotonic_increasing).all()


def test_panel_sizes_names_an_unknown_rater_and_a_rater_without_group():
    ratings = pd.DataFrame({"rater": ["a", "b", "ghost"], "unit": "u", "indicator": "i", "score": [1.0, 2, 3]})
    raters = pd.DataFrame({"rater": ["a", "b"], "group": ["g", None]})
    with pytest.raises(DataError, match="rater 'ghost' is not in the raters table"):
        R.panel_sizes(ratings, raters)
    with pytest.raises(DataError, match="rater 'b' has no group"):
        R.panel_sizes(ratings[ratings["rater"] != "ghost"], raters)


# ---------------------------------------------------------------------------
# issue 10, item 7: reliability for ranking, not just for scores
# ---------------------------------------------------------------------------


def test_icc_names_the_k_of_every_coefficient():
    """Single-rater forms are about 1 rater, averaged forms about k (n0 for ICC1k); Spearman–Brown links them."""
    d = _balanced(4, n=15, k=6)
    out = R.icc(d, "target", "rater", "rating").table.set_index("Type")
    assert list(out.loc[["ICC1", "ICC2", "ICC3"], "k"]) == [1.0, 1.0, 1.0]
    assert list(out.loc[["ICC1k", "ICC2k", "ICC3k"], "k"]) == [6.0, 6.0, 6.0]
    single, k = out.loc["ICC3", "ICC"], out.loc["ICC3k", "k"]
    assert out.loc["ICC3k", "ICC"] == pytest.approx(k * single / (1 + (k - 1) * single))
    sparse = d[np.random.default_rng(0).random(len(d)) > 0.3]
    res = R.icc(sparse, "target", "rater", "rating")
    k = res.table.set_index("Type")["k"]
    assert k["ICC3k"] == pytest.approx(res.k) and k["ICC1k"] == pytest.approx(res.n0)


def test_icc_by_kind_equals_icc_on_each_kind_and_differs_from_pooled():
    """Two kinds with different spreads of true quality: the pooled ICC is not either kind's."""
    rng = np.random.default_rng(8)
    rows = []
    for kind, sd, n in (("district", 1.0, 16), ("department", 3.0, 40)):
        t = rng.normal(0, sd, n)
        for i in range(n):
            for j in range(10):
                rows.append((f"{kind[:3]}{i}", f"r{j}", kind, 80 + t[i] + rng.normal(0, 2.0)))
    d = pd.DataFrame(rows, columns=["unit", "rater", "kind", "score"])
    res = R.icc_by(d, "unit", "rater", "score", rank_group="kind")
    out = res.table
    assert list(pd.unique(out["rank_group"])) == ["all", "department", "district"]
    icc1 = out[out["Type"] == "ICC1"].set_index("rank_group")["ICC"]
    for kind in ("district", "department"):
        alone = R.icc(d[d["kind"] == kind], "unit", "rater", "score").table.set_index("Type")["ICC"]
        assert icc1[kind] == pytest.approx(alone["ICC1"])
    assert icc1["district"] < 0.4 < icc1["all"] and icc1["department"] > 0.6
    assert res.levels["district"].n_targets == 16
    with pytest.raises(DataError, match="more than one kind"):
        R.icc_by(
            d.assign(kind=np.where(np.arange(len(d)) % 2, "district", "department")),
            "unit",
            "rater",
            "score",
            rank_group="kind",
        )


def test_per_kind_icc_on_the_demo_data(scheme):
    """The demo's districts: single-rater ICC1 about 0.56 against 0.70 pooled, each with its k."""
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    ds = load_dataset(DEMO_DIR, scheme)
    pair = ds.ratings.groupby(["unit", "rater"], as_index=False)["score"].mean()
    pair = pair.merge(ds.units[["unit", "kind"]], on="unit")
    out = R.icc_by(pair, "unit", "rater", "score", rank_group="kind").table.set_index(["rank_group", "Type"])
    assert out.loc[("all", "ICC1"), "ICC"] == pytest.approx(0.70, abs=0.01)
    assert out.loc[("district", "ICC1"), "ICC"] == pytest.approx(0.56, abs=0.01)
    assert 147 < out.loc[("all", "ICC3k"), "k"] < 149


_ONSITE_ONLY = {"onsite": 1.0, "routine": 0.0, "satisfaction": 0.0}


def _scheme_with(scheme_dict, **changes):
    from conftest import make_scheme

    d = dict(scheme_dict)
    d.update(changes)
    return make_scheme(d)


def test_effective_raters_is_kishs_effective_sample_size(scheme_dict):
    """Two groups, shares 0.75 / 0.25 of the present groups, 3 and 5 raters: k_eff = 1 / (0.75²/3 + 0.25²/5) = 5."""
    for g in scheme_dict["groups"]:
        g["share"] = {"city_leaders": 0.3, "grassroots": 0.1}.get(g["id"], (1 - 0.4) / 7)
    raters = pd.DataFrame(
        {
            "rater": [f"c{i}" for i in range(3)] + [f"g{i}" for i in range(5)],
            "group": ["city_leaders"] * 3 + ["grassroots"] * 5,
        }
    )
    ratings = pd.DataFrame(
        [(r, "D01", "rectification", 80.0) for r in raters["rater"]], columns=["rater", "unit", "indicator", "score"]
    )
    mean = _scheme_with(scheme_dict, aggregation={"method": "mean", "trim": 0})
    out = R.effective_raters(ratings, raters, mean).set_index("unit").loc["D01"]
    assert out["n_raters"] == 8 and out["k_effective"] == pytest.approx(5.0)
    trimmed = _scheme_with(scheme_dict, aggregation={"method": "trimmed_mean", "trim": 1})
    out = R.effective_raters(ratings, raters, trimmed).set_index("unit").loc["D01"]
    # the trimmed mean keeps 1 of 3 and 3 of 5: 1 / (0.5625 / 1 + 0.0625 / 3)
    assert out["n_kept"] == 4 and out["k_effective"] == pytest.approx(1 / (0.5625 + 0.0625 / 3))
    assert out["k_effective_all"] == pytest.approx(5.0)
    equal = raters.assign(group="city_leaders")
    assert R.effective_raters(ratings, equal, mean)["k_effective"].iloc[0] == pytest.approx(8.0)


def _dataset_of(scheme, ratings: pd.DataFrame, raters: pd.DataFrame):
    """A data set of presented units (all scored on site) from ratings alone."""
    from perflab.io import dataset_from_tables

    units = pd.DataFrame({"unit": sorted(ratings["unit"].unique())})
    units["kind"] = np.where(units["unit"].str.startswith("D"), "district", "department")
    units["zone"] = np.where(units["kind"] == "district", "core", "economy")
    units["name_zh"] = units["unit"]
    units["name_en"] = units["unit"]
    units["presented"] = True
    raters = raters.assign(home_unit="")
    r = ratings.assign(session=1, order=ratings["unit"].map({u: k + 1 for k, u in enumerate(units["unit"])}))
    return dataset_from_tables({"units": units, "raters": raters, "ratings": r}, scheme)


def test_sem_is_brennans_conditional_sem_for_one_group_and_a_plain_mean(scheme_dict):
    """One group, mean aggregation: SEM_p = √(Σ_r (x_pr − x̄_p)² / (n (n − 1))) of the raters' weighted scores (Brennan 2001, §5.4)."""
    s = _scheme_with(
        scheme_dict,
        aggregation={"method": "mean", "trim": 0},
        components=_ONSITE_ONLY,
        missing_components="renormalise",
    )
    rng = np.random.default_rng(2)
    ids = s.indicator_ids
    raters = pd.DataFrame({"rater": [f"R{i}" for i in range(7)], "group": "experts"})
    rows = [
        (r, u, i, float(rng.integers(60, 100))) for r in raters["rater"] for u in ("D01", "D02", "M01") for i in ids
    ]
    ratings = pd.DataFrame(rows, columns=["rater", "unit", "indicator", "score"])
    p = R.score_precision(_dataset_of(s, ratings, raters), s)
    w = s.weights / s.weights.sum()
    comp = (
        ratings.assign(wx=ratings["score"] * w.reindex(ratings["indicator"]).to_numpy())
        .groupby(["unit", "rater"])["wx"]
        .sum()
    )
    brennan = comp.groupby("unit").apply(lambda c: np.sqrt(((c - c.mean()) ** 2).sum() / (len(c) * (len(c) - 1))))
    got = p.units.set_index("unit")["sem"]
    np.testing.assert_allclose(got.reindex(brennan.index), brennan, rtol=1e-10)
    # the same raters: their severity cancels in a difference
    diff = comp.xs("D01", level="unit") - comp.xs("D02", level="unit")
    assert p.se_difference("D01", "D02") == pytest.approx(diff.std(ddof=1) / np.sqrt(len(diff)))


def test_sem_follows_a_geometric_composite(scheme_dict):
    """One group, plain mean, geometric composite G = Π x_i^w̃_i: the first-order SEM is Brennan's conditional SEM of
    the raters' linearised scores Σ_i (∂G/∂x_i) x_ri, with ∂G/∂x_i = w̃_i G / x̄_i at the indicator means."""
    settings = {"aggregation": {"method": "mean", "trim": 0}, "components": _ONSITE_ONLY}
    s = _scheme_with(scheme_dict, missing_components="renormalise", composite="geometric", **settings)
    rng = np.random.default_rng(9)
    raters = pd.DataFrame({"rater": [f"R{i}" for i in range(6)], "group": "experts"})
    rows = [
        (r, u, i, float(rng.integers(40, 100)))
        for r in raters["rater"]
        for u in ("D01", "D02")
        for i in s.indicator_ids
    ]
    ratings = pd.DataFrame(rows, columns=["rater", "unit", "indicator", "score"])
    p = R.score_precision(_dataset_of(s, ratings, raters), s).units.set_index("unit")
    w = (s.weights / s.weights.sum()).reindex(s.indicator_ids)
    for unit in ("D01", "D02"):
        x = ratings[ratings["unit"] == unit].pivot(index="rater", columns="indicator", values="score")[w.index]
        mean = x.mean()
        G = float(np.exp((w * np.log(mean)).sum()))
        assert p.loc[unit, "score"] == pytest.approx(G)
        lin = x @ (w * G / mean)
        assert p.loc[unit, "sem"] == pytest.approx(np.sqrt(lin.var(ddof=1) / len(lin)), rel=1e-10)
    arithmetic = R.score_precision(_dataset_of(s, ratings, raters), _scheme_with(scheme_dict, **settings))
    assert not np.allclose(arithmetic.units["sem"], p["sem"])


def test_sem_weights_groups_by_their_shares(scheme_dict):
    """Two groups, plain mean: SEM² = Σ_g s_g² S_g² / n_g, s_g the shares of the groups present."""
    for g in scheme_dict["groups"]:
        g["share"] = {"city_leaders": 0.3, "grassroots": 0.1}.get(g["id"], (1 - 0.4) / 7)
    s = _scheme_with(
        scheme_dict,
        aggregation={"method": "mean", "trim": 0},
        components=_ONSITE_ONLY,
        missing_components="renormalise",
    )
    rng = np.random.default_rng(4)
    raters = pd.DataFrame(
        {
            "rater": [f"C{i}" for i in range(4)] + [f"G{i}" for i in range(9)],
            "group": ["city_leaders"] * 4 + ["grassroots"] * 9,
        }
    )
    rows = [(r, "M01", i, float(rng.integers(60, 100))) for r in raters["rater"] for i in s.indicator_ids]
    ratings = pd.DataFrame(rows, columns=["rater", "unit", "indicator", "score"])
    p = R.score_precision(_dataset_of(s, ratings, raters), s)
    w = s.weights / s.weights.sum()
    comp = ratings.assign(wx=ratings["score"] * w.reindex(ratings["indicator"]).to_numpy()).groupby("rater")["wx"].sum()
    grp = raters.set_index("rater")["group"]
    expected = 0.75**2 * comp[grp == "city_leaders"].var() / 4 + 0.25**2 * comp[grp == "grassroots"].var() / 9
    assert p.units.set_index("unit").loc["M01", "sem"] == pytest.approx(np.sqrt(expected))


def test_sem_and_se_of_differences_match_a_rater_bootstrap_of_the_schemes_own_scoring(scheme):
    """Simulated data, the scheme's trimmed mean and shares: resampling raters (within group and session) and rescoring
    with perflab.scoring (rater_bootstrap) gives the SEMs and SEs of differences that score_precision derives in
    closed form."""
    import dataclasses

    from perflab.io import dataset_from_tables
    from perflab.simulate import simulate

    ds = dataset_from_tables(simulate(scheme, 11).tables, scheme)
    scored = ds.ratings.drop_duplicates("unit")
    keep = list(scored.groupby("session")["unit"].head(3))  # three units from each session: grassroots raters differ
    ratings = ds.ratings[ds.ratings["unit"].isin(keep)].reset_index(drop=True)
    small = dataclasses.replace(ds, ratings=ratings, units=ds.units[ds.units["unit"].isin(keep)])
    p = R.score_precision(small, scheme)
    boot = R.rater_bootstrap(small, scheme, n_boot=100, seed=0)
    sem = p.units.set_index("unit")["sem"].reindex(boot.columns)
    ratio = boot.std() / sem
    assert 0.85 < ratio.median() < 1.2 and ratio.between(0.7, 1.4).all()
    pairs = [(a, b) for a in keep for b in keep if a < b]
    r_diff = np.array([(boot[a] - boot[b]).std() / p.se_difference(a, b) for a, b in pairs])
    assert 0.85 < np.median(r_diff) < 1.2 and ((r_diff > 0.7) & (r_diff < 1.4)).all()
    # a difference within a session, where every rater scored both units, is smaller than with independent errors
    same = [
        (a, b)
        for a, b in pairs
        if ds.ratings.loc[ds.ratings["unit"] == a, "session"].iloc[0]
        == ds.ratings.loc[ds.ratings["unit"] == b, "session"].iloc[0]
    ]
    assert all(p.se_difference(a, b) < np.hypot(sem[a], sem[b]) for a, b in same)


def test_adjacent_gaps_are_judged_within_each_ranking_group(scheme_dict):
    """Districts planted 5 points apart, departments 0.1 apart: no district gap is noise, every department gap is."""
    s = _scheme_with(scheme_dict, components=_ONSITE_ONLY, missing_components="renormalise")
    rng = np.random.default_rng(6)
    raters = pd.DataFrame({"rater": [f"R{i}" for i in range(12)], "group": "experts"})
    level = {f"D0{i}": 70 + 5 * i for i in range(1, 5)} | {f"M0{i}": 80 + 0.1 * i for i in range(1, 6)}
    rows = [(r, u, i, b + rng.normal(0, 3)) for r in raters["rater"] for u, b in level.items() for i in s.indicator_ids]
    ratings = pd.DataFrame(rows, columns=["rater", "unit", "indicator", "score"])
    p = R.score_precision(_dataset_of(s, ratings, raters), s)
    adj = p.adjacent
    assert set(adj["rank_group"]) == {"district", "department"} and len(adj) == 3 + 4
    kinds = p.units.set_index("unit")["kind"]
    assert (kinds.reindex(adj["unit_above"]).to_numpy() == kinds.reindex(adj["unit_below"]).to_numpy()).all()
    summ = p.summary().set_index("rank_group")
    assert summ.loc["district", "share_within_noise"] == 0.0
    assert summ.loc["department", "share_within_noise"] == 1.0
    assert summ.loc["all", "share_within_noise"] == pytest.approx(4 / 7)
    assert (adj["gap"] >= 0).all() and (adj["within_noise"] == (adj["gap"] < 2 * adj["se_difference"])).all()


def test_final_score_error_is_the_onsite_error_times_its_weight(scheme):
    """Final = 0.6 on-site + 0.4 routine: the rater error of a unit scored on site is 0.6 × its on-site SEM; a
    written-report unit's imputed on-site score carries the error of its kind's mean."""
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    ds = load_dataset(DEMO_DIR, scheme)
    on = R.score_precision(ds, scheme).units.set_index("unit")
    fin = R.score_precision(ds, scheme, score="final").units.set_index("unit")
    scored = on["score"].notna()
    np.testing.assert_allclose(fin.loc[scored, "sem"], 0.6 * on.loc[scored, "sem"], rtol=1e-9)
    imputed = fin.loc[~scored, "sem"]
    # the same for the 17 written-report departments: the kind's mean keeps the shared part of the raters' severity
    assert len(imputed) == 17 and imputed.nunique() == 1 and 0 < imputed.iloc[0] < fin.loc[scored, "sem"].min()
    with pytest.raises(ValueError, match="score must be"):
        R.score_precision(ds, scheme, score="routine")


# -- the composite D-study (multivariate G theory, p• × r°) ---------------------

# Brennan (2001) Synthetic Data Set No. 4: 10 persons, 3 tasks, 4 raters nested in each task (p × (r:t)).
_SYN4 = {
    "t1": [
        [5, 9, 3, 7, 9, 3, 7, 5, 9, 4],
        [6, 3, 4, 5, 2, 4, 3, 8, 9, 4],
        [5, 7, 3, 5, 9, 3, 7, 5, 8, 4],
        [5, 7, 3, 3, 7, 5, 7, 7, 8, 3],
    ],
    "t2": [
        [5, 7, 5, 3, 7, 3, 7, 7, 6, 3],
        [3, 5, 3, 1, 7, 3, 5, 5, 6, 5],
        [4, 5, 3, 4, 3, 6, 5, 5, 6, 6],
        [5, 5, 5, 3, 7, 3, 7, 4, 5, 5],
    ],
    "t3": [
        [6, 7, 6, 5, 2, 4, 5, 3, 5, 5],
        [7, 7, 5, 3, 7, 5, 5, 2, 8, 7],
        [3, 5, 1, 3, 5, 1, 5, 1, 1, 1],
        [3, 2, 6, 5, 3, 2, 4, 1, 1, 1],
    ],
}


def _synthetic4():
    rows = [
        (p + 1, task, f"{task}r{r + 1}", score)
        for task, raters in _SYN4.items()
        for r, scores in enumerate(raters)
        for p, score in enumerate(scores)
    ]
    return pd.DataFrame(rows, columns=["person", "task", "rater", "score"])


def test_composite_d_study_reproduces_brennan_synthetic_data_4():
    """Brennan's published p × (r:t) components (p .4731, t .3252, r:t .6475, pt .5596, pr:t .3802 → 2.3802) and, with
    tasks as fixed groups of equal weight (the p• × r° design), the composite's universe-score variance
    σ²(p) + σ²(pt)/3, relative error σ²(pr:t)/12 and absolute error (σ²(r:t) + σ²(pr:t))/12: Eρ² = .769, Φ = .723."""
    d = _synthetic4()
    uni = R.g_study(d, "score", "person", ["task", "rater"], nested={"rater": "task"}).components.set_index("effect")[
        "variance"
    ]
    published = {
        "person": 0.4731,
        "task": 0.3252,
        "rater:task": 0.6475,
        "person×task": 0.5596,
        "person×rater:task,e": 2.3802,
    }
    for effect, value in published.items():
        assert round(uni[effect], 4) == value, effect
    cg = R.composite_g_study(d, "score", "person", "rater", "task", weights={"t1": 1, "t2": 1, "t3": 1})
    g = cg.groups.set_index("group")
    # the multivariate components average to the univariate ones (balanced ANOVA estimators)
    off = cg.universe.to_numpy()[~np.eye(3, dtype=bool)]
    assert off.mean() == pytest.approx(uni["person"], abs=5e-5)
    assert g["var_unit"].mean() == pytest.approx(uni["person"] + uni["person×task"], abs=5e-5)
    assert g["var_rater"].mean() == pytest.approx(uni["rater:task"], abs=5e-5)
    assert g["var_residual"].mean() == pytest.approx(uni["person×rater:task,e"], abs=5e-5)
    ds = cg.d_study()
    assert ds["var_universe"] == pytest.approx(0.4731 + 0.5596 / 3, abs=1e-4)
    assert ds["rel_error"] == pytest.approx(2.3802 / 12, abs=1e-4)
    assert ds["abs_error"] == pytest.approx((0.6475 + 2.3802) / 12, abs=1e-4)
    assert round(ds["g"], 3) == 0.769 and round(ds["phi"], 3) == 0.723
    # the same as the univariate D-study with tasks fixed
    fixed = R.g_study(d, "score", "person", ["task", "rater"], nested={"rater": "task"}).d_study(fixed=["task"])
    assert ds["g"] == pytest.approx(fixed["g"], abs=1e-4) and ds["phi"] == pytest.approx(fixed["phi"], abs=1e-4)


def _planted_composite():
    weights = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    sigma_p = np.array([[4.0, 2.0, 1.0], [2.0, 3.0, 1.5], [1.0, 1.5, 2.0]])
    var_r = np.array([1.0, 2.0, 0.5])
    var_e = np.array([6.0, 3.0, 9.0])
    n = np.array([5, 8, 3])
    return weights, sigma_p, var_r, var_e, n


def test_composite_g_study_recovers_planted_components():
    weights, sigma_p, var_r, var_e, n = _planted_composite()
    rng = np.random.default_rng(12)
    n_p = 3000
    mu = rng.multivariate_normal(np.zeros(3), sigma_p, n_p)
    rows = []
    for v, name in enumerate(weights.index):
        r = rng.normal(0, np.sqrt(var_r[v]), n[v])
        x = mu[:, [v]] + r[None, :] + rng.normal(0, np.sqrt(var_e[v]), (n_p, n[v]))
        P, Rr = np.meshgrid(range(n_p), range(n[v]), indexing="ij")
        rows.append(
            pd.DataFrame(
                {"unit": P.ravel(), "rater": [f"{name}{k}" for k in Rr.ravel()], "group": name, "score": x.ravel()}
            )
        )
    cg = R.composite_g_study(pd.concat(rows), "score", "unit", "rater", "group", weights.to_dict())
    np.testing.assert_allclose(cg.universe.to_numpy(), sigma_p, atol=0.35)
    np.testing.assert_allclose(cg.groups["var_residual"], var_e, rtol=0.06)
    np.testing.assert_allclose(cg.groups["raters"], n)


def test_composite_d_study_agrees_with_a_brute_force_simulation():
    """For planted components: g is the squared correlation of observed and universe composite over units scored by one
    panel; the absolute error variance is the mean squared error over units and panels."""
    weights, sigma_p, var_r, var_e, n = _planted_composite()
    groups = pd.DataFrame(
        {
            "group": weights.index,
            "weight": weights.to_numpy(),
            "raters": n.astype(float),
            "units": 0,
            "var_unit": np.diag(sigma_p),
            "var_rater": var_r,
            "var_residual": var_e,
        }
    )
    cg = R.CompositeGStudy(groups=groups, universe=pd.DataFrame(sigma_p, index=weights.index, columns=weights.index))
    ds = cg.d_study()
    rng = np.random.default_rng(3)
    n_p, n_panels = 400, 600
    a = weights.to_numpy()
    mu = rng.multivariate_normal(np.zeros(3), sigma_p, (n_panels, n_p))  # panel × unit × group
    rater_mean = rng.normal(0, 1, (n_panels, 1, 3)) * np.sqrt(var_r / n)
    resid_mean = rng.normal(0, 1, (n_panels, n_p, 3)) * np.sqrt(var_e / n)
    universe = mu @ a
    observed = (mu + rater_mean + resid_mean) @ a
    assert ((observed - universe) ** 2).mean() == pytest.approx(ds["abs_error"], rel=0.03)
    r2 = np.mean([np.corrcoef(observed[k], universe[k])[0, 1] ** 2 for k in range(n_panels)])
    assert r2 == pytest.approx(ds["g"], abs=0.01)
    assert ds["var_universe"] == pytest.approx(a @ sigma_p @ a)


def test_the_target_for_ranking_is_set_in_points():
    """g = 0.8 means an SEM of σ_τ/2; the panel for a given SEM is the smallest with sem_rel ≤ target, and the optimal
    allocation (n_v ∝ a_v σ_v) needs no more raters than the current one."""
    weights, sigma_p, var_r, var_e, n = _planted_composite()
    groups = pd.DataFrame(
        {
            "group": weights.index,
            "weight": weights.to_numpy(),
            "raters": n.astype(float),
            "units": 0,
            "var_unit": np.diag(sigma_p),
            "var_rater": var_r,
            "var_residual": var_e,
        }
    )
    cg = R.CompositeGStudy(groups=groups, universe=pd.DataFrame(sigma_p, index=weights.index, columns=weights.index))
    tau = cg.var_universe
    assert cg.sem_for_g(0.8) == pytest.approx(np.sqrt(tau) / 2)
    assert cg.g_for_sem(cg.sem_for_g(0.9)) == pytest.approx(0.9)
    target = 0.25
    now = cg.panel_for(target)
    opt = cg.panel_for(target, allocation="optimal")
    assert now["sem_rel"] <= target and opt["sem_rel"] <= target and opt["total"] <= now["total"]
    smaller = {g: max(now[f"raters_{g}"] - 1, 1) for g in weights.index}
    assert cg.d_study(smaller)["sem_rel"] > target * 0.97  # one fewer rater everywhere is (about) too few
    curve = cg.d_study_grid(scale=[1, 2, 4])
    assert curve["se_difference"].is_monotonic_decreasing
    assert curve["se_difference"].iloc[2] == pytest.approx(curve["se_difference"].iloc[0] / 2)
    with pytest.raises(ValueError, match="g must lie"):
        cg.sem_for_g(1.0)


def test_onsite_g_study_on_the_demo_matches_the_data_based_precision(scheme):
    """The D-study's SE of a difference at the current panel is the typical SE of an adjacent difference from the data."""
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    ds = load_dataset(DEMO_DIR, scheme)
    cg = R.onsite_g_study(ds, scheme)
    assert set(cg.groups["group"]) == set(scheme.group_ids) and cg.dropped == 2
    assert cg.weights.sum() == pytest.approx(1.0)
    now = cg.d_study()
    p = R.score_precision(ds, scheme)
    assert now["se_difference"] == pytest.approx(p.adjacent["se_difference"].median(), rel=0.15)
    assert 2.0 < cg.sem_for_g(0.8) < 3.2  # g = 0.8 allows an SEM of several points: far too coarse to rank


def test_composite_g_study_refuses_raters_in_two_groups_and_groups_without_weight():
    d = _synthetic4()
    with pytest.raises(DataError, match="more than one task"):
        R.composite_g_study(
            d.assign(rater=d["rater"].str[-2:]), "score", "person", "rater", "task", {"t1": 1, "t2": 1, "t3": 1}
        )
    with pytest.raises(DataError, match="task 't3' has no weight"):
        R.composite_g_study(d, "score", "person", "rater", "task", {"t1": 1, "t2": 1})


# ---------------------------------------------------------------------------
# issue 10, item 9: Krippendorff's alpha interval resamples evaluated units
# ---------------------------------------------------------------------------


def _clustered(seed=0, n_clusters=40, n_items=7, n_raters=6):
    """Items in clusters; each rater's error has a part shared by all items of a cluster (a view of the unit). Whole points."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_clusters):
        level = rng.normal(0, 2.0)
        view = rng.normal(0, 2.4, n_raters)  # rater × cluster, shared over the cluster's items
        for i in range(n_items):
            true = level + rng.normal(0, 1.6)
            for r in range(n_raters):
                rows.append((f"u{c}", f"u{c}/i{i}", f"r{r}", float(np.rint(true + view[r] + rng.normal(0, 0.8)))))
    return pd.DataFrame(rows, columns=["unit", "item", "rater", "value"])


def test_cluster_bootstrap_is_wider_than_the_item_bootstrap_when_items_share_a_unit():
    d = _clustered()
    cell = R.krippendorff_alpha_ci(d, "item", "rater", "value", "interval", n_boot=400, seed=1)
    clus = R.krippendorff_alpha_ci(d, "item", "rater", "value", "interval", n_boot=400, seed=1, cluster="unit")
    assert cell.alpha == clus.alpha and clus.ci95_low < clus.alpha < clus.ci95_high
    assert clus.ci95_high - clus.ci95_low > 1.6 * (cell.ci95_high - cell.ci95_low)


def test_cluster_of_one_unit_each_is_the_plain_bootstrap_and_clusters_must_hold_whole_units():
    d = _hayes().assign(cluster=lambda x: x["unit"])
    plain = R.krippendorff_alpha_ci(d, "unit", "observer", "value", "ordinal", n_boot=100, seed=5)
    same = R.krippendorff_alpha_ci(d, "unit", "observer", "value", "ordinal", n_boot=100, seed=5, cluster="cluster")
    assert (plain.ci95_low, plain.ci95_high) == (same.ci95_low, same.ci95_high)
    bad = d.assign(cluster=np.arange(len(d)) % 3)
    with pytest.raises(DataError, match="more than one cluster"):
        R.krippendorff_alpha_ci(bad, "unit", "observer", "value", "ordinal", n_boot=10, cluster="cluster")


def test_alpha_interval_on_the_demo_resamples_the_evaluated_units(scheme):
    """The demo's ordinal alpha 0.54: the interval over units × indicators, about [0.51, 0.57], widens to about
    [0.47, 0.60] when the evaluated units (clusters of seven indicator grades) are resampled."""
    from conftest import DEMO_DIR

    from perflab.io import load_dataset

    ds = load_dataset(DEMO_DIR, scheme)
    band = {g: k for k, g in enumerate(scheme.grades[::-1])}
    g = ds.ratings.assign(item=ds.ratings["unit"] + "/" + ds.ratings["indicator"], band=ds.ratings["grade"].map(band))
    cell = R.krippendorff_alpha_ci(g, "item", "rater", "band", "ordinal", n_boot=300, seed=2016)
    clus = R.krippendorff_alpha_ci(g, "item", "rater", "band", "ordinal", n_boot=300, seed=2016, cluster="unit")
    assert clus.alpha == pytest.approx(0.54, abs=0.005)
    assert clus.ci95_low == pytest.approx(0.467, abs=0.015) and clus.ci95_high == pytest.approx(0.60, abs=0.015)
    assert clus.ci95_high - clus.ci95_low > 1.8 * (cell.ci95_high - cell.ci95_low)


def test_reliability_figures_and_tables_draw_in_words(scheme, caplog):
    """The section's figures draw with titles and axis labels and no missing glyph; tables have no row numbers."""
    from conftest import DEMO_DIR, draw_figures

    from perflab.io import load_dataset
    from perflab.plots import reliability as rel_plots

    ds = load_dataset(DEMO_DIR, scheme)
    p = R.score_precision(ds, scheme)
    cg = R.onsite_g_study(ds, scheme)
    curve = cg.d_study_grid(scale=[0.5, 1, 2]).assign(rank_group="department")
    now = pd.DataFrame([{"rank_group": "department", "raters": 149.0, "se_difference": 0.37}])
    figs = [rel_plots.adjacent_gaps(p.adjacent), rel_plots.d_study_curves(curve, now, pd.Series({"department": 0.2}))]
    texts, problems = draw_figures(figs, caplog)
    assert not problems and any("SE" in x or "标准误" in x for x in texts)
    html = rel_plots.table(p.summary()).to_html()
    assert "rank_group" not in html and "1e+" not in html and "%" in html
    iccs = R.icc_by(
        ds.ratings.groupby(["unit", "rater"], as_index=False)["score"].mean().merge(ds.units[["unit", "kind"]]),
        "unit",
        "rater",
        "score",
        rank_group="kind",
    )
    assert "[" in rel_plots.icc_table(iccs).to_html()
