"""Building each scenario's scheme: overrides applied to the base, its weight set computed, the whole validated.

Everything here runs before any notebook does, so a bad scenario stops the
sweep with one :class:`~perflab.errors.SweepError` naming the file, the
scenario and the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd
import yaml

from perflab.errors import PerflabError, SchemeError, SweepError
from perflab.scheme import Scheme, scheme_from_dict
from perflab.sweep.overrides import _copy, _Fail, apply_overrides, check_override, flat_indicators
from perflab.sweep.spec import BuiltScenario, Scenario, SweepSpec


def data_key(scheme: Scheme) -> tuple:
    """What of a scheme the data are validated against beyond the ids a sweep cannot change: the grade bands
    (a rating's grade must match its score; a grade alone gets its band's score) and which tables the
    components need."""
    needs_survey = scheme.components["satisfaction"] > 0 or (
        scheme.routine is not None and scheme.routine.satisfaction_share > 0 and scheme.components["routine"] > 0
    )
    return scheme.bands, scheme.components["routine"] > 0, needs_survey


class Scorers:
    """One :class:`~perflab.scoring.Scorer` per way the data must be read: the data are validated against each
    scenario's scheme exactly as ``perflab score`` would, but only once per distinct :func:`data_key`."""

    def __init__(self, data_dir, base_scheme: Scheme, dataset=None):
        from perflab.io import load_dataset
        from perflab.scoring import Scorer

        self.data_dir = data_dir
        self._scorers = {
            data_key(base_scheme): Scorer(dataset if dataset is not None else load_dataset(data_dir, base_scheme))
        }
        self.base = next(iter(self._scorers.values()))

    def for_scheme(self, scheme: Scheme):
        from perflab.io import load_dataset
        from perflab.scoring import Scorer

        key = data_key(scheme)
        if key not in self._scorers:
            self._scorers[key] = Scorer(load_dataset(self.data_dir, scheme))
        return self._scorers[key]


def _data_weights(scorer, scheme: Scheme, method: str) -> pd.Series:
    """A data-driven weight set from the unit × indicator on-site scores of every unit scored on site (both kinds)."""
    from perflab.weights import data_weights

    a = scorer.arrays(scheme)
    table = pd.DataFrame(a.indicators, index=a.units, columns=scheme.indicator_ids)
    return data_weights(table.dropna(), method)


def scenario_weights(ws, scheme: Scheme, scorer) -> dict[str, float] | None:
    """The indicator weights a weight set gives, on the scheme's scale (the same total as its weights)."""
    if ws is None or ws == "scheme":
        return None
    total = float(scheme.weights.sum())
    if isinstance(ws, Mapping) and "ahp" in ws:
        from perflab.weights import ahp, read_pairwise

        matrix = read_pairwise(ws["ahp"], scheme.indicator_ids)
        w = ahp(
            matrix, method=ws.get("method", "eigenvector"), allow_inconsistent=ws.get("allow_inconsistent", False)
        ).weights
    elif isinstance(ws, Mapping):
        return {k: float(v) for k, v in ws.items()}
    elif scorer is None:
        raise ValueError(f"the {ws} weight set is computed from the data: build the scenarios with their Scorers")
    else:
        w = _data_weights(scorer, scheme, ws)
    return {i: float(w[i]) * total for i in scheme.indicator_ids}


def build_scenario(spec: SweepSpec, scenario: Scenario, scorers: Scorers | None) -> BuiltScenario:
    """The scenario's scheme: overrides applied to the base, its weight set computed, the whole validated
    (the data too, when the scenario changes what they are validated against)."""

    def fail(key, message):
        raise SweepError(message, file=spec.file, scenario=scenario.name, key=key)

    keys = ", ".join(p for p, _ in scenario.overrides) or None
    try:
        appliers = [check_override(spec.base_raw, p, v) for p, v in scenario.overrides]
        raw = apply_overrides(spec.base_raw, scenario.overrides, appliers)
        _check_trim(raw, scenario)
    except _Fail as exc:
        fail(exc.key or keys, str(exc))
    try:
        scheme = scheme_from_dict(raw, source=str(spec.base))
    except SchemeError as exc:
        fail(keys, f"the scheme it gives is invalid: {exc.key or ''}{': ' if exc.key else ''}{exc.message}")
    scorer = None
    if scorers is not None:
        try:
            scorer = scorers.for_scheme(scheme)
        except PerflabError as exc:
            fail(keys, f"the data do not fit the scheme it gives (as perflab score would refuse it): {exc}")
    if scenario.weight_set is not None:
        try:
            new = scenario_weights(scenario.weight_set, scheme, scorer)
        except (PerflabError, ValueError) as exc:
            fail("weights", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        if new is not None:
            raw["indicators"] = _weigh_leaves(raw["indicators"], new, scheme)
            try:
                scheme = scheme_from_dict(raw, source=str(spec.base))
            except SchemeError as exc:
                fail("weights", f"the weights it gives are invalid: {exc.message}")
    return BuiltScenario(scenario, raw, scheme)


def _weigh_leaves(items: list, new: Mapping[str, float], scheme) -> list:
    """A weight set weighs the leaves: a flat list keeps its shape; a tree becomes the flat list of its leaves, an
    unnamed leaf keeping its effective weight in the points of the tree's first level (e.g. out of 100)."""
    if not any(isinstance(it, dict) and it.get("children") for it in items):
        items = _copy(items)  # the base's own list may be shared (see apply_overrides)
        for it in items:
            if it["id"] in new:
                it["weight"] = new[it["id"]]
        return items
    points = sum(float(it["weight"]) for it in items)
    return flat_indicators(items, {leaf: new.get(leaf, w * points) for leaf, w in scheme.weights.items()})


def _check_trim(raw: dict, scenario: Scenario) -> None:
    agg = raw.get("aggregation") or {}
    set_trim = any(p == "aggregation.trim" for p, _ in scenario.overrides)
    if set_trim and agg.get("method") == "mean" and agg.get("trim", 0):
        raise _Fail(
            "aggregation.trim has no effect with aggregation.method mean; set aggregation.method: trimmed_mean too",
            "aggregation.trim",
        )


def build_scenarios(spec: SweepSpec, scorers: Scorers | None, progress: Callable | None = None) -> list[BuiltScenario]:
    """Every scenario's scheme, built and validated before anything runs (``scorers`` None: schemes only)."""
    it = spec.scenarios if progress is None else progress(spec.scenarios)
    return [build_scenario(spec, s, scorers) for s in it]


def scheme_yaml(built: BuiltScenario) -> str:
    """The scenario's scheme as a YAML document that ``perflab score --scheme`` reads back to the same scheme."""
    head = (
        f"# Scenario {built.name!r}: {built.scenario.describe()}\n"
        f"# Written by perflab sweep from the base scheme; edit the sweep file, not this copy.\n"
    )
    return head + yaml.safe_dump(built.raw, allow_unicode=True, sort_keys=False, width=120)


def directory_name(name: str, taken: set[str]) -> str:
    """A folder name for a scenario: its name when that is safe as a file name, otherwise a readable slug."""
    if re.fullmatch(r"[A-Za-z0-9_.=,+-]{1,120}", name) and name not in (".", ".."):
        slug = name
    else:
        slug = re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", name).strip("._")[:100] or "scenario"
    out, n = slug, 2
    while out.lower() in taken:
        out, n = f"{slug}~{n}", n + 1
    taken.add(out.lower())
    return out
