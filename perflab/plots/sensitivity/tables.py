"""The tables the sensitivity pages show: headers in words, one row per thing a reader compares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perflab.plots.sensitivity.words import group_words, pct


def oat_table(oat: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per indicator and direction: the weight moved (from → to), and per ranking group how many units
    change rank and the largest change — headers in words.
    Parameters
    ----------
    oat
        The long table of :func:`perflab.sensitivity.one_at_a_time`.
    labels
        Indicator id → its name.

    Returns
    -------
    pandas.DataFrame
        Indicator, Change, Weight, then per rank group the units changing rank and the largest change.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import one_at_a_time
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> table = oat_table(one_at_a_time(scores, pd.Series({"a": 1.0, "b": 1.0}), step=0.5))
    >>> table["Change"].tolist(), table["units: units changing rank (of 3)"].tolist()
    (['−50 %', '+50 %', '−50 %', '+50 %'], [2, 2, 2, 2])
    """
    g = (
        oat.assign(moved=oat["rank_change"] != 0, abs_change=oat["rank_change"].abs())
        .groupby(["indicator", "change", "nominal_weight", "weight", "rank_group"], sort=False)
        .agg(units=("unit", "size"), moved=("moved", "sum"), largest=("abs_change", "max"))
        .reset_index()
    )
    rows = g[["indicator", "change", "nominal_weight", "weight"]].drop_duplicates().reset_index(drop=True)
    out = pd.DataFrame(
        {
            "Indicator": rows["indicator"].map(lambda x: (labels or {}).get(x, x)),
            "Change": [pct(c, sign=True) for c in rows["change"]],
            "Weight": [f"{a:g}\u00a0→\u00a0{b:g}" for a, b in zip(rows["nominal_weight"], rows["weight"])],
        }
    )  # never wraps
    for grp in pd.unique(g["rank_group"]):
        sub = g[g["rank_group"] == grp].set_index(["indicator", "change"])
        key = pd.MultiIndex.from_frame(rows[["indicator", "change"]])
        n = int(sub["units"].iloc[0])
        out[f"{group_words(grp)}: units changing rank (of {n})"] = sub["moved"].reindex(key).to_numpy().astype(int)
        out[f"{group_words(grp)}: largest rank change"] = sub["largest"].reindex(key).to_numpy().astype(int)
    return out


def tau_table(results: dict) -> pd.DataFrame:
    """Kendall's τ against the scheme's ranking, per perturbation (``results``: label → MonteCarloResult) and
    ranking group: the number of draws it is computed on, mean, 5 %, median, 95 % and lowest.
    Parameters
    ----------
    results
        Perturbation label → :class:`perflab.sensitivity.MonteCarloResult`.

    Returns
    -------
    pandas.DataFrame
        One row per perturbation and rank group.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import monte_carlo
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> mc = monte_carlo(scores, pd.Series({"a": 1.0, "b": 1.0}), n=100, spread=0.5, seed=1, k=1)
    >>> tau_table({"weights": mc})[["Perturbation", "Ranking group", "Draws τ is computed on"]]
      Perturbation Ranking group  Draws τ is computed on
    0      weights         units                     100
    """
    rows = []
    for label, res in results.items():
        for grp, tau in res.tau.groupby("rank_group", sort=False)["tau"]:
            rows.append(
                {
                    "Perturbation": label,
                    "Ranking group": group_words(grp),
                    "Draws τ is computed on": int(tau.size),
                    "Mean τ": tau.mean(),
                    "5 % quantile": tau.quantile(0.05),
                    "Median": tau.median(),
                    "95 % quantile": tau.quantile(0.95),
                    "Lowest": tau.min(),
                }
            )
    return pd.DataFrame(rows)


def _group_words(grp: str, written: bool | None) -> str:
    if written is None:
        return group_words(grp)
    return group_words(grp) + (" — written report (on-site score imputed)" if written else " — presented on site")


