"""How items are combined into a score: a weighted mean (arithmetic or geometric), rescaled over the items a unit has.

Every level of the scoring chain uses it: evaluator groups into an indicator
score (by the groups' shares), indicators into the on-site score (by their
weights), components into the final score (by the component weights). An item
a unit lacks (NaN) drops out and the other weights are rescaled, so a missing
item neither pulls the score towards zero nor counts as a zero.
"""

from __future__ import annotations

import numpy as np


def weighted_mean(values, weights, axis: int = -1) -> np.ndarray:
    """Σ w·x / Σ w over the non-missing x along ``axis``; NaN where no item with positive weight is present.

    ``weights`` has one entry per item along ``axis`` (or broadcasts against ``values`` with
    that axis last); negative weights are not checked here (the scheme refuses them).
    """
    v = np.asarray(values, dtype=float)
    v = v if axis in (-1, v.ndim - 1) else np.moveaxis(v, axis, -1)
    w = np.asarray(weights, dtype=float)
    have = ~np.isnan(v)
    ww = np.where(have, w, 0.0)
    wsum = ww.sum(axis=-1)
    total = (np.where(have, v, 0.0) * ww).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), np.nan)


def effective_weights(values, weights, axis: int = -1) -> np.ndarray:
    """Each item's weight in :func:`weighted_mean` for each unit: w / Σ w over the items present (0 where absent).

    ``(effective_weights(x, w) * x).sum(axis)`` (NaN read as 0) is ``weighted_mean(x, w)``: the item
    contributions of a score add up to it.
    """
    v = np.asarray(values, dtype=float)
    last = axis in (-1, v.ndim - 1)
    v = v if last else np.moveaxis(v, axis, -1)
    w = np.asarray(weights, dtype=float)
    ww = np.where(~np.isnan(v), w, 0.0)
    wsum = ww.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, ww / np.where(wsum > 0, wsum, 1.0), 0.0)
    return out if last else np.moveaxis(out, -1, axis)


def weighted_geometric_mean(values, weights, axis: int = -1) -> np.ndarray:
    """Π x^(w/Σw) over the non-missing x along ``axis``: the non-compensatory composite (a weak item is not
    bought back by a strong one). Scores must be positive; a zero score makes the composite zero.

    Examples
    --------
    >>> weighted_geometric_mean([[25.0, 100.0]], [1, 1]).round(6).tolist()
    [50.0]
    >>> weighted_geometric_mean([[25.0, np.nan]], [1, 1]).round(6).tolist()  # a missing item drops out
    [25.0]
    """
    v = np.asarray(values, dtype=float)
    v = v if axis in (-1, v.ndim - 1) else np.moveaxis(v, axis, -1)
    if (v[~np.isnan(v)] < 0).any():
        raise ValueError("a geometric composite needs scores of zero or more; found a negative score")
    with np.errstate(divide="ignore"):
        logs = np.log(v)  # log 0 = -inf: the composite is 0
    w = np.asarray(weights, dtype=float)
    have = ~np.isnan(v)
    ww = np.where(have, w, 0.0)
    wsum = ww.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(ww > 0, np.where(have, logs, 0.0) * ww, 0.0).sum(axis=-1)
        return np.where(wsum > 0, np.exp(total / np.where(wsum > 0, wsum, 1.0)), np.nan)


# The aggregations a scheme may name (`composite:`); a new one is a function (values, weights, axis) -> scores.
COMPOSITES = {"arithmetic": weighted_mean, "geometric": weighted_geometric_mean}
LINEAR = ("arithmetic",)  # composites in which a score is linear in each weight (after renormalising)


def aggregate(values, weights, method: str = "arithmetic", axis: int = -1) -> np.ndarray:
    """Combine items into a score with the named composite (``arithmetic`` or ``geometric``).

    Examples
    --------
    >>> aggregate([[60.0, 90.0]], [2, 1]).round(6).tolist()
    [70.0]
    >>> aggregate([[60.0, 90.0]], [2, 1], "geometric").round(3).tolist()
    [68.683]
    """
    try:
        fn = COMPOSITES[method]
    except KeyError:
        raise ValueError(f"unknown composite {method!r}; use {' or '.join(COMPOSITES)}") from None
    return fn(values, weights, axis=axis)


def parts(values, weights, method: str = "arithmetic", axis: int = -1) -> np.ndarray:
    """Each item's part of the composite score, the parts of a unit adding up to :func:`aggregate` (0 where absent).

    ``arithmetic``: the item's score times its :func:`effective_weights` (exact: the composite is that sum).
    ``geometric``: a geometric mean g is exp(Σ ŵ·ln x), so the item's part is its share of the log,
    g · ŵ·ln x / Σ ŵ·ln x (ŵ the weights rescaled over the items present); where that log total is not
    positive (g <= 1, a zero score) the part is g · ŵ. The geometric parts add up exactly but are an
    attribution, not a marginal effect: a term is not linear in its own score.

    Examples
    --------
    >>> parts([[60.0, 90.0]], [2, 1]).round(6).tolist()
    [[40.0, 30.0]]
    >>> p = parts([[60.0, 90.0]], [2, 1], "geometric")
    >>> p.round(3).tolist(), bool(np.isclose(p.sum(), aggregate([[60.0, 90.0]], [2, 1], "geometric")[0]))
    ([[44.325, 24.357]], True)
    """
    v = np.asarray(values, dtype=float)
    last = axis in (-1, v.ndim - 1)
    v = v if last else np.moveaxis(v, axis, -1)
    ew = effective_weights(v, weights)
    if method in LINEAR:
        out = np.nan_to_num(v) * ew
    else:
        score = aggregate(v, weights, method)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(ew > 0, ew * np.log(np.where(np.isnan(v), 1.0, v)), 0.0)
            total = logs.sum(axis=-1, keepdims=True)
            share = np.where(np.isfinite(total) & (total > 0), logs / np.where(total > 0, total, 1.0), ew)
        out = np.nan_to_num(score) * share
    return out if last else np.moveaxis(out, -1, axis)


def require_linear(method: str, what: str) -> None:
    """Refuse an analysis whose exactness rests on scores being linear in the weights under a non-linear composite.

    Examples
    --------
    >>> require_linear("arithmetic", "exact stability intervals")
    >>> require_linear("geometric", "exact stability intervals")
    Traceback (most recent call last):
    ...
    perflab.composite.NonLinearComposite: exact stability intervals need a linear composite ...
    """
    if method not in LINEAR:
        raise NonLinearComposite(
            f"{what} need a linear composite (scores linear in each weight); the scheme's composite is {method!r}: "
            "use the Monte Carlo or Sobol analysis instead, or set composite: arithmetic"
        )


class NonLinearComposite(ValueError):
    """An exact method asked of a non-linear composite."""
