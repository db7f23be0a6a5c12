"""How many evaluators would a ranking need? The multivariate G-study of the evaluator groups' composite.

Brennan (2001, ch. 9–10), the p• × r° design: every unit is scored by every
evaluator group (a fixed facet, weighted a priori by the groups' shares), each
group by its own raters. :func:`composite_g_study` estimates the components,
:class:`CompositeGStudy` gives the D-study of the weighted composite (g, phi,
SEMs), the g a given SEM needs and the panel that reaches it;
:func:`onsite_g_study` runs it on the on-site score as the scheme scores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.reliability._checks import _need_columns, _with_groups
from perflab.reliability.icc import icc


@dataclass(frozen=True)
class CompositeGStudy:
    """Variance and covariance components of a p• × r° design and the D-study of the weighted composite.

    Each level v of the fixed facet (an evaluator group) has its own raters
    (r°: raters nested in groups, no rater in two groups) who score the same
    units (p•: every unit is scored by every group). ``groups``: per group
    the a-priori weight, raters per unit now (harmonic mean), the units, and
    the unit, rater and residual (unit × rater, e) variance components.
    ``universe``: the units' universe-score variance–covariance matrix
    across groups. ``dropped``: values per group the aggregation discards
    (2 · trim for a trimmed mean), counted as lost by the D-study.
    """

    groups: pd.DataFrame
    universe: pd.DataFrame
    dropped: int = 0

    @property
    def weights(self) -> pd.Series:
        """Each group's weight in the composite (summing to 1)."""
        return self.groups.set_index("group")["weight"]

    @property
    def var_universe(self) -> float:
        """Universe-score variance of the composite, a'Σa (Brennan 2001, eq. 10.x): the true spread of the units."""
        a = self.weights.reindex(self.universe.index).to_numpy()
        return float(max(a @ self.universe.to_numpy() @ a, 0.0))

    def _sizes(self, sizes=None) -> pd.Series:
        g = self.groups.set_index("group")
        if sizes is None:
            return (g["raters"] - self.dropped).clip(lower=1.0)
        s = pd.Series(sizes, dtype=float)
        unknown = sorted(set(s.index) - set(g.index))
        if unknown:
            raise ValueError(f"d_study: unknown group(s) {unknown}; groups are {', '.join(g.index)}")
        if (s < 1).any():
            raise ValueError(f"d_study: every group needs at least 1 rater, got {s[s < 1].to_dict()}")
        return s.reindex(g.index).fillna((g["raters"] - self.dropped).clip(lower=1.0))

    def d_study(self, sizes: Mapping[str, float] | None = None, scale: float = 1.0) -> pd.Series:
        """g, phi and the SEMs of the composite for one panel: ``sizes`` (group → values averaged) times ``scale``.

        Without ``sizes``: the values averaged now (raters per unit minus
        ``dropped``). Relative error σ²(δ) = Σ a_v² σ²_v(pr,e)/n_v; absolute
        error adds σ²_v(r)/n_v (Brennan 2001, ch. 10, for the p• × r° design;
        negative variance estimates set to zero). ``sem_rel`` is the SEM for
        comparing units scored by the same raters, ``se_difference`` = √2 ·
        ``sem_rel`` the SE of the difference of two such units.

        Parameters
        ----------
        sizes : dict, optional
            Group -> values averaged; groups not given keep the current panel.
        scale : float
            Every group's panel multiplied by it.

        Returns
        -------
        Series
            scale, values_averaged, raters, var_universe, rel_error, abs_error,
            g, phi, sem_rel, sem_abs, se_difference.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a", "b"], "weight": [0.5, 0.5], "raters": [4.0, 9.0], "units": 10,
        ...                          "var_unit": [4.0, 2.0], "var_rater": [1.0, 1.0], "var_residual": [8.0, 9.0]}),
        ...     universe=pd.DataFrame([[4.0, 2.0], [2.0, 2.0]], index=["a", "b"], columns=["a", "b"]))
        >>> cg.d_study()[["g", "sem_rel", "se_difference"]].round(3).tolist()
        [0.769, 0.866, 1.225]
        """
        if np.ndim(scale) != 0:
            raise ValueError("d_study: one scale; for a list of scales use d_study_grid")
        return self.d_study_grid([scale], sizes).iloc[0]

    def d_study_grid(self, scale: Sequence[float], sizes: Mapping[str, float] | None = None) -> pd.DataFrame:
        """:meth:`d_study` for each of the scales ``scale`` (every group's panel multiplied by it): one row each.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a"], "weight": [1.0], "raters": [4.0], "units": 10,
        ...                          "var_unit": [4.0], "var_rater": [1.0], "var_residual": [8.0]}),
        ...     universe=pd.DataFrame([[4.0]], index=["a"], columns=["a"]))
        >>> cg.d_study_grid([1, 2])[["raters", "g"]]
           raters         g
        0     4.0  0.666667
        1     8.0  0.800000
        """
        base = self._sizes(sizes)
        scales = np.atleast_1d(scale).astype(float)
        if np.any(scales <= 0):
            raise ValueError(f"d_study: scale must be positive, got {list(scales)}")
        g = self.groups.set_index("group")
        a2 = g["weight"].to_numpy() ** 2
        vr = g["var_rater"].clip(lower=0).to_numpy()
        ve = g["var_residual"].clip(lower=0).to_numpy()
        tau = self.var_universe
        rows = []
        for m in scales:
            n = base.to_numpy() * m
            delta = float((a2 * ve / n).sum())
            Delta = float((a2 * (vr + ve) / n).sum())
            rows.append(
                {
                    "scale": m,
                    "values_averaged": float(n.sum()),
                    "raters": float(n.sum() + self.dropped * len(n)),
                    "var_universe": tau,
                    "rel_error": delta,
                    "abs_error": Delta,
                    "g": tau / (tau + delta) if tau + delta > 0 else np.nan,
                    "phi": tau / (tau + Delta) if tau + Delta > 0 else np.nan,
                    "sem_rel": np.sqrt(delta),
                    "sem_abs": np.sqrt(Delta),
                    "se_difference": np.sqrt(2 * delta),
                }
            )
        return pd.DataFrame(rows)

    def sem_for_g(self, g: float) -> float:
        """The relative SEM that a generalizability coefficient g implies for these units: √(σ²_τ (1 − g) / g).

        Parameters
        ----------
        g : float
            A generalizability coefficient in (0, 1).

        Returns
        -------
        float
            The relative SEM in points.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a"], "weight": [1.0], "raters": [4.0], "units": 10,
        ...                          "var_unit": [4.0], "var_rater": [1.0], "var_residual": [8.0]}),
        ...     universe=pd.DataFrame([[4.0]], index=["a"], columns=["a"]))
        >>> round(cg.sem_for_g(0.8), 6)
        1.0
        """
        if not 0 < g < 1:
            raise ValueError(f"g must lie in (0, 1), got {g}")
        return float(np.sqrt(self.var_universe * (1 - g) / g))

    def g_for_sem(self, sem: float) -> float:
        """The generalizability coefficient at which the relative SEM equals ``sem``: σ²_τ / (σ²_τ + sem²).

        Parameters
        ----------
        sem : float
            A relative SEM in points (positive).

        Returns
        -------
        float
            The g coefficient.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a"], "weight": [1.0], "raters": [4.0], "units": 10,
        ...                          "var_unit": [4.0], "var_rater": [1.0], "var_residual": [8.0]}),
        ...     universe=pd.DataFrame([[4.0]], index=["a"], columns=["a"]))
        >>> cg.g_for_sem(1.0)
        0.8
        """
        if not sem > 0:
            raise ValueError(f"sem must be positive, got {sem}")
        tau = self.var_universe
        return float(tau / (tau + sem**2))

    def allocation(self, how: str = "current") -> pd.Series:
        """Each group's part of a panel: ``current`` (as now) or ``optimal``.

        ``optimal`` minimises the relative error Σ a_v² σ²_v / n_v for a given
        total Σ n_v: n_v ∝ a_v σ_v (Lagrange), σ_v² the group's residual variance.
        """
        g = self.groups.set_index("group")
        if how == "current":
            p = self._sizes()
        elif how == "optimal":
            p = g["weight"] * np.sqrt(g["var_residual"].clip(lower=0))
        else:
            raise ValueError(f"allocation must be 'current' or 'optimal', got {how!r}")
        return p / p.sum()

    def panel_for(self, sem_rel: float, allocation: str = "current") -> pd.Series:
        """The smallest panel (raters per group, allocated as ``allocation``) whose relative SEM is at most ``sem_rel``.

        With shares p_v of the total N, σ²(δ) = C / N with C = Σ a_v² σ²_v / p_v,
        so N = C / sem_rel²; each group's n_v = p_v N is rounded up and the
        values the aggregation drops are added back.

        Parameters
        ----------
        sem_rel : float
            The largest relative SEM wanted (points).
        allocation : str
            ``current`` (each group in its current proportion) or ``optimal`` (see :meth:`allocation`).

        Returns
        -------
        Series
            ``raters_<group>`` for each group, ``total``, and the :meth:`d_study` of that panel.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a"], "weight": [1.0], "raters": [4.0], "units": 10,
        ...                          "var_unit": [4.0], "var_rater": [1.0], "var_residual": [8.0]}),
        ...     universe=pd.DataFrame([[4.0]], index=["a"], columns=["a"]))
        >>> cg.panel_for(1.0)[["raters_a", "total", "sem_rel"]].tolist()
        [8.0, 8.0, 1.0]
        """
        if not sem_rel > 0:
            raise ValueError(f"sem_rel must be positive, got {sem_rel}")
        g = self.groups.set_index("group")
        p = self.allocation(allocation)
        a2 = g["weight"] ** 2
        ve = g["var_residual"].clip(lower=0)
        use = p > 0
        C = float((a2[use] * ve[use] / p[use]).sum())
        N = C / sem_rel**2
        n = np.maximum(np.ceil(p * N - 1e-9), 1.0)
        ds = self.d_study(n.to_dict())
        return pd.concat(
            [
                (n + self.dropped).rename(lambda s: f"raters_{s}"),
                pd.Series({"total": float((n + self.dropped).sum())}),
                ds.drop(["scale", "raters"]),
            ]
        )

    def summary(self) -> pd.DataFrame:
        """Per group: weight, raters now, variance components and the group's share of the composite's relative error.

        Returns
        -------
        DataFrame
            ``groups`` with ``values_averaged`` and ``rel_error_share`` added.

        Examples
        --------
        >>> cg = CompositeGStudy(
        ...     groups=pd.DataFrame({"group": ["a", "b"], "weight": [0.5, 0.5], "raters": [4.0, 9.0], "units": 10,
        ...                          "var_unit": [4.0, 2.0], "var_rater": [1.0, 1.0], "var_residual": [8.0, 9.0]}),
        ...     universe=pd.DataFrame([[4.0, 2.0], [2.0, 2.0]], index=["a", "b"], columns=["a", "b"]))
        >>> cg.summary()[["group", "values_averaged", "rel_error_share"]]
          group  values_averaged  rel_error_share
        0     a              4.0         0.666667
        1     b              9.0         0.333333
        """
        g = self.groups.copy()
        n = self._sizes().to_numpy()
        part = g["weight"].to_numpy() ** 2 * g["var_residual"].clip(lower=0).to_numpy() / n
        g["values_averaged"] = n
        g["rel_error_share"] = part / part.sum() if part.sum() > 0 else np.nan
        return g


