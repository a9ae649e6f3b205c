"""The esgledger error tree.

One root, :class:`EsgledgerError`. Every subclass also inherits the builtin exception a
caller would expect (``ValueError`` for bad values, ``LookupError`` for things not found), so
``except ValueError`` keeps working for callers who do not know our tree. Context travels as
fields, never only inside the message, so that the CLI, the API and the tests can read it.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "ConflictError",
    "EsgledgerError",
    "FactorNotFoundError",
    "FxRateMissingError",
    "InputError",
    "InsufficientDataError",
    "Issue",
    "LedgerError",
    "NotFoundError",
    "PriceIndexMissingError",
    "StrictFallbackError",
    "TooManyRequestsError",
    "UnitError",
    "UnknownActivityError",
    "UnknownGasError",
    "WorkspaceBusyError",
    "WorkspaceError",
    "quoted",
    "shown",
    "shown_lines",
    "with_zh",
]

#: How many characters of a user's value a message shows (then an ellipsis and the length).
SHOWN_CHARS = 80

#: Unicode categories never printed as they are: controls, format characters (zero-width,
#: bidi overrides and isolates), surrogates (undecodable bytes), private use, unassigned, and
#: the line and paragraph separators (they would break a one-line message).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(char: str) -> str:
    if char.isascii() and char.isprintable():
        return char
    if unicodedata.category(char) not in _HIDDEN_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value: object, limit: int = SHOWN_CHARS, *, keep: str = "") -> str:
    """A value from a user's file as a message may show it: every unprintable character
    escaped (``\\x1b``, ``\\u202e``), and at most ``limit`` characters, then ``…`` and the
    length of the whole value (``'aaaa… (10,485,760 characters)'``).

    Everything a message echoes from a file goes through here, so that no control sequence,
    bidi override or binary garbage reaches a terminal, and a 10 MB cell prints as one short
    line. Works in time proportional to ``limit``, whatever the length of ``value``.
    Characters in ``keep`` are left as they are (the ``--report`` CSV keeps tabs and line
    breaks, which CSV quotes).
    """
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    used = 0
    for char in text:  # ends after at most limit + 1 characters: each piece has one or more
        piece = char if char in keep else _escape(char)
        if used + len(piece) > limit:
            return "".join(out) + f"… ({len(text):,} characters)"
        out.append(piece)
        used += len(piece)
    return "".join(out)


def quoted(value: object, limit: int = SHOWN_CHARS) -> str:
    """:func:`shown` in single quotes, in place of ``{value!r}`` in a message."""
    return f"'{shown(value, limit)}'"


#: Longest line of any esgledger error message (a backstop: values are shortened first, so
#: only a message quoting long paths of the user's own machine comes near it; the hostile
#: corpus holds every line it prints to 400 characters).
MESSAGE_LINE_CHARS = 1000


#: Longest value :func:`close_matches` compares: codes and names are far shorter, and difflib's
#: cost (and memory) grows with the length of the value (a 10 MB cell exhausted 2 GiB).
CLOSE_MATCH_CHARS = 200


def close_matches(
    word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6
) -> list[str]:
    """The candidates closest to ``word`` (:func:`difflib.get_close_matches`) for a "did you
    mean" hint; none for a value longer than :data:`CLOSE_MATCH_CHARS`."""
    import difflib

    if len(word) > CLOSE_MATCH_CHARS:
        return []
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=cutoff)


def shown_lines(text: object, limit: int = MESSAGE_LINE_CHARS) -> str:
    """A message of several lines, each one through :func:`shown` (escaped, at most
    ``limit`` characters): how every esgledger error prints, whatever it quotes."""
    return "\n".join(shown(line, limit) for line in str(text).split("\n"))


#: How much of each part of an :class:`Issue` its one-line form shows (the ``--report`` CSV
#: shows more: :data:`_REPORT_CHARS`).
_ISSUE_CHARS = {"file": 120, "column": 60, "value": SHOWN_CHARS, "problem": 300, "fix": 320}
_REPORT_CHARS = {"file": 1000, "column": 200, "value": 200, "problem": 2000, "fix": 2000}


class EsgledgerError(Exception):
    """Root of every error esgledger raises on purpose.

    Its text is printed as :func:`shown_lines` gives it: whatever value a message quotes from
    a file, no line is longer than :data:`MESSAGE_LINE_CHARS` and no control character,
    bidi override or undecodable byte reaches the terminal.
    """

    def __str__(self) -> str:
        return shown_lines(super().__str__())


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
        """One line: where, what is wrong, the value (escaped and shortened: :func:`shown`)
        and the fix."""
        limit = _ISSUE_CHARS
        parts = [shown(self.file, limit["file"])] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {quoted(self.column, limit['column'])}")
        where = ", ".join(parts)
        problem = shown(self.problem, limit["problem"])
        text = f"{where}: {problem}" if where else problem
        if self.value is not None:
            text += f" (value: {quoted(self.value, limit['value'])})"
        if self.fix:
            text += f". Fix: {shown(self.fix, limit['fix'])}"
        return text

    def report_row(self) -> tuple[str | int | None, ...]:
        """The issue as a row of the ``--report`` CSV (:data:`ISSUE_FIELDS`): every text
        escaped and shortened like a message, with more room (:data:`_REPORT_CHARS`)."""
        row: list[str | int | None] = []
        for name in ISSUE_FIELDS:
            value = getattr(self, name)
            limit = _REPORT_CHARS.get(name)
            if limit and isinstance(value, str):
                value = shown(value, limit, keep="\t\r\n")
            row.append(value)
        return tuple(row)


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


class InsufficientDataError(InputError):
    """Data too short, too sparse or too flat for the model asked of it (an energy baseline's
    sufficiency rules failed). ``findings`` are the failed rules, each with the data that
    reproduces it (``esgledger.energy.findings.Finding``)."""

    def __init__(self, summary: str, findings: Sequence[object] = ()):
        self.findings: tuple[object, ...] = tuple(findings)
        super().__init__(summary)


def issues_to_csv(issues: Iterable[Issue]) -> str:
    """The issues as CSV text; a value a spreadsheet would read as a formula is neutralised
    (:mod:`esgledger.safe_output`)."""
    from esgledger.safe_output import write_csv_rows

    buffer = io.StringIO()
    write_csv_rows(buffer, [ISSUE_FIELDS, *(issue.report_row() for issue in issues)])
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


E = TypeVar("E", bound=BaseException)


def with_zh(exc: E, zh: str) -> E:
    """``exc`` carrying its message in Simplified Chinese too (shown to clients that prefer
    Chinese, e.g. in a problem document's ``detail``)."""
    exc.zh = zh  # type: ignore[attr-defined]
    return exc


class AccessDeniedError(EsgledgerError, PermissionError):
    """The acting principal may not do this (its role lacks the action, or the object lies
    outside its scope). The text says which and why; it never reveals data out of scope."""


class AuthenticationError(EsgledgerError, PermissionError):
    """No valid credentials: unknown user or wrong password (never said which), disabled or
    locked account, expired or revoked token."""


class NotFoundError(EsgledgerError, LookupError):
    """The named object does not exist (or lies outside the principal's scope: the platform
    answers the same for both, so scope cannot be probed)."""


class ConflictError(EsgledgerError, RuntimeError):
    """The object is not in a state that allows this change (a task already approved, a
    batch already withdrawn, a second submission racing the first)."""


class TooManyRequestsError(EsgledgerError, RuntimeError):
    """Too many attempts (sign-ins from one address); try again later."""


class LedgerError(EsgledgerError, ValueError):
    """A carbon-inclusion ledger transaction was refused: unbalanced or malformed postings,
    or an overdraft (an account would spend points or grams it does not hold).

    ``transaction`` is the transaction id, ``account`` and ``asset`` (``pt`` or ``mg``) the
    account and asset at fault, ``shortfall`` how much was missing (an integer in the asset's
    unit) when the refusal is an overdraft.
    """

    def __init__(
        self,
        message: str,
        transaction: str | None = None,
        account: str | None = None,
        asset: str | None = None,
        shortfall: int | None = None,
    ):
        self.transaction = transaction
        self.account = account
        self.asset = asset
        self.shortfall = shortfall
        super().__init__(message)
