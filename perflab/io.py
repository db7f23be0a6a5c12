"""Load, validate and record the data tables of an evaluation.

Raw tables (CSV, gzipped CSV or XLSX; UTF-8, UTF-8 with BOM or GB18030) are read
as text, checked column by column against the data model of DESIGN.md, and
returned typed in a frozen :class:`Dataset`. Each table keeps the line numbers
of its source file as its index (``row``; the header is row 1), so later steps
can still name the file, row and column of a bad value. Raw files are only
ever read.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io as _io
import json
import platform
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from perflab import __version__
from perflab.errors import DataError
from perflab.scheme import KINDS, Scheme

TABLES = ("units", "raters", "ratings", "history", "survey", "verification", "assessments")
REQUIRED_TABLES = ("units", "raters", "ratings")
SUFFIXES = (".csv", ".csv.gz", ".xlsx")
ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8
SIMULATED_MARKER = "SIMULATED.json"  # written by `perflab simulate` beside the tables it makes
_TRUE = {"true", "t", "yes", "y", "1", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "否", "假"}


@dataclass(frozen=True)
class Column:
    """One column of the data model: its type, whether it must be present and whether it may be blank."""

    name: str
    kind: str  # id | text | float | int | bool
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None


SPEC: dict[str, tuple[Column, ...]] = {
    "units": (
        Column("unit", "id"),
        Column("kind", "id"),
        Column("zone", "id"),
        Column("name_zh", "text"),
        Column("name_en", "text"),
        Column("presented", "bool", required=False, nullable=True),
    ),
    "raters": (
        Column("rater", "id"),
        Column("group", "id"),
        Column("home_unit", "id", nullable=True),
    ),
    "ratings": (
        Column("rater", "id"),
        Column("unit", "id"),
        Column("indicator", "id"),
        Column("score", "float", nullable=True, minimum=0, maximum=100),
        Column("grade", "id", required=False, nullable=True),
        Column("session", "int", nullable=True, minimum=1),
        Column("order", "int", nullable=True, minimum=1),
    ),
    "history": (
        Column("unit", "id"),
        Column("measure", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("value", "float"),
        Column("target", "float", nullable=True),
    ),
    "survey": (
        Column("unit", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("satisfaction", "float", minimum=0, maximum=100),
        Column("respondents", "int", nullable=True, minimum=0),
    ),
    "verification": (
        Column("unit", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("claim", "text"),
        Column("verified", "bool"),
    ),
    "assessments": (  # the special-evaluation departments' evidence for each unit and indicator
        Column("unit", "id"),
        Column("indicator", "id"),
        Column("department", "text"),
        Column("summary", "text", nullable=True),
        Column("opinion", "text", nullable=True),
        Column("band", "id", nullable=True),
    ),
}

KEYS = {
    "units": ("unit",),
    "raters": ("rater",),
    "ratings": ("rater", "unit", "indicator"),
    "history": ("unit", "measure", "year"),
    "survey": ("unit", "year"),
    "verification": ("unit", "year", "claim"),
    "assessments": ("unit", "indicator", "department"),
}


@dataclass(frozen=True)
class Dataset:
    """The validated tables of one evaluation; optional tables are None when absent."""

    units: pd.DataFrame
    raters: pd.DataFrame
    ratings: pd.DataFrame
    indicators: pd.DataFrame
    history: pd.DataFrame | None = None
    survey: pd.DataFrame | None = None
    verification: pd.DataFrame | None = None
    assessments: pd.DataFrame | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    root: Path | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables by name, including `indicators` (from the scheme)."""
        out = {n: getattr(self, n) for n in TABLES if getattr(self, n) is not None}
        out["indicators"] = self.indicators
        return out

    def file(self, table: str) -> str:
        """The file a table came from (for error messages)."""
        return str(self.files.get(table, f"{table} table"))


# ---------------------------------------------------------------------------
# reading raw files
# ---------------------------------------------------------------------------


