"""The satisfaction survey by kind and zone: means by hand, the published means, units without respondents, the demo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR, tiny_tables

from perflab.io import dataset_from_tables, load_dataset
from perflab.survey import satisfaction_summary, satisfaction_units


def _tiny(scheme, survey=None):
    tables = tiny_tables()
    if survey is not None:
        tables["survey"] = survey
    return dataset_from_tables(tables, scheme)


def _row(summary, kind, zone=None):
    s = summary[
        (summary["kind"] == kind) & ((summary["level"] == "kind") if zone is None else (summary["zone"] == zone))
    ]
    assert len(s) == 1
    return s.iloc[0]


def test_the_weighted_mean_weighs_units_by_their_respondents(scheme):
    survey = pd.DataFrame(
        {
            "unit": ["D01", "D02", "M01", "M02"],
            "year": [2016] * 4,
            "satisfaction": [78.0, 82.0, 93.0, 95.0],
            "respondents": [100, 300, 500, 500],
        }
    )
    summ = satisfaction_summary(_tiny(scheme, survey), scheme)
    d = _row(summ, "district")
    assert d["mean"] == pytest.approx(80.0)  # each unit once
    assert d["weighted_mean"] == pytest.approx((78 * 100 + 82 * 300) / 400)  # 81.0
    assert d["respondents"] == 400 and d["units"] == 2 and d["below_mean"] == 1
    assert _row(summ, "district", "core")["weighted_mean"] == pytest.approx(78.0)
    assert _row(summ, "department", "economy")["respondents"] == 1000


def test_each_kind_is_compared_with_its_published_mean(scheme):
    summ = satisfaction_summary(_tiny(scheme), scheme)
    for kind, published in scheme.published_satisfaction.items():
        rows = summ[summ["kind"] == kind]
        assert (rows["published"] == published).all()
        assert np.allclose(rows["difference"], rows["mean"] - published)
        assert np.allclose(rows["weighted_difference"], rows["weighted_mean"] - published)
    none = dataclasses.replace(scheme, published_satisfaction={})
    assert satisfaction_summary(_tiny(scheme), none)["published"].isna().all()


def test_a_unit_without_respondents_counts_in_the_mean_not_in_the_weighted_mean(scheme):
    survey = pd.DataFrame(
        {
            "unit": ["D01", "D02", "M01", "M02"],
            "year": [2016] * 4,
            "satisfaction": [78.0, 82.0, 93.0, 95.0],
            "respondents": [None, 300, 0, 0],
        }
    )
    summ = satisfaction_summary(_tiny(scheme, survey), scheme)
    d = _row(summ, "district")
    assert d["mean"] == pytest.approx(80.0) and d["weighted_mean"] == pytest.approx(82.0)
    assert d["units"] == 2 and d["units_with_respondents"] == 1 and d["respondents"] == 300
    m = _row(summ, "department")
    assert m["mean"] == pytest.approx(94.0) and np.isnan(m["weighted_mean"]) and m["respondents"] == 0


def test_a_year_the_survey_does_not_cover_is_named(scheme):
    with pytest.raises(ValueError, match=r"no rows for year 2010; it covers \[2016\]"):
        satisfaction_units(_tiny(scheme), scheme, year=2010)


def test_the_demo_recovers_the_published_means_planted_by_the_simulator(scheme):
    ds = load_dataset(DEMO_DIR, scheme)
    summ = satisfaction_summary(ds, scheme)
    d, m = _row(summ, "district"), _row(summ, "department")
    assert d["mean"] == pytest.approx(79.73, abs=0.05)  # planted; rounding to one decimal is the only error
    assert m["mean"] == pytest.approx(93.9, abs=0.05)
    assert d["units"] == 16 and m["units"] == 60 and d["below_mean"] == 7
    units = satisfaction_units(ds, scheme)
    below = set(
        units.loc[units["below_mean"] & (units["kind"] == "district"), "unit"].map(
            ds.units.set_index("unit")["name_en"]
        )
    )
    assert below == {
        f"{n} District" for n in ("Fengtai", "Haidian", "Chaoyang", "Shijingshan", "Tongzhou", "Changping", "Dongcheng")
    }
    zones = summ[(summ["level"] == "zone") & (summ["kind"] == "district")]
    assert zones["units"].sum() == 16 and zones["respondents"].sum() == d["respondents"]
