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
# # Which evaluators distort the scores?
#
# **What this answers:** which evaluators and groups score leniently or severely, with a halo, a restricted range, favouritism to their own unit or as a bloc, and whether scores drift across the sessions;
# how much correcting for them moves the ranks, and how many evaluators each group needs for a reliable score.
#
# Every evaluator effect on this page has one direction: **positive = harsher** (lower scores).

# %% tags=["parameters"]
# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016
alpha = 0.05  # chance that a rater with no real effect gets any flag (split over the six tests); range: (0, 1)
fdr = 0.05  # false-discovery rate across the panel for the raters left out of the "without flagged raters" ranks; range: (0, 1)
z_gap = 2.0  # adjacent units count as told apart when their gap is at least z_gap standard errors of the difference; range: above 0
alpha_boot = 1000  # bootstrap draws for the interval of Krippendorff's alpha; range: at least 1

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from perflab import bias, plots, reliability
from perflab.notebook import setup
from perflab.plots import bias as bias_plots
from perflab.plots.bias import table_view
from perflab.report import save_table
from perflab.scoring import routine_scores

page = setup(scheme, data, output)
the_scheme, dataset, output = page.scheme, page.dataset, page.output
rng = np.random.default_rng(int(seed))  # one stream: the bloc test's permutations, then the bootstrap of alpha
n_raters = dataset.ratings["rater"].nunique()
group_names = page.group_labels()
group_en = {g.id: g.name_en for g in the_scheme.groups}  # the prose is in English
page.say(
    f"{n_raters} evaluators, {dataset.ratings['unit'].nunique()} units scored on site, "
    f"{len(dataset.ratings):,} ratings. Names of units and evaluator groups are in "
    f"{'Chinese' if page.lang == 'zh' else 'English'}, as in the figures."
)

# %% [markdown]
# ## Severity on one scale: the many-facet Rasch model
#
# Each rating is a grade band (A–E). The model puts units, evaluators and indicators on one logit scale: a higher evaluator measure means a **more severe** evaluator. Because the model knows who scored which unit, a unit's *fair average* — the score it would get from an evaluator of average severity — does not depend on which evaluators happened to score it. Separation and reliability say how well each facet's elements are told apart; they use **cluster-robust standard errors** (the residuals of one evaluator's ratings of one unit summed before squaring), because an evaluator's ratings of one unit's indicators share one impression of the unit. A high reliability here means the units are told apart *by this panel*; which evaluators happened to sit on the panel is a further source of error, measured in the reliability section below.

# %%
fit = bias.mfrm(dataset.ratings, scheme=the_scheme)
save_table(fit.raters.reset_index(), output, "mfrm_raters")
save_table(fit.separation, output, "mfrm_separation")
summary = fit.summary()
display(
    table_view(
        summary,
        [
            "facet",
            "elements",
            "sd_measure",
            "mean_infit",
            "mean_outfit",
            "design_effect",
            "separation",
            "reliability",
            "separation_model",
            "reliability_model",
        ],
        caption="Many-facet Rasch model: spread, fit and separation of each facet",
    )
)
display(
    table_view(
        fit.thresholds,
        ["category", "score", "count", "threshold"],
        decimals={"score": 0, "threshold": 2},
        caption="Grade bands: their scores, how often each was given, and the Andrich thresholds",
    )
)
sep = fit.separation.set_index("facet")
rho = fit.pair_correlation()
per_pair = fit.units["count"].sum() / (fit.residuals.groupby(list(fit.residuals.columns[:2])).ngroups)
page.say(
    f"The fit {'converged' if fit.converged else 'did **not** converge'} after {fit.iterations} iterations "
    f"(largest observed − expected total {fit.max_residual:.4f}). "
    f"One evaluator's {per_pair:.0f} ratings of one unit are not independent: their standardised residuals correlate "
    f"{rho:.2f} within evaluator × unit, so the model's standard errors are too small by a design effect of about "
    f"{sep.loc['units', 'design_effect']:.1f} (units) and {sep.loc['raters', 'design_effect']:.1f} (evaluators) in variance. "
    f"With the cluster-robust standard errors the units' reliability is {sep.loc['units', 'reliability']:.3f} "
    f"(separation {sep.loc['units', 'separation']:.1f}; {sep.loc['units', 'reliability_model']:.3f} and "
    f"{sep.loc['units', 'separation_model']:.1f} with the model's), the evaluators' {sep.loc['raters', 'reliability']:.3f} "
    f"({sep.loc['raters', 'reliability_model']:.3f} with the model's)."
)

