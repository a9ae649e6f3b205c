"""Values echoed in messages (issue 11, defect 12, the echo part).

A rejected 10 MB cell used to be printed whole to stderr (and the ``--report`` file), and
binary garbage, ANSI escape sequences and bidi overrides from a cell reached the terminal as
they were. Every message now shows a value through :func:`esgledger.errors.shown`: escaped,
at most 80 characters, then ``…`` and the length. The runner checks every line's length and
that no control or format character is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hostile._corpus import ACTIVITY_HEADER, Case, activities, activity_row, bytes_file
from hostile.cases_units import _factors as factors_file

#: A cell of 10 MB (one line: no comma, quote or line break in it).
BIG = "A" * 10_000_000

#: CSV lines are limited to 1 MiB by default (``docs/hardening/files.md``): the 10 MB cells
#: reach the echo only with a larger limit (and without it are refused as too long a line).
_LONG_LINES = {"ESGLEDGER_MAX_CSV_LINE_BYTES": str(32 * 1024 * 1024)}


def parquet_activity(**cells: str) -> Callable[[Path], Path]:
    """A builder of a one-row activity Parquet file (every column text): a CSV holding control
    characters is refused as binary before any cell is read, a Parquet cell reaches the rules."""

    def build(folder: Path) -> Path:
        names = ACTIVITY_HEADER.split(",")
        row = dict(zip(names, activity_row().split(","), strict=True)) | cells
        path = folder / "activities.parquet"
        pq.write_table(pa.table({name: [row[name]] for name in names}), path)
        return path

    return build


CASES: list[Case] = [
    Case(  # the same record id twice: the duplicate is named with its value
        "echo-10mb-record-id",
        activities(activity_row(record_id=BIG), activity_row(record_id=BIG, start="2024-02-01")),
        says="(10,000,000 characters)",
        isolated=True,
        env=_LONG_LINES,
    ),
    Case(
        "echo-10mb-entity",
        activities(activity_row(entity=BIG)),
        says="(10,000,000 characters)",
        isolated=True,
        env=_LONG_LINES,
    ),
    Case(
        "echo-10mb-unit",
        activities(activity_row(unit=BIG)),
        says="(10,000,000 characters)",
        isolated=True,
        env=_LONG_LINES,
    ),
    Case(
        "echo-10mb-unit-in-factors",
        factors_file(BIG),
        kind="factors",
        says="(10,000,000 characters)",
        isolated=True,
        env=_LONG_LINES,
    ),
    Case(
        "echo-ansi-escape-in-entity",
        parquet_activity(entity="\x1b[2J\x1b[31mEVIL"),
        says="\\x1b[2J",
    ),
    Case(
        "echo-ansi-escape-in-unit",
        parquet_activity(unit="\x1b]0;pwned\x07kWh"),
        says="unknown unit",
    ),
    Case(
        "echo-bidi-override-in-entity",
        activities(activity_row(entity="CLOUD\u202egnp.exe")),
        says="\\u202e",
    ),
    Case(
        "echo-bidi-override-in-record-id-of-unknown-site",
        activities(activity_row(record_id="R\u2066\u202e1", site="NOPE")),
        says="NOPE",
    ),
    Case(
        "echo-binary-garbage-in-entity",
        bytes_file(
            "activities.csv",
            ACTIVITY_HEADER.encode()
            + b"\nR1,\x00\x01\x02\x1b[2J\x7f\xff\xfe\x80\x9b,DC-TJ,2024-01-01,2024-01-31,"
            + b"electricity,100,MWh\n",
        ),
    ),
    Case(  # valid UTF-8, so it reaches the cell: C0 and C1 controls, DEL, private use, a
        # noncharacter, an unassigned code point and a zero-width joiner
        "echo-control-garbage-in-entity",
        parquet_activity(entity="\x01\x02\x1b[2J\x7f\x9b\ue000\uffff\U000e0080\u200dX"),
        says="\\x1b[2J\\x7f\\x9b\\ue000",
    ),
    Case(
        "echo-binary-garbage-in-unit",
        bytes_file(
            "activities.csv",
            ACTIVITY_HEADER.encode()
            + b"\nR1,CLOUD,DC-TJ,2024-01-01,2024-01-31,electricity,100,k\x00W\x1b\x9bh\xc0\n",
        ),
    ),
    Case(
        "echo-line-separator-in-entity",
        activities(activity_row(entity="CLO\u2028UD\u2029X")),
        says="\\u2028",
    ),
    Case(  # the same bytes in a CSV: refused as binary before any cell is read
        "echo-control-garbage-in-a-csv-is-binary",
        bytes_file(
            "activities.csv",
            ACTIVITY_HEADER.encode()
            + "\nR1,\x01\x02\x1b[2J\x7f\x9b\ue000X,DC-TJ,2024-01-01,"
            "2024-01-31,electricity,100,MWh\n".encode(),
        ),
        says="control characters",
    ),
    Case(  # a 10 MB cell in a CSV with the default line limit
        "echo-10mb-cell-in-a-csv-is-too-long-a-line",
        activities(activity_row(entity=BIG)),
        says="line is longer",
        isolated=True,
    ),
]
