"""Import batches: content hashing, the re-import no-op, and the one transaction of an import.

Every importer follows the same three steps::

    digest = file_sha256(path)
    if (done := already_imported(ws, kind, path, digest)) is not None:
        return done                                  # same bytes again: nothing changes
    records = validate(...)                          # raises InputError: nothing written
    return commit_batch(ws, kind, path, digest, rows=n, write=lambda s, b: save(s, records, b))

:func:`commit_batch` registers the batch and runs ``write`` in one database transaction, so
an import lands whole or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from esgledger.ingest import ImportResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = ["already_imported", "commit_batch", "file_sha256"]

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes, as 64 hex digits (read in 1 MiB chunks).

    When a sheet of a workbook is named (``esgledger import --sheet``, see
    :func:`esgledger.ingest.readers.sheet_choice`), the digest covers the bytes and then
    ``"\0sheet:" + name``: two sheets of one workbook are two imports, not one re-import.
    """
    from esgledger.ingest.readers import requested_sheet

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    sheet = requested_sheet()
    if sheet is not None and path.suffix.lower() in (".xlsx", ".xlsm"):
        digest.update(b"\0sheet:" + sheet.encode("utf-8"))
    return digest.hexdigest()


def already_imported(
    workspace: Workspace, kind: str, path: Path, digest: str
) -> ImportResult | None:
    """The result of an earlier import of the same bytes as ``kind``, if there was one."""
    batch = workspace.find_batch(kind, digest)
    if batch is None:
        return None
    return ImportResult(
        kind=kind,
        batch_id=batch.id,
        file_name=path.name,
        rows=batch.row_count,
        created=False,
        message=(f"{path.name} was already imported as {kind} batch {batch.id}; nothing changed."),
    )


def commit_batch(
    workspace: Workspace,
    kind: str,
    path: Path,
    digest: str,
    *,
    rows: int,
    write: Callable[[Session, ImportBatch], object],
    message: str,
    lake_path: str | None = None,
    summary: Mapping[str, object] | None = None,
) -> ImportResult:
    """Register the batch and write its rows in one transaction; return what was done."""
    from esgledger.store.repository import register_batch

    with workspace.session() as session:
        batch = register_batch(
            session,
            kind=kind,
            file_name=path.name,
            content_hash=digest,
            row_count=rows,
            lake_path=lake_path,
            summary=summary,
        )
        write(session, batch)
        batch_id = batch.id
    return ImportResult(
        kind=kind, batch_id=batch_id, file_name=path.name, rows=rows, created=True, message=message
    )
