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

# %% [markdown] tags=["remove-cell"]
# # Advisory memo
#
# The memo of a run or a sweep, read from its saved tables (nothing is recomputed): numbered findings, the scheme, the ranking with its intervals and the method notes, in Chinese or English. `perflab memo DIR` runs this notebook and exports it with the code hidden.

# %% tags=["parameters"]
# parameters: perflab memo sets these
directory = "../reports/beijing_2016"  # output directory of perflab run or perflab sweep
lang = ""  # empty: zh when a CJK font is installed; one of: "", zh, en

# %%
from IPython.display import HTML, Markdown, display

from perflab import plots
from perflab.memo import load_inputs
from perflab.memo_page import MemoPage

lang = plots.theme(lang or None)
page = MemoPage(load_inputs(directory), lang)
display(HTML(page.header()))

# %%
display(Markdown(page.summary()))

# %%
if page.inputs.kind == "run":
    display(Markdown(page.heading("评估方案", "The scheme")))
    for table in page.scheme_tables():
        display(table)
    display(Markdown(page.scheme_note()))

# %%
if page.inputs.kind == "run":
    display(Markdown(page.heading("排名及其区间", "The ranking with its intervals")))
    for kind in ("district", "department"):
        if (page.inputs.table("scores")["kind"] == kind).any():
            display(page.ranking(kind))
            if page.inputs.has("sensitivity_rank_intervals"):
                fig, save = page.ranking_figure(kind)
                display(fig)
                save()
else:
    display(Markdown(page.heading("情景比较", "The scenarios")))
    for table in page.sweep_tables():
        display(table)

# %%
display(Markdown(page.methods()))
