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
(:func:`build_scenarios`), before anything runs; every problem is one
:class:`~perflab.errors.SweepError` naming the sweep file, the scenario and the key.
"""

from __future__ import annotations

import difflib
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
import pandas as pd
import yaml

from perflab.errors import PerflabError, SchemeError, SweepError
from perflab.scheme import (
    AGGREGATIONS,
    BASELINE_METHODS,
    COMPONENTS,
    DIRECTIONS,
    MISSING_POLICIES,
    TOO_FEW_YEARS,
    VETTING_ACTIONS,
    Scheme,
    read_yaml,
    scheme_from_dict,
)

BASE = "base"
TOP_KEYS = ("base", "title", "description", "data", "notebooks", "parameters", "grid", "scenarios")
RESERVED_PARAMETERS = ("scheme", "data", "output", "seed")
WEIGHT_SETS = ("scheme", "equal", "entropy", "critic", "std", "pca")
AHP_KEYS = ("ahp", "method", "allow_inconsistent")
ELLIPSIS = "..."
_FLOAT = re.compile(r"(?<![\w.\"])-?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w\"])")  # a float in JSON text (not inside a string)

#: The override paths a scenario may set, with what they take (ids in angle brackets).
PATHS = {
    "groups.<group>.share": "a share in [0, 1]; the other groups are rescaled proportionally so the shares sum to 1",
    "indicators.<indicator>.weight": "a weight >= 0 (weights are used relative to their sum)",
    "components.<onsite|routine|satisfaction>": "a component weight >= 0",
    "aggregation.method": "mean | trimmed_mean",
    "aggregation.trim": "a whole number >= 0 (with aggregation.method trimmed_mean)",
    "missing_components": "impute_mean | renormalise | error",
    "ranking.within": "kind | all",
    "ranking.zone": "true | false",
    "bands.<grade>.lower|upper|score": "a number in [0, 100]",
    "routine.year|attainment_cap|satisfaction_share|verification_penalty": "a number",
    "measures.<measure>.weight": "a weight >= 0",
    "measures.<measure>.direction": "higher | lower",
    "differentiated.year|attainment_share|min_zone_size": "a year; a share in [0, 1]; a whole number >= 1",
    "differentiated.vetting.action|penalty": "flag | reject | penalty; points in [0, 100] (sets action: penalty)",
    "differentiated.baseline.method|years|too_few_years": "mean | trend | zscore; a whole number; error | missing | zone",
    "differentiated.zones.<zone>.indicators|measures.<id>": "a zone's weight >= 0",
    "weights": "a weight set: scheme | equal | entropy | critic | std | pca | {ahp: FILE.csv} | {indicator: weight, ...}",
    "parameters": "notebook parameters for this scenario: {name: value}",
}
_HEADS = (
    "groups",
    "indicators",
    "components",
    "aggregation",
    "missing_components",
    "ranking",
    "bands",
    "routine",
    "measures",
    "differentiated",
    "weights",
    "parameters",
)


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
# values and names
# ---------------------------------------------------------------------------


def format_value(v) -> str:
    """How a value appears in a scenario name: 0.4, 2, true, trimmed_mean."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "0" if v == 0 else format(v, ".12g")
    if isinstance(v, Mapping):
        return _weight_label(v)
    return str(v)


def _weight_label(ws) -> str:
    if isinstance(ws, Mapping):
        if "ahp" in ws:
            return f"ahp:{Path(str(ws['ahp'])).name}"
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in ws.items()) + "}"
    return str(ws)


def grid_name(assignment: tuple[tuple[str, Any], ...]) -> str:
    """A grid scenario's name: its overrides as ``path=value`` joined by ``,``."""
    return ",".join(f"{p}={format_value(v)}" for p, v in assignment)


def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


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
    integral = all(isinstance(x, int) for x in head + [end])
    vals = [start + k * step if integral else round(start + k * step, 12) for k in range(int(round(n)) + 1)]
    for k, h in enumerate(head):
        if abs(vals[k] - h) > 1e-9 * max(1.0, abs(h)):
            fail(
                f"the values before '...' are not evenly spaced ({format_value(h)} where {format_value(vals[k])} was expected)"
            )
    return vals


# ---------------------------------------------------------------------------
# override paths
# ---------------------------------------------------------------------------


