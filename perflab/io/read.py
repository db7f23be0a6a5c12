"""Reading raw table files as text: CSV, gzipped CSV or XLSX in UTF-8, UTF-8 with BOM or GB18030."""

from __future__ import annotations

import csv
import gzip
import io as _io
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from perflab.errors import DataError, DataNote
from perflab.io.tables import ENCODINGS, SUFFIXES

GUESSED = "gb18030"  # the fallback when a file is not UTF-8: a guess, named in messages about values that do not match


class RawTable(NamedTuple):
    """A raw table read as text, and the encoding its bytes were decoded with (None for a workbook)."""

    frame: pd.DataFrame
    encoding: str | None


def find_table_file(root: Path, table: str) -> Path | None:
    """The one file holding a table in a data directory, or None; two candidates is an error."""
    found = [root / f"{table}{s}" for s in SUFFIXES if (root / f"{table}{s}").is_file()]
    if len(found) > 1:
        raise DataError(f"two files hold table {table!r}: {', '.join(p.name for p in found)}; keep one", file=root)
    return found[0] if found else None


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
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


def _rare_characters(text: str) -> str:
    """Characters outside GB2312's common set: text that decodes as GB18030 only as a mix of these is likely
    Latin-1 or Windows-1252 read wrongly (``Müller`` becomes ``M黮ler``)."""
    rare = []
    for ch in dict.fromkeys(c for c in text if ord(c) > 0x7F):
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            rare.append(ch)
    return "".join(rare)


def guessed_encoding_hint(encoding: str | None, file: str | Path | None = None) -> str:
    """The words added to a message about a value that does not match when a file's encoding was guessed.

    Parameters
    ----------
    encoding : str or None
        The encoding a table was decoded with (:attr:`RawTable.encoding`).
    file : str or Path, optional
        The file read so, when it is not the file the message is about (e.g. ``raters.csv`` for an unknown
        rater in ``ratings.csv``).

    Returns
    -------
    str
        ``""`` for UTF-8 and workbooks; otherwise a sentence naming the encoding used.

    Examples
    --------
    >>> guessed_encoding_hint("utf-8-sig")
    ''
    >>> guessed_encoding_hint("gb18030")[:45]
    ' (the file is not UTF-8 and was read as GB180'
    >>> guessed_encoding_hint("gb18030", "data/raw/x/raters.csv")[:30]
    ' (raters.csv is not UTF-8 and '
    """
    if encoding != GUESSED:
        return ""
    which = Path(file).name if file is not None else "the file"
    return (
        f" ({which} is not UTF-8 and was read as GB18030, a guess: if it was saved in another encoding, "
        "e.g. Latin-1 or Windows-1252, save it as UTF-8)"
    )


def _first_line_blank(text: str, path: Path) -> None:
    """A blank first line would make pandas read no columns at all: say so, and where the header is."""
    lines = text.lstrip("\ufeff").split("\n")
    if lines[0].strip():
        return
    header = next((i for i, line in enumerate(lines, 1) if line.strip()), None)
    raise DataError(
        f"the first row is blank: the column names must be on row 1 (the first non-blank row is row {header})",
        file=path,
        row=1,
    )


def read_raw_table(path: str | Path) -> pd.DataFrame:
    """Read one raw table as text (blank cells as ""), index = row number in the file (header = 1)."""
    return read_raw(path).frame


def read_raw(path: str | Path) -> RawTable:
    """Read one raw table as text, with the encoding used; see :func:`read_raw_table`.

    Text read as GB18030 that holds characters outside the common GB2312 set gives a :class:`DataNote`.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.csv.gz`` or ``.xlsx`` file.

    Returns
    -------
    RawTable
        The text table and the encoding (None for a workbook).

    Examples
    --------
    >>> raw = read_raw("data/raw/demo/units.csv")
    >>> raw.encoding, raw.frame.index[0], raw.frame.columns[:2].tolist()
    ('utf-8-sig', 2, ['unit', 'kind'])
    """
    path = Path(path)
    encoding = None
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
        text, encoding = _decode(raw, path)
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # old-Mac line ends, or a lone CR, are line ends
        if not text.strip():
            raise DataError("the file is empty", file=path)
        _first_line_blank(text, path)
        rare = _rare_characters(text) if encoding == GUESSED else ""
        if rare:
            warnings.warn(
                f"{path}: not UTF-8, read as GB18030; it holds rare characters ({rare[:10]}): "
                "if the file is Latin-1 or Windows-1252, save it as UTF-8",
                DataNote,
                stacklevel=2,
            )
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
            m = re.search(r"EOF inside string starting at row (\d+)", str(exc))
            if m:  # pandas counts records from 0 (the header): the file's line is one more
                raise DataError(
                    'a quoted field never ends: a " opens it and no " closes it', file=path, row=int(m[1]) + 1
                ) from None
            raise DataError(f"not a valid CSV file: {' '.join(str(exc).split())}", file=path) from None
        df.index = _record_lines(text, len(df))
    _check_header(df.columns, path)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df = df.fillna("").apply(lambda s: s.str.strip())
    return RawTable(df[(df != "").any(axis=1)] if len(df.columns) else df, encoding)


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
