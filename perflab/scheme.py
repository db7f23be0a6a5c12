"""The evaluation scheme: indicators and weights, grade bands, evaluator groups and shares.

A scheme is read from a params YAML file into a frozen :class:`Scheme`; every
invalid or unknown key is a :class:`~perflab.errors.SchemeError` that names
the file and the key path, so a methodologist editing the file sees at once
what to fix.

The indicators form a tree (:mod:`perflab.tree`): ``Scheme.tree`` holds its
nodes, ``Scheme.indicators`` its leaves (what is scored) with their effective
weights, so everything that reads the indicators works on a tree as on a flat
list. A flat list is a tree of depth one and is exactly what it always was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import perflab.scheme_check as sc
import perflab.tree as T
from perflab.composite import COMPOSITES
from perflab.errors import SchemeError
from perflab.scheme_check import Check, read_yaml
from perflab.scheme_extras import Adjustments, Challenge, check_adjustments
from perflab.tree import Node

KINDS = ("district", "department")
DIRECTIONS = ("higher", "lower")
AGGREGATIONS = ("mean", "trimmed_mean")
COMPONENTS = ("onsite", "routine", "satisfaction")
MISSING_POLICIES = ("impute_mean", "renormalise", "error")
SCALE = (0.0, 100.0)


@dataclass(frozen=True)
class Indicator:
    """A leaf of the indicator tree, as scored: ``weight`` is its effective weight (see :attr:`Scheme.weights`)."""

    id: str
    name_zh: str
    name_en: str
    weight: float


@dataclass(frozen=True)
class Band:
    """A grade band: ``lower <= score < upper`` (the top band includes its upper bound)."""

    grade: str
    lower: float
    upper: float
    score: float


@dataclass(frozen=True)
class Group:
    id: str
    name_zh: str
    name_en: str
    share: float


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Measure:
    id: str
    kind: str
    direction: str
    unit: str
    name_zh: str
    name_en: str
    weight: float = 1.0


@dataclass(frozen=True)
class Baseline:
    """Own-history baseline: ``method`` over the previous ``years``; ``too_few_years`` says what to do without enough."""

    method: str  # mean | trend | zscore
    years: int
    too_few_years: str  # error | missing | zone


@dataclass(frozen=True)
class ZoneWeights:
    """A zone's overrides of indicator and measure weights (ids not named keep the base weight)."""

    zone: str
    indicators: tuple[tuple[str, float], ...] = ()
    measures: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Differentiated:
    """Differentiated evaluation: own baseline, own targets, zone-specific weights."""

    year: int
    baseline: Baseline
    attainment_share: float
    zones: tuple[ZoneWeights, ...] = ()
    min_zone_size: int = 5  # a zone with fewer units borrows the spread pooled over its kind (see zone_relative)
    vetting: str = "reject"  # what a vetted target does: flag | reject | penalty (see VETTING_ACTIONS)
    vetting_penalty: float = 20.0  # points off a vetted target's attainment score, with vetting: penalty


@dataclass(frozen=True)
class Aggregation:
    """Within-group aggregation of raters: ``mean`` or ``trimmed_mean`` dropping ``trim`` highest and lowest."""

    method: str
    trim: int


@dataclass(frozen=True)
class Routine:
    """How the routine (special-evaluation department) score is built from the objective figures."""

    year: int
    attainment_cap: float
    satisfaction_share: float
    verification_penalty: float
    challenge: Challenge | None = None  # how a target's challenge value scores (perflab.scheme_extras); None: unused


@dataclass(frozen=True)
class Ranking:
    within: str
    zone: bool


