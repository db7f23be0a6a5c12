"""Processed output and provenance: typed tables as parquet, with what was read and how, never inside raw data."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from perflab import __version__
from perflab.errors import DataError
from perflab.io.tables import SIMULATED_MARKER, TABLES, Dataset
from perflab.scheme import Scheme


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_simulated(data_dir: str | Path | None) -> bool:
    """Whether a data directory holds ``perflab simulate`` output: its marker file (or, from older versions, the
    planted truth) sits beside the tables. A copy of the tables alone is a user's own data and carries no notice."""
    if data_dir is None:
        return False
    root = Path(data_dir)
    if root.is_file():
        root = root.parent
    return (root / SIMULATED_MARKER).is_file() or (root / "truth" / "planted.json").is_file()


def provenance(dataset: Dataset, scheme: Scheme, seed: int | None = None) -> dict:
    """What was done, so any figure can be regenerated: raw-file and scheme hashes, versions, seed."""
    return {
        "perflab_version": __version__,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "seed": seed,
        "scheme": {
            "name": scheme.name,
            "file": str(Path(scheme.source).resolve()) if scheme.source else None,
            "sha256": sha256_file(scheme.source) if scheme.source and Path(scheme.source).is_file() else None,
            "content_sha256": scheme.digest(),
        },
        "data": {
            "dir": str(dataset.root.resolve()) if dataset.root else None,
            "simulated": is_simulated(dataset.root),
            "files": {Path(p).name: sha256_file(p) for _, p in sorted(dataset.files.items()) if Path(p).is_file()},
        },
        "tables": {name: int(len(df)) for name, df in dataset.tables().items()},
    }


def default_processed_dir(data_dir: str | Path) -> Path:
    """Where validated tables go: ``…/data/processed/<name>`` beside ``…/data/raw/<name>``, else ``./data/processed/<name>``."""
    raw = Path(data_dir).resolve()
    for parent in raw.parents:
        if parent.name == "raw" and parent.parent.name == "data":
            return parent.parent / "processed" / raw.relative_to(parent)
    return Path("data") / "processed" / raw.name


def raw_tree(raw_dir: str | Path) -> Path:
    """The tree raw data live in: the ``data/raw`` folder that holds ``raw_dir``, else ``raw_dir`` itself.

    Examples
    --------
    >>> raw_tree("data/raw/demo") == Path("data/raw").resolve()
    True
    >>> raw_tree("/tmp/my_tables") == Path("/tmp/my_tables").resolve()
    True
    """
    raw = Path(raw_dir).resolve()
    for parent in (raw, *raw.parents):
        if parent.name == "raw" and parent.parent.name == "data":
            return parent
    return raw


def ensure_outside(raw_dir: str | Path, target: str | Path) -> None:
    """Raw data are never written: refuse a target inside the raw-data tree (``data/raw/`` when the data set lives
    there, else the data directory itself)."""
    tree, t = raw_tree(raw_dir), Path(target).resolve()
    if t == tree or tree in t.parents:
        raise DataError(f"refusing to write inside the raw-data tree {tree}", file=target)


def write_processed(
    dataset: Dataset, scheme: Scheme, out_dir: str | Path, seed: int | None = None, progress: Callable | None = None
) -> Path:
    """Write every validated table as parquet plus provenance.json; refuses to write inside the raw directory."""
    out = Path(out_dir)
    if dataset.root is not None:
        ensure_outside(dataset.root, out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in dataset.tables().items():
        df.to_parquet(out / f"{name}.parquet")
    (out / "provenance.json").write_text(
        json.dumps(provenance(dataset, scheme, seed), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return out


def read_processed(directory: str | Path) -> Dataset:
    """Read back the typed tables that :func:`write_processed` wrote (no re-validation: they were validated)."""
    d = Path(directory)
    if not (d / "provenance.json").is_file():
        raise DataError("not a processed data directory (no provenance.json)", file=d)
    prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    tables = {
        n: pd.read_parquet(d / f"{n}.parquet") for n in TABLES + ("indicators",) if (d / f"{n}.parquet").is_file()
    }
    root = Path(prov["data"]["dir"]) if prov["data"]["dir"] else None
    files = {n: root / f for n in TABLES for f in prov["data"]["files"] if root and f.split(".")[0] == n}
    return Dataset(**tables, files=files, root=root)
