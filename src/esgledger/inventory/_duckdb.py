"""DuckDB connections of the inventory commands: bounded memory, spilling to a temporary folder.

Every query over a run's line items goes through :func:`connect`: DuckDB gets a
``memory_limit`` (``ESGLEDGER_DUCKDB_MEMORY``, default :data:`DEFAULT_MEMORY_LIMIT`) and a
``temp_directory`` of its own (a fresh folder under ``ESGLEDGER_DUCKDB_TEMP``, default the
system's temporary folder, removed when the connection closes), so that sorts, joins and
aggregations larger than the limit spill to disk instead of growing the process. Queries
whose row order does not matter run with ``preserve_insertion_order = false``. Only
aggregates cross into Python (docs/hardening/memory.md).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator

import duckdb

__all__ = ["DEFAULT_MEMORY_LIMIT", "MEMORY_ENV", "TEMP_ENV", "connect", "memory_limit"]

#: Environment variable: DuckDB's memory limit for the inventory commands (e.g. ``512MB``).
MEMORY_ENV = "ESGLEDGER_DUCKDB_MEMORY"
#: Environment variable: the folder under which DuckDB's spill folders are made.
TEMP_ENV = "ESGLEDGER_DUCKDB_TEMP"
#: The memory limit without ``ESGLEDGER_DUCKDB_MEMORY``.
DEFAULT_MEMORY_LIMIT = "1GB"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|KIB|MB|MIB|GB|GIB|TB|TIB)\s*$", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's memory limit: ``ESGLEDGER_DUCKDB_MEMORY`` when it is a size such as
    ``512MB`` or ``2GiB``, else :data:`DEFAULT_MEMORY_LIMIT`."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    return value if value and _SIZE.match(value) else DEFAULT_MEMORY_LIMIT


@contextlib.contextmanager
def connect(
    *, threads: int | None = None, ordered: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with a memory limit and a spill folder of its own, both removed
    when the block ends.

    Parameters
    ----------
    threads
        DuckDB threads (default: DuckDB's, one per core).
    ordered
        Keep ``preserve_insertion_order`` (needed only when a query's output must follow its
        input's order without an ``ORDER BY``).
    """
    parent = os.environ.get(TEMP_ENV) or None
    if parent is not None:
        os.makedirs(parent, exist_ok=True)
    spill = tempfile.mkdtemp(prefix="esgledger-duckdb-", dir=parent)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit(),
        "temp_directory": spill,
        "preserve_insertion_order": ordered,
    }
    if threads:
        config["threads"] = threads
    try:
        con = duckdb.connect(config=config)
        try:
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)
