"""The memo's findings: sentences computed from a run's or a sweep's saved tables, in Chinese or English.

Each finding is one :class:`perflab.memo.Finding`: the sentence, its headline number (``value``, read from
the table named in ``table``, so a test can check the one against the other) and a topic. Nothing here
recomputes an analysis: it reads, selects, counts and formats what the notebooks saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.memo import Finding, MemoInputs

KIND = {
    "district": ("区政府", "districts"),
    "department": ("市级部门", "departments"),
    "all": ("全部单位", "all units"),
}
COMPONENT = {
    "onsite": ("现场考评", "on-site evaluation"),
    "routine": ("日常考核", "routine assessment"),
    "satisfaction": ("满意度调查", "satisfaction survey"),
}
FLAG = {
    "lenient": ("偏宽", "lenient"),
    "severe": ("偏严", "severe"),
    "halo": ("晕轮", "halo"),
    "central": ("趋中", "central tendency"),
    "favouritism": ("偏袒本单位", "favouring their own unit"),
    "bloc": ("团体一致评分", "voting as a bloc"),
    "misfit": ("不拟合", "misfit"),
}


class _Say:
    """Pick the sentence in the memo's language, and name units as the memo's language does."""

    def __init__(self, lang: str, tables: dict[str, pd.DataFrame]):
        self.lang = lang
        units = tables.get("scores")
        self.names = {} if units is None else dict(zip(units["unit"], units["name_zh" if lang == "zh" else "name_en"]))

    def __call__(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def kind(self, k: str) -> str:
        zh, en = KIND.get(k, (k, k))
        return self(zh, en)

    def unit(self, u: str) -> str:
        name = self.names.get(u)
        name = name if isinstance(name, str) and name else None
        return f"{name}（{u}）" if name and self.lang == "zh" else (f"{name} ({u})" if name else str(u))

    def pct(self, x: float, digits: int = 0) -> str:
        return f"{100 * x:.{digits}f}%" if self.lang == "zh" else f"{100 * x:.{digits}f} %"

    def join(self, items: list[str]) -> str:
        if self.lang == "zh":
            return "、".join(items)
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _room(st: pd.DataFrame, total: float) -> pd.Series:
    """How far (relative to its own value) each weight can move before the unit's rank changes: the nearer end of
    its exact stability interval; infinite when the rank holds over the whole range [0, total]."""
    w = st["weight"]
    down = np.where(st["weight_low"] > 1e-9, (w - st["weight_low"]) / w, np.inf)
    up = np.where(st["weight_high"].notna() & (st["weight_high"] < total - 1e-9), (st["weight_high"] - w) / w, np.inf)
    return pd.Series(np.minimum(down, up), index=st.index)


def _groups(scores: pd.DataFrame) -> list[str]:
    return [k for k in ("district", "department") if (scores["kind"] == k).any()] or ["all"]


def _of_group(df: pd.DataFrame, g: str, column: str = "rank_group") -> pd.DataFrame:
    return df if g == "all" or column not in df.columns else df[df[column] == g]


# ---------------------------------------------------------------------------
# a run
# ---------------------------------------------------------------------------


def top_and_bottom(inp: MemoInputs, say: _Say) -> list[Finding]:
    """The first and last unit of each kind, with their rank intervals and how far a weight can move."""
    scores = inp.table("scores")
    iv = inp.tables.get("sensitivity_rank_intervals", pd.DataFrame(columns=["unit"])).set_index("unit")
    st = inp.tables.get("sensitivity_stability_units", pd.DataFrame(columns=["unit", "weight", "indicator"]))
    total = _total_weight(inp, st)
    settings = inp.tables.get("sensitivity_settings")
    spread = float(settings["spread"].iloc[0]) if settings is not None and "spread" in settings else None
    n_draws = int(settings["n_draws"].iloc[0]) if settings is not None and "n_draws" in settings else None
    out = []
    for g in _groups(scores):
        s = scores if g == "all" else scores[scores["kind"] == g]
        s = s.dropna(subset=["rank"]).sort_values(["rank", "unit"])
        top, bottom = s.iloc[0], s.iloc[-1]
        parts = []
        for row, which in ((top, say("第一", "first")), (bottom, say("最后", "last"))):
            u = row["unit"]
            text = say(
                f"{which}是{say.unit(u)}（{row['final']:.2f} 分）", f"{which} is {say.unit(u)} ({row['final']:.2f})"
            )
            if u in iv.index:
                r = iv.loc[u]
                lo, hi = int(r["rank_p05"]), int(r["rank_p95"])
                pert = (
                    say(
                        f"各权重在 ±{spread:.0%} 内随机变动的 {n_draws:,} 次抽样中",
                        f"in {n_draws:,} draws with every weight moved within ±{spread:.0%}",
                    )
                    if spread is not None and n_draws
                    else say("权重随机变动时", "under random weights")
                )
                same = lo == hi == int(row["rank"])
                text += say(
                    f"：{pert}，90% 区间为第 {lo}–{hi} 名" + ("（名次不变）" if same else ""),
                    f": {pert} its 90 % rank interval is {lo}–{hi}" + (" (the rank holds)" if same else ""),
                )
            mine = st[(st["unit"] == u) & st["weight"].gt(0)]
            if len(mine):
                rel = _room(mine, total)
                j = rel.idxmin()
                if rel[j] < 1:
                    text += say(
                        f"；单独调整一项权重时，{_indicator(inp, mine.loc[j, 'indicator'], say)}权重变动 {say.pct(rel[j])} 即改变其名次",
                        f"; one weight at a time, moving {_indicator(inp, mine.loc[j, 'indicator'], say)} by {say.pct(rel[j])} changes its rank",
                    )
                else:
                    text += say(
                        "；任何一项权重单独变动其自身的 100% 以内，名次都不变",
                        "; no single weight moved by less than its own value changes its rank",
                    )
            parts.append(text)
        out.append(
            Finding(
                say(f"{say.kind(g)}：", f"{say.kind(g).capitalize()}: ") + say("；", "; ").join(parts) + say("。", "."),
                "tables/scores.csv",
                float(top["final"]),
                f"top_{g}",
            )
        )
    return out


def _indicator(inp: MemoInputs, ind: str, say: _Say) -> str:
    """An indicator's or measure's name in the memo's language (the scheme's, else the effective-weights table's)."""
    scheme = inp.scheme
    if scheme is not None:
        for item in (*scheme.indicators, *scheme.measures):
            if item.id == ind:
                return item.name_zh if say.lang == "zh" else item.name_en
    if ind in COMPONENT:
        return say(*COMPONENT[ind])
    ew = inp.tables.get("effective_weights")
    if ew is not None:
        hit = ew[ew["item"] == ind]
        if len(hit):
            return str(hit["name_zh" if say.lang == "zh" else "name_en"].iloc[0])
    return ind


