"""The workspace: creating, opening, refusing what is not one, and transactions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from esgledger import __version__
from esgledger.errors import WorkspaceError
from esgledger.store import CONFIG_FILE, DATABASE_URL_ENV, SQLITE_FILE, Workspace, head_revision
from esgledger.store import workspace as workspace_module
from esgledger.store.models import Entity, WorkspaceInfo

if TYPE_CHECKING:
    from _backends import DbBackend


# Characters TOML strings must escape: quote, backslash, tab, newline, DEL.
NASTY_NAME = 'Quote " back\\slash\ttab\nnewline\x7fdel'


def _entity(code: str, parent: str | None = None) -> Entity:
    return Entity(
        code=code,
        name=code.title(),
        parent=parent,
        ownership_pct=100.0,
        operational_control=True,
        financial_control=True,
        country="CN",
    )


def test_init_creates_the_folder_settings_database_and_lake(tmp_path: Path) -> None:
    root = tmp_path / "new" / "ws"
    with Workspace.init(root, year=2023, name="Demo 集团") as ws:
        assert ws.root == root
        assert ws.lake == root / "lake"
        assert ws.lake.is_dir()
        assert (root / SQLITE_FILE).is_file()
        assert ws.name == "Demo 集团"
        assert ws.reporting_year == 2023
        with ws.session() as session:
            info = session.get(WorkspaceInfo, 1)
            assert info is not None
            assert (info.name, info.reporting_year, info.created_by_version) == (
                "Demo 集团",
                2023,
                __version__,
            )
    settings = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    # No database_url: the SQLite file in the folder, found again wherever the folder moves.
    assert settings == {"name": "Demo 集团", "reporting_year": 2023}


def test_name_defaults_to_the_folder_name(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "acme-2024", year=2024) as ws:
        assert ws.name == "acme-2024"


def test_init_and_open_round_trip(db_backend: DbBackend, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with (
        db_backend.init_workspace(root, year=2022, name=NASTY_NAME) as ws,
        ws.session() as session,
    ):
        session.add(_entity("GRP"))
    settings = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    assert settings.get("schema") == db_backend.schema
    with Workspace.open(root) as ws:
        assert ws.name == NASTY_NAME
        assert ws.reporting_year == 2022
        with ws.session() as session:
            assert session.scalars(sa.select(Entity.code)).all() == ["GRP"]


def test_a_moved_sqlite_workspace_still_opens(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "a", year=2024).close()
    (tmp_path / "a").rename(tmp_path / "b")
    with Workspace.open(tmp_path / "b") as ws:
        assert ws.reporting_year == 2024


def test_open_refuses_a_folder_that_is_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"{tmp_path} is not an esgledger workspace (no esgledger.toml); "
            "create one with `esgledger init`"
        ),
    ):
        Workspace.open(tmp_path)


def test_open_refuses_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(
        WorkspaceError,
        match=re.escape(f"{missing} does not exist; create a workspace with `esgledger init`"),
    ):
        Workspace.open(missing)


def test_open_refuses_a_workspace_whose_database_is_gone(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "ws", year=2024).close()
    (tmp_path / "ws" / SQLITE_FILE).unlink()
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"{tmp_path / 'ws' / SQLITE_FILE} is missing: the workspace's database is gone "
            "(its esgledger.toml names no database_url)"
        ),
    ):
        Workspace.open(tmp_path / "ws")


def test_an_unreachable_database_is_reported(tmp_path: Path) -> None:
    with pytest.raises(
        WorkspaceError,
        match=re.escape("cannot use the database postgresql+psycopg://nobody@127.0.0.1:1/none: "),
    ):
        Workspace.init(
            tmp_path / "ws", year=2024, database_url="postgresql://nobody@127.0.0.1:1/none"
        )
    assert not (tmp_path / "ws" / CONFIG_FILE).exists()
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            "cannot create the schema 'x' in the database "
            "postgresql+psycopg://nobody@127.0.0.1:1/none: "
        ),
    ):
        Workspace.init(
            tmp_path / "ws",
            year=2024,
            database_url="postgresql://nobody@127.0.0.1:1/none",
            schema="x",
        )


def test_a_damaged_sqlite_database_is_reported(tmp_path: Path) -> None:
    Workspace.init(tmp_path, year=2024).close()
    (tmp_path / SQLITE_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"cannot use the database sqlite:///{tmp_path.resolve() / SQLITE_FILE}: "
            "file is not a database"
        ),
    ):
        Workspace.open(tmp_path)


def test_init_refuses_an_initialised_workspace(db_backend: DbBackend, tmp_path: Path) -> None:
    db_backend.init_workspace(tmp_path / "ws").close()
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"{tmp_path / 'ws'} is already an esgledger workspace (esgledger.toml exists); "
            "open it instead, or choose another folder"
        ),
    ):
        db_backend.init_workspace(tmp_path / "ws")


@pytest.mark.postgres
def test_init_refuses_a_schema_that_already_holds_a_workspace(
    pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    Workspace.init(tmp_path / "a", year=2024, database_url=pg_url, schema=pg_schema).close()
    with pytest.raises(WorkspaceError, match=r"already holds an esgledger workspace"):
        Workspace.init(tmp_path / "b", year=2024, database_url=pg_url, schema=pg_schema)
    # Nothing of the refused workspace is left behind.
    assert not (tmp_path / "b" / CONFIG_FILE).exists()


def test_init_refuses_a_stray_sqlite_database(tmp_path: Path) -> None:
    (tmp_path / SQLITE_FILE).write_bytes(b"")
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"{tmp_path / SQLITE_FILE} exists but {tmp_path / CONFIG_FILE} does not; remove the "
            "stray database or choose another folder"
        ),
    ):
        Workspace.init(tmp_path, year=2024)


def test_a_schema_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(
        WorkspaceError,
        match=re.escape("a schema ('x') can only be used with a PostgreSQL database_url"),
    ):
        Workspace.init(tmp_path / "ws", year=2024, schema="x")
    assert not (tmp_path / "ws").exists()


def test_schema_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=re.escape("schema name 'a; drop' is not allowed")):
        Workspace.init(
            tmp_path / "ws", year=2024, database_url="postgresql://u@h/db", schema="a; drop"
        )


def test_only_sqlite_and_postgresql_are_supported(tmp_path: Path) -> None:
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            "database URL 'mysql://u:***@h/db' names a 'mysql' database; esgledger supports "
            "SQLite and PostgreSQL"
        ),
    ):
        Workspace.init(tmp_path / "ws", year=2024, database_url="mysql://u:secret@h/db")


@pytest.mark.parametrize("year", [0, 20245, True])
def test_init_refuses_an_impossible_year(tmp_path: Path, year: int) -> None:
    with pytest.raises(
        WorkspaceError,
        match=re.escape(f"reporting year must be a year such as 2024 (value: {year!r})"),
    ):
        Workspace.init(tmp_path / "ws", year=year)


def test_open_reports_a_bad_reporting_year_in_the_settings(tmp_path: Path) -> None:
    Workspace.init(tmp_path, year=2024).close()
    (tmp_path / CONFIG_FILE).write_text('name = "x"\nreporting_year = "2024"\n', encoding="utf-8")
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"{tmp_path / CONFIG_FILE}: reporting_year must be a whole number such as 2024 "
            "(value: '2024')"
        ),
    ):
        Workspace.open(tmp_path)


def test_open_refuses_a_database_newer_than_the_code(db_backend: DbBackend, tmp_path: Path) -> None:
    with db_backend.init_workspace(tmp_path / "ws") as ws, ws.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00000000000'"))
    with pytest.raises(
        WorkspaceError,
        match=r"is at schema revision 'f00000000000', newer than this esgledger .* knows "
        rf"\(its newest is '{head_revision()}'\); upgrade esgledger to open it",
    ):
        Workspace.open(tmp_path / "ws")
    with (
        Workspace.open(tmp_path / "ws", check_schema=False) as ws,
        pytest.raises(WorkspaceError, match=r"newer than this esgledger .* knows; upgrade"),
    ):
        ws.upgrade()


def test_open_refuses_a_database_older_than_the_code(
    sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend this code ships one more migration after the one the database is at.
    current = head_revision()
    known = workspace_module._known_revisions() | {"9999_next"}
    monkeypatch.setattr(workspace_module, "head_revision", lambda: "9999_next")
    monkeypatch.setattr(workspace_module, "_known_revisions", lambda: known)
    with pytest.raises(
        WorkspaceError,
        match=re.escape(
            f"is at schema revision '{current}', older than this esgledger {__version__} "
            f"needs ('9999_next'); upgrade it with `esgledger upgrade {sqlite_workspace.root}` "
            "(back up the database first)"
        ),
    ):
        Workspace.open(sqlite_workspace.root)


def test_upgrade_of_a_current_database_changes_nothing(workspace: Workspace) -> None:
    assert workspace.upgrade() == head_revision()
    with workspace.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [
            (head_revision(),)
        ]


@pytest.mark.postgres
def test_the_environment_overrides_the_database_url(
    pg_url: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace.init(tmp_path, year=2024, database_url=pg_url, schema=pg_schema).close()
    settings = (tmp_path / CONFIG_FILE).read_text(encoding="utf-8")
    (tmp_path / CONFIG_FILE).write_text(
        settings.replace(pg_url, "postgresql+psycopg://nobody@127.0.0.1:1/nothing"),
        encoding="utf-8",
    )
    monkeypatch.setenv(DATABASE_URL_ENV, pg_url)
    with Workspace.open(tmp_path) as ws:
        assert ws.database_url == pg_url
        assert ws.schema == pg_schema
        assert ws.reporting_year == 2024


@pytest.mark.postgres
def test_postgres_tables_live_in_the_workspace_schema(
    pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    Workspace.init(tmp_path, year=2024, database_url=pg_url, schema=pg_schema).close()
    engine = sa.create_engine(pg_url)
    try:
        tables = set(sa.inspect(engine).get_table_names(schema=pg_schema))
    finally:
        engine.dispose()
    assert {"alembic_version", "workspace_info", "entities", "import_batches"} <= tables


def test_a_session_commits_on_success(workspace: Workspace) -> None:
    with workspace.session() as session:
        session.add(_entity("GRP"))
    with workspace.session() as session:
        assert session.scalars(sa.select(Entity.code)).all() == ["GRP"]


def test_a_session_rolls_back_everything_on_an_error(workspace: Workspace) -> None:
    def write_then_fail() -> None:
        with workspace.session() as session:
            session.add(_entity("GRP"))
            session.add(_entity("SUB", parent="GRP"))
            session.flush()  # the rows reached the database inside the transaction
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    with workspace.session() as session:
        assert session.scalars(sa.select(Entity.code)).all() == []
