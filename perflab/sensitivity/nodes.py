"""How sensitive are the ranks to any node of a tree-shaped scheme? Exact intervals, one at a time, Monte Carlo, Sobol.

A node's weight is relative to its siblings'. Moving it moves the leaves below it together and the leaves below
its siblings the other way: with the node's weight set to v and its siblings rescaled proportionally to keep
their total T (``siblings="rescaled"``, the convention of :func:`stability_intervals` for an indicator weight),
every leaf's effective weight is linear in v, and so is every score under the arithmetic composite; with the
siblings keeping their weights as given (``siblings="kept"``, as :meth:`perflab.scheme.Scheme.with_node_weight`)
the node's share is w / (w + R), R the siblings' sum, the effective weights are linear-fractional in w, and the
ranks change at the same shares: the exact intervals in v map one to one to those in w = v·R / (T − v).

The random and variance-based analyses draw the weights of a node's children (or of every sibling set, level by
level), map them to the leaves' effective weights (a leaf's is the product of the normalised weights on its
path) and run the indicator-level machinery on those leaf weights: :func:`monte_carlo`'s run and
:func:`sobol_indices`' model. On a flat scheme the first-level nodes are the indicators, and every function here
gives exactly the numbers of its indicator-level counterpart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import perflab.tree as T
from perflab.composite import require_linear
from perflab.errors import SchemeError
from perflab.ranking import factorize_groups, ranks_by_group
from perflab.sensitivity._checks import check_bounds, check_composite, check_k, check_n, check_number, check_scores
from perflab.sensitivity.intervals import StabilityResult, grade_edges, path_tables, stability_result
from perflab.sensitivity.montecarlo import LeafDraw, MonteCarloResult, _check_method, check_final_map, run_draws
from perflab.sensitivity.paths import LinearPath
from perflab.sensitivity.sobol import (
    CONF_LEVEL,
    SOBOL_ESTIMATOR,
    SOBOL_N,
    SOBOL_RESAMPLES,
    SobolResult,
    _index_tables,
    _rank_outputs,
    _sobol_inputs,
    saltelli_sample,
    sobol_confidence,
    sobol_estimates,
)
from perflab.sensitivity.weighting import composite_scores

SIBLINGS = ("rescaled", "kept")


def _tree(tree, composite) -> tuple[tuple[T.Node, ...], str]:
    """The top-level nodes and the composite, from a Scheme or its ``tree`` (and ``composite=``)."""
    nodes = getattr(tree, "tree", tree)
    if composite is None:
        composite = getattr(tree, "composite", "arithmetic")
    try:
        nodes = tuple(nodes)
    except TypeError:
        raise SchemeError(
            f"tree must be a Scheme or its tree (a sequence of Node), got {type(tree).__name__}"
        ) from None
    if not nodes or not all(isinstance(n, T.Node) for n in nodes):
        raise SchemeError("tree must be a Scheme or its tree (a non-empty sequence of Node)")
    return nodes, check_composite(composite)


def _columns(scores: pd.DataFrame, nodes) -> dict[str, int]:
    """Each leaf's column in the score table; the table's columns must be exactly the tree's leaves."""
    ids = [n.id for n in T.leaves(nodes)]
    missing = [i for i in ids if i not in scores.columns]
    extra = [c for c in scores.columns if c not in set(ids)]
    if missing or extra:
        raise SchemeError(f"scores do not match the leaves of the tree: missing {missing}, unknown {extra}")
    return {c: j for j, c in enumerate(scores.columns)}


def _leaf_base(nodes, cols: dict[str, int]) -> np.ndarray:
    """The nominal leaf weights in column order, normalised as the indicator-level functions normalise
    ``scheme.weights`` (a flat list: its weights as given; a tree: the effective weights)."""
    raw = {n.id: n.weight for n in nodes} if T.is_flat(nodes) else T.effective_weights(nodes)
    w = np.zeros(len(cols))
    for leaf, j in cols.items():
        w[j] = raw[leaf]
    return w / w.sum()


