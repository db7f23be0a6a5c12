"""Tree-shaped schemes: a tree scores exactly as the flat scheme of its leaves' path-product weights, a flat
scheme is unchanged, bad trees give one message naming the node, and sweep paths reach any node."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DEMO_DIR, SCHEME_FILE, make_scheme
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.errors import SchemeError
from perflab.io import load_dataset
from perflab.scoring import score_units
from perflab.sweep.overrides import apply_overrides, check_override

# sha256 of beijing_2016.yaml's Scheme.to_dict(), computed at b8e46cc (before schemes became trees): it keys
# caches and provenance, so a flat scheme must keep it
BEIJING_2016_DIGEST = "ed0bafd36d69a88fd93e3086f5e95a56395180d3ff56b041a2463252172939dc"
FLAT_IDS = ["rectification", "main_indicators", "key_tasks", "law_based_admin", "clean_admin", "innovation", "service"]


def regrouped(flat_indicators: list[dict], results: float, conduct: float) -> list[dict]:
    """The seven 2016 indicators under two parents: results (the first three) and conduct (the other four)."""
    items = copy.deepcopy(flat_indicators)
    return [
        {"id": "results", "name_zh": "工作实绩", "weight": results, "children": items[:3]},
        {"id": "conduct", "name_en": "Conduct", "weight": conduct, "children": items[3:]},
    ]


@pytest.fixture
def tree_dict(scheme_dict):
    """Beijing 2016 regrouped: results 60 (10, 25, 25) and conduct 40 (10 each): the flat weights, multiplied out."""
    scheme_dict["indicators"] = regrouped(scheme_dict["indicators"], 60, 40)
    return scheme_dict


@pytest.fixture(scope="module")
def demo(scheme):
    return load_dataset(DEMO_DIR, scheme)


def assert_same_scores(a: pd.DataFrame, b: pd.DataFrame, atol: float = 0.0) -> None:
    for col in ("onsite", "routine", "final"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=0, atol=atol, err_msg=col)
    for col in ("unit", "grade", "rank", "zone_rank"):
        assert a[col].tolist() == b[col].tolist(), col


# ---------------------------------------------------------------------------
# a flat scheme is a tree of depth one, unchanged
# ---------------------------------------------------------------------------


def test_beijing_2016_is_a_tree_of_depth_one_with_its_digest_and_dict_unchanged(scheme):
    assert scheme.digest() == BEIJING_2016_DIGEST
    assert "tree" not in scheme.to_dict() and scheme.to_dict()["indicators"][0]["weight"] == 10.0
    assert not scheme.is_tree and scheme.flattened() is scheme
    assert [n.id for n in scheme.nodes] == scheme.indicator_ids == FLAT_IDS
    assert all(n.is_leaf and n.depth == 1 for n in scheme.nodes)
    assert scheme.weights.tolist() == [10.0, 25.0, 25.0, 10.0, 10.0, 10.0, 10.0]  # as given, not normalised
    assert scheme.with_node_weight("service", 7) == scheme.with_weights({"service": 7})


# ---------------------------------------------------------------------------
# a tree scores as the flat scheme of its leaves' effective weights
# ---------------------------------------------------------------------------


def test_a_tree_that_only_regroups_gives_the_flat_scores_and_ranks(scheme, tree_dict, demo):
    tree = make_scheme(tree_dict)
    assert tree.is_tree and tree.indicator_ids == scheme.indicator_ids
    assert [n.key for n in tree.nodes][:2] == ["indicators.results", "indicators.results.children.rectification"]
    np.testing.assert_allclose(tree.weights, scheme.weights / scheme.weights.sum(), rtol=0, atol=1e-15)
    # the weights agree to the last bit or two (0.6 x 10/60 against 10/100), the scores to rounding
    assert_same_scores(score_units(demo, tree), score_units(demo, scheme), atol=1e-9)


def test_a_tree_with_other_parent_weights_is_the_flat_scheme_with_the_product_weights(scheme_dict, demo):
    flat_items = copy.deepcopy(scheme_dict["indicators"])
    scheme_dict["indicators"] = regrouped(flat_items, 30, 70)
    tree = make_scheme(scheme_dict)
    products = [0.3 * w / 60 for w in (10, 25, 25)] + [0.7 * w / 40 for w in (10, 10, 10, 10)]
    np.testing.assert_allclose(tree.weights.to_numpy(), products, rtol=1e-15)
    assert tree.weights.sum() == pytest.approx(1.0, abs=1e-15)
    scheme_dict["indicators"] = [dict(it, weight=float(tree.weights[it["id"]])) for it in flat_items]
    flat = make_scheme(scheme_dict)
    assert flat.weights.equals(tree.weights) and tree.flattened().weights.equals(flat.weights)
    assert_same_scores(score_units(demo, tree), score_units(demo, flat))  # the same weights: the same numbers
    assert_same_scores(score_units(demo, tree.flattened()), score_units(demo, flat))


def _random_tree(draw, depth: int, prefix: str) -> list[dict]:
    n = draw(st.integers(1, 3))
    weights = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n).filter(lambda ws: sum(ws) > 0))
    items = []
    for k, w in enumerate(weights):
        item = {"id": f"{prefix}{k}", "weight": w}
        if depth > 1 and draw(st.booleans()):
            item["children"] = _random_tree(draw, depth - 1, f"{prefix}{k}_")
        items.append(item)
    return items


@st.composite
def trees(draw):
    return _random_tree(draw, draw(st.integers(1, 4)), "n")


def _products(items, above=1.0):
    """Leaf id -> product of the normalised weights on its path, computed from the file's dicts, depth first."""
    total = sum(it["weight"] for it in items)
    out = {}
    for it in items:
        w = above * it["weight"] / total
        out.update(_products(it["children"], w) if "children" in it else {it["id"]: w})
    return out


