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
# # How fragile is the ranking under other indicator weights?
#
# **What this answers:** which units' ranks survive plausible alternative indicator weights (and a different panel of raters), and how far each weight can move before a rank, the top of the ranking or a grade band changes.
# Sampled answers (Monte Carlo, Sobol) sit beside exact ones: under the arithmetic composite scores are linear in each weight, so every stability range below is computed in closed form, not estimated (under a geometric composite the exact sections are skipped and say why).

# %% tags=["parameters"]
# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016
n_draws = 20000  # Monte Carlo weight draws (and SMAA draws); range: at least 1
spread = 0.2  # every input moves by up to ±spread of its value: each weight, the one-at-a-time step, the share; range: (0, 1)
method = "uniform"  # uniform is the COINr convention; one of: uniform, dirichlet
n_rater_replicates = 500  # rater bootstrap replicates paired with the weight draws; range: at least 1
top_k = 3  # the "top k" whose stability we track; range: at least 1
group = "grassroots"  # evaluator group whose share enters the Sobol analysis
n_sobol = 4096  # Sobol base points, the same default on both sensitivity pages, model runs: n_sobol x (inputs + 2); range: at least 1
sobol_share_range = None  # None: the group's share moves ±spread of its value, like each weight; or (low, high), e.g. (0.0, 0.6): the page then says how much wider that is
bound_rel = 0.5  # "defensible" weights: each within ±50 % of the scheme's; range: above 0

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from perflab import plots, ranking
from perflab import sensitivity as sv
from perflab.composite import LINEAR
from perflab.notebook import setup
from perflab.plots import sensitivity as splots
from perflab.plots.sensitivity import pct, pm
from perflab.report import save_table
from perflab.scoring import score_units

page = setup(scheme, data, output)
the_scheme, dataset, output, lang, say = page.scheme, page.dataset, page.output, page.lang, page.say
units = score_units(dataset, the_scheme).set_index("unit")
rank_group = ranking.rank_groups(units, the_scheme)  # each unit's rank group: its kind, or None (all together)
rank_groups = ["all"] if rank_group is None else [k for k in ("district", "department") if (rank_group == k).any()]
group_size = pd.Series({"all": len(units)}) if rank_group is None else rank_group.value_counts()
written = sv.written_report_units(dataset, the_scheme).reindex(units.index)  # no on-site ratings: on-site score imputed
names = splots.mark_written(units[page.name], written)  # written-report units marked †
ind_label, group_label = page.indicator_labels(), page.group_labels()
weights = the_scheme.weights
kind_words = splots.group_words  # the pages' prose and tables are English; figures follow the language
composite = the_scheme.composite
linear = composite in LINEAR  # the exact sections need scores linear in each weight: the arithmetic composite
scale = "final" if linear else "profile"  # non-linear: on-site profiles, each composite mapped to the final score
to_final = None if linear else sv.final_map(dataset, the_scheme)


def skipped(what: str) -> str:
    """The one sentence an exact section shows instead under a non-linear composite."""
    return (
        f"**{what} skipped under the {composite} composite:** they rest on every score being linear in a weight, "
        "which only the arithmetic composite gives; the Monte Carlo and Sobol sections answer by sampling."
    )


scores = sv.unit_indicator_scores(dataset, the_scheme, scale)  # "final": the weighted mean is the final score
written = written.reindex(scores.index)
stream = np.random.default_rng(seed)  # one random stream through the Monte Carlo runs and the rater bootstrap
n_written = int(written.sum())
kinds = "" if rank_group is None else " (" + ", ".join(f"{group_size[g]} {kind_words(g)}" for g in rank_groups) + ")"
written_kinds = ", ".join(
    f"{n} {kind_words(k)}" for k, n in units.loc[written[written].index, "kind"].value_counts().items()
)
say(
    f"**Data:** {len(scores)} units{kinds} scored on {scores.shape[1]} indicators with the weights "
    + ", ".join(f"{ind_label[i]} {w:g}" for i, w in weights.items())
    + f" (total {weights.sum():g}, combined by the {composite} mean). "
    + (
        f"{n_written} units ({written_kinds}) submitted a written report only: with no on-site ratings, the scheme "
        "imputes their on-site score (the mean of their kind), so their sensitivity results describe that average "
        "profile, not the unit. They are reported apart and marked † below."
        if n_written
        else "Every unit presented on site."
    )
)

# %% [markdown]
# ## Nominal and effective weights
#
# Before moving the weights, how much does each component weigh now? A nominal weight says how many points an item could add; what orders the units is how much it varies across them. The share of the final score's variance each component accounts for, and its correlation ratio (after Paruolo, Saisana & Saltelli), per ranking group; the scores page (`effective_weights.csv`) has the indicators too. A weight that moves few points cannot move the ranking much whatever its nominal size.

# %%
from perflab.effective import effective_weights
from perflab.narrative import effective_weights_summary, effective_weights_view

ew = effective_weights(dataset, the_scheme)
save_table(ew, output, "effective_weights")
say(effective_weights_summary(ew, dataset, the_scheme))
display(
    effective_weights_view(ew, "component", lang).set_caption(
        "Nominal and effective weights of the components of the final score"
    )
)

# %% [markdown]
# ## One weight at a time
#
# Each indicator weight is moved down and up by the same share of its own value (`spread`), the others rescaled to keep the total. The table gives, per indicator and ranking group, how many units change rank and the largest change.

# %%
oat = sv.one_at_a_time(scores, weights, step=spread, rank_group=rank_group, composite=composite, final_map=to_final)
save_table(oat, output, "sensitivity_one_at_a_time")
save_table(
    pd.DataFrame(
        [
            {
                "spread": spread,
                "n_draws": n_draws,
                "method": method,
                "n_rater_replicates": n_rater_replicates,
                "n_sobol": n_sobol,
                "top_k": top_k,
                "group": group,
                "seed": seed,
            }
        ]
    ),
    output,
    "sensitivity_settings",
)
moved = oat.assign(moved=oat["rank_change"] != 0).groupby(["indicator", "change", "rank_group"])["moved"].sum()
most = moved.groupby("rank_group").max()
worst = oat.loc[oat["rank_change"].abs().idxmax()]
steps = ", ".join(
    f"a {w:g}-point weight by ±{w * spread:g} points" for w in sorted(weights[weights > 0].unique(), reverse=True)
)
say(
    f"With each weight moved by {pm(spread)} of its own value ({steps}) and the others rescaled, at most "
    + " and ".join(f"{int(most[g])} of {group_size[g]} {kind_words(g)}" for g in rank_groups)
    + f" change rank for any one weight; the largest single change is {abs(int(worst['rank_change']))} ranks "
    f"({names[worst['unit']]}, {ind_label[worst['indicator']]} {pct(worst['change'], sign=True)})."
)
display(
    splots.table(
        splots.oat_table(oat, ind_label), caption=f"Each weight moved by {pm(spread)} of its value, one at a time"
    )
)

# %% [markdown]
# ## Rank intervals under random weights — and random raters
#
# Every weight is multiplied by a random factor within ±`spread` of its value and the weights renormalised (the COINr convention), `n_draws` times. In the second run each draw is also paired with a bootstrap replicate of the evaluator panel (raters resampled within their groups), so the interval also shows the uncertainty that comes from *who* scored.

# %%
mc = sv.monte_carlo(
    scores,
    weights,
    n=n_draws,
    method=method,
    spread=spread,
    seed=stream,
    rank_group=rank_group,
    k=top_k,
    written_report=written,
    composite=composite,
    final_map=to_final,
)
replicates = sv.rater_bootstrap(dataset, the_scheme, n=n_rater_replicates, seed=stream, scale=scale)
mc_raters = sv.monte_carlo(
    scores,
    weights,
    n=n_draws,
    method=method,
    spread=spread,
    seed=stream,
    rank_group=rank_group,
    k=top_k,
    score_draws=replicates,
    composite=composite,
    final_map=to_final,
)
intervals = mc.summary().merge(
    mc_raters.units.drop(columns=["rank_group", "nominal_rank", "written_report"]),
    on="unit",
    suffixes=("", "_with_raters"),
)
intervals.insert(1, "name", names.reindex(intervals["unit"]).to_numpy())
save_table(intervals, output, "sensitivity_rank_intervals")
save_table(mc.frequencies.reset_index(), output, "sensitivity_rank_frequencies")
moved_by = f"every weight {pm(spread)}"
runs = {
    f"{moved_by} ({n_draws:,} draws)": mc,
    f"{moved_by} and the raters ({n_draws:,} draws, {n_rater_replicates} panel replicates)": mc_raters,
}
n_tau = mc.settings["tau_draws"]
say(
    f"**Agreement with the scheme's ranking.** Kendall's τ between the ranking of each draw and the scheme's, "
    f"per ranking group, on {'all ' if n_tau == n_draws else f'the first {n_tau:,} of the '}{n_draws:,} draws "
    "(1: the same order)."
)
display(
    splots.table(splots.tau_table(runs), digits=3, caption="Kendall's τ between each draw's ranking and the scheme's")
)
say(
    "**How wide are the rank intervals?** The width of the 5–95 % range of each unit's rank over the draws, "
    "per ranking group, the written-report units apart."
)
display(splots.table(splots.width_table(runs), caption="Width of the 5–95 % rank intervals"))
w = mc.interval_widths().set_index(["rank_group", "written_report"])
for g in rank_groups:
    if (g, True) in w.index and (g, False) in w.index:
        say(
            f"The {w.loc[(g, True), 'units']} written-report {kind_words(g)} have a mean interval width of "
            f"{w.loc[(g, True), 'mean_width']:.2f} ranks with {moved_by}, against {w.loc[(g, False), 'mean_width']:.2f} "
            f"for the {w.loc[(g, False), 'units']} that presented. Their on-site score is their kind's average, a "
            "balanced profile that reweighting barely moves: these intervals describe the imputation, not how robust "
            "the unit is."
        )

# %%
err = (
    sv.replicate_error(
        scores,
        weights,
        replicates,
        n=n_draws,
        method=method,
        spread=spread,
        seed=seed,
        rank_group=rank_group,
        k=top_k,
        composite=composite,
        final_map=to_final,
    )
    .summary()
    .iloc[0]
)
say(
    f"**Monte Carlo error of the rater replicates.** The same {n_draws:,} weight draws paired with each half "
    f"of the {n_rater_replicates} replicates ({err['replicates_per_half']} each) give the same 5–95 % interval "
    f"for {err['same_interval']} of {err['units']} units; the largest difference of an interval end "
    f"is {int(err['largest_end_difference'])} rank{'' if err['largest_end_difference'] == 1 else 's'}"
    + (
        f" (with fewer than {sv.MIN_REPLICATES} replicates, read the intervals with raters with that error in mind)."
        if n_rater_replicates < sv.MIN_REPLICATES
        else "."
    )
)
kept, kept_r = (r.top_k.set_index("rank_group")["p_kept"] for r in (mc, mc_raters))
say(
    f"**Is the top of the ranking robust?** With {moved_by} ({n_draws:,} draws), "
    + "; ".join(
        f"the top {top_k} {kind_words(g)} are the same {top_k} units in {pct(kept[g])} of the draws "
        f"({pct(kept_r[g])} with the raters resampled too)"
        for g in rank_groups
    )
    + "."
)
for g in rank_groups:
    fig = splots.rank_intervals(
        mc.units, names, g, other=mc_raters.units, perturbation=plots.t(f"每个权重 {pm(spread)}", moved_by)
    )
    plots.keep(fig, output, f"30_rank_intervals_{g}", key=g == rank_groups[0])

# %% [markdown]
# ## Exact stability ranges of each weight
#
# Setting one weight to *t* and rescaling the others keeps every score linear in *t*, so two units swap only where their score lines cross; all crossings are computed exactly. A full ranking of many units is stable only over a tiny range, so the table leads with what matters: the range over which the **top `top_k`** of each ranking group (kind, unless the scheme ranks all units together) stays the same, and how many units keep their exact rank while the weight moves by ±`spread` of its value.