def find_table_file(root: Path, table: str) -> Path | None:
    """The one file holding a table in a data directory, or None; two candidates is an error."""
    found = [root / f"{table}{s}" for s in SUFFIXES if (root / f"{table}{s}").is_file()]
    if len(found) > 1:
        raise DataError(f"two files hold table {table!r}: {', '.join(p.name for p in found)}; keep one", file=root)
    return found[0] if found else None


def _decode(raw: bytes, path: Path) -> str:
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    row = raw[:start].count(b"\n") + 1
    line_start = raw.rfind(b"\n", 0, start) + 1
    column = None
    header = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff").strip().split(",")
    idx = raw[line_start:start].count(b",")
    if row > 1 and idx < len(header):
        column = header[idx]
    raise DataError(
        f"undecodable bytes (byte {start}, {raw[start : start + 4]!r}): the file is neither UTF-8, UTF-8 with BOM nor GB18030",
        file=path,
        row=row,
        column=column,
    )


def read_raw_table(path: str | Path) -> pd.DataFrame:
    """Read one raw table as text (blank cells as ""), index = row number in the file (header = 1)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    if path.name.endswith(".xlsx"):
        try:
            df = pd.read_excel(path, dtype=str, sheet_name=0, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise DataError(f"cannot read the workbook: {exc}", file=path) from None
        if df.shape[1] == 0:
            raise DataError("the file is empty", file=path)
        df = df.fillna("").astype(str)
        df = df.apply(lambda s: s.str.replace(r"\.0$", "", regex=True) if s.str.fullmatch(r"-?\d+\.0").any() else s)
        df.index = pd.RangeIndex(2, 2 + len(df), name="row")  # the Excel row number
    else:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise DataError(f"not a valid gzip file ({exc})", file=path) from None
        text = _decode(raw, path)
        if not text.strip():
            raise DataError("the file is empty", file=path)
        try:
            # keep blank lines while parsing so the index stays the file's line number; drop them after
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(
                    _io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, index_col=False
                )
        except pd.errors.EmptyDataError:
            raise DataError(
                "the first row holds no column names: the header must be on row 1", file=path, row=1
            ) from None
        except pd.errors.ParserWarning:  # a row longer than the header
            row, n, saw = _ragged_row(text)
            raise DataError(f"not a valid CSV row: expected {n} fields, saw {saw}", file=path, row=row) from None
        except pd.errors.ParserError as exc:
            m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if m:
                raise DataError(
                    f"not a valid CSV row: expected {m[1]} fields, saw {m[3]}", file=path, row=int(m[2])
                ) from None
            raise DataError(f"not a valid CSV file: {' '.join(str(exc).split())}", file=path) from None
        df.index = _record_lines(text, len(df))
    _check_header(df.columns, path)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df = df.fillna("").apply(lambda s: s.str.strip())
    return df[(df != "").any(axis=1)] if len(df.columns) else df


def _record_lines(text: str, n_records: int) -> pd.Index:
    """The line on which each CSV record starts: 2, 3, ... unless a quoted field spans several lines."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == n_records + 1:  # one line per record: the fast, usual case
        return pd.RangeIndex(2, 2 + n_records, name="row")
    starts, reader = [], csv.reader(_io.StringIO(text))
    end = 0
    for _ in reader:
        starts.append(end + 1)
        end = reader.line_num
    starts = starts[1 : n_records + 1]  # drop the header record
    if len(starts) != n_records:  # the two parsers disagree: number the records rather than fail
        return pd.RangeIndex(2, 2 + n_records, name="row")
    return pd.Index(starts, name="row")


def _ragged_row(text: str) -> tuple[int, int, int]:
    """The first record whose number of fields differs from the header's: (line, expected, seen)."""
    reader = csv.reader(_io.StringIO(text))
    header = next(reader)
    start = reader.line_num + 1
    for rec in reader:
        if rec and len(rec) != len(header):
            return start, len(header), len(rec)
        start = reader.line_num + 1
    return 1, len(header), len(header)


