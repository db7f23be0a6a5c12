"""Indicator systems as trees: nodes with children, sibling-relative weights, leaves with effective weights.

A scheme's ``indicators:`` list is a tree: an indicator may hold ``children:`` (to any depth), the weights of
siblings are relative to each other, and the leaves are what is scored (by raters on the sheet; their ids are
the ``indicator`` values of ``ratings.csv``). A leaf's **effective weight** is the product of the normalised
weights on its path from the top level: with ``management`` weighing 15 of 100 and ``capacity_building`` 7 of
its parent's 15, ``capacity_building`` weighs 0.15 x 7/15 = 0.07 of the score. A flat list is a tree of depth
one, and its leaves keep the weights as given (used relative to their sum, as always).

The tree is flattened into its leaves, each with its effective weight, and scored like a flat scheme. That is
exact when every node combines its children as the scheme's ``composite`` does (arithmetic sums of sums are a
sum, geometric products of products a product), and as long as no leaf is missing: a unit without a leaf has
the other *leaves'* weights rescaled, not its siblings'. Nodes that combine otherwise are follow-up work (the
scheme refuses them with one message naming the node). :func:`node_scores` scores every node level by level
(a missing leaf rescaling its siblings): with every leaf scored, its top level combines to the flat score.

Key paths name a node by the ids on its path: ``indicators.management.children.capacity_building``; a flat
list keeps naming its items by position (``indicators[2]``), as its messages always have.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd

from perflab.composite import aggregate
from perflab.errors import SchemeError


@dataclass(frozen=True)
class Node:
    """One indicator of a scheme's tree; a node without children is a leaf (an indicator that is scored).

    ``weight`` is as given in the file, relative to the node's siblings; ``aggregation`` is how a node's
    children combine (``None``: as the scheme's ``composite``); ``path`` holds the ids from the top level down
    to this node, its own included.
    """

    id: str
    name_zh: str
    name_en: str
    weight: float
    aggregation: str | None = None
    children: tuple[Node, ...] = ()
    path: tuple[str, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def depth(self) -> int:
        """1 for a top-level node."""
        return len(self.path)

    @property
    def key(self) -> str:
        """The node's key path in the scheme file: ``indicators.management.children.capacity_building``."""
        return node_key(self.path)


def node_key(path: Sequence[str]) -> str:
    """The key path of the node with ids ``path``.

    Examples
    --------
    >>> node_key(("management", "capacity_building"))
    'indicators.management.children.capacity_building'
    """
    return "indicators." + ".children.".join(path)


def walk(nodes: Sequence[Node]) -> Iterator[Node]:
    """Every node, depth first, each before its children (the file's order)."""
    for n in nodes:
        yield n
        yield from walk(n.children)


def leaves(nodes: Sequence[Node]) -> list[Node]:
    """The leaves, depth first: the indicators that are scored, in the order of the scheme's ``indicators``."""
    return [n for n in walk(nodes) if n.is_leaf]


def is_flat(nodes: Sequence[Node]) -> bool:
    """True for a tree of depth one (a flat list of indicators)."""
    return all(n.is_leaf for n in nodes)


def effective_weights(nodes: Sequence[Node], leaves_only: bool = True) -> dict[str, float]:
    """Each leaf's effective weight: the product of the normalised sibling weights on its path (they sum to 1).

    Parameters
    ----------
    nodes : sequence of Node
        The top-level nodes (``Scheme.tree``).
    leaves_only : bool, default True
        False gives every node's share of the score (a node's is the sum of its leaves').

    Returns
    -------
    dict
        Node id -> effective weight, depth first.

    Examples
    --------
    >>> t = (
    ...     Node("management", "管理效能", "Management", 15.0, children=(
    ...         Node("law", "依法行政", "Law", 8.0, path=("management", "law")),
    ...         Node("capacity", "能力建设", "Capacity", 7.0, path=("management", "capacity")),
    ...     ), path=("management",)),
    ...     Node("innovation", "创新创优", "Innovation", 5.0, path=("innovation",)),
    ... )
    >>> {k: round(v, 6) for k, v in effective_weights(t).items()}
    {'law': 0.4, 'capacity': 0.35, 'innovation': 0.25}
    >>> round(effective_weights(t, leaves_only=False)["management"], 6)
    0.75
    """
    out: dict[str, float] = {}

    def down(siblings: Sequence[Node], above: float) -> None:
        total = sum(n.weight for n in siblings)
        for n in siblings:
            w = above * (n.weight / total)
            if n.is_leaf or not leaves_only:
                out[n.id] = w
            down(n.children, w)

    down(nodes, 1.0)
    return out


def find(nodes: Sequence[Node], where: str | Sequence[str]) -> Node:
    """The node named by its id (ids are unique at any depth), its key path or its path of ids.

    Examples
    --------
    >>> t = (Node("a", "a", "a", 1.0, children=(Node("b", "b", "b", 1.0, path=("a", "b")),), path=("a",)),)
    >>> find(t, "b").path == find(t, "indicators.a.children.b").path == find(t, ("a", "b")).path
    True
    >>> find(t, "c")
    Traceback (most recent call last):
    ...
    perflab.errors.SchemeError: unknown indicator 'c'; known: a, b
    """
    every = list(walk(nodes))
    if isinstance(where, str):
        for n in every:
            if n.id == where:
                return n
        path = parse_key(where)
    else:
        path = tuple(where)
    for n in every:
        if path and n.path == path:
            return n
    ids = [n.id for n in every]
    close = difflib.get_close_matches(str(where), ids, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(ids)}"
    raise SchemeError(f"unknown indicator {where if not isinstance(where, str) else repr(where)}{hint}")


def parse_key(key: str) -> tuple[str, ...]:
    """The path of ids in a key path ``indicators.<id>(.children.<id>)*``; ``()`` when it is not one."""
    segs = key.split(".")
    if len(segs) < 2 or segs[0] != "indicators" or len(segs) % 2 != 0:
        return ()
    if any(s != "children" for s in segs[2::2]):
        return ()
    return tuple(segs[1::2])


def with_weights(nodes: Sequence[Node], weights: dict[tuple[str, ...], float]) -> tuple[Node, ...]:
    """A copy of the tree with the nodes at the given paths weighing as given (their siblings keep theirs)."""

    def rebuild(siblings: Sequence[Node]) -> tuple[Node, ...]:
        return tuple(
            dataclasses.replace(n, weight=float(weights.get(n.path, n.weight)), children=rebuild(n.children))
            for n in siblings
        )

    return rebuild(nodes)


def check_weights(nodes: Sequence[Node], file=None) -> None:
    """Refuse a negative weight, or siblings whose weights are all zero, naming the node (or the sibling list)."""

    def check(siblings: Sequence[Node], key: str) -> None:
        for n in siblings:
            if n.weight < 0:
                raise SchemeError(f"negative weight {n.weight:g}", file=file, key=f"{n.key}.weight")
        if sum(n.weight for n in siblings) <= 0:
            raise SchemeError("all weights are zero; at least one must be positive", file=file, key=key)
        for n in siblings:
            if n.children:
                check(n.children, f"{n.key}.children")

    check(nodes, "indicators")


def flat_nodes(items) -> tuple[Node, ...]:
    """The depth-one tree of a flat list of indicators (objects with id, name_zh, name_en, weight)."""
    return tuple(Node(i.id, i.name_zh, i.name_en, float(i.weight), path=(i.id,)) for i in items)


def node_scores(leaf_scores: pd.DataFrame, nodes: Sequence[Node], composite: str = "arithmetic") -> pd.DataFrame:
    """Each unit's score at every node of the tree: a leaf's as given, a node's its children's combined by
    their weights (by its ``aggregation``, else ``composite``), a missing child dropping out with its siblings
    rescaled.

    With every leaf present, the top-level nodes combined by their weights give the flat on-site score
    (the leaves combined by their effective weights); where a leaf is missing the two differ, since the flat
    score rescales all the other leaves and this one only the leaf's siblings.

    Parameters
    ----------
    leaf_scores : pandas.DataFrame
        Units x leaf ids (e.g. :func:`perflab.scoring.indicator_scores`).
    nodes : sequence of Node
        The top-level nodes (``Scheme.tree``).
    composite : str
        The scheme's composite, for the nodes that name no aggregation.

    Returns
    -------
    pandas.DataFrame
        Units x every node id, depth first.

    Examples
    --------
    >>> t = (
    ...     Node("management", "管理效能", "Management", 15.0, children=(
    ...         Node("law", "依法行政", "Law", 8.0, path=("management", "law")),
    ...         Node("capacity", "能力建设", "Capacity", 7.0, path=("management", "capacity")),
    ...     ), path=("management",)),
    ...     Node("innovation", "创新创优", "Innovation", 5.0, path=("innovation",)),
    ... )
    >>> x = pd.DataFrame({"law": [80.0, 80.0], "capacity": [95.0, float("nan")], "innovation": [70.0, 70.0]})
    >>> node_scores(x, t).round(2).values.tolist()
    [[87.0, 80.0, 95.0, 70.0], [80.0, 80.0, nan, 70.0]]
    """
    out: dict[str, pd.Series] = {}

    def score(n: Node) -> pd.Series:
        if n.is_leaf:
            out[n.id] = leaf_scores[n.id].astype(float)
        else:
            kids = [score(c) for c in n.children]
            values = pd.concat(kids, axis=1).to_numpy(float)
            w = [c.weight for c in n.children]
            out[n.id] = pd.Series(aggregate(values, w, n.aggregation or composite), index=leaf_scores.index)
        return out[n.id].rename(n.id)

    for n in nodes:
        score(n)
    return pd.DataFrame({n.id: out[n.id] for n in walk(nodes)}, index=leaf_scores.index)
