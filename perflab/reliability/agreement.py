"""Do two raters give the same value? Krippendorff's alpha and its (cluster) bootstrap interval.

Alpha for nominal, ordinal, interval and ratio values from the coincidence
matrix (Krippendorff 2011), missing values allowed. The interval resamples
units, or whole clusters of units (e.g. the indicator grades one evaluator
gives one unit, which share that evaluator's view of the unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.reliability._checks import _need_columns

LEVELS = ("nominal", "ordinal", "interval", "ratio")
_COVER = 0.95  # the interval's coverage: the ci95_* bounds


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha with its 95% bootstrap interval (percentiles of ``n_boot`` resamples of units or clusters)."""

    alpha: float
    ci95_low: float
    ci95_high: float
    level: str
    n_boot: int
    cluster: str | None = None

    def summary(self) -> pd.DataFrame:
        """One row: level, alpha, ci95_low, ci95_high, n_boot, resampled (units or the cluster column)."""
        return pd.DataFrame(
            [
                {
                    "level": self.level,
                    "alpha": self.alpha,
                    "ci95_low": self.ci95_low,
                    "ci95_high": self.ci95_high,
                    "n_boot": self.n_boot,
                    "resampled": self.cluster or "units",
                }
            ]
        )


def _prepare(data, unit, rater, value, level, cluster, what):
    """Validated rows and the unit × value count matrix of the pairable units (two or more values)."""
    cols = [unit, rater, value] + ([cluster] if cluster is not None else [])
    _need_columns(data, cols, what)
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    d = data[cols].dropna(subset=[value])
    if cluster is not None:
        if d[cluster].isna().any():
            raise DataError(f"{what}: unit {d.loc[d[cluster].isna(), unit].iloc[0]!r} has no {cluster}")
        spread = d.groupby(unit, sort=False)[cluster].nunique()
        if (spread > 1).any():
            raise DataError(
                f"{what}: unit {spread.index[np.argmax(spread.to_numpy() > 1)]!r} lies in "
                f"more than one {cluster}; a cluster must hold whole units"
            )
    dup = d.duplicated([unit, rater])
    if dup.any():
        row = d[dup].iloc[0]
        raise DataError(f"{what}: rater {row[rater]!r} gives unit {row[unit]!r} more than one value")
    if level != "nominal":
        vals = pd.to_numeric(d[value], errors="coerce")
        if vals.isna().any():
            raise DataError(f"{what}: {level} level needs numeric values; got {d[value][vals.isna()].iloc[0]!r}")
        d = d.assign(**{value: vals})
    u_codes, _ = pd.factorize(d[unit])
    v_codes, v_levels = pd.factorize(d[value], sort=True)
    n_u, n_v = int(u_codes.max()) + 1 if len(u_codes) else 0, len(v_levels)
    counts = np.zeros((n_u, n_v))
    np.add.at(counts, (u_codes, v_codes), 1.0)
    pairable = counts.sum(axis=1) >= 2
    if counts[pairable].sum() == 0 or n_v < 1:
        raise DataError(f"{what}: no unit has two or more values (nothing is pairable)")
    return d, counts[pairable], pairable, np.asarray(v_levels)


def krippendorff_alpha(data: pd.DataFrame, unit: str, rater: str, value: str, level: str = "nominal") -> float:
    """Krippendorff's alpha for nominal, ordinal, interval or ratio values; missing values allowed.

    Computed from the coincidence matrix of pairable values (Krippendorff
    2011): units with fewer than two values do not count. For an interval,
    see :func:`krippendorff_alpha_ci`.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per value.
    unit, rater, value : str
        Columns of the rated units (items), the raters and the values.
    level : str
        ``nominal``, ``ordinal``, ``interval`` or ``ratio``.

    Returns
    -------
    float
        Alpha: 1 for perfect agreement, 0 for agreement at chance.

    Examples
    --------
    >>> d = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                   "grade": [1, 1, 2, 2, 3, 2, 4, 4]})
    >>> round(krippendorff_alpha(d, "item", "rater", "grade", level="ordinal"), 3)
    0.91
    """
    _, counts, _, v = _prepare(data, unit, rater, value, level, None, "krippendorff_alpha")
    m = counts.sum(axis=1)
    return _alpha_from_counts(counts, m, _delta(v, level, counts.sum(axis=0)), level, v)


