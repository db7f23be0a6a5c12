"""Checking a scheme file's values: each check names the file and the key path of what it refuses.

:class:`Check` holds the generic checks (a mapping with known keys, a list, a text, a number in range, a whole
number, a choice), :func:`named` a list of items with ids and names; :func:`read_yaml` reads a YAML file.
:func:`perflab.scheme.scheme_from_dict` checks the file section by section with the ``check_*`` functions here,
each returning the section as the scheme's classes.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import perflab.tree as T
from perflab.composite import COMPOSITES
from perflab.errors import SchemeError
from perflab.scheme_extras import check_challenge


class Check:
    """Checks the values of a scheme file, carrying the file name into every error (as a SchemeError naming the key)."""

    def __init__(self, file):
        self.file = file

    def fail(self, key: str | None, message: str):
        raise SchemeError(message, file=self.file, key=key)

    def mapping(self, obj, key, required, optional=()):
        if not isinstance(obj, dict):
            self.fail(key, f"expected a mapping of keys, got {type(obj).__name__}")
        allowed = list(required) + list(optional)
        for k in obj:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
                self.fail(join(key, k), f"unknown key {k!r}{hint}")
        for k in required:
            if k not in obj:
                self.fail(join(key, k), f"missing key {k!r}")
        return obj

    def seq(self, obj, key, min_len=1):
        if not isinstance(obj, list) or len(obj) < min_len:
            self.fail(key, f"expected a list of at least {min_len} item(s)")
        return obj

    def text(self, obj, key):
        if not isinstance(obj, str) or not obj.strip():
            self.fail(key, f"expected a non-empty text, got {obj!r}")
        return obj.strip()

    def number(self, obj, key, minimum=None, maximum=None):
        if isinstance(obj, bool) or not isinstance(obj, (int, float)) or not math.isfinite(obj):
            self.fail(key, f"expected a number, got {obj!r}")
        if minimum is not None and obj < minimum:
            self.fail(key, f"must be >= {minimum}, got {obj}")
        if maximum is not None and obj > maximum:
            self.fail(key, f"must be <= {maximum}, got {obj}")
        return float(obj)

    def integer(self, obj, key, minimum=None, maximum=None):
        value = self.number(obj, key, minimum, maximum)
        if value != int(value):
            self.fail(key, f"expected a whole number, got {obj!r}")
        return int(value)

    def choice(self, obj, key, choices):
        if obj not in choices:
            self.fail(key, f"must be one of {', '.join(map(str, choices))}, got {obj!r}")
        return obj

    def unique(self, ids, key, what):
        seen = set()
        for n, i in enumerate(ids):
            if i in seen:
                self.fail(f"{key}[{n}].{what}", f"duplicated {what} {i!r}")
            seen.add(i)


def named(c: Check, items, key, required=(), optional=(), min_len=1):
    """Validate a list of named items (id, optional name_zh/name_en): yields (key path, item, id, name_zh, name_en)."""
    ids = []
    for n, it in enumerate(c.seq(items, key, min_len)):
        k = f"{key}[{n}]"
        c.mapping(it, k, ("id",) + tuple(required), tuple(optional) + ("name_zh", "name_en"))
        iid = c.text(it["id"], f"{k}.id")
        if iid in ids:
            c.fail(f"{k}.id", f"duplicated id {iid!r}")
        ids.append(iid)
        yield k, it, iid, c.text(it.get("name_zh", iid), f"{k}.name_zh"), c.text(it.get("name_en", iid), f"{k}.name_en")


def join(key, sub):
    return f"{key}.{sub}" if key else str(sub)


def check_weights(values, key, file, what):
    for n, v in enumerate(values):
        if v < 0:
            raise SchemeError(f"negative {what} {v}", file=file, key=f"{key}[{n}].{what}")
    if sum(values) <= 0:
        raise SchemeError(f"all {what}s are zero; at least one must be positive", file=file, key=key)


def check_indicators(c: Check, raw) -> tuple[T.Node, ...]:
    """The indicator tree: each node an id, names and a weight, and either ``children`` (a node) or none (a leaf).

    Ids are unique at any depth; a node's ``aggregation`` names how its children combine (checked against the
    composite by :func:`check_node_aggregations`). In a tree, a node is named by the ids on its path
    (``indicators.management.children.capacity_building``); a flat list names its items by position.
    """
    items = c.seq(raw, "indicators")
    flat = not any(isinstance(it, dict) and "children" in it for it in items)
    seen: dict[str, str] = {}  # id -> the key path where it was first met

    def nodes(items, list_key: str, above: tuple[str, ...]) -> tuple[T.Node, ...]:
        out = []
        for n, it in enumerate(items):
            k = f"{list_key}[{n}]"  # by position until the id is known
            given = it.get("id") if isinstance(it, dict) else None
            if not flat and isinstance(given, str) and given.strip() and given.strip() not in seen:
                k = T.node_key(above + (given.strip(),))
            c.mapping(it, k, ("id", "weight"), ("name_zh", "name_en", "aggregation", "children"))
            iid = c.text(it["id"], f"{k}.id")
            if iid in seen:
                c.fail(f"{k}.id", f"duplicated id {iid!r} (also at {seen[iid]}); ids must be unique at any depth")
            seen[iid] = k
            zh, en = c.text(it.get("name_zh", iid), f"{k}.name_zh"), c.text(it.get("name_en", iid), f"{k}.name_en")
            weight = c.number(it["weight"], f"{k}.weight")
            children = ()
            if "children" in it:
                if not isinstance(it["children"], list) or not it["children"]:
                    c.fail(
                        f"{k}.children",
                        "expected a list of at least one node (remove `children:` to make this node a leaf)",
                    )
                children = nodes(it["children"], f"{k}.children", above + (iid,))
            aggregation = None
            if "aggregation" in it:
                if not children:
                    c.fail(
                        f"{k}.aggregation",
                        "only a node with children has an aggregation (how its children combine); a leaf has none",
                    )
                aggregation = c.choice(it["aggregation"], f"{k}.aggregation", tuple(COMPOSITES))
            out.append(T.Node(iid, zh, en, weight, aggregation, children, above + (iid,)))
        return tuple(out)

    return nodes(items, "indicators", ())


def check_indicator_weights(tree: tuple[T.Node, ...], file) -> None:
    """No negative weight, and siblings not all zero: a flat list as it always was checked, a tree node by node."""
    if T.is_flat(tree):
        check_weights([n.weight for n in tree], "indicators", file, "weight")
    else:
        T.check_weights(tree, file)


def check_node_aggregations(c: Check, tree: tuple[T.Node, ...], composite: str) -> None:
    """For now a node may only name the scheme's composite: the tree is scored through its leaves'
    path-product weights, which equals scoring it level by level only when every level combines the same way."""
    for n in T.walk(tree):
        if n.aggregation is not None and n.aggregation != composite:
            c.fail(
                f"{n.key}.aggregation",
                f"{n.aggregation} differs from the scheme's composite ({composite}); a node combining its children "
                "otherwise than the composite is not supported yet (remove the key, or set composite: "
                f"{n.aggregation} for the whole scheme)",
            )


class StrictLoader(yaml.SafeLoader):
    """YAML as a person means it: a key given twice is an error (PyYAML keeps the last silently), and ``5e-2`` or
    ``1e3`` are numbers (YAML 1.1 wants ``5.0e-2``)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicated key {key!r} (first at line {seen[key]})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: PyYAML says so below
                continue
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml_text(text: str) -> Any:
    """YAML text read with :class:`StrictLoader` (duplicated keys refused, ``5e-2`` a number).

    Parameters
    ----------
    text : str
        The YAML document.

    Returns
    -------
    Any
        Its content.

    Examples
    --------
    >>> load_yaml_text("{weight: 5e-2, n: 1e3}")
    {'weight': 0.05, 'n': 1000.0}
    >>> try:
    ...     load_yaml_text("{a: 1, a: 2}")
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem)
    duplicated key 'a' (first at line 1)
    """
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader)


