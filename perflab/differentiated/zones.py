"""Each unit against the peers of its zone: z-scores and percentiles, small zones borrowing their kind's spread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.errors import DataError, quote


def zone_relative(
    table: pd.DataFrame, units: pd.DataFrame, value: str, by: list[str] | None = None, min_zone_size: int = 1
) -> pd.DataFrame:
    """Each unit's ``value`` as a z-score and a percentile among the units of its zone (and ``by`` groups).

    z = (value − zone mean) / spread. The spread is the zone's population sd when the zone has at least
    ``min_zone_size`` units with a value; a smaller zone's own sd says little (two units always give z = ±1, whatever
    their gap), so it borrows the spread pooled over the zones of its kind: the pooled within-zone sd,
    sqrt(Σ squared deviations from each zone's mean / Σ (units − 1)). Zero spread gives z = 0.
    percentile = 100 · (mid-rank − 1) / (n − 1) within the zone, 50 for a zone of one. Only peers are compared,
    so adding a constant to every unit of a zone changes nothing. Columns added: zone, zone_n, zone_sd (the
    spread used), spread_from ('zone' or 'kind'), zone_z, zone_pct.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per unit (and ``by`` group), with a ``unit`` column and the ``value`` column.
    units : pandas.DataFrame
        The units table (each unit's zone and kind).
    value : str
        The column to standardise.
    by : list of str, optional
        Further columns to compare within (e.g. ``["measure"]``).
    min_zone_size : int
        The fewest units with a value for a zone to use its own spread.

    Returns
    -------
    pandas.DataFrame
        ``table`` with the columns above added.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": list("ABCD"), "kind": "district", "zone": ["z1", "z1", "z1", "z2"]})
    >>> r = zone_relative(pd.DataFrame({"unit": list("ABCD"), "v": [1.0, 2.0, 3.0, 7.0]}), units, "v")
    >>> r["zone_z"].round(3).tolist(), r["zone_pct"].tolist()
    ([-1.225, 0.0, 1.225, 0.0], [0.0, 50.0, 100.0, 50.0])
    """
    if value not in table.columns:
        raise DataError(f"no column {value!r} in the table", column=value)
    if isinstance(min_zone_size, bool) or not isinstance(min_zone_size, (int, np.integer)) or min_zone_size < 1:
        raise ValueError(f"min_zone_size must be a whole number >= 1, got {min_zone_size!r}")
    u = units.set_index("unit")
    zone_of = u["zone"]
    out = table.copy()
    unknown = ~out["unit"].isin(zone_of.index)
    if unknown.any():
        raise DataError(f"unit {quote(out.loc[unknown, 'unit'].iloc[0])} is not in the units table", column="unit")
    out["zone"] = out["unit"].map(zone_of)
    if out["zone"].isna().any():
        raise DataError(
            f"unit {quote(out.loc[out['zone'].isna(), 'unit'].iloc[0])} has no zone in the units table", column="zone"
        )
    keys = ["zone"] + list(by or [])
    x = out[value].astype(float).round(9)  # equal to 9 decimals is equal (as in perflab.scoring.rank_desc)
    g = x.groupby([out[k] for k in keys], observed=True)
    mean, sd, n = g.transform("mean"), g.transform(lambda s: s.std(ddof=0)), g.transform("count")
    small = n < min_zone_size
    if small.any():
        kind = out["unit"].map(u["kind"]) if "kind" in u.columns else pd.Series("all", index=out.index)
        pool_keys = [kind] + [out[k] for k in (by or [])]
        ss = ((x - mean) ** 2).groupby(pool_keys, observed=True).transform("sum")
        # each member carries (n − 1) / n of its zone's degrees of freedom: summed, Σ (n_zone − 1) over the kind
        dof = ((n - 1) / n.where(n > 0, 1)).where(x.notna(), 0.0).groupby(pool_keys, observed=True).transform("sum")
        pooled = np.sqrt(ss / dof.where(dof > 0, np.nan)).fillna(0.0)
        sd = sd.where(~small, pooled)
    spread = sd > 1e-12 * np.maximum(1.0, mean.abs())  # below this, differences are rounding, not performance
    out["zone_n"] = n.astype(int)
    out["zone_sd"] = sd.where(x.notna())
    out["spread_from"] = pd.Series(np.where(small, "kind", "zone"), index=out.index, dtype="string")
    out["zone_z"] = np.where(spread, (x - mean) / sd.where(spread, 1.0), np.where(x.notna(), 0.0, np.nan))
    rank = g.rank(method="average")
    out["zone_pct"] = np.where(n > 1, 100.0 * (rank - 1) / (n - 1).where(n > 1, 1), np.where(x.notna(), 50.0, np.nan))
    return out
