"""Figures for the evaluator-bias notebook: severity by group, session drift, panel sizes, rank shifts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import name_column, t


def _group_names(scheme) -> dict[str, str]:
    return {g.id: (g.name_zh if t("zh", "en") == "zh" else g.name_en) for g in scheme.groups}


def severity_by_group(flags: pd.DataFrame, scheme) -> plt.Figure:
    """Each rater's severity (points; right = more lenient) by evaluator group, flagged raters marked."""
    df = flags.copy()
    df["group_label"] = df["group"].map(_group_names(scheme)).fillna(df["group"])
    order = [_group_names(scheme).get(g, g) for g in scheme.group_ids if g in set(df["group"])]
    effect = np.where(df["lenient"], t("宽松", "lenient"), np.where(df["severe"], t("严格", "severe"),
                      np.where(df["any_flag"], t("其他标记", "other flag"), t("无标记", "no flag"))))
    df["flag"] = effect
    palette = {t("宽松", "lenient"): "tab:green", t("严格", "severe"): "tab:red",
               t("其他标记", "other flag"): "tab:orange", t("无标记", "no flag"): "0.6"}
    fig, ax = plt.subplots(figsize=(8.5, 0.55 * len(order) + 1.8))
    sns.boxplot(data=df, x="severity", y="group_label", order=order, color="0.92", fliersize=0, ax=ax)
    sns.stripplot(data=df, x="severity", y="group_label", order=order, hue="flag", palette=palette,
                  size=5, jitter=0.2, ax=ax)
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel(t("评分宽严（分；正 = 比同一单位的其他评委给分高）",
                    "Rater leniency in points (positive = scores higher than the panel for the same units)"))
    ax.set_ylabel(t("评委类别", "Evaluator group"))
    ax.set_title(t("各类评委的宽严程度", "How lenient or severe is each evaluator, by group?"))
    ax.legend(title="", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def drift_by_order(drift_units: pd.DataFrame) -> plt.Figure:
    """Rater-adjusted unit scores against presentation order, one colour per session."""
    df = drift_units.copy()
    df["session_label"] = t("第", "Session ") + df["session"].astype(str) + t("场", "")
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for (s, sub), color in zip(df.groupby("session_label", sort=True), sns.color_palette("deep")):
        ax.scatter(sub["order"], sub["adjusted"], color=color, label=s, s=30)
        if len(sub) > 2:
            b = np.polyfit(sub["order"], sub["adjusted"], 1)
            xs = np.linspace(sub["order"].min(), sub["order"].max(), 10)
            ax.plot(xs, np.polyval(b, xs), color=color, lw=1.5)
        ax.axhline(sub["adjusted"].mean(), color=color, lw=0.8, ls=":")
    ax.set_xlabel(t("场内述职顺序", "Presentation order within the session"))
    ax.set_ylabel(t("单位现场得分（已校正评委宽严）", "Unit's on-site score, adjusted for rater severity"))
    ax.set_title(t("评分是否随场次和顺序漂移？", "Do scores drift across sessions and presentation order?"))
    ax.legend(title="", fontsize="small")
    fig.tight_layout()
    return fig


def panel_size_curves(curves: pd.DataFrame, scheme, target: float = 0.8) -> plt.Figure:
    """Generalizability coefficient g against the number of raters, one line per group."""
    df = curves.copy()
    df["group_label"] = df["group"].map(_group_names(scheme)).fillna(df["group"])
    fig, ax = plt.subplots(figsize=(8, 5))
    sns.lineplot(data=df, x="rater", y="g", hue="group_label", ax=ax)
    ax.axhline(target, color="0.3", ls="--", lw=0.8)
    ax.set_xlabel(t("每个单位的评委人数（同一类别）", "Number of evaluators of the group scoring each unit"))
    ax.set_ylabel(t("概化系数 g", "Generalizability coefficient g"))
    ax.set_title(t("每类评委需要多少人才能可靠？", "How many evaluators does each group need for a reliable score?"))
    ax.set_ylim(0, 1)
    ax.legend(title=t("评委类别", "Evaluator group"), fontsize="small")
    fig.tight_layout()
    return fig


def rank_shifts(imp: pd.DataFrame, kind: str) -> plt.Figure:
    """Raw on-site rank against the rank from fair averages and without flagged raters, for one kind of unit."""
    sub = imp[(imp["kind"] == kind) & imp["rank_raw"].notna()].sort_values("rank_raw")
    names = sub[name_column()].astype(str).to_numpy()
    y = np.arange(len(sub))
    fig, ax = plt.subplots(figsize=(8, 0.27 * len(sub) + 1.8))
    ax.scatter(sub["rank_raw"].astype(float), y, marker="o", color="0.3", label=t("原始得分", "raw scores"), zorder=3)
    ax.scatter(sub["rank_fair"].astype(float), y, marker=">", color="tab:blue", label=t("公平均分（MFRM）", "fair average (MFRM)"))
    ax.scatter(sub["rank_excluded"].astype(float), y, marker="x", color="tab:red", label=t("剔除被标记评委", "flagged raters excluded"))
    ax.set_yticks(y, names, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(t("现场评分排名（1 = 最好）", "On-site rank (1 = best)"))
    title = {"district": t("区政府：校正评委偏差后排名的变化", "District governments: ranks after correcting for rater effects"),
             "department": t("市级部门：校正评委偏差后排名的变化", "Municipal departments: ranks after correcting for rater effects")}
    ax.set_title(title.get(kind, kind))
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig
