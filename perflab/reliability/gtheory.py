"""Where does the error come from, and how large a panel is enough? G-study variance components and the D-study.

:func:`g_study` estimates the variance components of a balanced
random-effects design, crossed or with a facet nested in another (Brennan
2001, ANOVA / expected mean squares); :meth:`GStudy.d_study` gives the
generalizability (``g``) and dependability (``phi``) coefficients for other
panel sizes. :func:`panel_sizes`: per evaluator group, the G-study of
units × raters × indicators and the raters needed for ``g >= target``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.errors import DataError
from perflab.reliability._checks import _need_columns


@dataclass(frozen=True)
class GStudy:
    """Variance components of a balanced random-effects design and the D-study that uses them.

    ``components``: effect, variance, df, ms, and the facets in the effect
    (``index``, nesting facets included). ``unit``: the object of measurement
    (column of the units). ``sizes``: levels of each facet in the G-study
    (for a nested facet: levels within one level of its parent).
    """

    components: pd.DataFrame
    unit: str
    facets: tuple[str, ...]
    nested: Mapping[str, str]
    sizes: Mapping[str, int]
    index: Mapping[str, frozenset] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """The components with each one's share of the total (negative estimates counted as zero)."""
        c = self.components.copy()
        total = c["variance"].clip(lower=0).sum()
        c["share"] = c["variance"].clip(lower=0) / total if total > 0 else np.nan
        return c[["effect", "variance", "share", "df", "ms"]]

    def d_study(self, sizes: Mapping[str, int] | None = None, fixed: Sequence[str] = ()) -> pd.Series:
        """g (relative) and phi (absolute) coefficients for one design: ``sizes`` (facet -> n).

        Facets not given keep their G-study size. Facets in ``fixed`` are fixed
        in the D-study (Brennan 2001, ch. 4): their interactions with the units
        join the universe-score variance. For several designs at once use
        :meth:`d_study_grid`. Returns the sizes, ``var_unit``, ``rel_error``,
        ``abs_error``, ``g`` and ``phi``.
        """
        sizes = dict(sizes or {})
        listed = [f for f, v in sizes.items() if np.ndim(v) != 0]
        if listed:
            raise ValueError(f"d_study: one size per facet; for lists of sizes ({', '.join(listed)}) use d_study_grid")
        return self.d_study_grid(sizes, fixed).iloc[0]

    def d_study_grid(
        self, sizes: Mapping[str, int | Sequence[int]] | None = None, fixed: Sequence[str] = ()
    ) -> pd.DataFrame:
        """:meth:`d_study` for every combination of the sizes given (facet -> n or list of n): one row each."""
        sizes = dict(sizes or {})
        unknown = set(sizes) - set(self.facets)
        if unknown:
            raise ValueError(f"d_study: unknown facet(s) {sorted(unknown)}; facets are {', '.join(self.facets)}")
        bad_fixed = set(fixed) - set(self.facets)
        if bad_fixed:
            raise ValueError(f"d_study: unknown fixed facet(s) {sorted(bad_fixed)}")
        grid = {f: np.atleast_1d(sizes.get(f, self.sizes[f])) for f in self.facets}
        for f, vals in grid.items():
            if np.any(np.asarray(vals) < 1):
                raise ValueError(f"d_study: size of {f!r} must be >= 1, got {list(vals)}")
        rows = []
        for combo in itertools.product(*grid.values()):
            n = dict(zip(grid, (int(x) for x in combo)))
            rows.append({**n, **self._coefficients(n, set(fixed))})
        return pd.DataFrame(rows)

    def _coefficients(self, n, fixed):
        p = self.unit
        tau = delta = Delta = 0.0
        for effect, var in zip(self.components["effect"], self.components["variance"]):
            var = max(float(var), 0.0)  # negative estimates set to zero (Brennan's convention)
            idx = self.index[effect]
            others = idx - {p}
            div = float(np.prod([n[f] for f in others])) if others else 1.0
            random_part = others - fixed
            if p in idx:
                if not random_part:
                    tau += var / div
                else:
                    delta += var / div
            elif random_part:
                Delta += var / div
        Delta += delta
        g = tau / (tau + delta) if tau + delta > 0 else np.nan
        phi = tau / (tau + Delta) if tau + Delta > 0 else np.nan
        return {"var_unit": tau, "rel_error": delta, "abs_error": Delta, "g": g, "phi": phi}


