"""What the sensitivity analyses move: unit × indicator (× evaluator group) scores built from a data set.

Three scales. ``"final"``: each indicator's (and group's) score on the final-score scale, so that the scheme's
weights and shares combine them into each unit's final score exactly — valid for a linear (arithmetic)
composite only. ``"profile"``: every unit's on-site indicator profile (written-report units: the profile the
scheme imputes to them); the composite of a profile, mapped by :func:`final_map` (final = factor · on-site +
offset), is the unit's final score under any composite. ``"onsite"``: the on-site scores of the units that
presented. :func:`written_report_units` marks the units whose on-site score is imputed.

Under a non-linear composite one approximation remains: a written-report unit's profile is its kind's mean
profile, whose composite is close to, not exactly, the mean of its kind's on-site scores (what the scheme imputes);
these units are reported apart anyway (their results describe their kind's average profile).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.composite import LINEAR, aggregate, require_linear, weighted_mean
from perflab.io import Dataset
from perflab.scheme import Scheme

SCALES = ("final", "profile", "onsite")


@dataclass(frozen=True)
class CubeArrays:
    """Unit × indicator × group scores on a chosen scale, and how on-site scores map to the final score."""

    units: pd.Index
    indicators: list[str]
    groups: list[str]
    values: np.ndarray  # (units, indicators, groups)
    presented: np.ndarray  # positions (in units) of the units with on-site scores
    c_onsite: np.ndarray  # (units,) weight of the on-site score in the final score: final = c_onsite * onsite + offset
    offset: np.ndarray  # (units,) the rest of the final score
    onsite_map: np.ndarray  # (units, presented): each unit's on-site scores from the presented units' (imputation)
    scale: str = "final"  # of ``values``: "final" (c_onsite and offset applied), "profile" or "onsite"


def fill_holes(cube: np.ndarray, shares: np.ndarray, weights: np.ndarray, composite: str = "arithmetic") -> np.ndarray:
    """Fill the holes of a (..., unit, indicator, group) cube so that the scheme's rescaling is reproduced.

    A group absent for a unit and indicator gets the share-weighted mean of the groups present (the scheme
    rescales the shares over them); an indicator nobody scored gets the unit's on-site score, the ``composite``
    of its other indicators (the scheme rescales the weights). Both are exact at the nominal shares and
    weights, and approximations away from them.
    """
    have = ~np.isnan(cube)
    ind = weighted_mean(cube, shares)  # (..., unit, indicator)
    cube = np.where(have, cube, ind[..., None])
    onsite = aggregate(ind, weights, composite)  # (..., unit)
    return np.where(np.isnan(cube), onsite[..., None, None], cube)


def _onsite_cube(gs, units, scheme: Scheme, shares: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Dense (unit, indicator, group) on-site scores of the presented units, holes filled (:func:`fill_holes`)."""
    from perflab.scoring import group_cube

    cube = group_cube(gs, units, scheme.indicator_ids, scheme.group_ids)
    return fill_holes(cube, shares, weights, scheme.composite)