def _total_weight(inp: MemoInputs, st: pd.DataFrame) -> float:
    """The sum of the indicator weights (the stability intervals' range is [0, total])."""
    scheme = inp.scheme
    if scheme is not None:
        return float(scheme.weights.sum())
    return float(st.drop_duplicates("indicator")["weight"].sum())


def fragile_ranks(inp: MemoInputs, say: _Say) -> Finding | None:
    """The ranks that flip with the smallest move of a single weight (exact stability intervals)."""
    if not inp.has("sensitivity_stability_units"):
        return None
    st = inp.table("sensitivity_stability_units")
    st = st[st["weight"] > 0].copy()
    if st.empty:
        return None
    st["rel"] = _room(st, _total_weight(inp, st))
    per_unit = st.sort_values("rel").groupby("unit", sort=False).head(1)
    within = per_unit[per_unit["rel"] < 0.05]
    worst = per_unit.head(3)
    bits = [
        say(
            f"{say.unit(r.unit)}（{_indicator(inp, r.indicator, say)} 变动 {say.pct(r.rel, 1)}）",
            f"{say.unit(r.unit)} ({_indicator(inp, r.indicator, say)} moved {say.pct(r.rel, 1)})",
        )
        for r in worst.itertuples()
    ]
    n_units = per_unit["unit"].nunique()
    text = say(
        f"{len(within)} 个单位（共 {n_units} 个）的名次在单独一项权重变动不到 5% 时即改变；最敏感的是 {say.join(bits)}。",
        f"{len(within)} of {n_units} units change rank when a single weight moves by less than 5 %; the most fragile are "
        f"{say.join(bits)}.",
    )
    return Finding(text, "tables/sensitivity_stability_units.csv", int(len(within)), "fragile")


