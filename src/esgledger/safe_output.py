"""Spreadsheet outputs that are safe to open: the one guard against formula injection.

表格输出的公式注入防护：所有 CSV 与 XLSX 写出都经过本模块。

A spreadsheet reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or a carriage return) as a formula: a name typed into an import file as
``=HYPERLINK("http://x","y")`` or ``=cmd|' /C calc'!A0`` would run when an export is opened
(OWASP "CSV Injection"; CWE-1236; OWASP ASVS 5.0 requirement 1.2.10, which also names NUL).
Every CSV and XLSX file esgledger writes goes through this module:

* :func:`neutralise` prefixes a single quote ``'`` to a *text* cell whose first character is
  one of :data:`TRIGGERS` (the OWASP and ASVS characters and their full-width forms
  ``＝＋－＠``, which some East Asian spreadsheet set-ups turn into the ASCII ones), so the
  spreadsheet shows it as text. Numbers are never touched: ``-5`` as a number stays a number;
  the string ``"-5"`` in a text column becomes ``'-5``.
* :func:`csv_line` / :func:`write_csv_rows` write CSV (RFC 4180 quoting, as the ``csv``
  module's minimal quoting) and also quote every neutralised field, as OWASP asks.
* :func:`neutralise_arrow` does the same, vectorised, for the string columns of an Arrow table
  or batch (the streamed line-item export).
* :func:`xlsx_value` and :func:`set_xlsx_cell` put text into an openpyxl cell as a *string*,
  never as a formula (openpyxl turns any string starting with ``=`` into one), neutralised
  the same way and with the control characters XML cannot hold written as ``\\xNN``. A
  writer's own formulas (the template's drop-down sources, data validations) are not cell
  values and are not affected.

:func:`mask_credentials` hides the password of any URL in a line shown to a person (the last
guard of the CLI; the workspace masks its own messages at the source).

``docs/hardening/outputs-and-secrets.md`` explains the choices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import IO, Any, TypeVar, cast

__all__ = [
    "QUOTE",
    "TRIGGERS",
    "csv_line",
    "is_formula_like",
    "mask_credentials",
    "neutralise",
    "neutralise_arrow",
    "set_xlsx_cell",
    "write_csv_rows",
    "xlsx_value",
]

#: First characters that make a spreadsheet read a cell as a formula (or shift it into one).
TRIGGERS: frozenset[str] = frozenset("=+-@\t\r\x00＝＋－＠")
#: The prefix that makes such a cell text.
QUOTE = "'"

#: Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: The same triggers as a regular expression for Arrow (RE2 syntax).
_ARROW_PATTERN = "^[=+\\-@\\t\\r\\x00＝＋－＠]"

#: ``scheme://user:password@`` in free text (the password may be empty, never holds ``@``).
#: The look-behind lets a scheme start only where a word starts, so a long run of letters is
#: scanned once, not once per position, and the bounded parts keep every attempt short
#: (linear, not quadratic, on a 10 MB value).
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,64}://[^:/@\s]{0,256}):[^@\s]{0,256}@"
)

T = TypeVar("T")


def mask_credentials(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``.

    >>> mask_credentials("cannot reach postgresql+psycopg://esg:pa55@db:5432/esg")
    'cannot reach postgresql+psycopg://esg:***@db:5432/esg'
    """
    return _URL_CREDENTIALS.sub(r"\1:***@", text)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as (the start of) a formula."""
    return text[:1] in TRIGGERS


def neutralise(value: T) -> T:
    """``value`` with a ``'`` before it when it is text a spreadsheet would read as a formula;
    anything else (numbers, dates, None) unchanged.

    >>> neutralise("=1+1"), neutralise("-5"), neutralise(-5), neutralise("CLOUD")
    ("'=1+1", "'-5", -5, 'CLOUD')
    """
    if isinstance(value, str) and is_formula_like(value):
        return cast(T, QUOTE + value)
    return value


def _csv_field(value: object, delimiter: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = neutralise(value)
        if text is not value or any(c in text for c in (delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text
    return str(value)


def csv_line(row: Sequence[object], *, delimiter: str = ",") -> str:
    """One CSV record (ending in ``\\n``) with every text field neutralised and quoted when it
    was neutralised or holds the delimiter, a quote or a line break; None is empty."""
    fields = [_csv_field(value, delimiter) for value in row]
    if fields == [""] and row and row[0] is not None:
        fields = ['""']  # a lone empty string, as the csv module writes it
    return delimiter.join(fields) + "\n"


def write_csv_rows(
    target: IO[str], rows: Iterable[Sequence[object]], *, delimiter: str = ","
) -> None:
    """Write ``rows`` (the header included) to the text stream ``target`` with
    :func:`csv_line`."""
    for row in rows:
        target.write(csv_line(row, delimiter=delimiter))


def neutralise_arrow(data: Any) -> Any:
    """A copy of the Arrow table or record batch ``data`` whose string columns are
    neutralised (numeric, date and other columns unchanged)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    changed = False
    for column in data.columns:
        kind = column.type
        if pa.types.is_dictionary(kind) and (
            pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
        ):
            column = column.cast(kind.value_type)
            kind = kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            mask = pc.match_substring_regex(column, _ARROW_PATTERN)
            if pc.any(mask).as_py():
                quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, kind), column, "")
                column = pc.if_else(mask, quoted, column)
                changed = True
        columns.append(column)
    if not changed:
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, names=data.schema.names)
    return pa.Table.from_arrays(columns, names=data.schema.names)


def xlsx_value(value: T) -> T:
    """A value ready for an openpyxl cell: text neutralised and free of the control
    characters XML cannot hold (written as ``\\xNN``); anything else unchanged."""
    if isinstance(value, str):
        return cast(T, _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", neutralise(value)))
    return value


def set_xlsx_cell(sheet: Any, row: int, column: int, value: object) -> Any:
    """Put ``value`` into ``sheet`` at (``row``, ``column``) through :func:`xlsx_value`, a
    text value always as a string cell (never a formula); return the cell."""
    cell = sheet.cell(row=row, column=column, value=xlsx_value(value))
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
