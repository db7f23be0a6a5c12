"""Figures for the sensitivity notebooks: rank intervals, Sobol bars, weight-stability ranges, share bump charts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import KIND_LABEL, kind_label, t  # noqa: F401  (KIND_LABEL: kept importable from here)

_kind = kind_label


def rank_intervals(units: pd.DataFrame, names: pd.Series, kind: str, other: pd.DataFrame | None = None,
                   labels: tuple[str, str] | None = None) -> plt.Figure:
    """Each unit's 5–95 % rank interval and median rank (best first), with its nominal rank marked.

    ``units``: ``MonteCarloResult.units`` (or ``summary()``); ``other``: a second result drawn beside
    it (e.g. with the raters resampled too); ``labels`` name the two.
    """
    sub = units[units["rank_group"] == kind].sort_values(["nominal_rank", "unit"]).reset_index(drop=True)
    n = len(sub)
    fig, ax = plt.subplots(figsize=(8, 0.26 * n + 1.8))
    y = np.arange(n)
    first, second = labels or (t("权重不确定", "weights uncertain"), t("权重与评委不确定", "weights and raters uncertain"))
    sets = [(sub, 0.0, "tab:blue", first)]
    if other is not None:
        o = other.set_index("unit").reindex(sub["unit"]).reset_index()
        sets = [(sub, -0.17, "tab:blue", first), (o, 0.17, "tab:orange", second)]
    for df, off, colour, label in sets:
        ax.hlines(y + off, df["rank_p05"], df["rank_p95"], color=colour, lw=3, alpha=0.75, label=f"{label}: 5–95 %")
        ax.plot(df["median_rank"], y + off, "o", color=colour, ms=4)
    ax.plot(sub["nominal_rank"], y, "k|", ms=10, mew=2, label=t("现行权重下的名次", "rank under the scheme's weights"))
    ax.set_yticks(y, names.reindex(sub["unit"]).fillna(sub["unit"]).astype(str).to_numpy(), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0.5, max(n, int(sub["rank_p95"].max())) + 0.5)
    ax.set_xlabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.set_ylabel("")
    ax.set_title(t(f"{_kind(kind)}：权重变化时名次的可能范围", f"How far can each rank move? ({_kind(kind)})"))
    ax.legend(loc="lower left", fontsize="small", frameon=True)
    fig.tight_layout()
    return fig


def sobol_bars(indices: pd.DataFrame, labels: dict[str, str] | None = None) -> plt.Figure:
    """First-order and total Sobol indices of each input on the mean absolute rank shift."""
    shift = indices[indices["output"] == "mean_abs_shift"].copy()
    shift["label"] = shift["input"].map(labels or {}).fillna(shift["input"])
    shift = shift.sort_values("ST", ascending=False)
    long = shift.melt(id_vars="label", value_vars=["S1", "ST"], var_name="index", value_name="value")
    long["index"] = long["index"].map({"S1": t("一阶（单独作用）", "first order (alone)"),
                                       "ST": t("总效应（含交互）", "total (with interactions)")})
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shift) + 1.8))
    sns.barplot(data=long, x="value", y="label", hue="index", orient="h", ax=ax)
    ax.set_xlabel(t("Sobol 指数（名次平均变动的方差占比）", "Sobol index (share of the variance of the mean rank shift)"))
    ax.set_ylabel("")
    ax.set_title(t("哪个权重最能改变排名？", "Which weight moves the ranking most?"))
    ax.legend(title="", loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def weight_ranges(top_k: pd.DataFrame, kind: str, labels: dict[str, str] | None = None,
                  total: float | None = None) -> plt.Figure:
    """For each indicator, the exact range of its weight over which the top-k set of a kind stays the same."""
    sub = top_k[top_k["rank_group"] == kind].copy()
    sub["label"] = sub["indicator"].map(labels or {}).fillna(sub["indicator"])
    k = int(sub["k"].iloc[0])
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(sub) + 1.8))
    y = np.arange(len(sub))
    ax.hlines(y, sub["lo"], sub["hi"], color="tab:green", lw=8, alpha=0.6,
              label=t(f"前{k}名不变的权重范围", f"weights keeping the same top {k}"))
    ax.plot(sub["weight"], y, "kD", ms=6, label=t("现行权重", "the scheme's weight"))
    ax.set_yticks(y, sub["label"].to_numpy())
    ax.invert_yaxis()
    if total:
        ax.set_xlim(0, total)
    ax.set_xlabel(t("该指标的权重（其余指标按比例调整）", "Weight of the indicator (the others rescaled to keep the total)"))
    ax.set_title(t(f"{_kind(kind)}：权重可以移动多远而前{k}名不变？",
                   f"How far can each weight move before the top {k} changes? ({_kind(kind)})"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def share_bump_chart(segments: pd.DataFrame, swaps: pd.DataFrame, names: pd.Series, kind: str, k: int,
                     nominal_share: float | None = None, group_label: str = "grassroots") -> plt.Figure:
    """Rank of every unit of a kind as one group's share moves (exact steps), breakpoints marked.

    Units that are ever in the top k are coloured and named; the others are grey. Dotted lines mark
    every share at which two units swap; red lines those at which the top-k set changes.
    """
    seg = segments[segments["rank_group"] == kind]
    sw = swaps[swaps["rank_group"] == kind]
    n = seg["unit"].nunique()
    fig, ax = plt.subplots(figsize=(10, max(4.5, 0.16 * n + 2.5)))
    ever_top = set(seg.loc[seg["rank"] <= k, "unit"])
    palette = dict(zip(sorted(ever_top), sns.color_palette("tab10", max(1, len(ever_top)))))
    for unit, g in seg.groupby("unit", sort=False):
        g = g.sort_values("share_lo")
        x = np.r_[g["share_lo"].to_numpy(), g["share_hi"].to_numpy()[-1]]
        yv = np.r_[g["rank"].to_numpy(), g["rank"].to_numpy()[-1]]
        top = unit in ever_top
        ax.step(x, yv, where="post", color=palette.get(unit, "0.75"), lw=2.2 if top else 0.9, zorder=3 if top else 2)
        if top or n <= 20:
            ax.text(x[-1], yv[-1], " " + str(names.get(unit, unit)), va="center", fontsize=7,
                    color=palette.get(unit, "0.35"))
    for s in sw["share"].unique():
        ax.axvline(s, color="0.6", lw=0.5, ls=":", zorder=1)
    for s in sw.loc[sw["top_k_changes"], "share"].unique():
        ax.axvline(s, color="tab:red", lw=1.2, ls="--", zorder=1)
    if nominal_share is not None:
        ax.axvline(nominal_share, color="k", lw=1.0, zorder=1)
        ax.text(nominal_share, n + 0.4, t(" 现行权重", " the scheme's share"), fontsize=8, va="bottom")
    ax.grid(axis="y", visible=False)  # the units' own lines are the horizontal structure
    ax.invert_yaxis()
    ax.set_ylim(n + 0.5, 0.2)
    lo, hi = seg["share_lo"].min(), seg["share_hi"].max()
    ax.set_xlim(lo, hi + (hi - lo) * 0.22)  # room for the names
    ax.set_xticks(np.linspace(lo, hi, 7))
    ax.set_xlabel(t(f"{group_label}的权重（其余评委组按比例调整）",
                    f"Share of the {group_label} in the on-site score (other groups rescaled)"))
    ax.set_ylabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.set_title(t(f"{_kind(kind)}：{group_label}权重变化时的名次（红线：前{k}名变化）",
                   f"Ranks of the {_kind(kind)} as the {group_label}' share moves\n"
                   f"(dotted: two units swap; red dashed: the top {k} changes)"))
    fig.tight_layout()
    return fig
