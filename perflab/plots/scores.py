"""The figures of notebook 10 (scores): scores by zone, ranking bars, on-site against routine, satisfaction by zone.

Drawn with matplotlib in seaborn's theme (:func:`perflab.plots.theme`), without importing seaborn (see
:mod:`perflab.plots`); every name is importable from :mod:`perflab.plots` too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from perflab.plots import DEEP, _wrap, name_column, short_name, spread_positions, t, zone_names


def scores_by_zone(scores: pd.DataFrame, scheme) -> plt.Figure:
    """Final scores of every unit by zone, one panel per kind (points over boxes); each zone's best and last unit
    named (every unit is named in the ranking charts).

    Parameters
    ----------
    scores : pandas.DataFrame
        The scores table (:func:`perflab.scoring.score_units`): one row per unit with kind, zone, final and the name
        columns (``name_zh``, ``name_en``).
    scheme : Scheme
        Gives the zones' names and order.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per kind present (districts, then departments), sharing the score axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = pd.DataFrame(
    ...     {
    ...         "kind": ["district", "district", "district", "department", "department"],
    ...         "zone": ["core", "core", "extension", "economy", "social"],
    ...         "name_en": ["Dongcheng District", "Xicheng District", "Chaoyang District", "Finance", "Education"],
    ...         "name_zh": ["东城区", "西城区", "朝阳区", "市财政局", "市教委"],
    ...         "onsite": [90.0, 85.0, 88.0, 80.0, 84.0],
    ...         "routine": [92.0, 80.0, 86.0, 83.0, 79.0],
    ...         "final": [91.0, 84.0, 87.5, 81.0, 82.5],
    ...         "rank": [1, 3, 2, 2, 1],
    ...     }
    ... )
    >>> fig = scores_by_zone(scores, scheme)
    >>> [ax.get_title() for ax in fig.axes]
    ['District governments', 'Municipal departments']
    >>> len(fig.axes[0].get_xticklabels()), fig.axes[0].get_xlabel()  # the districts' two zones
    (2, 'Zone (peer group)')
    >>> plt.close(fig)
    """
    df = scores.assign(zone_label=scores["zone"].map(zone_names(scheme)).fillna(scores["zone"]))
    kinds = [k for k in ("district", "department") if k in set(df["kind"])]
    widths = [max(2, df.loc[df["kind"] == k, "zone"].nunique()) for k in kinds]
    fig, axes = plt.subplots(
        1,
        len(kinds),
        figsize=(1.3 * sum(widths) + 1.6, 5.6),
        squeeze=False,
        sharey=True,
        gridspec_kw={"width_ratios": widths},
    )
    kind_label = {"district": t("区政府", "District governments"), "department": t("市级部门", "Municipal departments")}
    name = name_column()
    for ax, kind in zip(axes[0], kinds):
        sub = df[df["kind"] == kind]
        order = list(dict.fromkeys(z for z in zone_names(scheme) if z in set(sub["zone"])))
        labels = [zone_names(scheme).get(z, z) for z in order] or sorted(sub["zone_label"].unique())
        members = [sub[(sub["zone_label"] == z) & sub["final"].notna()] for z in labels]
        groups = [m["final"].to_numpy() for m in members]
        x = np.arange(len(labels))
        ax.boxplot(
            groups,
            positions=x,
            widths=0.6,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "0.92", "edgecolor": "0.45"},
            medianprops={"color": "0.35"},
            whiskerprops={"color": "0.45"},
            capprops={"color": "0.45"},
        )
        rng = np.random.default_rng(0)  # the same jitter on every run
        for i, m in enumerate(members):
            xs = x[i] + rng.uniform(-0.15, 0.15, len(m))
            ax.scatter(xs, m["final"], s=36, color=DEEP[i % len(DEEP)], zorder=3, edgecolor="white", linewidth=0.5)
            if len(m):
                best, last = m["final"].to_numpy().argmax(), m["final"].to_numpy().argmin()
                for j, va, dy in ((best, "bottom", 0.35), (last, "top", -0.35)):
                    ax.annotate(
                        _wrap(short_name(m[name].iloc[j]), 14),
                        (xs[j], m["final"].iloc[j]),
                        xytext=(x[i], m["final"].iloc[j] + dy),
                        ha="center",
                        va=va,
                        fontsize=7.5,
                        color="0.2",
                        zorder=4,
                    )
                    if best == last:
                        break
        ax.set_xticks(x, [_wrap(lab, 12) for lab in labels])  # wrapped, not rotated: zone names never overlap
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_title(kind_label[kind])
        ax.set_xlabel(t("功能区 / 领域", "Zone (peer group)"))
        ax.set_ylabel(t("综合得分", "Final score (0–100)"))
    lo, hi = df["final"].min(), df["final"].max()
    axes[0][0].set_ylim(lo - 2.5, hi + 2.5)  # room for the names above the best and below the last
    fig.suptitle(
        t("各功能区得分分布（标出各区最高与最低单位）", "Final scores by zone (each zone's best and last unit named)")
    )
    fig.tight_layout()
    return fig


def ranking_bars(scores: pd.DataFrame, scheme, kind: str, top: int | None = None) -> plt.Figure:
    """Horizontal bars of the final score, best first, coloured by zone; units with an imputed component marked.

    Parameters
    ----------
    scores : pandas.DataFrame
        The scores table: kind, zone, rank, final, the name columns and, if any unit has one, ``imputed`` (the
        imputed component's name, empty otherwise).
    scheme : Scheme
        Gives the zones' names and order (the legend's).
    kind : str
        ``district`` or ``department``: the ranking to draw.
    top : int, optional
        Only the best ``top`` units; None: all of them.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per unit, labelled "rank. name", the zones in a legend beside the bars.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = pd.DataFrame(
    ...     {
    ...         "kind": ["district", "district", "district", "department", "department"],
    ...         "zone": ["core", "core", "extension", "economy", "social"],
    ...         "name_en": ["Dongcheng District", "Xicheng District", "Chaoyang District", "Finance", "Education"],
    ...         "name_zh": ["东城区", "西城区", "朝阳区", "市财政局", "市教委"],
    ...         "onsite": [90.0, 85.0, 88.0, 80.0, 84.0],
    ...         "routine": [92.0, 80.0, 86.0, 83.0, 79.0],
    ...         "final": [91.0, 84.0, 87.5, 81.0, 82.5],
    ...         "rank": [1, 3, 2, 2, 1],
    ...     }
    ... )
    >>> fig = ranking_bars(scores, scheme, "district")
    >>> len(fig.axes[0].patches), fig.axes[0].get_title()
    (3, 'Ranking of district governments')
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['1. Dongcheng District', '2. Chaoyang District', '3. Xicheng District']
    >>> plt.close(fig)
    """
    sub = scores[scores["kind"] == kind].sort_values("rank")
    if top:
        sub = sub.head(top)
    mark = t(" (书面)", " (written)")
    imputed = sub["imputed"].fillna("").astype(str) != "" if "imputed" in sub else pd.Series(False, index=sub.index)
    names = (
        sub["rank"].map(lambda r: "" if pd.isna(r) else f"{int(r)}. ")
        + sub[name_column()].astype(str)
        + imputed.map({True: mark, False: ""})
    )
    zones = sub["zone"].map(zone_names(scheme)).fillna(sub["zone"])
    order = [z for z in dict.fromkeys(list(zone_names(scheme).values()) + list(zones)) if z in set(zones)]
    palette = {z: DEEP[n % len(DEEP)] for n, z in enumerate(order)}
    fig, ax = plt.subplots(figsize=(10.5, 0.28 * len(sub) + 1.8))
    y = np.arange(len(sub))
    ax.barh(y, sub["final"].to_numpy(), color=[palette[z] for z in zones], height=0.8)
    ax.set_yticks(y, names.to_numpy())
    ax.set_ylim(len(sub) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    lo = max(0.0, float(sub["final"].min()) - 5)
    ax.set_xlim(lo, min(100.0, float(sub["final"].max()) + 2))
    ax.set_xlabel(t("综合得分", "Final score (0–100)"))
    ax.set_ylabel("")
    ax.legend(
        [plt.Rectangle((0, 0), 1, 1, color=palette[z]) for z in order],
        order,
        title=t("功能区 / 领域", "Zone"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize="small",
    )  # beside the bars, never over them
    title = {
        "district": t("区政府排名", "Ranking of district governments"),
        "department": t("市级部门排名", "Ranking of municipal departments"),
    }[kind]
    if imputed.any():
        title += t(
            "（书面：仅提交书面报告，现场得分取同类均值）",
            "\n(written: report only, on-site score imputed as the kind's mean)",
        )
    ax.set_title(title)
    fig.tight_layout()
    return fig


def components_scatter(scores: pd.DataFrame, highlight: int = 5) -> plt.Figure:
    """On-site score against routine score, one panel per kind, one point per unit: do the evaluators and the
    figures agree? The ``highlight`` units of each kind furthest from agreement (largest gap between their on-site
    and routine ranks) are named; every point's scores are in the scores table.

    Parameters
    ----------
    scores : pandas.DataFrame
        The scores table: kind, onsite, routine and the name columns; units missing either score are left out.
    highlight : int
        How many units of each kind to name.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per kind present, routine score across, on-site score up.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = pd.DataFrame(
    ...     {
    ...         "kind": ["district", "district", "district", "department", "department"],
    ...         "zone": ["core", "core", "extension", "economy", "social"],
    ...         "name_en": ["Dongcheng District", "Xicheng District", "Chaoyang District", "Finance", "Education"],
    ...         "name_zh": ["东城区", "西城区", "朝阳区", "市财政局", "市教委"],
    ...         "onsite": [90.0, 85.0, 88.0, 80.0, 84.0],
    ...         "routine": [92.0, 80.0, 86.0, 83.0, 79.0],
    ...         "final": [91.0, 84.0, 87.5, 81.0, 82.5],
    ...         "rank": [1, 3, 2, 2, 1],
    ...     }
    ... )
    >>> fig = components_scatter(scores, highlight=1)
    >>> len(fig.axes), fig.axes[0].get_ylabel()
    (2, 'On-site score (evaluators)')
    >>> [len(ax.texts) for ax in fig.axes]  # one unit named per kind
    [1, 1]
    >>> plt.close(fig)
    """
    df = scores.dropna(subset=["onsite", "routine"]).copy()
    kinds = [k for k in ("district", "department") if k in set(df["kind"])]
    kind_label = {"district": t("区政府", "District governments"), "department": t("市级部门", "Municipal departments")}
    fig, axes = plt.subplots(1, len(kinds), figsize=(6.2 * len(kinds), 5.4), squeeze=False)
    name = name_column()
    for n, (ax, kind) in enumerate(zip(axes[0], kinds)):
        sub = df[df["kind"] == kind]
        gap = (sub["onsite"].rank(pct=True) - sub["routine"].rank(pct=True)).abs()
        named = gap.sort_values(ascending=False, kind="stable").index[:highlight]
        rest = sub.drop(index=named)
        ax.scatter(rest["routine"], rest["onsite"], s=44, color=DEEP[n], alpha=0.55, edgecolor="white", linewidth=0.5)
        hl = sub.loc[named]
        ax.scatter(hl["routine"], hl["onsite"], s=60, color=DEEP[n], edgecolor="black", linewidth=0.9, zorder=3)
        xr = sub["routine"].max() - sub["routine"].min() or 1.0
        yr = sub["onsite"].max() - sub["onsite"].min() or 1.0
        right = (hl["routine"] < sub["routine"].min() + 0.6 * xr).to_numpy()  # name on the side with room
        ty = hl["onsite"].to_numpy(float).copy()
        for side in (True, False):  # names on one side never overlap
            ty[right == side] = spread_positions(ty[right == side], 0.05 * yr)
        for (_, r), rt, y_text in zip(hl.iterrows(), right, ty):
            ax.annotate(
                short_name(r[name]),
                (r["routine"], r["onsite"]),
                xytext=(r["routine"] + (1 if rt else -1) * 0.02 * xr, y_text),
                ha="left" if rt else "right",
                va="center",
                fontsize=8,
                arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 3},
            )
        ax.set_title(kind_label[kind])
        ax.set_xlabel(t("日常考评得分（专项考评部门）", "Routine score (special-evaluation departments)"))
        ax.set_ylabel(t("现场评分", "On-site score (evaluators)"))
        ax.margins(x=0.12, y=0.08)
    fig.suptitle(
        t(
            f"现场评分与日常考评是否一致？（标出两者名次相差最大的 {highlight} 个单位）",
            f"Do the evaluators and the figures agree? (the {highlight} units whose two ranks differ most named)",
        )
    )
    fig.tight_layout()
    return fig


def satisfaction_by_zone(summary: pd.DataFrame, scheme) -> plt.Figure:
    """Mean satisfaction of each kind and zone, unweighted and weighted by respondents, against the published
    mean of the kind (from ``survey.satisfaction_summary``); each row says how many units and respondents it has.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`perflab.survey.satisfaction_summary`: kind, level (``kind`` or ``zone``), zone, mean,
        weighted_mean, published, units, respondents; each kind's own row first.
    scheme : Scheme
        Gives the zones' names.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per kind present, one row per kind and zone.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> summary = pd.DataFrame(
    ...     {
    ...         "kind": ["district"] * 3,
    ...         "level": ["kind", "zone", "zone"],
    ...         "zone": [None, "core", "extension"],
    ...         "mean": [80.0, 82.0, 78.0],
    ...         "weighted_mean": [79.5, 81.0, 78.5],
    ...         "published": [80.5] * 3,
    ...         "units": [3, 2, 1],
    ...         "respondents": [3000, 2000, 1000],
    ...     }
    ... )
    >>> fig = satisfaction_by_zone(summary, load_scheme("params/beijing_2016.yaml"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['All districts', 'Capital core', 'Urban function extension']
    >>> plt.close(fig)
    """
    kinds = [k for k in ("district", "department") if k in set(summary["kind"])]
    zn = zone_names(scheme)
    heights = [1 + (summary["kind"] == k).sum() for k in kinds]
    fig, axes = plt.subplots(
        len(kinds), 1, figsize=(10, 0.42 * sum(heights) + 2.2), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    kind_all = {"district": t("全部区政府", "All districts"), "department": t("全部市级部门", "All departments")}
    title = {
        "district": t("区政府：公众满意度", "District governments: public satisfaction"),
        "department": t("市级部门：服务对象满意度", "Municipal departments: service users' satisfaction"),
    }
    for ax, kind in zip(axes[:, 0], kinds):
        s = summary[summary["kind"] == kind]
        labels = [kind_all[kind] if r.level == "kind" else zn.get(r.zone, r.zone) for r in s.itertuples()]
        y = np.arange(len(s))
        ax.scatter(s["mean"], y, s=55, color=DEEP[0], zorder=3, label=t("均值（每单位一次）", "mean (each unit once)"))
        ax.scatter(
            s["weighted_mean"],
            y,
            s=55,
            marker="D",
            facecolor="none",
            edgecolor=DEEP[1],
            linewidth=1.5,
            zorder=3,
            label=t("按受访人数加权", "weighted by respondents"),
        )
        pub = s["published"].iloc[0]
        if np.isfinite(pub):
            ax.axvline(pub, color="0.25", linestyle="--", linewidth=1, label=t("公布均值", "published mean"))
        ax.set_yticks(y, labels)
        ax.set_ylim(len(s) - 0.5, -0.5)
        ax.get_yticklabels()[0].set_fontweight("bold")
        values = np.r_[s["mean"].to_numpy(), s["weighted_mean"].dropna().to_numpy(), [pub] if np.isfinite(pub) else []]
        lo, hi = values.min(), values.max()
        ax.set_xlim(lo - 0.1 * (hi - lo) - 0.3, hi + 0.1 * (hi - lo) + 0.3)
        for yi, r in zip(y, s.itertuples()):  # beside the panel, off the data
            ax.annotate(
                t(f"{r.units} 个单位，{r.respondents:,} 人", f"{r.units} units, {r.respondents:,} respondents"),
                (1, yi),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8.5,
                color="0.3",
            )
        ax.set_title(title[kind], loc="left")
        ax.set_xlabel(t("满意度（0–100）", "Satisfaction (0–100)"))
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, frameon=False, fontsize="small")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
