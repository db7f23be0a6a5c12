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
# # Differentiated evaluation: each unit against itself and its zone
#
# **What this answers:** how does each unit do against its own history, its own targets and the peers of its functional zone, and how does the ranking change against the uniform evaluation, and why?
# The uniform evaluation weighs every unit the same way; the differentiated one (the scheme's `differentiated` block) lets each zone weigh indicators and measures by what its job is, and judges the objective figures by improvement on the unit's own baseline and attainment of its own targets.

# %% tags=["parameters"]
# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016
baseline_method = ""  # empty: as the scheme says; one of: "", mean, trend, zscore
baseline_years = 0  # previous years in the own baseline, 0: as the scheme says; range: at least 0
unit = ""  # the unit whose history to show; empty: the district that moves most

# %%
import pandas as pd
from IPython.display import display

from perflab import plots
from perflab.differentiated import evaluate
from perflab.narrative import differentiated_moves, items_in_words, small_zones_note, vetting_summary
from perflab.notebook import KIND_WORDS, setup
from perflab.plots import differentiated as dplots
from perflab.plots.tables import table
from perflab.report import save_table

page = setup(scheme, data, output)
the_scheme, dataset, output = page.scheme, page.dataset, page.output
ev = evaluate(dataset, the_scheme, method=baseline_method or None, years=baseline_years or None)
name = page.name  # unit, zone and item names in the label language
zone_words = page.zone_labels()
kind_words = KIND_WORDS
item_words = page.indicator_labels() | {m.id: getattr(m, name) for m in the_scheme.measures}
unit_names = page.unit_names()
page.say(
    f"Baseline: the **{ev.method}** of the {ev.years} previous years; a unit with too few own years: "
    f"`{ev.too_few_years}`. Indicator scores combine into the on-site score by the weighted "
    f"{the_scheme.composite} mean (`composite: {the_scheme.composite}`), under both evaluations."
)

# %% [markdown]
# ## What each zone weighs differently
#
# Weights that a zone overrides (the others keep their base weight). Indicators weigh the on-site score, measures the objective part of the routine score.

# %%
rows = []
for zw in the_scheme.differentiated.zones:
    base_i, base_m = the_scheme.weights, the_scheme.zone_measure_weights(None)
    rows += [
        {"zone": zw.zone, "part": "indicator", "item": i, "base": base_i[i], "weight": w} for i, w in zw.indicators
    ]
    rows += [{"zone": zw.zone, "part": "measure", "item": m, "base": base_m[m], "weight": w} for m, w in zw.measures]
overrides = pd.DataFrame(rows, columns=["zone", "part", "item", "base", "weight"])
overrides = overrides.assign(
    zone=overrides["zone"].map(zone_words).fillna(overrides["zone"]),
    item=overrides["item"].map(item_words).fillna(overrides["item"]),
)
display(
    table(
        overrides,
        {
            "zone": "Zone",
            "part": "Indicator or measure",
            "item": "Item",
            "base": "Base weight",
            "weight": "Zone weight",
        },
        digits=1,
        caption="Weights the zones override",
    )
)

# %% [markdown]
# ## Small zones
#
# Both objective parts (attainment of the unit's own targets, improvement on its own baseline) become T-scores among the units of its zone: 50 is the zone's average, 10 points one spread.

# %%
page.say(small_zones_note(ev, the_scheme, dataset.units))

# %% [markdown]
# ## One unit against its own baseline
#
# Each measure's achieved value, the baseline formed from the unit's own previous years, and its targets. A point above the dashed line (below it, when lower is better) is an improvement on the unit's own record.

# %%
districts = ev.scores[ev.scores["kind"] == "district"]
shown = unit or districts.loc[districts["rank_change"].abs().idxmax(), "unit"]
row = ev.scores.set_index("unit").loc[shown]
fig = dplots.history_vs_baseline(
    ev.baseline,
    dataset.history,
    shown,
    the_scheme,
    f"{row[name]}: {plots.t('对照自身基线', 'against its own baseline')}",
)
saved = plots.keep(fig, output, "20_history_vs_baseline")
obj = ev.objective[ev.objective["unit"] == shown]
display(
    table(
        obj.assign(measure=obj["measure"].map(item_words).fillna(obj["measure"])),
        {
            "measure": "Measure",
            "improvement": "Improvement on own baseline",
            "source": "Baseline from",
            "improvement_score": "Improvement (T-score)",
            "attainment": "Target attainment",
            "attainment_vetted": "Attainment after vetting",
            "vetted": "Vetted",
            "attainment_score": "Attainment (T-score)",
            "objective": "Objective score",
            "weight": "Weight",
        },
        caption=f"{row[name]}: each measure against its own baseline and targets",
    )
)

# %% [markdown]
# ## Uniform against differentiated ranks
#
# Left, the rank under the uniform evaluation; right, under the differentiated one; within each kind. Lines that cross are units that the change of method reorders; every unit is named on both sides with its rank.

