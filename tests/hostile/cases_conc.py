"""Debris that killed or hostile processes leave in the lake: ``doctor`` reports it in one
short, printable line per finding (exit 2, nothing changed without ``--repair``), and an
import whose final lake file name is already taken by such debris replaces it (exit 0).

The builders plant files in the workspace, the sibling of the folder they are given (the
runner's layout: ``tmp/ws`` and ``tmp/in``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hostile._corpus import ACTIVITY_HEADER, Case, activity_row, text_file

_UNUSED = text_file("unused.txt", "")
#: Above Linux's largest pid (2**22): no process has it, so its files are debris.
_DEAD_PID = 4_194_305


def _plant(name: str, data: bytes = b"PAR1 not really parquet"):
    def build(folder: Path) -> Path:
        lake = folder.parent / "ws" / "lake" / "activities"
        lake.mkdir(parents=True, exist_ok=True)
        (lake / name).write_bytes(data)
        return _UNUSED(folder)

    return build


def _import_over_debris(folder: Path) -> Path:
    """An activity file, and garbage already at the lake file name its batch will get."""
    from esgledger.store.repository import batch_id_for

    path = folder / "energy.csv"
    path.write_text(ACTIVITY_HEADER + "\n" + activity_row() + "\n", encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lake = folder.parent / "ws" / "lake" / "activities"
    lake.mkdir(parents=True, exist_ok=True)
    (lake / f"{batch_id_for('activities', digest)}.parquet").write_bytes(b"garbage")
    return path


CASES: list[Case] = [
    Case(
        "doctor-reports-a-lake-file-no-batch-names",
        _plant("b-0123456789ab.parquet"),
        command=["doctor", "{ws}"],
        says="no import batch names",
    ),
    Case(
        "doctor-escapes-control-characters-in-a-debris-name",
        _plant(f".b-0123456789ab.{_DEAD_PID}.\x1b[31mred\x07.tmp"),
        command=["doctor", "{ws}"],
        says="temporary file left by an import",
    ),
    Case(
        "doctor-shortens-a-very-long-debris-name",
        _plant("b-" + "x" * 240 + ".parquet"),
        command=["doctor", "{ws}"],
        says="…",
    ),
    Case(
        "import-replaces-debris-at-its-lake-file-name",
        _import_over_debris,
        expect=0,
        says="Imported 1 activity row",
        postgres=True,
    ),
]
