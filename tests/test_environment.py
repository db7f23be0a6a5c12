"""The set-up files stay consistent: pyproject is the one source of dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import ROOT

REQUIRED = {
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "seaborn",
    "matplotlib",
    "papermill",
    "nbval",
    "jupyterlab",
    "ipykernel",
    "pyyaml",
    "pyarrow",
    "openpyxl",
    "tqdm",
}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower()


def test_pyproject_declares_the_stack_and_a_dev_extra():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = {_name(d) for d in meta["dependencies"]}
    assert REQUIRED <= deps, REQUIRED - deps
    dev = {_name(d) for d in meta["optional-dependencies"]["dev"]}
    assert {"pytest", "hypothesis"} <= dev
    assert meta["scripts"]["perflab"] == "perflab.cli:main"
    assert meta["requires-python"] == ">=3.11"


def test_environment_yml_installs_the_package_from_pyproject_only():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = [d for d in deps if isinstance(d, dict)]
    assert len(pip) == 1 and pip[0]["pip"] == ["-e .[dev]"]
    conda = [d for d in deps if isinstance(d, str)]
    python = [d for d in conda if _name(d) == "python"]
    assert python and python[0].replace(" ", "") == "python>=3.11"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(d) for d in meta["dependencies"]} | {_name(d) for d in meta["optional-dependencies"]["dev"]}
    # conda may only bring python and pip itself: every other package comes from pyproject (one source of versions)
    assert {_name(d) for d in conda} - {"python", "pip"} == set(), conda
    assert not declared & {_name(d) for d in conda}


def test_generated_outputs_are_git_ignored():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    for entry in (".venv/", "reports/", "data/processed/*", "!data/processed/README.md"):
        assert entry in ignore


def test_ci_runs_make_test_and_nothing_cleverer():
    lines = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines[-1].strip() == "make test"