# %% [markdown]
# ## Flags: which evaluators show which effect?
#
# Every evaluator differs a little, so a flag means a deviation far outside the panel's own spread. Each flag comes from the stated rule below; each test has a false-positive rate of `alpha` divided by the number of tests, so an evaluator with no real effect is flagged for anything with probability at most `alpha`. Severity is measured in points against the other evaluators of the *same units* (an evaluator who attended only the evening session is compared with the others who scored those units), and compared with the evaluators who attended the same sessions. Halo is read from how well an evaluator's scores tell a unit's indicators apart as the panel does (the within-unit correlation), so what an evaluator adds to a whole unit — leniency, a steep or flat slope, a bloc's shared view — does not look like halo. Evaluators with too few units or ratings for a test get no value and no flag (column *Minimum data*).

# %%
flags = bias.flag_raters(dataset.ratings, dataset.raters, scheme=the_scheme, fit=fit, alpha=alpha, seed=rng, fdr=fdr)
save_table(flags.table, output, "rater_flags")
save_table(flags.rules, output, "flag_rules")
display(
    table_view(
        flags.rules,
        decimals={"false_positive_rate": 4},
        caption="The six flags: each rule, its false-positive rate per evaluator and the data it needs",
    )
)
n_tested, n_any, n_fdr = flags.n_tested, int(flags.table["any_flag"].sum()), int(flags.table["flag_fdr"].sum())
page.say(
    f"{n_tested} evaluators were tested. At the per-evaluator rate (alpha = {alpha}) up to "
    f"{n_tested} × {alpha} = {flags.expected_false_flags:.0f} evaluators with no real effect would be flagged "
    f"by chance: {n_any} carry a flag, so a flag alone does not prove an effect. Corrected across the panel "
    f"(Benjamini–Hochberg, false-discovery rate {fdr}), {n_fdr} remain flagged (column *Flagged (FDR)*); "
    f"these are the evaluators left out below."
)
cols = [
    "rater",
    "group",
    "n_units",
    "flags",
    "flag_fdr",
    "q_value",
    "severity_points",
    "severity_z",
    "halo_r",
    "halo_z",
    "slope",
    "favour_points",
    "bloc_id",
    "infit",
    "outfit",
]
flagged = (
    flags.table.loc[flags.table["any_flag"]]
    .sort_values(["flags", "rater"])
    .assign(group=lambda f: f["group"].map(group_names))
)
display(table_view(flagged, cols, caption=f"The {n_any} evaluators with a flag (severity in points, + = harsher)"))

# %%
by_group = bias.flags_by_group(flags)
save_table(by_group, output, "flags_by_group")
display(
    table_view(
        by_group.assign(group=by_group["group"].map(group_names)),
        caption="Flags and mean severity of each evaluator group",
    )
)
harsh, mild = (
    by_group.loc[by_group["mean_severity_points"].idxmax()],
    by_group.loc[by_group["mean_severity_points"].idxmin()],
)
page.say(
    f"Severity is in points and positive for evaluators who score lower than the other evaluators of the same units. "
    f"The harshest group on average is the {group_en[harsh['group']]} ({harsh['mean_severity_points']:+.2f} points), "
    f"the most lenient the {group_en[mild['group']]} ({mild['mean_severity_points']:+.2f} points)."
)

# %%
fig = bias_plots.severity_by_group(flags, the_scheme)
saved = plots.keep(fig, output, "40_severity_by_group", key=True)

# %% [markdown]
# ## Drift across the sessions
#
# A drift hits every evaluator of a unit alike, so it shows across units, not within them: each unit's score adjusted for the severity of its evaluators is compared across the sessions and along the presentation order, within each kind of unit, with the routine score (the special-evaluation departments' figures) as a covariate. A negative session effect is a session scored lower than the others. Every unit presents in one session only, so a drift common to all evaluators cannot be told apart from the quality of that session's units by any within-evaluator comparison: read which units presented in each session (first table), the estimate and its confidence interval, not only the p-value.

