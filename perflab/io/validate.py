"""Validating tables: typed columns, keys, and the checks across tables against the scheme; :func:`load_dataset`."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.errors import DataError, DataNote, quote
from perflab.io.columns import misspelt
from perflab.io.read import find_table_file, guessed_encoding_hint, read_raw
from perflab.io.tables import KEYS, REQUIRED_TABLES, SPEC, TABLES, Column, Dataset
from perflab.scheme import KINDS, Scheme

MAY_BE_EMPTY = ("adjustments",)  # a header alone says no unit got any bonus or deduction points
_TRUE = {"true", "t", "yes", "y", "1", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "否", "假"}


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
            raise DataError(f"{quote(s[r])} is not true or false", file=file, row=r, column=col.name)
        return low.map(lambda v: True if v in _TRUE else (False if v in _FALSE else pd.NA)).astype("boolean")
    num = pd.to_numeric(s.where(~blank), errors="coerce")
    bad = ~blank & (num.isna() | ~np.isfinite(num.fillna(0)))
    if bad.any():
        r = _first(bad)
        raise DataError(f"{quote(s[r])} is not a number", file=file, row=r, column=col.name)
    if col.kind == "int":
        frac = ~blank & (num != num.round())
        if frac.any():
            r = _first(frac)
            raise DataError(f"{quote(s[r])} is not a whole number", file=file, row=r, column=col.name)
    for bound, op, word in ((col.minimum, np.less, "below"), (col.maximum, np.greater, "above")):
        if bound is not None:
            out = ~blank & op(num.fillna(bound), bound)
            if out.any():
                r = _first(out)
                lo = "" if col.minimum is None else f"{col.minimum:g}"
                hi = "" if col.maximum is None else f"{col.maximum:g}"
                allowed = f"{lo}–{hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")
                raise DataError(
                    f"{s[r] if len(s[r]) <= 40 else quote(s[r])} is {word} the allowed range {allowed}",
                    file=file,
                    row=r,
                    column=col.name,
                )
    return num.astype("Int64") if col.kind == "int" else num.astype(float)


def validate_table(name: str, raw: pd.DataFrame, file=None) -> pd.DataFrame:
    """Type-check one raw text table against the data model; returns the typed table (extra columns kept as text)."""
    file = file or f"{name} table"
    if len(raw) == 0 and name not in MAY_BE_EMPTY:
        raise DataError("the file has a header but no data rows", file=file, row=2)
    cols = {c.name: c for c in SPEC[name]}
    if all(str(c).startswith("Unnamed:") or not str(c) for c in raw.columns):
        raise DataError("the first row holds no column names: the header must be on row 1", file=file, row=1)
    _check_column_names(name, raw.columns, file)
    dup = pd.Index(raw.columns).duplicated()
    if dup.any():
        raise DataError("duplicated column", file=file, row=1, column=str(raw.columns[int(np.argmax(dup))]))
    out = {}
    for c in SPEC[name]:
        if c.name in raw.columns:
            out[c.name] = _typed_column(raw, c, file)
        elif c.added:
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
        what = " × ".join(f"{k} {v if len(v := str(df.loc[r, k])) <= 40 else quote(v)}" for k in key)
        raise DataError(f"duplicated row for {what} (first at row {first})", file=file, row=r, column=key[-1])
    return df


def _check_column_names(name: str, columns, file) -> None:
    """Every required column present, and no extra column that is a slip for a known one (``grdae``)."""
    names = [str(c) for c in columns]
    absent = [c.name for c in SPEC[name] if c.name not in names]
    extras = [c for c in names if c not in {c.name for c in SPEC[name]}]
    for c in SPEC[name]:
        if c.required and c.name not in names:
            slip = next((e for e in extras if misspelt(e, [c.name])), None)
            hint = f"; is {quote(slip)} meant to be {c.name!r}?" if slip else ""
            found = ", ".join(quote(n)[1:-1] for n in names[:20]) + ("…" if len(names) > 20 else "")
            raise DataError(f"missing column {c.name!r} (found: {found}){hint}", file=file, row=1, column=c.name)
    for extra in extras:
        meant = misspelt(extra, absent)
        if meant:
            raise DataError(
                f"unknown column {quote(extra)}: did you mean {meant!r}? (perflab reads an optional column {meant!r}; "
                "rename the column, or name it further from that to keep it as an extra column)",
                file=file,
                row=1,
                column=extra,
            )


def extra_columns(name: str, columns) -> list[str]:
    """The columns of a table that the data model does not name (kept as text, not used).

    Parameters
    ----------
    name : str
        The table (``units``, ``ratings``…).
    columns : iterable of str
        Its column names.

    Returns
    -------
    list of str
        The extra names, in their order.

    Examples
    --------
    >>> extra_columns("raters", ["rater", "group", "home_unit", "comment"])
    ['comment']
    """
    known = {c.name for c in SPEC[name]}
    return [str(c) for c in columns if str(c) not in known]


def _empty_dtype(kind: str) -> str:
    return {"id": "string", "text": "string", "bool": "boolean", "int": "Int64", "float": "float64"}[kind]


def _check_in(df, column, allowed, file, what, allowed_text=None):
    s = df[column]
    bad = s.notna() & ~s.isin(list(allowed))
    if bad.any():
        r = _first(bad)
        known = allowed_text or ", ".join(sorted(map(str, allowed))[:12]) + ("…" if len(allowed) > 12 else "")
        raise DataError(f"unknown {what} {quote(s[r])} (known: {known})", file=file, row=r, column=column)


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
            f"measure {quote(h.loc[row, 'measure'])} is for {mk[row]}s but unit {h.loc[row, 'unit']} is a {hk[row]}",
            file=file,
            row=row,
            column="measure",
        )


def check_challenges(h: pd.DataFrame, directions: Mapping[str, str], file) -> None:
    """Challenge values (挑战值) ask for more than their target: a challenge needs a target, and lies beyond it
    (above it when higher is better, below it when lower is better); a DataError names the first that does not.

    Parameters
    ----------
    h : pandas.DataFrame
        A history table (unit, measure, year, value, target and, if any, challenge), indexed by file row.
    directions : mapping
        Measure id -> ``higher`` or ``lower``.
    file : str
        The file the message names.

    Returns
    -------
    None

    Examples
    --------
    >>> h = pd.DataFrame({"measure": ["x"], "target": [10.0], "challenge": [9.0]}, index=[2])
    >>> check_challenges(h, {"x": "higher"}, "history.csv")
    Traceback (most recent call last):
    ...
    perflab.errors.DataError: history.csv, row 2, column challenge: challenge 9 must lie above the target 10 (x: higher is better); leave it empty for a target without a challenge
    """
    if "challenge" not in h.columns:
        return
    c = h["challenge"].astype(float)
    orphan = c.notna() & h["target"].isna()
    if orphan.any():
        r = _first(orphan)
        raise DataError(
            f"challenge {c[r]:g} has no target: a challenge value goes beside a target", file, r, "challenge"
        )
    sign = h["measure"].map({m: 1.0 if d == "higher" else -1.0 for m, d in directions.items()}).astype(float)
    short = c.notna() & ((c - h["target"].astype(float)) * sign <= 0)
    if short.any():
        r = _first(short)
        word = "above" if directions[h.loc[r, "measure"]] == "higher" else "below"
        raise DataError(
            f"challenge {c[r]:g} must lie {word} the target {h.loc[r, 'target']:g} ({h.loc[r, 'measure']}: "
            f"{directions[h.loc[r, 'measure']]} is better); leave it empty for a target without a challenge",
            file,
            r,
            "challenge",
        )


def _check_challenge_scheme(h: pd.DataFrame, scheme: Scheme, file) -> None:
    """Challenge values in the data need the scheme's rule for them (``routine.challenge``)."""
    if "challenge" not in h.columns or not h["challenge"].notna().any():
        return
    if scheme.routine is None or scheme.routine.challenge is None:
        raise DataError(
            "challenge values are given but the scheme does not say how they score: add routine.challenge "
            "(e.g. {target_score: 90}) to the scheme, or remove the column",
            file,
            _first(h["challenge"].notna()),
            "challenge",
        )
    check_challenges(h, scheme.directions, file)


