"""Sweep files: one YAML file describes many scenarios over a base scheme; each becomes a validated scheme.

A sweep file (``params/sweeps/NAME.yaml``; the README's "Scenario sweeps" section is the reference)::

    base: ../beijing_2016.yaml      # the scheme every scenario starts from (relative to this file)
    notebooks: [10]                 # numbered notebooks to run for every scenario; [] = scores and comparison only
    parameters: {n_draws: 20000}    # notebook parameters for every scenario (optional)
    grid:                           # every combination of these values is a scenario
      groups.grassroots.share: [0.0, 0.05, ..., 0.60]
    scenarios:                      # named scenarios: scheme overrides, a weight set, notebook parameters
      onsite_75: {components.onsite: 0.75, components.routine: 0.25}
      entropy: {weights: entropy}

Override paths address the scheme by ids (:data:`PATHS`). Everything is checked when the
file is read (:func:`load_sweep`) and when each scenario's scheme is built
(:func:`perflab.sweep.build.build_scenarios`), before anything runs; every problem is one
:class:`~perflab.errors.SweepError` naming the sweep file, the scenario and the key.

This module reads the file; :mod:`perflab.sweep.overrides` checks and applies
override paths; :mod:`perflab.sweep.build` turns scenarios into schemes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from perflab.errors import SchemeError, SweepError
from perflab.scheme import Scheme, read_yaml, scheme_from_dict
from perflab.sweep.overrides import (
    PATHS,
    _close,
    _Fail,
    _is_number,
    _walk,
    _weight_label,
    check_override,
    format_value,
    grid_name,
)

BASE = "base"
MAX_SCENARIOS = 5000  # a grid beyond this is a typing slip (a step of 1e-6), not a study
TOP_KEYS = ("base", "title", "description", "data", "notebooks", "parameters", "grid", "scenarios")
RESERVED_PARAMETERS = ("scheme", "data", "output", "seed")
WEIGHT_SETS = ("scheme", "equal", "entropy", "critic", "std", "pca")
AHP_KEYS = ("ahp", "method", "allow_inconsistent")
ELLIPSIS = "..."
_FLOAT = re.compile(r"(?<![\w.\"])-?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w\"])")  # a float in JSON text (not inside a string)


@dataclass(frozen=True)
class Scenario:
    """One scenario as written: its overrides of the base scheme, its weight set and its notebook parameters."""

    name: str
    origin: str  # base | grid | named
    overrides: tuple[tuple[str, Any], ...] = ()
    weight_set: Any = None  # None (the scheme's), a method name, {ahp: ...} or {indicator: weight}
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The overrides and weight set in words, e.g. ``groups.grassroots.share=0.4; weights=entropy``."""
        parts = [f"{p}={format_value(v)}" for p, v in self.overrides]
        if self.weight_set is not None:
            parts.append(f"weights={_weight_label(self.weight_set)}")
        return "; ".join(parts) or "the base scheme"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    file: Path
    name: str
    title: str
    description: str
    base: Path
    base_raw: dict
    data: Path | None
    notebooks: tuple[Path, ...]
    parameters: Mapping[str, Any]
    grid: tuple[tuple[str, tuple], ...]
    scenarios: tuple[Scenario, ...]

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True)
class BuiltScenario:
    """A scenario made concrete: the scheme as a dict (writable as YAML), the validated scheme, its weights."""

    scenario: Scenario
    raw: dict
    scheme: Scheme

    @property
    def name(self) -> str:
        return self.scenario.name

    def weights(self) -> np.ndarray:
        """The indicator weights this scenario uses (in the scheme's order), normalised to sum to 1."""
        w = np.array([i.weight for i in self.scheme.indicators], dtype=float)
        return w / w.sum()

    @cached_property
    def digest(self) -> str:
        """sha256 of the scenario's scheme as written (canonical JSON of :attr:`raw`, numbers to 12 significant
        digits, so a share rescaled by 0.75 / 0.7500000000000001 is the same share): equal schemes, equal digests."""
        text = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        text = _FLOAT.sub(lambda m: repr(float(f"{float(m.group()):.12g}")), text)  # every number to 12 digits
        return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# grid axes