def _targets(nodes, which) -> list[T.Node]:
    """The nodes named (ids, key paths or paths of ids), or every node depth first."""
    if which is None:
        return list(T.walk(nodes))
    if isinstance(which, (str, tuple)):
        which = [which]
    return [T.find(nodes, w) for w in which]


def _require_linear_path(nodes, node: T.Node, composite: str, what: str) -> None:
    """Refuse a node whose weight is combined non-linearly: the composite, or a node above it aggregating otherwise."""
    require_linear(composite, what)
    for d in range(1, node.depth):
        require_linear(T.find(nodes, node.path[:d]).aggregation or composite, what)


def _siblings(nodes, node: T.Node) -> tuple[tuple[T.Node, ...], float]:
    """The node's sibling set (itself included) and its parent's share of the score (1 at the top level)."""
    if node.depth == 1:
        return tuple(nodes), 1.0
    parent = T.find(nodes, node.path[:-1])
    return parent.children, T.effective_weights(nodes, leaves_only=False)[parent.id]


def _within(node: T.Node) -> dict[str, float]:
    """Each leaf below a node and its share of the node (1 for a leaf)."""
    return {node.id: 1.0} if node.is_leaf else T.effective_weights(node.children)


@dataclass(frozen=True)
class _Move:
    """One node's weight v moving, its siblings rescaled to keep their total; leaf weights linear in v.

    A leaf's weight (summing to ``total`` over the leaves) is, below the node, v times its share of the node; below a
    sibling, its nominal times (total − v) / rest; elsewhere its nominal, the parent's share of the score scaling
    the first two. On a flat scheme this is exactly :func:`moved_weights`."""

    node: T.Node
    w0: float
    total: float
    rest: float
    parent_share: float
    raw: np.ndarray  # leaves below the sibling set: the sibling's weight times the leaf's share of it
    mine: np.ndarray  # columns of the leaves below the node
    share: np.ndarray  # their shares of the node
    fixed: np.ndarray  # the effective weights of the leaves outside the sibling set

    def leaf_weights(self, v) -> np.ndarray:
        v = np.atleast_1d(np.asarray(v, dtype=float))
        out = self.raw[None, :] * ((self.total - v) / self.rest)[:, None]
        out[:, self.mine] = v[:, None] * self.share[None, :]
        return self.fixed * self.total + self.parent_share * out

    def weight_kept(self, v) -> np.ndarray:
        """The node's weight with its siblings kept as given that gives the same share as v with them rescaled."""
        v = np.asarray(v, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(v >= self.total, np.inf, v * self.rest / (self.total - v))
        return np.where(v == self.w0, self.w0, w)


def _move(nodes, node: T.Node, cols: dict[str, int]) -> _Move:
    sibs, parent_share = _siblings(nodes, node)
    total = np.asarray([s.weight for s in sibs], dtype=float).sum()
    raw = np.zeros(len(cols))
    inside = set()
    for s in sibs:
        for leaf, q in _within(s).items():
            raw[cols[leaf]] = s.weight * q
            inside.add(leaf)
    mine = _within(node)
    eff = T.effective_weights(nodes)
    fixed = np.array([0.0 if leaf in inside else eff[leaf] for leaf in cols])
    return _Move(
        node,
        float(node.weight),
        float(total),
        float(total - node.weight),
        float(parent_share),
        raw,
        np.array([cols[leaf] for leaf in mine], dtype=int),
        np.array(list(mine.values()), dtype=float),
        fixed,
    )


def _check_siblings(siblings) -> str:
    if siblings not in SIBLINGS:
        raise ValueError(f"siblings must be one of {', '.join(SIBLINGS)}, got {siblings!r}")
    return siblings


def _moves(nodes, which, cols, what: str, composite: str | None = None) -> list[_Move]:
    """The moves of the nodes named that have a sibling weight to rescale; one error if none has."""
    targets = _targets(nodes, which)
    if composite is not None:
        for n in targets:
            _require_linear_path(nodes, n, composite, what)
    moves = [_move(nodes, n, cols) for n in targets]
    movable = [m for m in moves if m.rest > 0]
    if not movable:
        raise SchemeError(
            f"{what} need a node whose siblings have positive weight to rescale: "
            f"{', '.join(n.key for n in targets)} carr{'ies' if len(targets) == 1 else 'y'} all the weight of "
            f"{'its' if len(targets) == 1 else 'their'} sibling set"
        )
    return movable


def node_stability_intervals(
    scores: pd.DataFrame,
    tree,
    nodes: Sequence | str | None = None,
    k: int = 3,
    bands: Sequence | None = None,
    rank_group=None,
    composite: str | None = None,
    siblings: str = "rescaled",
) -> StabilityResult:
    """Exact intervals of any node's weight over which each unit's rank, the top-k set and grade bands hold.

    The node's weight moves with its siblings rescaled to keep their total; every leaf's effective weight, and
    under the arithmetic composite every score, is then linear in it, so all rank swaps are computed in closed
    form (as :func:`stability_intervals` does for an indicator weight, which this gives exactly on a flat scheme).

    Parameters
    ----------
    scores
        Unit × indicator (leaf) scores, e.g. :func:`unit_indicator_scores`.
    tree
        The scheme (its ``tree`` and ``composite``) or its ``tree``.
    nodes
        The nodes whose weight moves: ids, key paths (``indicators.management.children.capacity_building``) or
        paths of ids; default every node (those without a sibling weight to rescale are left out).
    k, bands, rank_group
        As :func:`stability_intervals`.
    composite
        The composite (default: the scheme's, else arithmetic); a non-linear one, or a node above the moving
        one aggregating non-linearly, is refused (:class:`perflab.composite.NonLinearComposite`).
    siblings
        ``"rescaled"``: weights are the node's with its siblings rescaled to keep their total (from 0 to that
        total); ``"kept"``: the node's with its siblings as given (:meth:`Scheme.with_node_weight`; from 0 up,
        ``inf`` where nothing changes however large it gets). The same shares, the same events.

    Returns
    -------
    StabilityResult
        As :func:`stability_intervals`, the ``indicator`` column naming the node (ids are unique at any depth),
        weights as in the scheme file.

    Examples
    --------
    >>> from perflab.tree import Node
    >>> tree = (
    ...     Node("m", "", "", 2.0, children=(Node("a", "", "", 1.0, path=("m", "a")),
    ...                                      Node("b", "", "", 1.0, path=("m", "b"))), path=("m",)),
    ...     Node("c", "", "", 2.0, path=("c",)),
    ... )
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0], "c": [70.0, 60.0, 80.0]},
    ...                       index=["X", "Y", "Z"])
    >>> stab = node_stability_intervals(scores, tree, nodes="m", k=1)
    >>> stab.units[["unit", "rank", "weight_low", "weight_high"]].round(3)
      unit  rank  weight_low  weight_high
    0    X     2         0.0        2.857
    1    Y     3         0.0        3.019
    2    Z     1         0.0        2.857
    """
    tops, composite = _tree(tree, composite)
    siblings = _check_siblings(siblings)
    what = "exact stability intervals"
    require_linear(composite, what)
    scores = check_scores(scores)
    cols = _columns(scores, tops)
    k = check_k(k)
    codes, labels = factorize_groups(rank_group, scores.index)
    S = scores.to_numpy(float)
    edges, grades = grade_edges(bands)
    tables = []
    for mv in _moves(tops, nodes, cols, what, composite):
        a = S @ mv.leaf_weights(0.0)[0] / mv.total
        b = S @ mv.leaf_weights(mv.total)[0] / mv.total
        path = LinearPath(a, b, 0.0, mv.total, 0.0, mv.total, codes, len(labels))
        units, top, swaps = path_tables(path, mv.w0, mv.node.id, k, edges, grades, scores.index, labels)
        if siblings == "kept":
            units, top, swaps = (_kept(t, mv) for t in (units, top, swaps))
        tables.append((units, top, swaps))
    settings = {"k": k, "siblings": siblings, "weights": {n.id: n.weight for n in T.walk(tops)}}
    return stability_result(tables, settings)


def _kept(table: pd.DataFrame, mv: _Move) -> pd.DataFrame:
    """A table's weights (rescaled siblings) as the node's weight with its siblings kept as given."""
    out = table.copy()
    for c in ("weight_low", "weight_high", "grade_weight_low", "grade_weight_high", "t"):
        if c in out.columns:
            out[c] = mv.weight_kept(out[c].to_numpy(float))
    return out


def node_one_at_a_time(
    scores: pd.DataFrame,
    tree,
    step: float = 0.2,
    nodes: Sequence | str | None = None,
    rank_group=None,
    composite: str | None = None,
    final_map: pd.DataFrame | None = None,
    siblings: str = "rescaled",
) -> pd.DataFrame:
    """Each node's weight moved by −step and +step of its own value, its siblings rescaled (or kept): the ranks.

    Parameters
    ----------
    scores
        Unit × indicator (leaf) scores.
    tree
        The scheme or its ``tree``.
    step
        The relative change (0.2: ±20 % of each node's weight); a node of weight 0, or without a sibling
        weight to rescale, is left out.
    nodes
        The nodes moved (ids, key paths or paths of ids); default every node.
    rank_group, final_map
        As :func:`one_at_a_time` (any composite: the ranks are evaluated at the moved weights).
    composite
        Default: the scheme's, else arithmetic.
    siblings
        ``"rescaled"`` (to keep their total; the moved weight at most that total) or ``"kept"`` (as given).

    Returns
    -------
    pandas.DataFrame
        As :func:`one_at_a_time` (indicator names the node): indicator, change, nominal_weight, weight, unit,
        rank_group, nominal_rank, rank, rank_change; on a flat scheme exactly its table.

    Examples
    --------
    >>> from perflab.tree import Node
    >>> tree = (
    ...     Node("m", "", "", 2.0, children=(Node("a", "", "", 1.0, path=("m", "a")),
    ...                                      Node("b", "", "", 1.0, path=("m", "b"))), path=("m",)),
    ...     Node("c", "", "", 2.0, path=("c",)),
    ... )
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0], "c": [70.0, 60.0, 80.0]},
    ...                       index=["X", "Y", "Z"])
    >>> oat = node_one_at_a_time(scores, tree, step=0.5, nodes="m")
    >>> oat[oat["rank_change"] != 0][["indicator", "change", "weight", "unit", "rank"]]
      indicator  change  weight unit  rank
    3         m     0.5     3.0    X     1
    5         m     0.5     3.0    Z     2
    """
    tops, composite = _tree(tree, composite)
    siblings = _check_siblings(siblings)
    scores = check_scores(scores)
    cols = _columns(scores, tops)
    step = check_number(step, "step", "a relative change in (0, 1] (0.2 = ±20 % of each weight)")
    if not 0 < step <= 1:
        raise ValueError(f"step must be a relative change in (0, 1] (0.2 = ±20 % of each weight), got {step!r}")
    codes, labels = factorize_groups(rank_group, scores.index)
    fmap = check_final_map(final_map, scores.index)
    S = scores.to_numpy(float)
    base = _leaf_base(tops, cols)
    nominal = ranks_by_group(composite_scores(base[None, :], S, composite, fmap), codes, len(labels))[0]
    rows = []
    for mv in _moves(tops, nodes, cols, "one-at-a-time weights"):
        if mv.w0 <= 0:
            continue
        for sign in (-1.0, 1.0):
            if siblings == "rescaled":
                value = v = float(min(mv.w0 * (1.0 + sign * step), mv.total))
            else:
                value = mv.w0 * (1.0 + sign * step)
                v = mv.total * value / (value + mv.rest)
            L = mv.leaf_weights(v)[0]
            r = ranks_by_group(composite_scores((L / L.sum())[None, :], S, composite, fmap), codes, len(labels))[0]
            rows.append(
                pd.DataFrame(
                    {
                        "indicator": mv.node.id,
                        "change": sign * step,
                        "nominal_weight": mv.w0,
                        "weight": value,
                        "unit": scores.index,
                        "rank_group": np.array(labels, dtype=object)[codes],
                        "nominal_rank": nominal,
                        "rank": r,
                        "rank_change": r - nominal,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class _SiblingSets:
    """The tree's sibling sets, parents before children: normalised node weights (runs × nodes of a set) to the
    leaves' effective weights (runs × score columns), a leaf's the product of the shares on its path."""

    sets: tuple  # (parent's node index or None, the children's node indices, their nominal normalised weights)
    columns: np.ndarray  # the node index of each score column
    n_nodes: int

    def leaves(self, c: int, drawn: dict[int, np.ndarray]) -> np.ndarray:
        Z = np.empty((c, self.n_nodes))
        for i, (parent, kids, base) in enumerate(self.sets):
            W = drawn[i] if i in drawn else base[None, :]
            above = 1.0 if parent is None else Z[:, parent : parent + 1]
            Z[:, kids] = above * W
        return Z[:, self.columns]


def _sibling_sets(tops, cols: dict[str, int]) -> tuple[_SiblingSets, dict[str, int]]:
    """The sibling sets of the tree, and the index of each set by its parent's id ("" for the top level)."""
    every = list(T.walk(tops))
    at = {n.id: i for i, n in enumerate(every)}
    parents = [("", None, tops)] + [(n.id, at[n.id], n.children) for n in every if n.children]
    sets, index = [], {}
    for name, p, kids in parents:
        w = np.asarray([c.weight for c in kids], dtype=float)
        index[name] = len(sets)
        sets.append((p, np.array([at[c.id] for c in kids]), w / w.sum()))
    columns = np.empty(len(cols), dtype=int)
    for leaf, j in cols.items():
        columns[j] = at[leaf]
    return _SiblingSets(tuple(sets), columns, len(every)), index


def _parent(tops, node) -> tuple[str, tuple[T.Node, ...], str]:
    """The id ("" for the top level), children and key path of the node whose children's weights are drawn."""
    if node is None:
        return "", tuple(tops), "indicators"
    n = T.find(tops, node)
    if n.is_leaf:
        raise SchemeError(f"{n.key} is a leaf: it has no children whose weights could be drawn")
    return n.id, n.children, n.key


@dataclass(frozen=True)
class NodeDraw:
    """Draws of node weights as leaf weights: each drawn sibling set by its :class:`LeafDraw`, the others nominal.

    ``base``: the nominal leaf weights; ``fixed``: every drawn set is without spread."""

    sets: _SiblingSets
    drawn: tuple  # (set index, LeafDraw of its children's weights), parents first
    base: np.ndarray

    def __call__(self, rng: np.random.Generator, c: int) -> np.ndarray:
        return self.sets.leaves(c, {i: d(rng, c) for i, d in self.drawn})

    @property
    def fixed(self) -> bool:
        return all(d.fixed for _, d in self.drawn)


def node_monte_carlo(
    scores: pd.DataFrame,
    tree,
    node: str | None = None,
    all_levels: bool = False,
    n: int = 10_000,
    method: str = "uniform",
    spread: float = 0.2,
    seed=0,
    rank_group=None,
    k: int = 3,
    concentration: float | None = None,
    bounds: pd.DataFrame | None = None,
    composite: str | None = None,
    final_map: pd.DataFrame | None = None,
    **run,
) -> MonteCarloResult:
    """Rank distributions under random weights of a node's children, or of every sibling set level by level.

    The children's weights are drawn as :func:`monte_carlo` draws indicator weights (uniform ±spread then
    renormalised, Dirichlet centred on them, or uniform on their simplex within ``bounds``), the rest of the
    tree keeping its shares; each draw's leaf weights (products of the normalised weights on each path) are
    scored and ranked by :func:`monte_carlo`'s own run. On a flat scheme, the first-level nodes' draws are
    exactly :func:`monte_carlo`'s (same seed, same numbers).

    Parameters
    ----------
    scores
        Unit × indicator (leaf) scores.
    tree
        The scheme or its ``tree``.
    node
        The node whose children's weights are drawn (id, key path or path of ids); None: the first-level nodes.
    all_levels
        True: every sibling set of the tree is drawn (each the same way, independently), parents first.
    n, method, spread, seed, rank_group, k, concentration, final_map
        As :func:`monte_carlo`; ``concentration`` (Dirichlet) applies to every set drawn; ``bounds`` on the
        normalised weights of ``node``'s children (:func:`bounds_around` of their weights), not with all_levels.
    composite
        Default: the scheme's, else arithmetic.
    **run
        score_draws, tau_draws, workers, progress, written_report: as :func:`monte_carlo`.

    Returns
    -------
    MonteCarloResult
        As :func:`monte_carlo` (``central_weights`` in leaf weights); ``settings`` name the ``node`` and
        ``all_levels``.

    Examples
    --------
    >>> from perflab.tree import Node
    >>> tree = (
    ...     Node("m", "", "", 2.0, children=(Node("a", "", "", 1.0, path=("m", "a")),
    ...                                      Node("b", "", "", 1.0, path=("m", "b"))), path=("m",)),
    ...     Node("c", "", "", 2.0, path=("c",)),
    ... )
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0], "c": [70.0, 60.0, 80.0]},
    ...                       index=["X", "Y", "Z"])
    >>> mc = node_monte_carlo(scores, tree, node="m", n=200, spread=0.5, seed=1, k=1)
    >>> mc.units[["unit", "nominal_rank", "rank_p05", "rank_p95"]]
      unit  nominal_rank  rank_p05  rank_p95
    0    X             2         1         2
    1    Y             3         3         3
    2    Z             1         1         1
    """
    tops, composite = _tree(tree, composite)
    scores = check_scores(scores)
    cols = _columns(scores, tops)
    n, k = check_n(n), check_k(k)
    sets, index = _sibling_sets(tops, cols)
    pid, kids, key = _parent(tops, node)
    if all_levels and node is not None:
        raise ValueError("all_levels draws every sibling set of the tree: give no node with it")
    if bounds is not None and all_levels:
        raise ValueError("bounds apply to the children of one node, not with all_levels")
    chosen = [i for i, s in enumerate(sets.sets) if len(s[1]) > 1] if all_levels else [index[pid]]
    drawn = []
    for i in chosen:
        base = sets.sets[i][2]
        sp, conc = _check_method(base, method, spread, concentration, bounds)
        b = check_bounds(bounds, pd.Index([c.id for c in kids])) if bounds is not None else None
        drawn.append((i, LeafDraw(base, method, sp, conc, b)))
    if not drawn:
        raise SchemeError("the tree has no sibling set of two or more nodes whose weights could be drawn")
    unknown = set(run) - {"score_draws", "tau_draws", "workers", "progress", "written_report"}
    if unknown:
        raise TypeError(f"node_monte_carlo got an unexpected argument {sorted(unknown)[0]!r}")
    if run.get("tau_draws") is not None:
        check_n(run["tau_draws"], "tau_draws")
    draw = NodeDraw(sets, tuple(drawn), _leaf_base(tops, cols))
    recorded = {"method": method, "spread": float(drawn[0][1].spread), "concentration": concentration}
    res = run_draws(
        scores,
        draw,
        n,
        seed,
        rank_group,
        k,
        run.get("score_draws"),
        run.get("tau_draws", 20_000),
        run.get("workers"),
        run.get("progress", False),
        run.get("written_report"),
        composite,
        final_map,
        recorded,
    )
    where = "every sibling set" if all_levels else key
    return dataclasses.replace(res, settings={**res.settings, "node": where, "all_levels": bool(all_levels)})


def node_sobol_indices(
    scores: pd.DataFrame,
    tree,
    node: str | None = None,
    n: int = SOBOL_N,
    spread: float = 0.2,
    seed=0,
    rank_group=None,
    num_resamples: int = SOBOL_RESAMPLES,
    conf_level: float = CONF_LEVEL,
    composite: str | None = None,
    final_map: pd.DataFrame | None = None,
) -> SobolResult:
    """Sobol indices of the weights of a node's children (default: the first-level nodes) on the ranks.

    Each child's weight moves by a factor uniform in [1 − spread, 1 + spread], the children renormalised and the
    rest of the tree keeping its shares; the leaf weights are scored and ranked by :func:`sobol_indices`' model
    and estimators, so on a flat scheme the first-level nodes give exactly its indices (same seed).

    Parameters
    ----------
    scores
        Unit × indicator (leaf) scores.
    tree
        The scheme or its ``tree``.
    node
        The node whose children's weights are the inputs (id, key path or path of ids); None: the first level.
    n, spread, seed, rank_group, num_resamples, conf_level, final_map
        As :func:`sobol_indices`.
    composite
        Default: the scheme's, else arithmetic.

    Returns
    -------
    SobolResult
        As :func:`sobol_indices`, ``input`` naming the child node; ``settings`` name the ``node``.

    Examples
    --------
    >>> from perflab.tree import Node
    >>> tree = (
    ...     Node("m", "", "", 2.0, children=(Node("a", "", "", 1.0, path=("m", "a")),
    ...                                      Node("b", "", "", 1.0, path=("m", "b"))), path=("m",)),
    ...     Node("c", "", "", 2.0, path=("c",)),
    ... )
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0], "c": [70.0, 60.0, 80.0]},
    ...                       index=["X", "Y", "Z"])
    >>> res = node_sobol_indices(scores, tree, n=64, spread=0.5, seed=1, num_resamples=10)
    >>> res.summary()["input"].tolist()
    ['m', 'c']
    """
    tops, composite = _tree(tree, composite)
    n = check_n(n)
    n = 1 << (n - 1).bit_length()
    spread = check_number(spread, "spread", "a number in (0, 1]")
    if not 0 < spread <= 1:
        raise ValueError(f"spread must be a number in (0, 1], got {spread!r}")
    scores = check_scores(scores)
    cols = _columns(scores, tops)
    sets, index = _sibling_sets(tops, cols)
    pid, kids, key = _parent(tops, node)
    i = index[pid]
    codes, labels = factorize_groups(rank_group, scores.index)
    fmap = check_final_map(final_map, scores.index)
    w = np.asarray([c.weight for c in kids], dtype=float)
    base = w / w.sum()
    D = len(kids)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**32))  # recorded below: a rerun with this int gives the same indices
    X = saltelli_sample(D, n, seed=seed)
    leaf_map = lambda W: sets.leaves(W.shape[0], {i: W})  # noqa: E731
    Y = _rank_outputs(X, base, spread, scores.to_numpy(float), None, codes, len(labels), composite, fmap, leaf_map)
    S1, ST = sobol_estimates(Y, D)
    conf = sobol_confidence(Y, D, num_resamples, conf_level, seed=seed)
    ids = [c.id for c in kids]
    idx, inter = _index_tables(scores.index, labels, codes, ids, S1, ST, conf)
    settings = {
        "n": n,
        "runs": int(X.shape[0]),
        "spread": spread,
        "seed": seed,
        "node": key,
        "num_resamples": num_resamples,
        "conf_level": conf_level,
        "estimator": SOBOL_ESTIMATOR,
        "rank_groups": list(labels),
        "composite": composite,
    }
    return SobolResult(idx, _sobol_inputs(ids, w, spread, None, None, None, None), inter, settings)
