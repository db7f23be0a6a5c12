"""The sweep's page, ``DIR/index.html``: what the scenarios set, what moved and how far, the figures, the links."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.sweep.compare import Comparison
from perflab.sweep.spec import BASE, BuiltScenario, SweepSpec

MAX_SUMMARY_SCENARIOS = 60  # above this, the page lists the scenarios that move the ranking most (the CSV has all)
MAX_MOVERS = 25

GROUP_WORDS = {"district": "District governments", "department": "Municipal departments", "all": "All units"}

STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;max-width:78em;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .55em;vertical-align:top}
th{background:#f2f2f2;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #ddd;margin:.4em 0 1.2em}
.note{color:#555;font-size:.92em}
.failed{color:#b00020;font-weight:bold}
.notice{background:#fff4e5;border-left:4px solid #e67e22;padding:.5em .8em}
code{background:#f5f5f5;padding:0 .2em}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _table(df: pd.DataFrame, numeric: Sequence[str] = (), raw_html: Sequence[str] = ()) -> str:
    """An HTML table without row numbers; headers as given (in words), numbers right-aligned, text escaped."""
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec):
            text = "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v
            body = str(text) if c in raw_html else _e(text)
            cells.append(f'<td class="num">{body}</td>' if c in numeric else f"<td>{body}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _f(x, digits: int = 3) -> str:
    return "" if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def _unit_names(comparison: Comparison) -> dict[str, str]:
    r = comparison.ranks
    return {u: f"{n} ({u})" for u, n in zip(r["unit"], r["name_en"])}


def summary_view(comparison: Comparison) -> tuple[pd.DataFrame, str]:
    """The summary in words for the page; for large sweeps only the scenarios that move the ranking most."""
    s = comparison.summary[comparison.summary["scenario"] != BASE].copy()
    note = ""
    n_scen = s["scenario"].nunique()
    if n_scen > MAX_SUMMARY_SCENARIOS:
        worst = s.groupby("scenario", sort=False)["kendall_tau"].min().sort_values(kind="mergesort").index[:30]
        s = s[s["scenario"].isin(worst)]
        note = (
            f"The sweep has {n_scen} scenarios besides base; the table lists the 30 whose ranking is furthest from "
            "base (lowest Kendall's τ in any ranking group). Every scenario is in comparison/summary.csv."
        )
    names = _unit_names(comparison)
    view = pd.DataFrame(
        {
            "Scenario": s["scenario"],
            "Ranking group": s["rank_group"].map(GROUP_WORDS).fillna(s["rank_group"]),
            "Units": s["n_units"],
            "Kendall's τ against base": s["kendall_tau"].map(_f),
            "Spearman's ρ against base": s["spearman_rho"].map(_f),
            "Units whose rank changes": s["units_moved"],
            "Largest move (places)": s["largest_move"],
            "Unit that moves most": [
                "" if not u else f"{names.get(u, u)}: {int(a)} → {int(b)}"
                for u, a, b in zip(s["largest_mover"], s["largest_mover_rank_base"], s["largest_mover_rank"])
            ],
            "Top 3 changes?": s["top3_changed"].map({True: "yes", False: "no"}),
            "Top 3": s["top3"],
            "Units changing grade": s["grade_changes"],
        }
    )
    return view, note


def movers_view(comparison: Comparison) -> pd.DataFrame:
    m = comparison.movers
    if m.empty:
        return pd.DataFrame()
    m = (
        m.assign(_abs=m["move"].abs())
        .sort_values(["_abs", "scenario", "unit"], ascending=[False, True, True], kind="mergesort")
        .head(MAX_MOVERS)
    )
    return pd.DataFrame(
        {
            "Scenario": m["scenario"],
            "Unit": [f"{n} ({u})" for n, u in zip(m["name_en"], m["unit"])],
            "Rank under base": m["rank_base"],
            "Rank": m["rank"],
            "Places moved (+ up)": m["move"].map(lambda v: f"{v:+d}"),
            "Final score change": m["final_change"].map(lambda v: f"{v:+.2f}"),
            "What moved its score (change of each part's contribution, points)": m["why"],
        }
    )


def scenarios_view(built: Sequence[BuiltScenario], runs, out_dir: Path) -> pd.DataFrame:
    pages = []
    for r in runs:
        if r.status == "none":
            pages.append("")
            continue
        links = " ".join(f'<a href="scenarios/{_e(r.directory)}/{_e(p)}">{_e(Path(p).stem)}</a>' for p in r.pages)
        if r.status == "failed":
            links += f' <span class="failed">failed: {_e(r.error)}</span>'
        elif r.status == "same":
            links += f" (the same scheme as {_e(r.twin)})"
        elif r.status == "skipped":
            links += " (unchanged since the last run)"
        pages.append(links)
    view = pd.DataFrame(
        {
            "Scenario": [b.name for b in built],
            "Defined by": [
                {"base": "the base scheme", "grid": "the grid", "named": "its name"}[b.scenario.origin] for b in built
            ],
            "What it sets": [b.scenario.describe() for b in built],
        }
    )
    if any(r.status != "none" for r in runs):
        view["Notebook pages"] = pages
    return view


def write_index(
    out_dir: Path,
    spec: SweepSpec,
    built: Sequence[BuiltScenario],
    comparison: Comparison,
    runs,
    figures: Sequence[Path],
    simulated: bool = False,
) -> Path:
    """Write ``DIR/index.html`` for people who never open a notebook."""
    n = len(built)
    failed = [r for r in runs if r.status == "failed"]
    from perflab.report import _notice_html

    parts = ([_notice_html()] if simulated else []) + [f"<h1>{_e(spec.title)}</h1>"]
    if spec.description:
        parts.append(f"<p>{_e(spec.description)}</p>")
    parts.append(
        f"<p>{n} scenarios ({n - 1} besides <b>base</b>, the base scheme <code>{_e(spec.base.name)}</code>), sweep file "
        f"<code>{_e(spec.file.name)}</code>. Ranks are within each ranking group (1 = best); every comparison is against "
        "base.</p>"
    )
    if failed:
        parts.append(
            f'<p class="failed">{len(failed)} scenario(s) whose notebooks failed: '
            + "; ".join(f"{_e(r.scenario)}: {_e(r.error)}" for r in failed)
            + "</p>"
        )
    parts += _summary_section(comparison) + _movers_section(comparison)
    if figures:
        parts.append("<h2>Figures</h2>")
        for p in figures:
            if p.suffix == ".png":
                rel = p.relative_to(out_dir)
                parts.append(
                    f'<p><a href="{_e(rel.with_suffix(".svg"))}"><img src="{_e(rel)}" alt="{_e(p.stem)}"></a></p>'
                )
    parts.append("<h2>The scenarios</h2>")
    parts.append(_table(scenarios_view(built, runs, out_dir), raw_html=["Notebook pages"]))
    parts.append("<h2>Tables</h2><ul>")
    for name, what in (
        ("ranks", "each unit's rank in every scenario"),
        ("scores", "each unit's final score"),
        ("grades", "each unit's grade"),
        ("summary", "one row per scenario and ranking group"),
        ("movers", "the biggest movers with the change of each contribution"),
        ("scenarios", "what each scenario sets"),
        ("weights", "each scenario's indicator weights (sum 1)"),
    ):
        parts.append(f'<li><a href="comparison/{name}.csv">{name}.csv</a>: {_e(what)}</li>')
    parts.append('</ul><p class="note">How this sweep was made: <a href="provenance.json">provenance.json</a>.</p>')
    doc = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(spec.title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
    path = out_dir / "index.html"
    path.write_text(doc, encoding="utf-8")
    return path


def _summary_section(comparison: Comparison) -> list[str]:
    """How far each scenario moves the ranking: the summary table with its notes."""
    parts = []
    view, note = summary_view(comparison)
    parts.append("<h2>How far each scenario moves the ranking</h2>")
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append(
        "<p class=\"note\">Kendall's τ and Spearman's ρ compare each scenario's ranks with base's within the "
        "ranking group (1 = the same order). A move is counted in places; the unit that moves most is shown "
        "with its rank under base and under the scenario.</p>"
    )
    parts.append(
        _table(
            view,
            numeric=[
                "Units",
                "Kendall's τ against base",
                "Spearman's ρ against base",
                "Units whose rank changes",
                "Largest move (places)",
                "Units changing grade",
            ],
        )
    )
    return parts


def _movers_section(comparison: Comparison) -> list[str]:
    """The biggest movers and why (nothing when no unit moves)."""
    parts = []
    mv = movers_view(comparison)
    if mv.empty:
        return parts
    parts.append("<h2>The biggest movers, and why</h2>")
    parts.append(
        "<p class=\"note\">Each unit's final score is a sum of contributions (each indicator's part of the "
        "on-site score, the routine score, satisfaction); the change of each contribution against base "
        "adds up to the change of the final score. The largest changes are named. A unit can also move "
        f"because others moved past it. The {min(len(comparison.movers), MAX_MOVERS)} largest moves are "
        "listed; comparison/movers.csv has every scenario's five biggest movers per ranking group.</p>"
    )
    parts.append(_table(mv, numeric=["Rank under base", "Rank", "Places moved (+ up)", "Final score change"]))
    return parts
