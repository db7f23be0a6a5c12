"""Write notebooks 10_scores and 20_differentiated from their cell sources (clean: no outputs, no execution counts).

Run `python tools/make_notebooks.py` after editing a notebook's cells here;
editing the .ipynb in JupyterLab works too (then clear outputs before committing).
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import PARAMS, notebook, write


def scores_notebook():
    cells = [
        new_markdown_cell(
            "# Scores and ranks\n\n"
            "**What this answers:** what is each unit's score under the scheme, and where does it rank among units "
            "of its own kind and zone?\n"
            "The scheme (indicator weights, grade bands, evaluator-group shares, components) comes from the params file; "
            "the data from a validated data directory."
        ),
        new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from pathlib import Path\n\n"
            "import pandas as pd\n"
            "from IPython.display import Markdown, display\n\n"
            "from perflab import plots\n"
            "from perflab.effective import effective_weights\n"
            "from perflab.io import describe_dataset, load_dataset\n"
            "from perflab.narrative import effective_weights_summary, effective_weights_view, ranking_summary, written_report_caveat\n"
            "from perflab.report import save_table\n"
            "from perflab.scheme import load_scheme\n"
            "from perflab.scoring import score_units\n\n"
            "output = Path(output)\n"
            "lang = plots.theme()\n"
            "%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}  # the figures lay themselves out: drawn once, not twice\n"
            "the_scheme = load_scheme(scheme)\n"
            "dataset = load_dataset(data, the_scheme)\n"
            "pd.set_option('display.precision', 2)\n"
            "print(f'scheme: {the_scheme.title_en} ({the_scheme.name}); labels in {lang}')"
        ),
        new_markdown_cell(
            "## The scheme\n\n"
            "The indicators with their weights (used relative to their sum), the grade bands on the 0–100 scale, "
            "the evaluator groups with their shares in the on-site score, and the weights of the final score's components. "
            "Numbers the source article does not give are assumptions, marked as such in the params file."
        ),
        new_code_cell(
            "display(Markdown(f'{len(the_scheme.indicators)} indicators, {len(the_scheme.bands)} grade bands, '\n"
            "                 f'{len(the_scheme.groups)} evaluator groups.'))\n"
            "ind = the_scheme.indicator_table()\n"
            "ind['weight_share'] = ind['weight'] / ind['weight'].sum()\n"
            "display(ind)\n"
            "display(pd.DataFrame([b.__dict__ for b in the_scheme.bands]))\n"
            "display(pd.DataFrame([g.__dict__ for g in the_scheme.groups]))\n"
            "display(pd.Series(dict(the_scheme.components), name='component weight').to_frame())"
        ),
        new_markdown_cell("## The data\n\nUnits by kind and zone, evaluators by group, and the size of each table."),
        new_code_cell(
            "summary = describe_dataset(dataset)\n"
            "display(summary['tables'])\n"
            "display(summary['units'])\n"
            "display(summary['raters'])"
        ),
        new_markdown_cell(
            "## Scores and ranks\n\n"
            "Ranks are within each kind (district governments are never ranked against municipal departments unless the "
            "scheme says `ranking: within: all`) and within each zone; 1 is best and tied units share the best rank. "
            "Units that only submitted a written report have no on-site score: the scheme's `missing_components` rule "
            "fills it in (see the section on them below)."
        ),
        new_code_cell(
            "scores = score_units(dataset, the_scheme)\n"
            "save_table(scores, output, 'scores')\n"
            "cols = ['rank', 'zone_rank', 'unit', plots.name_column(), 'zone', 'onsite', 'routine', 'final', 'grade']\n"
            "display(scores.loc[scores['kind'] == 'district', cols])"
        ),
        new_code_cell("display(scores.loc[scores['kind'] == 'department', cols])"),
        new_code_cell("fig = plots.scores_by_zone(scores, the_scheme)"),
        new_code_cell("fig = plots.ranking_bars(scores, the_scheme, 'district')"),
        new_code_cell("fig = plots.ranking_bars(scores, the_scheme, 'department')"),
        new_markdown_cell(
            "## Units that only submitted a written report\n\n"
            "Units that did not present in person were scored by no evaluator on site. The scheme's "
            "`missing_components` rule decides how they are scored; the `imputed` column names the component filled in."
        ),
        new_code_cell(
            "written = scores.loc[~scores['presented'], ['rank', 'unit', plots.name_column(), 'kind', 'zone', 'routine', 'final', 'imputed']]\n"
            "display(Markdown(written_report_caveat(scores, the_scheme)))\n"
            "display(written)"
        ),
        new_markdown_cell(
            "## Do the evaluators and the figures agree?\n\n"
            "Each point is a unit: its on-site score (the evaluators' judgement, the \"essay questions\") against its "
            "routine score (the verified figures, the \"objective questions\"). Units far from the cloud are where "
            "the two sources of evidence disagree and deserve a closer look."
        ),
        new_code_cell(
            "fig = plots.components_scatter(scores)\n"
            "agreement = scores.dropna(subset=['onsite']).groupby('kind')[['onsite', 'routine']].corr(method='spearman')\n"
            "display(agreement.xs('onsite', level=1)[['routine']].rename(columns={'routine': 'Spearman rho, on-site vs routine'}))"
        ),
        new_markdown_cell(
            "## Nominal and effective weights\n\n"
            "A nominal weight says how many points an item could add; what orders the units is how much the item varies "
            "across them. For each ranking group: the item's nominal weight in the final score, its share of the variance "
            "of the final score (Cov(item's points, final) / Var(final); the shares add up to one), its correlation ratio "
            "(how much of the final score's variance its own score explains, Var(E[final | item]) / Var(final), estimated by "
            "LOWESS, after Paruolo, Saisana & Saltelli 2013), and the spread in final-score points it gives the units. "
            "Components are compared over every ranked unit; indicators over the units scored on site."
        ),
        new_code_cell(
            "ew = effective_weights(dataset, the_scheme)\n"
            "save_table(ew, output, 'effective_weights')\n"
            "display(Markdown(effective_weights_summary(ew, dataset, the_scheme)))\n"
            "display(effective_weights_view(ew, 'component', lang))"
        ),
        new_code_cell("display(effective_weights_view(ew, 'indicator', lang))"),
        new_markdown_cell("## Grades\n\nHow many units of each kind fall in each grade band of the final score."),
        new_code_cell(
            "grades = pd.crosstab(scores['kind'], scores['grade']).reindex(columns=the_scheme.grades, fill_value=0)\n"
            "save_table(grades, output, 'grades', index=True)\n"
            "display(grades)"
        ),
        new_markdown_cell(
            "## Reading the result\n\n"
            "The final score mixes on-site scoring by the evaluators with the routine score from the special-evaluation "
            "departments' figures. How fragile these ranks are under other weights or another grassroots share, and "
            "which evaluators move them, are the questions of the later notebooks."
        ),
        new_code_cell("display(Markdown(ranking_summary(scores, the_scheme)))"),
    ]
    return notebook(cells)


def differentiated_notebook():
    params = PARAMS + (
        '\nbaseline_method = ""  # mean, trend or zscore; empty: as the scheme says'
        '\nbaseline_years = 0  # previous years in the own baseline; 0: as the scheme says'
        '\nunit = ""  # the unit whose history to show; empty: the district that moves most'
    )
    cells = [
        new_markdown_cell(
            "# Differentiated evaluation: each unit against itself and its zone\n\n"
            "**What this answers:** how does each unit do against its own history, its own targets and the peers of "
            "its functional zone, and how does the ranking change against the uniform evaluation, and why?\n"
            "The uniform evaluation weighs every unit the same way; the differentiated one (the scheme's "
            "`differentiated` block) lets each zone weigh indicators and measures by what its job is, and judges the "
            "objective figures by improvement on the unit's own baseline and attainment of its own targets."
        ),
        new_code_cell(params, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from pathlib import Path\n\n"
            "import pandas as pd\n"
            "from IPython.display import Markdown, display\n\n"
            "from perflab import plots\n"
            "from perflab.differentiated import evaluate\n"
            "from perflab.narrative import differentiated_moves, small_zones_note, vetting_summary\n"
            "from perflab.io import load_dataset\n"
            "from perflab.plots import differentiated as dplots\n"
            "from perflab.report import save_table\n"
            "from perflab.scheme import load_scheme\n\n"
            "output = Path(output)\n"
            "lang = plots.theme()\n"
            "the_scheme = load_scheme(scheme)\n"
            "dataset = load_dataset(data, the_scheme)\n"
            "ev = evaluate(dataset, the_scheme, method=baseline_method or None, years=baseline_years or None)\n"
            "pd.set_option('display.precision', 2)\n"
            "print(f'baseline: {ev.method} of the {ev.years} previous years; too few own years: {ev.too_few_years}')"
        ),
        new_markdown_cell(
            "## What each zone weighs differently\n\n"
            "Weights that a zone overrides (the others keep their base weight). Indicators weigh the on-site score, "
            "measures the objective part of the routine score."
        ),
        new_code_cell(
            "rows = []\n"
            "for zw in the_scheme.differentiated.zones:\n"
            "    base_i, base_m = the_scheme.weights, the_scheme.zone_measure_weights(None)\n"
            "    rows += [{'zone': zw.zone, 'item': i, 'base weight': base_i[i], 'zone weight': w} for i, w in zw.indicators]\n"
            "    rows += [{'zone': zw.zone, 'item': m, 'base weight': base_m[m], 'zone weight': w} for m, w in zw.measures]\n"
            "display(pd.DataFrame(rows))"
        ),
        new_markdown_cell(
            "## Small zones\n\n"
            "Both objective parts (attainment of the unit's own targets, improvement on its own baseline) become T-scores "
            "among the units of its zone: 50 is the zone's average, 10 points one spread."
        ),
        new_code_cell("display(Markdown(small_zones_note(ev, the_scheme, dataset.units)))"),
        new_markdown_cell(
            "## One unit against its own baseline\n\n"
            "Each measure's achieved value, the baseline formed from the unit's own previous years, and its targets. "
            "A point above the dashed line (below it, when lower is better) is an improvement on the unit's own record."
        ),
        new_code_cell(
            "districts = ev.scores[ev.scores['kind'] == 'district']\n"
            "shown = unit or districts.loc[districts['rank_change'].abs().idxmax(), 'unit']\n"
            "row = ev.scores.set_index('unit').loc[shown]\n"
            "fig = dplots.history_vs_baseline(ev.baseline, dataset.history, shown, the_scheme,\n"
            "                                 f\"{row[plots.name_column()]}: {plots.t('对照自身基线', 'against its own baseline')}\")\n"
            "display(ev.objective[ev.objective['unit'] == shown])"
        ),
        new_markdown_cell(
            "## Uniform against differentiated ranks\n\n"
            "Left, the rank under the uniform evaluation; right, under the differentiated one; within each kind. "
            "Lines that cross are units that the change of method reorders."
        ),
        new_code_cell(
            "display(Markdown(differentiated_moves(ev, the_scheme)))\n"
            "display(ev.summary())\n"
            "display(ev.spread())\n"
            "save_table(ev.scores, output, 'differentiated_scores')\n"
            "fig = dplots.rank_slopes(ev.scores, the_scheme, 'district')"
        ),
        new_code_cell("fig = dplots.rank_slopes(ev.scores, the_scheme, 'department', label_top=10)"),
        new_markdown_cell(
            "## The biggest movers, and why\n\n"
            "Every score is a sum of contributions (indicator × weight, measure × weight, satisfaction, verification); "
            "the difference between the two scores adds up item by item, so each move has its reasons. Note that the two "
            "scores are on the same 0–100 scale but the differentiated one judges improvement as a T-score around 50, "
            "so its level is lower: compare ranks, not levels."
        ),
        new_code_cell(
            "movers = ev.movers(10)\n"
            "save_table(ev.contributions, output, 'differentiated_contributions')\n"
            "display(movers)\n"
            "fig = dplots.move_reasons(ev.contributions, movers.head(6), the_scheme)"
        ),
        new_markdown_cell(
            "## Target vetting\n\n"
            "Targets that merely repeat a result already achieved (the article's polluting firms \"closed\" years ago), "
            "targets less ambitious than last year's result, and claims that on-site verification did not confirm."
        ),
        new_code_cell(
            "display(Markdown(vetting_summary(ev, the_scheme)))\n"
            "save_table(ev.vetting, output, 'target_vetting')\n"
            "display(ev.vetting['flag'].value_counts().rename('flags').to_frame())\n"
            "display(ev.vetting[ev.vetting['flag'] == 'repeats_result'])\n"
            "display(ev.vetting[ev.vetting['year'] == the_scheme.differentiated.year])"
        ),
        new_markdown_cell(
            "## Reading the result\n\n"
            "Ranking unlike units together is what the experts in the source article warn against. The differentiated "
            "ranking still ranks, but each unit's score now reflects its own starting point and its zone's job. Whether "
            "the ranks it gives are robust is the question of the weight-sensitivity notebook."
        ),
    ]
    return notebook(cells)


def main():
    write(scores_notebook(), "10_scores.ipynb")
    write(differentiated_notebook(), "20_differentiated.ipynb")


if __name__ == "__main__":
    main()