BASE = yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8"))


@settings(max_examples=60)
@given(items=trees())
def test_effective_leaf_weights_are_the_path_products_and_sum_to_one(items):
    d = {k: v for k, v in BASE.items() if k != "differentiated"}  # its zones name the 2016 indicators
    d["indicators"] = items
    s = make_scheme(d)
    expected = _products(items)
    assert s.indicator_ids == list(expected)  # the leaves, depth first
    if s.is_tree:
        np.testing.assert_allclose(s.weights.to_numpy(), list(expected.values()), rtol=1e-12, atol=1e-15)
        assert s.weights.sum() == pytest.approx(1.0, abs=1e-12)
        assert s.indicator_table()["weight"].tolist() == s.weights.tolist()
    else:  # a flat list keeps its weights as given
        assert s.weights.tolist() == [float(it["weight"]) for it in items]
    np.testing.assert_allclose(s.flattened().weights / s.flattened().weights.sum(), list(expected.values()))
    for n in s.nodes:
        assert s.node(n.key) == n == s.node(n.path) == s.node(n.id)


# ---------------------------------------------------------------------------
# changing a node's weight
# ---------------------------------------------------------------------------


def test_with_node_weight_keeps_the_siblings_and_recomputes_the_leaves(tree_dict):
    tree = make_scheme(tree_dict)
    new = tree.with_node_weight("indicators.conduct", 60)
    assert new.node("conduct").weight == 60 and new.node("results").weight == 60  # siblings keep their weights
    assert new.weights["service"] == pytest.approx(0.5 * 10 / 40) and new.weights["key_tasks"] == pytest.approx(
        0.5 * 25 / 60
    )
    assert tree.node("conduct").weight == 40  # the original is frozen, untouched
    deep = tree.with_node_weight(("results", "key_tasks"), 5)
    assert (
        deep.weights["key_tasks"] == pytest.approx(0.6 * 5 / 40) and deep.weights["service"] == tree.weights["service"]
    )
    assert tree.with_weights({"conduct": 60, "key_tasks": 5}) == new.with_node_weight("key_tasks", 5)
    with pytest.raises(SchemeError, match=r"unknown indicator 'conduc' \(did you mean 'conduct'\?\)"):
        tree.with_node_weight("conduc", 1)
    with pytest.raises(SchemeError, match=r"key indicators\.conduct\.children\.service\.weight: negative weight -1"):
        tree.with_node_weight("service", -1)
    with pytest.raises(SchemeError, match=r"key indicators: all weights are zero"):
        tree.with_weights({"conduct": 0, "results": 0})


