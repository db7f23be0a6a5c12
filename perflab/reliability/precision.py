"""How precise is each unit's score, and can units ranked next to each other be told apart?

- :func:`effective_raters` — Kish's effective number of raters of each unit
  under the group shares and the scheme's trimmed mean.
- :func:`score_precision` — each unit's SEM from its raters' spread as the
  scheme weighs them (its shares, weights, composite and trimmed mean), the SE
  of the difference of every pair of units ranked next to each other, and the
  share of adjacent gaps within z SE, per ranking group (:class:`ScorePrecision`).
- :func:`rater_bootstrap` — the same error by brute force: raters resampled
  and the units rescored by the scheme's own scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.reliability._checks import _kept, _with_groups


def effective_raters(ratings: pd.DataFrame, raters: pd.DataFrame, scheme) -> pd.DataFrame:
    """Per unit: raters, values the scheme's aggregation keeps, and the effective number of raters under the shares.

    The on-site score gives each rater of group g the weight s_g / m_g, with
    s_g the group's share (rescaled over the groups that scored the unit) and
    m_g the number of that group's values the aggregation averages (all n_g
    raters for a mean; n_g − 2·trim for a trimmed mean). The effective number
    of raters is Kish's (Σw)² / Σw² = 1 / Σ_g s_g² / m_g: the number of equally
    weighted raters whose mean has the same variance, if all raters scatter
    alike. It counts trimmed values as lost, which is conservative: for
    well-behaved scores a trimmed mean is nearly as precise as the full mean
    (:func:`score_precision` uses the trimmed mean's own variance instead).

    Parameters
    ----------
    ratings : DataFrame
        rater, unit, indicator, score.
    raters : DataFrame
        rater, group.
    scheme : Scheme
        The group shares and the aggregation (trim).

    Returns
    -------
    DataFrame
        unit, n_raters, n_kept, k_effective, k_effective_all (the same with
        every rater counted, as if the groups were averaged untrimmed).

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")  # shares: experts 0.05, grassroots 0.25; trim 1
    >>> raters = pd.DataFrame({"rater": ["e1", "e2", "e3", "g1", "g2", "g3", "g4"],
    ...                        "group": ["experts"] * 3 + ["grassroots"] * 4})
    >>> ratings = pd.DataFrame({"rater": raters["rater"], "unit": "D01", "indicator": "service", "score": 80.0})
    >>> effective_raters(ratings, raters, scheme).round(2)
      unit  n_raters  n_kept  k_effective  k_effective_all
    0  D01         7     3.0         2.67             5.47
    """
    r = _with_groups(ratings, raters, "effective_raters")
    shares = scheme.shares
    missing = sorted(set(r["group"]) - set(shares.index))
    if missing:
        raise DataError(f"effective_raters: group {missing[0]!r} is not a group of scheme {scheme.name!r}")
    per = r.groupby(["unit", "group"], observed=True)["rater"].nunique().rename("n").reset_index()
    per["share"] = shares.reindex(per["group"]).to_numpy()
    per = per[per["share"] > 0]
    per["share"] = per["share"] / per.groupby("unit")["share"].transform("sum")
    per["kept"] = _kept(per["n"].to_numpy(), scheme.aggregation.trim)
    per["w2_kept"] = per["share"] ** 2 / per["kept"]
    per["w2_all"] = per["share"] ** 2 / per["n"]
    g = per.groupby("unit", sort=True)
    out = pd.DataFrame(
        {
            "n_raters": g["n"].sum().astype(int),
            "n_kept": g["kept"].sum(),
            "k_effective": 1.0 / g["w2_kept"].sum(),
            "k_effective_all": 1.0 / g["w2_all"].sum(),
        }
    )
    return out.reset_index()


@dataclass(frozen=True)
class ScorePrecision:
    """Rater-sampling error of each unit's score and of the gaps between units ranked next to each other.

    ``units``: unit, kind, rank_group, score, rank, sem, n_raters,
    k_effective. ``adjacent``: per ranking group, each pair of units ranked
    next to each other: rank of the upper one, both units, the gap, the
    standard error of the difference, the gap in standard errors and
    ``within_noise`` (gap < z · SE). ``influence``: raters × units, each
    rater's contribution to the error of each unit's score; the variance of
    any difference of scores is the sum of squares of the difference of
    columns. ``score``: "onsite" or "final"; ``z``: the multiple of the SE.
    """

    units: pd.DataFrame
    adjacent: pd.DataFrame
    influence: pd.DataFrame = field(repr=False)
    score: str = "onsite"
    z: float = 2.0

    def se_difference(self, a, b) -> float:
        """Standard error of score(a) − score(b): rater effects shared by the two units cancel."""
        for u in (a, b):
            if u not in self.influence.columns:
                raise KeyError(f"unit {u!r} has no {self.score} score")
        return float(np.sqrt(((self.influence[a] - self.influence[b]) ** 2).sum()))

    def summary(self) -> pd.DataFrame:
        """Per ranking group, then all groups pooled: units, SEM, gaps, SE of differences, share of gaps within noise.

        Returns
        -------
        DataFrame
            rank_group, units, raters_per_unit, k_effective, median_sem,
            max_sem, median_gap, median_se_difference, pairs,
            share_within_noise (gaps within ``z`` SE; ``z`` is an attribute of this object).

        Examples
        --------
        >>> units = pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "rank_group": "district",
        ...                       "score": [82.0, 78.0, 77.5], "rank": [1, 2, 3], "sem": [1.2, 0.9, 1.0],
        ...                       "n_raters": 4, "k_effective": 4.0})
        >>> adjacent = pd.DataFrame({"rank_group": "district", "rank": [1, 2], "unit_above": ["D01", "D02"],
        ...                          "unit_below": ["D02", "D03"], "gap": [4.0, 0.5], "se_difference": [1.5, 1.3],
        ...                          "within_noise": [False, True]})
        >>> p = ScorePrecision(units, adjacent, influence=pd.DataFrame(), z=2.0)
        >>> p.summary()[["rank_group", "units", "median_sem", "pairs", "share_within_noise"]]
          rank_group  units  median_sem  pairs  share_within_noise
        0   district      3         1.0      2                 0.5
        1        all      3         1.0      2                 0.5
        """
        rows = []
        groups = list(pd.unique(self.units["rank_group"].dropna()))
        for name in groups + ["all"]:
            u = self.units if name == "all" else self.units[self.units["rank_group"] == name]
            u = u[u["score"].notna()]
            a = self.adjacent if name == "all" else self.adjacent[self.adjacent["rank_group"] == name]
            rows.append(
                {
                    "rank_group": name,
                    "units": len(u),
                    "raters_per_unit": u.loc[u["n_raters"] > 0, "n_raters"].mean(),
                    "k_effective": u.loc[u["n_raters"] > 0, "k_effective"].mean(),
                    "median_sem": u["sem"].median(),
                    "max_sem": u["sem"].max(),
                    "median_gap": a["gap"].median(),
                    "median_se_difference": a["se_difference"].median(),
                    "pairs": len(a),
                    "share_within_noise": a["within_noise"].mean() if len(a) else np.nan,
                }
            )
        return pd.DataFrame(rows)


def _composite_gradient(ind: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    """∂ on-site score / ∂ indicator score for each unit × indicator, under the scheme's composite.

    Arithmetic: the effective weights (the score is linear). Geometric:
    w̃_i · G / x_i, with G the weighted geometric mean and w̃ the effective
    weights (0 where an indicator score is 0, where the derivative is undefined).
    """
    from perflab.composite import aggregate, effective_weights

    W = effective_weights(ind, weights)
    if method == "arithmetic":
        return W
    if method == "geometric":
        G = aggregate(ind, weights, "geometric")
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((W > 0) & (ind > 0), W * G[:, None] / np.where(ind > 0, ind, 1.0), 0.0)
    raise ValueError(
        f"score_precision: no error propagation for composite {method!r}; add its gradient to "
        "perflab.reliability.precision._composite_gradient"
    )


def _rater_deviations(r: pd.DataFrame, trim: int) -> np.ndarray:
    """Each rating's first-order influence on its unit × indicator × group aggregate (mean or trimmed mean).

    The trimmed mean's influence is the winsorized deviation divided by the
    number of values kept (Tukey & McLaughlin 1963), the mean's the deviation
    divided by n; scaled by √(n/(n−1)) so that the sum of squares is the
    unbiased variance estimate. ``r`` is sorted by unit, indicator, group, score.
    """
    keys = ["unit", "indicator", "group"]
    g = r.groupby(keys, sort=False, observed=True)["score"]
    pos = g.cumcount().to_numpy()
    n = g.transform("size").to_numpy()
    x = r["score"].to_numpy(float)
    idx = np.arange(len(x))
    start = idx - pos
    trimmed = n > 2 * trim
    if trim > 0:
        lo = x[np.where(trimmed, start + trim, idx)]
        hi = x[np.where(trimmed, start + n - trim - 1, idx)]
        xw = np.where(trimmed, np.clip(x, lo, hi), x)
    else:
        xw = x
    mean_w = pd.Series(xw).groupby([r[k] for k in keys], sort=False, observed=True).transform("mean").to_numpy()
    denom = np.where(trimmed, n - 2 * trim, n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n > 1, np.sqrt(n / np.maximum(n - 1, 1)), 0.0)
    return (xw - mean_w) / denom * scale


def _influence(dataset, scheme, units: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
    """(raters × units) each rater's first-order contribution to the deviation of each unit's on-site score.

    Within a unit, indicator and group the aggregation is a mean or a trimmed
    mean (:func:`_rater_deviations`); with one group, no trimming and the
    arithmetic composite the sum of squares is Brennan's (2001, §5.4)
    conditional SEM. Groups are weighted by their shares and indicators by
    the composite's gradient (their weights for the arithmetic mean), both as
    the scheme rescales them over what the unit has.
    """
    from perflab.composite import effective_weights, weighted_mean
    from perflab.scoring import group_cube, group_scores

    r = _with_groups(dataset.ratings, dataset.raters, "score_precision")
    keys = ["unit", "indicator", "group"]
    r = r.sort_values(keys + ["score"], kind="mergesort").reset_index(drop=True)
    psi = _rater_deviations(r, scheme.aggregation.trim)

    groups = scheme.group_ids
    shares = scheme.shares.reindex(groups).to_numpy(float)
    cube = group_cube(group_scores(dataset, scheme), units, scheme.indicator_ids, groups)
    S = effective_weights(cube, shares)
    ind = weighted_mean(cube, shares)
    w = scheme.weights.reindex(scheme.indicator_ids).to_numpy(float)
    W = _composite_gradient(ind, w, getattr(scheme, "composite", "arithmetic"))
    ui = units.get_indexer(r["unit"])
    ii = pd.Index(scheme.indicator_ids).get_indexer(r["indicator"])
    gi = pd.Index(groups).get_indexer(r["group"])
    ok = (ui >= 0) & (ii >= 0) & (gi >= 0)
    coef = np.zeros(len(r))
    coef[ok] = W[ui[ok], ii[ok]] * S[ui[ok], ii[ok], gi[ok]]
    rater_codes, rater_ids = pd.factorize(r["rater"], sort=True)
    infl = np.zeros((len(rater_ids), len(units)))
    np.add.at(infl, (rater_codes[ok], ui[ok]), coef[ok] * psi[ok])
    n_raters = np.zeros(len(units))
    seen = r.loc[ok, ["rater", "unit"]].drop_duplicates()
    np.add.at(n_raters, units.get_indexer(seen["unit"]), 1.0)
    return pd.DataFrame(infl, index=pd.Index(rater_ids, name="rater"), columns=units), n_raters


def _final_influence(Psi: np.ndarray, a, scheme, kind: np.ndarray) -> np.ndarray:
    """The on-site influence carried into the final score: times the on-site score's effective weight; an imputed
    on-site score (``impute_mean``) carries the error of its kind's mean."""
    from perflab.composite import effective_weights

    names = list(a.component_names)
    if "onsite" not in names:
        return np.zeros_like(Psi)
    j = names.index("onsite")
    cw = effective_weights(a.components, np.array([scheme.components[c] for c in names]))[:, j]
    filled = Psi.copy()
    if scheme.missing_components == "impute_mean":
        have = ~np.isnan(a.onsite)
        for k in pd.unique(kind):
            donors = have & (kind == k)
            takers = ~have & (kind == k)
            if donors.any() and takers.any():
                filled[:, takers] = Psi[:, donors].mean(axis=1, keepdims=True)
    return filled * np.where(np.isnan(cw), 0.0, cw)[None, :]