# ---------------------------------------------------------------------------


def _expand(values, fail: Callable[[str], None]) -> list:
    """A grid axis: a list (with ``...`` between a start, its step and an end: ``[0, 0.05, ..., 0.6]``) or {from, to, step}."""
    if isinstance(values, Mapping):
        extra = set(values) - {"from", "to", "step"}
        if extra or not {"from", "to", "step"} <= set(values):
            fail("expected a list of values, or {from: A, to: B, step: S}")
        a, b, step = values["from"], values["to"], values["step"]
        if not all(_is_number(x) for x in (a, b, step)):
            fail(f"from, to and step must be numbers, got {a!r}, {b!r}, {step!r}")
        return _progression([a, a + step], b, fail)
    if not isinstance(values, list) or not values:
        fail(f"expected a non-empty list of values, got {values!r}")
    if ELLIPSIS in values:
        i = values.index(ELLIPSIS)
        head, tail = values[:i], values[i + 1 :]
        if len(head) < 2 or len(tail) != 1 or ELLIPSIS in tail or not all(_is_number(x) for x in head + tail):
            fail("'...' needs at least two numbers before it (the start and the step) and one after it (the end)")
        return _progression(head, tail[0], fail)
    for v in values:
        if isinstance(v, (list, dict)) or v is None:
            fail(f"a grid value must be a number, text or true/false, got {v!r}")
    seen = set()
    for v in values:
        key = format_value(v)
        if key in seen:
            fail(f"value {key} is listed twice")
        seen.add(key)
    return list(values)


def _progression(head: list, end, fail) -> list:
    start, step = head[0], head[1] - head[0]
    if step == 0:
        fail("the step is zero")
    n = (end - start) / step
    if n < 0 or abs(n - round(n)) > 1e-9:
        fail(f"{format_value(end)} is not reached from {format_value(start)} in steps of {format_value(step)}")
    if n + 1 > MAX_SCENARIOS:
        fail(
            f"{int(round(n)) + 1} values on one axis; a sweep runs at most {MAX_SCENARIOS} scenarios: use a larger step"
        )
    integral = all(isinstance(x, int) for x in head + [end])
    vals = [start + k * step if integral else round(start + k * step, 12) for k in range(int(round(n)) + 1)]
    for k, h in enumerate(head):
        if abs(vals[k] - h) > 1e-9 * max(1.0, abs(h)):
            fail(
                f"the values before '...' are not evenly spaced ({format_value(h)} where {format_value(vals[k])} was expected)"
            )
    return vals


# ---------------------------------------------------------------------------
# reading a sweep file
# ---------------------------------------------------------------------------


def _parameters(obj, fail, key: str) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        fail(key, f"expected a mapping of notebook parameters, got {obj!r}")
    for name, value in obj.items():
        if not isinstance(name, str) or not name.isidentifier():
            fail(f"{key}.{name}", f"{name!r} is not a parameter name")
        if name in RESERVED_PARAMETERS:
            fail(
                f"{key}.{name}",
                f"{name!r} is set by the sweep itself (each scenario's scheme, the data, its output folder, "
                "the seed); it cannot be a parameter",
            )
        if isinstance(value, bool) or isinstance(value, (int, str)) or _is_number(value):
            continue
        fail(f"{key}.{name}", f"a notebook parameter must be a number, text or true/false, got {value!r}")
    return dict(obj)


def _notebooks(obj, directory: Path, fail) -> tuple[Path, ...]:
    from perflab.report import discover_notebooks

    if obj is None:
        return ()
    if not isinstance(obj, list):
        fail("notebooks", f"expected a list of notebook numbers such as [10, 30], got {obj!r}")
    books = discover_notebooks(directory)
    out = []
    for n, item in enumerate(obj):
        want = f"{item:02d}" if isinstance(item, int) and not isinstance(item, bool) else str(item)
        match = [b for b in books if b.stem == want or b.stem.split("_", 1)[0] == want]
        if len(match) != 1:
            fail(f"notebooks[{n}]", f"no notebook {item!r} in {directory}" + _close(want, [b.stem for b in books]))
        if match[0] in out:
            fail(f"notebooks[{n}]", f"notebook {item!r} is listed twice")
        out.append(match[0])
    return tuple(out)