def share_range(inp: MemoInputs, say: _Say) -> Finding | None:
    """The range of the group's share over which the top k and the grades do not change."""
    if not inp.has("group_share_stable_range"):
        return None
    t = inp.table("group_share_stable_range")
    bits = []
    for r in t.itertuples():
        text = say(
            f"{say.kind(r.rank_group)}前 {int(r.k)} 名在 {r.top_k_share_low:.3f}–{r.top_k_share_high:.3f} 之间不变",
            f"the top {int(r.k)} {say.kind(r.rank_group)} hold for shares {r.top_k_share_low:.3f}–{r.top_k_share_high:.3f}",
        )
        if "grades_share_low" in t.columns and pd.notna(r.grades_share_low):
            text += say(
                f"，等次在 {r.grades_share_low:.3f}–{r.grades_share_high:.3f} 之间不变",
                f", every grade for {r.grades_share_low:.3f}–{r.grades_share_high:.3f}",
            )
        bits.append(text)
    s0 = float(t["nominal_share"].iloc[0])
    return Finding(
        say(f"基层一线代表权重（方案为 {s0:.2f}）：", f"Grassroots share (the scheme's {s0:.2f}): ")
        + say("；", "; ").join(bits)
        + say("。", "."),
        "tables/group_share_stable_range.csv",
        float(t["top_k_share_high"].iloc[0]),
        "share",
    )


def evaluators(inp: MemoInputs, say: _Say) -> Finding | None:
    """Evaluator groups with systematic effects and the evaluators flagged after the false-discovery correction."""
    if not inp.has("rater_flags", "flags_by_group"):
        return None
    fl = inp.table("rater_flags")
    by = inp.table("flags_by_group").set_index("group")
    flagged = fl[fl["flag_fdr"].astype(bool)]
    kinds = {
        k: int(flagged[k].astype(bool).sum()) for k in FLAG if k in flagged.columns and flagged[k].astype(bool).any()
    }
    what = say.join(
        [say(f"{FLAG[k][0]} {n} 人", f"{n} {FLAG[k][1]}") for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])]
    )
    ids = ", ".join(flagged["rater"].astype(str).head(12)) + ("…" if len(flagged) > 12 else "")
    harsh = by["mean_severity_points"].idxmax()
    soft = by["mean_severity_points"].idxmin()
    groups = _group_names(inp, say)
    text = say(
        f"{len(fl)} 位评委中有 {len(flagged)} 位经错误发现率校正后仍被标记（{what}；编号 {ids}）。"
        f"平均最严的评委类别是{groups.get(harsh, harsh)}（{by.loc[harsh, 'mean_severity_points']:+.2f} 分），"
        f"最宽的是{groups.get(soft, soft)}（{by.loc[soft, 'mean_severity_points']:+.2f} 分；正值 = 更严）。",
        f"{len(flagged)} of {len(fl)} evaluators remain flagged after the false-discovery correction ({what}; ids {ids}). "
        f"The harshest group on average is {groups.get(harsh, harsh)} ({by.loc[harsh, 'mean_severity_points']:+.2f} points), "
        f"the most lenient {groups.get(soft, soft)} ({by.loc[soft, 'mean_severity_points']:+.2f}; positive = harsher).",
    )
    return Finding(text, "tables/rater_flags.csv", int(len(flagged)), "evaluators")


