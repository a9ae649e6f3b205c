"""The shape of a hostile-input case and the workspace every case starts from.

A case writes its file(s) into a folder (``build``), then runs one CLI command (by default
``esgledger import WS FILE --kind KIND``). The runner checks, for every case:

* the exit code is the one expected (0 or 2; never 1, which is a crash);
* no ``Traceback`` and no unprintable control character reaches the terminal;
* every line of output is short (echoed values are truncated: at most ``MAX_LINE`` characters);
* the message contains ``says`` (case-insensitive) when the case names one, and never
  ``hides`` (a secret such as a password);
* on exit 2 the workspace is exactly as it was: no batch row, no lake file, no temporary file.

The base workspace holds the organisation of :func:`seed` (root ``GRP``; entity ``CLOUD`` with site
``DC-TJ`` in CN-TJ, entity ``HQ`` with office ``HQ-SZ`` in CN-GD), so activity files can name
real codes and get past the vocabulary checks to the rule under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Longest line a rejected case may print (echoed values must be truncated well below this).
MAX_LINE = 400

#: An activity header that passes the column checks (the order of the template).
ACTIVITY_HEADER = "record_id,entity,site,period_start,period_end,activity,quantity,unit"


def activity_row(
    quantity: str = "100",
    unit: str = "MWh",
    *,
    record_id: str = "R1",
    entity: str = "CLOUD",
    site: str = "DC-TJ",
    activity: str = "electricity",
    start: str = "2024-01-01",
    end: str = "2024-01-31",
) -> str:
    """One CSV line of an activity file (values are written as given: no quoting)."""
    return ",".join([record_id, entity, site, start, end, activity, quantity, unit])


def text_file(name: str, text: str, *, encoding: str = "utf-8") -> Callable[[Path], Path]:
    """A builder writing ``text`` to ``folder/name`` in ``encoding``."""

    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return build


def bytes_file(name: str, data: bytes) -> Callable[[Path], Path]:
    """A builder writing ``data`` to ``folder/name``."""

    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def activities(*rows: str, name: str = "activities.csv") -> Callable[[Path], Path]:
    """A builder of an activity CSV with the standard header and ``rows``."""
    return text_file(name, "\n".join([ACTIVITY_HEADER, *rows]) + "\n")


@dataclass(frozen=True)
class Case:
    """One hostile input and what esgledger must do with it.

    ``command`` overrides the default import command; in it ``{ws}`` is the workspace folder
    and ``{file}`` the built file. ``postgres`` also runs the case on PostgreSQL (for cases
    about what the database stores). ``isolated`` runs the command in a subprocess with an
    address-space limit of ``memory_mb`` (for cases that could exhaust memory).
    """

    id: str
    build: Callable[[Path], Path]
    kind: str = "activities"
    expect: int = 2
    says: str = ""
    command: Sequence[str] | None = None
    postgres: bool = False
    isolated: bool = False
    memory_mb: int = 2048
    env: dict[str, str] = field(default_factory=dict)
    #: A string that must never appear in the output (e.g. a password in a URL).
    hides: str = ""

    def argv(self, ws: Path, file: Path) -> list[str]:
        if self.command is None:
            return ["import", str(ws), str(file), "--kind", self.kind]
        return [part.format(ws=ws, file=file) for part in self.command]
