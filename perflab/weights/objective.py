"""Data-driven ("objective") weights from a unit × indicator score table: equal, entropy, CRITIC, std, PCA.

Each takes a table with units as the index and indicators as columns (every
column "higher is better", e.g. 0–100 scores) and returns a Series indexed by
indicator (the table's column order), named ``weight``, summing to 1;
:func:`data_weights` dispatches by name, overall or within each ranking group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from perflab.weights._common import WeightError, _unknown

DATA_METHODS = ("equal", "entropy", "critic", "std", "pca")
_KAISER_TOL = 1e-9  # an eigenvalue of 1 - 1e-12 (rounding) still counts as >= 1
_ZERO = 1e-12  # a conflict Σ(1 − r) below this is taken as perfect correlation


# ---------------------------------------------------------------------------
# validating the score table
# ---------------------------------------------------------------------------


def _values(table: pd.DataFrame, what: str) -> np.ndarray:
    """The table as a float array (units × indicators) after checking it; errors name the unit and indicator."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what}: table must be a pandas DataFrame (units × indicators), got {type(table).__name__}")
    if table.shape[1] == 0:
        raise WeightError(f"{what}: the table is empty: it has no indicators (columns)")
    if table.shape[0] == 0:
        raise WeightError(f"{what}: the table is empty: it has no units (rows)")
    dup = table.columns[table.columns.duplicated()]
    if len(dup):
        raise WeightError(f"{what}: indicator {dup[0]!r} appears twice among the columns")
    dup = table.index[table.index.duplicated()]
    if len(dup):
        raise WeightError(f"{what}: unit {dup[0]!r} appears twice in the index")
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in table.dtypes):
        return _finite(table.to_numpy(dtype=float, na_value=np.nan), table, what)
    cols = []
    for col in table.columns:
        s = table[col]
        if pd.api.types.is_bool_dtype(s):
            raise WeightError(f"{what}: indicator {col!r} holds true/false values, not scores")
        num = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s
        bad = num.isna() & s.notna()
        if bad.any():
            unit = s.index[bad.to_numpy()][0]
            raise WeightError(f"{what}: unit {unit!r}, indicator {col!r}: value {s[unit]!r} is not a number")
        cols.append(num.to_numpy(dtype=float))
    return _finite(np.column_stack(cols), table, what)


def _finite(x: np.ndarray, table: pd.DataFrame, what: str) -> np.ndarray:
    nan = np.isnan(x)
    if nan.any():
        i, j = np.argwhere(nan)[0]
        raise WeightError(f"{what}: unit {table.index[i]!r}, indicator {table.columns[j]!r}: missing value (NaN)")
    inf = ~np.isfinite(x)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise WeightError(f"{what}: unit {table.index[i]!r}, indicator {table.columns[j]!r}: infinite value {x[i, j]}")
    if x.shape[0] < 2:
        raise WeightError(
            f"{what}: needs at least 2 units to weigh indicators by how they spread, got 1 ({table.index[0]!r})"
        )
    return x


def _series(table: pd.DataFrame, w: np.ndarray) -> pd.Series:
    return pd.Series(w, index=table.columns.copy(), name="weight", dtype=float)


def _varying(x: np.ndarray, table: pd.DataFrame, what: str) -> np.ndarray:
    """Boolean mask of the indicators on which not every unit scores the same; an error if there is none."""
    varies = x.max(axis=0) > x.min(axis=0)
    if not varies.any():
        raise WeightError(
            f"{what}: no indicator varies across the {x.shape[0]} units (every unit has the same score on "
            f"each of {', '.join(map(str, table.columns))}), so data-driven weights are undefined; use equal weights"
        )
    return varies


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(axis=0), x.max(axis=0)
    return (x - lo) / (hi - lo)


# ---------------------------------------------------------------------------
# data-driven weights
# ---------------------------------------------------------------------------


def equal(table: pd.DataFrame) -> pd.Series:
    """Equal weights, 1/n for each of the table's n indicators (the table is checked as for the other methods).

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> equal(t).round(3).tolist()
    [0.333, 0.333, 0.333]
    """
    x = _values(table, "equal")
    return _series(table, np.full(x.shape[1], 1.0 / x.shape[1]))