# %%
page.say(differentiated_moves(ev, the_scheme))
summ = ev.summary().assign(kind=lambda s: s["kind"].map(kind_words))
display(
    table(
        summ,
        {
            "kind": "Kind",
            "units": "Units",
            "moved": "Units that change rank",
            "mean_abs_move": "Mean move (places)",
            "spearman_rho": "Spearman ρ of the two rankings",
            "baseline": "Baseline",
        },
        digits={"units": 0, "moved": 0, "mean_abs_move": 2, "spearman_rho": 2},
        caption="How much the ranking changes",
    )
)
spread = ev.spread().assign(kind=lambda s: s["kind"].map(kind_words))
display(
    table(
        spread,
        {
            "kind": "Kind",
            "component": "Part of the score",
            "uniform_sd": "Spread, uniform (points)",
            "differentiated_sd": "Spread, differentiated (points)",
            "ratio": "Ratio",
        },
        caption="How far each part of the score spreads the units (standard deviation)",
    )
)
save_table(ev.scores, output, "differentiated_scores")
fig = dplots.rank_slopes(ev.scores, the_scheme, "district")
saved = plots.keep(fig, output, "20_rank_slopes_districts", key=True)

# %%
fig = dplots.rank_slopes(ev.scores, the_scheme, "department", min_move=10)
saved = plots.keep(fig, output, "20_rank_slopes_departments")

# %% [markdown]
# ## The biggest movers, and why
#
# Every score is a sum of contributions (indicator × weight, measure × weight, satisfaction, verification); the difference between the two scores adds up item by item, so each move has its reasons. Note that the two scores are on the same 0–100 scale but the differentiated one judges improvement as a T-score around 50, so its level is lower: compare ranks, not levels.

# %%
movers = ev.movers(10)
save_table(ev.contributions, output, "differentiated_contributions")
movers_view = movers.assign(
    zone=movers["zone"].map(zone_words).fillna(movers["zone"]),
    change=movers["rank_change"].map(lambda c: f"{int(c):+d}"),
    why=movers["why"].map(lambda w: items_in_words(w, item_words)),
)
display(
    table(
        movers_view,
        {
            name: "Unit",
            "zone": "Zone",
            "rank_uniform": "Uniform rank",
            "rank_differentiated": "Differentiated rank",
            "change": "Change (places)",
            "uniform": "Uniform score",
            "differentiated": "Differentiated score",
            "why": "Items that moved it most (points against the kind’s mean change)",
        },
        digits={"rank_uniform": 0, "rank_differentiated": 0, "uniform": 2, "differentiated": 2},
        caption="The ten units whose rank changes most",
    )
)
fig = dplots.move_reasons(ev.contributions, movers.head(6), the_scheme)
saved = plots.keep(fig, output, "20_move_reasons")

# %% [markdown]
# ## Target vetting
#
# Targets that merely repeat a result already achieved (the article's polluting firms "closed" years ago), targets less ambitious than last year's result, and claims that on-site verification did not confirm.

# %%
page.say(vetting_summary(ev, the_scheme))
save_table(ev.vetting, output, "target_vetting")
flag_words = {
    "repeats_result": "Repeats a result already achieved",
    "not_ambitious": "Less than last year’s result",
    "failed_verification": "Claim not confirmed on site",
    "challenge_achieved": "Challenge value already reached",
}
vet = ev.vetting.assign(
    flag=ev.vetting["flag"].map(flag_words).fillna(ev.vetting["flag"]),
    name=ev.vetting["unit"].map(unit_names),
    measure=ev.vetting["measure"].map(lambda m: item_words.get(m, m) if isinstance(m, str) else "–"),
    year=ev.vetting["year"].astype(str),
)
counts = vet.groupby("flag", sort=False).size().rename("n").reset_index()
display(
    table(counts, {"flag": "Flag", "n": "Targets or claims (all years)"}, digits=0, caption="Vetting flags, all years")
)
vet_headers = {
    "name": "Unit",
    "measure": "Measure",
    "year": "Year",
    "flag": "Flag",
    "target": "Target",
    "reference": "Result it is checked against",
    "reason": "Reason",
}
display(
    table(
        vet[ev.vetting["flag"] == "repeats_result"],
        vet_headers,
        digits={"target": 2, "reference": 2},
        caption="Targets that repeat a result already achieved",
    )
)
display(
    table(
        vet[ev.vetting["year"] == the_scheme.differentiated.year],
        vet_headers,
        digits={"target": 2, "reference": 2},
        caption=f"Every flag of {the_scheme.differentiated.year}",
    )
)

# %% [markdown]
# ## Reading the result
#
# Ranking unlike units together is what the experts in the source article warn against. The differentiated ranking still ranks, but each unit's score now reflects its own starting point and its zone's job. Whether the ranks it gives are robust is the question of the weight-sensitivity notebook.
