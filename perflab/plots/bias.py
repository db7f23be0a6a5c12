"""Figures and table views for the evaluator-bias notebook: severity by group, session drift, panel sizes, rank shifts.

Every rater effect is drawn in one direction: positive = harsher (as in :mod:`perflab.bias`).
:func:`table_view` shows a result table on a page with headers in English words
(the page's prose is English in either label language), ids in words, no row
index, fixed decimals and a caption. Names of units and evaluator groups stay
in the label language: the notebook maps them before showing a table.
"""

from __future__ import annotations

import hashlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from perflab.plots import KIND_LABEL, kind_label, name_column, short_name, t

# column -> (Chinese, English) header of the bias tables on a page
LABELS: dict[str, tuple[str, str]] = {
    "facet": ("层面", "Facet"),
    "elements": ("元素数", "Elements"),
    "mean_measure": ("平均测度（logit）", "Mean measure (logits)"),
    "sd_measure": ("测度标准差（logit）", "SD of measures (logits)"),
    "mean_infit": ("平均 infit", "Mean infit"),
    "mean_outfit": ("平均 outfit", "Mean outfit"),
    "rmse": ("误差均方根（稳健）", "RMSE (cluster-robust)"),
    "true_sd": ("真实标准差", "True SD"),
    "separation": ("分离指数（稳健）", "Separation (cluster-robust SE)"),
    "reliability": ("信度（稳健）", "Reliability (cluster-robust SE)"),
    "rmse_model": ("误差均方根（模型）", "RMSE (model SE)"),
    "separation_model": ("分离指数（模型）", "Separation (model SE)"),
    "reliability_model": ("信度（模型）", "Reliability (model SE)"),
    "design_effect": ("设计效应", "Design effect"),
    "category": ("等级", "Grade"),
    "score": ("等级分", "Band score"),
    "count": ("评分数", "Ratings"),
    "threshold": ("Andrich 阈值（logit）", "Andrich threshold (logits)"),
    "flag": ("标记", "Flag"),
    "rule": ("规则", "Rule"),
    "false_positive_rate": ("误报率（每位评委）", "False-positive rate per rater"),
    "minimum": ("最少数据", "Minimum data"),
    "rater": ("评委", "Rater"),
    "group": ("评委类别", "Evaluator group"),
    "group_label": ("评委类别", "Evaluator group"),
    "n_units": ("评分单位数", "Units scored"),
    "flags": ("标记", "Flags"),
    "severity_points": ("严格度（分，正 = 更严）", "Severity (points, + = harsher)"),
    "severity_z": ("严格度 z", "Severity z"),
    "halo_r": ("指标区分相关", "Within-unit r with panel"),
    "halo_z": ("晕轮 z", "Halo z"),
    "slope": ("斜率", "Slope on panel"),
    "favour_points": ("偏袒（分）", "Home-unit bonus (points)"),
    "bloc_id": ("团体", "Bloc"),
    "infit": ("Infit", "Infit"),
    "outfit": ("Outfit", "Outfit"),
    "p_value": ("p 值", "p-value"),
    "severity_p_value": ("严格度 p 值", "Severity p-value"),
    "halo_p_value": ("晕轮 p 值", "Halo p-value"),
    "central_p_value": ("趋中 p 值", "Central tendency p-value"),
    "favour_p_value": ("偏袒 p 值", "Favouritism p-value"),
    "misfit_p_value": ("不拟合 p 值", "Misfit p-value"),
    "q_value": ("q 值（FDR）", "q-value (FDR)"),
    "flag_fdr": ("FDR 标记", "Flagged (FDR)"),
    "raters": ("评委数", "Raters"),
    "lenient": ("宽松", "Lenient"),
    "severe": ("严格", "Severe"),
    "halo": ("晕轮", "Halo"),
    "central": ("趋中", "Central tendency"),
    "favouritism": ("偏袒", "Favouritism"),
    "bloc": ("团体评分", "Bloc"),
    "misfit": ("不拟合", "Misfit"),
    "any_flag": ("任一标记", "Any flag"),
    "mean_severity_points": ("平均严格度（分，正 = 更严）", "Mean severity (points, + = harsher)"),
    "term": ("项", "Term"),
    "estimate": ("估计（分）", "Estimate (points)"),
    "se": ("标准误", "SE"),
    "ci95_low": ("95% 下限", "95% CI low"),
    "ci95_high": ("95% 上限", "95% CI high"),
    "session": ("场次", "Session"),
    "district": ("区政府", "Districts"),
    "department": ("市级部门", "Departments"),
    "units": ("单位数", "Units"),
    "unit": ("代码", "Code"),
    "name_zh": ("单位", "Unit"),
    "name_en": ("单位", "Unit"),
    "kind": ("类型", "Kind"),
    "rank_group": ("排名组", "Ranking group"),
    "rank_raw": ("原始排名", "Rank, raw"),
    "rank_adjusted": ("校正评委宽严后排名", "Rank, rater-adjusted"),
    "rank_excluded": ("剔除被标记评委后排名", "Rank, flagged raters out"),
    "rank_fair": ("公平均分排名（MFRM）", "Rank, MFRM fair average"),
    "rank_final": ("最终排名", "Final rank"),
    "rank_final_adjusted": ("最终排名（校正）", "Final rank, adjusted"),
    "rank_final_excluded": ("最终排名（剔除）", "Final rank, flagged out"),
    "max_shift": ("最大变动", "Largest move"),
    "moves": ("平均变动名次", "Mean move (places)"),
    "units_moved": ("变动单位数", "Units that move"),
    "comparison": ("比较", "Comparison"),
}


