"""Sensitivity under the scheme's composite: Monte Carlo, SMAA, one-at-a-time and Sobol run under a geometric
composite (on-site profiles mapped to the final score), the geometric composite never exceeds the arithmetic one
(AM-GM), the profile route reproduces the final-scale route under the arithmetic composite, and every exact
method refuses a non-linear composite with the one message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR, make_scheme
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab import sensitivity as sv
from perflab.composite import NonLinearComposite, aggregate
from perflab.io import load_dataset
from perflab.ranking import factorize_groups, rank_groups, ranks_by_group
from perflab.scoring import score_units

LINEAR_ONLY = "need a linear composite"


@pytest.fixture(scope="module")
def geometric():
    """The Beijing scheme with composite: geometric, the demo data, its profiles and the map to the final score."""
    import copy

    import yaml
    from conftest import SCHEME_FILE

    d = copy.deepcopy(yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8")))
    d["composite"] = "geometric"
    s = make_scheme(d)
    ds = load_dataset(DEMO_DIR, s)
    kind = rank_groups(score_units(ds, s).set_index("unit"), s)
    return s, ds, sv.unit_indicator_scores(ds, s, "profile"), sv.final_map(ds, s), kind


def test_monte_carlo_runs_on_a_geometric_scheme_and_ranks_the_mapped_composite(geometric):
    s, ds, P, fmap, kind = geometric
    mc = sv.monte_carlo(P, s.weights, n=500, seed=1, rank_group=kind, composite="geometric", final_map=fmap)
    w = (s.weights / s.weights.sum()).reindex(P.columns).to_numpy()
    final = aggregate(P.to_numpy(), w, "geometric") * fmap["factor"].to_numpy() + fmap["offset"].to_numpy()
    codes, labels = factorize_groups(kind, P.index)
    nominal = ranks_by_group(final[None, :], codes, len(labels))[0]
    assert (mc.units["nominal_rank"].to_numpy() == nominal).all()
    assert mc.settings["composite"] == "geometric" and mc.frequencies.to_numpy().sum() == 500 * len(P)
    assert (mc.units["rank_p05"] <= mc.units["rank_p95"]).all()


def test_geometric_runs_with_rater_replicates_smaa_and_one_at_a_time(geometric):
    s, ds, P, fmap, kind = geometric
    draws = sv.rater_bootstrap(ds, s, n=6, seed=2, scale="profile")
    kw = dict(rank_group=kind, composite="geometric", final_map=fmap)
    mc = sv.monte_carlo(P, s.weights, n=300, seed=1, score_draws=draws, **kw)
    assert mc.settings["replicates"] == 6 and mc.units["written_report"].sum() == draws.written_report.sum()
    smaa = sv.rank_acceptability(P, n=300, seed=1, bounds=sv.bounds_around(s.weights, 0.3), **kw)
    np.testing.assert_allclose(smaa.acceptability().sum(axis=1), 1.0)
    oat = sv.one_at_a_time(P, s.weights, step=0.2, **kw)
    assert (
        set(oat["change"]) == {-0.2, 0.2}
        and (oat["nominal_rank"] == mc.units.set_index("unit")["nominal_rank"].reindex(oat["unit"]).to_numpy()).all()
    )


def test_sobol_runs_on_a_geometric_scheme_with_a_group_share(geometric):
    s, ds, P, fmap, kind = geometric
    cube = sv.score_cube(ds, s, "profile")
    res = sv.sobol_indices(
        None,
        s.weights,
        n=32,
        seed=1,
        rank_group=kind,
        cube=cube,
        shares=s.shares,
        group="grassroots",
        num_resamples=10,
        composite="geometric",
        final_map=fmap,
    )
    summ = res.summary()
    assert set(summ["input"]) == set(s.weights.index) | {"share:grassroots"}
    assert summ["ST"].between(-0.5, 1.5).all() and res.settings["composite"] == "geometric"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(1.0, 100.0), min_size=6, max_size=6),
    st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3),
)
def test_the_geometric_composite_never_exceeds_the_arithmetic_one(vals, w):
    """AM-GM: for the same (normalised) weights, the weighted geometric mean is at most the weighted arithmetic mean."""
    S = np.array(vals).reshape(2, 3)
    W = (np.array(w) / np.sum(w))[None, :]
    geo, ari = sv.composite_scores(W, S, "geometric"), sv.composite_scores(W, S, "arithmetic")
    assert (geo <= ari + 1e-9).all()


def test_under_the_arithmetic_composite_the_profile_route_is_the_final_scale_route(scheme):
    """c · (Σ w x) + o = Σ w (c x + o) when the weights sum to 1: both routes give the same scores and ranks."""
    ds = load_dataset(DEMO_DIR, scheme)
    F = sv.unit_indicator_scores(ds, scheme)
    P = sv.unit_indicator_scores(ds, scheme, "profile")
    m = sv.final_map(ds, scheme)
    W = sv.draw_weights((scheme.weights / scheme.weights.sum()).reindex(F.columns).to_numpy(), 50, seed=3)
    a = sv.composite_scores(W, F.to_numpy())
    b = sv.composite_scores(W, P.to_numpy(), final_map=(m["factor"].to_numpy(), m["offset"].to_numpy()))
    np.testing.assert_allclose(a, b, atol=1e-9)
    one = sv.monte_carlo(F, scheme.weights, n=200, seed=4)
    two = sv.monte_carlo(P, scheme.weights, n=200, seed=4, final_map=m)
    assert (one.units["nominal_rank"] == two.units["nominal_rank"]).all()


def test_every_exact_method_refuses_a_geometric_composite_with_one_message(geometric):
    s, ds, P, fmap, kind = geometric
    G = pd.DataFrame({"experts": [90.0, 70.0], "grassroots": [60.0, 85.0]}, index=["X", "Y"])
    shares = pd.Series({"experts": 0.7, "grassroots": 0.3})
    calls = {
        "exact stability intervals": lambda: sv.stability_intervals(P, s.weights, composite="geometric"),
        "best-case weights": lambda: sv.best_case_ranks(P, composite="geometric"),
        "exact share breakpoints": lambda: sv.share_breakpoints(G, shares, "grassroots", composite="geometric"),
        "exact share grade changes": lambda: sv.share_grade_changes(
            G, shares, "grassroots", s.bands, composite="geometric"
        ),
        "share paths": lambda: sv.share_path(G, shares, "grassroots", [0.2], composite="geometric"),
        "unit × group scores": lambda: sv.unit_group_scores(ds, s),
        "final-score scale": lambda: sv.unit_indicator_scores(ds, s, "final"),
    }
    for what, call in calls.items():
        with pytest.raises(NonLinearComposite, match=LINEAR_ONLY) as e:
            call()
        assert what in str(e.value) and "'geometric'" in str(e.value)


def test_an_unknown_composite_is_named():
    S = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]})
    with pytest.raises(ValueError, match="unknown composite 'harmonic'"):
        sv.monte_carlo(S, pd.Series({"a": 1.0, "b": 1.0}), n=10, composite="harmonic")
