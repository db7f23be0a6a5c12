"""Sensitivity of any node of a tree (issue 14, item 4): on a flat scheme every node-level function gives exactly
its indicator-level counterpart (known answer), exact intervals of an internal node's weight are where a brute-force
scan of that weight through Scheme.with_node_weight sees the ranks change, a regrouping tree gives the flat
scheme's Monte Carlo, and a non-linear composite is refused with the one message."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, SCHEME_FILE, make_scheme
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from perflab import sensitivity as sv
from perflab.composite import NonLinearComposite
from perflab.ranking import factorize_groups, ranks_by_group
from perflab.scheme import load_scheme

SANXIAO = load_scheme(ROOT / "params" / "beijing_departments_sanxiao.yaml")
FLAT = load_scheme(SCHEME_FILE)
LINEAR_ONLY = "need a linear composite"


def synthetic(scheme, n=20, seed=0, lo=55.0, hi=100.0):
    """A unit × leaf score table of n units in two kinds (the kinds are the rank groups)."""
    rng = np.random.default_rng(seed)
    units = pd.Index([f"U{i:02d}" for i in range(n)], name="unit")
    S = pd.DataFrame(rng.uniform(lo, hi, (n, len(scheme.indicator_ids))), index=units, columns=scheme.indicator_ids)
    kinds = pd.Series(np.where(np.arange(n) % 2, "district", "department"), index=units)
    return S, kinds


@pytest.fixture(scope="module")
def flat_table():
    return synthetic(FLAT)


def test_a_first_level_node_of_a_flat_scheme_has_exactly_the_indicator_weight_intervals(flat_table):
    S, kinds = flat_table
    got = sv.node_stability_intervals(S, FLAT, k=3, bands=FLAT.bands, rank_group=kinds)
    want = sv.stability_intervals(S, FLAT.weights, k=3, bands=FLAT.bands, rank_group=kinds)
    assert_frame_equal(got.units, want.units)
    assert_frame_equal(got.top_k, want.top_k)
    assert_frame_equal(got.swaps, want.swaps)
    assert_frame_equal(got.summary(0.1), want.summary(0.1))


def test_node_one_at_a_time_on_a_flat_scheme_is_the_indicator_one_at_a_time(flat_table):
    S, kinds = flat_table
    got = sv.node_one_at_a_time(S, FLAT, step=0.3, rank_group=kinds)
    assert_frame_equal(got, sv.one_at_a_time(S, FLAT.weights, step=0.3, rank_group=kinds))


@pytest.mark.parametrize("method, all_levels", [("uniform", False), ("dirichlet", True), ("simplex", False)])
def test_node_monte_carlo_on_a_flat_scheme_is_the_indicator_monte_carlo(flat_table, method, all_levels):
    S, kinds = flat_table
    kw = dict(n=2100, method=method, spread=0.3, seed=7, rank_group=kinds, tau_draws=300)
    got = sv.node_monte_carlo(S, FLAT, all_levels=all_levels, **kw)
    want = sv.monte_carlo(S, FLAT.weights, **kw)
    for name in ("units", "frequencies", "tau", "central_weights", "top_k"):
        assert_frame_equal(getattr(got, name), getattr(want, name))


def test_node_sobol_on_a_flat_scheme_is_the_indicator_sobol(flat_table):
    S, kinds = flat_table
    got = sv.node_sobol_indices(S, FLAT, n=64, spread=0.3, seed=2, rank_group=kinds, num_resamples=10)
    want = sv.sobol_indices(S, FLAT.weights, n=64, spread=0.3, seed=2, rank_group=kinds, num_resamples=10)
    for name in ("indices", "inputs", "interaction"):
        assert_frame_equal(getattr(got, name), getattr(want, name))


def regrouped(parent_weights=(60.0, 20.0, 20.0)):
    """The 2016 scheme's seven indicators under three parents; with the default parent weights the product
    weights are exactly the flat weights."""
    d = copy.deepcopy(yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8")))
    by = {i["id"]: i for i in d["indicators"]}
    groups = {
        "results": ["rectification", "main_indicators", "key_tasks"],
        "conduct": ["law_based_admin", "clean_admin"],
        "quality": ["innovation", "service"],
    }
    d["indicators"] = [
        {"id": g, "name_zh": g, "name_en": g, "weight": w, "children": [by[i] for i in ids]}
        for (g, ids), w in zip(groups.items(), parent_weights)
    ]
    return make_scheme(d)


def test_a_regrouping_tree_gives_the_flat_schemes_monte_carlo(flat_table):
    S, kinds = flat_table
    tree = regrouped()
    np.testing.assert_allclose(tree.weights.reindex(S.columns), FLAT.weights / FLAT.weights.sum(), rtol=1e-12)
    kw = dict(n=1500, spread=0.3, seed=4, rank_group=kinds, tau_draws=200)
    a, b = sv.monte_carlo(S, tree.weights, **kw), sv.monte_carlo(S, FLAT.weights, **kw)
    assert_frame_equal(a.units, b.units)
    assert_frame_equal(a.frequencies, b.frequencies)
    nominal = sv.node_monte_carlo(S, tree, all_levels=True, n=50, spread=0.0, rank_group=kinds)
    assert (nominal.units["nominal_rank"] == b.units["nominal_rank"]).all()
    assert (nominal.units["rank_p05"] == nominal.units["rank_p95"]).all()


def test_node_monte_carlo_moves_only_the_leaves_below_the_node_drawn():
    S, _ = synthetic(SANXIAO, n=8)
    mc = sv.node_monte_carlo(S, SANXIAO, node="service_results", n=400, spread=0.5, seed=1)
    cw = mc.central_weights.drop(columns="p_first").dropna()
    base = SANXIAO.weights
    below = ["serving_central", "public_evaluation", "leaders_evaluation", "coordination"]
    others = [c for c in S.columns if c not in below]
    np.testing.assert_allclose(cw[others].to_numpy(), np.broadcast_to(base[others], (len(cw), len(others))))
    np.testing.assert_allclose(cw[below].sum(axis=1), base[below].sum())
    assert mc.settings["node"] == "indicators.service_results" and not mc.settings["all_levels"]
    sob = sv.node_sobol_indices(S, SANXIAO, node="management", n=32, seed=1, num_resamples=10)
    assert set(sob.indices["input"]) == {"law_based_admin", "capacity_building"}


def ranks_of(scheme, S, kinds=None):
    """Brute force: the ranks by the scheme's leaf weights (at 9 decimals, within kinds)."""
    w = scheme.weights.reindex(S.columns).to_numpy(float)
    codes, labels = factorize_groups(kinds, S.index)
    return ranks_by_group((S.to_numpy(float) @ (w / w.sum()))[None, :], codes, len(labels))[0]