# %%
if linear:
    stab = sv.stability_intervals(scores, weights, k=top_k, bands=the_scheme.bands, rank_group=rank_group)
    save_table(stab.units, output, "sensitivity_stability_units")
    save_table(stab.top_k, output, "sensitivity_stability_top_k")
    save_table(stab.swaps, output, "sensitivity_adjacent_swaps")
    summ = stab.summary(rel=spread)
    summ["room"] = (
        np.minimum(summ["weight"] - summ["weight_low"], summ["weight_high"] - summ["weight"]) / summ["weight"]
    )
    summ["as_pct"] = [
        f"{pct(lo / w - 1, sign=True)} to {pct(hi / w - 1, sign=True)}"
        for lo, w, hi in summ[["weight_low", "weight", "weight_high"]].to_numpy()
    ]
    display(
        splots.table(
            summ.assign(indicator=summ["indicator"].map(ind_label), rank_group=summ["rank_group"].map(kind_words)),
            {
                "indicator": "Indicator",
                "rank_group": "Ranking group",
                "weight": "Weight",
                "weight_low": f"Top {top_k} unchanged from",
                "weight_high": "to",
                "as_pct": "As % of the weight",
                "keeps_rank": f"Units keeping their exact rank over {pm(spread)}",
                "units": "Units",
            },
            digits=1,
            caption=f"How far each weight can move, the others rescaled, before the top {top_k} changes",
        )
    )
    tight = summ.sort_values("room").iloc[0]
    survive = int((summ["room"] >= spread).sum())
    say(
        f"The top {top_k} of a ranking group survives one weight moved anywhere within {pm(spread)} of its value in "
        f"{survive} of {len(summ)} indicator × group cases. The tightest is {ind_label[tight.indicator]} for the "
        f"{kind_words(tight.rank_group)}: their top {top_k} holds only for a weight between {tight.weight_low:.1f} and {tight.weight_high:.1f} "
        f"({tight.as_pct} of its {tight.weight:g})."
    )
    bands = stab.units
    fragile = bands[
        (bands["grade_weight_low"] > bands["weight"] * (1 - spread))
        | (bands["grade_weight_high"] < bands["weight"] * (1 + spread))
    ]
    n_fragile = fragile["unit"].nunique()
    say(
        f"{n_fragile or 'No'} unit{'' if n_fragile == 1 else 's'} can change grade band when one weight moves within "
        f"{pm(spread)} of its value (exact: the band edges are crossing points too)."
    )
    if len(fragile):
        display(
            splots.table(
                fragile.assign(
                    name=names.reindex(fragile["unit"]).to_numpy(), indicator=fragile["indicator"].map(ind_label)
                ),
                {
                    "indicator": "Indicator",
                    "name": "Unit",
                    "grade": "Grade",
                    "weight": "Weight",
                    "grade_weight_low": "Grade kept from",
                    "grade_weight_high": "to",
                },
                digits=1,
                caption=f"Units whose grade band changes with one weight moved within {pm(spread)}",
            )
        )
else:
    say(skipped("Exact stability ranges"))

# %%
if linear:
    for g in rank_groups:
        fig = splots.weight_ranges(stab.top_k, g, ind_label, total=weights.sum())
        plots.keep(fig, output, f"30_weight_ranges_{g}")

# %% [markdown]
# ## Which input matters most? Sobol indices
#
# Variance-based sensitivity of each ranking group's mean absolute rank shift (how far its units move, on average, from their rank under the scheme) to each indicator weight and to the share of one evaluator group. Every input moves by the same relative amount, `spread` of its value, unless `sobol_share_range` gives the share a range of its own. First order (S1): what the input does alone; total (ST): including its interactions with the others. The group-shares page shows the same indices, computed the same way.

# %%
sob = sv.sobol_indices(
    None,
    weights,
    n=n_sobol,
    spread=spread,
    seed=seed,
    rank_group=rank_group,
    cube=sv.score_cube(dataset, the_scheme, scale),
    shares=the_scheme.shares,
    group=group,
    share_range=sobol_share_range,
    composite=composite,
    final_map=to_final,
)
save_table(sob.indices, output, "sensitivity_sobol")
sobol_labels = {**ind_label, f"share:{group}": splots.share_words(group_label[group])}  # prose and tables
say(splots.sobol_inputs_text(sob, sobol_labels))
display(
    splots.table(splots.sobol_inputs_table(sob, sobol_labels), caption="What the Sobol analysis moves, and how far")
)
display(
    splots.table(
        splots.sobol_table(sob, sobol_labels),
        digits=3,
        caption="Sobol indices of each ranking group's mean absolute rank shift",
    )
)
say(splots.sobol_findings(sob, sobol_labels))

