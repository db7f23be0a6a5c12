"""Write notebooks/40_evaluator_bias.ipynb from its cell sources (clean: no outputs, no execution counts).

Run `python tools/make_notebook_40.py` after editing the cells here. Every number the page states in prose is
computed by a code cell and shown as a sentence (display(Markdown(...))), never typed into a markdown cell.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import PARAMS as COMMON
from nbtools import notebook, write
from nb40_reliability import PARAMS_RELIABILITY, reliability_cells

PARAMS = COMMON + '''
alpha = 0.05  # chance that a rater with no real effect gets any flag (split over the six tests)
fdr = 0.05  # false-discovery rate across the panel for the raters left out of the "without flagged raters" ranks''' + PARAMS_RELIABILITY

SETUP = """\
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from perflab import bias, plots, reliability
from perflab.io import load_dataset
from perflab.plots import bias as bias_plots
from perflab.plots.bias import table_view
from perflab.report import save_table
from perflab.scheme import load_scheme
from perflab.scoring import routine_scores

output = Path(output)
rng = np.random.default_rng(int(seed))
lang = plots.theme()
the_scheme = load_scheme(scheme)
dataset = load_dataset(data, the_scheme)
n_raters = dataset.ratings['rater'].nunique()
group_names = {g.id: (g.name_zh if lang == 'zh' else g.name_en) for g in the_scheme.groups}
group_en = {g.id: g.name_en for g in the_scheme.groups}  # the prose is in English
display(Markdown(f"{n_raters} evaluators, {dataset.ratings['unit'].nunique()} units scored on site, "
                 f"{len(dataset.ratings):,} ratings. Names of units and evaluator groups are in "
                 f"{'Chinese' if lang == 'zh' else 'English'}, as in the figures."))"""

MFRM = """\
fit = bias.mfrm(dataset.ratings, scheme=the_scheme)
save_table(fit.raters.reset_index(), output, 'mfrm_raters')
save_table(fit.separation, output, 'mfrm_separation')
summary = fit.summary()
display(table_view(summary, ['facet', 'elements', 'sd_measure', 'mean_infit', 'mean_outfit', 'design_effect',
                             'separation', 'reliability', 'separation_model', 'reliability_model'],
                   caption='Many-facet Rasch model: spread, fit and separation of each facet'))
display(table_view(fit.thresholds, ['category', 'score', 'count', 'threshold'], decimals={'score': 0, 'threshold': 2},
                   caption='Grade bands: their scores, how often each was given, and the Andrich thresholds'))
sep = fit.separation.set_index('facet')
rho = fit.pair_correlation()
per_pair = fit.units['count'].sum() / (fit.residuals.groupby(list(fit.residuals.columns[:2])).ngroups)
display(Markdown(
    f"The fit {'converged' if fit.converged else 'did **not** converge'} after {fit.iterations} iterations "
    f"(largest observed − expected total {fit.max_residual:.4f}). "
    f"One evaluator's {per_pair:.0f} ratings of one unit are not independent: their standardised residuals correlate "
    f"{rho:.2f} within evaluator × unit, so the model's standard errors are too small by a design effect of about "
    f"{sep.loc['units', 'design_effect']:.1f} (units) and {sep.loc['raters', 'design_effect']:.1f} (evaluators) in variance. "
    f"With the cluster-robust standard errors the units' reliability is {sep.loc['units', 'reliability']:.3f} "
    f"(separation {sep.loc['units', 'separation']:.1f}; {sep.loc['units', 'reliability_model']:.3f} and "
    f"{sep.loc['units', 'separation_model']:.1f} with the model's), the evaluators' {sep.loc['raters', 'reliability']:.3f} "
    f"({sep.loc['raters', 'reliability_model']:.3f} with the model's)."))"""

FLAGS = """\
flags = bias.flag_raters(dataset.ratings, dataset.raters, scheme=the_scheme, fit=fit, alpha=alpha, rng=rng, fdr=fdr)
save_table(flags, output, 'rater_flags')
save_table(flags.attrs['rules'], output, 'flag_rules')
display(table_view(flags.attrs['rules'], decimals={'false_positive_rate': 4},
                   caption='The six flags: each rule, its false-positive rate per evaluator and the data it needs'))
