from __future__ import annotations

import typer

app = typer.Typer(
    name="esgledger",
    help="ESG data and carbon management: inventory, factors, green power, targets, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

EXIT_REJECTED = 2


@app.callback()
def _root() -> None:
    """esgledger: the whole ESG cycle from activity data to the report."""
