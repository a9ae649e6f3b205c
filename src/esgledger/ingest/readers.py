"""Reading input files: CSV (UTF-8 or GB18030), XLSX and Parquet into one Arrow table.

Every importer reads through :func:`read_table`, so every file format gets the same header
rules and the same errors:

* header names are matched case-insensitively, with surrounding blanks removed, and the
  Chinese headers of our templates are accepted for their English names;
* a missing required column, an unknown column, or a column given twice rejects the file,
  naming the column and the columns expected;
* CSV is read as UTF-8 (with or without BOM) and, when it is not valid UTF-8, as GB18030 —
  what Excel on a Chinese-language Windows exports (GB18030 is a superset of GBK and GB2312);
* CSV and XLSX cells come back as strings (``None`` for an empty cell) so that each importer
  parses them with its own rules and reports the row; Parquet keeps its column types.

Row numbers are what a person sees: in CSV and XLSX the header is row 1, so table row ``i`` is
row ``i + 2``; in Parquet it is data row ``i + 1``.

XLSX workbooks: the sheet read is the one named (``sheet=``, or ``esgledger import --sheet``
through :func:`sheet_choice`), else the only sheet, else the one visible sheet whose header
fits the kind of file (every column known, every required column present). Two fitting sheets
are refused, asking for ``--sheet``; when none fits, the closest one is reported. Every message
names the sheet: the file is shown as ``book.xlsx (sheet 'Activities')``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from esgledger.errors import InputError, Issue, close_matches
from esgledger.ingest._text import TextRefusalError, csv_batches, text_encoding
from esgledger.ingest._xlsx import Workbook, XlsxRefusalError, cell_text, check_archive
from esgledger.ingest.limits import describe, human_bytes, limit

__all__ = [
    "FORMATS",
    "RawTable",
    "SheetChoice",
    "StagedTable",
    "check_size",
    "detect_format",
    "parquet_damage",
    "read_table",
    "requested_sheet",
    "sheet_choice",
    "stage_table",
]

#: File endings and the format each is read as.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True, slots=True)
class RawTable:
    """A file read into memory with canonical column names.

    Attributes
    ----------
    file
        The file's name, as issues show it.
    format
        ``"csv"``, ``"xlsx"`` or ``"parquet"``.
    encoding
        For CSV, the encoding it was read with (``"utf-8"`` or ``"gb18030"``).
    table
        The data; columns renamed to their canonical names.
    first_row
        The row number a person sees for table row 0 (2 for CSV and XLSX, 1 for Parquet).
    sheet
        For XLSX, the name of the sheet read (``file`` names it too).
    """

    file: str
    path: Path
    format: str
    encoding: str | None
    table: pa.Table
    first_row: int
    sheet: str | None = None

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(row number, record)`` for each row — for small files only (entities, sites…)."""
        for index, record in enumerate(self.table.to_pylist()):
            yield index + self.first_row, record


@dataclass(slots=True)
class SheetChoice:
    """The sheet asked for (``requested``) and, once a workbook was read, the one read."""

    requested: str | None = None
    used: str | None = None


_SHEET: ContextVar[SheetChoice | None] = ContextVar("esgledger_sheet", default=None)


@contextlib.contextmanager
def sheet_choice(sheet: str | None = None) -> Iterator[SheetChoice]:
    """Within the block, XLSX files are read from ``sheet`` (``None``: found by header); the
    choice yielded records the sheet read. This is how ``esgledger import --sheet`` reaches
    the importers, which all read through :func:`read_table`."""
    choice = SheetChoice(requested=sheet)
    token = _SHEET.set(choice)
    try:
        yield choice
    finally:
        _SHEET.reset(token)


def requested_sheet() -> str | None:
    """The sheet named by the enclosing :func:`sheet_choice`, if any."""
    choice = _SHEET.get()
    return None if choice is None else choice.requested