def _check_header(columns, path) -> None:
    """pandas renames a repeated header `x` to `x.1`: report the repeat instead."""
    names = [str(c) for c in columns]
    for c in names:
        m = re.fullmatch(r"(.+)\.(\d+)", c)
        if m and m[1] in names:
            raise DataError("duplicated column", file=path, row=1, column=m[1])


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _first(mask: pd.Series) -> int:
    return int(mask.index[np.argmax(mask.to_numpy())])


def _typed_column(df: pd.DataFrame, col: Column, file) -> pd.Series:
    s = df[col.name].astype(str)
    blank = s == ""
    if not col.nullable and blank.any():
        raise DataError("empty value", file=file, row=_first(blank), column=col.name)
    if col.kind in ("id", "text"):
        return s.where(~blank, None).astype("string") if col.nullable else s.astype("string")
    if col.kind == "bool":
        low = s.str.lower()
        bad = ~blank & ~low.isin(_TRUE | _FALSE)
        if bad.any():
            r = _first(bad)
            raise DataError(f"{s[r]!r} is not true or false", file=file, row=r, column=col.name)
        return low.map(lambda v: True if v in _TRUE else (False if v in _FALSE else pd.NA)).astype("boolean")
    num = pd.to_numeric(s.where(~blank), errors="coerce")
    bad = ~blank & (num.isna() | ~np.isfinite(num.fillna(0)))
    if bad.any():
        r = _first(bad)
        raise DataError(f"{s[r]!r} is not a number", file=file, row=r, column=col.name)
    if col.kind == "int":
        frac = ~blank & (num != num.round())
        if frac.any():
            r = _first(frac)
            raise DataError(f"{s[r]!r} is not a whole number", file=file, row=r, column=col.name)
    for bound, op, word in ((col.minimum, np.less, "below"), (col.maximum, np.greater, "above")):
        if bound is not None:
            out = ~blank & op(num.fillna(bound), bound)
            if out.any():
                r = _first(out)
                lo = "" if col.minimum is None else f"{col.minimum:g}"
                hi = "" if col.maximum is None else f"{col.maximum:g}"
                rng = f"{lo}–{hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")
                raise DataError(f"{s[r]} is {word} the allowed range {rng}", file=file, row=r, column=col.name)
    return num.astype("Int64") if col.kind == "int" else num.astype(float)


def validate_table(name: str, raw: pd.DataFrame, file=None) -> pd.DataFrame:
    """Type-check one raw text table against the data model; returns the typed table (extra columns kept as text)."""
    file = file or f"{name} table"
    if len(raw) == 0:
        raise DataError("the file has a header but no data rows", file=file, row=2)
    cols = {c.name: c for c in SPEC[name]}
    if all(str(c).startswith("Unnamed:") or not str(c) for c in raw.columns):
        raise DataError("the first row holds no column names: the header must be on row 1", file=file, row=1)
    for c in SPEC[name]:
        if c.required and c.name not in raw.columns:
            raise DataError(
                f"missing column {c.name!r} (found: {', '.join(map(str, raw.columns))})",
                file=file,
                row=1,
                column=c.name,
            )
    dup = pd.Index(raw.columns).duplicated()
    if dup.any():
        raise DataError("duplicated column", file=file, row=1, column=str(raw.columns[int(np.argmax(dup))]))
    out = {}
    for c in SPEC[name]:
        if c.name in raw.columns:
            out[c.name] = _typed_column(raw, c, file)
        else:
            out[c.name] = pd.Series(pd.NA, index=raw.index, dtype=_empty_dtype(c.kind))
    for extra in raw.columns:
        if extra not in cols:
            out[extra] = raw[extra].astype("string")
    df = pd.DataFrame(out, index=raw.index)
    key = list(KEYS[name])
    dup = df.duplicated(key, keep="first")
    if dup.any():
        r = _first(dup)
        first = df.index[(df[key] == df.loc[r, key]).all(axis=1)][0]
        what = " × ".join(f"{k} {df.loc[r, k]}" for k in key)
        raise DataError(f"duplicated row for {what} (first at row {first})", file=file, row=r, column=key[-1])
    return df


