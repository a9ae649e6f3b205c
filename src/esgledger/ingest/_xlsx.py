"""Guarded, streaming reading of XLSX workbooks (used by :mod:`esgledger.ingest.readers`).

An XLSX file is a zip archive of XML parts; a small file can declare or hold a sheet of
billions of cells ("XLSX bombs"). This module reads one so that memory never depends on what
the file declares:

1. the zip directory is checked before any part is opened: the file size, the uncompressed
   size of every part and of all parts, the compression ratio of every part, and sizes that
   cannot be true (:mod:`esgledger.ingest.limits`);
2. openpyxl (``read_only``) reads the workbook's small parts: sheet names and visibility,
   shared strings, the styles that make a number a date;
3. each sheet's XML is parsed here as a stream (``xml.etree.ElementTree.iterparse``), one
   cell at a time, every parsed element dropped at once. The declared ``<dimension ref>`` and
   every present cell are held to the row and column limits; a value past them refuses the
   file at that cell; empty cells far out (formatting) are skipped. Rows become Arrow record
   batches of text columns, so a whole sheet is never one grid in memory.

A formula cell with no saved value (a file written by a program that does not compute
formulas) is refused naming the cell, rather than read as an empty cell.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, iterparse

import pyarrow as pa

from esgledger.ingest.limits import (
    EXCEL_MAX_CELL_CHARS,
    RATIO_FLOOR_BYTES,
    describe,
    human_bytes,
    limit,
)

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _NS + "row"
_CELL = _NS + "c"
_VALUE = _NS + "v"
_FORMULA = _NS + "f"
_INLINE = _NS + "is"
_TEXT = _NS + "t"
_RUN = _NS + "r"
_DIMENSION = _NS + "dimension"
_SHEET_DATA = _NS + "sheetData"
_COORD = re.compile(r"([A-Za-z]{1,3})(\d{1,7})$")
_RANGE = re.compile(r"([A-Za-z]{1,3})(\d{1,7})(?::([A-Za-z]{1,3})(\d{1,7}))?$")

#: Rows per Arrow record batch.
BATCH_ROWS = 65_536


class XlsxRefusalError(Exception):
    """The workbook is refused: ``problem`` and ``fix`` for the issue, ``row``/``column``
    (letters) when one cell is the reason."""

    def __init__(
        self, problem: str, fix: str = "", row: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.row = row
        self.column = column


_DAMAGED_FIX = "open it in Excel and save it again as .xlsx"


def damaged(detail: str = "") -> XlsxRefusalError:
    """The one message for a file that is not a readable XLSX workbook."""
    problem = "damaged file (not a valid XLSX workbook)"
    if detail:
        problem += f": {detail}"
    return XlsxRefusalError(problem, _DAMAGED_FIX)


def cell_text(value: Any) -> str | None:
    """A cell value as the text importers parse (``None`` for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


_LETTERS: dict[str, int] = {}


def column_index(letters: str) -> int:
    """``A`` → 1, ``XFD`` → 16384."""
    index = _LETTERS.get(letters)
    if index is None:
        index = 0
        for char in letters.upper():
            index = index * 26 + (ord(char) - 64)
        _LETTERS[letters] = index
    return index


def column_letters(index: int) -> str:
    """1 → ``A``, 16384 → ``XFD``."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_archive(path: Path) -> None:
    """Refuse a zip archive whose directory promises more than the limits allow, before any
    part of it is decompressed."""
    size = path.stat().st_size
    if size > limit("xlsx_bytes"):
        raise XlsxRefusalError(
            f"the file is {human_bytes(size)}, larger than XLSX files are read "
            f"({describe('xlsx_bytes')})",
            "save the data as CSV or Parquet, or split the workbook",
        )
    with path.open("rb") as handle:
        signature = handle.read(8)
    if signature == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise XlsxRefusalError(
            "the workbook is password-protected or an old Excel (.xls) file, not XLSX",
            "save it from Excel as .xlsx without a password",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise damaged("it is not a complete zip archive") from exc
    total = 0
    for info in infos:
        if info.file_size < 0 or info.compress_size < 0 or info.compress_size > size:
            raise damaged(f"part {info.filename[:80]!r} declares an impossible size")
        total += info.file_size
        is_sheet = info.filename.startswith("xl/worksheets/")
        if not is_sheet and info.file_size > limit("xlsx_part_bytes"):
            raise XlsxRefusalError(
                f"part {info.filename[:80]!r} of the workbook unpacks to "
                f"{human_bytes(info.file_size)} ({describe('xlsx_part_bytes')})",
                "save the data as CSV or Parquet",
            )
        if info.file_size >= RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limit("xlsx_ratio"):
                raise XlsxRefusalError(
                    f"part {info.filename[:80]!r} unpacks to {human_bytes(info.file_size)}, "
                    f"{ratio:,.0f} times its packed size ({describe('xlsx_ratio')}): "
                    "a zip bomb, not a spreadsheet",
                    "save the data again from Excel, or as CSV",
                )
    if total > limit("xlsx_uncompressed_bytes"):
        raise XlsxRefusalError(
            f"the workbook unpacks to {human_bytes(total)} ({describe('xlsx_uncompressed_bytes')})",
            "save the data as CSV or Parquet, or split the workbook",
        )


class Workbook:
    """An open workbook (after :func:`check_archive`): sheet names, visibility, and each
    sheet's rows as text."""

    def __init__(self, path: Path, max_columns: int) -> None:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        self.max_columns = max_columns
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (
            zipfile.BadZipFile,
            InvalidFileException,
            KeyError,
            ParseError,
            ValueError,
            TypeError,
            AttributeError,
            IndexError,
            EOFError,
            OSError,
        ) as exc:
            raise damaged() from exc
        self._date_formats: set[int] = set(getattr(self._book, "_date_formats", set()) or ())
        self._timedelta_formats: set[int] = set(
            getattr(self._book, "_timedelta_formats", set()) or ()
        )
        self._epoch = self._book.epoch
        self._strings: Any = getattr(self._book, "shared_strings", None)
        if self._strings is None:  # pragma: no cover - openpyxl keeps them on the worksheets
            self._strings = []

    def close(self) -> None:
        self._book.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sheet_names(self) -> list[str]:
        return list(self._book.sheetnames)

    @property
    def visible(self) -> list[str]:
        return [ws.title for ws in self._book.worksheets if ws.sheet_state == "visible"]

    def _source(self, name: str) -> IO[bytes] | None:
        worksheet = self._book[name]
        path = getattr(worksheet, "_worksheet_path", None)
        if path is None:  # a chart sheet: no cells
            return None
        strings = getattr(worksheet, "_shared_strings", None)
        if strings is not None:
            self._strings = strings
        try:
            source: IO[bytes] = self._book._archive.open(path)
        except (KeyError, zipfile.BadZipFile, OSError) as exc:
            raise damaged(f"sheet {name!r} is missing") from exc
        return source

    def header(self, name: str) -> list[str]:
        """The texts of row 1 of sheet ``name`` (trailing empty cells dropped)."""
        for row_number, cells in self._rows(name):
            if row_number != 1:
                break
            return _header(cells)
        return []

    def batches(self, name: str) -> tuple[list[str], Iterator[pa.RecordBatch]]:
        """The header (row 1) of sheet ``name`` and its data rows (row 2 on) as record
        batches of text columns, as wide as the header. Empty rows between data rows are
        kept (so table row ``i`` is sheet row ``i + 2``); trailing empty rows are dropped."""
        rows = self._rows(name)
        header: list[str] = []
        first = next(rows, None)
        pending: tuple[int, dict[int, str | None]] | None = None
        if first is not None:
            if first[0] == 1:
                header = _header(first[1])
            else:
                pending = first
        return header, self._data(rows, pending, len(header))

    def _data(
        self,
        rows: Iterator[tuple[int, dict[int, str | None]]],
        pending: tuple[int, dict[int, str | None]] | None,
        width: int,
    ) -> Iterator[pa.RecordBatch]:
        columns: list[list[str | None]] = [[] for _ in range(width)]
        filled = 0
        last = 1  # the sheet row of the last row added (the header is row 1)

        def flush() -> pa.RecordBatch:
            nonlocal columns, filled
            batch = pa.record_batch(
                [pa.array(values, type=pa.string()) for values in columns],
                names=[f"c{i}" for i in range(width)],
            )
            columns = [[] for _ in range(width)]
            filled = 0
            return batch

        def all_rows() -> Iterator[tuple[int, dict[int, str | None]]]:
            if pending is not None:
                yield pending
            yield from rows

        for row_number, cells in all_rows():
            if not any(value is not None for value in cells.values()):
                continue
            for _ in range(last + 1, row_number):  # empty rows between data rows
                for column in columns:
                    column.append(None)
                filled += 1
                if filled >= BATCH_ROWS:
                    yield flush()
            for index, column in enumerate(columns, start=1):
                column.append(cells.get(index))
            filled += 1
            last = row_number
            if filled >= BATCH_ROWS:
                yield flush()
        if filled:
            yield flush()

    def _rows(self, name: str) -> Iterator[tuple[int, dict[int, str | None]]]:
        """``(sheet row, {column: text})`` for each ``<row>`` holding a value, in order."""
        source = self._source(name)
        if source is None:
            return
        max_rows = limit("xlsx_rows")
        max_columns = self.max_columns
        strings = self._strings
        date_formats = self._date_formats
        with source:
            events = iterparse(source, events=("start", "end"))
            row_element: Element | None = None
            sheet_data: Element | None = None
            row_number = 0
            column = 0
            cells: dict[int, str | None] = {}
            try:
                for event, element in events:
                    tag = element.tag
                    if event == "start":
                        if tag == _ROW:
                            row_element = element
                            given = element.get("r")
                            row_number = int(given) if given and given.isdigit() else row_number + 1
                            if row_number > max_rows:
                                raise XlsxRefusalError(
                                    f"the sheet goes on past row {max_rows:,} (row "
                                    f"{row_number:,}; {describe('xlsx_rows')})",
                                    "keep the data in the first rows, or save it as CSV",
                                    row=row_number,
                                )
                            column = 0
                            cells = {}
                        elif tag == _SHEET_DATA:
                            sheet_data = element
                        continue
                    if tag == _CELL:
                        coordinate = element.get("r")
                        if coordinate:
                            match = _COORD.match(coordinate)
                            if match is None:
                                raise damaged(f"a cell has the reference {coordinate[:20]!r}")
                            column = column_index(match.group(1))
                        else:
                            column += 1
                        value = self._value(element, row_number, column, strings, date_formats)
                        if value is not None and column > max_columns:
                            raise XlsxRefusalError(
                                f"cell {column_letters(column)}{row_number} is past column "
                                f"{column_letters(max_columns)}, the last one read "
                                f"({self._columns_note()})",
                                "remove the cells to the right of the table",
                                row=row_number,
                                column=column_letters(column),
                            )
                        if value is not None:
                            cells[column] = value
                        if row_element is not None:
                            row_element.clear()
                    elif tag == _ROW:
                        yield row_number, cells
                        cells = {}
                        row_element = None
                        if sheet_data is not None:
                            sheet_data.clear()
                    elif tag == _DIMENSION:
                        self._check_dimension(element.get("ref") or "")
                    elif tag == _SHEET_DATA:
                        return  # nothing after the cells is read
            except ParseError as exc:
                raise damaged(f"the XML of sheet {name!r} is broken") from exc
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise damaged(f"sheet {name!r} cannot be unpacked") from exc

    def _columns_note(self) -> str:
        extra = limit("extra_columns")
        known = self.max_columns - extra
        return f"this kind of file has {known} columns and {extra} more are read: " + describe(
            "extra_columns"
        )

    def _check_dimension(self, ref: str) -> None:
        match = _RANGE.match(ref.strip())
        if match is None:
            return  # a missing or odd dimension is only a hint; the cells are checked
        last_letters = match.group(3) or match.group(1)
        last_row = int(match.group(4) or match.group(2))
        columns = column_index(last_letters)
        if columns > self.max_columns:
            raise XlsxRefusalError(
                f"the sheet declares cells up to column {last_letters.upper()} ({ref[:40]}), "
                f"past column {column_letters(self.max_columns)}, the last one read "
                f"({self._columns_note()})",
                "delete the columns right of the table in Excel and save again",
            )
        if last_row > limit("xlsx_rows"):
            raise XlsxRefusalError(
                f"the sheet declares {last_row:,} rows ({ref[:40]}; {describe('xlsx_rows')})",
                "delete the empty rows below the table in Excel and save again",
            )

    def _value(
        self,
        cell: Element,
        row: int,
        column: int,
        strings: Any,
        date_formats: set[int],
    ) -> str | None:
        kind = cell.get("t", "n")
        value_element = cell.find(_VALUE)
        text = value_element.text if value_element is not None else None
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            if inline is None:
                return None
            parts = [t.text or "" for t in inline.iter(_TEXT) if t is not None]
            return _checked(cell_text("".join(parts)), row, column)
        if not text:
            if kind != "str" and cell.find(_FORMULA) is not None:
                raise XlsxRefusalError(
                    f"cell {column_letters(column)}{row} holds a formula without a saved value",
                    "open and save the file in Excel, or paste the values",
                    row=row,
                    column=column_letters(column),
                )
            return None
        if kind == "n":
            try:
                number = float(text)
            except ValueError as exc:
                raise damaged(f"cell {column_letters(column)}{row} holds no number") from exc
            style = cell.get("s")
            if style and style.isdigit() and int(style) in date_formats:
                from openpyxl.utils.datetime import from_excel

                try:
                    moment = from_excel(
                        number, self._epoch, timedelta=int(style) in self._timedelta_formats
                    )
                except (OverflowError, ValueError):
                    return cell_text(number)
                return cell_text(moment)
            return cell_text(number)
        if kind == "s":
            try:
                shared = strings[int(text)]
            except (ValueError, IndexError) as exc:
                raise damaged(
                    f"cell {column_letters(column)}{row} names a text that is not there"
                ) from exc
            return _checked(cell_text(shared), row, column)
        if kind == "b":
            return cell_text(text.strip() not in ("0", "false", ""))
        if kind == "d":
            return cell_text(text.strip())
        # "str" (a formula's text), "e" (an error such as #DIV/0!): the text as written
        return _checked(cell_text(text), row, column)


def _checked(text: str | None, row: int, column: int) -> str | None:
    if text is not None and len(text) > EXCEL_MAX_CELL_CHARS:
        raise XlsxRefusalError(
            f"cell {column_letters(column)}{row} holds {len(text):,} characters, more than "
            f"a cell can ({EXCEL_MAX_CELL_CHARS:,})",
            "shorten the text",
            row=row,
            column=column_letters(column),
        )
    return text


def _header(cells: dict[int, str | None]) -> list[str]:
    if not cells:
        return []
    width = max(index for index, value in cells.items() if value is not None)
    return [cells.get(index) or "" for index in range(1, width + 1)]