def width_table(results: dict) -> pd.DataFrame:
    """Rank-interval widths per perturbation (``results``: label → MonteCarloResult), ranking group and — apart —
    the written-report units: units, mean, median and largest 5–95 % width, units with a single rank.
    Parameters
    ----------
    results
        Perturbation label → :class:`perflab.sensitivity.MonteCarloResult`.

    Returns
    -------
    pandas.DataFrame
        One row per perturbation, rank group and (when known) written-report status.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import monte_carlo
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> mc = monte_carlo(scores, pd.Series({"a": 1.0, "b": 1.0}), n=100, spread=0.5, seed=1, k=1)
    >>> width_table({"weights": mc})[["Units", "Number", "Largest width"]]
       Units  Number  Largest width
    0  units       3              2
    """
    rows = []
    for label, res in results.items():
        w = res.interval_widths()
        for r in w.itertuples(index=False):
            rows.append(
                {
                    "Perturbation": label,
                    "Units": _group_words(r.rank_group, getattr(r, "written_report", None)),
                    "Number": int(r.units),
                    "Mean width (ranks)": r.mean_width,
                    "Median width": r.median_width,
                    "Largest width": r.largest_width,
                    "Units with a single rank": int(r.single_rank),
                }
            )
    return pd.DataFrame(rows)


def sobol_inputs_table(result, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Each Sobol input's nominal value, the range sampled, and where it ends up after renormalisation.
    Parameters
    ----------
    result
        A :class:`perflab.sensitivity.SobolResult`.
    labels
        Input id → its name.

    Returns
    -------
    pandas.DataFrame
        Input, Scheme's value, Range sampled, As % of the scheme's value, After renormalising (extremes).

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import sobol_indices
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> sob = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=16, spread=0.5, seed=1, num_resamples=10)
    >>> sobol_inputs_table(sob)[["Input", "Range sampled"]]
      Input Range sampled
    0     a     0.5 – 1.5
    1     b     0.5 – 1.5
    """
    i = result.inputs
    lab = i["input"].map(lambda x: (labels or {}).get(x, x))
    return pd.DataFrame(
        {
            "Input": lab,
            "Scheme's value": i["nominal"].map(lambda v: f"{v:g}"),
            "Range sampled": [f"{a:.3g} – {b:.3g}" for a, b in zip(i["low"], i["high"])],
            "As % of the scheme's value": [
                f"{pct(a / 100, sign=True)} to {pct(b / 100, sign=True)}" for a, b in zip(i["low_pct"], i["high_pct"])
            ],
            "After renormalising (extremes)": [
                f"{a:.3g} – {b:.3g} ({pct(c / 100, sign=True)} to {pct(d / 100, sign=True)})"
                for a, b, c, d in zip(
                    i["effective_low"], i["effective_high"], i["effective_low_pct"], i["effective_high_pct"]
                )
            ],
        }
    )


def sobol_table(result, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Per ranking group and input: S1 and ST on the group's mean absolute rank shift with their 95 % half-widths,
    then a row with the interaction share 1 − ΣS1 — headers in words.
    Parameters
    ----------
    result
        A :class:`perflab.sensitivity.SobolResult`.
    labels
        Input id → its name.

    Returns
    -------
    pandas.DataFrame
        Ranking group, Input, First order S1, its ±, Total ST, its ±.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import sobol_indices
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> sob = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=16, spread=0.5, seed=1, num_resamples=10)
    >>> sobol_table(sob)["Input"].tolist()
    ['a', 'b', 'interactions (1 − ΣS1)']
    """
    level = round(100 * result.settings.get("conf_level", 0.95))
    summ = result.summary()
    inter = result.group_interaction().set_index("rank_group")
    rows = []
    for grp in pd.unique(summ["rank_group"]):
        for r in summ[summ["rank_group"] == grp].itertuples(index=False):
            rows.append((group_words(grp), (labels or {}).get(r.input, r.input), r.S1, r.S1_conf, r.ST, r.ST_conf))
        rows.append(
            (
                group_words(grp),
                "interactions (1 − ΣS1)",
                inter.loc[grp, "interaction"],
                inter.loc[grp, "interaction_conf"],
                np.nan,
                np.nan,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Ranking group",
            "Input",
            "First order S1",
            f"S1 ± ({level} % interval)",
            "Total ST",
            f"ST ± ({level} % interval)",
        ],
    )