def g_study(
    data: pd.DataFrame,
    score: str,
    unit: str,
    facets: Sequence[str],
    nested: Mapping[str, str] | None = None,
) -> GStudy:
    """Variance components (ANOVA / expected mean squares) of units × facets, crossed or nested.

    ``nested={"rater": "group"}`` means raters are nested in groups (each rater
    belongs to one group); rater labels may repeat across groups. The design
    must be balanced: every combination present once (replicates are
    averaged), the same number of nested levels in each parent. The last
    (highest-order) effect is confounded with error (``...,e``). Negative
    estimates are reported as estimated and set to zero in the D-study.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per score.
    score : str
        Column of the scores.
    unit : str
        Column of the object of measurement (the units, persons…).
    facets : list of str
        Columns of the facets (raters, indicators…).
    nested : dict, optional
        Facet -> the facet it is nested in.

    Returns
    -------
    GStudy

    Examples
    --------
    >>> d = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3, "score": [4.0, 6, 7, 8, 1, 2]})
    >>> gs = g_study(d, "score", "unit", ["rater"])
    >>> gs.components[["effect", "variance"]].round(3)
            effect  variance
    0          unit     9.000
    1         rater     0.833
    2  unit×rater,e     0.167
    >>> gs.d_study({"rater": 4})[["g", "phi"]].round(3).tolist()
    [0.995, 0.973]
    """
    facets = list(facets)
    nested = dict(nested or {})
    factors = [unit] + facets
    _need_columns(data, [score] + factors, "g_study")
    if len(set(factors)) != len(factors):
        raise ValueError(f"g_study: unit and facets must be distinct, got {factors}")
    for child, parent in nested.items():
        if child not in facets or parent not in factors:
            raise ValueError(f"g_study: nested {child!r} in {parent!r}: both must be facets of the design")
        if parent == unit:
            raise ValueError("g_study: facets nested in the object of measurement are not supported")
    Y, sizes = _balanced_array(data, score, factors, nested)
    comp, index = _components(Y, sizes, factors, _effects(factors, nested))
    return GStudy(
        components=comp,
        unit=unit,
        facets=tuple(facets),
        nested=nested,
        sizes={f: sizes[f] for f in facets},
        index=index,
    )


def _components(Y: np.ndarray, sizes: dict, factors: list, effects: list) -> tuple[pd.DataFrame, dict]:
    """ANOVA sums of squares of each effect and the variance components from the expected mean squares."""
    axes = {f: i for i, f in enumerate(factors)}
    means = {}

    def mean_over(keep):
        keep = frozenset(keep)
        if keep not in means:
            drop = tuple(axes[f] for f in factors if f not in keep)
            means[keep] = Y.mean(axis=drop, keepdims=True) if drop else Y
        return means[keep]

    rows = []
    for idx, primary in effects:
        nest = idx - primary
        est = 0.0
        # inclusion-exclusion over subsets T with nest ⊆ T ⊆ idx
        prim = sorted(primary, key=factors.index)
        for r in range(len(prim) + 1):
            for sub in itertools.combinations(prim, len(prim) - r):
                est = est + (-1) ** r * mean_over(nest | frozenset(sub))
        ss = float((np.broadcast_to(est, Y.shape) ** 2).sum())
        df = int(np.prod([sizes[f] - 1 for f in primary]) * np.prod([sizes[f] for f in nest]))
        rows.append({"idx": idx, "primary": primary, "ss": ss, "df": df, "ms": ss / df})
    # expected mean squares: E[MS_a] = sum over b with idx_a ⊆ idx_b of (prod of sizes not in idx_b) var_b
    C = np.zeros((len(rows), len(rows)))
    for a, ra in enumerate(rows):
        for b, rb in enumerate(rows):
            if ra["idx"] <= rb["idx"]:
                C[a, b] = np.prod([sizes[f] for f in factors if f not in rb["idx"]])
    var = np.linalg.solve(C, np.array([r["ms"] for r in rows]))
    names = [_effect_name(r["idx"], r["primary"], factors) for r in rows]
    names[-1] = names[-1] + ",e"
    comp = pd.DataFrame(
        {
            "effect": names,
            "variance": var,
            "df": [r["df"] for r in rows],
            "ms": [r["ms"] for r in rows],
            "index": [" ".join(sorted(r["idx"], key=factors.index)) for r in rows],
        }
    )
    return comp, {n: r["idx"] for n, r in zip(names, rows)}