def test_a_zone_override_of_a_parent_weighs_like_with_node_weight(tree_dict):
    tree_dict["differentiated"]["zones"]["core"]["indicators"] = {"conduct": 60}
    tree = make_scheme(tree_dict)
    pd.testing.assert_series_equal(tree.zone_indicator_weights("core"), tree.with_node_weight("conduct", 60).weights)
    eco = tree.zone_indicator_weights("ecological")  # main_indicators 15, service 20, within their parents
    assert eco["main_indicators"] == pytest.approx(0.6 * 15 / 50) and eco["service"] == pytest.approx(0.4 * 20 / 50)
    flat = tree.flattened()
    for zone in ("core", "ecological", "extension"):
        pd.testing.assert_series_equal(
            flat.zone_indicator_weights(zone) / flat.zone_indicator_weights(zone).sum(),
            tree.zone_indicator_weights(zone),
        )


# ---------------------------------------------------------------------------
# bad trees
# ---------------------------------------------------------------------------


def _child(d, parent, k):
    return next(it for it in d["indicators"] if it["id"] == parent)["children"][k]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: _child(d, "conduct", 1).update(weight=-1),
            r"key indicators\.conduct\.children\.clean_admin\.weight: negative weight -1$",
        ),
        (
            lambda d: [it.update(weight=0) for it in d["indicators"][0]["children"]],
            r"key indicators\.results\.children: all weights are zero; at least one must be positive$",
        ),
        (
            lambda d: d["indicators"][1].update(weight=0, children=[]),
            r"key indicators\.conduct\.children: expected a list of at least one node \(remove `children:`",
        ),
        (
            lambda d: _child(d, "results", 2).update(wieght=_child(d, "results", 2).pop("weight")),
            r"key indicators\.results\.children\.key_tasks\.wieght: unknown key 'wieght' \(did you mean 'weight'\?\)",
        ),
        (
            lambda d: _child(d, "conduct", 2).update(id="main_indicators"),
            r"key indicators\.conduct\.children\[2\]\.id: duplicated id 'main_indicators' "
            r"\(also at indicators\.results\.children\.main_indicators\)",
        ),
        (
            lambda d: d["indicators"].append({"id": "service", "weight": 1}),
            r"key indicators\[2\]\.id: duplicated id 'service' \(also at indicators\.conduct\.children\.service\)",
        ),
        (
            lambda d: _child(d, "conduct", 3).update(children=[{"id": "service", "weight": 1}]),
            r"key indicators\.conduct\.children\.service\.children\[0\]\.id: duplicated id 'service'",
        ),
        (
            lambda d: _child(d, "results", 0).update(aggregation="arithmetic"),
            r"key indicators\.results\.children\.rectification\.aggregation: only a node with children has an "
            r"aggregation",
        ),
        (
            lambda d: d["indicators"][1].update(aggregation="geometric"),
            r"key indicators\.conduct\.aggregation: geometric differs from the scheme's composite \(arithmetic\); "
            r"a node combining its children otherwise than the composite is not supported yet",
        ),
        (
            lambda d: d["indicators"][1].update(aggregation="harmonic"),
            r"key indicators\.conduct\.aggregation: must be one of arithmetic, geometric, got 'harmonic'",
        ),
        (
            lambda d: _child(d, "conduct", 0).update(weight="ten"),
            r"children\.law_based_admin\.weight: expected a number",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"].update(
                indicators={"law_based_admin": 0, "clean_admin": 0, "innovation": 0, "service": 0}
            ),
            r"key differentiated\.zones\.core\.indicators: all weights under indicators\.conduct are zero for this zone",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"].update(indicators={"conduct": -2}),
            r"key differentiated\.zones\.core\.indicators\.conduct: negative weight -2",
        ),
    ],
)
def test_a_bad_tree_gives_one_message_naming_the_node(tree_dict, edit, message):
    edit(tree_dict)
    with pytest.raises(SchemeError, match=message) as exc:
        make_scheme(tree_dict)
    assert str(exc.value).startswith("test-scheme.yaml, key ") and "\n" not in str(exc.value)


def test_a_node_may_name_the_schemes_own_composite(tree_dict):
    tree_dict["indicators"][0]["aggregation"] = "arithmetic"
    assert make_scheme(tree_dict).node("results").aggregation == "arithmetic"
    tree_dict.update(composite="geometric")
    tree_dict["indicators"][1]["aggregation"] = "geometric"
    with pytest.raises(SchemeError, match=r"indicators\.results\.aggregation: arithmetic differs"):
        make_scheme(tree_dict)
    tree_dict["indicators"][0]["aggregation"] = "geometric"
    assert make_scheme(tree_dict).node("conduct").aggregation == "geometric"


