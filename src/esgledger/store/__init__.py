"""Storage: the workspace folder, its SQL database (SQLite or PostgreSQL) and Parquet lake.

:class:`Workspace` opens or creates a workspace; :mod:`esgledger.store.repository` reads and
writes its tables; :mod:`esgledger.store.models` declares them.
"""

from __future__ import annotations

from esgledger.store.workspace import (
    CONFIG_FILE,
    DATABASE_URL_ENV,
    PASSWORD_FILE,
    SQLITE_FILE,
    DatabaseUrlError,
    Workspace,
    db_url_for,
    head_revision,
)

__all__ = [
    "CONFIG_FILE",
    "DATABASE_URL_ENV",
    "PASSWORD_FILE",
    "SQLITE_FILE",
    "DatabaseUrlError",
    "Workspace",
    "db_url_for",
    "head_revision",
]