def _adjacent(values, Psi, units, codes, groups, rank, z) -> pd.DataFrame:
    """Each pair of units ranked next to each other within a ranking group: gap, SE of the difference, within noise."""
    ok = ~np.isnan(values)
    pairs = []
    for c, name in enumerate(groups):
        members = np.flatnonzero((codes == c) & ok)
        order = members[np.lexsort((units.to_numpy()[members], -values[members]))]
        for up, down in zip(order[:-1], order[1:]):
            se = float(np.sqrt(((Psi[:, up] - Psi[:, down]) ** 2).sum()))
            gap = float(values[up] - values[down])
            pairs.append(
                {
                    "rank_group": name,
                    "rank": int(rank[up]),
                    "unit_above": units[up],
                    "unit_below": units[down],
                    "gap": gap,
                    "se_difference": se,
                    "gap_in_se": gap / se if se > 0 else np.inf,
                    "within_noise": gap < z * se,
                }
            )
    return pd.DataFrame(
        pairs,
        columns=["rank_group", "rank", "unit_above", "unit_below", "gap", "se_difference", "gap_in_se", "within_noise"],
    )


def _unit_table(units, kind, rank_group, values, rank, Psi) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": units,
            "kind": kind,
            "rank_group": rank_group,
            "score": values,
            "rank": pd.array(np.where(np.isnan(rank), pd.NA, rank), dtype="Int64"),
            "sem": np.where(~np.isnan(values), np.sqrt((Psi**2).sum(axis=0)), np.nan),
        }
    )