def _check_adjustments(a: pd.DataFrame, units: pd.DataFrame, scheme: Scheme, file) -> None:
    """Bonus and deduction rows: units known, items declared by the scheme and meant for the unit's kind,
    points >= 0 (the item's type gives the sign); a unit's points beyond an item's cap give one note."""
    _check_in(a, "unit", set(units["unit"]), file, "unit")
    adj = scheme.adjustments
    if adj is None:
        raise DataError(
            "the scheme declares no bonus or deduction items: declare them under `adjustments:` in the scheme "
            "(id, type, cap), or remove the file",
            file,
        )
    _check_in(a, "item", adj.ids, file, "bonus or deduction item")
    item = a["item"].map({i.id: i for i in adj.items})
    neg = a["points"] < 0
    if neg.any():
        r = _first(neg)
        it = item[r]
        raise DataError(
            f"points {a.loc[r, 'points']:g} must be >= 0: the item's type ({it.type}) gives the sign", file, r, "points"
        )
    kind = a["unit"].map(units.set_index("unit")["kind"])
    wrong = pd.Series([i.kind not in ("all", k) for i, k in zip(item, kind)], index=a.index)
    if wrong.any():
        r = _first(wrong)
        raise DataError(
            f"item {a.loc[r, 'item']} is for {item[r].kind}s but unit {a.loc[r, 'unit']} is a {kind[r]}",
            file,
            r,
            "item",
        )
    sums = a.groupby(["unit", "item"], sort=True)["points"].sum()
    over = [(u, i, p, adj.item(i).cap) for (u, i), p in sums.items() if p > adj.item(i).cap + 1e-9]
    if over:
        shown = "; ".join(f"{u} {i} {p:g} -> {cap:g}" for u, i, p, cap in over[:5]) + ("…" if len(over) > 5 else "")
        warnings.warn(
            f"{file}: {len(over)} unit × item total(s) exceed the item's cap and count as the cap: {shown}",
            DataNote,
            stacklevel=2,
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
        _check_challenge_scheme(t["history"], scheme, files["history"])
    if "adjustments" in t:
        _check_adjustments(t["adjustments"], units, scheme, files["adjustments"])


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
        adjustments=t.get("adjustments"),
        files={k: Path(v) for k, v in files.items()},
        root=root,
    )