def _group_names(inp: MemoInputs, say: _Say) -> dict[str, str]:
    scheme = inp.scheme
    if scheme is None:
        return {}
    return {g.id: (g.name_zh if say.lang == "zh" else g.name_en) for g in scheme.groups}


def rater_impact(inp: MemoInputs, say: _Say) -> Finding | None:
    """How much correcting for the evaluators moves the on-site ranks."""
    if not inp.has("rank_impact"):
        return None
    imp = inp.table("rank_impact").dropna(subset=["rank_raw"])
    adj = (imp["rank_adjusted"] - imp["rank_raw"]).abs()
    exc = (imp["rank_excluded"] - imp["rank_raw"]).abs()
    text = say(
        f"校正评委宽严后现场名次平均变动 {adj.mean():.2f} 位（{int((adj > 0).sum())} 个单位变动，最多 {int(adj.max())} 位）；"
        f"剔除被标记评委后平均变动 {exc.mean():.2f} 位（最多 {int(exc.max())} 位）。",
        f"Removing each evaluator's severity moves on-site ranks by {adj.mean():.2f} places on average ({int((adj > 0).sum())} units "
        f"move, at most {int(adj.max())}); leaving the flagged evaluators out moves them {exc.mean():.2f} places (at most {int(exc.max())}).",
    )
    return Finding(text, "tables/rank_impact.csv", float(round(adj.mean(), 2)), "rater_impact")


def panels(inp: MemoInputs, say: _Say) -> Finding | None:
    """Whether adjacent units are told apart, and the panel each ranking group would need."""
    if not inp.has("composite_d_study"):
        return None
    d = inp.table("composite_d_study")
    prec = inp.tables.get("score_precision")
    bits = []
    for r in d.itertuples():
        share = None
        if prec is not None:
            p = prec[(prec["rank_group"] == r.rank_group) & (prec.get("score", "onsite") == "onsite")]
            share = float(p["share_within_noise"].iloc[0]) if len(p) else None
        text = say(
            f"{say.kind(r.rank_group)}：相邻单位现场分差中位数 {r.median_gap:.2f} 分，差值标准误 {r.se_difference:.2f}",
            f"{say.kind(r.rank_group).capitalize()}: median gap between neighbours {r.median_gap:.2f} points against an SE of a difference of {r.se_difference:.2f}",
        )
        if share is not None:
            text += say(
                f"，{say.pct(share)} 的相邻分差小于 2 倍标准误", f", {say.pct(share)} of adjacent gaps within 2 SE"
            )
        text += say(
            f"；要区分相邻单位需约 {int(r.raters_needed)} 位评委（现有约 {r.raters:.0f} 位，最优分配 {int(r.raters_needed_optimal)} 位）",
            f"; telling neighbours apart would take about {int(r.raters_needed)} evaluators (now about {r.raters:.0f}; "
            f"{int(r.raters_needed_optimal)} with the best allocation)",
        )
        bits.append(text)
    text = say("；", ". ").join(bits) + say("。", ".")
    groups = inp.tables.get("composite_g_study_groups")
    if groups is not None and {"group", "rel_error_share", "values_averaged"} <= set(groups.columns) and len(groups):
        top = groups.sort_values("rel_error_share", ascending=False).iloc[0]
        name = _group_names(inp, say).get(top["group"], top["group"])
        text += say(
            f"误差最大的来源是{name}（占 {say.pct(top['rel_error_share'])}，仅 {int(top['values_averaged'])} 个有效评分）：增加这一类评委最能提高精度。",
            f" The largest source of error is {name} ({say.pct(top['rel_error_share'])} of it, resting on "
            f"{int(top['values_averaged'])} scores kept): evaluators added there buy the most precision.",
        )
    return Finding(text, "tables/composite_d_study.csv", int(d["raters_needed"].max()), "panels")


