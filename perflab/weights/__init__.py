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
  - :func:`data_weights` — dispatch by name (:data:`DATA_METHODS`);
    :func:`group_weights` — one weight set per rank group (e.g. the unit's kind).

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

Modules: :mod:`perflab.weights.objective` (the data-driven methods) and
:mod:`perflab.weights.pairwise` (AHP and the comparison file); every name is
importable from ``perflab.weights``.
"""

from perflab.weights._common import WeightError
from perflab.weights.objective import (
    DATA_METHODS,
    PCAResult,
    critic,
    data_weights,
    entropy,
    equal,
    group_weights,
    pca,
    pca_components,
    std,
)
from perflab.weights.pairwise import AHP_METHODS, CR_LIMIT, SAATY_RI, AHPResult, ahp, read_pairwise

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
    "group_weights",
    "ahp",
    "AHPResult",
    "read_pairwise",
]
