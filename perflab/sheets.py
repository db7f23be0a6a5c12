"""One unit, one table (一单位一表): scoring sheets out as XLSX, filled sheets back in as the ratings table.

A scoring sheet holds, for one unit, the seven indicators with their weights,
the special-evaluation departments' evidence (completion summary, opinion,
suggested band), the band ranges, and the cells an evaluator fills: the
evaluator id, and per indicator a grade (A–E) and a score. Only those cells
are unlocked; Excel data validation keeps the score a number in 0–100 and
the grade one of the bands. Reading takes the workbooks back (also when
re-saved by WPS or LibreOffice, or exported sheet by sheet as CSV in GB18030)
and checks every cell, naming workbook, sheet and cell: valid sheets are
imported, invalid ones listed, nothing is silently dropped.
"""

from __future__ import annotations

import csv
import io as _io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.errors import DataError, quote
from perflab.io import ENCODINGS, find_table_file, load_dataset, read_raw_table, validate_table
from perflab.io.validate import _check_assessments, _check_units
from perflab.scheme import Scheme

# layout (1-based rows and columns, as Excel counts)
UNIT_ROW, RATER_ROW, SLOT_ROW, HEADER_ROW, FIRST_ROW = 2, 3, 4, 6, 7
LABELS = {
    UNIT_ROW: "单位 Unit",
    RATER_ROW: "评委编号 Evaluator id",
    SLOT_ROW: "场次 Session",
}
ORDER_LABEL = "顺序 Order"
COLUMNS = [  # (header, width)
    ("序号 No.", 20),  # wide: column A also holds the labels of the unit, evaluator and session rows
    ("指标编号 Indicator id", 16),
    ("评价指标", 12),
    ("Indicator", 22),
    ("权重 Weight", 9),
    ("完成情况 Completion", 28),
    ("专项考评意见 Assessment", 34),
    ("建议档次 Suggested", 10),
]
COL_ID = 2  # the indicator id column: reading finds each row by id, not by position
INSTRUCTIONS = "说明 Instructions"
UNITS_MARK = "perflab-units"  # the instructions sheet lists the workbook's units in a hidden column under this mark
UNITS_COL = 26  # column Z
BAD_TITLE = str.maketrans({c: "_" for c in "[]:*?/\\"})


def layout(scheme: Scheme) -> dict[str, int]:
    """Columns of the band ranges, the grade and the score (they follow the fixed columns and the bands)."""
    n_fixed = len(COLUMNS)
    bands = {b.grade: n_fixed + 1 + k for k, b in enumerate(scheme.bands)}
    grade = n_fixed + len(scheme.bands) + 1
    return {"bands": bands, "grade": grade, "score": grade + 1}


