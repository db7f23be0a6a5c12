"""Bonus and deduction items (加分项, 扣分项) and targets with a challenge value (目标值, 挑战值), issue 14 items 5, 6.

Planted points are recovered; caps hold for any points (hypothesis); ranks move as the points say; a scheme
without either part scores byte for byte as before; challenge attainment has known answers; bad tables and
schemes end in one line naming file, row and column (exit 2).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DEMO_DIR, ROOT, SCHEME_FILE, make_scheme, tiny_tables, write_tables
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.cli import main
from perflab.differentiated import target_attainment, vet_targets, vetted_attainment
from perflab.errors import DataError, DataNote, SchemeError
from perflab.io import dataset_from_tables
from perflab.scheme import load_scheme
from perflab.scoring import Scorer, adjustment_points, adjustment_table, contributions, score_units
from perflab.simulate import simulate

SANXIAO = ROOT / "params" / "beijing_departments_sanxiao.yaml"
# `perflab score data/raw/demo --scheme params/beijing_2016.yaml` before bonus, deduction and challenge existed
SCORE_SHA256 = "b99992a600233be0298370c4c8f1280219be4a5847fdffe96032a4a07396bfc5"
DIGEST_2016 = "ed0bafd36d69a88fd93e3086f5e95a56395180d3ff56b041a2463252172939dc"  # provenance's content_sha256 then

ITEMS = {
    "items": [
        {"id": "award", "type": "bonus", "cap": 2, "name_zh": "国家级表彰"},
        {"id": "innovation_bonus", "type": "bonus", "cap": 3},
        {"id": "accountability", "type": "deduction", "cap": 5, "name_zh": "问责扣分"},
    ]
}


def _with(raw: dict, **parts) -> dict:
    out = copy.deepcopy(raw)
    out.update(parts)
    return out


# ---------------------------------------------------------------------------
# bonus and deduction items
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted():
    """The sanxiao scheme (it asks for challenge values) with district-only bonus and deduction items, simulated."""
    raw = yaml.safe_load(SANXIAO.read_text(encoding="utf-8"))
    raw["adjustments"] = {
        "items": [
            {"id": "outstanding_work", "type": "bonus", "cap": 3, "kind": "district"},
            {"id": "accountability", "type": "deduction", "cap": 5, "kind": "district"},
        ],
        "deduction_cap": 5,
    }
    scheme = make_scheme(raw)
    sim = simulate(scheme, seed=11)
    with pytest.warns(DataNote, match="exceed the item's cap"):
        ds = dataset_from_tables(sim.tables, scheme)
    return scheme, sim, ds


def test_planted_bonuses_and_deductions_are_recovered_after_their_caps(planted):
    scheme, sim, ds = planted
    truth = pd.DataFrame(sim.truth["planted"]["adjustments"])
    assert (truth["points"] > truth["counted"]).sum() == 2  # one unit per type beyond its item's cap
    scores = score_units(ds, scheme).set_index("unit")
    for typ in ("bonus", "deduction"):
        want = truth[truth["type"] == typ].groupby("unit")["counted"].sum()
        got = scores[typ]
        np.testing.assert_allclose(got.reindex(want.index), want)
        assert (got.drop(want.index) == 0).all()
    np.testing.assert_allclose(scores["final"], scores["weighted"] + scores["bonus"] - scores["deduction"])
    t = adjustment_table(ds, scheme)
    assert set(zip(t["unit"], t["item"])) == set(zip(truth["unit"], truth["item"]))


def test_the_score_table_gains_its_columns_only_with_items_and_contributions_still_add_up(planted):
    scheme, _, ds = planted
    cols = score_units(ds, scheme).columns.tolist()
    assert cols[cols.index("weighted") :][:4] == ["weighted", "bonus", "deduction", "final"]
    a = Scorer(ds).arrays(scheme)
    c = contributions(a, scheme)
    ok = np.isfinite(a.final)
    np.testing.assert_allclose(c[ok].sum(axis=1), a.final[ok])
    plain = make_scheme({k: v for k, v in yaml.safe_load(SANXIAO.read_text(encoding="utf-8")).items()})
    assert "bonus" not in score_units(dataclasses.replace(ds, adjustments=None), plain).columns


def _tiny(points: dict[tuple[str, str], list[float]], spec: dict, raw: dict):
    scheme = make_scheme(_with(raw, adjustments=spec))
    rows = [(u, i, p, f"case {n}") for (u, i), ps in points.items() for n, p in enumerate(ps)]
    tables = tiny_tables()
    if rows:
        tables["adjustments"] = pd.DataFrame(rows, columns=["unit", "item", "points", "reason"])
    with pytest.warns(DataNote) if not rows else _nothing():
        ds = dataset_from_tables(tables, scheme)
    return scheme, ds


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@settings(max_examples=25, deadline=None)
@given(
    pts=st.lists(st.floats(0, 6, allow_nan=False).map(lambda x: round(x, 2)), min_size=6, max_size=6),
    bonus_cap=st.one_of(st.none(), st.floats(0, 6).map(lambda x: round(x, 2))),
)
def test_caps_hold_for_any_points(scheme_dict_module, pts, bonus_cap):
    spec = copy.deepcopy(ITEMS) | ({"bonus_cap": bonus_cap} if bonus_cap is not None else {})
    points = {("D01", "award"): pts[:2], ("D01", "innovation_bonus"): pts[2:3], ("D02", "accountability"): pts[3:5]}
    points[("M01", "award")] = pts[5:6]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataNote)
        scheme, ds = _tiny(points, spec, scheme_dict_module)
    plain = make_scheme(scheme_dict_module)
    composite = score_units(ds, plain).set_index("unit")["final"]
    got = score_units(ds, scheme).set_index("unit")
    cap = np.inf if bonus_cap is None else bonus_cap
    bonus = {
        "D01": min(min(sum(pts[:2]), 2) + min(pts[2], 3), cap),
        "M01": min(min(pts[5], 2), cap),
    }
    deduction = {"D02": min(sum(pts[3:5]), 5)}
    for u in composite.index:
        want = composite[u] + bonus.get(u, 0.0) - deduction.get(u, 0.0)
        if np.isnan(composite[u]):
            assert np.isnan(got.loc[u, "final"])
        else:
            assert got.loc[u, "final"] == pytest.approx(want, abs=1e-9)
            assert got.loc[u, "weighted"] == pytest.approx(composite[u], abs=1e-12)


@pytest.fixture(scope="module")
def scheme_dict_module():
    return yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8"))


def test_ranks_move_as_the_points_say(scheme_dict_module):
    plain = make_scheme(scheme_dict_module)
    base = score_units(dataset_from_tables(tiny_tables(), plain), plain).set_index("unit")
    gap = base.loc["D01", "final"] - base.loc["D02", "final"]
    assert gap > 0 and base.loc["D01", "rank"] == 1
    give = min(round(gap + 0.5, 1), 5.0)  # D02's bonus just beyond the gap, or D01's deduction
    assert give > gap
    for points in (
        {("D02", "award"): [1.0], ("D02", "innovation_bonus"): [give - 1.0]},
        {("D01", "accountability"): [give]},
    ):
        scheme, ds = _tiny(points, ITEMS, scheme_dict_module)
        s = score_units(ds, scheme).set_index("unit")
        assert (s.loc["D02", "rank"], s.loc["D01", "rank"]) == (1, 2)
        assert s.loc["D02", "grade"] in scheme.grades
    # a small bonus leaves the order; a score may pass 100 (not clipped) and keeps the top grade
    scheme, ds = _tiny({("D02", "award"): [0.1], ("D01", "innovation_bonus"): [3.0]}, ITEMS, scheme_dict_module)
    s = score_units(ds, scheme).set_index("unit")
    assert s.loc["D01", "rank"] == 1 and s.loc["D01", "final"] == pytest.approx(base.loc["D01", "final"] + 3.0)


def test_a_scheme_without_the_new_parts_scores_byte_for_byte_as_before(tmp_path, capsys):
    out = tmp_path / "a.csv"
    assert main(["score", str(DEMO_DIR), "--scheme", str(SCHEME_FILE), "--out", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == SCORE_SHA256
    scheme = load_scheme(SCHEME_FILE)
    assert scheme.adjustments is None and scheme.routine.challenge is None
    assert scheme.digest() == DIGEST_2016
    sim = simulate(scheme, seed=5)
    assert "adjustments" not in sim.tables and "challenge" not in sim.tables["history"].columns


def test_declared_items_without_their_table_give_one_note(scheme_dict_module):
    scheme = make_scheme(_with(scheme_dict_module, adjustments=ITEMS))
    with pytest.warns(DataNote, match="declares bonus and deduction items .award, innovation_bonus, accountability"):
        ds = dataset_from_tables(tiny_tables(), scheme)
    assert (adjustment_points(ds, scheme).to_numpy() == 0).all()


# ---------------------------------------------------------------------------
# bad adjustments: one line naming file, row and column; exit 2
# ---------------------------------------------------------------------------


def _run_validate(tmp_path, scheme_raw, tables, capsys) -> str:
    data = write_tables(tables, tmp_path / "data" / "raw" / "tiny")
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(yaml.safe_dump(scheme_raw, allow_unicode=True), encoding="utf-8")
    capsys.readouterr()
    code = main(["validate", str(data), "--scheme", str(scheme), "--processed", str(tmp_path / "processed")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("perflab: error: "), err
    return err


ADJ = pd.DataFrame({"unit": ["D01", "D02"], "item": ["award", "accountability"], "points": [1.0, 2.0], "reason": "x"})


@pytest.mark.parametrize(
    "spoil, expected",
    [
        (lambda a: a.assign(unit=["D01", "X99"]), "adjustments.csv, row 3, column unit: unknown unit 'X99'"),
        (lambda a: a.assign(item=["award", "prize"]), "row 3, column item: unknown bonus or deduction item 'prize'"),
        (
            lambda a: a.assign(points=[-1.0, 2.0]),
            "row 2, column points: points -1 must be >= 0: the item's type (bonus)",
        ),
        (lambda a: a.assign(points=["one", "2"]), "row 2, column points: 'one' is not a number"),
        (lambda a: a.assign(reason=["", "x"]), "row 2, column reason: empty value"),
    ],
)
def test_bad_adjustments_rows_name_file_row_and_column(tmp_path, capsys, scheme_dict_module, spoil, expected):
    tables = tiny_tables() | {"adjustments": spoil(ADJ.copy())}
    assert expected in _run_validate(tmp_path, _with(scheme_dict_module, adjustments=ITEMS), tables, capsys)


def test_an_item_for_the_other_kind_and_a_table_without_items_are_refused(tmp_path, capsys, scheme_dict_module):
    spec = copy.deepcopy(ITEMS)
    spec["items"][0]["kind"] = "department"
    err = _run_validate(
        tmp_path, _with(scheme_dict_module, adjustments=spec), tiny_tables() | {"adjustments": ADJ}, capsys
    )
    assert "row 2, column item: item award is for departments but unit D01 is a district" in err
    err = _run_validate(tmp_path / "b", scheme_dict_module, tiny_tables() | {"adjustments": ADJ}, capsys)
    assert "adjustments.csv: the scheme declares no bonus or deduction items" in err


@pytest.mark.parametrize(
    "item, key, expected",
    [
        ({"id": "a", "type": "plus", "cap": 1}, "adjustments.items[0].type", "must be one of bonus, deduction"),
        ({"id": "a", "type": "bonus", "cap": 0}, "adjustments.items[0].cap", "must be > 0"),
        ({"id": "a", "type": "bonus", "cap": 1, "kind": "bonus"}, "adjustments.items[0].kind", "goes under `type:`"),
        ({"id": "a", "type": "bonus"}, "adjustments.items[0].cap", "missing key 'cap'"),
    ],
)
def test_bad_items_in_the_scheme_name_their_key(scheme_dict_module, item, key, expected):
    with pytest.raises(SchemeError) as exc:
        make_scheme(_with(scheme_dict_module, adjustments=[item]))
    assert exc.value.key == key and expected in exc.value.message


# ---------------------------------------------------------------------------
# targets with a challenge value
# ---------------------------------------------------------------------------


def _challenge_scheme(raw: dict, between: str = "linear", target_score: float = 80.0):
    r = copy.deepcopy(raw)
    r["routine"]["challenge"] = {"target_score": target_score, "between": between}
    return make_scheme(r)


def test_challenge_attainment_known_answers(scheme_dict_module):
    scheme = _challenge_scheme(scheme_dict_module)
    h = pd.DataFrame(
        {
            "unit": "D01",
            "measure": ["gdp_growth"] * 5 + ["pm25"] * 4,
            "year": 2016,
            "value": [100.0, 104.0, 106.0, 108.0, 50.0, 60.0, 55.0, 50.0, 45.0],
            "target": [104.0] * 4 + [100.0] + [60.0] * 4,
            "challenge": [108.0] * 4 + [None] + [50.0] * 4,
        }
    )
    got = target_attainment(h, scheme)["score"].round(9).tolist()
    below = 80.0 * 100.0 / 104.0
    # below the target, at it, halfway, at the challenge; no challenge: the cap rule; lower is better likewise
    assert got == pytest.approx([below, 80.0, 90.0, 100.0, 50.0, 80.0, 90.0, 100.0, 100.0])
    step = target_attainment(h, _challenge_scheme(scheme_dict_module, "step"))["score"].tolist()
    assert step[1:4] == [80.0, 80.0, 100.0] and step[6:8] == [80.0, 100.0]


def test_challenge_values_score_through_the_routine_score(scheme_dict_module):
    plain = make_scheme(scheme_dict_module)
    scheme = _challenge_scheme(scheme_dict_module)
    tables = tiny_tables()
    tables["history"]["challenge"] = [7.5, None, None, None, None, None]  # D01 met its gdp target of 7.0
    ds = dataset_from_tables(tables, scheme)
    before = score_units(dataset_from_tables(tiny_tables(), plain), plain).set_index("unit")
    after = score_units(ds, scheme).set_index("unit")
    # D01: gdp at the target scores 80 instead of 100; pm25 (no challenge) 75 as before
    assert before.loc["D01", "attainment"] == pytest.approx(87.5)
    assert after.loc["D01", "attainment"] == pytest.approx(77.5)
    assert after.drop("D01")["attainment"].equals(before.drop("D01")["attainment"])


def test_simulated_challenges_and_the_planted_soft_one_is_flagged(planted):
    scheme, sim, ds = planted
    h = ds.history
    chal = sim.truth["planted"]["challenges"]
    assert set(h.loc[h["challenge"].notna(), "unit"]) <= set(chal["units"]) and h["challenge"].notna().sum() > 50
    dirs = scheme.directions
    sign = h["measure"].map(dirs).map({"higher": 1.0, "lower": -1.0})
    has = h["challenge"].notna()
    assert ((h["challenge"] - h["target"])[has] * sign[has] > 0).all()
    soft = chal["soft_challenge"]
    assert soft, "no soft challenge planted for this seed"
    flags = vet_targets(h, ds.verification, scheme)
    hits = flags[(flags["flag"] == "challenge_achieved") & (flags["unit"] == soft["unit"])]
    assert (hits["measure"] == soft["measure"]).any()
    att = target_attainment(h, scheme)
    year = att[att["year"] == soft["year"]]
    v = vetted_attainment(year, flags, pd.DataFrame(columns=["unit", "measure", "year", "baseline"]), scheme)
    row = v[(v["unit"] == soft["unit"]) & (v["measure"] == soft["measure"])].iloc[0]
    # the target asks more than last year's result (not vetted itself): the soft challenge earns nothing beyond it
    assert row["vetted"] == "reject" and row["attainment_vetted"] == min(row["attainment"], 90.0)
    assert row["attainment"] > 90.0 or row["attainment_vetted"] == row["attainment"]


@pytest.mark.parametrize(
    "challenge, expected",
    [
        ([6.5, None, None, None, None, None], "row 2, column challenge: challenge 6.5 must lie above the target 7"),
        ([None, 65.0, None, None, None, None], "row 3, column challenge: challenge 65 must lie below the target 60"),
        ([None, None, None, None, None, 7.0], "row 7, column challenge: challenge 7 has no target"),
        ([7.0, None, None, None, None, None], "row 2, column challenge: challenge 7 must lie above the target 7"),
    ],
)
def test_bad_challenge_values_name_file_row_and_column(tmp_path, capsys, scheme_dict_module, challenge, expected):
    tables = tiny_tables()
    tables["history"]["challenge"] = challenge
    raw = _with(scheme_dict_module)
    raw["routine"]["challenge"] = {"target_score": 90}
    err = _run_validate(tmp_path, raw, tables, capsys)
    assert "history.csv, " + expected in err


def test_challenge_values_without_the_schemes_rule_are_refused(tmp_path, capsys, scheme_dict_module):
    tables = tiny_tables()
    tables["history"]["challenge"] = [7.5, None, None, None, None, None]
    err = _run_validate(tmp_path, scheme_dict_module, tables, capsys)
    assert "history.csv, row 2, column challenge: challenge values are given but the scheme does not say" in err
    with pytest.raises(DataError, match="routine.challenge"):
        target_attainment(tables["history"], make_scheme(scheme_dict_module))


def test_bad_challenge_settings_name_their_key(scheme_dict_module):
    r = copy.deepcopy(scheme_dict_module)
    r["routine"]["challenge"] = {"target_score": 120}
    with pytest.raises(SchemeError) as exc:
        make_scheme(r)
    assert exc.value.key == "routine.challenge.target_score"
    r["routine"]["challenge"] = {"target_score": 90, "between": "curve"}
    with pytest.raises(SchemeError, match="linear, step"):
        make_scheme(r)


def test_the_differentiated_evaluation_counts_the_points_alike_in_both_scores(planted):
    from perflab.differentiated import evaluate

    scheme, _, ds = planted
    ev = evaluate(ds, scheme)
    pts = adjustment_points(ds, scheme)
    net = pts["bonus"] - pts["deduction"]
    c = ev.contributions[ev.contributions["item"] == "bonus_deduction"].set_index("unit")
    np.testing.assert_allclose(c["uniform"], net.reindex(c.index))
    assert set(c.index) == set(net[net != 0].index) and (c["delta"] == 0).all()
    s = ev.scores.set_index("unit")
    np.testing.assert_allclose(s["uniform"], score_units(ds, scheme).set_index("unit")["final"].reindex(s.index))


def test_perflab_score_and_validate_with_items(tmp_path, capsys, scheme_dict_module):
    tables = tiny_tables() | {"adjustments": ADJ}
    data = write_tables(tables, tmp_path / "data" / "raw" / "tiny")
    scheme_file = tmp_path / "scheme.yaml"
    scheme_file.write_text(yaml.safe_dump(_with(scheme_dict_module, adjustments=ITEMS)), encoding="utf-8")
    out = tmp_path / "s.csv"
    assert main(["score", str(data), "--scheme", str(scheme_file), "--out", str(out)]) == 0
    s = pd.read_csv(out).set_index("unit")
    assert list(s.columns[s.columns.get_loc("weighted") :][:4]) == ["weighted", "bonus", "deduction", "final"]
    assert (s.loc["D01", "bonus"], s.loc["D02", "deduction"]) == (1.0, 2.0)
    processed = tmp_path / "processed"
    assert main(["validate", str(data), "--scheme", str(scheme_file), "--processed", str(processed)]) == 0
    from perflab.io import read_processed

    assert len(read_processed(processed).adjustments) == 2
    ADJ.iloc[:0].to_csv(data / "adjustments.csv", index=False)  # a header alone: nobody got any points
    assert main(["score", str(data), "--scheme", str(scheme_file), "--out", str(out)]) == 0
    assert (pd.read_csv(out)[["bonus", "deduction"]] == 0).all().all()


def test_the_sensitivity_analyses_start_from_the_final_score_with_the_points(planted):
    """The weight-sensitivity inputs rebuild each unit's final score, bonus and deduction included, so every
    analysis (one at a time, Monte Carlo, Sobol, exact intervals) ranks as the scheme does."""
    from perflab.sensitivity import unit_indicator_scores

    scheme, _, ds = planted
    scores = score_units(ds, scheme).set_index("unit")
    points = adjustment_points(ds, scheme)
    assert (points["bonus"] > 0).any() and (points["deduction"] > 0).any()
    per_indicator = unit_indicator_scores(ds, scheme, "final")
    rebuilt = per_indicator.to_numpy() @ scheme.weights.reindex(per_indicator.columns).to_numpy()
    rebuilt = pd.Series(rebuilt / scheme.weights.sum(), index=per_indicator.index)
    np.testing.assert_allclose(rebuilt, scores.loc[rebuilt.index, "final"], atol=1e-9)


def test_effective_weights_describe_the_weighted_score_and_still_add_up_to_one(planted):
    from perflab.effective import effective_weights

    scheme, _, ds = planted
    ew = effective_weights(ds, scheme)
    sums = ew.groupby(["rank_group", "level"], sort=False)["variance_share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