n_tested, n_any, n_fdr = flags.attrs['n_tested'], int(flags['any_flag'].sum()), int(flags['flag_fdr'].sum())
display(Markdown(
    f"{n_tested} evaluators were tested. At the per-evaluator rate (alpha = {alpha}) up to "
    f"{n_tested} × {alpha} = {flags.attrs['expected_false_flags']:.0f} evaluators with no real effect would be flagged "
    f"by chance: {n_any} carry a flag, so a flag alone does not prove an effect. Corrected across the panel "
    f"(Benjamini–Hochberg, false-discovery rate {fdr}), {n_fdr} remain flagged (column *Flagged (FDR)*); "
    f"these are the evaluators left out below."))
cols = ['rater', 'group', 'n_units', 'flags', 'flag_fdr', 'q_value', 'severity_points', 'severity_z', 'halo_r', 'halo_z',
        'slope', 'favour_points', 'bloc_id', 'infit', 'outfit']
flagged = flags.loc[flags['any_flag']].sort_values(['flags', 'rater']).assign(group=lambda f: f['group'].map(group_names))
display(table_view(flagged, cols, caption=f'The {n_any} evaluators with a flag (severity in points, + = harsher)'))"""

BY_GROUP = """\
by_group = bias.flags_by_group(flags)
save_table(by_group, output, 'flags_by_group')
display(table_view(by_group.assign(group=by_group['group'].map(group_names)),
                   caption='Flags and mean severity of each evaluator group'))
harsh, mild = by_group.loc[by_group['mean_severity_points'].idxmax()], by_group.loc[by_group['mean_severity_points'].idxmin()]
display(Markdown(
    f"Severity is in points and positive for evaluators who score lower than the other evaluators of the same units. "
    f"The harshest group on average is the {group_en[harsh['group']]} ({harsh['mean_severity_points']:+.2f} points), "
    f"the most lenient the {group_en[mild['group']]} ({mild['mean_severity_points']:+.2f} points)."))"""

DRIFT = """\
routine = routine_scores(dataset, the_scheme)[['routine']].reset_index()
drift = bias.session_drift(dataset.ratings, covariates=routine, units=dataset.units)
save_table(drift.tests, output, 'session_drift')
save_table(drift.composition, output, 'session_composition')
display(table_view(drift.composition, caption='Units that presented in each session, by kind'))
display(table_view(drift.tests, ['term', 'estimate', 'se', 'ci95_low', 'ci95_high', 'p_value'],
                   caption='Session and order effects on the rater-adjusted on-site scores (points)'))
sessions = drift.tests[drift.tests['term'].str.endswith('vs mean of sessions')].set_index('term')
low = sessions['estimate'].idxmin()
s_low = low.split()[1]
comp = drift.composition.assign(session=drift.composition['session'].astype(str)).set_index('session')
kind_en = {'district': 'district governments', 'department': 'municipal departments'}
heard = [f"{int(comp.loc[s_low, k])} {kind_en.get(k, k)}" for k in kind_en if k in comp.columns and comp.loc[s_low, k] > 0]
absent = [kind_en.get(k, k) for k in kind_en if k in comp.columns and comp.loc[s_low, k] == 0]
mix = ' and '.join(heard) + (f" and none of the {' or '.join(absent)}" if absent else '')
cov = drift.tests.set_index('term').loc['covariate routine']
display(Markdown(
    f"Session {s_low} scored lowest: {sessions.loc[low, 'estimate']:+.2f} points against the mean of the sessions "
    f"(95% interval {sessions.loc[low, 'ci95_low']:+.2f} to {sessions.loc[low, 'ci95_high']:+.2f}, p = {sessions.loc[low, 'p_value']:.3f}). "
    f"It heard {mix}; the estimate compares it with the other sessions within kind. "
    f"The routine score and kind together explain {drift.covariate_r2:.0%} of the units' differences left after session "
    f"and order (routine score: {cov['estimate']:+.2f} points per point, p = {cov['p_value']:.2f}), so they do not "
    f"stand in for the units' quality: the session effect is still a comparison of different units."))
