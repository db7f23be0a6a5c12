"""What each rater adds to the raw scores: the additive model score = cell(unit, indicator) − severity(rater).

Fitted by least squares on the raw 0–100 scores, so a rater's severity is measured against the other
raters of the same units (a session drift hits every rater of a unit alike and stays in the cells).
The rater flags, the session drift and the severity adjustment all start from this fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_UNITS = 5  # units a rater must have scored for the severity, halo, central and favouritism tests (else NA, no flag)
HALO_R_CLIP = 0.999  # within-unit correlations are clipped to ±this before Fisher's z (stays finite)


@dataclass(frozen=True)
class AdditiveFit:
    """The additive model fitted to the ratings: codes per rating, cell means and each rater's leniency."""

    r: np.ndarray  # rater code per rating
    u: np.ndarray  # unit code per rating
    c: np.ndarray  # cell (unit × indicator) code per rating
    y: np.ndarray
    cell: np.ndarray  # cell means adjusted for severity
    leniency: np.ndarray  # points the rater adds to every score (+ = lenient); its severity is −leniency
    raters: pd.Index
    units: pd.Index
    cell_unit: np.ndarray  # unit code of each cell


def fit_additive(r: pd.DataFrame, n_iter: int = 50) -> AdditiveFit:
    """Least squares y = cell(unit, indicator) + rater by alternating means (the cells absorb session drift).

    Examples
    --------
    >>> from perflab.bias.inputs import small_panel
    >>> ratings, _ = small_panel()
    >>> fit = fit_additive(ratings)
    >>> round(float(-fit.leniency[0]), 1)  # R0 was planted 8 points harsher
    7.9
    """
    r_idx, r_lv = pd.factorize(r["rater"], sort=True)
    u_idx, u_lv = pd.factorize(r["unit"], sort=True)
    c_idx, c_lv = pd.factorize(pd.MultiIndex.from_arrays([r["unit"], r["indicator"]]), sort=True)
    y = r["score"].to_numpy(float)
    nr, nc = len(r_lv), len(c_lv)
    n_r = np.bincount(r_idx, minlength=nr)
    n_c = np.bincount(c_idx, minlength=nc)
    len_ = np.zeros(nr)
    cell = np.bincount(c_idx, y, nc) / n_c
    for _ in range(n_iter):
        new = np.bincount(r_idx, y - cell[c_idx], nr) / n_r
        new -= np.average(new, weights=n_r)
        cell = np.bincount(c_idx, y - new[r_idx], nc) / n_c
        done = np.abs(new - len_).max() < 1e-8
        len_ = new
        if done:
            break
    cell_unit = pd.Index(u_lv).get_indexer(c_lv.get_level_values(0))
    return AdditiveFit(r_idx, u_idx, c_idx, y, cell, len_, pd.Index(r_lv), pd.Index(u_lv), cell_unit)


@dataclass(frozen=True)
class RaterStatistics:
    """Per rater × unit pair and per rater: the residuals and the slope, halo and central statistics."""

    pair_rater: np.ndarray  # rater code of each pair
    pair_unit: np.ndarray  # unit code of each pair
    pair_resid: np.ndarray  # the pair's mean residual from the additive model
    calib_resid: np.ndarray  # the pair's residual after the rater's own level and slope (for blocs)
    n_obs: np.ndarray  # ratings per rater
    n_pairs: np.ndarray  # units per rater
    slope: np.ndarray
    halo_r: np.ndarray
    halo_index: np.ndarray
    halo_se2: np.ndarray
    central_index: np.ndarray
    central_se2: np.ndarray