def rescaled(scheme, node, v):
    """The scheme with the node's weight v and its siblings rescaled to keep their total."""
    n = scheme.node(node)
    sibs = scheme.node(n.path[:-1]).children if n.depth > 1 else scheme.tree
    total = sum(s.weight for s in sibs)
    rest = total - n.weight
    return scheme.with_weights({s.id: (v if s.id == n.id else s.weight * (total - v) / rest) for s in sibs})


@st.composite
def trees_and_tables(draw):
    """The 三效一创 tree with drawn node weights, a small integer score table (crossings and ties common) and a node."""
    weights = {n.id: float(draw(st.integers(1, 10))) for n in SANXIAO.nodes}
    scheme = SANXIAO.with_weights(weights)
    n = draw(st.integers(3, 6))
    vals = draw(st.lists(st.integers(0, 20), min_size=8 * n, max_size=8 * n))
    S = pd.DataFrame(np.array(vals, float).reshape(n, 8), columns=scheme.indicator_ids)
    S.index = pd.Index([f"U{i}" for i in range(n)], name="unit")
    node = draw(st.sampled_from(["management", "service_results", "public_evaluation", "capacity_building"]))
    return scheme, S, node


@settings(max_examples=12, deadline=None)
@given(trees_and_tables())
def test_node_weight_intervals_are_where_a_brute_force_scan_of_the_weight_sees_the_change(case):
    scheme, S, node = case
    nominal = ranks_of(scheme, S)
    w0 = scheme.node(node).weight
    total = sibling_total(scheme, node)
    rest = total - w0
    for siblings in ("kept", "rescaled"):
        if siblings == "kept":  # Scheme.with_node_weight: the siblings keep their weights; v is the same share of total
            at, top = (lambda w: scheme.with_node_weight(node, w)), 20 * w0
            to_v, from_v = (lambda w: total * w / (w + rest)), (lambda v: v * rest / (total - v))
        else:
            at, top = (lambda v: rescaled(scheme, node, v)), total
            to_v = from_v = lambda v: v  # noqa: E731
        res = sv.node_stability_intervals(S, scheme, nodes=node, k=2, siblings=siblings)
        u = res.units.set_index("unit").reindex(S.index)
        assert (u["rank"].to_numpy() == nominal).all()
        grid = np.linspace(0, top, 241)
        scan = np.array([ranks_of(at(x), S) for x in grid])
        delta = 1e-7 * total  # in the rescaled weight (the share times the total), as the flat test's
        for i in range(len(S)):
            lo, hi = u["weight_low"].iloc[i], u["weight_high"].iloc[i]
            assert lo <= w0 <= hi
            inside = (grid > lo + 1e-9 * top) & (grid < hi - 1e-9 * top)
            assert (scan[inside, i] == nominal[i]).all()  # nothing changes strictly inside
            for e in (lo, hi):
                if 0 < e and np.isfinite(e) and to_v(e) < total:
                    near = [from_v(v) for v in (to_v(e) - delta, to_v(e) + delta) if 0 <= v < total]
                    assert any(ranks_of(at(x), S)[i] != nominal[i] for x in [e] + near)  # it changes at the end