def differentiated_movers(inp: MemoInputs, say: _Say) -> Finding | None:
    """The biggest movers under differentiated evaluation and the item that moved them most."""
    if not inp.has("differentiated_scores"):
        return None  # notebook 20 did not run
    ds = inp.table("differentiated_scores")
    c = inp.tables.get("differentiated_contributions")
    ds = ds.assign(abs_move=ds["rank_change"].abs()).sort_values(["abs_move", "unit"], ascending=[False, True])
    bits = []
    for r in ds.head(3).itertuples():
        why = ""
        if c is not None:
            cu = c[c["unit"] == r.unit]
            if len(cu):
                top = cu.loc[cu["relative_delta"].abs().idxmax()]
                why = say(
                    f"，主要因为{_indicator(inp, top['item'], say)}（{top['relative_delta']:+.2f} 分）",
                    f", mostly {_indicator(inp, top['item'], say)} ({top['relative_delta']:+.2f} points)",
                )
        bits.append(
            say(
                f"{say.unit(r.unit)} 从第 {int(r.rank_uniform)} 名到第 {int(r.rank_differentiated)} 名{why}",
                f"{say.unit(r.unit)} from {int(r.rank_uniform)} to {int(r.rank_differentiated)}{why}",
            )
        )
    moved = int((ds["rank_change"] != 0).sum())
    text = say(
        f"差异化评价下 {moved} 个单位（共 {len(ds)} 个）名次变化；变动最大的是 {say.join(bits)}。",
        f"Under differentiated evaluation {moved} of {len(ds)} units change rank; the biggest movers are {say.join(bits)}.",
    )
    return Finding(text, "tables/differentiated_scores.csv", int(ds["abs_move"].max()), "differentiated")


def weights_effective(inp: MemoInputs, say: _Say) -> Finding | None:
    """The effective against the nominal weight of the component that decides least for its weight."""
    if not inp.has("effective_weights"):
        return None
    ew = inp.table("effective_weights")
    comp = ew[(ew["level"] == "component") & (ew["nominal"] > 0)]
    if comp.empty:
        return None
    bits = []
    for g, t in comp.groupby("rank_group", sort=False):
        bits.append(
            say.join(
                [
                    say(
                        f"{say.kind(g)}{COMPONENT.get(r.item, (r.item,))[0]}名义 {say.pct(r.nominal)}、实际方差贡献 {say.pct(r.variance_share, 1)}",
                        f"{COMPONENT.get(r.item, (r.item, r.item))[1]} for {say.kind(g)} {say.pct(r.nominal)} nominal, "
                        f"{say.pct(r.variance_share, 1)} of the variance",
                    )
                    for r in t.itertuples()
                ]
            )
        )
    low = comp.sort_values("ratio").iloc[0]
    text = (
        say("名义权重与实际作用：", "Nominal against effective weights: ")
        + say("；", "; ").join(bits)
        + say("。", ". ")
        + say(
            f"作用最小的是{say.kind(low.rank_group)}的{COMPONENT.get(low['item'], (low['item'],))[0]}。",
            f"The one that decides least for its weight is {COMPONENT.get(low['item'], (low['item'], low['item']))[1]} for {say.kind(low.rank_group)}.",
        )
    )
    return Finding(text, "tables/effective_weights.csv", float(round(low["variance_share"], 4)), "effective_weights")


