"""Where else could indicator weights come from? Data-driven and judgement-based weight sets.

Two families used in Chinese evaluation practice beside the scheme's own
weights:

* **Data-driven ("objective") weights** from a unit × indicator score table
  (units as the index, indicators as columns, every column "higher is better",
  e.g. 0–100 scores). Each returns a Series indexed by indicator (the table's
  column order), named ``weight``, summing to 1.

  - :func:`equal` — 1/n each.
  - :func:`entropy` — the entropy weight method (熵权法) on the data as given.
  - :func:`critic` — CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995):
    contrast (standard deviation) times conflict (1 − correlation).
  - :func:`std` — standard-deviation weights (the SD method of the same paper).
  - :func:`pca` — principal-component weights (主成分分析法确定权重), with the
    decomposition itself in :func:`pca_components`.
  - :func:`data_weights` — dispatch by name (:data:`DATA_METHODS`), overall or
    one weight set per ranking group (e.g. the unit's kind).

  How each reacts to a transformed column (the invariances the tests check):
  ``entropy`` works on the shares p_ij = x_ij / Σ_i x_ij, so it is unchanged
  when a column is multiplied by a positive constant but *not* when a constant
  is added (shifting 0–100 scores to 50–150 lowers their weight). ``critic``,
  ``std`` and ``pca`` normalise each column first (min–max, min–max and
  z-scores), so they are unchanged by any positive affine change of a column
  (a·x + b, a > 0). An indicator on which every unit scores the same cannot
  tell units apart: it gets weight 0 from every data-driven method except
  ``equal``, and the other indicators' weights are those computed without it.

* **Judgement-based weights** from an expert's pairwise comparisons on Saaty's
  1–9 scale: :func:`ahp` (principal eigenvector or row geometric means, with
  λmax, CI, RI and CR, returned as an :class:`AHPResult`) and
  :func:`read_pairwise`, which reads such a matrix from a CSV file.

Bad input raises :class:`WeightError` (a ``ValueError``) with one line naming
the unit and indicator, or the row and column of the comparison matrix;
:func:`read_pairwise` raises :class:`perflab.errors.DataError` naming the file,
line and column. Inputs are never modified; nothing is printed.
"""

from __future__ import annotations

import csv
import difflib
import io as _io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from perflab.errors import DataError, PerflabError

__all__ = [
    "WeightError",
    "DATA_METHODS",
    "AHP_METHODS",
    "SAATY_RI",
    "CR_LIMIT",
    "equal",
    "entropy",
    "critic",
    "std",
    "pca",
    "pca_components",
    "PCAResult",
    "data_weights",
    "ahp",
    "AHPResult",
    "read_pairwise",
]

DATA_METHODS = ("equal", "entropy", "critic", "std", "pca")
AHP_METHODS = ("eigenvector", "geometric")

#: Saaty's random consistency index RI by matrix order n (the mean CI of random reciprocal matrices on the 1–9
#: scale): n = 1–10 from T. L. Saaty (1980), *The Analytic Hierarchy Process*, McGraw-Hill, the values Saaty
#: (1990, EJOR 48:9–26) uses (his house example's CR = 0.238 / 1.41 = 0.169); n = 11–15 from the extended table
#: of the same simulations as reproduced by J. Karlsson & K. Ryan (1997), "A cost-value approach for prioritizing
#: requirements", IEEE Software 14(5):67–74. (Later estimates differ slightly, e.g. Saaty 2005: 0.52, 0.89, ...)
SAATY_RI = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}  # fmt: skip
CR_LIMIT = 0.1  # Saaty: a consistency ratio of 0.10 or less is acceptable
RECIPROCAL_RTOL = 1e-2  # a_ij · a_ji may differ from 1 by 1 % (3 and 0.333 pass, 3 and 0.3 do not)
_KAISER_TOL = 1e-9  # an eigenvalue of 1 - 1e-12 (rounding) still counts as >= 1
_ZERO = 1e-12  # a conflict Σ(1 − r) below this is taken as perfect correlation


