"""The evaluator-bias figures draw in English mode with no missing glyph and no Chinese text."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from conftest import draw_figures
from perflab import plots
from perflab.plots import bias as bias_plots

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def english():
    assert plots.theme("en") == "en"
    yield
    plt.close("all")


def test_every_bias_figure_draws_in_english_without_missing_glyphs(scheme, english, caplog):
    rng = np.random.default_rng(0)
    groups = list(scheme.group_ids)[:3]
    n = 12
    flags = pd.DataFrame({
        "rater": [f"R{i:02d}" for i in range(n)], "group": np.resize(groups, n), "severity_points": rng.normal(0, 3, n),
        "lenient": [True] + [False] * (n - 1), "severe": [False, True] + [False] * (n - 2),
        "any_flag": [True, True, True] + [False] * (n - 3),
    })
    drift_units = pd.DataFrame({"session": np.repeat([1, 2, 3], 5), "order": np.tile(np.arange(1, 6), 3),
                                "adjusted": rng.normal(80, 3, 15), "kind": np.resize(["district", "department"], 15)})
    curves = pd.DataFrame({"group": np.repeat(groups, 10), "rater": np.tile(np.arange(1, 11), 3),
                           "g": np.tile(np.linspace(0.3, 0.95, 10), 3)})
    imp = pd.DataFrame({"unit": ["D01", "D02", "D03", "M01"], "kind": ["district"] * 3 + ["department"],
                        "name_zh": ["东城区", "西城区", "朝阳区", "市发展改革委"],
                        "name_en": ["Dongcheng", "Xicheng", "Chaoyang", "Development and Reform"],
                        "rank_raw": [1, 2, 3, 1], "rank_adjusted": [2, 1, 3, 1], "rank_excluded": [1, 3, 2, 1]})
    figs = [bias_plots.severity_by_group(flags, scheme), bias_plots.drift_by_order(drift_units),
            bias_plots.drift_by_order(drift_units.drop(columns="kind")),
            bias_plots.panel_size_curves(curves, scheme), bias_plots.rank_shifts(imp, "district"),
            bias_plots.rank_shifts(imp, "department")]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel()
    texts, problems = draw_figures(figs, caplog)
    assert not problems, problems
    assert not any(CJK.search(t) for t in texts), [t for t in texts if CJK.search(t)]
    assert "Dongcheng" in " ".join(texts)


def test_severity_axis_says_positive_is_harsher(scheme, english):
    flags = pd.DataFrame({"rater": ["R1", "R2", "R3"], "group": [scheme.group_ids[0]] * 3, "severity_points": [-7.0, 0.0, 7.0],
                          "lenient": [True, False, False], "severe": [False, False, True], "any_flag": [True, False, True]})
    ax = bias_plots.severity_by_group(flags, scheme).axes[0]
    assert "positive = scores lower" in ax.get_xlabel()


def test_table_view_has_word_headers_no_row_numbers_and_no_exponents(english):
    df = pd.DataFrame({"facet": ["units", "raters"], "mean_measure": [1.8, -5.0e-19], "reliability": [0.9979, 0.94],
                       "p_value": [0.0001, 0.2], "rank_raw": pd.array([1, None], dtype="Int64"), "flag_fdr": [True, False]})
    html = bias_plots.table_view(df).to_html()
    assert "Mean measure (logits)" in html and "Reliability (cluster-robust SE)" in html and "Facet" in html
    cells = [c.split(">", 1)[1] for c in html.split("</td>")[:-1]]
    assert "e-19" not in html and "e+" not in html and "-0.00" not in cells and "0.00" in cells
    assert "0.998" in cells  # a reliability below 1 never rounds to 1.00
    assert "< 0.001" in cells and "mean_measure" not in html
    assert 'class="row_heading' not in html  # the index is hidden
    assert "1" in cells and "1.0" not in cells and "1.00" not in cells  # ranks as whole numbers
    indexed = bias_plots.table_view(df, ["facet", "reliability"], index="facet").to_html()
    assert "Reliability" in indexed and "units" in indexed
