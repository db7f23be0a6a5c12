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
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    str(Path.home() / ".fonts"),
    str(Path.home() / ".local/share/fonts"),
)
FALLBACK = "DejaVu Sans"

_lang: str | None = None

#: seaborn's colour palette "deep" (``sns.color_palette("deep")``)
DEEP = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]

#: what ``sns.set_theme(style="whitegrid", context="notebook")`` sets, fonts and colormap apart
#: (``{**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}``; tests/test_plots.py compares)
SEABORN_THEME = {
    "figure.facecolor": "white",
    "axes.labelcolor": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "axes.axisbelow": True,
    "grid.linestyle": "-",
    "text.color": ".15",
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.top": False,
    "ytick.right": False,
    "axes.grid": True,
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "grid.color": ".8",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "xtick.bottom": False,
    "ytick.left": False,
    "axes.linewidth": 1.25,
    "grid.linewidth": 1,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "patch.linewidth": 1,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "font.size": 12,
    "axes.labelsize": 12,
    "axes.titlesize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 12,
}


FIGURE_DPI = 100


def keep(fig: plt.Figure, output: str | Path, stem: str, key: bool = False) -> list[Path]:
    """Save a page's figure as ``output/figures/STEM.png`` and ``.svg`` (deterministic bytes) and leave it open
    for the page. Stems start with the notebook's number (``10_scores_by_zone``); ``key=True`` makes it the
    page's thumbnail on the run's index (recorded in ``figures/key_NN.json``, read by :func:`key_figures`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; its layout is computed once here and then frozen, so the files and the page agree.
    output : str or pathlib.Path
        The run's output directory; the files go to its ``figures/`` (created if need be).
    stem : str
        The file name without extension, starting with the notebook's number.
    key : bool
        Record the PNG as the page's thumbnail (``figures/key_NN.json``, NN the stem's first two characters).

    Returns
    -------
    list of pathlib.Path
        The PNG and the SVG written.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> out = tempfile.mkdtemp()
    >>> fig, ax = plt.subplots()
    >>> [p.name for p in keep(fig, out, "10_example", key=True)]
    ['10_example.png', '10_example.svg']
    >>> sorted(p.name for p in (Path(out) / "figures").iterdir())
    ['10_example.png', '10_example.svg', 'key_10.json']
    >>> plt.close(fig)
    """
    import json

    directory = Path(output) / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    engine = fig.get_layout_engine()
    if engine is not None:  # lay the figure out once, not again for each file (and for the page)
        engine.execute(fig)
        fig.set_layout_engine("none")
    with plt.rc_context({"svg.hashsalt": "perflab", "svg.fonttype": "none"}):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = directory / f"{stem}.{ext}"
            fig.savefig(path, dpi=FIGURE_DPI, metadata=meta)
            out.append(path)
    if key:  # one small file per page, so pages executed side by side (perflab run --jobs) never race
        (directory / f"key_{stem[:2]}.json").write_text(json.dumps(f"{stem}.png") + "\n", encoding="utf-8")
    return out


