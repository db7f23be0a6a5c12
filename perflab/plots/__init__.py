"""Seaborn figures for the notebooks, with Chinese labels when a CJK font is installed.

:func:`theme` picks the language: Chinese (``name_zh`` labels) when a CJK font
is found, English (``name_en``) otherwise, so no glyph is ever missing. Set
``PERFLAB_LANG=en`` or ``zh`` to force one.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"), str(Path.home() / ".local/share/fonts"))
FALLBACK = "DejaVu Sans"

_lang: str | None = None


def find_cjk_font() -> str | None:
    """The family name of an installed CJK font, registering font files matplotlib's cache has not seen."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    for d in FONT_DIRS:
        base = Path(d)
        if not base.is_dir():
            continue
        for pattern in ("*CJK*", "*SourceHanSans*", "*wqy*", "*simhei*", "*msyh*"):
            for f in base.rglob(pattern):
                if f.suffix.lower() in (".ttf", ".otf", ".ttc"):
                    try:
                        font_manager.fontManager.addfont(str(f))
                    except (RuntimeError, OSError):
                        continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((fam for fam in CJK_FAMILIES if fam in names), None)


def theme(lang: str | None = None) -> str:
    """Apply the seaborn theme and fonts; returns the label language, ``"zh"`` or ``"en"``."""
    global _lang
    sns.set_theme(style="whitegrid", context="notebook")
    wanted = (lang or os.environ.get("PERFLAB_LANG", "auto")).lower()
    font = find_cjk_font() if wanted in ("auto", "zh") else None
    if font:
        # set_theme resets font.family: apply the CJK font after it, DejaVu Sans as fallback for the minus sign
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["font.sans-serif"] = [font, FALLBACK]
        _lang = "zh"
    else:
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["font.sans-serif"] = [FALLBACK]
        _lang = "en"
    plt.rcParams["axes.unicode_minus"] = True
    return _lang


def lang() -> str:
    """The language chosen by the last :func:`theme` call (English before any)."""
    return _lang or "en"


def t(zh: str, en: str) -> str:
    """Pick a label in the current language."""
    return zh if lang() == "zh" else en


def name_column() -> str:
    """``name_zh`` or ``name_en``: the unit/zone name column matching the language."""
    return "name_zh" if lang() == "zh" else "name_en"


def zone_names(scheme) -> dict[str, str]:
    return {z.id: (z.name_zh if lang() == "zh" else z.name_en) for z in scheme.zones}


def scores_by_zone(scores: pd.DataFrame, scheme) -> plt.Figure:
    """Final scores of every unit by zone, one panel per kind (points over boxes)."""
    df = scores.assign(zone_label=scores["zone"].map(zone_names(scheme)).fillna(scores["zone"]))
    kinds = [k for k in ("district", "department") if k in set(df["kind"])]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4.8), squeeze=False, sharey=True)
    kind_label = {"district": t("区政府", "District governments"), "department": t("市级部门", "Municipal departments")}
    for ax, kind in zip(axes[0], kinds):
        sub = df[df["kind"] == kind]
        order = list(dict.fromkeys(z for z in zone_names(scheme) if z in set(sub["zone"])))
        labels = [zone_names(scheme).get(z, z) for z in order] or sorted(sub["zone_label"].unique())
        sns.boxplot(data=sub, x="zone_label", y="final", order=labels, color="0.9", fliersize=0, ax=ax)
        sns.stripplot(data=sub, x="zone_label", y="final", order=labels, hue="zone_label", palette="deep",
                      legend=False, size=6, jitter=0.15, ax=ax)
        ax.set_title(kind_label[kind])
        ax.set_xlabel(t("功能区 / 领域", "Zone (peer group)"))
        ax.set_ylabel(t("综合得分", "Final score (0–100)"))
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(t("各功能区得分分布", "Final scores by zone"))
    fig.tight_layout()
    return fig


def ranking_bars(scores: pd.DataFrame, scheme, kind: str, top: int | None = None) -> plt.Figure:
    """Horizontal bars of the final score, best first, coloured by zone; units with an imputed component marked."""
    sub = scores[scores["kind"] == kind].sort_values("rank")
    if top:
        sub = sub.head(top)
    mark = t(" (书面)", " (written)")
    imputed = sub["imputed"].fillna("").astype(str) != "" if "imputed" in sub else pd.Series(False, index=sub.index)
    names = sub[name_column()].astype(str) + imputed.map({True: mark, False: ""})
    zones = sub["zone"].map(zone_names(scheme)).fillna(sub["zone"])
    order = [z for z in dict.fromkeys(list(zone_names(scheme).values()) + list(zones)) if z in set(zones)]
    palette = dict(zip(order, sns.color_palette("deep", len(order))))
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(sub) + 1.8))
    y = np.arange(len(sub))
    # plain bars (seaborn's barplot with one hue level per zone is ~5 times slower for 60 units)
    ax.barh(y, sub["final"].to_numpy(), color=[palette[z] for z in zones], height=0.8)
    ax.set_yticks(y, names.to_numpy())
    ax.set_ylim(len(sub) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    lo = max(0.0, float(sub["final"].min()) - 5)
    ax.set_xlim(lo, min(100.0, float(sub["final"].max()) + 2))
    ax.set_xlabel(t("综合得分", "Final score (0–100)"))
    ax.set_ylabel("")
    ax.legend([plt.Rectangle((0, 0), 1, 1, color=palette[z]) for z in order], order, title=t("功能区 / 领域", "Zone"),
              loc="lower right", fontsize="small")  # the shortest bars are at the bottom: the corner is free
    title = {"district": t("区政府排名", "Ranking of district governments"),
             "department": t("市级部门排名", "Ranking of municipal departments")}[kind]
    if imputed.any():
        title += t("（书面：仅提交书面报告，现场得分取同类均值）", "\n(written: report only, on-site score imputed as the kind's mean)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def components_scatter(scores: pd.DataFrame) -> plt.Figure:
    """On-site score against routine score, one point per unit: do the evaluators and the figures agree?"""
    df = scores.dropna(subset=["onsite", "routine"]).copy()
    kind_label = {"district": t("区政府", "District"), "department": t("市级部门", "Department")}
    df["kind_label"] = df["kind"].map(kind_label)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    sns.scatterplot(data=df, x="routine", y="onsite", hue="kind_label", style="kind_label", s=60, ax=ax)
    ax.set_xlabel(t("日常考评得分（专项考评部门）", "Routine score (special-evaluation departments)"))
    ax.set_ylabel(t("现场评分", "On-site score (evaluators)"))
    ax.set_title(t("现场评分与日常考评是否一致？", "Do the evaluators and the figures agree?"))
    ax.legend(title="")
    fig.tight_layout()
    return fig
