"""Core commands: version."""

from __future__ import annotations

import typer

from esgledger import __version__
from esgledger.cli._app import app


@app.command()
def version() -> None:
    """Print the esgledger version."""
    typer.echo(__version__)