def key_figures(output: str | Path) -> dict[str, str]:
    """Page number → the file name of its key figure, as :func:`keep` recorded them under ``output/figures``.

    Parameters
    ----------
    output : str or pathlib.Path
        The run's output directory.

    Returns
    -------
    dict
        ``{"10": "10_scores_by_zone.png", ...}``; empty when no page recorded one.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> out = tempfile.mkdtemp()
    >>> fig, ax = plt.subplots()
    >>> _ = keep(fig, out, "30_example", key=True)
    >>> key_figures(out)
    {'30': '30_example.png'}
    >>> plt.close(fig)
    """
    import json

    found = {}
    for f in sorted((Path(output) / "figures").glob("key_*.json")):
        try:
            found[f.stem[4:]] = str(json.loads(f.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, OSError):
            continue
    return found


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
    """Apply seaborn's theme and the fonts; returns the label language, ``"zh"`` or ``"en"``.

    Chinese labels need a CJK font: without one the labels are English, so no glyph is ever missing.

    Parameters
    ----------
    lang : str, optional
        ``"zh"``, ``"en"`` or ``"auto"``; None: the ``PERFLAB_LANG`` environment variable, else ``"auto"``
        (Chinese when a CJK font is installed).

    Returns
    -------
    str
        The language of the labels from now on (also :func:`lang`).

    Examples
    --------
    >>> theme("en")
    'en'
    >>> plt.rcParams["axes.grid"], plt.rcParams["font.sans-serif"]
    (True, ['DejaVu Sans'])
    >>> theme("zh") in ("zh", "en")  # "en" if no CJK font is installed
    True
    >>> _ = theme("en")
    """
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
    """The language chosen by the last :func:`theme` call (English before any).

    Returns
    -------
    str
        ``"zh"`` or ``"en"``.

    Examples
    --------
    >>> _ = theme("en")
    >>> lang()
    'en'
    """
    return _lang or "en"


def t(zh: str, en: str) -> str:
    """Pick a label in the current language (:func:`lang`), so one call serves both.

    Parameters
    ----------
    zh, en : str
        The label in Chinese and in English.

    Returns
    -------
    str
        ``zh`` if the labels are Chinese, else ``en``.

    Examples
    --------
    >>> _ = theme("en")
    >>> t("综合得分", "Final score")
    'Final score'
    """
    return zh if lang() == "zh" else en


KIND_LABEL = {
    "district": ("区政府", "district governments"),
    "department": ("市级部门", "municipal departments"),
    "all": ("全部单位", "all units"),
}  # "all": the scheme ranks every unit together (ranking.within: all)


def kind_label(kind: str) -> str:
    """A ranking group in words (plural), in the current language."""
    zh, en = KIND_LABEL.get(kind, (kind, kind))
    return t(zh, en)


def name_column() -> str:
    """``name_zh`` or ``name_en``: the unit/zone name column matching the language.

    Returns
    -------
    str
        The column of the units table (and of the scores) to label units with.

    Examples
    --------
    >>> _ = theme("en")
    >>> name_column()
    'name_en'
    """
    return "name_zh" if lang() == "zh" else "name_en"


def zone_names(scheme) -> dict[str, str]:
    return {z.id: (z.name_zh if lang() == "zh" else z.name_en) for z in scheme.zones}


def short_name(name: str) -> str:
    """A unit's name for a figure label: the English names lose "Beijing Municipal", "Beijing" and "District"
    (every unit is in Beijing; the panel says the kind); Chinese names are short already."""
    import re

    out = re.sub(r"^(Beijing Municipal |Beijing |Municipal )", "", str(name))
    out = re.sub(r"( of Beijing| of the Beijing Municipal Government| District)$", "", out)
    return out or str(name)


def _wrap(label: str, width: int = 16) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) if " " in label else label


def spread_positions(y, gap: float) -> np.ndarray:
    """Label positions near ``y`` and at least ``gap`` apart, in the order of ``y`` (labels that would overlap
    are pushed apart symmetrically, clusters as a block)."""
    y = np.asarray(y, dtype=float)
    order = np.argsort(y, kind="stable")
    pos = y[order].copy()
    for _ in range(len(pos)):
        moved = False
        blocks = [[0]]
        for i in range(1, len(pos)):
            (blocks[-1].append(i) if pos[i] - pos[i - 1] < gap - 1e-12 else blocks.append([i]))
        for b in blocks:
            if len(b) > 1:
                centre = y[order][b].mean()
                new = centre + gap * (np.arange(len(b)) - (len(b) - 1) / 2)
                moved |= not np.allclose(new, pos[b])
                pos[b] = new
        if not moved:
            break
    out = np.empty_like(pos)
    out[order] = pos
    return out


# the figures of notebook 10, importable from here (defined after the helpers they use)
from perflab.plots.scores import components_scatter, ranking_bars, satisfaction_by_zone, scores_by_zone  # noqa: E402, F401
from perflab.plots.tree import pillar_profile, scheme_icicle  # noqa: E402, F401
