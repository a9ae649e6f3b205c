"""The audit page (auditors and administrators): the hash-chained event log with filters,
50 events a page, newest first, each event's details; the chain's verification; the
filtered events as CSV.

Routes (action): ``GET /audit`` and ``GET /audit/export.csv`` (both ``audit:read``).
API twins: ``/api/v1/audit``, ``/api/v1/audit/verify``, ``/api/v1/audit.csv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.audit import service
from esgledger.audit.service import AuditFilter
from esgledger.errors import InputError
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, render

__all__ = ["AuditPage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("audit:read")]
Field = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event: ``seq``, ``at`` (UTC, ISO 8601), ``actor``, ``role``, ``address``,
    ``action``, ``object_type``, ``object_id``, ``detail`` (its JSON text, or None), the
    object's digests ``before_digest`` and ``after_digest``, and the event's ``hash``."""

    seq: int
    at: str
    actor: str
    role: str | None
    address: str | None
    action: str
    object_type: str
    object_id: str | None
    detail: str | None
    before_digest: str | None
    after_digest: str | None
    hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain's verification: ``intact``, ``count`` (events checked up to the first broken
    link), ``head`` (the last good hash), ``broken_seq`` and ``problem`` (English) of the
    first broken link."""

    intact: bool
    count: int
    head: str
    broken_seq: int | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class AuditPage(PageContext):
    """The audit page: the ``filters`` as given (user, action, object, date_from, date_to;
    empty = any), the ``actions`` the trail holds, this page's ``events`` (newest first),
    ``page_no`` and ``has_next``, the chain ``verification``, ``problem`` (a refused filter,
    in English) and ``csv_href`` (the filtered events as CSV)."""

    filters: dict[str, str]
    actions: tuple[str, ...]
    events: tuple[EventRow, ...]
    page_no: int
    has_next: bool
    verification: Verification
    problem: str | None
    csv_href: str


def _query_filters(
    user: Field = "",
    action: Field = "",
    object: Field = "",
    date_from: Field = "",
    date_to: Field = "",
) -> dict[str, str]:
    """The filters of the query (``user``, ``action``, ``object``, ``date_from``, ``date_to``)
    as given, trimmed (empty = any): the page and its CSV export take the same ones."""
    return {
        "user": user.strip(),
        "action": action.strip(),
        "object": object.strip(),
        "date_from": date_from.strip(),
        "date_to": date_to.strip(),
    }


Filters = Annotated[dict[str, str], Depends(_query_filters)]


def _filter(filters: dict[str, str]) -> AuditFilter:
    return AuditFilter(
        user=filters["user"] or None,
        action=filters["action"] or None,
        object_id=filters["object"] or None,
        date_from=filters["date_from"] or None,
        date_to=filters["date_to"] or None,
    )


def _row(event: dict[str, Any]) -> EventRow:
    detail = event.get("detail")
    return EventRow(
        seq=int(event["seq"]),
        at=str(event["at"]),
        actor=str(event["actor"]),
        role=event.get("role"),
        address=event.get("address"),
        action=str(event["action"]),
        object_type=str(event["object_type"]),
        object_id=event.get("object_id"),
        detail=None if detail is None else json.dumps(detail, ensure_ascii=False, sort_keys=True),
        before_digest=event.get("before_digest"),
        after_digest=event.get("after_digest"),
        hash=str(event["hash"]),
    )


@router.get("/audit")
def audit(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    filters: Filters,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The filtered event log and the chain's verification."""
    problem: str | None = None
    status = 200
    try:
        found = service.overview(workspace, principal, _filter(filters), page)
    except InputError as exc:
        problem, status = str(exc), 422
        filters.update(date_from="", date_to="")
        found = service.overview(workspace, principal, _filter(filters), page)
    kept = {k: v for k, v in filters.items() if v}
    csv_query = urlencode(kept)
    page_context = AuditPage(
        filters=filters,
        actions=tuple(found["actions"]),
        events=tuple(_row(e) for e in found["events"]),
        page_no=int(found["page"]),
        has_next=bool(found["has_next"]),
        verification=Verification(**found["verification"]),
        problem=problem,
        csv_href="/audit/export.csv" + (f"?{csv_query}" if csv_query else ""),
    )
    return render(
        request, "audit/index.html", page_context, status_code=status, alternate="/api/v1/audit"
    )


@router.get("/audit/export.csv")
def export_csv(
    workspace: WorkspaceDep,
    principal: Reader,
    filters: Filters,
) -> Response:
    """The filtered events as CSV (``write_csv``: formula-neutralised, every hashed field)."""
    chosen = _filter(filters)
    since, before = chosen.bounds()
    text = service.export_csv(
        workspace,
        principal,
        since=since,
        before=before,
        user=chosen.user,
        object_id=chosen.object_id,
        action=chosen.action,
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
