"""Figures, tables and words for the sensitivity notebooks (30, 50): rank intervals, Sobol bars, weight-stability
ranges, share bump charts, and the tables the pages show (headers in words, fixed decimals, no row index).

:mod:`~perflab.plots.sensitivity.words` (prose), :mod:`~perflab.plots.sensitivity.tables` (tables) and
:mod:`~perflab.plots.sensitivity.figures` (figures); every name is importable from here.
"""

from perflab.plots import KIND_LABEL, kind_label, t
from perflab.plots.sensitivity.figures import (
    fit_width,
    legend_right,
    rank_intervals,
    share_bump_chart,
    sobol_bars,
    weight_ranges,
)
from perflab.plots.sensitivity.tables import oat_table, sobol_inputs_table, sobol_table, tau_table, width_table
from perflab.plots.sensitivity.words import (
    WRITTEN_MARK,
    group_words,
    mark_written,
    pct,
    pm,
    share_label,
    share_words,
    sobol_findings,
    sobol_inputs_text,
)
from perflab.plots.tables import table  # the pages' one table format, importable from here too

__all__ = [
    "KIND_LABEL",
    "WRITTEN_MARK",
    "fit_width",
    "group_words",
    "kind_label",
    "legend_right",
    "mark_written",
    "oat_table",
    "pct",
    "pm",
    "rank_intervals",
    "share_bump_chart",
    "share_label",
    "share_words",
    "sobol_bars",
    "sobol_findings",
    "sobol_inputs_table",
    "sobol_inputs_text",
    "sobol_table",
    "t",
    "table",
    "tau_table",
    "weight_ranges",
    "width_table",
]
