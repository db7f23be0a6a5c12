"""The bad-input corpus of issue 13: every careless input ends in one line, exit 2, and raw files untouched.

Each case builds a small project in ``tmp_path`` (the tiny data set under ``data/raw/tiny``, so the raw-tree
guard applies; a copy of the Beijing scheme under ``params/``), spoils one thing, and runs ``perflab`` in-process.
Every case asserts: exit status 2; no traceback on stdout or stderr; stderr is exactly one line starting with
``perflab: error: ``; that line names the file and where in it (row and column, key path, scenario, option);
every input file (``data/raw/`` and ``params/``) is byte-identical afterwards; nothing is written to the output.
No notebook kernel ever starts: the functions that would start one fail the test instead.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SCHEME_FILE, tiny_tables, write_tables

from perflab.cli import main

# ---------------------------------------------------------------------------
# the project a case spoils
# ---------------------------------------------------------------------------


@dataclass
class Env:
    root: Path  # tmp_path
    raw: Path  # root/data/raw: the raw-data tree
    data: Path  # root/data/raw/tiny: the data set
    params: Path  # root/params: scheme and sweep files
    scheme: Path  # root/params/scheme.yaml: a copy of the Beijing scheme
    out: Path  # root/out: where outputs go (must stay untouched)
    book: Path  # a workbook of scoring sheets for the tiny data, filled in by evaluator R1 (outside the project)

    def f(self, name: str) -> Path:
        """A file of the data set."""
        return self.data / name

    def score(self, scheme: Path | None = None) -> list[str]:
        return ["score", str(self.data), "--scheme", str(scheme or self.scheme), "--out", str(self.out / "s.csv")]

    def write_scheme(self, edit: Callable[[dict], None], name: str = "bad.yaml") -> Path:
        d = yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8"))
        edit(d)
        path = self.params / name
        path.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def sweep_file(self, body: dict | str, name: str = "s.yaml") -> Path:
        d = self.params / "sweeps"
        d.mkdir(parents=True, exist_ok=True)
        path = d / name
        if isinstance(body, str):
            path.write_text(body, encoding="utf-8")
        else:
            full = {"base": "../scheme.yaml", "data": "../../data/raw/tiny", "notebooks": [], **body}
            path.write_text(yaml.safe_dump(full, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def sweep(self, path: Path, *extra: str) -> list[str]:
        return ["sweep", str(path), "--out", str(self.out / "sweep"), "--quiet", "--no-figures", *extra]

    def run(self, *extra: str) -> list[str]:
        return ["run", "--scheme", str(self.scheme), "--data", str(self.data), "--out", str(self.out / "run"), *extra]


def tree_hashes(*dirs: Path) -> dict[str, str]:
    """sha256 of every file (and the name of every folder) under the given folders."""
    out = {}
    for d in dirs:
        if not d.exists():
            continue
        for p in sorted(d.rglob("*")):
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def edit_csv(path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def set_cell(path: Path, row: int, col: str, value: str) -> None:
    """Set one cell, ``row`` being the line number in the file (header = 1)."""
    edit_csv(path, _at(row - 2, col, value))


def _at(idx: int, col: str, value: str):
    """An edit for :func:`edit_csv`: one cell set, by index (line number - 2)."""

    def fn(d):
        d.loc[idx, col] = value
        return d

    return fn


def append_copy(path: Path, row: int) -> None:
    """Append a copy of the record on line ``row``."""
    edit_csv(path, lambda d: pd.concat([d, d.iloc[[row - 2]]], ignore_index=True))


def to_xlsx(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Path:
    """Replace a CSV table by the same table as XLSX (optionally edited)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if edit:
        df = edit(df)
    new = path.with_suffix(".xlsx")
    df.to_excel(new, index=False)
    path.unlink()
    return new


# ---------------------------------------------------------------------------
# the cases: each spoils the project and returns the command and what its one line must contain
# ---------------------------------------------------------------------------

CASES: dict[str, tuple[str, Callable[[Env], tuple[list[str], list[str]]]]] = {}
WRITES_OUTPUT = set()  # cases whose command legitimately writes into the output (sheets read: its problem list)


def case(category: str, writes_output: bool = False):
    def register(fn):
        name = f"{category}-{fn.__name__}"
        assert name not in CASES
        CASES[name] = (category, fn)
        if writes_output:
            WRITES_OUTPUT.add(name)
        return fn

    return register


# -- tables: units -------------------------------------------------------------


@case("tables")
def units_duplicate_id(e):
    append_copy(e.f("units.csv"), 2)
    return e.score(), [f"{e.f('units.csv')}, row 6, column unit: duplicated row for unit D01 (first at row 2)"]


@case("tables")
def units_unknown_kind(e):
    set_cell(e.f("units.csv"), 4, "kind", "county")
    return e.score(), [f"{e.f('units.csv')}, row 4, column kind: unknown kind 'county'"]


@case("tables")
def units_blank_zone(e):
    set_cell(e.f("units.csv"), 3, "zone", "")
    return e.score(), [f"{e.f('units.csv')}, row 3, column zone: empty value"]


@case("tables")
def units_presented_not_bool(e):
    set_cell(e.f("units.csv"), 2, "presented", "perhaps")
    return e.score(), [f"{e.f('units.csv')}, row 2, column presented: 'perhaps' is not true or false"]


@case("tables")
def units_zone_of_the_other_kind(e):
    set_cell(e.f("units.csv"), 2, "zone", "economy")  # a department zone for a district
    return e.score(), [f"{e.f('units.csv')}, row 2, column zone: unknown zone for a district 'economy'"]


@case("tables")
def units_xlsx_bad_zone(e):
    p = to_xlsx(e.f("units.csv"), lambda d: d.assign(zone=d["zone"].where(d["unit"] != "M01", "moon")))
    return e.score(), [f"{p}, row 4, column zone: unknown zone for a department 'moon'"]


@case("tables")
def units_broken_xlsx(e):
    e.f("units.csv").unlink()
    p = e.f("units.xlsx")
    p.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return e.score(), [f"{p}: cannot read the workbook"]


@case("tables")
def units_two_files(e):
    e.f("units.csv.gz").write_bytes(gzip.compress(e.f("units.csv").read_bytes(), mtime=0))
    return e.score(), [f"{e.data}: two files hold table 'units': units.csv, units.csv.gz"]


