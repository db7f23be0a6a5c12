"""The evaluation scheme: indicators and weights, grade bands, evaluator groups and shares.

A scheme is read from a params YAML file into a frozen :class:`Scheme`; every
invalid or unknown key is a :class:`~perflab.errors.SchemeError` that names
the file and the key path, so a methodologist editing the file sees at once
what to fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from perflab.composite import COMPOSITES
from perflab.errors import SchemeError

KINDS = ("district", "department")
DIRECTIONS = ("higher", "lower")
AGGREGATIONS = ("mean", "trimmed_mean")
COMPONENTS = ("onsite", "routine", "satisfaction")
MISSING_POLICIES = ("impute_mean", "renormalise", "error")
SCALE = (0.0, 100.0)


@dataclass(frozen=True)
class Indicator:
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
        """Indicator weights as given (not normalised), indexed by indicator id."""
        return pd.Series({i.id: i.weight for i in self.indicators}, name="weight", dtype=float)

    @property
    def shares(self) -> pd.Series:
        """Evaluator-group shares in the on-site score, indexed by group id."""
        return pd.Series({g.id: g.share for g in self.groups}, name="share", dtype=float)

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
        """Indicator weights for a zone: the base weights with the zone's overrides applied."""
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
        """A copy with some indicator weights replaced (validated like the file)."""
        unknown = set(weights) - set(self.indicator_ids)
        if unknown:
            raise SchemeError(f"unknown indicator(s) {sorted(unknown)}; known: {', '.join(self.indicator_ids)}")
        inds = tuple(dataclasses.replace(i, weight=float(weights.get(i.id, i.weight))) for i in self.indicators)
        _check_weights([i.weight for i in inds], "indicators", None, "weight")
        return dataclasses.replace(self, indicators=inds)

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d.pop("source")
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
)
BASELINE_METHODS = ("mean", "trend", "zscore")
TOO_FEW_YEARS = ("error", "missing", "zone")
# what the differentiated evaluation does with a target vet_targets flags (repeats a result, or asks less than
# last year's): `flag` only reports it; `reject` measures attainment against the unit's own baseline instead;
# `penalty` takes `vetting_penalty` points off its attainment score
VETTING_ACTIONS = ("flag", "reject", "penalty")


class _Ctx:
    """Carries the file name into every error."""

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
                self.fail(_join(key, k), f"unknown key {k!r}{hint}")
        for k in required:
            if k not in obj:
                self.fail(_join(key, k), f"missing key {k!r}")
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


def _named(c: _Ctx, items, key, required=(), optional=(), min_len=1):
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


def _differentiated(c: _Ctx, raw, year, routine, inds, zones, measures) -> Differentiated:
    d = c.mapping(
        raw, "differentiated", ("baseline", "attainment_share"), ("year", "zones", "min_zone_size", "vetting")
    )
    dyear = d.get("year", routine.year if routine else year)
    if dyear is None:
        c.fail("differentiated.year", "missing key 'year' (no routine or top-level year either)")
    b = c.mapping(d["baseline"], "differentiated.baseline", ("method", "years", "too_few_years"))
    baseline = Baseline(
        method=c.choice(b["method"], "differentiated.baseline.method", BASELINE_METHODS),
        years=c.integer(b["years"], "differentiated.baseline.years", 1, 50),
        too_few_years=c.choice(b["too_few_years"], "differentiated.baseline.too_few_years", TOO_FEW_YEARS),
    )
    if baseline.method == "zscore" and baseline.years < 3:
        c.fail(
            "differentiated.baseline.years",
            f"the zscore baseline needs at least 3 years (two year-to-year changes), got {baseline.years}",
        )
    known_zones = [z.id for z in zones]
    zone_kind = {z.id: z.kind for z in zones}
    ind_ids = [i.id for i in inds]
    base_ind = {i.id: i.weight for i in inds}
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
            if merged and sum(merged.values()) <= 0:
                c.fail(f"{key}.{part}", "all weights are zero for this zone; at least one must be positive")
            parts[part] = tuple((i, float(w)) for i, w in given.items())
        overrides.append(ZoneWeights(zone=str(zone), **parts))
    return Differentiated(
        year=c.integer(dyear, "differentiated.year", 1900, 2200),
        baseline=baseline,
        attainment_share=c.number(d["attainment_share"], "differentiated.attainment_share", 0.0, 1.0),
        zones=tuple(overrides),
        min_zone_size=c.integer(d.get("min_zone_size", 5), "differentiated.min_zone_size", 1, 1000),
        **_vetting(c, d.get("vetting")),
    )


