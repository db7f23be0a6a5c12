"""What does the satisfaction survey say, by kind and by zone, against the published means?

The third-party survey gives each unit a satisfaction figure (0–100) and the number of respondents behind it.
:func:`satisfaction_units` is the scheme's year of it, one row per unit; :func:`satisfaction_summary` averages it
by kind and by zone, unweighted (each unit counts once, as the published means do) and weighted by respondents,
next to the published mean of the kind (``published.satisfaction`` in the scheme file).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.io import Dataset
from perflab.scheme import Scheme

SUMMARY_COLUMNS = [
    "level",
    "kind",
    "zone",
    "units",
    "units_with_respondents",
    "respondents",
    "mean",
    "weighted_mean",
    "published",
    "difference",
    "weighted_difference",
    "below_mean",
]


def survey_year(scheme: Scheme) -> int:
    """The survey year a scheme reads: the routine score's year, else the scheme's year.

    Parameters
    ----------
    scheme : Scheme

    Returns
    -------
    int
        Raises ValueError when the scheme names no year.

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> survey_year(load_scheme("params/beijing_2016.yaml"))
    2016
    """
    if scheme.routine is not None:
        return int(scheme.routine.year)
    if scheme.year is not None:
        return int(scheme.year)
    raise ValueError(f"scheme {scheme.name!r} names no year (routine.year or year): which survey year to read?")


def satisfaction_units(dataset: Dataset, scheme: Scheme, year: int | None = None) -> pd.DataFrame:
    """One row per unit surveyed in ``year``, with the published mean of its kind.

    Parameters
    ----------
    dataset : Dataset
        The validated data, with the survey table (``survey.csv``).
    scheme : Scheme
        Gives the year and the published means (``published.satisfaction``).
    year : int, optional
        The survey year; None: :func:`survey_year`.

    Returns
    -------
    pandas.DataFrame
        unit, kind, zone, satisfaction, respondents (missing or 0: no weight), published (the published mean of
        its kind) and below_mean (below its kind's unweighted mean).

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> u = satisfaction_units(load_dataset("data/raw/demo", scheme), scheme)
    >>> len(u), list(u.columns)
    (76, ['unit', 'kind', 'zone', 'satisfaction', 'respondents', 'published', 'below_mean'])
    """
    if dataset.survey is None:
        raise ValueError("the data set has no survey table (survey.csv): no satisfaction to summarise")
    year = survey_year(scheme) if year is None else int(year)
    sv = dataset.survey[dataset.survey["year"] == year]
    if sv.empty:
        years = sorted(int(y) for y in dataset.survey["year"].unique())
        raise ValueError(f"the survey has no rows for year {year}; it covers {years}")
    units = dataset.units[["unit", "kind", "zone"]]
    out = units.merge(sv[["unit", "satisfaction", "respondents"]], on="unit", how="inner")
    out["satisfaction"] = out["satisfaction"].astype(float)
    out["respondents"] = pd.to_numeric(out["respondents"], errors="coerce").astype(float)
    out["published"] = out["kind"].map(dict(scheme.published_satisfaction)).astype(float)
    out["below_mean"] = out["satisfaction"] < out.groupby("kind")["satisfaction"].transform("mean")
    return out.reset_index(drop=True)


def _summarise(g: pd.DataFrame) -> dict:
    w = g["respondents"].fillna(0.0).to_numpy()
    x = g["satisfaction"].to_numpy()
    weighted = float(np.sum(w * x) / w.sum()) if w.sum() > 0 else np.nan
    return {
        "units": len(g),
        "units_with_respondents": int((w > 0).sum()),
        "respondents": float(w.sum()),
        "mean": float(x.mean()),
        "weighted_mean": weighted,
        "below_mean": int(g["below_mean"].sum()),
    }


def satisfaction_summary(dataset: Dataset, scheme: Scheme, year: int | None = None) -> pd.DataFrame:
    """Mean satisfaction by kind (``level == "kind"``, ``zone`` empty) and by zone (``level == "zone"``).

    Columns: units surveyed, units with respondents, respondents (their sum), ``mean`` (unweighted: each unit once),
    ``weighted_mean`` (weighted by respondents; units without respondents drop out of it), ``published`` (the
    published mean of the kind, missing if the scheme gives none), ``difference`` and ``weighted_difference``
    (mean − published), and ``below_mean``: how many units lie below their kind's unweighted mean.

    Parameters
    ----------
    dataset : Dataset
        The validated data, with the survey table.
    scheme : Scheme
        Gives the year, the zones' order and the published means.
    year : int, optional
        The survey year; None: :func:`survey_year`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`: the kinds first, then the zones in the scheme's order.

    Examples
    --------
    >>> from perflab.io import load_dataset
    >>> from perflab.scheme import load_scheme
    >>> scheme = load_scheme("params/beijing_2016.yaml")
    >>> summary = satisfaction_summary(load_dataset("data/raw/demo", scheme), scheme)
    >>> summary.loc[summary["level"] == "kind", ["kind", "units", "published"]].values.tolist()
    [['district', 16, 79.73], ['department', 60, 93.9]]
    """
    u = satisfaction_units(dataset, scheme, year)
    zone_order = {z.id: n for n, z in enumerate(scheme.zones)}
    kind_order = {"district": 0, "department": 1}
    rows = [{"level": "kind", "kind": k, "zone": pd.NA, **_summarise(g)} for k, g in u.groupby("kind", sort=False)]
    rows += [
        {"level": "zone", "kind": k, "zone": z, **_summarise(g)}
        for (k, z), g in u.groupby(["kind", "zone"], sort=False)
    ]
    out = pd.DataFrame(rows)
    out["published"] = out["kind"].map(dict(scheme.published_satisfaction)).astype(float)
    out["difference"] = out["mean"] - out["published"]
    out["weighted_difference"] = out["weighted_mean"] - out["published"]
    out["respondents"] = out["respondents"].astype("int64")
    key = (
        out["level"].map({"kind": 0, "zone": 1}) * 1000
        + out["kind"].map(kind_order).fillna(9) * 100
        + out["zone"].map(zone_order).fillna(-1)
    )
    out = out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    return out[SUMMARY_COLUMNS]


__all__ = ["satisfaction_summary", "satisfaction_units", "survey_year"]