def _empty_dtype(kind: str) -> str:
    return {"id": "string", "text": "string", "bool": "boolean", "int": "Int64", "float": "float64"}[kind]


def _check_in(df, column, allowed, file, what, allowed_text=None):
    s = df[column]
    bad = s.notna() & ~s.isin(list(allowed))
    if bad.any():
        r = _first(bad)
        known = allowed_text or ", ".join(sorted(map(str, allowed))[:12]) + ("…" if len(allowed) > 12 else "")
        raise DataError(f"unknown {what} {s[r]!r} (known: {known})", file=file, row=r, column=column)


def _check_units(units: pd.DataFrame, scheme: Scheme, file) -> None:
    _check_in(units, "kind", KINDS, file, "kind")
    if scheme.zones:
        for kind in KINDS:
            ids = [z.id for z in scheme.zones if z.kind == kind]
            _check_in(units[units["kind"] == kind], "zone", ids, file, f"zone for a {kind}")


def _check_history(h: pd.DataFrame, units: pd.DataFrame, scheme: Scheme, file) -> None:
    """Units known, measures declared in the scheme (with their direction) and meant for the unit's kind."""
    _check_in(h, "unit", set(units["unit"]), file, "unit")
    hint = None if scheme.measures else "none: the scheme declares no measures; add them with their direction"
    _check_in(h, "measure", [m.id for m in scheme.measures], file, "measure", allowed_text=hint)
    hk = h["unit"].map(units.set_index("unit")["kind"])
    mk = h["measure"].map({m.id: m.kind for m in scheme.measures})
    bad = (mk != "all") & (mk != hk)
    if bad.any():
        row = _first(bad)
        raise DataError(
            f"measure {h.loc[row, 'measure']!r} is for {mk[row]}s but unit {h.loc[row, 'unit']} is a {hk[row]}",
            file=file,
            row=row,
            column="measure",
        )


def _check_assessments(a: pd.DataFrame, units: pd.DataFrame, scheme: Scheme, file) -> None:
    _check_in(a, "unit", set(units["unit"]), file, "unit")
    _check_in(a, "indicator", scheme.indicator_ids, file, "indicator")
    _check_in(a, "band", scheme.grades, file, "band", allowed_text=", ".join(scheme.grades))


def _cross_check(t: dict[str, pd.DataFrame], scheme: Scheme, files: Mapping[str, str]) -> None:
    units = t["units"]
    f = files["units"]
    _check_units(units, scheme, f)
    unit_ids = set(units["unit"])
    _check_in(t["raters"], "group", scheme.group_ids, files["raters"], "evaluator group")
    _check_in(t["raters"], "home_unit", unit_ids, files["raters"], "home unit")
    r = t["ratings"]
    fr = files["ratings"]
    _check_in(r, "rater", set(t["raters"]["rater"]), fr, "rater")
    _check_in(r, "unit", unit_ids, fr, "unit")
    _check_in(r, "indicator", scheme.indicator_ids, fr, "indicator")
    _check_in(r, "grade", scheme.grades, fr, "grade", allowed_text=", ".join(scheme.grades))
    both_blank = r["score"].isna() & r["grade"].isna()
    if both_blank.any():
        raise DataError("empty score and grade: give at least one", file=fr, row=_first(both_blank), column="score")
    derived = pd.Series(scheme.grade_of(r["score"].to_numpy()), index=r.index, dtype="string")
    clash = r["grade"].notna() & r["score"].notna() & (derived != r["grade"]).fillna(False)
    if clash.any():
        row = _first(clash)
        b = scheme.band(derived[row])
        raise DataError(
            f"grade {r.loc[row, 'grade']} does not match score {r.loc[row, 'score']:g} (band {b.grade}: {b.lower:g}–{b.upper:g})",
            file=fr,
            row=row,
            column="grade",
        )
    _check_presentations(units, r, f, fr)
    for name in ("survey", "verification"):
        if name in t:
            _check_in(t[name], "unit", unit_ids, files[name], "unit")
    if "assessments" in t:
        _check_assessments(t["assessments"], units, scheme, files["assessments"])
    if "history" in t:
        _check_history(t["history"], units, scheme, files["history"])


