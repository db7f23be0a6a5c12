"""Could any defensible weighting put a unit first? Best-case ranks and the weights that give them.

A linear programme (can the unit be first?) and, if not, a mixed-integer programme (how few competitors
must stay above it?): both rest on scores being linear in the weights, so a non-linear composite is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.composite import require_linear
from perflab.errors import SchemeError
from perflab.ranking import TIE_DECIMALS, factorize_groups, ranks_by_group
from perflab.sensitivity._checks import check_bounds, check_composite, check_scores


def best_case_ranks(
    scores: pd.DataFrame, bounds: pd.DataFrame | None = None, rank_group=None, composite: str = "arithmetic"
) -> pd.DataFrame:
    """For each unit the best rank any weighting within ``bounds`` gives it, and those weights.

    First a linear programme (``scipy.optimize.linprog``): maximise the margin s with
    score_u − score_v ≥ s for every competitor v; s ≥ 0 means the unit can be first (ties
    allowed). Otherwise a mixed-integer programme (``scipy.optimize.milp``) minimises the number
    of competitors allowed above the unit. Bounds are on the normalised weights (default: the
    whole simplex).

    The solvers accept constraints within a feasibility tolerance (~1e-7), finer than a rank
    cares about only at the tie resolution: so the weights found are always re-ranked
    (:func:`rank_vector`), and if they do not give the rank the solver claimed, the programme is
    solved again with a strict gap (score_u − score_v ≥ δ for the competitors kept below, δ
    growing from 1e-7 of each competitor's largest difference; every competitor's constraint is
    scaled to unit size so that differences finer than the solver's tolerance still count).

    Parameters
    ----------
    scores
        Unit × indicator scores.
    bounds
        Bounds on the normalised weights (:func:`bounds_around`); default: the whole simplex.
    rank_group
        Each unit's rank group, or None (all units together).
    composite
        The scheme's composite: a non-linear one is refused (:class:`perflab.composite.NonLinearComposite`).

    Returns
    -------
    pandas.DataFrame
        unit, rank_group, best_rank (always the rank the returned weights give), can_be_first, margin
        (min(score_u − score_v) at the LP's weights, ≥ 0: the unit is first there), and w_<indicator>.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> best_case_ranks(scores)[["unit", "best_rank", "can_be_first"]]
      unit  best_rank  can_be_first
    0    X          1          True
    1    Y          1          True
    2    Z          2         False
    """
    require_linear(check_composite(composite), "best-case weights")
    scores = check_scores(scores)
    cols = scores.columns
    b = check_bounds(bounds, cols) if bounds is not None else np.array([np.zeros(len(cols)), np.ones(len(cols))])
    codes, labels = factorize_groups(rank_group, scores.index)
    S = scores.to_numpy(float)
    scale = max(1.0, float(np.abs(S).max()))
    rows = []
    for u in range(len(S)):
        members = np.flatnonzero(codes == codes[u])
        comp = members[members != u]
        if comp.size == 0:
            wbest, margin = _project((b[0] + b[1]) / 2, b), np.inf
        else:
            wbest, margin = _best_weights(S[u] - S[comp], b, S[members], int(np.flatnonzero(members == u)[0]), scale)
        best = int(ranks_by_group((S[members] @ wbest)[None, :], np.zeros(members.size, int), 1)[0][members == u][0])
        rows.append(
            {
                "unit": scores.index[u],
                "rank_group": labels[codes[u]],
                "best_rank": best,
                "can_be_first": best == 1,
                "margin": margin if np.isfinite(margin) else np.nan,
                **{f"w_{c}": v for c, v in zip(cols, wbest)},
            }
        )
    return pd.DataFrame(rows)


def _project(w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The nearest weights to w that sum to 1 within the bounds b (solvers return them only within a tolerance)."""
    lo, hi = b[0], b[1]
    a, z = (w - hi).min() - 1.0, (w - lo).max() + 1.0  # clip(w - t, lo, hi) sums to >= 1 at t = a, <= 1 at t = z
    for _ in range(200):  # bisection on the shift t
        t = (a + z) / 2
        if np.clip(w - t, lo, hi).sum() > 1.0:
            a = t
        else:
            z = t
    return np.clip(w - (a + z) / 2, lo, hi)


def _rank_at(w: np.ndarray, S: np.ndarray, pos: int) -> int:
    """Rank of the unit at ``pos`` among the rows of S under weights w, as rank_vector."""
    return int(ranks_by_group((S @ w)[None, :], np.zeros(len(S), int), 1)[0][pos])


def _best_weights(D: np.ndarray, b: np.ndarray, S: np.ndarray, pos: int, scale: float):
    """Weights within bounds b giving the unit (row ``pos`` of S; D = its score minus each competitor's, by
    indicator) its best rank: LP for 'can it be first', else the MILP; every answer re-ranked exactly."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    nc, m = D.shape
    # each competitor's row scaled to unit size: the solvers' absolute tolerances (~1e-7) would otherwise
    # accept any weights against a competitor that differs by less than that (a hair behind or ahead)
    row = np.abs(D).max(axis=1)
    Dn = D / np.where(row > 0, row, 1.0)[:, None]
    c = np.zeros(m + 1)
    c[-1] = -1.0
    res = linprog(
        c,
        A_ub=np.hstack([-Dn, np.ones((nc, 1))]),
        b_ub=np.zeros(nc),
        A_eq=np.r_[np.ones(m), 0.0][None, :],
        b_eq=[1.0],
        bounds=list(zip(b[0], b[1])) + [(None, None)],
        method="highs",
        options={"disp": False},
    )
    if res.status != 0:
        raise SchemeError(f"no weights within the bounds: {res.message}")
    w_lp = _project(res.x[:m], b)
    margin = float((D @ w_lp).min())  # in score points, at the LP's weights
    best_w, best_r = w_lp, _rank_at(w_lp, S, pos)
    if best_r == 1:
        return best_w, margin
    # MILP: min sum z  s.t.  Dn w + M z >= delta, sum w = 1, bounds, z binary; a clearly negative LP optimum
    # means the unit cannot be first: at least one competitor stays above (sum z >= 1)
    M = np.abs(Dn).max() * 2 + 1.0
    at_least = 1.0 if -res.fun < -1e-6 else 0.0
    # first allow what the tie rule allows (scores equal to 9 decimals tie: a competitor ahead by less than
    # TIE/2 in points does not count), then ask for ever stricter gaps until the claim holds at the weights found
    tie = np.minimum(0.4 * 10.0**-TIE_DECIMALS / np.where(row > 0, row, 1.0), 0.5)
    for delta in (-tie, 0.0, 1e-7, 1e-6, 1e-5):
        delta = np.broadcast_to(delta, (nc,))
        cons = [
            LinearConstraint(np.hstack([Dn, (M + np.abs(delta))[:, None] * np.eye(nc)]), delta, np.inf),
            LinearConstraint(np.r_[np.ones(m), np.zeros(nc)][None, :], 1.0, 1.0),
            LinearConstraint(np.r_[np.zeros(m), np.ones(nc)][None, :], at_least, np.inf),
        ]
        sol = milp(
            np.r_[np.zeros(m), np.ones(nc)],
            constraints=cons,
            integrality=np.r_[np.zeros(m), np.ones(nc)],
            bounds=Bounds(np.r_[b[0], np.zeros(nc)], np.r_[b[1], np.ones(nc)]),
            options={"mip_rel_gap": 0.0, "disp": False},
        )
        if sol.x is None:
            if not np.any(delta > 0):
                raise SchemeError(f"no weights within the bounds: {sol.message}")
            break
        w = _project(sol.x[:m], b)
        r = _rank_at(w, S, pos)
        if r < best_r:
            best_w, best_r = w, r
        if r <= 1 + int(round(sol.fun)):  # the solver's claim holds exactly at its weights
            break
    return best_w, margin


# ---------------------------------------------------------------------------
# Sobol indices
