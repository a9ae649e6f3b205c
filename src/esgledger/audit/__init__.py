"""The audit trail: every change of state as an append-only, hash-chained event.

:func:`record` appends one event inside the caller's transaction, which must hold the
workspace's write lock (:meth:`esgledger.store.Workspace.write_lock`) so that events are
chained one after another; the unique ``prev_hash`` column refuses a fork even without it.
:func:`verify` recomputes the chain and names the first broken link; :func:`events` reads it
back filtered, and :func:`write_csv` exports it for an assurance provider.

Each event's hash is the sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of its
fields — ``at``, ``actor``, ``role``, ``address``, ``action``, ``object_type``, ``object_id``,
``before_digest``, ``after_digest``, ``detail`` and ``prev_hash`` — so a change to any field
of any event, a deleted event or a reordered one breaks the chain at that event. The first
event's ``prev_hash`` is 64 zeros. (Removing the newest events leaves a shorter intact chain;
the count and last hash that :func:`verify` reports are what an assurance provider records to
detect that.)
"""

from __future__ import annotations

from esgledger.audit.chain import (
    GENESIS,
    AuditRecord,
    ChainReport,
    digest,
    event_hash,
    events,
    record,
    verify,
    write_csv,
)

__all__ = [
    "GENESIS",
    "AuditRecord",
    "ChainReport",
    "digest",
    "event_hash",
    "events",
    "record",
    "verify",
    "write_csv",
]