def _check_presentations(units: pd.DataFrame, ratings: pd.DataFrame, fu, fr) -> None:
    """`presented` agrees with the ratings; each unit presents once (one session, one order), one unit per slot."""
    has = units["unit"].isin(ratings["unit"].unique())  # unique() first: a set() of 60,000 strings walks them in Python
    said = units["presented"]
    bad = (said == True) & ~has  # noqa: E712 (nullable boolean)
    if bad.any():
        row = _first(bad.fillna(False))
        raise DataError(
            f"unit {units.loc[row, 'unit']} is marked presented but has no ratings",
            file=fu,
            row=row,
            column="presented",
        )
    silent = units.loc[(said == False).fillna(False), ["unit"]]  # noqa: E712
    clash = ratings["unit"].isin(set(silent["unit"]))
    if clash.any():
        row = _first(clash)
        unit = ratings.loc[row, "unit"]
        urow = int(silent.index[silent["unit"] == unit][0])
        raise DataError(
            f"unit {unit} has ratings but is marked presented = false ({Path(str(fu)).name} row {urow})",
            file=fr,
            row=row,
            column="unit",
        )
    for col in ("session", "order"):
        known = ratings[ratings[col].notna()]
        first = known.groupby("unit", observed=True)[col].transform("first")
        differs = known[col] != first
        if differs.any():
            row = _first(differs)
            raise DataError(
                f"unit {known.loc[row, 'unit']} has {col} {known.loc[row, col]} here but {first[row]} in earlier rows "
                "(a unit presents once)",
                file=fr,
                row=row,
                column=col,
            )
    slots = ratings.dropna(subset=["session", "order"]).drop_duplicates("unit")
    dup = slots.duplicated(["session", "order"])
    if dup.any():
        row = _first(dup)
        s, o = slots.loc[row, "session"], slots.loc[row, "order"]
        other = slots[(slots["session"] == s) & (slots["order"] == o)]["unit"].iloc[0]
        raise DataError(
            f"units {other} and {slots.loc[row, 'unit']} both present at session {s}, order {o}",
            file=fr,
            row=row,
            column="order",
        )


def _finish(t: dict[str, pd.DataFrame], scheme: Scheme) -> dict[str, pd.DataFrame]:
    """Fill derived values: grades from scores, scores from grades alone, presented defaults to true."""
    r = t["ratings"].copy()
    no_score = r["score"].isna()
    if no_score.any():
        r.loc[no_score, "score"] = scheme.score_of(r.loc[no_score, "grade"].to_numpy())
    r["grade"] = pd.Series(scheme.grade_of(r["score"].to_numpy()), index=r.index, dtype="string")
    t["ratings"] = r
    u = t["units"].copy()
    u["presented"] = u["presented"].fillna(u["unit"].isin(r["unit"].unique())).astype(bool)  # blank: rated or not
    t["units"] = u
    return t


def _dataset(t, scheme, files, root) -> Dataset:
    return Dataset(
        units=t["units"],
        raters=t["raters"],
        ratings=t["ratings"],
        indicators=scheme.indicator_table(),
        history=t.get("history"),
        survey=t.get("survey"),
        verification=t.get("verification"),
        assessments=t.get("assessments"),
        files={k: Path(v) for k, v in files.items()},
        root=root,
    )


