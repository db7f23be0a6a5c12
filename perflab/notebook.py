"""What every analysis notebook does first: read the scheme and the data, set the theme, name things, find the output.

A notebook's second cell is one call, ``page = setup(scheme, data, output)``; everything else on the
page reads ``page.scheme``, ``page.dataset`` and the label helpers, so a new notebook starts the same way.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from perflab import plots
from perflab.errors import DataNote
from perflab.io import Dataset, load_dataset
from perflab.scheme import Scheme, load_scheme

KIND_WORDS = {"district": "District", "department": "Department", "all": "All units"}


@dataclass(frozen=True)
class Page:
    """The scheme, the data, the output folder and the label language of one notebook page."""

    scheme: Scheme
    dataset: Dataset
    output: Path
    lang: str
    name: str = field(default="name_en")  # the name column in the label language: name_zh or name_en

    def indicator_labels(self) -> dict[str, str]:
        """Indicator id → its name in the label language."""
        return {i.id: getattr(i, self.name) for i in self.scheme.indicators}

    def group_labels(self) -> dict[str, str]:
        """Evaluator group id → its name in the label language."""
        return {g.id: getattr(g, self.name) for g in self.scheme.groups}

    def zone_labels(self) -> dict[str, str]:
        """Zone id → its name in the label language."""
        return {z.id: getattr(z, self.name) for z in self.scheme.zones}

    def unit_names(self):
        """Unit id → its name in the label language (a Series)."""
        return self.dataset.units.set_index("unit")[self.name]

    @staticmethod
    def say(text: str) -> None:
        """Show a sentence of the page, built from the numbers it cites, as Markdown."""
        from IPython.display import Markdown, display

        display(Markdown(text))


def setup(scheme: str | Path, data: str | Path, output: str | Path, lang: str | None = None) -> Page:
    """Load the scheme and the data, apply the figure theme and return the notebook's :class:`Page`.

    Parameters
    ----------
    scheme, data, output
        The notebook's parameters: the scheme file, the data directory and the output folder.
    lang
        ``"zh"``, ``"en"`` or None (Chinese labels when a CJK font is installed, else English).

    Returns
    -------
    Page
        With ``lang`` the language the figures' labels use.

    Examples
    --------
    >>> page = setup("params/beijing_2016.yaml", "data/raw/demo", "/tmp/perflab-doctest", lang="en")
    >>> page.lang, page.name, len(page.scheme.indicators)
    ('en', 'name_en', 7)
    """
    used = plots.theme(lang)
    the_scheme = load_scheme(scheme)
    with warnings.catch_warnings():  # notes on the input (extra columns...) are for the command line, not the page
        warnings.simplefilter("ignore", DataNote)
        dataset = load_dataset(data, the_scheme)
    return Page(the_scheme, dataset, Path(output), used, "name_zh" if used == "zh" else "name_en")
