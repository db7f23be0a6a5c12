"""Which evaluators distort the scores? Many-facet Rasch severities, rater-effect flags, drift and impact on ranks.

One direction for every rater effect: **positive = harsher** (the MFRM rater
``measure`` and ``severity_logits``, ``severity_points``, ``severity_z``,
``mean_severity_points``, and the simulator's truth ``severity_points``).

One question per module:

- :mod:`~perflab.bias.rasch` — :func:`mfrm`, a rating-scale many-facet Rasch model (units × raters ×
  indicators) by joint maximum likelihood, with model and cluster-robust standard errors; its result
  (:class:`MFRMResult`) and the category coding in :mod:`~perflab.bias.rasch_result`.
- :mod:`~perflab.bias.additive` — the additive model on the raw scores (score = cell − severity) that the
  flags, the drift and the adjustment start from.
- :mod:`~perflab.bias.flags` — :func:`flag_raters` (leniency/severity, halo, central tendency, favouritism,
  bloc, misfit; per-rater rate ``alpha`` and Benjamini–Hochberg ``flag_fdr``), :func:`flag_rules`,
  :func:`flags_by_group`; blocs by permutation in :mod:`~perflab.bias.blocs`.
- :mod:`~perflab.bias.drift` — :func:`session_drift`, session and presentation-order effects.
- :mod:`~perflab.bias.impact` — :func:`rater_severity`, :func:`adjusted_ratings`, :func:`impact` (each unit's
  rank as the scheme scores it: raw, rater-adjusted, without flagged raters) and :func:`rank_moves`.

The API convention: randomness is ``seed=`` (an int or a Generator); an analysis that gives back more than one
thing returns a frozen result object with ``summary()``; p-values and intervals are ``p_value``, ``ci95_low``,
``ci95_high``; the group a unit is ranked within is ``rank_group``.
"""

from perflab.bias.additive import HALO_R_CLIP, MIN_UNITS
from perflab.bias.drift import DriftResult, session_drift
from perflab.bias.flags import (
    FLAGS,
    MIN_RATINGS,
    MIN_STRATUM,
    N_TESTS,
    PANEL_Z,
    UNTESTED,
    RaterFlags,
    flag_raters,
    flag_rules,
    flags_by_group,
)
from perflab.bias.impact import (
    EXCLUDE_RULES,
    RankImpact,
    RaterSeverity,
    adjusted_ratings,
    impact,
    rank_moves,
    rater_severity,
)
from perflab.bias.rasch import EXTREME_ADJUST, category_probabilities, mfrm
from perflab.bias.rasch_result import MFRMResult

__all__ = [
    "EXCLUDE_RULES",
    "EXTREME_ADJUST",
    "FLAGS",
    "HALO_R_CLIP",
    "MIN_RATINGS",
    "MIN_STRATUM",
    "MIN_UNITS",
    "N_TESTS",
    "PANEL_Z",
    "UNTESTED",
    "DriftResult",
    "MFRMResult",
    "RankImpact",
    "RaterFlags",
    "RaterSeverity",
    "adjusted_ratings",
    "category_probabilities",
    "flag_raters",
    "flag_rules",
    "flags_by_group",
    "impact",
    "mfrm",
    "rank_moves",
    "rater_severity",
    "session_drift",
]
