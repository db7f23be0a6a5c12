"""House rules a reader relies on: modules readable in one sitting, long functions explained, lint and format clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "perflab").rglob("*.py"))
MAX_MODULE_LINES = 650  # "about 600": a module a reader takes in one sitting
MAX_FUNCTION_LINES = 80
REASON = "# long:"  # a function over the limit says why in a comment on its first lines, e.g. "# long: one formula"


def long_functions(path: Path) -> list[str]:
    """Functions whose code (docstring aside) runs over MAX_FUNCTION_LINES lines and whose first lines give no reason."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                n -= first.end_lineno - first.lineno + 1  # the docstring (numpydoc sections) is not code to read
            head = "\n".join(lines[node.lineno - 1 : node.lineno + 5])
            if n > MAX_FUNCTION_LINES and REASON not in head:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    return found


def test_no_module_is_too_long_to_read_in_one_sitting():
    long = {
        str(p.relative_to(ROOT)): n for p in SOURCES if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules: {long}"


def test_long_functions_say_why():
    found = [f for p in SOURCES for f in long_functions(p)]
    assert not found, f"over {MAX_FUNCTION_LINES} lines without a '{REASON} reason' comment: {found}"


def test_the_length_check_catches_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    (tmp_path / "m.py").write_text(f"def f():\n{body}\n", "utf-8")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert long_functions(tmp_path / "m.py")
        (tmp_path / "m.py").write_text(f"def f():\n    {REASON} a table of constants\n{body}\n", "utf-8")
        assert not long_functions(tmp_path / "m.py")
    finally:
        ROOT = old


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(args):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    done = subprocess.run(
        [ruff, *args, "perflab", "tests", "bench", "notebooks"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
