"""The packaged Alembic migrations build exactly the tables the models declare."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from esgledger.store import Workspace, head_revision
from esgledger.store.models import Base
from esgledger.store.workspace import _alembic_config


def test_the_migrated_schema_matches_the_models(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_is_at_the_head_revision(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_the_migrations_downgrade_to_an_empty_database_and_back(workspace: Workspace) -> None:
    with workspace.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "base")
    assert set(sa.inspect(workspace.engine).get_table_names()) == {"alembic_version"}
    with workspace.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    assert set(sa.inspect(workspace.engine).get_table_names()) == {
        "alembic_version",
        *Base.metadata.tables,
    }
