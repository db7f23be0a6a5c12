"""The sensitivity pages' figures: rank intervals, Sobol bars, weight-stability ranges, share bump charts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import kind_label, t
from perflab.plots.sensitivity.words import WRITTEN_MARK, _lower_first

_kind = kind_label


def rank_intervals(
    units: pd.DataFrame,
    names: pd.Series,
    kind: str,
    other: pd.DataFrame | None = None,
    labels: tuple[str, str] | None = None,
    perturbation: str | None = None,
) -> plt.Figure:
    """Each unit's 5–95 % rank interval and median rank (best first), with its nominal rank marked.

    ``units``: ``MonteCarloResult.units`` (or ``summary()``); ``other``: a second result drawn beside
    it (e.g. with the raters resampled too); ``labels`` name the two; ``perturbation`` says in words what
    moved (e.g. "every weight ±20 %"), in the title. Units flagged ``written_report``
    are labelled in grey with a † (their intervals describe the imputed average profile of their kind).
    Parameters
    ----------
    units
        ``MonteCarloResult.units`` (or ``summary()``).
    names
        Unit id → its name on the figure.
    kind
        The rank group drawn.
    other, labels, perturbation
        A second result drawn beside the first, the names of the two, and what moved, in words.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import monte_carlo
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> mc = monte_carlo(scores, pd.Series({"a": 1.0, "b": 1.0}), n=100, spread=0.5, seed=1, k=1)
    >>> names = pd.Series({"X": "Unit X", "Y": "Unit Y", "Z": "Unit Z"})
    >>> fig = rank_intervals(mc.units, names, "all")
    >>> len(fig.axes[0].get_yticklabels())
    3
    """
    sub = units[units["rank_group"] == kind].sort_values(["nominal_rank", "unit"]).reset_index(drop=True)
    n = len(sub)
    fig, ax = plt.subplots(figsize=(11, 0.26 * n + 1.8))
    y = np.arange(n)
    first, second = labels or (
        t("权重不确定", "weights uncertain"),
        t("权重与评委不确定", "weights and raters uncertain"),
    )
    sets = [(sub, 0.0, "tab:blue", first)]
    if other is not None:
        o = other.set_index("unit").reindex(sub["unit"]).reset_index()
        sets = [(sub, -0.17, "tab:blue", first), (o, 0.17, "tab:orange", second)]
    for df, off, colour, label in sets:
        ax.hlines(y + off, df["rank_p05"], df["rank_p95"], color=colour, lw=3, alpha=0.75, label=f"{label}: 5–95 %")
        ax.plot(df["median_rank"], y + off, "o", color=colour, ms=4)
    ax.plot(sub["nominal_rank"], y, "k|", ms=10, mew=2, label=t("现行权重下的名次", "rank under the scheme's weights"))
    written = sub["written_report"].to_numpy(bool) if "written_report" in sub.columns else np.zeros(n, bool)
    ticks = names.reindex(sub["unit"]).fillna(sub["unit"]).astype(str).to_numpy()
    ticks = [x + WRITTEN_MARK if w and not x.endswith(WRITTEN_MARK) else x for x, w in zip(ticks, written)]
    ax.set_yticks(y, ticks, fontsize=8)
    for lab, w in zip(ax.get_yticklabels(), written):
        if w:
            lab.set_color("0.45")
    if written.any():  # a legend entry without a mark: the footnote for the †
        ax.plot(
            [],
            [],
            " ",
            label=t(
                "† 书面报告：无现场评分，\n   现场分按同类平均推算",
                "† written report: no on-site ratings,\n   on-site score imputed",
            ),
        )
    ax.set_ylim(n - 0.5, -0.7)  # best first, no empty margin above and below the units
    ax.set_xlim(0.5, max(n, int(sub["rank_p95"].max())) + 0.5)
    ax.set_xlabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.set_ylabel("")
    what = f"（{perturbation}）" if perturbation else ""
    ax.set_title(
        t(
            f"{_kind(kind)}：权重变化时名次的可能范围{what}",
            f"How far can each rank move{' with ' + perturbation if perturbation else ''}? ({_kind(kind)})",
        )
    )
    legend_right(ax)
    return fit_width(fig, 6.5)


def fit_width(fig: plt.Figure, plot_width: float, rect=(0, 0, 1, 1)) -> plt.Figure:
    """Size a one-panel figure to its content: the plot ``plot_width`` inches wide, the figure as wide as that plus
    its labels, names and legend need (long English unit names widen the figure instead of squeezing the plot)."""
    ax = fig.axes[0]
    fig.tight_layout(rect=rect)
    box = fig.get_tightbbox(fig.canvas.get_renderer())  # inches: everything drawn, labels and legends included
    old = fig.get_figwidth()
    pos = ax.get_position()
    left, right = max(pos.x0 * old, pos.x0 * old - box.x0), max((1 - pos.x1) * old, box.x1 - pos.x1 * old)
    width = round(left + plot_width + right + 0.1, 1)  # the margins tight_layout found, in inches, kept
    fig.set_size_inches(width, fig.get_figheight())
    fig.subplots_adjust(left=left / width, right=1 - (right + 0.1) / width)
    return fig


def legend_right(ax, **kw) -> None:
    """The axes' legend outside the data, to the right of the plot, top aligned."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small", frameon=False, **kw)


