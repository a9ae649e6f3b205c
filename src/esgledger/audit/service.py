"""The audit trail for a principal: read, export and verify, for the API and the CLI.

Each function checks ``audit:read`` (``access/roles.csv``: administrators and auditors) and
returns JSON-native values; the chain itself is :mod:`esgledger.audit.chain`.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from esgledger.access.policy import require
from esgledger.access.principal import Principal
from esgledger.audit.chain import action_names, events, verify, write_csv
from esgledger.errors import InputError, Issue, quoted
from esgledger.store.workspace import Workspace

__all__ = ["AuditFilter", "browse", "check", "export_csv", "log", "overview"]

#: The most events one call returns (page on with ``after_seq``).
MAX_EVENTS = 10_000

#: Events on one page of :func:`browse`.
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to show of the trail: ``user`` (actor, exact), ``action`` (prefix, e.g.
    ``user.``), ``object_id`` (an object id or ``type:id``), ``date_from`` and ``date_to``
    (UTC dates ``YYYY-MM-DD``, both inclusive); empty means any."""

    user: str | None = None
    action: str | None = None
    object_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def bounds(self) -> tuple[str | None, str | None]:
        """``since`` (inclusive) and ``before`` (exclusive) as the trail's ISO text; raises
        :class:`InputError` for a date that is not ``YYYY-MM-DD``."""
        start = _date("date_from", self.date_from)
        end = _date("date_to", self.date_to)
        return (
            None if start is None else start.isoformat(),
            None if end is None else (end + dt.timedelta(days=1)).isoformat(),
        )


def _date(name: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{name} {quoted(text)} is not a date (YYYY-MM-DD)",
            [Issue("", None, name, text[:40], "not a date", "give a date as YYYY-MM-DD")],
        ) from None


def browse(
    workspace: Workspace, principal: Principal, chosen: AuditFilter, page: int = 1
) -> dict[str, Any]:
    """One page of the filtered trail, newest first (:data:`PAGE_SIZE` events): ``events``
    (:meth:`AuditRecord.as_dict`), ``page``, ``has_next``, and ``actions`` (every action the
    trail holds, for the filter's choices)."""
    require(principal, "audit:read")
    since, before = chosen.bounds()
    page = max(1, page)
    found = events(
        workspace,
        since=since,
        before=before,
        user=chosen.user or None,
        object_id=chosen.object_id or None,
        action=chosen.action or None,
        newest_first=True,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    return {
        "events": [e.as_dict() for e in found[:PAGE_SIZE]],
        "page": page,
        "has_next": len(found) > PAGE_SIZE,
        "actions": action_names(workspace),
    }


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
    before: str | None = None,
) -> str:
    """The filtered events as CSV for an assurance provider
    (:func:`esgledger.audit.write_csv`: every hashed field and the hash); ``before`` an ISO
    date or time (exclusive)."""
    require(principal, "audit:read")
    found = events(
        workspace, since=since, before=before, user=user, object_id=object_id, action=action
    )
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


def overview(
    workspace: Workspace, principal: Principal, chosen: AuditFilter, page: int = 1
) -> dict[str, Any]:
    """The audit page: one page of the filtered trail (:func:`browse`) and the chain's
    verification (:func:`check`) as ``verification``."""
    found = browse(workspace, principal, chosen, page)
    return {**found, "verification": check(workspace, principal)}
