"""Figures of a tree-shaped scheme: its weights as an icicle, and each unit's profile across the first-level parts.

Drawn with matplotlib in the seaborn theme of :func:`perflab.plots.theme` (notebook 10 does not import seaborn).
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb

import perflab.tree as T
from perflab.plots import DEEP, kind_label, name_column, short_name, t


def _node_name(node) -> str:
    return node.name_zh if name_column() == "name_zh" else node.name_en


def _lighter(colour, depth: int) -> tuple:
    """The top-level part's colour, paler one step per level down."""
    mix = min(0.25 * (depth - 1), 0.75)
    return tuple(c + (1 - c) * mix for c in to_rgb(colour))


def scheme_icicle(scheme) -> plt.Figure:
    """The scheme's indicator tree as an icicle: one row per level, each node as wide as its share of the
    on-site score, labelled with its name and share.

    Parameters
    ----------
    scheme : Scheme
        A tree-shaped scheme (a flat one draws one row).

    Returns
    -------
    matplotlib.figure.Figure
        One rectangle per node; a leaf that ends above the deepest level is drawn down to it.

    Examples
    --------
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> fig = scheme_icicle(load_scheme("params/beijing_departments_sanxiao.yaml"))
    >>> len(fig.axes[0].patches)  # 4 first-level parts, 7 indicators under three of them (innovation is both)
    11
    >>> plt.close(fig)
    """
    share = T.effective_weights(scheme.tree, leaves_only=False)
    depth = max(n.depth for n in scheme.nodes)
    width_px, row_px = 1100, 130  # at the figures' 100 dpi: to wrap each label to its box
    fig, ax = plt.subplots(figsize=(width_px / 100, row_px / 100 * depth + 1.4))
    ax.grid(False)

    def label(n, across: float, along: float) -> str:
        """Name and share, wrapped to the box: ``across`` the text's lines, ``along`` them (pixels)."""
        per_line = max(4, int(along / (7 if name_column() == "name_en" else 13)))
        lines = textwrap.wrap(_node_name(n), per_line, break_long_words=True) + [f"{100 * share[n.id]:.0f}%"]
        return "\n".join(lines[: max(2, int(across / 16))])

    def draw(nodes, start: float, colour=None):
        for i, n in enumerate(nodes):
            c = colour if colour is not None else DEEP[i % len(DEEP)]
            width = share[n.id]
            height = (depth - n.depth + 1) if n.is_leaf else 1  # a leaf reaches the bottom row
            ax.add_patch(
                plt.Rectangle((start, n.depth - 1), width, height, facecolor=_lighter(c, n.depth), edgecolor="white")
            )
            narrow = width * width_px < 95
            box_w, box_h = width * width_px - 6, height * row_px - 10
            ax.text(
                start + width / 2,
                n.depth - 1 + height / 2,
                label(n, box_w, box_h) if narrow else label(n, box_h, box_w),
                ha="center",
                va="center",
                rotation=90 if narrow else 0,
                fontsize="small",
            )
            draw(n.children, start, c)
            start += width

    draw(scheme.tree, 0.0)
    ax.set_xlim(0, 1)
    ax.set_ylim(depth, 0)
    ax.set_yticks(np.arange(depth) + 0.5, [t(f"第{d + 1}级", f"Level {d + 1}") for d in range(depth)])
    ax.set_xticks(np.linspace(0, 1, 6), [f"{x:.0f}%" for x in np.linspace(0, 100, 6)])
    ax.set_xlabel(t("占现场得分的比重", "Share of the on-site score"))
    ax.set_title(t("指标体系及其权重", "The indicator tree and its weights"))
    fig.tight_layout()
    return fig


def pillar_profile(pillars: pd.DataFrame, scores: pd.DataFrame, scheme, kind: str) -> plt.Figure:
    """Each unit's rank in every first-level part of the tree (1 = best), beside its on-site rank (both among the
    units scored on site), units in on-site order: where a unit's standing comes from at a glance.

    Parameters
    ----------
    pillars : pandas.DataFrame
        :func:`perflab.pillars.pillar_scores`.
    scores : pandas.DataFrame
        :func:`perflab.scoring.score_units` (for the names and the on-site score).
    scheme : Scheme
        The scheme, for the parts' names.
    kind : str
        The ranking group to draw (``district``, ``department``, or ``all``).

    Returns
    -------
    matplotlib.figure.Figure
        A heat map, units × first-level parts, each cell the rank with the score beside it.

    Examples
    --------
    >>> from perflab import plots
    >>> from perflab.io import dataset_from_tables
    >>> from perflab.pillars import pillar_scores
    >>> from perflab.scheme import load_scheme
    >>> from perflab.scoring import score_units
    >>> from perflab.simulate import simulate
    >>> _ = plots.theme("en")
    >>> s = load_scheme("params/beijing_departments_sanxiao.yaml")
    >>> d = dataset_from_tables(simulate(s, seed=1).tables, s)
    >>> fig = pillar_profile(pillar_scores(d, s), score_units(d, s), s, "district")
    >>> [x.get_text() for x in fig.axes[0].get_xticklabels()][:2]
    ['On-site rank', 'Performance of\\nduties']
    >>> plt.close(fig)
    """
    top = [n for n in scheme.tree]
    sub = pillars[(pillars["rank_group"] == kind) & (pillars["depth"] == 1)]
    ranks = sub.pivot(index="unit", columns="node", values="rank").reindex(columns=[n.id for n in top])
    marks = sub.pivot(index="unit", columns="node", values="score").reindex(columns=[n.id for n in top])
    units = scores.set_index("unit").loc[ranks.index]
    onsite = units["onsite"].rank(ascending=False, method="min")  # among the units scored on site, as the parts
    units = units.assign(onsite_rank=onsite).sort_values(["onsite_rank", "rank"])
    ranks, marks = ranks.loc[units.index], marks.loc[units.index]
    grid = np.column_stack([units["onsite_rank"].to_numpy(float), ranks.to_numpy(float)])
    n = len(units)
    fig, ax = plt.subplots(figsize=(2.2 + 1.45 * (len(top) + 1) + 2.4, 0.3 * n + 1.9))
    ax.imshow(grid, cmap="RdYlGn_r", vmin=1, vmax=max(n, 2), aspect="auto")
    ax.grid(False)
    for i in range(n):
        for j in range(grid.shape[1]):
            if np.isnan(grid[i, j]):
                continue
            text = f"{grid[i, j]:.0f}" if j == 0 else f"{grid[i, j]:.0f} ({marks.iat[i, j - 1]:.1f})"
            frac = (grid[i, j] - 1) / max(n - 1, 1)  # the palette's dark ends: white text
            colour = "white" if frac < 0.12 or frac > 0.88 else "0.15"
            ax.text(j, i, text, ha="center", va="center", fontsize="small", color=colour)
    heads = [t("现场得分排名", "On-site rank")] + [_node_name(p) for p in top]
    ax.set_xticks(range(grid.shape[1]), [textwrap.fill(h, 14) for h in heads], fontsize="small")
    ax.xaxis.tick_top()
    ax.set_yticks(range(n), [f"{u} {short_name(v)}" for u, v in zip(units.index, units[name_column()])])
    ax.set_title(
        t(
            f"{kind_label(kind)}：各一级指标排名\n（1 = 最好，括号内为该项得分）",
            f"Rank of the {kind_label(kind)} in each first-level part\n(1 = best; the part's score in brackets)",
        ),
        pad=12,
    )
    fig.tight_layout()
    return fig