# %%
routine = routine_scores(dataset, the_scheme)[["routine"]].reset_index()
drift = bias.session_drift(dataset.ratings, covariates=routine, units=dataset.units)
save_table(drift.tests, output, "session_drift")
save_table(drift.composition, output, "session_composition")
display(table_view(drift.composition, caption="Units that presented in each session, by kind"))
display(
    table_view(
        drift.tests,
        ["term", "estimate", "se", "ci95_low", "ci95_high", "p_value"],
        caption="Session and order effects on the rater-adjusted on-site scores (points)",
    )
)
sessions = drift.tests[drift.tests["term"].str.endswith("vs mean of sessions")].set_index("term")
low = sessions["estimate"].idxmin()
s_low = low.split()[1]
comp = drift.composition.assign(session=drift.composition["session"].astype(str)).set_index("session")
kind_en = {"district": "district governments", "department": "municipal departments"}
heard = [
    f"{int(comp.loc[s_low, k])} {kind_en.get(k, k)}" for k in kind_en if k in comp.columns and comp.loc[s_low, k] > 0
]
absent = [kind_en.get(k, k) for k in kind_en if k in comp.columns and comp.loc[s_low, k] == 0]
mix = " and ".join(heard) + (f" and none of the {' or '.join(absent)}" if absent else "")
cov = drift.tests.set_index("term").loc["covariate routine"]
page.say(
    f"Session {s_low} scored lowest: {sessions.loc[low, 'estimate']:+.2f} points against the mean of the sessions "
    f"(95% interval {sessions.loc[low, 'ci95_low']:+.2f} to {sessions.loc[low, 'ci95_high']:+.2f}, p = {sessions.loc[low, 'p_value']:.3f}). "
    f"It heard {mix}; the estimate compares it with the other sessions within kind. "
    f"The routine score and kind together explain {drift.covariate_r2:.0%} of the units' differences left after session "
    f"and order (routine score: {cov['estimate']:+.2f} points per point, p = {cov['p_value']:.2f}), so they do not "
    f"stand in for the units' quality: the session effect is still a comparison of different units."
)
fig = bias_plots.drift_by_order(drift.units)
saved = plots.keep(fig, output, "40_drift_by_order")

# %% [markdown]
# ## Reliability and panel sizes
#
# A reliability coefficient says how well the scores separate units against their whole spread. A ranking asks more: that the gap between two units ranked next to each other exceed the noise in their difference. Every coefficient below names its **k**, the number of evaluators whose mean it is the reliability of, and everything is given for each kind (the rankings are within kind) as well as pooled. The evaluators do not all score the same units (the grassroots representatives attend one session), so the intraclass correlations are the unbalanced ones (Henderson's Method III).

# %%
from IPython.display import Markdown

from perflab.plots import reliability as rel_plots

pair_means = (
    dataset.ratings.groupby(["unit", "rater"], as_index=False)["score"]
    .mean()
    .merge(dataset.units[["unit", "kind"]], on="unit")
)
icc_res = reliability.icc_by(pair_means, "unit", "rater", "score", rank_group="kind")
iccs = icc_res.table
save_table(iccs, output, "icc")
eff = reliability.effective_raters(dataset.ratings, dataset.raters, the_scheme)
save_table(eff, output, "effective_raters")
display(
    rel_plots.icc_table(iccs, caption="Intraclass correlations by ranking group: ICC [95% interval], each with its k")
)
icc1 = iccs[iccs["Type"] == "ICC1"].set_index("rank_group")["ICC"]
icc3k = iccs[iccs["Type"] == "ICC3k"].set_index("rank_group")
k_all, trim = icc_res.levels["all"].k, the_scheme.aggregation.trim
per_kind = ", ".join(f"{icc1[k]:.2f} for the {rel_plots.in_words(k)}" for k in ("district", "department") if k in icc1)
trimming = (
    f", and with the trimmed mean dropping the {trim} highest and {trim} lowest score(s) of each group" if trim else ""
)
counted = f"; {eff['k_effective_all'].mean():.0f} if the trimmed scores counted fully" if trim else ""
display(
    Markdown(
        f"Each unit scored on site was scored by **k = {k_all:.0f}** evaluators (Henderson's effective number of raters "
        f"per unit). They do not count equally: under the group shares{trimming}, they weigh like "
        f"**{eff['k_effective'].mean():.0f}** equally weighted evaluators (Kish's effective number (Σw)²/Σw², each "
        f"score weighing its group's share over the scores the group's aggregate averages{counted}). "
        f"One evaluator is far less reliable than the mean of k: the single-rater ICC(1) is {icc1['all']:.2f} "
        f"pooled, {per_kind}. The units are ranked within their kind, so the per-kind figures are the ones that "
        f"apply. The mean of k evaluators has ICC(k) = {icc3k.loc['all', 'ICC']:.3f} (k = {icc3k.loc['all', 'k']:.0f}): "
        f"another panel drawn alike would order the units almost the same *on average over all pairs* — which does "
        f"not make the scores error-free, nor adjacent ranks safe (next sections)."
    )
)

# %% [markdown]
# ### Agreement on the grades: Krippendorff's alpha
#
# Alpha of the grades (ordinal, A–E) of each unit × indicator, next to alpha of the scores and the ICC, each with its k.

# %%
band = {g: k for k, g in enumerate(the_scheme.grades[::-1])}
grades = dataset.ratings.assign(
    item=dataset.ratings["unit"] + "/" + dataset.ratings["indicator"], band=dataset.ratings["grade"].map(band)
)
alpha_units = reliability.krippendorff_alpha_ci(
    grades, "item", "rater", "band", level="ordinal", n_boot=alpha_boot, seed=rng, cluster="unit"
)
alpha_cells = reliability.krippendorff_alpha_ci(
    grades, "item", "rater", "band", level="ordinal", n_boot=alpha_boot, seed=rng
)
alpha_ord = alpha_units.alpha
ci_units = (alpha_units.ci95_low, alpha_units.ci95_high)
ci_cells = (alpha_cells.ci95_low, alpha_cells.ci95_high)
alpha_item = reliability.krippendorff_alpha(grades, "item", "rater", "score", level="interval")
alpha_mean = reliability.krippendorff_alpha(pair_means, "unit", "rater", "score", level="interval")
pooled = iccs[iccs["rank_group"] == "all"].set_index("Type")
k1 = pooled.loc["ICC1k", "k"]
spearman_brown = k1 * alpha_mean / (1 + (k1 - 1) * alpha_mean)
one_grade, one_score = "grade (A–E) of one indicator of one unit", "score of one indicator of one unit"
mean_score, mean_k = "unit's mean score over the indicators", "mean of k evaluators' mean scores"
agreement = pd.DataFrame(
    [
        ["Krippendorff's α, ordinal", one_grade, 1, alpha_ord, f"[{ci_units[0]:.3f}, {ci_units[1]:.3f}]"],
        ["Krippendorff's α, interval", one_score, 1, alpha_item, ""],
        ["Krippendorff's α, interval", mean_score, 1, alpha_mean, ""],
        [
            "ICC(1), one-way",
            mean_score,
            1,
            pooled.loc["ICC1", "ICC"],
            f"[{pooled.loc['ICC1', 'ci95_low']:.3f}, {pooled.loc['ICC1', 'ci95_high']:.3f}]",
        ],
        ["α of mean scores, Spearman–Brown to k", mean_k, round(k1), spearman_brown, ""],
        [
            "ICC(1k), one-way",
            mean_k,
            round(k1),
            pooled.loc["ICC1k", "ICC"],
            f"[{pooled.loc['ICC1k', 'ci95_low']:.3f}, {pooled.loc['ICC1k', 'ci95_high']:.3f}]",
        ],
    ],
    columns=["measure", "rated", "k", "value", "interval"],
)
save_table(agreement, output, "agreement")
display(
    rel_plots.table(agreement, decimals={"value": 3}, caption="Agreement on the grades and the scores, each with its k")
)
n_units = grades["unit"].nunique()
display(
    Markdown(
        f"Two single grades of the same unit and indicator agree with α = {alpha_ord:.2f} (k = 1). Its 95% interval, "
        f"[{ci_units[0]:.3f}, {ci_units[1]:.3f}], resamples the {n_units} evaluated units, each a cluster of "
        f"{grades['indicator'].nunique()} indicator grades that share the evaluator's view of the unit; resampling the "
        f"unit × indicator cells as if they were independent gives the too narrow [{ci_cells[0]:.3f}, {ci_cells[1]:.3f}]. "
        f"Why α is about {alpha_ord:.1f} while ICC(k) is near 1: they are reliabilities of different things. "
        f"α and ICC(1) are about **one** evaluator (k = 1); grades agree less than scores (α {alpha_item:.2f} "
        f"for one indicator's scores) because five bands coarsen a score, and one indicator is noisier than the "
        f"mean of seven (α {alpha_mean:.2f} for the units' mean scores, the one-way ICC(1) {pooled.loc['ICC1', 'ICC']:.2f} "
        f"by another estimator). The mean of k evaluators is more reliable by the Spearman–Brown formula "
        f"kρ/(1 + (k − 1)ρ): α = {alpha_mean:.2f} for one evaluator becomes {spearman_brown:.3f} for k = {k1:.0f}, "
        f"the ICC(1k) of {pooled.loc['ICC1k', 'ICC']:.3f}."
    )
)

# %% [markdown]
# ### How precise is each unit's score, and can adjacent units be told apart?
#
# The standard error (SEM) of a unit's score is the spread of its evaluators around their group's aggregate, weighted as the scheme weighs them: the shares over the groups, the weights over the indicators, and the trimmed mean's own variance (the winsorized variance of Tukey & McLaughlin). With one group and a plain mean it is Brennan's conditional SEM; the test suite checks it against a bootstrap of the evaluators that reruns the scheme's scoring. An evaluator's severity counts in the SEM of one unit but cancels in the difference between two units the same evaluators scored, so each pair of units ranked next to each other gets the standard error of its own difference, within each ranking group. A gap smaller than `z_gap` standard errors of the difference is within the noise.

# %%
precision = {s: reliability.score_precision(dataset, the_scheme, score=s, z=z_gap) for s in ("onsite", "final")}
precision_summary = pd.concat([p.summary().assign(score=s) for s, p in precision.items()], ignore_index=True)
save_table(precision_summary, output, "score_precision")  # ids in the saved table; rel_plots.table shows words
save_table(pd.concat([p.units.assign(score_kind=s) for s, p in precision.items()]), output, "unit_sem")
save_table(precision["onsite"].adjacent, output, "adjacent_gaps_onsite")
save_table(precision["final"].adjacent, output, "adjacent_gaps_final")
display(
    rel_plots.table(
        precision_summary,
        [
            "score",
            "rank_group",
            "units",
            "median_sem",
            "max_sem",
            "median_gap",
            "median_se_difference",
            "pairs",
            "share_within_noise",
        ],
        caption=f"Precision of the scores and of the gaps between adjacent units (z = {z_gap:g})",
    )
)
on = precision["onsite"].summary().set_index("rank_group")
fin = precision["final"].summary().set_index("rank_group")
groups = [g for g in on.index if g != "all"]
said = "; ".join(
    f"{rel_plots.in_words(g)}: median SEM {on.loc[g, 'median_sem']:.2f}, median gap to the next unit "
    f"{on.loc[g, 'median_gap']:.2f}, {on.loc[g, 'share_within_noise']:.0%} of the "
    f"{on.loc[g, 'pairs']:.0f} adjacent gaps within {z_gap:g} SE"
    for g in groups
)
display(
    Markdown(
        f"**On-site score** ({said}). The final score takes the on-site score at its weight, so its rater error is "
        f"smaller (median SEM {fin.loc['all', 'median_sem']:.2f}), but so are its gaps: "
        + ", ".join(
            f"{fin.loc[g, 'share_within_noise']:.0%} of the {rel_plots.in_words(g)}' adjacent final gaps"
            for g in groups
        )
        + f" are within {z_gap:g} SE of their difference. Such neighbours swap places with another panel of evaluators "
        f"drawn alike; their order is not a finding."
    )
)
fig = rel_plots.adjacent_gaps(precision["onsite"].adjacent, z=z_gap)
saved = plots.keep(fig, output, "40_adjacent_gaps")

# %% [markdown]
# ### How many evaluators would a ranking need? The D-study of the composite
#
# The on-site score is a composite: each evaluator group's mean, weighted by the group's share. Its D-study is that of multivariate generalizability theory (Brennan 2001, ch. 9–10): units × (evaluators nested in groups), the groups fixed with a-priori weights = the shares, the indicators fixed (an evaluator's score of a unit combines their indicator scores by the scheme's composite, the weighted mean by default). The universe-score variance of the composite is a′Σa (Σ: the units' variances and covariances across groups), the relative error Σ a²·σ²(unit × evaluator)/n per group. Panels are scaled with every group in its current proportion; the optimal allocation puts n ∝ share × evaluator SD in each group. The scores the trimmed mean drops are counted as lost (conservative).