def _balanced_array(data, score, factors, nested) -> tuple[np.ndarray, dict]:
    """The scores as an array with one axis per factor (a nested facet coded within its parent) and the sizes."""
    d = data[factors + [score]].copy()
    d[score] = pd.to_numeric(d[score], errors="coerce")
    d = d.dropna()
    cells = d.groupby(factors, observed=True, sort=True)[score].mean().reset_index()
    codes, sizes = {}, {}
    for f in factors:
        if f in nested:
            parent = nested[f]
            within = cells.groupby(parent, observed=True)[f].transform(lambda s: pd.factorize(s, sort=True)[0])
            per_parent = cells.groupby(parent, observed=True)[f].nunique()
            if per_parent.nunique() != 1:
                raise DataError(
                    f"g_study: {f} nested in {parent} needs the same number of {f} levels in each {parent}; "
                    f"got {per_parent.to_dict()}"
                )
            codes[f] = within.to_numpy()
            sizes[f] = int(per_parent.iloc[0])
        else:
            codes[f], lv = pd.factorize(cells[f], sort=True)
            sizes[f] = len(lv)
    for f, s in sizes.items():
        if s < 2:
            raise DataError(f"g_study: facet {f!r} has {s} level; a variance needs at least 2")
    shape = tuple(sizes[f] for f in factors)
    full = int(np.prod(shape))
    if len(cells) != full:
        raise DataError(
            f"g_study needs a balanced design: {full - len(cells)} of {full} {' × '.join(factors)} cells are missing "
            "(run it on a complete block, e.g. per session, or use icc for unbalanced data)"
        )
    Y = np.full(shape, np.nan)
    Y[tuple(codes[f] for f in factors)] = cells[score].to_numpy(float)
    if np.isnan(Y).any():
        raise DataError(
            "g_study: duplicated cells after coding nested facets (is each nested level in one parent only?)"
        )
    return Y, sizes


def _effects(factors, nested) -> list[tuple[frozenset, frozenset]]:
    """The design's effects (index set, primary facets), a nested facet always with its parent, smallest first."""

    def closure(s):
        s = set(s)
        changed = True
        while changed:
            changed = False
            for c, p in nested.items():
                if c in s and p not in s:
                    s.add(p)
                    changed = True
        return frozenset(s)

    effects = []
    for r in range(1, len(factors) + 1):
        for combo in itertools.combinations(factors, r):
            idx = closure(combo)
            if idx in [e[0] for e in effects]:
                continue
            effects.append((idx, _primary(idx, nested)))
    effects.sort(key=lambda e: (len(e[0]), [factors.index(f) for f in sorted(e[0], key=factors.index)]))
    return effects


def _primary(idx, nested):
    """Facets of an effect that are not there only as the parent of a nested facet in it."""
    parents = {p for c, p in nested.items() if c in idx}
    return frozenset(f for f in idx if f not in parents)


def _effect_name(idx, primary, factors):
    prim = "×".join(sorted(primary, key=factors.index))
    nest = idx - primary
    return f"{prim}:{'×'.join(sorted(nest, key=factors.index))}" if nest else prim


