"""Scenario sweeps: one file describes many schemes; scores in-process, notebooks by papermill, one comparison.

* :mod:`perflab.sweep.spec` — reading the sweep file: the grid, named scenarios, weight sets, notebooks.
* :mod:`perflab.sweep.overrides` — the override paths a scenario may set, checked and applied to the base scheme.
* :mod:`perflab.sweep.build` — each scenario's scheme built and validated (with the data) before anything runs.
* :mod:`perflab.sweep.compare` — what moved, how far and why (ranks, scores, grades, summary, movers).
* :mod:`perflab.sweep.run` — running it: notebooks in a process pool or on Dask, reruns skipped, the outputs.
* :mod:`perflab.sweep.figures` and :mod:`perflab.sweep.page` — the figures and ``index.html``.
"""

from perflab.sweep.build import Scorers, build_scenario, build_scenarios, scheme_yaml
from perflab.sweep.compare import Comparison, average_ranks, compare
from perflab.sweep.run import ScenarioRun, SweepResult, check_parameters, run_scenario, run_sweep
from perflab.sweep.spec import BASE, PATHS, BuiltScenario, Scenario, SweepSpec, load_sweep

__all__ = [
    "BASE",
    "PATHS",
    "BuiltScenario",
    "Comparison",
    "Scenario",
    "ScenarioRun",
    "SweepResult",
    "SweepSpec",
    "Scorers",
    "average_ranks",
    "build_scenario",
    "build_scenarios",
    "check_parameters",
    "compare",
    "load_sweep",
    "run_scenario",
    "run_sweep",
    "scheme_yaml",
]