# %%
fig = splots.sobol_bars(sob, {**ind_label, f"share:{group}": splots.share_label(group_label[group])})
saved = plots.keep(fig, output, "30_sobol_indices")
# %%
if the_scheme.is_tree:  # a tree-shaped scheme: the same questions asked of its first-level parts
    parts = [n.id for n in the_scheme.tree]
    node_label = {n.id: (n.name_zh if page.name == "name_zh" else n.name_en) for n in the_scheme.nodes}
    say(
        "## The parts of the indicator tree\n\n"
        f"The scheme's indicators form a tree with {len(parts)} first-level parts; a methodologist may ask of a "
        "part's weight what the sections above ask of an indicator's. Moving a part's weight moves all the "
        "indicators under it together (each keeps its share within the part); the Monte Carlo run below draws the "
        f"weights at every level of the tree at once, each within {pm(spread)} of its value."
    )
    node_oat = sv.node_one_at_a_time(
        scores, the_scheme, step=spread, nodes=parts, rank_group=rank_group, composite=composite, final_map=to_final
    )
    save_table(node_oat, output, "sensitivity_node_one_at_a_time")
    display(
        splots.table(
            splots.oat_table(node_oat, node_label).rename(columns={"Indicator": "Part"}),
            caption=f"Each first-level part's weight moved by {pm(spread)} of its value, the other parts rescaled",
        )
    )
    node_mc = sv.node_monte_carlo(
        scores,
        the_scheme,
        all_levels=True,
        n=n_draws,
        method=method,
        spread=spread,
        seed=stream,
        rank_group=rank_group,
        k=top_k,
        written_report=written,
        composite=composite,
        final_map=to_final,
    )
    save_table(node_mc.summary(), output, "sensitivity_node_rank_intervals")
    tree_runs = {f"every weight at every level of the tree {pm(spread)} ({n_draws:,} draws)": node_mc, **runs}
    display(
        splots.table(
            splots.width_table(tree_runs),
            caption="Width of the 5–95 % rank intervals: the tree's weights drawn level by level, and the leaves' alone",
        )
    )
    node_sob = sv.node_sobol_indices(
        scores,
        the_scheme,
        n=n_sobol,
        spread=spread,
        seed=seed,
        rank_group=rank_group,
        composite=composite,
        final_map=to_final,
    )
    save_table(node_sob.indices, output, "sensitivity_node_sobol")
    display(
        splots.table(
            splots.sobol_table(node_sob, node_label),
            digits=3,
            caption="Sobol indices of the first-level parts' weights (each ranking group's mean absolute rank shift)",
        )
    )
    say(splots.sobol_findings(node_sob, node_label))
    if linear:
        node_stab = sv.node_stability_intervals(
            scores, the_scheme, nodes=parts, k=top_k, bands=the_scheme.bands, rank_group=rank_group, siblings="kept"
        )
        save_table(node_stab.top_k, output, "sensitivity_node_stability_top_k")
        node_summ = node_stab.summary(rel=spread)
        display(
            splots.table(
                node_summ.assign(
                    indicator=node_summ["indicator"].map(node_label),
                    rank_group=node_summ["rank_group"].map(kind_words),
                    weight_high=node_summ["weight_high"].map(lambda v: "∞" if np.isinf(v) else f"{v:,.1f}"),
                ),
                {
                    "indicator": "Part",
                    "rank_group": "Ranking group",
                    "weight": "Weight",
                    "weight_low": f"Top {top_k} unchanged from",
                    "weight_high": "to",
                    "keeps_rank": f"Units keeping their exact rank over {pm(spread)}",
                    "units": "Units",
                },
                digits=1,
                caption=f"How far each part's weight can move, the other parts kept as they are, before the top "
                f"{top_k} changes (exact; ∞: never)",
            )
        )
    else:
        say(skipped("Exact stability ranges of the parts"))

