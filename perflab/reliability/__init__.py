"""How trustworthy are the scores? One question per module.

pingouin style: a long DataFrame and column names in, a tidy table out; an
analysis with several results returns a frozen result object with
``summary()``. Randomness is ``seed=``; p-values and intervals are
``p_value``, ``ci95_low``, ``ci95_high``.

- :mod:`~perflab.reliability.icc` — how much of the spread is the units' own:
  :func:`icc` (the six Shrout–Fleiss forms, balanced or Henderson III) and
  :func:`icc_by` (pooled and per ranking group); every ICC names its ``k``.
- :mod:`~perflab.reliability.agreement` — do two raters give the same value:
  :func:`krippendorff_alpha` and :func:`krippendorff_alpha_ci` (bootstrap over
  units or clusters of units).
- :mod:`~perflab.reliability.gtheory` — where the error comes from:
  :func:`g_study` (crossed or nested designs, Brennan 2001) with its D-study,
  and :func:`panel_sizes` per evaluator group.
- :mod:`~perflab.reliability.composite_gstudy` — how many evaluators a ranking
  needs: :func:`composite_g_study` / :func:`onsite_g_study`, the multivariate
  G-study of the groups' composite (:class:`CompositeGStudy`).
- :mod:`~perflab.reliability.precision` — how precise each unit's score is and
  whether adjacent ranks can be told apart: :func:`effective_raters`,
  :func:`score_precision` (:class:`ScorePrecision`), :func:`rater_bootstrap`.

For rankings (issue 10): a reliability near 1 does not make adjacent ranks safe.
"""

from perflab.reliability.agreement import LEVELS, Alpha, krippendorff_alpha, krippendorff_alpha_ci
from perflab.reliability.composite_gstudy import CompositeGStudy, composite_g_study, onsite_g_study, rater_scores
from perflab.reliability.gtheory import GStudy, PanelSizes, g_study, panel_sizes
from perflab.reliability.icc import ICC, PINGOUIN_NAMES, ICCByGroup, icc, icc_by
from perflab.reliability.precision import ScorePrecision, effective_raters, rater_bootstrap, score_precision

__all__ = [
    "ICC",
    "LEVELS",
    "PINGOUIN_NAMES",
    "Alpha",
    "CompositeGStudy",
    "GStudy",
    "ICCByGroup",
    "PanelSizes",
    "ScorePrecision",
    "composite_g_study",
    "effective_raters",
    "g_study",
    "icc",
    "icc_by",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "onsite_g_study",
    "panel_sizes",
    "rater_bootstrap",
    "rater_scores",
    "score_precision",
]