@dataclass(frozen=True)
class Scheme:
    """A validated evaluation scheme (see ``params/beijing_2016.yaml`` for every field explained)."""

    name: str
    title_zh: str
    title_en: str
    year: int | None
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    groups: tuple[Group, ...]
    aggregation: Aggregation
    components: Mapping[str, float]
    routine: Routine | None
    missing_components: str
    ranking: Ranking
    zones: tuple[Zone, ...]
    measures: tuple[Measure, ...]
    differentiated: Differentiated | None = None
    # published figures to compare the data with (e.g. the survey's satisfaction means per kind); not used in scoring
    published_satisfaction: Mapping[str, float] = field(default_factory=dict)
    source: str | None = None
    # how indicator scores combine into the on-site score: arithmetic (default) or geometric (perflab.composite)
    composite: str = "arithmetic"
    # the indicator tree (top-level nodes); `indicators` are its leaves. Derived from `indicators` when flat.
    tree: tuple[Node, ...] = ()
    # bonus and deduction items outside the weighted tree (perflab.scheme_extras); None: the scheme has none
    adjustments: Adjustments | None = None

    def __post_init__(self):
        if not self.tree or T.is_flat(self.tree):  # a flat scheme's tree is its list of indicators
            object.__setattr__(self, "tree", T.flat_nodes(self.indicators))

    # -- the tree -----------------------------------------------------------
    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node of the indicator tree, depth first, each before its children (a flat scheme: its indicators)."""
        return tuple(T.walk(self.tree))

    @property
    def is_tree(self) -> bool:
        """True when some indicator has children (a flat scheme is a tree of depth one)."""
        return not T.is_flat(self.tree)

    def node(self, where: str | tuple[str, ...]) -> Node:
        """The node named by its id (unique at any depth), its key path or its path of ids.

        Examples
        --------
        >>> s = load_scheme("params/beijing_2016.yaml")
        >>> s.node("indicators.service").name_en, s.node("service").path
        ('Service improvement', ('service',))
        """
        return T.find(self.tree, where)

    def with_node_weight(self, where: str | tuple[str, ...], weight: float) -> Scheme:
        """A copy with one node's weight set (its siblings keep theirs) and the leaves' effective weights recomputed.

        Parameters
        ----------
        where : str or tuple of str
            The node's id, key path (``indicators.management.children.capacity_building``) or path of ids.
        weight : float
            The node's weight as in the file: relative to its siblings, >= 0.

        Returns
        -------
        Scheme

        Raises
        ------
        SchemeError
            For an unknown node, a negative weight, or siblings left all zero.

        Examples
        --------
        >>> s = load_scheme("params/beijing_2016.yaml").with_node_weight("service", 20)
        >>> float(s.weights["service"]), float(s.weights["rectification"])
        (20.0, 10.0)
        """
        n = self.node(where)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(weight):
            raise SchemeError(f"expected a number, got {weight!r}", key=f"{n.key}.weight")
        return self._with_tree(T.with_weights(self.tree, {n.path: float(weight)}))

    def _with_tree(self, tree: tuple[Node, ...]) -> Scheme:
        """A copy with this tree (its weights checked) and its leaves as the indicators."""
        sc.check_indicator_weights(tree, None)
        return dataclasses.replace(self, tree=tree, indicators=_leaf_indicators(tree))

    # -- convenient views -------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    @property
    def grades(self) -> list[str]:
        """Grades from best to worst."""
        return [b.grade for b in self.bands]

    @property
    def weights(self) -> pd.Series:
        """Indicator (leaf) weights, indexed by indicator id, used relative to their sum: in a flat scheme the
        weights as given; in a tree each leaf's effective weight, the product of the normalised weights on its
        path (they sum to 1)."""
        return pd.Series({i.id: i.weight for i in self.indicators}, name="weight", dtype=float)

    @property
    def shares(self) -> pd.Series:
        """Evaluator-group shares in the on-site score, indexed by group id."""
        return pd.Series({g.id: g.share for g in self.groups}, name="share", dtype=float)

    def node_table(self) -> pd.DataFrame:
        """Every node of the indicator tree, depth first: its id, parent (empty at the top), depth, names, weight
        as given (relative to its siblings), effective weight (its share of the score, summing to 1 over the
        leaves and over each node's children to the node's) and whether it is a leaf.

        Examples
        --------
        >>> t = load_scheme("params/beijing_departments_sanxiao.yaml").node_table()
        >>> t.loc[t["node"] == "management", ["parent", "depth", "weight", "effective_weight", "leaf"]].values.tolist()
        [['', 1, 15.0, 0.15, False]]
        """
        eff = T.effective_weights(self.tree, leaves_only=False)
        nodes = self.nodes
        return pd.DataFrame(
            {
                "node": [n.id for n in nodes],
                "parent": [n.path[-2] if n.depth > 1 else "" for n in nodes],
                "depth": [n.depth for n in nodes],
                "name_zh": [n.name_zh for n in nodes],
                "name_en": [n.name_en for n in nodes],
                "weight": [n.weight for n in nodes],
                "effective_weight": [eff[n.id] for n in nodes],
                "leaf": [n.is_leaf for n in nodes],
            }
        )

    def indicator_table(self) -> pd.DataFrame:
        """The `indicators` table of the data model."""
        return pd.DataFrame(
            {
                "indicator": [i.id for i in self.indicators],
                "name_zh": [i.name_zh for i in self.indicators],
                "name_en": [i.name_en for i in self.indicators],
                "weight": [float(i.weight) for i in self.indicators],
            }
        )

    @property
    def directions(self) -> dict[str, str]:
        """Measure id -> ``higher`` or ``lower`` (which way is better)."""
        return {m.id: m.direction for m in self.measures}

    def zone_indicator_weights(self, zone: str | None = None) -> pd.Series:
        """Indicator weights for a zone: the base weights with the zone's overrides applied (in a tree, the
        overridden nodes at any depth, and the leaves' effective weights recomputed)."""
        if self.is_tree:
            given = {}
            for zw in self.differentiated.zones if self.differentiated else ():
                if zw.zone == zone:
                    given = {self.node(i).path: v for i, v in zw.indicators}
            eff = T.effective_weights(T.with_weights(self.tree, given))
            return pd.Series(eff, name="weight", dtype=float)
        w = self.weights
        for zw in self.differentiated.zones if self.differentiated else ():
            if zw.zone == zone:
                for i, v in zw.indicators:
                    w[i] = v
        return w

    def zone_measure_weights(self, zone: str | None = None) -> pd.Series:
        """Measure weights for a zone: the base measure weights with the zone's overrides applied."""
        w = pd.Series({m.id: m.weight for m in self.measures}, name="weight", dtype=float)
        for zw in self.differentiated.zones if self.differentiated else ():
            if zw.zone == zone:
                for m, v in zw.measures:
                    w[m] = v
        return w

    def measure(self, measure_id: str) -> Measure:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    # -- grade <-> score --------------------------------------------------
    def grade_of(self, scores) -> np.ndarray:
        """The grade band of each score (0-100); NaN gives None. Scores outside 0-100 raise ValueError."""
        s = np.asarray(scores, dtype=float)
        finite = np.isfinite(s)
        if np.any((s[finite] < SCALE[0]) | (s[finite] > SCALE[1])):
            raise ValueError("scores must lie in 0-100")
        asc = sorted(self.bands, key=lambda b: b.lower)
        lowers = np.array([b.lower for b in asc])
        idx = np.searchsorted(lowers, np.where(finite, s, 0.0), side="right") - 1
        idx = np.clip(idx, 0, len(asc) - 1)
        grades = np.array([b.grade for b in asc], dtype=object)[idx]
        grades[~finite] = None
        return grades

    def score_of(self, grades) -> np.ndarray:
        """The score given for a grade alone (each band's ``score``); unknown grades raise KeyError."""
        table = {b.grade: b.score for b in self.bands}
        return np.array([table[g] for g in np.asarray(grades, dtype=object)], dtype=float)

    def band(self, grade: str) -> Band:
        for b in self.bands:
            if b.grade == grade:
                return b
        raise KeyError(grade)

    # -- derived schemes ----------------------------------------------------
    def with_group_share(self, group: str, share: float) -> Scheme:
        """A copy with one group's share set and the other shares rescaled proportionally to sum to 1."""
        if group not in self.group_ids:
            raise SchemeError(f"unknown evaluator group {group!r}; known: {', '.join(self.group_ids)}")
        if not 0.0 <= share <= 1.0:
            raise SchemeError(f"share of {group!r} must lie in [0, 1], got {share}")
        rest = sum(g.share for g in self.groups if g.id != group)
        if rest <= 0 and share < 1.0:
            raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
        groups = tuple(
            dataclasses.replace(g, share=share if g.id == group else g.share * (1.0 - share) / rest)
            for g in self.groups
        )
        return dataclasses.replace(self, groups=groups)

    def with_weights(self, weights: Mapping[str, float]) -> Scheme:
        """A copy with some indicator weights replaced (validated like the file).

        In a tree the ids may name nodes at any depth; each weight is as in the file, relative to its siblings
        (see :meth:`with_node_weight`).
        """
        ids = [n.id for n in self.nodes]
        unknown = set(weights) - set(ids)
        if unknown:
            raise SchemeError(f"unknown indicator(s) {sorted(unknown)}; known: {', '.join(ids)}")
        return self._with_tree(T.with_weights(self.tree, {self.node(i).path: float(w) for i, w in weights.items()}))

    def flattened(self) -> Scheme:
        """The same scheme as a flat list of its leaves with their effective weights (itself when flat).

        Examples
        --------
        >>> s = load_scheme("params/beijing_2016.yaml")
        >>> s.flattened() == s
        True
        """
        if not self.is_tree:
            return self
        return dataclasses.replace(self, tree=(), indicators=self.indicators, differentiated=self._flat_zones())

    def _flat_zones(self) -> Differentiated | None:
        """The zones' overrides as effective leaf weights (on the scale of the base weights, which sum to 1)."""
        d = self.differentiated
        if d is None:
            return None
        zones = tuple(
            dataclasses.replace(
                zw, indicators=tuple(self.zone_indicator_weights(zw.zone).items()) if zw.indicators else ()
            )
            for zw in d.zones
        )
        return dataclasses.replace(d, zones=zones)

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d.pop("source")
        if not self.is_tree:  # a flat scheme's tree is its indicators: its dict (and digest) stay as they were
            d.pop("tree")
        if self.adjustments is None:  # optional parts a scheme does not use leave its digest as it was
            d.pop("adjustments")
        if self.routine is not None and self.routine.challenge is None:
            d["routine"].pop("challenge")
        return d

    def digest(self) -> str:
        """sha256 of the scheme's content (canonical JSON), stable across formatting of the file."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _plain(obj):
    """Dataclasses, tuples and mappings as plain dicts and lists (``dataclasses.asdict`` without its deep copies)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


