"""The data model: the tables of an evaluation, their columns and keys, and the :class:`Dataset` that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABLES = ("units", "raters", "ratings", "history", "survey", "verification", "assessments", "adjustments")
REQUIRED_TABLES = ("units", "raters", "ratings")
SUFFIXES = (".csv", ".csv.gz", ".xlsx")
ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8
SIMULATED_MARKER = "SIMULATED.json"  # written by `perflab simulate` beside the tables it makes


@dataclass(frozen=True)
class Column:
    """One column of the data model: its type, whether it must be present and whether it may be blank."""

    name: str
    kind: str  # id | text | float | int | bool
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    # an optional column absent from the file is added blank, unless `added` is False: then the table keeps
    # the columns it had (a column added later to the data model, e.g. history's challenge, changes nothing)
    added: bool = True


SPEC: dict[str, tuple[Column, ...]] = {
    "units": (
        Column("unit", "id"),
        Column("kind", "id"),
        Column("zone", "id"),
        Column("name_zh", "text"),
        Column("name_en", "text"),
        Column("presented", "bool", required=False, nullable=True),
    ),
    "raters": (
        Column("rater", "id"),
        Column("group", "id"),
        Column("home_unit", "id", nullable=True),
    ),
    "ratings": (
        Column("rater", "id"),
        Column("unit", "id"),
        Column("indicator", "id"),
        Column("score", "float", nullable=True, minimum=0, maximum=100),
        Column("grade", "id", required=False, nullable=True),
        Column("session", "int", nullable=True, minimum=1),
        Column("order", "int", nullable=True, minimum=1),
    ),
    "history": (
        Column("unit", "id"),
        Column("measure", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("value", "float"),
        Column("target", "float", nullable=True),
        Column("challenge", "float", required=False, nullable=True, added=False),  # 挑战值: beyond the target
    ),
    "survey": (
        Column("unit", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("satisfaction", "float", minimum=0, maximum=100),
        Column("respondents", "int", nullable=True, minimum=0),
    ),
    "verification": (
        Column("unit", "id"),
        Column("year", "int", minimum=1900, maximum=2200),
        Column("claim", "text"),
        Column("verified", "bool"),
    ),
    "assessments": (  # the special-evaluation departments' evidence for each unit and indicator
        Column("unit", "id"),
        Column("indicator", "id"),
        Column("department", "text"),
        Column("summary", "text", nullable=True),
        Column("opinion", "text", nullable=True),
        Column("band", "id", nullable=True),
    ),
    "adjustments": (  # bonus and deduction points (加分, 扣分) outside the weighted tree; the item's type gives the sign
        Column("unit", "id"),
        Column("item", "id"),
        Column("points", "float"),
        Column("reason", "text"),
    ),
}

KEYS = {
    "units": ("unit",),
    "raters": ("rater",),
    "ratings": ("rater", "unit", "indicator"),
    "history": ("unit", "measure", "year"),
    "survey": ("unit", "year"),
    "verification": ("unit", "year", "claim"),
    "assessments": ("unit", "indicator", "department"),
    "adjustments": ("unit", "item", "reason"),
}


@dataclass(frozen=True)
class Dataset:
    """The validated tables of one evaluation; optional tables are None when absent."""

    units: pd.DataFrame
    raters: pd.DataFrame
    ratings: pd.DataFrame
    indicators: pd.DataFrame
    history: pd.DataFrame | None = None
    survey: pd.DataFrame | None = None
    verification: pd.DataFrame | None = None
    assessments: pd.DataFrame | None = None
    adjustments: pd.DataFrame | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    root: Path | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables by name, including `indicators` (from the scheme)."""
        out = {n: getattr(self, n) for n in TABLES if getattr(self, n) is not None}
        out["indicators"] = self.indicators
        return out

    def file(self, table: str) -> str:
        """The file a table came from (for error messages)."""
        return str(self.files.get(table, f"{table} table"))


@dataclass(frozen=True)
class DatasetSummary:
    """What a data directory holds, in three small tables.

    ``tables``: rows and source file per table (index: table name);
    ``units``: units per kind × zone and how many presented; ``raters``:
    evaluators per group and the mean number of units each scored.
    """

    tables: pd.DataFrame
    units: pd.DataFrame
    raters: pd.DataFrame

    def __getitem__(self, name: str) -> pd.DataFrame:
        """``summary["units"]`` as ``summary.units`` (the mapping form earlier versions returned)."""
        if name not in ("tables", "units", "raters"):
            raise KeyError(name)
        return getattr(self, name)

    def summary(self) -> pd.DataFrame:
        """One line per table: rows and file (the ``tables`` table)."""
        return self.tables


def describe_dataset(dataset: Dataset) -> DatasetSummary:
    """Small summary tables: rows per table, units per kind × zone (and how many presented), raters per group.

    Parameters
    ----------
    dataset : Dataset
        Validated tables, as :func:`perflab.io.load_dataset` returns them.

    Returns
    -------
    DatasetSummary
        ``tables``, ``units`` and ``raters`` DataFrames.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> d = describe_dataset(load_dataset("data/raw/demo", load_scheme("params/beijing_2016.yaml")))
    >>> int(d.tables.loc["units", "rows"]), int(d.units["units"].sum()), int(d.units["presented"].sum())
    (76, 76, 59)
    >>> d.raters["group"].tolist()
    [...'grassroots'...]
    """
    tables = pd.DataFrame(
        {
            "rows": {name: len(df) for name, df in dataset.tables().items()},
            "file": {n: dataset.file(n) for n in dataset.tables()},
        }
    )
    u = dataset.units
    units = (
        u.groupby(["kind", "zone"], observed=True)
        .agg(units=("unit", "size"), presented=("presented", "sum"))
        .reset_index()
    )
    r = dataset.ratings
    per_rater = r.groupby("rater").agg(units_scored=("unit", "nunique"))
    raters = (
        dataset.raters.merge(per_rater, left_on="rater", right_index=True, how="left")
        .groupby("group", observed=True)
        .agg(raters=("rater", "size"), mean_units_scored=("units_scored", "mean"))
        .reset_index()
    )
    return DatasetSummary(tables=tables, units=units, raters=raters)