def read_yaml(path: Path, error: Callable[[str], Exception], missing: str = "file not found") -> Any:
    """A YAML file's content; a missing file, text that is not UTF-8 or not YAML (a key given twice included) raises
    ``error(message)``."""
    if not path.is_file():
        raise error(missing)
    try:
        return load_yaml_text(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def check_differentiated(c: Check, raw, year, routine, tree, zones, measures) -> S.Differentiated:
    d = c.mapping(
        raw, "differentiated", ("baseline", "attainment_share"), ("year", "zones", "min_zone_size", "vetting")
    )
    dyear = d.get("year", routine.year if routine else year)
    if dyear is None:
        c.fail("differentiated.year", "missing key 'year' (no routine or top-level year either)")
    b = c.mapping(d["baseline"], "differentiated.baseline", ("method", "years", "too_few_years"))
    baseline = S.Baseline(
        method=c.choice(b["method"], "differentiated.baseline.method", S.BASELINE_METHODS),
        years=c.integer(b["years"], "differentiated.baseline.years", 1, 50),
        too_few_years=c.choice(b["too_few_years"], "differentiated.baseline.too_few_years", S.TOO_FEW_YEARS),
    )
    if baseline.method == "zscore" and baseline.years < 3:
        c.fail(
            "differentiated.baseline.years",
            f"the zscore baseline needs at least 3 years (two year-to-year changes), got {baseline.years}",
        )
    known_zones = [z.id for z in zones]
    zone_kind = {z.id: z.kind for z in zones}
    ind_ids = [n.id for n in T.walk(tree)]  # a tree's zone may reweigh a node at any depth
    base_ind = {n.id: n.weight for n in T.walk(tree)}
    overrides = []
    zmap = d.get("zones", {}) or {}
    if not isinstance(zmap, dict):
        c.fail("differentiated.zones", "expected a mapping of zone id to weight overrides")
    for zone, spec in zmap.items():
        key = f"differentiated.zones.{zone}"
        if zone not in known_zones:
            close = difflib.get_close_matches(str(zone), known_zones, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known_zones) or 'none'}"
            c.fail(key, f"unknown zone {zone!r}{hint}")
        c.mapping(spec, key, (), ("indicators", "measures"))
        parts = {}
        # a zone's measures are those of its kind: only they can be overridden, and they must not all weigh 0
        base_meas = {m.id: m.weight for m in measures if m.kind in (zone_kind[zone], "all")}
        other = {m.id: m.kind for m in measures if m.id not in base_meas}
        for part, known, base in (("indicators", ind_ids, base_ind), ("measures", list(base_meas), base_meas)):
            given = spec.get(part, {}) or {}
            if not isinstance(given, dict):
                c.fail(f"{key}.{part}", "expected a mapping of id to weight")
            merged = dict(base)
            for iid, w in given.items():
                if part == "measures" and iid in other:
                    c.fail(
                        f"{key}.{part}.{iid}",
                        f"measure {iid!r} is for {other[iid]}s; zone {zone!r} is a {zone_kind[zone]} zone",
                    )
                if iid not in known:
                    close = difflib.get_close_matches(str(iid), known, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known)}"
                    c.fail(f"{key}.{part}.{iid}", f"unknown {part[:-1]} {iid!r}{hint}")
                merged[iid] = c.number(w, f"{key}.{part}.{iid}")
                if merged[iid] < 0:
                    c.fail(f"{key}.{part}.{iid}", f"negative weight {merged[iid]:g}")
            if part == "indicators" and not T.is_flat(tree):
                _zone_siblings(c, tree, merged, f"{key}.{part}")
            elif merged and sum(merged.values()) <= 0:
                c.fail(f"{key}.{part}", "all weights are zero for this zone; at least one must be positive")
            parts[part] = tuple((i, float(w)) for i, w in given.items())
        overrides.append(S.ZoneWeights(zone=str(zone), **parts))
    return S.Differentiated(
        year=c.integer(dyear, "differentiated.year", 1900, 2200),
        baseline=baseline,
        attainment_share=c.number(d["attainment_share"], "differentiated.attainment_share", 0.0, 1.0),
        zones=tuple(overrides),
        min_zone_size=c.integer(d.get("min_zone_size", 5), "differentiated.min_zone_size", 1, 1000),
        **check_vetting(c, d.get("vetting")),
    )


