"""Who scored: unit × indicator score tables with the raters resampled within their evaluator groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from perflab.io import Dataset
from perflab.scheme import Scheme
from perflab.sensitivity._checks import check_n, seed_sequence
from perflab.sensitivity.inputs import CubeArrays, cube_arrays, fill_holes


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


class RaterCells(NamedTuple):
    """Per (unit, indicator, group) cell, its raters sorted by score, padded to the widest cell."""

    values: np.ndarray  # (cells, width) scores
    rater_index: np.ndarray  # (cells, width) position of each rater in ``raters`` (len(raters): padding)
    raters: pd.Index
    rater_group: np.ndarray  # each rater's evaluator group (position in scheme.group_ids)


def rater_cells(dataset: Dataset, scheme: Scheme, units: list) -> RaterCells:
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
    return RaterCells(vals, rix, raters, rater_group)


def resampled_group_means(counts: np.ndarray, vals: np.ndarray, rix: np.ndarray, trim: int) -> np.ndarray:
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


def replicate_scores(
    counts: np.ndarray, c: CubeArrays, vals: np.ndarray, rix: np.ndarray, scheme: Scheme
) -> np.ndarray:
    """Unit × indicator scores (replicates × units × indicators) when each rater counts ``counts`` times.

    The vectorised form of scoring.group_scores → indicator_scores → onsite_scores → final_scores on a
    panel in which rater r appears counts[r] times (tested against those functions on such a panel).
    """
    shares = scheme.shares.reindex(c.groups).to_numpy(float)
    weights = scheme.weights.reindex(c.indicators).to_numpy(float)
    shape = (len(counts), c.presented.size, len(c.indicators), len(c.groups))
    means = resampled_group_means(counts, vals, rix, scheme.aggregation.trim).reshape(shape)
    cube = fill_holes(means, shares, weights, scheme.composite)
    full = np.einsum("up,bpig->buig", c.onsite_map, cube)  # presented units as they are, imputed as the scheme
    if c.scale == "final":
        full = c.c_onsite[None, :, None, None] * full + c.offset[None, :, None, None]
    return (full * shares).sum(axis=-1) / shares.sum()


def rater_bootstrap(
    dataset: Dataset, scheme: Scheme, n: int = 200, seed=0, scale: str = "final", progress: bool = False
) -> ScoreDraws:
    """Unit × indicator score tables with the raters resampled with replacement within their groups.

    Each replicate draws, in every evaluator group, as many rater ids as the group has (with
    replacement), recomputes every group's (trimmed) mean score for every unit and indicator from
    the drawn raters, and combines them as the scheme does: the spread of the replicates is the
    uncertainty due to *who* scored. Vectorised over replicates in chunks.

    Parameters
    ----------
    dataset, scheme
        The data and the scheme.
    n
        Replicates.
    seed
        An int or a numpy Generator.
    scale
        As :func:`unit_indicator_scores` (``"profile"`` under a non-linear composite).
    progress
        Show a progress bar.

    Returns
    -------
    ScoreDraws
        ``values``: replicates × units × indicators, for ``score_draws=`` of :func:`monte_carlo`.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> draws = rater_bootstrap(load_dataset("data/raw/demo", scheme), scheme, n=3, seed=1)
    >>> draws.values.shape[0], draws.values.shape[2] == len(scheme.indicators)
    (3, True)
    """
    n = check_n(n)
    c = cube_arrays(dataset, scheme, scale)
    pres_units = list(c.units[c.presented])
    vals, rix, raters, rater_group = rater_cells(dataset, scheme, pres_units)
    rng = np.random.default_rng(seed_sequence(seed))
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
        out[a : a + b] = replicate_scores(counts, c, vals, rix, scheme)
    written = np.ones(len(c.units), dtype=bool)
    written[c.presented] = False
    return ScoreDraws(c.units, pd.Index(c.indicators, name="indicator"), out, written)
