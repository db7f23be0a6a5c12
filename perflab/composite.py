"""How items are combined into a score: the weighted arithmetic mean, rescaled over the items a unit has.

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
