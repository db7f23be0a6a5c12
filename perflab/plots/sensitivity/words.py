"""Words and numbers for the sensitivity pages' prose (English; figures follow the language)."""

from __future__ import annotations

import pandas as pd

from perflab.plots import KIND_LABEL, t


def group_words(group: str) -> str:
    """A ranking group in English words (the pages' prose and tables are English; figures follow the language):
    "district governments", "municipal departments", or "units" when the scheme ranks all units together.

    Examples
    --------
    >>> group_words("district"), group_words("all")
    ('district governments', 'units')
    """
    return "units" if group == "all" else KIND_LABEL.get(group, (group, group))[1]


WRITTEN_MARK = " †"  # after the name of a unit with no on-site ratings (written report only; on-site score imputed)


def pct(x: float, digits: int = 0, sign: bool = False) -> str:
    """A fraction as a percentage in words: 0.2 → "20 %"; negative values "−27 %"; ``sign``: "+20 %".

    Parameters
    ----------
    x : float
        The fraction (0.2 for 20 %).
    digits : int
        Decimal places of the percentage.
    sign : bool
        Write "+" before a positive value (a change); a negative one always gets a minus sign (−, not -).

    Returns
    -------
    str
        The percentage, a space before "%".

    Examples
    --------
    >>> pct(0.2), pct(-0.273), pct(0.2, sign=True), pct(0.1234, digits=1)
    ('20 %', '−27 %', '+20 %', '12.3 %')
    """
    v = round(100 * float(x), digits)
    mag = f"{abs(v):.{digits}f} %"
    if v < 0:
        return "−" + mag
    return "+" + mag if sign and v > 0 else mag


def pm(x: float, digits: int = 0) -> str:
    """A relative change as "±20 %": how far a weight is varied either way.

    Parameters
    ----------
    x : float
        The relative change (0.2 for ±20 %).
    digits : int
        Decimal places of the percentage.

    Returns
    -------
    str
        "±" and the percentage (:func:`pct`).

    Examples
    --------
    >>> pm(0.2)
    '±20 %'
    """
    return "±" + pct(x, digits)


def mark_written(names: pd.Series, written: pd.Series) -> pd.Series:
    """Unit names with † after those of written-report units (no on-site ratings: on-site score imputed).

    Parameters
    ----------
    names : pandas.Series
        Unit → name.
    written : pandas.Series of bool
        Unit → True for a written-report unit (:func:`perflab.sensitivity.written_report_units`); units it lacks
        are not marked.

    Returns
    -------
    pandas.Series
        The names as text, :data:`WRITTEN_MARK` after the written-report units', in the order of ``names``.

    Examples
    --------
    >>> import pandas as pd
    >>> mark_written(pd.Series({"D01": "Dongcheng", "M01": "Finance"}), pd.Series({"D01": False, "M01": True})).tolist()
    ['Dongcheng', 'Finance †']
    """
    w = written.reindex(names.index).fillna(False).astype(bool)
    return names.astype(str).where(~w, names.astype(str) + WRITTEN_MARK)


def share_words(group_name: str) -> str:
    """The Sobol input "share of a group" in the pages' English prose and tables: "share of the grassroots
    representatives" (a Chinese name stays as it is, like the indicators' names).

    Parameters
    ----------
    group_name : str
        The evaluator group's name; its first letter is lowered inside the sentence unless the name starts with an
        acronym ("NPC deputies").

    Returns
    -------
    str
        "share of the ..." in English.

    Examples
    --------
    >>> share_words("Grassroots representatives")
    'share of the grassroots representatives'
    >>> share_words("NPC deputies")
    'share of the NPC deputies'
    """
    return f"share of the {_lower_first(group_name)}"


def share_label(group_name: str) -> str:
    """The Sobol input "share of a group" for a figure, all in the figure's language (pass the name in it).

    Parameters
    ----------
    group_name : str
        The evaluator group's name in the figure's language (:func:`perflab.plots.lang`).

    Returns
    -------
    str
        "XX的权重" with Chinese labels, else :func:`share_words`.

    Examples
    --------
    >>> from perflab import plots
    >>> _ = plots.theme("en")
    >>> share_label("Grassroots representatives")
    'share of the grassroots representatives'
    """
    return t(f"{group_name}的权重", share_words(group_name))


