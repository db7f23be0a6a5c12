"""How fragile is the ranking? Weight sensitivity, exact stability intervals and evaluator-group shares.

Inputs are a unit × indicator score table (units as the index, indicators as
columns; :func:`unit_indicator_scores` builds one on the final-score scale),
a weight vector (a Series indexed by indicator, in the scheme's units), and
where needed the unit × evaluator-group table (:func:`unit_group_scores`) with
the group shares. Ranks are 1 = best, ties take the lowest rank, scores equal
to 9 decimals tie (as :func:`perflab.scoring.rank_desc`); ``ranks_within``
(each unit's kind, or None to rank all units together; :func:`ranking_groups`
derives it from the scheme) ranks units only against their own ranking group,
reported in the ``rank_group`` column of every result table.

* :func:`one_at_a_time` — each weight moved by ±x % of its value, the others rescaled.
* :func:`monte_carlo` — rank distributions under random weights (uniform ±x %
  then renormalised, the COINr convention, or Dirichlet centred on the base
  weights), optionally with the raters bootstrapped within their groups
  (:func:`rater_bootstrap`); vectorised over draws in chunks that bound memory.
  :func:`written_report_units` marks the units whose on-site score is imputed:
  their results describe their kind's average profile and are reported apart.
* :func:`sobol_indices` — first- and total-order Sobol indices of each weight
  and of one group's share, every input moved by the same ±x % of its value by
  default, on every unit's rank and on the mean absolute rank shift of each
  ranking group (Saltelli 2010 / Jansen estimators, as SALib), with SALib's
  bootstrap confidence intervals and the interaction share 1 − ΣS1.
* :func:`stability_intervals` and :func:`share_breakpoints` — exact answers:
  with additive aggregation every score is linear in one weight (the others
  rescaled proportionally) or in one group's share, so every rank change
  happens at a pairwise crossing point, computed exactly.
* :func:`rank_acceptability` (SMAA) and :func:`best_case_ranks` (a mixed-integer
  linear programme): could any weighting within the bounds put a unit first?
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.errors import DataError, SchemeError
from perflab.io import Dataset
from perflab.ranking import _Q, TIE_DECIMALS, rank_groups, rank_vector  # noqa: F401  (public here too)
from perflab.ranking import factorize_groups as _groups
from perflab.ranking import quantise as _quantise
from perflab.ranking import rank_rows as _rank_rows
from perflab.ranking import ranks_by_group as _ranks
from perflab.scheme import Scheme

ranking_groups = rank_groups  # the old name

CHUNK = 2048  # draws per chunk: bounds memory (a chunk of 76 units is ~1 MB, cache-sized) and fixes the random streams
METHODS = ("uniform", "dirichlet", "simplex")
SHIFT = "mean_abs_shift"

__all__ = [
    "score_cube",
    "ranking_groups",
    "unit_indicator_scores",
    "unit_group_scores",
    "written_report_units",
    "share_grade_changes",
    "stable_share_range",
    "one_at_a_time",
    "monte_carlo",
    "MonteCarloResult",
    "rater_bootstrap",
    "replicate_error",
    "MIN_REPLICATES",
    "ScoreDraws",
    "sobol_indices",
    "SobolResult",
    "stability_intervals",
    "StabilityResult",
    "share_breakpoints",
    "ShareBreakpoints",
    "rank_acceptability",
    "best_case_ranks",
    "bounds_around",
    "rank_vector",
    "share_path",
    "saltelli_sample",
    "sobol_estimates",
    "sobol_confidence",
    "SOBOL_N",
    "kendall_tau_b",
]


# ---------------------------------------------------------------------------
# input tables from a data set
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cube:
    """Unit × indicator × group scores on a chosen scale, and how on-site scores map to it."""

    units: pd.Index
    indicators: list[str]
    groups: list[str]
    values: np.ndarray  # (units, indicators, groups)
    presented: np.ndarray  # positions (in units) of the units with on-site scores
    c_onsite: np.ndarray  # (units,) weight of the on-site score in the final score
    offset: np.ndarray  # (units,) the rest of the final score
    onsite_map: (
        np.ndarray
    )  # (units, presented): each unit's on-site score from the presented units' (identity or imputation)


def _onsite_cube(
    gs: pd.DataFrame, units: list, indicators: list, groups: list, shares: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Dense (unit, indicator, group) on-site scores; holes filled so the scheme's rescaling is reproduced.

    A group absent for a unit and indicator gets the share-weighted mean of the groups present (the scheme
    rescales the shares over them); an indicator nobody scored gets the unit's on-site score (the scheme
    rescales the weights). Both are exact at the nominal shares and weights, and linear approximations away.
    """
    from perflab.scoring import group_cube

    return _fill_cube(group_cube(gs, units, indicators, groups), shares, weights)