def sobol_bars(result, labels: dict[str, str] | None = None) -> plt.Figure:
    """First-order and total Sobol indices of each input on each ranking group's mean absolute rank shift,
    one panel per group, with their 95 % intervals as error bars (``result``: a ``SobolResult``).
    Parameters
    ----------
    result
        A :class:`perflab.sensitivity.SobolResult`.
    labels
        Input id → its name on the figure.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per rank group.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import sobol_indices
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> sob = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=16, spread=0.5, seed=1, num_resamples=10)
    >>> len(sobol_bars(sob).axes)
    1
    """
    summ = result.summary()
    groups = list(pd.unique(summ["rank_group"]))
    order = summ.groupby("input", sort=False)["ST"].max().sort_values(ascending=False).index
    ylab = [(labels or {}).get(i, i) for i in order]
    x = result.settings.get("spread")
    fig, axes = plt.subplots(
        1, len(groups), figsize=(5.2 * len(groups) + 2.2, 0.5 * len(order) + 2.2), sharey=True, squeeze=False
    )
    y = np.arange(len(order))
    names = {
        "S1": t("一阶（单独作用）", "first order (alone)"),
        "ST": t("总效应（含交互）", "total (with interactions)"),
    }
    for ax, grp in zip(axes[0], groups):
        sub = summ[summ["rank_group"] == grp].set_index("input").reindex(order)
        for off, col, colour in ((-0.18, "S1", "tab:blue"), (0.18, "ST", "tab:orange")):
            ax.barh(
                y + off,
                sub[col],
                height=0.34,
                color=colour,
                alpha=0.85,
                label=names[col],
                xerr=sub[f"{col}_conf"],
                error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "0.25"},
            )
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_yticks(y, ylab)
        ax.set_title(_kind(grp))
        ax.set_xlabel(
            t("Sobol 指数（名次平均变动的方差占比）", "Sobol index (share of the variance\nof the mean rank shift)")
        )
    axes[0][0].set_ylim(len(order) - 0.5, -0.5)  # shared: the input with the largest index on top
    handles, labs = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="lower center", ncol=2, fontsize="small", frameon=False)
    level = round(100 * result.settings.get("conf_level", 0.95))
    move = t(f"每个输入变动 ±{100 * x:.0f} %", f"every input moved ±{100 * x:.0f} %") if x else ""
    if result.settings.get("share_range_given"):
        move = t(
            f"权重 ±{100 * x:.0f} %，评委组权重范围另定", f"weights ±{100 * x:.0f} %, share over a range given apart"
        )
    fig.suptitle(
        t(
            f"哪个输入最能改变排名？（{move}；误差线：{level} % 区间）",
            f"Which input moves the ranking most? ({move}; bars: {level} % intervals)",
        )
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def weight_ranges(
    top_k: pd.DataFrame, kind: str, labels: dict[str, str] | None = None, total: float | None = None
) -> plt.Figure:
    """For each indicator, the exact range of its weight over which the top-k set of a kind stays the same.
    Parameters
    ----------
    top_k
        ``StabilityResult.top_k``.
    kind
        The rank group drawn.
    labels
        Indicator id → its name.
    total
        The weights' total (the axis ends there).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import stability_intervals
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> stab = stability_intervals(scores, pd.Series({"a": 50.0, "b": 50.0}), k=1)
    >>> len(weight_ranges(stab.top_k, "all", total=100).axes[0].get_yticklabels())
    2
    """
    sub = top_k[top_k["rank_group"] == kind].copy()
    sub["label"] = sub["indicator"].map(lambda x: (labels or {}).get(x, x))
    k = int(sub["k"].iloc[0])
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(sub) + 1.8))
    y = np.arange(len(sub))
    ax.hlines(
        y,
        sub["weight_low"],
        sub["weight_high"],
        color="tab:green",
        lw=8,
        alpha=0.6,
        label=t(f"前{k}名不变的权重范围", f"weights keeping the same top {k}"),
    )
    ax.plot(sub["weight"], y, "kD", ms=6, label=t("现行权重", "the scheme's weight"))
    ax.set_yticks(y, sub["label"].to_numpy())
    ax.invert_yaxis()
    if total:
        ax.set_xlim(0, total)
    ax.set_xlabel(
        t("该指标的权重（其余指标按比例调整）", "Weight of the indicator (the others rescaled to keep the total)")
    )
    ax.set_title(
        t(
            f"{_kind(kind)}：权重可以移动多远而前{k}名不变？",
            f"How far can each weight move before the top {k} changes? ({_kind(kind)})",
        )
    )
    legend_right(ax)
    return fit_width(fig, 6.0)


