# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scores and ranks
#
# **What this answers:** what is each unit's score under the scheme, and where does it rank among units of its own kind and zone?
# The scheme (indicator weights, grade bands, evaluator-group shares, components) comes from the params file; the data from a validated data directory.

# %% tags=["parameters"]
# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016

# %%
from pathlib import Path

import pandas as pd
from IPython.display import display

from perflab import plots
from perflab.effective import effective_weights
from perflab.io import describe_dataset
from perflab.narrative import (
    COMPONENT_WORDS,
    effective_weights_summary,
    effective_weights_view,
    ranking_summary,
    satisfaction_sentence,
    written_report_caveat,
)
from perflab.notebook import KIND_WORDS, setup
from perflab.pillars import pillar_gaps, pillar_scores
from perflab.plots.tables import table
from perflab.report import save_table
from perflab.scoring import adjustment_table, score_units
from perflab.survey import satisfaction_summary, satisfaction_units, survey_year

page = setup(scheme, data, output)
# %config InlineBackend.print_figure_kwargs = {'bbox_inches': None}  # the figures lay themselves out: drawn once, not twice
the_scheme, dataset, output, lang = page.scheme, page.dataset, page.output, page.lang
name = page.name  # unit, zone and indicator names in the label language
zone_words = page.zone_labels()
kind_words = KIND_WORDS
group_words = page.group_labels()
composite_words = {
    "arithmetic": "the weighted arithmetic mean (a strong indicator makes up for a weak one)",
    "geometric": "the weighted geometric mean (a weak indicator is not bought back by a strong one)",
}
page.say(
    f"Scheme: **{the_scheme.title_en}** (`{the_scheme.name}`); figure labels in "
    f"{ {'zh': 'Chinese', 'en': 'English'}[lang] }."
)

# %% [markdown]
# ## The scheme
#
# The indicators with their weights (used relative to their sum), the grade bands on the 0–100 scale, the evaluator groups with their shares in the on-site score, and the weights of the final score's components. Numbers the source article does not give are assumptions, marked as such in the params file.

# %%
page.say(
    f"{len(the_scheme.indicators)} indicators, {len(the_scheme.bands)} grade bands, "
    f"{len(the_scheme.groups)} evaluator groups. The indicator scores combine into the on-site score by "
    f"{composite_words.get(the_scheme.composite, the_scheme.composite)} (`composite: {the_scheme.composite}`); "
    "evaluator groups into an indicator score, and components into the final score, by weighted arithmetic means."
)
ind = the_scheme.indicator_table()
ind["share"] = 100 * ind["weight"] / ind["weight"].sum()
if the_scheme.is_tree:  # a leaf's weight is its share of the score (the product of the weights on its path)
    ind["weight"] = ind["share"]
display(
    table(
        ind,
        {name: "Indicator", "weight": "Weight", "share": "Share of the on-site score (%)"},
        digits={"weight": 0, "share": 1},
        caption=f"Indicators of the on-site score (combined by the weighted {the_scheme.composite} mean)",
    )
)
display(
    table(
        pd.DataFrame([b.__dict__ for b in the_scheme.bands]),
        {"grade": "Grade", "lower": "From", "upper": "To", "score": "Score of the grade"},
        digits=0,
        caption="Grade bands on the 0–100 scale",
    )
)
groups = pd.DataFrame([g.__dict__ for g in the_scheme.groups]).assign(share=lambda g: 100 * g["share"])
display(
    table(
        groups,
        {name: "Evaluator group", "share": "Share of the on-site score (%)"},
        digits=0,
        caption="Evaluator groups",
    )
)
comp = pd.DataFrame(
    {
        "component": [COMPONENT_WORDS.get(c, c).capitalize() for c in the_scheme.components],
        "weight": [100 * w for w in the_scheme.components.values()],
    }
)
display(
    table(
        comp,
        {"component": "Component", "weight": "Weight in the final score (%)"},
        digits=0,
        caption="Components of the final score",
    )
)

