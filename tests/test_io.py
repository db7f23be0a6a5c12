"""Loading and validation: encodings and formats, processed output with provenance, and every bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from conftest import ROOT, SCHEME_FILE, tiny_tables, write_tables
from hypothesis import given

from perflab.cli import main
from perflab.io import dataset_from_tables, load_dataset, read_raw_table


def tree_hashes(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()
    }


def assert_same_dataset(a, b):
    for name in ("units", "raters", "ratings", "history", "survey", "verification"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=False)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_reads_utf8_bom_and_gb18030_alike(tmp_path, scheme, encoding):
    ref = load_dataset(write_tables(tiny_tables(), tmp_path / "ref"), scheme)
    other = load_dataset(write_tables(tiny_tables(), tmp_path / encoding, encoding=encoding), scheme)
    assert_same_dataset(ref, other)
    assert other.units.loc[other.units["unit"] == "D02", "name_zh"].item() == "怀柔区"


def test_reads_xlsx_and_gzipped_csv_alike(tmp_path, scheme):
    ref = load_dataset(write_tables(tiny_tables(), tmp_path / "ref"), scheme)
    d = tmp_path / "mixed"
    d.mkdir()
    for name, df in tiny_tables().items():
        if name in ("units", "ratings", "history"):
            df.to_excel(d / f"{name}.xlsx", index=False)
        else:
            df.to_csv(d / f"{name}.csv.gz", index=False)
    assert_same_dataset(ref, load_dataset(d, scheme))


def test_in_memory_tables_follow_the_same_validation(tmp_path, scheme):
    assert_same_dataset(
        load_dataset(write_tables(tiny_tables(), tmp_path / "t"), scheme), dataset_from_tables(tiny_tables(), scheme)
    )


def test_rows_keep_their_line_numbers(tiny_dir):
    df = read_raw_table(tiny_dir / "ratings.csv")
    assert df.index[0] == 2 and df.index.name == "row"


def test_grades_are_derived_from_scores_and_scores_from_grades_alone(tmp_path, scheme):
    t = tiny_tables()
    r = t["ratings"]
    r["grade"] = ""
    r["score"] = r["score"].astype(object)
    r.loc[0, "score"], r.loc[0, "grade"] = "", "B"
    ds = load_dataset(write_tables(t, tmp_path / "g"), scheme)
    assert ds.ratings.loc[2, "score"] == 85 and ds.ratings.loc[2, "grade"] == "B"
    assert ds.ratings.loc[3, "grade"] == scheme.grade_of([r.loc[1, "score"]])[0]


def test_validate_writes_parquet_and_provenance_without_touching_raw(tiny_dir, tmp_path, capsys):
    before = tree_hashes(tiny_dir)
    out = tmp_path / "processed"
    assert main(["validate", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--processed", str(out), "--seed", "7"]) == 0
    assert tree_hashes(tiny_dir) == before
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["seed"] == 7
    assert prov["data"]["files"]["ratings.csv"] == hashlib.sha256((tiny_dir / "ratings.csv").read_bytes()).hexdigest()
    assert prov["scheme"]["sha256"] == hashlib.sha256(SCHEME_FILE.read_bytes()).hexdigest()
    assert prov["perflab_version"]
    ratings = pd.read_parquet(out / "ratings.parquet")
    assert len(ratings) == len(tiny_tables()["ratings"]) and set(ratings["grade"]) <= set("ABCDE")
    assert {p.name for p in out.glob("*.parquet")} >= {"units.parquet", "raters.parquet", "indicators.parquet"}


def test_validate_refuses_to_write_into_the_raw_directory(tiny_dir, capsys):
    before = tree_hashes(tiny_dir)
    assert main(["validate", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--processed", str(tiny_dir / "p")]) == 2
    assert "refusing to write inside the raw-data tree" in capsys.readouterr().err
    assert tree_hashes(tiny_dir) == before


def _edit_csv(path: Path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(path, index=False)


def _set(col, idx, value):
    def fn(df):
        df.loc[idx, col] = value
        return df

    return fn


BAD_INPUTS = {
    "missing column": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: d.drop(columns="score")),
        "ratings.csv, row 1, column score: missing column 'score'",
    ),
    "unknown unit": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("unit", 5, "D99")),
        "ratings.csv, row 7, column unit: unknown unit 'D99'",
    ),
    "unknown rater": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("rater", 8, "R99")),
        "ratings.csv, row 10, column rater: unknown rater 'R99'",
    ),
    "unknown indicator": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("indicator", 3, "speed")),
        "ratings.csv, row 5, column indicator: unknown indicator 'speed'",
    ),
    "unknown group": (
        "raters.csv",
        lambda p: _edit_csv(p, _set("group", 1, "aliens")),
        "raters.csv, row 3, column group: unknown evaluator group 'aliens'",
    ),
    "grade outside A-E": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: d.assign(grade="B").pipe(_set("grade", 4, "F"))),
        "ratings.csv, row 6, column grade: unknown grade 'F' (known: A, B, C, D, E)",
    ),
    "score above 100": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("score", 6, "120")),
        "ratings.csv, row 8, column score: 120 is above the allowed range 0–100",
    ),
    "score below 0": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("score", 6, "-1")),
        "ratings.csv, row 8, column score: -1 is below the allowed range 0–100",
    ),
    "score not a number": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("score", 9, "eighty")),
        "ratings.csv, row 11, column score: 'eighty' is not a number",
    ),
    "duplicated rating": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: pd.concat([d, d.iloc[[2]]], ignore_index=True)),
        "column indicator: duplicated row for rater R1 × unit D01 × indicator key_tasks (first at row 4)",
    ),
    "empty file": ("raters.csv", lambda p: p.write_bytes(b""), "raters.csv: the file is empty"),
    "header only": (
        "ratings.csv",
        lambda p: p.write_text("rater,unit,indicator,score\n"),
        "ratings.csv, row 2: the file has a header but no data rows",
    ),
    "missing file": (
        "raters.csv",
        lambda p: p.unlink(),
        "raters.csv: missing file: the data directory needs raters.csv",
    ),
    "undecodable bytes": (
        "units.csv",
        lambda p: p.write_bytes(p.read_bytes().replace("怀柔区".encode(), b"\xff\xfe\xff")),
        "units.csv, row 3, column name_zh: undecodable bytes",
    ),
    "bad year": (
        "history.csv",
        lambda p: _edit_csv(p, _set("year", 0, "2016a")),
        "history.csv, row 2, column year: '2016a' is not a number",
    ),
    "not true/false": (
        "verification.csv",
        lambda p: _edit_csv(p, _set("verified", 1, "maybe")),
        "verification.csv, row 3, column verified: 'maybe' is not true or false",
    ),
    "unknown zone": (
        "units.csv",
        lambda p: _edit_csv(p, _set("zone", 0, "moon")),
        "units.csv, row 2, column zone: unknown zone for a district 'moon'",
    ),
    "grade clashes with score": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: d.assign(grade="").pipe(_set("grade", 0, "E"))),
        "ratings.csv, row 2, column grade: grade E does not match score 90",
    ),
    "huge value shortened": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("score", 9, "x" * (1 << 20))),
        "ratings.csv, row 11, column score: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (1048576 characters) is not a number",
    ),
    "huge unknown id shortened": (
        "ratings.csv",
        lambda p: _edit_csv(p, _set("unit", 5, "D" * 100_000)),
        "ratings.csv, row 7, column unit: unknown unit 'DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD…' (100000 characters)",
    ),
    "blank first line": (
        "units.csv",
        lambda p: p.write_text("\n" + p.read_text()),
        "units.csv, row 1: the first row is blank: the column names must be on row 1 (the first non-blank row is row 2)",
    ),
    "misspelt optional column": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: d.assign(grade="").rename(columns={"grade": "grdae"})),
        "ratings.csv, row 1, column grdae: unknown column 'grdae': did you mean 'grade'?",
    ),
    "optional column in capitals": (
        "units.csv",
        lambda p: _edit_csv(p, lambda d: d.drop(columns="presented", errors="ignore").assign(Presented="true")),
        "units.csv, row 1, column Presented: unknown column 'Presented': did you mean 'presented'?",
    ),
    "misspelt required column": (
        "ratings.csv",
        lambda p: _edit_csv(p, lambda d: d.rename(columns={"score": "scroe"})),
        "row 1, column score: missing column 'score' (found: rater, unit, indicator, scroe, session, order); "
        "is 'scroe' meant to be 'score'?",
    ),
    "Latin-1 read as GB18030": (
        "raters.csv",
        lambda p: p.write_bytes(p.read_text().replace("R3,", "Müller,").encode("latin-1")),
        "column rater: unknown rater 'R3' (known: M黮ler, R1, R2, R4) (raters.csv is not UTF-8 and was read "
        "as GB18030, a guess",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_error_and_exit_2(case, tiny_dir, tmp_path, capsys):
    fname, corrupt, expected = BAD_INPUTS[case]
    corrupt(tiny_dir / fname)
    before = tree_hashes(tiny_dir)
    code = main(["score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("perflab: error: ")
    assert expected in err, err
    assert str(tiny_dir) in err  # names the file with its path
    assert "Traceback" not in err
    assert tree_hashes(tiny_dir) == before
    assert not (tmp_path / "s.csv").exists()


def test_misspelt_scheme_key_gives_one_line_error(tiny_dir, tmp_path, capsys):
    bad = tmp_path / "scheme.yaml"
    bad.write_text(SCHEME_FILE.read_text(encoding="utf-8").replace("\ncomponents:", "\ncomponets:"), encoding="utf-8")
    code = main(["validate", str(tiny_dir), "--scheme", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "scheme.yaml, key componets: unknown key 'componets' (did you mean 'components'?)" in err


def test_the_installed_command_exits_2_without_traceback(tiny_dir, tmp_path):
    (tiny_dir / "ratings.csv").write_bytes(b"")
    exe = Path(sys.executable).parent / "perflab"
    proc = subprocess.run(
        [str(exe), "score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("ratings.csv: the file is empty")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_blank_lines_keep_the_line_numbers_right(tiny_dir, tmp_path, capsys):
    lines = (tiny_dir / "ratings.csv").read_text().splitlines()
    bad = lines[:3] + [""] + lines[3:5] + ["", ""] + [lines[5].replace("D01", "D77")] + lines[6:] + [""]
    (tiny_dir / "ratings.csv").write_text("\n".join(bad) + "\n")
    code = main(["score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")])
    # header is line 1; the bad row is on line 9 of the file (three blank lines above it)
    assert code == 2 and "ratings.csv, row 9, column unit: unknown unit 'D77'" in capsys.readouterr().err


def test_processed_parquet_round_trips_exactly(tiny_dir, tmp_path, scheme):
    from perflab.io import read_processed, write_processed

    ds = load_dataset(tiny_dir, scheme)
    back = read_processed(write_processed(ds, scheme, tmp_path / "p"))
    for name, df in ds.tables().items():
        pd.testing.assert_frame_equal(getattr(back, name), df)  # dtypes and row numbers included
    assert back.file("ratings") == str(tiny_dir / "ratings.csv")


def test_a_quoted_multi_line_field_keeps_later_line_numbers_right(tiny_dir, tmp_path, capsys):
    units = pd.read_csv(tiny_dir / "units.csv", dtype=str, keep_default_na=False)
    units.loc[0, "name_en"] = "Dongcheng\n(capital core)"  # line 2 spills onto line 3
    units.loc[2, "zone"] = "moon"  # the third record starts on line 5
    units.to_csv(tiny_dir / "units.csv", index=False)
    code = main(["score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")])
    assert (
        code == 2 and "units.csv, row 5, column zone: unknown zone for a department 'moon'" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "unit,kind,zone,name_zh,name_en\nD01,district,core,东城区,Dongcheng,extra,cells\n",
            "units.csv, row 2: not a valid CSV row: expected 5 fields, saw 7",
        ),
        (
            "unit,kind,zone,name_zh,unit\nD01,district,core,东城区,Dongcheng\n",
            "units.csv, row 1, column unit: duplicated column",
        ),
    ],
)
def test_malformed_csv_gives_one_line_with_the_row(tiny_dir, tmp_path, capsys, text, expected):
    (tiny_dir / "units.csv").write_text(text, encoding="utf-8")
    code = main(["score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_processed_tables_go_beside_the_raw_ones(tmp_path):
    from perflab.io import default_processed_dir

    assert (
        default_processed_dir(tmp_path / "proj" / "data" / "raw" / "city2017")
        == tmp_path / "proj" / "data" / "processed" / "city2017"
    )
    assert default_processed_dir(tmp_path / "elsewhere" / "x") == Path("data") / "processed" / "x"


def _units_with_presented(tiny_dir, values):
    u = pd.read_csv(tiny_dir / "units.csv", dtype=str, keep_default_na=False)
    u["presented"] = values
    u.to_csv(tiny_dir / "units.csv", index=False)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda d: _units_with_presented(d, ["true", "true", "true", "true"]),
            "units.csv, row 5, column presented: unit M02 is marked presented but has no ratings",
        ),
        (
            lambda d: _units_with_presented(d, ["true", "false", "true", "false"]),
            "ratings.csv, row 30, column unit: unit D02 has ratings but is marked presented = false (units.csv row 3)",
        ),
        (
            lambda d: _edit_csv(d / "ratings.csv", _set("session", 40, "2")),
            "ratings.csv, row 42, column session: unit D02 has session 2 here but 1 in earlier rows",
        ),
        (
            lambda d: _edit_csv(d / "ratings.csv", lambda r: r.assign(order=r["order"].where(r["unit"] != "M01", "2"))),
            "ratings.csv, row 58, column order: units D02 and M01 both present at session 1, order 2",
        ),
    ],
)
def test_presentations_must_agree_with_the_ratings(tiny_dir, tmp_path, capsys, edit, expected):
    edit(tiny_dir)
    code = main(["score", str(tiny_dir), "--scheme", str(SCHEME_FILE), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err


def test_blank_presented_means_rated_or_not(tiny_dir, scheme):
    _units_with_presented(tiny_dir, ["", "", "", ""])
    ds = load_dataset(tiny_dir, scheme)
    assert ds.units.set_index("unit")["presented"].to_dict() == {"D01": True, "D02": True, "M01": True, "M02": False}


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["score", "{tiny}", "--scheme", "{scheme}", "--out", "{tiny}/../s.csv/x.csv"], None),
        (["score", "{tiny}", "--scheme", "{scheme}", "--out", "/proc/perflab-nope/s.csv"], "perflab-nope"),
        (["score", "{tiny}", "--scheme", "{scheme}", "--out", "{tmp}"], "Is a directory"),
        (["simulate", "--out", "{tiny}/units.csv"], "output exists and is not a directory"),
    ],
)
def test_unwritable_outputs_give_one_line_not_a_traceback(tiny_dir, tmp_path, capsys, argv, expected):
    (tmp_path / "s.csv").write_text("a file, not a directory")
    args = [a.format(tiny=tiny_dir, scheme=SCHEME_FILE, tmp=tmp_path) for a in argv]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("perflab: error: ") and err.count("\n") == 1, err
    if expected:
        assert expected in err


def test_negative_seed_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--out", "x", "--seed", "-1"])
    assert exc.value.code == 2 and "seeds are whole numbers >= 0" in capsys.readouterr().err


def test_extra_columns_are_kept_and_named_once_as_a_note(tiny_dir, scheme):
    from perflab.errors import DataNote

    _edit_csv(tiny_dir / "raters.csv", lambda d: d.assign(comment="checked", note="x"))
    _edit_csv(tiny_dir / "units.csv", lambda d: d.assign(source="yearbook"))
    with pytest.warns(DataNote) as notes:
        ds = load_dataset(tiny_dir, scheme)
    said = [str(n.message) for n in notes if n.category is DataNote]
    assert len(said) == 2  # one note a file, all its extra columns in it
    assert said[0].endswith("units.csv: extra column(s) kept as they are, not used by perflab: 'source'")
    assert said[1].endswith("raters.csv: extra column(s) kept as they are, not used by perflab: 'comment', 'note'")
    assert ds.raters["comment"].eq("checked").all() and ds.units["source"].eq("yearbook").all()


def test_text_that_decodes_as_gb18030_only_through_rare_characters_gives_a_note(tiny_dir, scheme):
    from perflab.errors import DataNote

    units = tiny_dir / "units.csv"
    text = units.read_text(encoding="utf-8").replace("Dongcheng", "Dongchéng Müller")
    units.write_bytes(text.encode("latin-1", errors="replace"))  # a Latin-1 export: the Chinese names become "?"
    with pytest.warns(DataNote, match=r"units.csv: not UTF-8, read as GB18030; it holds rare characters"):
        ds = load_dataset(tiny_dir, scheme)
    assert "Müller" not in " ".join(ds.units["name_en"])  # read wrongly, as the note warns


def test_real_gb18030_text_gives_no_note(tiny_dir, scheme):
    import warnings

    units = tiny_dir / "units.csv"
    units.write_bytes(units.read_text(encoding="utf-8").encode("gb18030"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_dataset(tiny_dir, scheme)
    assert "东城区" in set(ds.units["name_zh"])


@given(st.text(alphabet="abcdeg_", max_size=8), st.text(alphabet="abcdeg_", max_size=8))
def test_edit_distance_is_a_symmetric_count_of_edits(a, b):
    from perflab.io.columns import edit_distance

    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert (d == 0) == (a == b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    if len(a) >= 2:
        swapped = a[1] + a[0] + a[2:]
        assert edit_distance(a, swapped) == (0 if swapped == a else 1)
