"""The evaluator-bias figures draw in English mode with no missing glyph and no Chinese text."""

from __future__ import annotations

import ast
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
    flags = pd.DataFrame(
        {
            "rater": [f"R{i:02d}" for i in range(n)],
            "group": np.resize(groups, n),
            "severity_points": rng.normal(0, 3, n),
            "lenient": [True] + [False] * (n - 1),
            "severe": [False, True] + [False] * (n - 2),
            "any_flag": [True, True, True] + [False] * (n - 3),
        }
    )
    drift_units = pd.DataFrame(
        {
            "session": np.repeat([1, 2, 3], 5),
            "order": np.tile(np.arange(1, 6), 3),
            "adjusted": rng.normal(80, 3, 15),
            "kind": np.resize(["district", "department"], 15),
        }
    )
    curves = pd.DataFrame(
        {
            "group": np.repeat(groups, 10),
            "rater": np.tile(np.arange(1, 11), 3),
            "g": np.tile(np.linspace(0.3, 0.95, 10), 3),
        }
    )
    imp = pd.DataFrame(
        {
            "unit": ["D01", "D02", "D03", "M01"],
            "kind": ["district"] * 3 + ["department"],
            "name_zh": ["东城区", "西城区", "朝阳区", "市发展改革委"],
            "name_en": ["Dongcheng", "Xicheng", "Chaoyang", "Development and Reform"],
            "rank_raw": [1, 2, 3, 1],
            "rank_adjusted": [2, 1, 3, 1],
            "rank_excluded": [1, 3, 2, 1],
        }
    )
    figs = [
        bias_plots.severity_by_group(flags, scheme),
        bias_plots.drift_by_order(drift_units),
        bias_plots.drift_by_order(drift_units.drop(columns="kind")),
        bias_plots.panel_size_curves(curves, scheme),
        bias_plots.rank_shifts(imp, "district"),
        bias_plots.rank_shifts(imp, "department"),
    ]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel()
    texts, problems = draw_figures(figs, caplog)
    assert not problems, problems
    assert not any(CJK.search(t) for t in texts), [t for t in texts if CJK.search(t)]
    assert "Dongcheng" in " ".join(texts)


def test_severity_axis_says_positive_is_harsher(scheme, english):
    flags = pd.DataFrame(
        {
            "rater": ["R1", "R2", "R3"],
            "group": [scheme.group_ids[0]] * 3,
            "severity_points": [-7.0, 0.0, 7.0],
            "lenient": [True, False, False],
            "severe": [False, False, True],
            "any_flag": [True, False, True],
        }
    )
    ax = bias_plots.severity_by_group(flags, scheme).axes[0]
    assert "positive = scores lower" in ax.get_xlabel()


def test_table_view_has_word_headers_no_row_numbers_and_no_exponents(english):
    df = pd.DataFrame(
        {
            "facet": ["units", "raters"],
            "mean_measure": [1.8, -5.0e-19],
            "reliability": [0.9979, 0.94],
            "p_value": [0.0001, 0.2],
            "rank_raw": pd.array([1, None], dtype="Int64"),
            "flag_fdr": [True, False],
        }
    )
    html = bias_plots.table_view(df).to_html()
    assert "Mean measure (logits)" in html and "Reliability (cluster-robust SE)" in html and "Facet" in html
    cells = [c.split(">", 1)[1] for c in html.split("</td>")[:-1]]
    assert "e-19" not in html and "e+" not in html and "-0.00" not in cells and "0.00" in cells
    assert "0.998" in cells  # a reliability below 1 never rounds to 1.00
    assert "< 0.001" in cells and "mean_measure" not in html
    assert 'class="row_heading' not in html  # the index is hidden
    assert "1" in cells and "1.0" not in cells and "1.00" not in cells  # ranks as whole numbers
    indexed = bias_plots.table_view(df, ["facet", "reliability"], index="facet").to_html()
    assert "Reliability" in indexed and "Units" in indexed and "Evaluators" in indexed  # facets in words


# ---------------------------------------------------------------------------
# page 40 reads as a document (issue 11): figures kept as files, tables captioned, headers in one language
# ---------------------------------------------------------------------------


def _page_40_code() -> list[str]:
    import nbformat
    from conftest import ROOT

    return [
        c.source
        for c in nbformat.read(ROOT / "notebooks" / "40_evaluator_bias.ipynb", 4).cells
        if c.cell_type == "code"
    ]