# ---------------------------------------------------------------------------
# panel sizes per evaluator group
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PanelSizes:
    """Per evaluator group the G-study and the raters needed (``groups``), and g and phi against the panel (``curves``:
    group, rater, g, phi for 1..max_raters raters)."""

    groups: pd.DataFrame
    curves: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Per group: raters, raters per unit, g and phi now, raters needed for the target."""
        cols = ["group", "n_raters", "n_raters_used", "raters_per_unit", "g", "phi"]
        return self.groups[cols + ["raters_needed_g", "raters_needed_phi"]]


def panel_sizes(
    ratings: pd.DataFrame,
    raters: pd.DataFrame,
    target: float = 0.8,
    fixed: Sequence[str] = ("indicator",),
    max_raters: int = 1000,
) -> PanelSizes:
    """Per evaluator group: units × raters × indicators variance components and the raters needed for g ≥ target.

    Within a group, raters who scored the same set of units form a complete
    block (e.g. the grassroots representatives of one session); each block's
    G-study is run and the components pooled (weighted by units × raters), so
    the sparse overall design needs no imputation. Indicators are a fixed facet
    by default (the same scoring sheet every year). Blocks with fewer than 2
    raters or 2 units are skipped; ``n_raters_used`` says how many raters count.
    """
    _need_columns(ratings, ["rater", "unit", "indicator", "score"], "panel_sizes")
    _need_columns(raters, ["rater", "group"], "panel_sizes")
    if not 0 < target < 1:
        raise ValueError(f"target must lie in (0, 1), got {target}")
    unknown = ~ratings["rater"].isin(raters["rater"])
    if unknown.any():
        raise DataError(f"panel_sizes: rater {ratings.loc[unknown, 'rater'].iloc[0]!r} is not in the raters table")
    r = ratings.dropna(subset=["score"]).merge(raters[["rater", "group"]], on="rater", how="left")
    if r["group"].isna().any():
        raise DataError(f"panel_sizes: rater {r.loc[r['group'].isna(), 'rater'].iloc[0]!r} has no group")
    n_ind = r["indicator"].nunique()
    rows, curves = [], []
    for group, sub in r.groupby("group", sort=True, observed=True):
        pooled_gs, n_used = _pooled_blocks(sub, n_ind)
        base = {"group": group, "n_raters": sub["rater"].nunique(), "n_raters_used": n_used}
        if pooled_gs is None:
            none = dict.fromkeys(["raters_per_unit", "g", "phi", "raters_needed_g", "raters_needed_phi"], np.nan)
            rows.append({**base, **none})
            continue
        per_unit = sub.groupby("unit")["rater"].nunique().mean()
        now = pooled_gs.d_study({"rater": max(int(round(per_unit)), 1)}, fixed=fixed)
        grid = pooled_gs.d_study_grid({"rater": list(range(1, max_raters + 1))}, fixed=fixed)
        curves.append(grid.assign(group=group)[["group", "rater", "g", "phi"]])
        need_g = grid.loc[grid["g"] >= target, "rater"]
        need_phi = grid.loc[grid["phi"] >= target, "rater"]
        row = {
            **base,
            "raters_per_unit": per_unit,
            "g": now["g"],
            "phi": now["phi"],
            "raters_needed_g": int(need_g.min()) if len(need_g) else np.nan,
            "raters_needed_phi": int(need_phi.min()) if len(need_phi) else np.nan,
        }
        for eff, v in zip(pooled_gs.components["effect"], pooled_gs.components["variance"]):
            row[f"var_{eff}"] = v
        rows.append(row)
    return PanelSizes(
        groups=pd.DataFrame(rows),
        curves=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["group", "rater", "g", "phi"]),
    )


def _pooled_blocks(sub: pd.DataFrame, n_ind: int) -> tuple[GStudy | None, int]:
    """One group's G-study: the components of its complete blocks (raters who scored the same units) pooled."""
    full = sub.groupby(["rater", "unit"], observed=True)["indicator"].nunique()
    complete = full[full == n_ind].reset_index()
    sets = complete.groupby("rater")["unit"].agg(lambda s: "\x1f".join(sorted(map(str, s))))
    comps, weights, n_used, panel, gs = [], [], 0, [], None
    for key, members in sets.groupby(sets.astype(object)):
        units = key.split("\x1f")
        rids = list(members.index)
        if len(rids) < 2 or len(units) < 2:
            continue
        block = sub[sub["rater"].isin(rids) & sub["unit"].isin(units)]
        gs = g_study(block, "score", "unit", ["rater", "indicator"])
        comps.append(gs.components.set_index("effect")["variance"])
        weights.append(len(units) * len(rids))
        n_used += len(rids)
        panel.append((len(rids), len(units)))
    if not comps:
        return None, n_used
    pooled = (pd.concat(comps, axis=1) * np.array(weights)).sum(axis=1) / sum(weights)
    pooled_gs = GStudy(  # every block has the same structure
        components=gs.components.assign(variance=pooled.reindex(gs.components["effect"]).to_numpy()),
        unit="unit",
        facets=("rater", "indicator"),
        nested={},
        sizes={
            "rater": int(round(np.average([p[0] for p in panel], weights=[p[1] for p in panel]))),
            "indicator": n_ind,
        },
        index=gs.index,
    )
    return pooled_gs, n_used