def cube_arrays(dataset: Dataset, scheme: Scheme, scale: str = "final") -> CubeArrays:
    """The score cube as arrays (see the module docstring for the scales), with the map to the final score."""
    from perflab import scoring

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(map(repr, SCALES))}, got {scale!r}")
    if scale == "final" and scheme.composite not in LINEAR:
        require_linear(scheme.composite, "indicator scores on the final-score scale (use scale='profile')")
    gs = scoring.group_scores(dataset, scheme)
    inds, groups = scheme.indicator_ids, scheme.group_ids
    shares = scheme.shares.reindex(groups).to_numpy(float)
    weights = scheme.weights.reindex(inds).to_numpy(float)
    scored = set(gs["unit"])
    if scale == "onsite":
        units = [u for u in dataset.units["unit"] if u in scored]
        vals = _onsite_cube(gs, units, scheme, shares, weights)
        n = len(units)
        idx = pd.Index(units, name="unit")
        return CubeArrays(idx, inds, groups, vals, np.arange(n), np.ones(n), np.zeros(n), np.eye(n), "onsite")
    su = scoring.score_units(dataset, scheme).set_index("unit").reindex(dataset.units["unit"])
    units = list(su.index)
    pres_units = [u for u in units if u in scored]
    pos = {u: n for n, u in enumerate(units)}
    presented = np.array([pos[u] for u in pres_units], dtype=int)
    onsite_cube = _onsite_cube(gs, pres_units, scheme, shares, weights)
    # final = c_onsite * onsite + offset: scoring.final_scores is affine in the on-site score of every unit
    # (imputed units take scoring.impute_components' mean of their kind), so two evaluations give both exactly
    comp = su[[c for c in scheme.components if c in su.columns]].astype(float)
    kinds = su["kind"]
    onsite_map = np.zeros((len(units), presented.size))
    onsite_map[presented, np.arange(presented.size)] = 1.0
    onehot = pd.DataFrame(
        np.where(np.isin(np.arange(len(units)), presented)[:, None], onsite_map, np.nan), index=su.index
    )
    onsite_map = np.nan_to_num(scoring.impute_components(onehot, scheme, kinds).to_numpy(float))
    has = onsite_map.sum(axis=1) > 0
    at = [
        scoring.final_scores(comp.assign(onsite=np.where(has, x, np.nan)), scheme, kinds)["final"].to_numpy(float)
        for x in (0.0, 1.0)
    ]
    offset, c_on = at[0], at[1] - at[0]
    if "onsite" not in comp.columns or scheme.components.get("onsite", 0) <= 0:
        c_on = np.zeros(len(units))
        offset = su["final"].to_numpy(float)  # the bonus and deduction points included
    elif scheme.adjustments is not None:  # bonus and deduction points (加分, 扣分): outside the weights, a constant
        points = scoring.adjustment_points(dataset, scheme).reindex(units).fillna(0.0)
        offset = offset + (points["bonus"] - points["deduction"]).to_numpy(float)
    profile = np.einsum("up,pig->uig", onsite_map, onsite_cube)  # presented units as they are, imputed as the scheme
    if scale == "profile":
        return CubeArrays(
            pd.Index(units, name="unit"), inds, groups, profile, presented, c_on, offset, onsite_map, scale
        )
    vals = c_on[:, None, None] * profile + offset[:, None, None]
    return CubeArrays(pd.Index(units, name="unit"), inds, groups, vals, presented, c_on, offset, onsite_map)


