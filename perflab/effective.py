"""Effective weights: how much each component and indicator actually moves the final score.

A nominal weight says how many points an item *could* add; what ranks the units is how much the item
*varies* across them. An item whose scores sit at a cap (54 % of 2016 attainment scores) adds nearly
the same points to every unit, so its nominal 40 % may decide almost nothing. Following Paruolo,
Saisana & Saltelli (2013, "Ratings and rankings: voodoo or science?", JRSS A 176(3)), two measures per
ranking group, beside the nominal weight:

* ``variance_share``: the item's contribution to the variance of the final score. The final score is a
  sum of item terms (:func:`perflab.scoring.contributions`), so Var(y) = Σ Cov(term_i, y) and the shares
  Cov(term_i, y) / Var(y) add up to one (a share can be negative when an item runs against the others).
  Under the arithmetic composite an indicator's term is its score times its effective weight; under the
  geometric composite (``composite: geometric``) the on-site score is split among the indicators by their
  shares of its logarithm (:func:`perflab.composite.parts`), an attribution that still adds up to the
  final score, so the variance shares still add up to one, but a term is no longer linear in the score.
* ``correlation_ratio``: Pearson's η² = Var(E[y | x_i]) / Var(y), the first-order sensitivity index the
  paper calls the item's main effect, with E[y | x_i] estimated by LOWESS (statsmodels, a local linear
  smoother over ``frac`` of the units). Unlike the variance share it is not additive: correlated items
  each get credit for what they share.

``sd_points`` is the standard deviation of the item's term across the units, in final-score points: the
spread it gives the ranking. These are not :func:`perflab.composite.effective_weights` (a unit's nominal
weights rescaled over the items it has).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.io import Dataset
from perflab.scheme import Scheme
from perflab.scoring import Scorer, contribution_items, contributions

COLUMNS = [
    "rank_group",
    "level",
    "item",
    "name_zh",
    "name_en",
    "units",
    "nominal",
    "variance_share",
    "correlation_ratio",
    "sd_points",
    "ratio",
]
COMPONENT_NAMES = {
    "onsite": ("现场考评", "On-site evaluation"),
    "routine": ("日常考核", "Routine assessment"),
    "satisfaction": ("满意度调查", "Satisfaction survey"),
}


def correlation_ratio(x: np.ndarray, y: np.ndarray, frac: float = 2 / 3) -> float:
    """η² = Var(E[y | x]) / Var(y), E[y | x] by LOWESS over ``frac`` of the points (Paruolo et al. 2013).

    0 when x or y does not vary; clipped to [0, 1] (a smoother can overshoot on few points).
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    vy = y.var()
    if (
        len(y) < 3
        or vy <= 1e-12 * max(1.0, float(np.abs(y).mean())) ** 2
        or np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max()))
    ):
        return 0.0
    fitted = lowess(y, x, frac=frac, it=0, return_sorted=False)
    return float(np.clip(np.var(fitted) / vy, 0.0, 1.0))