fig = bias_plots.drift_by_order(drift.units)
saved = plots.keep(fig, output, '40_drift_by_order')"""

IMPACT = """\
imp = bias.impact(dataset, the_scheme, flags=flags, fit=fit, exclude='flag_fdr')
save_table(imp, output, 'rank_impact')
moves = bias.rank_moves(imp)
display(table_view(moves, ['comparison', 'moves', 'units_moved', 'max_shift', 'units'],
                   caption='How far each correction moves the on-site ranks'))
m = moves.set_index('column')
sev = imp.attrs['severity']
display(Markdown(
    f"Putting back each evaluator's severity (empirical-Bayes shrunk: on average {sev['shrinkage'].mean():.0%} of the "
    f"estimate) and scoring with the scheme's own aggregation, shares and weights moves units "
    f"{m.loc['rank_adjusted', 'moves']:.2f} places on average ({m.loc['rank_adjusted', 'units_moved']} units, at most "
    f"{m.loc['rank_adjusted', 'max_shift']}). Leaving out the {len(imp.attrs['excluded_raters'])} evaluators flagged after the "
    f"false-discovery correction moves them {m.loc['rank_excluded', 'moves']:.2f} places on average. For reference, the MFRM "
    f"fair average moves them {m.loc['rank_fair', 'moves']:.2f} places, mostly from its change of scale (band scores, "
    f"indicators weighted equally, no group shares or trimming), not from the evaluators."))
onsite_moved = (imp['rank_adjusted'] != imp['rank_raw']).fillna(False) | (imp['rank_excluded'] != imp['rank_raw']).fillna(False)
final_moved = (imp['rank_final_adjusted'] != imp['rank_final']).fillna(False) | (imp['rank_final_excluded'] != imp['rank_final']).fillna(False)
display(Markdown(f"{int(onsite_moved.sum())} units change on-site rank and {int(final_moved.sum())} change final rank under "
                 f"either correction (all of them in the saved table *rank_impact*); the units whose on-site rank moves:"))
cols = ['unit', plots.name_column(), 'kind', 'rank_raw', 'rank_adjusted', 'rank_excluded', 'rank_final', 'rank_final_adjusted',
        'rank_final_excluded', 'max_shift']
