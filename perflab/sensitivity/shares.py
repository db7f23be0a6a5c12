"""What does one evaluator group's share do to the ranking? Exact breakpoints, grade changes and stable ranges.

The group's share is set to s and the other groups rescaled proportionally to sum to 1 − s. The shares
combine the groups arithmetically within each indicator, so with the arithmetic composite every unit's score
is linear in s and every breakpoint is an exact crossing point. Under a non-linear composite the unit × group
table no longer combines into the final score, so these functions refuse it (``composite=``); the Sobol
analysis (:func:`sobol_indices` with ``group=``) moves a share under any composite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from perflab.composite import require_linear
from perflab.errors import SchemeError
from perflab.ranking import factorize_groups, ranks_by_group
from perflab.sensitivity._checks import check_composite, check_k, check_range, check_scores, check_shares
from perflab.sensitivity.paths import LinearPath, band_edges, band_index, event_grid

SWAP_COLUMNS = [
    "share",
    "rank_group",
    "unit_up",
    "unit_down",
    "rank_up_before",
    "rank_up_after",
    "rank_down_before",
    "rank_down_after",
    "top_k_changes",
]


@dataclass(frozen=True)
class ShareBreakpoints:
    """Exact breakpoints of the ranking as one evaluator group's share moves (the other groups rescaled).

    ``swaps``: share, rank_group, unit_up, unit_down (the two units whose order flips there: unit_up
    overtakes as the share rises), rank changes and whether the top-k set changes there;
    ``segments``: share_low, share_high, unit, rank_group, rank (ranks are constant strictly inside each
    segment); ``breakpoints``: share, n_swaps, top_k_changes.
    """

    swaps: pd.DataFrame
    segments: pd.DataFrame
    breakpoints: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Every breakpoint: share, n_swaps, top_k_changes."""
        return self.breakpoints

    def ranks_at(self, share: float) -> pd.Series:
        """Ranks at a share value (inside a segment), from the exact segments."""
        s = self.segments
        sub = s[(s["share_low"] <= share) & (s["share_high"] >= share)].drop_duplicates("unit")
        return sub.set_index("unit")["rank"]


def _share_line(group_scores, shares, group, composite, what):
    """Each unit's score at share 0 (the other groups, rescaled) and at share 1 (the group alone) of ``group``."""
    require_linear(check_composite(composite), what)
    group_scores = check_scores(group_scores, "group scores")
    s = check_shares(shares, group_scores.columns, group)
    rest = s.drop(group)
    if rest.sum() <= 0:
        raise SchemeError(f"cannot rescale: every group other than {group!r} has share 0")
    G = group_scores[s.index].to_numpy(float)
    own = G[:, list(s.index).index(group)]
    other = G[:, [list(s.index).index(g) for g in rest.index]] @ (rest / rest.sum()).to_numpy()
    return group_scores, s, own, other


def share_breakpoints(
    group_scores: pd.DataFrame,
    shares: pd.Series,
    group: str,
    k: int = 3,
    share_range: tuple[float, float] = (0.0, 1.0),
    rank_group=None,
    composite: str = "arithmetic",
) -> ShareBreakpoints:
    """Every value of one group's share at which a rank or the top-k set changes, and which units swap there.

    The group's share is set to s and the others rescaled proportionally to sum to 1 − s, so every unit's
    score is linear in s: the breakpoints are the crossing points, exact.

    Parameters
    ----------
    group_scores
        Unit × evaluator-group scores (:func:`unit_group_scores`).
    shares
        The groups' shares (``scheme.shares``).
    group
        The group whose share moves.
    k
        The top k whose changes are marked.
    share_range
        (low, high): the range of the share studied.
    rank_group
        Each unit's rank group, or None (all units together).
    composite
        The scheme's composite: a non-linear one is refused (:class:`perflab.composite.NonLinearComposite`).

    Returns
    -------
    ShareBreakpoints
        ``swaps``, ``segments``, ``breakpoints``; ``ranks_at(share)``.

    Examples
    --------
    >>> groups = pd.DataFrame({"experts": [90.0, 70.0, 80.0], "grassroots": [60.0, 85.0, 70.0]}, index=["X", "Y", "Z"])
    >>> shares = pd.Series({"experts": 0.7, "grassroots": 0.3})
    >>> sb = share_breakpoints(groups, shares, "grassroots", k=1)
    >>> sb.swaps[["share", "unit_up", "unit_down", "top_k_changes"]].round(3)
       share unit_up unit_down  top_k_changes
    0  0.400       Y         Z          False
    1  0.444       Y         X           True
    2  0.500       Z         X          False
    """
    group_scores, s, own, other = _share_line(group_scores, shares, group, composite, "exact share breakpoints")
    k = check_k(k)
    lo, hi = check_range(share_range)
    codes, labels = factorize_groups(rank_group, group_scores.index)
    path = LinearPath(other, own, 0.0, 1.0, lo, hi, codes, len(labels))
    cr = path.crossings()
    pts, is_event, _ = event_grid(cr["t"], lo, hi)
    R = path.ranks(pts)
    lab = np.array(labels, dtype=object)
    units = group_scores.index
    # segments between consecutive events: ranks at the midpoints
    mids = np.flatnonzero(~is_event)
    seg = pd.DataFrame(
        {
            "share_low": np.repeat(pts[mids - 1], len(units)),
            "share_high": np.repeat(pts[mids + 1], len(units)),
            "unit": np.tile(units.to_numpy(), mids.size),
            "rank_group": np.tile(lab[codes], mids.size),
            "rank": R[mids].ravel(),
        }
    )
    swaps = pd.DataFrame(_swap_rows(cr, pts, is_event, R, codes, lab, units, k), columns=SWAP_COLUMNS)
    swaps = swaps.sort_values(["share", "rank_group", "rank_up_after"], kind="mergesort").reset_index(drop=True)
    bp = swaps.groupby("share", sort=True).agg(n_swaps=("unit_up", "size"), top_k_changes=("top_k_changes", "any"))
    return ShareBreakpoints(
        swaps,
        seg,
        bp.reset_index(),
        {"group": group, "k": k, "share_range": (lo, hi), "nominal_share": float(s[group])},
    )