# %%
if the_scheme.is_tree:  # a scheme whose indicators form a tree: its levels and the weights on them
    nodes = the_scheme.node_table()
    top = nodes[nodes["depth"] == 1]
    page.say(
        f"The indicators form a tree of {nodes['depth'].max()} levels: {len(top)} first-level parts "
        f"({', '.join(f'{n} {100 * w:.0f} %' for n, w in zip(top[name], top['effective_weight']))}) over "
        f"{int(nodes['leaf'].sum())} scored indicators. Sibling weights are relative to each other; an indicator's "
        "share of the on-site score is the product of the shares on its path."
    )
    nodes = nodes.assign(
        parent=nodes["parent"].map(nodes.set_index("node")[name]).fillna(""),
        share=100 * nodes["effective_weight"],
        leaf=nodes["leaf"].map({True: "indicator (scored)", False: "part"}),
    )
    display(
        table(
            nodes,
            {
                name: "Node",
                "parent": "Part of",
                "depth": "Level",
                "leaf": "Node is",
                "weight": "Weight among its siblings",
                "share": "Share of the on-site score (%)",
            },
            digits={"depth": 0, "weight": 0, "share": 1},
            caption="The indicator tree",
        )
    )
    fig = plots.scheme_icicle(the_scheme)
    saved = plots.keep(fig, output, "10_indicator_tree")

# %% [markdown]
# ## The data
#
# Units by kind and zone, evaluators by group, and the size of each table.

# %%
summary = describe_dataset(dataset)
files = summary["tables"].rename_axis("table").reset_index()
files["file"] = files["file"].map(lambda f: Path(str(f)).name if str(f).endswith((".csv", ".gz", ".xlsx")) else f)
display(table(files, {"table": "Table", "rows": "Rows", "file": "File"}, digits=0, caption="Tables read"))
units = summary["units"].assign(
    kind=lambda u: u["kind"].map(kind_words), zone=lambda u: u["zone"].map(zone_words).fillna(u["zone"])
)
display(
    table(
        units,
        {"kind": "Kind", "zone": "Zone", "units": "Units", "presented": "Presented in person"},
        digits=0,
        caption="Units by kind and zone",
    )
)
raters = summary["raters"].assign(group=lambda r: r["group"].map(group_words).fillna(r["group"]))
display(
    table(
        raters,
        {"group": "Evaluator group", "raters": "Evaluators", "mean_units_scored": "Units scored (mean)"},
        digits={"raters": 0, "mean_units_scored": 1},
        caption="Evaluators by group",
    )
)

# %% [markdown]
# ## Scores and ranks
#
# Ranks are within each kind (district governments are never ranked against municipal departments unless the scheme says `ranking: within: all`) and within each zone; 1 is best and tied units share the best rank. Units that only submitted a written report have no on-site score: the scheme's `missing_components` rule fills it in (see the section on them below).

# %%
scores = score_units(dataset, the_scheme)
save_table(scores, output, "scores")
shown = scores.assign(zone_name=scores["zone"].map(zone_words).fillna(scores["zone"]))
score_headers = {
    "rank": "Rank",
    "zone_rank": "Rank in zone",
    "unit": "Unit",
    name: "Name",
    "zone_name": "Zone",
    "onsite": "On-site score",
    "routine": "Routine score",
    "final": "Final score",
    "grade": "Grade",
}
score_digits = {"rank": 0, "zone_rank": 0, "onsite": 2, "routine": 2, "final": 2}
display(
    table(
        shown[shown["kind"] == "district"],
        score_headers,
        digits=score_digits,
        caption="District governments: scores and ranks (best first)",
    )
)

# %%
display(
    table(
        shown[shown["kind"] == "department"],
        score_headers,
        digits=score_digits,
        caption="Municipal departments: scores and ranks (best first; – no on-site score: written report only)",
    )
)

