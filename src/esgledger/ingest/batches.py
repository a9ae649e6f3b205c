"""Import batches: content hashing, the re-import no-op, and the one transaction of an import.

Every importer follows the same three steps::

    digest = file_sha256(path)
    if (done := already_imported(ws, kind, path, digest)) is not None:
        return done                                  # same bytes again: nothing changes
    seen = batch_ids(ws)                             # the registry the checks will see
    records = validate(...)                          # raises InputError: nothing written
    return commit_batch(ws, kind, path, digest, rows=n, write=lambda s, b: save(s, records, b),
                        seen=seen, recheck=...)

:func:`commit_batch` registers the batch and runs ``write`` in one database transaction, so
an import lands whole or not at all. That transaction holds the workspace's write lock
(:meth:`esgledger.store.Workspace.write_lock`) from the re-check to the commit: under it the
batch is looked up again (a concurrent import of the same bytes makes this one a no-op, as
sequentially), and when other batches were registered since ``seen`` the importer's
``recheck`` runs the rules that depend on them again (record ids already in the lake, codes
already stored...). An activity batch's lake file is renamed to its final name under the
lock *before* the row commits, and removed if the commit fails; a kill in between leaves a
file that no row names, which ``esgledger doctor`` removes (``docs/hardening/concurrency.md``).
:func:`commit_lake_batch` does that for the importers whose batch is one lake file
(activities, readings, weather): temporary name, flush, rename and commit, clean-up.

Submissions
-----------
A collection task's submission (:mod:`esgledger.collection.service`) is an ordinary import
whose context (below) says ``submitted``, the task, the earlier submission it replaces,
an ``on_lock`` check (the task's version: a concurrent submission is refused before anything
else is done) and a ``then`` step (the task's own bookkeeping), so the task's status and the
batch land together or not at all.

Test hook
---------
``ESGLEDGER_TEST_PAUSE_AT=POINT[:SECONDS]`` makes a command print ``paused at POINT`` on
stderr and wait (default 60 s) at a :func:`pause_at` point: ``validated`` (an import's checks
done, lock not taken), ``placed`` (lake file renamed, row not committed), ``committed``;
``run-id`` (a calculation's run id reserved, nothing computed). With
``ESGLEDGER_TEST_RELEASE=FILE`` the wait ends as soon as FILE exists (a barrier for races).
The concurrency and kill tests use it; it does nothing when the variable is unset.

Who imports, and as what
------------------------
:func:`importing` sets, for the imports made inside it, the acting principal, the status the
new batch gets (``approved``, or ``submitted`` for a collection task), the task it answers,
the batches a correction or a resubmission replaces (whose rows the cross-batch checks leave
out), a check to run once the write lock is held, and work to do in the import's own
transaction (:func:`esgledger.batches.service.supersede` marks the old
batch there). :func:`esgledger.ingest.importers.import_file` takes these explicitly and sets
them; an importer called directly acts as :meth:`Principal.local`. A context variable, as
:func:`esgledger.ingest.readers.sheet_choice` is, because the fourteen importers share one
signature and one :func:`commit_batch`, and none of them has a use for these values but it.
:func:`commit_batch` records the audit event ``import.<kind>`` in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.errors import ConflictError, WorkspaceError, shown
from esgledger.ingest import ImportResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = [
    "LIVE_STATUSES",
    "PAUSE_ENV",
    "ImportContext",
    "already_imported",
    "batch_ids",
    "batch_state",
    "commit_batch",
    "commit_lake_batch",
    "current_context",
    "file_sha256",
    "fsync_file",
    "importing",
    "pause_at",
]

_CHUNK = 1 << 20
#: Test hook: ``POINT[:SECONDS]`` (see the module docstring).
PAUSE_ENV = "ESGLEDGER_TEST_PAUSE_AT"
RELEASE_ENV = "ESGLEDGER_TEST_RELEASE"

Write = Callable[["Session", "ImportBatch"], object]

#: Statuses whose batches hold live data: the rows the cross-batch checks of an import see.
LIVE_STATUSES: tuple[str, ...] = ("submitted", "approved")


@dataclass(frozen=True, slots=True)
class ImportContext:
    """Who imports and as what (see "Who imports, and as what" in the module docstring).

    ``replaces`` are the batches whose rows the cross-batch checks leave out (a correction's
    old batch, a task's earlier submission). ``on_lock`` runs as soon as the write lock is
    held, before anything is written (a collection task's version check: a concurrent
    submission is refused first); ``then`` runs in the import's transaction after the rows are
    written (and the audit event recorded), with the session and the new batch; raising in
    either undoes the whole import.
    """

    principal: Principal
    status: str = "approved"
    task_id: int | None = None
    replaces: frozenset[str] = frozenset()
    on_lock: Callable[[Session], object] | None = None
    then: Callable[[Session, ImportBatch], object] | None = None


_CONTEXT: ContextVar[ImportContext | None] = ContextVar("esgledger_import_context", default=None)


@contextlib.contextmanager
def importing(context: ImportContext) -> Iterator[ImportContext]:
    """Make the imports inside the block use ``context``."""
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def current_context() -> ImportContext:
    """The context of the running import (:meth:`Principal.local`, approved, by default)."""
    found = _CONTEXT.get()
    return found if found is not None else ImportContext(Principal.local())


def batch_state(batch: ImportBatch) -> dict[str, object]:
    """A batch's registry state as JSON-native values (what audit digests cover)."""
    return {
        "id": batch.id,
        "kind": batch.kind,
        "file_name": batch.file_name,
        "content_hash": batch.content_hash,
        "row_count": batch.row_count,
        "lake_path": batch.lake_path,
        "status": batch.status,
        "imported_by": batch.imported_by,
        "task_id": batch.task_id,
        "superseded_by": batch.superseded_by,
        "status_changed_at": (
            None if batch.status_changed_at is None else batch.status_changed_at.isoformat()
        ),
        "status_changed_by": batch.status_changed_by,
        "status_reason": batch.status_reason,
    }


def pause_at(point: str) -> None:
    """Sleep at ``point`` when ``ESGLEDGER_TEST_PAUSE_AT`` names it (tests only)."""
    raw = os.environ.get(PAUSE_ENV)
    if not raw:
        return
    name, _, seconds = raw.partition(":")
    if name != point:
        return
    print(f"paused at {point}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + (float(seconds) if seconds else 60.0)
    release = os.environ.get(RELEASE_ENV)
    while time.monotonic() < deadline:
        if release and os.path.exists(release):
            return
        time.sleep(0.02)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s bytes to disk (so a rename of it never publishes an empty file)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def batch_ids(workspace: Workspace) -> frozenset[str]:
    """The ids of every registered batch: what an import's checks saw (``seen=`` of
    :func:`commit_batch`)."""
    from esgledger.store.repository import registered_batch_ids

    with workspace.session() as session:
        return registered_batch_ids(session)


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
    """The result of an earlier import of the same bytes as ``kind``, if there was one.

    Raises
    ------
    ConflictError
        If those bytes were a batch that has since been withdrawn or superseded: importing
        them again does not bring the batch back (``docs/platform/corrections.md``).
    """
    batch = workspace.find_batch(kind, digest)
    return None if batch is None else _no_op(kind, path, batch)


def _no_op(kind: str, path: Path, batch: ImportBatch) -> ImportResult:
    if batch.status not in LIVE_STATUSES:
        how = (
            f"superseded by batch {batch.superseded_by}"
            if batch.status == "superseded"
            else "withdrawn"
        )
        raise ConflictError(
            f"{shown(path.name, 200)} has the same content as {kind} batch {batch.id}, which "
            f"was {how} by {batch.status_changed_by} ({shown(batch.status_reason or '', 200)}); "
            "a withdrawn or superseded batch is not imported again: import a corrected file, "
            "or supersede the current batch with it (`esgledger batches supersede`)"
        )
    return ImportResult(
        kind=kind,
        batch_id=batch.id,
        file_name=path.name,
        rows=batch.row_count,
        created=False,
        message=(f"{path.name} was already imported as {kind} batch {batch.id}; nothing changed."),
    )


def _remove_unnamed(workspace: Workspace, kind: str, digest: str, placed: Path) -> None:
    """Remove the lake file of a batch whose commit failed, unless a row names it after all
    (a concurrent import of the same bytes may have put its own file there and committed).
    Under the write lock, so no import is between renaming and committing; when even that
    fails the file stays for ``esgledger doctor``."""
    from esgledger.store.repository import find_batch

    try:
        with workspace.write_lock() as session:
            if find_batch(session, kind, digest) is None:
                placed.unlink(missing_ok=True)
    except Exception:  # the original error matters more; doctor cleans up
        return


def commit_batch(
    workspace: Workspace,
    kind: str,
    path: Path,
    digest: str,
    *,
    rows: int,
    write: Write,
    message: str,
    lake_path: str | None = None,
    summary: Mapping[str, object] | None = None,
    seen: frozenset[str] | None = None,
    recheck: Callable[[], Write] | None = None,
    lake_file: tuple[Path, Path] | None = None,
) -> ImportResult:
    """Register the batch and write its rows in one transaction that holds the workspace's
    write lock; return what was done.

    Parameters
    ----------
    seen, recheck
        The batch ids registered when the checks began (:func:`batch_ids`) and a function
        that runs the checks that depend on other batches again (raising
        :class:`~esgledger.errors.InputError`) and returns the ``write`` to use. Called under
        the lock only when the registry changed since ``seen``.
    lake_file
        ``(temporary, final)``: the batch's lake file, written and flushed under a temporary
        name; renamed to ``final`` under the lock before the row commits, removed again if
        the commit fails. The temporary file is removed whatever happens.

    Returns
    -------
    ImportResult
        ``created`` False when a batch of the same bytes was committed meanwhile (by a
        concurrent import): nothing changed, as for a sequential re-import.
    """
    from esgledger.store.repository import find_batch, register_batch, registered_batch_ids

    context = current_context()
    pause_at("validated")
    placed: Path | None = None
    try:
        with workspace.write_lock() as session:
            if context.on_lock is not None:
                context.on_lock(session)
            done = find_batch(session, kind, digest)
            if done is not None:
                return _no_op(kind, path, done)
            if recheck is not None and seen is not None and registered_batch_ids(session) != seen:
                write = recheck()
            if lake_file is not None:
                temporary, final = lake_file
                os.replace(temporary, final)
                placed = final
                _fsync_folder(final.parent)
                pause_at("placed")
            batch = register_batch(
                session,
                kind=kind,
                file_name=path.name,
                content_hash=digest,
                row_count=rows,
                lake_path=lake_path,
                summary=summary,
                status=context.status,
                imported_by=context.principal.username,
                task_id=context.task_id,
            )
            write(session, batch)
            audit.record(
                session,
                context.principal,
                f"import.{kind}",
                "batch",
                batch.id,
                after=audit.digest(batch_state(batch)),
                detail={
                    "file_name": path.name,
                    "rows": rows,
                    "content_hash": digest,
                    "status": context.status,
                    "task_id": context.task_id,
                },
            )
            if context.then is not None:
                context.then(session, batch)
            batch_id = batch.id
    except BaseException:
        if placed is not None:
            _remove_unnamed(workspace, kind, digest, placed)
        raise
    finally:
        if lake_file is not None:
            lake_file[0].unlink(missing_ok=True)
    pause_at("committed")
    return ImportResult(
        kind=kind, batch_id=batch_id, file_name=path.name, rows=rows, created=True, message=message
    )


def commit_lake_batch(
    workspace: Workspace,
    kind: str,
    path: Path,
    digest: str,
    *,
    lake_dir: str,
    batch_id: str,
    write_file: Callable[[Path], object],
    rows: int,
    message: str,
    summary: Mapping[str, object] | None = None,
    seen: frozenset[str] | None = None,
    recheck: Callable[[], Write] | None = None,
    write: Write | None = None,
) -> ImportResult:
    """Store a batch whose rows are one lake file, ``<lake>/<lake_dir>/<batch_id>.parquet``.

    ``write_file(temporary)`` writes the file under a temporary name in that folder
    (``.<batch_id>.<pid>.<random>.tmp``; it may raise, e.g. :class:`InputError` for what only
    the written file shows); the file is flushed to disk, and :func:`commit_batch` renames it
    to its final name under the write lock and registers the batch (``write``, default
    nothing, runs in that transaction). The temporary file is removed whatever happens.

    Raises
    ------
    WorkspaceError
        If the file cannot be written, flushed or renamed (an :class:`OSError`); nothing
        was imported.
    """
    folder = workspace.lake / lake_dir
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{batch_id}.parquet"
    temporary = folder / f".{batch_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        write_file(temporary)
        fsync_file(temporary)
        return commit_batch(
            workspace,
            kind,
            path,
            digest,
            rows=rows,
            write=write if write is not None else (lambda _session, _batch: None),
            message=message,
            lake_path=f"{lake_dir}/{batch_id}.parquet",
            summary=summary,
            seen=seen,
            recheck=recheck,
            lake_file=(temporary, final),
        )
    except OSError as exc:
        raise WorkspaceError(
            f"cannot put the lake file of batch {batch_id} in place ({exc}); nothing was imported"
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
