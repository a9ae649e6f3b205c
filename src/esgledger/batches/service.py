"""The registry of import batches, and corrections without deletion.

导入批次登记簿与不删除数据的更正：撤回（withdraw）或以更正批次取代（supersede）。

Every function takes the acting :class:`~esgledger.access.Principal` explicitly and is the
one entry point of the CLI (``esgledger batches list|show|withdraw|supersede``) and the API
(``/api/v1/batches``):

* :func:`list_batches` and :func:`show` — the registry as JSON-native dicts
  (:func:`batch_view`), limited to the batches the principal may see;
* :func:`withdraw` — a batch leaves every later calculation: its status becomes
  ``withdrawn``, with who, when and why; its lake file and registry row stay for ever;
* :func:`supersede` — a corrected file is imported all or nothing, exactly as ``import``
  does, and in the same write-locked transaction the old batch becomes ``superseded`` by the
  new one, with who, when and why.

Both changes record an audit event (``batch.withdraw``, ``batch.supersede``; the import of the
corrected file its own ``import.activities``) in their transaction.

Which kinds can be corrected (``docs/platform/corrections.md``): ``activities`` and meter
``readings``. Such a batch is an immutable lake file whose rows belong to it alone, so leaving
it out of a calculation (or of the telemetry rollups) removes exactly its rows. The other
kinds write rows into tables by key (entities, sites, factors, FX rates, metric values,
targets…): a later file overwrites the earlier one's rows, so "withdrawing" such a batch could
not bring back what it replaced. Their correction is a new import of the corrected rows;
withdrawing or superseding them is refused with that advice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pyarrow.parquet as pq
import sqlalchemy as sa

from esgledger import audit
from esgledger.access.policy import require
from esgledger.access.principal import Principal
from esgledger.access.scope import visible_entities
from esgledger.errors import (
    ConflictError,
    InputError,
    Issue,
    NotFoundError,
    shown,
)
from esgledger.ingest.batches import LIVE_STATUSES, batch_state
from esgledger.jobs.uploads import DEFAULT_MAX_UPLOAD_BYTES, store_upload
from esgledger.store.models import BATCH_STATUSES, ImportBatch

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace

__all__ = [
    "CORRECTABLE_KINDS",
    "REASON_CHARS",
    "batch_view",
    "check_reason",
    "list_batches",
    "show",
    "supersede",
    "supersede_upload",
    "withdraw",
]

#: The import kinds whose batches can be withdrawn or superseded (see the module docstring).
CORRECTABLE_KINDS: tuple[str, ...] = ("activities", "readings")

#: The longest reason accepted [characters].
REASON_CHARS = 1000


def _entities(workspace: Workspace, batch: ImportBatch) -> list[str] | None:
    """The entity codes a batch reports for: from its summary, else (batches imported before
    summaries named them) from its lake file; None for kinds without entities."""
    summary = batch.summary or {}
    found = summary.get("entities")
    if isinstance(found, list):
        return [str(code) for code in found]
    if batch.kind != "activities" or not batch.lake_path:
        return None
    path = workspace.lake / str(batch.lake_path)
    if not path.is_file():
        return []
    column = pq.read_table(path, columns=["entity"]).column("entity").unique().to_pylist()
    return sorted(str(code) for code in column if code is not None)


def batch_view(
    workspace: Workspace, batch: ImportBatch, supersedes: Iterable[str] = ()
) -> dict[str, Any]:
    """One batch as JSON-native values: its registry state, when it was imported, the
    entities it reports for, its period (activities), the batches it superseded, and
    whether its lake file is there."""
    summary = batch.summary or {}
    view: dict[str, Any] = {
        **batch_state(batch),
        "imported_at": batch.imported_at.isoformat(),
        "entities": _entities(workspace, batch),
        "period_start": summary.get("period_start"),
        "period_end": summary.get("period_end"),
        "supersedes": sorted(supersedes),
        "correctable": batch.kind in CORRECTABLE_KINDS and batch.status in LIVE_STATUSES,
    }
    if batch.lake_path:
        view["lake_file_present"] = (workspace.lake / str(batch.lake_path)).is_file()
    return view


def _visible(
    principal: Principal, entities: list[str] | None, scope: frozenset[str] | None
) -> bool:
    """Whether a batch reporting for ``entities`` lies in ``scope`` (None: the whole group).
    A batch of a kind without entities (reference data) is the whole group's."""
    if scope is None:
        return True
    if entities is None:
        return False
    return bool(entities) and set(entities) <= scope


def _scope(workspace: Workspace, principal: Principal, action: str) -> frozenset[str] | None:
    """Check that ``principal`` may do ``action`` at all (``access/roles.csv``) and return
    the entity codes it may do it on (None: the whole group)."""
    require(principal, action)
    return visible_entities(workspace, principal, action)


def _supersedes(session: Session, batch_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(batch_ids)
    out: dict[str, list[str]] = {}
    if not ids:
        return out
    rows = session.execute(
        sa.select(ImportBatch.superseded_by, ImportBatch.id).where(
            ImportBatch.superseded_by.in_(ids)
        )
    )
    for new, old in rows:
        out.setdefault(str(new), []).append(str(old))
    return out


def list_batches(
    workspace: Workspace,
    principal: Principal,
    *,
    kind: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """The registered batches the principal may see, oldest first (:func:`batch_view`),
    optionally of one ``kind`` and ``status``.

    Scope: a principal scoped to an entity sees the batches whose rows all report for
    entities in its subtree (activity batches name them in their summary); batches of
    reference data (entities, factors, FX…) belong to the whole group.
    """
    scope = _scope(workspace, principal, "batch:read")
    if status is not None and status not in BATCH_STATUSES:
        raise InputError(
            f"unknown batch status {shown(status)}: choose one of {', '.join(BATCH_STATUSES)}",
            [Issue("", None, "status", status, "unknown batch status", ", ".join(BATCH_STATUSES))],
        )
    query = sa.select(ImportBatch).order_by(ImportBatch.imported_at, ImportBatch.id)
    if kind is not None:
        query = query.where(ImportBatch.kind == kind)
    if status is not None:
        query = query.where(ImportBatch.status == status)
    with workspace.session() as session:
        batches = list(session.scalars(query))
        replaced = _supersedes(session, (b.id for b in batches))
        views = [batch_view(workspace, b, replaced.get(b.id, ())) for b in batches]
    return [v for v in views if _visible(principal, v["entities"], scope)]


def _load(session: Session, batch_id: str) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"there is no import batch {shown(batch_id)}")
    return batch


def show(workspace: Workspace, principal: Principal, batch_id: str) -> dict[str, Any]:
    """One batch (:func:`batch_view`) with its summary.

    Raises
    ------
    NotFoundError
        If there is no such batch, or it lies outside the principal's scope (the same
        answer, so scope cannot be probed).
    """
    scope = _scope(workspace, principal, "batch:read")
    with workspace.session() as session:
        batch = _load(session, batch_id)
        view = batch_view(workspace, batch, _supersedes(session, [batch.id]).get(batch.id, ()))
        view["summary"] = batch.summary
    if not _visible(principal, view["entities"], scope):
        raise NotFoundError(f"there is no import batch {shown(batch_id)}")
    return view


def check_reason(reason: str) -> str:
    """The reason of a correction, stripped and in NFC.

    Raises
    ------
    InputError
        If it is empty, longer than :data:`REASON_CHARS`, or holds control characters other
        than line breaks and tabs.
    """
    text = unicodedata.normalize("NFC", str(reason)).strip()
    problem = None
    if not text:
        problem = "a reason is required"
    elif len(text) > REASON_CHARS:
        problem = f"the reason is longer than {REASON_CHARS} characters ({len(text)})"
    elif any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        problem = "the reason holds control characters"
    if problem is not None:
        raise InputError(
            f"{problem}: say why, in at most {REASON_CHARS} characters",
            [Issue("", None, "reason", text, problem, "say why the batch is corrected")],
        )
    return text


def _correctable(batch: ImportBatch, verb: str) -> None:
    if batch.kind not in CORRECTABLE_KINDS:
        raise ConflictError(
            f"batch {batch.id} is a {batch.kind} import, which cannot be {verb}: its rows are "
            "stored by key, and a later import of corrected rows replaces them (import the "
            f"corrected {batch.kind} file); only {', '.join(CORRECTABLE_KINDS)} batches are "
            f"{verb}"
        )
    if batch.status not in LIVE_STATUSES:
        how = (
            f"superseded by batch {batch.superseded_by}"
            if batch.status == "superseded"
            else "withdrawn"
        )
        raise ConflictError(
            f"batch {batch.id} was already {how} by {batch.status_changed_by} on "
            f"{_when(batch.status_changed_at)}: {shown(batch.status_reason or '', 200)}"
        )


def _when(moment: datetime | None) -> str:
    return "?" if moment is None else moment.isoformat(timespec="seconds")


def _check_scope(
    workspace: Workspace, principal: Principal, batch: ImportBatch, scope: frozenset[str] | None
) -> None:
    if not _visible(principal, _entities(workspace, batch), scope):
        raise NotFoundError(f"there is no import batch {shown(batch.id)}")


def _mark(
    session: Session,
    principal: Principal,
    batch: ImportBatch,
    status: str,
    reason: str,
    *,
    superseded_by: str | None = None,
) -> None:
    before = audit.digest(batch_state(batch))
    batch.status = status
    batch.superseded_by = superseded_by
    batch.status_changed_at = datetime.now(UTC)
    batch.status_changed_by = principal.username
    batch.status_reason = reason
    session.flush()
    detail: dict[str, Any] = {"reason": reason, "file_name": batch.file_name, "kind": batch.kind}
    if superseded_by is not None:
        detail["superseded_by"] = superseded_by
    audit.record(
        session,
        principal,
        "batch.withdraw" if status == "withdrawn" else "batch.supersede",
        "batch",
        batch.id,
        before=before,
        after=audit.digest(batch_state(batch)),
        detail=detail,
    )


def withdraw(
    workspace: Workspace, principal: Principal, batch_id: str, reason: str
) -> dict[str, Any]:
    """Withdraw a batch: it leaves every later calculation; its lake file and registry row
    stay, and the registry records who, when and why.

    Raises
    ------
    InputError
        If the reason is missing or unfit (:func:`check_reason`).
    AccessDeniedError
        If the principal's role may not correct batches.
    NotFoundError
        If there is no such batch in the principal's scope.
    ConflictError
        If the batch's kind cannot be corrected, or it is already withdrawn or superseded.
    """
    scope = _scope(workspace, principal, "batch:withdraw")
    text = check_reason(reason)
    with workspace.write_lock() as session:
        batch = _load(session, batch_id)
        _check_scope(workspace, principal, batch, scope)
        _correctable(batch, "withdrawn")
        _mark(session, principal, batch, "withdrawn", text)
        return batch_view(workspace, batch, _supersedes(session, [batch.id]).get(batch.id, ()))


def _to_supersede(
    workspace: Workspace, principal: Principal, batch_id: str
) -> tuple[str, str, int | None, str]:
    """The kind, status, task and id of a batch ``principal`` may supersede (raises as
    :func:`supersede` does)."""
    scope = _scope(workspace, principal, "batch:supersede")
    with workspace.session() as session:
        old = _load(session, batch_id)
        _check_scope(workspace, principal, old, scope)
        _correctable(old, "superseded")
        return old.kind, old.status, old.task_id, old.id


def supersede(
    workspace: Workspace,
    principal: Principal,
    old_batch_id: str,
    new_file: Path | str,
    reason: str,
    *,
    sheet: str | None = None,
) -> dict[str, Any]:
    """Replace a batch by a corrected file: the file is validated and imported whole, as
    ``esgledger import`` does (the old batch's rows left out of the cross-batch checks, so
    the corrected rows do not count as duplicates of the rows they correct), and in the
    same write-locked transaction the old batch becomes ``superseded`` by the new one.
    The new batch takes the old one's status (approved or submitted) and collection task.

    Returns ``{"old": batch_view, "new": batch_view, "message": …}``.

    Raises
    ------
    InputError
        If the reason is unfit, or the corrected file is rejected (its row-level issues);
        nothing changed.
    AccessDeniedError, NotFoundError, ConflictError
        As :func:`withdraw`; also ConflictError when the corrected file has the same
        content as a batch already registered, or the old batch was corrected meanwhile.
    """
    from esgledger.ingest.batches import file_sha256
    from esgledger.ingest.importers import import_file

    text = check_reason(reason)
    kind, status, task_id, old_id = _to_supersede(workspace, principal, old_batch_id)
    path = Path(new_file)
    if path.is_file():
        same = workspace.find_batch(kind, file_sha256(path))
        if same is not None:
            raise ConflictError(
                f"{shown(path.name, 200)} has the same content as {kind} batch {same.id} "
                f"({shown(same.file_name, 200)}, {same.status}); a correction must differ "
                "from what is registered"
                + (
                    f"; if batch {same.id} already holds the corrected rows, withdraw "
                    f"batch {old_id} instead"
                    if same.id != old_id
                    else ""
                )
            )

    def mark_old(session: Session, new: ImportBatch) -> None:
        current = _load(session, old_id)
        _correctable(current, "superseded")  # corrected by someone else meanwhile?
        _mark(session, principal, current, "superseded", text, superseded_by=new.id)

    result = import_file(
        workspace,
        kind,
        path,
        sheet=sheet,
        principal=principal,
        status=status,
        task_id=task_id,
        replaces=old_id,
        then=mark_old,
    )
    if not result.created:  # the same bytes were committed concurrently as another batch
        raise ConflictError(
            f"{shown(path.name, 200)} was imported meanwhile as batch {result.batch_id}; "
            f"batch {old_id} was not superseded"
        )
    with workspace.session() as session:
        old_row, new_row = _load(session, old_id), _load(session, result.batch_id)
        replaced = _supersedes(session, [old_id, result.batch_id])
        views = {
            "old": batch_view(workspace, old_row, replaced.get(old_id, ())),
            "new": batch_view(workspace, new_row, replaced.get(result.batch_id, ())),
        }
    return {
        **views,
        "message": f"{result.message} It supersedes batch {old_id}.",
        "warnings": [
            {"row": w.row, "column": w.column, "value": w.value, "problem": w.problem}
            for w in result.warnings
        ],
    }


def supersede_upload(
    workspace: Workspace,
    principal: Principal,
    old_batch_id: str,
    name: str,
    source: BinaryIO,
    reason: str,
    *,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> dict[str, Any]:
    """:func:`supersede` with an uploaded file: the role, the reason and the batch are checked
    first, then the file is kept in ``WS/uploads/<sha256>/`` (:func:`esgledger.jobs.uploads.
    store_upload`: importable endings only, at most ``max_bytes``) and imported from there.
    """
    check_reason(reason)
    _to_supersede(workspace, principal, old_batch_id)  # before anything is kept
    stored = store_upload(workspace.root, name, source, max_bytes=max_bytes)
    return supersede(
        workspace, principal, old_batch_id, workspace.root / stored, reason, sheet=sheet
    )