def entropy(table: pd.DataFrame) -> pd.Series:
    """Entropy weights (熵权法) of the scores as given.

    With m units, p_ij = x_ij / Σ_i x_ij (no renormalisation of the scores
    first), e_j = −Σ_i p_ij ln p_ij / ln m, d_j = 1 − e_j and w_j = d_j / Σ_k d_k.
    An indicator whose scores are all equal has e_j = 1 and weight 0. Because
    only the shares p_ij matter, multiplying a column by a positive constant
    leaves the weights unchanged, but adding a constant does not (it evens out
    the shares and lowers that indicator's weight): the method assumes scores on
    a ratio scale with a meaningful zero. Reproduces the published example of
    Xu (2004, EJOR 156(2):530–532).

    Zero and negative values: a zero score contributes 0 to the sum (the limit
    p ln p → 0 as p → 0). Any negative score is an error naming the unit and the
    indicator: shares of a negative total mean nothing, so min–max normalise
    the table first if it holds negative values (e.g. z-scores or growth rates).
    A column summing to 0 (every value 0) is an error, and so is a table in
    which no indicator varies (every d_j = 0).

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> entropy(t).round(3).tolist()
    [0.361, 0.068, 0.571]
    """
    what = "entropy"
    x = _values(table, what)
    neg = x < 0
    if neg.any():
        i, j = np.argwhere(neg)[0]
        raise WeightError(
            f"{what}: unit {table.index[i]!r}, indicator {table.columns[j]!r}: negative value {x[i, j]:g}; "
            "the entropy method needs non-negative scores (min–max normalise the table first)"
        )
    total = x.sum(axis=0)
    if (total == 0).any():
        j = int(np.flatnonzero(total == 0)[0])
        raise WeightError(
            f"{what}: indicator {table.columns[j]!r} is 0 for every unit, so its shares p_ij = x_ij / Σ x_ij are undefined"
        )
    varies = _varying(x, table, what)
    m = x.shape[0]
    p = x / total
    plogp = np.zeros_like(p)
    pos = p > 0
    plogp[pos] = p[pos] * np.log(p[pos])
    e = -plogp.sum(axis=0) / math.log(m)
    d = np.where(varies, np.clip(1.0 - e, 0.0, None), 0.0)  # a constant column has d = 0 exactly, not ±1e-16
    return _series(table, d / d.sum())