def _swap_rows(cr, pts, is_event, R, codes, lab, units, k) -> list[dict]:
    """Crossings where the two units' order flips between the neighbouring segments."""
    ev_pos = {float(p): i for i, p in enumerate(pts) if is_event[i]}
    rows = []
    for t, u, v in zip(cr["t"], cr["u"], cr["v"]):
        i = ev_pos.get(float(t))
        if i is None:
            i = int(np.argmin(np.where(is_event, np.abs(pts - t), np.inf)))
        left, right = (i - 1 if i > 0 else None), (i + 1 if i < pts.size - 1 else None)
        if left is None or right is None:
            continue  # a crossing at the end of the range: no change inside it
        rl, rr = R[left], R[right]
        if np.sign(rl[u] - rl[v]) == np.sign(rr[u] - rr[v]):
            continue  # the two lines cross but their order at the tie resolution is the same on both sides
        up, down = (u, v) if rr[u] < rr[v] else (v, u)
        g = codes[u]
        m = codes == g
        topk = bool(((rl[m] <= k) != (rr[m] <= k)).any())
        rows.append(
            {
                "share": pts[i],
                "rank_group": lab[g],
                "unit_up": units[up],
                "unit_down": units[down],
                "rank_up_before": rl[up],
                "rank_up_after": rr[up],
                "rank_down_before": rl[down],
                "rank_down_after": rr[down],
                "top_k_changes": topk,
            }
        )
    return rows


def share_grade_changes(
    group_scores: pd.DataFrame,
    shares: pd.Series,
    group: str,
    bands,
    share_range: tuple[float, float] = (0.0, 1.0),
    composite: str = "arithmetic",
) -> pd.DataFrame:
    """Every value of one group's share at which a unit's grade band changes (the other groups rescaled).

    Each unit's score is linear in the share s (see :func:`share_breakpoints`), so it crosses a band edge
    at most once per edge.

    Parameters
    ----------
    group_scores, shares, group, share_range, composite
        As :func:`share_breakpoints`; ``group_scores`` on the scale the bands apply to (the final score).
    bands
        The scheme's bands (``scheme.bands``).

    Returns
    -------
    pandas.DataFrame
        share, unit, score (the edge), grade_below and grade_above (the grade just below and just above
        that share).

    Examples
    --------
    >>> from perflab.scheme import load_scheme
    >>> groups = pd.DataFrame({"experts": [90.0, 70.0, 80.0], "grassroots": [60.0, 85.0, 70.0]}, index=["X", "Y", "Z"])
    >>> shares = pd.Series({"experts": 0.7, "grassroots": 0.3})
    >>> bands = load_scheme("params/beijing_2016.yaml").bands
    >>> share_grade_changes(groups, shares, "grassroots", bands).round(3)
       share unit  score grade_below grade_above
    0  0.333    X   80.0           B           C
    1  0.667    X   70.0           C           D
    2  0.667    Y   80.0           C           B
    """
    group_scores, s, own, other = _share_line(group_scores, shares, group, composite, "exact share grade changes")
    lo, hi = check_range(share_range)
    slope = own - other
    edges = band_edges(bands)
    grades = [b.grade for b in sorted(bands, key=lambda b: float(b.lower))]  # lowest band first
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (edges[None, :] - other[:, None]) / slope[:, None]
    hit = np.isfinite(t) & (t > lo) & (t < hi)
    for u, j in zip(*np.nonzero(hit)):
        x = t[u, j]
        below = band_index(np.array([other[u] + (x - 1e-9) * slope[u]]), edges)[0]
        above = band_index(np.array([other[u] + (x + 1e-9) * slope[u]]), edges)[0]
        rows.append(
            {
                "share": float(x),
                "unit": group_scores.index[u],
                "score": float(edges[j]),
                "grade_below": grades[below],
                "grade_above": grades[above],
            }
        )
    out = pd.DataFrame(rows, columns=["share", "unit", "score", "grade_below", "grade_above"])
    return out.sort_values(["share", "unit"], kind="mergesort").reset_index(drop=True)


