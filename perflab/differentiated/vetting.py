"""Each unit against its own targets: attainment, and the vetting of targets that ask for nothing new."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from perflab.differentiated.baseline import _check_panel
from perflab.errors import DataError
from perflab.io.validate import check_challenges
from perflab.scheme import Scheme
from perflab.scoring import attainment


def target_attainment(history: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Every target in the panel: achieved against target with the measure's direction, scored 0–100.

    The rule is the routine score's (:func:`perflab.scoring.attainment`): ratio
    achieved/target (target/achieved when lower is better), capped at the
    scheme's ``attainment_cap`` and scaled so the cap scores 100; a target with a challenge value (a
    ``challenge`` column) scores by the scheme's ``routine.challenge`` rule.

    Parameters
    ----------
    history : pandas.DataFrame
        The panel with a ``target`` column.
    scheme : Scheme
        Gives the directions and the cap.

    Returns
    -------
    pandas.DataFrame
        unit, measure, year, value, target, ratio, score for every row with a target.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> history = pd.DataFrame({"unit": "D01", "measure": ["gdp_growth", "pm25"], "year": 2016,
    ...     "value": [106.5, 80.0], "target": [107.0, 60.0]})  # growth as an index: 106.5 is +6.5 %
    >>> target_attainment(history, load_scheme("params/beijing_2016.yaml"))["score"].round(2).tolist()
    [99.53, 75.0]
    """
    h, _ = _check_panel(history, scheme)
    if "target" not in h.columns:
        raise DataError("missing column 'target' in the history table", column="target")
    cap = scheme.routine.attainment_cap if scheme.routine else 1.0
    rule = scheme.routine.challenge if scheme.routine else None
    if "challenge" in h.columns and h["challenge"].notna().any():
        if rule is None:
            raise DataError(
                "challenge values are given but the scheme does not say how they score (routine.challenge)",
                column="challenge",
            )
        check_challenges(h, scheme.directions, "history table")
    return attainment(h, scheme.directions, cap, challenge=rule).reset_index(drop=True)


def _target_flags(h: pd.DataFrame, dirs: dict) -> list[tuple]:
    """``repeats_result`` and ``not_ambitious`` flags of the panel's targets (see :func:`vet_targets`)."""
    flags = []
    h = h.sort_values(["unit", "measure", "year"], kind="mergesort")
    prev = h.groupby(["unit", "measure"])["value"].shift()
    prev_year = h.groupby(["unit", "measure"])["year"].shift()
    prev = prev.where(prev_year == h["year"] - 1)
    sign = h["measure"].map({m: 1.0 if d == "higher" else -1.0 for m, d in dirs.items()})
    t = h["target"]
    ambition = (t - prev) * sign  # > 0: asks for more than last year's result
    tol = 1e-9 * np.maximum(1.0, prev.abs().fillna(1.0))  # equal up to rounding: 0.1 + 0.2 is 0.3
    # earlier results equal to the target (up to rounding), for targets not more ambitious than last year
    cand = h[t.notna() & ~(ambition > tol)].assign(ambition=ambition, prev=prev)
    past = h[["unit", "measure", "year", "value"]].rename(columns={"year": "result_year", "value": "result"})
    eq = cand.merge(past, on=["unit", "measure"])
    eq = eq[(eq["result_year"] < eq["year"]) & np.isclose(eq["target"], eq["result"], rtol=1e-9, atol=1e-12)]
    eq = eq.sort_values("result_year").groupby(["unit", "measure", "year"], as_index=False).last()
    repeated = set(zip(eq["unit"], eq["measure"], eq["year"]))
    for r in eq.itertuples(index=False):
        if r.result_year == r.year - 1:
            tail = ": no more than last year's result"
        elif pd.isna(r.prev):
            tail = " (last year's result is not known)"
        else:
            tail = f", and last year's result was already {r.prev:g}"
        flags.append(
            (
                r.unit,
                r.measure,
                r.year,
                "repeats_result",
                r.target,
                r.result,
                f"target {r.target:g} repeats the result already achieved in {r.result_year}{tail}",
            )
        )
    if "challenge" in h.columns:
        flags += _challenge_flags(h, sign, tol)
    worse = t.notna() & prev.notna() & (ambition < -tol)
    for unit, measure, year, tgt, ref in zip(
        h["unit"][worse], h["measure"][worse], h["year"][worse], t[worse], prev[worse]
    ):
        if (unit, measure, year) in repeated:
            continue
        word = "below" if dirs[measure] == "higher" else "above"
        flags.append(
            (
                unit,
                measure,
                year,
                "not_ambitious",
                tgt,
                ref,
                f"target {tgt:g} is {word} last year's result {ref:g}: less ambitious than what was already done",
            )
        )
    return flags