def _checked_scores(data, score, unit, rater, group) -> pd.DataFrame:
    d = data[[unit, rater, group, score]].dropna(subset=[score])
    num = pd.to_numeric(d[score], errors="coerce")
    if num.isna().any():
        raise DataError(f"composite_g_study: score {d[score][num.isna()].iloc[0]!r} is not a number")
    d = d.assign(**{score: num.astype(float)})
    if d[group].isna().any():
        raise DataError(f"composite_g_study: rater {d.loc[d[group].isna(), rater].iloc[0]!r} has no {group}")
    spread = d.groupby(rater, sort=False)[group].nunique()
    if (spread > 1).any():
        raise DataError(
            f"composite_g_study: rater {spread.index[np.argmax(spread.to_numpy() > 1)]!r} is in more than "
            f"one {group}; raters must be nested in groups"
        )
    return d


def _normalised_weights(weights, present: list, group: str) -> pd.Series:
    """The positive weights of the groups with scores, in the order given, rescaled to sum 1."""
    w = pd.Series(weights, dtype=float)
    unknown = sorted(set(map(str, present)) - set(map(str, w.index)))
    if unknown:
        raise DataError(f"composite_g_study: {group} {unknown[0]!r} has no weight")
    if (w < 0).any():
        raise ValueError(f"composite_g_study: weights must be >= 0, got {w[w < 0].to_dict()}")
    order = [v for v in w.index if v in set(present) and w[v] > 0]
    if not order:
        raise DataError("composite_g_study: no group with a positive weight has scores")
    return w.reindex(order) / w.reindex(order).sum()


