"""`perflab sweep`: sweep files, scenario schemes equal to edited copies, comparison tables, notebooks by pool or Dask."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DEMO_DIR, SCHEME_FILE
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from scipy import stats

from perflab.cli import main
from perflab.errors import SweepError
from perflab.io import load_dataset
from perflab.ranking import rank_groups
from perflab.scheme import load_scheme
from perflab.scoring import contribution_items, contributions, rank_desc, score_units
from perflab.sensitivity import share_breakpoints, unit_group_scores
from perflab.sweep import Scorers, average_ranks, build_scenarios, compare, load_sweep, run_sweep, scheme_yaml
from perflab.weights import ahp, data_weights, read_pairwise

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "params" / "sweeps"


@pytest.fixture(scope="module")
def demo(scheme):
    return load_dataset(DEMO_DIR, scheme)


@pytest.fixture(scope="module")
def scorers(demo, scheme):
    return Scorers(DEMO_DIR, scheme, demo)


@pytest.fixture(scope="module")
def scorer(scorers):
    return scorers.base


def write_sweep(directory: Path, body: dict, name: str = "s.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(
        yaml.safe_dump({"base": str(SCHEME_FILE), **body}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


def built_from(tmp_path, body, scorer):
    spec = load_sweep(write_sweep(tmp_path, body))
    return spec, build_scenarios(spec, Scorers(DEMO_DIR, scorer.dataset and load_scheme(SCHEME_FILE), scorer.dataset))


def hashes(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob("*.csv"))}


# ---------------------------------------------------------------------------
# the sweep file
# ---------------------------------------------------------------------------


def test_the_ellipsis_grid_expands_to_13_shares_named_by_their_overrides_with_base_first(tmp_path):
    spec = load_sweep(SWEEPS / "grassroots_share.yaml")
    names = [s.name for s in spec.scenarios]
    assert names[0] == "base" and len(names) == 14
    assert names[1] == "groups.grassroots.share=0" and "groups.grassroots.share=0.4" in names
    assert names[-1] == "groups.grassroots.share=0.6"
    assert [v for _, vals in spec.grid for v in vals] == [round(0.05 * k, 12) for k in range(13)]


def test_two_axes_make_every_combination_and_from_to_step_works(tmp_path, scorer):
    spec, built = built_from(
        tmp_path,
        {"grid": {"aggregation.trim": [0, 2], "components.onsite": {"from": 0.5, "to": 0.7, "step": 0.1}}},
        scorer,
    )
    assert [b.name for b in built][1:] == [
        f"aggregation.trim={t},components.onsite={v}" for t in (0, 2) for v in ("0.5", "0.6", "0.7")
    ]
    trim2 = next(b for b in built if b.name == "aggregation.trim=2,components.onsite=0.7").scheme
    assert trim2.aggregation.trim == 2 and trim2.components["onsite"] == 0.7


def test_a_group_share_rescales_the_other_groups_as_with_group_share(tmp_path, scheme, scorer):
    _, built = built_from(tmp_path, {"scenarios": {"more": {"groups.grassroots.share": 0.4}}}, scorer)
    expected = scheme.with_group_share("grassroots", 0.4).shares
    pd.testing.assert_series_equal(built[1].scheme.shares, expected, rtol=1e-12)


def test_two_group_shares_set_together_rescale_only_the_others(tmp_path, scheme, scorer):
    _, built = built_from(
        tmp_path, {"scenarios": {"two": {"groups.grassroots.share": 0.4, "groups.experts.share": 0.1}}}, scorer
    )
    s = built[1].scheme.shares
    assert s["grassroots"] == 0.4 and s["experts"] == 0.1 and abs(s.sum() - 1) < 1e-12
    rest = scheme.shares.drop(["grassroots", "experts"])
    np.testing.assert_allclose(s[rest.index], rest * 0.5 / rest.sum())


BAD = [
    (
        {"grid": {"groups.grassroots.shares": [0.1]}},
        "groups.grassroots.shares=0.1",
        "unknown path 'groups.grassroots.shares'",
    ),
    (
        {"grid": {"groups.grasroots.share": [0.1]}},
        "groups.grasroots.share=0.1",
        "unknown evaluator group 'grasroots' (did you mean 'grassroots'?)",
    ),
    ({"grid": {"groups.grassroots.share": [0.2, 1.4]}}, "groups.grassroots.share=1.4", "must be <= 1, got 1.4"),
    ({"grid": {"groups.grassroots.share": [-0.1]}}, "groups.grassroots.share=-0.1", "must be >= 0, got -0.1"),
    ({"scenarios": {"x": {"components.onsite": "high"}}}, "x", "expected a number, got 'high'"),
    ({"scenarios": {"x": {"aggregation.method": "median"}}}, "x", "must be one of mean, trimmed_mean, got 'median'"),
    (
        {"scenarios": {"x": {"indicators.key_task.weight": 30}}},
        "x",
        "unknown indicator 'key_task' (did you mean 'key_tasks'?)",
    ),
    ({"scenarios": {"x": {"weights": "entropie"}}}, "x", "unknown weight set 'entropie' (did you mean 'entropy'?)"),
    ({"scenarios": {"base": {"components.onsite": 0.5}}}, "base", "'base' is the base scheme itself"),
    ({"scenarios": {"x": {"ranking.zone": "yes"}}}, "x", "expected true or false, got 'yes'"),
    (
        {"scenarios": {"x": {"aggregation.method": "mean", "aggregation.trim": 2}}},
        "x",
        "aggregation.trim has no effect with aggregation.method mean",
    ),
]


@pytest.mark.parametrize("body, scenario, message", BAD, ids=[b[2][:40] for b in BAD])
def test_a_bad_sweep_file_is_one_line_naming_file_scenario_and_key_exit_2(tmp_path, capsys, body, scenario, message):
    path = write_sweep(tmp_path, {"notebooks": [], **body})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"perflab: error: {path}, scenario {scenario!r}, key ")
    assert message in err
    assert not (tmp_path / "o").exists()  # nothing ran, nothing was written


def test_a_grid_that_makes_an_invalid_scheme_names_the_scenario_and_its_keys(tmp_path, capsys):
    path = write_sweep(tmp_path, {"grid": {"bands.A.lower": [90, 85], "bands.B.upper": [90]}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        "scenario 'bands.A.lower=85,bands.B.upper=90', key bands.A.lower, bands.B.upper: the scheme it gives is invalid"
        in err
    )
    assert "overlap" in err


def test_shares_set_together_above_one_are_refused(tmp_path, capsys):
    path = write_sweep(tmp_path, {"scenarios": {"x": {"groups.grassroots.share": 0.7, "groups.experts.share": 0.5}}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert (
        "scenario 'x', key groups.grassroots.share: the shares set sum to 1.2, more than 1" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "body, key, message",
    [
        ({"bsae": "x"}, "bsae", "unknown key 'bsae' (did you mean 'base'?)"),
        (
            {"grid": {"groups.grassroots.share": [0.0, 0.05, "...", 0.62]}},
            "grid.groups.grassroots.share",
            "0.62 is not reached from 0 in steps of 0.05",
        ),
        ({"grid": {"aggregation.trim": [1, 1]}}, "grid.aggregation.trim", "value 1 is listed twice"),
        ({"notebooks": [99]}, "notebooks[0]", "no notebook 99"),
        ({"notebooks": [], "parameters": {"n_draws": 10}}, "parameters", "no notebooks run"),
        ({"notebooks": [10], "parameters": {"seed": 3}}, "parameters.seed", "is set by the sweep itself"),
    ],
)
def test_a_bad_top_level_key_names_the_file_and_key(tmp_path, capsys, body, key, message):
    path = write_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"perflab: error: {path}, key {key}: ") and message in err


def test_an_inconsistent_ahp_matrix_stops_the_sweep(tmp_path, capsys):
    ids = load_scheme(SCHEME_FILE).indicator_ids
    m = pd.DataFrame(1.0, index=ids, columns=ids)
    m.loc["rectification", "main_indicators"], m.loc["main_indicators", "rectification"] = 9.0, 1 / 9
    m.loc["main_indicators", "key_tasks"], m.loc["key_tasks", "main_indicators"] = 9.0, 1 / 9
    m.loc["key_tasks", "rectification"], m.loc["rectification", "key_tasks"] = 9.0, 1 / 9  # a cycle: badly inconsistent
    m.to_csv(tmp_path / "bad.csv")
    path = write_sweep(tmp_path, {"scenarios": {"expert": {"weights": {"ahp": "bad.csv"}}}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario 'expert', key weights:" in err and "allow_inconsistent" in err
    path = write_sweep(tmp_path, {"scenarios": {"expert": {"weights": {"ahp": "bad.csv", "allow_inconsistent": True}}}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet", "--no-figures"]) == 0


def test_a_sweep_can_vary_the_composite_in_scenarios_and_grids(tmp_path):
    spec = load_sweep(
        write_sweep(
            tmp_path,
            {"grid": {"composite": ["arithmetic", "geometric"]}, "scenarios": {"geo": {"composite": "geometric"}}},
        )
    )
    built = {b.name: b.scheme for b in build_scenarios(spec, None)}
    assert built["base"].composite == "arithmetic"
    assert built["composite=arithmetic"].composite == "arithmetic"
    assert built["composite=geometric"].composite == "geometric" and built["geo"].composite == "geometric"


@pytest.mark.parametrize("body, scenario", [
    ({"scenarios": {"h": {"composite": "harmonic"}}}, "h"),
    ({"grid": {"composite": ["arithmetic", "harmonic"]}}, "composite=harmonic"),
])  # fmt: skip
def test_an_unknown_composite_is_one_line_naming_the_path(tmp_path, capsys, body, scenario):
    path = write_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"perflab: error: {path}, scenario {scenario!r}, key composite: "
        "must be one of arithmetic, geometric, got 'harmonic'\n"
    )


def test_the_shipped_sweeps_are_valid(scorers):
    for f in sorted(SWEEPS.glob("*.yaml")):
        spec = load_sweep(f)
        built = build_scenarios(spec, scorers)
        assert built[0].name == "base" and len(built) >= 6, f.name


# ---------------------------------------------------------------------------
# scenario schemes equal edited copies; weight sets
# ---------------------------------------------------------------------------


def _edited(scheme_dict, tmp_path, name, edit) -> Path:
    edit(scheme_dict)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(scheme_dict, allow_unicode=True), encoding="utf-8")
    return path


def _set(d, block, key, ident, field, value):
    next(it for it in d[block] if it[key] == ident)[field] = value


EDITS = {
    "onsite_75": (
        {"components.onsite": 0.75, "components.routine": 0.25},
        lambda d: d["components"].update(onsite=0.75, routine=0.25),
    ),
    "trim_2": ({"aggregation.trim": 2}, lambda d: d["aggregation"].update(trim=2)),
    "plain_mean": ({"aggregation.method": "mean"}, lambda d: d["aggregation"].update(method="mean")),
    "renormalise": ({"missing_components": "renormalise"}, lambda d: d.update(missing_components="renormalise")),
    "all_together": ({"ranking.within": "all"}, lambda d: d["ranking"].update(within="all")),
    "key_tasks_40": (
        {"indicators.key_tasks.weight": 40},
        lambda d: _set(d, "indicators", "id", "key_tasks", "weight", 40),
    ),
    "penalty_5": ({"routine.verification_penalty": 5}, lambda d: d["routine"].update(verification_penalty=5)),
}


def test_each_scenario_ranks_as_perflab_score_on_an_edited_copy_of_the_scheme(tmp_path, scheme_dict, capsys):
    """The contract: a sweep scenario is exactly the scheme a methodologist would get by editing the file."""
    import copy

    sweep = write_sweep(
        tmp_path,
        {
            "grid": {"groups.grassroots.share": [0.0, 0.45]},
            "scenarios": {name: over for name, (over, _) in EDITS.items()},
        },
    )
    out = tmp_path / "o"
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet", "--no-figures"]) == 0
    ranks = pd.read_csv(out / "comparison" / "ranks.csv", dtype={"unit": str}).set_index("unit")
    grades = pd.read_csv(out / "comparison" / "grades.csv", dtype={"unit": str}).set_index("unit")
    cases = {name: _edited(copy.deepcopy(scheme_dict), tmp_path, name, edit) for name, (_, edit) in EDITS.items()}
    grass = copy.deepcopy(scheme_dict)
    g = load_scheme(SCHEME_FILE).with_group_share("grassroots", 0.45)
    for item in grass["groups"]:
        item["share"] = float(g.shares[item["id"]])
    cases["groups.grassroots.share=0.45"] = _edited(grass, tmp_path, "grass", lambda d: None)
    for name, path in cases.items():
        csv = tmp_path / f"{name}.csv"
        assert main(["score", str(DEMO_DIR), "--scheme", str(path), "--out", str(csv)]) == 0
        scored = pd.read_csv(csv, dtype={"unit": str}).set_index("unit")
        assert (scored["rank"] == ranks.loc[scored.index, name]).all(), name
        assert (scored["grade"] == grades.loc[scored.index, name]).all(), name
    assert (ranks["all_together"].sort_values().to_numpy() == np.arange(1, 77)).all()  # one ranking of 76 units
    assert (ranks["base"] != ranks["renormalise"]).any()


def _score_only_copy(tmp_path) -> Path:
    """The demo data with the raters' grades dropped (scores only), so other grade bands fit them."""
    d = tmp_path / "scores_only"
    shutil.copytree(DEMO_DIR, d, ignore=shutil.ignore_patterns("truth", "SIMULATED.json", "ratings.csv.gz"))
    pd.read_csv(DEMO_DIR / "ratings.csv.gz").drop(columns="grade").to_csv(d / "ratings.csv", index=False)
    return d