class WeightError(PerflabError, ValueError):
    """Input from which no weights can be derived: names the unit and indicator, or the matrix row and column."""


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
    """Equal weights, 1/n for each of the table's n indicators (the table is checked as for the other methods)."""
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
    """
    return pca_components(table).weights


_DATA_FUNCS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "equal": equal,
    "entropy": entropy,
    "critic": critic,
    "std": std,
    "pca": pca,
}


def _unknown(name: object, known: Sequence[str], what: str) -> WeightError:
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return WeightError(f"unknown {what} {name!r}{hint}; choose one of {', '.join(known)}")


def data_weights(table: pd.DataFrame, method: str, by: pd.Series | Mapping | None = None) -> pd.Series | pd.DataFrame:
    """Data-driven weights by method name (one of :data:`DATA_METHODS`).

    Without ``by``: one weight Series computed over every unit of the table.
    With ``by`` (a Series or mapping from each unit of the table's index to its
    ranking group, e.g. the unit's kind, as :func:`perflab.sensitivity.ranking_groups`
    returns): a DataFrame group × indicator, one weight set computed within each
    group, groups in order of first appearance in the table. Every unit needs a
    group; an error within a group names the group.
    """
    if method not in _DATA_FUNCS:
        raise _unknown(method, DATA_METHODS, "weighting method")
    func = _DATA_FUNCS[method]
    if by is None:
        return func(table)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{method}: table must be a pandas DataFrame (units × indicators), got {type(table).__name__}")
    groups = by if isinstance(by, pd.Series) else pd.Series(dict(by), dtype=object)
    if groups.index.has_duplicates:
        raise WeightError(f"{method}: unit {groups.index[groups.index.duplicated()][0]!r} appears twice in 'by'")
    missing = table.index.difference(groups.index, sort=False)
    if len(missing):
        raise WeightError(f"{method}: unit {missing[0]!r} has no ranking group in 'by'")
    labels = groups.reindex(table.index)
    if labels.isna().any():
        raise WeightError(
            f"{method}: unit {labels.index[labels.isna().to_numpy()][0]!r} has no ranking group in 'by' (NaN)"
        )
    rows = {}
    for g in pd.unique(labels):
        try:
            rows[g] = func(table.loc[(labels == g).to_numpy()])
        except WeightError as exc:
            raise WeightError(f"group {g!r}: {exc}") from None
    out = pd.DataFrame(rows).T
    out.index.name = groups.name if groups.name is not None else "group"
    out.columns = table.columns.copy()
    return out


# ---------------------------------------------------------------------------
# AHP
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AHPResult:
    """Weights derived from a pairwise comparison matrix and its consistency.

    ``weights``: Series indexed by indicator, summing to 1. ``lambda_max``: the
    principal eigenvalue (``eigenvector``) or the mean of (A w)_i / w_i
    (``geometric``). ``ci`` = (λmax − n)/(n − 1) (0 for n = 1); ``ri``: Saaty's
    random index for n (:data:`SAATY_RI`; NaN for n > 15); ``cr`` = CI/RI (0 for
    n ≤ 2, where every reciprocal matrix is consistent; NaN for n > 15).
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    ri: float
    cr: float
    method: str

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def consistent(self) -> bool:
        """CR ≤ 0.1 (Saaty's acceptance rule); False when CR cannot be computed (n > 15)."""
        return bool(self.cr <= CR_LIMIT)

    def summary(self) -> pd.DataFrame:
        """One ``value`` column: each indicator's weight, then n, λmax, CI, RI and CR (rows ``(part, item)``)."""
        rows = [("weight", str(k), float(v)) for k, v in self.weights.items()]
        rows += [
            ("consistency", "n", float(self.n)),
            ("consistency", "lambda_max", self.lambda_max),
            ("consistency", "CI", self.ci),
            ("consistency", "RI", self.ri),
            ("consistency", "CR", self.cr),
        ]
        out = pd.DataFrame(
            {"value": [r[2] for r in rows]},
            index=pd.MultiIndex.from_tuples([(r[0], r[1]) for r in rows], names=["part", "item"]),
        )
        out.attrs["method"] = self.method
        return out


