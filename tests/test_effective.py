"""Effective weights (Paruolo, Saisana & Saltelli 2013): variance shares and correlation ratios beside the nominal weights."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO_DIR, SCHEME_FILE

from perflab.effective import correlation_ratio, effective_weights, variance_shares
from perflab.io import dataset_from_tables, load_dataset
from perflab.scheme import load_scheme
from perflab.scoring import attainment_scores


@pytest.fixture(scope="module")
def demo():
    s = load_scheme(SCHEME_FILE)
    ds = load_dataset(DEMO_DIR, s)
    return s, ds, effective_weights(ds, s)


def test_variance_shares_add_up_to_one_per_group_and_level(demo):
    _, _, ew = demo
    total = ew.groupby(["rank_group", "level"])["variance_share"].sum()
    np.testing.assert_allclose(total, 1.0, atol=1e-9)
    nominal = ew.groupby(["rank_group", "level"])["nominal"].sum()
    np.testing.assert_allclose(nominal, 1.0, atol=1e-9)
    assert set(ew["rank_group"]) == {"district", "department"}  # one table per ranking group, never pooled


def test_a_capped_component_weighs_less_than_its_nominal_weight(demo):
    """Most department attainment scores sit at the cap: routine (nominal 40 %) spreads them far less than on-site."""
    s, ds, ew = demo
    att = attainment_scores(ds, s)
    dept = att["unit"].map(ds.units.set_index("unit")["kind"]) == "department"
    assert (att.loc[dept, "score"] >= 100 - 1e-9).mean() > 0.5
    r = ew[(ew["rank_group"] == "department") & (ew["level"] == "component")].set_index("item")
    assert r.loc["routine", "nominal"] == pytest.approx(0.4)
    assert r.loc["routine", "variance_share"] < 0.5 * r.loc["routine", "nominal"]
    assert r.loc["routine", "sd_points"] < r.loc["onsite", "sd_points"] / 3
    assert r.loc["onsite", "variance_share"] > r.loc["onsite", "nominal"]


def test_capping_every_target_lowers_routines_effective_weight(demo):
    """The same data with every target met exactly (attainment 100 everywhere): routine moves on satisfaction
    and verification alone, so its effective weight falls for districts too."""
    s, ds, ew = demo
    t = {n: getattr(ds, n) for n in ("units", "raters", "ratings", "history", "survey", "verification", "assessments")}
    h = t["history"].copy()
    h["target"] = h["target"].where(h["target"].isna(), h["value"].clip(lower=1e-6))
    t["history"] = h
    capped = effective_weights(dataset_from_tables(t, s), s)

    def share(frame):
        return frame.set_index(["rank_group", "level", "item"]).loc[
            ("district", "component", "routine"), "variance_share"
        ]

    assert share(capped) < share(ew) and share(capped) < 0.4


def test_equal_variance_independent_items_share_the_variance_as_squared_weights():
    """Var(Σ w x) = Σ w² for independent unit-variance x: an item's variance share is w_i² / Σ w², not w_i."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((200_000, 3))
    x = (x - x.mean(0)) / x.std(0)
    w = np.array([0.5, 0.3, 0.2])
    y = x @ w
    np.testing.assert_allclose(variance_shares(x * w, y), w**2 / (w**2).sum(), atol=0.01)


def test_correlation_ratio_sees_a_nonlinear_main_effect_that_correlation_misses():
    x = np.linspace(-1, 1, 81)
    assert correlation_ratio(x, 3 * x + 1) == pytest.approx(1.0, abs=1e-9)
    y = x**2
    assert np.corrcoef(x, y)[0, 1] ** 2 < 1e-9
    assert correlation_ratio(x, y, frac=0.3) > 0.95  # a narrow smoother follows the parabola
    assert correlation_ratio(x, y) > 0.5  # the default (2/3 of the units, for 16 districts) smooths more
    rng = np.random.default_rng(3)
    assert correlation_ratio(rng.standard_normal(400), rng.standard_normal(400)) < 0.1
    assert correlation_ratio(np.ones(10), x[:10]) == 0.0  # a constant item explains nothing


def test_the_frac_of_the_smoother_is_checked(demo):
    s, ds, _ = demo
    with pytest.raises(ValueError, match="frac"):
        effective_weights(ds, s, frac=0)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # LOWESS on four units
def test_a_geometric_scheme_gets_effective_weights_whose_variance_shares_add_up(scheme_dict):
    from conftest import make_scheme, tiny_tables

    scheme_dict["composite"] = "geometric"
    scheme_dict["ranking"] = {"within": "all", "zone": True}  # the tiny data have two units of each kind
    s = make_scheme(scheme_dict)
    ew = effective_weights(dataset_from_tables(tiny_tables(), s), s)
    assert set(ew["level"]) == {"component", "indicator"}
    np.testing.assert_allclose(ew.groupby("level")["variance_share"].sum(), 1.0, atol=1e-9)