# -- tables: raters ------------------------------------------------------------


@case("tables")
def raters_duplicate_id(e):
    append_copy(e.f("raters.csv"), 3)
    return e.score(), [f"{e.f('raters.csv')}, row 6, column rater: duplicated row for rater R2 (first at row 3)"]


@case("tables")
def raters_unknown_home_unit(e):
    set_cell(e.f("raters.csv"), 4, "home_unit", "D77")
    return e.score(), [f"{e.f('raters.csv')}, row 4, column home_unit: unknown home unit 'D77'"]


@case("tables")
def raters_blank_group(e):
    set_cell(e.f("raters.csv"), 5, "group", "")
    return e.score(), [f"{e.f('raters.csv')}, row 5, column group: empty value"]


@case("tables")
def raters_utf16(e):
    p = e.f("raters.csv")
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    return e.score(), [f"{p}, row 1: undecodable bytes"]


@case("tables")
def raters_whitespace_only(e):
    e.f("raters.csv").write_text("  \n\n \n", encoding="utf-8")
    return e.score(), [f"{e.f('raters.csv')}: the file is empty"]


# -- tables: ratings -----------------------------------------------------------


@case("tables")
def ratings_blank_rater(e):
    set_cell(e.f("ratings.csv"), 12, "rater", "")
    return e.score(), [f"{e.f('ratings.csv')}, row 12, column rater: empty value"]


@case("tables")
def ratings_blank_score_and_grade(e):
    set_cell(e.f("ratings.csv"), 20, "score", "")
    return e.score(), [f"{e.f('ratings.csv')}, row 20, column score: empty score and grade"]


@case("tables")
def ratings_score_infinite(e):
    set_cell(e.f("ratings.csv"), 7, "score", "inf")
    return e.score(), [f"{e.f('ratings.csv')}, row 7, column score: 'inf' is not a number"]


@case("tables")
def ratings_score_nan(e):
    set_cell(e.f("ratings.csv"), 30, "score", "NaN")
    return e.score(), [f"{e.f('ratings.csv')}, row 30, column score: 'NaN' is not a number"]


@case("tables")
def ratings_session_zero(e):
    edit_csv(e.f("ratings.csv"), lambda d: d.assign(session="0"))
    return e.score(), [f"{e.f('ratings.csv')}, row 2, column session: 0 is below the allowed range >= 1"]


@case("tables")
def ratings_order_not_whole(e):
    set_cell(e.f("ratings.csv"), 50, "order", "2.5")
    return e.score(), [f"{e.f('ratings.csv')}, row 50, column order: '2.5' is not a whole number"]


