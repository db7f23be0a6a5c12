"""Override paths: what a scenario may change in the base scheme, each checked against it and applied to a copy.

:data:`PATHS` lists them; :func:`check_override` checks one path and value
against the base scheme (as a dict) and returns the function that applies it;
:func:`apply_overrides` applies a scenario's overrides together (group shares
set together, the other groups rescaled).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from perflab.composite import COMPOSITES
from perflab.scheme import (
    AGGREGATIONS,
    BASELINE_METHODS,
    COMPONENTS,
    DIRECTIONS,
    MISSING_POLICIES,
    TOO_FEW_YEARS,
    VETTING_ACTIONS,
)
from perflab.tree import parse_key

#: The override paths a scenario may set, with what they take (ids in angle brackets).
PATHS = {
    "groups.<group>.share": "a share in [0, 1]; the other groups are rescaled proportionally so the shares sum to 1",
    "indicators.<indicator>.weight": "a weight >= 0, relative to its siblings (<indicator>: an id at any depth)",
    "indicators.<node>.children.<node>.weight": "the same, the node named by its path in the tree (any depth)",
    "components.<onsite|routine|satisfaction>": "a component weight >= 0",
    "aggregation.method": "mean | trimmed_mean",
    "composite": "arithmetic | geometric (how indicator scores combine into the on-site score)",
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
    "composite",
    "missing_components",
    "ranking",
    "bands",
    "routine",
    "measures",
    "differentiated",
    "weights",
    "parameters",
)


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

    Examples
    --------
    >>> import yaml
    >>> raw = yaml.safe_load(open("params/beijing_2016.yaml", encoding="utf-8"))
    >>> apply = check_override(raw, "composite", "geometric")
    >>> changed = dict(raw)
    >>> apply(changed)
    >>> changed["composite"], raw["composite"]
    ('geometric', 'arithmetic')
    >>> check_override(raw, "composite", "harmonic")
    Traceback (most recent call last):
    ...
    perflab.sweep.overrides._Fail: must be one of arithmetic, geometric, got 'harmonic'
    """
    segs = path.split(".")
    head = segs[0]

    def shape(ok: bool, form: str):
        if not ok:
            raise _Fail(f"unknown path {path!r}; expected {form}")

    check = _CHECKS.get(head)
    if check is None:
        raise _Fail(
            f"unknown path {path!r}: it must start with one of {', '.join(_HEADS)}"
            + (_close(head, _HEADS) if difflib.get_close_matches(head, _HEADS, n=1) else "")
        )
    return check(raw, segs, value, shape)


def _groups(raw, segs, value, shape):
    shape(len(segs) == 3 and segs[2] == "share", "groups.<group>.share")
    _item(raw.get("groups"), "id", segs[1], "evaluator group")
    _number(value, 0.0, 1.0)
    return lambda r: None  # set together in apply_overrides


def indicator_node(items, ids) -> dict:
    """The indicator node (as a dict of the scheme file) a path of ids names; one id names a node at any depth.

    Examples
    --------
    >>> items = [{"id": "management", "weight": 15, "children": [{"id": "capacity_building", "weight": 7}]}]
    >>> indicator_node(items, ["capacity_building"]) is indicator_node(items, ["management", "capacity_building"])
    True
    >>> indicator_node(items, ["management", "capacity"])
    Traceback (most recent call last):
    ...
    perflab.sweep.overrides._Fail: unknown indicator 'capacity' under 'management' (did you mean 'capacity_building'?)
    """
    if len(ids) == 1:
        every = list(_walk(items))
        for it in every:
            if str(it.get("id")) == ids[0]:
                return it
        raise _Fail(f"unknown indicator {ids[0]!r}" + _close(ids[0], [it.get("id") for it in every]))
    node = _item(items, "id", ids[0], "indicator")
    for above, ident in zip(ids, ids[1:]):
        kids = node.get("children") if isinstance(node.get("children"), list) else []
        if not kids:
            raise _Fail(f"indicator {above!r} has no children (it is a leaf)")
        try:
            node = _item(kids, "id", ident, "indicator")
        except _Fail:
            raise _Fail(
                f"unknown indicator {ident!r} under {above!r}" + _close(ident, [k.get("id") for k in kids])
            ) from None
    return node


def flat_indicators(items, weights: Mapping[str, float]) -> list[dict]:
    """The leaves of an indicator list (a tree or flat), depth first, as a flat list weighing as ``weights`` says
    (a leaf not named keeps its weight): how a weight set, which weighs the leaves, applies to a tree.

    Examples
    --------
    >>> items = [{"id": "management", "weight": 15, "children": [{"id": "law", "weight": 8}, {"id": "cap", "weight": 7}]}]
    >>> flat_indicators(items, {"law": 0.5})
    [{'id': 'law', 'weight': 0.5}, {'id': 'cap', 'weight': 7}]
    """
    return [
        {
            **{k: v for k, v in it.items() if k not in ("children", "aggregation")},
            "weight": weights.get(it["id"], it["weight"]),
        }
        for it in _walk(items)
        if not it.get("children")
    ]


def base_number(raw: dict, path: str):
    """The base scheme's number at an override path (a node at any depth of the indicator tree), or None when
    the path holds no single number.

    Examples
    --------
    >>> import yaml
    >>> raw = yaml.safe_load(open("params/beijing_departments_sanxiao.yaml", encoding="utf-8"))
    >>> base_number(raw, "indicators.management.children.capacity_building.weight"), base_number(raw, "composite")
    (7, None)
    """
    segs = path.split(".")
    try:
        if segs[0] == "indicators":
            ids = (segs[1],) if len(segs) == 3 else parse_key(".".join(segs[:-1]))
            value = indicator_node(raw["indicators"], ids).get(segs[-1]) if ids else None
        elif segs[0] in ("groups", "measures", "bands"):
            key = "grade" if segs[0] == "bands" else "id"
            value = next(it for it in raw[segs[0]] if str(it.get(key)) == segs[1]).get(segs[2])
        else:
            value = raw
            for seg in segs:
                value = value[seg]
    except (_Fail, KeyError, StopIteration, TypeError, IndexError):
        return None
    return value if _is_number(value) else None


def _walk(items):
    for it in items or []:
        if isinstance(it, dict):
            yield it
            yield from _walk(it.get("children") if isinstance(it.get("children"), list) else [])


def _indicators(raw, segs, value, shape):
    ids = (segs[1],) if len(segs) == 3 else parse_key(".".join(segs[:-1]))
    shape(
        len(segs) >= 3 and segs[-1] == "weight" and bool(ids),
        "indicators.<indicator>.weight or indicators.<node>.children.<node>.weight (a node at any depth)",
    )
    indicator_node(raw.get("indicators"), ids)
    v = _number(value, 0.0)
    return lambda r: indicator_node(r["indicators"], ids).__setitem__("weight", v)


def _components(raw, segs, value, shape):
    shape(len(segs) == 2, "components.<onsite|routine|satisfaction>")
    if segs[1] not in COMPONENTS:
        raise _Fail(f"unknown component {segs[1]!r}" + _close(segs[1], COMPONENTS))
    v = _number(value, 0.0)
    return lambda r: r["components"].__setitem__(segs[1], v)


def _aggregation(raw, segs, value, shape):
    shape(len(segs) == 2 and segs[1] in ("method", "trim"), "aggregation.method or aggregation.trim")
    v = _choice(value, AGGREGATIONS) if segs[1] == "method" else _whole(value, 0)
    return lambda r: r["aggregation"].__setitem__(segs[1], v)


def _top_choice(key: str, choices):
    def check(raw, segs, value, shape):
        shape(len(segs) == 1, key)
        v = _choice(value, tuple(choices))
        return lambda r: r.__setitem__(key, v)

    return check


def _ranking(raw, segs, value, shape):
    shape(len(segs) == 2 and segs[1] in ("within", "zone"), "ranking.within or ranking.zone")
    v = _choice(value, ("kind", "all")) if segs[1] == "within" else _bool(value)
    return lambda r: r.setdefault("ranking", {}).__setitem__(segs[1], v)


def _bands(raw, segs, value, shape):
    shape(len(segs) == 3 and segs[2] in ("lower", "upper", "score"), "bands.<grade>.lower, .upper or .score")
    _item(raw.get("bands"), "grade", segs[1], "grade")
    v = _number(value, 0.0, 100.0)
    return lambda r: _item(r["bands"], "grade", segs[1], "grade").__setitem__(segs[2], v)


def _routine(raw, segs, value, shape):
    keys = ("year", "attainment_cap", "satisfaction_share", "verification_penalty")
    shape(len(segs) == 2 and segs[1] in keys, "routine." + "|".join(keys))
    _need(raw, "routine")
    if segs[1] == "year":
        v = _whole(value, 1900, 2200)
    else:
        v = _number(value, 0.0, 1.0 if segs[1] == "satisfaction_share" else None)
    return lambda r: r["routine"].__setitem__(segs[1], v)


def _measures(raw, segs, value, shape):
    shape(len(segs) == 3 and segs[2] in ("weight", "direction"), "measures.<measure>.weight or .direction")
    _item(raw.get("measures"), "id", segs[1], "measure")
    v = _number(value, 0.0) if segs[2] == "weight" else _choice(value, DIRECTIONS)
    return lambda r: _item(r["measures"], "id", segs[1], "measure").__setitem__(segs[2], v)


def _differentiated(raw, segs, value, shape):
    _need(raw, "differentiated")
    n = len(segs)
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
        return _zone_weight(raw, segs, value)
    shape(
        False,
        "differentiated.year|attainment_share|min_zone_size, differentiated.vetting.action|penalty, "
        "differentiated.baseline.method|years|too_few_years "
        "or differentiated.zones.<zone>.indicators|measures.<id>",
    )


def _zone_weight(raw, segs, value):
    zone, part, ident = segs[2], segs[3], segs[4]
    _item(raw.get("zones"), "id", zone, "zone")
    if part == "indicators":
        indicator_node(raw.get(part), [ident])  # a node at any depth of the tree
    else:
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


_CHECKS = {
    "groups": _groups,
    "indicators": _indicators,
    "components": _components,
    "aggregation": _aggregation,
    "composite": _top_choice("composite", COMPOSITES),
    "missing_components": _top_choice("missing_components", MISSING_POLICIES),
    "ranking": _ranking,
    "bands": _bands,
    "routine": _routine,
    "measures": _measures,
    "differentiated": _differentiated,
}


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
