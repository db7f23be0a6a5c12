"""The advisory memo: findings computed from a run's or a sweep's saved tables, as HTML, XLSX and figures.

``perflab memo DIR`` reads what ``perflab run`` (``DIR/tables/*.csv``) or ``perflab sweep``
(``DIR/comparison/*.csv``) saved, recomputes nothing, and executes ``notebooks/90_memo.ipynb`` on it:
``DIR/memo.html`` (code hidden), ``DIR/memo.xlsx`` (one sheet per table, bilingual headers) and
``DIR/figures/``. Every sentence of the memo comes from :func:`findings` and the functions beside it,
each number with the table it was read from.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perflab.errors import PerflabError

MEMO_NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "90_memo.ipynb"
LANGS = ("zh", "en")

# what each kind of directory must hold for a memo (relative paths, without .csv)
RUN_TABLES = ("tables/scores",)
# the sections a run's notebooks add: a memo of a partial run (perflab run --only) says which are missing
SECTIONS = {
    "10_scores": ("effective_weights",),
    "20_differentiated": ("differentiated_scores", "differentiated_contributions", "target_vetting"),
    "30_weight_sensitivity": ("sensitivity_rank_intervals", "sensitivity_stability_units"),
    "40_evaluator_bias": ("rater_flags", "flags_by_group", "rank_impact", "composite_d_study"),
    "50_group_shares": ("group_share_stable_range",),
}
SWEEP_TABLES = ("comparison/summary", "comparison/ranks", "comparison/scenarios", "comparison/movers")
# the columns the memo reads from its required tables
COLUMNS = {
    "run": {"scores": ("unit", "kind", "name_zh", "name_en", "presented", "final", "grade", "rank")},
    "sweep": {
        "summary": (
            "scenario",
            "rank_group",
            "kendall_tau",
            "spearman_rho",
            "units_moved",
            "largest_move",
            "top3_changed",
        )
    },
}


class MemoError(PerflabError):
    """A directory the memo cannot be written from: names the directory and what is missing."""


@dataclass(frozen=True)
class Finding:
    """One numbered finding: the sentence, its headline number and the table it was read from."""

    text: str
    table: str  # path relative to the directory, e.g. tables/scores.csv
    value: float | int | str | None = None
    topic: str = ""


@dataclass
class MemoInputs:
    """What a memo is written from: the directory, its kind and its tables (name without .csv -> DataFrame)."""

    directory: Path
    kind: str  # "run" or "sweep"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    def missing_sections(self) -> list[str]:
        """The notebooks whose tables this run lacks (it was run with --only, or a notebook failed)."""
        return [nb for nb, need in SECTIONS.items() if not self.has(*need)] if self.kind == "run" else []

    @cached_property
    def scheme(self):
        """The scheme the run used: DIR/scheme.yaml (a copy written by the run), else the file provenance names."""
        from perflab.scheme import load_scheme

        for path in (self.directory / "scheme.yaml", (self.provenance.get("scheme") or {}).get("file")):
            if path and Path(path).is_file():
                try:
                    return load_scheme(path)
                except PerflabError:
                    continue
        return None

    @property
    def simulated(self) -> bool:
        data = self.provenance.get("data") or {}
        if "simulated" in data:
            return bool(data["simulated"])
        from perflab.io import is_simulated

        return is_simulated(data.get("dir") or self.provenance.get("data_dir"))


def memo_kind(directory: str | Path) -> str:
    """``run`` or ``sweep``: what wrote the directory (a sweep has ``comparison/``, a run ``tables/``)."""
    d = Path(directory)
    if not d.is_dir():
        raise MemoError(f"{d}: no such directory (give the output directory of perflab run or perflab sweep)")
    if (d / "comparison").is_dir():
        return "sweep"
    if (d / "tables").is_dir() or (d / "provenance.json").is_file():
        return "run"
    raise MemoError(f"{d}: not a perflab run or sweep directory (no tables/, comparison/ or provenance.json)")


def load_inputs(directory: str | Path) -> MemoInputs:
    """Read every table a memo needs; one :class:`MemoError` naming all that is missing.

    A run's tables are read from ``DIR/tables``, a sweep's from ``DIR/comparison``, each checked for the columns
    the memo reads; ``provenance.json``, if there, says what the run was run on.

    Parameters
    ----------
    directory : str or pathlib.Path
        The output directory of ``perflab run`` or ``perflab sweep``.

    Returns
    -------
    MemoInputs
        The directory, its kind (``run`` or ``sweep``), its tables (name without .csv → DataFrame) and provenance.

    Raises
    ------
    MemoError
        Not a run or sweep directory, a table the memo needs missing or lacking columns, or a file unreadable.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> run = Path(tempfile.mkdtemp())
    >>> (run / "tables").mkdir()
    >>> load_inputs(run)
    Traceback (most recent call last):
    ...
    perflab.memo.MemoError: ...: the memo needs tables/scores.csv, missing here (run notebook 10_scores at least: perflab run)
    >>> pd.DataFrame(
    ...     {
    ...         "unit": ["D01", "D02"],
    ...         "kind": "district",
    ...         "name_zh": ["东城区", "西城区"],
    ...         "name_en": ["Dongcheng", "Xicheng"],
    ...         "presented": True,
    ...         "final": [91.0, 88.5],
    ...         "grade": "excellent",
    ...         "rank": [1, 2],
    ...     }
    ... ).to_csv(run / "tables" / "scores.csv", index=False)
    >>> inputs = load_inputs(run)
    >>> inputs.kind, sorted(inputs.tables), inputs.missing_sections()[:2]
    ('run', ['scores'], ['10_scores', '20_differentiated'])
    """
    d = Path(directory)
    kind = memo_kind(d)
    need = SWEEP_TABLES if kind == "sweep" else RUN_TABLES
    missing = [f"{n}.csv" for n in need if not (d / f"{n}.csv").is_file()]
    if missing:
        hint = (
            "run notebook 10_scores at least: perflab run"
            if kind == "run"
            else "rerun perflab sweep into this directory"
        )
        raise MemoError(f"{d}: the memo needs {', '.join(missing)}, missing here ({hint})")
    tables = {}
    folder = "comparison" if kind == "sweep" else "tables"
    for path in sorted((d / folder).glob("*.csv")):
        try:
            tables[path.stem] = pd.read_csv(path, encoding="utf-8-sig")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise MemoError(f"{path}: cannot be read as a table ({str(exc).splitlines()[0]})") from None
    for name, cols in COLUMNS[kind].items():
        if name in tables:
            lacking = [c for c in cols if c not in tables[name].columns]
            if lacking:
                raise MemoError(
                    f"{d / folder / (name + '.csv')}: no column {', '.join(lacking)} (not a table perflab wrote?)"
                )
    prov = {}
    if (d / "provenance.json").is_file():
        try:
            prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MemoError(f"{d / 'provenance.json'}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return MemoInputs(d, kind, tables, prov)


# ---------------------------------------------------------------------------
# the workbook
# ---------------------------------------------------------------------------

HEADERS: dict[str, tuple[str, str]] = {
    "unit": ("单位代码", "Unit"),
    "kind": ("类别", "Kind"),
    "zone": ("功能区/领域", "Zone"),
    "name_zh": ("名称", "Name (Chinese)"),
    "name_en": ("名称（英文）", "Name"),
    "presented": ("现场述职", "Presented on site"),
    "onsite": ("现场考评得分", "On-site score"),
    "attainment": ("目标完成得分", "Target attainment"),
    "routine": ("日常考核得分", "Routine score"),
    "satisfaction": ("满意度", "Satisfaction"),
    "failed_verifications": ("核查未通过", "Failed verifications"),
    "final": ("综合得分", "Final score"),
    "imputed": ("补足的部分", "Imputed component"),
    "grade": ("等次", "Grade"),
    "rank": ("排名", "Rank"),
    "zone_rank": ("区内排名", "Rank in zone"),
    "rank_group": ("排名组", "Ranking group"),
    "level": ("层级", "Level"),
    "item": ("项目", "Item"),
    "units": ("单位数", "Units"),
    "nominal": ("名义权重", "Nominal weight"),
    "variance_share": ("方差贡献", "Share of the variance"),
    "correlation_ratio": ("相关比", "Correlation ratio"),
    "sd_points": ("分差（分）", "Spread (points)"),
    "ratio": ("比值", "Ratio"),
    "rater": ("评价者", "Evaluator"),
    "group": ("评价组", "Evaluator group"),
    "scenario": ("情景", "Scenario"),
    "measure": ("指标", "Measure"),
    "year": ("年份", "Year"),
    "flag": ("标记", "Flag"),
    "target": ("目标", "Target"),
    "reason": ("原因", "Reason"),
    "uniform": ("统一评价得分", "Uniform score"),
    "differentiated": ("差异化评价得分", "Differentiated score"),
    "rank_uniform": ("统一评价排名", "Uniform rank"),
    "rank_differentiated": ("差异化评价排名", "Differentiated rank"),
    "rank_change": ("名次变化", "Rank change"),
}


def header(column: str, lang: str = "en") -> str:
    """A column's heading in words (``HEADERS``; otherwise the column name with spaces)."""
    zh, en = HEADERS.get(column, (None, column.replace("_", " ").capitalize()))
    return (zh or en) if lang == "zh" else en


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per table: a bilingual header row (Chinese, then English), frozen; number formats; widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in tables.items():
        title = _sheet_title(name, used)
        ws = wb.create_sheet(title)
        for j, col in enumerate(df.columns, start=1):
            zh, en = HEADERS.get(col, (None, None))
            text = f"{zh}\n{en}" if zh else header(col)
            cell = ws.cell(row=1, column=j, value=text)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
        fmts = [_number_format(df[c], c) for c in df.columns]
        values = df.astype(object).where(df.notna(), None).to_numpy()
        for i, row in enumerate(values, start=2):
            for j, v in enumerate(row, start=1):
                if isinstance(v, (np.generic,)):
                    v = v.item()
                cell = ws.cell(row=i, column=j, value=v)
                if fmts[j - 1]:
                    cell.number_format = fmts[j - 1]
        for j, col in enumerate(df.columns, start=1):
            longest = max([len(str(header(col)))] + [len(str(v)) for v in df[col].head(500).tolist()])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, longest + 2))
        ws.row_dimensions[1].height = 32
        ws.freeze_panes = "A2"
    path = Path(path)
    wb.save(path)
    return path