def variance_shares(terms: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cov(term_i, y) / Var(y) for each column of ``terms`` (rows: units); they add up to one when y = Σ terms.

    Parameters
    ----------
    terms : array (units × items)
        Each item's term of the score.
    y : array (units)
        The score; NaN shares when it does not vary.

    Returns
    -------
    numpy.ndarray
        One share per item.

    Examples
    --------
    >>> terms = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> variance_shares(terms, terms.sum(axis=1)).round(3).tolist()
    [0.75, 0.25]
    """
    yc = y - y.mean()
    vy = float(yc @ yc)
    if vy <= 0:
        return np.full(terms.shape[1], np.nan)
    return (terms - terms.mean(axis=0)).T @ yc / vy


def _rows(
    level: str, items: list[str], terms: np.ndarray, xs: np.ndarray, y: np.ndarray, nominal: np.ndarray, frac: float
) -> list[dict]:
    shares = variance_shares(terms, y)
    out = []
    for i, item in enumerate(items):
        out.append(
            {
                "level": level,
                "item": item,
                "units": len(y),
                "nominal": float(nominal[i]),
                "variance_share": float(shares[i]),
                "correlation_ratio": correlation_ratio(xs[:, i], y, frac),
                "sd_points": float(terms[:, i].std()),
            }
        )
    return out


def effective_weights(dataset: Dataset, scheme: Scheme, frac: float = 2 / 3) -> pd.DataFrame:
    """Nominal against effective weights of the components and indicators, per rank group.

    ``level = "component"``: on-site, routine and satisfaction over every ranked unit of the group (a
    written-report unit's on-site score is the imputed one). ``level = "indicator"``: each indicator's part of
    the on-site score, with routine and satisfaction beside them, over the units scored on site (a
    written-report unit has no indicator scores). Works under both composites (see the module's note on
    the geometric one).

    Parameters
    ----------
    dataset : Dataset
        The validated data.
    scheme : Scheme
        The scheme scoring it.
    frac : float
        The share of the units each LOWESS fit of the correlation ratio uses, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per rank group × level × item, columns :data:`COLUMNS`: ``nominal`` is the item's weight in
        the final score (component weight share; on-site share × indicator weight share), ``variance_share``,
        ``correlation_ratio``, ``sd_points`` and ``ratio`` = variance_share / nominal.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> ew = effective_weights(load_dataset("data/raw/demo", scheme), scheme)
    >>> ew.groupby(["rank_group", "level"], sort=False)["variance_share"].sum().round(6).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac!r}")
    a = Scorer(dataset).arrays(scheme)
    C = contributions(a, scheme)
    names = contribution_items(scheme)
    n_ind = len(scheme.indicator_ids)
    comp_w = pd.Series({c: float(w) for c, w in scheme.components.items() if w > 0})
    comp_w = comp_w / comp_w.sum()
    ind_w = scheme.weights.reindex(scheme.indicator_ids).astype(float)
    ind_w = ind_w / ind_w.sum()
    on_w = float(comp_w.get("onsite", 0.0))
    comps = [c for c in ("onsite", "routine", "satisfaction") if c in comp_w.index]
    col = {n: i for i, n in enumerate(names)}
    comp_vals = {c: a.components[:, a.component_names.index(c)] for c in comps}
    # the weighted score the items make up: bonus and deduction points (加分, 扣分) lie outside the weights
    weighted = a.final - (C[:, col["bonus_deduction"]] if "bonus_deduction" in col else 0.0)
    rows = []
    for g, group in enumerate(a.rank_groups):
        ranked = (a.rank_codes == g) & np.isfinite(a.final)
        if ranked.sum() < 3:
            continue
        y = weighted[ranked]
        # components: the on-site term is its indicators' parts plus the imputed on-site score
        terms = np.column_stack(
            [
                C[ranked][:, :n_ind].sum(axis=1) + C[ranked][:, col["onsite_imputed"]]
                if c == "onsite"
                else C[ranked][:, col[c]]
                for c in comps
            ]
        )
        xs = np.column_stack([comp_vals[c][ranked] for c in comps])
        block = _rows("component", comps, terms, xs, y, comp_w[comps].to_numpy(), frac)
        # indicators: over the units scored on site
        on = ranked & ~np.isnan(a.indicators).all(axis=1)
        if on.sum() >= 3 and on_w > 0:
            others = [c for c in comps if c != "onsite"]
            items = list(scheme.indicator_ids) + others
            terms = np.column_stack([C[on][:, :n_ind]] + [C[on][:, [col[c]]] for c in others])
            xs = np.column_stack([a.indicators[on]] + [comp_vals[c][on][:, None] for c in others])
            nominal = np.concatenate([on_w * ind_w.to_numpy(), comp_w[others].to_numpy()])
            block += _rows("indicator", items, terms, xs, weighted[on], nominal, frac)
        rows += [{"rank_group": group, **r} for r in block]
    return _named_table(
        pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("name_zh", "name_en", "ratio")]), scheme
    )


def _named_table(out: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """The items' names in both languages and the ratio of effective to nominal weight, columns as COLUMNS."""
    ind = scheme.indicator_table().set_index("indicator")
    zh = {**{c: v[0] for c, v in COMPONENT_NAMES.items()}, **ind["name_zh"].to_dict()}
    en = {**{c: v[1] for c, v in COMPONENT_NAMES.items()}, **ind["name_en"].to_dict()}
    out["name_zh"], out["name_en"] = out["item"].map(zh), out["item"].map(en)
    out["ratio"] = out["variance_share"] / out["nominal"].where(out["nominal"] > 0)
    return out[COLUMNS]


__all__ = ["effective_weights", "correlation_ratio", "variance_shares", "COLUMNS"]