def _zone_siblings(c: Check, tree, merged: dict, key: str) -> None:
    """A zone's indicator weights in a tree: under every node (and at the top), not all zero."""
    for siblings, where in [(tree, "at the top level")] + [
        (n.children, f"under {n.key}") for n in T.walk(tree) if n.children
    ]:
        if sum(merged[n.id] for n in siblings) <= 0:
            c.fail(key, f"all weights {where} are zero for this zone; at least one must be positive")


def check_vetting(c: Check, raw) -> dict:
    """``vetting: {action: flag|reject|penalty, penalty: points}``; absent means reject (see S.VETTING_ACTIONS)."""
    if raw is None:
        return {}
    v = c.mapping(raw, "differentiated.vetting", ("action",), ("penalty",))
    action = c.choice(v["action"], "differentiated.vetting.action", S.VETTING_ACTIONS)
    if "penalty" in v and action != "penalty":
        c.fail(
            "differentiated.vetting.penalty", f"a penalty is only used with action: penalty (the action is {action})"
        )
    penalty = c.number(v.get("penalty", 20.0), "differentiated.vetting.penalty", 0.0, 100.0)
    return {"vetting": action, "vetting_penalty": float(penalty)}


def check_bands(c: Check, raw) -> tuple[S.Band, ...]:
    """The grade bands, best first: no gap, no overlap, each band's score inside it."""
    bands = []
    for n, it in enumerate(c.seq(raw, "bands", 2)):
        k = f"bands[{n}]"
        c.mapping(it, k, ("grade", "lower", "upper"), ("score",))
        lo = c.number(it["lower"], f"{k}.lower", *S.SCALE)
        hi = c.number(it["upper"], f"{k}.upper", *S.SCALE)
        if hi <= lo:
            c.fail(f"{k}.upper", f"upper {hi} must be greater than lower {lo}")
        score = c.number(it.get("score", (lo + hi) / 2), f"{k}.score")
        if not lo <= score <= hi:
            c.fail(f"{k}.score", f"score {score} lies outside its band [{lo}, {hi}]")
        bands.append(S.Band(grade=c.text(it["grade"], f"{k}.grade"), lower=lo, upper=hi, score=score))
    c.unique([b.grade for b in bands], "bands", "grade")
    order = sorted(range(len(bands)), key=lambda i: bands[i].lower)
    if bands[order[0]].lower != S.SCALE[0]:
        c.fail(
            "bands", f"the bands leave a gap: nothing covers scores from {S.SCALE[0]:g} to {bands[order[0]].lower:g}"
        )
    if bands[order[-1]].upper != S.SCALE[1]:
        c.fail(
            "bands", f"the bands leave a gap: nothing covers scores from {bands[order[-1]].upper:g} to {S.SCALE[1]:g}"
        )
    for a, b in zip(order, order[1:]):
        A, B = bands[a], bands[b]
        if B.lower < A.upper:
            c.fail(
                f"bands[{b}]",
                f"bands {A.grade} [{A.lower:g}, {A.upper:g}) and {B.grade} [{B.lower:g}, {B.upper:g}) overlap",
            )
        if B.lower > A.upper:
            c.fail(f"bands[{b}]", f"the bands leave a gap between {A.upper:g} ({A.grade}) and {B.lower:g} ({B.grade})")
    for b in bands:
        if b.upper < S.SCALE[1] and b.score >= b.upper:
            n = bands.index(b)
            c.fail(
                f"bands[{n}].score",
                f"score {b.score:g} must lie below the band's upper bound {b.upper:g} (it would be graded {b.grade}'s better neighbour)",
            )
    return tuple(sorted(bands, key=lambda b: -b.lower))  # best first