# %%
fig = plots.scores_by_zone(scores, the_scheme)
saved = plots.keep(fig, output, "10_scores_by_zone")

# %%
fig = plots.ranking_bars(scores, the_scheme, "district")
saved = plots.keep(fig, output, "10_ranking_districts", key=True)

# %%
fig = plots.ranking_bars(scores, the_scheme, "department")
saved = plots.keep(fig, output, "10_ranking_departments")

# %%
if the_scheme.is_tree:  # scores and ranks at every level: where each unit's standing comes from
    pillars = pillar_scores(dataset, the_scheme)
    save_table(pillars, output, "node_scores")
    page.say(
        "### Scores at every level of the tree\n\n"
        "Each part's score combines its children's by their weights, over the units scored on site; its rank is "
        "among the units of the same kind. Every node's score and rank is in `tables/node_scores.csv` (and in "
        "`perflab score`'s table as `score_<node>`, `rank_<node>`)."
    )
    page.say(pillar_gaps(pillars, scores, the_scheme, name))
    for kind in [k for k in ("district", "department", "all") if k in set(pillars["rank_group"])]:
        fig = plots.pillar_profile(pillars, scores, the_scheme, kind)
        saved = plots.keep(fig, output, f"10_parts_{kind}")

# %%
if the_scheme.adjustments is not None:  # bonus and deduction items (加分项, 扣分项), outside the weighted score
    adj = adjustment_table(dataset, the_scheme)
    save_table(adj, output, "adjustments")
    cut = adj[adj["points"] > adj["counted"]]
    by_type = adj.groupby("type")["unit"].nunique()
    page.say(
        "### Bonus and deduction items\n\n"
        f"The scheme declares {len(the_scheme.adjustments.items)} bonus and deduction items, added to or taken off "
        "the weighted score with their caps; the final score, its grade and its rank include them. "
        + (
            f"{adj['unit'].nunique()} units got points: {int(by_type.get('bonus', 0))} a bonus, "
            f"{int(by_type.get('deduction', 0))} a deduction; {len(cut)} item total"
            f"{'' if len(cut) == 1 else 's'} exceeded the item's cap and counted as the cap."
            if len(adj)
            else "No unit got any points."
        )
    )
    if len(adj):
        display(
            table(
                adj.assign(name=adj["unit"].map(scores.set_index("unit")[name]), item=adj[name]),
                {
                    "unit": "Unit",
                    "name": "Name",
                    "item": "Item",
                    "type": "Bonus or deduction",
                    "points": "Points given",
                    "cap": "Item's cap",
                    "counted": "Points counted",
                    "reasons": "Reasons",
                },
                digits={"points": 1, "cap": 1, "counted": 1},
                caption="Bonus and deduction points (totals over a unit's rows, capped)",
            )
        )

# %% [markdown]
# ## Units that only submitted a written report
#
# Units that did not present in person were scored by no evaluator on site. The scheme's `missing_components` rule decides how they are scored; the last column names the component filled in.

# %%
written = shown.loc[~shown["presented"]].assign(
    kind=lambda w: w["kind"].map(kind_words), imputed=lambda w: w["imputed"].map(lambda c: COMPONENT_WORDS.get(c, c))
)
page.say(written_report_caveat(scores, the_scheme))
display(
    table(
        written,
        {
            "rank": "Rank",
            "unit": "Unit",
            name: "Name",
            "kind": "Kind",
            "zone_name": "Zone",
            "routine": "Routine score",
            "final": "Final score",
            "imputed": "Component filled in",
        },
        digits={"rank": 0, "routine": 2, "final": 2},
        caption="Units scored on a written report only",
    )
)

# %% [markdown]
# ## Do the evaluators and the figures agree?
#
# Each point is a unit: its on-site score (the evaluators' judgement, the "essay questions") against its routine score (the verified figures, the "objective questions"). Units far from the cloud are where the two sources of evidence disagree and deserve a closer look; the units whose two ranks differ most are named.

