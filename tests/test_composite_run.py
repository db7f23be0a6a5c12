"""A scheme that names the weighted geometric composite runs through every notebook: the on-site scores are the
geometric means, the sampled analyses run, and the exact ones say why they are skipped instead of failing."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR, SCHEME_FILE

from perflab.composite import weighted_geometric_mean, weighted_mean
from perflab.io import load_dataset
from perflab.scheme import load_scheme
from perflab.scoring import indicator_scores

SMALL = {"n_draws": 400, "n_rater_replicates": 20, "n_sobol": 64, "alpha_boot": 50}  # the pages' numbers, cheaply


@pytest.fixture(scope="module")
def geometric_run(tmp_path_factory):
    from perflab.cli import main

    root = tmp_path_factory.mktemp("geometric")
    text = SCHEME_FILE.read_text(encoding="utf-8")
    assert "composite: arithmetic" in text
    scheme = root / "beijing_geometric.yaml"
    scheme.write_text(text.replace("composite: arithmetic", "composite: geometric"), encoding="utf-8")
    data = root / "data" / "raw" / "demo"
    shutil.copytree(DEMO_DIR, data)
    out = root / "report"
    params = [x for k, v in SMALL.items() for x in ("--param", f"{k}={v}")]
    code = main(["run", "--scheme", str(scheme), "--data", str(data), "--out", str(out), "--jobs", "2", *params])
    assert code == 0, "perflab run failed under composite: geometric"
    return scheme, data, out


def test_every_notebook_runs_under_the_geometric_composite(geometric_run):
    _, _, out = geometric_run
    pages = sorted(p.name for p in out.glob("[0-9][0-9]_*.html"))
    assert pages == [
        "10_scores.html",
        "20_differentiated.html",
        "30_weight_sensitivity.html",
        "40_evaluator_bias.html",
        "50_group_shares.html",
    ]
    assert (out / "index.html").is_file()


def test_onsite_scores_are_the_weighted_geometric_means(geometric_run):
    scheme_file, data, out = geometric_run
    scheme = load_scheme(scheme_file)
    assert scheme.composite == "geometric"
    scores = pd.read_csv(out / "tables" / "scores.csv", encoding="utf-8-sig").set_index("unit")
    ind = indicator_scores(load_dataset(data, scheme), scheme).reindex(columns=scheme.indicator_ids)
    presented = scores.index[scores["presented"]]
    geo = pd.Series(weighted_geometric_mean(ind.to_numpy(float), scheme.weights.to_numpy()), index=ind.index)
    arith = pd.Series(weighted_mean(ind.to_numpy(float), scheme.weights.to_numpy()), index=ind.index)
    np.testing.assert_allclose(
        scores.loc[presented, "onsite"], geo.reindex(presented), atol=5e-5
    )  # saved to 4 decimals
    assert (geo.reindex(presented) < arith.reindex(presented)).all()  # unequal indicator scores: AM-GM is strict


def test_the_exact_sections_say_why_they_are_skipped(geometric_run):
    _, _, out = geometric_run
    for page in ("30_weight_sensitivity.html", "50_group_shares.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "skipped under the geometric composite" in html, page
        assert "Traceback" not in html and "NonLinearComposite" not in html
    tables = {p.name for p in (out / "tables").glob("*.csv")}
    assert "sensitivity_rank_intervals.csv" in tables and "sensitivity_sobol.csv" in tables  # sampled: computed
    assert "sensitivity_stability_units.csv" not in tables  # exact: not computed, not a stale file


def test_the_memo_of_a_geometric_run_names_the_composite(geometric_run):
    from perflab.findings import findings
    from perflab.memo import load_inputs

    _, _, out = geometric_run
    found = findings(load_inputs(out), "en")
    caveats = next(f for f in found if f.topic == "caveats")
    assert "indicators combine by the weighted geometric mean" in caveats.text
    assert not any(f.topic == "share" for f in found)  # no exact share range to report