def composite_g_study(
    data: pd.DataFrame,
    score: str,
    unit: str,
    rater: str,
    group: str,
    weights: Mapping[str, float],
    dropped: int = 0,
) -> CompositeGStudy:
    """Multivariate G-study of units × (raters nested in groups), groups fixed with a-priori ``weights``.

    Brennan (2001, ch. 9–10), the p• × r° design: within each group the
    unit, rater and residual components are estimated from that group's
    two-way table (Henderson's Method III via :func:`icc`, so raters need not
    score every unit; the classical ANOVA when they do); between groups the
    unit covariance is the covariance of the units' group means, as the
    groups share no raters (their errors are uncorrelated). The composite
    universe score is Σ_v a_v μ_pv with a_v the weights rescaled to sum 1
    (here: the groups' shares). Several ratings of a unit by a rater are
    averaged first. Each rater must belong to one group.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per score.
    score, unit, rater, group : str
        Columns of the scores, the units (object of measurement), the raters and their groups.
    weights : dict
        Group -> a-priori weight (rescaled to sum 1 over the groups with scores).
    dropped : int
        Values per group the aggregation discards (2 · trim for a trimmed mean).

    Returns
    -------
    CompositeGStudy
    """
    _need_columns(data, [score, unit, rater, group], "composite_g_study")
    d = _checked_scores(data, score, unit, rater, group)
    w = _normalised_weights(weights, list(pd.unique(d[group])), group)
    order = list(w.index)
    cells = d.groupby([unit, rater, group], observed=True, sort=True)[score].mean().reset_index()
    rows, means = [], {}
    for v in order:
        sub = cells[cells[group] == v]
        try:
            res = icc(sub, unit, rater, score)
        except DataError as e:
            raise DataError(f"composite_g_study: {group} {v!r}: {e}") from None
        per_unit = sub.groupby(unit, observed=True)[rater].nunique()
        rows.append(
            {
                "group": v,
                "weight": float(w[v]),
                "raters": float(len(per_unit) / (1.0 / per_unit).sum()),
                "units": int(res.n_targets),
                "var_unit": res.var_target,
                "var_rater": res.var_rater,
                "var_residual": res.var_residual,
            }
        )
        means[v] = sub.groupby(unit, observed=True)[score].mean()
    cov = pd.DataFrame(means).cov(min_periods=2)
    for v, row in zip(order, rows):
        cov.loc[v, v] = row["var_unit"]
    cov = cov.reindex(index=order, columns=order)
    if cov.isna().to_numpy().any():
        i, j = np.argwhere(cov.isna().to_numpy())[0]
        raise DataError(
            f"composite_g_study: {group}s {order[i]!r} and {order[j]!r} share fewer than 2 {unit}s; "
            "their covariance is not estimable"
        )
    return CompositeGStudy(groups=pd.DataFrame(rows), universe=cov, dropped=int(dropped))