#: ids in the cells of a table, in words: per column, id -> English words
WORDS: dict[str, dict[str, str]] = {
    "kind": {"district": "District", "department": "Department", "all": "All units"},  # as on page 10
    "rank_group": {"district": "District governments", "department": "Municipal departments", "all": "All units"},
    "facet": {"units": "Units", "raters": "Evaluators", "items": "Indicators", "indicators": "Indicators"},
    "flags": {
        "lenient": "lenient",
        "severe": "severe",
        "halo": "halo",
        "central": "central tendency",
        "favouritism": "favouritism",
        "bloc": "bloc",
        "misfit": "misfit",
    },
}
WORDS["flag"] = WORDS["flags"]


def label(column: str) -> str:
    """A column's header in English words (the page's language; the column name if unknown)."""
    return LABELS.get(column, (column, column))[1]


def in_words(column: str, value):
    """A cell's id in words (``kind`` "department" -> "Municipal department"; flags listed as "bloc, misfit" or
    "lenient / severe" word by word); anything else unchanged."""
    if column == "term" and isinstance(value, str):  # terms of the session-drift model
        import re

        plural = {k: en for k, (_, en) in KIND_LABEL.items()}
        value = re.sub(
            r"^kind (\w+) vs (\w+)$", lambda m: f"{plural.get(m[1], m[1])} vs {plural.get(m[2], m[2])}", value
        )
        return re.sub(r"^covariate (\w+)$", r"\1 score (covariate, points per point)", value)
    words = WORDS.get(column)
    if words is None or not isinstance(value, str):
        return value
    if column in ("flags", "flag"):
        return ", ".join(" / ".join(words.get(w, w) for w in part.split(" / ")) for part in value.split(", "))
    return words.get(value, value)


