"""The audit trail for a principal: read, export and verify, for the API and the CLI.

Each function checks ``audit:read`` (``access/roles.csv``: administrators and auditors) and
returns JSON-native values; the chain itself is :mod:`esgledger.audit.chain`.
"""

from __future__ import annotations

import io
from typing import Any

from esgledger.access.policy import require
from esgledger.access.principal import Principal
from esgledger.audit.chain import events, verify, write_csv
from esgledger.store.workspace import Workspace

__all__ = ["check", "export_csv", "log"]

#: The most events one call returns (page on with ``after_seq``).
MAX_EVENTS = 10_000


def log(
    workspace: Workspace,
    principal: Principal,
    *,
    since: str | None = None,
    user: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    after_seq: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The events in chain order, filtered (:func:`esgledger.audit.events`), at most
    ``limit`` (default and ceiling :data:`MAX_EVENTS`)."""
    require(principal, "audit:read")
    chosen = MAX_EVENTS if limit is None else max(0, min(limit, MAX_EVENTS))
    found = events(
        workspace,
        since=since,
        user=user,
        object_id=object_id,
        action=action,
        after_seq=after_seq,
        limit=chosen,
    )
    return [e.as_dict() for e in found]


def export_csv(
    workspace: Workspace,
    principal: Principal,
    *,
    since: str | None = None,
    user: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
) -> str:
    """The filtered events as CSV for an assurance provider
    (:func:`esgledger.audit.write_csv`: every hashed field and the hash)."""
    require(principal, "audit:read")
    found = events(workspace, since=since, user=user, object_id=object_id, action=action)
    out = io.StringIO()
    write_csv(found, out)
    return out.getvalue()


def check(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """Recompute the chain: ``intact``, ``count``, ``head`` and, when broken, the first
    broken link (``broken_seq``, ``problem``)."""
    require(principal, "audit:read")
    report = verify(workspace)
    return {
        "intact": report.intact,
        "count": report.count,
        "head": report.head,
        "broken_seq": report.broken_seq,
        "problem": report.problem,
    }
