"""Scoring sheets: made from the data, filled, read back exactly; every bad sheet named by workbook, sheet and cell."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pandas as pd
import pytest
from conftest import DEMO_DIR, SCHEME_FILE
from openpyxl import load_workbook

from perflab.cli import main
from perflab.io import load_dataset
from perflab.sheets import INSTRUCTIONS, layout, load_sheet_inputs, read_sheets, write_sheets

KEY = ["rater", "unit", "indicator"]


@pytest.fixture(scope="module")
def demo(scheme):
    inputs = load_sheet_inputs(DEMO_DIR, scheme)
    raters = load_dataset(DEMO_DIR, scheme).raters
    # a city leader, a unit head (who also leads a unit), and grassroots representatives of two sessions
    first = raters.groupby("group", observed=True)["rater"].first()
    r = inputs.ratings.merge(raters, on="rater")
    grass = r[r["group"] == "grassroots"].drop_duplicates("rater").drop_duplicates("session")["rater"].head(2)
    picked = sorted({first["city_leaders"], first["unit_heads"], *grass})
    return inputs, picked


def fill(path, ratings, scheme, edit=None):
    """Fill a workbook the way an evaluator would: a grade and a score per indicator on every unit's sheet."""
    lay = layout(scheme)
    wb = load_workbook(path)
    by = ratings.set_index(["unit", "indicator"])
    for ws in wb.worksheets:
        if ws.title == INSTRUCTIONS:
            continue
        unit = ws["B2"].value
        for row in range(7, 7 + len(scheme.indicators)):
            ind = ws.cell(row, 2).value
            rec = by.loc[(unit, ind)]
            ws.cell(row, lay["grade"], str(rec["grade"]))
            ws.cell(row, lay["score"], int(rec["score"]) if float(rec["score"]).is_integer() else float(rec["score"]))
    if edit:
        edit(wb)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def filled(demo, scheme, tmp_path_factory):
    inputs, picked = demo
    out = tmp_path_factory.mktemp("sheets")
    paths = write_sheets(inputs, scheme, out, per_rater=True, raters=picked)
    for p, rid in zip(paths, picked):
        fill(p, inputs.ratings[inputs.ratings["rater"] == rid], scheme)
    return inputs, picked, paths


def _expected(inputs, picked):
    cols = ["rater", "unit", "indicator", "score", "grade", "session", "order"]
    e = inputs.ratings[inputs.ratings["rater"].isin(picked)][cols]
    return e.astype({"rater": str, "unit": str, "indicator": str, "grade": str}).sort_values(KEY).reset_index(drop=True)


def _same(result, inputs, picked):
    got = result.ratings.astype({"rater": str, "unit": str, "indicator": str, "grade": str})
    got = got.sort_values(KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, _expected(inputs, picked), check_dtype=False)


def test_round_trip_is_exact(filled, scheme, tmp_path):
    inputs, picked, paths = filled
    result = read_sheets(paths, scheme, units=inputs.units)
    assert result.ok, result.problems
    assert len(result.ratings) == len(_expected(inputs, picked)) > 0
    _same(result, inputs, picked)
    # and through the same validation path as any data directory: identical typed ratings
    d = tmp_path / "data"
    shutil.copytree(DEMO_DIR, d, ignore=shutil.ignore_patterns("truth", "ratings.csv.gz"))
    result.ratings.to_csv(d / "ratings.csv", index=False)
    back = load_dataset(d, scheme).ratings.sort_values(KEY).reset_index(drop=True)
    orig = load_dataset(DEMO_DIR, scheme).ratings
    orig = orig[orig["rater"].isin(picked)].sort_values(KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, orig)


