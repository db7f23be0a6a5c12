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
# # What does the grassroots representatives' share do to the ranking?
#
# **What this answers:** how every unit's rank changes as one evaluator group's share in the on-site score goes from `share_min` to `share_max` (the other groups rescaled), and at exactly which shares units swap.
# Scores are linear in the share under the arithmetic composite, so the breakpoints are exact crossing points, not points on a grid (under a geometric composite the exact sections are skipped and say why; the Sobol comparison runs).

# %% tags=["parameters"]
# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016
group = "grassroots"  # the evaluator group whose share moves
share_min = 0.0  # its share goes from share_min ...; range: [0, 1]
share_max = 0.6  # ... to share_max, the others rescaled (exact breakpoints: a wide range is cheap); range: [0, 1]
top_k = 3  # the "top k" whose changes are marked; range: at least 1
spread = 0.2  # the Sobol comparison: every input (each weight, the share) moves by ±spread of its value; range: (0, 1)
n_sobol = 4096  # Sobol base points, the same default on both sensitivity pages, model runs: n_sobol x (inputs + 2); range: at least 1
sobol_share_range = None  # None: the group's share moves ±spread of its value, like each weight; or (low, high), e.g. (0.0, 0.6): the page then says how much wider that is

# %%
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
linear = composite in LINEAR  # a unit × group table combines into the final score only under the arithmetic composite
scale = "final" if linear else "profile"  # non-linear: on-site profiles, each composite mapped to the final score
to_final = None if linear else sv.final_map(dataset, the_scheme)


def skipped(what: str) -> str:
    """The one sentence an exact section shows instead under a non-linear composite."""
    return (
        f"**{what} skipped under the {composite} composite:** the shares combine the groups arithmetically, but "
        "these exact answers need the whole score linear in the share, which only the arithmetic composite of "
        "the indicators gives; the Sobol comparison below moves the share by sampling."
    )


group_scores = sv.unit_group_scores(dataset, the_scheme) if linear else None  # unit x group, final-score scale
shares = the_scheme.shares
s0 = float(shares[group] / shares.sum())
say(
    f"**{group_label[group]}**: share {s0:.2f} in the scheme. This page follows it from {share_min:g} to "
    f"{share_max:g} ({pct(share_min / s0 - 1, sign=True)} to {pct(share_max / s0 - 1, sign=True)} of the scheme's "
    "value), the other groups rescaled. The breakpoints are exact and cost nothing over a wide range, so the page "
    "shows every share a scheme might choose; the Sobol comparison with the weights at the end moves every input, "
    f"this share included, by the same {pm(spread)} of its value."
    + (
        f" Units marked † ({int(written.sum())}) submitted a written report only: their on-site score, and so "
        "their group scores, are imputed from their kind's average."
        if written.any()
        else ""
    )
)

# %% [markdown]
# ## Where the ranking changes
#
# Every share value at which two units ranked together (same kind, unless the scheme ranks all together) swap places, and whether the top `top_k` changes there.

# %%
if linear:
    sb = sv.share_breakpoints(
        group_scores, shares, group, k=top_k, share_range=(share_min, share_max), rank_group=rank_group
    )
    swaps = sb.swaps.assign(
        name_up=names.reindex(sb.swaps["unit_up"]).to_numpy(), name_down=names.reindex(sb.swaps["unit_down"]).to_numpy()
    )
    save_table(swaps, output, "group_share_swaps")
    save_table(sb.segments, output, "group_share_rank_segments")
    top_changes = swaps[swaps["top_k_changes"]]
    say(
        f"Between shares {share_min:g} and {share_max:g}, two units of the same ranking group swap places at "
        f"{len(sb.breakpoints)} shares; {len(top_changes)} of these swaps change{'s' if len(top_changes) == 1 else ''} "
        f"a top {top_k}" + (":" if len(top_changes) else ".")
    )
    moves = lambda a, b: [f"{x} → {y}" for x, y in zip(top_changes[a], top_changes[b])]
    display(
        splots.table(
            top_changes.assign(
                rank_group=top_changes["rank_group"].map(kind_words),
                up=moves("rank_up_before", "rank_up_after"),
                down=moves("rank_down_before", "rank_down_after"),
            ),
            {
                "share": "Share",
                "rank_group": "Ranking group",
                "name_up": "Unit moving up",
                "up": "Its ranks (below → above the share)",
                "name_down": "Unit moving down",
                "down": "Its ranks",
            },
            digits=3,
            caption=f"Shares at which the top {top_k} changes",
        )
    )
    per_group = swaps.groupby("rank_group").agg(swaps=("share", "size"), first=("share", "min"), last=("share", "max"))
    per_group = per_group.reindex([g for g in rank_groups if g in per_group.index]).reset_index()
    display(
        splots.table(
            per_group.assign(rank_group=per_group["rank_group"].map(kind_words)),
            {"rank_group": "Ranking group", "swaps": "Swaps", "first": "First at share", "last": "Last at share"},
            digits=3,
            caption=f"Swaps between shares {share_min:g} and {share_max:g}, per ranking group",
        )
    )
    grade_changes = sv.share_grade_changes(
        group_scores, shares, group, the_scheme.bands, share_range=(share_min, share_max)
    )
    save_table(grade_changes, output, "group_share_grade_changes")
    stable = sv.stable_share_range(sb, grade_changes, units["kind"] if rank_group is not None else None)
    save_table(stable, output, "group_share_stable_range")
    held = []
    for r in stable.itertuples():
        held.append(
            f"the top {top_k} {kind_words(r.rank_group)} stay the same for every share between {r.top_k_share_low:.3f} "
            f"and {r.top_k_share_high:.3f} ({pct(r.top_k_share_low / s0 - 1, sign=True)} to "
            f"{pct(r.top_k_share_high / s0 - 1, sign=True)} of the scheme's {s0:.2f}), every grade band between "
            f"{r.grades_share_low:.3f} and {r.grades_share_high:.3f}"
        )
    say(
        "**How far can the share move before a top or a grade changes?** Within the range explored, "
        + "; ".join(held)
        + f". {len(grade_changes)} grade changes in all between {share_min:g} and {share_max:g}."
    )
