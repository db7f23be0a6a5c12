"""Figures for the differentiated evaluation: a unit against its own baseline, slope charts, reasons for moves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import name_column, t, zone_names


def _measure_label(scheme, mid: str) -> str:
    try:
        m = scheme.measure(mid)
    except KeyError:
        return mid
    name = m.name_zh if t("zh", "en") == "zh" else m.name_en
    arrow = t("越高越好", "higher is better") if m.direction == "higher" else t("越低越好", "lower is better")
    return f"{name} ({m.unit}, {arrow})" if m.unit else f"{name} ({arrow})"


def history_vs_baseline(baseline: pd.DataFrame, history: pd.DataFrame, unit: str, scheme, title: str) -> plt.Figure:
    """Each measure of one unit: its values, its own baseline for each year, and its targets."""
    b = baseline[baseline["unit"] == unit]
    h = history[history["unit"] == unit]
    measures = list(dict.fromkeys(b["measure"]))
    if not measures:
        raise ValueError(f"unit {unit!r} has no history to draw")
    cols = min(3, len(measures))
    rows = int(np.ceil(len(measures) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, mid in zip(axes.ravel(), measures):
        bm, hm = b[b["measure"] == mid], h[h["measure"] == mid]
        ax.plot(bm["year"], bm["value"], marker="o", label=t("实际值", "achieved"))
        if bm["method"].iloc[0] != "zscore":
            ax.plot(bm["year"], bm["baseline"], linestyle="--", marker=".", label=t("自身基线", "own baseline"))
        if "target" in hm and hm["target"].notna().any():
            ax.scatter(hm["year"], hm["target"], marker="x", color="black", zorder=3, label=t("目标", "target"))
        ax.set_title(_measure_label(scheme, mid), fontsize="small")
        ax.set_xlabel(t("年份", "Year"))
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes.ravel()[len(measures):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def rank_slopes(scores: pd.DataFrame, scheme, kind: str, label_top: int | None = None) -> plt.Figure:
    """Slope chart: each unit's uniform rank (left) joined to its differentiated rank (right), coloured by zone."""
    s = scores[scores["kind"] == kind].copy()
    zones = zone_names(scheme)
    s["zone_label"] = s["zone"].map(zones).fillna(s["zone"])
    palette = dict(zip(s["zone_label"].unique(), sns.color_palette("deep", s["zone_label"].nunique())))
    fig, ax = plt.subplots(figsize=(9, max(4.5, 0.2 * len(s) + 2)))
    names = s[name_column()].astype(str)
    for (_, r), name in zip(s.iterrows(), names):
        color = palette[r["zone_label"]]
        ax.plot([0, 1], [r["rank_uniform"], r["rank_differentiated"]], color=color, alpha=0.8, marker="o")
        if label_top is None or abs(r["rank_change"]) >= label_top:
            ax.text(-0.04, r["rank_uniform"], name, ha="right", va="center", fontsize="x-small")
            ax.text(1.04, r["rank_differentiated"], name, ha="left", va="center", fontsize="x-small")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(max(s["rank_uniform"].max(), s["rank_differentiated"].max()) + 0.5, 0.5)
    ax.set_xticks([0, 1], [t("统一评价排名", "Uniform rank"), t("差异化评价排名", "Differentiated rank")])
    ax.set_ylabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.grid(False)
    handles = [plt.Line2D([0], [0], color=c, marker="o", label=z) for z, c in palette.items()]
    ax.legend(handles=handles, title=t("功能区 / 领域", "Zone"), fontsize="x-small", loc="upper left",
              bbox_to_anchor=(1.02, 1))
    kind_name = {"district": t("区政府", "District governments"), "department": t("市级部门", "Municipal departments")}[kind]
    ax.set_title(t(f"{kind_name}：统一评价与差异化评价的排名", f"{kind_name}: uniform against differentiated rank"))
    fig.tight_layout()
    return fig


def move_reasons(contributions: pd.DataFrame, movers: pd.DataFrame, scheme, n_items: int = 4) -> plt.Figure:
    """For each big mover, the items that moved it most: the change in their contribution against the kind's mean change."""
    labels = {i.id: (i.name_zh if t("zh", "en") == "zh" else i.name_en) for i in scheme.indicators}
    labels |= {m.id: (m.name_zh if t("zh", "en") == "zh" else m.name_en) for m in scheme.measures}
    rows = []
    for _, m in movers.iterrows():
        c = contributions[contributions["unit"] == m["unit"]]
        c = c.reindex(c["relative_delta"].abs().sort_values(ascending=False).index).head(n_items)
        for _, r in c.iterrows():
            rows.append({"unit": f"{m[name_column()]} ({int(m['rank_change']):+d})", "item": labels.get(r["item"], r["item"]),
                         "delta": r["relative_delta"]})
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(df) + 1.8))
    sns.barplot(data=df, y="unit", x="delta", hue="item", dodge=True, ax=ax, orient="h")
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlabel(t("贡献变化相对同类单位平均变化（分）", "Change in contribution against the kind's mean change (points)"))
    ax.set_ylabel(t("单位（名次变化）", "Unit (change in rank)"))
    ax.set_title(t("排名变化最大的单位：为什么？", "The biggest movers: why did they move?"))
    ax.legend(title="", fontsize="x-small", bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig
