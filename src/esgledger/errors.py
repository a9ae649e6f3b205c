"""The esgledger error tree.

One root, :class:`EsgledgerError`. Every subclass also inherits the builtin exception a
caller would expect (``ValueError`` for bad values, ``LookupError`` for things not found), so
``except ValueError`` keeps working for callers who do not know our tree. Context travels as
fields, never only inside the message, so that the CLI, the API and the tests can read it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "EsgledgerError",
    "FactorNotFoundError",
    "FxRateMissingError",
    "InputError",
    "Issue",
    "PriceIndexMissingError",
    "StrictFallbackError",
    "UnitError",
    "UnknownActivityError",
    "UnknownGasError",
    "WorkspaceBusyError",
    "WorkspaceError",
]


class EsgledgerError(Exception):
    """Root of every error esgledger raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with one place in an input file.

    ``row`` is the row number a person sees: for CSV and XLSX the spreadsheet row (the header
    is row 1, the first data row is row 2); for Parquet the 1-based data row.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        where = ", ".join(parts)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.value is not None:
            text += f" (value: {self.value!r})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


ISSUE_FIELDS: tuple[str, ...] = ("file", "row", "column", "value", "problem", "fix")


class InputError(EsgledgerError, ValueError):
    """Input was rejected as a whole; ``issues`` says where and why, row by row.

    ``total`` is the number of issues found, which may exceed ``len(issues)`` when the
    validator stopped collecting after a cap (a file with a million bad rows does not need a
    million-line report to be fixed).
    """

    def __init__(self, summary: str, issues: Sequence[Issue] = (), total: int | None = None):
        self.summary = summary
        self.issues: tuple[Issue, ...] = tuple(issues)
        self.total = len(self.issues) if total is None else total
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [self.summary]
        lines += [f"  {issue}" for issue in self.issues[:20]]
        if self.total > 20:
            lines.append(f"  ... and {self.total - 20} more issue(s)")
        return "\n".join(lines)

    def report_csv(self) -> str:
        """The issues as CSV text (columns: file, row, column, value, problem, fix)."""
        return issues_to_csv(self.issues)

    def write_report(self, path: str | Path) -> None:
        """Write :meth:`report_csv` to ``path`` (UTF-8 with BOM, so Excel shows Chinese)."""
        Path(path).write_text(self.report_csv(), encoding="utf-8-sig")


def issues_to_csv(issues: Iterable[Issue]) -> str:
    """The issues as CSV text; a value a spreadsheet would read as a formula is neutralised
    (:mod:`esgledger.safe_output`)."""
    from esgledger.safe_output import write_csv_rows

    buffer = io.StringIO()
    write_csv_rows(buffer, [ISSUE_FIELDS, *(tuple(asdict(issue).values()) for issue in issues)])
    return buffer.getvalue()


class UnitError(EsgledgerError, ValueError):
    """A unit could not be parsed, or does not fit the dimension required of it."""

    def __init__(self, message: str, unit: str | None = None, expected: str | None = None):
        self.unit = unit
        self.expected = expected
        super().__init__(message)


class FactorNotFoundError(EsgledgerError, LookupError):
    """No factor in the library fits an activity row.

    ``tried`` lists the candidates that were considered and why each was refused, in order,
    so the message tells the user what to add.
    """

    def __init__(
        self,
        message: str,
        *,
        activity: str,
        region: str | None = None,
        year: int | None = None,
        tried: Sequence[str] = (),
    ):
        self.activity = activity
        self.region = region
        self.year = year
        self.tried = tuple(tried)
        super().__init__(message)


class StrictFallbackError(FactorNotFoundError):
    """A factor exists, but only beyond the tier or vintage gap that ``strict`` allows."""


class WorkspaceError(EsgledgerError, RuntimeError):
    """The workspace is missing, not initialised, or at a schema version this code cannot use."""


class WorkspaceBusyError(WorkspaceError):
    """Another esgledger process kept the workspace's database locked longer than the busy
    timeout (``ESGLEDGER_BUSY_TIMEOUT``); nothing was written. The CLI exits with 2."""


class UnknownActivityError(EsgledgerError, LookupError):
    """An activity key is neither a shipped activity type, a member of a shipped family
    (``refrigerant.R-410A`` of ``refrigerant.*``), nor a user activity type."""

    def __init__(self, message: str, *, activity: str):
        self.activity = activity
        super().__init__(message)


class UnknownGasError(EsgledgerError, LookupError):
    """A gas or refrigerant blend is not in the GWP tables (or has no value in the GWP set
    asked for)."""

    def __init__(self, message: str, *, gas: str, gwp_set: str | None = None):
        self.gas = gas
        self.gwp_set = gwp_set
        super().__init__(message)


class FxRateMissingError(EsgledgerError, LookupError):
    """No exchange rate for a currency in a year; esgledger never guesses one."""

    def __init__(self, message: str, *, currency: str, year: int):
        self.currency = currency
        self.year = year
        super().__init__(message)


class PriceIndexMissingError(EsgledgerError, LookupError):
    """No price index for a country in a year; esgledger never uses another year's index."""

    def __init__(self, message: str, *, country: str, year: int | None = None):
        self.country = country
        self.year = year
        super().__init__(message)
