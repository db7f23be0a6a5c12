"""Writing simulated tables and their truth: fixed decimals, UTF-8, "\\n" line ends, so the same data give the same bytes."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from perflab.io import SIMULATED_MARKER
from perflab.simulate.model import Simulated

# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

# decimals of float columns when written (others: 2)
_DECIMALS = {
    "satisfaction": 1,
    "severity_points": 3,
    "quality": 2,
    "value": 2,
    "target": 2,
    "challenge": 2,
    "points": 1,
}


def _fmt_float(values: np.ndarray, dec: int) -> list[str]:
    v = np.round(np.asarray(values, dtype=float), dec) + 0.0  # no "-0.00"
    return ["" if not np.isfinite(x) else f"{x:.{dec}f}" for x in v]


def _csv_bytes(df: pd.DataFrame, integral_by: str | None = None) -> bytes:
    """CSV text of a table: booleans as true/false, floats with fixed decimals, blanks for missing.

    ``integral_by``: a key column (history's ``measure``) within whose groups
    float columns holding only whole numbers are written without decimals
    (counts such as polluting firms closed).
    """
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = np.where(s.to_numpy(dtype=bool), "true", "false").astype(object)
        elif pd.api.types.is_float_dtype(s):
            dec = _DECIMALS.get(col, 2)
            text = np.array(_fmt_float(s.to_numpy(), dec), dtype=object)
            if integral_by is not None:
                for _, idx in df.groupby(integral_by, sort=True).indices.items():
                    vals = s.to_numpy()[idx]
                    fin = vals[np.isfinite(vals)]
                    if len(fin) and np.all(fin == np.rint(fin)):
                        text[idx] = ["" if not np.isfinite(x) else str(int(x)) for x in vals]
            out[col] = text
        else:  # integers and text: as pandas writes them, missing as blank
            out[col] = s
    text = pd.DataFrame(out, columns=list(df.columns))
    buf = io.StringIO()
    text.to_csv(buf, index=False, lineterminator="\n", na_rep="")
    return buf.getvalue().encode("utf-8")


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def _json_ready(obj):
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def write_simulated(sim: Simulated, out_dir: str | Path, gzip_ratings: bool = False) -> list[Path]:
    """Write the tables to ``out_dir`` and the truth to ``out_dir/truth``; returns the written paths.

    Files: units.csv, raters.csv, ratings.csv (ratings.csv.gz with
    ``gzip_ratings``), history.csv, survey.csv, verification.csv and
    truth/unit_quality.csv, truth/rater_effects.csv, truth/planted.json, and the marker
    ``SIMULATED.json`` (:data:`perflab.io.SIMULATED_MARKER`) that makes every page of a run on these
    tables say they are simulated, wherever the directory is copied. UTF-8 without BOM, "\\n" line
    ends, fixed decimals: the same data give the same bytes.
    """
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(path: Path, data: bytes):
        path.write_bytes(data)
        written.append(path)

    t = sim.tables
    names = ("units", "raters", "ratings", "history", "survey", "verification", "assessments", "adjustments")
    for name in (n for n in names if n in t):  # adjustments: only when the scheme declares bonus and deduction items
        data = _csv_bytes(t[name], integral_by="measure" if name == "history" else None)
        if name == "ratings" and gzip_ratings:
            (out / "ratings.csv").unlink(missing_ok=True)  # one file per table: never leave a stale twin
            put(out / "ratings.csv.gz", _gzip_bytes(data))
        elif name == "ratings":
            (out / "ratings.csv.gz").unlink(missing_ok=True)
            put(out / "ratings.csv", data)
        else:
            put(out / f"{name}.csv", data)
    put(out / "truth" / "unit_quality.csv", _csv_bytes(sim.truth["unit_quality"]))
    put(out / "truth" / "rater_effects.csv", _csv_bytes(sim.truth["rater_effects"]))
    planted = json.dumps(_json_ready(sim.truth["planted"]), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    put(out / "truth" / "planted.json", planted.encode("utf-8"))
    marker = {
        "simulated": True,
        "generator": "perflab simulate",
        "seed": sim.truth["planted"].get("seed"),
        "note": "Simulated demo data with planted effects: the unit names are real, the scores are not.",
    }
    put(out / SIMULATED_MARKER, (json.dumps(_json_ready(marker), sort_keys=True, indent=2) + "\n").encode("utf-8"))
    return written
