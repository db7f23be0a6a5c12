"""The Examples sections of the package's docstrings run, from the project root, and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import perflab

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(perflab.__path__, "perflab.") if not m.name.endswith("__main__"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(name: str) -> int:
    """How many examples a module's docstrings hold."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    mod = importlib.import_module(name)
    return sum(len(t.examples) for t in finder.find(mod, name) if t.name.startswith(name))


WITH_EXAMPLES = [m for m in MODULES if examples(m)]


def test_the_package_has_examples():
    assert len(WITH_EXAMPLES) >= 5, WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples read params/ and data/raw/demo as a user at the project root would
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, report=True)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} fail (see the output above)"
