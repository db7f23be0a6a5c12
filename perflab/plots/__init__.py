"""Figures for the notebooks in seaborn's theme, with Chinese labels when a CJK font is installed.

:func:`theme` picks the language: Chinese (``name_zh`` labels) when a CJK font
is found, English (``name_en``) otherwise, so no glyph is ever missing. Set
``PERFLAB_LANG=en`` or ``zh`` to force one.

This module does not import seaborn: :func:`theme` applies seaborn's
``whitegrid``/``notebook`` theme from :data:`SEABORN_THEME` (the test suite
checks it against seaborn's own), and the figures of notebook 10 are drawn with
matplotlib in it. Importing seaborn costs a kernel 1.3 s (it imports
scipy.stats), a sixth of notebook 10, which a sweep runs once per scenario.
The question modules (``plots.sensitivity``, ``plots.bias``...) use seaborn.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
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

#: seaborn's colour palette "deep" (``sns.color_palette("deep")``)
DEEP = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]

#: what ``sns.set_theme(style="whitegrid", context="notebook")`` sets, fonts and colormap apart
#: (``{**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}``; tests/test_plots.py compares)
SEABORN_THEME = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
    "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False, "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5,
    "lines.markersize": 6, "patch.linewidth": 1, "xtick.major.width": 1.25, "ytick.major.width": 1.25,
    "xtick.minor.width": 1, "ytick.minor.width": 1, "xtick.major.size": 6, "ytick.major.size": 6,
    "xtick.minor.size": 4, "ytick.minor.size": 4, "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12,
    "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11, "legend.title_fontsize": 12,
}


FIGURE_DPI = 100


def keep(fig: plt.Figure, output: str | Path, stem: str, key: bool = False) -> list[Path]:
    """Save a page's figure as ``output/figures/STEM.png`` and ``.svg`` (deterministic bytes) and leave it open
    for the page. Stems start with the notebook's number (``10_scores_by_zone``); ``key=True`` makes it the
    page's thumbnail on the run's index (recorded in ``figures/keys.json``)."""
    import json

    directory = Path(output) / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    with plt.rc_context({"svg.hashsalt": "perflab", "svg.fonttype": "none"}):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = directory / f"{stem}.{ext}"
            fig.savefig(path, dpi=FIGURE_DPI, metadata=meta)
            out.append(path)
    if key:
        keys_file = directory / "keys.json"
        keys = json.loads(keys_file.read_text(encoding="utf-8")) if keys_file.is_file() else {}
        keys[stem[:2]] = f"{stem}.png"
        keys_file.write_text(json.dumps(keys, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return out


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
    """Apply seaborn's theme and the fonts; returns the label language, ``"zh"`` or ``"en"``."""
    global _lang
    plt.rcParams.update(SEABORN_THEME)
    plt.rcParams["axes.prop_cycle"] = cycler(color=DEEP)
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


KIND_LABEL = {"district": ("区政府", "district governments"), "department": ("市级部门", "municipal departments"),
              "all": ("全部单位", "all units")}  # "all": the scheme ranks every unit together (ranking.within: all)


def kind_label(kind: str) -> str:
    """A ranking group in words (plural), in the current language."""
    zh, en = KIND_LABEL.get(kind, (kind, kind))
    return t(zh, en)


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
        groups = [sub.loc[sub["zone_label"] == z, "final"].dropna().to_numpy() for z in labels]
        x = np.arange(len(labels))
        ax.boxplot(groups, positions=x, widths=0.6, showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "0.9", "edgecolor": "0.35"}, medianprops={"color": "0.35"},
                   whiskerprops={"color": "0.35"}, capprops={"color": "0.35"})
        rng = np.random.default_rng(0)  # the same jitter on every run
        for i, g in enumerate(groups):
            ax.scatter(x[i] + rng.uniform(-0.15, 0.15, g.size), g, s=36, color=DEEP[i % len(DEEP)], zorder=3,
                       edgecolor="white", linewidth=0.5)
        ax.set_xticks(x, labels, rotation=30, ha="right", rotation_mode="anchor")  # long zone names do not overlap
        ax.set_title(kind_label[kind])
        ax.set_xlabel(t("功能区 / 领域", "Zone (peer group)"))
        ax.set_ylabel(t("综合得分", "Final score (0–100)"))
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
    palette = {z: DEEP[n % len(DEEP)] for n, z in enumerate(order)}
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(sub) + 1.8))
    y = np.arange(len(sub))
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
    for n, (kind, marker) in enumerate((("district", "o"), ("department", "X"))):
        sub = df[df["kind"] == kind]
        if len(sub):
            ax.scatter(sub["routine"], sub["onsite"], s=60, marker=marker, color=DEEP[n], edgecolor="white",
                       linewidth=0.5, label=kind_label[kind])
    ax.set_xlabel(t("日常考评得分（专项考评部门）", "Routine score (special-evaluation departments)"))
    ax.set_ylabel(t("现场评分", "On-site score (evaluators)"))
    ax.set_title(t("现场评分与日常考评是否一致？", "Do the evaluators and the figures agree?"))
    ax.legend(title="")
    fig.tight_layout()
    return fig
