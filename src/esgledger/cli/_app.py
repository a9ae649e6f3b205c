"""The Typer application every command registers on, and the guard around all of them.

No traceback reaches a user: :class:`_GuardedGroup` turns an error that escapes a command into
one line on stderr. An esgledger error prints its message (exit 2 for rejected input and for a
workspace kept busy by another process, 1 otherwise); any other exception is a bug and prints
its type and first line with a hint to rerun with ``--debug`` or ``ESGLEDGER_DEBUG=1``, which
let the traceback through.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from esgledger import __version__, errors
from esgledger.errors import EsgledgerError, shown, shown_lines
from esgledger.safe_output import mask_credentials

EXIT_REJECTED = 2
EXIT_ERROR = 1

#: Error class → exit code of a command it escapes from, most specific first (the first
#: ``isinstance`` match wins): 2 when the input was rejected as a whole or another process
#: kept the workspace busy (nothing was written; fix the input or retry), 1 otherwise. Every
#: class of :mod:`esgledger.errors` has its row (a test walks the subclasses, as it does for
#: the server's ``PROBLEM_TYPES``); classes defined elsewhere take their nearest ancestor's.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (errors.InsufficientDataError, EXIT_REJECTED),
    (errors.InputError, EXIT_REJECTED),
    (errors.WorkspaceBusyError, EXIT_REJECTED),
    (errors.WorkspaceError, EXIT_ERROR),
    (errors.AuthenticationError, EXIT_ERROR),
    (errors.AccessDeniedError, EXIT_ERROR),
    (errors.NotFoundError, EXIT_ERROR),
    (errors.ConflictError, EXIT_ERROR),
    (errors.LedgerError, EXIT_ERROR),
    (errors.TooManyRequestsError, EXIT_ERROR),
    (errors.UnitError, EXIT_ERROR),
    (errors.UnknownActivityError, EXIT_ERROR),
    (errors.StrictFallbackError, EXIT_ERROR),
    (errors.FactorNotFoundError, EXIT_ERROR),
    (errors.UnknownGasError, EXIT_ERROR),
    (errors.FxRateMissingError, EXIT_ERROR),
    (errors.PriceIndexMissingError, EXIT_ERROR),
    (errors.EsgledgerError, EXIT_ERROR),
)


def exit_code(exc: BaseException) -> int:
    """The exit code of an error that escaped a command (:data:`EXIT_CODES`; 1 for any
    other exception)."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return EXIT_ERROR


#: Environment variable that lets tracebacks through the guard (any value but "", "0",
#: "false", "no").
DEBUG_ENV = "ESGLEDGER_DEBUG"
_DEBUG_KEY = "esgledger.debug"


def _debugging(ctx: Any) -> bool:
    if ctx.meta.get(_DEBUG_KEY):
        return True
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def error_line(exc: Exception) -> str:
    """The one line shown for an exception that escaped a command; whatever it quotes is
    escaped and shortened (:func:`esgledger.errors.shown`)."""
    if isinstance(exc, EsgledgerError):
        return f"error: {shown_lines(mask_credentials(str(exc)))}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {shown(exc.filename, 200)}" if exc.filename else ""
        return f"error: {exc.strerror}{where}"
    detail = shown(mask_credentials(_first_line(str(exc))), 200)
    return (
        f"error: unexpected {type(exc).__name__}"
        + (f": {detail}" if detail else "")
        + f" (this is a bug in esgledger; rerun with --debug or {DEBUG_ENV}=1 to see the "
        "traceback, and report it)"
    )


class _GuardedGroup(TyperGroup):
    """The root command group: runs a command and turns what escapes it into one line."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):  # usage errors, exits, ^C
            raise
        except Exception as exc:
            if _debugging(ctx):
                raise
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(exit_code(exc)) from exc


app = typer.Typer(
    name="esgledger",
    cls=_GuardedGroup,
    help="ESG data and carbon management: inventory, factors, green power, targets, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


#: Width given to output that is not a terminal (a pipe, a file, a CI log), where Rich would
#: otherwise assume 80 columns and fold table cells word by word.
PIPE_WIDTH = 200


def console(*, stderr: bool = False) -> Console:
    """A console for what a command prints: no highlighting, long lines never wrapped, and,
    when the output is not a terminal, :data:`PIPE_WIDTH` columns unless ``COLUMNS`` says
    otherwise."""
    probe = Console(stderr=stderr)
    width = None
    if not probe.is_terminal and not os.environ.get("COLUMNS"):
        width = max(probe.width, PIPE_WIDTH)
    return Console(stderr=stderr, soft_wrap=True, highlight=False, width=width)


class Lang(StrEnum):
    """Language of what a command shows people: English or Simplified Chinese."""

    en = "en"
    zh_cn = "zh-CN"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"esgledger {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the esgledger version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help=f"Show the full traceback of an unexpected error (also: {DEBUG_ENV}=1).",
        ),
    ] = False,
) -> None:
    """esgledger: the whole ESG cycle from activity data to the report."""
    ctx.meta[_DEBUG_KEY] = debug