@case("tables")
def ratings_duplicated_header(e):
    p = e.f("ratings.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("order", "score")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return e.score(), [f"{p}, row 1, column score: duplicated column"]


@case("tables")
def ratings_broken_gzip(e):
    e.f("ratings.csv").unlink()
    p = e.f("ratings.csv.gz")
    p.write_bytes(b"rater,unit,indicator,score\nR1,D01,service,80\n")  # plain text behind a .gz name
    return e.score(), [f"{p}: not a valid gzip file"]


@case("tables")
def ratings_truncated_gzip(e):
    p = e.f("ratings.csv.gz")
    p.write_bytes(gzip.compress(e.f("ratings.csv").read_bytes(), mtime=0)[:-40])
    e.f("ratings.csv").unlink()
    return e.score(), [f"{p}: not a valid gzip file"]


@case("tables")
def ratings_xlsx_score_above_100(e):
    p = to_xlsx(e.f("ratings.csv"), lambda d: d.assign(score=d["score"].where(d.index != 9, "150")))
    return e.score(), [f"{p}, row 11, column score: 150 is above the allowed range 0–100"]


@case("tables")
def ratings_undecodable_score(e):
    p = e.f("ratings.csv")
    lines = p.read_bytes().split(b"\n")
    lines[40] = lines[40].rsplit(b",", 3)[0] + b",\xff\xfe,1,1"  # line 41: the score's bytes are no text
    p.write_bytes(b"\n".join(lines))
    return e.score(), [f"{p}, row 41, column score: undecodable bytes"]


@case("tables")
def raters_row_deleted(e):
    p = e.f("raters.csv")
    p.write_text("\n".join(p.read_text(encoding="utf-8").splitlines()[:4]) + "\n", encoding="utf-8")  # R4 gone
    return e.score(), [f"{e.f('ratings.csv')}, row 23, column rater: unknown rater 'R4'"]


@case("tables")
def units_xlsx_title_row(e):
    from openpyxl import Workbook

    df = pd.read_csv(e.f("units.csv"), dtype=str, keep_default_na=False)
    e.f("units.csv").unlink()
    wb = Workbook()
    wb.active.append(["Units of the 2016 evaluation"])  # a title above the header
    for row in [list(df.columns), *df.itertuples(index=False)]:
        wb.active.append(list(row))
    p = e.f("units.xlsx")
    wb.save(p)
    return e.score(), [f"{p}, row 1, column unit: missing column 'unit'"]


@case("tables")
def survey_gzip_of_nothing(e):
    e.f("survey.csv").unlink()
    p = e.f("survey.csv.gz")
    p.write_bytes(gzip.compress(b"", mtime=0))
    return e.score(), [f"{p}: the file is empty"]


@case("tables")
def history_year_out_of_range(e):
    set_cell(e.f("history.csv"), 4, "year", "1066")
    return e.score(), [f"{e.f('history.csv')}, row 4, column year: 1066 is below the allowed range 1900–2200"]


@case("tables")
def history_unknown_measure(e):
    set_cell(e.f("history.csv"), 3, "measure", "pm10")
    return e.score(), [f"{e.f('history.csv')}, row 3, column measure: unknown measure 'pm10'"]


@case("tables")
def history_measure_of_the_other_kind(e):
    set_cell(e.f("history.csv"), 5, "measure", "pm25")  # M01, a department
    return e.score(), [
        f"{e.f('history.csv')}, row 5, column measure: measure 'pm25' is for districts but unit M01 is a department"
    ]


@case("tables")
def history_duplicate_key(e):
    append_copy(e.f("history.csv"), 4)
    return e.score(), [
        f"{e.f('history.csv')}, row 8, column year: duplicated row for unit D02 × measure gdp_growth × year 2016"
    ]


@case("tables")
def history_blank_value(e):
    set_cell(e.f("history.csv"), 6, "value", "")
    return e.score(), [f"{e.f('history.csv')}, row 6, column value: empty value"]


@case("tables")
def history_unknown_unit(e):
    set_cell(e.f("history.csv"), 7, "unit", "D09")
    return e.score(), [f"{e.f('history.csv')}, row 7, column unit: unknown unit 'D09'"]


@case("tables")
def history_ragged_row(e):
    p = e.f("history.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[3] += ",oops,again"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return e.score(), [f"{p}, row 4: not a valid CSV row: expected 5 fields, saw 7"]


@case("tables")
def history_missing_file(e):
    e.f("history.csv").unlink()
    return e.score(), [f"{e.f('history.csv')}: missing file: components.routine has weight 0.4 and needs history.csv"]


@case("tables")
def survey_satisfaction_above_100(e):
    set_cell(e.f("survey.csv"), 3, "satisfaction", "820")
    return e.score(), [f"{e.f('survey.csv')}, row 3, column satisfaction: 820 is above the allowed range 0–100"]


@case("tables")
def survey_negative_respondents(e):
    set_cell(e.f("survey.csv"), 5, "respondents", "-5")
    return e.score(), [f"{e.f('survey.csv')}, row 5, column respondents: -5 is below the allowed range >= 0"]


@case("tables")
def survey_duplicate_unit_year(e):
    append_copy(e.f("survey.csv"), 2)
    return e.score(), [f"{e.f('survey.csv')}, row 6, column year: duplicated row for unit D01 × year 2016"]


@case("tables")
def survey_unknown_unit(e):
    set_cell(e.f("survey.csv"), 4, "unit", "M99")
    return e.score(), [f"{e.f('survey.csv')}, row 4, column unit: unknown unit 'M99'"]


@case("tables")
def survey_missing_file(e):
    e.f("survey.csv").unlink()
    return e.score(), [f"{e.f('survey.csv')}: missing file: the scheme uses the satisfaction survey"]


@case("tables")
def verification_blank_claim(e):
    set_cell(e.f("verification.csv"), 3, "claim", "")
    return e.score(), [f"{e.f('verification.csv')}, row 3, column claim: empty value"]


@case("tables")
def verification_unknown_unit(e):
    set_cell(e.f("verification.csv"), 4, "unit", "X1")
    return e.score(), [f"{e.f('verification.csv')}, row 4, column unit: unknown unit 'X1'"]


def _assessments(e, **change) -> Path:
    rows = {
        "unit": ["D01", "D02"],
        "indicator": ["service", "key_tasks"],
        "department": ["市政务服务局", "市委督查室"],
        "summary": ["done", "done"],
        "opinion": ["good", "fair"],
        "band": ["A", "B"],
    }
    df = pd.DataFrame(rows)
    for col, value in change.items():
        df.loc[1, col] = value
    p = e.f("assessments.csv")
    df.to_csv(p, index=False)
    return p


@case("tables")
def assessments_bad_band(e):
    p = _assessments(e, band="F")
    return e.score(), [f"{p}, row 3, column band: unknown band 'F'"]


@case("tables")
def assessments_unknown_indicator(e):
    p = _assessments(e, indicator="speed")
    return e.score(), [f"{p}, row 3, column indicator: unknown indicator 'speed'"]


@case("tables")
def units_unterminated_quote(e):
    p = e.f("units.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("D02", '"D02')  # line 3: a quote opened and never closed
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return e.score(), [f"{p}, row 3"]


@case("tables")
def units_old_mac_line_endings(e):
    # "CSV (Macintosh)" from a spreadsheet: lines end in a carriage return alone
    p = e.f("units.csv")
    text = p.read_text(encoding="utf-8").replace("M02,department,economy", "M02,department,moon")
    p.write_bytes(text.replace("\n", "\r").encode("utf-8"))
    return e.score(), [str(p)]


@case("tables")
def units_carriage_return_in_a_field(e):
    p = e.f("units.csv")
    p.write_text(p.read_text(encoding="utf-8").replace("Huairou", "Huai\rrou"), encoding="utf-8", newline="")
    return e.score(), [str(p)]


@case("tables")
def raters_xlsx_header_only(e):
    p = to_xlsx(e.f("raters.csv"), lambda d: d.iloc[:0])
    return e.score(), [f"{p}, row 2: the file has a header but no data rows"]


@case("tables")
def raters_xlsx_blank_workbook(e):
    from openpyxl import Workbook

    e.f("raters.csv").unlink()
    p = e.f("raters.xlsx")
    Workbook().save(p)
    return e.score(), [f"{p}: the file is empty"]


@case("tables")
def history_target_not_a_number(e):
    set_cell(e.f("history.csv"), 3, "target", "sixty")
    return e.score(), [f"{e.f('history.csv')}, row 3, column target: 'sixty' is not a number"]


@case("tables")
def data_directory_missing(e):
    shutil.rmtree(e.data)
    return e.score(), [f"{e.data}: data directory not found"]


# -- tables: what issue 13 asked for (long values, blank first row, misspelt columns, guessed encodings) -------


@case("tables")
def ratings_64_mib_cell(e):
    set_cell(e.f("ratings.csv"), 3, "score", "x" * (64 << 20))
    quoted = "'" + "x" * 40 + "…' (67108864 characters) is not a number"
    return e.score(), [f"{e.f('ratings.csv')}, row 3, column score: {quoted}"]


@case("tables")
def units_long_unknown_kind(e):
    set_cell(e.f("units.csv"), 2, "kind", "county " * 1000)
    return e.score(), [
        f"{e.f('units.csv')}, row 2, column kind: unknown kind 'county county",
        "(6999 characters)",
    ]  # the cell is stripped


@case("tables")
def units_blank_first_line(e):
    e.f("units.csv").write_text("\n" + e.f("units.csv").read_text(encoding="utf-8"), encoding="utf-8")
    return e.score(), [
        f"{e.f('units.csv')}, row 1: the first row is blank: the column names must be on row 1 "
        "(the first non-blank row is row 2)"
    ]


@case("tables")
def ratings_misspelt_grade_column(e):
    edit_csv(e.f("ratings.csv"), lambda d: d.assign(grdae="B"))
    return e.score(), [f"{e.f('ratings.csv')}, row 1, column grdae: unknown column 'grdae': did you mean 'grade'?"]


@case("tables")
def units_misspelt_presented_column(e):
    edit_csv(e.f("units.csv"), lambda d: d.drop(columns="presented").assign(presnted="true"))
    return e.score(), [f"{e.f('units.csv')}, row 1, column presnted: unknown column 'presnted': did you mean"]


@case("tables")
def ratings_misspelt_required_column(e):
    edit_csv(e.f("ratings.csv"), lambda d: d.rename(columns={"rater": "ratre"}))
    return e.score(), [f"{e.f('ratings.csv')}, row 1, column rater: missing column 'rater'", "is 'ratre' meant to be"]


@case("tables")
def raters_latin1_read_as_gb18030(e):
    raters = e.f("raters.csv")
    raters.write_bytes(raters.read_text(encoding="utf-8").replace("R2,", "Müller,").encode("latin-1"))
    return e.score(), [
        f"{e.f('ratings.csv')}, row ",
        "column rater: unknown rater 'R2' (known: M黮ler",
        "(raters.csv is not UTF-8 and was read as GB18030",
    ]


# -- scheme files --------------------------------------------------------------


@case("scheme")
def scheme_invalid_yaml(e):
    p = e.params / "bad.yaml"
    p.write_text(SCHEME_FILE.read_text(encoding="utf-8").replace("weight: 25 ", "weight: [25 ", 1), encoding="utf-8")
    return e.score(p), [f"{p}: not valid YAML at line "]


@case("scheme")
def scheme_unknown_nested_key(e):
    p = e.write_scheme(lambda d: d["indicators"][3].update(wieght=d["indicators"][3].pop("weight")))
    return e.score(p), [f"{p}, key indicators[3].wieght: unknown key 'wieght' (did you mean 'weight'?)"]


@case("scheme")
def scheme_negative_weight(e):
    p = e.write_scheme(lambda d: d["indicators"][2].update(weight=-5))
    return e.score(p), [f"{p}, key indicators[2].weight: negative weight -5"]


@case("scheme")
def scheme_all_zero_weights(e):
    p = e.write_scheme(lambda d: [i.update(weight=0) for i in d["indicators"]])
    return e.score(p), [f"{p}, key indicators: all weights are zero"]


@case("scheme")
def scheme_shares_not_summing_to_one(e):
    p = e.write_scheme(lambda d: d["groups"][8].update(share=0.30))
    return e.score(p), [f"{p}, key groups: shares sum to 1.05; they must sum to 1"]


@case("scheme")
def scheme_duplicate_group(e):
    p = e.write_scheme(lambda d: d["groups"][1].update(id="city_leaders"))
    return e.score(p), [f"{p}, key groups[1].id: duplicated id 'city_leaders'"]


@case("scheme")
def scheme_bands_overlap(e):
    p = e.write_scheme(lambda d: d["bands"][1].update(upper=92))
    return e.score(p), [f"{p}, key bands[0]: bands B [80, 92) and A [90, 100) overlap"]


@case("scheme")
def scheme_bands_gap(e):
    p = e.write_scheme(lambda d: d["bands"][4].update(lower=10))
    return e.score(p), [f"{p}, key bands: the bands leave a gap: nothing covers scores from 0 to 10"]


@case("scheme")
def scheme_band_upside_down(e):
    p = e.write_scheme(lambda d: d["bands"][3].update(lower=70, upper=60))
    return e.score(p), [f"{p}, key bands[3].upper: upper 60.0 must be greater than lower 70.0"]


@case("scheme")
def scheme_band_score_outside(e):
    p = e.write_scheme(lambda d: d["bands"][2].update(score=85))
    return e.score(p), [f"{p}, key bands[2].score: score 85.0 lies outside its band [70.0, 80.0]"]


@case("scheme")
def scheme_negative_component(e):
    p = e.write_scheme(lambda d: d["components"].update(routine=-0.4))
    return e.score(p), [f"{p}, key components.routine: negative weight -0.4"]


@case("scheme")
def scheme_unknown_zone_override(e):
    p = e.write_scheme(lambda d: d["differentiated"]["zones"].update(coer={"indicators": {"service": 12}}))
    return e.score(p), [f"{p}, key differentiated.zones.coer: unknown zone 'coer' (did you mean 'core'?)"]


@case("scheme")
def scheme_ranking_zone_not_bool(e):
    p = e.write_scheme(lambda d: d["ranking"].update(zone="yes please"))
    return e.score(p), [f"{p}, key ranking.zone: expected true or false, got 'yes please'"]


@case("scheme")
def scheme_measure_direction(e):
    p = e.write_scheme(lambda d: d["measures"][1].update(direction="down"))
    return e.score(p), [f"{p}, key measures[1].direction: must be one of higher, lower, got 'down'"]


@case("scheme")
def scheme_not_a_mapping(e):
    p = e.params / "list.yaml"
    p.write_text("- name: beijing\n- year: 2016\n", encoding="utf-8")
    return e.score(p), [f"{p}: expected a mapping of keys, got list"]


@case("scheme")
def scheme_empty_file(e):
    p = e.params / "empty.yaml"
    p.write_text("", encoding="utf-8")
    return e.score(p), [f"{p}: expected a mapping of keys"]


@case("scheme")
def scheme_latin1(e):
    p = e.params / "latin1.yaml"
    p.write_bytes(
        SCHEME_FILE.read_text(encoding="utf-8").replace("µg/m³", "ug").encode("utf-8") + "# Müller\n".encode("latin-1")
    )
    return e.score(p), [f"{p}: not UTF-8 text"]


@case("scheme")
def scheme_missing_file(e):
    p = e.params / "nope.yaml"
    return e.score(p), [f"{p}: scheme file not found"]


@case("scheme")
def scheme_tab_indent(e):
    p = e.params / "tab.yaml"
    p.write_text(SCHEME_FILE.read_text(encoding="utf-8").replace("  method: trimmed_mean", "\tmethod: trimmed_mean"))
    return e.score(p), [f"{p}: not valid YAML at line "]


@case("scheme")
def scheme_weight_as_text(e):
    p = e.write_scheme(lambda d: d["indicators"][1].update(weight="25"))
    return e.score(p), [f"{p}, key indicators[1].weight: expected a number, got '25'"]


@case("scheme")
def scheme_zone_kind(e):
    p = e.write_scheme(lambda d: d["zones"][0].update(kind="city"))
    return e.score(p), [f"{p}, key zones[0].kind: must be one of district, department, got 'city'"]


@case("scheme")
def scheme_duplicated_yaml_key(e):
    # a block copied and edited, its key left the same: YAML keeps the last silently, the first is lost
    p = e.params / "dup.yaml"
    text = SCHEME_FILE.read_text(encoding="utf-8")
    p.write_text(text + "\ncomponents:\n  onsite: 0.7\n  routine: 0.3\n  satisfaction: 0.0\n", encoding="utf-8")
    return e.score(p), [str(p), "components"]


# -- scoring sheets ------------------------------------------------------------


@pytest.fixture(scope="module")
def filled_book(tmp_path_factory) -> Path:
    """A workbook of scoring sheets for the tiny data set, filled in by evaluator R1."""
    from openpyxl import load_workbook

    from perflab.scheme import load_scheme
    from perflab.sheets import INSTRUCTIONS, layout, load_sheet_inputs, write_sheets

    d = tmp_path_factory.mktemp("book")
    scheme = load_scheme(SCHEME_FILE)
    inputs = load_sheet_inputs(write_tables(tiny_tables(), d / "tiny"), scheme)
    (path,) = write_sheets(inputs, scheme, d / "book.xlsx")
    lay = layout(scheme)
    r1 = inputs.ratings[inputs.ratings["rater"] == "R1"].set_index(["unit", "indicator"])
    wb = load_workbook(path)
    for ws in wb.worksheets:
        if ws.title == INSTRUCTIONS:
            continue
        ws["B3"] = "R1"
        for row in range(7, 7 + len(scheme.indicators)):
            rec = r1.loc[(ws["B2"].value, ws.cell(row, 2).value)]
            ws.cell(row, lay["grade"], str(rec["grade"]))
            ws.cell(row, lay["score"], float(rec["score"]))
    wb.save(path)
    return path


def _book(e, edit=None) -> Path:
    """The filled workbook copied into the raw tree (data/raw/sheets/), optionally edited with openpyxl."""
    from openpyxl import load_workbook

    d = e.raw / "sheets"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "book.xlsx"
    shutil.copy(e.book, p)
    if edit:
        wb = load_workbook(p)
        edit(wb.worksheets[1])
        wb.save(p)
    return p


def _read(e, *files: Path, data: bool = True) -> list[str]:
    argv = ["sheets", "read", *map(str, files), "--scheme", str(e.scheme), "--out", str(e.out / "sheets")]
    return argv + (["--data", str(e.data)] if data else [])


@case("sheets", writes_output=True)
def sheet_broken_workbook(e):
    d = e.raw / "sheets"
    d.mkdir(parents=True)
    p = d / "scan.xlsx"
    p.write_bytes(b"%PDF-1.4 a scanned sheet, not a workbook")
    return _read(e, p), [f"{p}: cannot read the workbook"]


@case("sheets", writes_output=True)
def sheet_foreign_workbook(e):
    from openpyxl import Workbook

    d = e.raw / "sheets"
    d.mkdir(parents=True)
    p = d / "budget.xlsx"
    wb = Workbook()
    wb.active.title = "budget"
    wb.active["A1"] = "budget 2016"
    wb.save(p)
    return _read(e, p), [f"{p}, sheet budget, cell A2: not a scoring sheet"]


@case("sheets", writes_output=True)
def sheet_wrong_unit(e):
    p = _book(e, lambda ws: ws.__setitem__("B2", "M02X"))
    return _read(e, p), [f"{p}, sheet D01, cell B2: sheet for an unknown unit 'M02X'"]


# the sheet's columns (layout(scheme) for the Beijing bands): N = grade, O = score; rows 7-13 the indicators


@case("sheets", writes_output=True)
def sheet_bad_grade(e):
    p = _book(e, lambda ws: ws.cell(9, 14, "Z"))
    return _read(e, p), [f"{p}, sheet D01, cell N9: grade 'Z' for key_tasks is not one of A, B, C, D, E"]


@case("sheets", writes_output=True)
def sheet_score_not_a_number(e):
    p = _book(e, lambda ws: ws.cell(10, 15, "ninety"))
    return _read(e, p), [f"{p}, sheet D01, cell O10: score 'ninety' for law_based_admin is not a number"]


@case("sheets", writes_output=True)
def sheet_missing_file(e):
    p = e.raw / "sheets" / "nowhere.xlsx"
    return _read(e, p), [f"{p}: file not found"]


@case("sheets", writes_output=True)
def sheet_csv_export_undecodable(e):
    d = e.raw / "sheets"
    d.mkdir(parents=True)
    p = d / "D01.csv"
    p.write_bytes(b"\xff\xfe\x00\x81 a sheet saved as UTF-16")
    return _read(e, p), [f"{p}: undecodable bytes"]


@case("sheets")
def sheet_read_with_broken_units(e):
    p = _book(e)
    set_cell(e.f("units.csv"), 3, "kind", "province")
    return _read(e, p), [f"{e.f('units.csv')}, row 3, column kind: unknown kind 'province'"]


# -- sweep files: all refused before any notebook runs ----------------------------


@case("sweep")
def sweep_invalid_yaml(e):
    p = e.sweep_file("base: ../scheme.yaml\ngrid:\n  groups.grassroots.share: [0.1, 0.2\nnotebooks: []\n")
    return e.sweep(p), [f"{p}: not valid YAML at line "]


@case("sweep")
def sweep_unknown_key_path(e):
    p = e.sweep_file({"scenarios": {"x": {"componets.onsite": 0.7}}})
    return e.sweep(p), [f"{p}, scenario 'x', key componets.onsite: unknown path"]


@case("sweep")
def sweep_unknown_group(e):
    p = e.sweep_file({"scenarios": {"leaders": {"groups.city_leader.share": 0.3}}})
    return e.sweep(p), [
        f"{p}, scenario 'leaders', key groups.city_leader.share: unknown evaluator group 'city_leader' "
        "(did you mean 'city_leaders'?)"
    ]


@case("sweep")
def sweep_bad_value_type(e):
    p = e.sweep_file({"scenarios": {"two": {"aggregation.trim": "two"}}})
    return e.sweep(p), [f"{p}, scenario 'two', key aggregation.trim: "]


@case("sweep")
def sweep_unknown_scenario_base(e):
    p = e.sweep_file({"base": "../beijing_2061.yaml"})
    return e.sweep(p), [f"{p}, key base: scheme file not found"]


@case("sweep")
def sweep_base_scheme_invalid(e):
    e.write_scheme(lambda d: d["components"].update(onsite=-1), name="broken.yaml")
    p = e.sweep_file({"base": "../broken.yaml"})
    return e.sweep(p), [f"{e.params / 'broken.yaml'}, key components.onsite: negative weight -1"]


@case("sweep")
def sweep_not_a_mapping(e):
    p = e.sweep_file("- base: ../scheme.yaml\n")
    return e.sweep(p), [f"{p}: expected a mapping with at least the key 'base'"]


@case("sweep")
def sweep_notebooks_not_a_list(e):
    p = e.sweep_file({"notebooks": "10"})
    return e.sweep(p), [f"{p}, key notebooks: expected a list of notebook numbers"]


@case("sweep")
def sweep_zero_step(e):
    p = e.sweep_file({"grid": {"routine.attainment_cap": {"from": 1.0, "to": 2.0, "step": 0}}})
    return e.sweep(p), [f"{p}, key grid.routine.attainment_cap: the step is zero"]


@case("sweep")
def sweep_empty_axis(e):
    p = e.sweep_file({"grid": {"components.onsite": []}})
    return e.sweep(p), [f"{p}, key grid.components.onsite: expected a non-empty list of values"]


@case("sweep")
def sweep_scenario_name_with_slash(e):
    p = e.sweep_file({"scenarios": {"a/b": {"components.onsite": 0.7}}})
    return e.sweep(p), [f"{p}, key scenarios: a scenario name must be non-empty text without '/'"]


@case("sweep")
def sweep_negative_weight_set(e):
    p = e.sweep_file({"scenarios": {"w": {"weights": {"key_tasks": -1}}}})
    return e.sweep(p), [f"{p}, scenario 'w', key weights: the weight of 'key_tasks' must be a number >= 0"]


@case("sweep")
def sweep_missing_ahp_file(e):
    p = e.sweep_file({"scenarios": {"expert": {"weights": {"ahp": "pairs.csv"}}}})
    return e.sweep(p), [f"{p}, scenario 'expert', key weights: ahp: pairwise comparison file not found"]


@case("sweep")
def sweep_parameter_not_scalar(e):
    p = e.sweep_file({"notebooks": [10], "parameters": {"n_draws": [1, 2]}})
    return e.sweep(p), [f"{p}, key parameters.n_draws: a notebook parameter must be a number, text or true/false"]


@case("sweep")
def sweep_unknown_parameter(e):
    p = e.sweep_file({"notebooks": [10], "scenarios": {"deep": {"parameters": {"n_drawz": 10}}}})
    return e.sweep(p), [f"{p}, scenario 'deep': no notebook of the sweep has the parameter 'n_drawz'"]


@case("sweep")
def sweep_parameters_as_grid_axis(e):
    p = e.sweep_file({"notebooks": [10], "grid": {"parameters": [1, 2]}})
    return e.sweep(p), [f"{p}, key grid.parameters: notebook parameters cannot be a grid axis"]


@case("sweep")
def sweep_title_not_text(e):
    p = e.sweep_file({"title": ["a", "b"]})
    return e.sweep(p), [f"{p}, key title: expected text"]


@case("sweep")
def sweep_data_missing(e):
    p = e.sweep_file({"data": "../../data/raw/tiyn"})
    return e.sweep(p), [f"{e.raw / 'tiyn'}: data directory not found"]


@case("sweep")
def sweep_file_missing(e):
    p = e.params / "sweeps" / "nope.yaml"
    return e.sweep(p), [f"{p}: file not found"]


@case("sweep")
def sweep_malformed_ahp_matrix(e):
    (e.params / "sweeps" / "pairs.csv").parent.mkdir(parents=True, exist_ok=True)
    (e.params / "sweeps" / "pairs.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    p = e.sweep_file({"scenarios": {"expert": {"weights": {"ahp": "pairs.csv"}}}})
    return e.sweep(p), [
        f"{p}, scenario 'expert', key weights: {e.params / 'sweeps' / 'pairs.csv'}, row 1, column b: unknown indicator"
    ]


@case("sweep")
def sweep_scenario_not_a_mapping(e):
    p = e.sweep_file({"scenarios": {"y": [1, 2]}})
    return e.sweep(p), [f"{p}, scenario 'y': expected a mapping of overrides"]


@case("sweep")
def sweep_unknown_band(e):
    p = e.sweep_file({"scenarios": {"b": {"bands.F.lower": 10}}})
    return e.sweep(p), [f"{p}, scenario 'b', key bands.F.lower: unknown grade 'F'"]


@case("sweep")
def sweep_all_components_zero(e):
    p = e.sweep_file({"scenarios": {"z": {"components.onsite": 0, "components.routine": 0}}})
    return e.sweep(p), [f"{p}, scenario 'z', key components.onsite, components.routine: the scheme it gives is invalid"]


@case("sweep")
def sweep_data_with_a_bad_table(e):
    set_cell(e.f("raters.csv"), 4, "group", "aliens")
    p = e.sweep_file({})
    return e.sweep(p), [f"{e.f('raters.csv')}, row 4, column group: unknown evaluator group 'aliens'"]


@case("sweep")
def sweep_grid_value_not_a_number(e):
    p = e.sweep_file({"grid": {"components.onsite": [0.5, True]}})
    return e.sweep(p), [f"{p}, scenario 'components.onsite=true', key components.onsite: expected a number, got True"]


@case("sweep")
def sweep_a_million_scenarios(e):
    # a step typed one zero too many times: a million scenarios are built and scored, for minutes, instead of refused
    p = e.sweep_file({"grid": {"components.onsite": {"from": 0.0, "to": 1.0, "step": 0.000001}}})
    return e.sweep(p), [str(p), "grid"]


@case("sweep")
def sweep_two_scenarios_of_one_name(e):
    # a scenario copied and edited, its name left the same: YAML keeps the last silently, the first is lost
    body = "onsite_70: {components.onsite: 0.7, components.routine: 0.3}\n"
    p = e.sweep_file(
        "base: ../scheme.yaml\ndata: ../../data/raw/tiny\nnotebooks: []\nscenarios:\n"
        f"  {body}  {body.replace('0.7', '0.8').replace('0.3', '0.2')}"
    )
    return e.sweep(p), [str(p), "onsite_70"]


# -- memo: the run directory it reads ----------------------------------------------


@case("memo")
def memo_missing_directory(e):
    d = e.out / "run"
    return ["memo", str(d), "--lang", "en"], [f"{d}: no such directory"]


@case("memo")
def memo_undecodable_scores(e):
    d = e.out / "run"
    (d / "tables").mkdir(parents=True)
    (d / "tables" / "scores.csv").write_bytes(b"\xff\xfe\x00\x01 not a table")
    return ["memo", str(d), "--lang", "en"], [f"{d / 'tables' / 'scores.csv'}: cannot be read as a table"]


@case("memo")
def memo_foreign_scores(e):
    d = e.out / "run"
    (d / "tables").mkdir(parents=True)
    (d / "tables" / "scores.csv").write_text("unit,final\nD01,abc\n", encoding="utf-8")
    return ["memo", str(d), "--lang", "en"], [f"{d / 'tables' / 'scores.csv'}: no column kind"]


@case("memo")
def memo_provenance_not_json(e):
    d = e.out / "run"
    (d / "tables").mkdir(parents=True)
    (d / "tables" / "scores.csv").write_text(
        "unit,kind,name_zh,name_en,presented,grade,rank,final\nD01,district,东城区,Dongcheng,true,A,1,90\n",
        encoding="utf-8",
    )
    (d / "provenance.json").write_text("{not json", encoding="utf-8")
    return ["memo", str(d), "--lang", "en"], [f"{d / 'provenance.json'}: not valid JSON"]


# -- run parameters: refused before any kernel starts ----------------------------


@case("run")
def run_unknown_parameter(e):
    return e.run("--param", "n_drawz=100", "--only", "10"), ["--param", "n_drawz"]


@case("run")
def run_reserved_parameter(e):
    # `output` is set by the run itself: as --param it would send the notebooks' tables elsewhere
    return e.run("--param", f"output={e.root / 'elsewhere'}", "--only", "10"), ["--param", "output"]


@case("run")
def run_jobs_zero(e):
    return e.run("--jobs", "0"), ["--jobs must be at least 1, got 0"]


@case("run")
def run_jobs_not_a_number(e):
    return e.run("--jobs", "two"), ["--jobs", "'two'"]


@case("run")
def run_missing_notebooks_folder(e):
    nb = e.root / "notebookz"
    return e.run("--notebooks", str(nb)), [f"{nb}: no notebooks"]


@case("run")
def run_no_notebook_matches(e):
    return e.run("--only", "77"), ["no notebook matches 77"]


@case("run")
def run_param_not_name_value(e):
    return e.run("--param", "n draws=5"), ["--param", "'n draws=5' is not NAME=VALUE"]


@case("run")
def run_param_without_value(e):
    return e.run("--param", "n_draws"), ["--param", "'n_draws' is not NAME=VALUE"]


@case("run")
def run_param_of_the_wrong_type(e):
    return e.run("--param", "n_draws=abc"), ["--param", "'n_draws'", "'abc'", "expects int"]


@case("run")
def run_param_below_its_range(e):
    return e.run("--param", "n_draws=0"), ["--param", "'n_draws'", "at least 1"]


@case("run")
def run_param_outside_its_interval(e):
    return e.run("--param", "spread=2"), ["--param", "'spread'", "(0, 1)"]


@case("run")
def run_param_not_one_of_its_choices(e):
    return e.run("--param", "method=gaussian"), ["--param", "'method'", "'gaussian'", "uniform, dirichlet"]


@case("run")
def run_param_huge_value(e):
    return e.run("--param", "method=" + "m" * 100_000), ["--param", "'method'", "(100000 characters)"]


@case("run")
def sweep_jobs_zero(e):
    return e.sweep(e.sweep_file({}), "--jobs", "0"), ["--jobs must be at least 1, got 0"]


@case("run")
def sweep_seed_not_a_number(e):
    return e.sweep(e.sweep_file({}), "--seed", "2016.5"), ["--seed", "'2016.5' is not a whole number"]


@case("run")
def run_negative_seed(e):
    return e.run("--seed", "-3"), ["--seed", "-3 is negative"]


# -- output paths --------------------------------------------------------------


@case("output")
def score_out_in_raw_tree(e):
    target = e.raw / "other" / "s.csv"  # beside the data set, still inside data/raw/
    return ["score", str(e.data), "--scheme", str(e.scheme), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def run_out_in_raw_tree(e):
    target = e.raw / "report"
    return ["run", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target), "--only", "10"], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def validate_processed_in_raw_tree(e):
    target = e.raw / "processed"
    return ["validate", str(e.data), "--scheme", str(e.scheme), "--processed", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def sweep_out_in_raw_tree(e):
    p = e.sweep_file({})
    target = e.raw / "sweep"
    return ["sweep", str(p), "--out", str(target), "--quiet", "--no-figures"], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def sheets_make_in_raw_tree(e):
    target = e.raw / "sheets.xlsx"
    return ["sheets", "make", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def sheets_read_out_beside_the_workbooks(e):
    # the filled workbooks are raw data under data/raw/sheets/: the import must not write beside them
    p = _book(e)
    target = e.raw / "sheets" / "imported"
    return ["sheets", "read", str(p), "--scheme", str(e.scheme), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def sheets_make_out_not_xlsx(e):
    target = e.out / "sheets.csv"
    return ["sheets", "make", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target)], [
        f"{target}: the output must be an .xlsx file"
    ]


@case("output")
def sheets_make_rater_id_with_a_slash(e):
    # an evaluator id becomes a file name: 'R1/a' cannot be one
    target = e.out / "sheets"
    argv = ["sheets", "make", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target)]
    return argv + ["--per-rater", "--raters", "R1", "R1/a"], ["R1/a"]


@case("output")
def score_out_is_the_ratings_file(e):
    target = e.f("ratings.csv")
    return ["score", str(e.data), "--scheme", str(e.scheme), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def score_out_through_a_symlink_into_raw(e):
    (e.root / "link").symlink_to(e.data, target_is_directory=True)
    target = e.root / "link" / "s.csv"
    return ["score", str(e.data), "--scheme", str(e.scheme), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def data_through_a_symlink_out_in_raw(e):
    (e.root / "mydata").symlink_to(e.data, target_is_directory=True)
    target = e.raw / "s.csv"
    return ["score", str(e.root / "mydata"), "--scheme", str(e.scheme), "--out", str(target)], [
        f"{target}: refusing to write inside the raw-data tree {e.raw}"
    ]


@case("output")
def simulate_over_the_raw_data(e):
    return ["simulate", "--out", str(e.data)], [f"{e.data}: output directory is not empty (use --force to overwrite)"]


@case("output")
def sweep_out_is_a_file(e):
    p = e.sweep_file({})
    e.out.mkdir()
    target = e.out / "sweep"
    target.write_text("a file where the sweep's folder should be")
    return ["sweep", str(p), "--out", str(target), "--quiet", "--no-figures"], [str(target)]


@case("output")
def memo_into_the_raw_data(e):
    return ["memo", str(e.data), "--lang", "en"], [str(e.data)]


@case("output")
def run_out_is_a_file(e):
    e.out.mkdir()
    target = e.out / "report.html"
    target.write_text("an earlier report, not a directory")
    return ["run", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target), "--only", "10"], [
        str(target)
    ]


@case("output")
def validate_processed_is_a_file(e):
    e.out.mkdir()
    target = e.out / "processed"
    target.write_text("a file where the processed folder should be")
    return ["validate", str(e.data), "--scheme", str(e.scheme), "--processed", str(target)], [str(target)]


@case("output")
def sheets_make_out_is_a_directory(e):
    e.out.mkdir()
    target = e.out / "sheets.xlsx"
    target.mkdir()
    return ["sheets", "make", "--scheme", str(e.scheme), "--data", str(e.data), "--out", str(target)], [str(target)]


@case("output")
def validate_unwritable_output(e):
    target = Path("/proc/perflab-nope/processed")  # not writable, even by root
    return ["validate", str(e.data), "--scheme", str(e.scheme), "--processed", str(target)], ["/proc/perflab-nope"]


@case("output")
def sweep_unwritable_output(e):
    p = e.sweep_file({})
    target = Path("/sys/perflab-nope")
    return ["sweep", str(p), "--out", str(target), "--quiet", "--no-figures"], [str(target)]


# ---------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path, filled_book) -> Env:
    raw = tmp_path / "data" / "raw"
    params = tmp_path / "params"
    params.mkdir()
    shutil.copy(SCHEME_FILE, params / "scheme.yaml")
    data = write_tables(tiny_tables(), raw / "tiny")
    return Env(tmp_path, raw, data, params, params / "scheme.yaml", tmp_path / "out", filled_book)


@pytest.fixture(autouse=True)
def no_kernels(monkeypatch):
    """Every case fails before a notebook runs: the functions that would start a kernel fail the test."""
    import papermill

    import perflab.report
    import perflab.sweep.run

    def kernel(*args, **kwargs):
        raise AssertionError("a notebook kernel would start: the input was not refused before the run")

    monkeypatch.setattr(papermill, "execute_notebook", kernel)  # every notebook of a run, a sweep or a memo
    for module, name in ((perflab.report, "_run_books"), (perflab.report, "execute"), (perflab.sweep.run, "_execute")):
        monkeypatch.setattr(module, name, kernel, raising=False)  # and before: the pools that would start them


CASE_SECONDS = 6  # a case refuses its input in well under a second; one that runs on is stopped and fails


class Hung(BaseException):  # not an Exception: no `except Exception` in perflab can swallow it
    pass


def run_main(argv: list[str]) -> int:
    """``perflab.cli.main(argv)``: its exit status (argparse's included), stopped after CASE_SECONDS."""

    def stop(signum, frame):
        raise Hung(f"perflab {' '.join(argv[:1])} did not finish within {CASE_SECONDS} s: the input was not refused")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's errors
        return exc.code
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_one_line(code, out: str, err: str, expected: list[str]):
    assert code == 2, f"exit status {code}, not 2\nstderr: {err}"
    assert "Traceback" not in out and "Traceback" not in err, err
    assert err.startswith("perflab: error: "), err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line:\n{err}"
    for s in expected:
        assert s in err, f"{s!r} not in the message: {err}"


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2_and_raw_files_untouched(name, env, capsys):
    _, build = CASES[name]
    argv, expected = build(env)
    inputs = tree_hashes(env.raw, env.params)
    outputs = tree_hashes(env.out)
    code = run_main(argv)
    out, err = capsys.readouterr()
    check_one_line(code, out, err, expected)
    assert tree_hashes(env.raw, env.params) == inputs, "an input file was changed, added or removed"
    if name not in WRITES_OUTPUT:
        assert tree_hashes(env.out) == outputs, "something was written to the output of a refused command"


def test_the_unspoiled_project_passes(env, capsys):
    """The control: before a case spoils it, the project scores, its filled workbook imports, its sweep file loads."""
    from perflab.sweep import load_sweep

    assert run_main(env.score()) == 0
    assert run_main(_read(env, _book(env))) == 0
    assert [s.name for s in load_sweep(env.sweep_file({"grid": {"components.onsite": [0.5]}})).scenarios] == [
        "base",
        "components.onsite=0.5",
    ]
    assert "perflab: error" not in capsys.readouterr().err


def test_the_corpus_spans_every_kind_of_input():
    counts = pd.Series([c for c, _ in CASES.values()]).value_counts()
    assert len(CASES) >= 45
    assert set(counts.index) == {"tables", "scheme", "sheets", "sweep", "run", "memo", "output"}


def test_the_installed_command_says_the_same_as_main(env, capsys):
    """One case through the installed `perflab` executable: same exit status, same one line, raw files untouched."""
    argv, expected = CASES["tables-ratings_truncated_gzip"][1](env)
    inputs = tree_hashes(env.raw, env.params)
    exe = Path(sys.executable).parent / "perflab"
    proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, cwd=ROOT)
    check_one_line(proc.returncode, proc.stdout, proc.stderr, expected)
    assert tree_hashes(env.raw, env.params) == inputs
    code = run_main(argv)
    assert (code, capsys.readouterr().err) == (proc.returncode, proc.stderr)
