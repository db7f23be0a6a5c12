"""The reliability section of notebook 40 (evaluator bias): its extra parameters and its cells.

Kept apart from tools/make_notebook_40.py, which puts these cells where the section belongs.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell

PARAMS_RELIABILITY = """
target_g = 0.8  # reliability wanted for a group's mean score"""


def reliability_cells():
    """Cells of the section "Reliability and panel sizes"; they use dataset, the_scheme, rng, fit, output."""
    return [
        new_markdown_cell(
            "## Reliability and panel sizes\n\n"
            "Intraclass correlations of the units' mean scores over the indicators (the evaluators do not all score the same "
            "units: unbalanced ICC by Henderson's Method III), Krippendorff's alpha of the grades, and for each evaluator "
            "group a G-study of units × evaluators × indicators (indicators fixed: the same sheet every year) with the "
            f"D-study number of evaluators of that group needed for a generalizability coefficient of at least `target_g`."
        ),
        new_code_cell(
            "pair_means = dataset.ratings.groupby(['unit', 'rater'], as_index=False)['score'].mean()\n"
            "iccs = reliability.icc(pair_means, 'unit', 'rater', 'score')\n"
            "save_table(iccs, output, 'icc')\n"
            "display(iccs)\n"
            "grades = dataset.ratings.assign(item=dataset.ratings['unit'] + '/' + dataset.ratings['indicator'],\n"
            "                               band=dataset.ratings['grade'].map({g: k for k, g in enumerate(the_scheme.grades[::-1])}))\n"
            "alpha_ord, ci = reliability.krippendorff_alpha(grades, 'item', 'rater', 'band', level='ordinal', n_boot=200, rng=rng)\n"
            "alpha_int = reliability.krippendorff_alpha(grades, 'item', 'rater', 'score', level='interval')\n"
            "print(f\"Krippendorff's alpha: ordinal (grades) {alpha_ord:.3f} [95% {ci[0]:.3f}, {ci[1]:.3f}], interval (scores) {alpha_int:.3f}\")"
        ),
        new_code_cell(
            "panels = reliability.panel_sizes(dataset.ratings, dataset.raters, target=target_g)\n"
            "save_table(panels, output, 'panel_sizes')\n"
            "display(panels[['group', 'n_raters', 'raters_per_unit', 'g', 'phi', 'raters_needed_g', 'raters_needed_phi']])\n"
            "curves = panels.attrs['curves']\n"
            "fig = bias_plots.panel_size_curves(curves[curves['rater'] <= 20], the_scheme, target=target_g)"
        ),
    ]