def test_other_grade_bands_are_refused_on_graded_data_as_perflab_score_refuses_them(tmp_path, scheme_dict, capsys):
    """Raters' grades must match their scores under the scheme's bands; with scores alone, bands can be swept."""
    import copy

    over = {"bands.A.lower": 92, "bands.B.upper": 92}
    edited = _edited(
        copy.deepcopy(scheme_dict),
        tmp_path,
        "strict_A",
        lambda d: (_set(d, "bands", "grade", "A", "lower", 92), _set(d, "bands", "grade", "B", "upper", 92)),
    )
    sweep = write_sweep(tmp_path, {"scenarios": {"strict_A": over}})
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "scenario 'strict_A', key bands.A.lower, bands.B.upper: the data do not fit the scheme it gives" in err
    assert "grade A does not match score" in err
    assert main(["score", str(DEMO_DIR), "--scheme", str(edited), "--out", str(tmp_path / "x.csv")]) == 2
    assert "grade A does not match score" in capsys.readouterr().err

    data = _score_only_copy(tmp_path)
    out = tmp_path / "o2"
    assert main(["sweep", str(sweep), "--data", str(data), "--out", str(out), "--quiet", "--no-figures"]) == 0
    assert main(["score", str(data), "--scheme", str(edited), "--out", str(tmp_path / "s.csv")]) == 0
    grades = pd.read_csv(out / "comparison" / "grades.csv", dtype={"unit": str}).set_index("unit")
    scored = pd.read_csv(tmp_path / "s.csv", dtype={"unit": str}).set_index("unit")
    assert (scored["grade"] == grades.loc[scored.index, "strict_A"]).all()
    assert (grades["strict_A"] != grades["base"]).any()  # some A became B
    assert "Simulated data" not in (out / "index.html").read_text(encoding="utf-8")  # the tables alone: no marker


def test_a_scenario_scheme_written_as_yaml_reads_back_to_the_same_scheme(tmp_path, scorer):
    spec, built = built_from(
        tmp_path, {"scenarios": {"e": {"weights": "entropy", "groups.grassroots.share": 0.3}}}, scorer
    )
    path = tmp_path / "e.yaml"
    path.write_text(scheme_yaml(built[1]), encoding="utf-8")
    assert load_scheme(path).digest() == built[1].scheme.digest()


def test_data_driven_weight_sets_come_from_the_on_site_indicator_scores_of_every_presented_unit(
    tmp_path, scorer, scheme
):
    _, built = built_from(
        tmp_path, {"scenarios": {m: {"weights": m} for m in ("equal", "entropy", "critic", "std", "pca")}}, scorer
    )
    a = scorer.arrays(scheme)
    table = pd.DataFrame(a.indicators, index=a.units, columns=scheme.indicator_ids).dropna()
    assert len(table) == 59  # 76 units, 17 with a written report only
    for b in built[1:]:
        expected = data_weights(table, b.name)
        np.testing.assert_allclose(b.weights(), expected.to_numpy(), rtol=1e-12)
        assert abs(b.scheme.weights.sum() - scheme.weights.sum()) < 1e-9  # on the scheme's scale (points out of 100)


