"""Fixtures shared by the whole test suite.

Databases
---------
``db_backend`` is parametrised over SQLite and PostgreSQL. SQLite needs nothing; the
PostgreSQL variant runs when ``ESGLEDGER_TEST_DATABASE_URL`` names a server (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and is skipped otherwise. Each
PostgreSQL test gets a fresh schema of its own, dropped afterwards.

``workspace`` is a fresh, initialised workspace on each backend; ``sqlite_workspace`` is the
SQLite one only; ``pg_url`` is the server's URL (skips without it).

Hypothesis
----------
With ``CI=true`` the ``ci`` profile derandomises Hypothesis so that CI runs are repeatable.
No profile has a deadline: the suite holds no timings.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import settings

from _backends import DbBackend
from esgledger.store import DATABASE_URL_ENV, Workspace

TEST_DATABASE_URL_ENV = "ESGLEDGER_TEST_DATABASE_URL"
NO_PG_REASON = f"{TEST_DATABASE_URL_ENV} is not set"

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


@pytest.fixture(autouse=True)
def _no_database_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's ``ESGLEDGER_DATABASE_URL`` must not redirect the tests' workspaces."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server of the tests; skips the test when none is configured."""
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if not url:
        pytest.skip(NO_PG_REASON)
    return url


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A unique schema name for this test on the test server; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield schema
    _drop_schema(pg_url, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> DbBackend:
    """SQLite, then PostgreSQL (its own schema per test; skipped without a server)."""
    if request.param == "sqlite":
        return DbBackend("sqlite", None, None)
    url: str = request.getfixturevalue("pg_url")
    schema: str = request.getfixturevalue("pg_schema")
    return DbBackend("postgres", url, schema)


@pytest.fixture
def workspace(db_backend: DbBackend, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace (reporting year 2024, name "Test Group") on each backend."""
    ws = db_backend.init_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh SQLite workspace (reporting year 2024, name "Test Group")."""
    ws = DbBackend("sqlite", None, None).init_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo workspace with its accounts' passwords (``_web_support.DemoCopy``), built
    once per session for the page tests; read-only — copy it (``copy_demo``) to change it."""
    from _web_support import build_demo_copy

    return build_demo_copy(tmp_path_factory.mktemp("web-demo") / "demo")