else:
    say(skipped("Exact breakpoints"))

# %%
if linear:
    for g in rank_groups:
        fig = splots.share_bump_chart(sb.segments, sb.swaps, names, g, top_k, s0, group_label[group])
        plots.keep(fig, output, f"50_share_ranks_{g}", key=g == rank_groups[0])

# %% [markdown]
# ## The top of the ranking at the ends of the range
#
# The units ranked in the top `top_k` of each ranking group (kind, unless the scheme ranks all units together) at the lowest share, the scheme's share and the highest share.

# %%
if linear:
    at = [share_min, s0, share_max]
    path = sv.share_path(group_scores, shares, group, at, rank_group=rank_group)
    path["name"] = names.reindex(path["unit"]).to_numpy()
    save_table(path, output, "group_share_ranks")
    top = path[path["rank"] <= top_k]
    ends = top.pivot_table(index=["rank_group", "rank"], columns="share", values="name", aggfunc=" / ".join)
    ends = ends.reindex(sorted(ends.index, key=lambda gr: (rank_groups.index(gr[0]), gr[1])))
    ends.columns = [f"share {s:g}" + (" (the scheme)" if s == s0 else "") for s in ends.columns]
    ends = ends.reset_index()
    display(
        splots.table(
            ends.assign(rank_group=ends["rank_group"].map(kind_words)).rename(
                columns={"rank_group": "Ranking group", "rank": "Rank"}
            ),
            caption=f"The top {top_k} at the lowest, the scheme's and the highest share",
        )
    )
else:
    say(skipped("The ranks at the ends of the range"))

# %% [markdown]
# ## Share or weights: which matters more?
#
# Sobol indices of the group's share beside the indicator weights, on each ranking group's mean absolute rank shift, computed exactly as on the weight-sensitivity page (same inputs, ranges, sample size and seed), so the same index has the same value on both pages.

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
saved = plots.keep(fig, output, "50_sobol_indices")
# %% [markdown]
# ## Reading the result

# %%
near = top_changes.assign(gap=(top_changes["share"] - s0).abs()).sort_values("gap") if linear else None
ranks_st = sob.summary().assign(order=lambda d: d.groupby("rank_group").cumcount() + 1)
nth = lambda n: f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
share_at = ranks_st[ranks_st["input"] == f"share:{group}"].set_index("rank_group")["order"]
n_inputs = sob.summary().groupby("rank_group").size()
say(
    (
        ""
        if not linear
        else "Red lines in the figures are the shares at which a top changes hands. "
        + (
            f"The nearest to the scheme's {s0:.2f} is at {near.iloc[0]['share']:.3f} ({kind_words(near.iloc[0]['rank_group'])}: "
            f"{near.iloc[0]['name_up']} overtakes {near.iloc[0]['name_down']}), {pct(near.iloc[0]['share'] / s0 - 1, sign=True)} "
            "of the scheme's share: a scheme that sets the share near such a point makes the outcome hinge on a number "
            "the source does not give. "
            if len(near)
            else f"No top {top_k} changes anywhere in the range. "
        )
    )
    + (
        f"With every input moved by {pm(spread)} of its value"
        if not sob.settings["share_range_given"]
        else f"With every weight moved by {pm(spread)} and the share over {sob.settings['share_range'][0]:g} to "
        f"{sob.settings['share_range'][1]:g} (the wider range asked for)"
    )
    + ", the share ranks "
    + " and ".join(
        f"{nth(share_at[g])} of {n_inputs[g]} inputs by total Sobol index for the {kind_words(g)}"
        for g in share_at.index
    )
    + "."
)