def test_the_shipped_ahp_weights_and_an_explicit_weight_set(tmp_path, scorer, scheme):
    _, built = built_from(
        tmp_path,
        {
            "scenarios": {
                "ahp": {"weights": {"ahp": str(SWEEPS / "ahp_beijing_2016.csv")}},
                "mine": {"weights": {"key_tasks": 40, "innovation": 0}},
            }
        },
        scorer,
    )
    expected = ahp(read_pairwise(SWEEPS / "ahp_beijing_2016.csv", scheme.indicator_ids)).weights
    np.testing.assert_allclose(built[1].weights(), expected.to_numpy(), rtol=1e-12)
    w = built[2].scheme.weights
    assert w["key_tasks"] == 40 and w["innovation"] == 0 and w["main_indicators"] == 25


# ---------------------------------------------------------------------------
# the comparison
# ---------------------------------------------------------------------------


def test_a_grid_across_a_breakpoint_swaps_exactly_the_units_share_breakpoints_predicts(tmp_path, demo, scheme, scorer):
    gs = unit_group_scores(demo, scheme)
    bp = share_breakpoints(
        gs, scheme.shares, "grassroots", k=3, share_range=(0.0, 0.6), rank_group=rank_groups(demo.units, scheme)
    )
    points = bp.breakpoints["share"].to_numpy()
    gaps = np.diff(np.r_[0.0, points, 0.6])
    isolated = [i for i in range(points.size) if min(gaps[i], gaps[i + 1]) > 2e-3]
    chosen = [isolated[0], *[i for i in isolated if bp.breakpoints["top_k_changes"].iloc[i]][:1], isolated[-1]]
    assert len(set(chosen)) >= 2
    for i in chosen:
        b = float(points[i])
        lo, hi = round(b - 1e-3, 12), round(b + 1e-3, 12)
        _, built = built_from(tmp_path, {"grid": {"groups.grassroots.share": [lo, hi]}}, scorer)
        comp = compare(built, scorer)
        r = comp.ranks.set_index("unit")
        a, c = r[built[1].name], r[built[2].name]
        moved = set(r.index[a != c])
        swaps = bp.swaps[np.isclose(bp.swaps["share"], b)]
        assert moved == set(swaps["unit_up"]) | set(swaps["unit_down"]), b
        for sw in swaps.itertuples():
            assert (a[sw.unit_up], c[sw.unit_up]) == (sw.rank_up_before, sw.rank_up_after)
            assert (a[sw.unit_down], c[sw.unit_down]) == (sw.rank_down_before, sw.rank_down_after)
        # and every rank on either side is the exact segment's
        for name, share in ((built[1].name, lo), (built[2].name, hi)):
            exact = bp.ranks_at(share)
            assert (r.loc[exact.index, name].astype(int) == exact.astype(int)).all()