def _weight_set(obj, file: Path, indicators: list[str], fail) -> Any:
    if isinstance(obj, str):
        if obj not in WEIGHT_SETS:
            fail(f"unknown weight set {obj!r}" + _close(obj, WEIGHT_SETS))
        return obj
    if isinstance(obj, dict) and "ahp" in obj:
        extra = [k for k in obj if k not in AHP_KEYS]
        if extra:
            fail(f"unknown key {extra[0]!r} in an AHP weight set" + _close(extra[0], AHP_KEYS))
        if not isinstance(obj["ahp"], str):
            fail(f"ahp: expected the path of a pairwise comparison CSV file, got {obj['ahp']!r}")
        path = (file.parent / obj["ahp"]).resolve()
        if not path.is_file():
            fail(f"ahp: pairwise comparison file not found: {path}")
        if obj.get("method", "eigenvector") not in ("eigenvector", "geometric"):
            fail(f"ahp method must be eigenvector or geometric, got {obj.get('method')!r}")
        if not isinstance(obj.get("allow_inconsistent", False), bool):
            fail(f"allow_inconsistent: expected true or false, got {obj.get('allow_inconsistent')!r}")
        return {**obj, "ahp": str(path)}
    if isinstance(obj, dict) and obj:
        for ind, w in obj.items():
            if ind not in indicators:
                fail(f"unknown indicator {ind!r} in the weight set" + _close(str(ind), indicators))
            if not _is_number(w) or w < 0:
                fail(f"the weight of {ind!r} must be a number >= 0, got {w!r}")
        return dict(obj)
    fail(
        f"expected a weight set: {', '.join(WEIGHT_SETS)}, {{ahp: FILE.csv}} or {{indicator: weight, ...}}; got {obj!r}"
    )


def load_sweep(path: str | Path, notebooks_dir: str | Path | None = None) -> SweepSpec:
    """Read and check a sweep file (structure, paths, value types, notebooks); schemes are built by :func:`build_scenarios`."""
    from perflab.report import notebook_dir

    file = Path(path)

    def fail(key, message, scenario=None):
        raise SweepError(message, file=file, scenario=scenario, key=key)

    raw = read_yaml(file, lambda message: SweepError(message, file=file))
    if not isinstance(raw, dict):
        fail(None, "expected a mapping with at least the key 'base'")
    for k in raw:
        if k not in TOP_KEYS:
            fail(k, f"unknown key {k!r}" + _close(str(k), TOP_KEYS))
    if "base" not in raw:
        fail("base", "missing key 'base' (the scheme every scenario starts from, relative to this file)")
    if not isinstance(raw["base"], str):
        fail("base", f"expected the path of a scheme file, got {raw['base']!r}")
    base = (file.parent / raw["base"]).resolve()
    if not base.is_file():
        fail("base", f"scheme file not found: {base}")
    base_raw = read_yaml(base, lambda message: SchemeError(message, file=base), "scheme file not found")
    scheme_from_dict(base_raw, source=str(base))  # the base itself must be valid: its own errors name its file and key
    data = None
    if raw.get("data") is not None:
        if not isinstance(raw["data"], str):
            fail("data", f"expected a data directory, got {raw['data']!r}")
        data = (file.parent / raw["data"]).resolve()
    for k in ("title", "description"):
        if raw.get(k) is not None and not isinstance(raw[k], str):
            fail(k, f"expected text, got {raw[k]!r}")
    books = raw.get("notebooks")
    notebooks = _notebooks(books, notebook_dir(notebooks_dir) if books else Path(notebooks_dir or "."), fail)
    parameters = _parameters(raw.get("parameters"), fail, "parameters")
    if parameters and not notebooks:
        fail("parameters", "notebook parameters are given but no notebooks run (notebooks: [])")
    indicators = [str(i.get("id")) for i in _walk(base_raw["indicators"]) if not i.get("children")]  # leaves weigh
    spec_context = (base_raw, file, indicators, notebooks, parameters)

    axes = _grid_axes(raw.get("grid") or {}, base_raw, file, indicators, fail)
    sizes = [len(vals) for _, vals in axes]
    if math.prod(sizes) > MAX_SCENARIOS:
        fail(
            "grid",
            f"{math.prod(sizes)} scenarios ({' × '.join(map(str, sizes))} values); a sweep runs at most "
            f"{MAX_SCENARIOS}: fewer values or larger steps",
        )
    scenarios = [Scenario(BASE, "base", (), None, parameters)]
    for combo in itertools.product(*[[(p, v) for v in vals] for p, vals in axes]) if axes else ():
        over = tuple((p, v) for p, v in combo if p != "weights")
        ws = next((v for p, v in combo if p == "weights"), None)
        scenarios.append(Scenario(grid_name(combo), "grid", over, ws, parameters))
    scenarios += _named_scenarios(raw.get("scenarios") or {}, {s.name for s in scenarios}, spec_context, fail)

    return SweepSpec(
        file=file,
        name=file.stem,
        title=raw.get("title") or file.stem,
        description=raw.get("description") or "",
        base=base,
        base_raw=base_raw,
        data=data,
        notebooks=notebooks,
        parameters=parameters,
        grid=tuple(axes),
        scenarios=tuple(scenarios),
    )