def sibling_total(scheme, node):
    n = scheme.node(node)
    sibs = scheme.node(n.path[:-1]).children if n.depth > 1 else scheme.tree
    return sum(s.weight for s in sibs)


def test_kept_and_rescaled_intervals_are_the_same_shares():
    S, kinds = synthetic(SANXIAO, n=12, seed=3)
    a = sv.node_stability_intervals(S, SANXIAO, nodes=["management"], rank_group=kinds)
    b = sv.node_stability_intervals(S, SANXIAO, nodes=["management"], rank_group=kinds, siblings="kept")
    total, rest = 100.0, 85.0
    for end in ("weight_low", "weight_high"):
        v, w = a.units[end].to_numpy(), b.units[end].to_numpy()
        np.testing.assert_allclose(v / total, np.where(np.isinf(w), 1.0, w / np.where(np.isinf(w), 1, w + rest)))


def test_a_geometric_composite_is_refused_with_the_one_message(flat_table):
    S, _ = flat_table
    d = copy.deepcopy(yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8")))
    d["composite"] = "geometric"
    geo = make_scheme(d)
    with pytest.raises(NonLinearComposite, match=LINEAR_ONLY):
        sv.node_stability_intervals(S, geo)
    with pytest.raises(NonLinearComposite, match=LINEAR_ONLY):
        sv.node_stability_intervals(synthetic(SANXIAO)[0], SANXIAO, nodes="management", composite="geometric")
    oat = sv.node_one_at_a_time(S, geo, nodes="service")  # evaluated at the moved weights: any composite
    assert set(oat["indicator"]) == {"service"}


def test_bad_input_gets_one_clear_error(flat_table):
    S, _ = flat_table
    with pytest.raises(Exception, match="do not match the leaves"):
        sv.node_stability_intervals(S.drop(columns="service"), FLAT)
    with pytest.raises(Exception, match="unknown indicator"):
        sv.node_one_at_a_time(S, FLAT, nodes="nowhere")
    with pytest.raises(Exception, match="is a leaf"):
        sv.node_monte_carlo(S, FLAT, node="service", n=10)
    with pytest.raises(ValueError, match="siblings must be one of"):
        sv.node_stability_intervals(S, FLAT, siblings="fixed")
    T1, _ = synthetic(SANXIAO, n=5)
    with pytest.raises(Exception, match="positive weight to rescale"):
        sv.node_stability_intervals(T1, SANXIAO, nodes="statutory_duties")  # an only child


def test_a_node_aggregating_geometrically_above_the_moving_one_is_refused_with_the_one_message():
    from perflab.tree import Node

    kids = (Node("a", "", "", 1.0, path=("m", "a")), Node("b", "", "", 1.0, path=("m", "b")))
    tree = (Node("m", "", "", 2.0, "geometric", kids, ("m",)), Node("c", "", "", 1.0, path=("c",)))
    S = pd.DataFrame({"a": [90.0, 80.0], "b": [60.0, 75.0], "c": [70.0, 60.0]}, index=["X", "Y"])
    with pytest.raises(NonLinearComposite, match=LINEAR_ONLY):
        sv.node_stability_intervals(S, tree, nodes="a", composite="arithmetic")
    assert len(sv.node_stability_intervals(S, tree, nodes="m", composite="arithmetic").units) == 2
