"""The score model: true quality, drift, the evaluators' planted effects, the ratings and the truth kept beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from perflab.scheme import Scheme
from perflab.simulate import extras
from perflab.simulate.design import (
    BLOC_SD,
    CENTRAL_SHRINK,
    CENTRAL_TARGET,
    DRIFT_END,
    DRIFT_SESSION,
    DRIFT_START,
    GRASSROOTS_COEF,
    HALO_JITTER_SD,
    INDICATOR_SD,
    LENIENT,
    NOISE_SD,
    QUALITY_MEAN,
    RATER_UNIT_SD,
    SESSIONS,
    SEVERE,
    SEVERITY_SD,
    UNIT_SD,
    ZONE_EFFECTS,
)
from perflab.simulate.people import _assessments, _home_index, _raters, _sessions, _survey, _units
from perflab.simulate.routine import _history, _verification


@dataclass(frozen=True)
class Simulated:
    """Simulated raw tables (``units, raters, ratings, history, survey, verification``) and their truth
    (``unit_quality``, ``rater_effects`` DataFrames and the ``planted`` dict)."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]


def simulate(scheme: Scheme, seed: int | np.random.Generator = 2016) -> Simulated:
    """Beijing-2016-shaped demo data with planted rater effects; deterministic from ``seed``.

    Parameters
    ----------
    scheme : Scheme
        The scheme whose indicators, bands, groups, zones and measures the data follow
        (it must hold the Beijing zones and the groups ``unit_heads`` and ``grassroots``).
    seed : int or numpy.random.Generator
        Everything is drawn from ``np.random.default_rng(seed)`` (a Generator is used as it is, and the
        truth then records no seed).

    Returns
    -------
    Simulated
        The raw tables and the planted truth.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> sim = simulate(load_scheme("params/beijing_2016.yaml"), seed=2016)
    >>> len(sim.tables["units"]), int(sim.tables["units"]["presented"].sum())
    (76, 59)
    >>> len(sim.truth["planted"]["lenient"]), sim.truth["planted"]["drift_model"]["session"]
    (6, 2)
    """
    rng = np.random.default_rng(seed)
    year = int(scheme.year or 2016)
    units = _units(scheme)
    kind = units["kind"].to_numpy()
    ind_ids = scheme.indicator_ids
    quality, zscore = _quality(rng, units, ind_ids)

    # -- survey and the grassroots perception term --------------------------
    survey, sat_year = _survey(rng, units, quality, ind_ids, year)
    grass_term = _grassroots_term(kind, sat_year)

    # -- sessions, raters, ratings ------------------------------------------
    session, order = _sessions(rng, units, quality.mean(axis=1))
    drift = _drift(session, order)
    raters, effects, r_session, favour_bonus = _raters(rng, scheme, units)
    ratings, bloc_effect = _ratings(
        rng, scheme, units, raters, effects, quality, (session, order, r_session), drift, grass_term, favour_bonus
    )

    # -- objective figures and on-site verification -------------------------
    history, repeats = _history(rng, scheme, units, zscore, year)
    verification, false_claims = _verification(rng, units, history, zscore, year)

    planted = _planted(seed, year, units, raters, effects, session, drift, r_session, favour_bonus, bloc_effect)
    planted |= {
        "grassroots_coefficient": GRASSROOTS_COEF,
        "grassroots_term": {str(u): round(float(g), 3) for u, g in zip(units["unit"], grass_term)},
        "grassroots_sessions": {
            str(r): int(s) for r, s, g in zip(raters["rater"], r_session, raters["group"]) if g == "grassroots"
        },
        "repeated_targets": repeats,
        "false_claims": false_claims,
    }
    unit_quality = pd.DataFrame(
        {
            "unit": pd.array(np.repeat(units["unit"].to_numpy(), len(ind_ids)), dtype="str"),
            "indicator": pd.array(np.tile(np.asarray(ind_ids, dtype=object), len(units)), dtype="str"),
            "quality": quality.ravel(),
        }
    )
    truth = {"unit_quality": unit_quality, "rater_effects": effects, "planted": planted}
    # a separate stream: adding the evidence tables leaves every other table as it was for the seed
    evidence = rng.spawn(1)[0] if isinstance(seed, np.random.Generator) else np.random.default_rng([seed, 6])
    assessments = _assessments(evidence, scheme, units, quality)
    if scheme.adjustments is not None or (scheme.routine is not None and scheme.routine.challenge is not None):
        # a stream of its own, drawn only when the scheme asks: a scheme without these parts gets the same tables
        more = rng.spawn(1)[0] if isinstance(seed, np.random.Generator) else np.random.default_rng([seed, 7])
        if scheme.routine is not None and scheme.routine.challenge is not None:
            history, planted["challenges"] = extras.challenges(more, scheme, history, year)
    tables = {
        "units": units,
        "raters": raters,
        "ratings": ratings,
        "history": history,
        "survey": survey,
        "verification": verification,
        "assessments": assessments,
    }
    if scheme.adjustments is not None:
        tables["adjustments"], planted["adjustments"] = extras.adjustments(more, scheme, units)
    return Simulated(tables=tables, truth=truth)


