from __future__ import annotations

from enum import StrEnum

import typer

app = typer.Typer(
    name="esgledger",
    help="ESG data and carbon management: inventory, factors, green power, targets, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

EXIT_REJECTED = 2


class Lang(StrEnum):
    """Language of what a command shows people: English or Simplified Chinese."""

    en = "en"
    zh_cn = "zh-CN"


@app.callback()
def _root() -> None:
    """esgledger: the whole ESG cycle from activity data to the report."""