def _addr(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


# ---------------------------------------------------------------------------
# sheets out
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetInputs:
    """What the sheets are made from: the units, the evidence, and (if known) who scores which unit when."""

    units: pd.DataFrame
    assessments: pd.DataFrame | None
    ratings: pd.DataFrame | None


def load_sheet_inputs(path: str | Path, scheme: Scheme) -> SheetInputs:
    """Read the units (and assessments, and ratings if there are any yet) of a data directory, validated."""
    root = Path(path)
    if not root.is_dir():
        raise DataError("data directory not found", file=root)
    if find_table_file(root, "ratings") is not None:
        ds = load_dataset(root, scheme)
        return SheetInputs(ds.units, ds.assessments, ds.ratings)
    p = find_table_file(root, "units")
    if p is None:
        raise DataError("missing file: the data directory needs units.csv", file=root / "units.csv")
    units = validate_table("units", read_raw_table(p), file=p)
    _check_units(units, scheme, p)
    units = units.assign(presented=units["presented"].fillna(True).astype(bool))
    a = None
    pa = find_table_file(root, "assessments")
    if pa is not None:
        a = validate_table("assessments", read_raw_table(pa), file=pa)
        _check_assessments(a, units, scheme, pa)
    return SheetInputs(units, a, None)


class _Styles:
    """Cell styles of one workbook: each is built once, then copied cell to cell (openpyxl's style registry is slow)."""

    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

        thin = Side(style="thin", color="999999")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.specs = {
            "entry": dict(fill=PatternFill("solid", fgColor="FFF2CC"), protection=Protection(locked=False), border=box),
            "header": dict(
                font=Font(bold=True),
                fill=PatternFill("solid", fgColor="DDEBF7"),
                border=box,
                alignment=Alignment(wrap_text=True),
            ),
            "body": dict(border=box, alignment=Alignment(wrap_text=True, vertical="top")),
            "box": dict(border=box),
            "label": dict(font=Font(bold=True)),
        }
        self.done = {}

    def apply(self, cell, name: str) -> None:
        from copy import copy

        if name in self.done:
            cell._style = copy(self.done[name])
            return
        for attr, value in self.specs[name].items():
            setattr(cell, attr, value)
        self.done[name] = copy(cell._style)


def _band_text(b) -> str:
    """A band as the score range it holds: the top band includes its upper bound, the others do not."""
    return f"{b.lower:g}–{b.upper:g}" if b.upper >= 100 else f"{b.lower:g}–<{b.upper:g}"


def _fill_sheet(
    ws, scheme: Scheme, unit: pd.Series, evidence: pd.DataFrame | None, slot, rater: str | None, st: _Styles
) -> None:
    from openpyxl.styles import Font

    ws["A1"] = f"{scheme.title_zh} 评分表 / Scoring sheet: {scheme.title_en}"
    ws["A1"].font = Font(bold=True, size=13)
    _fill_head(ws, scheme, unit, slot, rater, st)
    lay = layout(scheme)
    ev = evidence.set_index("indicator") if evidence is not None and len(evidence) else None
    grade_dv, score_dv = _validations(ws, scheme)
    for k, ind in enumerate(scheme.indicators):
        r = FIRST_ROW + k
        e = _evidence(ev, ind.id)
        values = [
            k + 1,
            ind.id,
            ind.name_zh,
            ind.name_en,
            ind.weight,
            None if e is None or pd.isna(e["summary"]) else str(e["summary"]),
            None if e is None else f"{e['department']}：{'' if pd.isna(e['opinion']) else e['opinion']}",
            None if e is None or pd.isna(e["band"]) else str(e["band"]),
        ]
        for col, v in enumerate(values, start=1):
            st.apply(ws.cell(r, col, v), "body")
        for col in lay["bands"].values():
            st.apply(ws.cell(r, col), "box")
        for col, dv in ((lay["grade"], grade_dv), (lay["score"], score_dv)):
            cell = ws.cell(r, col)
            st.apply(cell, "entry")
            dv.add(cell)
        ws.row_dimensions[r].height = 42
    _finish_sheet(ws, FIRST_ROW + len(scheme.indicators))


def _fill_head(ws, scheme: Scheme, unit: pd.Series, slot, rater: str | None, st: _Styles) -> None:
    """The unit, the evaluator and the session slot above the table, and the table's header row."""
    st.apply(ws.cell(UNIT_ROW, 1, LABELS[UNIT_ROW]), "label")
    ws.cell(UNIT_ROW, 2, str(unit["unit"]))
    ws.cell(UNIT_ROW, 3, str(unit["name_zh"]))
    ws.cell(UNIT_ROW, 4, str(unit["name_en"]))
    st.apply(ws.cell(RATER_ROW, 1, LABELS[RATER_ROW]), "label")
    st.apply(ws.cell(RATER_ROW, 2, rater or None), "entry")
    ws.cell(RATER_ROW, 3, "← 请填写 / fill in")
    st.apply(ws.cell(SLOT_ROW, 1, LABELS[SLOT_ROW]), "label")
    ws.cell(SLOT_ROW, 2, slot[0])
    st.apply(ws.cell(SLOT_ROW, 3, ORDER_LABEL), "label")
    ws.cell(SLOT_ROW, 4, slot[1])

    headers = [h for h, _ in COLUMNS] + [f"{b.grade} {_band_text(b)}" for b in scheme.bands]
    headers += ["档次 Grade", "评分 Score"]
    widths = [w for _, w in COLUMNS] + [9] * len(scheme.bands) + [10, 10]
    for col, (h, w) in enumerate(zip(headers, widths), start=1):
        st.apply(ws.cell(HEADER_ROW, col, h), "header")
        ws.column_dimensions[_addr(1, col)[:-1]].width = w
    ws.row_dimensions[HEADER_ROW].height = 32


def _validations(ws, scheme: Scheme):
    """The grade (a list of the scheme's grades) and score (0–100) validations of the entry cells."""
    from openpyxl.worksheet.datavalidation import DataValidation

    score_dv = DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="0–100",
        error="评分须为0–100之间的数 / a number from 0 to 100",
    )
    grade_dv = DataValidation(
        type="list",
        formula1='"' + ",".join(scheme.grades) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="A–E",
        error="请选择档次 / choose a grade",
    )
    ws.add_data_validation(score_dv)
    ws.add_data_validation(grade_dv)
    return grade_dv, score_dv


