"""Errors for bad input: one clear message naming the file, row and column."""

from __future__ import annotations

from pathlib import Path

QUOTE_LIMIT = 40


def quote(value, limit: int = QUOTE_LIMIT) -> str:
    """A value quoted for a one-line message: ``repr`` of its first ``limit`` characters, and its length when cut.

    Text is quoted; other values (numbers, None) are shown as Python shows them.

    Examples
    --------
    >>> quote("eighty")
    "'eighty'"
    >>> quote(1.5), quote(None)
    ('1.5', 'None')
    >>> quote("x" * 1000, limit=5)
    "'xxxxx…' (1000 characters)"
    """
    if not isinstance(value, str):  # a number, None...: as Python shows it, quoted only when cut
        shown = repr(value.item() if hasattr(value, "item") else value)
        if len(shown) <= limit:
            return shown
        value = shown
    text = value
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text)} characters)"


class DataNote(UserWarning):
    """Something in the input worth one line on stderr that is not an error (e.g. extra columns kept as they are).

    The ``perflab`` command shows each distinct note once as ``perflab: note: ...``.
    """


class PerflabError(Exception):
    """Base class of the errors the `perflab` command reports in one line (exit 2)."""


class SchemeError(PerflabError, ValueError):
    """An invalid scheme file: names the file and the key path (e.g. ``indicators[2].weight``)."""

    def __init__(self, message: str, file: str | Path | None = None, key: str | None = None):
        self.file = str(file) if file is not None else None
        self.key = key
        self.message = message
        where = ", ".join(p for p in (self.file, f"key {key}" if key else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DataError(PerflabError, ValueError):
    """An invalid data table: names the file, the row (line number in the file, header = 1) and the column."""

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.message = message
        parts = [self.file] if self.file else []
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column}")
        where = ", ".join(parts)
        super().__init__(f"{where}: {message}" if where else message)


class SweepError(PerflabError, ValueError):
    """An invalid sweep file: names the file, the scenario and the key (e.g. ``groups.grassroots.share``)."""

    def __init__(
        self, message: str, file: str | Path | None = None, scenario: str | None = None, key: str | None = None
    ):
        self.file = str(file) if file is not None else None
        self.scenario, self.key, self.message = scenario, key, message
        parts = [
            p
            for p in (
                self.file,
                f"scenario {scenario!r}" if scenario is not None else None,
                f"key {key}" if key else None,
            )
            if p
        ]
        where = ", ".join(parts)
        super().__init__(f"{where}: {message}" if where else message)