# ---------------------------------------------------------------------------
# sweep override paths reach any node
# ---------------------------------------------------------------------------


def _overridden(raw: dict, path: str, value):
    return make_scheme(apply_overrides(raw, [(path, value)], [check_override(raw, path, value)]))


@pytest.mark.parametrize(
    "path, node",
    [
        ("indicators.conduct.weight", "conduct"),
        ("indicators.results.children.key_tasks.weight", "key_tasks"),
        ("indicators.key_tasks.weight", "key_tasks"),  # an id names a node at any depth
    ],
)
def test_a_sweep_override_of_a_node_equals_with_node_weight(tree_dict, path, node):
    tree = make_scheme(tree_dict)
    assert _overridden(tree_dict, path, 55) == tree.with_node_weight(node, 55)
    assert tree_dict["indicators"][0]["children"][2]["weight"] == 25  # the base dict is untouched


def test_flat_sweep_paths_keep_working(scheme_dict):
    assert _overridden(scheme_dict, "indicators.service.weight", 7) == make_scheme(scheme_dict).with_weights(
        {"service": 7}
    )
    zoned = _overridden(scheme_dict, "differentiated.zones.core.indicators.service", 3)
    assert zoned.zone_indicator_weights("core")["service"] == 3


@pytest.mark.parametrize(
    "path, message",
    [
        ("indicators.results.children.key_task.weight", r"unknown indicator 'key_task' under 'results' \(did you"),
        (
            "indicators.conduct.children.service.children.x.weight",
            r"indicator 'service' has no children \(it is a leaf\)",
        ),
        ("indicators.result.children.key_tasks.weight", r"unknown indicator 'result' \(did you mean 'results'\?\)"),
        ("indicators.results.kids.key_tasks.weight", r"unknown path .*expected indicators\.<indicator>\.weight or"),
        ("indicators.servce.weight", r"unknown indicator 'servce' \(did you mean 'service'\?\)"),
    ],
)
def test_a_bad_node_path_in_a_sweep_is_named(tree_dict, path, message):
    with pytest.raises(Exception, match=message):  # the sweep reports it naming its file and scenario
        check_override(tree_dict, path, 1)


def test_zone_overrides_in_a_sweep_reach_nodes_at_any_depth(tree_dict):
    tree = _overridden(tree_dict, "differentiated.zones.core.indicators.conduct", 60)
    # core already sets key_tasks 30 and service 15 (within their parents)
    assert tree.zone_indicator_weights("core")["service"] == pytest.approx(0.5 * 15 / 45)


# ---------------------------------------------------------------------------
# the second shipped scheme: 三效一创 for the municipal departments
# ---------------------------------------------------------------------------

SANXIAO_POINTS = {
    "statutory_duties": 40,
    "law_based_admin": 8,
    "capacity_building": 7,
    "serving_central": 5,
    "public_evaluation": 20,
    "leaders_evaluation": 10,
    "coordination": 5,
    "innovation": 5,
}


def test_the_sanxiao_scheme_gives_the_frameworks_points_and_scores_simulated_data():
    from perflab.io import dataset_from_tables
    from perflab.scheme import load_scheme
    from perflab.simulate import simulate

    s = load_scheme(SCHEME_FILE.parent / "beijing_departments_sanxiao.yaml")
    assert [n.id for n in s.tree] == ["duties", "management", "service_results", "innovation"]
    np.testing.assert_allclose(s.weights * 100, pd.Series(SANXIAO_POINTS), rtol=1e-12)
    assert s.node("indicators.service_results.children.public_evaluation").depth == 2
    assert "tree" in s.to_dict() and s.digest() != s.flattened().digest()
    scores = score_units(dataset_from_tables(simulate(s, seed=7).tables, s), s)
    assert scores.groupby("kind")["rank"].max().to_dict() == {"department": 60, "district": 16}
    assert scores["final"].notna().all()


def test_a_weight_set_applies_to_a_tree_through_its_leaves(tree_dict):
    from perflab.sweep.overrides import flat_indicators

    tree_dict.pop("differentiated")  # its zones would name the tree's nodes
    tree = make_scheme(tree_dict)
    flat = dict(tree_dict, indicators=flat_indicators(tree_dict["indicators"], tree.weights.to_dict()))
    assert make_scheme(flat) == tree.flattened()
    equal = dict(tree_dict, indicators=flat_indicators(tree_dict["indicators"], dict.fromkeys(FLAT_IDS, 1.0)))
    assert make_scheme(equal).weights.tolist() == [1.0] * 7


