"""Limits on the files esgledger reads (``docs/hardening/files.md``).

A file past a limit is refused before it can exhaust memory or time, with a message naming
the file and the limit. Each limit has a default that real data stays well inside, and most
can be changed with an environment variable (a positive whole number; bytes for sizes) for
the rare larger file::

    ESGLEDGER_MAX_XLSX_BYTES=2147483648 esgledger import WS big.xlsx --kind activities

A value that is not a positive whole number is ignored (the default holds).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "EXCEL_MAX_CELL_CHARS",
    "EXCEL_MAX_ROWS",
    "LIMITS",
    "Limit",
    "limit",
]

#: Excel's own limits: no workbook Excel writes goes past them.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767

_MIB = 1 << 20
_GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: its name in messages, default, environment variable and meaning."""

    name: str
    default: int
    env: str
    meaning: str


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("csv_bytes", 32 * _GIB, "ESGLEDGER_MAX_CSV_BYTES", "size of a CSV file on disk"),
        Limit(
            "parquet_bytes",
            32 * _GIB,
            "ESGLEDGER_MAX_PARQUET_BYTES",
            "size of a Parquet file on disk",
        ),
        Limit("xlsx_bytes", 1 * _GIB, "ESGLEDGER_MAX_XLSX_BYTES", "size of an XLSX file on disk"),
        Limit(
            "xlsx_uncompressed_bytes",
            8 * _GIB,
            "ESGLEDGER_MAX_XLSX_UNCOMPRESSED_BYTES",
            "total uncompressed size of the parts of an XLSX file (it is a zip archive)",
        ),
        Limit(
            "xlsx_part_bytes",
            1 * _GIB,
            "ESGLEDGER_MAX_XLSX_PART_BYTES",
            "uncompressed size of one part other than a worksheet (shared strings, styles…), "
            "which is read whole",
        ),
        Limit(
            "xlsx_ratio",
            100,
            "ESGLEDGER_MAX_XLSX_RATIO",
            "uncompressed size over compressed size of one part of 1 MiB or more",
        ),
        Limit(
            "xlsx_rows",
            EXCEL_MAX_ROWS,
            "ESGLEDGER_MAX_XLSX_ROWS",
            "rows of a sheet (declared by its dimension or present); Excel's own limit",
        ),
        Limit(
            "extra_columns",
            64,
            "ESGLEDGER_MAX_EXTRA_COLUMNS",
            "columns beyond those of the kind of file (declared or present)",
        ),
        Limit(
            "csv_line_bytes",
            16 * _MIB,
            "ESGLEDGER_MAX_CSV_LINE_BYTES",
            "length of one CSV line (a file without line breaks is not a table)",
        ),
    )
}

#: Parts smaller than this are not held to the compression ratio (tiny parts compress well).
RATIO_FLOOR_BYTES = _MIB


def limit(name: str) -> int:
    """The value of limit ``name``: its environment variable when set to a positive whole
    number, else its default."""
    spec = LIMITS[name]
    text = os.environ.get(spec.env, "").strip().replace("_", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    return spec.default


def human_bytes(size: int) -> str:
    """``1.0 GiB``, ``16.0 MiB``, ``512 bytes``."""
    if size >= _GIB:
        return f"{size / _GIB:.1f} GiB"
    if size >= _MIB:
        return f"{size / _MIB:.1f} MiB"
    return f"{size:,} bytes"


def describe(name: str) -> str:
    """How a message names a limit: ``limit 1.0 GiB, ESGLEDGER_MAX_XLSX_BYTES``."""
    value = limit(name)
    shown = human_bytes(value) if name.endswith("_bytes") else f"{value:,}"
    return f"limit {shown}, {LIMITS[name].env}"
