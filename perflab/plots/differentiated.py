"""Figures for the differentiated evaluation: a unit against its own baseline, slope charts, reasons for moves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from perflab.plots import name_column, short_name, spread_positions, t, zone_names


def _measure_label(scheme, mid: str) -> str:
    try:
        m = scheme.measure(mid)
    except KeyError:
        return mid
    name = m.name_zh if t("zh", "en") == "zh" else m.name_en
    arrow = t("越高越好", "higher is better") if m.direction == "higher" else t("越低越好", "lower is better")
    return f"{name} ({m.unit}, {arrow})" if m.unit else f"{name} ({arrow})"


def history_vs_baseline(baseline: pd.DataFrame, history: pd.DataFrame, unit: str, scheme, title: str) -> plt.Figure:
    """Each measure of one unit: its values, its own baseline for each year, and its targets.

    Parameters
    ----------
    baseline : pandas.DataFrame
        :func:`perflab.differentiated.own_baseline`'s table (``Evaluation.baseline``).
    history : pandas.DataFrame
        The history table (values and targets).
    unit : str
        The unit to show.
    scheme : Scheme
        Gives the measures' names, units and directions.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per measure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> years = [2014, 2015, 2016] * 2
    >>> measures = ["pm25"] * 3 + ["gdp_growth"] * 3
    >>> baseline = pd.DataFrame(
    ...     {
    ...         "unit": "D01",
    ...         "measure": measures,
    ...         "year": years,
    ...         "value": [85.0, 80.0, 72.0, 7.0, 6.8, 6.9],
    ...         "baseline": [88.0, 84.0, 79.0, 7.2, 7.0, 6.9],
    ...         "method": "trend",
    ...     }
    ... )
    >>> history = pd.DataFrame(
    ...     {"unit": "D01", "measure": measures, "year": years, "target": [None, 82.0, 75.0, None, 7.0, 7.0]}
    ... )
    >>> fig = history_vs_baseline(baseline, history, "D01", scheme, "Dongcheng District")
    >>> [ax.get_title() for ax in fig.axes]
    ['PM2.5 annual mean (µg/m³, lower is better)', 'GDP growth (%, higher is better)']
    >>> plt.close(fig)
    """
    b = baseline[baseline["unit"] == unit]
    h = history[history["unit"] == unit]
    measures = list(dict.fromkeys(b["measure"]))
    if not measures:
        raise ValueError(f"unit {unit!r} has no history to draw")
    cols = min(3, len(measures))
    rows = int(np.ceil(len(measures) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, mid in zip(axes.ravel(), measures):
        bm, hm = b[b["measure"] == mid], h[h["measure"] == mid]
        ax.plot(bm["year"], bm["value"], marker="o", label=t("实际值", "achieved"))
        if bm["method"].iloc[0] != "zscore":
            ax.plot(bm["year"], bm["baseline"], linestyle="--", marker=".", label=t("自身基线", "own baseline"))
        if "target" in hm and hm["target"].notna().any():
            ax.scatter(hm["year"], hm["target"], marker="x", color="black", zorder=3, label=t("目标", "target"))
        ax.set_title(_measure_label(scheme, mid), fontsize="small")
        ax.set_xlabel(t("年份", "Year"))
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes.ravel()[len(measures) :]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.suptitle(title)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize="small")  # off the data
    fig.tight_layout(rect=(0, 0.06 if rows == 1 else 0.035, 1, 1))
    return fig


def _dress_slopes(ax, n: float, palette: dict, kind: str, min_move: int | None) -> list:
    """The slope chart's axes, zone legend and title; returns the legend's handles."""
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(n + 0.7, 0.3)
    ax.set_xticks([0, 1], [t("统一评价排名", "Uniform rank"), t("差异化评价排名", "Differentiated rank")])
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)
    handles = [plt.Line2D([0], [0], color=c, marker="o", label=z) for z, c in palette.items()]
    ax.legend(
        handles=handles,
        title=t("功能区 / 领域", "Zone"),
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=min(3, len(handles)),
        frameon=False,
    )
    kind_name = {"district": t("区政府", "District governments"), "department": t("市级部门", "Municipal departments")}[
        kind
    ]
    title = t(f"{kind_name}：统一评价与差异化评价的排名", f"{kind_name}: uniform against differentiated rank")
    if min_move:
        title += t(f"\n（粗线：名次变化 ≥ {min_move}）", f"\n(bold: moves of {min_move} places or more)")
    ax.set_title(title, pad=22)
    return handles


def rank_slopes(
    scores: pd.DataFrame, scheme, kind: str, min_move: int | None = None, *, label_top: int | None = None
) -> plt.Figure:
    """Slope chart: each unit's uniform rank (left) joined to its differentiated rank (right), coloured by zone.

    Every unit is named on both sides with its rank. With ``min_move``, the units that move at least that many
    places are highlighted (bold lines and names) and the others drawn light, so the big moves stand out.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``Evaluation.scores`` (:func:`perflab.differentiated.evaluate`).
    scheme : Scheme
        Gives the zones' names.
    kind : str
        ``district`` or ``department``.
    min_move : int, optional
        Highlight the units whose rank changes by at least this many places; None: every unit alike.
    label_top : int, optional
        The former name of ``min_move`` (kept so that old calls still work).

    Returns
    -------
    matplotlib.figure.Figure
        One line per unit ranked both ways; the units of the other kind and those missing a rank are left out.

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
    ...         "kind": "district",
    ...         "zone": ["core", "core", "extension", "extension"],
    ...         "name_en": ["Dongcheng District", "Xicheng District", "Chaoyang District", "Haidian District"],
    ...         "rank_uniform": [1, 2, 3, 4],
    ...         "rank_differentiated": [3, 1, 2, 4],
    ...         "rank_change": [-2, 1, 1, 0],
    ...     }
    ... )
    >>> fig = rank_slopes(scores, scheme, "district", min_move=2)
    >>> len(fig.axes[0].lines)  # one per unit
    4
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]  # the unit that moved 2 places
    ['Dongcheng  1', '3  Dongcheng']
    >>> plt.close(fig)
    """
    min_move = min_move if min_move is not None else label_top
    s = scores[scores["kind"] == kind].dropna(subset=["rank_uniform", "rank_differentiated"]).copy()
    zones = zone_names(scheme)
    s["zone_label"] = s["zone"].map(zones).fillna(s["zone"])
    order = [z for z in dict.fromkeys(list(zones.values()) + list(s["zone_label"])) if z in set(s["zone_label"])]
    palette = dict(zip(order, sns.color_palette("deep", len(order))))
    names = s[name_column()].map(short_name).astype(str)
    wide = max(sum(2 if ord(c) > 0x2E80 else 1 for c in n) for n in names) + 4  # label width in half-width characters
    label_in = 0.062 * wide  # inches at 7.5 pt, bold
    height = max(4.5, 0.2 * len(s) + 2.2)
    width = 3.6 + 2 * label_in
    fig, ax = plt.subplots(figsize=(width, height))
    big = (s["rank_change"].abs() >= min_move) if min_move else pd.Series(True, index=s.index)
    n = max(s["rank_uniform"].max(), s["rank_differentiated"].max())
    gap = n * 0.125 / (height - 2.2) if height > 2.2 else 0.6  # one label's height in rank units
    left = spread_positions(s["rank_uniform"].to_numpy(float), gap)
    right = spread_positions(s["rank_differentiated"].to_numpy(float), gap)
    for i, ((_, r), name) in enumerate(zip(s.iterrows(), names)):
        color, strong = palette[r["zone_label"]], bool(big.loc[r.name])
        ax.plot(
            [0, 1],
            [r["rank_uniform"], r["rank_differentiated"]],
            color=color,
            marker="o",
            markersize=4 if strong else 3,
            linewidth=2.2 if strong else 1,
            alpha=1.0 if strong else 0.35,
            zorder=3 if strong else 2,
        )
        style = {
            "fontsize": 7.5,
            "va": "center",
            "color": "0.1" if strong else "0.45",
            "fontweight": "bold" if strong and min_move else "normal",
            "clip_on": False,
        }
        ax.text(-0.03, left[i], f"{name}  {int(r['rank_uniform'])}", ha="right", **style)
        ax.text(1.03, right[i], f"{int(r['rank_differentiated'])}  {name}", ha="left", **style)
    handles = _dress_slopes(ax, n, palette, kind, min_move)
    left_in, right_in = label_in + 0.3, label_in + 0.3
    fig.subplots_adjust(
        left=left_in / width,
        right=1 - right_in / width,
        top=1 - 0.95 / height,
        bottom=(0.9 if len(handles) > 3 else 0.6) / height,
    )
    return fig


def move_reasons(contributions: pd.DataFrame, movers: pd.DataFrame, scheme, n_items: int = 4) -> plt.Figure:
    """For each big mover, the items that moved it most: the change in their contribution against the kind's mean change.

    Parameters
    ----------
    contributions : pandas.DataFrame
        ``Evaluation.contributions``.
    movers : pandas.DataFrame
        ``Evaluation.movers()``: the units to show.
    scheme : Scheme
        Gives the items' names.
    n_items : int
        How many items per unit.

    Returns
    -------
    matplotlib.figure.Figure
        One group of bars per mover, labelled with its change in rank, one bar per item.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from perflab import plots
    >>> from perflab.scheme import load_scheme
    >>> _ = plots.theme("en")
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> contributions = pd.DataFrame(
    ...     {
    ...         "unit": ["D01"] * 3 + ["D02"] * 3,
    ...         "item": ["rectification", "main_indicators", "key_tasks"] * 2,
    ...         "relative_delta": [-1.5, 0.3, -0.2, 1.0, 0.8, -0.1],
    ...     }
    ... )
    >>> movers = pd.DataFrame(
    ...     {"unit": ["D01", "D02"], "name_en": ["Dongcheng District", "Xicheng District"], "rank_change": [-2, 1]}
    ... )
    >>> fig = move_reasons(contributions, movers, scheme, n_items=2)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Dongcheng District (-2)', 'Xicheng District (+1)']
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]  # each unit's two biggest items
    ['Performance rectification', 'Main indicators']
    >>> plt.close(fig)
    """
    labels = {i.id: (i.name_zh if t("zh", "en") == "zh" else i.name_en) for i in scheme.indicators}
    labels |= {m.id: (m.name_zh if t("zh", "en") == "zh" else m.name_en) for m in scheme.measures}
    rows = []
    for _, m in movers.iterrows():
        c = contributions[contributions["unit"] == m["unit"]]
        c = c.reindex(c["relative_delta"].abs().sort_values(ascending=False).index).head(n_items)
        for _, r in c.iterrows():
            rows.append(
                {
                    "unit": f"{m[name_column()]} ({int(m['rank_change']):+d})",
                    "item": labels.get(r["item"], r["item"]),
                    "delta": r["relative_delta"],
                }
            )
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(df) + 1.8))
    sns.barplot(data=df, y="unit", x="delta", hue="item", dodge=True, ax=ax, orient="h")
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlabel(
        t("贡献变化相对同类单位平均变化（分）", "Change in contribution against the kind's mean change (points)")
    )
    ax.set_ylabel(t("单位（名次变化）", "Unit (change in rank)"))
    ax.set_title(t("排名变化最大的单位：为什么？", "The biggest movers: why did they move?"))
    ax.legend(title="", fontsize="x-small", bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig
