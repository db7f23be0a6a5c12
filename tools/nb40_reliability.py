"""The reliability section of notebook 40 (evaluator bias): its extra parameters and its cells.

Kept apart from tools/make_notebook_40.py, which puts these cells where the section belongs.
Every number in the section's prose is computed: the sentences are Markdown displayed from code cells.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell

PARAMS_RELIABILITY = """
z_gap = 2.0  # adjacent units count as told apart when their gap is at least z_gap standard errors of the difference
alpha_boot = 1000  # bootstrap draws for the interval of Krippendorff's alpha"""


ICC_CELL = r'''from IPython.display import Markdown
from perflab.plots import reliability as rel_plots

pair_means = (dataset.ratings.groupby(['unit', 'rater'], as_index=False)['score'].mean()
              .merge(dataset.units[['unit', 'kind']], on='unit'))
iccs = reliability.icc_by(pair_means, 'unit', 'rater', 'score', by='kind')
save_table(iccs, output, 'icc')
eff = reliability.effective_raters(dataset.ratings, dataset.raters, the_scheme)
save_table(eff, output, 'effective_raters')
display(rel_plots.icc_table(iccs, caption='Intraclass correlations by ranking group: ICC [95% interval], each with its k'))
icc1 = iccs[iccs['Type'] == 'ICC1'].set_index('kind')['ICC']
icc3k = iccs[iccs['Type'] == 'ICC3k'].set_index('kind')
k_all, trim = iccs.attrs['by']['all']['k'], the_scheme.aggregation.trim
per_kind = ', '.join(f"{icc1[k]:.2f} for the {rel_plots.in_words(k)}" for k in ('district', 'department') if k in icc1)
trimming = (f", and with the trimmed mean dropping the {trim} highest and {trim} lowest score(s) of each group" if trim else "")
counted = (f"; {eff['k_effective_all'].mean():.0f} if the trimmed scores counted fully" if trim else "")
display(Markdown(
    f"Each unit scored on site was scored by **k = {k_all:.0f}** evaluators (Henderson's effective number of raters "
    f"per unit). They do not count equally: under the group shares{trimming}, they weigh like "
    f"**{eff['k_effective'].mean():.0f}** equally weighted evaluators (Kish's effective number (Σw)²/Σw², each "
    f"score weighing its group's share over the scores the group's aggregate averages{counted}). "
    f"One evaluator is far less reliable than the mean of k: the single-rater ICC(1) is {icc1['all']:.2f} "
    f"pooled, {per_kind}. The units are ranked within their kind, so the per-kind figures are the ones that "
    f"apply. The mean of k evaluators has ICC(k) = {icc3k.loc['all', 'ICC']:.3f} (k = {icc3k.loc['all', 'k']:.0f}): "
    f"another panel drawn alike would order the units almost the same *on average over all pairs* — which does "
    f"not make the scores error-free, nor adjacent ranks safe (next sections)."
))'''

