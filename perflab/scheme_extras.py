"""Two optional parts of a scheme beside the indicator tree: bonus and deduction items, and challenge values.

``adjustments`` (加分项, 扣分项): items added to or subtracted from the final score outside the weighted tree,
each with a cap on the points a unit can get from it, and optional caps on a unit's total bonus and total
deduction. ``routine.challenge`` (目标值, 挑战值): how a result between a target and its challenge value scores.
Both are absent from a scheme that does not name them, which then scores exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass

ADJUSTMENT_TYPES = ("bonus", "deduction")
CHALLENGE_RULES = ("linear", "step")


@dataclass(frozen=True)
class AdjustmentItem:
    """A bonus or deduction item: ``type`` gives the sign, ``cap`` the most points a unit gets from it,
    ``kind`` the units it applies to (``district``, ``department`` or ``all``)."""

    id: str
    name_zh: str
    name_en: str
    type: str  # bonus | deduction
    cap: float
    kind: str = "all"


@dataclass(frozen=True)
class Adjustments:
    """The scheme's bonus and deduction items and the caps on a unit's totals (None: no cap beyond the items')."""

    items: tuple[AdjustmentItem, ...]
    bonus_cap: float | None = None
    deduction_cap: float | None = None

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    def item(self, item_id: str) -> AdjustmentItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)


@dataclass(frozen=True)
class Challenge:
    """How a target with a challenge value scores: meeting the target scores ``target_score``, meeting the
    challenge 100; between them ``linear`` (in the result) or ``step`` (the target's score until the challenge is
    met); below the target ``target_score`` x achieved/target."""

    target_score: float
    between: str = "linear"


def check_adjustments(c, raw, kinds) -> Adjustments:
    """``adjustments``: a list of items, or a mapping ``{items: [...], bonus_cap: x, deduction_cap: y}``.

    Each item: ``id``, ``type`` (bonus or deduction), ``cap`` (> 0, <= 100), optional ``kind`` and names.
    """
    from perflab.scheme_check import named

    spec = {"items": raw} if isinstance(raw, list) else c.mapping(raw, "adjustments", ("items",), _TOTALS)
    items = []
    for k, it, i, zh, en in named(c, spec["items"], "adjustments.items", ("type", "cap"), ("kind",)):
        if it["type"] not in ADJUSTMENT_TYPES:
            c.fail(f"{k}.type", f"must be one of bonus, deduction, got {it['type']!r}")
        kind = it.get("kind", "all")
        if kind not in tuple(kinds) + ("all",):
            hint = " (bonus or deduction goes under `type:`; `kind` is a unit kind)" if kind in ADJUSTMENT_TYPES else ""
            c.fail(f"{k}.kind", f"must be one of {', '.join(kinds)}, all (the units it applies to), got {kind!r}{hint}")
        cap = c.number(it["cap"], f"{k}.cap", 0.0, 100.0)
        if cap <= 0:
            c.fail(f"{k}.cap", "must be > 0: the most points a unit can get from the item")
        items.append(AdjustmentItem(i, zh, en, it["type"], cap, kind))
    totals = {}
    for key in _TOTALS:
        if key in spec:
            totals[key] = c.number(spec[key], f"adjustments.{key}", 0.0, 100.0)
    return Adjustments(tuple(items), **totals)


_TOTALS = ("bonus_cap", "deduction_cap")


def check_challenge(c, raw) -> Challenge:
    """``routine.challenge: {target_score: 0-100, between: linear | step}``."""
    ch = c.mapping(raw, "routine.challenge", ("target_score",), ("between",))
    return Challenge(
        target_score=c.number(ch["target_score"], "routine.challenge.target_score", 0.0, 100.0),
        between=c.choice(ch.get("between", "linear"), "routine.challenge.between", CHALLENGE_RULES),
    )
