"""Figures render Chinese labels with a CJK font and clean English labels without one, never a missing glyph."""

from __future__ import annotations

import re

import pytest
from conftest import draw_figures, tiny_tables

from perflab import plots
from perflab.io import dataset_from_tables
from perflab.scoring import score_units

CJK = re.compile(r"[\u3400-\u9fff]")


def _draw_all(scheme, caplog):
    scores = score_units(dataset_from_tables(tiny_tables(), scheme), scheme)
    figs = [
        plots.scores_by_zone(scores, scheme),
        plots.ranking_bars(scores, scheme, "district"),
        plots.ranking_bars(scores, scheme, "department"),
    ]
    return draw_figures(figs, caplog)


def test_english_fallback_draws_no_chinese_and_misses_no_glyph(scheme, caplog):
    assert plots.theme("en") == "en"
    texts, problems = _draw_all(scheme, caplog)
    assert not problems, problems
    assert not any(CJK.search(t) for t in texts)
    assert "Huairou" in " ".join(texts)  # English unit names are used


def test_chinese_labels_when_a_cjk_font_is_installed(scheme, caplog):
    if plots.find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    assert plots.theme("zh") == "zh"
    texts, problems = _draw_all(scheme, caplog)
    assert not problems, problems
    assert "怀柔区" in " ".join(texts)


def test_auto_picks_chinese_exactly_when_a_font_exists(monkeypatch):
    monkeypatch.delenv("PERFLAB_LANG", raising=False)
    expected = "zh" if plots.find_cjk_font() else "en"
    assert plots.theme() == expected
    monkeypatch.setenv("PERFLAB_LANG", "en")
    assert plots.theme() == "en"


def test_the_theme_is_seaborns_whitegrid_notebook_theme_without_importing_seaborn():
    """plots applies seaborn's theme from a constant (importing seaborn costs a kernel 1.3 s): it must stay seaborn's."""
    import subprocess
    import sys

    import seaborn as sns

    assert plots.SEABORN_THEME == {
        k: v
        for k, v in {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}.items()
        if k not in ("font.family", "font.sans-serif", "image.cmap")
    }
    assert plots.DEEP == sns.color_palette("deep").as_hex()
    code = "import sys; from perflab import plots; plots.theme(); print('seaborn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_labels_are_spread_apart_in_order():
    import numpy as np

    pos = plots.spread_positions([1.0, 1.0, 1.05, 5.0], 0.5)
    assert np.all(np.diff(np.sort(pos)) >= 0.5 - 1e-9) and pos[3] == 5.0 and pos[0] <= pos[1] <= pos[2]
    assert np.allclose(plots.spread_positions([1, 3, 2], 0.5), [1, 3, 2])  # far enough apart: unmoved


def test_every_department_is_named_on_the_rank_slopes_and_the_legend_is_off_the_data(scheme, caplog):
    from conftest import DEMO_DIR

    from perflab.differentiated import evaluate
    from perflab.io import load_dataset
    from perflab.plots import differentiated as dplots

    plots.theme("en")
    ev = evaluate(load_dataset(DEMO_DIR, scheme), scheme)
    fig = dplots.rank_slopes(ev.scores, scheme, "department", label_top=10)
    ax = fig.axes[0]
    deps = ev.scores[ev.scores["kind"] == "department"]
    texts, problems = draw_figures([fig], caplog)
    assert not problems
    for name in deps["name_en"].map(plots.short_name):
        assert sum(t.endswith(f"  {name}") or t.startswith(f"{name}  ") for t in texts) == 2, name
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().y1 <= ax.get_window_extent().y0 + 1  # below the axes


def test_the_satisfaction_figure_draws_every_zone(scheme, caplog):
    from perflab.survey import satisfaction_summary

    plots.theme("en")
    summ = satisfaction_summary(dataset_from_tables(tiny_tables(), scheme), scheme)
    texts, problems = draw_figures([plots.satisfaction_by_zone(summ, scheme)], caplog)
    assert not problems and "All districts" in texts and "Capital core" in texts
    assert any("respondents" in t for t in texts)