ALPHA_CELL = r'''band = {g: k for k, g in enumerate(the_scheme.grades[::-1])}
grades = dataset.ratings.assign(item=dataset.ratings['unit'] + '/' + dataset.ratings['indicator'],
                                band=dataset.ratings['grade'].map(band))
alpha_ord, ci_units = reliability.krippendorff_alpha(grades, 'item', 'rater', 'band', level='ordinal',
                                                     n_boot=alpha_boot, rng=rng, cluster='unit')
_, ci_cells = reliability.krippendorff_alpha(grades, 'item', 'rater', 'band', level='ordinal', n_boot=alpha_boot, rng=rng)
alpha_item = reliability.krippendorff_alpha(grades, 'item', 'rater', 'score', level='interval')
alpha_mean = reliability.krippendorff_alpha(pair_means, 'unit', 'rater', 'score', level='interval')
pooled = iccs[iccs['kind'] == 'all'].set_index('Type')
k1 = pooled.loc['ICC1k', 'k']
spearman_brown = k1 * alpha_mean / (1 + (k1 - 1) * alpha_mean)
one_grade, one_score = 'grade (A–E) of one indicator of one unit', 'score of one indicator of one unit'
mean_score, mean_k = "unit's mean score over the indicators", "mean of k evaluators' mean scores"
agreement = pd.DataFrame([
    ["Krippendorff's α, ordinal", one_grade, 1, alpha_ord, f"[{ci_units[0]:.3f}, {ci_units[1]:.3f}]"],
    ["Krippendorff's α, interval", one_score, 1, alpha_item, ''],
    ["Krippendorff's α, interval", mean_score, 1, alpha_mean, ''],
    ['ICC(1), one-way', mean_score, 1, pooled.loc['ICC1', 'ICC'],
     f"[{pooled.loc['ICC1', 'CI95_low']:.3f}, {pooled.loc['ICC1', 'CI95_high']:.3f}]"],
    ['α of mean scores, Spearman–Brown to k', mean_k, round(k1), spearman_brown, ''],
    ['ICC(1k), one-way', mean_k, round(k1), pooled.loc['ICC1k', 'ICC'],
     f"[{pooled.loc['ICC1k', 'CI95_low']:.3f}, {pooled.loc['ICC1k', 'CI95_high']:.3f}]"],
], columns=['measure', 'rated', 'k', 'value', 'interval'])
save_table(agreement, output, 'agreement')
display(rel_plots.table(agreement, decimals={'value': 3}, caption='Agreement on the grades and the scores, each with its k'))
n_units = grades['unit'].nunique()
display(Markdown(
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
))'''

PRECISION_CELL = r'''precision = {s: reliability.score_precision(dataset, the_scheme, score=s, z=z_gap) for s in ('onsite', 'final')}
precision_summary = pd.concat([p.summary().assign(score=s) for s, p in precision.items()], ignore_index=True)
save_table(precision_summary, output, 'score_precision')  # ids in the saved table; rel_plots.table shows words
save_table(pd.concat([p.units.assign(score_kind=s) for s, p in precision.items()]), output, 'unit_sem')
save_table(precision['onsite'].adjacent, output, 'adjacent_gaps_onsite')
save_table(precision['final'].adjacent, output, 'adjacent_gaps_final')
display(rel_plots.table(precision_summary, ['score', 'rank_group', 'units', 'median_sem', 'max_sem', 'median_gap',
                                  'median_se_difference', 'pairs', 'share_within_noise'],
                        caption=f'Precision of the scores and of the gaps between adjacent units (z = {z_gap:g})'))
on = precision['onsite'].summary().set_index('rank_group')
fin = precision['final'].summary().set_index('rank_group')
groups = [g for g in on.index if g != 'all']
said = '; '.join(f"{rel_plots.in_words(g)}: median SEM {on.loc[g, 'median_sem']:.2f}, median gap to the next unit "
                 f"{on.loc[g, 'median_gap']:.2f}, {on.loc[g, 'share_within_noise']:.0%} of the "
                 f"{on.loc[g, 'pairs']:.0f} adjacent gaps within {z_gap:g} SE" for g in groups)
display(Markdown(
    f"**On-site score** ({said}). The final score takes the on-site score at its weight, so its rater error is "
    f"smaller (median SEM {fin.loc['all', 'median_sem']:.2f}), but so are its gaps: "
    + ', '.join(f"{fin.loc[g, 'share_within_noise']:.0%} of the {rel_plots.in_words(g)}' adjacent final gaps" for g in groups)
    + f" are within {z_gap:g} SE of their difference. Such neighbours swap places with another panel of evaluators "
    f"drawn alike; their order is not a finding."
))
fig = rel_plots.adjacent_gaps(precision['onsite'].adjacent, z=z_gap)
saved = plots.keep(fig, output, '40_adjacent_gaps')'''