# %%
kinds = dataset.units.set_index("unit")["kind"]
rank_groups = [g for g in on.index if g != "all"]
studies = {
    g: reliability.onsite_g_study(dataset, the_scheme, units=None if g == "all" else kinds.index[kinds == g])
    for g in rank_groups
}
rows, curves, now = [], [], []
for g, cg in studies.items():
    target = on.loc[g, "median_gap"] / z_gap  # the SE of a difference at which the median adjacent gap is z_gap SE
    d_now = cg.d_study()
    need = cg.panel_for(target / np.sqrt(2))
    best = cg.panel_for(target / np.sqrt(2), allocation="optimal")
    rows.append(
        {
            "rank_group": g,
            "raters": d_now["raters"],
            "values_averaged": d_now["values_averaged"],
            "g": d_now["g"],
            "se_difference": d_now["se_difference"],
            "sem_at_g80": cg.sem_for_g(0.8),
            "median_gap": on.loc[g, "median_gap"],
            "target_se_difference": target,
            "g_needed": cg.g_for_sem(target / np.sqrt(2)),
            "raters_needed": need["total"],
            "raters_needed_optimal": best["total"],
        }
    )
    c = cg.d_study_grid(scale=np.geomspace(0.2, 8, 60))
    curves.append(c.assign(rank_group=g))
    now.append(pd.DataFrame([{"rank_group": g, "raters": d_now["raters"], "se_difference": d_now["se_difference"]}]))
dstudy = pd.DataFrame(rows)
save_table(dstudy, output, "composite_d_study")
display(
    rel_plots.table(
        dstudy,
        decimals={
            "raters": 0,
            "values_averaged": 0,
            "g": 4,
            "g_needed": 4,
            "raters_needed": 0,
            "raters_needed_optimal": 0,
        },
        caption="D-study of the composite on-site score: the panel that ranking each group needs",
    )
)
fig = rel_plots.d_study_curves(
    pd.concat(curves), pd.concat(now), pd.Series({g: on.loc[g, "median_gap"] / z_gap for g in rank_groups})
)
saved = plots.keep(fig, output, "40_d_study")
worst = dstudy.loc[dstudy["target_se_difference"].idxmin()]
others = " ".join(
    f"For the {rel_plots.in_words(r['rank_group'])} (median gap {r['median_gap']:.2f}) the same rule asks for "
    f"an SE of a difference of {r['target_se_difference']:.2f} (now {r['se_difference']:.2f}): about "
    f"{r['raters_needed']:.0f} evaluators allocated as now."
    for _, r in dstudy.iterrows()
    if r["rank_group"] != worst["rank_group"]
)
display(
    Markdown(
        f"The composite on-site score of the current panel has g = {worst['g']:.4f} for the {rel_plots.in_words(worst['rank_group'])} "
        f"(k = {worst['raters']:.0f} evaluators, {worst['values_averaged']:.0f} scores kept by the trimmed mean). "
        f"The usual target g = 0.8 would allow a relative SEM of {worst['sem_at_g80']:.1f} points, "
        f"{worst['sem_at_g80'] / worst['median_gap']:.0f} times the median gap between adjacent {rel_plots.in_words(worst['rank_group'])} "
        f"({worst['median_gap']:.2f}): a target for telling strong units from weak ones, far too coarse to rank. The "
        f"target here is set in points instead: the median adjacent gap should be {z_gap:g} standard errors of the "
        f"difference, i.e. an SE of a difference of at most {worst['target_se_difference']:.2f} points (now "
        f"{worst['se_difference']:.2f}). That needs g ≥ {worst['g_needed']:.4f} and about "
        f"{worst['raters_needed']:.0f} evaluators allocated as now, or {worst['raters_needed_optimal']:.0f} allocated "
        f"optimally (more to groups with a large share or a wide spread), against {worst['raters']:.0f} today. "
        + others
    )
)

# %%
parts = (
    studies[rank_groups[0]].summary()
    if len(rank_groups) == 1
    else reliability.onsite_g_study(dataset, the_scheme).summary()
)
save_table(parts, output, "composite_g_study_groups")
top = parts.sort_values("rel_error_share", ascending=False).iloc[0]
top_name = next(g.name_en for g in the_scheme.groups if g.id == top["group"])
parts["group"] = parts["group"].map(
    {g.id: (g.name_zh if plots.lang() == "zh" else g.name_en) for g in the_scheme.groups}
)
display(
    rel_plots.table(
        parts,
        ["group", "weight", "raters", "values_averaged", "var_unit", "var_rater", "var_residual", "rel_error_share"],
        decimals={"raters": 0, "values_averaged": 0},
        caption="Each evaluator group's part in the composite's relative error (all units pooled)",
    )
)
display(
    Markdown(
        f"Per evaluator group (all units pooled): the group's share, its raters, and its G-study components of one "
        f"evaluator's indicator-weighted score. Its part of the composite's relative error is share² × residual "
        f"variance / scores kept: the {top_name.lower()} carry {top['rel_error_share']:.0%} of it, with a share of "
        f"{top['weight']:.2f} resting on {top['values_averaged']:.0f} scores kept. Adding evaluators where a large share "
        f"rests on few of them buys the most precision per evaluator."
    )
)

