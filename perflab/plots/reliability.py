"""Tables and figures of the reliability section (notebook 40): ICCs by kind, adjacent gaps against their noise, the D-study.

Tables come out as pandas Stylers with headers in English words (the page's
prose is English in either label language), ranking groups and scores in
words, no row numbers, fixed decimals and a caption; a reliability is never
rounded to "1.00" (three places), and each one names the number of raters it
is the reliability of. Evaluator groups' names stay in the label language.
"""

from __future__ import annotations

import hashlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator, StrMethodFormatter

from perflab.plots import KIND_LABEL, kind_label, t
from perflab.scheme import KINDS

# column -> (Chinese, English) header
LABELS: dict[str, tuple[str, str]] = {
    "rank_group": ("排名组", "Ranking group"),
    "form": ("形式", "Form"),
    "k": ("评委数 k", "Raters k"),
    "units": ("单位数", "Units"),
    "raters_per_unit": ("每单位评委数", "Raters per unit"),
    "k_effective": ("按权重的有效评委数", "Effective raters under the shares"),
    "median_sem": ("标准误中位数（分）", "Median SEM (points)"),
    "max_sem": ("最大标准误（分）", "Largest SEM (points)"),
    "median_gap": ("相邻分差中位数（分）", "Median gap to the next unit (points)"),
    "median_se_difference": ("差值标准误中位数（分）", "Median SE of the difference (points)"),
    "pairs": ("相邻对数", "Adjacent pairs"),
    "share_within_noise": ("分差小于 z 倍标准误的比例", "Share of gaps within z SE"),
    "score": ("分数", "Score"),
    "measure": ("指标", "Measure"),
    "rated": ("评分对象", "What is rated"),
    "value": ("值", "Value"),
    "interval": ("95% 区间", "95% interval"),
    "group": ("评委类别", "Evaluator group"),
    "weight": ("权重", "Share"),
    "raters": ("评委数", "Raters"),
    "values_averaged": ("平均的分数个数", "Values averaged"),
    "var_unit": ("单位方差", "Unit variance"),
    "var_rater": ("评委方差", "Rater variance"),
    "var_residual": ("残差方差", "Residual variance"),
    "rel_error_share": ("占相对误差的比例", "Share of the relative error"),
    "panel": ("评委团", "Panel"),
    "g": ("概化系数 g", "Generalizability g"),
    "phi": ("可靠性系数 Φ", "Dependability Φ"),
    "sem_rel": ("相对标准误（分）", "Relative SEM (points)"),
    "sem_abs": ("绝对标准误（分）", "Absolute SEM (points)"),
    "se_difference": ("差值标准误（分）", "SE of a difference (points)"),
    "sem_at_g80": ("g = 0.8 时的相对标准误（分）", "Relative SEM if g = 0.8 (points)"),
    "target_se_difference": ("目标差值标准误（分）", "Target SE of a difference (points)"),
    "g_needed": ("所需 g", "g needed"),
    "raters_needed": ("所需评委数（按当前比例）", "Raters needed, allocated as now"),
    "raters_needed_optimal": ("所需评委数（最优分配）", "Raters needed, optimal allocation"),
}


#: ids in the cells of a table, in words: per column, id -> English words
WORDS: dict[str, dict[str, str]] = {
    "rank_group": {k: en[0].upper() + en[1:] for k, (_, en) in KIND_LABEL.items()},
    "score": {"onsite": "On-site", "final": "Final"},
}


def label(column: str) -> str:
    """A column's header in English words (the column name if unknown)."""
    return LABELS.get(column, (column, column))[1]


def _finish(sty, columns, caption: str | None):
    """Caption, a stable id (the same page gives the same HTML) and no row numbers."""
    if caption:
        sty = sty.set_caption(caption)
    return sty.set_uuid(
        hashlib.sha1("|".join(map(str, columns)).encode() + str(caption).encode()).hexdigest()[:8]
    ).hide(axis="index")


def _left(sty, d: pd.DataFrame, text: list[str]):
    """Words read from the left: text columns and their headers left-aligned."""
    if not text:
        return sty
    sty = sty.set_properties(subset=text, **{"text-align": "left"})
    short = [c for c in text if d[c].astype(str).str.len().max() <= 30]  # names and short words on one line
    if short:
        sty = sty.set_properties(subset=short, **{"white-space": "nowrap"})
    return sty.set_table_styles(
        [{"selector": f"th.col{list(d.columns).index(c)}", "props": "text-align: left"} for c in text], overwrite=False
    )