DSTUDY_CELL = r'''kinds = dataset.units.set_index('unit')['kind']
rank_groups = [g for g in on.index if g != 'all']
studies = {g: reliability.onsite_g_study(dataset, the_scheme, units=None if g == 'all' else kinds.index[kinds == g])
           for g in rank_groups}
rows, curves, now = [], [], []
for g, cg in studies.items():
    target = on.loc[g, 'median_gap'] / z_gap  # the SE of a difference at which the median adjacent gap is z_gap SE
    d_now = cg.d_study()
    need = cg.panel_for(target / np.sqrt(2))
    best = cg.panel_for(target / np.sqrt(2), allocation='optimal')
    rows.append({'rank_group': g, 'raters': d_now['raters'], 'values_averaged': d_now['values_averaged'],
                 'g': d_now['g'], 'se_difference': d_now['se_difference'], 'sem_at_g80': cg.sem_for_g(0.8),
                 'median_gap': on.loc[g, 'median_gap'], 'target_se_difference': target,
                 'g_needed': cg.g_for_sem(target / np.sqrt(2)), 'raters_needed': need['total'],
                 'raters_needed_optimal': best['total']})
    c = cg.d_study(scale=np.geomspace(0.2, 8, 60))
    curves.append(c.assign(rank_group=g))
    now.append(pd.DataFrame([{'rank_group': g, 'raters': d_now['raters'], 'se_difference': d_now['se_difference']}]))
dstudy = pd.DataFrame(rows)
save_table(dstudy, output, 'composite_d_study')
display(rel_plots.table(dstudy, decimals={'raters': 0, 'values_averaged': 0, 'g': 4, 'g_needed': 4, 'raters_needed': 0,
                                          'raters_needed_optimal': 0},
                        caption='D-study of the composite on-site score: the panel that ranking each group needs'))
fig = rel_plots.d_study_curves(pd.concat(curves), pd.concat(now), pd.Series({g: on.loc[g, 'median_gap'] / z_gap
                                                                              for g in rank_groups}))
saved = plots.keep(fig, output, '40_d_study')
worst = dstudy.loc[dstudy['target_se_difference'].idxmin()]
others = ' '.join(f"For the {rel_plots.in_words(r['rank_group'])} (median gap {r['median_gap']:.2f}) the same rule asks for "
                  f"an SE of a difference of {r['target_se_difference']:.2f} (now {r['se_difference']:.2f}): about "
                  f"{r['raters_needed']:.0f} evaluators allocated as now." for _, r in dstudy.iterrows() if r['rank_group'] != worst['rank_group'])
display(Markdown(
    f"The composite on-site score of the current panel has g = {worst['g']:.4f} for the {rel_plots.in_words(worst['rank_group'])} "
    f"(k = {worst['raters']:.0f} evaluators, {worst['values_averaged']:.0f} scores kept by the trimmed mean). "
    f"The usual target g = 0.8 would allow a relative SEM of {worst['sem_at_g80']:.1f} points, "
    f"{worst['sem_at_g80'] / worst['median_gap']:.0f} times the median gap between adjacent {rel_plots.in_words(worst['rank_group'])} "
    f"({worst['median_gap']:.2f}): a target for telling strong units from weak ones, far too coarse to rank. The "
    f"target here is set in points instead: the median adjacent gap should be {z_gap:g} standard errors of the "
    f"difference, i.e. an SE of a difference of at most {worst['target_se_difference']:.2f} points (now "
    f"{worst['se_difference']:.2f}). That needs g ≥ {worst['g_needed']:.4f} and about "
    f"{worst['raters_needed']:.0f} evaluators allocated as now, or {worst['raters_needed_optimal']:.0f} allocated "
    f"optimally (more to groups with a large share or a wide spread), against {worst['raters']:.0f} today. " + others
))'''

GROUPS_CELL = r'''parts = studies[rank_groups[0]].summary() if len(rank_groups) == 1 else reliability.onsite_g_study(dataset, the_scheme).summary()
save_table(parts, output, 'composite_g_study_groups')
top = parts.sort_values('rel_error_share', ascending=False).iloc[0]
top_name = next(g.name_en for g in the_scheme.groups if g.id == top['group'])
parts['group'] = parts['group'].map({g.id: (g.name_zh if plots.lang() == 'zh' else g.name_en) for g in the_scheme.groups})
display(rel_plots.table(parts, ['group', 'weight', 'raters', 'values_averaged', 'var_object', 'var_rater', 'var_residual',
                                'rel_error_share'], decimals={'raters': 0, 'values_averaged': 0},
                        caption="Each evaluator group's part in the composite's relative error (all units pooled)"))
display(Markdown(
    f"Per evaluator group (all units pooled): the group's share, its raters, and its G-study components of one "
    f"evaluator's indicator-weighted score. Its part of the composite's relative error is share² × residual "
    f"variance / scores kept: the {top_name.lower()} carry {top['rel_error_share']:.0%} of it, with a share of "
    f"{top['weight']:.2f} resting on {top['values_averaged']:.0f} scores kept. Adding evaluators where a large share "
    f"rests on few of them buys the most precision per evaluator."
))'''


def reliability_cells():
    """Cells of the section "Reliability and panel sizes"; they use dataset, the_scheme, rng, output (and plots, reliability)."""
    return [
        new_markdown_cell(
            "## Reliability and panel sizes\n\n"
            "A reliability coefficient says how well the scores separate units against their whole spread. A "
            "ranking asks more: that the gap between two units ranked next to each other exceed the noise in their "
            "difference. Every coefficient below names its **k**, the number of evaluators whose mean it is the "
            "reliability of, and everything is given for each kind (the rankings are within kind) as well as pooled. "
            "The evaluators do not all score the same units (the grassroots representatives attend one session), "
            "so the intraclass correlations are the unbalanced ones (Henderson's Method III)."
        ),
        new_code_cell(ICC_CELL),
        new_markdown_cell(
            "### Agreement on the grades: Krippendorff's alpha\n\n"
            "Alpha of the grades (ordinal, A–E) of each unit × indicator, next to alpha of the scores and the "
            "ICC, each with its k."
        ),
        new_code_cell(ALPHA_CELL),
        new_markdown_cell(
            "### How precise is each unit's score, and can adjacent units be told apart?\n\n"
            "The standard error (SEM) of a unit's score is the spread of its evaluators around their group's "
            "aggregate, weighted as the scheme weighs them: the shares over the groups, the weights over the "
            "indicators, and the trimmed mean's own variance (the winsorized variance of Tukey & McLaughlin). With "
            "one group and a plain mean it is Brennan's conditional SEM; the test suite checks it against a "
            "bootstrap of the evaluators that reruns the scheme's scoring. An evaluator's severity counts in the "
            "SEM of one unit but cancels in the difference between two units the same evaluators scored, so each "
            "pair of units ranked next to each other gets the standard error of its own difference, within each "
            "ranking group. A gap smaller than `z_gap` standard errors of the difference is within the noise."
        ),
        new_code_cell(PRECISION_CELL),
        new_markdown_cell(
            "### How many evaluators would a ranking need? The D-study of the composite\n\n"
            "The on-site score is a composite: each evaluator group's mean, weighted by the group's share. Its "
            "D-study is that of multivariate generalizability theory (Brennan 2001, ch. 9–10): units × (evaluators "
            "nested in groups), the groups fixed with a-priori weights = the shares, the indicators fixed (an "
            "evaluator's score of a unit is the weighted mean of their indicator scores). The universe-score "
            "variance of the composite is a′Σa (Σ: the units' variances and covariances across groups), the "
            "relative error Σ a²·σ²(unit × evaluator)/n per group. Panels are scaled with every group in its "
            "current proportion; the optimal allocation puts n ∝ share × evaluator SD in each group. The scores "
            "the trimmed mean drops are counted as lost (conservative)."
        ),
        new_code_cell(DSTUDY_CELL),
        new_code_cell(GROUPS_CELL),
    ]
