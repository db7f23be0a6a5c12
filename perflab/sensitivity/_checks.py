"""Validation at the boundary of the sensitivity functions: one clear message naming the offending value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.errors import DataError, SchemeError


def check_scores(scores: pd.DataFrame, what: str = "scores") -> pd.DataFrame:
    """A non-empty numeric unit × column table with unique units and finite values."""
    if not isinstance(scores, pd.DataFrame):
        raise DataError(f"{what} must be a unit × indicator DataFrame, got {type(scores).__name__}")
    if scores.shape[0] < 1 or scores.shape[1] < 1:
        raise DataError(f"{what} table is empty ({scores.shape[0]} units × {scores.shape[1]} columns)")
    if scores.index.has_duplicates:
        raise DataError(f"{what}: duplicated unit {scores.index[scores.index.duplicated()][0]!r}")
    try:
        vals = scores.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numeric") from None
    bad = ~np.isfinite(vals)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(f"{what}: unit {scores.index[i]!r} has no finite score for {scores.columns[j]!r}")
    return scores


def check_weights(weights, columns: pd.Index, what: str = "weights", item: str = "indicator") -> np.ndarray:
    """Weights aligned to ``columns``: labels must match, all >= 0, not all zero."""
    if isinstance(weights, pd.Series):
        missing = [c for c in columns if c not in weights.index]
        extra = [c for c in weights.index if c not in set(columns)]
        if missing or extra:
            raise SchemeError(f"{what} do not match the {item}s of the table: missing {missing}, unknown {extra}")
        w = weights.reindex(columns).to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != len(columns):
            raise SchemeError(f"{what} have length {w.size}; the table has {len(columns)} {item}s")
    if not np.isfinite(w).all():
        raise SchemeError(f"{what} must be finite numbers, got {w.tolist()}")
    if (w < 0).any():
        j = int(np.argmax(w < 0))
        raise SchemeError(f"negative {what[:-1] if what.endswith('s') else what} {w[j]:g} for {item} {columns[j]!r}")
    if w.sum() <= 0:
        raise SchemeError(f"all {what} are zero; at least one must be positive")
    return w


def check_n(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {n!r}")
    return int(n)


def check_k(k) -> int:
    return check_n(k, "k")


def check_number(x, name: str, what: str) -> float:
    """A real number (not a string or None): one clear error naming the value otherwise."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
        raise ValueError(f"{name} must be {what}, got {x!r}")
    return float(x)


def check_composite(composite) -> str:
    from perflab.composite import COMPOSITES

    if composite not in COMPOSITES:
        raise ValueError(f"unknown composite {composite!r}; use {' or '.join(COMPOSITES)}")
    return composite


def seed_record(seed, root: np.random.SeedSequence):
    """What to record as the seed: the int given, or the entropy drawn from a Generator (reruns with it)."""
    return int(seed) if isinstance(seed, (int, np.integer)) else int(root.entropy)


def seed_sequence(seed) -> np.random.SeedSequence:
    """A SeedSequence from an int seed or a numpy Generator (which is advanced once)."""
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number or a numpy Generator, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def check_flags(flags, units: pd.Index, name: str = "written_report") -> np.ndarray:
    """A boolean per unit from a boolean Series indexed by unit or a collection of unit ids."""
    if isinstance(flags, pd.Series) and (flags.dtype == bool or flags.dtype == "boolean"):
        missing = units.difference(flags.index)
        if len(missing):
            raise DataError(f"{name} has no value for unit {missing[0]!r}")
        return flags.reindex(units).astype(bool).to_numpy()
    ids = list(flags.to_numpy()) if isinstance(flags, pd.Series) else list(flags)
    unknown = [u for u in ids if u not in set(units)]
    if unknown:
        raise DataError(f"{name}: unknown unit {unknown[0]!r}")
    return units.isin(ids)


def check_bounds(bounds: pd.DataFrame, columns: pd.Index) -> np.ndarray:
    """Bounds (lower, upper rows × indicators) on the normalised weights, feasible."""
    if not isinstance(bounds, pd.DataFrame) or not {"lower", "upper"} <= set(bounds.columns):
        raise SchemeError("bounds must be a DataFrame with columns lower and upper, indexed by indicator")
    missing = [c for c in columns if c not in bounds.index]
    if missing:
        raise SchemeError(f"bounds have no row for indicator(s) {missing}")
    b = bounds.reindex(columns)[["lower", "upper"]].to_numpy(float).T
    if (b < 0).any() or (b > 1).any() or (b[0] > b[1]).any():
        raise SchemeError("bounds on the normalised weights must satisfy 0 <= lower <= upper <= 1")
    if b[0].sum() > 1 + 1e-12 or b[1].sum() < 1 - 1e-12:
        raise SchemeError(f"no weights within the bounds sum to 1 (lower sum {b[0].sum():g}, upper sum {b[1].sum():g})")
    return b


def check_shares(shares, groups, group: str) -> pd.Series:
    """Shares of the evaluator groups (matching ``groups``, each in [0, 1]), normalised to sum to 1."""
    if not isinstance(shares, pd.Series):
        raise SchemeError("shares must be a Series indexed by evaluator group")
    if group not in shares.index:
        raise SchemeError(f"unknown evaluator group {group!r}; known: {', '.join(map(str, shares.index))}")
    missing = [g for g in groups if g not in shares.index]
    extra = [g for g in shares.index if g not in set(groups)]
    if missing or extra:
        raise SchemeError(f"shares do not match the groups of the table: missing {missing}, unknown {extra}")
    s = shares.astype(float)
    bad = s[(s < 0) | (s > 1) | ~np.isfinite(s)]
    if len(bad):
        raise SchemeError(f"share of {bad.index[0]!r} must lie in [0, 1], got {bad.iloc[0]}")
    if s.sum() <= 0:
        raise SchemeError("all shares are zero; at least one must be positive")
    return s / s.sum()


def check_range(share_range, what="share_range") -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in share_range)
    except (TypeError, ValueError):
        raise SchemeError(f"{what} must be a pair (low, high), got {share_range!r}") from None
    if not (0.0 <= lo < hi <= 1.0):
        raise SchemeError(f"{what} must satisfy 0 <= low < high <= 1, got {share_range!r}")
    return lo, hi
