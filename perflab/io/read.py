"""Reading raw table files as text: CSV, gzipped CSV or XLSX in UTF-8, UTF-8 with BOM or GB18030."""

from __future__ import annotations

import csv
import gzip
import io as _io
import re
import warnings
from pathlib import Path

import pandas as pd

from perflab.errors import DataError
from perflab.io.tables import ENCODINGS, SUFFIXES


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
