"""Write notebooks/90_memo.ipynb (clean: no outputs). `perflab memo DIR` executes it on a run's or sweep's tables.

Run `python tools/make_notebook_90.py` after editing the cells here.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbtools import notebook, write

PARAMS = '''# parameters: perflab memo sets these
directory = "../reports/beijing_2016"  # output directory of perflab run or perflab sweep
lang = ""  # zh or en; empty: zh when a CJK font is installed'''


def memo_notebook():
    cells = [
        new_markdown_cell(
            "# Advisory memo\n\n"
            "The memo of a run or a sweep, read from its saved tables (nothing is recomputed): numbered findings, the "
            "scheme, the ranking with its intervals and the method notes, in Chinese or English. `perflab memo DIR` "
            "runs this notebook and exports it with the code hidden.",
            metadata={"tags": ["remove-cell"]},
        ),
        new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from IPython.display import HTML, Markdown, display\n\n"
            "from perflab import plots\n"
            "from perflab.memo import load_inputs\n"
            "from perflab.memo_page import MemoPage\n\n"
            "lang = plots.theme(lang or None)\n"
            "page = MemoPage(load_inputs(directory), lang)\n"
            "display(HTML(page.header()))"
        ),
        new_code_cell("display(Markdown(page.summary()))"),
        new_code_cell(
            "if page.inputs.kind == 'run':\n"
            "    display(Markdown(page.heading('评估方案', 'The scheme')))\n"
            "    for table in page.scheme_tables():\n"
            "        display(table)\n"
            "    display(Markdown(page.scheme_note()))"
        ),
        new_code_cell(
            "if page.inputs.kind == 'run':\n"
            "    display(Markdown(page.heading('排名及其区间', 'The ranking with its intervals')))\n"
            "    for kind in ('district', 'department'):\n"
            "        if (page.inputs.table('scores')['kind'] == kind).any():\n"
            "            display(page.ranking(kind))\n"
            "            if page.inputs.has('sensitivity_rank_intervals'):\n"
            "                fig, save = page.ranking_figure(kind)\n"
            "                display(fig)\n"
            "                save()\n"
            "else:\n"
            "    display(Markdown(page.heading('情景比较', 'The scenarios')))\n"
            "    for table in page.sweep_tables():\n"
            "        display(table)"
        ),
        new_code_cell("display(Markdown(page.methods()))"),
    ]
    return notebook(cells)


def main():
    write(memo_notebook(), "90_memo.ipynb")


if __name__ == "__main__":
    main()