def score_cube(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Long table (unit, indicator, group, score): each group's score for each unit and indicator.

    Parameters
    ----------
    dataset, scheme
        The data and the scheme.
    scale
        ``"final"`` (a linear composite only): scores on the final-score scale (on-site share of the final
        score plus the rest of it, written-report units imputed as the scheme says), so that combining them
        with the scheme's shares and weights gives each unit's final score exactly; ``"profile"``: every
        unit's on-site scores (imputed for written-report units), to map with :func:`final_map`;
        ``"onsite"``: the on-site scores of the units that presented.

    Returns
    -------
    pandas.DataFrame
        Columns unit, indicator, group, score.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> cube = score_cube(load_dataset("data/raw/demo", scheme), scheme)
    >>> list(cube.columns), cube["group"].nunique() == len(scheme.groups)
    (['unit', 'indicator', 'group', 'score'], True)
    """
    c = cube_arrays(dataset, scheme, scale)
    idx = pd.MultiIndex.from_product([c.units, c.indicators, c.groups], names=["unit", "indicator", "group"])
    return pd.DataFrame({"score": c.values.ravel()}, index=idx).reset_index()


def unit_indicator_scores(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Unit × indicator scores: the groups' scores combined by the scheme's shares.

    Parameters
    ----------
    dataset, scheme
        The data and the scheme.
    scale
        ``"final"`` (a linear composite only): the weighted mean of a row (scheme weights) is the unit's
        final score; ``"profile"``: every unit's on-site indicator scores, whose composite mapped by
        :func:`final_map` is the final score under any composite; ``"onsite"``: the units that presented.

    Returns
    -------
    pandas.DataFrame
        Units as the index, indicators as columns.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> from perflab.scoring import score_units
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> ds = load_dataset("data/raw/demo", scheme)
    >>> s = unit_indicator_scores(ds, scheme)
    >>> final = score_units(ds, scheme).set_index("unit")["final"]
    >>> bool(np.allclose(s @ (scheme.weights / scheme.weights.sum()), final.reindex(s.index)))
    True
    """
    c = cube_arrays(dataset, scheme, scale)
    s = scheme.shares.reindex(c.groups).to_numpy(float)
    vals = (c.values * s).sum(axis=-1) / s.sum()
    return pd.DataFrame(vals, index=c.units, columns=pd.Index(c.indicators, name="indicator"))


def final_map(dataset: Dataset, scheme: Scheme) -> pd.DataFrame:
    """Each unit's final score as an affine function of its on-site score: final = factor · on-site + offset.

    The other components of the final score (and their rescaling when one is missing) make ``offset``;
    with :func:`unit_indicator_scores` on the ``"profile"`` scale, ``final_map=`` of :func:`monte_carlo`
    and :func:`sobol_indices` turns each draw's composite into the final score, under any composite.

    Parameters
    ----------
    dataset : Dataset
        The validated data (:func:`perflab.io.load_dataset`).
    scheme : Scheme
        Gives the components' weights and how a missing component is imputed.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit (the order of the units table): factor, offset.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> list(final_map(load_dataset("data/raw/demo", scheme), scheme).columns)
    ['factor', 'offset']
    """
    c = cube_arrays(dataset, scheme, "profile")
    return pd.DataFrame({"factor": c.c_onsite, "offset": c.offset}, index=c.units)


def unit_group_scores(dataset: Dataset, scheme: Scheme, scale: str = "final") -> pd.DataFrame:
    """Unit × evaluator-group scores (indicators combined by the scheme's weights) that the shares combine.

    The shares combine the groups arithmetically; that this table (indicators combined first) gives the
    final score needs a linear composite too, so a geometric scheme is refused.

    Parameters
    ----------
    dataset, scheme
        The data and the scheme (its composite must be linear).
    scale
        ``"final"`` or ``"onsite"``, as :func:`unit_indicator_scores`.

    Returns
    -------
    pandas.DataFrame
        Units as the index, evaluator groups as columns.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> g = unit_group_scores(load_dataset("data/raw/demo", scheme), scheme)
    >>> list(g.columns) == scheme.group_ids
    True
    """
    require_linear(scheme.composite, "unit × group scores combined by the shares")
    c = cube_arrays(dataset, scheme, scale)
    w = scheme.weights.reindex(c.indicators).to_numpy(float)
    vals = np.einsum("uig,i->ug", c.values, w) / w.sum()
    return pd.DataFrame(vals, index=c.units, columns=pd.Index(c.groups, name="group"))


def written_report_units(dataset: Dataset, scheme: Scheme) -> pd.Series:
    """True for every unit with no on-site ratings (a written report only), whose on-site score the scheme imputes.

    Sensitivity results of these units describe the imputed average profile of their kind
    (``scoring.impute_components``), not the unit: report them apart.

    Parameters
    ----------
    dataset : Dataset
        The validated data (:func:`perflab.io.load_dataset`): its units and on-site ratings.
    scheme : Scheme
        The scheme the on-site scores are computed under.

    Returns
    -------
    pandas.Series
        Indexed by unit, in the order of the units table; name ``written_report``.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> from perflab.io import load_dataset
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> w = written_report_units(load_dataset("data/raw/demo", scheme), scheme)
    >>> w.name, w.dtype
    ('written_report', dtype('bool'))
    """
    from perflab import scoring

    scored = set(scoring.group_scores(dataset, scheme)["unit"])
    u = dataset.units["unit"]
    return pd.Series([x not in scored for x in u], index=pd.Index(u, name="unit"), name="written_report", dtype=bool)