def check_groups(c: Check, raw, source) -> tuple[S.Group, ...]:
    """The evaluator groups; their shares sum to 1."""
    groups = [
        S.Group(id=i, name_zh=zh, name_en=en, share=c.number(it["share"], f"{k}.share"))
        for k, it, i, zh, en in named(c, raw, "groups", ("share",))
    ]
    check_weights([g.share for g in groups], "groups", source, "share")
    total = sum(g.share for g in groups)
    if abs(total - 1.0) > 1e-6:
        c.fail("groups", f"shares sum to {total:.6g}; they must sum to 1")

    return tuple(groups)


def check_aggregation(c: Check, raw) -> S.Aggregation:
    """How the raters of a group are combined: mean, or trimmed mean with ``trim``."""
    agg = c.mapping(raw, "aggregation", ("method",), ("trim",))
    method = c.choice(agg["method"], "aggregation.method", S.AGGREGATIONS)
    if method == "trimmed_mean" and "trim" not in agg:
        c.fail("aggregation.trim", "missing key 'trim' (how many highest and lowest scores to drop)")
    trim = agg.get("trim", 0)
    if isinstance(trim, bool) or not isinstance(trim, int) or trim < 0:
        c.fail("aggregation.trim", f"expected a whole number >= 0, got {trim!r}")
    return S.Aggregation(method=method, trim=trim if method == "trimmed_mean" else 0)


