"""Judgement-based weights: Saaty's AHP from a pairwise comparison matrix, and reading such a matrix from CSV."""

from __future__ import annotations

import csv
import difflib
import io as _io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.weights._common import WeightError, _unknown

AHP_METHODS = ("eigenvector", "geometric")

#: Saaty's random consistency index RI by matrix order n (the mean CI of random reciprocal matrices on the 1–9
#: scale): n = 1–10 from T. L. Saaty (1980), *The Analytic Hierarchy Process*, McGraw-Hill, the values Saaty
#: (1990, EJOR 48:9–26) uses (his house example's CR = 0.238 / 1.41 = 0.169); n = 11–15 from the extended table
#: of the same simulations as reproduced by J. Karlsson & K. Ryan (1997), "A cost-value approach for prioritizing
#: requirements", IEEE Software 14(5):67–74. (Later estimates differ slightly, e.g. Saaty 2005: 0.52, 0.89, ...)
SAATY_RI = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}  # fmt: skip
CR_LIMIT = 0.1  # Saaty: a consistency ratio of 0.10 or less is acceptable
RECIPROCAL_RTOL = 1e-2  # a_ij · a_ji may differ from 1 by 1 % (3 and 0.333 pass, 3 and 0.3 do not)


# ---------------------------------------------------------------------------
# AHP
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AHPResult:
    """Weights derived from a pairwise comparison matrix and its consistency.

    ``weights``: Series indexed by indicator, summing to 1. ``lambda_max``: the
    principal eigenvalue (``eigenvector``) or the mean of (A w)_i / w_i
    (``geometric``). ``ci`` = (λmax − n)/(n − 1) (0 for n = 1); ``ri``: Saaty's
    random index for n (:data:`SAATY_RI`; NaN for n > 15); ``cr`` = CI/RI (0 for
    n ≤ 2, where every reciprocal matrix is consistent; NaN for n > 15).
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    ri: float
    cr: float
    method: str

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def consistent(self) -> bool:
        """CR ≤ 0.1 (Saaty's acceptance rule); False when CR cannot be computed (n > 15)."""
        return bool(self.cr <= CR_LIMIT)

    def summary(self) -> pd.DataFrame:
        """One ``value`` column: each indicator's weight, then n, λmax, CI, RI and CR (rows ``(part, item)``).

        The method is the result's ``method`` attribute.
        """
        rows = [("weight", str(k), float(v)) for k, v in self.weights.items()]
        rows += [
            ("consistency", "n", float(self.n)),
            ("consistency", "lambda_max", self.lambda_max),
            ("consistency", "CI", self.ci),
            ("consistency", "RI", self.ri),
            ("consistency", "CR", self.cr),
        ]
        out = pd.DataFrame(
            {"value": [r[2] for r in rows]},
            index=pd.MultiIndex.from_tuples([(r[0], r[1]) for r in rows], names=["part", "item"]),
        )
        return out


def _pairwise_array(matrix, what: str) -> tuple[np.ndarray, pd.Index]:
    """The comparison matrix as floats with its labels, checked: square, labelled alike, positive, finite."""
    if isinstance(matrix, pd.DataFrame):
        if matrix.shape[0] != matrix.shape[1]:
            raise WeightError(
                f"{what}: the comparison matrix is not square: {matrix.shape[0]} rows × {matrix.shape[1]} columns"
            )
        labels = matrix.index
        if labels.has_duplicates:
            raise WeightError(f"{what}: indicator {labels[labels.duplicated()][0]!r} appears twice among the rows")
        if not labels.equals(matrix.columns):
            k = next(i for i, (r, c) in enumerate(zip(labels, matrix.columns)) if r != c)
            raise WeightError(
                f"{what}: the rows and columns must list the same indicators in the same order; "
                f"row {k + 1} is {labels[k]!r} but column {k + 1} is {matrix.columns[k]!r}"
            )
        cells = matrix
    else:
        arr = np.asarray(matrix, dtype=object)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            shape = " × ".join(map(str, arr.shape)) or "a scalar"
            raise WeightError(f"{what}: the comparison matrix is not square: shape {shape}")
        labels = pd.RangeIndex(arr.shape[0])
        cells = pd.DataFrame(arr, index=labels, columns=labels)
    n = len(labels)
    if n == 0:
        raise WeightError(f"{what}: the comparison matrix is empty")
    a = np.empty((n, n))
    for j in range(n):
        col = cells.iloc[:, j]
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise WeightError(f"{what}: row {labels[i]!r}, column {labels[j]!r}: entry {col.iloc[i]!r} is not a number")
        a[:, j] = num.to_numpy(dtype=float)
    bad = ~np.isfinite(a) | (a <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise WeightError(
            f"{what}: row {labels[i]!r}, column {labels[j]!r}: entry {a[i, j]} is not a positive finite number "
            "(a pairwise comparison is a ratio on Saaty's 1–9 scale, e.g. 3 or 1/3)"
        )
    diag = ~np.isclose(np.diag(a), 1.0, rtol=1e-9, atol=0)
    if diag.any():
        i = int(np.flatnonzero(diag)[0])
        raise WeightError(
            f"{what}: row {labels[i]!r}, column {labels[i]!r}: a diagonal entry must be 1, got {a[i, i]:g}"
        )
    prod = a * a.T
    bad = np.triu(np.abs(prod - 1.0) > RECIPROCAL_RTOL, k=1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise WeightError(
            f"{what}: rows {labels[i]!r} and {labels[j]!r} are not reciprocal: a[{labels[i]!r}, {labels[j]!r}] = {a[i, j]:g} "
            f"but a[{labels[j]!r}, {labels[i]!r}] = {a[j, i]:g} (their product is {prod[i, j]:.3g}, not 1; "
            f"expected about {1 / a[i, j]:.3g})"
        )
    return a, labels


def ahp(matrix, method: str = "eigenvector", allow_inconsistent: bool = False) -> AHPResult:
    """Weights from a pairwise comparison matrix (Saaty's AHP) with its consistency ratio.

    ``matrix``: a square DataFrame with the indicator ids as index and columns
    in the same order, or a square array (weights then indexed 0..n−1); entry
    a_ij says how many times more important indicator i is than j (1–9 scale),
    with a_ji = 1/a_ij (checked to a relative 1 %, so entries written as 0.333
    pass) and a_ii = 1.

    ``method="eigenvector"`` (Saaty 1977, 1980): the principal right eigenvector
    (``numpy.linalg.eig``, real part) normalised to sum 1, and λmax its
    eigenvalue. ``method="geometric"``: the normalised row geometric means
    (Crawford & Williams 1985, the logarithmic least-squares solution), with
    λmax estimated as usual as the mean of (A w)_i / w_i, so that CI and CR are
    comparable with the eigenvector method (for a consistent matrix both give w
    exactly and λmax = n).

    CI = (λmax − n)/(n − 1), RI from :data:`SAATY_RI`, CR = CI/RI (0 for n ≤ 2).
    CR > 0.1 is an error unless ``allow_inconsistent=True``; so is n > 15, where
    RI is not tabulated. Reproduces Saaty's published examples (1990, EJOR
    48:9–26, the house; 2008, Int. J. Services Sciences 1(1):83–98, the drinks).

    Parameters
    ----------
    matrix : DataFrame or array-like
        The square comparison matrix (see above).
    method : {"eigenvector", "geometric"}
        How the weights are derived from it.
    allow_inconsistent : bool
        Accept CR > 0.1 (and n > 15) instead of raising :class:`WeightError`.

    Returns
    -------
    AHPResult
        The weights, λmax, CI, RI, CR and the method; ``summary()`` tabulates them.

    Examples
    --------
    >>> res = ahp([[1, 3], [1 / 3, 1]])
    >>> res.weights.round(3).tolist(), res.cr
    ([0.75, 0.25], 0.0)
    """
    what = "ahp"
    if method not in AHP_METHODS:
        raise _unknown(method, AHP_METHODS, "AHP method")
    a, labels = _pairwise_array(matrix, what)
    n = a.shape[0]
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = vecs[:, k].real
        w = w / w.sum()
        lam = float(vals[k].real)
    else:
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
        lam = float(np.mean(a @ w / w))
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI.get(n, float("nan"))
    cr = 0.0 if n <= 2 else (ci / ri if n in SAATY_RI else float("nan"))
    result = AHPResult(
        weights=pd.Series(w, index=labels.copy(), name="weight", dtype=float),
        lambda_max=lam,
        ci=float(ci),
        ri=float(ri),
        cr=float(cr),
        method=method,
    )
    if not allow_inconsistent:
        if n > max(SAATY_RI):
            raise WeightError(
                f"{what}: Saaty's random index is tabulated for n ≤ {max(SAATY_RI)} only, so CR cannot be checked "
                f"for {n} indicators; pass allow_inconsistent=True to accept the weights unchecked"
            )
        if cr > CR_LIMIT:
            raise WeightError(
                f"{what}: the comparisons are inconsistent: CR = {cr:.3f} > {CR_LIMIT} (λmax = {lam:.3f}, "
                f"CI = {ci:.3f}, RI = {ri} for n = {n}); revise the judgements or pass allow_inconsistent=True"
            )
    return result


# ---------------------------------------------------------------------------
# reading a pairwise comparison file
# ---------------------------------------------------------------------------

_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8
_FRACTION = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*/\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


def _decode_file(path: Path) -> str:
    raw = path.read_bytes()
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    start = 0
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    raise DataError(
        f"undecodable bytes at byte {start}: the file is neither UTF-8, UTF-8 with BOM nor GB18030",
        file=path,
        row=raw[:start].count(b"\n") + 1,
    )


def _entry(text: str) -> float | None:
    """A comparison written as a number or a fraction (``3``, ``0.333``, ``1/3``); None if unparseable."""
    s = text.strip()
    m = _FRACTION.match(s)
    try:
        if m:
            den = float(m[2])
            return float(m[1]) / den if den != 0 else None
        return float(s)
    except ValueError:
        return None


def read_pairwise(path: str | Path, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a pairwise comparison matrix from a CSV file (UTF-8, UTF-8 with BOM or GB18030).

    Layout: the header row is any label (or an empty cell) followed by the
    indicator ids; each further row starts with an indicator id followed by
    its comparisons, numbers or fractions such as ``1/3``. The rows may list the
    ids in another order than the header (they are reordered to it) but must
    list the same ids. With ``indicators`` (the scheme's ids) every id must be
    one of them and every one of them must appear; the matrix is returned in
    that order. Blank lines are ignored.

    Returns a float DataFrame with the ids as index and columns, ready for
    :func:`ahp` (which checks positivity, the diagonal, reciprocity and
    consistency). Errors raise :class:`perflab.errors.DataError` naming the
    file, the line (header = 1) and the column.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    indicators : sequence of str, optional
        The scheme's indicator ids: every one must appear, in any order; the matrix comes back in this order.

    Returns
    -------
    DataFrame
        The comparisons as floats, indicator ids as index and columns.

    Examples
    --------
    >>> m = read_pairwise("params/sweeps/ahp_beijing_2016.csv")
    >>> m.loc[["rectification", "main_indicators"], ["rectification", "main_indicators"]].round(3)
                     rectification  main_indicators
    rectification              1.0            0.333
    main_indicators            3.0            1.000
    >>> round(float(ahp(m).weights["main_indicators"]), 3)
    0.277
    """
    path = Path(path)
    records = _records(path)
    head_line, header = records[0]
    ids = header[1:]
    _check_ids(ids, indicators, path, head_line)
    values = _rows(records, header, path)
    absent = [c for c in ids if c not in values]
    if absent:
        raise DataError(
            f"column id {absent[0]!r} has no row: rows and columns must list the same indicators",
            file=path,
            row=head_line,
            column=absent[0],
        )
    out = pd.DataFrame([values[c] for c in ids], index=pd.Index(ids), columns=pd.Index(ids), dtype=float)
    if indicators is not None:
        out = out.loc[list(indicators), list(indicators)]
    return out


def _records(path: Path) -> list[tuple[int, list[str]]]:
    """The file's non-blank CSV records, stripped, each with the line it starts on (header = 1)."""
    if not path.is_file():
        raise DataError("file not found", file=path)
    text = _decode_file(path)
    reader = csv.reader(_io.StringIO(text))
    records: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for rec in reader:
            if any(c.strip() for c in rec):
                records.append((start, [c.strip() for c in rec]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"not a valid CSV file: {exc}", file=path, row=reader.line_num) from None
    if not records:
        raise DataError("the file is empty", file=path)
    return records


def _check_ids(ids: list[str], indicators: Sequence[str] | None, path: Path, head_line: int) -> None:
    """The header's ids: present, unique and (with ``indicators``) exactly the scheme's."""
    if not ids:
        raise DataError(
            "the header row holds no indicator ids (a label cell, then one id per column)", file=path, row=head_line
        )
    for k, c in enumerate(ids):
        if not c:
            raise DataError(f"the header has an empty indicator id in column {k + 2}", file=path, row=head_line)
        if c in ids[:k]:
            raise DataError(f"indicator {c!r} appears twice in the header", file=path, row=head_line, column=c)
    if indicators is not None:
        known = list(indicators)
        for c in ids:
            if c not in known:
                close = difflib.get_close_matches(c, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DataError(
                    f"unknown indicator {c!r}{hint}; the scheme's indicators are {', '.join(known)}",
                    file=path,
                    row=head_line,
                    column=c,
                )
        missing = [i for i in known if i not in ids]
        if missing:
            raise DataError(
                f"missing indicator(s) {', '.join(missing)}: the matrix must compare every indicator of the scheme",
                file=path,
                row=head_line,
            )


def _rows(records: list[tuple[int, list[str]]], header: list[str], path: Path) -> dict[str, list[float]]:
    """Each row id's comparisons in the header's column order; errors name the line and column."""
    ids = header[1:]
    label = header[0] or "(first column)"
    values: dict[str, list[float]] = {}
    for line, rec in records[1:]:
        rid = rec[0]
        if len(rec) != len(header):
            raise DataError(
                f"expected {len(header)} fields (an id and {len(ids)} comparisons), saw {len(rec)}", file=path, row=line
            )
        if rid not in ids:
            raise DataError(
                f"row id {rid!r} is not among the column ids ({', '.join(ids)}): rows and columns must list the same indicators",
                file=path,
                row=line,
                column=label,
            )
        if rid in values:
            raise DataError(f"indicator {rid!r} has two rows", file=path, row=line, column=label)
        row = []
        for c, cell in zip(ids, rec[1:]):
            v = _entry(cell)
            if v is None:
                shown = repr(cell) if cell else "an empty entry"
                raise DataError(
                    f"cannot read {shown} as a comparison (write a number or a fraction such as 3, 0.5 or 1/3)",
                    file=path,
                    row=line,
                    column=c,
                )
            row.append(v)
        values[rid] = row
    return values