def _evidence(ev: pd.DataFrame | None, indicator: str) -> pd.Series | None:
    """The special-evaluation departments' evidence on one indicator, several departments joined into one."""
    e = ev.loc[indicator] if ev is not None and indicator in ev.index else None
    if isinstance(e, pd.DataFrame):  # several departments assess this indicator
        e = pd.Series(
            {
                "department": "；".join(e["department"].astype(str)),
                "summary": "；".join(e["summary"].dropna().astype(str)),
                "opinion": "；".join(f"{d}：{o}" for d, o in zip(e["department"], e["opinion"].fillna(""))),
                "band": "/".join(e["band"].dropna().astype(str)),
            }
        )
    return e


def _finish_sheet(ws, last: int) -> None:
    """The instruction under the table, protection and A4 landscape printing."""
    ws.cell(
        last + 1,
        1,
        "每项指标选择一个档次并在该档次范围内打分。Choose a grade for each indicator and write a score within its band.",
    )
    ws.protection.sheet = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.freeze_panes = _addr(FIRST_ROW, 3)


def make_workbook(inputs: SheetInputs, scheme: Scheme, units: Iterable[str] | None = None, rater: str | None = None):
    """An openpyxl workbook: an instructions sheet, then one protected scoring sheet per unit (named by unit id)."""
    from openpyxl import Workbook

    u = inputs.units.set_index("unit", drop=False)
    wanted = list(units) if units is not None else list(u.index[u["presented"]])
    unknown = [x for x in wanted if x not in u.index]
    if unknown:
        raise DataError(f"unknown unit {quote(unknown[0])}", column="unit")
    slots = {}
    if inputs.ratings is not None:
        first = inputs.ratings.drop_duplicates("unit").set_index("unit")
        slots = {k: (_native(first.at[k, "session"]), _native(first.at[k, "order"])) for k in first.index}
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS
    lines = [
        scheme.title_zh,
        scheme.title_en,
        "",
        "每个单位一张表（一单位一表）。请在黄色单元格填写：评委编号、每项指标的档次和评分。",
        "One sheet per unit. Fill the yellow cells: your evaluator id, and for each indicator a grade and a score.",
        "评分须在所选档次范围内 / The score must lie within the chosen grade's band:",
    ] + [f"  {b.grade}: {_band_text(b)}" for b in scheme.bands]
    for r, line in enumerate(lines, start=1):
        info.cell(r, 1, line)
    info.column_dimensions["A"].width = 100
    info.cell(1, UNITS_COL, UNITS_MARK)
    for r, unit in enumerate(u["unit"], start=2):  # every known unit, so reading can tell an unknown one
        info.cell(r, UNITS_COL, str(unit))
    info.column_dimensions[_addr(1, UNITS_COL)[:-1]].hidden = True
    styles = _Styles()
    for unit in wanted:
        ws = wb.create_sheet(title=str(unit).translate(BAD_TITLE)[:31])  # the unit id itself is in B2
        ev = inputs.assessments[inputs.assessments["unit"] == unit] if inputs.assessments is not None else None
        _fill_sheet(ws, scheme, u.loc[unit], ev, slots.get(unit, (None, None)), rater, styles)
    return wb