# %% [markdown]
# ## How much do the rater effects move the ranks?
#
# Each unit's on-site rank within its ranking group (its kind, unless the scheme ranks all units together), always as the scheme scores it (its aggregation and trimming, group shares, indicator weights and composite, arithmetic or geometric): from the raw scores; with each evaluator's estimated severity put back into that evaluator's scores and nothing else changed (with no evaluator effects these ranks are the raw ones); and with the evaluators flagged after the false-discovery correction left out. The final rank (with the routine score) is shown both ways. Units that only submitted a written report have no on-site rank.

# %%
impact = bias.impact(dataset, the_scheme, flags=flags, fit=fit, exclude="flag_fdr")
imp = impact.table
save_table(imp, output, "rank_impact")
moves = impact.summary()
display(
    table_view(
        moves,
        ["comparison", "moves", "units_moved", "max_shift", "units"],
        caption="How far each correction moves the on-site ranks",
    )
)
m = moves.set_index("column")
sev = impact.severity.table
page.say(
    f"Putting back each evaluator's severity (empirical-Bayes shrunk: on average {sev['shrinkage'].mean():.0%} of the "
    f"estimate) and scoring with the scheme's own aggregation, shares, weights and {the_scheme.composite} composite moves units "
    f"{m.loc['rank_adjusted', 'moves']:.2f} places on average ({m.loc['rank_adjusted', 'units_moved']} units, at most "
    f"{m.loc['rank_adjusted', 'max_shift']}). Leaving out the {len(impact.excluded_raters)} evaluators flagged after the "
    f"false-discovery correction moves them {m.loc['rank_excluded', 'moves']:.2f} places on average. For reference, the MFRM "
    f"fair average moves them {m.loc['rank_fair', 'moves']:.2f} places, mostly from its change of scale (band scores, "
    f"indicators weighted equally, no group shares or trimming), not from the evaluators."
)
onsite_moved = (imp["rank_adjusted"] != imp["rank_raw"]).fillna(False) | (
    imp["rank_excluded"] != imp["rank_raw"]
).fillna(False)
final_moved = (imp["rank_final_adjusted"] != imp["rank_final"]).fillna(False) | (
    imp["rank_final_excluded"] != imp["rank_final"]
).fillna(False)
page.say(
    f"{int(onsite_moved.sum())} units change on-site rank and {int(final_moved.sum())} change final rank under "
    f"either correction (all of them in the saved table *rank_impact*); the units whose on-site rank moves:"
)
cols = [
    "unit",
    plots.name_column(),
    "rank_group",
    "rank_raw",
    "rank_adjusted",
    "rank_excluded",
    "rank_final",
    "rank_final_adjusted",
    "rank_final_excluded",
    "max_shift",
]
display(
    table_view(
        imp.loc[onsite_moved].sort_values(["rank_group", "max_shift"], ascending=[True, False]),
        cols,
        caption="Units whose on-site rank moves under either correction (largest move first)",
    )
)

# %%
plural = {"district": "districts", "department": "departments"}
for rank_group in imp["rank_group"].dropna().unique():
    fig = bias_plots.rank_shifts(impact, rank_group)
    saved = plots.keep(fig, output, f"40_rank_shifts_{plural.get(rank_group, rank_group)}")

# %% [markdown]
# ## Reading the result
#
# Flags point at evaluators to talk to, not at scores to delete: the flags table gives the size of each effect (points of severity, the home-unit bonus, the bloc's agreement) next to its test, and across a large panel some flags are expected by chance — use the false-discovery flags before leaving anyone out. Whether a correction matters is read from the rank tables: shifts of one place between neighbours with near-equal scores are noise; larger shifts show where the choice of evaluators, not the units' work, decides the rank.