def table(
    df: pd.DataFrame, columns: list[str] | None = None, decimals: int | dict[str, int] = 2, caption: str | None = None
):
    """A Styler of ``df`` for a page: headers in English words, ranking groups and scores in words, no row numbers,
    fixed decimals (3 for g and Φ), "–" for missing, a ``caption``. ``df`` is not modified.

    Parameters
    ----------
    df : pandas.DataFrame
        A reliability table (columns named as in :data:`LABELS`; others keep their names as headers).
    columns : list of str, optional
        The columns to show, in this order; None: all.
    decimals : int or dict
        Decimal places of the floats: one for all (at least 3 for g, Φ and ICC), or column → places (the others
        get 2). Shares (``share_within_noise``, ``rel_error_share``) are whole percentages, integers have none.
    caption : str, optional
        The table's caption.

    Returns
    -------
    pandas.io.formats.style.Styler
        The styled table, with a stable id (the same table gives the same HTML).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"rank_group": ["district", "department"], "g": [0.91234, 0.8], "share_within_noise": [0.25, 0.5]})
    >>> sty = table(df, caption="Reliability by ranking group")
    >>> sty.data.columns.tolist()
    ['Ranking group', 'Generalizability g', 'Share of gaps within z SE']
    >>> sty.data["Ranking group"].tolist()
    ['District governments', 'Municipal departments']
    >>> html = sty.to_html()
    >>> "0.912" in html, "0.800" in html, "25%" in html
    (True, True, True)
    """
    d = (df if columns is None else df[list(columns)]).reset_index(drop=True)
    d = d.assign(
        **{c: d[c].map(lambda v, c=c: WORDS[c].get(v, v) if isinstance(v, str) else v) for c in d.columns if c in WORDS}
    )
    fmt = {}
    for c in d.columns:
        s = d[c]
        places = decimals.get(c, 2) if isinstance(decimals, dict) else decimals
        if c in ("g", "phi", "ICC") and not isinstance(decimals, dict):
            places = max(places, 3)
        if pd.api.types.is_bool_dtype(s):
            fmt[c] = lambda v: "yes" if v else ""
        elif pd.api.types.is_integer_dtype(s):
            fmt[c] = lambda v: "–" if pd.isna(v) else f"{int(v):d}"
        elif pd.api.types.is_float_dtype(s):
            fmt[c] = (lambda p: lambda v: "–" if pd.isna(v) else f"{round(v, p) + 0.0:,.{p}f}")(places)
        if c in ("share_within_noise", "rel_error_share"):
            fmt[c] = lambda v: "–" if pd.isna(v) else f"{v:.0%}"
    text = [
        label(c) for c in d.columns if not (pd.api.types.is_numeric_dtype(d[c]) or pd.api.types.is_bool_dtype(d[c]))
    ]
    d = d.rename(columns={c: label(c) for c in d.columns})
    sty = _left(d.style.format({label(c): f for c, f in fmt.items()}, na_rep="–"), d, text)
    return _finish(sty, d.columns, caption)


ICC_FORMS = {  # the six ICC forms and their words, in the order the tables show them
    "ICC1": ("一位评委，单向随机", "One rater, one-way"),
    "ICC2": ("一位评委，绝对一致", "One rater, absolute agreement"),
    "ICC3": ("一位评委，一致性", "One rater, consistency"),
    "ICC1k": ("k 位评委平均，单向随机", "Mean of k raters, one-way"),
    "ICC2k": ("k 位评委平均，绝对一致", "Mean of k raters, absolute agreement"),
    "ICC3k": ("k 位评委平均，一致性", "Mean of k raters, consistency"),
}


def in_words(kind: str) -> str:
    """A ranking group in English words for the prose of a page (the prose is English in either language).

    Parameters
    ----------
    kind : str
        The ranking group: ``district``, ``department`` or ``all``.

    Returns
    -------
    str
        Plural words, lower case; an unknown group as it is.

    Examples
    --------
    >>> in_words("district"), in_words("department"), in_words("all")
    ('district governments', 'municipal departments', 'all units')
    """
    return KIND_LABEL.get(kind, (kind, kind))[1]