def sheet_label(file: str, sheet: str) -> str:
    """How messages name one sheet of a workbook: ``book.xlsx (sheet 'Activities')``."""
    return f"{file} (sheet {sheet!r})"


def detect_format(path: Path) -> str:
    """The format a file is read as, from its ending.

    Raises
    ------
    InputError
        If the ending is not one of :data:`FORMATS`.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path.name}: cannot read files of type {path.suffix or '(no ending)'!r}",
            [
                Issue(
                    path.name,
                    None,
                    None,
                    None,
                    "unsupported file type",
                    "save the file as CSV (UTF-8), XLSX or Parquet",
                )
            ],
        )
    return fmt


def _reject(
    path: Path, problem: str, fix: str = "", column: str | None = None, file: str | None = None
) -> InputError:
    name = file or path.name
    return InputError(
        f"{name} was rejected: {problem}", [Issue(name, None, column, None, problem, fix)]
    )


_cell_text = cell_text


def _max_columns(columns: Mapping[str, Sequence[str]]) -> int:
    """The widest table read for this kind of file: its columns plus a margin."""
    return len(columns) + limit("extra_columns")


def _pick_sheet(
    path: Path,
    workbook: Workbook,
    requested: str | None,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> tuple[str, str]:
    """The sheet to read and, when it was chosen among several, a note on why."""
    names = workbook.sheet_names
    listed = ", ".join(repr(n) for n in names)
    if requested is not None:
        if requested not in names:
            raise _reject(
                path,
                f"the workbook has no sheet {requested!r}; its sheets are {listed}",
                "give one of these names with --sheet",
            )
        return requested, ""
    if len(names) == 1:
        return names[0], ""
    visible = workbook.visible
    scores: dict[str, int] = {}
    fitting: list[str] = []
    for name in visible or names:
        header = [h for h in workbook.header(name) if h]
        known, issues = _header_check(path.name, header, columns, required)
        scores[name] = known
        if header and not issues:
            fitting.append(name)
    if len(fitting) == 1:
        return fitting[0], ""
    if len(fitting) > 1:
        raise _reject(
            path,
            "the header of more than one sheet fits this kind of file ("
            + ", ".join(repr(n) for n in fitting)
            + ")",
            "name the sheet to import with --sheet NAME",
        )
    closest = max(scores, key=lambda n: scores[n]) if any(scores.values()) else names[0]
    return closest, (
        f"no sheet of the workbook has the header of this kind of file (sheets: {listed}); "
        f"sheet {closest!r} comes closest: fix its header, or choose the sheet with --sheet"
    )


def _refused(
    path: Path, refusal: XlsxRefusalError | TextRefusalError, file: str | None = None
) -> InputError:
    name = file or path.name
    column = refusal.column if isinstance(refusal, XlsxRefusalError) else None
    return InputError(
        f"{name} was rejected: {refusal.problem}",
        [Issue(name, refusal.row, column, None, refusal.problem, refusal.fix)],
    )


_PARQUET_FIX = "write the file again (it may have been cut short while copying)"


def parquet_damage(name: str, exc: BaseException) -> InputError:
    """The one message for a Parquet file that cannot be read (``exc`` is the reader's own
    error, e.g. "don't know what type: ?", which says nothing to a person; kept as the cause)."""
    problem = "damaged file (not a valid Parquet file)"
    return InputError(
        f"{name} was rejected: {problem}", [Issue(name, None, None, None, problem, _PARQUET_FIX)]
    )


def check_size(path: Path, fmt: str) -> None:
    """Refuse a file larger than the limit of its format (``csv_bytes``, ``xlsx_bytes``,
    ``parquet_bytes``; :mod:`esgledger.ingest.limits`)."""
    size = path.stat().st_size
    name = f"{fmt}_bytes"
    if size > limit(name):
        raise _reject(
            path,
            f"the file is {human_bytes(size)}, larger than {fmt.upper()} files are read "
            f"({describe(name)})",
            "split the file",
        )


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise parquet_damage(path.name, exc) from exc


@dataclass(slots=True)
class _Opened:
    """A file opened for reading: its raw header and its rows, as batches of text columns
    named by position (CSV, XLSX), or the whole table (Parquet)."""

    file: str
    format: str
    encoding: str | None
    header: list[str]
    batches: Iterator[pa.RecordBatch]
    sheet: str | None
    note: str
    table: pa.Table | None = None


@contextlib.contextmanager
def _open(
    path: Path,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
    sheet: str | None,
) -> Iterator[_Opened]:
    fmt = detect_format(path)
    if path.stat().st_size == 0:
        raise _reject(path, "the file is empty", "export the data with its header row")
    check_size(path, fmt)
    if fmt == "parquet":
        table = _read_parquet(path)
        yield _Opened(path.name, fmt, None, table.column_names, iter(()), None, "", table)
        return
    if fmt == "csv":
        try:
            encoding = text_encoding(path)
            header, batches = csv_batches(path, encoding, _max_columns(columns))
        except TextRefusalError as refusal:
            raise _refused(path, refusal) from refusal
        yield _Opened(path.name, fmt, encoding, header, _guard(path, batches, None), None, "")
        return
    choice = _SHEET.get()
    requested = sheet if sheet is not None else (choice.requested if choice else None)
    label: str | None = None
    try:
        check_archive(path)
        with Workbook(path, _max_columns(columns)) as workbook:
            name, note = _pick_sheet(path, workbook, requested, columns, required)
            label = sheet_label(path.name, name)
            if choice is not None:
                choice.used = name
            header, batches = workbook.batches(name)
            if not header:
                raise _reject(
                    path, "the sheet is empty", "put the header in row 1 of the sheet", file=label
                )
            header = [h if h else f"(column {i + 1})" for i, h in enumerate(header)]
            yield _Opened(label, fmt, None, header, _guard(path, batches, label), name, note)
    except XlsxRefusalError as refusal:
        raise _refused(path, refusal, label) from refusal


def _guard(
    path: Path, batches: Iterator[pa.RecordBatch], label: str | None
) -> Iterator[pa.RecordBatch]:
    """``batches``, with a refusal met while reading them turned into an :class:`InputError`."""
    try:
        yield from batches
    except (XlsxRefusalError, TextRefusalError) as refusal:
        raise _refused(path, refusal, label) from refusal


def _header_check(
    file: str,
    header: Sequence[str],
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> tuple[int, list[Issue]]:
    """How many header cells name a known column, and every header problem."""
    lookup: dict[str, str] = {}
    for name, aliases in columns.items():
        for spelling in (name, *aliases):
            lookup[spelling.strip().lower()] = name
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    known = 0
    for raw in header:
        key = raw.replace("\ufeff", "").strip().lower()
        canonical = lookup.get(key)
        if canonical is None:
            close = close_matches(key, list(lookup), n=1)
            fix = f"did you mean {lookup[close[0]]!r}? " if close else ""
            issues.append(
                Issue(
                    file,
                    1,
                    raw,
                    None,
                    "unknown column",
                    fix + "the columns are: " + ", ".join(columns),
                )
            )
            continue
        known += 1
        if canonical in seen:
            issues.append(
                Issue(
                    file,
                    1,
                    raw,
                    None,
                    f"column {canonical!r} appears twice (also as {seen[canonical]!r})",
                    "keep one of them",
                )
            )
        seen[canonical] = raw
    for name in required:
        if name not in seen:
            issues.append(
                Issue(file, 1, name, None, "required column is missing", f"add a column {name!r}")
            )
    return known, issues


def canonical_names(
    path: Path,
    header: Sequence[str],
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
    *,
    file: str | None = None,
    note: str = "",
) -> list[str]:
    """Map a file's header onto canonical column names.

    ``columns`` maps each canonical name to the other spellings accepted for it (e.g. the
    Chinese template header). Raises :class:`InputError` naming every unknown, duplicate or
    missing column; ``file`` is how the issues name the file (default: its name), ``note`` is
    added to the summary.
    """
    name = file or path.name
    _, issues = _header_check(name, header, columns, required)
    if issues:
        summary = f"{name} was rejected: its header is not right"
        raise InputError(summary + (f" ({note})" if note else ""), issues)
    lookup: dict[str, str] = {}
    for canonical, aliases in columns.items():
        for spelling in (canonical, *aliases):
            lookup[spelling.strip().lower()] = canonical
    return [lookup[raw.replace("\ufeff", "").strip().lower()] for raw in header]


def read_table(
    path: Path | str,
    *,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str] = (),
    sheet: str | None = None,
) -> RawTable:
    """Read a CSV, XLSX or Parquet file with canonical column names.

    Parameters
    ----------
    path
        The file.
    columns
        Canonical column names, each with the other spellings accepted for it.
    required
        Canonical names that must be present.
    sheet
        For XLSX, the sheet to read (default: the one of :func:`sheet_choice`, else the one
        sheet whose header fits ``columns`` and ``required``; see the module docstring).

    Raises
    ------
    InputError
        For an unsupported, empty, damaged or undecodable file and for header problems.
    """
    path = Path(path)
    with _open(path, columns, required, sheet) as opened:
        names = canonical_names(
            path, opened.header, columns, required, file=opened.file, note=opened.note
        )
        if opened.table is not None:
            table = opened.table.rename_columns(names)
        else:
            schema = pa.schema([(n, pa.string()) for n in names])
            table = pa.Table.from_batches(
                [pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in opened.batches],
                schema=schema,
            )
    return RawTable(
        file=opened.file,
        path=path,
        format=opened.format,
        encoding=opened.encoding,
        table=table,
        first_row=1 if opened.format == "parquet" else 2,
        sheet=opened.sheet,
    )


#: Rows per row group of a staged file: the writer holds one row group in memory (its default
#: is about a million rows, hundreds of MiB of text).
_ROW_GROUP = 65_536


@dataclass(frozen=True, slots=True)
class StagedTable:
    """A CSV or XLSX file copied, as text columns with canonical names, into a Parquet file
    (see :func:`stage_table`)."""

    file: str
    path: Path
    format: str
    encoding: str | None
    parquet: Path
    columns: tuple[str, ...]
    num_rows: int
    first_row: int
    sheet: str | None = None


def stage_table(
    path: Path | str,
    folder: Path | str,
    *,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str] = (),
    sheet: str | None = None,
) -> StagedTable:
    """Copy a CSV or XLSX file into a Parquet file in ``folder``, batch by batch, so that
    reading takes memory for a few batches whatever the size of the file (issue 11, defect
    16). The header rules, messages and sheet choice are those of :func:`read_table`; every
    column is text. The caller owns ``folder`` (the file is named ``staged-<hex>.parquet``).

    Raises
    ------
    InputError
        As :func:`read_table`; also for a Parquet file (scan it in place instead).
    """
    path = Path(path)
    if detect_format(path) == "parquet":
        raise _reject(path, "a Parquet file is scanned in place, not staged")
    target = Path(folder) / f"staged-{uuid.uuid4().hex}.parquet"
    rows = 0
    with _open(path, columns, required, sheet) as opened:
        names = canonical_names(
            path, opened.header, columns, required, file=opened.file, note=opened.note
        )
        schema = pa.schema([(n, pa.string()) for n in names])
        try:
            with pq.ParquetWriter(target, schema, compression="snappy") as writer:
                for batch in opened.batches:
                    writer.write_batch(
                        pa.RecordBatch.from_arrays(batch.columns, schema=schema),
                        row_group_size=_ROW_GROUP,
                    )
                    rows += batch.num_rows
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return StagedTable(
        file=opened.file,
        path=path,
        format=opened.format,
        encoding=opened.encoding,
        parquet=target,
        columns=tuple(names),
        num_rows=rows,
        first_row=2,
        sheet=opened.sheet,
    )