def krippendorff_alpha_ci(
    data: pd.DataFrame,
    unit: str,
    rater: str,
    value: str,
    level: str = "nominal",
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    cluster: str | None = None,
) -> Alpha:
    """Krippendorff's alpha with a 95% percentile interval from resampling units (or clusters of units).

    ``cluster``: a column grouping the units (the evaluated unit of each
    unit × indicator item). The bootstrap then resamples whole clusters, as
    the clusters, not the items, are the independent draws: the seven grades
    one evaluator gives one unit share that evaluator's view of the unit, so
    resampling items one by one understates the interval (Field & Welsh 2007,
    the cluster bootstrap). Each unit must lie in one cluster.

    Parameters
    ----------
    data, unit, rater, value, level
        As in :func:`krippendorff_alpha`.
    n_boot : int
        Bootstrap resamples (at least 1).
    seed : int or numpy Generator, optional
        The random state (a Generator is used as it is; None means 0).
    cluster : str, optional
        Column of the cluster each unit lies in; resample clusters instead of units.

    Returns
    -------
    Alpha
        ``.alpha`` (as :func:`krippendorff_alpha`), ``.ci95_low``, ``.ci95_high``.

    Examples
    --------
    >>> d = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                   "grade": [1, 1, 2, 2, 3, 2, 4, 4]})
    >>> a = krippendorff_alpha_ci(d, "item", "rater", "grade", level="ordinal", n_boot=200, seed=1)
    >>> round(a.alpha, 3), a.ci95_low <= a.alpha <= a.ci95_high
    (0.91, True)
    """
    if not int(n_boot) >= 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    d, counts, pairable, v = _prepare(data, unit, rater, value, level, cluster, "krippendorff_alpha_ci")
    m = counts.sum(axis=1)
    a = _alpha_from_counts(counts, m, _delta(v, level, counts.sum(axis=0)), level, v)
    rng = np.random.default_rng(0 if seed is None else seed)
    if cluster is None:
        w = rng.multinomial(len(m), np.full(len(m), 1.0 / len(m)), size=n_boot).astype(float)
    else:
        first = d.drop_duplicates(unit).assign(_u=lambda x: pd.factorize(x[unit])[0]).set_index("_u")[cluster]
        c_codes, _ = pd.factorize(first.sort_index().to_numpy()[pairable])
        n_c = int(c_codes.max()) + 1
        wc = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot).astype(float)
        w = wc[:, c_codes]
    boots = np.array([_alpha_from_counts(counts, m, None, level, v, weights=wb) for wb in w])
    lo, hi = np.nanquantile(boots, [(1 - _COVER) / 2, 1 - (1 - _COVER) / 2])
    return Alpha(float(a), float(lo), float(hi), level=level, n_boot=int(n_boot), cluster=cluster)


def _delta(v, level, n_c):
    """The squared difference function of the level between the sorted values ``v`` (ordinal: from the marginals)."""
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    v = v.astype(float)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(s != 0, ((v[:, None] - v[None, :]) / np.where(s != 0, s, 1.0)) ** 2, 0.0)
        return out
    # ordinal: (sum of n_g from c to k - (n_c + n_k)/2)^2
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    i, j = np.meshgrid(np.arange(len(v)), np.arange(len(v)), indexing="ij")
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return (cum[hi + 1] - cum[lo] - (n_c[i] + n_c[j]) / 2.0) ** 2


def _alpha_from_counts(counts, m, delta, level, levels, weights=None):
    """Alpha from the unit × value counts, units weighted by ``weights`` (a bootstrap draw)."""
    w = np.ones(len(m)) if weights is None else weights
    # coincidences: o_ck = sum_u w_u (n_uc n_uk - [c=k] n_uc) / (m_u - 1)
    cw = counts * (w / (m - 1))[:, None]
    o = cw.T @ counts - np.diag(cw.sum(axis=0))
    n_c = o.sum(axis=1)
    n_tot = n_c.sum()
    if n_tot <= 1:
        return np.nan
    if delta is None:
        delta = _delta(levels, level, n_c)
    do = (o * delta).sum()
    de = (np.outer(n_c, n_c) * delta).sum() / (n_tot - 1)
    return float(1.0 - do / de) if de > 0 else np.nan