def icc_table(iccs, caption: str | None = None):
    """:func:`perflab.reliability.icc_by` as one row per form: its k and, per ranking group, "ICC [low, high]";
    headers and forms in English words, a ``caption``.

    Kinds in the scheme's order (districts, departments), the pooled level last. Single-rater forms have two
    decimals, the forms of the mean of k raters three.

    Parameters
    ----------
    iccs : ICCByGroup or pandas.DataFrame
        The :class:`perflab.reliability.ICCByGroup` or its ``table`` (columns rank_group, Type, ICC, k,
        ci95_low, ci95_high): the six forms ICC1 … ICC3k for every ranking group.
    caption : str, optional
        The table's caption.

    Returns
    -------
    pandas.io.formats.style.Styler
        Six rows (the forms); columns Form, Raters k (a range if the groups differ) and one per ranking group.

    Examples
    --------
    >>> import pandas as pd
    >>> forms = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    >>> iccs = pd.DataFrame(
    ...     [
    ...         {"rank_group": g, "Type": f, "ICC": 0.9 if f.endswith("k") else 0.5, "k": k,
    ...          "ci95_low": 0.85 if f.endswith("k") else 0.4, "ci95_high": 0.95 if f.endswith("k") else 0.6}
    ...         for g, k in (("department", 40), ("district", 30))
    ...         for f in forms
    ...     ]
    ... )
    >>> d = icc_table(iccs).data
    >>> d.columns.tolist()
    ['Form', 'Raters k', 'District governments', 'Municipal departments']
    >>> d.iloc[[0, 3]].values.tolist()
    [['One rater, one-way', '30–40', '0.50 [0.40, 0.60]', '0.50 [0.40, 0.60]'],
     ['Mean of k raters, one-way', '30–40', '0.900 [0.850, 0.950]', '0.900 [0.850, 0.950]']]
    """
    if hasattr(iccs, "table"):
        iccs = iccs.table
    by = "rank_group"
    found = list(pd.unique(iccs[by]))
    levels = (
        [k for k in KINDS if k in found]
        + [k for k in found if k not in KINDS and k != "all"]
        + [k for k in found if k == "all"]
    )
    rows = []
    for form, (_zh, en) in ICC_FORMS.items():
        sub = iccs[iccs["Type"] == form].set_index(by)
        ks = sub["k"].reindex(levels)
        lo, hi = f"{ks.min():.0f}", f"{ks.max():.0f}"
        k = lo if lo == hi else f"{lo}–{hi}"
        row = {label("form"): en, label("k"): k}
        p = 2 if form in ("ICC1", "ICC2", "ICC3") else 3
        for lv in levels:
            r = sub.loc[lv]
            row[WORDS["rank_group"].get(lv, lv)] = f"{r['ICC']:.{p}f} [{r['ci95_low']:.{p}f}, {r['ci95_high']:.{p}f}]"
        rows.append(row)
    d = pd.DataFrame(rows)
    return _finish(_left(d.style, d, [label("form")]), d.columns, caption)