def test_sheets_are_protected_validated_and_printable(filled, scheme):
    _, _, paths = filled
    wb = load_workbook(paths[0])
    ws = wb.worksheets[1]
    lay = layout(scheme)
    assert ws.protection.sheet
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    score, grade = ws.cell(7, lay["score"]), ws.cell(7, lay["grade"])
    assert not score.protection.locked and not grade.protection.locked and ws["B3"].protection.locked is False
    assert ws["C7"].protection.locked  # the evidence cannot be edited
    rules = {(dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert ("decimal", "0", "100") in rules
    assert any(dv.type == "list" and "A,B,C,D,E" in dv.formula1 for dv in ws.data_validations.dataValidation)
    covered = " ".join(str(dv.sqref) for dv in ws.data_validations.dataValidation)
    assert score.coordinate in covered and grade.coordinate in covered
    assert ws["B2"].value and ws["C2"].value and ws["D2"].value  # unit id and both names
    assert [ws.cell(r, 5).value for r in range(7, 14)] == list(scheme.weights)  # the weights
    assert ws["F7"].value and "：" in ws["G7"].value  # completion summary, department and opinion


def test_a_libreoffice_resave_still_reads_back_exactly(filled, scheme, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
    inputs, picked, paths = filled
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(paths[0]),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    resaved = tmp_path / paths[0].name
    assert resaved.is_file() and resaved.read_bytes() != paths[0].read_bytes()
    result = read_sheets([resaved], scheme, units=inputs.units)
    assert result.ok, result.problems
    _same(result, inputs, [picked[0]])


def test_csv_exports_in_gb18030_read_back(filled, scheme, tmp_path):
    inputs, picked, paths = filled
    wb = load_workbook(paths[0], data_only=True)
    exports = []
    for ws in wb.worksheets[1:]:
        p = tmp_path / f"{ws.title}.csv"
        with open(p, "w", encoding="gb18030", newline="") as fh:
            csv.writer(fh).writerows([["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)])
        exports.append(p)
    result = read_sheets(exports, scheme, units=inputs.units)
    assert result.ok, result.problems
    _same(result, inputs, [picked[0]])


def _bad(filled, scheme, tmp_path, edit, name="bad.xlsx"):
    inputs, picked, paths = filled
    p = tmp_path / name
    shutil.copy(paths[0], p)
    wb = load_workbook(p)
    edit(wb, layout(scheme))
    wb.save(p)
    return read_sheets([p, paths[1]], scheme, units=inputs.units), p


@pytest.mark.parametrize(
    "edit, cell, message",
    [
        (
            lambda wb, L: wb.worksheets[1].cell(8, L["score"], 120),
            "O8",
            "score 120 for main_indicators is outside 0–100",
        ),
        (
            lambda wb, L: (wb.worksheets[1].cell(8, L["grade"], "B"), wb.worksheets[1].cell(8, L["score"], 95)),
            "O8",
            "score 95 for main_indicators is outside the band of grade B (80–<90)",
        ),
        (
            lambda wb, L: (wb.worksheets[1].cell(8, L["grade"], "B"), wb.worksheets[1].cell(8, L["score"], 90)),
            "O8",
            "score 90 for main_indicators is outside the band of grade B (80–<90)",
        ),
        (lambda wb, L: wb.worksheets[1].__setitem__("B4", 1.5), "B4", "session 1.5 is not a whole number >= 1"),
        (lambda wb, L: wb.worksheets[1].__setitem__("D4", "第一"), "D4", "order '第一' is not a whole number >= 1"),
        (lambda wb, L: wb.worksheets[1].delete_rows(10), "B13", "indicator(s) missing from the sheet: law_based_admin"),
        (lambda wb, L: setattr(wb.worksheets[1].cell(9, L["score"]), "value", None), "O9", "blank score for key_tasks"),
        (
            lambda wb, L: wb.worksheets[1].cell(9, L["score"], "good"),
            "O9",
            "score 'good' for key_tasks is not a number",
        ),
        (
            lambda wb, L: wb.worksheets[1].cell(9, L["grade"], "F"),
            "N9",
            "grade 'F' for key_tasks is not one of A, B, C, D, E",
        ),
        (lambda wb, L: wb.worksheets[1].__setitem__("B2", "X99"), "B2", "sheet for an unknown unit 'X99'"),
        (lambda wb, L: wb.worksheets[1].__setitem__("B3", None), "B3", "missing evaluator id"),
    ],
)
def test_bad_sheets_are_named_by_workbook_sheet_and_cell_and_the_rest_imported(
    filled, scheme, tmp_path, edit, cell, message
):
    inputs, picked, paths = filled
    result, p = _bad(filled, scheme, tmp_path, edit)
    sheet = load_workbook(paths[0], read_only=True).sheetnames[1]
    assert not result.ok
    row = result.problems.iloc[0]
    assert (row["workbook"], row["sheet"], row["cell"]) == (str(p), sheet, cell)
    assert message in row["problem"]
    assert len(result.problems) == 1  # exactly the planted problem: nothing else in the sheet is blamed
    status = result.sheets.set_index(["workbook", "sheet"])["status"]
    assert status[(str(p), sheet)] == "invalid"
    assert (status.drop((str(p), sheet)) == "ok").all()  # every other sheet is still imported
    imported = set(zip(result.ratings["rater"], result.ratings["unit"]))
    n_valid = int((status == "ok").sum())
    assert len(imported) == n_valid


def test_the_same_evaluator_and_unit_twice_rejects_both(filled, scheme, tmp_path):
    inputs, picked, paths = filled
    copy = tmp_path / "copy.xlsx"
    shutil.copy(paths[0], copy)
    result = read_sheets([paths[0], copy], scheme, units=inputs.units)
    assert not result.ok and (result.sheets["status"] == "invalid").all()
    assert result.ratings.empty
    assert result.problems["cell"].eq("B3").all()
    assert result.problems["problem"].str.contains(f"evaluator {picked[0]} scored unit .* twice", regex=True).all()


def test_cli_make_and_read(filled, scheme, tmp_path, capsys):
    inputs, picked, paths = filled
    assert (
        main(
            [
                "sheets",
                "make",
                "--scheme",
                str(SCHEME_FILE),
                "--data",
                str(DEMO_DIR),
                "--out",
                str(tmp_path / "all.xlsx"),
            ]
        )
        == 0
    )
    wb = load_workbook(tmp_path / "all.xlsx", read_only=True)
    assert len(wb.sheetnames) == 1 + int(inputs.units["presented"].sum())  # instructions + one sheet per presented unit
    out = tmp_path / "in"
    assert (
        main(
            [
                "sheets",
                "read",
                *map(str, paths[:2]),
                "--scheme",
                str(SCHEME_FILE),
                "--data",
                str(DEMO_DIR),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out / "ratings.csv")) > 0 and not (out / "sheet_problems.csv").exists()
    code = main(
        ["sheets", "read", str(tmp_path / "all.xlsx"), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "in2")]
    )
    err = capsys.readouterr().err
    assert code == 2  # nothing filled in: every sheet listed, none imported
    assert err.count("\n") == 1 and err.startswith("perflab: error: ")  # the first problem, then the count
    assert "cell B3: missing evaluator id" in err and "not imported" in err and "more problem(s)" in err
    problems = pd.read_csv(tmp_path / "in2" / "sheet_problems.csv")
    assert f"; {len(problems) - 1} more problem(s)" in err  # every problem is in the file


def test_spreadsheet_quirks_are_read_as_the_evaluator_meant(filled, scheme, tmp_path):
    """Numbers typed as text, full-width digits, a decimal comma, a lower-case grade, blank rows, a renamed
    instructions sheet: all read back to the same ratings."""
    inputs, picked, paths = filled
    p = tmp_path / "quirks.xlsx"
    shutil.copy(paths[0], p)
    wb = load_workbook(p)
    L = layout(scheme)
    ws = wb.worksheets[1]
    orig = {r: (ws.cell(r, L["grade"]).value, ws.cell(r, L["score"]).value) for r in range(7, 14)}
    ws.cell(7, L["score"], str(orig[7][1]))  # text
    ws.cell(8, L["score"], "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in str(orig[8][1])))  # full width
    ws.cell(9, L["score"], f"{orig[9][1]},0")  # decimal comma
    ws.cell(10, L["grade"], str(orig[10][0]).lower())
    ws.insert_rows(11)  # a blank row in the middle of the table
    wb.worksheets[0].title = "README"
    wb.save(p)
    result = read_sheets([p], scheme)  # no units table given: the workbook's own unit list is used
    assert result.ok, result.problems
    _same(result, inputs, [picked[0]])


def test_unreadable_files_and_foreign_sheets_are_listed_not_dropped(filled, scheme, tmp_path):
    inputs, picked, paths = filled
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    foreign = tmp_path / "foreign.xlsx"
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "budget 2016"
    wb.save(foreign)
    result = read_sheets([fake, foreign, paths[0]], scheme, units=inputs.units)
    status = result.sheets.set_index("workbook")["status"]
    assert status[str(fake)] == "unreadable" and status[str(foreign)] == "invalid"
    assert (result.sheets.loc[result.sheets["workbook"] == str(paths[0]), "status"] == "ok").all()
    problems = result.problems.set_index("workbook")["problem"]
    assert "cannot read the workbook" in problems[str(fake)] and "not a scoring sheet" in problems[str(foreign)]


def test_csv_exports_without_a_units_table_cannot_pass_unchecked(filled, scheme, tmp_path):
    inputs, picked, paths = filled
    ws = load_workbook(paths[0], data_only=True).worksheets[1]
    p = tmp_path / f"{ws.title}.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)])
    result = read_sheets([p], scheme)
    assert not result.ok and "no units table (give --data)" in result.problems["problem"].iloc[0]
    assert read_sheets([p], scheme, units=inputs.units).ok  # with a BOM, and the units given: fine


def test_unit_ids_that_excel_cannot_use_as_sheet_names_still_work(demo, scheme, tmp_path):
    from perflab.sheets import SheetInputs, make_workbook

    inputs, _ = demo
    units = inputs.units.copy()
    units["unit"] = units["unit"].astype(str).where(units["unit"] != "D01", "D/01")
    wb = make_workbook(SheetInputs(units, None, None), scheme, units=["D/01"])
    assert wb.worksheets[1].title == "D_01" and wb.worksheets[1]["B2"].value == "D/01"


def test_per_rater_workbooks_need_a_design_or_ids(scheme, tmp_path, capsys):
    d = tmp_path / "d"
    shutil.copytree(DEMO_DIR, d, ignore=shutil.ignore_patterns("truth", "ratings.csv.gz"))
    code = main(
        ["sheets", "make", "--scheme", str(SCHEME_FILE), "--data", str(d), "--out", str(tmp_path / "o"), "--per-rater"]
    )
    assert code == 2 and "need the raters" in capsys.readouterr().err
    assert (
        main(
            [
                "sheets",
                "make",
                "--scheme",
                str(SCHEME_FILE),
                "--data",
                str(d),
                "--out",
                str(tmp_path / "o"),
                "--per-rater",
                "--raters",
                "R001",
            ]
        )
        == 0
    )
    assert (tmp_path / "o" / "sheets_R001.xlsx").is_file()