def score_precision(dataset, scheme, score: str = "onsite", z: float = 2.0) -> ScorePrecision:
    """Standard error of each unit's score from the sampling of raters, and how many adjacent ranks it can tell apart.

    The error of a unit's on-site score is the spread of its raters around
    their group's aggregate, weighted as the scheme weighs them (its shares,
    its weights through its composite, its trimmed mean's own variance): with
    one group, a plain mean and the arithmetic composite this is Brennan's
    (2001, §5.4) conditional absolute SEM, √(Σ_r (x_pr − x̄_p)² / (n(n − 1))).
    Severity of the raters counts in the SEM of a unit; in the difference of
    two units scored by the same raters it cancels, so each adjacent pair gets
    its own SE of the difference. ``score="final"``: the same for the final
    score, where the on-site score enters with its effective weight and an
    imputed on-site score (``impute_mean``) carries the error of the kind's
    mean. Pairs are formed within the scheme's ranking groups. The routine
    score has no rater error here. :func:`rater_bootstrap` checks it by brute force.

    Parameters
    ----------
    dataset, scheme : Dataset, Scheme
        The data (and what the final score needs) and the scoring rules the error follows.
    score : str
        ``onsite`` or ``final``.
    z : float
        A gap smaller than z SEs of the difference is within the noise.

    Returns
    -------
    ScorePrecision
        ``.units`` (one row per unit, with ``sem``), ``.adjacent`` (one row
        per adjacent pair), ``.summary()`` per ranking group.

    Examples
    --------
    >>> import yaml
    >>> from perflab.io import dataset_from_tables
    >>> from perflab.scheme import scheme_from_dict
    >>> raw = yaml.safe_load(open("params/beijing_2016.yaml", encoding="utf-8"))  # trimmed mean, trim 1
    >>> scheme = scheme_from_dict({**raw, "components": {"onsite": 1.0, "routine": 0.0, "satisfaction": 0.0}})
    >>> units = pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "zone": "core",
    ...                       "name_zh": ["东城区", "西城区", "朝阳区"], "name_en": ["Dongcheng", "Xicheng", "Chaoyang"],
    ...                       "presented": True})
    >>> raters = pd.DataFrame({"rater": ["e1", "e2", "e3", "e4"], "group": "experts", "home_unit": ""})
    >>> scores = {"D01": [80, 84, 78, 90], "D02": [75, 79, 77, 85], "D03": [70, 66, 72, 74]}  # by rater, all indicators
    >>> ratings = pd.DataFrame([(r, u, i, float(x), 1, n + 1) for n, (u, xs) in enumerate(scores.items())
    ...                         for r, x in zip(raters["rater"], xs) for i in scheme.indicator_ids],
    ...                        columns=["rater", "unit", "indicator", "score", "session", "order"])
    >>> dataset = dataset_from_tables({"units": units, "raters": raters, "ratings": ratings}, scheme)
    >>> p = score_precision(dataset, scheme)
    >>> p.units[["unit", "score", "rank", "sem"]].round(2)
      unit  score  rank   sem
    0  D01   82.0     1  2.31
    1  D02   78.0     2  1.15
    2  D03   71.0     3  1.15
    >>> p.adjacent[["rank", "unit_above", "unit_below", "gap", "se_difference", "within_noise"]].round(2)
       rank unit_above unit_below  gap  se_difference  within_noise
    0     1        D01        D02  4.0           1.15         False
    1     2        D02        D03  7.0           1.63         False
    """
    from perflab.ranking import rank_codes
    from perflab.scoring import Scorer

    if score not in ("onsite", "final"):
        raise ValueError(f"score must be 'onsite' or 'final', got {score!r}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    a = Scorer(dataset).arrays(scheme)
    units = a.units
    infl, n_raters = _influence(dataset, scheme, units)
    kind = dataset.units.set_index("unit")["kind"].reindex(units).astype(object).to_numpy()
    values = a.onsite if score == "onsite" else a.final
    Psi = infl.to_numpy() if score == "onsite" else _final_influence(infl.to_numpy(), a, scheme, kind)
    groups = np.asarray(a.rank_groups, dtype=object)
    codes = np.asarray(a.rank_codes)
    rank = rank_codes(values, codes)
    eff = effective_raters(dataset.ratings, dataset.raters, scheme).set_index("unit")["k_effective"].reindex(units)
    table = _unit_table(units, kind, np.where(codes >= 0, groups[np.clip(codes, 0, None)], None), values, rank, Psi)
    table = table.assign(n_raters=n_raters.astype(int), k_effective=np.where(n_raters > 0, eff.to_numpy(), np.nan))
    adjacent = _adjacent(values, Psi, units, codes, groups, rank, z)
    keep = ~np.isnan(values) | (np.abs(Psi).sum(axis=0) > 0)
    influence = pd.DataFrame(Psi[:, keep], index=infl.index, columns=units[keep])
    return ScorePrecision(units=table, adjacent=adjacent, influence=influence, score=score, z=float(z))


def _strata(ratings: pd.DataFrame, raters: pd.DataFrame) -> list[np.ndarray]:
    """Raters who can stand in for one another: the same group and the same set of units scored."""
    sets = ratings.groupby("rater")["unit"].agg(lambda u: "\x1f".join(sorted(map(str, set(u)))))
    group = raters.set_index("rater")["group"].reindex(sets.index).astype(str)
    return [m.index.to_numpy() for _, m in sets.groupby(group + "|" + sets, sort=True)]


def rater_bootstrap(dataset, scheme, n_boot: int = 200, seed: int | np.random.Generator | None = None, score="onsite"):
    """Each unit's score rescored by the scheme's own scoring with the raters resampled: one row per draw.

    Raters are drawn with replacement within strata of raters who can stand
    in for one another (the same evaluator group and the same units scored,
    e.g. the grassroots representatives of one session), and every draw is
    scored by :class:`perflab.scoring.Scorer` — the scheme's aggregation,
    shares, weights and composite. The spread of a column is the unit's SEM
    by brute force, the spread of a difference of columns the SE of that
    difference: the check on :func:`score_precision`'s first-order formulas.

    Parameters
    ----------
    dataset : Dataset
        Units, raters and ratings.
    scheme : Scheme
        The scoring rules.
    n_boot : int
        Draws.
    seed : int or numpy Generator, optional
        The random state (None means 0).
    score : str
        ``onsite`` or ``final``.

    Returns
    -------
    DataFrame
        One row per draw, one column per unit.
    """
    import dataclasses

    from perflab.scoring import Scorer

    if score not in ("onsite", "final"):
        raise ValueError(f"score must be 'onsite' or 'final', got {score!r}")
    if not int(n_boot) >= 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    rng = np.random.default_rng(0 if seed is None else seed)
    _with_groups(dataset.ratings, dataset.raters, "rater_bootstrap")  # every rater known and in a group
    ratings = dataset.ratings.loc[dataset.ratings["score"].notna()].reset_index(drop=True)
    strata = _strata(ratings, dataset.raters)
    group = dataset.raters.set_index("rater")["group"]
    rows_of = ratings.groupby("rater").indices
    draws = []
    for _ in range(int(n_boot)):
        draw = np.concatenate([rng.choice(ids, len(ids)) for ids in strata])
        idx = [rows_of[r] for r in draw]
        names = np.array([f"b{i}" for i in range(len(draw))], dtype=object)
        rb = ratings.iloc[np.concatenate(idx)].assign(rater=np.repeat(names, [len(i) for i in idx]))
        rr = dataset.raters.iloc[:0].reindex(range(len(draw))).assign(rater=names, group=group.reindex(draw).to_numpy())
        a = Scorer(dataclasses.replace(dataset, ratings=rb.reset_index(drop=True), raters=rr)).arrays(scheme)
        draws.append(pd.Series(a.onsite if score == "onsite" else a.final, index=a.units))
    return pd.DataFrame(draws).reset_index(drop=True)
