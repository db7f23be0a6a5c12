"""Tables for the report pages: headers in words, fixed decimals, no row numbers (no seaborn import here)."""

from __future__ import annotations

import hashlib

import pandas as pd


def table(
    df: pd.DataFrame,
    headers: dict[str, str] | None = None,
    digits: int | dict[str, int] = 2,
    caption: str | None = None,
):
    """A table for the page: ``headers`` (column → words) selects, orders and renames the columns; numbers get
    fixed decimals (``digits``, one for all or per column; never 1e+00), thousands separators, True/False in
    words, an en dash for missing values, and no row index."""
    out = (df if headers is None else df[list(headers)].rename(columns=headers)).copy()
    if out.columns.has_duplicates:
        raise ValueError(f"two columns of the table have the header {out.columns[out.columns.duplicated()][0]!r}")
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = out[c].map({True: "yes", False: "no"})
    sty = out.style.hide(axis="index")
    text = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    if text:  # words read from the left, numbers line up on the right
        sty = sty.set_properties(subset=text, **{"text-align": "left"})
    if isinstance(digits, dict):
        named = {(headers or {}).get(c, c): d for c, d in digits.items()}
        fmt = {
            c: (lambda d: lambda v: "–" if pd.isna(v) else f"{v:,.{d}f}")(d)
            for c, d in named.items()
            if c in out.columns
        }
        sty = sty.format(precision=2, thousands=",", na_rep="–").format(fmt)
    else:
        sty = sty.format(precision=digits, thousands=",", na_rep="–")
    if caption:
        sty = sty.set_caption(caption)
    return sty.set_uuid(hashlib.sha1("|".join(map(str, out.columns)).encode() + str(caption).encode()).hexdigest()[:8])
