"""Figures for a scenario sweep: a rank heat map (units × scenarios) and bump charts along a grid axis."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from perflab.plots import kind_label as _kind
from perflab.plots import name_column, t, zone_names

DPI = 100  # the figures' own dpi too, so text measured for the layout is reused when saving
MAX_ANNOTATED = 30  # scenarios up to which each cell of the heat map shows its rank


def short_label(name: str) -> str:
    """A scenario's label on an axis: ``grassroots.share=0.4`` for ``groups.grassroots.share=0.4``."""
    parts = []
    for part in name.split(","):
        path, sep, value = part.partition("=")
        parts.append(".".join(path.split(".")[-2:]) + sep + value if sep else part)
    return ", ".join(parts)


def unit_labels(units: pd.DataFrame) -> pd.Series:
    """``name (id)`` for each unit, in the figure language, indexed by unit id."""
    u = units.set_index("unit")
    return u[name_column()].astype(str) + " (" + u.index.astype(str) + ")"


def rank_heatmap(ranks: pd.DataFrame, scenarios: list[str], kind: str, rank_group: str | None = None) -> plt.Figure:
    """Units (rows, in base order) × scenarios (columns): colour = places gained (+) or lost (−) against base.

    With at most 30 scenarios the cells show ranks: every rank under base (the first column), and
    in the other columns the new rank wherever it differs from base (an empty cell: unchanged).
    Every unit is named on the left as ``name (id)``.
    """
    sub = ranks[ranks["kind"] == kind] if rank_group != "all" else ranks
    r = sub[scenarios].to_numpy(dtype=float, na_value=np.nan)
    order = np.lexsort((sub["unit"].to_numpy().astype(str), np.nan_to_num(r[:, 0], nan=np.inf)))
    sub, r = sub.iloc[order], r[order]
    move = r[:, [0]] - r  # base first: > 0 = moved up
    lim = max(1.0, float(np.nanmax(np.abs(move))) if np.isfinite(move).any() else 1.0)
    n_u, n_s = r.shape
    annotate = n_s <= MAX_ANNOTATED
    fig, ax = plt.subplots(figsize=(5.5 + 0.42 * n_s if annotate else 15.0, 2.2 + 0.24 * n_u), layout="constrained")
    im = ax.imshow(move, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto", interpolation="none")
    if annotate:  # the base column shows every rank, the others only a rank that differs from base
        for (i, j), v in np.ndenumerate(r):
            if not np.isnan(v) and (j == 0 or move[i, j] != 0):
                ax.text(
                    j,
                    i,
                    f"{int(v)}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    in_layout=False,  # inside the cells
                    color="white" if abs(move[i, j]) > 0.6 * lim else "black",
                )
        ax.set_xticks(np.arange(n_s + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(n_u + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=0.6)
        ax.tick_params(which="minor", length=0)
    ax.grid(which="major", visible=False)
    ax.set_yticks(np.arange(n_u), unit_labels(sub).reindex(sub["unit"]).to_numpy(), fontsize=8)
    step = max(1, int(np.ceil(n_s / 30)))  # at most 30 scenario labels (each tick costs matplotlib milliseconds)
    ticks = np.arange(0, n_s, step)
    ax.set_xticks(
        ticks, [short_label(scenarios[i]) for i in ticks], rotation=60, ha="right", rotation_mode="anchor", fontsize=8
    )
    ax.set_xlabel(t("方案", "Scenario"))
    fig.colorbar(
        im,
        ax=ax,
        shrink=0.5,
        label=t("相对基准方案的名次变化（+ = 上升）", "places gained (+) or lost (−) against base"),
    )
    title_kind = _kind(kind if rank_group != "all" else "all")
    ax.set_title(
        t(
            f"{title_kind}：相对基准方案的名次变化（颜色；数字为变化后的名次，空格为不变）",
            f"Ranks of the {title_kind}: the change against base (colour) and the new rank where it changes "
            "(blank: unchanged)",
        )
        if annotate
        else t(f"{title_kind}：各方案相对基准方案的名次变化", f"Change of rank against base ({title_kind})"),
        y=1.0,
        pad=8,
    )  # a fixed position: matplotlib's automatic one measures every tick label at each draw
    return fig


def grid_bump(
    path_ranks: pd.DataFrame,
    units: pd.DataFrame,
    scheme,
    kind: str,
    axis_label: str,
    breakpoints: list[float] | None = None,
    top_changes: list[float] | None = None,
    nominal: float | None = None,
    k: int = 3,
) -> plt.Figure:
    """Rank of every unit of a kind along one grid axis (x: the axis values), every unit named at both ends.

    ``path_ranks``: long table (unit, x, rank). Lines are coloured by zone; dotted vertical lines mark the
    exact breakpoints (from :func:`perflab.sensitivity.share_breakpoints`) inside the axis range and
    red dashed ones those at which the top k changes; a black line marks the base scheme's value.
    """
    u = units.set_index("unit")
    sub = path_ranks[path_ranks["unit"].map(u["kind"]) == kind] if kind != "all" else path_ranks
    sub = sub.dropna(subset=["rank"])
    n = sub["unit"].nunique()
    xs = np.sort(sub["x"].unique())
    zones = zone_names(scheme)
    zone_ids = [z for z in zones if z in set(u.loc[sub["unit"].unique(), "zone"])]
    palette = dict(zip(zone_ids, plt.get_cmap("tab10").colors))
    labels = unit_labels(units.reset_index() if "unit" not in units.columns else units)
    fig, ax = plt.subplots(figsize=(11, max(4.5, 0.24 * n + 2.6)))
    for unit, g in sub.groupby("unit", sort=True):
        g = g.sort_values("x")
        colour = palette.get(u.at[unit, "zone"], "0.5")
        ax.plot(g["x"], g["rank"], "-o" if xs.size <= 30 else "-", color=colour, lw=1.4, ms=3, zorder=3)
        ax.text(
            g["x"].iloc[-1],
            g["rank"].iloc[-1],
            "  " + labels.get(unit, unit),
            va="center",
            ha="left",
            fontsize=7,
            color=colour,
        )
    lo, hi = float(xs.min()), float(xs.max())
    for b in breakpoints or []:
        if lo < b < hi:
            ax.axvline(b, color="0.6", lw=0.6, ls=":", zorder=1)
    for b in top_changes or []:
        if lo < b < hi:
            ax.axvline(b, color="tab:red", lw=1.2, ls="--", zorder=1)
    if nominal is not None and lo <= nominal <= hi:
        ax.axvline(nominal, color="k", lw=1.0, zorder=1)
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - 0.02 * span, hi + 0.2 * span)  # room for the names at the right end
    ax.set_xticks(xs if xs.size <= 15 else np.linspace(lo, hi, 7))
    ax.grid(axis="y", visible=False)
    ax.set_ylim(n + 0.7, 0.3)
    ax.set_xlabel(axis_label)
    ax.set_ylabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.set_title(
        t(
            f"{_kind(kind)}：沿该参数的名次（虚线：名次交换点；红色：前{k}名变化；黑线：基准方案）",
            f"Ranks of the {_kind(kind)} along the grid\n(dotted: exact swap points; red dashed: the top {k} "
            "changes; black: the base scheme)",
        ),
        y=1.0,
        pad=8,
    )
    handles = [plt.Line2D([], [], color=palette[z], lw=2) for z in zone_ids]
    ax.legend(
        handles,
        [zones[z] for z in zone_ids],
        title=t("功能区 / 领域", "Zone"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        frameon=False,
    )  # beside the lines, never on them
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, directory: Path, stem: str) -> list[Path]:
    """Save a figure as PNG and SVG (deterministic bytes: fixed SVG ids, no date) and close it."""
    directory.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    if engine is not None:  # lay the figure out once, not again for each file
        engine.execute(fig)
        fig.set_layout_engine("none")
    out = []
    with plt.rc_context({"svg.hashsalt": "perflab", "svg.fonttype": "none"}):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = directory / f"{stem}.{ext}"
            fig.savefig(path, dpi=DPI, metadata=meta)
            out.append(path)
    plt.close(fig)
    return out