# %% [markdown]
# ## Is there any defensible weighting under which a unit comes first?
#
# Weights are allowed to range within ±`bound_rel` of the scheme's. A linear programme finds, for each unit, the best rank any such weighting gives it; SMAA draws weights uniformly within the same bounds and counts how often each unit comes first (its first-rank acceptability) and with which weights on average.

# %%
bounds = sv.bounds_around(weights, bound_rel)
smaa = sv.rank_acceptability(
    scores, n=n_draws, seed=seed, bounds=bounds, rank_group=rank_group, composite=composite, final_map=to_final
)
if linear:
    best = sv.best_case_ranks(scores, bounds=bounds, rank_group=rank_group)
    best = best.merge(smaa.central_weights[["p_first"]], left_on="unit", right_index=True)
else:  # the SMAA draws alone: a unit "can be first" when some draw puts it first
    say(skipped("Best-case weights (a linear programme)"))
    best = mc.units[["unit", "rank_group"]].merge(smaa.central_weights[["p_first"]], left_on="unit", right_index=True)
    best["can_be_first"] = best["p_first"] > 0
best = best.merge(mc.units[["unit", "nominal_rank"]], on="unit")
best.insert(1, "name", names.reindex(best["unit"]).to_numpy())
save_table(best, output, "sensitivity_best_case")
first = best.groupby("rank_group")["can_be_first"].sum()
say(
    f"With each normalised weight allowed anywhere within {pm(bound_rel)} of the scheme's ({n_draws:,} SMAA draws "
    "uniform within those bounds), "
    + "; ".join(
        f"{int(first[g])} of {group_size[g]} {kind_words(g)} can come first under some weighting" for g in rank_groups
    )
    + ". The table lists the best placed units of each group."
)
if not linear:
    best["best_rank"] = best["nominal_rank"].where(~best["can_be_first"], 1)  # what the draws show, not a bound
view = (
    best.assign(order=best["rank_group"].map(rank_groups.index))
    .sort_values(["order", "best_rank", "nominal_rank"])
    .groupby("rank_group", sort=False)
    .head(8)
)
display(
    splots.table(
        view.assign(rank_group=view["rank_group"].map(kind_words)),
        {
            "rank_group": "Ranking group",
            "name": "Unit",
            "nominal_rank": "Rank under the scheme",
            "best_rank": f"Best rank with weights within {pm(bound_rel)}",
            "can_be_first": "Can be first",
            "p_first": "Share of SMAA draws in which it is first",
        },
        digits=3,
        caption=f"Best rank of each unit with every weight within {pm(bound_rel)} of the scheme's (the best placed of each group)",
    )
)

# %% [markdown]
# ## Reading the result

# %%
pres = mc.units[~mc.units["written_report"]]
pres_r = mc_raters.units[~mc_raters.units["written_report"]]
single, single_r = ((u["rank_p95"] == u["rank_p05"]).sum() for u in (pres, pres_r))
wider = (pres_r["rank_p95"] - pres_r["rank_p05"]).mean() - (pres["rank_p95"] - pres["rank_p05"]).mean()
firsts = best[best["can_be_first"] & (best["nominal_rank"] > 1)]
say(
    f"With {moved_by} ({n_draws:,} draws), {single} of the {len(pres)} units that presented keep a single rank "
    f"(their 5–95 % interval is one rank); with the raters resampled too ({n_rater_replicates} replicates), {single_r} do. "
    f"Adding the raters widens the presenting units' intervals by {wider:.1f} ranks on average: that part of the "
    "fragility comes from who scored, not from the weights. "
    + (
        f"Units that some weighting within {pm(bound_rel)} puts first although the scheme does not ("
        + ", ".join(firsts["name"])
        + ") are where the choice of weights decides the outcome and deserves a reason."
        if len(firsts)
        else f"No unit other than the first of its group can come first with weights within {pm(bound_rel)}."
    )
    + (
        " Written-report units (†) are left out of these counts: their intervals describe the imputed average."
        if n_written
        else ""
    )
)