# %%
fig = plots.components_scatter(scores)
saved = plots.keep(fig, output, "10_onsite_vs_routine")
both = scores.dropna(subset=["onsite"])
agreement = pd.DataFrame(
    [
        {"kind": kind_words[k], "units": len(g), "rho": g["onsite"].corr(g["routine"], method="spearman")}
        for k, g in both.groupby("kind", sort=False)
    ]
)
display(
    table(
        agreement,
        {"kind": "Kind", "units": "Units scored on site", "rho": "Spearman ρ, on-site against routine"},
        digits={"units": 0, "rho": 2},
        caption="Agreement of the on-site and the routine score",
    )
)

# %% [markdown]
# ## What the public and the service users say
#
# The third-party satisfaction survey of the evaluated year, by kind and by zone: the mean over the units (each unit once, as the published figures are) and the mean weighted by the respondents behind each unit, against the mean the source article publishes for the kind.

# %%
sat = satisfaction_summary(dataset, the_scheme)
sat_units = satisfaction_units(dataset, the_scheme)
save_table(sat, output, "satisfaction")
page.say(satisfaction_sentence(sat, sat_units, page.unit_names(), zone_words))
sat_view = sat.assign(
    kind=sat["kind"].map(kind_words), zone=sat["zone"].map(zone_words).where(sat["level"] == "zone", "All")
)
display(
    table(
        sat_view,
        {
            "kind": "Kind",
            "zone": "Zone",
            "units": "Units",
            "respondents": "Respondents",
            "mean": "Mean",
            "weighted_mean": "Mean weighted by respondents",
            "published": "Published mean",
            "difference": "Mean − published",
            "below_mean": "Units below the kind’s mean",
        },
        digits={
            "units": 0,
            "respondents": 0,
            "mean": 2,
            "weighted_mean": 2,
            "published": 2,
            "difference": 2,
            "below_mean": 0,
        },
        caption=f"Satisfaction survey {survey_year(the_scheme)}: by kind and zone against the published means",
    )
)
fig = plots.satisfaction_by_zone(sat, the_scheme)
saved = plots.keep(fig, output, "10_satisfaction")

# %% [markdown]
# ## Nominal and effective weights
#
# A nominal weight says how many points an item could add; what orders the units is how much the item varies across them. For each ranking group: the item's nominal weight in the final score, its share of the variance of the final score (Cov(item's points, final) / Var(final); the shares add up to one), its correlation ratio (how much of the final score's variance its own score explains, Var(E[final | item]) / Var(final), estimated by LOWESS, after Paruolo, Saisana & Saltelli 2013), and the spread in final-score points it gives the units. Components are compared over every ranked unit; indicators over the units scored on site.

# %%
ew = effective_weights(dataset, the_scheme)
save_table(ew, output, "effective_weights")
page.say(effective_weights_summary(ew, dataset, the_scheme))
display(effective_weights_view(ew, "component", lang))

# %%
display(effective_weights_view(ew, "indicator", lang))

# %% [markdown]
# ## Grades
#
# How many units of each kind fall in each grade band of the final score.

# %%
grades = pd.crosstab(scores["kind"], scores["grade"]).reindex(columns=the_scheme.grades, fill_value=0)
save_table(grades, output, "grades", index=True)
grade_view = grades.rename_axis(columns=None).reset_index().assign(kind=lambda g: g["kind"].map(kind_words))
display(
    table(
        grade_view,
        {"kind": "Kind", **{g: f"Grade {g}" for g in the_scheme.grades}},
        digits=0,
        caption="Units by grade of the final score",
    )
)

# %% [markdown]
# ## Reading the result
#
# The final score mixes on-site scoring by the evaluators with the routine score from the special-evaluation departments' figures. How fragile these ranks are under other weights or another grassroots share, and which evaluators move them, are the questions of the later notebooks.

# %%
page.say(ranking_summary(scores, the_scheme))
