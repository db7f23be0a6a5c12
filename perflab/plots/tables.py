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
    words, an en dash for missing values, and no row index.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; it is not modified.
    headers : dict, optional
        Column → its header in words, in the order to show; the columns not named are left out. None: every
        column under its own name.
    digits : int or dict
        Decimal places of the numbers: one for every column, or column → places (the others get 2).
    caption : str, optional
        The table's caption.

    Returns
    -------
    pandas.io.formats.style.Styler
        The styled table, with a stable id (the same table gives the same HTML).

    Raises
    ------
    ValueError
        Two columns would get the same header.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": ["D01", "M01"], "final": [91.234, 1234.5], "written": [False, True]})
    >>> sty = table(df, {"unit": "Unit", "final": "Final score", "written": "Written report"}, digits=1)
    >>> sty.data.columns.tolist(), sty.data["Written report"].tolist()
    (['Unit', 'Final score', 'Written report'], ['no', 'yes'])
    >>> html = sty.to_html()
    >>> "91.2" in html, "1,234.5" in html, "91.234" in html
    (True, True, False)
    """
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