def _vetting(c: _Ctx, raw) -> dict:
    """``vetting: {action: flag|reject|penalty, penalty: points}``; absent means reject (see VETTING_ACTIONS)."""
    if raw is None:
        return {}
    v = c.mapping(raw, "differentiated.vetting", ("action",), ("penalty",))
    action = c.choice(v["action"], "differentiated.vetting.action", VETTING_ACTIONS)
    if "penalty" in v and action != "penalty":
        c.fail(
            "differentiated.vetting.penalty", f"a penalty is only used with action: penalty (the action is {action})"
        )
    penalty = c.number(v.get("penalty", 20.0), "differentiated.vetting.penalty", 0.0, 100.0)
    return {"vetting": action, "vetting_penalty": float(penalty)}


def _join(key, sub):
    return f"{key}.{sub}" if key else str(sub)


def _check_weights(values, key, file, what):
    for n, v in enumerate(values):
        if v < 0:
            raise SchemeError(f"negative {what} {v}", file=file, key=f"{key}[{n}].{what}")
    if sum(values) <= 0:
        raise SchemeError(f"all {what}s are zero; at least one must be positive", file=file, key=key)


def read_yaml(path: Path, error: Callable[[str], Exception], missing: str = "file not found") -> Any:
    """A YAML file's content; a missing file, text that is not UTF-8 or not YAML raises ``error(message)``."""
    if not path.is_file():
        raise error(missing)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate a scheme YAML file; raises SchemeError naming the file and key."""
    path = Path(path)
    raw = read_yaml(path, lambda message: SchemeError(message, file=path), "scheme file not found")
    return scheme_from_dict(raw, source=str(path))


def scheme_from_dict(raw: Any, source: str | None = None) -> Scheme:
    """Validate a scheme given as a dict (as read from YAML)."""
    c = _Ctx(source)
    c.mapping(raw, None, _TOP_REQUIRED, _TOP_OPTIONAL)

    name = c.text(raw["name"], "name")
    year = raw.get("year")
    if year is not None:
        year = c.integer(year, "year", 1900, 2200)

    # indicators
    inds = [
        Indicator(id=i, name_zh=zh, name_en=en, weight=c.number(it["weight"], f"{k}.weight"))
        for k, it, i, zh, en in _named(c, raw["indicators"], "indicators", ("weight",))
    ]
    _check_weights([i.weight for i in inds], "indicators", source, "weight")

    # bands
    bands = []
    for n, it in enumerate(c.seq(raw["bands"], "bands", 2)):
        k = f"bands[{n}]"
        c.mapping(it, k, ("grade", "lower", "upper"), ("score",))
        lo = c.number(it["lower"], f"{k}.lower", *SCALE)
        hi = c.number(it["upper"], f"{k}.upper", *SCALE)
        if hi <= lo:
            c.fail(f"{k}.upper", f"upper {hi} must be greater than lower {lo}")
        score = c.number(it.get("score", (lo + hi) / 2), f"{k}.score")
        if not lo <= score <= hi:
            c.fail(f"{k}.score", f"score {score} lies outside its band [{lo}, {hi}]")
        bands.append(Band(grade=c.text(it["grade"], f"{k}.grade"), lower=lo, upper=hi, score=score))
    c.unique([b.grade for b in bands], "bands", "grade")
    order = sorted(range(len(bands)), key=lambda i: bands[i].lower)
    if bands[order[0]].lower != SCALE[0]:
        c.fail("bands", f"the bands leave a gap: nothing covers scores from {SCALE[0]:g} to {bands[order[0]].lower:g}")
    if bands[order[-1]].upper != SCALE[1]:
        c.fail("bands", f"the bands leave a gap: nothing covers scores from {bands[order[-1]].upper:g} to {SCALE[1]:g}")
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
        if b.upper < SCALE[1] and b.score >= b.upper:
            n = bands.index(b)
            c.fail(
                f"bands[{n}].score",
                f"score {b.score:g} must lie below the band's upper bound {b.upper:g} (it would be graded {b.grade}'s better neighbour)",
            )
    bands = tuple(sorted(bands, key=lambda b: -b.lower))  # best first

    # groups
    groups = [
        Group(id=i, name_zh=zh, name_en=en, share=c.number(it["share"], f"{k}.share"))
        for k, it, i, zh, en in _named(c, raw["groups"], "groups", ("share",))
    ]
    _check_weights([g.share for g in groups], "groups", source, "share")
    total = sum(g.share for g in groups)
    if abs(total - 1.0) > 1e-6:
        c.fail("groups", f"shares sum to {total:.6g}; they must sum to 1")

    # aggregation
    agg = c.mapping(raw["aggregation"], "aggregation", ("method",), ("trim",))
    method = c.choice(agg["method"], "aggregation.method", AGGREGATIONS)
    if method == "trimmed_mean" and "trim" not in agg:
        c.fail("aggregation.trim", "missing key 'trim' (how many highest and lowest scores to drop)")
    trim = agg.get("trim", 0)
    if isinstance(trim, bool) or not isinstance(trim, int) or trim < 0:
        c.fail("aggregation.trim", f"expected a whole number >= 0, got {trim!r}")
    aggregation = Aggregation(method=method, trim=trim if method == "trimmed_mean" else 0)

    # components
    comp = c.mapping(raw["components"], "components", ("onsite", "routine"), ("satisfaction",))
    components = {k: c.number(comp.get(k, 0.0), f"components.{k}") for k in COMPONENTS}
    for k, v in components.items():
        if v < 0:
            c.fail(f"components.{k}", f"negative weight {v}")
    if sum(components.values()) <= 0:
        c.fail("components", "all component weights are zero; at least one must be positive")

    # routine
    routine = None
    if "routine" in raw:
        r = c.mapping(
            raw["routine"], "routine", ("attainment_cap", "satisfaction_share", "verification_penalty"), ("year",)
        )
        ryear = r.get("year", year)
        if ryear is None:
            c.fail("routine.year", "missing key 'year' (no top-level year either)")
        routine = Routine(
            year=c.integer(ryear, "routine.year", 1900, 2200),
            attainment_cap=c.number(r["attainment_cap"], "routine.attainment_cap", 1.0),
            satisfaction_share=c.number(r["satisfaction_share"], "routine.satisfaction_share", 0.0, 1.0),
            verification_penalty=c.number(r["verification_penalty"], "routine.verification_penalty", 0.0),
        )
    elif components["routine"] > 0:
        c.fail("routine", "missing key 'routine' (components.routine has a positive weight)")

    missing = c.choice(raw.get("missing_components", "impute_mean"), "missing_components", MISSING_POLICIES)

    composite = c.choice(raw.get("composite", "arithmetic"), "composite", tuple(COMPOSITES))

    rk = c.mapping(raw.get("ranking", {}), "ranking", (), ("within", "zone"))
    within = c.choice(rk.get("within", "kind"), "ranking.within", ("kind", "all"))
    zone_rank = rk.get("zone", True)
    if not isinstance(zone_rank, bool):
        c.fail("ranking.zone", f"expected true or false, got {zone_rank!r}")

    zones = [
        Zone(id=i, kind=c.choice(it["kind"], f"{k}.kind", KINDS), name_zh=zh, name_en=en)
        for k, it, i, zh, en in _named(c, raw.get("zones", []), "zones", ("kind",), min_len=0)
    ]
    measures = [
        Measure(
            id=i,
            kind=c.choice(it.get("kind", "all"), f"{k}.kind", KINDS + ("all",)),
            direction=c.choice(it["direction"], f"{k}.direction", DIRECTIONS),
            unit=str(it.get("unit", "")),
            name_zh=zh,
            name_en=en,
            weight=c.number(it.get("weight", 1.0), f"{k}.weight", 0.0),
        )
        for k, it, i, zh, en in _named(
            c, raw.get("measures", []), "measures", ("direction",), ("kind", "unit", "weight"), 0
        )
    ]
    differentiated = None
    if "differentiated" in raw:
        differentiated = _differentiated(c, raw["differentiated"], year, routine, inds, zones, measures)
    published = {}
    if raw.get("published") is not None:
        pub = c.mapping(raw["published"], "published", (), ("satisfaction",))
        sat = pub.get("satisfaction") or {}
        if not isinstance(sat, dict):
            c.fail("published.satisfaction", "expected a mapping of kind to a mean satisfaction (0-100)")
        for kind, v in sat.items():
            if kind not in KINDS:
                c.fail(f"published.satisfaction.{kind}", f"unknown kind {kind!r}; use {' or '.join(KINDS)}")
            published[str(kind)] = c.number(v, f"published.satisfaction.{kind}", 0.0, 100.0)

    return Scheme(
        name=name,
        title_zh=c.text(raw.get("title_zh", name), "title_zh"),
        title_en=c.text(raw.get("title_en", name), "title_en"),
        year=year,
        indicators=tuple(inds),
        bands=bands,
        groups=tuple(groups),
        aggregation=aggregation,
        components=components,
        routine=routine,
        missing_components=missing,
        ranking=Ranking(within=within, zone=zone_rank),
        zones=tuple(zones),
        measures=tuple(measures),
        differentiated=differentiated,
        published_satisfaction=published,
        source=source,
        composite=composite,
    )