def rater_statistics(fit: AdditiveFit) -> RaterStatistics:
    """Per rater: pair (rater × unit) residuals and the slope, halo and central statistics.

    At the pair level the rater's mean score over the indicators is regressed
    on the consensus (the severity-adjusted cells): ``slope`` < 1 is a
    restricted range (central tendency). ``calib_resid`` are the pair
    residuals from that regression, free of leniency and range, used for blocs.
    Halo: ``halo_r``, the correlation, within units, of the rater's scores on
    the indicators with the consensus's (deviations from the unit's mean over
    the indicators, pooled over the rater's units). A rater who does not tell
    a unit's indicators apart has r ≈ 0. Anything the rater adds to a whole
    unit (leniency, a steep or flat slope, a bloc's shared view of the unit)
    cancels in these deviations, and the correlation does not depend on the
    rater's scale, so neither central tendency nor a bloc looks like halo.
    It is also low for a rater whose scores vary across the indicators at
    random (no agreement with the panel's profile); such a rater usually
    shows misfit too, which tells the two apart.
    """
    nr = len(fit.raters)
    y, r, c, u = fit.y, fit.r, fit.c, fit.u
    cons = fit.cell[c]
    e = y - cons - fit.leniency[r]
    pair_idx, pair_lv = pd.factorize(pd.MultiIndex.from_arrays([r, u]))
    pr = np.asarray(pair_lv.get_level_values(0))
    pu = np.asarray(pair_lv.get_level_values(1))
    npairs = len(pair_lv)
    cnt = np.bincount(pair_idx, minlength=npairs)
    py = np.bincount(pair_idx, y, npairs) / cnt
    pc = np.bincount(pair_idx, cons, npairs) / cnt
    pair_resid = np.bincount(pair_idx, e, npairs) / cnt
    n_obs = np.bincount(r, minlength=nr).astype(float)
    n_pairs = np.bincount(pr, minlength=nr).astype(float)
    # pair-level regression of the rater's unit means on the consensus
    my = np.bincount(pr, py, nr) / n_pairs
    mc = np.bincount(pr, pc, nr) / n_pairs
    dy, dc = py - my[pr], pc - mc[pr]
    sxx = np.bincount(pr, dc * dc, nr)
    sxy = np.bincount(pr, dc * dy, nr)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        calib = dy - slope[pr] * dc
        s2 = np.bincount(pr, calib**2, nr) / np.maximum(n_pairs - 2, 1)
        slope_se2 = s2 / sxx
    halo_r, halo_index, halo_se2 = _halo(y, cons, py[pair_idx], pc[pair_idx], r, nr, n_obs - n_pairs)
    b = np.clip(slope, 0.05, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        central_index = np.log(b)
        central_se2 = slope_se2 / b**2
    # untestable: too few units for a regression with residual df
    for arr in (slope, central_index, central_se2, halo_r, halo_index, halo_se2):
        arr[n_pairs < MIN_UNITS] = np.nan
    return RaterStatistics(
        pr, pu, pair_resid, calib, n_obs, n_pairs, slope, halo_r, halo_index, halo_se2, central_index, central_se2
    )


def _halo(y, cons, pair_y, pair_cons, r, nr, df_w):
    """Within-pair (across indicators) correlation of the rater's deviations with the consensus's, its Fisher z
    and that z's sampling variance; NaN without within-unit spread."""
    dyw = y - pair_y
    dcw = cons - pair_cons
    w_y = np.bincount(r, dyw**2, nr)
    w_c = np.bincount(r, dcw**2, nr)
    w_yc = np.bincount(r, dyw * dcw, nr)
    with np.errstate(invalid="ignore", divide="ignore"):
        # a rater who gives every indicator of a unit the same score (perfect halo, or one score for
        # everything) has no within-unit variation: r = 0, as for a rater whose variation is unrelated
        halo_r = np.where(w_y > 0, w_yc / np.sqrt(w_y * w_c), 0.0)
        halo_index = np.arctanh(np.clip(halo_r, -HALO_R_CLIP, HALO_R_CLIP))
        halo_se2 = 1.0 / np.maximum(df_w - 1.0, 1.0)
    no_within = (df_w < 3) | ~(w_c > 0)
    for arr in (halo_r, halo_index, halo_se2):
        arr[no_within] = np.nan
    return halo_r, halo_index, halo_se2


def severity_variance(stats: RaterStatistics) -> np.ndarray:
    """Sampling variance of each rater's severity (points): the spread of its pair residuals over its number of units.

    Raters with fewer than MIN_UNITS units use the spread pooled over the raters who have enough.
    """
    pr, pres, n_pairs = stats.pair_rater, stats.pair_resid, stats.n_pairs
    nr = len(n_pairs)
    ss = np.bincount(pr, pres**2, nr)
    df = np.maximum(n_pairs - 1, 0)
    enough = n_pairs >= MIN_UNITS
    pooled = ss[enough].sum() / df[enough].sum() if enough.any() and df[enough].sum() > 0 else np.nan
    var = np.where(enough, ss / np.maximum(df, 1), pooled)
    return var / np.maximum(n_pairs, 1)
