"""Sentences for the report pages, computed from the result tables they describe.

A page's words are claims an expert signs: every number in prose comes from here, from the same table the
page shows, never from fixed text. Each function takes result tables and returns Markdown (English, the
language of the pages' narrative); unit names come from the ``name`` column the page uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.io import Dataset
from perflab.scheme import Scheme

KIND_WORDS = {
    "district": ("district", "districts"),
    "department": ("department", "departments"),
    "all": ("unit", "units"),
}
COMPONENT_WORDS = {
    "onsite": "on-site evaluation",
    "routine": "routine assessment",
    "satisfaction": "satisfaction survey",
}


def _kinds(word: str, n: int = 2) -> str:
    one, many = KIND_WORDS.get(word, (word, word + "s"))
    return one if n == 1 else many


def _pct(x: float, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f} %"


def _name(row, name: str) -> str:
    label = row.get(name) if hasattr(row, "get") else None
    return f"{label} ({row['unit']})" if isinstance(label, str) and label else str(row["unit"])


def written_report_caveat(scores: pd.DataFrame, scheme: Scheme, name: str = "name_en") -> str:
    """How the units without an on-site score were scored, and where that puts them.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`perflab.scoring.score_units`'s table.
    scheme : Scheme
        Its ``missing_components`` rule is named and explained.
    name : str
        The name column to cite units by.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "presented": True,
    ...     "name_en": ["Dongcheng", "Xicheng", "Chaoyang"], "final": [91.5, 88.25, 80.0], "rank": [1, 2, 3]})
    >>> written_report_caveat(scores, scheme)
    'Every unit presented in person: no on-site score is imputed.'
    """
    written = scores[~scores["presented"].astype(bool)]
    if written.empty:
        return "Every unit presented in person: no on-site score is imputed."
    parts = []
    for kind, w in written.groupby("kind", sort=False):
        allk = scores[scores["kind"] == kind]
        n_all, ranks = int(allk["rank"].notna().sum()), w["rank"].dropna().astype(int)
        text = f"{len(w)} of the {n_all} {_kinds(kind)}"
        if len(ranks):
            text += f" rank {ranks.min()}–{ranks.max()} (median {np.median(ranks):g})"
        if scheme.missing_components == "impute_mean":
            on = allk.loc[allk["presented"].astype(bool), "onsite"]
            text += f", each with the on-site score {on.mean():.2f}, the mean of the {len(on)} that presented"
        if len(w) >= 3 and w["routine"].notna().all() and w["final"].notna().all():
            rho = w["routine"].rank().corr(w["final"].rank())
            text += f"; among themselves their order follows the routine score (Spearman ρ {rho:.2f})"
        parts.append(text)
    head = (
        f"**{len(written)} units only submitted a written report** and were scored by rule "
        f"`missing_components: {scheme.missing_components}`: " + "; ".join(parts) + "."
    )
    if scheme.missing_components == "impute_mean":
        head += (
            " The rule is not neutral: every such unit gets its kind's average on-site score, so it is pulled to "
            "the middle on that component and ordered by its routine score alone. Their ranks, and any interval "
            "computed for them, describe that average profile rather than the unit's own work."
        )
    elif scheme.missing_components == "renormalise":
        head += (
            " Under `renormalise` they are scored on the components they have, so they escape the on-site "
            "scoring altogether; compare their ranks with the presenting units' with care."
        )
    return head


def effective_weights_summary(ew: pd.DataFrame, dataset: Dataset | None = None, scheme: Scheme | None = None) -> str:
    """Nominal against effective weight of each component, per rank group, and the component that decides least.

    Parameters
    ----------
    ew : pandas.DataFrame
        :func:`perflab.effective.effective_weights`'s table.
    dataset, scheme : optional
        With both, a routine score that decides little is explained by its share of capped attainment scores.

    Returns
    -------
    str
        Markdown: one bullet per rank group.

    Examples
    --------
    >>> ew = pd.DataFrame({"rank_group": "district", "level": "component", "item": ["onsite", "routine"],
    ...     "name_en": ["On-site evaluation", "Routine assessment"], "units": 16, "nominal": [0.6, 0.4],
    ...     "variance_share": [0.9, 0.1], "correlation_ratio": [0.8, 0.05], "sd_points": [3.0, 0.5],
    ...     "ratio": [1.5, 0.25]})
    >>> print(effective_weights_summary(ew))
    - **Districts** (16 units): on-site evaluation 60 % nominal against 90.0 % of the variance (correlation ratio
    0.80; spread 3.00 points); routine assessment 40 % nominal against 10.0 % of the variance (correlation ratio
    0.05; spread 0.50 points).
    <BLANKLINE>
    For districts, routine assessment decides far less than its nominal 40 %: it accounts for 10.0 % of the
    differences in the final score.
    """
    comp = ew[ew["level"] == "component"]
    if comp.empty:
        return "Too few ranked units for effective weights."
    lines = []
    for group, g in comp.groupby("rank_group", sort=False):
        g = g.set_index("item")
        bits = [
            f"{COMPONENT_WORDS.get(i, i)} {_pct(r.nominal)} nominal against {_pct(r.variance_share, 1)} of the "
            f"variance (correlation ratio {r.correlation_ratio:.2f}; spread {r.sd_points:.2f} points)"
            for i, r in g.iterrows()
        ]
        lines.append(f"- **{_kinds(group).capitalize()}** ({int(g['units'].iloc[0])} units): " + "; ".join(bits) + ".")
    text = "\n".join(lines)
    low = comp[(comp["nominal"] > 0) & (comp["variance_share"] < 0.5 * comp["nominal"])]
    if len(low):
        r = low.sort_values("ratio").iloc[0]
        text += (
            f"\n\nFor {_kinds(r.rank_group)}, {COMPONENT_WORDS.get(r['item'], r['item'])} decides far less than its "
            f"nominal {_pct(r.nominal)}: it accounts for {_pct(r.variance_share, 1)} of the differences in the final score."
        )
        if dataset is not None and scheme is not None and r["item"] == "routine":
            from perflab.scoring import attainment_scores

            att = attainment_scores(dataset, scheme)
            if len(att):
                kind = att["unit"].map(dataset.units.set_index("unit")["kind"])
                mine = att[kind == r.rank_group] if r.rank_group != "all" else att
                at_cap = float((mine["score"] >= 100 - 1e-9).mean()) if len(mine) else float("nan")
                if np.isfinite(at_cap):
                    text += (
                        f" {_pct(at_cap)} of their target-attainment scores sit at the cap of 100, so the routine "
                        "score gives nearly every unit the same points."
                    )
    return text


def effective_weights_view(ew: pd.DataFrame, level: str, lang: str = "en", caption: str | None = None):
    """The effective-weights table of one level for a page: headers in words, percentages, no row numbers.

    Parameters
    ----------
    ew : pandas.DataFrame
        :func:`perflab.effective.effective_weights`'s table.
    level : str
        ``component`` or ``indicator``.
    lang : str
        ``zh`` or ``en``: the language of the item names.
    caption : str, optional
        The table's caption; None: one naming the level.

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> ew = pd.DataFrame({"rank_group": "district", "level": "component", "item": ["onsite", "routine"],
    ...     "name_en": ["On-site evaluation", "Routine assessment"], "units": 16, "nominal": [0.6, 0.4],
    ...     "variance_share": [0.9, 0.1], "correlation_ratio": [0.8, 0.05], "sd_points": [3.0, 0.5],
    ...     "ratio": [1.5, 0.25]})
    >>> type(effective_weights_view(ew, "component")).__name__
    'Styler'
    """
    t = ew[ew["level"] == level]
    view = pd.DataFrame(
        {
            "Ranking group": t["rank_group"].map(lambda g: _kinds(g).capitalize()),
            "Component" if level == "component" else "Item": t["name_zh" if lang == "zh" else "name_en"],
            "Units": t["units"],
            "Nominal weight": t["nominal"],
            "Share of the variance": t["variance_share"],
            "Correlation ratio": t["correlation_ratio"],
            "Spread (points)": t["sd_points"],
            "Variance share / nominal": t["ratio"],
        }
    )
    return (
        view.style.hide(axis="index")
        .format(
            {
                "Nominal weight": "{:.1%}",
                "Share of the variance": "{:.1%}",
                "Correlation ratio": "{:.2f}",
                "Spread (points)": "{:.2f}",
                "Variance share / nominal": "{:.2f}",
            },
            na_rep="–",
        )
        .set_caption(
            caption
            or (
                "The final score's components: nominal against effective weight"
                if level == "component"
                else "The indicators: nominal against effective weight"
            )
        )
    )


def items_in_words(text: str, labels: dict[str, str]) -> str:
    """A text naming items by id (``"budget_execution -1.92; approval_days +1.52"``) with each id in words.

    Parameters
    ----------
    text : str
        The text; anything else is returned as it is.
    labels : dict
        Item id → its words.

    Returns
    -------
    str

    Examples
    --------
    >>> items_in_words("key_tasks -1.92; pm25 +1.52", {"key_tasks": "Key tasks", "pm25": "PM2.5"})
    'Key tasks -1.92; PM2.5 +1.52'
    """
    import re

    if not isinstance(text, str) or not labels:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(labels, key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: labels[m.group(1)], text)


def ranking_summary(scores: pd.DataFrame, scheme: Scheme, name: str = "name_en") -> str:
    """The top and bottom of each rank group with their margins.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`perflab.scoring.score_units`'s table.
    scheme : Scheme
        Its ``ranking.within`` says what the rank groups are.
    name : str
        The name column to cite units by.

    Returns
    -------
    str
        Markdown: one bullet per rank group, and a caveat.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> scores = pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "presented": True,
    ...     "name_en": ["Dongcheng", "Xicheng", "Chaoyang"], "final": [91.5, 88.25, 80.0], "rank": [1, 2, 3]})
    >>> print(ranking_summary(scores, scheme).splitlines()[0])
    - **Districts** (3): first Dongcheng (D01) with 91.50, 3.25 points ahead of Xicheng (D02); last Chaoyang (D03)
    with 80.00; the whole range is 11.50 points.
    """
    by = scores.groupby("kind", sort=False) if scheme.ranking.within == "kind" else [("all", scores)]
    lines = []
    for kind, s in by:
        s = s.dropna(subset=["final"]).sort_values(["rank", "unit"])
        if len(s) < 2:
            continue
        top, second, bottom = s.iloc[0], s.iloc[1], s.iloc[-1]
        lines.append(
            f"- **{_kinds(kind).capitalize()}** ({len(s)}): first {_name(top, name)} with {top['final']:.2f}, "
            f"{top['final'] - second['final']:.2f} points ahead of {_name(second, name)}; last {_name(bottom, name)} "
            f"with {bottom['final']:.2f}; the whole range is {top['final'] - bottom['final']:.2f} points."
        )
    return (
        "\n".join(lines) + "\n\nThese are point estimates under one set of weights and one panel of evaluators; "
        "the weight-sensitivity and evaluator pages say which of these places survive which perturbation."
    )


def small_zones_note(ev, scheme: Scheme, units: pd.DataFrame) -> str:
    """Which zones borrow their kind's spread for the T-scores.

    Parameters
    ----------
    ev : Evaluation
        :func:`perflab.differentiated.evaluate`'s result.
    scheme : Scheme
        Gives ``differentiated.min_zone_size`` and the zones' names.
    units : pandas.DataFrame
        The units table (kind and zone of each unit).

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> from perflab.differentiated import Evaluation
    >>> ev = Evaluation(
    ...     scores=pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district",
    ...         "zone": ["core", "core", "ecological"], "rank_uniform": [1, 2, 3], "rank_differentiated": [2, 1, 3],
    ...         "rank_change": [-1, 1, 0], "spread_pooled": [False, False, True]}),
    ...     contributions=pd.DataFrame({"unit": ["D01", "D01", "D02", "D02", "D03", "D03"],
    ...         "item": ["key_tasks", "gdp_growth"] * 3, "part": ["indicator", "measure"] * 3,
    ...         "uniform": [50.0, 40.0, 49.0, 40.5, 48.0, 40.0], "differentiated": [50.0, 38.0, 49.0, 41.0, 48.0, 40.0]}),
    ...     objective=pd.DataFrame({"vetted": ["reject", ""], "attainment": [100.0, 90.0],
    ...         "attainment_vetted": [85.0, 90.0]}),
    ...     baseline=None, attainment=None, vetting=pd.DataFrame({"year": [2016], "flag": ["repeats_result"]}),
    ...     method="mean", years=3, too_few_years="zone")
    >>> units = ev.scores[["unit", "kind", "zone"]]
    >>> print(small_zones_note(ev, scheme, units).split(". ")[-1])
    That applies to Capital core (2 districts) and Ecological conservation (1 district).
    """
    d = scheme.differentiated
    size = units.groupby(["kind", "zone"], sort=False).size()
    small = [(k, z, n) for (k, z), n in size.items() if n < d.min_zone_size]
    text = (
        f"T-scores compare a unit with the others of its zone. A zone of fewer than {d.min_zone_size} units "
        "(`differentiated.min_zone_size`) standardises with the spread pooled over the zones of its kind, since with "
        "its own spread two units always come out at T = 40 and 60 whatever their gap. "
    )
    if small:
        names = dict(zip([z.id for z in scheme.zones], [z.name_en for z in scheme.zones]))
        listed = [f"{names.get(z, z)} ({n} {_kinds(k, n)})" for k, z, n in small]
        text += (
            "That applies to " + (", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else listed[0]) + "."
        )
    else:
        text += "No zone is that small here: every zone uses its own spread."
    extra = int(ev.scores.loc[~ev.scores["zone"].isin([z for _, z, _ in small]), "spread_pooled"].sum())
    if extra:
        text += (
            f" {extra} more units have a measure that fewer than {d.min_zone_size} units of their zone report; "
            "those T-scores use the pooled spread too."
        )
    return text


def differentiated_moves(ev, scheme: Scheme) -> str:
    """What actually moves each kind under the differentiated evaluation (from ``Evaluation.spread``).

    Parameters
    ----------
    ev : Evaluation
        :func:`perflab.differentiated.evaluate`'s result.
    scheme : Scheme
        Gives the zones' weight overrides.

    Returns
    -------
    str
        Markdown: one bullet per kind.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> from perflab.differentiated import Evaluation
    >>> ev = Evaluation(
    ...     scores=pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district",
    ...         "zone": ["core", "core", "ecological"], "rank_uniform": [1, 2, 3], "rank_differentiated": [2, 1, 3],
    ...         "rank_change": [-1, 1, 0], "spread_pooled": [False, False, True]}),
    ...     contributions=pd.DataFrame({"unit": ["D01", "D01", "D02", "D02", "D03", "D03"],
    ...         "item": ["key_tasks", "gdp_growth"] * 3, "part": ["indicator", "measure"] * 3,
    ...         "uniform": [50.0, 40.0, 49.0, 40.5, 48.0, 40.0], "differentiated": [50.0, 38.0, 49.0, 41.0, 48.0, 40.0]}),
    ...     objective=pd.DataFrame({"vetted": ["reject", ""], "attainment": [100.0, 90.0],
    ...         "attainment_vetted": [85.0, 90.0]}),
    ...     baseline=None, attainment=None, vetting=pd.DataFrame({"year": [2016], "flag": ["repeats_result"]}),
    ...     method="mean", years=3, too_few_years="zone")
    >>> print(differentiated_moves(ev, scheme))
    - **Districts**: 2 of 3 change rank (mean move 0.67 places, Spearman ρ 0.50). 3 zone(s) override weights. The
    routine part spreads the units by 0.24 points under the uniform evaluation and 1.25 under the differentiated one
    (5.3×), against 0.82 from on-site: judged against targets capped at 100 the figures barely separate the units;
    as T-scores among peers they do.
    """
    sp = ev.spread()
    zone_kind = {z.id: z.kind for z in scheme.zones}
    lines = []
    for kind, g in sp.groupby("kind", sort=False):
        g = g.set_index("component")
        overrides = [zw for zw in scheme.differentiated.zones if zone_kind.get(zw.zone) == kind]
        summ = ev.summary().set_index("kind").loc[kind]
        text = (
            f"- **{_kinds(kind).capitalize()}**: {int(summ['moved'])} of {int(summ['units'])} change rank "
            f"(mean move {summ['mean_abs_move']:.2f} places, Spearman ρ {summ['spearman_rho']:.2f}). "
        )
        text += (
            f"{len(overrides)} zone(s) override weights. "
            if overrides
            else "No zone of this kind overrides a weight, so "
            "the moves come from scoring the objective figures differently. "
        )
        if "routine" in g.index and "on-site" in g.index:
            r, o = g.loc["routine"], g.loc["on-site"]
            text += (
                f"The routine part spreads the units by {r['uniform_sd']:.2f} points under the uniform evaluation and "
                f"{r['differentiated_sd']:.2f} under the differentiated one ({r['ratio']:.1f}×), against "
                f"{o['differentiated_sd']:.2f} from on-site"
            )
            text += (
                ": judged against targets capped at 100 the figures barely separate the units; as T-scores among peers "
                "they do."
                if r["ratio"] > 1.5
                else "."
            )
        lines.append(text)
    return "\n".join(lines)


def vetting_summary(ev, scheme: Scheme) -> str:
    """How many targets were vetted this year, and what the scheme's rule did to their scores.

    Parameters
    ----------
    ev : Evaluation
        :func:`perflab.differentiated.evaluate`'s result (its ``objective`` and ``vetting`` tables).
    scheme : Scheme
        Gives the year and the vetting rule (``differentiated.vetting``).

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> from perflab.differentiated import Evaluation
    >>> ev = Evaluation(
    ...     scores=pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district",
    ...         "zone": ["core", "core", "ecological"], "rank_uniform": [1, 2, 3], "rank_differentiated": [2, 1, 3],
    ...         "rank_change": [-1, 1, 0], "spread_pooled": [False, False, True]}),
    ...     contributions=pd.DataFrame({"unit": ["D01", "D01", "D02", "D02", "D03", "D03"],
    ...         "item": ["key_tasks", "gdp_growth"] * 3, "part": ["indicator", "measure"] * 3,
    ...         "uniform": [50.0, 40.0, 49.0, 40.5, 48.0, 40.0], "differentiated": [50.0, 38.0, 49.0, 41.0, 48.0, 40.0]}),
    ...     objective=pd.DataFrame({"vetted": ["reject", ""], "attainment": [100.0, 90.0],
    ...         "attainment_vetted": [85.0, 90.0]}),
    ...     baseline=None, attainment=None, vetting=pd.DataFrame({"year": [2016], "flag": ["repeats_result"]}),
    ...     method="mean", years=3, too_few_years="zone")
    >>> print(vetting_summary(ev, scheme))
    1 of the 2 targets for 2016 were vetted (1 repeat a result already achieved, 0 ask less than last year's
    result); 1 of them score 100 against their own target. The scheme's rule is `vetting: reject`: measured against
    the unit's own baseline instead, 0 still score 100 (their result beats their own baseline too).
    """
    d = scheme.differentiated
    o = ev.objective
    v = o[o["vetted"].fillna("") != ""]
    year_flags = ev.vetting[ev.vetting["year"] == d.year]
    counts = year_flags["flag"].value_counts()
    if v.empty:
        return f"No {d.year} target was vetted."
    full_before = int((v["attainment"] >= 100 - 1e-9).sum())
    full_after = int((v["attainment_vetted"] >= 100 - 1e-9).sum())
    text = (
        f"{len(v)} of the {int(o['attainment'].notna().sum())} targets for {d.year} were vetted "
        f"({int(counts.get('repeats_result', 0))} repeat a result already achieved, "
        f"{int(counts.get('not_ambitious', 0))} ask less than last year's result"
        + (
            f", {int(counts['challenge_achieved'])} set a challenge value an earlier result already reached"
            if counts.get("challenge_achieved", 0)
            else ""
        )
        + f"); {full_before} of them score 100 "
        f"against their own target. The scheme's rule is `vetting: {d.vetting}`"
    )
    if d.vetting == "reject":
        missing = int(v["attainment_vetted"].isna().sum())
        text += (
            f": measured against the unit's own baseline instead, {full_after} still score 100 (their result beats "
            f"their own baseline too)"
            + (f" and {missing} have no baseline to measure against" if missing else "")
            + "."
        )
    elif d.vetting == "penalty":
        text += f": {d.vetting_penalty:g} points off each, so {full_after} still score 100."
    else:
        text += ": they are reported here and scored as they stand."
    n_failed = int(counts.get("failed_verification", 0))
    if n_failed:
        text += f" {n_failed} claims failed on-site verification (each costs routine points)."
    return text


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


NUMBER_WORDS = dict(enumerate(["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]))


def satisfaction_sentence(
    summary: pd.DataFrame,
    units: pd.DataFrame,
    names: pd.Series | dict,
    zone_names: dict | None = None,
    list_at_most: int = 8,
) -> str:
    """The survey against the published means, per kind, and the units below their kind's average.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`perflab.survey.satisfaction_summary`'s table.
    units : pandas.DataFrame
        :func:`perflab.survey.satisfaction_units`'s table.
    names : Series or dict
        Unit → the name the page uses.
    zone_names : dict, optional
        Zone id → the name the page uses.
    list_at_most : int
        Name every unit below the average up to this many; beyond, the three lowest.

    Returns
    -------
    str
        Markdown: one bullet per kind, and the range of the zones' gaps.

    Examples
    --------
    >>> summary = pd.DataFrame({"level": ["kind"], "kind": ["district"], "zone": [None], "units": [3],
    ...     "respondents": [1500], "mean": [80.0], "weighted_mean": [80.5], "published": [82.66],
    ...     "difference": [-2.66]})
    >>> units = pd.DataFrame({"unit": ["D01", "D02", "D03"], "kind": "district", "satisfaction": [84.0, 81.0, 75.0],
    ...     "below_mean": [False, False, True]})
    >>> print(satisfaction_sentence(summary, units, {"D03": "Chaoyang"}))
    - **District satisfaction** averages 80.00 over 3 districts (1,500 respondents; 80.50 weighted by respondents)
    against the published 82.66 (difference -2.66); the one district below the average is Chaoyang (75.0).
    """
    names, zone_names = dict(names), dict(zone_names or {})
    who = {"district": "District satisfaction", "department": "Satisfaction of the departments' service users"}
    lines = []
    for _, r in summary[summary["level"] == "kind"].iterrows():
        kind = r["kind"]
        text = (
            f"- **{who.get(kind, kind.capitalize() + ' satisfaction')}** averages {r['mean']:.2f} over "
            f"{int(r['units'])} {_kinds(kind, int(r['units']))} ({int(r['respondents']):,} respondents"
        )
        text += (
            f"; {r['weighted_mean']:.2f} weighted by respondents)"
            if np.isfinite(r["weighted_mean"])
            else "; no respondent counts to weigh by)"
        )
        if np.isfinite(r["published"]):
            text += f" against the published {r['published']:g} (difference {r['difference']:+.2f})"
        below = units[(units["kind"] == kind) & units["below_mean"]].sort_values("satisfaction")
        n = len(below)
        count = NUMBER_WORDS.get(n, str(n))
        if n == 0:
            text += f"; no {_kinds(kind, 1)} lies below the average."
        elif n <= list_at_most:
            listed = [f"{names.get(u, u)} ({v:.1f})" for u, v in zip(below["unit"], below["satisfaction"])]
            verb = "is" if n == 1 else "are"
            text += f"; the {count} {_kinds(kind, n)} below the average {verb} {_listing(listed)}."
        else:
            low = [f"{names.get(u, u)} ({v:.1f})" for u, v in zip(below["unit"][:3], below["satisfaction"][:3])]
            text += f"; {n} {_kinds(kind, n)} lie below the average, the lowest {_listing(low)}."
        lines.append(text)
    zones = summary[summary["level"] == "zone"].dropna(subset=["difference"])
    if len(zones):
        lo, hi = zones.loc[zones["difference"].idxmin()], zones.loc[zones["difference"].idxmax()]
        lines.append(
            f"\nBy zone, the gap to the published mean of the kind runs from {lo['difference']:+.2f} "
            f"({zone_names.get(lo['zone'], lo['zone'])}) to {hi['difference']:+.2f} "
            f"({zone_names.get(hi['zone'], hi['zone'])})."
        )
    return "\n".join(lines)


__all__ = [
    "effective_weights_view",
    "small_zones_note",
    "differentiated_moves",
    "vetting_summary",
    "written_report_caveat",
    "effective_weights_summary",
    "ranking_summary",
    "satisfaction_sentence",
    "items_in_words",
]