def _challenge_flags(h: pd.DataFrame, sign: pd.Series, tol: pd.Series) -> list[tuple]:
    """``challenge_achieved``: a challenge value that an earlier result of the unit already reached (a soft
    challenge); the reference is the best earlier result."""
    signed = h["value"].astype(float) * sign
    best = signed.groupby([h["unit"], h["measure"]]).transform(lambda s: s.shift().cummax()) * sign
    c = h["challenge"].astype(float)
    soft = c.notna() & best.notna() & ((c - best) * sign <= tol)
    return [
        (
            u,
            m,
            y,
            "challenge_achieved",
            ch,
            ref,
            f"challenge {ch:g} was already reached by an earlier result ({ref:g}): it asks for nothing new",
        )
        for u, m, y, ch, ref in zip(h["unit"][soft], h["measure"][soft], h["year"][soft], c[soft], best[soft])
    ]


def _failed_claims(verification: pd.DataFrame | None) -> list[tuple]:
    """A ``failed_verification`` flag for each claim the on-site check did not confirm."""
    if verification is None or not len(verification):
        return []
    flags = []
    failed = verification[~verification["verified"].astype(bool)]
    for r in failed.itertuples(index=False):
        flags.append(
            (
                r.unit,
                pd.NA,
                r.year,
                "failed_verification",
                np.nan,
                np.nan,
                f"claim '{r.claim}' was not confirmed by on-site verification",
            )
        )
    return flags


def vet_targets(
    history: pd.DataFrame, verification: pd.DataFrame | None, directions: Mapping[str, str] | Scheme
) -> pd.DataFrame:
    """Flag targets that ask for nothing new, and claims that failed on-site verification.

    One row per flag (unit, measure, year, flag, target, reference, reason):
    ``repeats_result`` — the target equals (up to rounding) a result already
    achieved in an earlier year and asks for no more than last year's result
    (the article's polluting firms "closed" years ago); ``not_ambitious`` — the
    target is below last year's result (above, when lower is better);
    ``failed_verification`` — a claim the on-site check did not confirm; with a ``challenge`` column,
    ``challenge_achieved`` — a challenge value (its ``target`` column holds the challenge) that an earlier
    result already reached (``reference``: the best earlier result). A challenge not beyond its target, or without one, is a DataError.

    Parameters
    ----------
    history : pandas.DataFrame
        The panel: unit, measure, year, value and target.
    verification : pandas.DataFrame or None
        The on-site verification table (unit, year, claim, verified).
    directions : Scheme or mapping
        Measure id → ``higher`` or ``lower``.

    Returns
    -------
    pandas.DataFrame
        One row per flag: unit, measure, year, flag, target, reference (the result it is checked against), reason.

    Examples
    --------
    >>> history = pd.DataFrame({"unit": "A", "measure": "x", "year": [2015, 2016], "value": [10.0, 10.0],
    ...     "target": [9.0, 10.0]})
    >>> vet_targets(history, None, {"x": "higher"})[["year", "flag", "reference"]].values.tolist()
    [[2016, 'repeats_result', 10.0]]
    """
    h, dirs = _check_panel(history, directions)
    if "challenge" in h.columns:
        check_challenges(h, dirs, "history table")
    cols = ["unit", "measure", "year", "flag", "target", "reference", "reason"]
    flags = _target_flags(h, dirs) if "target" in h.columns else []
    flags += _failed_claims(verification)
    out = pd.DataFrame(flags, columns=cols)
    out["measure"] = out["measure"].astype("string")
    out["year"] = out["year"].astype(int)
    return out.sort_values(["unit", "year", "flag"], kind="mergesort").reset_index(drop=True)


