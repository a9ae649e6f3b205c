"""Alembic environment of the esgledger workspace database.

esgledger runs its migrations in-process (:meth:`esgledger.store.Workspace.init` and
:meth:`~esgledger.store.Workspace.upgrade`); they hand this script an open connection through
``config.attributes["connection"]``. There is no ``alembic.ini`` and no offline (SQL script)
mode. On PostgreSQL the connection's ``search_path`` selects the workspace's schema, so the
tables and Alembic's ``alembic_version`` table are created there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from esgledger.errors import WorkspaceError
from esgledger.store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection) or context.is_offline_mode():
    raise WorkspaceError(
        "esgledger migrations run in-process only: use esgledger.store.Workspace.upgrade() "
        "or the `esgledger upgrade` command"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters a table by copying it; batch mode does that for later migrations.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
