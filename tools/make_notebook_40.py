"""Write notebooks/40_evaluator_bias.ipynb from its cell sources (clean: no outputs, no execution counts).

Run `python tools/make_notebook_40.py` after editing the cells here.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import PARAMS as COMMON
from nbtools import notebook, write
from nb40_reliability import PARAMS_RELIABILITY, reliability_cells

PARAMS = COMMON + '''
alpha = 0.05  # chance that a rater with no real effect gets any flag (split over the six tests)''' + PARAMS_RELIABILITY


def bias_notebook():
    cells = [
        new_markdown_cell(
            "# Which evaluators distort the scores?\n\n"
            "**What this answers:** which evaluators and groups score leniently or severely, with a halo, a restricted "
            "range, favouritism to their own unit or as a bloc, and whether scores drift across the sessions;\n"
            "how much correcting for them moves the ranks, and how many evaluators each group needs for a reliable score."
        ),
        new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from pathlib import Path\n\n"
            "import numpy as np\n"
            "import pandas as pd\n"
            "from IPython.display import display\n\n"
            "from perflab import bias, plots, reliability\n"
            "from perflab.io import load_dataset\n"
            "from perflab.plots import bias as bias_plots\n"
            "from perflab.report import save_table\n"
            "from perflab.scheme import load_scheme\n"
            "from perflab.scoring import routine_scores\n\n"
            "output = Path(output)\n"
            "rng = np.random.default_rng(int(seed))\n"
            "lang = plots.theme()\n"
            "the_scheme = load_scheme(scheme)\n"
            "dataset = load_dataset(data, the_scheme)\n"
            "pd.set_option('display.precision', 2)\n"
            "print(f'{dataset.ratings[\"rater\"].nunique()} evaluators, {dataset.ratings[\"unit\"].nunique()} units scored on site, '\n"
            "      f'{len(dataset.ratings)} ratings; labels in {lang}')"
        ),
        new_markdown_cell(
            "## Severity on one scale: the many-facet Rasch model\n\n"
            "Each rating is a grade band (A–E). The model puts units, evaluators and indicators on one logit scale: "
            "a higher evaluator measure means a **more severe** evaluator. Because the model knows who scored which unit, "
            "a unit's *fair average* — the score it would get from an evaluator of average severity — does not depend on "
            "which evaluators happened to score it. Separation and reliability say how well each facet's elements are told apart."
        ),
        new_code_cell(
            "fit = bias.mfrm(dataset.ratings, scheme=the_scheme)\n"
            "print(f'converged: {fit.converged} after {fit.iterations} iterations (largest observed − expected total: {fit.max_residual:.4f})')\n"
            "display(fit.summary())\n"
            "display(fit.thresholds)\n"
            "save_table(fit.raters.reset_index(), output, 'mfrm_raters')"
        ),
        new_markdown_cell(
            "## Flags: which evaluators show which effect?\n\n"
            "Every evaluator differs a little, so a flag means a deviation far outside the panel's own spread. Each flag "
            "comes from the stated rule below; each of the six tests has a false-positive rate of `alpha / 6`, so an "
            "evaluator with no real effect is flagged for anything with probability at most `alpha`. Leniency is measured "
            "in points against the other evaluators of the *same units* (an evaluator who attended only the evening session "
            "is compared with the others who scored those units), and compared with the evaluators who attended the same sessions. "
            "Evaluators with too few units or ratings for a test get NA and no flag (column `minimum` of the rules)."
        ),
        new_code_cell(
            "flags = bias.flag_raters(dataset.ratings, dataset.raters, scheme=the_scheme, fit=fit, alpha=alpha, rng=rng)\n"
            "display(flags.attrs['rules'])\n"
            "save_table(flags, output, 'rater_flags')\n"
            "save_table(flags.attrs['rules'], output, 'flag_rules')\n"
            "cols = ['rater', 'group', 'n_units', 'flags', 'severity', 'severity_z', 'halo_z', 'slope', 'favour_points', 'bloc_id', 'infit', 'outfit']\n"
            "display(flags.loc[flags['any_flag'], cols].sort_values(['flags', 'rater']))"
        ),
        new_code_cell(
            "by_group = flags.groupby('group')[['lenient', 'severe', 'halo', 'central', 'favouritism', 'bloc', 'misfit', 'any_flag']].sum()\n"
            "by_group.insert(0, 'raters', flags.groupby('group').size())\n"
            "by_group['mean_severity_points'] = flags.groupby('group')['severity'].mean()\n"
            "save_table(by_group, output, 'flags_by_group', index=True)\n"
            "display(by_group)"
        ),
        new_code_cell("fig = bias_plots.severity_by_group(flags, the_scheme)"),
        new_markdown_cell(
            "## Drift across the sessions\n\n"
            "A drift hits every evaluator of a unit alike, so it shows across units, not within them: each unit's score "
            "adjusted for the severity of its evaluators is compared across the three sessions and along the presentation "
            "order, with the routine score (the special-evaluation departments' figures) absorbing differences in the units' "
            "quality. A negative session effect is a session scored lower than the others. Every unit presents in one "
            "session only, so a drift common to all evaluators cannot be told apart from the quality of that session's "
            "units by any within-evaluator comparison: read the estimate and its 95% interval, not only the p-value "
            "(with the units' spread of about 5 points, a shift of 2 points rarely reaches p < 0.05)."
        ),
        new_code_cell(
            "routine = routine_scores(dataset, the_scheme)[['routine']].reset_index()\n"
            "drift = bias.session_drift(dataset.ratings, covariates=routine)\n"
            "save_table(drift.tests, output, 'session_drift')\n"
            "display(drift.tests)\n"
            "fig = bias_plots.drift_by_order(drift.units)"
        ),
        *reliability_cells(),
        new_markdown_cell(
            "## How much do the rater effects move the ranks?\n\n"
            "Each unit's on-site rank within its kind from the raw scores (the scheme's aggregation), from the fair averages, "
            "and recomputed with every flagged evaluator left out; the final rank (with the routine score) with and without "
            "them. Units that only submitted a written report have no on-site rank."
        ),
        new_code_cell(
            "imp = bias.impact(dataset, the_scheme, flags=flags, fit=fit)\n"
            "save_table(imp, output, 'rank_impact')\n"
            "print(f\"{len(imp.attrs['excluded_raters'])} flagged evaluators left out; {int(imp['changed'].sum())} units change rank\")\n"
            "cols = ['unit', plots.name_column(), 'kind', 'rank_raw', 'rank_fair', 'rank_excluded', 'rank_final', 'rank_final_excluded', 'max_shift']\n"
            "display(imp.loc[imp['changed'], cols].sort_values(['kind', 'max_shift'], ascending=[True, False]))"
        ),
        new_code_cell("fig = bias_plots.rank_shifts(imp, 'district')"),
        new_code_cell("fig = bias_plots.rank_shifts(imp, 'department')"),
        new_markdown_cell(
            "## Reading the result\n\n"
            "Flags point at evaluators to talk to, not at scores to delete: the flags table gives the size of each effect "
            "(points of leniency, the home-unit bonus, the bloc's agreement) next to its test. Whether a correction matters "
            "is read from the rank table: shifts of one place between neighbours with near-equal scores are noise; larger "
            "shifts show where the choice of evaluators, not the units' work, decides the rank."
        ),
    ]
    return notebook(cells)


def main():
    write(bias_notebook(), "40_evaluator_bias.ipynb")


if __name__ == "__main__":
    main()
