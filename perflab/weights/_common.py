"""The error every weighting method raises, and the one message for an unknown method name."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from perflab.errors import PerflabError


class WeightError(PerflabError, ValueError):
    """Input from which no weights can be derived: names the unit and indicator, or the matrix row and column."""


def _unknown(name: object, known: Sequence[str], what: str) -> WeightError:
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return WeightError(f"unknown {what} {name!r}{hint}; choose one of {', '.join(known)}")