def test_summary_correlations_moves_and_top3_agree_with_scipy_and_the_ranks(tmp_path, scorer):
    spec, built = built_from(
        tmp_path,
        {
            "scenarios": {
                "eq": {"weights": "equal"},
                "g0": {"groups.grassroots.share": 0.0},
                "renorm": {"missing_components": "renormalise"},
            }
        },
        scorer,
    )
    comp = compare(built, scorer)
    r = comp.ranks
    for row in comp.summary.itertuples():
        sub = r[r["kind"] == row.rank_group]
        x, y = sub["base"].astype(float), sub[row.scenario].astype(float)
        assert row.kendall_tau == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
        assert row.spearman_rho == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert row.units_moved == int((x != y).sum())
        assert row.largest_move == int((x - y).abs().max())
        top, top_base = set(sub.loc[y <= 3, "unit"]), set(sub.loc[x <= 3, "unit"])
        assert row.top3_changed == (top != top_base)
        g = comp.grades[comp.grades["kind"] == row.rank_group]
        assert row.grade_changes == int((g["base"] != g[row.scenario]).sum())
    base = comp.summary[comp.summary["scenario"] == "base"]
    assert (base["kendall_tau"] == 1).all() and (base["units_moved"] == 0).all()
    renorm = comp.summary[(comp.summary["scenario"] == "renorm") & (comp.summary["rank_group"] == "department")].iloc[0]
    assert renorm.top3_changed  # written-report units escape the on-site scoring and rise (the scheme file's warning)


def test_movers_contributions_add_up_to_the_change_of_the_final_score(tmp_path, scorer, scheme):
    _, built = built_from(
        tmp_path,
        {
            "scenarios": {
                "eq": {"weights": "equal"},
                "on75": {"components.onsite": 0.75},
                "g6": {"groups.grassroots.share": 0.6},
            }
        },
        scorer,
    )
    comp = compare(built, scorer)
    m = comp.movers
    items = [f"change_{i}" for i in contribution_items(scheme)]
    assert set(m["scenario"]) == {"eq", "on75", "g6"}
    np.testing.assert_allclose(m[items].sum(axis=1), m["final_change"], atol=1e-9)
    assert (m["move"] != 0).all() and (m["move"] == m["rank_base"] - m["rank"]).all()
    assert m.groupby(["scenario", "rank_group"]).size().max() <= 5
    first = m.groupby(["scenario", "rank_group"])["move"].apply(lambda s: s.abs().iloc[0])
    summ = comp.summary.set_index(["scenario", "rank_group"])["largest_move"]
    assert (first == summ.reindex(first.index)).all()  # the first mover listed is the largest move
    # the contributions of the base scheme add up to each unit's final score
    a = scorer.arrays(scheme)
    np.testing.assert_allclose(contributions(a, scheme).sum(axis=1), a.final, atol=1e-9)


def test_the_scorer_for_sweeps_is_score_units_and_ranks_as_rank_desc(scheme, demo, scorer):
    su = score_units(demo, scheme).set_index("unit")
    a = scorer.arrays(scheme.with_group_share("grassroots", 0.5))
    b = score_units(demo, scheme.with_group_share("grassroots", 0.5)).set_index("unit").reindex(a.units)
    np.testing.assert_allclose(a.final, b["final"].to_numpy(), rtol=0, atol=1e-12)
    assert (pd.Series(a.rank, index=a.units).astype(int) == b["rank"]).all()
    tied = pd.Series([3.0, 1.0, 3.0, np.nan, 2.0], index=list("abcde"))
    assert rank_desc(tied).tolist() == [1, 4, 1, pd.NA, 3]
    assert len(su) == 76


def test_average_ranks_is_scipy_rankdata():
    rng = np.random.default_rng(3)
    R = rng.integers(0, 6, size=(40, 15)).astype(float)
    np.testing.assert_array_equal(average_ranks(R), stats.rankdata(R, axis=1))


# ---------------------------------------------------------------------------
# running: notebooks, reruns, failures, parallel and Dask
# ---------------------------------------------------------------------------