def test_the_base_number_of_a_node_path_is_its_weight(tree_dict):
    from perflab.sweep.overrides import base_number

    assert base_number(tree_dict, "indicators.results.children.key_tasks.weight") == 25
    assert base_number(tree_dict, "indicators.key_tasks.weight") == 25
    assert base_number(tree_dict, "indicators.conduct.weight") == 40
    assert base_number(tree_dict, "indicators.results.children.nope.weight") is None
    assert base_number(tree_dict, "groups.grassroots.share") == 0.25


def test_the_node_table_gives_every_nodes_share_of_the_score(tree_dict, scheme):
    t = make_scheme(tree_dict).node_table().set_index("node")
    assert t.index.tolist() == ["results", *FLAT_IDS[:3], "conduct", *FLAT_IDS[3:]]
    assert t.loc["results", "effective_weight"] == pytest.approx(0.6) and not t.loc["results", "leaf"]
    assert t.loc["key_tasks", "parent"] == "results" and t.loc["key_tasks", "depth"] == 2
    leaves = t[t["leaf"]]
    assert leaves["effective_weight"].sum() == pytest.approx(1.0)
    for parent in ("results", "conduct"):
        kids = t[t["parent"] == parent]["effective_weight"].sum()
        assert kids == pytest.approx(t.loc[parent, "effective_weight"])
    flat = scheme.node_table()
    assert flat["leaf"].all() and flat["effective_weight"].tolist() == pytest.approx((scheme.weights / 100).tolist())


@pytest.mark.parametrize("composite", ["arithmetic", "geometric"])
def test_node_scores_combine_to_the_onsite_score_when_every_leaf_is_scored(tree_dict, demo, composite):
    from perflab.composite import aggregate
    from perflab.scoring import indicator_scores, onsite_scores
    from perflab.tree import node_scores

    tree_dict["composite"] = composite
    tree = make_scheme(tree_dict)
    leaves = indicator_scores(demo, tree)
    nodes = node_scores(leaves, tree.tree, tree.composite)
    assert nodes.columns.tolist() == [n.id for n in tree.nodes]
    pd.testing.assert_frame_equal(nodes[tree.indicator_ids], leaves, check_names=False)
    whole = leaves.notna().all(axis=1)
    assert whole.sum() >= 50
    top = aggregate(nodes[["results", "conduct"]].to_numpy(float), [60, 40], composite)
    np.testing.assert_allclose(top[whole], onsite_scores(demo, tree, leaves)[whole], rtol=1e-12)
    assert nodes.loc[whole, "results"].between(0, 100).all()


def test_a_sweep_weight_set_on_a_tree_weighs_every_leaf_and_a_partial_set_keeps_the_others_points(tmp_path):
    import yaml

    from perflab.scheme import load_scheme
    from perflab.sweep import build_scenarios, load_sweep
    from perflab.sweep.figures import base_value

    base = SCHEME_FILE.parent / "beijing_departments_sanxiao.yaml"
    body = {
        "base": str(base),
        "scenarios": {
            "equal": {"weights": dict.fromkeys(SANXIAO_POINTS, 1)},
            "more_public": {"weights": {"public_evaluation": 30}},
        },
        "grid": {
            "indicators.service_results.weight": [30, 40],
            "indicators.management.children.capacity_building.weight": [7, 14],
        },
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    spec = load_sweep(tmp_path / "s.yaml")
    built = {b.name: b for b in build_scenarios(spec, None)}  # .weights(): the leaves' weights, normalised
    np.testing.assert_allclose(built["equal"].weights(), 1 / 8)
    points = pd.Series(dict(SANXIAO_POINTS, public_evaluation=30))
    np.testing.assert_allclose(built["more_public"].weights(), points / points.sum(), rtol=1e-12)
    nested = "indicators.management.children.capacity_building.weight=14"
    name = next(n for n in built if nested in n and "service_results.weight=40" in n)
    expected = load_scheme(base).with_node_weight("capacity_building", 14)
    np.testing.assert_allclose(built[name].weights(), expected.weights, rtol=1e-12)
    assert base_value(spec.base_raw, "indicators.management.children.capacity_building.weight") == 7
