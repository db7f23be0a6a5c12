"""Shared fixtures: the Beijing scheme, a tiny hand-made data set, and the bundled demo data."""

from __future__ import annotations

import copy
import logging
import os
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import settings

# the same examples on every run: a property test never passes here and fails in CI on a new random draw
# (run with HYPOTHESIS_PROFILE=explore to search afresh)
settings.register_profile("perflab", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "perflab"))

from perflab.scheme import load_scheme, scheme_from_dict  # noqa: E402  (after the hypothesis profile)

ROOT = Path(__file__).resolve().parent.parent
SCHEME_FILE = ROOT / "params" / "beijing_2016.yaml"
DEMO_DIR = ROOT / "data" / "raw" / "demo"


@pytest.fixture(scope="session")
def scheme():
    return load_scheme(SCHEME_FILE)


@pytest.fixture
def scheme_dict():
    """The Beijing scheme as a plain dict, to edit in a test."""
    return copy.deepcopy(yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8")))


def make_scheme(d: dict):
    return scheme_from_dict(d, source="test-scheme.yaml")


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Four units (two districts, two departments), four raters in two groups, two years of figures.

    Small enough that every score can be computed by hand in the tests.
    """
    units = pd.DataFrame(
        {
            "unit": ["D01", "D02", "M01", "M02"],
            "kind": ["district", "district", "department", "department"],
            "zone": ["core", "ecological", "economy", "economy"],
            "name_zh": ["东城区", "怀柔区", "市发展改革委", "市商务委"],
            "name_en": ["Dongcheng", "Huairou", "Development and Reform", "Commerce"],
            "presented": [True, True, True, False],
        }
    )
    raters = pd.DataFrame(
        {
            "rater": ["R1", "R2", "R3", "R4"],
            "group": ["city_leaders", "city_leaders", "grassroots", "grassroots"],
            "home_unit": ["", "", "", ""],
        }
    )
    rows = []
    base = {"D01": 90, "D02": 80, "M01": 70}
    bump = {"R1": 0, "R2": 2, "R3": -4, "R4": 6}
    for slot, (unit, b) in enumerate(base.items(), start=1):
        for rater, d in bump.items():
            for k, ind in enumerate(
                [
                    "rectification",
                    "main_indicators",
                    "key_tasks",
                    "law_based_admin",
                    "clean_admin",
                    "innovation",
                    "service",
                ]
            ):
                rows.append(
                    {
                        "rater": rater,
                        "unit": unit,
                        "indicator": ind,
                        "score": b + d + (k % 2),
                        "session": 1,
                        "order": slot,
                    }
                )
    ratings = pd.DataFrame(rows)
    history = pd.DataFrame(
        {
            "unit": ["D01", "D01", "D02", "M01", "M02", "D01"],
            "measure": ["gdp_growth", "pm25", "gdp_growth", "approval_days", "approval_days", "gdp_growth"],
            "year": [2016, 2016, 2016, 2016, 2016, 2015],
            "value": [7.0, 80.0, 6.0, 10.0, 8.0, 6.5],
            "target": [7.0, 60.0, 6.5, 12.0, 8.0, None],
        }
    )
    survey = pd.DataFrame(
        {
            "unit": ["D01", "D02", "M01", "M02"],
            "year": [2016] * 4,
            "satisfaction": [78.0, 82.0, 93.0, 95.0],
            "respondents": [500] * 4,
        }
    )
    verification = pd.DataFrame(
        {
            "unit": ["D01", "D01", "D02"],
            "year": [2016, 2016, 2016],
            "claim": ["a", "b", "c"],
            "verified": [True, False, True],
        }
    )
    return {
        "units": units,
        "raters": raters,
        "ratings": ratings,
        "history": history,
        "survey": survey,
        "verification": verification,
    }


def write_tables(tables: dict[str, pd.DataFrame], directory: Path, encoding: str = "utf-8") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(directory / f"{name}.csv", index=False, encoding=encoding)
    return directory


@pytest.fixture
def tiny_dir(tmp_path) -> Path:
    return write_tables(tiny_tables(), tmp_path / "tiny")


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A writable copy of the bundled demo data."""
    dst = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("truth"))
    return dst


def draw_figures(figs, caplog) -> tuple[list[str], list[str]]:
    """Draw and close figures; return every text drawn and every missing-glyph or font warning raised."""
    import matplotlib.pyplot as plt

    texts = []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for fig in figs:
            fig.canvas.draw()
            texts += [t.get_text() for t in fig.findobj(plt.Text)]
            plt.close(fig)
    problems = [
        str(w.message) for w in caught if "glyph" in str(w.message).lower() or "findfont" in str(w.message).lower()
    ]
    problems += [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]
    return texts, problems


@pytest.fixture(scope="session")
def full_run(tmp_path_factory) -> Path:
    """`perflab run` of every notebook on a copy of the demo data (made once: the report and memo tests share it)."""
    from perflab.cli import main

    root = tmp_path_factory.mktemp("full_run")
    data = root / "data" / "raw" / "demo"
    shutil.copytree(DEMO_DIR, data)
    out = root / "report"
    # the pages' sampling sizes cut (nbval runs every notebook with its defaults): the report is whole, and cheaper
    small = ["n_draws=1000", "n_rater_replicates=30", "n_sobol=128", "alpha_boot=100"]
    code = main(
        ["run", "--scheme", str(SCHEME_FILE), "--data", str(data), "--out", str(out), "--jobs", "2"]
        + [x for p in small for x in ("--param", p)]
    )
    assert code == 0, "perflab run failed on the demo"
    return out