def load_dataset(path: str | Path, scheme: Scheme) -> Dataset:
    """Read and validate every table in a data directory; raises DataError naming file, row and column."""
    root = Path(path)
    if not root.is_dir():
        raise DataError("data directory not found", file=root)
    files: dict[str, str] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        p = find_table_file(root, name)
        if p is None:
            if name in REQUIRED_TABLES:
                raise DataError(
                    f"missing file: the data directory needs {name}.csv (or {name}.csv.gz, {name}.xlsx)",
                    file=root / f"{name}.csv",
                )
            continue
        files[name] = str(p)
        tables[name] = validate_table(name, read_raw_table(p), file=p)
    _check_needed(tables, scheme, root)
    _cross_check(tables, scheme, files)
    return _dataset(_finish(tables, scheme), scheme, files, root)


def _check_needed(tables, scheme: Scheme, root) -> None:
    """A component with positive weight needs its source table."""
    if scheme.components["routine"] > 0 and "history" not in tables:
        raise DataError(
            f"missing file: components.routine has weight {scheme.components['routine']:g} and needs history.csv",
            file=Path(root) / "history.csv",
        )
    needs_survey = scheme.components["satisfaction"] > 0 or (
        scheme.routine is not None and scheme.routine.satisfaction_share > 0 and scheme.components["routine"] > 0
    )
    if needs_survey and "survey" not in tables:
        raise DataError(
            "missing file: the scheme uses the satisfaction survey and needs survey.csv", file=Path(root) / "survey.csv"
        )


def dataset_from_tables(tables: Mapping[str, pd.DataFrame], scheme: Scheme) -> Dataset:
    """Validate in-memory tables through the same path as files (values are turned to text first)."""
    raw, files = {}, {}
    for name in TABLES:
        if name not in tables or tables[name] is None:
            if name in REQUIRED_TABLES:
                raise DataError(f"missing table {name!r}")
            continue
        df = tables[name].reset_index(drop=True)
        text = df.astype(object).where(df.notna(), "").astype(str)
        for c in df.columns:
            if pd.api.types.is_bool_dtype(df[c]) or str(df[c].dtype) == "boolean":
                text[c] = text[c].str.lower()
        text.index = pd.RangeIndex(2, 2 + len(text), name="row")
        files[name] = f"{name} table"
        raw[name] = validate_table(name, text, file=files[name])
    _check_needed(raw, scheme, ".")
    _cross_check(raw, scheme, files)
    return _dataset(_finish(raw, scheme), scheme, files, None)


def validate_panel(units: pd.DataFrame, history: pd.DataFrame, scheme: Scheme) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a unit × measure × year panel alone (no ratings) through the same checks as a data directory.

    For panels from elsewhere (a statistical yearbook, a public data set): the
    units table (unit, kind, zone, name_zh, name_en) and the history table.
    """
    typed = {}
    for name, df in (("units", units), ("history", history)):
        d = df.reset_index(drop=True)
        text = d.astype(object).where(d.notna(), "").astype(str)
        text.index = pd.RangeIndex(2, 2 + len(text), name="row")
        typed[name] = validate_table(name, text, file=f"{name} table")
    u, h = typed["units"], typed["history"]
    _check_units(u, scheme, "units table")
    _check_history(h, u, scheme, "history table")
    u = u.assign(presented=u["presented"].fillna(False).astype(bool))
    return u, h


# ---------------------------------------------------------------------------
# processed output and provenance
# ---------------------------------------------------------------------------


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_simulated(data_dir: str | Path | None) -> bool:
    """Whether a data directory holds ``perflab simulate`` output: its marker file (or, from older versions, the
    planted truth) sits beside the tables. A copy of the tables alone is a user's own data and carries no notice."""
    if data_dir is None:
        return False
    root = Path(data_dir)
    if root.is_file():
        root = root.parent
    return (root / SIMULATED_MARKER).is_file() or (root / "truth" / "planted.json").is_file()