def share_bump_chart(
    segments: pd.DataFrame,
    swaps: pd.DataFrame,
    names: pd.Series,
    kind: str,
    k: int,
    nominal_share: float | None = None,
    group_label: str = "grassroots",
) -> plt.Figure:
    """Rank of every unit of a kind as one group's share moves (exact steps), breakpoints marked.

    Every unit is named at the right end of its line (its rank at the highest share): the units that are ever
    in the top k in colour with thick lines, the others in grey. Dotted lines mark every share at which two
    units swap, red dashed lines those at which the top-k set changes, a black line the scheme's share; the
    legend says so below the plot, off the data.
    Parameters
    ----------
    segments, swaps
        ``ShareBreakpoints.segments`` and ``.swaps``.
    names
        Unit id → its name on the figure.
    kind
        The rank group drawn.
    k
        The top k marked.
    nominal_share, group_label
        The scheme's share (a black line) and the group's name.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import share_breakpoints
    >>> groups = pd.DataFrame({"experts": [90.0, 70.0, 80.0], "grassroots": [60.0, 85.0, 70.0]}, index=["X", "Y", "Z"])
    >>> sb = share_breakpoints(groups, pd.Series({"experts": 0.7, "grassroots": 0.3}), "grassroots", k=1)
    >>> names = pd.Series({"X": "Unit X", "Y": "Unit Y", "Z": "Unit Z"})
    >>> fig = share_bump_chart(sb.segments, sb.swaps, names, "all", 1, 0.3)
    >>> len(fig.axes) >= 1
    True
    """
    from matplotlib.lines import Line2D

    seg = segments[segments["rank_group"] == kind]
    sw = swaps[swaps["rank_group"] == kind]
    n = seg["unit"].nunique()
    fig, ax = plt.subplots(figsize=(10, 0.2 * n + 2.6))
    ever_top = set(seg.loc[seg["rank"] <= k, "unit"])
    palette = dict(zip(sorted(ever_top), sns.color_palette("tab10", max(1, len(ever_top)))))
    lo, hi = seg["share_low"].min(), seg["share_high"].max()
    for unit, g in seg.groupby("unit", sort=False):
        g = g.sort_values("share_low")
        x = np.r_[g["share_low"].to_numpy(), g["share_high"].to_numpy()[-1]]
        yv = np.r_[g["rank"].to_numpy(), g["rank"].to_numpy()[-1]]
        top = unit in ever_top
        ax.step(x, yv, where="post", color=palette.get(unit, "0.7"), lw=2.2 if top else 0.9, zorder=3 if top else 2)
        ax.annotate(
            str(names.get(unit, unit)),
            (1, yv[-1]),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7 if n > 20 else 8,
            color=palette.get(unit, "0.35"),
            fontweight="bold" if top else "normal",
            annotation_clip=False,
        )
    for s in sw["share"].unique():
        ax.axvline(s, color="0.6", lw=0.5, ls=":", zorder=1)
    for s in sw.loc[sw["top_k_changes"], "share"].unique():
        ax.axvline(s, color="tab:red", lw=1.2, ls="--", zorder=1)
    handles = [
        Line2D([], [], color="0.6", lw=0.8, ls=":", label=t("两个单位交换名次", "two units swap")),
        Line2D([], [], color="tab:red", lw=1.2, ls="--", label=t(f"前{k}名发生变化", f"the top {k} changes")),
    ]
    if nominal_share is not None:
        ax.axvline(nominal_share, color="k", lw=1.0, zorder=1)
        handles.append(Line2D([], [], color="k", lw=1.0, label=t("现行方案的权重", "the scheme's share")))
    ax.grid(axis="y", visible=False)  # the units' own lines are the horizontal structure
    ax.set_ylim(n + 0.5, 0.5)  # best on top
    ax.set_yticks([r for r in (1, *range(5, n + 1, 5)) if r <= n] if n > 20 else range(1, n + 1))
    ax.set_xlim(lo, hi)
    ax.set_xticks(np.linspace(lo, hi, 7))
    ax.set_xlabel(
        t(
            f"{group_label}的权重（其余评委组按比例调整）",
            f"Share of the {_lower_first(group_label)} in the on-site score (other groups rescaled)",
        )
    )
    ax.set_ylabel(t("名次（1 = 最好）", "Rank (1 = best)"))
    ax.set_title(
        t(
            f"{_kind(kind)}：{group_label}权重变化时的名次",
            f"Ranks of the {_kind(kind)} as the {_lower_first(group_label)}' share moves",
        )
    )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize="small", frameon=False)
    return fit_width(fig, 7.0, rect=(0, 0.35 / fig.get_figheight(), 1, 1))
