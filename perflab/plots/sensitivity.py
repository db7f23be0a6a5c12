"""Figures and tables for the sensitivity notebooks (30, 50): rank intervals, Sobol bars, weight-stability ranges,
share bump charts, and the tables the pages show (headers in words, fixed decimals, no row index)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import KIND_LABEL, kind_label, t  # noqa: F401  (KIND_LABEL: kept importable from here)
from perflab.plots.tables import table  # noqa: F401  (the pages' one table format, importable from here too)

_kind = kind_label


def group_words(group: str) -> str:
    """A ranking group in English words (the pages' prose and tables are English; figures follow the language):
    "district governments", "municipal departments", or "units" when the scheme ranks all units together."""
    return "units" if group == "all" else KIND_LABEL.get(group, (group, group))[1]


WRITTEN_MARK = " †"  # after the name of a unit with no on-site ratings (written report only; on-site score imputed)


# ---------------------------------------------------------------------------
# numbers and tables for the pages
# ---------------------------------------------------------------------------


def pct(x: float, digits: int = 0, sign: bool = False) -> str:
    """A fraction as a percentage in words: 0.2 → "20 %"; negative values "−27 %"; ``sign``: "+20 %"."""
    v = round(100 * float(x), digits)
    mag = f"{abs(v):.{digits}f} %"
    if v < 0:
        return "−" + mag
    return "+" + mag if sign and v > 0 else mag


def pm(x: float, digits: int = 0) -> str:
    """A relative change as "±20 %"."""
    return "±" + pct(x, digits)


def mark_written(names: pd.Series, written: pd.Series) -> pd.Series:
    """Unit names with † after those of written-report units (no on-site ratings: on-site score imputed)."""
    w = written.reindex(names.index).fillna(False).astype(bool)
    return names.astype(str).where(~w, names.astype(str) + WRITTEN_MARK)


def oat_table(oat: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per indicator and direction: the weight moved (from → to), and per ranking group how many units
    change rank and the largest change — headers in words."""
    g = (
        oat.assign(moved=oat["rank_change"] != 0, abs_change=oat["rank_change"].abs())
        .groupby(["indicator", "change", "nominal_weight", "weight", "rank_group"], sort=False)
        .agg(units=("unit", "size"), moved=("moved", "sum"), largest=("abs_change", "max"))
        .reset_index()
    )
    rows = g[["indicator", "change", "nominal_weight", "weight"]].drop_duplicates().reset_index(drop=True)
    out = pd.DataFrame(
        {
            "Indicator": rows["indicator"].map(labels or {}).fillna(rows["indicator"]),
            "Change": [pct(c, sign=True) for c in rows["change"]],
            "Weight": [f"{a:g}\u00a0→\u00a0{b:g}" for a, b in zip(rows["nominal_weight"], rows["weight"])],
        }
    )  # never wraps
    for grp in pd.unique(g["rank_group"]):
        sub = g[g["rank_group"] == grp].set_index(["indicator", "change"])
        key = pd.MultiIndex.from_frame(rows[["indicator", "change"]])
        n = int(sub["units"].iloc[0])
        out[f"{group_words(grp)}: units changing rank (of {n})"] = sub["moved"].reindex(key).to_numpy().astype(int)
        out[f"{group_words(grp)}: largest rank change"] = sub["largest"].reindex(key).to_numpy().astype(int)
    return out


def tau_table(results: dict) -> pd.DataFrame:
    """Kendall's τ against the scheme's ranking, per perturbation (``results``: label → MonteCarloResult) and
    ranking group: the number of draws it is computed on, mean, 5 %, median, 95 % and lowest."""
    rows = []
    for label, res in results.items():
        for grp, tau in res.tau.groupby("rank_group", sort=False)["tau"]:
            rows.append(
                {
                    "Perturbation": label,
                    "Ranking group": group_words(grp),
                    "Draws τ is computed on": int(tau.size),
                    "Mean τ": tau.mean(),
                    "5 % quantile": tau.quantile(0.05),
                    "Median": tau.median(),
                    "95 % quantile": tau.quantile(0.95),
                    "Lowest": tau.min(),
                }
            )
    return pd.DataFrame(rows)


def _group_words(grp: str, written: bool | None) -> str:
    if written is None:
        return group_words(grp)
    return group_words(grp) + (" — written report (on-site score imputed)" if written else " — presented on site")


def width_table(results: dict) -> pd.DataFrame:
    """Rank-interval widths per perturbation (``results``: label → MonteCarloResult), ranking group and — apart —
    the written-report units: units, mean, median and largest 5–95 % width, units with a single rank."""
    rows = []
    for label, res in results.items():
        w = res.interval_widths()
        for r in w.itertuples(index=False):
            rows.append(
                {
                    "Perturbation": label,
                    "Units": _group_words(r.rank_group, getattr(r, "written_report", None)),
                    "Number": int(r.units),
                    "Mean width (ranks)": r.mean_width,
                    "Median width": r.median_width,
                    "Largest width": r.largest_width,
                    "Units with a single rank": int(r.single_rank),
                }
            )
    return pd.DataFrame(rows)


def sobol_inputs_table(result, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Each Sobol input's nominal value, the range sampled, and where it ends up after renormalisation."""
    i = result.inputs
    lab = i["input"].map(labels or {}).fillna(i["input"])
    return pd.DataFrame(
        {
            "Input": lab,
            "Scheme's value": i["nominal"].map(lambda v: f"{v:g}"),
            "Range sampled": [f"{a:.3g} – {b:.3g}" for a, b in zip(i["low"], i["high"])],
            "As % of the scheme's value": [
                f"{pct(a / 100, sign=True)} to {pct(b / 100, sign=True)}" for a, b in zip(i["low_pct"], i["high_pct"])
            ],
            "After renormalising (extremes)": [
                f"{a:.3g} – {b:.3g} ({pct(c / 100, sign=True)} to {pct(d / 100, sign=True)})"
                for a, b, c, d in zip(
                    i["effective_low"], i["effective_high"], i["effective_low_pct"], i["effective_high_pct"]
                )
            ],
        }
    )


def sobol_table(result, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Per ranking group and input: S1 and ST on the group's mean absolute rank shift with their 95 % half-widths,
    then a row with the interaction share 1 − ΣS1 — headers in words."""
    level = round(100 * result.settings.get("conf_level", 0.95))
    summ = result.summary()
    inter = result.group_interaction().set_index("rank_group")
    rows = []
    for grp in pd.unique(summ["rank_group"]):
        for r in summ[summ["rank_group"] == grp].itertuples(index=False):
            rows.append((group_words(grp), (labels or {}).get(r.input, r.input), r.S1, r.S1_conf, r.ST, r.ST_conf))
        rows.append(
            (
                group_words(grp),
                "interactions (1 − ΣS1)",
                inter.loc[grp, "interaction"],
                inter.loc[grp, "interaction_conf"],
                np.nan,
                np.nan,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Ranking group",
            "Input",
            "First order S1",
            f"S1 ± ({level} % interval)",
            "Total ST",
            f"ST ± ({level} % interval)",
        ],
    )


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


def share_words(group_name: str) -> str:
    """The Sobol input "share of a group" in the pages' English prose and tables: "share of the grassroots
    representatives" (a Chinese name stays as it is, like the indicators' names)."""
    return f"share of the {_lower_first(group_name)}"


def share_label(group_name: str) -> str:
    """The Sobol input "share of a group" for a figure, all in the figure's language (pass the name in it)."""
    return t(f"{group_name}的权重", share_words(group_name))


def _lower_first(words: str) -> str:
    """A name inside an English sentence: "Grassroots representatives" → "grassroots representatives"."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


def sobol_bars(result, labels: dict[str, str] | None = None) -> plt.Figure:
    """First-order and total Sobol indices of each input on each ranking group's mean absolute rank shift,
    one panel per group, with their 95 % intervals as error bars (``result``: a ``SobolResult``)."""
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
    """For each indicator, the exact range of its weight over which the top-k set of a kind stays the same."""
    sub = top_k[top_k["rank_group"] == kind].copy()
    sub["label"] = sub["indicator"].map(labels or {}).fillna(sub["indicator"])
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


# ---------------------------------------------------------------------------
# sentences for the pages, built from the numbers they cite
# ---------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def sobol_inputs_text(result, labels: dict[str, str] | None = None) -> str:
    """What the Sobol analysis varied and by how much, in words (Markdown), from ``result.inputs``/``settings``."""
    from perflab.sensitivity import SOBOL_ESTIMATOR

    st, inp = result.settings, result.inputs
    x = st["spread"]
    share = inp["input"].astype(str).str.startswith("share:")
    w = inp[~share]
    total = float(w["nominal"].sum())
    ext = "; ".join(
        f"a {r.nominal:g}-point weight between {r.effective_low:.3g} and {r.effective_high:.3g} "
        f"({pct(r.effective_low_pct / 100, sign=True)} to {pct(r.effective_high_pct / 100, sign=True)})"
        for r in w.drop_duplicates("nominal").sort_values("nominal", ascending=False).itertuples()
    )
    level = round(100 * st["conf_level"])
    text = (
        f"**Inputs and their ranges.** {st['n']:,} base points, {st['runs']:,} model runs on Saltelli's design; "
        f"estimators: {SOBOL_ESTIMATOR}; {level} % intervals by bootstrap over the base points "
        f"({st['num_resamples']} resamples). Each of the {len(w)} weights is multiplied by its own random factor "
        f"between {1 - x:g} and {1 + x:g} ({pm(x)} of its value) and the weights are renormalised to their total of "
        f"{total:g}. Renormalising moves each weight further than its own factor, because the others move too: at "
        f"the extremes, {ext}. The factors are independent inputs; the renormalised weights are not (they always "
        f"sum to {total:g})."
    )
    if share.any():
        r = inp[share].iloc[0]
        lab = (labels or {}).get(r["input"], r["input"])
        if not st.get("share_range_given"):
            text += (
                f" The {lab} moves between {r['low']:.3g} and {r['high']:.3g}, {pm(x)} of its {r['nominal']:.3g} "
                "in the scheme (the other groups rescaled): the same relative range as each weight's factor."
            )
        else:
            wider = (r["high"] - r["low"]) / r["nominal"] / (2 * x)
            text += (
                f" The {lab} moves between {r['low']:g} and {r['high']:g}, {pct(r['low_pct'] / 100, sign=True)} "
                f"to {pct(r['high_pct'] / 100, sign=True)} of its {r['nominal']:.3g} in the scheme (the other groups "
                f"rescaled): relative to its value, a range {wider:.1f} times as wide as each weight's {pm(x)}. "
                "This wider range was asked for explicitly (`sobol_share_range`): it answers whether any share "
                "within it moves the ranking more than the weights do, and the share's indices are then not "
                "comparable one for one with the weights'."
            )
    return text


def sobol_findings(result, labels: dict[str, str] | None = None) -> str:
    """The Sobol results in words (Markdown): per ranking group the leading inputs by total index with their
    intervals, where the share stands, the interaction share, and what the negative first-order estimates mean."""
    summ = result.summary()
    inter = result.group_interaction().set_index("rank_group")
    lab = lambda i: (labels or {}).get(i, i)  # noqa: E731
    x = result.settings["spread"]
    move = (
        f"every input moved by {pm(x)} of its value"
        if not result.settings.get("share_range_given")
        else f"every weight moved by {pm(x)} and the share over its own range"
    )
    parts = []
    for grp in pd.unique(summ["rank_group"]):
        s = summ[summ["rank_group"] == grp].reset_index(drop=True)
        lead = "; then ".join(f"{lab(r.input)} (ST {r.ST:.2f} ± {r.ST_conf:.2f})" for r in s.head(2).itertuples())
        words = "all units" if grp == "all" else group_words(grp)
        text = f"**{words[:1].upper() + words[1:]}**, with {move}: the largest total indices are {lead}"
        sh = s.index[s["input"].astype(str).str.startswith("share:")]
        if len(sh) and sh[0] > 1:
            r = s.loc[sh[0]]
            text += f"; the {lab(r['input'])} is {_ordinal(int(sh[0]) + 1)} of {len(s)} (ST {r['ST']:.2f} ± {r['ST_conf']:.2f})"
        i = inter.loc[grp]
        text += (
            f". Interactions (1 − ΣS1) account for {i['interaction']:.2f} ± {i['interaction_conf']:.2f} of the "
            "variance of the group's mean rank shift."
        )
        parts.append(text)
    big = inter["interaction"].max()
    if big > 0.2:
        parts.append(
            f"An interaction share as large as {big:.2f} is expected of this output: the mean rank shift is a "
            "distance from the scheme's ranking, so it grows whichever way an input moves, and an input's "
            "first-order index (its effect on average over the others) stays small while its total index "
            "(with the others moving) does not."
        )
    neg = summ[summ["S1"] < 0]
    if len(neg):
        within = bool((neg["S1"] + neg["S1_conf"] >= 0).all())
        parts.append(
            f"{len(neg)} of the {len(summ)} first-order estimates are below 0; "
            + (
                "each is within its interval of 0 — an index cannot be negative, so read them as 0."
                if within
                else f"{int((neg['S1'] + neg['S1_conf'] < 0).sum())} of them by more than their "
                "interval: the sample is too small for them (raise `n_sobol`)."
            )
        )
    return "\n\n".join(parts)
