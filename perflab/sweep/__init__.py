"""Scenario sweeps: one file describes many schemes; scores in-process, notebooks by papermill, one comparison.

* :mod:`perflab.sweep.spec` — the sweep file: override paths, the grid, named scenarios, weight sets.
* :mod:`perflab.sweep.compare` — what moved, how far and why (ranks, scores, grades, summary, movers).
* :mod:`perflab.sweep.run` — running it: notebooks in a process pool or on Dask, reruns skipped, the outputs.
* :mod:`perflab.sweep.figures` and :mod:`perflab.sweep.page` — the figures and ``index.html``.
"""

from perflab.sweep.compare import Comparison, compare
from perflab.sweep.run import ScenarioRun, SweepResult, check_parameters, run_scenario, run_sweep
from perflab.sweep.spec import (
    BASE,
    PATHS,
    BuiltScenario,
    Scenario,
    SweepSpec,
    build_scenario,
    build_scenarios,
    load_sweep,
    scheme_yaml,
)

__all__ = [
    "BASE",
    "PATHS",
    "BuiltScenario",
    "Comparison",
    "Scenario",
    "ScenarioRun",
    "SweepResult",
    "SweepSpec",
    "build_scenario",
    "build_scenarios",
    "check_parameters",
    "compare",
    "load_sweep",
    "run_scenario",
    "run_sweep",
    "scheme_yaml",
]
