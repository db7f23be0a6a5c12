"""Demo data shaped like Beijing's 2016 evaluation, with planted effects and a saved ground truth.

:func:`simulate` builds the six raw tables of the data model (units, raters,
ratings, history, survey, verification) for 16 districts and 60 municipal
departments, about 220 evaluators (106 grassroots representatives) scoring the
59 presented units on the scheme's indicators over three sessions. Into the
scores it plants the evaluator biases the workbench is meant to find, and it
returns the truth next to the tables so that tests can check that the analyses
recover them (analysis code never reads the truth).

Score model for rater r, unit u, indicator i (before rounding and clipping)::

    x = quality[u, i] - severity[r] + drift[u] + favour[r, u] + bloc[r, u]
        + grassroots[r, u] + rater_unit[r, u] + noise[r, u, i]

- ``severity`` is in score points and positive for a harsh rater (as everywhere in
  perflab: rater measures, flags and this truth share one direction, positive =
  harsher); the truth's ``rater_effects.severity_points`` is this number;

- halo raters use the unit's mean quality for every indicator and one noise
  per unit (plus a tiny per-indicator jitter);
- central-tendency raters' x is shrunk toward 80: ``80 + CENTRAL_SHRINK * (x - 80)``;
- then ``score = clip(rint(x), 0, 100)`` (evaluators write whole numbers).

Everything is drawn from one ``np.random.default_rng(seed)``: the same seed
gives the same tables, and :func:`write_simulated` writes them byte for byte
the same.
"""

from perflab.simulate.model import Simulated, simulate
from perflab.simulate.write import write_simulated

__all__ = ["Simulated", "simulate", "write_simulated"]
