"""Ranks: the one ranking rule of perflab (1 = best, scores equal to 9 decimals tie at the lowest rank, NaN unranked),
within the groups the scheme ranks units in (``rank_group``: each unit's kind, or every unit together).

Two entry points share the rule: :func:`rank_desc` for one score vector (pandas) and :func:`rank_rows` /
:func:`ranks_by_group` for many vectors at once (rows of a draws × units matrix), which the Monte Carlo uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.scheme import Scheme

TIE_DECIMALS = 9  # scores equal to 9 decimals tie (guards against float noise in sums)
_Q = 10.0**TIE_DECIMALS


def rank_codes(values, codes=None) -> np.ndarray:
    """Rank 1 = highest value within each group code; ties (equal to 9 decimals) take the lowest rank; NaN unranked.

    ``codes``: an integer group code per value (-1: no group, unranked), or None for one group.
    Returns floats (NaN where unranked). The one ranking rule of perflab (:func:`rank_desc` wraps it).
    """
    x = np.round(np.asarray(values, dtype=float), TIE_DECIMALS)
    c = np.zeros(x.size, dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    ok = ~np.isnan(x) & (c >= 0)
    out = np.full(x.size, np.nan)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    order = idx[np.lexsort((-x[idx], c[idx]))]  # by group, best first
    xs, cs = x[order], c[order]
    new_group = np.empty(order.size, dtype=bool)
    new_group[0] = True
    np.not_equal(cs[1:], cs[:-1], out=new_group[1:])
    new_run = new_group.copy()  # a new score (or a new group) starts a run
    new_run[1:] |= xs[1:] != xs[:-1]
    pos = np.arange(order.size)
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
    out[order] = run_start - group_start + 1
    return out


def group_codes(by, index) -> np.ndarray | None:
    """Integer group codes of ``by`` (a Series, or a list of them combined); -1 where a key is missing."""
    if by is None:
        return None
    keys = by if isinstance(by, list) else [by]
    codes = np.zeros(len(index), dtype=np.int64)
    missing = np.zeros(len(index), dtype=bool)
    for k in keys:
        c, uniq = pd.factorize(pd.Series(k, index=index) if not isinstance(k, pd.Series) else k.reindex(index))
        missing |= c < 0
        codes = codes * (len(uniq) + 1) + c
    return np.where(missing, -1, codes)


def rank_desc(scores: pd.Series, by: pd.Series | list | None = None) -> pd.Series:
    """Rank 1 = highest score within each group of ``by``; ties take the lowest rank; NaN stays unranked.

    Examples
    --------
    >>> rank_desc(pd.Series([80.0, 90.0, 80.0, None], index=list("abcd"))).tolist()
    [2, 1, 2, <NA>]
    """
    r = rank_codes(scores.to_numpy(float), group_codes(by, scores.index))
    return pd.Series(r, index=scores.index, name=scores.name).astype("Int64")


def rank_groups(units: pd.DataFrame, scheme: Scheme) -> pd.Series | None:
    """The groups the scheme ranks units within, as ``rank_group``: each unit's kind, or None under
    ``ranking.within: all`` (every unit ranked against every other), so ranks agree with ``score_units``.

    Parameters
    ----------
    units
        A table with a ``kind`` column and the unit ids as index or in a ``unit`` column.
    scheme
        The scheme (its ``ranking.within``: ``kind`` or ``all``).

    Returns
    -------
    pandas.Series or None
        Each unit's rank group (named ``rank_group``, indexed by unit), or None: every unit in one group.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> units = pd.DataFrame({"unit": ["D01", "M01"], "kind": ["district", "department"]})
    >>> rank_groups(units, load_scheme("params/beijing_2016.yaml")).to_dict()
    {'D01': 'district', 'M01': 'department'}
    """
    if scheme.ranking.within == "all":
        return None
    u = units.set_index("unit") if "unit" in units.columns else units
    if "kind" not in u.columns:
        raise DataError("units table has no 'kind' column to rank within")
    return u["kind"].rename("rank_group")


def factorize_groups(rank_group, units: pd.Index) -> tuple[np.ndarray, list]:
    """Integer group code per unit (all 0 when ``rank_group`` is None) and the group labels.

    Examples
    --------
    >>> codes, labels = factorize_groups(pd.Series({"a": "x", "b": "y", "c": "x"}), pd.Index(["a", "b", "c"]))
    >>> codes.tolist(), labels
    ([0, 1, 0], ['x', 'y'])
    """
    if rank_group is None:
        return np.zeros(len(units), dtype=int), ["all"]
    if isinstance(rank_group, pd.Series):
        missing = units.difference(rank_group.index)
        if len(missing):
            raise DataError(f"rank_group has no group for unit {missing[0]!r}")
        lab = rank_group.reindex(units)
    else:
        lab = pd.Series(np.asarray(rank_group, dtype=object).ravel(), dtype=object)
        if len(lab) != len(units):
            raise DataError(f"rank_group has length {len(lab)}; there are {len(units)} units")
    if lab.isna().any():
        raise DataError(f"rank_group has no group for unit {units[int(np.argmax(lab.isna().to_numpy()))]!r}")
    codes, labels = pd.factorize(lab.to_numpy(), sort=False)
    return codes.astype(int), list(labels)


def quantise(x: np.ndarray) -> np.ndarray:
    """Scores as integers at the tie resolution (9 decimals), as the ranks see them."""
    return np.rint(x * _Q)


def _pack_bits(n: int) -> int:
    """Bits for a unit's position in a packed key: one spare bit so that equal scores are detectable
    from the gap between adjacent sorted keys (gap < 2**(bits-1) exactly when the scores are equal)."""
    return max(1, (2 * max(n - 1, 1)).bit_length())


def rank_rows(Q: np.ndarray, want: str = "ranks", negated: bool = False):
    """Ranks (1 = highest, ties min) of each row of quantised scores, by one integer sort per row.

    Each key packs the negated score and the unit's position (key = −q·2**bits + position):
    sorting the keys sorts the scores and carries the unit along (a fast argsort); two adjacent
    sorted keys closer than 2**(bits−1) hold equal scores, so ties cost one pass to detect.
    Returns (order, rank position from 0) or the rank matrix. ``negated``: Q already holds −q.
    """
    c, n = Q.shape
    bits = _pack_bits(n)
    if np.abs(Q).max(initial=0.0) * 2.0**bits < 2.0**62:
        keys = Q.astype(np.int64) if negated else (-Q).astype(np.int64)
        keys <<= bits
        keys |= np.arange(n, dtype=np.int64)
        keys.sort(axis=1)
        tie = np.diff(keys, axis=1) < (1 << (bits - 1)) if n > 1 else np.zeros((c, 0), bool)
        keys &= (1 << bits) - 1
        order = keys
    else:  # scores too large to pack: plain stable argsort
        neg = Q if negated else -Q
        order = np.argsort(neg, axis=1, kind="stable")
        qs = np.take_along_axis(neg, order, axis=1)
        tie = qs[:, 1:] == qs[:, :-1]
    if tie.any():
        start = np.broadcast_to(np.arange(n), (c, n)).copy()
        start[:, 1:][tie] = 0
        pos = np.maximum.accumulate(start, axis=1)
    else:
        pos = None  # the position in the sorted row: rank − 1
    if want == "order":
        return order, pos
    ranks = np.empty((c, n), dtype=np.int32)
    p = np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), (c, n)) if pos is None else (pos + 1).astype(np.int32)
    np.put_along_axis(ranks, order, p, axis=1)
    return ranks


def ranks_by_group(X: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Ranks within groups of every row of scores X (rows × units).

    Examples
    --------
    >>> ranks_by_group(np.array([[70.0, 90.0, 80.0, 60.0]]), np.array([0, 0, 1, 1]), 2).tolist()
    [[2, 1, 1, 2]]
    """
    Q = quantise(X)
    R = np.empty(X.shape, dtype=np.int32)
    for g in range(n_groups):
        idx = np.flatnonzero(codes == g)
        R[:, idx] = rank_rows(Q[:, idx])
    return R


def rank_vector(scores: pd.Series, rank_group=None) -> pd.Series:
    """Ranks of one score vector (1 = best, ties min, within groups): the kernel the Monte Carlo uses.

    Examples
    --------
    >>> rank_vector(pd.Series({"a": 70.0, "b": 90.0, "c": 90.0})).tolist()
    [3, 1, 1]
    """
    codes, labels = factorize_groups(rank_group, scores.index)
    r = ranks_by_group(scores.to_numpy(float)[None, :], codes, len(labels))[0]
    return pd.Series(r, index=scores.index, name="rank")
