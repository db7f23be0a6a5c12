"""The memo's sections as a reader sees them: headings, the numbered summary, the scheme, the ranking, methods.

Used by ``notebooks/90_memo.ipynb``: each method returns Markdown/HTML or a pandas Styler built from the
saved tables (:class:`perflab.memo.MemoInputs`), in the memo's language; figures go to ``DIR/figures``.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.findings import KIND, _Say, findings
from perflab.memo import MemoInputs


def _styler(df: pd.DataFrame, formats: dict | None = None, caption: str | None = None):
    st = df.style.hide(axis="index").format(formats or {}, na_rep="–")
    text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if text:  # words read from the left
        st = st.set_properties(subset=text, **{"text-align": "left"})
    if caption:
        st = st.set_caption(caption)
    return st.set_table_styles(
        [{"selector": "caption", "props": "caption-side: top; font-weight: bold; text-align: left;"}]
    )


class MemoPage:
    """One memo: ``inputs`` (the directory's tables) in ``lang`` ("zh" or "en").

    Each method gives one section (Markdown, HTML or a Styler) for ``notebooks/90_memo.ipynb`` to display;
    the figures go to ``DIR/figures``.

    Parameters
    ----------
    inputs : MemoInputs
        What the memo is written from (:func:`perflab.memo.load_inputs`).
    lang : str
        The memo's language, ``"zh"`` or ``"en"``.

    Examples
    --------
    >>> import tempfile
    >>> scores = pd.DataFrame(
    ...     {
    ...         "unit": ["D01", "D02"],
    ...         "kind": "district",
    ...         "name_zh": ["东城区", "西城区"],
    ...         "name_en": ["Dongcheng", "Xicheng"],
    ...         "presented": True,
    ...         "final": [91.0, 88.5],
    ...         "rank": [1, 2],
    ...     }
    ... )
    >>> page = MemoPage(MemoInputs(Path(tempfile.mkdtemp()), "run", {"scores": scores}), "en")
    >>> page.heading("要点", "Summary")
    '## Summary'
    >>> print("\\n".join(page.summary().splitlines()[:2]))
    ## Summary
    1. Districts: first is Dongcheng (D01) (91.00); last is Xicheng (D02) (88.50). [table: `tables/scores.csv`](tables/scores.csv)
    >>> MemoPage(page.inputs, "zh").heading("要点", "Summary")
    '## 要点'
    """

    def __init__(self, inputs: MemoInputs, lang: str):
        self.inputs, self.lang = inputs, lang
        self.say = _Say(lang, inputs.tables)
        self.figures = inputs.directory / "figures"

    # -- the head ------------------------------------------------------------
    def header(self) -> str:
        from perflab.report import _notice_html

        say, inp = self.say, self.inputs
        scheme = inp.scheme
        title = (scheme.title_zh if say.lang == "zh" else scheme.title_en) if scheme is not None else inp.directory.name
        kind = say("情景比较", "scenario sweep") if inp.kind == "sweep" else say("评估结果", "evaluation run")
        parts = [
            "<style>@page { size: A4; margin: 14mm 12mm; } @media print { .jp-Cell { break-inside: avoid; } }</style>"
        ]
        parts += [_notice_html(say.lang)] if inp.simulated else []
        parts.append(f"<h1>{html.escape(say('咨询备忘录：', 'Advisory memo: '))}{html.escape(str(title))}</h1>")
        prov = inp.provenance
        line = say(
            f"依据：{kind}目录 <code>{html.escape(inp.directory.name)}</code>",
            f"From the {kind} in <code>{html.escape(inp.directory.name)}</code>",
        )
        if prov.get("seed") is not None:
            line += say(f"，随机种子 {prov['seed']}", f", seed {prov['seed']}")
        if prov.get("perflab_version"):
            line += f", perflab {html.escape(str(prov['perflab_version']))}"
        parts.append(f"<p>{line}{say('。', '.')}</p>")
        return "\n".join(parts)

    def heading(self, zh: str, en: str, level: int = 2) -> str:
        return f"{'#' * level} {self.say(zh, en)}"

    # -- the summary ---------------------------------------------------------
    def summary(self) -> str:
        say = self.say
        rows = [self.heading("要点", "Summary")]
        for i, f in enumerate(findings(self.inputs, self.lang), start=1):
            link = f" [{say('表', 'table')}: `{f.table}`]({f.table})" if f.table else ""
            rows.append(f"{i}. {f.text}{link}")
        return "\n".join(rows)

    # -- the scheme on one page ---------------------------------------------
    def scheme_tables(self) -> list:
        say, scheme = self.say, self.inputs.scheme
        if scheme is None:
            return []
        name = "name_zh" if say.lang == "zh" else "name_en"
        ind = scheme.indicator_table()
        ind = pd.DataFrame(
            {
                say("指标", "Indicator"): ind[name],
                say("权重", "Weight"): ind["weight"],
                say("占比", "Share"): ind["weight"] / ind["weight"].sum(),
            }
        )
        groups = pd.DataFrame(
            {
                say("评价者类别", "Evaluator group"): [getattr(g, name) for g in scheme.groups],
                say("现场评分权重", "Share of the on-site score"): [g.share for g in scheme.groups],
            }
        )
        comps = pd.DataFrame(
            {
                say("组成部分", "Component"): [
                    say(
                        *{
                            "onsite": ("现场考评", "On-site evaluation"),
                            "routine": ("日常考核", "Routine assessment"),
                            "satisfaction": ("满意度调查", "Satisfaction survey"),
                        }.get(c, (c, c))
                    )
                    for c in scheme.components
                ],
                say("权重", "Weight"): list(scheme.components.values()),
            }
        )
        bands = pd.DataFrame(
            {
                say("等次", "Grade"): [b.grade for b in scheme.bands],
                say("分数区间", "Score range"): [f"{b.lower:g}–{b.upper:g}" for b in scheme.bands],
            }
        )
        return [
            _styler(
                ind,
                {say("权重", "Weight"): "{:g}", say("占比", "Share"): "{:.1%}"},
                say("指标与权重", "Indicators and weights"),
            ),
            _styler(
                groups,
                {say("现场评分权重", "Share of the on-site score"): "{:.0%}"},
                say("评价者类别", "Evaluator groups"),
            ),
            _styler(comps, {say("权重", "Weight"): "{:g}"}, say("综合得分的组成", "Components of the final score")),
            _styler(bands, caption=say("等次", "Grade bands")),
        ]

    def scheme_note(self) -> str:
        say, scheme = self.say, self.inputs.scheme
        if scheme is None:
            return say("（未找到方案文件）", "(The scheme file was not found.)")
        agg = scheme.aggregation
        trim = (
            say(
                f"去掉 {agg.trim} 个最高分和最低分后的平均",
                f"the mean after dropping the {agg.trim} highest and lowest",
            )
            if agg.method == "trimmed_mean"
            else say("平均", "the mean")
        )
        return (
            say(
                f"每类评价者的分数取{trim}，再按上表权重合成现场得分；只提交书面报告的单位按 `{scheme.missing_components}` 处理；"
                f"排名在{'同类单位内' if scheme.ranking.within == 'kind' else '全部单位间'}进行。",
                f"Each evaluator group's scores are combined as {trim}, then weighted by the shares above into the on-site score; "
                f"units that only submitted a written report follow `missing_components: {scheme.missing_components}`; units are "
                f"ranked {'within their kind' if scheme.ranking.within == 'kind' else 'all together'}.",
            )
            + self.composite_note()
        )

    def composite_note(self) -> str:
        """How the indicators combine into the on-site score, said only when it is not the usual weighted sum."""
        say, scheme = self.say, self.inputs.scheme
        if getattr(scheme, "composite", "arithmetic") == "arithmetic":
            return ""
        return say(
            f"指标按加权{'几何' if scheme.composite == 'geometric' else scheme.composite}平均合成（`composite: {scheme.composite}`）："
            "某一指标的低分不能被其他指标的高分完全弥补；依赖线性的精确稳定区间因此未计算。",
            f" Indicators combine by the weighted {scheme.composite} mean (`composite: {scheme.composite}`): a low "
            "indicator is not fully bought back by high ones, and the exact stability intervals, which rest on "
            "linearity, are not computed.",
        )

    # -- the ranking with intervals -----------------------------------------
    def ranking(self, kind: str):
        say, inp = self.say, self.inputs
        s = inp.table("scores")
        s = s[s["kind"] == kind].sort_values(["rank", "unit"])
        iv = inp.tables.get("sensitivity_rank_intervals", pd.DataFrame(columns=["unit"])).set_index("unit")
        name = "name_zh" if say.lang == "zh" else "name_en"
        view = pd.DataFrame(
            {
                say("排名", "Rank"): s["rank"].astype(int).to_numpy(),
                say("单位", "Unit"): [
                    f"{n}{' †' if not p else ''}" for n, p in zip(s[name], s["presented"].astype(bool))
                ],
                say("综合得分", "Final score"): s["final"].to_numpy(),
                say("等次", "Grade"): s["grade"].to_numpy(),
                say("名次 90% 区间", "90 % rank interval"): [
                    f"{int(iv.loc[u, 'rank_p05'])}–{int(iv.loc[u, 'rank_p95'])}" if u in iv.index else "–"
                    for u in s["unit"]
                ],
                say("进入前 3 的概率", "Chance of a top 3"): [
                    float(iv.loc[u, "p_top_3"]) if u in iv.index and "p_top_3" in iv.columns else np.nan
                    for u in s["unit"]
                ],
            }
        )
        cap = say(
            f"{KIND[kind][0]}排名（† 只提交书面报告，现场分为补足值）",
            f"Ranking of the {KIND[kind][1]} († written report only: on-site score imputed)",
        )
        return _styler(
            view, {say("综合得分", "Final score"): "{:.2f}", say("进入前 3 的概率", "Chance of a top 3"): "{:.0%}"}, cap
        )

    def ranking_figure(self, kind: str):
        """Each unit's rank with its 90 % interval under random weights; saved as figures/memo_ranking_KIND.png|svg."""
        import matplotlib.pyplot as plt

        from perflab.plots.sweep import save

        say, inp = self.say, self.inputs
        iv = inp.table("sensitivity_rank_intervals")
        iv = iv[iv["rank_group"] == kind].sort_values("nominal_rank")
        names = inp.table("scores").set_index("unit")["name_zh" if say.lang == "zh" else "name_en"]
        labels = [str(names.get(u, u)) for u in iv["unit"]]
        fig, ax = plt.subplots(figsize=(8, 0.22 * len(iv) + 1.2), layout="constrained")
        y = np.arange(len(iv))
        ax.hlines(
            y, iv["rank_p05"], iv["rank_p95"], color="#4C72B0", lw=3, alpha=0.6, label=say("90% 区间", "90 % interval")
        )
        ax.plot(iv["nominal_rank"], y, "o", color="#222222", ms=4, label=say("方案排名", "rank under the scheme"))
        ax.set_yticks(y, labels, fontsize=7 if len(iv) > 30 else 9)
        ax.invert_yaxis()
        ax.set_xlabel(say("名次（1 = 最好）", "rank (1 = best)"))
        ax.set_title(
            say(
                f"{KIND[kind][0]}：权重随机变动时的名次区间",
                f"{KIND[kind][1].capitalize()}: rank intervals under random weights",
            )
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return fig, (lambda: save(fig, self.figures, f"memo_ranking_{kind}"))

    # -- methods -------------------------------------------------------------
    def methods(self) -> str:
        say, inp = self.say, self.inputs
        rows = [self.heading("方法说明", "Method notes")]
        missing = inp.missing_sections()
        if missing:
            rows.append(
                "- "
                + say(
                    f"本次运行缺少以下笔记本的结果表，相应内容未列入：{'、'.join(missing)}（运行全部笔记本：perflab run 不加 --only）。",
                    f"This run lacks the tables of {', '.join(missing)}, so the memo leaves those analyses out "
                    "(run every notebook: perflab run without --only).",
                )
            )
        st = inp.tables.get("sensitivity_settings")
        if st is not None and len(st):
            r = st.iloc[0]
            rows.append(
                "- "
                + say(
                    f"权重敏感性：每项权重在 ±{r['spread']:.0%} 内随机变动并重新归一，抽样 {int(r['n_draws']):,} 次；"
                    f"Sobol 指数用 {int(r['n_sobol']):,} 个基点，95% 自助法区间。",
                    f"Weight sensitivity: every weight moved at random within ±{r['spread']:.0%} of its value and renormalised, "
                    f"{int(r['n_draws']):,} draws; Sobol indices on {int(r['n_sobol']):,} base points with 95 % bootstrap intervals.",
                )
            )
        rows.append(
            "- "
            + say(
                "稳定区间为精确解：每项权重单独变动（其余按比例缩放），得分对该权重是线性的。",
                "Stability intervals are exact: one weight moves, the others rescale, and scores are linear in it.",
            )
        )
        rows.append(
            "- "
            + say(
                "评委效应：多面 Rasch 模型（标准误按评委×单位聚类稳健校正）；标记经 Benjamini–Hochberg 错误发现率校正；"
                "宽严校正只把各评委的估计宽严加回其评分，再按方案本身计分。",
                "Evaluator effects: a many-facet Rasch model (standard errors cluster-robust by evaluator × unit); flags "
                "corrected across the panel by Benjamini–Hochberg; the severity adjustment puts each evaluator's estimated "
                "severity back into their scores and scores them by the scheme itself.",
            )
        )
        rows.append(
            "- "
            + say(
                "实际权重：各部分对综合得分方差的贡献与相关比（Paruolo, Saisana & Saltelli 2013）。",
                "Effective weights: each component's share of the final score's variance and its correlation ratio "
                "(Paruolo, Saisana & Saltelli 2013).",
            )
        )
        rows.append(
            "- "
            + say(
                "本备忘录只读取已保存的结果表，不重新计算；表格见同目录的 memo.xlsx。",
                "This memo reads the saved result tables and recomputes nothing; every table is in memo.xlsx beside it.",
            )
        )
        return "\n".join(rows)

    # -- a sweep -------------------------------------------------------------
    def sweep_tables(self) -> list:
        say, inp = self.say, self.inputs
        summ = inp.table("summary")
        summ = summ[summ["scenario"] != "base"]
        out = []
        for g, t in summ.groupby("rank_group", sort=False):
            view = pd.DataFrame(
                {
                    say("情景", "Scenario"): t["scenario"],
                    say("Kendall τ", "Kendall's τ"): t["kendall_tau"],
                    say("Spearman ρ", "Spearman's ρ"): t["spearman_rho"],
                    say("变动单位数", "Units moving"): t["units_moved"],
                    say("平均变动（位）", "Mean move (places)"): t["mean_abs_move"],
                    say("最大变动（位）", "Largest move"): t["largest_move"],
                    say("前 3 名改变", "Top 3 changes"): t["top3_changed"].map(
                        {True: say("是", "yes"), False: say("否", "no")}
                    ),
                    say("等次变化数", "Grade changes"): t["grade_changes"],
                }
            ).sort_values(say("Kendall τ", "Kendall's τ"))
            fmt = {
                say("Kendall τ", "Kendall's τ"): "{:.3f}",
                say("Spearman ρ", "Spearman's ρ"): "{:.3f}",
                say("平均变动（位）", "Mean move (places)"): "{:.2f}",
            }
            out.append(
                _styler(
                    view,
                    fmt,
                    say(
                        f"{KIND[g][0]}：各情景与基准的比较",
                        f"{KIND[g][1].capitalize()}: each scenario against the base",
                    ),
                )
            )
        return out


def memo_figures(directory: Path) -> list[Path]:
    return sorted(Path(directory, "figures").glob("memo_*.*"))