def _quality(rng, units: pd.DataFrame, ind_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """True quality unit × indicator (a general level, an indicator-specific part, the zone's effect) and the
    unit's standardised general level, which drives the objective figures."""
    n_units = len(units)
    kind = units["kind"].to_numpy()
    zone = units["zone"].to_numpy()
    general = rng.normal(0.0, UNIT_SD, n_units)
    for k in ("district", "department"):  # both kinds centred on QUALITY_MEAN: sessions mixing kinds stay comparable
        general[kind == k] -= general[kind == k].mean()
    specific = rng.normal(0.0, INDICATOR_SD, (n_units, len(ind_ids)))
    zone_eff = np.array([[ZONE_EFFECTS.get(z, {}).get(i, 0.0) for i in ind_ids] for z in zone])
    quality = np.clip(QUALITY_MEAN + general[:, None] + specific + zone_eff, 40.0, 99.0)
    return np.round(quality, 2), general / UNIT_SD


def _grassroots_term(kind: np.ndarray, satisfaction: np.ndarray) -> np.ndarray:
    """Grassroots representatives see a unit through its public's satisfaction (centred within each kind)."""
    term = np.zeros(len(kind))
    for k in ("district", "department"):
        m = kind == k
        term[m] = GRASSROOTS_COEF * (satisfaction[m] - satisfaction[m].mean())
    return term


def _drift(session: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The evening session's drift: linear in presentation order from DRIFT_START to DRIFT_END."""
    drift = np.zeros(len(session))
    m2 = session == DRIFT_SESSION
    if m2.any():
        n2 = int(m2.sum())
        frac = (order[m2] - 1) / max(n2 - 1, 1)
        drift[m2] = DRIFT_START + (DRIFT_END - DRIFT_START) * frac
    return drift


def _ratings(rng, scheme, units, raters, effects, quality, slots, drift, grass_term, favour_bonus):
    """Every rating row (rater × presented unit seen × indicator) under the score model; and the bloc's effects."""
    session, order, r_session = slots
    ind_ids = scheme.indicator_ids
    presented = units["presented"].to_numpy()
    group = raters["group"].to_numpy()
    home_idx = _home_index(raters, units)

    # who scores what: non-grassroots every presented unit, grassroots their session's units
    sees = np.zeros((len(raters), len(units)), dtype=bool)
    grass = group == "grassroots"
    sees[~grass] = presented[None, :]
    sees[grass] = presented[None, :] & (session[None, :] == r_session[grass][:, None])
    r_of, u_of = np.nonzero(sees)
    n_pairs = len(r_of)
    n_ind = len(ind_ids)

    # per (rater, unit) terms
    bloc_effect = rng.normal(0.0, BLOC_SD, len(units))
    rater_unit = rng.normal(0.0, RATER_UNIT_SD, n_pairs)
    halo_noise = rng.normal(0.0, np.hypot(RATER_UNIT_SD, NOISE_SD), n_pairs)
    severity = effects["severity_points"].to_numpy()  # positive = harsher: subtracted from the score
    in_bloc = effects["bloc"].to_numpy()
    pair = (
        -severity[r_of]
        + drift[u_of]
        + np.where(home_idx[r_of] == u_of, favour_bonus[r_of], 0.0)
        + np.where(in_bloc[r_of], bloc_effect[u_of], 0.0)
        + np.where(grass[r_of], grass_term[u_of], 0.0)
    )
    pair_halo = effects["halo"].to_numpy()[r_of]
    pair_noise = np.where(pair_halo, halo_noise, rater_unit)

    # per rating rows: pairs x indicators
    rr = np.repeat(r_of, n_ind)
    uu = np.repeat(u_of, n_ind)
    ii = np.tile(np.arange(n_ind), n_pairs)
    h = np.repeat(pair_halo, n_ind)
    base = np.where(h, quality.mean(axis=1)[uu], quality[uu, ii])
    noise = np.where(h, rng.normal(0.0, HALO_JITTER_SD, len(rr)), rng.normal(0.0, NOISE_SD, len(rr)))
    x = base + np.repeat(pair + pair_noise, n_ind) + noise
    c = effects["central"].to_numpy()[rr]
    x = np.where(c, CENTRAL_TARGET + CENTRAL_SHRINK * (x - CENTRAL_TARGET), x)
    score = np.clip(np.rint(x), 0, 100).astype(np.int64)

    sort = np.lexsort((ii, rr, order[uu], session[uu]))
    rr, uu, ii, score = rr[sort], uu[sort], ii[sort], score[sort]
    ratings = pd.DataFrame(
        {
            "rater": pd.array(raters["rater"].to_numpy()[rr], dtype="str"),
            "unit": pd.array(units["unit"].to_numpy()[uu], dtype="str"),
            "indicator": pd.array(np.asarray(ind_ids, dtype=object)[ii], dtype="str"),
            "score": score,
            "grade": pd.array(scheme.grade_of(score), dtype="str"),
            "session": session[uu].astype(np.int64),
            "order": order[uu].astype(np.int64),
        }
    )
    return ratings, bloc_effect


def _planted(seed, year, units, raters, effects, session, drift, r_session, favour_bonus, bloc_effect) -> dict:
    """The planted truth about quality, noise, sessions, drift and each kind of biased evaluator."""
    uid = units["unit"].to_numpy()
    rater_ids = raters["rater"].to_numpy()
    home_idx = _home_index(raters, units)
    n_in_session = {s: int((session == s).sum()) for s in SESSIONS}

    def ids(col):
        return [str(r) for r in effects.loc[effects[col], "rater"]]

    heads = raters["home_unit"].notna().to_numpy()
    return {
        "seed": None if isinstance(seed, np.random.Generator) else int(seed),
        "year": year,
        "quality": {
            "mean": QUALITY_MEAN,
            "unit_sd": UNIT_SD,
            "indicator_sd": INDICATOR_SD,
            "zone_effects": ZONE_EFFECTS,
            "centred_within_kind": True,
        },
        "noise": {"rater_unit_sd": RATER_UNIT_SD, "rating_sd": NOISE_SD, "ordinary_severity_sd": SEVERITY_SD},
        "sessions": {str(s): {"label": SESSIONS[s], "units": n_in_session[s]} for s in SESSIONS},
        "drift": {str(s): round(float(drift[session == s].mean()), 4) for s in SESSIONS},
        "drift_model": {
            "session": DRIFT_SESSION,
            "first": DRIFT_START,
            "last": DRIFT_END,
            "rule": "linear in presentation order within the session, added to every score",
        },
        "lenient": ids("lenient"),
        "lenient_severity_points": -LENIENT,
        "severe": ids("severe"),
        "severe_severity_points": -SEVERE,
        "severity_direction": "positive = harsher (points subtracted from the rater's scores)",
        "halo": ids("halo"),
        "halo_jitter_sd": HALO_JITTER_SD,
        "central": ids("central"),
        "central_target": CENTRAL_TARGET,
        "central_shrink": CENTRAL_SHRINK,
        "favouring": [
            {"rater": str(rater_ids[r]), "home_unit": str(uid[home_idx[r]]), "bonus": round(float(favour_bonus[r]), 3)}
            for r in np.flatnonzero(effects["favours_home"].to_numpy())
        ],
        "unit_heads": {str(rater_ids[r]): str(uid[home_idx[r]]) for r in np.flatnonzero(heads)},
        "bloc": {
            "members": ids("bloc"),
            "sd": BLOC_SD,
            "effect": {str(uid[u]): round(float(bloc_effect[u]), 3) for u in np.flatnonzero(units["presented"])},
        },
    }
