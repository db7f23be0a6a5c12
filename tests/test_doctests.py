"""The Examples sections of the package's docstrings run, from the project root, and give what they show."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
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


def _notebook_calls(source: str) -> tuple[dict, set[str]]:
    """The names a notebook imports (run on their own) and the dotted names it calls."""
    tree = ast.parse(source)
    imports = ast.Module(body=[n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], type_ignores=[])
    namespace: dict = {}
    exec(compile(imports, "<imports>", "exec"), namespace)
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name) and f.id in namespace:
                calls.add(".".join([f.id, *reversed(parts)]))
    return namespace, calls


def _resolve(namespace: dict, dotted: str):
    obj = namespace[dotted.split(".")[0]]
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part, None)
    return obj


def test_what_the_notebooks_call_is_documented_with_examples():
    """Every perflab function or class a notebook calls has numpydoc Parameters, Returns and Examples sections."""
    missing = []
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        namespace, calls = _notebook_calls(nb.read_text(encoding="utf-8"))
        for dotted in sorted(calls):
            obj = _resolve(namespace, dotted)
            if not callable(obj) or not (getattr(obj, "__module__", None) or "").startswith("perflab"):
                continue
            doc = inspect.getdoc(obj) or ""
            need = ["Examples"] + ([] if inspect.isclass(obj) else ["Parameters", "Returns"])
            if isinstance(obj, type) or "Parameters" not in doc and not inspect.signature(obj).parameters:
                need = ["Examples"]  # a class, or a function of no arguments: nothing to list
            lacking = [s for s in need if f"{s}\n--" not in doc]
            if lacking:
                missing.append(f"{nb.stem}: {dotted} lacks {', '.join(lacking)}")
    assert not missing, "\n".join(missing)
