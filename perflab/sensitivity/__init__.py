"""How fragile is the ranking? Weight sensitivity, exact stability intervals and evaluator-group shares.

Inputs are a unit × indicator score table (units as the index, indicators as columns;
:func:`unit_indicator_scores` builds one), a weight vector (a Series indexed by indicator, in the
scheme's units), and where needed the unit × evaluator-group table (:func:`unit_group_scores`) with the
group shares. Ranks come from :mod:`perflab.ranking` (1 = best, ties take the lowest rank, scores equal to
9 decimals tie); ``rank_group=`` (each unit's kind, or None to rank all units together;
:func:`perflab.ranking.rank_groups` derives it from the scheme) ranks units only against their own rank
group, reported in the ``rank_group`` column of every result table. ``composite=`` names how indicators
combine (``scheme.composite``).

One question per module:

* :mod:`~perflab.sensitivity.inputs` — the score tables built from a data set (final-score scale,
  on-site profiles and the map to the final score), and the written-report units.
* :mod:`~perflab.sensitivity.weighting` — the composite of many weight vectors at once; moved, random
  and bounded weights.
* :mod:`~perflab.sensitivity.bootstrap` — raters resampled within their groups (:func:`rater_bootstrap`).
* :mod:`~perflab.sensitivity.montecarlo` — rank distributions under random weights (:func:`monte_carlo`),
  SMAA (:func:`rank_acceptability`) and the Monte Carlo error of the rater replicates; any composite.
* :mod:`~perflab.sensitivity.kendall` — Kendall's tau-b of many rankings against one.
* :mod:`~perflab.sensitivity.sobol` — Sobol indices of the weights and one group's share; any composite.
* :mod:`~perflab.sensitivity.intervals` — exact stability intervals of each weight, and one weight at a time.
* :mod:`~perflab.sensitivity.nodes` — any node of a tree-shaped scheme: exact intervals of its weight, one at a
  time, Monte Carlo over the weights of a node's children (or every level), their Sobol indices.
* :mod:`~perflab.sensitivity.bestcase` — the best rank any weighting within bounds gives a unit.
* :mod:`~perflab.sensitivity.shares` — exact breakpoints, grade changes and stable ranges of one group's share.
* :mod:`~perflab.sensitivity.paths` — the exact machinery of a score linear in one parameter.

The exact methods (stability intervals, share breakpoints and grade changes, best-case weights) rest on
every score being linear in a weight or a share, true of the arithmetic composite only: under another they
raise :class:`perflab.composite.NonLinearComposite` (one message). The group-share functions refuse it too:
the shares combine the groups arithmetically, but a unit × group table combines into the final score only
when the indicators do so as well. Monte Carlo, SMAA, Sobol and one-at-a-time evaluate the composite at
each weighting and work under any composite (pass ``"profile"`` scores and :func:`final_map`).
"""

from perflab.ranking import TIE_DECIMALS, rank_groups, rank_vector
from perflab.sensitivity.bestcase import best_case_ranks
from perflab.sensitivity.bootstrap import (
    RaterCells,
    ScoreDraws,
    rater_bootstrap,
    rater_cells,
    replicate_scores,
    resampled_group_means,
)
from perflab.sensitivity.inputs import (
    SCALES,
    CubeArrays,
    cube_arrays,
    fill_holes,
    final_map,
    score_cube,
    unit_group_scores,
    unit_indicator_scores,
    written_report_units,
)
from perflab.sensitivity.intervals import StabilityResult, one_at_a_time, stability_intervals
from perflab.sensitivity.kendall import kendall_tau_b
from perflab.sensitivity.montecarlo import (
    CHUNK,
    MIN_REPLICATES,
    MonteCarloResult,
    ReplicateError,
    draw_streams,
    monte_carlo,
    rank_acceptability,
    replicate_error,
)
from perflab.sensitivity.nodes import (
    SIBLINGS,
    node_monte_carlo,
    node_one_at_a_time,
    node_sobol_indices,
    node_stability_intervals,
)
from perflab.sensitivity.shares import (
    ShareBreakpoints,
    share_breakpoints,
    share_grade_changes,
    share_path,
    stable_share_range,
)
from perflab.sensitivity.sobol import (
    CONF_LEVEL,
    INTERACTION,
    SHIFT,
    SOBOL_ESTIMATOR,
    SOBOL_N,
    SOBOL_RESAMPLES,
    SobolResult,
    effective_weight_range,
    saltelli_sample,
    sobol_confidence,
    sobol_estimates,
    sobol_indices,
)
from perflab.sensitivity.weighting import (
    METHODS,
    bounds_around,
    composite_scores,
    dirichlet_concentration,
    draw_weights,
    moved_weights,
)

__all__ = [
    "CHUNK",
    "CONF_LEVEL",
    "INTERACTION",
    "METHODS",
    "MIN_REPLICATES",
    "SCALES",
    "SHIFT",
    "SOBOL_ESTIMATOR",
    "SOBOL_N",
    "SIBLINGS",
    "SOBOL_RESAMPLES",
    "TIE_DECIMALS",
    "CubeArrays",
    "MonteCarloResult",
    "RaterCells",
    "ReplicateError",
    "ScoreDraws",
    "ShareBreakpoints",
    "SobolResult",
    "StabilityResult",
    "best_case_ranks",
    "bounds_around",
    "composite_scores",
    "cube_arrays",
    "dirichlet_concentration",
    "draw_streams",
    "draw_weights",
    "effective_weight_range",
    "fill_holes",
    "final_map",
    "kendall_tau_b",
    "monte_carlo",
    "moved_weights",
    "node_monte_carlo",
    "node_one_at_a_time",
    "node_sobol_indices",
    "node_stability_intervals",
    "one_at_a_time",
    "rank_acceptability",
    "rank_groups",
    "rank_vector",
    "rater_bootstrap",
    "rater_cells",
    "replicate_error",
    "replicate_scores",
    "resampled_group_means",
    "saltelli_sample",
    "score_cube",
    "share_breakpoints",
    "share_grade_changes",
    "share_path",
    "sobol_confidence",
    "sobol_estimates",
    "sobol_indices",
    "stability_intervals",
    "stable_share_range",
    "unit_group_scores",
    "unit_indicator_scores",
    "written_report_units",
]
