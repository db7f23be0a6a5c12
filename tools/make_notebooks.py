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
            "from perflab.narrative import (COMPONENT_WORDS, effective_weights_summary, effective_weights_view, ranking_summary,\n"
            "                               satisfaction_sentence, written_report_caveat)\n"
            "from perflab.plots.tables import table\n"
            "from perflab.report import save_table\n"
            "from perflab.scheme import load_scheme\n"
            "from perflab.scoring import score_units\n"
            "from perflab.survey import satisfaction_summary, satisfaction_units, survey_year\n\n"
            "output = Path(output)\n"
            "lang = plots.theme()\n"
            "%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}  # the figures lay themselves out: drawn once, not twice\n"
            "the_scheme = load_scheme(scheme)\n"
            "dataset = load_dataset(data, the_scheme)\n"
            "name = plots.name_column()  # unit, zone and indicator names in the label language\n"
            "zone_words = plots.zone_names(the_scheme)\n"
            "kind_words = {'district': 'District', 'department': 'Department', 'all': 'All units'}\n"
            "group_words = {g.id: getattr(g, name) for g in the_scheme.groups}\n"
            "display(Markdown(f'Scheme: **{the_scheme.title_en}** (`{the_scheme.name}`); figure labels in '\n"
            "                 f\"{ {'zh': 'Chinese', 'en': 'English'}[lang] }.\"))"
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
            "ind['share'] = 100 * ind['weight'] / ind['weight'].sum()\n"
            "display(table(ind, {name: 'Indicator', 'weight': 'Weight', 'share': 'Share of the on-site score (%)'},\n"
            "              digits={'weight': 0, 'share': 1}, caption='Indicators of the on-site score'))\n"
            "display(table(pd.DataFrame([b.__dict__ for b in the_scheme.bands]),\n"
            "              {'grade': 'Grade', 'lower': 'From', 'upper': 'To', 'score': 'Score of the grade'}, digits=0,\n"
            "              caption='Grade bands on the 0–100 scale'))\n"
            "groups = pd.DataFrame([g.__dict__ for g in the_scheme.groups]).assign(share=lambda g: 100 * g['share'])\n"
            "display(table(groups, {name: 'Evaluator group', 'share': 'Share of the on-site score (%)'}, digits=0,\n"
            "              caption='Evaluator groups'))\n"
            "comp = pd.DataFrame({'component': [COMPONENT_WORDS.get(c, c).capitalize() for c in the_scheme.components],\n"
            "                     'weight': [100 * w for w in the_scheme.components.values()]})\n"
            "display(table(comp, {'component': 'Component', 'weight': 'Weight in the final score (%)'}, digits=0,\n"
            "              caption=\"Components of the final score\"))"
        ),
        new_markdown_cell("## The data\n\nUnits by kind and zone, evaluators by group, and the size of each table."),
        new_code_cell(
            "summary = describe_dataset(dataset)\n"
            "files = summary['tables'].rename_axis('table').reset_index()\n"
            "files['file'] = files['file'].map(lambda f: Path(str(f)).name if str(f).endswith(('.csv', '.gz', '.xlsx')) else f)\n"
            "display(table(files, {'table': 'Table', 'rows': 'Rows', 'file': 'File'}, digits=0, caption='Tables read'))\n"
            "units = summary['units'].assign(kind=lambda u: u['kind'].map(kind_words), zone=lambda u: u['zone'].map(zone_words).fillna(u['zone']))\n"
            "display(table(units, {'kind': 'Kind', 'zone': 'Zone', 'units': 'Units', 'presented': 'Presented in person'}, digits=0,\n"
            "              caption='Units by kind and zone'))\n"
            "raters = summary['raters'].assign(group=lambda r: r['group'].map(group_words).fillna(r['group']))\n"
            "display(table(raters, {'group': 'Evaluator group', 'raters': 'Evaluators', 'mean_units_scored': 'Units scored (mean)'},\n"
            "              digits={'raters': 0, 'mean_units_scored': 1}, caption='Evaluators by group'))"
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
            "shown = scores.assign(zone_name=scores['zone'].map(zone_words).fillna(scores['zone']))\n"
            "score_headers = {'rank': 'Rank', 'zone_rank': 'Rank in zone', 'unit': 'Unit', name: 'Name', 'zone_name': 'Zone',\n"
            "                 'onsite': 'On-site score', 'routine': 'Routine score', 'final': 'Final score', 'grade': 'Grade'}\n"
            "score_digits = {'rank': 0, 'zone_rank': 0, 'onsite': 2, 'routine': 2, 'final': 2}\n"
            "display(table(shown[shown['kind'] == 'district'], score_headers, digits=score_digits,\n"
            "              caption='District governments: scores and ranks (best first)'))"
        ),
        new_code_cell(
            "display(table(shown[shown['kind'] == 'department'], score_headers, digits=score_digits,\n"
            "              caption='Municipal departments: scores and ranks (best first; – no on-site score: written report only)'))"
        ),
        new_code_cell("fig = plots.scores_by_zone(scores, the_scheme)\nsaved = plots.keep(fig, output, '10_scores_by_zone')"),
        new_code_cell("fig = plots.ranking_bars(scores, the_scheme, 'district')\nsaved = plots.keep(fig, output, '10_ranking_districts', key=True)"),
        new_code_cell("fig = plots.ranking_bars(scores, the_scheme, 'department')\nsaved = plots.keep(fig, output, '10_ranking_departments')"),
        new_markdown_cell(
            "## Units that only submitted a written report\n\n"
            "Units that did not present in person were scored by no evaluator on site. The scheme's "
            "`missing_components` rule decides how they are scored; the last column names the component filled in."
        ),
        new_code_cell(
            "written = shown.loc[~shown['presented']].assign(kind=lambda w: w['kind'].map(kind_words),\n"
            "                                            imputed=lambda w: w['imputed'].map(lambda c: COMPONENT_WORDS.get(c, c)))\n"
            "display(Markdown(written_report_caveat(scores, the_scheme)))\n"
            "display(table(written, {'rank': 'Rank', 'unit': 'Unit', name: 'Name', 'kind': 'Kind', 'zone_name': 'Zone',\n"
            "                        'routine': 'Routine score', 'final': 'Final score', 'imputed': 'Component filled in'},\n"
            "              digits={'rank': 0, 'routine': 2, 'final': 2}, caption='Units scored on a written report only'))"
        ),
        new_markdown_cell(
            "## Do the evaluators and the figures agree?\n\n"
            "Each point is a unit: its on-site score (the evaluators' judgement, the \"essay questions\") against its "
            "routine score (the verified figures, the \"objective questions\"). Units far from the cloud are where "
            "the two sources of evidence disagree and deserve a closer look; the units whose two ranks differ most are named."
        ),
        new_code_cell(
            "fig = plots.components_scatter(scores)\n"
            "saved = plots.keep(fig, output, '10_onsite_vs_routine')\n"
            "both = scores.dropna(subset=['onsite'])\n"
            "agreement = pd.DataFrame([{'kind': kind_words[k], 'units': len(g), 'rho': g['onsite'].corr(g['routine'], method='spearman')}\n"
            "                          for k, g in both.groupby('kind', sort=False)])\n"
            "display(table(agreement, {'kind': 'Kind', 'units': 'Units scored on site', 'rho': 'Spearman ρ, on-site against routine'},\n"
            "              digits={'units': 0, 'rho': 2}, caption='Agreement of the on-site and the routine score'))"
        ),
        new_markdown_cell(
            "## What the public and the service users say\n\n"
            "The third-party satisfaction survey of the evaluated year, by kind and by zone: the mean over the units "
            "(each unit once, as the published figures are) and the mean weighted by the respondents behind each unit, "
            "against the mean the source article publishes for the kind."
        ),
        new_code_cell(
            "sat = satisfaction_summary(dataset, the_scheme)\n"
            "sat_units = satisfaction_units(dataset, the_scheme)\n"
            "save_table(sat, output, 'satisfaction')\n"
            "display(Markdown(satisfaction_sentence(sat, sat_units, dataset.units.set_index('unit')[name], zone_words)))\n"
            "sat_view = sat.assign(kind=sat['kind'].map(kind_words),\n"
            "                      zone=sat['zone'].map(zone_words).where(sat['level'] == 'zone', 'All'))\n"
            "display(table(sat_view, {'kind': 'Kind', 'zone': 'Zone', 'units': 'Units', 'respondents': 'Respondents',\n"
            "                         'mean': 'Mean', 'weighted_mean': 'Mean weighted by respondents', 'published': 'Published mean',\n"
            "                         'difference': 'Mean − published', 'below_mean': 'Units below the kind’s mean'},\n"
            "              digits={'units': 0, 'respondents': 0, 'mean': 2, 'weighted_mean': 2, 'published': 2, 'difference': 2,\n"
            "                      'below_mean': 0},\n"
            "              caption=f'Satisfaction survey {survey_year(the_scheme)}: by kind and zone against the published means'))\n"
            "fig = plots.satisfaction_by_zone(sat, the_scheme)\n"
            "saved = plots.keep(fig, output, '10_satisfaction')"
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
            "grade_view = grades.rename_axis(columns=None).reset_index().assign(kind=lambda g: g['kind'].map(kind_words))\n"
            "display(table(grade_view, {'kind': 'Kind', **{g: f'Grade {g}' for g in the_scheme.grades}}, digits=0,\n"
            "              caption='Units by grade of the final score'))"
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
            "from perflab.narrative import differentiated_moves, items_in_words, small_zones_note, vetting_summary\n"
            "from perflab.io import load_dataset\n"
            "from perflab.plots import differentiated as dplots\n"
            "from perflab.plots.tables import table\n"
            "from perflab.report import save_table\n"
            "from perflab.scheme import load_scheme\n\n"
            "output = Path(output)\n"
            "lang = plots.theme()\n"
            "the_scheme = load_scheme(scheme)\n"
            "dataset = load_dataset(data, the_scheme)\n"
            "ev = evaluate(dataset, the_scheme, method=baseline_method or None, years=baseline_years or None)\n"
            "name = plots.name_column()  # unit, zone and item names in the label language\n"
            "zone_words = plots.zone_names(the_scheme)\n"
            "kind_words = {'district': 'District', 'department': 'Department'}\n"
            "item_words = {i.id: getattr(i, name) for i in the_scheme.indicators} | {m.id: getattr(m, name) for m in the_scheme.measures}\n"
            "unit_names = dataset.units.set_index('unit')[name]\n"
            "display(Markdown(f'Baseline: the **{ev.method}** of the {ev.years} previous years; a unit with too few own years: '\n"
            "                 f'`{ev.too_few_years}`.'))"
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
            "    rows += [{'zone': zw.zone, 'part': 'indicator', 'item': i, 'base': base_i[i], 'weight': w} for i, w in zw.indicators]\n"
            "    rows += [{'zone': zw.zone, 'part': 'measure', 'item': m, 'base': base_m[m], 'weight': w} for m, w in zw.measures]\n"
            "overrides = pd.DataFrame(rows, columns=['zone', 'part', 'item', 'base', 'weight'])\n"
            "overrides = overrides.assign(zone=overrides['zone'].map(zone_words).fillna(overrides['zone']),\n"
            "                             item=overrides['item'].map(item_words).fillna(overrides['item']))\n"
            "display(table(overrides, {'zone': 'Zone', 'part': 'Indicator or measure', 'item': 'Item', 'base': 'Base weight',\n"
            "                          'weight': 'Zone weight'}, digits=1, caption='Weights the zones override'))"
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
            "                                 f\"{row[name]}: {plots.t('对照自身基线', 'against its own baseline')}\")\n"
            "saved = plots.keep(fig, output, '20_history_vs_baseline')\n"
            "obj = ev.objective[ev.objective['unit'] == shown]\n"
            "display(table(obj.assign(measure=obj['measure'].map(item_words).fillna(obj['measure'])),\n"
            "              {'measure': 'Measure', 'improvement': 'Improvement on own baseline', 'source': 'Baseline from',\n"
            "               'improvement_score': 'Improvement (T-score)', 'attainment': 'Target attainment',\n"
            "               'attainment_vetted': 'Attainment after vetting', 'vetted': 'Vetted', 'attainment_score': 'Attainment (T-score)',\n"
            "               'objective': 'Objective score', 'weight': 'Weight'},\n"
            "              caption=f'{row[name]}: each measure against its own baseline and targets'))"
        ),
        new_markdown_cell(
            "## Uniform against differentiated ranks\n\n"
            "Left, the rank under the uniform evaluation; right, under the differentiated one; within each kind. "
            "Lines that cross are units that the change of method reorders; every unit is named on both sides with its rank."
        ),
        new_code_cell(
            "display(Markdown(differentiated_moves(ev, the_scheme)))\n"
            "summ = ev.summary().assign(kind=lambda s: s['kind'].map(kind_words))\n"
            "display(table(summ, {'kind': 'Kind', 'units': 'Units', 'moved': 'Units that change rank',\n"
            "                     'mean_abs_move': 'Mean move (places)', 'spearman_rho': 'Spearman ρ of the two rankings',\n"
            "                     'baseline': 'Baseline'}, digits={'units': 0, 'moved': 0, 'mean_abs_move': 2, 'spearman_rho': 2},\n"
            "              caption='How much the ranking changes'))\n"
            "spread = ev.spread().assign(kind=lambda s: s['kind'].map(kind_words))\n"
            "display(table(spread, {'kind': 'Kind', 'component': 'Part of the score', 'uniform_sd': 'Spread, uniform (points)',\n"
            "                       'differentiated_sd': 'Spread, differentiated (points)', 'ratio': 'Ratio'},\n"
            "              caption='How far each part of the score spreads the units (standard deviation)'))\n"
            "save_table(ev.scores, output, 'differentiated_scores')\n"
            "fig = dplots.rank_slopes(ev.scores, the_scheme, 'district')\n"
            "saved = plots.keep(fig, output, '20_rank_slopes_districts', key=True)"
        ),
        new_code_cell(
            "fig = dplots.rank_slopes(ev.scores, the_scheme, 'department', label_top=10)\n"
            "saved = plots.keep(fig, output, '20_rank_slopes_departments')"
        ),
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
            "movers_view = movers.assign(zone=movers['zone'].map(zone_words).fillna(movers['zone']),\n"
            "                            change=movers['rank_change'].map(lambda c: f'{int(c):+d}'),\n"
            "                            why=movers['why'].map(lambda w: items_in_words(w, item_words)))\n"
            "display(table(movers_view, {name: 'Unit', 'zone': 'Zone', 'rank_uniform': 'Uniform rank',\n"
            "                            'rank_differentiated': 'Differentiated rank', 'change': 'Change (places)',\n"
            "                            'uniform': 'Uniform score', 'differentiated': 'Differentiated score',\n"
            "                            'why': 'Items that moved it most (points against the kind’s mean change)'},\n"
            "              digits={'rank_uniform': 0, 'rank_differentiated': 0, 'uniform': 2, 'differentiated': 2},\n"
            "              caption='The ten units whose rank changes most'))\n"
            "fig = dplots.move_reasons(ev.contributions, movers.head(6), the_scheme)\n"
            "saved = plots.keep(fig, output, '20_move_reasons')"
        ),
        new_markdown_cell(
            "## Target vetting\n\n"
            "Targets that merely repeat a result already achieved (the article's polluting firms \"closed\" years ago), "
            "targets less ambitious than last year's result, and claims that on-site verification did not confirm."
        ),
        new_code_cell(
            "display(Markdown(vetting_summary(ev, the_scheme)))\n"
            "save_table(ev.vetting, output, 'target_vetting')\n"
            "flag_words = {'repeats_result': 'Repeats a result already achieved', 'not_ambitious': 'Less than last year’s result',\n"
            "              'failed_verification': 'Claim not confirmed on site'}\n"
            "vet = ev.vetting.assign(flag=ev.vetting['flag'].map(flag_words).fillna(ev.vetting['flag']),\n"
            "                        name=ev.vetting['unit'].map(unit_names),\n"
            "                        measure=ev.vetting['measure'].map(lambda m: item_words.get(m, m) if isinstance(m, str) else '–'),\n"
            "                        year=ev.vetting['year'].astype(str))\n"
            "counts = vet.groupby('flag', sort=False).size().rename('n').reset_index()\n"
            "display(table(counts, {'flag': 'Flag', 'n': 'Targets or claims (all years)'}, digits=0, caption='Vetting flags, all years'))\n"
            "vet_headers = {'name': 'Unit', 'measure': 'Measure', 'year': 'Year', 'flag': 'Flag', 'target': 'Target',\n"
            "               'reference': 'Result it is checked against', 'reason': 'Reason'}\n"
            "display(table(vet[ev.vetting['flag'] == 'repeats_result'], vet_headers, digits={'target': 2, 'reference': 2},\n"
            "              caption='Targets that repeat a result already achieved'))\n"
            "display(table(vet[ev.vetting['year'] == the_scheme.differentiated.year], vet_headers, digits={'target': 2, 'reference': 2},\n"
            "              caption=f'Every flag of {the_scheme.differentiated.year}'))"
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