def _native(v):
    return None if pd.isna(v) else int(v)


def write_sheets(
    inputs: SheetInputs,
    scheme: Scheme,
    out: str | Path,
    per_rater: bool = False,
    raters: Iterable[str] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write one workbook (one sheet per unit), or with ``per_rater`` one workbook per evaluator into ``out``.

    Per evaluator, the sheets are the units that evaluator scores in the ratings
    design when there is one (grassroots representatives attend one session),
    else every presented unit; the evaluator id is filled in.
    """
    out = Path(out)
    if not per_rater:
        if out.suffix.lower() != ".xlsx":
            raise DataError("the output must be an .xlsx file (or use --per-rater with a directory)", file=out)
        out.parent.mkdir(parents=True, exist_ok=True)
        make_workbook(inputs, scheme).save(out)
        return [out]
    if inputs.ratings is None and raters is None:
        raise DataError("per-evaluator workbooks need the raters: a ratings design or a list of evaluator ids")
    design = inputs.ratings.groupby("rater", observed=True)["unit"].unique() if inputs.ratings is not None else None
    ids = list(raters) if raters is not None else list(design.index)
    for rid in ids:  # each id names a file: refuse one that cannot, before any workbook is written
        if not str(rid) or re.search(r'[/\\:*?"<>|\x00-\x1f]', str(rid)) or str(rid) in (".", ".."):
            raise DataError(
                f"evaluator id {quote(str(rid))} cannot name a workbook file (sheets_<id>.xlsx): "
                'it holds one of / \\ : * ? " < > | or a control character',
                file=out,
            )
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    from tqdm.auto import tqdm

    for rid in tqdm(ids, desc="workbooks", disable=not progress):
        units = list(design[rid]) if design is not None and rid in design.index else None
        path = out / f"sheets_{rid}.xlsx"
        make_workbook(inputs, scheme, units=units, rater=str(rid)).save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------
# sheets in
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetImport:
    """The ratings read from valid sheets, every problem found, and the status of every sheet."""

    ratings: pd.DataFrame  # rater, unit, indicator, score, grade, session, order
    problems: pd.DataFrame  # workbook, sheet, cell, problem
    sheets: pd.DataFrame  # workbook, sheet, unit, rater, status

    @property
    def ok(self) -> bool:
        return self.problems.empty


def _grids(path: Path) -> Iterator[tuple[str, list[list]]]:
    """(sheet name, rows of cell values) for every sheet of a workbook, or the one sheet of a CSV export."""
    name = path.name.lower()
    if name.endswith(".csv"):
        raw = path.read_bytes()
        for enc in ENCODINGS:
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DataError("undecodable bytes: neither UTF-8, UTF-8 with BOM nor GB18030", file=path)
        yield path.stem, [row for row in csv.reader(_io.StringIO(text))]
        return
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise DataError(f"cannot read the workbook: {exc}", file=path) from None
    try:
        for ws in wb.worksheets:
            yield ws.title, [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _cell(grid: list[list], row: int, col: int):
    if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
        v = grid[row - 1][col - 1]
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v
    return None


def _number(v) -> float | None:
    """A number as typed in any spreadsheet: full-width digits and a decimal comma are accepted."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.number)):
        return float(v)
    text = unicodedata.normalize("NFKC", str(v)).strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _text_id(v) -> str | None:
    """Ids as text; a number that a spreadsheet turned 1 into 1.0 goes back to '1'."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() or None


def _read_sheet(
    grid, scheme: Scheme, lay, known_units
) -> tuple[str | None, str | None, list[dict], list[tuple[str, str]]]:
    """One sheet: (unit, rater, rows, problems as (cell, message))."""
    problems: list[tuple[str, str]] = []
    unit = _text_id(_cell(grid, UNIT_ROW, 2))
    rater = _text_id(_cell(grid, RATER_ROW, 2))
    if unit is None:
        problems.append((_addr(UNIT_ROW, 2), "no unit id"))
    elif known_units is not None and unit not in known_units:
        problems.append((_addr(UNIT_ROW, 2), f"sheet for an unknown unit {quote(unit)}"))
    if rater is None:
        problems.append((_addr(RATER_ROW, 2), "missing evaluator id"))
    slot = {}
    for name, col in (("session", 2), ("order", 4)):
        raw = _cell(grid, SLOT_ROW, col)
        v = _number(raw)
        if raw is not None and (v is None or not np.isfinite(v) or v != int(v) or not 1 <= v < 1e9):
            problems.append((_addr(SLOT_ROW, col), f"{name} {quote(raw)} is not a whole number >= 1"))
            v = None
        slot[name] = None if v is None else int(v)
    session, order = slot["session"], slot["order"]
    bands = {b.grade: b for b in scheme.bands}
    rows, seen = [], {}
    last = FIRST_ROW
    for r in range(FIRST_ROW, len(grid) + 1):
        if _cell(grid, r, COL_ID) is None:  # blank rows (and the note under the table) are skipped
            continue
        last = r
        ind = _text_id(_cell(grid, r, COL_ID))
        g_addr, s_addr = _addr(r, lay["grade"]), _addr(r, lay["score"])
        grade_raw, score_raw = _cell(grid, r, lay["grade"]), _cell(grid, r, lay["score"])
        if ind not in scheme.indicator_ids:
            problems.append((_addr(r, COL_ID), f"unknown indicator {quote(ind)}"))
        elif ind in seen:
            problems.append((_addr(r, COL_ID), f"indicator {ind} appears twice (first at {seen[ind]})"))
        seen.setdefault(ind, _addr(r, COL_ID))
        grade = None if grade_raw is None else str(grade_raw).strip().upper()
        score = _number(score_raw)
        if score_raw is None:
            problems.append((s_addr, f"blank score for {ind}"))
        elif score is None or not np.isfinite(score):
            problems.append((s_addr, f"score {quote(score_raw)} for {ind} is not a number"))
        elif not 0 <= score <= 100:
            problems.append((s_addr, f"score {score:g} for {ind} is outside 0–100"))
        if grade is not None and grade not in bands:
            problems.append((g_addr, f"grade {quote(grade_raw)} for {ind} is not one of {', '.join(scheme.grades)}"))
        elif grade is not None and score is not None and 0 <= score <= 100 and scheme.grade_of([score])[0] != grade:
            b = bands[grade]
            problems.append(
                (s_addr, f"score {score:g} for {ind} is outside the band of grade {grade} ({_band_text(b)})")
            )
        rows.append(
            {
                "rater": rater,
                "unit": unit,
                "indicator": ind,
                "score": score,
                "grade": grade,
                "session": session,
                "order": order,
            }
        )
    missing = [i for i in scheme.indicator_ids if i not in seen]
    if missing:
        problems.append((_addr(last + 1, COL_ID), f"indicator(s) missing from the sheet: {', '.join(missing)}"))
    return unit, rater, rows, problems


def read_sheets(paths: Iterable[str | Path], scheme: Scheme, units: pd.DataFrame | None = None) -> SheetImport:
    """Read filled scoring sheets into the long ratings table, checking every cell.

    A sheet with any problem is not imported and is listed with the workbook,
    sheet and cell of each problem; the same evaluator scoring the same unit on
    two sheets rejects both (which one is right cannot be told).
    """
    lay = layout(scheme)
    given = set(units["unit"]) if units is not None else None
    problems, sheets, parts = [], [], []
    for path in map(Path, paths):
        if not path.is_file():
            problems.append((str(path), None, None, "file not found"))
            sheets.append((str(path), None, None, None, "unreadable"))
            continue
        try:
            grids = list(_grids(path))
        except DataError as exc:
            problems.append((str(path), None, None, exc.message))
            sheets.append((str(path), None, None, None, "unreadable"))
            continue
        except Exception as exc:  # a damaged file: zip, XML and openpyxl errors of many kinds
            problems.append((str(path), None, None, f"cannot read the workbook ({type(exc).__name__}: {exc})"))
            sheets.append((str(path), None, None, None, "unreadable"))
            continue
        info = [g for name, g in grids if name == INSTRUCTIONS or _cell(g, 1, UNITS_COL) == UNITS_MARK]
        listed = (
            {_text_id(row[UNITS_COL - 1]) for row in info[0][1:] if len(row) >= UNITS_COL and row[UNITS_COL - 1]}
            if info
            else None
        )
        known = given if given is not None else listed
        for sheet, grid in grids:
            if sheet == INSTRUCTIONS or _cell(grid, 1, UNITS_COL) == UNITS_MARK:
                continue
            if str(_cell(grid, UNIT_ROW, 1) or "") != LABELS[UNIT_ROW]:
                problems.append(
                    (str(path), sheet, _addr(UNIT_ROW, 1), f"not a scoring sheet (no '{LABELS[UNIT_ROW]}' label)")
                )
                sheets.append((str(path), sheet, None, None, "invalid"))
                continue
            unit, rater, rows, found = _read_sheet(grid, scheme, lay, known)
            if known is None and unit is not None:
                found.insert(0, (_addr(UNIT_ROW, 2), f"cannot check unit {quote(unit)}: no units table (give --data)"))
            problems += [(str(path), sheet, cell, msg) for cell, msg in found]
            sheets.append((str(path), sheet, unit, rater, "invalid" if found else "ok"))
            parts.append((len(sheets) - 1, rows))
    sheet_table = pd.DataFrame(sheets, columns=["workbook", "sheet", "unit", "rater", "status"])
    ok = sheet_table[sheet_table["status"] == "ok"]
    dup = ok[ok.duplicated(["rater", "unit"], keep=False)]
    for (rater, unit), g in dup.groupby(["rater", "unit"]):
        where = "; ".join(f"{Path(w).name} sheet {s}" for w, s in zip(g["workbook"], g["sheet"]))
        for w, s in zip(g["workbook"], g["sheet"]):
            problems.append((w, s, _addr(RATER_ROW, 2), f"evaluator {rater} scored unit {unit} twice ({where})"))
        sheet_table.loc[g.index, "status"] = "invalid"
    good = [pd.DataFrame(rows) for i, rows in parts if sheet_table.at[i, "status"] == "ok" and rows]
    cols = ["rater", "unit", "indicator", "score", "grade", "session", "order"]
    ratings = pd.concat(good, ignore_index=True)[cols] if good else pd.DataFrame(columns=cols)
    if len(ratings):
        derived = scheme.grade_of(ratings["score"].to_numpy(float))
        ratings["grade"] = ratings["grade"].where(ratings["grade"].notna(), pd.Series(derived, index=ratings.index))
        ratings["session"] = ratings["session"].astype("Int64")
        ratings["order"] = ratings["order"].astype("Int64")
    probs = pd.DataFrame(problems, columns=["workbook", "sheet", "cell", "problem"])
    return SheetImport(ratings=ratings, problems=probs, sheets=sheet_table)


def problem_lines(result: SheetImport) -> list[str]:
    """One line per problem: workbook, sheet and cell, then what is wrong."""
    out = []
    for r in result.problems.itertuples(index=False):
        where = ", ".join(
            p for p in (r.workbook, f"sheet {r.sheet}" if r.sheet else None, f"cell {r.cell}" if r.cell else None) if p
        )
        out.append(f"{where}: {r.problem}")
    return out
