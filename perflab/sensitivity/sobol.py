"""Which input matters most? Variance-based (Sobol) indices of the weights and one group's share on the ranks.

Every input moves by the same ±x % of its value by default; outputs are every unit's rank and, per rank
group, the mean absolute rank shift (Saltelli 2010 / Jansen estimators, as SALib), with SALib's bootstrap
confidence half-widths and the interaction share 1 − ΣS1. Works under any composite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.errors import DataError, SchemeError
from perflab.ranking import factorize_groups, ranks_by_group
from perflab.sensitivity._checks import (
    check_composite,
    check_n,
    check_number,
    check_range,
    check_scores,
    check_shares,
    check_weights,
)
from perflab.sensitivity.montecarlo import CHUNK, check_final_map
from perflab.sensitivity.weighting import composite_scores

SHIFT = "mean_abs_shift"

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

    num_resamples = check_n(num_resamples, "num_resamples")
    conf_level = check_number(conf_level, "conf_level", "a number strictly between 0 and 1")
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
    s = check_shares(shares, wide.columns, group)
    own = wide[group].unstack("indicator")
    rest_s = s.drop(group)
    if rest_s.sum() <= 0:
        raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
    rest = (wide[rest_s.index] * rest_s).sum(axis=1).div(rest_s.sum()).unstack("indicator")
    if units is not None:
        own, rest = own.reindex(units), rest.reindex(units)
    cols = pd.unique(cube["indicator"])
    return own[cols], rest[cols]


def effective_weight_range(p: np.ndarray, x: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest normalised weight of each indicator when every weight is multiplied by a factor in
    [1 − x, 1 + x] and the weights renormalised: its own factor at one end, every other at the other end.

    Examples
    --------
    >>> lo, hi = effective_weight_range(np.array([0.25, 0.75]), 0.2)
    >>> lo.round(4).tolist(), hi.round(4).tolist()
    ([0.1818, 0.6667], [0.3333, 0.8182])
    """
    lo = p * (1 - x) / (p * (1 - x) + (1 - p) * (1 + x))
    hi = p * (1 + x) / (p * (1 + x) + (1 - p) * (1 - x))
    return lo, hi


def _sobol_inputs(
    columns, w: np.ndarray, spread: float, group: str | None, s0: float | None, lo: float | None, hi: float | None
) -> pd.DataFrame:
    total = w.sum()
    e_lo, e_hi = effective_weight_range(w / total, spread)
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


def _share_input(scores, cube, shares, group, spread, share_range):
    """With a group's share as input: the group's own and the other groups' unit × indicator tables, the nominal
    share and its range."""
    if cube is None or shares is None:
        raise DataError("a group share as input needs cube= (score_cube) and shares=")
    units = scores.index if scores is not None else pd.Index(pd.unique(cube["unit"]), name="unit")
    own, rest = _share_tables(cube, shares, group, units)
    s0 = float(check_shares(shares, shares.index, group)[group])
    if share_range is None:
        if s0 <= 0:
            raise SchemeError(f"the share of {group!r} is 0: ±{spread:.0%} of it is no range; give share_range=")
        lo, hi = s0 * (1 - spread), min(1.0, s0 * (1 + spread))
    else:
        lo, hi = check_range(share_range)
    return own, rest, s0, lo, hi