def stable_share_range(
    breakpoints: ShareBreakpoints, grade_changes: pd.DataFrame | None = None, units: pd.Series | None = None
) -> pd.DataFrame:
    """Per rank group, the range of the share around its nominal value over which the top k (and every grade) holds.

    Parameters
    ----------
    breakpoints
        From :func:`share_breakpoints`.
    grade_changes
        From :func:`share_grade_changes`, or None (no grade columns).
    units
        Each unit's rank group, to split the grade changes by group (None: every change counts for every group).

    Returns
    -------
    pandas.DataFrame
        rank_group, nominal_share, k, top_k_share_low, top_k_share_high, grades_share_low, grades_share_high:
        the nearest change below and above the nominal share (the ends of the range studied when nothing
        changes).

    Examples
    --------
    >>> groups = pd.DataFrame({"experts": [90.0, 70.0, 80.0], "grassroots": [60.0, 85.0, 70.0]}, index=["X", "Y", "Z"])
    >>> sb = share_breakpoints(groups, pd.Series({"experts": 0.7, "grassroots": 0.3}), "grassroots", k=1)
    >>> stable_share_range(sb).round(3)
      rank_group  nominal_share  k  top_k_share_low  top_k_share_high
    0        all            0.3  1              0.0             0.444
    """
    st = breakpoints.settings
    s0, (lo, hi), k = st["nominal_share"], st["share_range"], st["k"]
    groups = list(dict.fromkeys(breakpoints.segments["rank_group"]))

    def around(x: pd.Series) -> tuple[float, float]:
        x = x.to_numpy(float)
        below, above = x[x <= s0 + 1e-12], x[x > s0 + 1e-12]
        return (float(below.max()) if below.size else lo, float(above.min()) if above.size else hi)

    rows = []
    for g in groups:
        sw = breakpoints.swaps
        row = {"rank_group": g, "nominal_share": s0, "k": k}
        changes = sw.loc[(sw["rank_group"] == g) & sw["top_k_changes"], "share"]
        row["top_k_share_low"], row["top_k_share_high"] = around(changes)
        if grade_changes is not None:
            gc = grade_changes
            if units is not None:
                gc = gc[gc["unit"].map(units) == g]
            row["grades_share_low"], row["grades_share_high"] = around(gc["share"])
        rows.append(row)
    return pd.DataFrame(rows)


def share_path(
    group_scores: pd.DataFrame, shares: pd.Series, group: str, values, rank_group=None, composite: str = "arithmetic"
) -> pd.DataFrame:
    """Ranks of every unit at the given share values of one group (the other groups rescaled).

    Parameters
    ----------
    group_scores, shares, group, rank_group, composite
        As :func:`share_breakpoints`.
    values
        The share values.

    Returns
    -------
    pandas.DataFrame
        Long: share, unit, rank_group, score, rank.

    Examples
    --------
    >>> groups = pd.DataFrame({"experts": [90.0, 70.0, 80.0], "grassroots": [60.0, 85.0, 70.0]}, index=["X", "Y", "Z"])
    >>> path = share_path(groups, pd.Series({"experts": 0.7, "grassroots": 0.3}), "grassroots", [0.0, 1.0])
    >>> path.pivot(index="unit", columns="share", values="rank")
    share  0.0  1.0
    unit
    X        1    3
    Y        3    1
    Z        2    2
    """
    group_scores, s, own, other = _share_line(group_scores, shares, group, composite, "share paths of group scores")
    vals = np.atleast_1d(np.asarray(values, dtype=float))
    if ((vals < 0) | (vals > 1)).any():
        raise SchemeError(f"share of {group!r} must lie in [0, 1], got {vals[(vals < 0) | (vals > 1)][0]}")
    codes, labels = factorize_groups(rank_group, group_scores.index)
    X = other + np.multiply.outer(vals, own - other)
    R = ranks_by_group(X, codes, len(labels))
    n = len(group_scores)
    return pd.DataFrame(
        {
            "share": np.repeat(vals, n),
            "unit": np.tile(group_scores.index.to_numpy(), vals.size),
            "rank_group": np.tile(np.array(labels, dtype=object)[codes], vals.size),
            "score": X.ravel(),
            "rank": R.ravel(),
        }
    )
