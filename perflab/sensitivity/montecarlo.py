"""Rank distributions under random weights (and raters): Monte Carlo, SMAA rank acceptability, replicate error.

Each weight is moved at random (uniform ±x % then renormalised, the COINr convention; Dirichlet centred on
the base weights; or uniform on the simplex within bounds, SMAA), optionally with the raters bootstrapped
within their groups (:func:`rater_bootstrap`), under any composite; vectorised over draws in chunks that
bound memory, each chunk with its own random stream.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.ranking import _Q, factorize_groups, rank_rows, ranks_by_group
from perflab.sensitivity._checks import (
    check_bounds,
    check_composite,
    check_flags,
    check_k,
    check_n,
    check_number,
    check_scores,
    check_weights,
    seed_record,
    seed_sequence,
)
from perflab.sensitivity.bootstrap import ScoreDraws
from perflab.sensitivity.kendall import kendall_tau_b
from perflab.sensitivity.weighting import METHODS, _draw, composite_scores, dirichlet_concentration

CHUNK = 2048  # draws per chunk: bounds memory (a chunk of 76 units is ~1 MB, cache-sized) and fixes the random streams
MIN_REPLICATES = 500  # rater-bootstrap replicates below which a page must show their Monte Carlo error


@dataclass(frozen=True)
class MonteCarloResult:
    """Rank distributions under random weights (and raters): per-unit statistics and the full frequencies.

    ``units``: unit, rank_group, nominal_rank, mean_rank, median_rank, rank_p05, rank_p95,
    p_top_k, p_bottom_k (percentiles by the inverted CDF of the integer ranks), and written_report
    (True: no on-site ratings, on-site score imputed) when known;
    ``frequencies``: unit × rank counts (columns 1..largest group); ``tau``: draw, rank_group,
    tau (Kendall's tau-b against the nominal ranking on the first ``tau_draws`` draws);
    ``central_weights``: mean normalised weights of the draws in which each unit ranks first;
    ``top_k``: per rank group, in how many of the draws the set of units ranked in the top k is
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
        """Per rank group — and apart for written-report units, when known — the 5–95 % rank interval
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


def draw_streams(seed, n: int) -> list[np.random.SeedSequence]:
    """The random stream of each chunk of :data:`CHUNK` draws of an ``n``-draw run with ``seed``.

    Examples
    --------
    >>> len(draw_streams(0, 5000))
    3
    """
    return seed_sequence(seed).spawn(math.ceil(check_n(n) / CHUNK))


@dataclass(frozen=True)
class LeafDraw:
    """How a run draws its weight vectors: ``draw(rng, c)`` gives c rows of normalised weights over the columns
    of the scores (``base`` the nominal row); ``fixed`` when every row is the nominal (no spread).

    :func:`monte_carlo` draws the indicator weights themselves; :mod:`~perflab.sensitivity.nodes` draws the
    weights of a tree's nodes and maps them to the leaves' effective weights, through the same run.
    """

    base: np.ndarray
    method: str
    spread: float
    concentration: float | None = None
    bounds: np.ndarray | None = None

    def __call__(self, rng: np.random.Generator, c: int) -> np.ndarray:
        return _draw(rng, self.base, c, self.method, self.spread, self.concentration, self.bounds)

    @property
    def fixed(self) -> bool:
        return self.spread == 0 and self.method != "simplex"


def _mc_chunk(job):
    """One chunk of the Monte Carlo: draws, scores, ranks → frequency counts (and ranks for tau)."""
    (
        seedseq,
        c,
        draw,
        S,
        draws,
        codes,
        n_groups,
        width,
        n_tau,
        nominal,
        k,
        comp,
        fmap,
    ) = job
    rng = np.random.default_rng(seedseq)
    W = draw(rng, c)
    if draw.fixed and draws is None:
        X = np.broadcast_to(composite_scores(W[:1], S, comp, fmap), (c, S.shape[0]))  # every draw is the nominal
    elif draws is None and comp == "arithmetic":
        X = W @ S.T  # BLAS: fast; rows may differ from the nominal sums in the last bit, far below the tie resolution
        X = X if fmap is None else X * fmap[0] + fmap[1]
    elif draws is None:
        X = composite_scores(W, S, comp, fmap)
    else:
        rb = rng.integers(draws.shape[0], size=c)
        if comp == "arithmetic":
            X = np.einsum("cui,ci->cu", draws[rb], W)
            X = X if fmap is None else X * fmap[0] + fmap[1]
        else:
            X = composite_scores(W, draws[rb], comp, fmap)
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
        order, pos = rank_rows(Q if ng == n else Q[:, idx], want="order", negated=True)
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
            taus[:, g] = kendall_tau_b(r, nominal[idx])
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


def check_final_map(final_map, units: pd.Index):
    """(factor, offset) arrays aligned to ``units`` from a :func:`final_map` table, or None."""
    if final_map is None:
        return None
    if not isinstance(final_map, pd.DataFrame) or not {"factor", "offset"} <= set(final_map.columns):
        raise DataError("final_map must be a DataFrame with columns factor and offset, indexed by unit (final_map())")
    missing = units.difference(final_map.index)
    if len(missing):
        raise DataError(f"final_map has no row for unit {missing[0]!r}")
    m = final_map.reindex(units)
    return m["factor"].to_numpy(float), m["offset"].to_numpy(float)


def _check_method(w, method, spread, concentration, bounds):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    spread = check_number(spread, "spread", "a number in [0, 1] (±100 % at most)")
    if spread < 0 or (method == "uniform" and spread > 1):
        raise ValueError(f"spread must be a number in [0, 1] (±100 % at most), got {spread!r}")
    if method == "dirichlet" and spread > 0 and concentration is None:
        concentration = dirichlet_concentration(w, spread)
        if concentration <= 0:
            raise ValueError(f"spread {spread} is too large for a Dirichlet centred on the weights; use a smaller one")
    if concentration is not None and (not np.isfinite(concentration) or concentration <= 0):
        raise ValueError(f"concentration must be a positive number, got {concentration!r}")
    if bounds is not None and method != "simplex":
        raise ValueError(f"bounds apply to method='simplex' (SMAA) only, not {method!r}")
    return spread, concentration


def _score_draws(scores, score_draws, written_report):
    """The replicate array (or None) and the written-report flags (or None) of a run."""
    draws = None
    if score_draws is not None:
        if not isinstance(score_draws, ScoreDraws):
            raise DataError("score_draws must come from rater_bootstrap()")
        if list(score_draws.units) != list(scores.index) or list(score_draws.indicators) != list(scores.columns):
            raise DataError("score_draws do not have the units and indicators of the scores table")
        draws = score_draws.values
    if written_report is not None:
        written = check_flags(written_report, scores.index)
    elif score_draws is not None and score_draws.written_report is not None:
        written = np.asarray(score_draws.written_report, dtype=bool)
    else:
        written = None
    return draws, written


def monte_carlo(
    scores: pd.DataFrame,
    weights,
    n: int = 10_000,
    method: str = "uniform",
    spread: float = 0.2,
    seed=0,
    rank_group=None,
    k: int = 3,
    concentration: float | None = None,
    bounds: pd.DataFrame | None = None,
    score_draws: ScoreDraws | None = None,
    tau_draws: int | None = 20_000,
    workers: int | None = None,
    progress: bool = False,
    written_report=None,
    composite: str = "arithmetic",
    final_map: pd.DataFrame | None = None,
) -> MonteCarloResult:
    """Rank distributions of every unit under ``n`` random weight vectors (and rater resamples).

    Vectorised: draws are processed in chunks of 2,048 (one matrix of scores, one integer sort per
    row, one ``bincount`` into the unit × rank table), each chunk with its own random stream spawned
    from ``seed``, so results are identical whatever ``workers`` (threads) is. Only the frequency
    table is kept; Kendall's tau is computed on the first ``tau_draws`` draws (None = all), chunk by
    chunk. While it runs, BLAS is limited to one thread for the whole process (threadpoolctl's limit
    is process-wide).

    Parameters
    ----------
    scores
        Unit × indicator scores (:func:`unit_indicator_scores`).
    weights
        Base weights by indicator (any total).
    n
        Weight draws.
    method
        ``"uniform"``: each weight multiplied by U(1 − spread, 1 + spread), then renormalised (the COINr
        convention); ``"dirichlet"``: Dirichlet centred on the base weights with ``concentration``
        (default: the one giving the average indicator's weight a coefficient of variation ``spread``);
        ``"simplex"``: uniform on the simplex, optionally within ``bounds`` (SMAA).
    spread
        The relative range of each weight (0.2: ±20 %).
    seed
        An int or a numpy Generator.
    rank_group
        Each unit's rank group (a Series by unit, e.g. :func:`perflab.ranking.rank_groups`), or None to
        rank all units together.
    k
        The top (and bottom) k tracked.
    score_draws
        Replicates from :func:`rater_bootstrap`: each weight draw is paired with a random one.
    written_report
        A boolean Series by unit, or the unit ids (default: from ``score_draws``, when given): units whose
        on-site score is imputed, in a ``written_report`` column of ``units``.
    composite
        How the indicators combine (``scheme.composite``): ``"arithmetic"`` or ``"geometric"``.
    final_map
        With ``"profile"`` scores under a non-linear composite: each unit's :func:`final_map` (factor,
        offset), applied to every draw's composite before ranking.

    Returns
    -------
    MonteCarloResult
        ``units`` (per-unit rank statistics), ``frequencies``, ``tau``, ``central_weights``, ``top_k``.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> mc = monte_carlo(scores, pd.Series({"a": 1.0, "b": 1.0}), n=200, spread=0.5, seed=1, k=1)
    >>> mc.units[["unit", "nominal_rank", "rank_p05", "rank_p95"]]
      unit  nominal_rank  rank_p05  rank_p95
    0    X             2         1         3
    1    Y             1         1         2
    2    Z             3         2         3
    """
    scores = check_scores(scores)
    w = check_weights(weights, scores.columns)
    n, k, composite = check_n(n), check_k(k), check_composite(composite)
    spread, concentration = _check_method(w, method, spread, concentration, bounds)
    b = check_bounds(bounds, scores.columns) if bounds is not None else None
    if tau_draws is not None:
        check_n(tau_draws, "tau_draws")
    base = w / w.sum()
    recorded = {"method": method, "spread": float(spread), "concentration": concentration}
    draw = LeafDraw(base, method, spread, concentration, b)
    return run_draws(
        scores,
        draw,
        n,
        seed,
        rank_group,
        k,
        score_draws,
        tau_draws,
        workers,
        progress,
        written_report,
        composite,
        final_map,
        recorded,
    )


def run_draws(  # long: draws, scores and ranks in bounded chunks, with the rater draws interleaved; one loop read top to bottom
    scores,
    draw,
    n,
    seed,
    rank_group,
    k,
    score_draws,
    tau_draws,
    workers,
    progress,
    written_report,
    composite,
    final_map,
    recorded,
) -> MonteCarloResult:
    """The Monte Carlo run of :func:`monte_carlo` on checked inputs, its weight rows from ``draw`` (a
    :class:`LeafDraw`, or any object with its ``base``, ``fixed`` and call); ``recorded``: the method, spread and
    concentration for the settings."""
    codes, labels = factorize_groups(rank_group, scores.index)
    sizes = np.bincount(codes, minlength=len(labels))
    width = int(sizes.max())
    S = scores.to_numpy(float)
    base = draw.base
    fmap = check_final_map(final_map, scores.index)
    draws, written = _score_draws(scores, score_draws, written_report)
    nominal = ranks_by_group(composite_scores(base[None, :], S, composite, fmap), codes, len(labels))[0]
    n_tau = n if tau_draws is None else min(n, tau_draws)
    root = seed_sequence(seed)
    jobs = [
        (ss, min(CHUNK, n - ci * CHUNK), draw, S, draws, codes, len(labels), width)
        + (int(np.clip(n_tau - ci * CHUNK, 0, min(CHUNK, n - ci * CHUNK))), nominal, k, composite, fmap)
        for ci, ss in enumerate(root.spawn(math.ceil(n / CHUNK)))
    ]
    freq = np.zeros((len(S), width), dtype=np.int64)
    first_w = np.zeros((len(S), len(base)))
    first_n = np.zeros(len(S), dtype=np.int64)
    tau_parts = []
    kept = np.zeros(len(labels), dtype=np.int64)
    with _one_blas_thread(), ThreadPoolExecutor(max_workers=workers or min(2, os.cpu_count() or 1)) as pool:
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
    units = _unit_table(scores.index, labels, codes, nominal, freq, n, k, sizes, written)
    T = np.concatenate(tau_parts) if tau_parts else np.empty((0, len(labels)))
    taus = [
        pd.DataFrame({"draw": np.arange(len(T)), "rank_group": lab, "tau": T[:, g]}) for g, lab in enumerate(labels)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        cw = first_w / first_n[:, None]
    central = pd.DataFrame(cw, index=scores.index, columns=scores.columns).assign(p_first=first_n / n)
    settings = {
        "n": n,
        **recorded,
        "seed": seed_record(seed, root),
        "k": k,
        "weights": dict(zip(scores.columns, base)),
        "raters_resampled": score_draws is not None,
        "replicates": None if draws is None else int(draws.shape[0]),
        "tau_draws": n_tau,
        "composite": composite,
    }
    top_k = pd.DataFrame(
        {"rank_group": labels, "k": k, "units": sizes, "draws": n, "draws_kept": kept, "p_kept": kept / n}
    )
    frequencies = pd.DataFrame(freq, index=scores.index, columns=pd.Index(np.arange(1, width + 1), name="rank"))
    return MonteCarloResult(units, frequencies, pd.concat(taus, ignore_index=True), central, settings, top_k)


def _unit_table(index, labels, codes, nominal, freq, n, k, sizes, written) -> pd.DataFrame:
    """Per-unit statistics from the frequency table."""
    width = freq.shape[1]
    r = np.arange(1, width + 1)
    ng = sizes[codes]
    top = np.array([freq[u, : min(k, width)].sum() for u in range(len(index))]) / n
    bottom = np.array([freq[u, max(0, ng[u] - k) : ng[u]].sum() for u in range(len(index))]) / n
    units = pd.DataFrame(
        {
            "unit": index,
            "rank_group": np.array(labels, dtype=object)[codes],
            "nominal_rank": nominal,
            "mean_rank": (freq * r).sum(axis=1) / n,
            "median_rank": _quantile_from_freq(freq, 0.5),
            "rank_p05": _quantile_from_freq(freq, 0.05),
            "rank_p95": _quantile_from_freq(freq, 0.95),
            f"p_top_{k}": top,
            f"p_bottom_{k}": bottom,
        }
    )
    if written is not None:
        units["written_report"] = written
    return units


@dataclass(frozen=True)
class ReplicateError:
    """How much the rank intervals depend on which rater replicates were drawn (see :func:`replicate_error`).

    ``units``: unit, rank_group, (written_report), p05_first, p95_first, p05_second, p95_second,
    end_difference; ``replicates_per_half``: the rater replicates in each half.
    """

    units: pd.DataFrame
    replicates_per_half: int

    def summary(self) -> pd.DataFrame:
        """One row: replicates_per_half, units, same_interval (units whose interval is the same on both halves),
        largest_end_difference."""
        d = self.units["end_difference"]
        return pd.DataFrame(
            [
                {
                    "replicates_per_half": self.replicates_per_half,
                    "units": len(self.units),
                    "same_interval": int((d == 0).sum()),
                    "largest_end_difference": d.max(),
                }
            ]
        )


def replicate_error(scores: pd.DataFrame, weights, score_draws: ScoreDraws, **kwargs) -> ReplicateError:
    """The Monte Carlo error of a run with :func:`rater_bootstrap` replicates: its two halves compared.

    The run (:func:`monte_carlo` with ``kwargs``) is repeated on the first and on the second half of the
    replicates, with the same weight draws (same seed): per unit, the 5–95 % interval on each half and
    ``end_difference``, the larger difference of its two ends. With half the replicates each, the
    differences overstate the error of the whole run.

    Parameters
    ----------
    scores, weights
        As :func:`monte_carlo`.
    score_draws
        The replicates (:func:`rater_bootstrap`), at least two.
    **kwargs
        Passed to :func:`monte_carlo` (n, method, spread, seed, rank_group, k, composite, ...).

    Returns
    -------
    ReplicateError
        ``units`` (per-unit intervals on each half) and ``replicates_per_half``; ``summary()`` in one row.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> draws = ScoreDraws(scores.index, scores.columns, np.stack([scores.to_numpy()] * 4))
    >>> err = replicate_error(scores, pd.Series({"a": 1.0, "b": 1.0}), draws, n=100, seed=1)
    >>> err.replicates_per_half, int(err.units["end_difference"].max())
    (2, 0)
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
    return ReplicateError(out.reset_index(), int(first.values.shape[0]))


def rank_acceptability(
    scores: pd.DataFrame,
    n: int = 10_000,
    seed=0,
    bounds: pd.DataFrame | None = None,
    rank_group=None,
    k: int = 1,
    workers: int | None = None,
    composite: str = "arithmetic",
    final_map: pd.DataFrame | None = None,
) -> MonteCarloResult:
    """SMAA: each unit's probability of each rank when the weights are uniform on the simplex (or within bounds).

    Parameters
    ----------
    scores
        Unit × indicator scores.
    n, seed, rank_group, k, workers, composite, final_map
        As :func:`monte_carlo`.
    bounds
        Bounds on the normalised weights (:func:`bounds_around`); default: the whole simplex.

    Returns
    -------
    MonteCarloResult
        ``acceptability()`` is the unit × rank table; ``central_weights`` the mean weights that put each
        unit first (its central weight vector) and ``p_first`` its first-rank acceptability.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> smaa = rank_acceptability(scores, n=400, seed=1)
    >>> smaa.central_weights["p_first"].round(1).tolist()
    [0.4, 0.6, 0.0]
    """
    scores = check_scores(scores)
    equal = pd.Series(1.0, index=scores.columns)
    return monte_carlo(
        scores,
        equal,
        n=n,
        method="simplex",
        spread=0.0,
        seed=seed,
        rank_group=rank_group,
        k=k,
        bounds=bounds,
        workers=workers,
        composite=composite,
        final_map=final_map,
    )