def _call_name(node: ast.AST) -> str:
    """The dotted name of a call's function (``plots.keep``, ``display``), or "" for anything else."""
    if not isinstance(node, ast.Call):
        return ""
    f, parts = node.func, []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def _stem(arg: ast.AST) -> str | None:
    """A figure stem given as a string or an f-string (its literal start, e.g. ``40_rank_shifts_``)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        return "".join(v.value for v in arg.values if isinstance(v, ast.Constant)) + "{}"
    return None


def _keeps_and_figures(body: list[ast.stmt]):
    """Statements in order (descending into loops and ifs) as ("fig", None) for ``fig = …(...)`` and
    ("keep", stmt) for ``saved = plots.keep(...)``."""
    for stmt in body:
        if isinstance(stmt, ast.For | ast.While | ast.If | ast.With):
            yield from _keeps_and_figures(stmt.body)
            continue
        if isinstance(stmt, ast.Assign) and [getattr(t, "id", None) for t in stmt.targets] == ["fig"]:
            if isinstance(stmt.value, ast.Call):
                yield "fig", stmt
        elif isinstance(stmt, ast.Assign | ast.Expr) and _call_name(stmt.value) == "plots.keep":
            yield "keep", stmt


def test_every_figure_of_page_40_is_kept_as_png_and_svg_and_one_is_the_key():
    """Each figure drawn is saved right after it with plots.keep (PNG and SVG under OUT/figures) under a stem
    starting with 40_, stems unique; exactly one is the key figure; the list keep returns is assigned, so no
    stray [PosixPath(...)] output. Read from the code's syntax tree, so however a formatter breaks the lines."""
    stems, keys = [], 0
    for src in _page_40_code():
        tree = ast.parse(src)
        events = list(_keeps_and_figures(tree.body))
        for (kind, stmt), nxt in zip(events, events[1:] + [(None, None)]):
            if kind == "fig":
                assert nxt[0] == "keep", src  # kept before the next figure is drawn
            if kind == "keep":
                assert isinstance(stmt, ast.Assign) and [t.id for t in stmt.targets] == ["saved"], src
                call = stmt.value
                assert [getattr(a, "id", None) for a in call.args[:2]] == ["fig", "output"], src
                stem = _stem(call.args[2])
                assert stem and stem.startswith("40_"), src
                stems.append(stem)
                keys += any(k.arg == "key" and getattr(k.value, "value", False) is True for k in call.keywords)
    assert keys == 1 and len(stems) == len(set(stems)) >= 5, stems


def test_the_figure_check_reads_calls_over_several_lines():
    src = 'fig = f(\n    x,\n)\nsaved = plots.keep(\n    fig,\n    output,\n    "40_a",\n    key=True,\n)\n'
    assert [k for k, _ in _keeps_and_figures(ast.parse(src).body)] == ["fig", "keep"]
    assert [k for k, _ in _keeps_and_figures(ast.parse("fig = f()\nfig = g()\n").body)] == ["fig", "fig"]


def _table_calls(src: str) -> list[ast.Call]:
    """Every ``display(table_view(...))`` or ``display(rel_plots.…(...))`` call of a cell."""
    found = []
    for node in ast.walk(ast.parse(src)):
        if _call_name(node) == "display" and node.args:
            inner = _call_name(node.args[0])
            if inner == "table_view" or inner.startswith("rel_plots."):
                found.append(node.args[0])
    return found


def test_every_table_of_page_40_has_a_caption_and_nothing_is_printed():
    code = _page_40_code()
    calls = [c for src in code for c in _table_calls(src)]
    assert len(calls) >= 14
    for call in calls:
        assert any(k.arg == "caption" for k in call.keywords), ast.unparse(call)
    names = {_call_name(n) for src in code for n in ast.walk(ast.parse(src))}
    assert "print" not in names and "plots.t" not in names  # table words do not follow the figure language


@pytest.fixture
def chinese_labels(monkeypatch):
    """Figures labelled in Chinese (whether or not a CJK font is installed): the tables stay English."""
    monkeypatch.setattr(plots, "_lang", "zh")
    yield
    plt.close("all")


def _headers(html: str) -> list[str]:
    return re.findall(r"<th [^>]*col_heading[^>]*>(.*?)</th>", html)


def test_table_headers_are_english_words_when_the_figures_are_chinese(chinese_labels):
    from perflab.plots import reliability as rel_plots

    df = pd.DataFrame(
        {
            "unit": ["D01", "M01"],
            "name_zh": ["东城区", "市发展改革委"],
            "kind": ["district", "department"],
            "rank_raw": [1, 2],
            "flags": ["bloc, central", "lenient"],
            "flag_fdr": [True, False],
            "facet": ["units", "raters"],
            "term": ["kind district vs department", "covariate routine"],
        }
    )
    html = bias_plots.table_view(df, caption="Units").to_html()
    heads = _headers(html)
    assert heads == ["Code", "Unit", "Kind", "Rank, raw", "Flags", "Flagged (FDR)", "Facet", "Term"], heads
    assert "<caption>Units</caption>" in html
    cells = re.findall(r"<td [^>]*>(.*?)</td>", html)
    assert "东城区" in cells  # names stay in the label language
    for words in (
        "District",
        "Department",
        "bloc, central tendency",
        "yes",
        "Units",
        "Evaluators",
        "district governments vs municipal departments",
        "routine score (covariate, points per point)",
    ):
        assert words in cells, (words, cells)
    assert "department" not in cells and "是" not in html

    prec = pd.DataFrame(
        {
            "score": ["onsite", "final"],
            "rank_group": ["district", "all"],
            "units": [16, 59],
            "median_sem": [0.3, 0.2],
            "share_within_noise": [0.4, 0.6],
        }
    )
    html = rel_plots.table(prec, caption="Precision").to_html()
    assert _headers(html) == ["Score", "Ranking group", "Units", "Median SEM (points)", "Share of gaps within z SE"]
    cells = re.findall(r"<td [^>]*>(.*?)</td>", html)
    assert {"On-site", "Final", "District governments", "All units"} <= set(cells) and "<caption>Precision" in html
    iccs = pd.DataFrame(
        [
            {"Type": f, "rank_group": k, "k": 3.0, "ICC": 0.5, "ci95_low": 0.4, "ci95_high": 0.6}
            for f in rel_plots.ICC_FORMS
            for k in ("department", "district", "all")
        ]
    )
    html = rel_plots.icc_table(iccs, caption="ICC").to_html()
    assert _headers(html) == ["Form", "Raters k", "District governments", "Municipal departments", "All units"]
    assert not CJK.search(html) and "<caption>ICC</caption>" in html and 'class="row_heading' not in html
