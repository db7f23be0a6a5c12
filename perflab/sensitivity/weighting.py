"""Weights and the scores they give: the composite of many weight vectors at once, moved and random weights.

:func:`composite_scores` is the one place the sensitivity analyses combine indicator scores with weights:
the arithmetic composite by an elementwise loop (a row's result never depends on the chunk it is in), any
other through :func:`perflab.composite.aggregate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.composite import aggregate
from perflab.errors import SchemeError
from perflab.sensitivity._checks import check_number, check_weights

METHODS = ("uniform", "dirichlet", "simplex")


def composite_scores(W: np.ndarray, S: np.ndarray, composite: str = "arithmetic", final_map=None) -> np.ndarray:
    """Scores of every unit under every weight vector (draws × units): rows of W (summing to 1) applied to S.

    ``S`` is units × indicators, or draws × units × indicators (a score table per draw). ``final_map``:
    None, or (factor, offset) arrays by unit mapping each composite to the final score (see
    :func:`perflab.sensitivity.final_map`).

    Examples
    --------
    >>> S = np.array([[60.0, 90.0], [80.0, 70.0]])
    >>> composite_scores(np.array([[2 / 3, 1 / 3]]), S).round(3).tolist()
    [[70.0, 76.667]]
    >>> composite_scores(np.array([[2 / 3, 1 / 3]]), S, "geometric").round(3).tolist()
    [[68.683, 76.517]]
    """
    if composite == "arithmetic" and S.ndim == 2:
        X = np.multiply(W[:, 0:1], S[:, 0])
        tmp = np.empty_like(X)
        for i in range(1, S.shape[1]):
            np.multiply(W[:, i : i + 1], S[:, i], out=tmp)
            X += tmp
    else:
        X = aggregate(S if S.ndim == 3 else S[None, :, :], W[:, None, :], composite)
    if final_map is not None:
        factor, offset = final_map
        X = X * factor + offset
    return X


def moved_weights(w: np.ndarray, j: int, value: float) -> np.ndarray:
    """Weights with weight j set to ``value`` and the others rescaled proportionally to keep the total.

    Examples
    --------
    >>> moved_weights(np.array([50.0, 30.0, 20.0]), 0, 60.0).tolist()
    [60.0, 24.0, 16.0]
    """
    total, rest = w.sum(), w.sum() - w[j]
    out = w * ((total - value) / rest) if rest > 0 else np.zeros_like(w)
    out[j] = value
    return out


def dirichlet_concentration(base: np.ndarray, spread: float) -> float:
    """Dirichlet concentration giving the indicator of average weight a coefficient of variation ``spread``."""
    p = 1.0 / np.count_nonzero(base)
    return (1.0 - p) / (p * spread**2) - 1.0


def draw_weights(
    base,
    n: int,
    method: str = "uniform",
    spread: float = 0.2,
    concentration: float | None = None,
    bounds: np.ndarray | None = None,
    seed=0,
) -> np.ndarray:
    """``n`` weight vectors (rows sum to 1) around the normalised ``base`` weights, as :func:`monte_carlo` draws them.

    ``method``: ``"uniform"`` (each weight times U(1 − spread, 1 + spread), renormalised), ``"dirichlet"``
    (centred on the base, with ``concentration``) or ``"simplex"`` (uniform on the simplex, within
    ``bounds``: lower and upper rows × indicators). ``seed``: an int, a SeedSequence or a Generator.

    Examples
    --------
    >>> W = draw_weights(np.array([0.5, 0.3, 0.2]), 4, spread=0.2, seed=1)
    >>> W.shape, bool(np.allclose(W.sum(axis=1), 1))
    ((4, 3), True)
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(base, dtype=float)
    if method == "dirichlet" and concentration is None and spread > 0:
        concentration = dirichlet_concentration(base, spread)
    return _draw(rng, base, n, method, spread, concentration, bounds)


def _draw(rng, base, c, method, spread, concentration, bounds) -> np.ndarray:
    m = base.size
    if method == "simplex":
        return _draw_bounded_simplex(rng, m, c, bounds)
    if spread == 0:
        return np.broadcast_to(base, (c, m)).copy()
    if method == "uniform":
        w = base * rng.uniform(1.0 - spread, 1.0 + spread, size=(c, m))
    else:
        pos = base > 0
        w = np.zeros((c, m))
        w[:, pos] = rng.standard_gamma(concentration * base[pos], size=(c, int(pos.sum())))
    return w / w.sum(axis=1, keepdims=True)


def _draw_bounded_simplex(rng: np.random.Generator, m: int, c: int, bounds: np.ndarray | None) -> np.ndarray:
    """c weight vectors uniform on {w : sum w = 1, lower <= w <= upper}.

    w = lower + (1 − Σ lower)·Dirichlet(1, …, 1) is uniform on the part of the simplex above the lower
    bounds (an affine image of the uniform simplex); rejecting on the upper bounds alone leaves the
    uniform distribution on the bounded polytope. Acceptance does not shrink with the bounds' width
    (±rel around the base shares gives the same acceptance for any rel); batches are sized from the
    acceptance seen so far, so a few vectorised batches fill a chunk.
    """
    lower = np.zeros(m) if bounds is None else bounds[0]
    upper = np.ones(m) if bounds is None else bounds[1]
    free = 1.0 - lower.sum()
    if free <= 0:  # the lower bounds already sum to 1: a single point
        return np.broadcast_to(lower / lower.sum(), (c, m)).copy()
    check = bool((upper < lower + free).any())  # otherwise no upper bound can bind
    parts, kept, drawn, accepted = [], 0, 0, 0
    size = c
    while kept < c:
        g = rng.standard_exponential((size, m))
        w = lower + free * (g / g.sum(axis=1, keepdims=True))
        drawn += size
        if check:
            w = w[(w <= upper).all(axis=1)]
        accepted += w.shape[0]
        parts.append(w)
        kept += w.shape[0]
        if drawn >= 1_000_000 and accepted < 1e-4 * drawn:
            raise SchemeError(
                f"the upper weight bounds keep only {accepted} of {drawn:,} draws above the lower bounds: widen them"
            )
        rate = max(accepted / drawn, 1e-3)
        size = int(min(1 << 20, max(1024, 1.2 * (c - kept) / rate)))
    return np.vstack(parts)[:c]


def bounds_around(weights, rel: float = 0.5) -> pd.DataFrame:
    """Bounds on the normalised weights: each within ±rel of its base share (clipped to [0, 1]).

    Parameters
    ----------
    weights
        A Series of weights by indicator (any total).
    rel
        The relative half-width (0.5: ±50 % of each share).

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator: lower, upper.

    Examples
    --------
    >>> bounds_around(pd.Series({"a": 3.0, "b": 1.0}), 0.5)
         lower  upper
    a  0.375  1.000
    b  0.125  0.375
    """
    idx = weights.index if isinstance(weights, pd.Series) else pd.RangeIndex(len(np.atleast_1d(weights)))
    w = pd.Series(check_weights(weights, idx), index=idx)
    if check_number(rel, "rel", "a non-negative number") < 0:
        raise ValueError(f"rel must be a non-negative number, got {rel!r}")
    p = w / w.sum()
    return pd.DataFrame({"lower": (p * (1 - rel)).clip(0, 1), "upper": (p * (1 + rel)).clip(0, 1)})