def adjacent_gaps(adjacent: pd.DataFrame, z: float = 2.0) -> plt.Figure:
    """Per ranking group: the gap from each unit to the next one down, against z standard errors of that difference.

    A gap within noise (smaller than z SE: the two units' order is not to be trusted) is drawn orange.

    Parameters
    ----------
    adjacent : pandas.DataFrame
        ``ScorePrecision.adjacent`` (:func:`perflab.reliability.score_precision`): rank_group, rank, gap,
        se_difference, within_noise, one row per pair of units ranked next to each other.
    z : float
        How many standard errors a gap must exceed; the one ``within_noise`` was computed with.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per ranking group, one bar per rank.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> _ = plots.theme("en")
    >>> adjacent = pd.DataFrame(
    ...     {
    ...         "rank_group": ["district"] * 3,
    ...         "rank": [1, 2, 3],
    ...         "gap": [3.0, 0.5, 1.5],
    ...         "se_difference": [0.8, 0.8, 0.9],
    ...         "within_noise": [False, True, True],
    ...     }
    ... )
    >>> fig = adjacent_gaps(adjacent)
    >>> len(fig.axes), len(fig.axes[0].patches)
    (1, 3)
    >>> fig.axes[0].get_title()
    'District governments: 67% of adjacent gaps are within 2 SE'
    >>> plt.close(fig)
    """
    groups = list(pd.unique(adjacent["rank_group"]))
    fig, axes = plt.subplots(len(groups), 1, figsize=(9.5, 2.9 * len(groups) + 0.6), squeeze=False)
    for ax, g in zip(axes[:, 0], groups):
        a = adjacent[adjacent["rank_group"] == g]
        noisy = a["within_noise"].to_numpy()
        ax.bar(a["rank"], a["gap"], color=np.where(noisy, "tab:orange", "tab:blue"), width=0.7)
        ax.plot(a["rank"], z * a["se_difference"], "k_", ms=12, mew=2)
        handles = [
            Patch(color="tab:blue", label=t(f"分差大于 {z:g} 倍标准误", f"gap beyond {z:g} SE")),
            Patch(color="tab:orange", label=t(f"分差在 {z:g} 倍标准误以内", f"gap within {z:g} SE")),
            Line2D(
                [],
                [],
                color="k",
                marker="_",
                ls="",
                ms=12,
                mew=2,
                label=t(f"{z:g} 倍差值标准误", f"{z:g} × SE of the difference"),
            ),
        ]
        ax.set_title(
            t(
                f"{kind_label(g)}：{noisy.mean():.0%} 的相邻分差小于 {z:g} 倍标准误",
                f"{kind_label(g).capitalize()}: {noisy.mean():.0%} of adjacent gaps are within {z:g} SE",
            )
        )
        ax.set_xlim(a["rank"].min() - 0.6, a["rank"].max() + 0.6)  # ranks start at 1: no empty rank 0
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(t("名次（与下一名之间）", "Rank (gap to the unit ranked next)"))
        ax.set_ylabel(t("分差（分）", "Gap (points)"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def d_study_curves(curves: pd.DataFrame, now: pd.DataFrame, targets: pd.Series) -> plt.Figure:
    """SE of the difference of two units' on-site scores against the panel size, one line per ranking group.

    Parameters
    ----------
    curves : pandas.DataFrame
        rank_group, raters, se_difference: the D-study, panels of every size allocated as now.
    now : pandas.DataFrame
        rank_group, raters, se_difference of the current panel (a dot on each line).
    targets : pandas.Series
        Per ranking group, the SE of a difference wanted (a dotted line).

    Returns
    -------
    matplotlib.figure.Figure
        One panel; the panel size on a log scale.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> _ = plots.theme("en")
    >>> curves = pd.DataFrame(
    ...     {
    ...         "rank_group": ["district"] * 3 + ["department"] * 3,
    ...         "raters": [20, 50, 100] * 2,
    ...         "se_difference": [2.0, 1.3, 0.9, 3.0, 1.9, 1.3],
    ...     }
    ... )
    >>> now = pd.DataFrame({"rank_group": ["district", "department"], "raters": [50, 50], "se_difference": [1.3, 1.9]})
    >>> fig = d_study_curves(curves, now, pd.Series({"district": 1.0, "department": 1.5}))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['district governments', 'municipal departments', 'current panel', 'target: median adjacent gap / z']
    >>> fig.axes[0].get_xscale()
    'log'
    >>> plt.close(fig)
    """
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    for k, (g, c) in enumerate(curves.groupby("rank_group", sort=False)):
        color = f"C{k}"
        ax.plot(c["raters"], c["se_difference"], color=color, label=kind_label(g))
        n = now[now["rank_group"] == g].iloc[0]
        ax.plot(n["raters"], n["se_difference"], "o", color=color)
        ax.axhline(targets[g], color=color, ls=":", lw=1.2)
    ax.plot([], [], "ko", label=t("当前评委团", "current panel"))
    ax.plot([], [], "k:", label=t("目标：相邻分差中位数 / z", "target: median adjacent gap / z"))
    ax.set_xscale("log")
    lo, hi = curves["raters"].min(), curves["raters"].max()
    ticks = [v for v in (20, 50, 100, 200, 500, 1000, 2000, 5000) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel(t("评委总数（按当前比例分配，对数刻度）", "Raters in all (allocated as now; log scale)"))
    ax.set_ylabel(t("两个单位现场分之差的标准误（分）", "SE of the difference of two on-site scores (points)"))
    ax.set_title(t("需要多少评委才能区分相邻名次？", "How many raters does it take to tell adjacent ranks apart?"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig
