"""Write notebooks 30 (weight sensitivity) and 50 (group shares) from their cell sources (clean: no outputs).

Run `python tools/make_notebook_30_50.py` after editing the cells here.

Every number a page states in prose is computed: the static Markdown cells carry no digits, and each
sentence that cites a number is built in a code cell from the results (``say(f"...")``). Both pages
compute the Sobol indices with the one cell :data:`SOBOL_CELL` and the same parameters, so the same
index has the same value on both.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import PARAMS as COMMON_PARAMS
from nbtools import notebook, write

SETUP = (
    "from pathlib import Path\n\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "from IPython.display import Markdown, display\n\n"
    "from perflab import plots\n"
    "from perflab import sensitivity as sv\n"
    "from perflab.io import load_dataset\n"
    "from perflab.plots import sensitivity as splots\n"
    "from perflab.plots.sensitivity import pct, pm\n"
    "from perflab.report import save_table\n"
    "from perflab.scheme import load_scheme\n"
    "from perflab.scoring import score_units\n\n"
    "output = Path(output)\n"
    "lang = plots.theme()\n"
    "the_scheme = load_scheme(scheme)\n"
    "dataset = load_dataset(data, the_scheme)\n"
    "units = score_units(dataset, the_scheme).set_index('unit')\n"
    "ranks_within = sv.ranking_groups(units, the_scheme)  # ranks_within as the scheme ranks: by kind, or None (all together)\n"
    "rank_groups = ['all'] if ranks_within is None else [k for k in ('district', 'department') if (ranks_within == k).any()]\n"
    "group_size = pd.Series({'all': len(units)}) if ranks_within is None else ranks_within.value_counts()\n"
    "written = sv.written_report_units(dataset, the_scheme).reindex(units.index)  # no on-site ratings: on-site score imputed\n"
    "names = splots.mark_written(units[plots.name_column()], written)  # written-report units marked †\n"
    "ind_label = {i.id: (i.name_zh if lang == 'zh' else i.name_en) for i in the_scheme.indicators}\n"
    "group_label = {g.id: (g.name_zh if lang == 'zh' else g.name_en) for g in the_scheme.groups}\n"
    "weights = the_scheme.weights\n"
    "kind_words = splots.group_words  # the pages' prose and tables are English; figures follow the language\n\n\n"
    "def say(text):\n"
    "    \"\"\"A sentence of the page, built from the numbers it cites.\"\"\"\n"
    "    display(Markdown(text))\n"
)

# the one Sobol computation of both pages: same inputs, ranges, estimator, sample size, seed and output
SOBOL_CELL = (
    "sob = sv.sobol_indices(None, weights, n=n_sobol, spread=spread, seed=seed, ranks_within=ranks_within,\n"
    "                       cube=sv.score_cube(dataset, the_scheme), shares=the_scheme.shares, group=group,\n"
    "                       share_range=sobol_share_range)\n"
    "save_table(sob.indices, output, 'sensitivity_sobol')\n"
    "sobol_labels = {**ind_label, f'share:{group}': splots.share_words(group_label[group])}  # prose and tables\n"
    "say(splots.sobol_inputs_text(sob, sobol_labels))\n"
    "display(splots.table(splots.sobol_inputs_table(sob, sobol_labels), caption='What the Sobol analysis moves, and how far'))\n"
    "display(splots.table(splots.sobol_table(sob, sobol_labels), digits=3,\n"
    "                     caption='Sobol indices of each ranking group\\'s mean absolute rank shift'))\n"
    "say(splots.sobol_findings(sob, sobol_labels))"
)


def sobol_figure_cell(page: str) -> str:
    """The Sobol bars of a page, saved under its own number (figure labels in one language, the share's too)."""
    return ("fig = splots.sobol_bars(sob, {**ind_label, f'share:{group}': splots.share_label(group_label[group])})\n"
            f"plots.keep(fig, output, '{page}_sobol_indices');")

SOBOL_PARAMS = '''
n_sobol = 4096           # Sobol base points, the same default on both sensitivity pages; model runs: n_sobol x (inputs + 2)
sobol_share_range = None # None: the group's share moves ±spread of its value, like each weight; or (low, high), e.g. (0.0, 0.6): the page then says how much wider that is'''


def weight_sensitivity_notebook():
    params = COMMON_PARAMS + '''
n_draws = 20000          # Monte Carlo weight draws (and SMAA draws)
spread = 0.2             # every input moves by up to ±spread of its own value: each weight, the one-at-a-time step, the group's share
method = "uniform"       # uniform (COINr convention) or dirichlet
n_rater_replicates = 500 # rater bootstrap replicates paired with the weight draws (the page shows their Monte Carlo error)
top_k = 3                # the "top k" whose stability we track
group = "grassroots"     # evaluator group whose share enters the Sobol analysis''' + SOBOL_PARAMS + '''
bound_rel = 0.5          # "defensible" weights: each within ±50 % of the scheme's'''
    cells = [
        new_markdown_cell(
            "# How fragile is the ranking under other indicator weights?\n\n"
            "**What this answers:** which units' ranks survive plausible alternative indicator weights (and a different "
            "panel of raters), and how far each weight can move before a rank, the top of the ranking or a grade band changes.\n"
            "Sampled answers (Monte Carlo, Sobol) sit beside exact ones: scores are linear in each weight, so every "
            "stability range below is computed in closed form, not estimated."
        ),
        new_code_cell(params, metadata={"tags": ["parameters"]}),
        new_code_cell(
            SETUP
            + "scores = sv.unit_indicator_scores(dataset, the_scheme)  # final-score scale: the weighted mean is the final score\n"
            "written = written.reindex(scores.index)\n"
            "rng = np.random.default_rng(seed)\n"
            "n_written = int(written.sum())\n"
            "kinds = '' if ranks_within is None else ' (' + ', '.join(f'{group_size[g]} {kind_words(g)}' for g in rank_groups) + ')'\n"
            "written_kinds = ', '.join(f'{n} {kind_words(k)}' for k, n in units.loc[written[written].index, 'kind'].value_counts().items())\n"
            "say(f\"**Data:** {len(scores)} units{kinds} scored on {scores.shape[1]} indicators with the weights \"\n"
            "    + ', '.join(f'{ind_label[i]} {w:g}' for i, w in weights.items()) + f' (total {weights.sum():g}). '\n"
            "    + (f'{n_written} units ({written_kinds}) submitted a written report only: with no on-site ratings, the scheme '\n"
            "       'imputes their on-site score (the mean of their kind), so their sensitivity results describe that average '\n"
            "       'profile, not the unit. They are reported apart and marked † below.' if n_written else 'Every unit presented on site.'))"
        ),
        new_markdown_cell(
            "## Nominal and effective weights\n\n"
            "Before moving the weights, how much does each component weigh now? A nominal weight says how many points an "
            "item could add; what orders the units is how much it varies across them. The share of the final score's "
            "variance each component accounts for, and its correlation ratio (after Paruolo, Saisana & Saltelli), per "
            "ranking group; the scores page (`effective_weights.csv`) has the indicators too. A weight that moves few points "
            "cannot move the ranking much whatever its nominal size."
        ),
        new_code_cell(
            "from perflab.effective import effective_weights\n"
            "from perflab.narrative import effective_weights_summary, effective_weights_view\n\n"
            "ew = effective_weights(dataset, the_scheme)\n"
            "save_table(ew, output, 'effective_weights')\n"
            "say(effective_weights_summary(ew, dataset, the_scheme))\n"
            "display(effective_weights_view(ew, 'component', lang).set_caption('Nominal and effective weights of the components of the final score'))"
        ),
        new_markdown_cell(
            "## One weight at a time\n\n"
            "Each indicator weight is moved down and up by the same share of its own value (`spread`), the others "
            "rescaled to keep the total. The table gives, per indicator and ranking group, how many units change rank "
            "and the largest change."
        ),
        new_code_cell(
            "oat = sv.one_at_a_time(scores, weights, step=spread, ranks_within=ranks_within)\n"
            "save_table(oat, output, 'sensitivity_one_at_a_time')\n"
            "save_table(pd.DataFrame([{'spread': spread, 'n_draws': n_draws, 'method': method, 'n_rater_replicates': n_rater_replicates,\n"
            "                          'n_sobol': n_sobol, 'top_k': top_k, 'group': group, 'seed': seed}]), output, 'sensitivity_settings')\n"
            "moved = oat.assign(moved=oat['rank_change'] != 0).groupby(['indicator', 'change', 'rank_group'])['moved'].sum()\n"
            "most = moved.groupby('rank_group').max()\n"
            "worst = oat.loc[oat['rank_change'].abs().idxmax()]\n"
            "steps = ', '.join(f'a {w:g}-point weight by ±{w * spread:g} points' for w in sorted(weights[weights > 0].unique(), reverse=True))\n"
            "say(f'With each weight moved by {pm(spread)} of its own value ({steps}) and the others rescaled, at most '\n"
            "    + ' and '.join(f'{int(most[g])} of {group_size[g]} {kind_words(g)}' for g in rank_groups)\n"
            "    + f\" change rank for any one weight; the largest single change is {abs(int(worst['rank_change']))} ranks \"\n"
            "    f\"({names[worst['unit']]}, {ind_label[worst['indicator']]} {pct(worst['change'], sign=True)}).\")\n"
            "display(splots.table(splots.oat_table(oat, ind_label), caption=f'Each weight moved by {pm(spread)} of its value, one at a time'))"
        ),
        new_markdown_cell(
            "## Rank intervals under random weights — and random raters\n\n"
            "Every weight is multiplied by a random factor within ±`spread` of its value and the weights renormalised "
            "(the COINr convention), `n_draws` times. In the second run each draw is also paired with a bootstrap "
            "replicate of the evaluator panel (raters resampled within their groups), so the interval also shows the "
            "uncertainty that comes from *who* scored."
        ),
        new_code_cell(
            "mc = sv.monte_carlo(scores, weights, n=n_draws, method=method, spread=spread, seed=rng, ranks_within=ranks_within,\n"
            "                    k=top_k, written_report=written)\n"
            "replicates = sv.rater_bootstrap(dataset, the_scheme, n=n_rater_replicates, seed=rng)\n"
            "mc_raters = sv.monte_carlo(scores, weights, n=n_draws, method=method, spread=spread, seed=rng,\n"
            "                           ranks_within=ranks_within, k=top_k, score_draws=replicates)\n"
            "intervals = mc.summary().merge(mc_raters.units.drop(columns=['rank_group', 'nominal_rank', 'written_report']),\n"
            "                               on='unit', suffixes=('', '_with_raters'))\n"
            "intervals.insert(1, 'name', names.reindex(intervals['unit']).to_numpy())\n"
            "save_table(intervals, output, 'sensitivity_rank_intervals')\n"
            "save_table(mc.frequencies.reset_index(), output, 'sensitivity_rank_frequencies')\n"
            "moved_by = f'every weight {pm(spread)}'\n"
            "runs = {f'{moved_by} ({n_draws:,} draws)': mc,\n"
            "        f'{moved_by} and the raters ({n_draws:,} draws, {n_rater_replicates} panel replicates)': mc_raters}\n"
            "n_tau = mc.settings['tau_draws']\n"
            "say(f\"**Agreement with the scheme's ranking.** Kendall's τ between the ranking of each draw and the scheme's, \"\n"
            "    f\"per ranking group, on {'all ' if n_tau == n_draws else f'the first {n_tau:,} of the '}{n_draws:,} draws \"\n"
            "    '(1: the same order).')\n"
            "display(splots.table(splots.tau_table(runs), digits=3, caption=\"Kendall's τ between each draw's ranking and the scheme's\"))\n"
            "say(f'**How wide are the rank intervals?** The width of the 5–95 % range of each unit\\'s rank over the draws, '\n"
            "    'per ranking group, the written-report units apart.')\n"
            "display(splots.table(splots.width_table(runs), caption='Width of the 5–95 % rank intervals'))\n"
            "w = mc.interval_widths().set_index(['rank_group', 'written_report'])\n"
            "for g in rank_groups:\n"
            "    if (g, True) in w.index and (g, False) in w.index:\n"
            "        say(f\"The {w.loc[(g, True), 'units']} written-report {kind_words(g)} have a mean interval width of \"\n"
            "            f\"{w.loc[(g, True), 'mean_width']:.2f} ranks with {moved_by}, against {w.loc[(g, False), 'mean_width']:.2f} \"\n"
            "            f\"for the {w.loc[(g, False), 'units']} that presented. Their on-site score is their kind's average, a \"\n"
            "            'balanced profile that reweighting barely moves: these intervals describe the imputation, not how robust '\n"
            "            'the unit is.')"
        ),
        new_code_cell(
            "err = sv.replicate_error(scores, weights, replicates, n=n_draws, method=method, spread=spread, seed=seed,\n"
            "                         ranks_within=ranks_within, k=top_k)\n"
            "say(f\"**Monte Carlo error of the rater replicates.** The same {n_draws:,} weight draws paired with each half \"\n"
            "    f\"of the {n_rater_replicates} replicates ({err.attrs['replicates_per_half']} each) give the same 5–95 % interval \"\n"
            "    f\"for {int((err['end_difference'] == 0).sum())} of {len(err)} units; the largest difference of an interval end \"\n"
            "    f\"is {int(err['end_difference'].max())} rank{'' if err['end_difference'].max() == 1 else 's'}\"\n"
            "    + (f' (with fewer than {sv.MIN_REPLICATES} replicates, read the intervals with raters with that error in mind).'\n"
            "       if n_rater_replicates < sv.MIN_REPLICATES else '.'))\n"
            "kept, kept_r = (r.top_k.set_index('rank_group')['p_kept'] for r in (mc, mc_raters))\n"
            "say(f'**Is the top of the ranking robust?** With {moved_by} ({n_draws:,} draws), '\n"
            "    + '; '.join(f'the top {top_k} {kind_words(g)} are the same {top_k} units in {pct(kept[g])} of the draws '\n"
            "                f'({pct(kept_r[g])} with the raters resampled too)' for g in rank_groups) + '.')\n"
            "for g in rank_groups:\n"
            "    fig = splots.rank_intervals(mc.units, names, g, other=mc_raters.units,\n"
            "                                perturbation=plots.t(f'每个权重 {pm(spread)}', moved_by))\n"
            "    plots.keep(fig, output, f'30_rank_intervals_{g}', key=g == rank_groups[0])"
        ),
        new_markdown_cell(
            "## Exact stability ranges of each weight\n\n"
            "Setting one weight to *t* and rescaling the others keeps every score linear in *t*, so two units swap only "
            "where their score lines cross; all crossings are computed exactly. A full ranking of many units is stable "
            "only over a tiny range, so the table leads with what matters: the range over which the **top `top_k`** of "
            "each ranking group (kind, unless the scheme ranks all units together) stays the same, and how many units "
            "keep their exact rank while the weight moves by ±`spread` of its value."
        ),
        new_code_cell(
            "stab = sv.stability_intervals(scores, weights, k=top_k, bands=the_scheme.bands, ranks_within=ranks_within)\n"
            "save_table(stab.units, output, 'sensitivity_stability_units')\n"
            "save_table(stab.top_k, output, 'sensitivity_stability_top_k')\n"
            "save_table(stab.swaps, output, 'sensitivity_adjacent_swaps')\n"
            "summ = stab.summary(rel=spread)\n"
            "summ['room'] = np.minimum(summ['weight'] - summ['lo'], summ['hi'] - summ['weight']) / summ['weight']\n"
            "summ['as_pct'] = [f'{pct(lo / w - 1, sign=True)} to {pct(hi / w - 1, sign=True)}' for lo, w, hi in summ[['lo', 'weight', 'hi']].to_numpy()]\n"
            "display(splots.table(summ.assign(indicator=summ['indicator'].map(ind_label), rank_group=summ['rank_group'].map(kind_words)),\n"
            "                     {'indicator': 'Indicator', 'rank_group': 'Ranking group', 'weight': 'Weight',\n"
            "                      'lo': f'Top {top_k} unchanged from', 'hi': 'to', 'as_pct': 'As % of the weight',\n"
            "                      'keeps_rank': f'Units keeping their exact rank over {pm(spread)}', 'units': 'Units'}, digits=1,\n"
            "                     caption=f'How far each weight can move, the others rescaled, before the top {top_k} changes'))\n"
            "tight = summ.sort_values('room').iloc[0]\n"
            "survive = int((summ['room'] >= spread).sum())\n"
            "say(f'The top {top_k} of a ranking group survives one weight moved anywhere within {pm(spread)} of its value in '\n"
            "    f'{survive} of {len(summ)} indicator × group cases. The tightest is {ind_label[tight.indicator]} for the '\n"
            "    f'{kind_words(tight.rank_group)}: their top {top_k} holds only for a weight between {tight.lo:.1f} and {tight.hi:.1f} '\n"
            "    f'({tight.as_pct} of its {tight.weight:g}).')\n"
            "bands = stab.units\n"
            "fragile = bands[(bands['band_lo'] > bands['weight'] * (1 - spread)) | (bands['band_hi'] < bands['weight'] * (1 + spread))]\n"
            "n_fragile = fragile['unit'].nunique()\n"
            "say(f\"{n_fragile or 'No'} unit{'' if n_fragile == 1 else 's'} can change grade band when one weight moves within \"\n"
            "    f'{pm(spread)} of its value (exact: the band edges are crossing points too).')\n"
            "if len(fragile):\n"
            "    display(splots.table(fragile.assign(name=names.reindex(fragile['unit']).to_numpy(), indicator=fragile['indicator'].map(ind_label)),\n"
            "                         {'indicator': 'Indicator', 'name': 'Unit', 'grade': 'Grade', 'weight': 'Weight',\n"
            "                          'band_lo': 'Grade kept from', 'band_hi': 'to'}, digits=1,\n"
            "                         caption=f'Units whose grade band changes with one weight moved within {pm(spread)}'))"
        ),
        new_code_cell("for g in rank_groups:\n    fig = splots.weight_ranges(stab.top_k, g, ind_label, total=weights.sum())\n"
                      "    plots.keep(fig, output, f'30_weight_ranges_{g}')"),
        new_markdown_cell(
            "## Which input matters most? Sobol indices\n\n"
            "Variance-based sensitivity of each ranking group's mean absolute rank shift (how far its units move, on "
            "average, from their rank under the scheme) to each indicator weight and to the share of one evaluator "
            "group. Every input moves by the same relative amount, `spread` of its value, unless `sobol_share_range` "
            "gives the share a range of its own. First order (S1): what the input does alone; total (ST): including "
            "its interactions with the others. The group-shares page shows the same indices, computed the same way."
        ),
        new_code_cell(SOBOL_CELL),
        new_code_cell(sobol_figure_cell("30")),
        new_markdown_cell(
            "## Is there any defensible weighting under which a unit comes first?\n\n"
            "Weights are allowed to range within ±`bound_rel` of the scheme's. A linear programme finds, for each unit, "
            "the best rank any such weighting gives it; SMAA draws weights uniformly within the same bounds and counts how "
            "often each unit comes first (its first-rank acceptability) and with which weights on average."
        ),
        new_code_cell(
            "bounds = sv.bounds_around(weights, bound_rel)\n"
            "best = sv.best_case_ranks(scores, bounds=bounds, ranks_within=ranks_within)\n"
            "smaa = sv.rank_acceptability(scores, n=n_draws, seed=seed, bounds=bounds, ranks_within=ranks_within)\n"
            "best = best.merge(smaa.central_weights[['p_first']], left_on='unit', right_index=True)\n"
            "best = best.merge(mc.units[['unit', 'nominal_rank']], on='unit')\n"
            "best.insert(1, 'name', names.reindex(best['unit']).to_numpy())\n"
            "save_table(best, output, 'sensitivity_best_case')\n"
            "first = best.groupby('rank_group')['can_be_first'].sum()\n"
            "say(f'With each normalised weight allowed anywhere within {pm(bound_rel)} of the scheme\\'s ({n_draws:,} SMAA draws '\n"
            "    'uniform within those bounds), ' + '; '.join(f'{int(first[g])} of {group_size[g]} {kind_words(g)} can come first '\n"
            "    'under some weighting' for g in rank_groups) + '. The table lists the best placed units of each group.')\n"
            "view = (best.assign(order=best['rank_group'].map(rank_groups.index)).sort_values(['order', 'best_rank', 'nominal_rank'])\n"
            "        .groupby('rank_group', sort=False).head(8))\n"
            "display(splots.table(view.assign(rank_group=view['rank_group'].map(kind_words)),\n"
            "                     {'rank_group': 'Ranking group', 'name': 'Unit', 'nominal_rank': \"Rank under the scheme\",\n"
            "                      'best_rank': f'Best rank with weights within {pm(bound_rel)}', 'can_be_first': 'Can be first',\n"
            "                      'p_first': 'Share of SMAA draws in which it is first'}, digits=3,\n"
            "                     caption=f'Best rank of each unit with every weight within {pm(bound_rel)} of the scheme\\'s (the best placed of each group)'))"
        ),
        new_markdown_cell("## Reading the result"),
        new_code_cell(
            "pres = mc.units[~mc.units['written_report']]\n"
            "pres_r = mc_raters.units[~mc_raters.units['written_report']]\n"
            "single, single_r = ((u['rank_p95'] == u['rank_p05']).sum() for u in (pres, pres_r))\n"
            "wider = ((pres_r['rank_p95'] - pres_r['rank_p05']).mean() - (pres['rank_p95'] - pres['rank_p05']).mean())\n"
            "firsts = best[best['can_be_first'] & (best['nominal_rank'] > 1)]\n"
            "say(f'With {moved_by} ({n_draws:,} draws), {single} of the {len(pres)} units that presented keep a single rank '\n"
            "    f'(their 5–95 % interval is one rank); with the raters resampled too ({n_rater_replicates} replicates), {single_r} do. '\n"
            "    f'Adding the raters widens the presenting units\\' intervals by {wider:.1f} ranks on average: that part of the '\n"
            "    'fragility comes from who scored, not from the weights. '\n"
            "    + (f'Units that some weighting within {pm(bound_rel)} puts first although the scheme does not ('\n"
            "       + ', '.join(firsts['name']) + ') are where the choice of weights decides the outcome and deserves a reason.'\n"
            "       if len(firsts) else f'No unit other than the first of its group can come first with weights within {pm(bound_rel)}.')\n"
            "    + (' Written-report units (†) are left out of these counts: their intervals describe the imputed average.'\n"
            "       if n_written else ''))"
        ),
    ]
    return notebook(cells)


def group_shares_notebook():
    params = COMMON_PARAMS + '''
group = "grassroots"     # the evaluator group whose share moves
share_min = 0.0          # its share goes from share_min ...
share_max = 0.6          # ... to share_max (the other groups rescaled): exact breakpoints, so a wide range costs nothing
top_k = 3                # the "top k" whose changes are marked
spread = 0.2             # the Sobol comparison: every input (each weight, the share) moves by ±spread of its value''' + SOBOL_PARAMS
    cells = [
        new_markdown_cell(
            "# What does the grassroots representatives' share do to the ranking?\n\n"
            "**What this answers:** how every unit's rank changes as one evaluator group's share in the on-site score "
            "goes from `share_min` to `share_max` (the other groups rescaled), and at exactly which shares units swap.\n"
            "Scores are linear in the share, so the breakpoints are exact crossing points, not points on a grid."
        ),
        new_code_cell(params, metadata={"tags": ["parameters"]}),
        new_code_cell(
            SETUP
            + "group_scores = sv.unit_group_scores(dataset, the_scheme)  # unit x group, final-score scale\n"
            "shares = the_scheme.shares\n"
            "s0 = float(shares[group] / shares.sum())\n"
            "say(f\"**{group_label[group]}**: share {s0:.2f} in the scheme. This page follows it from {share_min:g} to \"\n"
            "    f\"{share_max:g} ({pct(share_min / s0 - 1, sign=True)} to {pct(share_max / s0 - 1, sign=True)} of the scheme's \"\n"
            "    'value), the other groups rescaled. The breakpoints are exact and cost nothing over a wide range, so the page '\n"
            "    'shows every share a scheme might choose; the Sobol comparison with the weights at the end moves every input, '\n"
            "    f'this share included, by the same {pm(spread)} of its value.'\n"
            "    + (f' Units marked † ({int(written.sum())}) submitted a written report only: their on-site score, and so '\n"
            "       'their group scores, are imputed from their kind\\'s average.' if written.any() else ''))"
        ),
        new_markdown_cell(
            "## Where the ranking changes\n\n"
            "Every share value at which two units ranked together (same kind, unless the scheme ranks all together) swap "
            "places, and whether the top `top_k` changes there."
        ),
        new_code_cell(
            "sb = sv.share_breakpoints(group_scores, shares, group, k=top_k, share_range=(share_min, share_max),\n"
            "                          ranks_within=ranks_within)\n"
            "swaps = sb.swaps.assign(name_up=names.reindex(sb.swaps['unit_up']).to_numpy(),\n"
            "                        name_down=names.reindex(sb.swaps['unit_down']).to_numpy())\n"
            "save_table(swaps, output, 'group_share_swaps')\n"
            "save_table(sb.segments, output, 'group_share_rank_segments')\n"
            "top_changes = swaps[swaps['top_k_changes']]\n"
            "say(f'Between shares {share_min:g} and {share_max:g}, two units of the same ranking group swap places at '\n"
            "    f\"{len(sb.breakpoints)} shares; {len(top_changes)} of these swaps change{'s' if len(top_changes) == 1 else ''} \"\n"
            "    f'a top {top_k}' + (':' if len(top_changes) else '.'))\n"
            "moves = lambda a, b: [f'{x} → {y}' for x, y in zip(top_changes[a], top_changes[b])]\n"
            "display(splots.table(top_changes.assign(rank_group=top_changes['rank_group'].map(kind_words),\n"
            "                                        up=moves('rank_up_before', 'rank_up_after'),\n"
            "                                        down=moves('rank_down_before', 'rank_down_after')),\n"
            "                     {'share': 'Share', 'rank_group': 'Ranking group', 'name_up': 'Unit moving up',\n"
            "                      'up': 'Its ranks (below → above the share)', 'name_down': 'Unit moving down',\n"
            "                      'down': 'Its ranks'}, digits=3, caption=f'Shares at which the top {top_k} changes'))\n"
            "per_group = swaps.groupby('rank_group').agg(swaps=('share', 'size'), first=('share', 'min'), last=('share', 'max'))\n"
            "per_group = per_group.reindex([g for g in rank_groups if g in per_group.index]).reset_index()\n"
            "display(splots.table(per_group.assign(rank_group=per_group['rank_group'].map(kind_words)),\n"
            "                     {'rank_group': 'Ranking group', 'swaps': 'Swaps', 'first': 'First at share', 'last': 'Last at share'}, digits=3,\n"
            "                     caption=f'Swaps between shares {share_min:g} and {share_max:g}, per ranking group'))\n"
            "grade_changes = sv.share_grade_changes(group_scores, shares, group, the_scheme.bands, share_range=(share_min, share_max))\n"
            "save_table(grade_changes, output, 'group_share_grade_changes')\n"
            "stable = sv.stable_share_range(sb, grade_changes, units['kind'] if ranks_within is not None else None)\n"
            "save_table(stable, output, 'group_share_stable_range')\n"
            "held = []\n"
            "for r in stable.itertuples():\n"
            "    held.append(f'the top {top_k} {kind_words(r.rank_group)} stay the same for every share between {r.top_k_lo:.3f} and '\n"
            "                f'{r.top_k_hi:.3f} ({pct(r.top_k_lo / s0 - 1, sign=True)} to {pct(r.top_k_hi / s0 - 1, sign=True)} of the '\n"
            "                f'scheme\\'s {s0:.2f}), every grade band between {r.grades_lo:.3f} and {r.grades_hi:.3f}')\n"
            "say('**How far can the share move before a top or a grade changes?** Within the range explored, ' + '; '.join(held)\n"
            "    + f'. {len(grade_changes)} grade changes in all between {share_min:g} and {share_max:g}.')"
        ),
        new_code_cell(
            "for g in rank_groups:\n"
            "    fig = splots.share_bump_chart(sb.segments, sb.swaps, names, g, top_k, s0, group_label[group])\n"
            "    plots.keep(fig, output, f'50_share_ranks_{g}', key=g == rank_groups[0])"
        ),
        new_markdown_cell(
            "## The top of the ranking at the ends of the range\n\n"
            "The units ranked in the top `top_k` of each ranking group (kind, unless the scheme ranks all units together) "
            "at the lowest share, the scheme's share and the highest share."
        ),
        new_code_cell(
            "at = [share_min, s0, share_max]\n"
            "path = sv.share_path(group_scores, shares, group, at, ranks_within=ranks_within)\n"
            "path['name'] = names.reindex(path['unit']).to_numpy()\n"
            "save_table(path, output, 'group_share_ranks')\n"
            "top = path[path['rank'] <= top_k]\n"
            "ends = top.pivot_table(index=['rank_group', 'rank'], columns='share', values='name', aggfunc=' / '.join)\n"
            "ends = ends.reindex(sorted(ends.index, key=lambda gr: (rank_groups.index(gr[0]), gr[1])))\n"
            "ends.columns = [f'share {s:g}' + (' (the scheme)' if s == s0 else '') for s in ends.columns]\n"
            "ends = ends.reset_index()\n"
            "display(splots.table(ends.assign(rank_group=ends['rank_group'].map(kind_words)).rename(\n"
            "    columns={'rank_group': 'Ranking group', 'rank': 'Rank'}), caption=f'The top {top_k} at the lowest, the scheme\\'s and the highest share'))"
        ),
        new_markdown_cell(
            "## Share or weights: which matters more?\n\n"
            "Sobol indices of the group's share beside the indicator weights, on each ranking group's mean absolute rank "
            "shift, computed exactly as on the weight-sensitivity page (same inputs, ranges, sample size and seed), so "
            "the same index has the same value on both pages."
        ),
        new_code_cell(SOBOL_CELL),
        new_code_cell(sobol_figure_cell("50")),
        new_markdown_cell("## Reading the result"),
        new_code_cell(
            "near = top_changes.assign(gap=(top_changes['share'] - s0).abs()).sort_values('gap')\n"
            "ranks_st = sob.summary().assign(order=lambda d: d.groupby('rank_group').cumcount() + 1)\n"
            "nth = lambda n: f\"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}\"\n"
            "share_at = ranks_st[ranks_st['input'] == f'share:{group}'].set_index('rank_group')['order']\n"
            "n_inputs = sob.summary().groupby('rank_group').size()\n"
            "say(('Red lines in the figures are the shares at which a top changes hands. '\n"
            "     + (f\"The nearest to the scheme's {s0:.2f} is at {near.iloc[0]['share']:.3f} ({kind_words(near.iloc[0]['rank_group'])}: \"\n"
            "        f\"{near.iloc[0]['name_up']} overtakes {near.iloc[0]['name_down']}), {pct(near.iloc[0]['share'] / s0 - 1, sign=True)} \"\n"
            "        'of the scheme\\'s share: a scheme that sets the share near such a point makes the outcome hinge on a number '\n"
            "        'the source does not give. ' if len(near) else f'No top {top_k} changes anywhere in the range. '))\n"
            "    + (f'With every input moved by {pm(spread)} of its value' if not sob.settings['share_range_given'] else\n"
            "       f\"With every weight moved by {pm(spread)} and the share over {sob.settings['share_range'][0]:g} to \"\n"
            "       f\"{sob.settings['share_range'][1]:g} (the wider range asked for)\")\n"
            "    + ', the share ranks '\n"
            "    + ' and '.join(f'{nth(share_at[g])} of {n_inputs[g]} inputs by total Sobol index for the {kind_words(g)}' for g in share_at.index)\n"
            "    + '.')"
        ),
    ]
    return notebook(cells)


def main():
    write(weight_sensitivity_notebook(), "30_weight_sensitivity.ipynb")
    write(group_shares_notebook(), "50_group_shares.ipynb")


if __name__ == "__main__":
    main()
