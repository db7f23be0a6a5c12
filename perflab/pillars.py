"""Scores and ranks at every level of a tree-shaped scheme: each unit's score at every node (pillar scores).

A scheme's indicators may form a tree (三效一创: four first-level parts over eight indicators). The
on-site score combines the leaves by their effective weights; here each internal node gets its own score,
its children combined by their weights, and a rank among the units ranked together (``rank_group``), so a
methodologist can read a unit's profile across the first-level parts.

Only units scored on site have pillar scores (a unit evaluated on a written report has no indicator scores).
Where a unit lacks a leaf, a node rescales only that leaf's siblings, whereas the on-site score rescales all
the other leaves: the two then differ slightly (see :func:`perflab.tree.node_scores`).
"""

from __future__ import annotations

import pandas as pd

import perflab.tree as T
from perflab.io import Dataset
from perflab.ranking import rank_desc, rank_groups
from perflab.scheme import Scheme
from perflab.scoring import indicator_scores


def pillar_scores(dataset: Dataset, scheme: Scheme, indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each unit's score and rank at every node of the scheme's tree (long: one row per unit × node).

    Parameters
    ----------
    dataset : Dataset
        The validated tables.
    scheme : Scheme
        The scheme (a flat one gives its indicators, each a node of depth 1).
    indicators : pandas.DataFrame, optional
        Unit × leaf on-site scores, if already computed (:func:`perflab.scoring.indicator_scores`).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``kind``, ``rank_group``, ``node``, ``parent`` (empty at the top), ``depth``, ``leaf``,
        ``effective_weight`` (the node's share of the on-site score), ``score`` and ``rank`` (1 = best among
        the units of the same ``rank_group`` scored there), in the order of the nodes, then of the units.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> from perflab.simulate import simulate
    >>> from perflab.io import dataset_from_tables
    >>> s = load_scheme("params/beijing_departments_sanxiao.yaml")
    >>> p = pillar_scores(dataset_from_tables(simulate(s, seed=1).tables, s), s)
    >>> p[p["depth"] == 1]["node"].unique().tolist()
    ['duties', 'management', 'service_results', 'innovation']
    >>> m = p.query("node == 'management' and kind == 'department'")
    >>> int(m["rank"].max()) == len(m)  # the departments scored on site, ranked 1..n
    True
    """
    wide = indicator_scores(dataset, scheme) if indicators is None else indicators
    scores = T.node_scores(wide, scheme.tree, scheme.composite)
    units = dataset.units.set_index("unit").reindex(scores.index)
    groups = rank_groups(units.reset_index(), scheme)
    group = pd.Series(groups.to_numpy(), index=scores.index) if groups is not None else None
    table = scheme.node_table().set_index("node")
    parts = []
    for node in scores.columns:
        s = scores[node]
        parts.append(
            pd.DataFrame(
                {
                    "unit": scores.index,
                    "kind": units["kind"].to_numpy(),
                    "rank_group": group.to_numpy() if group is not None else "all",
                    "node": node,
                    "parent": table.at[node, "parent"],
                    "depth": int(table.at[node, "depth"]),
                    "leaf": bool(table.at[node, "leaf"]),
                    "effective_weight": float(table.at[node, "effective_weight"]),
                    "score": s.to_numpy(float),
                    "rank": rank_desc(s, group).to_numpy(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["rank"] = out["rank"].astype("Int64")
    return out


def pillar_columns(pillars: pd.DataFrame) -> pd.DataFrame:
    """Every node's score and rank as columns, one row per unit: ``score_<node>``, ``rank_<node>``, depth first.

    What ``perflab score`` adds to its table for a tree-shaped scheme (a flat scheme's table is unchanged: its
    nodes are its indicators).

    Parameters
    ----------
    pillars : pandas.DataFrame
        :func:`pillar_scores`.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit.

    Examples
    --------
    >>> p = pd.DataFrame({"unit": ["A", "B"] * 2, "node": ["x", "x", "y", "y"],
    ...                   "score": [80.0, 90.0, 70.0, 60.0], "rank": [2, 1, 1, 2]})
    >>> pillar_columns(p).reset_index().values.tolist()
    [['A', 80.0, 2, 70.0, 1], ['B', 90.0, 1, 60.0, 2]]
    """
    order = list(dict.fromkeys(pillars["node"]))
    score = pillars.pivot(index="unit", columns="node", values="score")
    rank = pillars.pivot(index="unit", columns="node", values="rank")
    cols = {}
    for node in order:
        cols[f"score_{node}"] = score[node]
        cols[f"rank_{node}"] = rank[node].astype("Int64")
    return pd.DataFrame(cols)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def pillar_gaps(pillars: pd.DataFrame, scores: pd.DataFrame, scheme: Scheme, name: str = "name_en") -> str:
    """A sentence per ranking group on the unit whose ranks across the first-level parts lie furthest apart.

    Parameters
    ----------
    pillars : pandas.DataFrame
        :func:`pillar_scores`.
    scores : pandas.DataFrame
        :func:`perflab.scoring.score_units` (for the units' names).
    scheme : Scheme
        The scheme (its parts' names).
    name : str
        ``name_en`` or ``name_zh``: the names to use.

    Returns
    -------
    str
        Markdown, one sentence per ranking group.

    Examples
    --------
    >>> from perflab.io import dataset_from_tables
    >>> from perflab.scheme import load_scheme
    >>> from perflab.scoring import score_units
    >>> from perflab.simulate import simulate
    >>> s = load_scheme("params/beijing_departments_sanxiao.yaml")
    >>> d = dataset_from_tables(simulate(s, seed=1).tables, s)
    >>> pillar_gaps(pillar_scores(d, s), score_units(d, s), s).split(":")[0]
    'Among the 16 district governments scored on site, the ranks across the first-level parts lie furthest apart for Fangshan District (D07)'
    """
    words = {"district": "district governments", "department": "municipal departments", "all": "units"}
    names = scores.set_index("unit")[name]
    parts = {n.id: (n.name_zh if name == "name_zh" else n.name_en) for n in scheme.tree}
    out = []
    for group, g in pillars[pillars["depth"] == 1].groupby("rank_group", sort=False):
        ranks = g.pivot(index="unit", columns="node", values="rank").astype(float).dropna()
        if ranks.empty or ranks.shape[1] < 2:
            continue
        spread = ranks.max(axis=1) - ranks.min(axis=1)
        unit = spread.idxmax()
        best, worst = ranks.loc[unit].idxmin(), ranks.loc[unit].idxmax()
        out.append(
            f"Among the {len(ranks)} {words.get(group, group)} scored on site, the ranks across the first-level "
            f"parts lie furthest apart for {names.get(unit, unit)} ({unit}): {_ordinal(int(ranks.at[unit, best]))} "
            f"in {parts[best]} but {_ordinal(int(ranks.at[unit, worst]))} in {parts[worst]}; "
            f"{int((spread >= len(ranks) / 2).sum())} of them have two parts at least half the field apart."
        )
    return " ".join(out)
