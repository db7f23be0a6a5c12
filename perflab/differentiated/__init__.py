"""Differentiated evaluation (差异化评价): each unit against its own baseline, its own targets and its zone.

Units doing different jobs are not ranked on one scale. Here each unit is
compared with itself (its own history: :func:`own_baseline`; its own targets:
:func:`target_attainment`, vetted by :func:`vet_targets`) and with its peers
(:func:`zone_relative`), and the scheme's ``differentiated`` block may weigh
indicators and measures differently per zone. :func:`evaluate` puts the
uniform score and rank (as :func:`perflab.scoring.score_units` computes them)
beside the differentiated ones and decomposes the difference by indicator and
measure, so a reader sees why a unit moved.

The differentiated score keeps the uniform score's structure: the on-site
score uses the zone's indicator weights (combined by the scheme's
``composite``, arithmetic or geometric); inside the routine score, the
uniform mean target attainment is replaced by the objective score — per
measure ``a · attainment score + (1 − a) · improvement score``, each the
T-score ``50 + 10 · z`` (clipped to 0–100) of the unit's target attainment,
and of its improvement on its own baseline, among the units of its zone
(``a`` = ``attainment_share``; a part without a figure counts as 50, the
zone's average) — combined with the zone's measure weights.
Satisfaction, verification penalty and component weights are as in the
uniform score, so the two are on one 0–100 scale and their difference adds
up item by item.

One question per module: :mod:`~perflab.differentiated.baseline` (against its
own history), :mod:`~perflab.differentiated.vetting` (against its own
targets, and which targets ask for nothing new),
:mod:`~perflab.differentiated.zones` (against its zone's peers) and
:mod:`~perflab.differentiated.evaluation` (the two evaluations side by side).
Every public name is importable from ``perflab.differentiated``.
"""

from perflab.differentiated.baseline import MIN_YEARS, own_baseline
from perflab.differentiated.evaluation import Evaluation, evaluate
from perflab.differentiated.vetting import target_attainment, vet_targets, vetted_attainment
from perflab.differentiated.zones import zone_relative

__all__ = [
    "MIN_YEARS",
    "Evaluation",
    "evaluate",
    "own_baseline",
    "target_attainment",
    "vet_targets",
    "vetted_attainment",
    "zone_relative",
]