def critic(table: pd.DataFrame) -> pd.Series:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995, Computers & Operations Research 22(7):763–770).

    Each column is min–max normalised, r_j = (x_j − min x_j) / (max x_j − min x_j);
    σ_j is its sample standard deviation (ddof = 1) and r_jk the Pearson
    correlation between normalised columns j and k; the information content is
    C_j = σ_j Σ_k (1 − r_jk) and w_j = C_j / Σ_k C_k. An indicator counts more the
    more it spreads the units and the less it agrees with the others. The ddof
    only rescales every σ_j by the same factor, so it does not change the
    weights. Min–max normalisation makes the weights invariant to any positive
    affine change of a column. Reproduces the published example of Tuş &
    Aytaç Adalı (2019, Opsearch 56(2):528–538).

    A constant column (every unit scores the same) has σ_j = 0 and an undefined
    correlation with the others: it gets weight 0 and is left out of the other
    indicators' conflict sums, so the others' weights are exactly those of the
    table without it (a constant indicator neither agrees nor disagrees with
    anything). When every varying indicator is perfectly correlated with every
    other (or only one indicator varies), every C_j is 0 and CRITIC is
    undefined: an error suggesting :func:`std` or :func:`equal`.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> critic(t).round(3).tolist()
    [0.348, 0.379, 0.274]
    """
    what = "critic"
    x = _values(table, what)
    varies = _varying(x, table, what)
    z = _minmax(x[:, varies])
    sigma = z.std(axis=0, ddof=1)
    r = np.atleast_2d(np.corrcoef(z, rowvar=False))
    conflict = (1.0 - r).sum(axis=0)
    conflict[conflict < _ZERO] = 0.0
    c = sigma * conflict
    if not (c > 0).any():
        names = ", ".join(map(str, table.columns[varies]))
        why = "is the only indicator that varies" if varies.sum() == 1 else "are perfectly correlated (r = 1)"
        raise WeightError(
            f"{what}: the varying indicators ({names}) {why}, so every CRITIC conflict Σ(1 − r) is 0 and no "
            "weights follow; use std or equal weights"
        )
    w = np.zeros(x.shape[1])
    w[varies] = c / c.sum()
    return _series(table, w)


def std(table: pd.DataFrame) -> pd.Series:
    """Standard-deviation weights: w_j ∝ σ_j of the min–max normalised column j.

    σ_j is the sample standard deviation (ddof = 1; the ddof only rescales every
    σ_j alike and does not change the weights) of r_j = (x_j − min) / (max − min),
    so w_j ∝ σ(x_j) / range(x_j) and the weights are invariant to any positive
    affine change of a column. This is the SD method of Diakoulaki et al. (1995)
    and reproduces the published example of Jahan & Edwards (2013, Materials &
    Design 49:1000–1008), whose matrix is already min–max normalised.

    Difference from ``pymcdm.weights.standard_deviation_weights``: pymcdm takes σ
    of the values as given (no normalisation), so its weights depend on each
    indicator's units and range; it equals this function on a min–max
    normalised table. A constant column gets weight 0; if nothing varies it is
    an error.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> std(t).round(3).tolist()
    [0.332, 0.345, 0.323]
    """
    what = "std"
    x = _values(table, what)
    varies = _varying(x, table, what)
    sigma = np.zeros(x.shape[1])
    sigma[varies] = _minmax(x[:, varies]).std(axis=0, ddof=1)
    return _series(table, sigma / sigma.sum())


@dataclass(frozen=True)
class PCAResult:
    """The principal-component decomposition behind :func:`pca`.

    ``eigenvalues``: every eigenvalue λ_k of the indicators' correlation matrix
    (largest first, index ``PC1``, ``PC2``, ...); ``loadings``: indicator ×
    retained component, loading_jk = eigenvector_jk · sqrt(λ_k) (the correlation of
    indicator j with component k; signs as scikit-learn returns them, which are
    arbitrary); ``retained``: how many components the Kaiser rule keeps;
    ``weights``: as :func:`pca`. Constant indicators have no row in
    ``loadings`` and weight 0.
    """

    eigenvalues: pd.Series
    loadings: pd.DataFrame
    retained: int
    weights: pd.Series


def pca_components(table: pd.DataFrame) -> PCAResult:
    """Principal components of the standardised indicators and the weights :func:`pca` derives from them.

    See :func:`pca` for the convention. The decomposition is scikit-learn's
    ``PCA`` (full SVD) of the z-scored columns (ddof = 1), whose explained
    variances are the eigenvalues of the correlation matrix.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores.

    Returns
    -------
    PCAResult
        The eigenvalues, the retained components' loadings, how many are retained and the weights.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> fit = pca_components(t)
    >>> fit.retained, fit.eigenvalues.round(3).tolist()
    (2, [1.449, 1.03, 0.52])
    """
    what = "pca"
    x = _values(table, what)
    varies = _varying(x, table, what)
    v = x[:, varies]
    z = (v - v.mean(axis=0)) / v.std(axis=0, ddof=1)
    fit = PCA(svd_solver="full").fit(z)
    lam = np.clip(fit.explained_variance_, 0.0, None)  # eigenvalues of the correlation matrix, largest first
    keep = lam >= 1.0 - _KAISER_TOL
    keep[0] = True  # at least one component
    k = int(keep.sum())
    loadings = fit.components_[:k].T * np.sqrt(lam[:k])
    share = lam[:k] / lam[:k].sum()
    raw = np.zeros(x.shape[1])
    raw[varies] = np.abs(loadings) @ share
    names = [f"PC{i + 1}" for i in range(len(lam))]
    return PCAResult(
        eigenvalues=pd.Series(lam, index=names, name="eigenvalue"),
        loadings=pd.DataFrame(loadings, index=table.columns[varies].copy(), columns=names[:k]),
        retained=k,
        weights=_series(table, raw / raw.sum()),
    )


def pca(table: pd.DataFrame) -> pd.Series:
    """Principal-component weights (主成分分析法确定权重).

    Convention: z-score each indicator over the units (sample standard
    deviation), decompose the correlation matrix (scikit-learn ``PCA`` of the
    z-scores), keep the components with eigenvalue λ_k ≥ 1 (Kaiser's rule; at
    least the first), and set

        w_j ∝ Σ_k (λ_k / Σ_retained λ) · |loading_jk|,   loading_jk = eigenvector_jk · sqrt(λ_k),

    i.e. each indicator's absolute correlation with the retained components,
    averaged with the components' shares of the retained variance. Absolute
    values make the weights independent of the arbitrary sign of each
    eigenvector and never negative; z-scores make them invariant to any
    positive affine change of a column (and to reversing it). Uncorrelated
    indicators get equal weights. Applied to the correlation matrix of
    Johnson & Wichern (2007), *Applied Multivariate Statistical Analysis*, 6th
    ed., Example 8.5, the eigenvectors reproduce the published ones to the 3
    decimals printed, and the eigenvalues and loadings (Example 9.4) to within
    the rounding of the printed matrix (0.002).

    This differs from the recipe common in Chinese applied papers (SPSS
    "component matrix": coefficient = loading / sqrt(λ), averaged with signs by
    variance share, then normalised), which can give negative weights and
    depends on eigenvector signs; and from the OECD/JRC Handbook on
    Constructing Composite Indicators (2008), which rotates factors (varimax)
    and weighs squared loadings by intermediate composites. With repeated
    eigenvalues among the retained components the eigenvectors, and hence the
    weights, are not unique. A constant indicator gets weight 0.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60, 80, 100, 90], "b": [70, 72, 74, 60], "c": [50, 95, 70, 65]}, index=["u1", "u2", "u3", "u4"])
    >>> pca(t).round(3).tolist()
    [0.363, 0.35, 0.286]
    """
    return pca_components(table).weights


_DATA_FUNCS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "equal": equal,
    "entropy": entropy,
    "critic": critic,
    "std": std,
    "pca": pca,
}


def data_weights(table: pd.DataFrame, method: str) -> pd.Series:
    """Data-driven weights by method name, computed over every unit of the table.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores ("higher is better").
    method : str
        One of :data:`DATA_METHODS` (``equal``, ``entropy``, ``critic``, ``std``, ``pca``).

    Returns
    -------
    Series
        One weight per indicator (the table's column order), named ``weight``, summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [60.0, 80.0, 100.0], "b": [70.0, 72.0, 74.0]}, index=["u1", "u2", "u3"])
    >>> data_weights(t, "std").round(3).tolist()
    [0.5, 0.5]
    >>> data_weights(t, "equal").tolist()
    [0.5, 0.5]
    """
    if method not in _DATA_FUNCS:
        raise _unknown(method, DATA_METHODS, "weighting method")
    return _DATA_FUNCS[method](table)


def group_weights(table: pd.DataFrame, method: str, rank_group: pd.Series | Mapping) -> pd.DataFrame:
    """Data-driven weights computed within each rank group (e.g. the unit's kind), one weight set per group.

    Parameters
    ----------
    table : DataFrame
        Units as the index, indicators as columns, numeric scores.
    method : str
        One of :data:`DATA_METHODS`.
    rank_group : Series or mapping
        Each unit of the table's index to the group it is ranked within, as
        :func:`perflab.ranking.rank_groups` gives it. Every unit needs a group.

    Returns
    -------
    DataFrame
        Group × indicator, groups in order of first appearance in the table; the
        index is named as the Series (``group`` for a mapping or an unnamed Series).
        An error within a group names the group.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [1.0, 2.0, 3.0, 5.0], "b": [2.0, 2.5, 9.0, 1.0]}, index=["d1", "d2", "m1", "m2"])
    >>> group_weights(t, "std", {"d1": "district", "d2": "district", "m1": "department", "m2": "department"})
                  a    b
    group
    district    0.5  0.5
    department  0.5  0.5
    """
    if method not in _DATA_FUNCS:
        raise _unknown(method, DATA_METHODS, "weighting method")
    func = _DATA_FUNCS[method]
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{method}: table must be a pandas DataFrame (units × indicators), got {type(table).__name__}")
    labels, name = _group_labels(table, rank_group, method)
    rows = {}
    for g in pd.unique(labels):
        try:
            rows[g] = func(table.loc[(labels == g).to_numpy()])
        except WeightError as exc:
            raise WeightError(f"group {g!r}: {exc}") from None
    out = pd.DataFrame(rows).T
    out.index.name = name
    out.columns = table.columns.copy()
    return out


def _group_labels(table: pd.DataFrame, rank_group, method: str) -> tuple[pd.Series, str]:
    """Each unit's rank group in the table's order, checked: every unit has exactly one."""
    groups = rank_group if isinstance(rank_group, pd.Series) else pd.Series(dict(rank_group), dtype=object)
    if groups.index.has_duplicates:
        raise WeightError(f"{method}: unit {groups.index[groups.index.duplicated()][0]!r} appears twice in rank_group")
    missing = table.index.difference(groups.index, sort=False)
    if len(missing):
        raise WeightError(f"{method}: unit {missing[0]!r} has no rank group in rank_group")
    labels = groups.reindex(table.index)
    if labels.isna().any():
        raise WeightError(
            f"{method}: unit {labels.index[labels.isna().to_numpy()][0]!r} has no rank group in rank_group (NaN)"
        )
    return labels, groups.name if groups.name is not None else "group"