display(table_view(imp.loc[onsite_moved].sort_values(['kind', 'max_shift'], ascending=[True, False]), cols,
                   caption='Units whose on-site rank moves under either correction (largest move first)'))"""


def bias_notebook():
    cells = [
        new_markdown_cell(
            "# Which evaluators distort the scores?\n\n"
            "**What this answers:** which evaluators and groups score leniently or severely, with a halo, a restricted "
            "range, favouritism to their own unit or as a bloc, and whether scores drift across the sessions;\n"
            "how much correcting for them moves the ranks, and how many evaluators each group needs for a reliable score.\n\n"
            "Every evaluator effect on this page has one direction: **positive = harsher** (lower scores)."
        ),
        new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        new_code_cell(SETUP),
        new_markdown_cell(
            "## Severity on one scale: the many-facet Rasch model\n\n"
            "Each rating is a grade band (A–E). The model puts units, evaluators and indicators on one logit scale: "
            "a higher evaluator measure means a **more severe** evaluator. Because the model knows who scored which unit, "
            "a unit's *fair average* — the score it would get from an evaluator of average severity — does not depend on "
            "which evaluators happened to score it. Separation and reliability say how well each facet's elements are told "
            "apart; they use **cluster-robust standard errors** (the residuals of one evaluator's ratings of one unit summed "
            "before squaring), because an evaluator's ratings of one unit's indicators share one impression of the unit. "
            "A high reliability here means the units are told apart *by this panel*; which evaluators happened to sit on "
            "the panel is a further source of error, measured in the reliability section below."
        ),
        new_code_cell(MFRM),
        new_markdown_cell(
            "## Flags: which evaluators show which effect?\n\n"
            "Every evaluator differs a little, so a flag means a deviation far outside the panel's own spread. Each flag "
            "comes from the stated rule below; each test has a false-positive rate of `alpha` divided by the number of "
            "tests, so an evaluator with no real effect is flagged for anything with probability at most `alpha`. "
            "Severity is measured in points against the other evaluators of the *same units* (an evaluator who attended only "
            "the evening session is compared with the others who scored those units), and compared with the evaluators who "
            "attended the same sessions. Halo is read from how well an evaluator's scores tell a unit's indicators apart "
            "as the panel does (the within-unit correlation), so what an evaluator adds to a whole unit — leniency, a "
            "steep or flat slope, a bloc's shared view — does not look like halo. Evaluators with too few units or ratings "
            "for a test get no value and no flag (column *Minimum data*)."
        ),
        new_code_cell(FLAGS),
        new_code_cell(BY_GROUP),
        new_code_cell("fig = bias_plots.severity_by_group(flags, the_scheme)\n"
                      "saved = plots.keep(fig, output, '40_severity_by_group', key=True)"),
        new_markdown_cell(
            "## Drift across the sessions\n\n"
            "A drift hits every evaluator of a unit alike, so it shows across units, not within them: each unit's score "
            "adjusted for the severity of its evaluators is compared across the sessions and along the presentation "
            "order, within each kind of unit, with the routine score (the special-evaluation departments' figures) as a "
            "covariate. A negative session effect is a session scored lower than the others. Every unit presents in one "
            "session only, so a drift common to all evaluators cannot be told apart from the quality of that session's "
            "units by any within-evaluator comparison: read which units presented in each session (first table), the "
            "estimate and its confidence interval, not only the p-value."
        ),
        new_code_cell(DRIFT),
        *reliability_cells(),
        new_markdown_cell(
            "## How much do the rater effects move the ranks?\n\n"
            "Each unit's on-site rank within its kind, always as the scheme scores it (its aggregation and trimming, group "
            "shares and indicator weights): from the raw scores; with each evaluator's estimated severity put back into "
            "that evaluator's scores and nothing else changed (with no evaluator effects these ranks are the raw ones); and "
            "with the evaluators flagged after the false-discovery correction left out. The final rank (with the routine "
            "score) is shown both ways. Units that only submitted a written report have no on-site rank."
        ),
        new_code_cell(IMPACT),
        new_code_cell("fig = bias_plots.rank_shifts(imp, 'district')\n"
                      "saved = plots.keep(fig, output, '40_rank_shifts_districts')"),
        new_code_cell("fig = bias_plots.rank_shifts(imp, 'department')\n"
                      "saved = plots.keep(fig, output, '40_rank_shifts_departments')"),
        new_markdown_cell(
            "## Reading the result\n\n"
            "Flags point at evaluators to talk to, not at scores to delete: the flags table gives the size of each effect "
            "(points of severity, the home-unit bonus, the bloc's agreement) next to its test, and across a large panel "
            "some flags are expected by chance — use the false-discovery flags before leaving anyone out. Whether a "
            "correction matters is read from the rank tables: shifts of one place between neighbours with near-equal "
            "scores are noise; larger shifts show where the choice of evaluators, not the units' work, decides the rank."
        ),
    ]
    return notebook(cells)


def main():
    write(bias_notebook(), "40_evaluator_bias.ipynb")


if __name__ == "__main__":
    main()
