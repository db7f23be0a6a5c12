"""`perflab memo`: the memo of a run, its numbers read from the tables they cite, its workbook, its errors."""

from __future__ import annotations

import shutil

import nbformat
import pandas as pd
import pytest
from conftest import SCHEME_FILE

from perflab import memo as memo_mod
from perflab.cli import main
from perflab.findings import findings
from perflab.memo import MEMO_NOTEBOOK, load_inputs


@pytest.fixture(scope="module")
def memo_run(full_run, tmp_path_factory):
    """The shared full run, copied so the memo writes into its own directory."""
    d = tmp_path_factory.mktemp("memo") / "run"
    shutil.copytree(full_run, d)
    assert main(["memo", str(d), "--lang", "en"]) == 0
    return d


def _value(inp, topic):
    return next(f for f in findings(inp, "en") if f.topic == topic)


def test_memo_writes_html_workbook_and_figures(memo_run):
    page = (memo_run / "memo.html").read_text(encoding="utf-8")
    assert "Simulated data" in page and page.index("perflab-notice") < page.index("Advisory memo:")
    assert "load_inputs(" not in page and "perflab memo DIR" not in page  # code and the notebook's own note hidden
    assert "<ol>" in page and page.count("<li>") >= 5
    assert "<title>Advisory memo · beijing_2016</title>" in page
    for stem in ("memo_ranking_district", "memo_ranking_department"):
        for ext in ("png", "svg"):
            assert (memo_run / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    from openpyxl import load_workbook

    wb = load_workbook(memo_run / "memo.xlsx")
    assert {"scores", "effective_weights", "rater_flags"} <= set(wb.sheetnames)
    ws = wb["scores"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "单位代码\nUnit"  # bilingual header
    final_col = [c.column for c in ws[1] if c.value and c.value.endswith("Final score")][0]
    assert ws.cell(row=2, column=final_col).number_format == "0.00"


def test_the_headline_numbers_are_the_tables_numbers(memo_run):
    inp = load_inputs(memo_run)
    scores = inp.table("scores")
    for kind in ("district", "department"):
        f = _value(inp, f"top_{kind}")
        assert f.value == pytest.approx(scores.loc[scores["kind"] == kind, "final"].max())
        assert f"{f.value:.2f}" in f.text
    flags = inp.table("rater_flags")
    f = _value(inp, "evaluators")
    assert f.value == int(flags["flag_fdr"].sum()) and f"{f.value} of {len(flags)} evaluators" in f.text
    f = _value(inp, "effective_weights")
    ew = inp.table("effective_weights")
    assert f.value == pytest.approx(round(ew.loc[ew["level"] == "component", "variance_share"].min(), 4))
    f = _value(inp, "caveats")
    assert f.value == int((~scores["presented"]).sum()) and f"{f.value} units only submitted a written report" in f.text
    f = _value(inp, "share")
    stable = inp.table("group_share_stable_range")
    assert f.value == pytest.approx(stable["top_k_share_high"].iloc[0]) and f"{f.value:.3f}" in f.text
    page = (memo_run / "memo.html").read_text(encoding="utf-8")
    for f in findings(inp, "en"):
        assert f.table and (memo_run / f.table).is_file(), f.table  # every finding links a table that is there
        assert f'href="{f.table}"' in page
    assert len(findings(inp, "en")) <= 10


def test_the_findings_follow_the_data(memo_run, tmp_path):
    """Other data (here: the demo's scores table with the first two districts swapped) give other findings."""
    other = tmp_path / "other"
    shutil.copytree(memo_run, other)
    s = pd.read_csv(other / "tables" / "scores.csv", encoding="utf-8-sig")
    d = s.index[s["kind"] == "district"][:2]
    s.loc[d, "final"] = s.loc[d[::-1], "final"].to_numpy() - [0.0, 5.0]
    s.loc[d, "rank"] = [2, 1]
    s.to_csv(other / "tables" / "scores.csv", index=False, encoding="utf-8-sig")
    a, b = findings(load_inputs(memo_run), "en"), findings(load_inputs(other), "en")
    assert a[0].text != b[0].text and a[0].value != b[0].value


def test_a_second_data_seed_gives_other_headline_numbers(memo_run, tmp_path):
    """Data simulated with another seed, run with notebook 10 only: the memo's numbers are that run's tables'
    numbers, differ from the demo's, and the memo says which analyses the partial run lacks."""
    from perflab.memo_page import MemoPage

    data = tmp_path / "data" / "raw" / "seed7"
    assert main(["simulate", "--out", str(data), "--seed", "7"]) == 0
    run = tmp_path / "run7"
    assert main(["run", "--scheme", str(SCHEME_FILE), "--data", str(data), "--out", str(run), "--only", "10"]) == 0
    seven, demo = load_inputs(run), load_inputs(memo_run)
    scores = seven.table("scores")
    for kind in ("district", "department"):
        f7, f16 = _value(seven, f"top_{kind}"), _value(demo, f"top_{kind}")
        assert f7.value == pytest.approx(scores.loc[scores["kind"] == kind, "final"].max())
        assert f7.value != pytest.approx(f16.value) and f7.text != f16.text
    e7 = _value(seven, "effective_weights")
    assert e7.value != pytest.approx(_value(demo, "effective_weights").value)
    topics = {f.topic for f in findings(seven, "en")}
    assert {"top_district", "effective_weights", "caveats"} <= topics and "evaluators" not in topics  # no notebook 40
    assert (
        "lacks the tables of 20_differentiated, 30_weight_sensitivity, 40_evaluator_bias, 50_group_shares"
        in MemoPage(seven, "en").methods()
    )


def test_memo_in_chinese(memo_run):
    """The Chinese memo's words (the English memo is executed by the fixture; both come from the same functions)."""
    from perflab.memo_page import MemoPage

    page = MemoPage(load_inputs(memo_run), "zh")
    head, summary, methods = page.header(), page.summary(), page.methods()
    assert "咨询备忘录" in head and "模拟数据" in head
    assert summary.startswith("## 要点") and "区政府" in summary and "市级部门" in summary
    assert "方法说明" in methods and "Advisory" not in summary + methods


def test_a_directory_without_the_tables_is_named_in_one_line(tmp_path, capsys):
    run = tmp_path / "partial"
    (run / "tables").mkdir(parents=True)
    pd.DataFrame({"unit": ["D01"]}).to_csv(run / "tables" / "scores.csv", index=False)
    assert main(["memo", str(run)]) == 2  # scores.csv without the columns a memo reads
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tables/scores.csv" in err
    (run / "tables" / "scores.csv").unlink()
    assert main(["memo", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the memo needs tables/scores.csv" in err and "perflab run" in err
    assert main(["memo", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["memo", str(tmp_path / "empty")]) == 2
    assert "not a perflab run or sweep directory" in capsys.readouterr().err


def test_pdf_says_how_to_install_chromium_when_it_is_missing(memo_run, tmp_path, monkeypatch):
    monkeypatch.setattr(memo_mod, "find_chromium", lambda: None)
    with pytest.raises(memo_mod.MemoError, match="apt-get install chromium"):
        memo_mod.print_pdf(memo_run / "memo.html", tmp_path / "m.pdf")


@pytest.mark.skipif(memo_mod.find_chromium() is None, reason="headless Chromium is not installed")
def test_pdf_prints_the_memo_on_a4(memo_run, tmp_path):
    pdf = memo_mod.print_pdf(memo_run / "memo.html", tmp_path / "memo.pdf")
    import re

    data = pdf.read_bytes()
    boxes = {tuple(round(float(x)) for x in m.split()) for m in re.findall(rb"/MediaBox \[([^\]]*)\]", data)}
    assert data[:5] == b"%PDF-" and boxes == {(0, 0, 595, 842)}  # A4 is 595 × 842 points
    assert (
        "Advisory memo".encode("utf-16-be").hex().upper().encode() in data
    )  # the document's title (UTF-16 in the PDF)


def test_the_memo_notebook_is_committed_clean():
    nb = nbformat.read(str(MEMO_NOTEBOOK), as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "directory = " in tagged[0].source and "lang = " in tagged[0].source


def test_a_sweep_memo_names_the_scenarios_that_move_the_ranking_most(tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        f"base: {SCHEME_FILE}\nnotebooks: []\nscenarios:\n  equal: {{weights: equal}}\n"
        "  no_grassroots: {groups.grassroots.share: 0}\n",
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet", "--no-figures"]) == 0
    assert main(["memo", str(out), "--lang", "en"]) == 0
    inp = load_inputs(out)
    summary = inp.table("summary")
    for g in ("district", "department"):
        f = _value(inp, f"scenarios_{g}")
        t = summary[(summary["rank_group"] == g) & (summary["scenario"] != "base")]
        assert f.value == pytest.approx(t["kendall_tau"].min()) and f"τ = {f.value:.3f}" in f.text
    page = (out / "memo.html").read_text(encoding="utf-8")
    assert "no_grassroots" in page and "Simulated data" in page
