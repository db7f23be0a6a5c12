"""The `perflab` command end to end: simulate -> score on a fresh seed, determinism, grassroots share, --help."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR, ROOT, SCHEME_FILE

from perflab.cli import main
from perflab.io import load_dataset
from perflab.scheme import load_scheme
from perflab.scoring import group_scores, score_units

EXE = Path(sys.executable).parent / "perflab"


def hashes(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()
    }


def test_simulate_then_score_gives_76_units_ranked_within_kind(tmp_path, capsys):
    d = tmp_path / "D"
    assert main(["simulate", "--out", str(d), "--seed", "7"]) == 0
    assert main(["score", str(d), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")]) == 0
    s = pd.read_csv(tmp_path / "s.csv")
    assert len(s) == 76
    assert sorted(s.loc[s["kind"] == "district", "rank"]) == list(range(1, 17))
    assert sorted(s.loc[s["kind"] == "department", "rank"]) == list(range(1, 61))
    raters = pd.read_csv(d / "raters.csv")
    assert 200 <= len(raters) <= 240
    assert (raters["group"] == "grassroots").sum() == 106
    assert (~pd.read_csv(d / "units.csv")["presented"]).sum() == 17
    for kind, zone in s.groupby(["kind", "zone"]).groups:
        z = s[(s["kind"] == kind) & (s["zone"] == zone)]
        assert sorted(z["zone_rank"]) == list(range(1, len(z) + 1))  # no ties in real-valued scores


def test_same_seed_gives_byte_identical_files(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["simulate", "--out", str(tmp_path / name), "--seed", "7", "--gzip"]) == 0
        assert (
            main(["score", str(tmp_path / name), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / f"{name}.csv")])
            == 0
        )
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert main(["simulate", "--out", str(tmp_path / "c"), "--seed", "8", "--gzip"]) == 0
    assert hashes(tmp_path / "c")["ratings.csv.gz"] != hashes(tmp_path / "a")["ratings.csv.gz"]


def test_bundled_demo_is_the_seed_2016_simulation(tmp_path, capsys):
    """data/raw/demo is exactly what `perflab simulate --seed 2016 --gzip` writes (regenerate with `make demo`)."""
    assert main(["simulate", "--out", str(tmp_path / "demo"), "--seed", "2016", "--gzip"]) == 0
    assert hashes(tmp_path / "demo") == hashes(DEMO_DIR)


def test_simulate_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert main(["simulate", "--out", str(tmp_path / "x")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_raising_the_grassroots_share_moves_scores_the_way_grassroots_ratings_point(scheme):
    ds = load_dataset(DEMO_DIR, scheme)
    base = score_units(ds, scheme).set_index("unit")
    raised = score_units(ds, scheme.with_group_share("grassroots", 0.5)).set_index("unit")
    # where do grassroots ratings point? their weighted indicator score against the other groups' share-weighted one
    gs = group_scores(ds, scheme)
    gs["share"] = gs["group"].map(scheme.shares)
    grass = gs[gs["group"] == "grassroots"].set_index(["unit", "indicator"])["score"]
    others = gs[gs["group"] != "grassroots"].assign(ws=lambda d: d["share"] * d["score"])
    others = others.groupby(["unit", "indicator"])["ws"].sum() / others.groupby(["unit", "indicator"])["share"].sum()
    w = scheme.weights / scheme.weights.sum()
    gap = ((grass - others).unstack("indicator")[w.index] * w).sum(axis=1)  # > 0: grassroots score the unit higher
    presented = base.index[base["presented"]]
    moved = (raised["onsite"] - base["onsite"]).loc[presented]
    assert (np.sign(moved) == np.sign(gap.loc[presented])).all()
    assert (gap > 0).any() and (gap < 0).any()  # the demo plants both directions
    # the final score of a presented unit moves the same way: 0.6 of the on-site move
    np.testing.assert_allclose((raised["final"] - base["final"]).loc[presented], 0.6 * moved, atol=1e-9)
    # and ranks change: the share matters
    assert (raised["rank"] != base["rank"].reindex(raised.index)).any()


@pytest.mark.parametrize("command", ["simulate", "validate", "score", "run", "sweep"])
def test_every_subcommand_has_help(command):
    proc = subprocess.run([str(EXE), command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: perflab " + command in proc.stdout


def test_simulate_with_a_scheme_it_cannot_serve_is_one_line_exit_2(tmp_path, scheme_dict, capsys):
    import yaml

    scheme_dict["groups"] = [g for g in scheme_dict["groups"] if g["id"] != "grassroots"]
    scheme_dict["groups"][0]["share"] += 0.25
    path = tmp_path / "no_grassroots.yaml"
    path.write_text(yaml.safe_dump(scheme_dict, allow_unicode=True), encoding="utf-8")
    assert main(["simulate", "--out", str(tmp_path / "d"), "--scheme", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "simulate needs the evaluator group 'grassroots'" in err


def test_simulate_finds_its_default_scheme_from_any_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "--out", "d", "--seed", "3"]) == 0
    assert (tmp_path / "d" / "ratings.csv").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--scheme", "params/beijing_2016.yaml", "--param", "n_draws"],
        ["run"],
        ["frobnicate"],
        ["sweep"],
        ["memo"],
        ["score", "--no-such-flag"],
    ],
)
def test_a_command_line_mistake_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.count("\n") == 1 and err.startswith("perflab: error: ") and "usage:" not in err, err


def test_nothing_is_written_anywhere_under_the_raw_data_tree(tmp_path, capsys):
    raw = tmp_path / "data" / "raw"
    shutil.copytree(DEMO_DIR, raw / "demo")
    before = sorted(p.relative_to(raw) for p in raw.rglob("*"))
    for out in (raw / "report", raw / "demo" / "report", raw):
        code = main(["run", "--scheme", str(SCHEME_FILE), "--data", str(raw / "demo"), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and "raw-data tree" in err and err.count("\n") == 1, err
    assert sorted(p.relative_to(raw) for p in raw.rglob("*")) == before


def test_run_without_data_takes_the_demo_that_fits_the_scheme_and_simulates_one_once(tmp_path, capsys):
    from perflab.cli import demo_data

    root = tmp_path / "data" / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "demo", root / "demo")
    assert demo_data(SCHEME_FILE, root) == root / "demo"  # the bundled demo fits the 2016 scheme
    sanxiao = ROOT / "params" / "beijing_departments_sanxiao.yaml"
    assert demo_data(sanxiao, root, create=False) == root / "demo_beijing_departments_sanxiao"
    assert not (root / "demo_beijing_departments_sanxiao").exists()  # only said where, nothing written
    own = demo_data(sanxiao, root)
    assert "simulating it (seed 2016)" in capsys.readouterr().err
    ratings = load_dataset(own, load_scheme(sanxiao)).ratings
    assert set(ratings["indicator"]) == set(load_scheme(sanxiao).indicator_ids)
    before = hashes(own)
    assert demo_data(sanxiao, root) == own and hashes(own) == before  # made once, then reused as it is
    assert capsys.readouterr().err == ""