def _sheet_title(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "table"
    title, n = base, 2
    while title.lower() in used:
        suffix = f"~{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _number_format(s: pd.Series, column: str) -> str | None:
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return None
    if pd.api.types.is_integer_dtype(s) or (s.dropna() % 1 == 0).all():
        return "0"
    if column in ("nominal", "variance_share") or column.endswith(("_share", "_pct_of")):
        return "0.0%"
    if column.startswith(("p_", "q_")) or column.endswith(("p_value", "q_value")):
        return "0.000"
    return "0.00"


# ---------------------------------------------------------------------------
# printing to PDF
# ---------------------------------------------------------------------------

CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    return next((p for p in (shutil.which(c) for c in CHROMIUM) if p), None)


def print_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print the memo to A4 with headless Chromium; a clear error saying how to install it when it is missing."""
    exe = find_chromium()
    if exe is None:
        raise MemoError(
            "--pdf needs headless Chromium, which is not installed: apt-get install chromium "
            "(or brew install --cask chromium); the HTML memo is written"
        )
    pdf_path = Path(pdf_path)
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path}",
        Path(html_path).resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not pdf_path.is_file():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise MemoError(f"Chromium could not print {html_path} to PDF: {last}")
    return pdf_path


# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------


def check_complete(directory: str | Path, kind: str | None = None) -> None:
    """Refuse a directory that is not a finished report: a run in progress, interrupted or failed (it holds an
    ``INCOMPLETE`` file) or, ``kind`` being ``run``, one without ``index.html`` (a run writes it last)."""
    from perflab.report import INCOMPLETE

    d = Path(directory)
    marker = d / INCOMPLETE
    if marker.is_file():
        why = marker.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise MemoError(f"{d}: not a complete report ({why[0] if why else 'INCOMPLETE'}): rerun perflab run")
    if kind == "run" and not (d / "index.html").is_file():
        raise MemoError(
            f"{d}: not a complete report (no index.html: the run was interrupted or failed): rerun perflab run"
        )


@dataclass(frozen=True)
class MemoResult:
    html: Path
    xlsx: Path
    figures: tuple[Path, ...]
    pdf: Path | None


def default_lang() -> str:
    """Chinese when a CJK font is installed, else English."""
    from perflab.plots import find_cjk_font

    return "zh" if find_cjk_font() else "en"


def run_memo(
    directory: str | Path, lang: str | None = None, pdf: bool = False, notebook: Path | None = None
) -> MemoResult:
    """Execute the memo notebook on DIR's tables; write memo.html, memo.xlsx and figures/ into DIR.

    ``notebook``: the memo notebook; by default ``90_memo.ipynb`` of the checkout's or the installed notebooks.
    """
    from perflab.report import execute, export_html, notebook_dir

    notebook = Path(notebook) if notebook is not None else notebook_dir() / MEMO_NOTEBOOK.name

    lang = lang or default_lang()
    if lang not in LANGS:
        raise MemoError(f"--lang must be zh or en, got {lang!r}")
    check_complete(directory)
    inputs = load_inputs(directory)  # checks the tables before a kernel starts
    check_complete(directory, inputs.kind)
    d = inputs.directory.resolve()
    executed = execute(notebook, d / "memo.ipynb", {"directory": str(d), "lang": lang}, cwd=d)
    title = {"zh": "咨询备忘录", "en": "Advisory memo"}[lang] + (
        f" · {inputs.scheme.name}" if inputs.scheme is not None else ""
    )
    html = export_html(executed, d / "memo.html", title=title)
    xlsx = write_xlsx(inputs.tables, d / "memo.xlsx")
    figures = tuple(sorted((d / "figures").glob("memo_*.*"))) if (d / "figures").is_dir() else ()
    out_pdf = print_pdf(html, d / "memo.pdf") if pdf else None
    return MemoResult(html, xlsx, figures, out_pdf)
