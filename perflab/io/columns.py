"""Column names a user wrote: a misspelt known column is caught with a "did you mean"; other extra columns are kept.

A table may carry columns of its own (a ``comment``, a ``source``): they are kept as text and listed once as a
note. But a name within a typing slip of a column perflab knows (``grdae`` for ``grade``) is an error, since the
optional column it was meant to be would otherwise be silently missing (grades then derived from scores).
"""

from __future__ import annotations

import re

# names people give their own annotation columns: kept without a "did you mean" even when close to a known column
ANNOTATION_NAMES = frozenset({"note", "notes", "comment", "comments", "remark", "remarks", "memo", "备注", "说明"})


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).strip().lower())


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``.

    The optimal-string-alignment distance: a transposition such as ``grdae`` → ``grade`` counts as one edit.

    Parameters
    ----------
    a, b : str
        The two names.

    Returns
    -------
    int
        The number of edits.

    Examples
    --------
    >>> edit_distance("grdae", "grade"), edit_distance("scroe", "score"), edit_distance("unit", "units")
    (1, 1, 1)
    >>> edit_distance("comment", "grade")
    6
    """
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def misspelt(name: str, known) -> str | None:
    """The known column ``name`` is most likely a slip for, or None.

    Close means the same name up to case, spaces, ``_`` and ``-``, or one edit away (two for names of six
    characters or more). Annotation names (``note``, ``comment``, ``备注``…) are never taken for slips.

    Parameters
    ----------
    name : str
        A column name found in a table that perflab does not know.
    known : iterable of str
        The table's columns perflab knows and did not find.

    Returns
    -------
    str or None
        The closest known column, or None when none is close.

    Examples
    --------
    >>> misspelt("grdae", ["grade", "session"]), misspelt("Grade", ["grade"]), misspelt("comment", ["grade"])
    ('grade', 'grade', None)
    >>> misspelt("note", ["zone"]) is None
    True
    """
    if _normal(name) in ANNOTATION_NAMES:
        return None
    best = None
    for k in known:
        a, b = _normal(name), _normal(k)
        d = edit_distance(a, b)
        if d <= (2 if min(len(a), len(b)) >= 6 else 1) and (best is None or d < best[0]):
            best = (d, k)
    return best[1] if best else None