# ---------------------------------------------------------------------------
# loading and validation
# ---------------------------------------------------------------------------

_TOP_REQUIRED = ("name", "indicators", "bands", "groups", "aggregation", "components")
_TOP_OPTIONAL = (
    "title_zh",
    "title_en",
    "year",
    "routine",
    "missing_components",
    "ranking",
    "zones",
    "measures",
    "differentiated",
    "published",
    "composite",
    "adjustments",
)
BASELINE_METHODS = ("mean", "trend", "zscore")
TOO_FEW_YEARS = ("error", "missing", "zone")
# what the differentiated evaluation does with a target vet_targets flags (repeats a result, or asks less than
# last year's): `flag` only reports it; `reject` measures attainment against the unit's own baseline instead;
# `penalty` takes `vetting_penalty` points off its attainment score
VETTING_ACTIONS = ("flag", "reject", "penalty")


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate a scheme YAML file.

    Parameters
    ----------
    path : str or Path
        The scheme file (``params/beijing_2016.yaml`` explains every key).

    Returns
    -------
    Scheme
        The validated, frozen scheme; ``source`` is the file's path.

    Raises
    ------
    SchemeError
        Naming the file and the key path of the first invalid or unknown value.

    Examples
    --------
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scheme.name, len(scheme.indicators), scheme.composite, scheme.ranking.within
    ('beijing_2016', 7, 'arithmetic', 'kind')
    """
    path = Path(path)
    raw = read_yaml(path, lambda message: SchemeError(message, file=path), "scheme file not found")
    return scheme_from_dict(raw, source=str(path))


def scheme_from_dict(raw: Any, source: str | None = None) -> Scheme:
    """Validate a scheme given as a dict (as read from YAML).

    Parameters
    ----------
    raw : dict
        The scheme's keys as in the YAML file.
    source : str, optional
        The file name the errors name.

    Returns
    -------
    Scheme

    Raises
    ------
    SchemeError
        Naming ``source`` and the key path of the first invalid or unknown value.

    Examples
    --------
    >>> import yaml
    >>> raw = yaml.safe_load(open("params/beijing_2016.yaml", encoding="utf-8"))
    >>> scheme_from_dict({**raw, "composite": "geometric"}).composite
    'geometric'
    >>> scheme_from_dict({**raw, "composite": "harmonic"}, source="my.yaml")
    Traceback (most recent call last):
    ...
    perflab.errors.SchemeError: my.yaml, key composite: must be one of arithmetic, geometric, got 'harmonic'
    """
    c = Check(source)
    c.mapping(raw, None, _TOP_REQUIRED, _TOP_OPTIONAL)
    name = c.text(raw["name"], "name")
    year = raw.get("year")
    if year is not None:
        year = c.integer(year, "year", 1900, 2200)
    tree = sc.check_indicators(c, raw["indicators"])
    sc.check_indicator_weights(tree, source)
    bands = sc.check_bands(c, raw["bands"])  # the sections in the file's order: the first error is the first met
    groups = sc.check_groups(c, raw["groups"], source)
    aggregation = sc.check_aggregation(c, raw["aggregation"])
    components = sc.check_components(c, raw["components"])
    routine = sc.check_routine(c, raw, year, components)
    missing = c.choice(raw.get("missing_components", "impute_mean"), "missing_components", MISSING_POLICIES)
    composite = c.choice(raw.get("composite", "arithmetic"), "composite", tuple(COMPOSITES))
    sc.check_node_aggregations(c, tree, composite)
    rk = c.mapping(raw.get("ranking", {}), "ranking", (), ("within", "zone"))
    within = c.choice(rk.get("within", "kind"), "ranking.within", ("kind", "all"))
    zone_rank = rk.get("zone", True)
    if not isinstance(zone_rank, bool):
        c.fail("ranking.zone", f"expected true or false, got {zone_rank!r}")
    zones, measures = sc.check_zones_and_measures(c, raw)
    differentiated = None
    if "differentiated" in raw:
        differentiated = sc.check_differentiated(c, raw["differentiated"], year, routine, tree, zones, measures)
    return Scheme(
        name=name,
        title_zh=c.text(raw.get("title_zh", name), "title_zh"),
        title_en=c.text(raw.get("title_en", name), "title_en"),
        year=year,
        indicators=_leaf_indicators(tree),
        bands=bands,
        groups=groups,
        aggregation=aggregation,
        components=components,
        routine=routine,
        missing_components=missing,
        ranking=Ranking(within=within, zone=zone_rank),
        zones=tuple(zones),
        measures=tuple(measures),
        differentiated=differentiated,
        published_satisfaction=sc.check_published(c, raw.get("published")),
        source=source,
        composite=composite,
        tree=tree,
        adjustments=check_adjustments(c, raw["adjustments"], KINDS) if "adjustments" in raw else None,
    )


def _leaf_indicators(tree: tuple[Node, ...]) -> tuple[Indicator, ...]:
    """The leaves as indicators, depth first: a flat list with its weights as given, a tree's with their
    effective weights (the products of the normalised weights on their paths)."""
    if T.is_flat(tree):
        return tuple(Indicator(n.id, n.name_zh, n.name_en, n.weight) for n in tree)
    eff = T.effective_weights(tree)
    return tuple(Indicator(n.id, n.name_zh, n.name_en, eff[n.id]) for n in T.leaves(tree))