def _pairwise_array(matrix, what: str) -> tuple[np.ndarray, pd.Index]:
    """The comparison matrix as floats with its labels, checked: square, labelled alike, positive, finite."""
    if isinstance(matrix, pd.DataFrame):
        if matrix.shape[0] != matrix.shape[1]:
            raise WeightError(
                f"{what}: the comparison matrix is not square: {matrix.shape[0]} rows × {matrix.shape[1]} columns"
            )
        labels = matrix.index
        if labels.has_duplicates:
            raise WeightError(f"{what}: indicator {labels[labels.duplicated()][0]!r} appears twice among the rows")
        if not labels.equals(matrix.columns):
            k = next(i for i, (r, c) in enumerate(zip(labels, matrix.columns)) if r != c)
            raise WeightError(
                f"{what}: the rows and columns must list the same indicators in the same order; "
                f"row {k + 1} is {labels[k]!r} but column {k + 1} is {matrix.columns[k]!r}"
            )
        cells = matrix
    else:
        arr = np.asarray(matrix, dtype=object)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            shape = " × ".join(map(str, arr.shape)) or "a scalar"
            raise WeightError(f"{what}: the comparison matrix is not square: shape {shape}")
        labels = pd.RangeIndex(arr.shape[0])
        cells = pd.DataFrame(arr, index=labels, columns=labels)
    n = len(labels)
    if n == 0:
        raise WeightError(f"{what}: the comparison matrix is empty")
    a = np.empty((n, n))
    for j in range(n):
        col = cells.iloc[:, j]
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise WeightError(f"{what}: row {labels[i]!r}, column {labels[j]!r}: entry {col.iloc[i]!r} is not a number")
        a[:, j] = num.to_numpy(dtype=float)
    bad = ~np.isfinite(a) | (a <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise WeightError(
            f"{what}: row {labels[i]!r}, column {labels[j]!r}: entry {a[i, j]} is not a positive finite number "
            "(a pairwise comparison is a ratio on Saaty's 1–9 scale, e.g. 3 or 1/3)"
        )
    diag = ~np.isclose(np.diag(a), 1.0, rtol=1e-9, atol=0)
    if diag.any():
        i = int(np.flatnonzero(diag)[0])
        raise WeightError(
            f"{what}: row {labels[i]!r}, column {labels[i]!r}: a diagonal entry must be 1, got {a[i, i]:g}"
        )
    prod = a * a.T
    bad = np.triu(np.abs(prod - 1.0) > RECIPROCAL_RTOL, k=1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise WeightError(
            f"{what}: rows {labels[i]!r} and {labels[j]!r} are not reciprocal: a[{labels[i]!r}, {labels[j]!r}] = {a[i, j]:g} "
            f"but a[{labels[j]!r}, {labels[i]!r}] = {a[j, i]:g} (their product is {prod[i, j]:.3g}, not 1; "
            f"expected about {1 / a[i, j]:.3g})"
        )
    return a, labels


def ahp(matrix, method: str = "eigenvector", allow_inconsistent: bool = False) -> AHPResult:
    """Weights from a pairwise comparison matrix (Saaty's AHP) with its consistency ratio.

    ``matrix``: a square DataFrame with the indicator ids as index and columns
    in the same order, or a square array (weights then indexed 0..n−1); entry
    a_ij says how many times more important indicator i is than j (1–9 scale),
    with a_ji = 1/a_ij (checked to a relative 1 %, so entries written as 0.333
    pass) and a_ii = 1.

    ``method="eigenvector"`` (Saaty 1977, 1980): the principal right eigenvector
    (``numpy.linalg.eig``, real part) normalised to sum 1, and λmax its
    eigenvalue. ``method="geometric"``: the normalised row geometric means
    (Crawford & Williams 1985, the logarithmic least-squares solution), with
    λmax estimated as usual as the mean of (A w)_i / w_i, so that CI and CR are
    comparable with the eigenvector method (for a consistent matrix both give w
    exactly and λmax = n).

    CI = (λmax − n)/(n − 1), RI from :data:`SAATY_RI`, CR = CI/RI (0 for n ≤ 2).
    CR > 0.1 is an error unless ``allow_inconsistent=True``; so is n > 15, where
    RI is not tabulated. Reproduces Saaty's published examples (1990, EJOR
    48:9–26, the house; 2008, Int. J. Services Sciences 1(1):83–98, the drinks).
    """
    what = "ahp"
    if method not in AHP_METHODS:
        raise _unknown(method, AHP_METHODS, "AHP method")
    a, labels = _pairwise_array(matrix, what)
    n = a.shape[0]
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = vecs[:, k].real
        w = w / w.sum()
        lam = float(vals[k].real)
    else:
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
        lam = float(np.mean(a @ w / w))
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI.get(n, float("nan"))
    cr = 0.0 if n <= 2 else (ci / ri if n in SAATY_RI else float("nan"))
    result = AHPResult(
        weights=pd.Series(w, index=labels.copy(), name="weight", dtype=float),
        lambda_max=lam,
        ci=float(ci),
        ri=float(ri),
        cr=float(cr),
        method=method,
    )
    if not allow_inconsistent:
        if n > max(SAATY_RI):
            raise WeightError(
                f"{what}: Saaty's random index is tabulated for n ≤ {max(SAATY_RI)} only, so CR cannot be checked "
                f"for {n} indicators; pass allow_inconsistent=True to accept the weights unchecked"
            )
        if cr > CR_LIMIT:
            raise WeightError(
                f"{what}: the comparisons are inconsistent: CR = {cr:.3f} > {CR_LIMIT} (λmax = {lam:.3f}, "
                f"CI = {ci:.3f}, RI = {ri} for n = {n}); revise the judgements or pass allow_inconsistent=True"
            )
    return result


# ---------------------------------------------------------------------------
# reading a pairwise comparison file
# ---------------------------------------------------------------------------

_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8
_FRACTION = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*/\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


def _decode_file(path: Path) -> str:
    raw = path.read_bytes()
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    start = 0
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    raise DataError(
        f"undecodable bytes at byte {start}: the file is neither UTF-8, UTF-8 with BOM nor GB18030",
        file=path,
        row=raw[:start].count(b"\n") + 1,
    )


def _entry(text: str) -> float | None:
    """A comparison written as a number or a fraction (``3``, ``0.333``, ``1/3``); None if unparseable."""
    s = text.strip()
    m = _FRACTION.match(s)
    try:
        if m:
            den = float(m[2])
            return float(m[1]) / den if den != 0 else None
        return float(s)
    except ValueError:
        return None


def read_pairwise(path: str | Path, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a pairwise comparison matrix from a CSV file (UTF-8, UTF-8 with BOM or GB18030).

    Layout: the header row is any label (or an empty cell) followed by the
    indicator ids; each further row starts with an indicator id followed by
    its comparisons, numbers or fractions such as ``1/3``. The rows may list the
    ids in another order than the header (they are reordered to it) but must
    list the same ids. With ``indicators`` (the scheme's ids) every id must be
    one of them and every one of them must appear; the matrix is returned in
    that order. Blank lines are ignored.

    Returns a float DataFrame with the ids as index and columns, ready for
    :func:`ahp` (which checks positivity, the diagonal, reciprocity and
    consistency). Errors raise :class:`perflab.errors.DataError` naming the
    file, the line (header = 1) and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    text = _decode_file(path)
    reader = csv.reader(_io.StringIO(text))
    records: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for rec in reader:
            if any(c.strip() for c in rec):
                records.append((start, [c.strip() for c in rec]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"not a valid CSV file: {exc}", file=path, row=reader.line_num) from None
    if not records:
        raise DataError("the file is empty", file=path)
    head_line, header = records[0]
    ids = header[1:]
    if not ids:
        raise DataError(
            "the header row holds no indicator ids (a label cell, then one id per column)", file=path, row=head_line
        )
    for k, c in enumerate(ids):
        if not c:
            raise DataError(f"the header has an empty indicator id in column {k + 2}", file=path, row=head_line)
        if c in ids[:k]:
            raise DataError(f"indicator {c!r} appears twice in the header", file=path, row=head_line, column=c)
    if indicators is not None:
        known = list(indicators)
        for c in ids:
            if c not in known:
                close = difflib.get_close_matches(c, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DataError(
                    f"unknown indicator {c!r}{hint}; the scheme's indicators are {', '.join(known)}",
                    file=path,
                    row=head_line,
                    column=c,
                )
        missing = [i for i in known if i not in ids]
        if missing:
            raise DataError(
                f"missing indicator(s) {', '.join(missing)}: the matrix must compare every indicator of the scheme",
                file=path,
                row=head_line,
            )
    label = header[0] or "(first column)"
    values: dict[str, list[float]] = {}
    for line, rec in records[1:]:
        rid = rec[0]
        if len(rec) != len(header):
            raise DataError(
                f"expected {len(header)} fields (an id and {len(ids)} comparisons), saw {len(rec)}", file=path, row=line
            )
        if rid not in ids:
            raise DataError(
                f"row id {rid!r} is not among the column ids ({', '.join(ids)}): rows and columns must list the same indicators",
                file=path,
                row=line,
                column=label,
            )
        if rid in values:
            raise DataError(f"indicator {rid!r} has two rows", file=path, row=line, column=label)
        row = []
        for c, cell in zip(ids, rec[1:]):
            v = _entry(cell)
            if v is None:
                shown = repr(cell) if cell else "an empty entry"
                raise DataError(
                    f"cannot read {shown} as a comparison (write a number or a fraction such as 3, 0.5 or 1/3)",
                    file=path,
                    row=line,
                    column=c,
                )
            row.append(v)
        values[rid] = row
    absent = [c for c in ids if c not in values]
    if absent:
        raise DataError(
            f"column id {absent[0]!r} has no row: rows and columns must list the same indicators",
            file=path,
            row=head_line,
            column=absent[0],
        )
    out = pd.DataFrame([values[c] for c in ids], index=pd.Index(ids), columns=pd.Index(ids), dtype=float)
    if indicators is not None:
        out = out.loc[list(indicators), list(indicators)]
    return out