def rater_scores(dataset, scheme, units=None) -> pd.DataFrame:
    """Each rater's score of each unit: the rater's indicator scores combined as the scheme combines indicators.

    The scheme's weights and its composite (``arithmetic`` or ``geometric``,
    :func:`perflab.composite.aggregate`), rescaled over the indicators the
    rater scored.

    Parameters
    ----------
    dataset, scheme : Dataset, Scheme
        Ratings and raters (with their groups); the weights and composite.
    units : list, optional
        Restrict to these units.

    Returns
    -------
    DataFrame
        unit, rater, group, score.
    """
    from perflab.composite import aggregate

    r = _with_groups(dataset.ratings, dataset.raters, "onsite_g_study")
    if units is not None:
        r = r[r["unit"].isin(list(units))]
        if r.empty:
            raise DataError("onsite_g_study: none of the units given has ratings")
    unknown = ~r["indicator"].isin(scheme.weights.index)
    if unknown.any():
        raise DataError(
            f"onsite_g_study: indicator {r.loc[unknown, 'indicator'].iloc[0]!r} is not in scheme {scheme.name!r}"
        )
    wide = r.pivot_table(index=["unit", "rater", "group"], columns="indicator", values="score", observed=True)
    w = scheme.weights.reindex(wide.columns).to_numpy(float)
    values = aggregate(wide.to_numpy(float), w, getattr(scheme, "composite", "arithmetic"))
    return wide.index.to_frame(index=False).assign(score=values)


def onsite_g_study(dataset, scheme, units=None) -> CompositeGStudy:
    """:func:`composite_g_study` of the on-site score: each rater's score of each unit, groups weighted by their shares.

    Indicators are fixed (the same sheet every year): a rater's score of a unit
    combines the rater's indicator scores with the scheme's weights and
    composite (:func:`rater_scores`). The scheme's trimmed mean drops
    2 · trim values per group (``dropped``).

    Parameters
    ----------
    dataset : Dataset
        Ratings and raters (with their groups).
    scheme : Scheme
        Weights, composite, group shares and aggregation.
    units : list, optional
        Restrict to these units (e.g. one kind, a ranking group).

    Returns
    -------
    CompositeGStudy

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
    >>> cg = onsite_g_study(dataset, scheme)
    >>> cg.summary()[["group", "weight", "raters", "values_averaged", "var_unit", "var_residual"]].round(2)
         group  weight  raters  values_averaged  var_unit  var_residual
    0  experts     1.0     4.0              2.0     38.61          8.56
    >>> cg.d_study()[["g", "se_difference"]].round(3).tolist()
    [0.9, 2.925]
    """
    agg = rater_scores(dataset, scheme, units)
    return composite_g_study(
        agg, "score", "unit", "rater", "group", scheme.shares.to_dict(), dropped=2 * scheme.aggregation.trim
    )