def vetted_attainment(
    scores: pd.DataFrame, vetting: pd.DataFrame, baseline: pd.DataFrame, scheme: Scheme
) -> pd.DataFrame:
    """The year's attainment with the scheme's rule for vetted targets applied (``differentiated.vetting``).

    A target is vetted when :func:`vet_targets` flags it ``repeats_result`` or ``not_ambitious``, its challenge
    value when flagged ``challenge_achieved`` (``reject`` then scores at most the target's score). ``flag``
    leaves its score; ``reject`` measures the result against the unit's own baseline instead of the target (as
    :func:`perflab.scoring.attainment`, missing when there is no baseline); ``penalty`` takes the scheme's
    points off.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`target_attainment` rows of the year.
    vetting : pandas.DataFrame
        :func:`vet_targets` flags.
    baseline : pandas.DataFrame
        :func:`perflab.differentiated.own_baseline` rows of the year (for ``reject``).
    scheme : Scheme
        Gives the rule (``differentiated.vetting``) and the cap.

    Returns
    -------
    pandas.DataFrame
        unit, measure, year, attainment (as reported), attainment_vetted (what is scored) and vetted (the
        action applied, ``flagged`` under ``flag``, empty when none).
    """
    d = scheme.differentiated
    action = d.vetting if d is not None else "flag"
    out = scores[["unit", "measure", "year", "value", "target", "score"]].rename(columns={"score": "attainment"})
    out = out.reset_index(drop=True)
    flagged = vetting[vetting["flag"].isin(["repeats_result", "not_ambitious"])]
    key = pd.MultiIndex.from_frame(out[["unit", "measure", "year"]].astype({"measure": str}))
    hit = key.isin(pd.MultiIndex.from_frame(flagged[["unit", "measure", "year"]].astype({"measure": str})))
    out["attainment_vetted"] = out["attainment"].astype(float)
    out["vetted"] = pd.Series(np.where(hit & (action != "flag"), action, np.where(hit, "flagged", "")), dtype="string")
    if action == "penalty":
        out.loc[hit, "attainment_vetted"] = np.clip(out.loc[hit, "attainment"] - d.vetting_penalty, 0.0, 100.0)
    elif action == "reject" and hit.any():
        b = baseline.set_index(["unit", "measure", "year"])["baseline"]
        against = out.loc[hit, ["unit", "measure", "year", "value"]].copy()
        against["target"] = [
            b.get((u, m, y), np.nan) for u, m, y in against[["unit", "measure", "year"]].itertuples(index=False)
        ]
        ok = against["target"] > 0
        cap = scheme.routine.attainment_cap if scheme.routine else 1.0
        scored = attainment(against[ok], scheme.directions, cap) if ok.any() else against.iloc[:0].assign(score=[])
        out.loc[hit, "attainment_vetted"] = np.nan
        out.loc[scored.index, "attainment_vetted"] = scored["score"].to_numpy(float)
    _vet_challenges(out, vetting, key, hit, action, scheme)
    return out[["unit", "measure", "year", "attainment", "attainment_vetted", "vetted"]]


def _vet_challenges(out: pd.DataFrame, vetting: pd.DataFrame, key, hit: np.ndarray, action: str, scheme) -> None:
    """A soft challenge (``challenge_achieved``) on a target not vetted itself: ``reject`` scores the result as if
    the challenge were not there to earn (at most the target's score), ``penalty`` takes the points off."""
    soft = vetting[vetting["flag"] == "challenge_achieved"]
    if not len(soft):
        return
    on = key.isin(pd.MultiIndex.from_frame(soft[["unit", "measure", "year"]].astype({"measure": str}))) & ~hit
    out.loc[on, "vetted"] = action if action != "flag" else "flagged"
    d = scheme.differentiated
    if action == "penalty":
        out.loc[on, "attainment_vetted"] = np.clip(out.loc[on, "attainment"] - d.vetting_penalty, 0.0, 100.0)
    elif action == "reject" and scheme.routine is not None and scheme.routine.challenge is not None:
        top = scheme.routine.challenge.target_score
        out.loc[on, "attainment_vetted"] = np.minimum(out.loc[on, "attainment"].astype(float), top)
