"""CSV files as a stream of Arrow record batches (used by :mod:`esgledger.ingest.readers`).

Before a CSV file is parsed, its bytes are looked at, so that the message names the real
problem instead of a parser's symptom (a UTF-16 file used to be "Expected 8 columns, got 1"):

* a byte-order mark says the encoding: UTF-8, UTF-16 or UTF-32 (both byte orders) are
  decoded; UTF-16 without a mark is recognised by its NUL bytes;
* a file that starts like a zip archive (an XLSX workbook), Parquet, an old Excel workbook,
  a PDF or gzip is refused, naming what it is; other binary data (NUL bytes, control
  characters) is refused as "binary data, not CSV text";
* otherwise the whole file is decoded as UTF-8, in pieces; when that fails, as GB18030 (what
  Excel on a Chinese-language Windows exports); when both fail, the file is refused naming the
  first byte that is not UTF-8.

The file is then parsed by ``pyarrow.csv.open_csv`` block by block (a block is at most the
``csv_line_bytes`` limit, so one line longer than that refuses the file), every column as
text, so reading takes memory for a few blocks whatever the size of the file. A row with more
or fewer fields than the header is refused naming the row.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from esgledger.ingest.limits import describe, human_bytes, limit

__all__ = ["TextRefusalError", "csv_batches", "text_encoding"]

_CHUNK = 4 << 20
_HEAD = 64 << 10


class TextRefusalError(Exception):
    """The CSV file is refused: ``problem``, ``fix`` and the row when one row is the reason."""

    def __init__(self, problem: str, fix: str = "", row: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.row = row


#: Byte-order marks, longest first (the UTF-32 LE mark begins like the UTF-16 LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: File signatures of formats people save with a .csv name by mistake.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "a zip archive (an XLSX workbook?), not CSV text",
        "give an XLSX workbook the ending .xlsx, or save it as 'CSV UTF-8' from Excel",
    ),
    (b"PAR1", "a Parquet file, not CSV text", "give it the ending .parquet"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Excel (.xls) or password-protected workbook, not CSV text",
        "save it from Excel as 'CSV UTF-8' or as .xlsx without a password",
    ),
    (b"%PDF", "a PDF document, not CSV text", "export the data as 'CSV UTF-8'"),
    (b"\x1f\x8b", "gzip-compressed data, not CSV text", "unpack it first"),
)

_SAVE_AS = "save it as 'CSV UTF-8' from Excel"


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the NUL bytes of ``head`` fall as in UTF-16 text of
    mostly Latin characters (every other byte), else ``None``."""
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) // 2)
    odd = sample[1::2].count(0) / (len(sample) // 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _first_bad_byte(path: Path, encoding: str) -> int | None:
    """The offset of the first byte of ``path`` that does not decode in ``encoding``
    (``None`` when it all decodes). Reads the file in pieces."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            buffered = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return max(0, offset - buffered + exc.start)
            if not chunk:
                return None
            offset += len(chunk)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch not in "\t\r\n" and unicodedata.category(ch) in ("Cc", "Cs"))
    return bad / len(text)


def text_encoding(path: Path) -> str:
    """The encoding a CSV file is read with: ``utf-8``, ``gb18030``, ``utf-16``,
    ``utf-16-le``, ``utf-16-be`` or ``utf-32``.

    Raises
    ------
    TextRefusalError
        For a file that is another format, binary data, or not text in any of these.
    """
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    for signature, what, fix in _SIGNATURES:
        if head.startswith(signature):
            raise TextRefusalError(what, fix)
    if b"\x00" in head:
        guess = _utf16_without_bom(head)
        if guess is not None:
            return guess
        raise TextRefusalError(
            f"binary data, not CSV text (a NUL byte at byte {head.index(0) + 1:,})", _SAVE_AS
        )
    if _control_share(head.decode("utf-8", errors="ignore")) > 0.01:
        raise TextRefusalError("binary data, not CSV text (control characters)", _SAVE_AS)
    bad = _first_bad_byte(path, "utf-8")
    if bad is None:
        return "utf-8"
    if _first_bad_byte(path, "gb18030") is None:
        return "gb18030"
    raise TextRefusalError(f"not UTF-8 or GB18030 text, at byte {bad + 1:,}", _SAVE_AS)


def _read_options(encoding: str) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(
        encoding="utf8" if encoding == "utf-8" else encoding,
        block_size=limit("csv_line_bytes"),
        use_threads=True,
    )


def _convert(header: list[str]) -> pacsv.ConvertOptions:
    # Every column as text: each importer parses with its own rules and row-level errors.
    return pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
        auto_dict_encode=False,
    )


def _clean(text: str, size: int = 160) -> str:
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[:size])
    return shown + ("…" if len(text) > size else "")


def _failure(path: Path, encoding: str, exc: Exception, header: list[str]) -> TextRefusalError:
    text = str(exc)
    # pyarrow calls a first block without a line break "empty"; a long line is the reason
    too_long = "Empty CSV file" in text and path.stat().st_size >= limit("csv_line_bytes")
    if "straddl" in text or too_long:
        return TextRefusalError(
            f"a line is longer than {human_bytes(limit('csv_line_bytes'))} "
            f"({describe('csv_line_bytes')}): not a table of rows",
            "check that the file is CSV, one row per line",
        )
    if "Expected" in text and "columns, got" in text:
        return _wrong_width(path, encoding, header)
    if isinstance(exc, UnicodeDecodeError):
        return TextRefusalError(f"not valid {encoding.upper()} text", _SAVE_AS)
    if "Empty CSV file" in text:
        return TextRefusalError("the file is empty", "export the sheet with its header row")
    return TextRefusalError(
        f"cannot read the file as CSV: {_clean(text)}",
        "check that every row has as many fields as the header and quotes are closed",
    )


def _wrong_width(path: Path, encoding: str, header: list[str]) -> TextRefusalError:
    """Find the first row whose number of fields is not the header's (a second, single-
    threaded pass: only then does the parser number rows)."""
    found: list[tuple[int | None, int, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        found.append((row.number, row.actual_columns, row.expected_columns))
        return "error"

    options = _read_options(encoding)
    options.use_threads = False
    try:
        reader = pacsv.open_csv(
            path,
            read_options=options,
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
            convert_options=_convert(header),
        )
        for _ in reader:
            pass
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    fix = "check that every row has as many fields as the header and quotes are closed"
    if not found:
        return TextRefusalError("a row has more or fewer fields than the header", fix)
    number, actual, expected = found[0]
    return TextRefusalError(
        f"the row has {actual} field{'s' if actual != 1 else ''}, the header {expected}",
        fix,
        row=number,
    )


def csv_batches(
    path: Path, encoding: str, max_columns: int
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """The header of a CSV file and its rows as record batches of text columns."""
    options = _read_options(encoding)
    try:
        header = pacsv.open_csv(path, read_options=options).schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _failure(path, encoding, exc, []) from exc
    if len(header) > max_columns:
        raise TextRefusalError(
            f"the header has {len(header):,} columns, more than are read ({max_columns}; "
            f"this kind of file has {max_columns - limit('extra_columns')} columns and "
            f"{describe('extra_columns')})",
            "keep only the columns of this kind of file",
            row=1,
        )

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            reader = pacsv.open_csv(path, read_options=options, convert_options=_convert(header))
            yield from reader
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _failure(path, encoding, exc, header) from exc

    return header, batches()