def caveats(inp: MemoInputs, say: _Say) -> Finding:
    """Simulated data, written-report units, vetted targets and failed verifications."""
    scores = inp.table("scores")
    bits = []
    if inp.simulated:
        bits.append(
            say(
                "数据为模拟数据（perflab simulate），不反映真实单位",
                "the data are simulated (perflab simulate) and say nothing about the real units",
            )
        )
    written = scores[~scores["presented"].astype(bool)]
    if len(written):
        rule = inp.scheme.missing_components if inp.scheme is not None else "?"
        bits.append(
            say(
                f"{len(written)} 个单位只提交书面报告，现场分按规则 {rule} 补足（取同类平均），名次只由日常考核决定",
                f"{len(written)} units only submitted a written report; their on-site score is filled in by rule {rule} (their kind's "
                "mean), so their order is set by the routine score alone",
            )
        )
    if inp.has("target_vetting"):
        v = inp.table("target_vetting")
        year = int(v["year"].max()) if len(v) else None
        now = v[v["year"] == year]
        n_t = int(now["flag"].isin(["repeats_result", "not_ambitious"]).sum())
        n_v = int((now["flag"] == "failed_verification").sum())
        rule = inp.scheme.differentiated.vetting if inp.scheme is not None and inp.scheme.differentiated else "?"
        bits.append(
            say(
                f"{year} 年有 {n_t} 个目标重复已有成绩或低于上年实绩（差异化评价按 {rule} 处理），{n_v} 项申报未通过现场核查",
                f"in {year}, {n_t} targets repeat a past result or ask less than last year's (the differentiated evaluation "
                f"applies vetting: {rule}) and {n_v} claims failed on-site verification",
            )
        )
    if inp.has("adjustments") and len(inp.table("adjustments")):
        adj = inp.table("adjustments")
        n_cut = int((adj["points"] > adj["counted"]).sum())
        kinds = adj.groupby("type")["unit"].nunique()
        bonus, deduction = int(kinds.get("bonus", 0)), int(kinds.get("deduction", 0))
        bits.append(
            say(
                f"{adj['unit'].nunique()} 个单位的综合得分含加减分（{bonus} 个加分、{deduction} 个扣分，"
                f"{n_cut} 项超出上限按上限计），不在权重之内，权重敏感性分析不改变它们",
                f"the final scores of {adj['unit'].nunique()} units include bonus or deduction points ({bonus} a bonus, "
                f"{deduction} a deduction; {n_cut} item totals cut to their cap), which lie outside the weights: "
                "the weight-sensitivity analyses keep them fixed",
            )
        )
    composite = getattr(inp.scheme, "composite", "arithmetic") if inp.scheme is not None else "arithmetic"
    if composite != "arithmetic":
        bits.append(
            say(
                f"指标按加权{'几何' if composite == 'geometric' else composite}平均合成，依赖线性的精确稳定区间与断点未计算",
                f"indicators combine by the weighted {composite} mean, so the exact stability intervals and breakpoints, "
                "which rest on linearity, are not computed",
            )
        )
    if not bits:
        bits.append(say("无需特别说明的数据问题", "none: every unit was scored on site and no target was vetted"))
    text = say("数据说明：", "Data caveats: ") + say("；", "; ").join(bits) + say("。", ".")
    return Finding(text, "tables/scores.csv", int(len(written)), "caveats")


def run_findings(inp: MemoInputs, lang: str) -> list[Finding]:
    """At most ten findings of a run, in reading order."""
    say = _Say(lang, inp.tables)
    found: list[Finding | None] = [
        *top_and_bottom(inp, say),
        fragile_ranks(inp, say),
        share_range(inp, say),
        evaluators(inp, say),
        rater_impact(inp, say),
        panels(inp, say),
        differentiated_movers(inp, say),
        weights_effective(inp, say),
        caveats(inp, say),
    ]
    return [f for f in found if f is not None][:10]


# ---------------------------------------------------------------------------
# a sweep
# ---------------------------------------------------------------------------


def _places(n: int) -> str:
    return f"{n} place" + ("" if n == 1 else "s")


