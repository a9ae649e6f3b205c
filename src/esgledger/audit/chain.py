"""Append, verify and read the hash-chained audit trail (see :mod:`esgledger.audit`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from esgledger.access.principal import Principal
from esgledger.safe_output import write_csv_rows
from esgledger.store.models_platform import AuditEvent
from esgledger.store.workspace import Workspace

__all__ = [
    "GENESIS",
    "AuditRecord",
    "ChainReport",
    "action_names",
    "digest",
    "event_hash",
    "events",
    "record",
    "verify",
    "write_csv",
]

#: ``prev_hash`` of the first event.
GENESIS = "0" * 64

#: The hashed fields, in the order of the CSV export.
FIELDS: tuple[str, ...] = (
    "at",
    "actor",
    "role",
    "address",
    "action",
    "object_type",
    "object_id",
    "before_digest",
    "after_digest",
    "detail",
    "prev_hash",
)


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """The sha256 of ``value``'s canonical JSON: an object's state before or after a change."""
    return hashlib.sha256(_canonical(value)).hexdigest()


def event_hash(fields: Mapping[str, Any]) -> str:
    """The hash of one event from its :data:`FIELDS`."""
    return hashlib.sha256(_canonical({name: fields.get(name) for name in FIELDS})).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    session: Session,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str | None = None,
    *,
    before: str | None = None,
    after: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in ``session``'s transaction (which holds the workspace's write lock).

    ``before`` and ``after`` are digests (:func:`digest`) of the object's state; ``detail`` is
    JSON-native context (file name, row count, reason). Nothing is written unless the
    transaction commits, so an event exists exactly when its change does.
    """
    last = session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one_or_none()
    fields: dict[str, Any] = {
        "at": _now(),
        "actor": principal.username,
        "role": principal.role,
        "address": principal.address,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before_digest": before,
        "after_digest": after,
        "detail": json.loads(_canonical(dict(detail))) if detail is not None else None,
        "prev_hash": last or GENESIS,
    }
    event = AuditEvent(**fields, hash=event_hash(fields))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify` found: the number of events, the last good hash, and the first
    broken link (its ``seq`` and what is wrong), if any."""

    count: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def _rows(session: Session) -> Generator[AuditEvent, None, None]:
    result = session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    )
    try:
        yield from result.scalars()
    finally:
        result.close()  # a server-side cursor left after an early stop


def verify(workspace: Workspace) -> ChainReport:
    """Recompute the chain from the first event and stop at the first broken link."""
    previous = GENESIS
    count = 0
    with workspace.session() as session, contextlib.closing(_rows(session)) as rows:
        for event in rows:
            fields = {name: getattr(event, name) for name in FIELDS}
            if event.prev_hash != previous:
                return ChainReport(
                    count,
                    previous,
                    event.seq,
                    "its prev_hash is not the hash of the event before it "
                    "(an event was removed, inserted or reordered)",
                )
            if event_hash(fields) != event.hash:
                return ChainReport(
                    count,
                    previous,
                    event.seq,
                    "its content does not match its hash (the event was changed)",
                )
            previous = event.hash
            count += 1
    return ChainReport(count, previous)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event as read back (JSON-native)."""

    seq: int
    at: str
    actor: str
    role: str | None
    address: str | None
    action: str
    object_type: str
    object_id: str | None
    before_digest: str | None
    after_digest: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def events(
    workspace: Workspace,
    *,
    since: str | None = None,
    user: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    limit: int | None = None,
    after_seq: int | None = None,
    before: str | None = None,
    newest_first: bool = False,
    offset: int = 0,
) -> list[AuditRecord]:
    """The events in chain order (``newest_first``: the other way), filtered: ``since`` an
    ISO date or time (UTC), ``before`` one (exclusive), by actor, by object id (or
    ``type:id``), by action prefix; ``after_seq`` or ``offset`` page on."""
    query = sa.select(AuditEvent).order_by(
        AuditEvent.seq.desc() if newest_first else AuditEvent.seq
    )
    if since:
        query = query.where(AuditEvent.at >= since)
    if before:
        query = query.where(AuditEvent.at < before)
    if user:
        query = query.where(AuditEvent.actor == user)
    if object_id:
        kind, _, name = object_id.partition(":")
        if name:
            query = query.where(AuditEvent.object_type == kind, AuditEvent.object_id == name)
        else:
            query = query.where(AuditEvent.object_id == object_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if after_seq is not None:
        query = query.where(AuditEvent.seq > after_seq)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    with workspace.session() as session:
        return [
            AuditRecord(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                role=e.role,
                address=e.address,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                before_digest=e.before_digest,
                after_digest=e.after_digest,
                detail=e.detail,
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in session.execute(query).scalars()
        ]


def action_names(workspace: Workspace) -> list[str]:
    """Every action the trail holds, sorted (for a filter's choices)."""
    with workspace.session() as session:
        found = session.execute(sa.select(AuditEvent.action).distinct()).scalars()
        return sorted(found)


def write_csv(records: Iterable[AuditRecord], target: IO[str]) -> None:
    """The events as CSV for an assurance provider (formula-safe; ``detail`` as JSON)."""
    header = ("seq", *FIELDS, "hash")
    rows: list[list[object]] = [list(header)]
    for r in records:
        row = r.as_dict()
        row["detail"] = None if r.detail is None else _canonical(r.detail).decode("utf-8")
        rows.append([row[name] for name in header])
    write_csv_rows(target, rows)
