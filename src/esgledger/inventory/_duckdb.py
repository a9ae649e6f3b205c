"""DuckDB connections of the inventory commands: bounded memory, spilling to a temporary folder.

Every query over a run's line items goes through :func:`connect`: DuckDB gets a
``memory_limit`` (``ESGLEDGER_DUCKDB_MEMORY``, default :data:`DEFAULT_MEMORY_LIMIT`) and a
``temp_directory`` of its own (a fresh folder under ``ESGLEDGER_DUCKDB_TEMP``, default the
system's temporary folder, made by DuckDB when it spills and removed when the connection
closes), so that sorts, joins and
aggregations larger than the limit spill to disk instead of growing the process. Queries
whose row order does not matter run with ``preserve_insertion_order = false``. Only
aggregates cross into Python (docs/hardening/memory.md).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid

import duckdb

from esgledger.errors import InputError

__all__ = ["DEFAULT_MEMORY_LIMIT", "MEMORY_ENV", "TEMP_ENV", "connect", "memory_limit"]

#: Environment variable: DuckDB's memory limit for the inventory commands (e.g. ``512MB``).
MEMORY_ENV = "ESGLEDGER_DUCKDB_MEMORY"
#: Environment variable: the folder under which DuckDB's spill folders are made.
TEMP_ENV = "ESGLEDGER_DUCKDB_TEMP"
#: The memory limit without ``ESGLEDGER_DUCKDB_MEMORY``.
DEFAULT_MEMORY_LIMIT = "512MB"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|KIB|MB|MIB|GB|GIB|TB|TIB)\s*$", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's memory limit: ``ESGLEDGER_DUCKDB_MEMORY`` (a size such as ``512MB`` or
    ``2GiB``), else :data:`DEFAULT_MEMORY_LIMIT`.

    Raises
    ------
    InputError
        If the variable is set to something that is not a size.
    """
    value = os.environ.get(MEMORY_ENV, "").strip()
    if not value:
        return DEFAULT_MEMORY_LIMIT
    if not _SIZE.match(value):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise InputError(f"{MEMORY_ENV}={shown!r} is not a memory size: use e.g. 512MB or 2GB")
    return value.replace(" ", "")


def connect(*, threads: int | None = None, ordered: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a memory limit and a spill folder of its own.

    The spill folder (``esgledger-duckdb-<pid>-<random>`` under ``ESGLEDGER_DUCKDB_TEMP`` or
    the system's temporary folder) is created by DuckDB only when a query spills, and DuckDB
    removes it when the connection closes: close it (``try``/``finally`` or ``with``).

    Parameters
    ----------
    threads
        DuckDB threads (default: DuckDB's, one per core).
    ordered
        Keep ``preserve_insertion_order`` (needed only when a query's output must follow its
        input's order without an ``ORDER BY``).
    """
    parent = os.environ.get(TEMP_ENV) or tempfile.gettempdir()
    os.makedirs(parent, exist_ok=True)
    spill = os.path.join(parent, f"esgledger-duckdb-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit(),
        "temp_directory": spill,
        "preserve_insertion_order": ordered,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")
    return con
