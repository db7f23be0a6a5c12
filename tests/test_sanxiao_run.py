"""The 三效一创 scheme (a tree: four first-level parts over eight indicators) end to end: simulate, validate, score,
every notebook, the memo, a sweep over a part's weight, and scoring sheets out and back in; pillar scores and
ranks in the tables and on the pages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from perflab.cli import main
from perflab.io import load_dataset
from perflab.scheme import load_scheme
from perflab.scoring import indicator_scores
from perflab.sweep.overrides import flat_indicators

SANXIAO = ROOT / "params" / "beijing_departments_sanxiao.yaml"
SMALL = {"n_draws": 400, "n_rater_replicates": 20, "n_sobol": 64, "alpha_boot": 50}  # the pages' numbers, cheaply


def with_points(root: Path) -> Path:
    """The shipped scheme with its commented district bonus and deduction block switched on (加分, 扣分)."""
    text = SANXIAO.read_text(encoding="utf-8")
    block = re.search(r"^# adjustments:\n(?:^#   .*\n)+", text, flags=re.M)
    assert block, "the sanxiao scheme no longer carries its commented adjustments block"
    on = "".join(line[2:] + "\n" for line in block[0].splitlines())
    path = root / "sanxiao_with_points.yaml"
    path.write_text(text.replace(block[0], on), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sanxiao_run(tmp_path_factory):
    """Simulated data, validated and run through every page, on the sanxiao scheme with bonus and deduction items."""
    root = tmp_path_factory.mktemp("sanxiao")
    scheme = with_points(root)
    assert load_scheme(scheme).adjustments is not None
    data = root / "data" / "raw" / "sx"
    assert main(["simulate", "--scheme", str(scheme), "--out", str(data), "--seed", "7"]) == 0
    assert main(["validate", str(data), "--scheme", str(scheme), "--processed", str(root / "processed")]) == 0
    out = root / "report"
    params = [x for k, v in SMALL.items() for x in ("--param", f"{k}={v}")]
    code = main(["run", "--scheme", str(scheme), "--data", str(data), "--out", str(out), "--jobs", "2", *params])
    assert code == 0, "perflab run failed on the sanxiao scheme"
    return root, data, out, scheme


def test_every_page_runs_and_page_10_shows_the_tree_and_the_parts(sanxiao_run):
    _, _, out, scheme_file = sanxiao_run
    pages = sorted(p.name for p in out.glob("[0-9][0-9]_*.html"))
    assert [p[:2] for p in pages] == ["10", "20", "30", "40", "50"]
    html = (out / "10_scores.html").read_text(encoding="utf-8")
    assert "The indicators form a tree of 2 levels: 4 first-level parts" in html
    assert "Scores at every level of the tree" in html and "lie furthest apart for" in html
    figures = {p.name for p in (out / "figures").glob("10_*.png")}
    assert {"10_indicator_tree.png", "10_parts_district.png", "10_parts_department.png"} <= figures
    page30 = (out / "30_weight_sensitivity.html").read_text(encoding="utf-8")
    assert "The parts of the indicator tree" in page30 and "the other parts kept as they are" in page30
    tables = {p.stem for p in (out / "tables").glob("sensitivity_node_*.csv")}
    assert tables == {
        "sensitivity_node_one_at_a_time",
        "sensitivity_node_rank_intervals",
        "sensitivity_node_sobol",
        "sensitivity_node_stability_top_k",
    }
    for page in pages:  # no stray cell value (a list of saved paths) printed on a page
        assert "PosixPath" not in (out / page).read_text(encoding="utf-8"), page


def test_the_first_level_parts_combine_to_the_onsite_score(sanxiao_run):
    _, data, out, scheme_file = sanxiao_run
    scheme = load_scheme(scheme_file)
    nodes = pd.read_csv(out / "tables" / "node_scores.csv", encoding="utf-8-sig")
    assert list(dict.fromkeys(nodes["node"])) == [n.id for n in scheme.nodes]
    top = nodes[nodes["depth"] == 1].pivot(index="unit", columns="node", values="score")[[n.id for n in scheme.tree]]
    w = np.array([n.weight for n in scheme.tree], float)
    scores = pd.read_csv(out / "tables" / "scores.csv", encoding="utf-8-sig").set_index("unit")
    leaves = indicator_scores(load_dataset(data, scheme), scheme)
    whole = leaves.index[leaves.notna().all(axis=1)]  # every leaf scored: the two combinations agree exactly
    assert len(whole) > 50
    np.testing.assert_allclose(
        top.loc[whole].to_numpy() @ w / w.sum(), scores.loc[whole, "onsite"], atol=1.5e-4
    )  # 6 digits saved
    for (_, node), g in nodes.groupby(["rank_group", "node"]):  # ranks: 1 = best among the units scored there
        expected = g["score"].rank(ascending=False, method="min")
        assert (g["rank"].to_numpy() == expected.to_numpy()).all(), node


def test_perflab_score_adds_every_nodes_score_and_rank(sanxiao_run, capsys):
    root, data, out, scheme_file = sanxiao_run
    assert main(["score", str(data), "--scheme", str(scheme_file), "--out", str(root / "s.csv")]) == 0
    table = pd.read_csv(root / "s.csv").set_index("unit")
    nodes = pd.read_csv(out / "tables" / "node_scores.csv", encoding="utf-8-sig")
    for node in ("service_results", "management", "public_evaluation"):
        mine = nodes[nodes["node"] == node].set_index("unit")
        np.testing.assert_allclose(table.loc[mine.index, f"score_{node}"], mine["score"], atol=1e-4)  # 6 digits saved
        assert (table.loc[mine.index, f"rank_{node}"] == mine["rank"]).all()


def test_the_memo_of_a_tree_run(sanxiao_run, capsys):
    _, _, out, scheme_file = sanxiao_run
    assert main(["memo", str(out), "--lang", "en"]) == 0
    assert (out / "memo.html").is_file() and (out / "memo.xlsx").is_file()
    memo = (out / "memo.html").read_text(encoding="utf-8")
    adj = pd.read_csv(out / "tables" / "adjustments.csv", encoding="utf-8-sig")
    assert f"the final scores of {adj['unit'].nunique()} units include bonus or deduction points" in memo


def test_bonus_and_deduction_points_enter_the_final_score_and_page_10(sanxiao_run):
    _, _, out, _ = sanxiao_run
    adj = pd.read_csv(out / "tables" / "adjustments.csv", encoding="utf-8-sig")
    assert set(adj["type"]) == {"bonus", "deduction"} and (adj["points"] > adj["counted"]).any()
    scores = pd.read_csv(out / "tables" / "scores.csv", encoding="utf-8-sig").set_index("unit")
    np.testing.assert_allclose(scores["final"], scores["weighted"] + scores["bonus"] - scores["deduction"], atol=2e-4)
    assert (scores.loc[adj["unit"].unique(), ["bonus", "deduction"]].sum(axis=1) > 0).all()
    html = (out / "10_scores.html").read_text(encoding="utf-8")
    assert "Bonus and deduction items" in html and f"{adj['unit'].nunique()} units got points" in html


def test_challenge_values_are_scored_and_an_already_reached_one_is_flagged(sanxiao_run):
    _, data, out, _ = sanxiao_run
    history = pd.read_csv(data / "history.csv")
    assert history["challenge"].notna().any()  # the scheme asks for challenge values: the simulation gives some
    vetting = pd.read_csv(out / "tables" / "target_vetting.csv", encoding="utf-8-sig")
    assert (vetting["flag"] == "challenge_achieved").any()  # the planted one
    assert "Challenge value already reached" in (out / "20_differentiated.html").read_text(encoding="utf-8")


def test_a_sweep_over_a_parts_weight_scores_as_the_flat_scheme_of_the_product_weights(sanxiao_run, capsys):
    root, data, _, scheme_file = sanxiao_run
    sweep = root / "part.yaml"
    body = {
        "base": str(scheme_file),
        "data": str(data),
        "notebooks": [],
        "grid": {"indicators.service_results.weight": [20]},
    }
    sweep.write_text(yaml.safe_dump(body), encoding="utf-8")
    assert main(["sweep", str(sweep), "--out", str(root / "sweep"), "--quiet", "--no-figures"]) == 0
    swept = pd.read_csv(root / "sweep" / "comparison" / "scores.csv").set_index("unit")

    raw = yaml.safe_load(scheme_file.read_text(encoding="utf-8"))  # the same scheme flat, with the product weights
    product = load_scheme(scheme_file).with_node_weight("service_results", 20).weights
    raw["indicators"] = flat_indicators(raw["indicators"], (100 * product).to_dict())
    flat = root / "flat.yaml"
    flat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert not load_scheme(flat).is_tree
    assert main(["score", str(data), "--scheme", str(flat), "--out", str(root / "flat.csv")]) == 0
    scored = pd.read_csv(root / "flat.csv").set_index("unit")
    np.testing.assert_allclose(
        swept.loc[scored.index, "indicators.service_results.weight=20"], scored["final"], atol=5e-6
    )
    assert not np.allclose(swept.loc[scored.index, "base"], scored["final"])  # the weight did move the scores


def test_scoring_sheets_of_a_tree_go_out_and_come_back(sanxiao_run, capsys):
    from test_sheets import fill

    from perflab.sheets import load_sheet_inputs

    root, data, _, scheme_file = sanxiao_run
    scheme = load_scheme(scheme_file)
    ratings = load_sheet_inputs(str(data), scheme).ratings
    rater = str(ratings["rater"].iloc[0])
    mine = ratings[ratings["rater"] == rater]
    argv = ["sheets", "make", "--scheme", str(scheme_file), "--data", str(data), "--out", str(root / "sheets")]
    assert main([*argv, "--per-rater", "--raters", rater]) == 0
    book = root / "sheets" / f"sheets_{rater}.xlsx"
    fill(book, mine, scheme)
    back = root / "back"
    argv = ["sheets", "read", str(book), "--scheme", str(scheme_file), "--data", str(data), "--out", str(back)]
    assert main(argv) == 0, capsys.readouterr().err
    read = pd.read_csv(back / "ratings.csv")
    assert set(read["indicator"]) == set(scheme.indicator_ids)  # the leaves are what is scored
    got = read.set_index(["unit", "indicator"])["score"].sort_index()
    np.testing.assert_allclose(got, mine.set_index(["unit", "indicator"])["score"].loc[got.index], atol=1e-9)