def sweep_findings(inp: MemoInputs, lang: str) -> list[Finding]:
    """At most ten findings of a sweep, per ranking group: the scenarios that move the ranking most, how often the
    top 3 changes, the largest single move, and the units whose rank depends most on the scenario."""
    movers = inp.table("movers")
    names = {} if movers.empty else dict(zip(movers["unit"], movers["name_zh" if lang == "zh" else "name_en"]))
    say = _Say(lang, {})
    say.names = names
    summ = inp.table("summary")
    scen = summ[summ["scenario"] != "base"]
    n = scen["scenario"].nunique()
    out = []
    for g, t in scen.groupby("rank_group", sort=False):
        worst = t.sort_values(["kendall_tau", "scenario"]).head(3)
        bits = [
            say(
                f"{r.scenario}（τ = {r.kendall_tau:.3f}，{int(r.units_moved)} 个单位变动）",
                f"{r.scenario} (τ = {r.kendall_tau:.3f}, {int(r.units_moved)} units move)",
            )
            for r in worst.itertuples()
        ]
        top3 = int(t["top3_changed"].astype(bool).sum())
        big = t.sort_values(["largest_move", "scenario"], ascending=[False, True]).iloc[0]
        text = say(
            f"{say.kind(g)}：{n} 个情景中与基准排名差异最大的是 {say.join(bits)}；前 3 名在 {top3} 个情景中改变；"
            f"单个单位最大变动 {int(big.largest_move)} 位（{big.scenario}：{say.unit(big.largest_mover)}，"
            f"第 {int(big.largest_mover_rank_base)} → {int(big.largest_mover_rank)} 名）。",
            f"{say.kind(g).capitalize()}: of {n} scenarios, the ranking moves most under {say.join(bits)}; the top 3 "
            f"changes in {top3}; the largest single move is {_places(int(big.largest_move))} ({big.scenario}: "
            f"{say.unit(big.largest_mover)}, {int(big.largest_mover_rank_base)} → {int(big.largest_mover_rank)}).",
        )
        out.append(Finding(text, "comparison/summary.csv", float(worst["kendall_tau"].iloc[0]), f"scenarios_{g}"))
    if len(movers):
        m = movers.assign(abs_move=movers["move"].abs())
        per = (
            m.groupby(["rank_group", "unit"])
            .agg(largest=("abs_move", "max"), scenarios=("scenario", "nunique"))
            .reset_index()
        )
        for g, t in per.groupby("rank_group", sort=False):
            top = t.sort_values(["largest", "scenarios", "unit"], ascending=[False, False, True]).head(3)
            bits = [
                say(
                    f"{say.unit(r.unit)}（最多 {int(r.largest)} 位，{int(r.scenarios)} 个情景中变动）",
                    f"{say.unit(r.unit)} (up to {_places(int(r.largest))}, moving in {int(r.scenarios)} scenario"
                    f"{'s' if r.scenarios != 1 else ''})",
                )
                for r in top.itertuples()
            ]
            out.append(
                Finding(
                    say(
                        f"{say.kind(g)}中名次最依赖情景的单位：{say.join(bits)}。",
                        f"The {say.kind(g)} whose rank depends most on the scenario: {say.join(bits)}.",
                    ),
                    "comparison/movers.csv",
                    int(top["largest"].iloc[0]),
                    f"movers_{g}",
                )
            )
    if inp.simulated:
        out.append(
            Finding(
                say(
                    "数据为模拟数据（perflab simulate），不反映真实单位。",
                    "The data are simulated (perflab simulate) and say nothing about the real units.",
                ),
                "provenance.json",
                None,
                "caveats",
            )
        )
    return out[:10]


def findings(inp: MemoInputs, lang: str) -> list[Finding]:
    """The memo's executive summary: at most ten numbered findings, each with its number and table."""
    return sweep_findings(inp, lang) if inp.kind == "sweep" else run_findings(inp, lang)