class _Fail(Exception):
    """Carries one problem with a key up to where the sweep file and scenario are known."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _close(word: str, known) -> str:
    known = [str(k) for k in known]
    close = difflib.get_close_matches(str(word), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known) or 'none'}"


def _number(v, lo=None, hi=None) -> float:
    if not _is_number(v):
        raise _Fail(f"expected a number, got {v!r}")
    if lo is not None and v < lo:
        raise _Fail(f"must be >= {format_value(lo)}, got {format_value(v)}")
    if hi is not None and v > hi:
        raise _Fail(f"must be <= {format_value(hi)}, got {format_value(v)}")
    return v


def _whole(v, lo=None, hi=None) -> int:
    _number(v, lo, hi)
    if v != int(v):
        raise _Fail(f"expected a whole number, got {v!r}")
    return int(v)


def _choice(v, choices) -> str:
    if v not in choices:
        raise _Fail(f"must be one of {', '.join(choices)}, got {v!r}")
    return v


def _bool(v) -> bool:
    if not isinstance(v, bool):
        raise _Fail(f"expected true or false, got {v!r}")
    return v


def _item(items, key_name: str, ident: str, what: str) -> dict:
    for it in items or []:
        if isinstance(it, dict) and str(it.get(key_name)) == ident:
            return it
    raise _Fail(
        f"unknown {what} {ident!r}" + _close(ident, [it.get(key_name) for it in items or [] if isinstance(it, dict)])
    )


def _need(raw: dict, block: str) -> dict:
    if not isinstance(raw.get(block), dict):
        raise _Fail(f"the base scheme has no {block!r} block to override")
    return raw[block]


def check_override(raw: dict, path: str, value) -> Callable[[dict], None]:
    """Check one override against the base scheme (as a dict); returns the function that applies it to a copy.

    Group shares are not applied here (:func:`apply_overrides` sets them together, rescaling the others).
    """
    segs = path.split(".")
    head, n = segs[0], len(segs)

    def shape(ok: bool, form: str):
        if not ok:
            raise _Fail(f"unknown path {path!r}; expected {form}")

    if head == "groups":
        shape(n == 3 and segs[2] == "share", "groups.<group>.share")
        _item(raw.get("groups"), "id", segs[1], "evaluator group")
        _number(value, 0.0, 1.0)
        return lambda r: None
    if head == "indicators":
        shape(n == 3 and segs[2] == "weight", "indicators.<indicator>.weight")
        _item(raw.get("indicators"), "id", segs[1], "indicator")
        v = _number(value, 0.0)
        return lambda r: _item(r["indicators"], "id", segs[1], "indicator").__setitem__("weight", v)
    if head == "components":
        shape(n == 2, "components.<onsite|routine|satisfaction>")
        if segs[1] not in COMPONENTS:
            raise _Fail(f"unknown component {segs[1]!r}" + _close(segs[1], COMPONENTS))
        v = _number(value, 0.0)
        return lambda r: r["components"].__setitem__(segs[1], v)
    if head == "aggregation":
        shape(n == 2 and segs[1] in ("method", "trim"), "aggregation.method or aggregation.trim")
        v = _choice(value, AGGREGATIONS) if segs[1] == "method" else _whole(value, 0)
        return lambda r: r["aggregation"].__setitem__(segs[1], v)
    if head == "missing_components":
        shape(n == 1, "missing_components")
        v = _choice(value, MISSING_POLICIES)
        return lambda r: r.__setitem__("missing_components", v)
    if head == "ranking":
        shape(n == 2 and segs[1] in ("within", "zone"), "ranking.within or ranking.zone")
        v = _choice(value, ("kind", "all")) if segs[1] == "within" else _bool(value)
        return lambda r: r.setdefault("ranking", {}).__setitem__(segs[1], v)
    if head == "bands":
        shape(n == 3 and segs[2] in ("lower", "upper", "score"), "bands.<grade>.lower, .upper or .score")
        _item(raw.get("bands"), "grade", segs[1], "grade")
        v = _number(value, 0.0, 100.0)
        return lambda r: _item(r["bands"], "grade", segs[1], "grade").__setitem__(segs[2], v)
    if head == "routine":
        keys = ("year", "attainment_cap", "satisfaction_share", "verification_penalty")
        shape(n == 2 and segs[1] in keys, "routine." + "|".join(keys))
        _need(raw, "routine")
        v = (
            _whole(value, 1900, 2200)
            if segs[1] == "year"
            else _number(value, 0.0, 1.0 if segs[1] == "satisfaction_share" else None)
        )
        return lambda r: r["routine"].__setitem__(segs[1], v)
    if head == "measures":
        shape(n == 3 and segs[2] in ("weight", "direction"), "measures.<measure>.weight or .direction")
        _item(raw.get("measures"), "id", segs[1], "measure")
        v = _number(value, 0.0) if segs[2] == "weight" else _choice(value, DIRECTIONS)
        return lambda r: _item(r["measures"], "id", segs[1], "measure").__setitem__(segs[2], v)
    if head == "differentiated":
        _need(raw, "differentiated")
        if n == 2 and segs[1] in ("year", "attainment_share", "min_zone_size"):
            v = {
                "year": lambda: _whole(value, 1900, 2200),
                "attainment_share": lambda: _number(value, 0.0, 1.0),
                "min_zone_size": lambda: _whole(value, 1, 1000),
            }[segs[1]]()
            return lambda r: r["differentiated"].__setitem__(segs[1], v)
        if n == 3 and segs[1] == "vetting" and segs[2] in ("action", "penalty"):
            v = _choice(value, VETTING_ACTIONS) if segs[2] == "action" else _number(value, 0.0, 100.0)

            def vet(r):
                rule = dict(r["differentiated"].get("vetting") or {"action": "reject"})
                rule[segs[2]] = v
                if segs[2] == "penalty":
                    rule["action"] = "penalty"  # a penalty only means something with action: penalty
                r["differentiated"]["vetting"] = rule

            return vet
        if n == 3 and segs[1] == "baseline" and segs[2] in ("method", "years", "too_few_years"):
            v = {
                "method": lambda: _choice(value, BASELINE_METHODS),
                "years": lambda: _whole(value, 1, 50),
                "too_few_years": lambda: _choice(value, TOO_FEW_YEARS),
            }[segs[2]]()
            return lambda r: r["differentiated"]["baseline"].__setitem__(segs[2], v)
        if n == 5 and segs[1] == "zones" and segs[3] in ("indicators", "measures"):
            zone, part, ident = segs[2], segs[3], segs[4]
            _item(raw.get("zones"), "id", zone, "zone")
            _item(raw.get(part), "id", ident, part[:-1])
            v = _number(value, 0.0)

            def apply(r):
                zones = r["differentiated"].get("zones") or {}
                r["differentiated"]["zones"] = zones
                spec = zones.get(zone) or {}
                zones[zone] = spec
                spec[part] = dict(spec.get(part) or {})
                spec[part][ident] = v

            return apply
        shape(
            False,
            "differentiated.year|attainment_share|min_zone_size, differentiated.vetting.action|penalty, "
            "differentiated.baseline.method|years|too_few_years "
            "or differentiated.zones.<zone>.indicators|measures.<id>",
        )
    raise _Fail(
        f"unknown path {path!r}: it must start with one of {', '.join(_HEADS)}"
        + (_close(head, _HEADS) if difflib.get_close_matches(head, _HEADS, n=1) else "")
    )


def _copy(x):
    """A deep copy of plain YAML data (dicts, lists, scalars), several times faster than copy.deepcopy."""
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


def apply_overrides(raw: dict, overrides, appliers) -> dict:
    """A copy of the base scheme dict with the overrides applied (group shares set together, the others rescaled).

    Only the blocks an override touches are copied (the base dict is never modified; the copy shares
    the untouched blocks with it, which nothing downstream modifies).
    """
    out = dict(raw)
    for head in {p.split(".")[0] for p, _ in overrides}:
        if head in out:
            out[head] = _copy(out[head])
    for f in appliers:
        f(out)
    shares = {p.split(".")[1]: float(v) for p, v in overrides if p.startswith("groups.")}
    if shares:
        key = next(p for p, _ in overrides if p.startswith("groups."))
        fixed = sum(shares.values())
        if fixed > 1.0 + 1e-9:
            raise _Fail(f"the shares set sum to {fixed:.6g}, more than 1", key)
        others = [g for g in out["groups"] if str(g.get("id")) not in shares]
        rest = sum(float(g["share"]) for g in others)
        if others and rest <= 0 and fixed < 1.0 - 1e-9:
            raise _Fail("cannot rescale: every other evaluator group has share 0", key)
        for g in out["groups"]:
            gid = str(g.get("id"))
            if gid in shares:
                g["share"] = shares[gid]
            elif rest > 0:
                g["share"] = float(g["share"]) * (1.0 - fixed) / rest
    return out


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
    from perflab.report import NOTEBOOK_DIR

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
    notebooks = _notebooks(raw.get("notebooks"), Path(notebooks_dir or NOTEBOOK_DIR), fail)
    parameters = _parameters(raw.get("parameters"), fail, "parameters")
    if parameters and not notebooks:
        fail("parameters", "notebook parameters are given but no notebooks run (notebooks: [])")
    indicators = [str(i.get("id")) for i in base_raw["indicators"]]

    # the grid: every combination of the axes' values
    grid_raw = raw.get("grid") or {}
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
    scenarios = [Scenario(BASE, "base", (), None, parameters)]
    for combo in itertools.product(*[[(p, v) for v in vals] for p, vals in axes]) if axes else ():
        over = tuple((p, v) for p, v in combo if p != "weights")
        ws = next((v for p, v in combo if p == "weights"), None)
        scenarios.append(Scenario(grid_name(combo), "grid", over, ws, parameters))

    named = raw.get("scenarios") or {}
    if not isinstance(named, dict):
        fail("scenarios", "expected a mapping of scenario name to its overrides")
    taken = {s.name for s in scenarios}
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
        scenarios.append(Scenario(name, "named", tuple(over), ws, params))

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


# ---------------------------------------------------------------------------
# building each scenario's scheme
# ---------------------------------------------------------------------------


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
            raw["indicators"] = _copy(raw["indicators"])  # the base's own list may be shared (see apply_overrides)
            for it in raw["indicators"]:
                if it["id"] in new:
                    it["weight"] = new[it["id"]]
            try:
                scheme = scheme_from_dict(raw, source=str(spec.base))
            except SchemeError as exc:
                fail("weights", f"the weights it gives are invalid: {exc.message}")
    return BuiltScenario(scenario, raw, scheme)


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


__all__ = [
    "BASE",
    "PATHS",
    "Scenario",
    "SweepSpec",
    "BuiltScenario",
    "Scorers",
    "data_key",
    "load_sweep",
    "build_scenario",
    "build_scenarios",
    "check_override",
    "apply_overrides",
    "scenario_weights",
    "scheme_yaml",
    "directory_name",
    "format_value",
    "grid_name",
]
