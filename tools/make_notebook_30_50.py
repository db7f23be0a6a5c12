"""Write notebooks 30 (weight sensitivity) and 50 (group shares) from their cell sources (clean: no outputs).

Run `python tools/make_notebook_30_50.py` after editing the cells here.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import PARAMS as COMMON_PARAMS
from nbtools import notebook, write

SETUP = (
    "from pathlib import Path\n\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "from IPython.display import display\n\n"
    "from perflab import plots\n"
    "from perflab import sensitivity as sv\n"
    "from perflab.io import load_dataset\n"
    "from perflab.plots import sensitivity as splots\n"
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
    "names = units[plots.name_column()]\n"
    "ind_label = {i.id: (i.name_zh if lang == 'zh' else i.name_en) for i in the_scheme.indicators}\n"
    "group_label = {g.id: (g.name_zh if lang == 'zh' else g.name_en) for g in the_scheme.groups}\n"
    "weights = the_scheme.weights\n"
    "pd.set_option('display.precision', 3)\n"
)


def weight_sensitivity_notebook():
    params = COMMON_PARAMS + '''
n_draws = 20000          # Monte Carlo weight draws (and SMAA draws)
spread = 0.2             # each weight moves by up to ±20 % (then renormalised)
method = "uniform"       # uniform (COINr convention) or dirichlet
n_rater_replicates = 100 # rater bootstrap replicates paired with the weight draws
delta = 5.0              # one-at-a-time step, in weight points
top_k = 3                # the "top k" whose stability we track
group = "grassroots"     # evaluator group whose share enters the Sobol analysis
share_min = 0.0          # its share ranges over [share_min, share_max]
share_max = 0.6
sobol_n = 512            # Sobol base points; model runs: sobol_n times the number of inputs plus 2
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
            "rng = np.random.default_rng(seed)\n"
            "print(f'{len(scores)} units x {scores.shape[1]} indicators; weights', {k: float(v) for k, v in weights.items()})"
        ),
        new_markdown_cell(
            "## One weight at a time\n\n"
            f"Each indicator weight moved down and up by `delta` points, the others rescaled to keep the total. "
            "The table gives, per indicator and ranking group, the largest rank change and how many units move at all."
        ),
        new_code_cell(
            "oat = sv.one_at_a_time(scores, weights, delta=delta, ranks_within=ranks_within)\n"
            "save_table(oat, output, 'sensitivity_one_at_a_time')\n"
            "oat_summary = (oat.assign(moved=oat['rank_change'] != 0, abs_change=oat['rank_change'].abs())\n"
            "               .groupby(['indicator', 'change', 'rank_group'], sort=False)\n"
            "               .agg(units_moved=('moved', 'sum'), largest_change=('abs_change', 'max')).unstack('rank_group'))\n"
            "display(oat_summary)"
        ),
        new_markdown_cell(
            "## Rank intervals under random weights — and random raters\n\n"
            "Every weight is multiplied by a random factor within ±`spread` and the weights renormalised (the COINr "
            "convention), `n_draws` times. In the second run each draw is also paired with a bootstrap replicate of the "
            "evaluator panel (raters resampled within their groups), so the interval also shows the uncertainty that comes "
            "from *who* scored. Bars: the 5–95 % range of each unit's rank; dots: median rank; black tick: rank under the scheme."
        ),
        new_code_cell(
            "mc = sv.monte_carlo(scores, weights, n=n_draws, method=method, spread=spread, seed=rng, ranks_within=ranks_within, k=top_k)\n"
            "replicates = sv.rater_bootstrap(dataset, the_scheme, n=n_rater_replicates, seed=rng)\n"
            "mc_raters = sv.monte_carlo(scores, weights, n=n_draws, method=method, spread=spread, seed=rng,\n"
            "                           ranks_within=ranks_within, k=top_k, score_draws=replicates)\n"
            "intervals = mc.summary().merge(mc_raters.units.drop(columns=['rank_group', 'nominal_rank']), on='unit',\n"
            "                               suffixes=('', '_with_raters'))\n"
            "intervals.insert(1, 'name', names.reindex(intervals['unit']).to_numpy())\n"
            "save_table(intervals, output, 'sensitivity_rank_intervals')\n"
            "save_table(mc.frequencies.reset_index(), output, 'sensitivity_rank_frequencies')\n"
            "display(pd.concat({'weights': mc.tau_summary(), 'weights and raters': mc_raters.tau_summary()}))\n"
            "display(intervals.groupby('rank_group')[['interval_width']].describe())"
        ),
        new_code_cell("for g in rank_groups:\n    fig = splots.rank_intervals(mc.units, names, g, other=mc_raters.units)"),
        new_markdown_cell(
            "## Exact stability ranges of each weight\n\n"
            "Setting one weight to *t* and rescaling the others keeps every score linear in *t*, so two units swap only "
            "where their score lines cross; all crossings are computed exactly. A full ranking of 76 units is stable only "
            f"over a tiny range, so the table leads with what matters: the range over which the **top `top_k`** of each ranking group (kind, unless the scheme ranks all units together) "
            "stays the same, and how many units keep their exact rank if the weight moves by ±10 %."
        ),
        new_code_cell(
            "stab = sv.stability_intervals(scores, weights, k=top_k, bands=the_scheme.bands, ranks_within=ranks_within)\n"
            "save_table(stab.units, output, 'sensitivity_stability_units')\n"
            "save_table(stab.top_k, output, 'sensitivity_stability_top_k')\n"
            "save_table(stab.swaps, output, 'sensitivity_adjacent_swaps')\n"
            "table = stab.summary().rename(columns={'lo': 'top_k_same_from', 'hi': 'top_k_same_to'})\n"
            "display(table)\n"
            "bands = stab.units.assign(band_width=stab.units['band_hi'] - stab.units['band_lo'])\n"
            "fragile = bands[(bands['band_lo'] > bands['weight'] * 0.9) | (bands['band_hi'] < bands['weight'] * 1.1)]\n"
            "print(f'{fragile[\"unit\"].nunique()} unit(s) can change grade band when a weight moves by ±10 %')\n"
            "display(fragile[['indicator', 'unit', 'grade', 'weight', 'band_lo', 'band_hi']].head(20))"
        ),
        new_code_cell("for g in rank_groups:\n    fig = splots.weight_ranges(stab.top_k, g, ind_label, total=weights.sum())"),
        new_markdown_cell(
            "## Which input matters most? Sobol indices\n\n"
            "Variance-based sensitivity of the mean absolute rank shift to each weight (±`spread`) and to the share of "
            "one evaluator group (uniform on [`share_min`, `share_max`], the other groups rescaled). First order: the "
            "input alone; total: including its interactions with the others."
        ),
        new_code_cell(
            "sob = sv.sobol_indices(None, weights, n=sobol_n, spread=spread, seed=seed, ranks_within=ranks_within,\n"
            "                       cube=sv.score_cube(dataset, the_scheme), shares=the_scheme.shares, group=group,\n"
            "                       share_range=(share_min, share_max))\n"
            "save_table(sob.indices, output, 'sensitivity_sobol')\n"
            "display(sob.summary())\n"
            "labels = {**ind_label, f'share:{group}': plots.t('评委组权重：', 'share: ') + group_label[group]}\n"
            "fig = splots.sobol_bars(sob.indices, labels)"
        ),
        new_markdown_cell(
            "## Is there any defensible weighting under which a unit comes first?\n\n"
            f"Weights are allowed to range within ±`bound_rel` of the scheme's. A linear programme finds, for each unit, "
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
            "display(best.sort_values(['rank_group', 'best_rank', 'nominal_rank'])\n"
            "        .groupby('rank_group', sort=False).head(8)[['rank_group', 'unit', 'name', 'nominal_rank', 'best_rank', 'can_be_first', 'p_first']])"
        ),
        new_markdown_cell(
            "## Reading the result\n\n"
            "Units whose interval is a single rank are robust to the weights; wide intervals, and units that some "
            "defensible weighting puts first, are where the choice of weights decides the outcome and deserves a reason. "
            "Comparing the two interval bars shows how much of that fragility comes from the evaluator panel rather than "
            "the weights."
        ),
    ]
    return notebook(cells)


def group_shares_notebook():
    params = COMMON_PARAMS + '''
group = "grassroots"  # the evaluator group whose share moves
share_min = 0.0       # its share goes from share_min ...
share_max = 0.6       # ... to share_max (the other groups rescaled)
top_k = 3             # the "top k" whose changes are marked
n_draws = 2048        # Sobol model runs for the comparison with the weights (rounded to a power of two x inputs)
spread = 0.2          # the weights' range in that comparison (±20 %)'''
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
            "print(f'{group_label[group]}: share {shares[group]:.2f} in the scheme; range {share_min}-{share_max}')"
        ),
        new_markdown_cell(
            "## Where the ranking changes\n\n"
            "Every share value at which two units ranked together (same kind, unless the scheme ranks all together) swap places, and whether the top `top_k` changes there."
        ),
        new_code_cell(
            "sb = sv.share_breakpoints(group_scores, shares, group, k=top_k, share_range=(share_min, share_max),\n"
            "                          ranks_within=ranks_within)\n"
            "swaps = sb.swaps.assign(name_up=names.reindex(sb.swaps['unit_up']).to_numpy(),\n"
            "                        name_down=names.reindex(sb.swaps['unit_down']).to_numpy())\n"
            "save_table(swaps, output, 'group_share_swaps')\n"
            "save_table(sb.segments, output, 'group_share_rank_segments')\n"
            "print(f'{len(sb.breakpoints)} breakpoints, {int(sb.breakpoints[\"top_k_changes\"].sum())} change a top {top_k}')\n"
            "display(swaps[swaps['top_k_changes']])\n"
            "display(swaps.groupby('rank_group').agg(swaps=('share', 'size'), first=('share', 'min'), last=('share', 'max')))"
        ),
        new_code_cell(
            "for g in rank_groups:\n"
            "    fig = splots.share_bump_chart(sb.segments, sb.swaps, names, g, top_k, shares[group], group_label[group])"
        ),
        new_markdown_cell(
            "## The top of the ranking at the ends of the range\n\n"
            "The units ranked in the top `top_k` of each ranking group (kind, unless the scheme ranks all units together) at the lowest share, the scheme's share and the highest share."
        ),
        new_code_cell(
            "at = [share_min, float(shares[group]), share_max]\n"
            "path = sv.share_path(group_scores, shares, group, at, ranks_within=ranks_within)\n"
            "path['name'] = names.reindex(path['unit']).to_numpy()\n"
            "top = path[path['rank'] <= top_k].sort_values(['rank_group', 'share', 'rank'])\n"
            "save_table(path, output, 'group_share_ranks')\n"
            "display(top.pivot_table(index=['rank_group', 'rank'], columns='share', values='name', aggfunc=' / '.join))"
        ),
        new_markdown_cell(
            "## Share or weights: which matters more?\n\n"
            "Sobol indices of the group's share (uniform over the range) beside the indicator weights (±`spread`) on the "
            "mean absolute rank shift."
        ),
        new_code_cell(
            "n_base = max(64, n_draws // (len(weights) + 3))\n"
            "sob = sv.sobol_indices(None, weights, n=n_base, spread=spread, seed=seed, ranks_within=ranks_within,\n"
            "                       cube=sv.score_cube(dataset, the_scheme), shares=shares, group=group,\n"
            "                       share_range=(share_min, share_max))\n"
            "save_table(sob.summary().reset_index(), output, 'group_share_sobol')\n"
            "display(sob.summary())"
        ),
        new_markdown_cell(
            "## Reading the result\n\n"
            "Red lines are the shares at which the top of a ranking changes hands: a scheme that sets the group's share "
            "near one of them makes the outcome hinge on a number the source does not give. Ranges without breakpoints "
            "are shares over which the choice does not matter for the ranking."
        ),
    ]
    return notebook(cells)


def main():
    write(weight_sensitivity_notebook(), "30_weight_sensitivity.ipynb")
    write(group_shares_notebook(), "50_group_shares.ipynb")


if __name__ == "__main__":
    main()