def sobol_indices(
    scores: pd.DataFrame | None,
    weights,
    n: int = SOBOL_N,
    spread: float = 0.2,
    seed=0,
    rank_group=None,
    cube: pd.DataFrame | None = None,
    shares: pd.Series | None = None,
    group: str | None = None,
    share_range: tuple[float, float] | None = None,
    num_resamples: int = SOBOL_RESAMPLES,
    conf_level: float = CONF_LEVEL,
    composite: str = "arithmetic",
    final_map: pd.DataFrame | None = None,
) -> SobolResult:
    """Sobol indices of each weight and optionally one group's share, each moved by ±``spread`` of its value.

    Inputs (independent, uniform): each weight's relative change, a factor in [1 − spread, 1 + spread]
    (the weights then renormalised to their total, so each normalised weight ends up within the
    closed-form range reported in ``result.inputs``); with ``group``, ``cube`` and ``shares``, the
    group's share, uniform on ±``spread`` of its nominal value (the other groups rescaled) unless
    ``share_range`` (low, high) gives another range explicitly (its percentage change of the nominal
    share is reported, so a wider range can be seen and justified). Outputs: every unit's rank, and per
    rank group the mean absolute rank shift from the nominal ranking of that group's units. ``n`` base
    points give n·(D + 2) model runs on SALib's Saltelli design; S1 by Saltelli 2010, ST by Jansen 1999,
    with bootstrap half-widths (:func:`sobol_confidence`) and the interaction share 1 − ΣS1.

    Parameters
    ----------
    scores
        Unit × indicator scores; may be None with ``cube`` (the scores are then rebuilt from it; if given,
        only its units are used).
    weights
        Base weights by indicator.
    n
        Base points, rounded up to a power of two (default :data:`SOBOL_N`).
    spread
        The relative range of every input (0.2: ±20 %).
    seed
        An int or a numpy Generator (recorded as the int drawn from it).
    rank_group
        Each unit's rank group, or None (all units together).
    cube, shares, group, share_range
        The long table of :func:`score_cube`, the groups' shares, the group whose share is an input and
        optionally its range.
    num_resamples, conf_level
        Bootstrap resamples and level of the half-widths.
    composite, final_map
        As :func:`monte_carlo`: the composite of the indicators, and the map of a ``"profile"`` composite
        to the final score.

    Returns
    -------
    SobolResult
        ``indices``, ``inputs``, ``interaction``; ``summary()`` per rank group and input.

    Examples
    --------
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> res = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=64, spread=0.5, seed=1, num_resamples=10)
    >>> res.summary()[["rank_group", "input", "ST"]].round(2)
      rank_group input    ST
    0        all     b  0.92
    1        all     a  0.77
    """
    n = check_n(n)
    n = 1 << (n - 1).bit_length()
    spread = check_number(spread, "spread", "a number in (0, 1]")
    if not 0 < spread <= 1:
        raise ValueError(f"spread must be a number in (0, 1], got {spread!r}")
    composite = check_composite(composite)
    if share_range is not None and group is None:
        raise ValueError("share_range applies to a group's share: give group= (and cube=, shares=) too")
    lo = hi = s0 = None
    own = rest = None
    if group is not None:
        own, rest, s0, lo, hi = _share_input(scores, cube, shares, group, spread, share_range)
        scores = own * s0 + rest * (1 - s0)
        own, rest = check_scores(own, "group table"), check_scores(rest, "group table")
    scores = check_scores(scores)
    w = check_weights(weights, scores.columns)
    codes, labels = factorize_groups(rank_group, scores.index)
    fmap = check_final_map(final_map, scores.index)
    base = w / w.sum()
    m = len(base)
    D = m + (group is not None)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**32))  # recorded below: a rerun with this int gives the same indices
    X = saltelli_sample(D, n, seed=seed)
    S = scores.to_numpy(float)
    share = None if group is None else (own.to_numpy(float), rest.to_numpy(float), lo, hi)
    Y = _rank_outputs(X, base, spread, S, share, codes, len(labels), composite, fmap)
    S1, ST = sobol_estimates(Y, D)
    conf = sobol_confidence(Y, D, num_resamples, conf_level, seed=seed)
    inputs = list(scores.columns) + ([f"share:{group}"] if group is not None else [])
    idx, inter = _index_tables(scores.index, labels, codes, inputs, S1, ST, conf)
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
        "composite": composite,
    }
    return SobolResult(idx, _sobol_inputs(scores.columns, w, spread, group, s0, lo, hi), inter, settings)


def _rank_outputs(X, base, spread, S, share, codes, n_groups, composite, fmap, leaf_map=None) -> np.ndarray:
    """The model on the Saltelli design: every unit's rank and each group's mean absolute rank shift, per run.

    ``S``: the nominal unit × indicator table; ``share``: None, or (own, rest, low, high), the group's own and
    the other groups' tables and the range of its share (the last column of X); ``leaf_map``: None (the inputs
    are the indicator weights), or a function taking the inputs' normalised weights (runs × inputs, e.g. a
    tree's nodes) to the indicators' (runs × columns of S)."""
    m = len(base)
    n_units = codes.size
    to_leaves = (lambda W: W) if leaf_map is None else leaf_map  # noqa: E731
    nominal = ranks_by_group(composite_scores(to_leaves(base[None, :]), S, composite, fmap), codes, n_groups)[0]
    Y = np.empty((X.shape[0], n_units + n_groups))
    size = np.bincount(codes, minlength=n_groups)
    for a in range(0, X.shape[0], CHUNK):
        x = X[a : a + CHUNK]
        W = base * (1.0 - spread + 2.0 * spread * x[:, :m])
        W /= W.sum(axis=1, keepdims=True)
        W = to_leaves(W)
        if share is None:
            Xs = composite_scores(W, S, composite, fmap)
        elif composite == "arithmetic":
            own, rest, lo, hi = share
            t = (lo + (hi - lo) * x[:, m])[:, None]
            Xs = t * composite_scores(W, own) + (1 - t) * composite_scores(W, rest)
            Xs = Xs if fmap is None else Xs * fmap[0] + fmap[1]
        else:
            own, rest, lo, hi = share
            t = (lo + (hi - lo) * x[:, m])[:, None, None]
            Xs = composite_scores(W, t * own + (1 - t) * rest, composite, fmap)
        R = ranks_by_group(Xs, codes, n_groups)
        Y[a : a + CHUNK, :n_units] = R
        shift = np.abs(R - nominal)
        for g in range(n_groups):
            Y[a : a + CHUNK, n_units + g] = shift[:, codes == g].sum(axis=1) / size[g]
    return Y


def _index_tables(units, labels, codes, inputs, S1, ST, conf):
    """The long indices table and the interaction table."""
    D = len(inputs)
    lab = np.array(labels, dtype=object)
    outputs = np.array(list(units) + [SHIFT] * len(labels), dtype=object)
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
    return idx, inter