def _grid_axes(grid_raw, base_raw: dict, file: Path, indicators: list[str], fail) -> list[tuple[str, tuple]]:
    """The grid's axes (path, values), each value checked as an override (or a weight set's name)."""
    if not isinstance(grid_raw, dict):
        fail("grid", "expected a mapping of override path to a list of values")
    axes = []
    for p, values in grid_raw.items():
        key = f"grid.{p}"
        vals = _expand(values, lambda m: fail(key, m))
        if p == "weights":
            for v in vals:
                if not isinstance(v, str):
                    fail(key, f"a grid over weight sets lists their names, got {v!r}")
                _weight_set(v, file, indicators, lambda m: fail(key, m))
        elif p == "parameters":
            fail(key, "notebook parameters cannot be a grid axis; use named scenarios")
        else:
            for v in vals:
                try:
                    check_override(base_raw, str(p), v)
                except _Fail as exc:
                    fail(str(p), str(exc), grid_name(((str(p), v),)))
        axes.append((str(p), tuple(vals)))
    return axes


def _named_scenarios(named, taken: set[str], context, fail) -> list[Scenario]:
    """The named scenarios: overrides, a weight set and notebook parameters, each checked."""
    base_raw, file, indicators, notebooks, parameters = context
    if not isinstance(named, dict):
        fail("scenarios", "expected a mapping of scenario name to its overrides")
    out = []
    for name, spec in named.items():
        if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name:
            fail("scenarios", f"a scenario name must be non-empty text without '/' or '\\', got {name!r}")
        if name == BASE:
            fail(f"scenarios.{name}", "'base' is the base scheme itself, always included; choose another name", name)
        if name in taken:
            fail(f"scenarios.{name}", "a grid scenario already has this name", name)
        taken.add(name)
        spec = spec or {}
        if not isinstance(spec, dict):
            fail(None, f"expected a mapping of overrides, got {spec!r}", name)
        over, ws, params = [], None, dict(parameters)
        for p, v in spec.items():
            p = str(p)
            if p == "weights":
                ws = _weight_set(v, file, indicators, lambda m: fail("weights", m, name))
            elif p == "parameters":
                if not notebooks:
                    fail("parameters", "notebook parameters are given but no notebooks run (notebooks: [])", name)
                params.update(_parameters(v, lambda k, m: fail(k, m, name), "parameters"))
            else:
                try:
                    check_override(base_raw, p, v)
                except _Fail as exc:
                    fail(p, str(exc), name)
                over.append((p, v))
        out.append(Scenario(name, "named", tuple(over), ws, params))
    return out


__all__ = [
    "BASE",
    "PATHS",
    "Scenario",
    "SweepSpec",
    "BuiltScenario",
    "load_sweep",
    "format_value",
    "grid_name",
]
