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

from hostile._corpus import ACTIVITY_HEADER, Case, activity_row, bytes_file, text_file

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


# ---- defect 12: name the real problem ------------------------------------------------------

_VALID = "\n".join([ACTIVITY_HEADER, activity_row()]) + "\n"


def _parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ACTIVITY_HEADER.split(",")
    values = activity_row().split(",")
    table = pa.table({n: [v] * 500 for n, v in zip(names, values, strict=True)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _parquet(name: str, patch: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(patch(_parquet_bytes()))
        return path

    return build


def _scramble_footer(data: bytes) -> bytes:
    """Keep the magic bytes and the footer length, garble the footer (thrift) itself."""
    size = struct.unpack_from("<I", data, len(data) - 8)[0]
    start = len(data) - 8 - size
    garbled = bytes((b * 7 + 3) % 256 for b in data[start : len(data) - 8])
    return data[:start] + garbled + data[len(data) - 8 :]


def _formula_without_value() -> Iterable[bytes]:
    row = activity_row().split(",")
    cells = "".join(
        _inline(f"{chr(65 + i)}2", v) if i != 6 else '<c r="G2"><f>SUM(G3:G9)</f></c>'
        for i, v in enumerate(row)
    )
    return sheet_xml(table_rows() + f'<row r="2">{cells}</row>')


CASES += [
    Case("csv-utf16-with-bom-lands", text_file("u16.csv", _VALID, encoding="utf-16"), expect=0),
    Case(
        "csv-utf16-le-without-bom-lands",
        text_file("u16le.csv", _VALID, encoding="utf-16-le"),
        expect=0,
    ),
    Case("csv-utf32-with-bom-lands", text_file("u32.csv", _VALID, encoding="utf-32"), expect=0),
    Case(
        "csv-neither-utf8-nor-gb18030",
        bytes_file("bad.csv", (ACTIVITY_HEADER + "\n").encode() + b"R1,\x80\xff\xfe,x\n"),
        # the header, its line break, "R1," and then the first bad byte
        says=f"not UTF-8 or GB18030 text, at byte {len(ACTIVITY_HEADER) + 1 + 3 + 1}",
    ),
    Case(
        "csv-binary-garbage",
        bytes_file("garbage.csv", bytes(range(256)) * 40),
        says="binary data, not CSV text",
    ),
    Case(
        "csv-control-characters-only",
        bytes_file("ctl.csv", bytes(range(1, 32)) * 100),
        says="binary data, not CSV text",
    ),
    Case(
        "csv-that-is-an-xlsx-workbook",
        xlsx_file("book.csv", lambda: sheet_xml(table_rows(activity_row()))),
        says="a zip archive (an XLSX workbook?), not CSV text",
    ),
    Case(
        "csv-that-is-a-parquet-file",
        _parquet("data.csv", lambda data: data),
        says="a Parquet file, not CSV text",
    ),
    Case(
        "csv-huge-line-without-newline",
        bytes_file("line.csv", b"x" * (3 << 20)),
        says="a line is longer than 1.0 MiB",
        env={"ESGLEDGER_MAX_CSV_LINE_BYTES": str(1 << 20)},
        isolated=True,
    ),
    Case(
        "csv-row-with-an-extra-field",
        text_file("wide.csv", _VALID + activity_row(record_id="R2") + ",extra\n"),
        says="row 3: the row has 9 fields, the header 8",
    ),
    Case(
        "csv-larger-than-the-limit",
        text_file("big.csv", _VALID),
        says="larger than CSV files are read",
        env={"ESGLEDGER_MAX_CSV_BYTES": "10"},
    ),
    Case(
        "parquet-cut-short",
        _parquet("cut.parquet", lambda data: data[: len(data) // 2]),
        says="damaged file (not a valid Parquet file)",
    ),
    Case(
        "parquet-garbled-footer",
        _parquet("footer.parquet", _scramble_footer),
        says="damaged file (not a valid Parquet file)",
    ),
    Case(
        "parquet-larger-than-the-limit",
        _parquet("big.parquet", lambda data: data),
        says="larger than PARQUET files are read",
        env={"ESGLEDGER_MAX_PARQUET_BYTES": "10"},
    ),
    Case(
        "xlsx-cut-short",
        patched(
            xlsx_file("cut.xlsx", lambda: sheet_xml(table_rows(activity_row()))),
            lambda data: data[: len(data) // 2],
        ),
        says="damaged file (not a valid XLSX workbook)",
    ),
    Case(
        "xlsx-broken-sheet-xml",
        xlsx_file("xml.xlsx", lambda: iter([b"<worksheet><sheetData><row><c"])),
        says="damaged file (not a valid XLSX workbook)",
    ),
    Case(
        "xlsx-password-protected-or-xls",
        bytes_file("secret.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
        says="password-protected or an old Excel (.xls) file",
    ),
    Case(
        "xlsx-formula-without-saved-value",
        xlsx_file("formula.xlsx", _formula_without_value),
        says="cell G2 holds a formula without a saved value",
    ),
]
