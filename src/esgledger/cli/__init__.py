"""The esgledger command line (Typer).

Each group of commands lives in its own module and registers itself on :data:`app`; this
module only assembles them. Exit status: 0 on success, 2 on rejected input (the report goes to
stderr), 1 on any other error. No traceback reaches a user: see :mod:`esgledger.cli._app`.
"""

from __future__ import annotations

# Importing the command modules registers their commands on `app`.
from esgledger.cli import (  # noqa: F401  (imported for their side effect)
    _commands_audit,
    _commands_batches,
    _commands_collection,
    _commands_core,
    _commands_demo,
    _commands_doctor,
    _commands_energy,
    _commands_factors,
    _commands_green,
    _commands_inclusion,
    _commands_inventory,
    _commands_jobs,
    _commands_report,
    _commands_targets,
    _commands_template,
    _commands_trace,
    _commands_units,
    _commands_users,
    _commands_workspace,
)
from esgledger.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """The ``esgledger`` script and ``python -m esgledger`` (named ``esgledger`` in help and
    shell completion either way)."""
    app(prog_name="esgledger")