def _lower_first(words: str) -> str:
    """A name inside an English sentence: "Grassroots representatives" → "grassroots representatives"."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def sobol_inputs_text(result, labels: dict[str, str] | None = None) -> str:
    """What the Sobol analysis varied and by how much, in words (Markdown), from ``result.inputs``/``settings``.
    Parameters
    ----------
    result
        A :class:`perflab.sensitivity.SobolResult`.
    labels
        Input id → its name in the page's prose (indicators, ``share:<group>``).

    Returns
    -------
    str
        A Markdown paragraph.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import sobol_indices
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> sob = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=16, spread=0.5, seed=1, num_resamples=10)
    >>> sobol_inputs_text(sob).startswith("**Inputs and their ranges.** 16 base points")
    True
    """
    from perflab.sensitivity import SOBOL_ESTIMATOR

    st, inp = result.settings, result.inputs
    x = st["spread"]
    share = inp["input"].astype(str).str.startswith("share:")
    w = inp[~share]
    total = float(w["nominal"].sum())
    ext = "; ".join(
        f"a {r.nominal:g}-point weight between {r.effective_low:.3g} and {r.effective_high:.3g} "
        f"({pct(r.effective_low_pct / 100, sign=True)} to {pct(r.effective_high_pct / 100, sign=True)})"
        for r in w.drop_duplicates("nominal").sort_values("nominal", ascending=False).itertuples()
    )
    level = round(100 * st["conf_level"])
    text = (
        f"**Inputs and their ranges.** {st['n']:,} base points, {st['runs']:,} model runs on Saltelli's design; "
        f"estimators: {SOBOL_ESTIMATOR}; {level} % intervals by bootstrap over the base points "
        f"({st['num_resamples']} resamples). Each of the {len(w)} weights is multiplied by its own random factor "
        f"between {1 - x:g} and {1 + x:g} ({pm(x)} of its value) and the weights are renormalised to their total of "
        f"{total:g}. Renormalising moves each weight further than its own factor, because the others move too: at "
        f"the extremes, {ext}. The factors are independent inputs; the renormalised weights are not (they always "
        f"sum to {total:g})."
    )
    if share.any():
        r = inp[share].iloc[0]
        lab = (labels or {}).get(r["input"], r["input"])
        if not st.get("share_range_given"):
            text += (
                f" The {lab} moves between {r['low']:.3g} and {r['high']:.3g}, {pm(x)} of its {r['nominal']:.3g} "
                "in the scheme (the other groups rescaled): the same relative range as each weight's factor."
            )
        else:
            wider = (r["high"] - r["low"]) / r["nominal"] / (2 * x)
            text += (
                f" The {lab} moves between {r['low']:g} and {r['high']:g}, {pct(r['low_pct'] / 100, sign=True)} "
                f"to {pct(r['high_pct'] / 100, sign=True)} of its {r['nominal']:.3g} in the scheme (the other groups "
                f"rescaled): relative to its value, a range {wider:.1f} times as wide as each weight's {pm(x)}. "
                "This wider range was asked for explicitly (`sobol_share_range`): it answers whether any share "
                "within it moves the ranking more than the weights do, and the share's indices are then not "
                "comparable one for one with the weights'."
            )
    return text


def sobol_findings(result, labels: dict[str, str] | None = None) -> str:
    """The Sobol results in words (Markdown): per ranking group the leading inputs by total index with their
    intervals, where the share stands, the interaction share, and what the negative first-order estimates mean.
    Parameters
    ----------
    result
        A :class:`perflab.sensitivity.SobolResult`.
    labels
        Input id → its name in the page's prose.

    Returns
    -------
    str
        Markdown, one paragraph per rank group.

    Examples
    --------
    >>> import pandas as pd
    >>> from perflab.sensitivity import sobol_indices
    >>> scores = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [60.0, 75.0, 72.0]}, index=["X", "Y", "Z"])
    >>> sob = sobol_indices(scores, pd.Series({"a": 1.0, "b": 1.0}), n=16, spread=0.5, seed=1, num_resamples=10)
    >>> sobol_findings(sob).startswith("**All units**, with every input moved by ±50 % of its value")
    True
    """
    summ = result.summary()
    inter = result.group_interaction().set_index("rank_group")
    lab = lambda i: (labels or {}).get(i, i)  # noqa: E731
    x = result.settings["spread"]
    move = (
        f"every input moved by {pm(x)} of its value"
        if not result.settings.get("share_range_given")
        else f"every weight moved by {pm(x)} and the share over its own range"
    )
    parts = []
    for grp in pd.unique(summ["rank_group"]):
        s = summ[summ["rank_group"] == grp].reset_index(drop=True)
        lead = "; then ".join(f"{lab(r.input)} (ST {r.ST:.2f} ± {r.ST_conf:.2f})" for r in s.head(2).itertuples())
        words = "all units" if grp == "all" else group_words(grp)
        text = f"**{words[:1].upper() + words[1:]}**, with {move}: the largest total indices are {lead}"
        sh = s.index[s["input"].astype(str).str.startswith("share:")]
        if len(sh) and sh[0] > 1:
            r = s.loc[sh[0]]
            text += f"; the {lab(r['input'])} is {_ordinal(int(sh[0]) + 1)} of {len(s)} (ST {r['ST']:.2f} ± {r['ST_conf']:.2f})"
        i = inter.loc[grp]
        text += (
            f". Interactions (1 − ΣS1) account for {i['interaction']:.2f} ± {i['interaction_conf']:.2f} of the "
            "variance of the group's mean rank shift."
        )
        parts.append(text)
    big = inter["interaction"].max()
    if big > 0.2:
        parts.append(
            f"An interaction share as large as {big:.2f} is expected of this output: the mean rank shift is a "
            "distance from the scheme's ranking, so it grows whichever way an input moves, and an input's "
            "first-order index (its effect on average over the others) stays small while its total index "
            "(with the others moving) does not."
        )
    neg = summ[summ["S1"] < 0]
    if len(neg):
        within = bool((neg["S1"] + neg["S1_conf"] >= 0).all())
        parts.append(
            f"{len(neg)} of the {len(summ)} first-order estimates are below 0; "
            + (
                "each is within its interval of 0 — an index cannot be negative, so read them as 0."
                if within
                else f"{int((neg['S1'] + neg['S1_conf'] < 0).sum())} of them by more than their "
                "interval: the sample is too small for them (raise `n_sobol`)."
            )
        )
    return "\n\n".join(parts)
