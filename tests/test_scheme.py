"""The scheme file: the Beijing 2016 facts, grade<->score conversion, and one clear error per invalid input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCHEME_FILE, make_scheme
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.errors import SchemeError
from perflab.scheme import load_scheme


def test_beijing_scheme_holds_the_source_facts(scheme):
    assert scheme.indicator_ids[0] == "rectification" and len(scheme.indicators) == 7
    assert scheme.weights["rectification"] == 10
    assert scheme.grades == ["A", "B", "C", "D", "E"]
    assert scheme.shares.sum() == pytest.approx(1.0)
    assert scheme.shares.idxmax() == "grassroots"  # "their weight was raised"
    assert scheme.components["onsite"] == 0.6 and scheme.components["routine"] == 0.4
    assert {z.id for z in scheme.zones if z.kind == "district"} == {
        "core",
        "extension",
        "new_development",
        "ecological",
    }


def test_every_number_not_from_the_source_is_marked(scheme):
    """Each numeric line of the params file says whether it is from the source or an assumption."""
    unmarked = []
    for line in SCHEME_FILE.read_text(encoding="utf-8").splitlines():
        body = line.split("#", 1)[0]
        if any(
            k in body
            for k in (
                "weight:",
                "share:",
                "trim:",
                "onsite:",
                "routine:",
                "satisfaction:",
                "attainment_cap:",
                "satisfaction_share:",
                "verification_penalty:",
                "year:",
            )
        ) and any(ch.isdigit() for ch in body):
            if "assumption" not in line and "source" not in line:
                unmarked.append(line.strip())
    assert not unmarked, unmarked


def test_grade_and_score_conversion_follow_the_bands(scheme):
    assert list(scheme.grade_of([0, 59.99, 60, 79.5, 80, 89.999, 90, 100])) == ["E", "E", "D", "C", "B", "B", "A", "A"]
    assert list(scheme.score_of(["A", "B", "C", "D", "E"])) == [95, 85, 75, 65, 55]
    with pytest.raises(ValueError):
        scheme.grade_of([101])


_BEIJING = load_scheme(SCHEME_FILE)  # read once: a property test runs its body hundreds of times


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_any_score_falls_in_exactly_the_band_of_its_grade(x):
    s = _BEIJING
    g = s.grade_of([x])[0]
    b = s.band(g)
    assert b.lower <= x < b.upper or (x == b.upper == 100)
    assert s.grade_of(s.score_of([g]))[0] == g  # the score given for a grade alone lies in its band


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["grassroots", "city_leaders", "media"]), st.floats(min_value=0, max_value=1))
def test_with_group_share_keeps_the_total_and_the_ratios_of_the_others(group, share):
    s = _BEIJING
    new = s.with_group_share(group, share)
    assert new.shares.sum() == pytest.approx(1.0)
    assert new.shares[group] == pytest.approx(share)
    others = [g for g in s.group_ids if g != group]
    if share < 1:
        np.testing.assert_allclose(
            new.shares[others] / new.shares[others].sum(), s.shares[others] / s.shares[others].sum()
        )


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d.update(indicatorz=d.pop("indicators")),
            r"key indicatorz: unknown key 'indicatorz' \(did you mean 'indicators'\?\)",
        ),
        (
            lambda d: d["indicators"][1].update(wieght=d["indicators"][1].pop("weight")),
            r"indicators\[1\]\.wieght: unknown key",
        ),
        (lambda d: d.pop("bands"), r"key bands: missing key 'bands'"),
        (lambda d: d["indicators"][2].update(weight=-5), r"indicators\[2\]\.weight: negative weight -5"),
        (lambda d: [i.update(weight=0) for i in d["indicators"]], r"all weights are zero"),
        (lambda d: d["groups"][0].update(share=-0.1), r"groups\[0\]\.share: negative share"),
        (lambda d: d["groups"][0].update(share=0.5), r"shares sum to 1\.3; they must sum to 1"),
        (lambda d: d["bands"][1].update(lower=75), r"bands C \[70, 80\) and B \[75, 90\) overlap"),
        (lambda d: d["bands"][1].update(upper=88), r"gap between 88 \(B\) and 90 \(A\)"),
        (lambda d: d["bands"][4].update(lower=10), r"gap: nothing covers scores from 0 to 10"),
        (lambda d: d["bands"][0].update(grade="B"), r"duplicated grade 'B'"),
        (
            lambda d: d["indicators"][1].update(id="rectification"),
            r"indicators\[1\]\.id: duplicated id 'rectification'",
        ),
        (lambda d: d["groups"][1].update(share=1.0), r"shares sum to 1\.95"),
        (lambda d: d["indicators"][3].update(weight="ten"), r"expected a number, got 'ten'"),
        (lambda d: d["aggregation"].update(method="median"), r"must be one of mean, trimmed_mean"),
        (lambda d: d["components"].update(onsite=0, routine=0), r"all component weights are zero"),
        (lambda d: d["measures"][0].pop("direction"), r"measures\[0\]\.direction: missing key"),
        (lambda d: d["zones"][0].update(kind="province"), r"must be one of district, department"),
        (lambda d: d["ranking"].update(within="zone"), r"ranking\.within: must be one of kind, all"),
        (
            lambda d: d["bands"][1].update(score=90),
            r"bands\[1\]\.score: score 90 must lie below the band's upper bound 90",
        ),
        (lambda d: d.update(year=2016.5), r"key year: expected a whole number, got 2016\.5"),
        (lambda d: d.update(missing_components="ignore"), r"must be one of impute_mean, renormalise, error"),
        (
            lambda d: d["differentiated"]["zones"].update(coast={"indicators": {"service": 5}}),
            r"differentiated\.zones\.coast: unknown zone 'coast'",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"]["indicators"].update(speed=5),
            r"differentiated\.zones\.core\.indicators\.speed: unknown indicator 'speed'",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"]["measures"].update(gren_cover=1),
            r"unknown measure 'gren_cover' \(did you mean 'green_cover'\?\)",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"]["indicators"].update(service=-1),
            r"core\.indicators\.service: negative weight -1",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"].update(
                indicators={
                    i: 0
                    for i in (
                        "rectification",
                        "main_indicators",
                        "key_tasks",
                        "law_based_admin",
                        "clean_admin",
                        "innovation",
                        "service",
                    )
                }
            ),
            r"all weights are zero for this zone",
        ),
        (
            lambda d: d["differentiated"]["baseline"].update(method="median"),
            r"baseline\.method: must be one of mean, trend, zscore",
        ),
        (
            lambda d: d["differentiated"]["baseline"].update(too_few_years="skip"),
            r"must be one of error, missing, zone",
        ),
        (
            lambda d: d["differentiated"]["baseline"].update(method="zscore", years=2),
            r"baseline\.years: the zscore baseline needs at least 3 years",
        ),
        (
            lambda d: d["differentiated"]["zones"].update(economy={"measures": {"gdp_growth": 3}}),
            r"measure 'gdp_growth' is for districts; zone 'economy' is a department zone",
        ),
        (
            lambda d: d["differentiated"]["zones"]["core"].update(
                measures={
                    m: 0
                    for m in ("gdp_growth", "pm25", "budget_revenue_growth", "green_cover", "polluting_firms_closed")
                }
            ),
            r"core\.measures: all weights are zero for this zone",
        ),
    ],
)
def test_invalid_scheme_gives_one_clear_error(scheme_dict, edit, message):
    edit(scheme_dict)
    with pytest.raises(SchemeError, match=message) as exc:
        make_scheme(scheme_dict)
    assert str(exc.value).startswith("test-scheme.yaml")
    assert "\n" not in str(exc.value)


def test_unreadable_scheme_files(tmp_path):
    with pytest.raises(SchemeError, match="scheme file not found"):
        load_scheme(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nindicators: [\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"not valid YAML at line \d+"):
        load_scheme(bad)


def test_with_weights_replaces_and_validates(scheme):
    new = scheme.with_weights({"rectification": 20})
    assert new.weights["rectification"] == 20 and new.weights["service"] == scheme.weights["service"]
    assert scheme.weights["rectification"] == 10  # the original is frozen, untouched
    with pytest.raises(SchemeError, match="unknown indicator"):
        scheme.with_weights({"speed": 1})
    with pytest.raises(SchemeError, match="negative weight"):
        scheme.with_weights({"service": -1})


def test_history_measures_need_a_direction_in_the_scheme(scheme_dict, tiny_dir):
    from perflab.errors import DataError
    from perflab.io import load_dataset

    scheme_dict.pop("measures")
    scheme_dict.pop("differentiated")  # its zone overrides name measures
    with pytest.raises(
        DataError,
        match=r"history.csv, row 2, column measure: unknown measure 'gdp_growth' \(known: none: the scheme declares no measures",
    ):
        load_dataset(tiny_dir, make_scheme(scheme_dict))


def test_an_unknown_composite_is_refused_naming_the_key(scheme_dict):
    scheme_dict["composite"] = "harmonic"
    with pytest.raises(SchemeError, match="composite") as err:
        make_scheme(scheme_dict)
    assert err.value.key == "composite"
    assert "arithmetic, geometric" in str(err.value) and "harmonic" in str(err.value)
    scheme_dict["composite"] = "geometric"
    assert make_scheme(scheme_dict).composite == "geometric"
