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


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
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
    a1, ci1 = R.krippendorff_alpha(d, "unit", "observer", "value", "ordinal", n_boot=300, rng=np.random.default_rng(1))
    a2, ci2 = R.krippendorff_alpha(d, "unit", "observer", "value", "ordinal", n_boot=300, rng=np.random.default_rng(1))
    assert ci1[0] < a1 < ci1[1] and np.array_equal(ci1, ci2)


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
    published = {"person": .5528, "item": .4417, "occasion": .0074, "person×item": .5750,
                 "person×occasion": .1009, "item×occasion": .1565, "person×item×occasion,e": .9352}
    for effect, value in published.items():
        assert var[effect] == value, effect
    ds = gs.d_study({"item": 4, "occasion": 2})
    assert round(ds["g"], 2) == 0.64 and round(ds["phi"], 2) == 0.55
    grid = gs.d_study({"item": [2, 4, 8], "occasion": 2})
    assert list(grid["item"]) == [2, 4, 8] and grid["g"].is_monotonic_increasing


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
    d = pd.DataFrame({"unit": P.ravel(), "group": G.ravel(), "rater": [f"r{k}" for k in Rr.ravel()], "score": y.ravel()})
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
    ours = R.icc(d, "target", "rater", "rating")
    theirs = pg.intraclass_corr(d, "target", "rater", "rating")
    assert list(ours["Type"]) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    np.testing.assert_allclose(ours["ICC"], theirs["ICC"], rtol=1e-10)
    np.testing.assert_allclose(ours["F"], theirs["F"], rtol=1e-10)
    np.testing.assert_allclose(ours["pval"], theirs["pval"], rtol=1e-8)
    lows = np.array([ci[0] for ci in theirs["CI95"]])
    np.testing.assert_allclose(ours["CI95_low"], lows, atol=0.006)  # pingouin rounds its interval to 2 decimals
    assert ours.attrs["method"] == "anova"


def test_icc_on_unbalanced_data_keeps_every_target_and_recovers_the_truth():
    rng = np.random.default_rng(3)
    n, k = 150, 12
    t = rng.normal(0, 2.0, n)
    r = rng.normal(0, 1.0, k)
    rows = [(i, j, t[i] + r[j] + rng.normal(0, 1.0)) for i in range(n) for j in rng.choice(k, rng.integers(2, 6), replace=False)]
    d = pd.DataFrame(rows, columns=["target", "rater", "rating"])
    out = R.icc(d, "target", "rater", "rating")
    assert out.attrs["method"] == "henderson3" and out.attrs["n_targets"] == n
    icc = out.set_index("Type")["ICC"]
    vt, vr = t.var(ddof=1), r.var(ddof=1)  # the realised variances of the planted effects
    assert out.attrs["var_target"] == pytest.approx(vt, rel=0.15)
    assert icc["ICC2"] == pytest.approx(vt / (vt + vr + 1), abs=0.05)
    assert icc["ICC3"] == pytest.approx(vt / (vt + 1), abs=0.03)
    assert (out["CI95_low"] < out["ICC"]).all() and (out["ICC"] < out["CI95_high"]).all()


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
    out = R.icc(d, "target", "rater", "rating").set_index("Type")
    a2 = anova_lm(sm.ols("rating ~ C(rater) + C(target)", d).fit(), typ=1)
    a1 = anova_lm(sm.ols("rating ~ C(target)", d).fit(), typ=1)
    assert out.loc["ICC3", "F"] == pytest.approx(a2.loc["C(target)", "F"], rel=1e-8)
    assert out.loc["ICC3", "df2"] == a2.loc["Residual", "df"]
    assert out.loc["ICC3", "pval"] == pytest.approx(a2.loc["C(target)", "PR(>F)"], rel=1e-6, abs=1e-12)
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
    out = R.icc(d, "t", "r", "y").set_index("Type")
    assert out.loc["ICC3", "ICC"] == 1.0 and out.loc["ICC3k", "ICC"] == 1.0
    assert np.isinf(out.loc["ICC3", "F"]) and out.loc["ICC3", "pval"] == 0.0
    assert out.loc["ICC3", "CI95_low"] == out.loc["ICC3", "CI95_high"] == 1.0
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
    from perflab.io import load_dataset

    from conftest import DEMO_DIR

    ds = load_dataset(DEMO_DIR, scheme)
    out = R.panel_sizes(ds.ratings, ds.raters, target=0.8)
    assert set(out["group"]) == set(ds.raters["group"])
    grass = out.set_index("group").loc["grassroots"]
    assert grass["n_raters_used"] == grass["n_raters"]  # session blocks: every grassroots rater counted
    assert (out["raters_needed_g"] >= 1).all() and (out["g"] > 0).all()
    curves = out.attrs["curves"]
    assert curves.groupby("group")["g"].apply(lambda s: s.is_monotonic_increasing).all()


def test_panel_sizes_names_an_unknown_rater_and_a_rater_without_group():
    ratings = pd.DataFrame({"rater": ["a", "b", "ghost"], "unit": "u", "indicator": "i", "score": [1.0, 2, 3]})
    raters = pd.DataFrame({"rater": ["a", "b"], "group": ["g", None]})
    with pytest.raises(DataError, match="rater 'ghost' is not in the raters table"):
        R.panel_sizes(ratings, raters)
    with pytest.raises(DataError, match="rater 'b' has no group"):
        R.panel_sizes(ratings[ratings["rater"] != "ghost"], raters)
