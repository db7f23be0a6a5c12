"""Kendall's tau-b of many rankings against one: how much of the nominal order a draw keeps."""

from __future__ import annotations

import numpy as np


def kendall_tau_b(R: np.ndarray, nominal: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of ranks ``R`` (draws or scenarios × units) against the ``nominal`` ranks.

    Vectorised over rows (as ``scipy.stats.kendalltau`` row by row, ties handled). Rows without ties against a
    tie-free nominal ranking (the usual case) count inversions with 128-bit masks, one pass per position (O(n)
    per draw); the others compare all pairs' signs.

    Parameters
    ----------
    R
        Ranks, one ranking per row (a single ranking may be 1-D).
    nominal
        The reference ranks, one per column of ``R``.

    Returns
    -------
    numpy.ndarray
        One tau per row; NaN where either side is constant.

    Examples
    --------
    >>> kendall_tau_b([[1, 2, 3, 4], [2, 1, 3, 4], [4, 3, 2, 1]], [1, 2, 3, 4]).round(3).tolist()
    [1.0, 0.667, -1.0]
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    nominal = np.asarray(nominal, dtype=float)
    c, n = R.shape
    if n < 2:
        return np.full(c, np.nan)
    tau = np.full(c, np.nan)
    rest = np.arange(c)
    if n <= 128 and np.unique(nominal).size == n:
        seq = (R[:, np.argsort(nominal, kind="stable")] - 1).astype(np.intp)  # draw ranks in nominal order, 0-based
        bit = np.zeros((2, 129), dtype=np.uint64)
        above = np.zeros((2, 129), dtype=np.uint64)
        for r in range(128):
            bit[r // 64, r] = np.uint64(1) << np.uint64(r % 64)
        for r in range(128):
            above[:, r] = np.bitwise_or.reduce(bit[:, r + 1 :], axis=1)
        lo = np.zeros(c, dtype=np.uint64)
        hi = np.zeros(c, dtype=np.uint64)
        inv = np.zeros(c, dtype=np.int64)
        for j in range(n):
            r = seq[:, j]
            inv += np.bitwise_count(lo & above[0, r]) + np.bitwise_count(hi & above[1, r])
            lo |= bit[0, r]
            hi |= bit[1, r]
        clean = (np.bitwise_count(lo) + np.bitwise_count(hi)) == n  # every rank distinct: no tie in the draw
        p = n * (n - 1) / 2
        tau[clean] = 1.0 - 2.0 * inv[clean] / p
        rest = np.flatnonzero(~clean)
    if rest.size:
        tau[rest] = _kendall_pairs(R[rest], nominal, 4096)
    return tau


def _kendall_pairs(R: np.ndarray, nominal: np.ndarray, chunk_pairs: int) -> np.ndarray:
    """Kendall's tau-b by comparing the signs of every pair (handles ties on both sides)."""
    n = R.shape[1]
    iu, ju = np.triu_indices(n, 1)
    s = np.zeros(R.shape[0], dtype=np.int64)
    tied_d = np.zeros(R.shape[0], dtype=np.int64)
    tied_n = 0
    for a in range(0, iu.size, chunk_pairs):
        i, j = iu[a : a + chunk_pairs], ju[a : a + chunk_pairs]
        sn = np.sign(nominal[i] - nominal[j]).astype(np.int8)
        sd = np.sign(R[:, i] - R[:, j]).astype(np.int8)
        s += (sd * sn).sum(axis=1, dtype=np.int64)
        tied_d += (sd == 0).sum(axis=1)
        tied_n += int((sn == 0).sum())
    p = iu.size
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / np.sqrt((p - tied_n) * (p - tied_d).astype(float))
