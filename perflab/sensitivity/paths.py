"""Exact analysis along one linear path: scores linear in a parameter (one weight, one group's share).

Two units swap only where their score lines cross, so every crossing point is computed in closed form and
the ranks evaluated at every crossing and between them: answers are exact, not sampled. Valid only when
scores are linear in the parameter, i.e. under a linear (arithmetic) composite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.ranking import _Q, quantise, ranks_by_group


@dataclass(frozen=True)
class LinearPath:
    """Scores linear in a parameter t on [t_lo, t_hi]: score(t) = a + (b − a)·(t − t0)/(t1 − t0)."""

    a: np.ndarray  # scores at t = p0
    b: np.ndarray  # scores at t = p1
    p0: float
    p1: float
    t_lo: float
    t_hi: float
    codes: np.ndarray
    n_groups: int

    def at(self, t: np.ndarray) -> np.ndarray:
        tau = (np.asarray(t, dtype=float) - self.p0) / (self.p1 - self.p0)
        return self.a + np.multiply.outer(tau, self.b - self.a)

    def crossings(self) -> pd.DataFrame:
        """Every pair of units of a group whose scores become equal at a t inside the range (each pair once)."""
        out = []
        for g in range(self.n_groups):
            idx = np.flatnonzero(self.codes == g)
            i, j = np.triu_indices(idx.size, 1)
            u, v = idx[i], idx[j]
            d0 = self.a[u] - self.a[v]
            d1 = self.b[u] - self.b[v]
            slope = d1 - d0
            with np.errstate(invalid="ignore", divide="ignore"):
                tau = np.where(slope != 0, d0 / -slope, np.nan)
            t = self.p0 + tau * (self.p1 - self.p0)
            same = (np.abs(d0) < 0.5 / _Q) & (np.abs(d1) < 0.5 / _Q)  # identical lines: always tied, no event
            ok = np.isfinite(t) & (t >= self.t_lo) & (t <= self.t_hi) & ~same
            out.append(pd.DataFrame({"t": t[ok], "u": u[ok], "v": v[ok], "group": g}))
        return pd.concat(out, ignore_index=True)

    def ranks(self, t: np.ndarray) -> np.ndarray:
        return ranks_by_group(self.at(t), self.codes, self.n_groups)


def event_grid(events: Iterable[float], t_lo: float, t_hi: float, t0: float | None = None):
    """Sorted distinct event points (with the range ends and t0) and the midpoints between them.

    Returns (points, is_event, index of t0 or None).
    """
    tol = 1e-12 * max(1.0, abs(t_hi))
    exact = [t_lo, t_hi] + ([t0] if t0 is not None else [])
    ev = np.asarray(list(events), dtype=float)
    for x in exact:  # a crossing within rounding of the nominal value or a range end is that value
        ev = np.where(np.abs(ev - x) <= tol, x, ev)
    ev = np.unique(np.r_[ev, exact])
    keep = np.r_[True, np.diff(ev) > tol]
    ev = ev[keep]
    pts = np.empty(2 * ev.size - 1)
    pts[0::2] = ev
    pts[1::2] = (ev[:-1] + ev[1:]) / 2
    is_event = np.zeros(pts.size, dtype=bool)
    is_event[0::2] = True
    p0 = None if t0 is None else int(2 * np.argmin(np.abs(ev - t0)))
    return pts, is_event, p0


def run_bounds(ok: np.ndarray, p0: int, pts: np.ndarray, is_event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column of ``ok`` (points × items) the ends of the run of True containing point p0.

    Each end is an event point: the one where the state changes (at the point, or just beyond it).
    """
    fail = ~ok
    lo = np.full(ok.shape[1], pts[0])
    hi = np.full(ok.shape[1], pts[-1])
    if p0 > 0:
        left = fail[:p0][::-1]
        has = left.any(axis=0)
        f = p0 - 1 - left.argmax(axis=0)
        lo = np.where(has, np.where(is_event[f], pts[f], pts[np.minimum(f + 1, pts.size - 1)]), lo)
    if p0 < pts.size - 1:
        right = fail[p0 + 1 :]
        has = right.any(axis=0)
        f = p0 + 1 + right.argmax(axis=0)
        hi = np.where(has, np.where(is_event[f], pts[f], pts[np.maximum(f - 1, 0)]), hi)
    return lo, hi


def band_edges(bands) -> np.ndarray:
    return np.array(sorted({float(b.lower) for b in bands} - {min(float(b.lower) for b in bands)}))


def band_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band of each score (0 = lowest), lower <= score < upper, at the tie resolution."""
    return np.searchsorted(quantise(edges), quantise(x), side="right")


def analyse_path(path: LinearPath, t0: float, k: int, edges: np.ndarray | None):
    """Rank, top-k and band intervals around t0 along an exact linear path."""
    cr = path.crossings()
    pts, is_event, p0 = event_grid(cr["t"], path.t_lo, path.t_hi, t0)
    R = np.concatenate([path.ranks(pts[a : a + 2048]) for a in range(0, pts.size, 2048)])
    rank_lo, rank_hi = run_bounds(R == R[p0], p0, pts, is_event)
    member = R <= k
    same_set = np.stack(
        [(member[:, path.codes == g] == member[p0, path.codes == g]).all(axis=1) for g in range(path.n_groups)], axis=1
    )
    top_lo, top_hi = run_bounds(same_set, p0, pts, is_event)
    band = band_lo = band_hi = None
    if edges is not None and edges.size:
        d = path.b - path.a
        with np.errstate(invalid="ignore", divide="ignore"):
            tb = path.p0 + (edges[None, :] - path.a[:, None]) / d[:, None] * (path.p1 - path.p0)
        tb = tb[np.isfinite(tb) & (tb >= path.t_lo) & (tb <= path.t_hi)]
        bp, bev, bp0 = event_grid(tb, path.t_lo, path.t_hi, t0)
        B = band_index(path.at(bp), edges)
        band = B[bp0]
        band_lo, band_hi = run_bounds(B == band, bp0, bp, bev)
    return cr, R[p0], rank_lo, rank_hi, top_lo, top_hi, band, band_lo, band_hi
