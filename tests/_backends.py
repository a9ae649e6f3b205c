"""Where a test's workspace database lives (the ``db_backend`` fixture of ``tests/conftest.py``
gives one). Kept out of ``conftest.py`` so that tests can import it: with several
``conftest.py`` files in the tree, ``from conftest import ...`` finds whichever was loaded
last."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from esgledger.store import Workspace

__all__ = ["TEST_YEAR", "DbBackend"]

#: The reporting year of the tests' workspaces.
TEST_YEAR = 2024


@dataclass(frozen=True, slots=True)
class DbBackend:
    """Where a test's workspace database lives.

    ``database_url`` is None for SQLite (the workspace's own ``esgledger.db``); ``schema`` is
    the PostgreSQL schema reserved for this test.
    """

    name: str
    database_url: str | None
    schema: str | None

    def init_workspace(
        self, root: Path, *, year: int = TEST_YEAR, name: str = "Test Group"
    ) -> Workspace:
        return Workspace.init(
            root, year=year, name=name, database_url=self.database_url, schema=self.schema
        )