def _fmt_p(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
        return "–"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def table_view(
    df: pd.DataFrame,
    columns: list[str] | None = None,
    decimals: int | dict[str, int] = 2,
    index: str | None = None,
    caption: str | None = None,
):
    """A pandas Styler of ``df`` for a page: chosen ``columns``, headers in English words, fixed decimals, no row
    numbers, a ``caption``.

    Floats get ``decimals`` places (a dict gives per-column places), p- and
    q-values three places or "< 0.001", integers and nullable integers as
    whole numbers, booleans as yes/no and missing values as "–"; kinds,
    ranking groups, facets and flags are shown in words (:data:`WORDS`).
    ``df`` is not modified.

    Parameters
    ----------
    df : DataFrame
        The table.
    columns : list of str, optional
        The columns to show, in order (default all).
    decimals : int or dict
        Places of the floats, or per column.
    index : str, optional
        A column to show as the row labels instead of hiding the index.
    caption : str, optional
        The table's caption.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> df = pd.DataFrame({"kind": ["district"], "p_value": [0.0004], "rank_raw": [1]})
    >>> html = table_view(df, caption="Ranks").to_html()
    >>> "Rank, raw" in html and "< 0.001" in html and "<caption>Ranks</caption>" in html
    True
    """
    d = df.reset_index(drop=True) if columns is None else df[list(columns)].reset_index(drop=True)
    d = d.assign(**{c: d[c].map(lambda v, c=c: in_words(c, v)) for c in d.columns if c in WORDS or c == "term"})
    fmt = {}
    for c in d.columns:
        s = d[c]
        places = decimals.get(c, 2) if isinstance(decimals, dict) else decimals
        if "reliability" in c and not isinstance(decimals, dict):
            places = max(places, 3)  # 0.998 is not 1.00: a reliability never shows as perfect by rounding
        if c in ("p_value", "q_value") or c.endswith("_p_value"):
            fmt[c] = _fmt_p
        elif pd.api.types.is_bool_dtype(s):
            fmt[c] = lambda v: "yes" if v else ""
        elif pd.api.types.is_integer_dtype(s) or (
            pd.api.types.is_float_dtype(s)
            and s.dropna().apply(float.is_integer).all()
            and c.startswith(("rank", "max_shift", "n_", "count", "elements"))
        ):
            fmt[c] = lambda v: "–" if pd.isna(v) else f"{int(v):d}"
        elif pd.api.types.is_float_dtype(s):
            fmt[c] = (lambda p: lambda v: "–" if pd.isna(v) else f"{round(v, p) + 0.0:,.{p}f}")(places)  # no "-0.00"
    text = [c for c in d.columns if not (pd.api.types.is_numeric_dtype(d[c]) or pd.api.types.is_bool_dtype(d[c]))]
    d = d.rename(columns={c: label(c) for c in d.columns})
    fmt = {label(c): f for c, f in fmt.items()}
    text = [label(c) for c in text]
    if index is not None:
        d = d.set_index(label(index))
        d.index.name = None
        fmt.pop(label(index), None)
        text = [c for c in text if c != label(index)]
    sty = d.style.format(fmt, na_rep="–")
    if text:  # words read from the left; names and short words never break over two lines
        sty = sty.set_properties(subset=text, **{"text-align": "left"})
        short = [c for c in text if d[c].astype(str).str.len().max() <= 30]
        if short:
            sty = sty.set_properties(subset=short, **{"white-space": "nowrap"})
        sty = sty.set_table_styles(
            [{"selector": f"th.col{list(d.columns).index(c)}", "props": "text-align: left"} for c in text],
            overwrite=False,
        )
    if caption:
        sty = sty.set_caption(caption)
    sty = sty.set_uuid(hashlib.sha1("|".join(map(str, d.columns)).encode() + str(caption).encode()).hexdigest()[:8])
    return sty if index is not None else sty.hide(axis="index")


def _group_names(scheme) -> dict[str, str]:
    return {g.id: (g.name_zh if t("zh", "en") == "zh" else g.name_en) for g in scheme.groups}


def severity_by_group(flags, scheme) -> plt.Figure:
    """Each rater's severity (points; right = harsher) by evaluator group, flagged raters marked.

    Parameters
    ----------
    flags : RaterFlags or DataFrame
        :func:`perflab.bias.flag_raters` (or its ``table``): ``group``, ``severity_points``, ``lenient``,
        ``severe``, ``any_flag``.
    scheme : Scheme
        Names and orders the evaluator groups.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> flags = pd.DataFrame({"group": scheme.group_ids[0], "severity_points": [-3.0, 0.5, 4.0],
    ...                       "lenient": [True, False, False], "severe": False, "any_flag": [True, False, False]})
    >>> severity_by_group(flags, scheme).axes[0].get_xlabel().startswith(t("评委", "Rater severity"))
    True
    >>> plt.close("all")
    """
    df = (flags.table if hasattr(flags, "table") else flags).copy()
    df["group_label"] = df["group"].map(_group_names(scheme)).fillna(df["group"])
    order = [_group_names(scheme).get(g, g) for g in scheme.group_ids if g in set(df["group"])]
    effect = np.where(
        df["lenient"],
        t("宽松", "lenient"),
        np.where(
            df["severe"],
            t("严格", "severe"),
            np.where(df["any_flag"], t("其他标记", "other flag"), t("无标记", "no flag")),
        ),
    )
    df["flag"] = effect
    palette = {
        t("宽松", "lenient"): "tab:green",
        t("严格", "severe"): "tab:red",
        t("其他标记", "other flag"): "tab:orange",
        t("无标记", "no flag"): "0.6",
    }
    fig, ax = plt.subplots(figsize=(8.5, 0.55 * len(order) + 1.8))
    sns.boxplot(data=df, x="severity_points", y="group_label", order=order, color="0.92", fliersize=0, ax=ax)
    sns.stripplot(
        data=df,
        x="severity_points",
        y="group_label",
        order=order,
        hue="flag",
        palette=palette,
        size=5,
        jitter=0.2,
        ax=ax,
    )
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel(
        t(
            "评委严格度（分；正 = 比同一单位的其他评委给分低）",  # two lines: never wider than the figure
            "Rater severity in points\n(positive = scores lower than the other raters of the same units)",
        )
    )
    ax.set_ylabel(t("评委类别", "Evaluator group"))
    ax.set_title(t("各类评委的宽严程度", "How severe or lenient is each evaluator, by group?"))
    ax.legend(title="", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def drift_by_order(drift_units: pd.DataFrame) -> plt.Figure:
    """Rater-adjusted unit scores against presentation order, one colour per session (marker per kind if known).

    Parameters
    ----------
    drift_units : DataFrame
        :attr:`perflab.bias.DriftResult.units`: ``session``, ``order``, ``adjusted`` (and ``kind``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> units = pd.DataFrame({"session": [1, 1, 1, 2, 2, 2], "order": [1, 2, 3, 1, 2, 3],
    ...                       "adjusted": [80.0, 82.0, 81.0, 77.0, 76.0, 78.0]})
    >>> len(drift_by_order(units).axes[0].collections)  # one scatter per session
    2
    >>> plt.close("all")
    """
    df = drift_units.copy()
    df["session_label"] = t("第", "Session ") + df["session"].astype(str) + t("场", "")
    markers = {"district": "o", "department": "s"}
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for (s, sub), color in zip(df.groupby("session_label", sort=True), sns.color_palette("deep")):
        if "kind" in sub.columns:
            for k, part in sub.groupby("kind"):
                ax.scatter(
                    part["order"],
                    part["adjusted"],
                    color=color,
                    marker=markers.get(k, "o"),
                    s=30,
                    label=f"{s}: {kind_label(k)}",
                )
        else:
            ax.scatter(sub["order"], sub["adjusted"], color=color, label=s, s=30)
        if len(sub) > 2:
            b = np.polyfit(sub["order"], sub["adjusted"], 1)
            xs = np.linspace(sub["order"].min(), sub["order"].max(), 10)
            ax.plot(xs, np.polyval(b, xs), color=color, lw=1.5)
        ax.axhline(sub["adjusted"].mean(), color=color, lw=0.8, ls=":")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # an order is a whole number
    ax.set_xlabel(t("场内述职顺序", "Presentation order within the session"))
    ax.set_ylabel(
        t("单位现场得分（分，已校正评委宽严）", "Unit's on-site score (points),\nadjusted for rater severity")
    )
    ax.set_title(t("评分是否随场次和顺序漂移？", "Do scores drift across sessions and presentation order?"))
    handles, names = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.3", lw=1.5), Line2D([], [], color="0.3", lw=0.8, ls=":")]
    names += [t("场内趋势（按顺序）", "trend along the order"), t("场次均值", "session mean")]
    ax.legend(handles, names, title="", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
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


def rank_shifts(imp, rank_group: str) -> plt.Figure:
    """Raw on-site rank against the rank with rater severities removed and without flagged raters, for one
    ranking group.

    Parameters
    ----------
    imp : RankImpact or DataFrame
        :func:`perflab.bias.impact` (or its ``table``), grouped by its ``rank_group`` column (or by ``kind`` in a
        table without one).
    rank_group : str
        ``district``, ``department`` or ``all``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> imp = pd.DataFrame({"rank_group": "district", "name_zh": ["东城区", "西城区"],
    ...                     "name_en": ["Dongcheng", "Xicheng"], "rank_raw": [1, 2], "rank_adjusted": [2, 1],
    ...                     "rank_excluded": [1, 2]})
    >>> len(rank_shifts(imp, "district").axes[0].get_yticklabels())
    2
    >>> plt.close("all")
    """
    table = imp.table if hasattr(imp, "table") else imp
    groups = table["rank_group"] if "rank_group" in table.columns else table["kind"]
    sub = table[(groups == rank_group) & table["rank_raw"].notna()].sort_values("rank_raw")
    names = sub[name_column()].astype(str).map(short_name).to_numpy()  # every unit named
    y = np.arange(len(sub))
    longest = max((sum(2 if "\u3400" <= ch <= "\u9fff" else 1 for ch in n) for n in names), default=10)
    # the rank axis keeps about 5.5 in whatever the names' length (a CJK glyph is two Latin letters wide)
    fig, ax = plt.subplots(figsize=(8.2 + 0.065 * longest, 0.27 * len(sub) + 1.8))
    ax.scatter(
        sub["rank_raw"].astype(float),
        y,
        marker="o",
        color="0.3",
        label=t("原始得分排名", "rank from the raw scores"),
        zorder=3,
    )
    ax.scatter(
        sub["rank_adjusted"].astype(float),
        y,
        marker=">",
        color="tab:blue",
        label=t("校正评委宽严", "rater severity removed"),
    )
    ax.scatter(
        sub["rank_excluded"].astype(float),
        y,
        marker="x",
        color="tab:red",
        label=t("剔除被标记评委", "flagged raters left out"),
    )
    ax.set_yticks(y, names, fontsize="small")
    ax.set_ylim(len(sub) - 0.5, -0.5)  # best on top, no empty rows
    ranks = sub[["rank_raw", "rank_adjusted", "rank_excluded"]].astype(float)
    ax.set_xlim(0.5, np.nanmax(ranks.to_numpy()) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("现场评分排名（1 = 最好）", "On-site rank (1 = best)"))
    title = {
        "district": t(
            "区政府：校正评委偏差后排名的变化", "District governments: ranks after correcting for rater effects"
        ),
        "department": t(
            "市级部门：校正评委偏差后排名的变化", "Municipal departments: ranks after correcting for rater effects"
        ),
    }
    title["all"] = t("所有单位：校正评委偏差后排名的变化", "All units: ranks after correcting for rater effects")
    ax.set_title(title.get(rank_group, rank_group))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