def check_components(c: Check, raw) -> dict[str, float]:
    """The component weights of the final score: none negative, one at least positive."""
    comp = c.mapping(raw, "components", ("onsite", "routine"), ("satisfaction",))
    components = {k: c.number(comp.get(k, 0.0), f"components.{k}") for k in S.COMPONENTS}
    for k, v in components.items():
        if v < 0:
            c.fail(f"components.{k}", f"negative weight {v}")
    if sum(components.values()) <= 0:
        c.fail("components", "all component weights are zero; at least one must be positive")

    return components


def check_routine(c: Check, raw, year, components) -> S.Routine | None:
    """The routine score's settings; required when the routine component has a weight."""
    routine = None
    if "routine" in raw:
        r = c.mapping(
            raw["routine"],
            "routine",
            ("attainment_cap", "satisfaction_share", "verification_penalty"),
            ("year", "challenge"),
        )
        ryear = r.get("year", year)
        if ryear is None:
            c.fail("routine.year", "missing key 'year' (no top-level year either)")
        routine = S.Routine(
            year=c.integer(ryear, "routine.year", 1900, 2200),
            attainment_cap=c.number(r["attainment_cap"], "routine.attainment_cap", 1.0),
            satisfaction_share=c.number(r["satisfaction_share"], "routine.satisfaction_share", 0.0, 1.0),
            verification_penalty=c.number(r["verification_penalty"], "routine.verification_penalty", 0.0),
            challenge=check_challenge(c, r["challenge"]) if "challenge" in r else None,
        )
    elif components["routine"] > 0:
        c.fail("routine", "missing key 'routine' (components.routine has a positive weight)")

    return routine


def check_zones_and_measures(c: Check, raw) -> tuple[list[S.Zone], list[S.Measure]]:
    """The functional zones and the objective measures."""
    zones = [
        S.Zone(id=i, kind=c.choice(it["kind"], f"{k}.kind", S.KINDS), name_zh=zh, name_en=en)
        for k, it, i, zh, en in named(c, raw.get("zones", []), "zones", ("kind",), min_len=0)
    ]
    measures = [
        S.Measure(
            id=i,
            kind=c.choice(it.get("kind", "all"), f"{k}.kind", S.KINDS + ("all",)),
            direction=c.choice(it["direction"], f"{k}.direction", S.DIRECTIONS),
            unit=str(it.get("unit", "")),
            name_zh=zh,
            name_en=en,
            weight=c.number(it.get("weight", 1.0), f"{k}.weight", 0.0),
        )
        for k, it, i, zh, en in named(
            c, raw.get("measures", []), "measures", ("direction",), ("kind", "unit", "weight"), 0
        )
    ]
    return zones, measures


def check_published(c: Check, raw) -> dict[str, float]:
    """Published figures to compare the data with (``published.satisfaction``: a mean per kind)."""
    published = {}
    if raw is not None:
        pub = c.mapping(raw, "published", (), ("satisfaction",))
        sat = pub.get("satisfaction") or {}
        if not isinstance(sat, dict):
            c.fail("published.satisfaction", "expected a mapping of kind to a mean satisfaction (0-100)")
        for kind, v in sat.items():
            if kind not in S.KINDS:
                c.fail(f"published.satisfaction.{kind}", f"unknown kind {kind!r}; use {' or '.join(S.KINDS)}")
            published[str(kind)] = c.number(v, f"published.satisfaction.{kind}", 0.0, 100.0)

    return published


# at the end: perflab.scheme imports this module's checks first, and its classes are looked up when a check runs
import perflab.scheme as S  # noqa: E402