def provenance(dataset: Dataset, scheme: Scheme, seed: int | None = None) -> dict:
    """What was done, so any figure can be regenerated: raw-file and scheme hashes, versions, seed."""
    return {
        "perflab_version": __version__,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "seed": seed,
        "scheme": {
            "name": scheme.name,
            "file": str(Path(scheme.source).resolve()) if scheme.source else None,
            "sha256": sha256_file(scheme.source) if scheme.source and Path(scheme.source).is_file() else None,
            "content_sha256": scheme.digest(),
        },
        "data": {
            "dir": str(dataset.root.resolve()) if dataset.root else None,
            "simulated": is_simulated(dataset.root),
            "files": {Path(p).name: sha256_file(p) for _, p in sorted(dataset.files.items()) if Path(p).is_file()},
        },
        "tables": {name: int(len(df)) for name, df in dataset.tables().items()},
    }


def default_processed_dir(data_dir: str | Path) -> Path:
    """Where validated tables go: ``…/data/processed/<name>`` beside ``…/data/raw/<name>``, else ``./data/processed/<name>``."""
    raw = Path(data_dir).resolve()
    for parent in raw.parents:
        if parent.name == "raw" and parent.parent.name == "data":
            return parent.parent / "processed" / raw.relative_to(parent)
    return Path("data") / "processed" / raw.name


def ensure_outside(raw_dir: str | Path, target: str | Path) -> None:
    """Raw data is never written: refuse a target inside the raw data directory."""
    raw, t = Path(raw_dir).resolve(), Path(target).resolve()
    if t == raw or raw in t.parents:
        raise DataError("refusing to write inside the raw data directory", file=target)


def write_processed(
    dataset: Dataset, scheme: Scheme, out_dir: str | Path, seed: int | None = None, progress: Callable | None = None
) -> Path:
    """Write every validated table as parquet plus provenance.json; refuses to write inside the raw directory."""
    out = Path(out_dir)
    if dataset.root is not None:
        ensure_outside(dataset.root, out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in dataset.tables().items():
        df.to_parquet(out / f"{name}.parquet")
    (out / "provenance.json").write_text(
        json.dumps(provenance(dataset, scheme, seed), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return out


def read_processed(directory: str | Path) -> Dataset:
    """Read back the typed tables that :func:`write_processed` wrote (no re-validation: they were validated)."""
    d = Path(directory)
    if not (d / "provenance.json").is_file():
        raise DataError("not a processed data directory (no provenance.json)", file=d)
    prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    tables = {
        n: pd.read_parquet(d / f"{n}.parquet") for n in TABLES + ("indicators",) if (d / f"{n}.parquet").is_file()
    }
    root = Path(prov["data"]["dir"]) if prov["data"]["dir"] else None
    files = {n: root / f for n in TABLES for f in prov["data"]["files"] if root and f.split(".")[0] == n}
    return Dataset(**tables, files=files, root=root)


def describe_dataset(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """Small summary tables: rows per table, units per kind × zone (and how many presented), raters per group."""
    tables = pd.DataFrame(
        {
            "rows": {name: len(df) for name, df in dataset.tables().items()},
            "file": {n: dataset.file(n) for n in dataset.tables()},
        }
    )
    u = dataset.units
    units = (
        u.groupby(["kind", "zone"], observed=True)
        .agg(units=("unit", "size"), presented=("presented", "sum"))
        .reset_index()
    )
    r = dataset.ratings
    per_rater = r.groupby("rater").agg(units_scored=("unit", "nunique"))
    raters = (
        dataset.raters.merge(per_rater, left_on="rater", right_index=True, how="left")
        .groupby("group", observed=True)
        .agg(raters=("rater", "size"), mean_units_scored=("units_scored", "mean"))
        .reset_index()
    )
    return {"tables": tables, "units": units, "raters": raters}
