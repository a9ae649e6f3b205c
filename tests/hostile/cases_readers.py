"""Hostile files for the readers (issue 11, defects 10, 12 and 16): XLSX bombs, encodings,
damaged files, formulas without values, binary files with a text name.

The bombs are built here, small, from a real workbook whose sheet XML is replaced; the cases
that could exhaust memory run ``isolated`` (a subprocess with an address-space limit), so a
regression fails the case instead of the test machine.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from hostile._corpus import ACTIVITY_HEADER, Case, activity_row

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_SHEET = "xl/worksheets/sheet1.xml"


def _workbook_bytes() -> bytes:
    """A one-sheet workbook (openpyxl) whose sheet part the builders replace."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Activities"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int, values: Iterable[str]) -> str:
    cells = "".join(
        _inline(f"{chr(65 + index)}{number}", value) for index, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def table_rows(*rows: str) -> str:
    """Sheet rows: the activity header (row 1) and ``rows`` (CSV lines) from row 2."""
    lines = [ACTIVITY_HEADER, *rows]
    return "".join(_row(n, line.split(",")) for n, line in enumerate(lines, start=1))


def sheet_xml(body: str | Iterable[str], *, dimension: str | None = None) -> Iterable[bytes]:
    """The chunks of a worksheet part: ``body`` (rows) inside ``<sheetData>``."""
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>'.encode()
    if dimension is not None:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    for chunk in [body] if isinstance(body, str) else body:
        yield chunk.encode()
    yield b"</sheetData></worksheet>"


def xlsx_file(
    name: str, chunks: Callable[[], Iterable[bytes]], *, level: int = 6
) -> Callable[[Path], Path]:
    """A builder of a workbook whose sheet part is ``chunks()`` (streamed, so a part of
    gigabytes unpacked costs megabytes here)."""

    def build(folder: Path) -> Path:
        source = zipfile.ZipFile(io.BytesIO(_workbook_bytes()))
        path = folder / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
            for info in source.infolist():
                if info.filename == _SHEET:
                    with out.open(_SHEET, "w", force_zip64=True) as part:
                        for chunk in chunks():
                            part.write(chunk)
                else:
                    out.writestr(info, source.read(info.filename))
        return path

    return build


def patched(
    build: Callable[[Path], Path], patch: Callable[[bytes], bytes]
) -> Callable[[Path], Path]:
    """A builder applying ``patch`` to the bytes another builder wrote."""

    def run(folder: Path) -> Path:
        path = build(folder)
        path.write_bytes(patch(path.read_bytes()))
        return path

    return run


def _lie_about_sizes(data: bytes) -> bytes:
    """Make the central-directory entry of the sheet claim a packed size of nearly 4 GiB."""
    name = _SHEET.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            return data[: at + 20] + struct.pack("<I", 0xFFFFFFF0) + data[at + 24 :]
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError("no central directory entry for the sheet")


def _far_cell(letters: str, row: int) -> Callable[[], Iterable[bytes]]:
    """A valid table, then one cell far out (and no dimension to warn of it)."""
    cell = f'<row r="{row}">{_inline(f"{letters}{row}", "x")}</row>'
    return lambda: sheet_xml(table_rows(activity_row()) + cell)


def _empty_rows(count: int) -> Callable[[], Iterable[bytes]]:
    """The header, one row, then ``count`` empty rows: highly compressible XML."""

    def chunks() -> Iterable[bytes]:
        def body() -> Iterable[str]:
            yield table_rows(activity_row())
            for start in range(3, count + 3, 10_000):
                yield "".join("<row/>" for _ in range(min(10_000, count + 3 - start)))

        return sheet_xml(body())

    return chunks


CASES: list[Case] = [
    # ---- defect 10: XLSX bombs -----------------------------------------------------------
    Case(
        "xlsx-bomb-cell-at-XFD1048576",
        xlsx_file("xfd.xlsx", _far_cell("XFD", 1_048_576)),
        says="cell XFD1048576 is past column",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-declared-dimension-XFD1048576",
        xlsx_file(
            "dim.xlsx",
            lambda: sheet_xml(table_rows(activity_row()), dimension="A1:XFD1048576"),
        ),
        says="declares cells up to column XFD",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-cell-at-KN1048576",
        xlsx_file("kn.xlsx", _far_cell("KN", 1_048_576)),
        says="cell KN1048576 is past column",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-declared-rows-past-excel",
        xlsx_file(
            "rows.xlsx", lambda: sheet_xml(table_rows(activity_row()), dimension="A1:H5000000")
        ),
        says="declares 5,000,000 rows",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-row-past-excel",
        xlsx_file(
            "row.xlsx",
            lambda: sheet_xml(
                table_rows(activity_row()) + f'<row r="2000000">{_inline("A2000000", "x")}</row>'
            ),
        ),
        says="past row 1,048,576",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-highly-compressible-sheet",
        xlsx_file("zip.xlsx", _empty_rows(4_000_000), level=9),
        says="a zip bomb",
        isolated=True,
    ),
    Case(
        "xlsx-bomb-total-unpacked-size-over-the-limit",
        xlsx_file("big.xlsx", _empty_rows(200_000), level=0),
        says="ESGLEDGER_MAX_XLSX_UNCOMPRESSED_BYTES",
        env={"ESGLEDGER_MAX_XLSX_UNCOMPRESSED_BYTES": "1000000"},
        isolated=True,
    ),
    Case(
        "xlsx-zip-entry-with-impossible-size",
        patched(
            xlsx_file("lie.xlsx", lambda: sheet_xml(table_rows(activity_row()))), _lie_about_sizes
        ),
        says="impossible size",
        isolated=True,
    ),
    Case(
        "xlsx-file-larger-than-the-limit",
        xlsx_file("large.xlsx", lambda: sheet_xml(table_rows(activity_row()))),
        says="larger than XLSX files are read",
        env={"ESGLEDGER_MAX_XLSX_BYTES": "1000"},
    ),
    Case(
        "xlsx-value-in-the-last-excel-row-is-streamed",
        xlsx_file(
            "last.xlsx",
            lambda: sheet_xml(
                table_rows(activity_row()) + f'<row r="1048576">{_inline("A1048576", "R9")}</row>'
            ),
        ),
        says="row 3, column 'entity': the value is missing",
        isolated=True,
        memory_mb=1536,
    ),
    Case(
        "xlsx-small-valid-workbook-lands",
        xlsx_file("ok.xlsx", lambda: sheet_xml(table_rows(activity_row()), dimension="A1:H2")),
        expect=0,
    ),
]