def load_dataset(path: str | Path, scheme: Scheme) -> Dataset:
    """Read and validate every table in a data directory.

    Parameters
    ----------
    path : str or Path
        The data directory: one file per table (``NAME.csv``, ``NAME.csv.gz`` or
        ``NAME.xlsx``); ``units``, ``raters`` and ``ratings`` are required, the
        others optional unless the scheme needs them.
    scheme : Scheme
        The scheme the data are checked against (indicators, groups, bands, zones, measures).

    Returns
    -------
    Dataset
        The typed tables, each indexed by its rows' line numbers in the file (header = 1).

    Raises
    ------
    DataError
        One line naming the file, the row and the column of the first bad value.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> data = load_dataset("data/raw/demo", load_scheme("params/beijing_2016.yaml"))
    >>> len(data.units), sorted(data.units["kind"].unique())
    (76, ['department', 'district'])
    >>> data.ratings.columns.tolist()
    ['rater', 'unit', 'indicator', 'score', 'grade', 'session', 'order']
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError("data directory not found", file=root)
    files: dict[str, str] = {}
    tables: dict[str, pd.DataFrame] = {}
    encodings: dict[str, str | None] = {}
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
        raw = read_raw(p)
        encodings[str(p)] = raw.encoding
        with _name_the_encoding(encodings):
            tables[name] = validate_table(name, raw.frame, file=p)
        extra = extra_columns(name, raw.frame.columns)
        if extra:
            warnings.warn(
                f"{p}: extra column(s) kept as they are, not used by perflab: {', '.join(map(quote, extra))}",
                DataNote,
                stacklevel=2,
            )
    _check_needed(tables, scheme, root)
    with _name_the_encoding(encodings, across=True):
        _cross_check(tables, scheme, files)
    return _dataset(_finish(tables, scheme), scheme, files, root)


@contextlib.contextmanager
def _name_the_encoding(encodings: Mapping[str, str | None], across: bool = False):
    """A value that does not match, when a file's encoding was guessed: the message says which encoding was used.

    ``across``: the checks across tables, where the guessed file may be the one holding the known values (a rater
    in ``ratings.csv`` unknown in a ``raters.csv`` read as GB18030).
    """
    try:
        yield
    except DataError as exc:
        if exc.row is None or exc.row == 1:
            raise
        hint = guessed_encoding_hint(encodings.get(str(exc.file)))
        if not hint and across:
            hint = "".join(guessed_encoding_hint(e, f) for f, e in encodings.items() if f != str(exc.file))
        if not hint:
            raise
        raise DataError(exc.message + hint, file=exc.file, row=exc.row, column=exc.column) from None


def _check_needed(tables, scheme: Scheme, root) -> None:
    """A component with positive weight needs its source table; declared bonus and deduction items without
    their table give a note (no unit gets any)."""
    if scheme.adjustments is not None and "adjustments" not in tables:
        warnings.warn(
            f"{Path(root) / 'adjustments.csv'}: no such file: the scheme declares bonus and deduction items "
            f"({', '.join(scheme.adjustments.ids)}) but no unit gets any",
            DataNote,
            stacklevel=2,
        )
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