def _book(path: Path, *sources, params="scheme = ''\ndata = ''\noutput = ''\nseed = 0"):
    cells = [new_markdown_cell(f"# {path.stem}"), new_code_cell(params, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


@pytest.fixture
def books(tmp_path) -> Path:
    """Two quick notebooks: one writes the scenario's grassroots share, one fails above a share of 0.5."""
    d = tmp_path / "books"
    d.mkdir()
    _book(
        d / "10_share.ipynb",
        "from pathlib import Path\nfrom perflab.scheme import load_scheme\n"
        "share = load_scheme(scheme).shares['grassroots']\n"
        "Path(output, 'share.txt').write_text(f'{share:.6f} {label}')",
        params="scheme = ''\ndata = ''\noutput = ''\nseed = 0\nlabel = 'none'  # a text parameter\nn = 10",
    )
    _book(
        d / "20_strict.ipynb",
        "from perflab.scheme import load_scheme\n"
        "assert load_scheme(scheme).shares['grassroots'] <= 0.5, 'grassroots share above 0.5'",
    )
    return d


def test_a_two_scenario_sweep_runs_notebook_10_in_two_processes(tmp_path, capsys):
    sweep = write_sweep(tmp_path, {"notebooks": [10], "scenarios": {"g5": {"groups.grassroots.share": 0.5}}})
    out = tmp_path / "o"
    assert main(["sweep", str(sweep), "--out", str(out), "--jobs", "2", "--quiet"]) == 0, capsys.readouterr().err
    ranks = pd.read_csv(out / "comparison" / "ranks.csv", dtype={"unit": str}).set_index("unit")
    for name in ("base", "g5"):
        d = out / "scenarios" / name
        page = (d / "10_scores.html").read_text(encoding="utf-8")
        assert "<img" in page and "load_dataset(" not in page
        scores = pd.read_csv(d / "tables" / "scores.csv", dtype={"unit": str}).set_index("unit")
        assert (scores["rank"] == ranks.loc[scores.index, name]).all()
        assert load_scheme(d / "scheme.yaml").digest() == load_scheme(d / "scheme.yaml").digest()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="scenarios/g5/10_scores.html"' in index and "rank_heatmap_department.png" in index
    for f in ("rank_heatmap_district.png", "rank_heatmap_department.svg"):
        assert (out / "comparison" / f).stat().st_size > 1000


def test_unchanged_scenarios_are_not_rerun_unless_forced_or_their_inputs_change(tmp_path, books, capsys):
    sweep = write_sweep(
        tmp_path, {"notebooks": [10], "parameters": {"label": "a"}, "grid": {"groups.grassroots.share": [0.25]}}
    )
    out = tmp_path / "o"
    args = ["sweep", str(sweep), "--out", str(out), "--notebooks", str(books), "--quiet", "--no-figures"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "1 scenario(s) run, 0 unchanged" in first and "1 sharing the pages" in first  # 0.25 is the base scheme
    stamp = (out / "scenarios" / "base" / "10_share.ipynb").stat().st_mtime_ns
    assert main(args) == 0
    assert "0 scenario(s) run, 1 unchanged" in capsys.readouterr().out
    assert (out / "scenarios" / "base" / "10_share.ipynb").stat().st_mtime_ns == stamp
    assert main(args + ["--force"]) == 0
    assert "1 scenario(s) run" in capsys.readouterr().out
    sweep.write_text(sweep.read_text().replace("label: a", "label: b"))
    assert main(args) == 0
    assert "1 scenario(s) run" in capsys.readouterr().out
    assert (out / "scenarios" / "base" / "share.txt").read_text() == "0.250000 b"


def test_a_failing_scenario_notebook_is_named_and_the_others_still_finish(tmp_path, books, capsys):
    sweep = write_sweep(tmp_path, {"notebooks": [10, 20], "grid": {"groups.grassroots.share": [0.1, 0.6]}})
    out = tmp_path / "o"
    code = main(
        ["sweep", str(sweep), "--out", str(out), "--notebooks", str(books), "--quiet", "--no-figures", "--jobs", "2"]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert (
        "perflab: error: scenario 'groups.grassroots.share=0.6': notebook 20_strict.ipynb, cell 4 (In [3]): "
        "AssertionError: grassroots share above 0.5"
    ) in err
    assert "Traceback" not in err
    assert (out / "scenarios" / "groups.grassroots.share=0.1" / "20_strict.html").is_file()
    assert (out / "scenarios" / "groups.grassroots.share=0.6" / "share.txt").read_text().startswith("0.600000")
    assert not (out / "scenarios" / "groups.grassroots.share=0.6" / "inputs.json").exists()  # rerun next time
    assert "failed: notebook 20_strict.ipynb" in (out / "index.html").read_text(encoding="utf-8")
    assert (out / "comparison" / "ranks.csv").is_file()


def test_notebook_parameters_are_checked_against_each_notebook_before_anything_runs(tmp_path, books, capsys):
    for params, message in (
        ({"nn": 3}, "no notebook of the sweep has the parameter 'nn'; they have: label, n"),
        ({"n": "ten"}, "parameter 'n' = 'ten': notebook 10_share.ipynb expects int"),
        ({"label": 3}, "parameter 'label' = 3: notebook 10_share.ipynb expects str"),
    ):
        sweep = write_sweep(tmp_path, {"notebooks": [10], "scenarios": {"x": {"parameters": params}}})
        out = tmp_path / "o"
        assert main(["sweep", str(sweep), "--out", str(out), "--notebooks", str(books), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "scenario 'x'" in err
        assert not out.exists()


@pytest.mark.filterwarnings("ignore")
def test_jobs_and_dask_give_byte_identical_comparison_tables(tmp_path, books, capsys):
    from distributed import LocalCluster

    sweep = write_sweep(
        tmp_path,
        {"notebooks": [10], "grid": {"groups.grassroots.share": [0.4]}, "scenarios": {"eq": {"weights": "equal"}}},
    )
    base = ["sweep", str(sweep), "--notebooks", str(books), "--quiet", "--no-figures"]
    assert main(base + ["--out", str(tmp_path / "one")]) == 0
    first = hashes(tmp_path / "one" / "comparison")
    assert main(base + ["--out", str(tmp_path / "one")]) == 0  # a rerun (notebooks unchanged, not rerun)
    assert main(base + ["--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(base + ["--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address]) == 0
    assert (
        main(base + ["--out", str(tmp_path / "local"), "--dask", "local", "--jobs", "2"]) == 0
    )  # a cluster of its own
    capsys.readouterr()
    one = hashes(tmp_path / "one" / "comparison")
    assert one == first
    assert set(one) == {
        "ranks.csv",
        "scores.csv",
        "grades.csv",
        "summary.csv",
        "movers.csv",
        "scenarios.csv",
        "weights.csv",
    }
    assert hashes(tmp_path / "two" / "comparison") == one
    assert hashes(tmp_path / "dask" / "comparison") == one
    assert hashes(tmp_path / "local" / "comparison") == one
    for d in ("one", "two", "dask", "local"):
        for s in ("base", "groups.grassroots.share=0.4"):
            assert (tmp_path / d / "scenarios" / s / "10_share.html").is_file(), (d, s)
    shares = (tmp_path / "dask" / "scenarios" / "groups.grassroots.share=0.4" / "share.txt").read_text()
    assert shares.startswith("0.400000")


def test_an_unreachable_dask_scheduler_is_one_line_exit_2(tmp_path, books, capsys):
    sweep = write_sweep(tmp_path, {"notebooks": [10]})
    code = main(
        [
            "sweep",
            str(sweep),
            "--out",
            str(tmp_path / "o"),
            "--notebooks",
            str(books),
            "--quiet",
            "--no-figures",
            "--dask",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "could not reach the Dask scheduler at tcp://127.0.0.1:9" in err


def test_the_sweep_never_writes_into_the_raw_data(tmp_path, capsys):
    data = tmp_path / "raw"
    shutil.copytree(DEMO_DIR, data)
    sweep = write_sweep(tmp_path, {"data": "raw"})
    assert main(["sweep", str(sweep), "--out", str(data / "out"), "--quiet"]) == 2
    assert "refusing to write inside the raw-data tree" in capsys.readouterr().err
    assert not (data / "out").exists()


def test_the_index_page_reads_as_words(tmp_path, capsys):
    result = run_sweep(SWEEPS / "method_choices.yaml", out=tmp_path / "o", progress=False)
    page = html.unescape(result.index.read_text(encoding="utf-8"))
    for words in (
        "Simulated data",
        "How far each scenario moves the ranking",
        "Kendall's τ against base",
        "Units whose rank changes",
        "The biggest movers, and why",
        "Municipal departments",
        "renormalise",
    ):
        assert words in page
    assert not re.search(r"\bnan\b|\bNaN\b|<NA>|\d[eE][+-]\d", page)  # no missing-value or exponent noise
    assert "<th></th>" not in page  # no unnamed index column
    assert len(result.figures) == 4  # heat maps per kind, PNG and SVG


def test_the_readme_worked_example_holds(scorers, demo, scheme):
    """Every number the README's worked example states, recomputed (scores only, no notebooks)."""
    spec = load_sweep(SWEEPS / "grassroots_share.yaml")
    built = build_scenarios(spec, scorers)
    s = compare(built, scorers.base).summary.set_index(["scenario", "rank_group"])
    share = "groups.grassroots.share="
    assert s.loc[("base", "district"), "top3"] == "D09 D02 D15"
    for v in ("0.3", "0.4", "0.5", "0.6"):
        assert not s.loc[(share + v, "district"), "top3_changed"]
    for v in ("0", "0.1", "0.2"):
        assert s.loc[(share + v, "district"), "top3"] == "D09 D02 D06"
    gs = unit_group_scores(demo, scheme)
    bp = share_breakpoints(
        gs, scheme.shares, "grassroots", share_range=(0.0, 0.6), rank_group=rank_groups(demo.units, scheme)
    )
    top = bp.swaps[(bp.swaps["rank_group"] == "district") & bp.swaps["top_k_changes"]]
    assert len(top) == 1 and round(float(top["share"].iloc[0]), 3) == 0.242
    assert (top["unit_up"].iloc[0], top["unit_down"].iloc[0]) == ("D15", "D06")
    onsite = unit_group_scores(demo, scheme, scale="onsite")
    assert round(onsite.at["D15", "grassroots"], 1) == 88.4 and round(onsite.at["D06", "grassroots"], 1) == 81.1
    rest = scheme.shares.drop("grassroots")
    others = onsite[rest.index] @ (rest / rest.sum())
    assert round(others["D15"], 1) == 84.4 and round(others["D06"], 1) == 83.9
    routine = scorers.base.score(scheme).set_index("unit")["routine"]
    assert round(routine["D06"], 1) == 95.2 and round(routine["D15"], 1) == 92.0
    d = s.loc[(share + "0.6", "department")]
    assert (
        d["units_moved"],
        round(d["kendall_tau"], 3),
        d["largest_move"],
        d["largest_mover"],
        d["grade_changes"],
    ) == (35, 0.951, 10, "M03", 2)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(
    share=st.floats(0.0, 1.0),
    trim=st.integers(0, 3),
    onsite=st.floats(0.05, 1.0),
    within=st.sampled_from(["kind", "all"]),
)
def test_any_scenario_scores_as_score_units_on_the_scheme_it_builds(
    tmp_path_factory, scorers, scheme, demo, share, trim, onsite, within
):
    """Property: whatever the overrides, a scenario is scored exactly as score_units scores its scheme."""
    import dataclasses

    from perflab.scheme import Aggregation, Ranking

    tmp = tmp_path_factory.mktemp("prop")
    spec = load_sweep(
        write_sweep(
            tmp,
            {
                "scenarios": {
                    "x": {
                        "groups.grassroots.share": share,
                        "aggregation.trim": trim,
                        "components.onsite": onsite,
                        "ranking.within": within,
                    }
                }
            },
        )
    )
    b = build_scenarios(spec, scorers)[1]
    expected = dataclasses.replace(
        scheme.with_group_share("grassroots", share),
        aggregation=Aggregation("trimmed_mean", trim),
        components={**scheme.components, "onsite": onsite},
        ranking=Ranking(within=within, zone=True),
    )
    a = scorers.for_scheme(b.scheme).arrays(b.scheme)
    su = score_units(demo, expected).set_index("unit").reindex(a.units)
    np.testing.assert_allclose(a.final, su["final"].to_numpy(float), rtol=0, atol=1e-9)
    assert (pd.Series(a.rank, index=a.units).astype("Int64") == su["rank"]).all()
    assert (a.grade == su["grade"].to_numpy(dtype=object)).all()


def test_a_large_grid_is_compared_and_drawn_by_two_processes(tmp_path, capsys, scheme, demo):
    """From 200 scenarios a second process draws half the figures while the tables are written."""
    sweep = write_sweep(
        tmp_path,
        {
            "grid": {
                "groups.grassroots.share": {"from": 0.0, "to": 0.6, "step": 0.03},
                "indicators.service.weight": {"from": 1, "to": 10, "step": 1},
            }
        },
    )
    out = tmp_path / "fresh" / "o"  # a directory that does not exist yet
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet"]) == 0
    assert "211 scenarios scored" in capsys.readouterr().out
    ranks = pd.read_csv(out / "comparison" / "ranks.csv", dtype={"unit": str}).set_index("unit")
    assert ranks.shape[1] == 4 + 211
    name = "groups.grassroots.share=0.42,indicators.service.weight=7"
    expected = score_units(demo, scheme.with_group_share("grassroots", 0.42).with_weights({"service": 7})).set_index(
        "unit"
    )
    assert (ranks.loc[expected.index, name] == expected["rank"]).all()
    figures = sorted(p.name for p in (out / "comparison").glob("*.png"))
    assert figures == [
        "bump_groups_grassroots_share_department.png",
        "bump_groups_grassroots_share_district.png",
        "bump_indicators_service_weight_department.png",
        "bump_indicators_service_weight_district.png",
        "rank_heatmap_department.png",
        "rank_heatmap_district.png",
    ]
    assert (out / "provenance.json").is_file() and (out / "index.html").is_file()


def test_sweep_paths_reach_the_small_zone_and_vetting_rules(tmp_path):
    """differentiated.min_zone_size and differentiated.vetting.* are sweepable and checked like every other key."""
    f = tmp_path / "s.yaml"
    f.write_text(
        f"base: {SCHEME_FILE}\nnotebooks: []\ngrid:\n  differentiated.min_zone_size: [1, 5]\n"
        "scenarios:\n  flag_only: {differentiated.vetting.action: flag}\n"
        "  penalised: {differentiated.vetting.penalty: 30}\n",
        encoding="utf-8",
    )
    built = {b.name: b.scheme.differentiated for b in build_scenarios(load_sweep(f), None)}
    assert built["differentiated.min_zone_size=1"].min_zone_size == 1
    assert built["flag_only"].vetting == "flag"
    assert (built["penalised"].vetting, built["penalised"].vetting_penalty) == ("penalty", 30.0)
    f.write_text(
        f"base: {SCHEME_FILE}\nnotebooks: []\nscenarios:\n  bad: {{differentiated.vetting.action: ignore}}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        SweepError, match="scenario 'bad', key differentiated.vetting.action: must be one of flag, reject"
    ):
        build_scenarios(load_sweep(f), None)