def _fill_cube(cube: np.ndarray, shares: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Fill the holes of a (..., unit, indicator, group) cube (see :func:`_onsite_cube`)."""
    have = ~np.isnan(cube)
    sw = have * shares
    with np.errstate(invalid="ignore", divide="ignore"):
        ind = np.nansum(np.nan_to_num(cube) * sw, axis=-1) / sw.sum(axis=-1)  # (..., unit, indicator)
    cube = np.where(have, cube, ind[..., None])
    hv = ~np.isnan(ind)
    ww = hv * weights
    with np.errstate(invalid="ignore", divide="ignore"):
        onsite = np.nansum(np.nan_to_num(ind) * ww, axis=-1) / ww.sum(axis=-1)  # (..., unit)
    return np.where(np.isnan(cube), onsite[..., None, None], cube)


def _cube(dataset: Dataset, scheme: Scheme, scale: str) -> _Cube:
    from perflab import scoring

    if scale not in ("final", "onsite"):
        raise ValueError(f"scale must be 'final' or 'onsite', got {scale!r}")
    gs = scoring.group_scores(dataset, scheme)
    inds, groups = scheme.indicator_ids, scheme.group_ids
    shares = scheme.shares.reindex(groups).to_numpy(float)
    weights = scheme.weights.reindex(inds).to_numpy(float)
    if scale == "onsite":
        scored = set(gs["unit"])
        units = [u for u in dataset.units["unit"] if u in scored]
        vals = _onsite_cube(gs, units, inds, groups, shares, weights)
        n = len(units)
        return _Cube(pd.Index(units, name="unit"), inds, groups, vals, np.arange(n), np.ones(n), np.zeros(n), np.eye(n))
    su = scoring.score_units(dataset, scheme).set_index("unit").reindex(dataset.units["unit"])
    units = list(su.index)
    scored = set(gs["unit"])
    pres_units = [u for u in units if u in scored]
    pos = {u: n for n, u in enumerate(units)}
    presented = np.array([pos[u] for u in pres_units], dtype=int)
    onsite_cube = _onsite_cube(gs, pres_units, inds, groups, shares, weights)
    # final = c_onsite * onsite + offset: scoring.final_scores is affine in the on-site score of every unit
    # (imputed units take scoring.impute_components' mean of their kind), so two evaluations give both exactly
    comp = su[[c for c in scheme.components if c in su.columns]].astype(float)
    kinds = su["kind"]
    onsite_map = np.zeros((len(units), presented.size))
    onsite_map[presented, np.arange(presented.size)] = 1.0
    onehot = pd.DataFrame(
        np.where(np.isin(np.arange(len(units)), presented)[:, None], onsite_map, np.nan), index=su.index
    )
    onsite_map = np.nan_to_num(scoring.impute_components(onehot, scheme, kinds).to_numpy(float))
    has = onsite_map.sum(axis=1) > 0
    at = [
        scoring.final_scores(comp.assign(onsite=np.where(has, x, np.nan)), scheme, kinds)["final"].to_numpy(float)
        for x in (0.0, 1.0)
    ]
    offset, c_on = at[0], at[1] - at[0]
    if "onsite" not in comp.columns or scheme.components.get("onsite", 0) <= 0:
        c_on = np.zeros(len(units))
        offset = su["final"].to_numpy(float)
    vals = c_on[:, None, None] * np.einsum("up,pig->uig", onsite_map, onsite_cube) + offset[:, None, None]
    return _Cube(pd.Index(units, name="unit"), inds, groups, vals, presented, c_on, offset, onsite_map)


def score_cube(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Long table (unit, indicator, group, score): each group's score for each unit and indicator.

    ``scale="final"`` puts the scores on the final-score scale (on-site share of the
    final score plus the rest of it, written-report units imputed as the scheme
    says), so that combining them with the scheme's shares and weights gives each
    unit's final score exactly; ``scale="onsite"`` gives the on-site scores of the
    units that presented.
    """
    c = _cube(dataset, scheme, scale)
    idx = pd.MultiIndex.from_product([c.units, c.indicators, c.groups], names=["unit", "indicator", "group"])
    return pd.DataFrame({"score": c.values.ravel()}, index=idx).reset_index()


def unit_indicator_scores(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Unit × indicator scores whose weighted mean (scheme weights) is each unit's final (or on-site) score."""
    c = _cube(dataset, scheme, scale)
    s = scheme.shares.reindex(c.groups).to_numpy(float)
    vals = (c.values * s).sum(axis=-1) / s.sum()
    return pd.DataFrame(vals, index=c.units, columns=pd.Index(c.indicators, name="indicator"))


def unit_group_scores(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Unit × evaluator-group scores (indicators combined by the scheme's weights); shares combine them."""
    c = _cube(dataset, scheme, scale)
    w = scheme.weights.reindex(c.indicators).to_numpy(float)
    vals = np.einsum("uig,i->ug", c.values, w) / w.sum()
    return pd.DataFrame(vals, index=c.units, columns=pd.Index(c.groups, name="group"))


def written_report_units(dataset: Dataset, scheme: Scheme) -> pd.Series:
    """True for every unit with no on-site ratings (it submitted a written report only), whose on-site score
    the scheme imputes (``scoring.impute_components``: the mean of its kind), False for the units that
    presented. Indexed by unit, in the order of the units table; name ``written_report``.

    Sensitivity results of these units describe the imputed average profile, not the unit: report them apart.
    """
    from perflab import scoring

    scored = set(scoring.group_scores(dataset, scheme)["unit"])
    u = dataset.units["unit"]
    return pd.Series([x not in scored for x in u], index=pd.Index(u, name="unit"), name="written_report", dtype=bool)


def _check_flags(flags, units: pd.Index, name: str = "written_report") -> np.ndarray:
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


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _check_scores(scores: pd.DataFrame, what: str = "scores") -> pd.DataFrame:
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


def _check_weights(weights, columns: pd.Index, what: str = "weights", item: str = "indicator") -> np.ndarray:
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


def _check_n(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {n!r}")
    return int(n)


def _check_k(k) -> int:
    return _check_n(k, "k")


def _check_number(x, name: str, what: str) -> float:
    """A real number (not a string or None): one clear error naming the value otherwise."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
        raise ValueError(f"{name} must be {what}, got {x!r}")
    return float(x)


def _seed_record(seed, root: np.random.SeedSequence):
    """What to record as the seed: the int given, or the entropy drawn from a Generator (reruns with it)."""
    return int(seed) if isinstance(seed, (int, np.integer)) else int(root.entropy)


def _rng_seed(seed) -> np.random.SeedSequence:
    """A SeedSequence from an int seed or a numpy Generator (which is advanced once)."""
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number or a numpy Generator, got {seed!r}")
    return np.random.SeedSequence(int(seed))


# ---------------------------------------------------------------------------
# ranking kernels
# ---------------------------------------------------------------------------


def _scores(W: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Weighted sums, draws × units: elementwise (not BLAS) so a row's result never depends on the chunk."""
    X = np.multiply(W[:, 0:1], S[:, 0])
    tmp = np.empty_like(X)
    for i in range(1, S.shape[1]):
        np.multiply(W[:, i : i + 1], S[:, i], out=tmp)
        X += tmp
    return X


def _kendall_tau_b(R: np.ndarray, nominal: np.ndarray, chunk_pairs: int = 4096) -> np.ndarray:
    """Kendall's tau-b of each row of ranks R against the nominal ranks.

    Rows without ties against a tie-free nominal ranking (the usual case) count inversions with
    128-bit masks, one pass per position (O(n) per draw); the others compare all pairs' signs.
    """
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
        tau[rest] = _kendall_pairs(R[rest], nominal, chunk_pairs)
    return tau


def kendall_tau_b(R: np.ndarray, nominal: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of ranks ``R`` (draws or scenarios × units) against the ``nominal`` ranks.

    Vectorised over rows (as ``scipy.stats.kendalltau`` row by row, ties handled); NaN where either side is constant.
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    return _kendall_tau_b(R, np.asarray(nominal, dtype=float))


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


# ---------------------------------------------------------------------------
# one at a time
# ---------------------------------------------------------------------------


def _moved(w: np.ndarray, j: int, value: float) -> np.ndarray:
    """Weights with weight j set to ``value`` and the others rescaled proportionally to keep the total."""
    total, rest = w.sum(), w.sum() - w[j]
    out = w * ((total - value) / rest) if rest > 0 else np.zeros_like(w)
    out[j] = value
    return out


def one_at_a_time(scores: pd.DataFrame, weights, step: float = 0.2, ranks_within=None) -> pd.DataFrame:
    """Each weight moved by −step and +step of its own value, the others rescaled to keep the total.

    ``step`` is a relative change (0.2: ±20 % of each weight, so ±5 points of a 25-point weight and ±2
    points of a 10-point one), the same for every indicator; a weight of 0 does not move and is left
    out. Long table: indicator, change (the relative change, −step/+step), nominal_weight, weight
    (the moved weight, at most the total), unit, rank_group, nominal_rank, rank, rank_change
    (positive = worse).
    """
    scores = _check_scores(scores)
    w = _check_weights(weights, scores.columns)
    step = _check_number(step, "step", "a relative change in (0, 1] (0.2 = ±20 % of each weight)")
    if not 0 < step <= 1:
        raise ValueError(f"step must be a relative change in (0, 1] (0.2 = ±20 % of each weight), got {step!r}")
    codes, labels = _groups(ranks_within, scores.index)
    S = scores.to_numpy(float)
    wn = w / w.sum()
    nominal = _ranks(_scores(wn[None, :], S), codes, len(labels))[0]
    rows = []
    for j, ind in enumerate(scores.columns):
        if w.sum() - w[j] <= 0 or w[j] <= 0:
            continue  # the only positive weight (nothing to rescale), or a zero weight (no relative change)
        for sign in (-1.0, 1.0):
            value = float(min(w[j] * (1.0 + sign * step), w.sum()))
            wj = _moved(w, j, value)
            r = _ranks(_scores((wj / wj.sum())[None, :], S), codes, len(labels))[0]
            rows.append(
                pd.DataFrame(
                    {
                        "indicator": ind,
                        "change": sign * step,
                        "nominal_weight": w[j],
                        "weight": value,
                        "unit": scores.index,
                        "rank_group": np.array(labels, dtype=object)[codes],
                        "nominal_rank": nominal,
                        "rank": r,
                        "rank_change": r - nominal,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------------------
# evaluator resampling
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreDraws:
    """Replicates of a unit × indicator score table (``values``: replicates × units × indicators).

    ``written_report``: for each unit, True when it has no on-site ratings and its on-site score is
    imputed as the scheme says (its replicates then move only with the units it is imputed from);
    None when unknown.
    """

    units: pd.Index
    indicators: pd.Index
    values: np.ndarray
    written_report: np.ndarray | None = None

    def halves(self) -> tuple[ScoreDraws, ScoreDraws]:
        """The first and the second half of the replicates (to see the Monte Carlo error of a result)."""
        h = self.values.shape[0] // 2
        if h < 1:
            raise ValueError(f"{self.values.shape[0]} replicate(s) cannot be split in two halves")
        return (
            ScoreDraws(self.units, self.indicators, self.values[:h], self.written_report),
            ScoreDraws(self.units, self.indicators, self.values[h : 2 * h], self.written_report),
        )


def _bootstrap_design(dataset: Dataset, scheme: Scheme, units: list):
    """Padded per-cell rater arrays: for each (unit, indicator, group) cell the raters sorted by score."""
    inds, groups = scheme.indicator_ids, scheme.group_ids
    r = dataset.ratings[["rater", "unit", "indicator", "score"]].merge(
        dataset.raters[["rater", "group"]], on="rater", how="left"
    )
    r = r[r["unit"].isin(units) & r["group"].isin(groups) & r["indicator"].isin(inds)]
    raters = pd.Index(pd.unique(dataset.raters["rater"]))
    ui = pd.Index(units).get_indexer(r["unit"])
    ii = pd.Index(inds).get_indexer(r["indicator"])
    gi = pd.Index(groups).get_indexer(r["group"])
    ri = raters.get_indexer(r["rater"])
    cell = (ui * len(inds) + ii) * len(groups) + gi
    order = np.lexsort((r["score"].to_numpy(float), cell))
    cell, score, ri = cell[order], r["score"].to_numpy(float)[order], ri[order]
    n_cells = len(units) * len(inds) * len(groups)
    sizes = np.bincount(cell, minlength=n_cells)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(cell.size) - start[cell]
    width = max(1, int(sizes.max(initial=1)))
    vals = np.zeros((n_cells, width))
    rix = np.full((n_cells, width), len(raters), dtype=np.intp)  # padding: a rater that is never drawn
    vals[cell, pos] = score
    rix[cell, pos] = ri
    rater_group = pd.Index(groups).get_indexer(dataset.raters.set_index("rater")["group"].reindex(raters))
    return vals, rix, raters, rater_group


def _group_means(counts: np.ndarray, vals: np.ndarray, rix: np.ndarray, trim: int) -> np.ndarray:
    """Group scores of every cell under rater multiplicities ``counts`` (replicates × raters+1).

    The trimmed mean of the resampled raters drops ``trim`` of the (repeated) highest and lowest
    scores; with too few draws to trim, the median (the limit of trimming), as the scheme does.
    """
    wts = counts[:, rix].astype(float)  # (b, cells, width), raters sorted by score within a cell
    N = wts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if trim == 0:
            return (wts * vals).sum(axis=-1) / N
        cum = np.cumsum(wts, axis=-1)
        prev = cum - wts
        kept = np.clip(np.minimum(cum, (N - trim)[..., None]) - np.maximum(prev, trim), 0.0, None)
        out = (kept * vals).sum(axis=-1) / (N - 2 * trim)
        small = (N <= 2 * trim) & (N > 0)
        if small.any():
            lo = np.floor((N - 1) / 2)
            hi = np.floor(N / 2)
            ilo = np.minimum((cum <= lo[..., None]).sum(axis=-1), vals.shape[-1] - 1)
            ihi = np.minimum((cum <= hi[..., None]).sum(axis=-1), vals.shape[-1] - 1)
            v = np.broadcast_to(vals, wts.shape)
            med = 0.5 * (
                np.take_along_axis(v, ilo[..., None], -1)[..., 0] + np.take_along_axis(v, ihi[..., None], -1)[..., 0]
            )
            out = np.where(small, med, out)
        return np.where(N > 0, out, np.nan)


def _replicate_scores(counts: np.ndarray, c: _Cube, vals: np.ndarray, rix: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Unit × indicator scores (replicates × units × indicators) when each rater counts ``counts`` times.

    The vectorised form of scoring.group_scores → indicator_scores → onsite_scores → final_scores on a
    panel in which rater r appears counts[r] times (tested against those functions on such a panel).
    """
    shares = scheme.shares.reindex(c.groups).to_numpy(float)
    weights = scheme.weights.reindex(c.indicators).to_numpy(float)
    shape = (len(counts), c.presented.size, len(c.indicators), len(c.groups))
    cube = _fill_cube(_group_means(counts, vals, rix, scheme.aggregation.trim).reshape(shape), shares, weights)
    full = np.einsum("up,bpig->buig", c.onsite_map, cube)  # presented units as they are, imputed as the scheme
    full = c.c_onsite[None, :, None, None] * full + c.offset[None, :, None, None]  # identity on the onsite scale
    return (full * shares).sum(axis=-1) / shares.sum()


def rater_bootstrap(
    dataset: Dataset, scheme: Scheme, n: int = 200, seed=0, scale: str = "final", progress: bool = False
) -> ScoreDraws:
    """Unit × indicator score tables with the raters resampled with replacement within their groups.

    Each replicate draws, in every evaluator group, as many rater ids as the group has (with
    replacement), recomputes every group's (trimmed) mean score for every unit and indicator from
    the drawn raters, and combines them as the scheme does: the spread of the replicates is the
    uncertainty due to *who* scored. Vectorised over replicates in chunks.
    """
    n = _check_n(n)
    c = _cube(dataset, scheme, scale)
    pres_units = list(c.units[c.presented])
    vals, rix, raters, rater_group = _bootstrap_design(dataset, scheme, pres_units)
    rng = np.random.default_rng(_rng_seed(seed))
    members = [np.flatnonzero(rater_group == g) for g in range(len(c.groups))]
    per = max(1, int(2e6 // max(1, vals.size)))  # replicates per chunk: a few arrays of ~16 MB
    out = np.empty((n, len(c.units), len(c.indicators)))
    starts = range(0, n, per)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="rater bootstrap", unit="chunk")
    for a in starts:
        b = min(per, n - a)
        counts = np.zeros((b, len(raters) + 1), dtype=np.int32)
        for m in members:
            if m.size:
                counts[:, m] = rng.multinomial(m.size, np.full(m.size, 1.0 / m.size), size=b)
        out[a : a + b] = _replicate_scores(counts, c, vals, rix, scheme)
    written = np.ones(len(c.units), dtype=bool)
    written[c.presented] = False
    return ScoreDraws(c.units, pd.Index(c.indicators, name="indicator"), out, written)


# ---------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonteCarloResult:
    """Rank distributions under random weights (and raters): per-unit statistics and the full frequencies.

    ``units``: unit, rank_group, nominal_rank, mean_rank, median_rank, rank_p05, rank_p95,
    p_top_k, p_bottom_k (percentiles by the inverted CDF of the integer ranks), and written_report
    (True: no on-site ratings, on-site score imputed) when known;
    ``frequencies``: unit × rank counts (columns 1..largest group); ``tau``: draw, rank_group,
    tau (Kendall's tau-b against the nominal ranking on the first ``tau_draws`` draws);
    ``central_weights``: mean normalised weights of the draws in which each unit ranks first;
    ``top_k``: per ranking group, in how many of the draws the set of units ranked in the top k is
    exactly the nominal one (rank_group, k, units, draws, draws_kept, p_kept).
    """

    units: pd.DataFrame
    frequencies: pd.DataFrame
    tau: pd.DataFrame
    central_weights: pd.DataFrame
    settings: dict = field(default_factory=dict)
    top_k: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """Per-unit rank statistics, by group then nominal rank, with the rank interval width."""
        u = self.units.assign(interval_width=self.units["rank_p95"] - self.units["rank_p05"])
        return u.sort_values(["rank_group", "nominal_rank", "unit"], kind="mergesort").reset_index(drop=True)

    def interval_widths(self) -> pd.DataFrame:
        """Per ranking group — and apart for written-report units, when known — the 5–95 % rank interval
        widths: units, mean_width, median_width, largest_width, single_rank (units whose interval is one rank).

        Written-report units have the imputed average profile of their kind, so their intervals are not
        comparable with those of the units that presented: they get their own rows."""
        u = self.units.assign(width=self.units["rank_p95"] - self.units["rank_p05"])
        by = ["rank_group"] + (["written_report"] if "written_report" in u.columns else [])
        out = u.groupby(by, sort=False).agg(
            units=("unit", "size"),
            mean_width=("width", "mean"),
            median_width=("width", "median"),
            largest_width=("width", "max"),
            single_rank=("width", lambda w: int((w == 0).sum())),
        )
        return out.reset_index()

    def tau_summary(self) -> pd.DataFrame:
        """Distribution of Kendall's tau against the nominal ranking, per group."""
        return self.tau.groupby("rank_group", sort=False)["tau"].describe(percentiles=[0.05, 0.5, 0.95])

    def acceptability(self) -> pd.DataFrame:
        """Unit × rank probabilities (the SMAA rank acceptability indices when weights are uniform)."""
        return self.frequencies / self.settings["n"]


def _draw_weights(
    rng: np.random.Generator,
    base: np.ndarray,
    c: int,
    method: str,
    spread: float,
    concentration: float | None,
    bounds: np.ndarray | None,
) -> np.ndarray:
    """c weight vectors (rows sum to 1) around the normalised base weights."""
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


def _concentration(base: np.ndarray, spread: float) -> float:
    """Dirichlet concentration giving the indicator of average weight a coefficient of variation ``spread``."""
    p = 1.0 / np.count_nonzero(base)
    return (1.0 - p) / (p * spread**2) - 1.0


def _mc_chunk(job):
    """One chunk of the Monte Carlo: draws, scores, ranks → frequency counts (and ranks for tau)."""
    (seedseq, c, base, method, spread, conc, bounds, S, draws, codes, n_groups, width, n_tau, nominal, k) = job
    rng = np.random.default_rng(seedseq)
    W = _draw_weights(rng, base, c, method, spread, conc, bounds)
    if spread == 0 and method != "simplex" and draws is None:
        X = np.broadcast_to(_scores(W[:1], S), (c, S.shape[0]))  # every draw is the nominal weighting
    elif draws is None:
        X = W @ S.T  # BLAS: fast; rows may differ from the nominal sums in the last bit, far below the tie resolution
    else:
        rb = rng.integers(draws.shape[0], size=c)
        X = np.einsum("cui,ci->cu", draws[rb], W)
    Q = np.multiply(X, -_Q)  # negated quantised scores, in place
    np.rint(Q, out=Q)
    n = S.shape[0]
    freq = np.zeros((n, width), dtype=np.int64)
    first_w = np.zeros((n, W.shape[1]))
    first_n = np.zeros(n, dtype=np.int64)
    taus = np.empty((n_tau, n_groups)) if n_tau else None
    kept = np.zeros(n_groups, dtype=np.int64)  # draws in which the group's top-k set is the nominal one
    for g in range(n_groups):
        idx = np.flatnonzero(codes == g)
        ng = idx.size
        order, pos = _rank_rows(Q if ng == n else Q[:, idx], want="order", negated=True)
        # the top-k set of a draw is its first c sorted units, c = how many rank <= k (ranks never fall along the
        # sorted order): it is the nominal set T (m units) when c == m and the first m sorted units are all in T
        in_t = nominal[idx] <= k
        m = int(in_t.sum())
        same = in_t[order[:, :m]].all(axis=1)
        if pos is None:
            same &= m == min(k, ng)
        else:
            if m:
                same &= pos[:, m - 1] < k
            if m < ng:
                same &= pos[:, m] >= k
        kept[g] = int(same.sum())
        if pos is None:  # no ties: one unit first per draw
            top_draw, top = np.arange(c), idx[order[:, 0]]
        else:  # every unit tied for first counts, as in the frequency table
            top_draw, col = np.nonzero(pos == 0)
            top = idx[order[top_draw, col]]
        if n_tau:
            r = np.empty((n_tau, ng), dtype=np.int32)
            p = np.arange(1, ng + 1, dtype=np.int32) if pos is None else (pos[:n_tau] + 1).astype(np.int32)
            np.put_along_axis(r, order[:n_tau], np.broadcast_to(p, (n_tau, ng)), axis=1)
            taus[:, g] = _kendall_tau_b(r, nominal[idx])
        order *= ng  # the flat (unit, rank) cell, in place
        order += np.arange(ng) if pos is None else pos
        freq[idx, :ng] += np.bincount(order.ravel(), minlength=ng * ng).reshape(ng, ng)
        first_n += np.bincount(top, minlength=n)
        for i in range(W.shape[1]):
            first_w[:, i] += np.bincount(top, weights=W[top_draw, i], minlength=n)
    return freq, first_w, first_n, taus, kept


def _one_blas_thread():
    """BLAS limited to one thread while chunks run in parallel: a small matrix product per chunk
    gains nothing from BLAS threads, and their start-up and contention cost more than the product.

    threadpoolctl's limit is process-wide: other threads calling BLAS during :func:`monte_carlo`
    also run single-threaded until it returns (the previous limits are then restored)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _quantile_from_freq(freq: np.ndarray, q: float) -> np.ndarray:
    """Inverted-CDF quantile of the integer ranks from their frequency table (rows = units)."""
    cum = np.cumsum(freq, axis=1)
    total = cum[:, -1:]
    return (cum < q * total).sum(axis=1) + 1  # smallest rank r with F(r) >= q


def monte_carlo(
    scores: pd.DataFrame,
    weights,
    n: int = 10_000,
    method: str = "uniform",
    spread: float = 0.2,
    seed=0,
    ranks_within=None,
    k: int = 3,
    concentration: float | None = None,
    bounds: pd.DataFrame | None = None,
    score_draws: ScoreDraws | None = None,
    tau_draws: int | None = 20_000,
    workers: int | None = None,
    progress: bool = False,
    written_report=None,
) -> MonteCarloResult:
    """Rank distributions of every unit under ``n`` random weight vectors (and rater resamples).

    ``method="uniform"``: each weight multiplied by U(1 − spread, 1 + spread), then renormalised
    (the COINr convention); ``"dirichlet"``: Dirichlet centred on the base weights with the given
    ``concentration`` (default: the one giving the average indicator's weight a coefficient of
    variation ``spread``); ``"simplex"``: uniform on the simplex, optionally within ``bounds``
    (SMAA; base weights only give the nominal ranking). ``score_draws`` (from
    :func:`rater_bootstrap`) pairs each weight draw with a random rater replicate. ``written_report``
    (a boolean Series by unit, or the unit ids; default: from ``score_draws``, when given) marks the
    units whose on-site score is imputed, in a ``written_report`` column of ``units``.

    Vectorised: draws are processed in chunks of 2,048 (one matrix of scores, one integer sort per
    row, one ``bincount`` into the unit × rank table), each chunk with its own random stream spawned
    from ``seed``, so results are identical whatever ``workers`` (threads) is. Only the frequency
    table is kept; Kendall's tau is computed on the first ``tau_draws`` draws (None = all), chunk by
    chunk, so only one number per draw and ranking group is kept. While it runs, BLAS is limited to
    one thread for the whole process (threadpoolctl's limit is process-wide).
    """
    scores = _check_scores(scores)
    w = _check_weights(weights, scores.columns)
    n = _check_n(n)
    k = _check_k(k)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    spread = _check_number(spread, "spread", "a number in [0, 1] (±100 % at most)")
    if spread < 0 or (method == "uniform" and spread > 1):
        raise ValueError(f"spread must be a number in [0, 1] (±100 % at most), got {spread!r}")
    if method == "dirichlet" and spread > 0 and concentration is None:
        concentration = _concentration(w, spread)
        if concentration <= 0:
            raise ValueError(f"spread {spread} is too large for a Dirichlet centred on the weights; use a smaller one")
    if concentration is not None and (not np.isfinite(concentration) or concentration <= 0):
        raise ValueError(f"concentration must be a positive number, got {concentration!r}")
    if bounds is not None and method != "simplex":
        raise ValueError(f"bounds apply to method='simplex' (SMAA) only, not {method!r}")
    b = _check_bounds(bounds, scores.columns) if bounds is not None else None
    if tau_draws is not None:
        _check_n(tau_draws, "tau_draws")
    codes, labels = _groups(ranks_within, scores.index)
    sizes = np.bincount(codes, minlength=len(labels))
    width = int(sizes.max())
    S = scores.to_numpy(float)
    base = w / w.sum()
    draws = None
    if score_draws is not None:
        if not isinstance(score_draws, ScoreDraws):
            raise DataError("score_draws must come from rater_bootstrap()")
        if list(score_draws.units) != list(scores.index) or list(score_draws.indicators) != list(scores.columns):
            raise DataError("score_draws do not have the units and indicators of the scores table")
        draws = score_draws.values
    if written_report is not None:
        written = _check_flags(written_report, scores.index)
    elif score_draws is not None and score_draws.written_report is not None:
        written = np.asarray(score_draws.written_report, dtype=bool)
    else:
        written = None
    nominal = _ranks(_scores(base[None, :], S), codes, len(labels))[0]

    n_tau = n if tau_draws is None else min(n, tau_draws)
    root = _rng_seed(seed)
    seed_record = _seed_record(seed, root)
    seeds = root.spawn(math.ceil(n / CHUNK))
    jobs = []
    for ci, ss in enumerate(seeds):
        c = min(CHUNK, n - ci * CHUNK)
        jobs.append(
            (
                ss,
                c,
                base,
                method,
                float(spread),
                concentration,
                b,
                S,
                draws,
                codes,
                len(labels),
                width,
                int(np.clip(n_tau - ci * CHUNK, 0, c)),
                nominal,
                k,
            )
        )
    freq = np.zeros((len(S), width), dtype=np.int64)
    first_w = np.zeros((len(S), len(base)))
    first_n = np.zeros(len(S), dtype=np.int64)
    tau_parts = []
    kept = np.zeros(len(labels), dtype=np.int64)
    workers = workers or min(2, os.cpu_count() or 1)
    with _one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_mc_chunk, jobs)
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(jobs), desc="Monte Carlo", unit="chunk")
        for f, fw, fn, taus, kp in results:
            kept += kp
            freq += f
            first_w += fw
            first_n += fn
            if taus is not None:
                tau_parts.append(taus)
    # per-unit statistics from the frequency table
    r = np.arange(1, width + 1)
    mean_rank = (freq * r).sum(axis=1) / n
    ng = sizes[codes]
    top = np.array([freq[u, : min(k, width)].sum() for u in range(len(S))]) / n
    bottom = np.array([freq[u, max(0, ng[u] - k) : ng[u]].sum() for u in range(len(S))]) / n
    units = pd.DataFrame(
        {
            "unit": scores.index,
            "rank_group": np.array(labels, dtype=object)[codes],
            "nominal_rank": nominal,
            "mean_rank": mean_rank,
            "median_rank": _quantile_from_freq(freq, 0.5),
            "rank_p05": _quantile_from_freq(freq, 0.05),
            "rank_p95": _quantile_from_freq(freq, 0.95),
            f"p_top_{k}": top,
            f"p_bottom_{k}": bottom,
        }
    )
    if written is not None:
        units["written_report"] = written
    frequencies = pd.DataFrame(freq, index=scores.index, columns=pd.Index(r, name="rank"))
    # Kendall's tau per group on the first n_tau draws (computed chunk by chunk: only n_tau numbers kept)
    T = np.concatenate(tau_parts) if tau_parts else np.empty((0, len(labels)))
    taus = [
        pd.DataFrame({"draw": np.arange(len(T)), "rank_group": lab, "tau": T[:, g]}) for g, lab in enumerate(labels)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        cw = first_w / first_n[:, None]
    central = pd.DataFrame(cw, index=scores.index, columns=scores.columns).assign(p_first=first_n / n)
    settings = {
        "n": n,
        "method": method,
        "spread": float(spread),
        "concentration": concentration,
        "seed": seed_record,
        "k": k,
        "weights": dict(zip(scores.columns, base)),
        "raters_resampled": score_draws is not None,
        "replicates": None if draws is None else int(draws.shape[0]),
        "tau_draws": n_tau,
    }
    top_k = pd.DataFrame(
        {"rank_group": labels, "k": k, "units": sizes, "draws": n, "draws_kept": kept, "p_kept": kept / n}
    )
    return MonteCarloResult(units, frequencies, pd.concat(taus, ignore_index=True), central, settings, top_k)


MIN_REPLICATES = 500  # rater-bootstrap replicates below which a page must show their Monte Carlo error


def replicate_error(scores: pd.DataFrame, weights, score_draws: ScoreDraws, **kwargs) -> pd.DataFrame:
    """How much the rank intervals depend on which rater replicates were drawn: the Monte Carlo error of a
    run with :func:`rater_bootstrap` replicates.

    The run (:func:`monte_carlo` with ``kwargs``) is repeated on the first and on the second half of the
    replicates, with the same weight draws (same seed): per unit, the 5–95 % interval on each half
    (p05_first, p95_first, p05_second, p95_second) and ``end_difference``, the larger difference of
    its two ends. With half the replicates each, the differences overstate the error of the whole run.
    """
    if not isinstance(score_draws, ScoreDraws):
        raise DataError("score_draws must come from rater_bootstrap()")
    first, second = score_draws.halves()
    a = monte_carlo(scores, weights, score_draws=first, **kwargs).units.set_index("unit")
    b = monte_carlo(scores, weights, score_draws=second, **kwargs).units.set_index("unit")
    out = a[["rank_group"] + (["written_report"] if "written_report" in a.columns else [])].copy()
    out["p05_first"], out["p95_first"] = a["rank_p05"], a["rank_p95"]
    out["p05_second"], out["p95_second"] = b["rank_p05"], b["rank_p95"]
    out["end_difference"] = np.maximum((a["rank_p05"] - b["rank_p05"]).abs(), (a["rank_p95"] - b["rank_p95"]).abs())
    out.attrs["replicates_per_half"] = int(first.values.shape[0])
    return out.reset_index()


# ---------------------------------------------------------------------------
# SMAA rank acceptability and best-case weights
# ---------------------------------------------------------------------------


def bounds_around(weights, rel: float = 0.5) -> pd.DataFrame:
    """Bounds on the normalised weights: each within ±rel of its base share (clipped to [0, 1])."""
    idx = weights.index if isinstance(weights, pd.Series) else pd.RangeIndex(len(np.atleast_1d(weights)))
    w = pd.Series(_check_weights(weights, idx), index=idx)
    if _check_number(rel, "rel", "a non-negative number") < 0:
        raise ValueError(f"rel must be a non-negative number, got {rel!r}")
    p = w / w.sum()
    return pd.DataFrame({"lower": (p * (1 - rel)).clip(0, 1), "upper": (p * (1 + rel)).clip(0, 1)})


def _check_bounds(bounds: pd.DataFrame, columns: pd.Index) -> np.ndarray:
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


def rank_acceptability(
    scores: pd.DataFrame,
    n: int = 10_000,
    seed=0,
    bounds: pd.DataFrame | None = None,
    ranks_within=None,
    k: int = 1,
    workers: int | None = None,
) -> MonteCarloResult:
    """SMAA: each unit's probability of each rank when the weights are uniform on the simplex (or within bounds).

    ``result.acceptability()`` is the unit × rank table; ``central_weights`` the mean weights that put each
    unit first (its central weight vector) and ``p_first`` its first-rank acceptability.
    """
    scores = _check_scores(scores)
    equal = pd.Series(1.0, index=scores.columns)
    return monte_carlo(
        scores,
        equal,
        n=n,
        method="simplex",
        spread=0.0,
        seed=seed,
        ranks_within=ranks_within,
        k=k,
        bounds=bounds,
        workers=workers,
    )


def best_case_ranks(scores: pd.DataFrame, bounds: pd.DataFrame | None = None, ranks_within=None) -> pd.DataFrame:
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
    scaled to unit size so that differences finer than the solver's tolerance still count). ``best_rank`` is always the rank the returned weights
    give; ``margin`` is min(score_u − score_v) at the LP's weights (≥ 0: the unit is first there).
    """
    scores = _check_scores(scores)
    cols = scores.columns
    b = _check_bounds(bounds, cols) if bounds is not None else np.array([np.zeros(len(cols)), np.ones(len(cols))])
    codes, labels = _groups(ranks_within, scores.index)
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
        best = int(_ranks((S[members] @ wbest)[None, :], np.zeros(members.size, int), 1)[0][members == u][0])
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
    return int(_ranks((S @ w)[None, :], np.zeros(len(S), int), 1)[0][pos])


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
# ---------------------------------------------------------------------------

SOBOL_N = 4096  # the one default number of Sobol base points, in the API and in notebooks 30 and 50 (n_sobol)
SOBOL_RESAMPLES = 100  # bootstrap resamples for the confidence intervals (SALib's default)
CONF_LEVEL = 0.95
INTERACTION = "interaction"
SOBOL_ESTIMATOR = "Saltelli et al. 2010 (first order), Jansen 1999 (total), as SALib.analyze.sobol"


@dataclass(frozen=True)
class SobolResult:
    """First-order (S1) and total-order (ST) Sobol indices with bootstrap confidence intervals.

    ``indices``: long table output × input with columns output, rank_group, input, S1, S1_conf, ST,
    ST_conf. ``output`` is a unit id (its rank) or ``"mean_abs_shift"`` (the mean absolute rank change
    of the units of one ranking group, named in ``rank_group``: one such output per group, never
    pooled across groups); ``input`` an indicator (its weight) or ``"share:<group>"``. The ``_conf``
    columns are half-widths of 95 % intervals, as SALib's ``S1_conf``/``ST_conf`` (bootstrap over the
    sample rows). S1/ST are NaN for an output that never varies (a rank that no input moves).

    ``inputs``: each input's range — input, nominal, low, high, low_pct, high_pct (the range as a
    percentage change of the nominal value) and effective_low/high(_pct): where the input ends up
    after the weights are renormalised to their total (the extremes, in closed form; for a share,
    the range itself, the other groups being rescaled).

    ``interaction``: output, rank_group, interaction (1 − ΣS1: the share of the output's variance
    due to interactions between inputs), interaction_conf.
    """

    indices: pd.DataFrame
    inputs: pd.DataFrame = field(default_factory=pd.DataFrame)
    interaction: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Per ranking group and input: the indices on the group's mean absolute rank shift (with their 95 %
        half-widths), the input's range as a percentage of its nominal value, and ST averaged over the
        group's units whose rank varies; inputs by decreasing ST within each group, groups in order."""
        ix = self.indices
        shift = ix[ix["output"] == SHIFT].drop(columns="output")
        per_unit = (
            ix[ix["output"] != SHIFT]
            .groupby(["rank_group", "input"], sort=False)["ST"]
            .mean()
            .rename("mean_ST_over_units")
            .reset_index()
        )
        out = shift.merge(per_unit, on=["rank_group", "input"], how="left")
        if len(self.inputs):
            out = out.merge(self.inputs[["input", "low_pct", "high_pct"]], on="input", how="left")
        order = {g: i for i, g in enumerate(pd.unique(shift["rank_group"]))}
        out = out.assign(_g=out["rank_group"].map(order)).sort_values(
            ["_g", "ST"], ascending=[True, False], kind="mergesort"
        )
        return out.drop(columns="_g").reset_index(drop=True)

    def group_interaction(self) -> pd.DataFrame:
        """Per ranking group: 1 − ΣS1 on its mean absolute rank shift, with its 95 % half-width."""
        i = self.interaction
        return i[i["output"] == SHIFT].drop(columns="output").reset_index(drop=True)


def saltelli_sample(D: int, N: int, seed=0) -> np.ndarray:
    """The Saltelli sampling matrix of SALib (``calc_second_order=False``), built without a Python loop.

    Rows come in blocks of D + 2 per base point: A, then A with column j taken from B (j = 1..D),
    then B, where [A | B] is a scrambled Sobol' sequence of dimension 2D, in [0, 1).
    """
    from scipy.stats import qmc

    base = qmc.Sobol(d=2 * D, scramble=True, seed=seed).random(N)
    A, B = base[:, :D], base[:, D:]
    out = np.repeat(A[:, None, :], D + 2, axis=1)
    j = np.arange(D)
    out[:, 1 + j, j] = B[:, j]
    out[:, D + 1, :] = B
    return out.reshape(-1, D)


def _sobol_blocks(Y: np.ndarray, D: int):
    """Standardised outputs split into A, B (N × outputs) and AB (D × N × outputs), as SALib."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] % (D + 2):
        raise ValueError(f"{Y.shape[0]} model runs is not a multiple of D + 2 = {D + 2} (the Saltelli design)")
    sd = Y.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        Y = np.where(sd > 0, (Y - Y.mean(axis=0)) / sd, 0.0)
    step = D + 2
    return Y[0::step], Y[step - 1 :: step], np.stack([Y[j + 1 :: step] for j in range(D)])


def sobol_estimates(Y: np.ndarray, D: int) -> tuple[np.ndarray, np.ndarray]:
    """S1 (Saltelli 2010) and ST (Jansen 1999) of each column of Y, evaluated on :func:`saltelli_sample`.

    Returns arrays (D, outputs); the same formulas as ``SALib.analyze.sobol`` (which first standardises
    each output), vectorised over outputs.
    """
    A, B, AB = _sobol_blocks(Y, D)
    var = np.var(np.concatenate([A, B]), axis=0)
    ok = var > np.finfo(float).eps
    with np.errstate(invalid="ignore", divide="ignore"):
        S1 = np.where(ok, np.mean(B * (AB - A), axis=1) / var, np.nan)
        ST = np.where(ok, 0.5 * np.mean((A - AB) ** 2, axis=1) / var, np.nan)
    return S1, ST


def sobol_confidence(
    Y: np.ndarray, D: int, num_resamples: int = SOBOL_RESAMPLES, conf_level: float = CONF_LEVEL, seed=None
) -> dict[str, np.ndarray]:
    """Bootstrap half-widths of S1, ST and of the interaction share 1 − ΣS1, as ``SALib.analyze.sobol``.

    The N base rows (each with its A, B and every AB_j evaluation) are resampled with replacement
    ``num_resamples`` times and the indices recomputed on each resample; a half-width is
    z(conf_level)·sd (ddof 1) over the resamples. The resamples are SALib's,
    ``numpy.random.default_rng(seed).integers(N, size=(N, num_resamples))``, so with the same seed
    the half-widths of S1 and ST are SALib's ``S1_conf`` and ``ST_conf``. Vectorised: each resample
    is a row of counts, so every resampled mean is one matrix product. Returns S1_conf, ST_conf
    (D × outputs) and interaction_conf (outputs).
    """
    from scipy.stats import norm

    num_resamples = _check_n(num_resamples, "num_resamples")
    conf_level = _check_number(conf_level, "conf_level", "a number strictly between 0 and 1")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be a number strictly between 0 and 1, got {conf_level!r}")
    A, B, AB = _sobol_blocks(Y, D)
    N = A.shape[0]
    r = np.random.default_rng(seed).integers(N, size=(N, num_resamples))
    C = np.bincount((r + N * np.arange(num_resamples)).T.ravel(), minlength=N * num_resamples)
    C = C.reshape(num_resamples, N).astype(float)
    m = C @ (A + B) / (2 * N)
    var = C @ (A * A + B * B) / (2 * N) - m * m  # the variance of the resampled A and B rows, ddof 0
    ok = var > np.finfo(float).eps
    s1 = np.empty((D,) + var.shape)
    st = np.empty((D,) + var.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(D):
            s1[j] = np.where(ok, (C @ (B * (AB[j] - A)) / N) / var, 0.0)  # SALib: 0 on a constant resample
            st[j] = np.where(ok, (0.5 * C @ ((A - AB[j]) ** 2) / N) / var, 0.0)
    z = norm.ppf(0.5 + conf_level / 2)
    const = np.ptp(np.concatenate([A, B]), axis=0) <= np.finfo(float).eps
    half = lambda x: np.where(const, np.nan, z * x.std(axis=-2, ddof=1))  # noqa: E731
    return {"S1_conf": half(s1), "ST_conf": half(st), "interaction_conf": half(1.0 - s1.sum(axis=0))}


def _share_tables(cube: pd.DataFrame, shares: pd.Series, group: str, units: pd.Index | None = None):
    """From a long (unit, indicator, group, score) table: the group's own table and the rest's, shares rescaled."""
    if not isinstance(cube, pd.DataFrame) or not {"unit", "indicator", "group", "score"} <= set(cube.columns):
        raise DataError("the group table must be long with columns unit, indicator, group, score (see score_cube)")
    wide = cube.pivot_table(index=["unit", "indicator"], columns="group", values="score", aggfunc="first", sort=False)
    s = _check_shares(shares, wide.columns, group)
    own = wide[group].unstack("indicator")
    rest_s = s.drop(group)
    if rest_s.sum() <= 0:
        raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
    rest = (wide[rest_s.index] * rest_s).sum(axis=1).div(rest_s.sum()).unstack("indicator")
    if units is not None:
        own, rest = own.reindex(units), rest.reindex(units)
    cols = pd.unique(cube["indicator"])
    return own[cols], rest[cols]


def _check_shares(shares, groups, group: str) -> pd.Series:
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


def _check_range(share_range, what="share_range") -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in share_range)
    except (TypeError, ValueError):
        raise SchemeError(f"{what} must be a pair (low, high), got {share_range!r}") from None
    if not (0.0 <= lo < hi <= 1.0):
        raise SchemeError(f"{what} must satisfy 0 <= low < high <= 1, got {share_range!r}")
    return lo, hi


def _effective_extremes(p: np.ndarray, x: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest normalised weight of each indicator when every weight is multiplied by a factor in
    [1 − x, 1 + x] and the weights renormalised: its own factor at one end, every other at the other end."""
    lo = p * (1 - x) / (p * (1 - x) + (1 - p) * (1 + x))
    hi = p * (1 + x) / (p * (1 + x) + (1 - p) * (1 - x))
    return lo, hi


def _sobol_inputs(
    columns, w: np.ndarray, spread: float, group: str | None, s0: float | None, lo: float | None, hi: float | None
) -> pd.DataFrame:
    total = w.sum()
    e_lo, e_hi = _effective_extremes(w / total, spread)
    rows = pd.DataFrame(
        {
            "input": list(columns),
            "nominal": w,
            "low": w * (1 - spread),
            "high": w * (1 + spread),
            "effective_low": e_lo * total,
            "effective_high": e_hi * total,
        }
    )
    if group is not None:
        rows.loc[len(rows)] = [f"share:{group}", s0, lo, hi, lo, hi]
    with np.errstate(invalid="ignore", divide="ignore"):
        for end in ("low", "high", "effective_low", "effective_high"):
            rows[f"{end}_pct"] = np.where(rows["nominal"] > 0, 100 * (rows[end] / rows["nominal"] - 1), np.nan)
    return rows


def sobol_indices(
    scores: pd.DataFrame | None,
    weights,
    n: int = SOBOL_N,
    spread: float = 0.2,
    seed=0,
    ranks_within=None,
    cube: pd.DataFrame | None = None,
    shares: pd.Series | None = None,
    group: str | None = None,
    share_range: tuple[float, float] | None = None,
    num_resamples: int = SOBOL_RESAMPLES,
    conf_level: float = CONF_LEVEL,
) -> SobolResult:
    """Sobol indices of each weight and optionally one group's share, each moved by ±``spread`` of its value.

    Inputs (independent, uniform): each weight's relative change, a factor in [1 − spread, 1 + spread]
    (the weights then renormalised to their total, so each normalised weight ends up within the
    closed-form range reported in ``result.inputs``); with ``group``, ``cube`` (the long table of
    :func:`score_cube`) and ``shares``, the group's share, uniform on ±``spread`` of its nominal
    value (the other groups rescaled) unless ``share_range`` (low, high) gives another range
    explicitly (its percentage change of the nominal share is reported, so a wider range can be
    seen and justified). The unit × indicator scores are then rebuilt from the cube (``scores`` may be
    None; if given, only its units are used).

    Outputs: every unit's rank, and per ranking group the mean absolute rank shift from the nominal
    ranking of that group's units. ``n`` base points (rounded up to a power of two; default
    :data:`SOBOL_N`) give n·(D + 2) model runs on SALib's Saltelli design; S1 by Saltelli 2010, ST by
    Jansen 1999, with bootstrap 95 % half-widths (:func:`sobol_confidence`, ``num_resamples``) and
    the interaction share 1 − ΣS1 of every output.
    """
    n = _check_n(n)
    n = 1 << (n - 1).bit_length()
    spread = _check_number(spread, "spread", "a number in (0, 1]")
    if not 0 < spread <= 1:
        raise ValueError(f"spread must be a number in (0, 1], got {spread!r}")
    if share_range is not None and group is None:
        raise ValueError("share_range applies to a group's share: give group= (and cube=, shares=) too")
    lo = hi = s0 = None
    if group is not None:
        if cube is None or shares is None:
            raise DataError("a group share as input needs cube= (score_cube) and shares=")
        units = scores.index if scores is not None else pd.Index(pd.unique(cube["unit"]), name="unit")
        own, rest = _share_tables(cube, shares, group, units)
        s_norm = _check_shares(shares, shares.index, group)
        s0 = float(s_norm[group])
        if share_range is None:
            if s0 <= 0:
                raise SchemeError(f"the share of {group!r} is 0: ±{spread:.0%} of it is no range; give share_range=")
            lo, hi = s0 * (1 - spread), min(1.0, s0 * (1 + spread))
        else:
            lo, hi = _check_range(share_range)
        scores = own * s0 + rest * (1 - s0)
        own, rest = _check_scores(own, "group table"), _check_scores(rest, "group table")
    scores = _check_scores(scores)
    w = _check_weights(weights, scores.columns)
    codes, labels = _groups(ranks_within, scores.index)
    base = w / w.sum()
    m = len(base)
    D = m + (group is not None)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**32))  # recorded below: a rerun with this int gives the same indices
    X = saltelli_sample(D, n, seed=seed)
    S = scores.to_numpy(float)
    nominal = _ranks(_scores(base[None, :], S), codes, len(labels))[0]
    n_units, n_groups = len(S), len(labels)
    Y = np.empty((X.shape[0], n_units + n_groups))
    size = np.bincount(codes, minlength=n_groups)
    for a in range(0, X.shape[0], CHUNK):
        x = X[a : a + CHUNK]
        W = base * (1.0 - spread + 2.0 * spread * x[:, :m])
        W /= W.sum(axis=1, keepdims=True)
        if group is None:
            Xs = _scores(W, S)
        else:
            t = (lo + (hi - lo) * x[:, m])[:, None]
            Xs = t * _scores(W, own.to_numpy(float)) + (1 - t) * _scores(W, rest.to_numpy(float))
        R = _ranks(Xs, codes, n_groups)
        Y[a : a + CHUNK, :n_units] = R
        shift = np.abs(R - nominal)
        for g in range(n_groups):
            Y[a : a + CHUNK, n_units + g] = shift[:, codes == g].sum(axis=1) / size[g]
    S1, ST = sobol_estimates(Y, D)
    conf = sobol_confidence(Y, D, num_resamples, conf_level, seed=seed)
    inputs = list(scores.columns) + ([f"share:{group}"] if group is not None else [])
    lab = np.array(labels, dtype=object)
    outputs = np.array(list(scores.index) + [SHIFT] * n_groups, dtype=object)
    out_group = np.r_[lab[codes], lab]
    idx = pd.DataFrame(
        {
            "output": np.tile(outputs, D),
            "rank_group": np.tile(out_group, D),
            "input": np.repeat(np.array(inputs, dtype=object), outputs.size),
            "S1": S1.ravel(),
            "S1_conf": conf["S1_conf"].ravel(),
            "ST": ST.ravel(),
            "ST_conf": conf["ST_conf"].ravel(),
        }
    )
    inter = pd.DataFrame(
        {
            "output": outputs,
            "rank_group": out_group,
            INTERACTION: 1.0 - S1.sum(axis=0),
            f"{INTERACTION}_conf": conf["interaction_conf"],
        }
    )
    settings = {
        "n": n,
        "runs": int(X.shape[0]),
        "spread": spread,
        "seed": seed,
        "group": group,
        "share_range": (lo, hi) if group is not None else None,
        "share_range_given": share_range is not None,
        "nominal_share": s0,
        "num_resamples": num_resamples,
        "conf_level": conf_level,
        "estimator": SOBOL_ESTIMATOR,
        "rank_groups": list(labels),
    }
    return SobolResult(idx, _sobol_inputs(scores.columns, w, spread, group, s0, lo, hi), inter, settings)


# ---------------------------------------------------------------------------
# exact analysis along one linear path
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
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
        return _ranks(self.at(t), self.codes, self.n_groups)


def _event_grid(events: Iterable[float], t_lo: float, t_hi: float, t0: float | None = None):
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


def _run_bounds(ok: np.ndarray, p0: int, pts: np.ndarray, is_event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _band_edges(bands) -> np.ndarray:
    return np.array(sorted({float(b.lower) for b in bands} - {min(float(b.lower) for b in bands)}))


def _band_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band of each score (0 = lowest), lower <= score < upper, at the tie resolution."""
    return np.searchsorted(_quantise(edges), _quantise(x), side="right")


@dataclass(frozen=True)
class StabilityResult:
    """Exact weight-stability intervals, one indicator weight at a time (the others rescaled proportionally).

    ``units``: indicator, unit, rank_group, weight (nominal), rank, rank_lo, rank_hi (the unit keeps its
    rank for every weight strictly between them), grade, band_lo, band_hi (it stays in its grade
    band); ``top_k``: indicator, rank_group, weight, k, lo, hi (the top-k set is unchanged strictly
    between); ``swaps``: indicator, rank_group, unit_above, unit_below, weight_at_swap (where each pair
    adjacent in the nominal ranking swaps; NaN if never within [0, total]). Weights are in the
    units of the input weights, total = their sum.
    """

    units: pd.DataFrame
    top_k: pd.DataFrame
    swaps: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary(self, rel: float = 0.1) -> pd.DataFrame:
        """Per indicator and group: the nominal weight, the top-k interval, and how many units keep their rank
        (``keeps_rank``) for every value of the weight within ±rel of its value (0.1: ±10 %)."""
        rel = _check_number(rel, "rel", "a relative change in [0, 1]")
        if not 0 <= rel <= 1:
            raise ValueError(f"rel must be a relative change in [0, 1], got {rel!r}")
        u = self.units
        w = u["weight"]
        keep = (u["rank_lo"] <= w * (1 - rel)) & (u["rank_hi"] >= w * (1 + rel))
        k = (
            u.assign(keeps_rank=keep)
            .groupby(["indicator", "rank_group"], sort=False)
            .agg(units=("unit", "size"), keeps_rank=("keeps_rank", "sum"))
        )
        t = self.top_k.set_index(["indicator", "rank_group"])[["weight", "k", "lo", "hi"]]
        return t.join(k).reset_index()


def _path_for_weight(S: np.ndarray, w: np.ndarray, j: int, codes, n_groups) -> _Path:
    total = w.sum()
    a = S @ _moved(w, j, 0.0) / total
    b = S @ _moved(w, j, total) / total
    return _Path(a, b, 0.0, total, 0.0, total, codes, n_groups)


def _analyse_path(path: _Path, t0: float, k: int, edges: np.ndarray | None):
    """Rank, top-k and band intervals around t0 along an exact linear path."""
    cr = path.crossings()
    pts, is_event, p0 = _event_grid(cr["t"], path.t_lo, path.t_hi, t0)
    R = np.concatenate([path.ranks(pts[a : a + 2048]) for a in range(0, pts.size, 2048)])
    rank_lo, rank_hi = _run_bounds(R == R[p0], p0, pts, is_event)
    member = R <= k
    same_set = np.stack(
        [(member[:, path.codes == g] == member[p0, path.codes == g]).all(axis=1) for g in range(path.n_groups)], axis=1
    )
    top_lo, top_hi = _run_bounds(same_set, p0, pts, is_event)
    band = band_lo = band_hi = None
    if edges is not None and edges.size:
        d = path.b - path.a
        with np.errstate(invalid="ignore", divide="ignore"):
            tb = path.p0 + (edges[None, :] - path.a[:, None]) / d[:, None] * (path.p1 - path.p0)
        tb = tb[np.isfinite(tb) & (tb >= path.t_lo) & (tb <= path.t_hi)]
        bp, bev, bp0 = _event_grid(tb, path.t_lo, path.t_hi, t0)
        B = _band_index(path.at(bp), edges)
        band = B[bp0]
        band_lo, band_hi = _run_bounds(B == band, bp0, bp, bev)
    return cr, R[p0], rank_lo, rank_hi, top_lo, top_hi, band, band_lo, band_hi


def stability_intervals(
    scores: pd.DataFrame,
    weights,
    k: int = 3,
    bands: Sequence | None = None,
    ranks_within=None,
    indicators: Sequence[str] | None = None,
) -> StabilityResult:
    """Exact intervals of each indicator weight over which ranks, the top-k set and grade bands do not change.

    With one weight set to t and the others rescaled proportionally to keep the total, every score
    is linear in t; two units swap only where their lines cross, so all crossing points are
    computed in closed form and the ranks are evaluated at every crossing and between them — the
    answers are exact, not sampled. ``bands``: the scheme's bands (``scheme.bands``) for the grade
    intervals (scores must then be on the final 0–100 scale).
    """
    scores = _check_scores(scores)
    w = _check_weights(weights, scores.columns)
    k = _check_k(k)
    codes, labels = _groups(ranks_within, scores.index)
    S = scores.to_numpy(float)
    edges = _band_edges(bands) if bands is not None else None
    grades = None
    if bands is not None:
        asc = sorted(bands, key=lambda b: b.lower)
        grades = np.array([b.grade for b in asc], dtype=object)
    inds = list(scores.columns) if indicators is None else list(indicators)
    for ind in inds:
        if ind not in scores.columns:
            raise SchemeError(f"unknown indicator {ind!r}; known: {', '.join(map(str, scores.columns))}")
    movable = [i for i in inds if w.sum() - w[list(scores.columns).index(i)] > 0]
    if not movable:
        raise SchemeError(
            "stability intervals need another indicator with positive weight to rescale: "
            f"{', '.join(map(str, inds))} carr{'ies' if len(inds) == 1 else 'y'} all the weight"
            if len(scores.columns) > 1
            else "stability intervals need at least two indicators, the table has one"
        )
    unit_rows, top_rows, swap_rows = [], [], []
    lab = np.array(labels, dtype=object)
    for ind in inds:
        if ind not in scores.columns:
            raise SchemeError(f"unknown indicator {ind!r}; known: {', '.join(map(str, scores.columns))}")
        j = list(scores.columns).index(ind)
        if w.sum() - w[j] <= 0:
            continue
        path = _path_for_weight(S, w, j, codes, len(labels))
        cr, rank, rlo, rhi, tlo, thi, band, blo, bhi = _analyse_path(path, w[j], k, edges)
        df = pd.DataFrame(
            {
                "indicator": ind,
                "unit": scores.index,
                "rank_group": lab[codes],
                "weight": w[j],
                "rank": rank,
                "rank_lo": rlo,
                "rank_hi": rhi,
            }
        )
        if band is not None:
            df["grade"] = grades[band]
            df["band_lo"], df["band_hi"] = blo, bhi
        unit_rows.append(df)
        top_rows.append(
            pd.DataFrame({"indicator": ind, "rank_group": labels, "weight": w[j], "k": k, "lo": tlo, "hi": thi})
        )
        swap_rows.append(_adjacent_swaps(path, rank, cr, scores.index, lab).assign(indicator=ind))
    swaps = pd.concat(swap_rows, ignore_index=True) if swap_rows else pd.DataFrame()
    if len(swaps):
        swaps = swaps.rename(columns={"t": "weight_at_swap"})[
            ["indicator", "rank_group", "unit_above", "unit_below", "weight_at_swap"]
        ]
    return StabilityResult(
        pd.concat(unit_rows, ignore_index=True),
        pd.concat(top_rows, ignore_index=True),
        swaps,
        {"k": k, "total": float(w.sum()), "weights": dict(zip(scores.columns, w))},
    )


def _adjacent_swaps(path: _Path, rank: np.ndarray, cr: pd.DataFrame, units: pd.Index, lab: np.ndarray) -> pd.DataFrame:
    """For each pair adjacent in the nominal order of a group: where (if anywhere) their scores cross."""
    rows = []
    where = {(min(u, v), max(u, v)): t for t, u, v in zip(cr["t"], cr["u"], cr["v"])}
    for g in range(path.n_groups):
        idx = np.flatnonzero(path.codes == g)
        order = idx[np.lexsort((idx, rank[idx]))]
        for up, down in zip(order[:-1], order[1:]):
            rows.append(
                {
                    "rank_group": lab[g] if g < len(lab) else g,
                    "unit_above": units[up],
                    "unit_below": units[down],
                    "t": where.get((min(up, down), max(up, down)), np.nan),
                }
            )
    return pd.DataFrame(rows, columns=["rank_group", "unit_above", "unit_below", "t"])


@dataclass(frozen=True)
class ShareBreakpoints:
    """Exact breakpoints of the ranking as one evaluator group's share moves (the other groups rescaled).

    ``swaps``: share, rank_group, unit_up, unit_down (the two units whose order flips there: unit_up
    overtakes as the share rises), rank changes and whether the top-k set changes there;
    ``segments``: share_lo, share_hi, unit, rank_group, rank (ranks are constant strictly inside each
    segment); ``breakpoints``: share, n_swaps, top_k_changes.
    """

    swaps: pd.DataFrame
    segments: pd.DataFrame
    breakpoints: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        return self.breakpoints

    def ranks_at(self, share: float) -> pd.Series:
        """Ranks at a share value (inside a segment), from the exact segments."""
        s = self.segments
        sub = s[(s["share_lo"] <= share) & (s["share_hi"] >= share)].drop_duplicates("unit")
        return sub.set_index("unit")["rank"]


def share_breakpoints(
    group_scores: pd.DataFrame,
    shares: pd.Series,
    group: str,
    k: int = 3,
    share_range: tuple[float, float] = (0.0, 1.0),
    ranks_within=None,
) -> ShareBreakpoints:
    """Every value of one group's share at which a rank or the top-k set changes, and which units swap there.

    ``group_scores``: unit × evaluator-group table (:func:`unit_group_scores`); ``shares``: the
    groups' shares. The group's share is set to s and the others rescaled proportionally to sum to
    1 − s, so every unit's score is linear in s: the breakpoints are the crossing points, exact.
    """
    group_scores = _check_scores(group_scores, "group scores")
    s = _check_shares(shares, group_scores.columns, group)
    k = _check_k(k)
    lo, hi = _check_range(share_range)
    rest = s.drop(group)
    if rest.sum() <= 0:
        raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
    codes, labels = _groups(ranks_within, group_scores.index)
    G = group_scores[s.index].to_numpy(float)
    own = G[:, list(s.index).index(group)]
    other = G[:, [list(s.index).index(g) for g in rest.index]] @ (rest / rest.sum()).to_numpy()
    path = _Path(other, own, 0.0, 1.0, lo, hi, codes, len(labels))
    cr = path.crossings()
    pts, is_event, _ = _event_grid(cr["t"], lo, hi)
    R = path.ranks(pts)
    lab = np.array(labels, dtype=object)
    units = group_scores.index
    # segments between consecutive events: ranks at the midpoints
    mids = np.flatnonzero(~is_event)
    seg = pd.DataFrame(
        {
            "share_lo": np.repeat(pts[mids - 1], len(units)),
            "share_hi": np.repeat(pts[mids + 1], len(units)),
            "unit": np.tile(units.to_numpy(), mids.size),
            "rank_group": np.tile(lab[codes], mids.size),
            "rank": R[mids].ravel(),
        }
    )
    # swaps: crossings where the two units' order flips between the neighbouring segments
    ev_pos = {float(p): i for i, p in enumerate(pts) if is_event[i]}
    rows = []
    for t, u, v in zip(cr["t"], cr["u"], cr["v"]):
        i = ev_pos.get(float(t))
        if i is None:
            i = int(np.argmin(np.where(is_event, np.abs(pts - t), np.inf)))
        left, right = (i - 1 if i > 0 else None), (i + 1 if i < pts.size - 1 else None)
        if left is None or right is None:
            continue  # a crossing at the end of the range: no change inside it
        rl, rr = R[left], R[right]
        if np.sign(rl[u] - rl[v]) == np.sign(rr[u] - rr[v]):
            continue  # the two lines cross but their order at the tie resolution is the same on both sides
        up, down = (u, v) if rr[u] < rr[v] else (v, u)
        g = codes[u]
        m = codes == g
        topk = bool(((rl[m] <= k) != (rr[m] <= k)).any())
        rows.append(
            {
                "share": pts[i],
                "rank_group": lab[g],
                "unit_up": units[up],
                "unit_down": units[down],
                "rank_up_before": rl[up],
                "rank_up_after": rr[up],
                "rank_down_before": rl[down],
                "rank_down_after": rr[down],
                "top_k_changes": topk,
            }
        )
    swaps = pd.DataFrame(
        rows,
        columns=[
            "share",
            "rank_group",
            "unit_up",
            "unit_down",
            "rank_up_before",
            "rank_up_after",
            "rank_down_before",
            "rank_down_after",
            "top_k_changes",
        ],
    )
    swaps = swaps.sort_values(["share", "rank_group", "rank_up_after"], kind="mergesort").reset_index(drop=True)
    bp = swaps.groupby("share", sort=True).agg(n_swaps=("unit_up", "size"), top_k_changes=("top_k_changes", "any"))
    return ShareBreakpoints(
        swaps,
        seg,
        bp.reset_index(),
        {"group": group, "k": k, "share_range": (lo, hi), "nominal_share": float(s[group])},
    )


def share_grade_changes(
    group_scores: pd.DataFrame, shares: pd.Series, group: str, bands, share_range: tuple[float, float] = (0.0, 1.0)
) -> pd.DataFrame:
    """Every value of one group's share at which a unit's grade band changes (the other groups rescaled).

    Each unit's score is linear in the share s (see :func:`share_breakpoints`), so it crosses a band edge at
    most once per edge: share, unit, score (the edge), grade_below and grade_above (the grade just below and
    just above that share). ``group_scores`` must be on the scale the bands apply to (the final score).
    """
    group_scores = _check_scores(group_scores, "group scores")
    s = _check_shares(shares, group_scores.columns, group)
    lo, hi = _check_range(share_range)
    rest = s.drop(group)
    if rest.sum() <= 0:
        raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
    G = group_scores[s.index].to_numpy(float)
    own = G[:, list(s.index).index(group)]
    other = G[:, [list(s.index).index(g) for g in rest.index]] @ (rest / rest.sum()).to_numpy()
    slope = own - other
    edges = _band_edges(bands)
    grades = [b.grade for b in sorted(bands, key=lambda b: float(b.lower))]  # lowest band first
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (edges[None, :] - other[:, None]) / slope[:, None]
    hit = np.isfinite(t) & (t > lo) & (t < hi)
    for u, j in zip(*np.nonzero(hit)):
        x = t[u, j]
        below = _band_index(np.array([other[u] + (x - 1e-9) * slope[u]]), edges)[0]
        above = _band_index(np.array([other[u] + (x + 1e-9) * slope[u]]), edges)[0]
        rows.append(
            {
                "share": float(x),
                "unit": group_scores.index[u],
                "score": float(edges[j]),
                "grade_below": grades[below],
                "grade_above": grades[above],
            }
        )
    out = pd.DataFrame(rows, columns=["share", "unit", "score", "grade_below", "grade_above"])
    return out.sort_values(["share", "unit"], kind="mergesort").reset_index(drop=True)


def stable_share_range(
    breakpoints: ShareBreakpoints, grade_changes: pd.DataFrame | None = None, units: pd.Series | None = None
) -> pd.DataFrame:
    """Per ranking group, the range of the share around its nominal value over which the top k (and, with
    ``grade_changes``, every grade band) stays as it is: rank_group, nominal_share, k, top_k_lo, top_k_hi,
    grades_lo, grades_hi (the nearest change below and above the nominal share; the ends of the range
    studied when nothing changes). ``units``: each unit's ranking group, to split the grade changes.
    """
    st = breakpoints.settings
    s0, (lo, hi), k = st["nominal_share"], st["share_range"], st["k"]
    groups = list(dict.fromkeys(breakpoints.segments["rank_group"]))

    def around(x: pd.Series) -> tuple[float, float]:
        x = x.to_numpy(float)
        below, above = x[x <= s0 + 1e-12], x[x > s0 + 1e-12]
        return (float(below.max()) if below.size else lo, float(above.min()) if above.size else hi)

    rows = []
    for g in groups:
        sw = breakpoints.swaps
        row = {"rank_group": g, "nominal_share": s0, "k": k}
        row["top_k_lo"], row["top_k_hi"] = around(sw.loc[(sw["rank_group"] == g) & sw["top_k_changes"], "share"])
        if grade_changes is not None:
            gc = grade_changes
            if units is not None:
                gc = gc[gc["unit"].map(units) == g]
            row["grades_lo"], row["grades_hi"] = around(gc["share"])
        rows.append(row)
    return pd.DataFrame(rows)


def share_path(group_scores: pd.DataFrame, shares: pd.Series, group: str, values, ranks_within=None) -> pd.DataFrame:
    """Ranks of every unit at the given share values of one group (long: share, unit, rank_group, score, rank)."""
    group_scores = _check_scores(group_scores, "group scores")
    s = _check_shares(shares, group_scores.columns, group)
    vals = np.atleast_1d(np.asarray(values, dtype=float))
    if ((vals < 0) | (vals > 1)).any():
        raise SchemeError(f"share of {group!r} must lie in [0, 1], got {vals[(vals < 0) | (vals > 1)][0]}")
    codes, labels = _groups(ranks_within, group_scores.index)
    rest = s.drop(group)
    G = group_scores[s.index].to_numpy(float)
    own = G[:, list(s.index).index(group)]
    other = G[:, [list(s.index).index(g) for g in rest.index]] @ (rest / rest.sum()).to_numpy()
    X = other + np.multiply.outer(vals, own - other)
    R = _ranks(X, codes, len(labels))
    n = len(group_scores)
    return pd.DataFrame(
        {
            "share": np.repeat(vals, n),
            "unit": np.tile(group_scores.index.to_numpy(), vals.size),
            "rank_group": np.tile(np.array(labels, dtype=object)[codes], vals.size),
            "score": X.ravel(),
            "rank": R.ravel(),
        }
    )
