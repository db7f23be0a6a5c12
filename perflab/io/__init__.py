"""Load, validate and record the data tables of an evaluation.

Raw tables (CSV, gzipped CSV or XLSX; UTF-8, UTF-8 with BOM or GB18030) are read
as text, checked column by column against the data model of DESIGN.md, and
returned typed in a frozen :class:`Dataset`. Each table keeps the line numbers
of its source file as its index (``row``; the header is row 1), so later steps
can still name the file, row and column of a bad value. Raw files are only
ever read.

Modules: :mod:`~perflab.io.tables` (the data model and :class:`Dataset`),
:mod:`~perflab.io.read` (files to text tables), :mod:`~perflab.io.columns` (misspelt and extra columns), :mod:`~perflab.io.validate`
(typing and cross-checks, :func:`load_dataset`) and :mod:`~perflab.io.processed`
(parquet and provenance); every name is importable from ``perflab.io``.
"""

from perflab.io.columns import edit_distance, misspelt
from perflab.io.processed import (
    default_processed_dir,
    ensure_outside,
    is_simulated,
    provenance,
    read_processed,
    sha256_file,
    write_processed,
)
from perflab.io.read import RawTable, find_table_file, read_raw, read_raw_table
from perflab.io.tables import (
    ENCODINGS,
    KEYS,
    REQUIRED_TABLES,
    SIMULATED_MARKER,
    SPEC,
    SUFFIXES,
    TABLES,
    Column,
    Dataset,
    DatasetSummary,
    describe_dataset,
)
from perflab.io.validate import (
    dataset_from_tables,
    extra_columns,
    load_dataset,
    validate_panel,
    validate_table,
)

__all__ = [
    "TABLES", "REQUIRED_TABLES", "SUFFIXES", "ENCODINGS", "SIMULATED_MARKER", "SPEC", "KEYS", "Column", "Dataset",
    "DatasetSummary", "describe_dataset", "find_table_file", "read_raw_table", "read_raw", "RawTable", "extra_columns", "edit_distance", "misspelt", "validate_table", "load_dataset",
    "dataset_from_tables", "validate_panel", "sha256_file", "is_simulated", "provenance", "default_processed_dir",
    "ensure_outside", "write_processed", "read_processed",
]  # fmt: skip
