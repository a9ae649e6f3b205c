"""The carbon-inclusion programme's API (``docs/inclusion/``): methodologies, trip feeds from
operators, consent, settlement, statements with their proofs, the redemption catalogue,
redemptions and the ledger's verification.

Raw account ids travel only in request bodies (never in a path, so never in a request
log); paths name accounts by their pseudonym. Reading needs ``inclusion:read``, running the
programme ``inclusion:operate``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from esgledger.access import Principal
from esgledger.inclusion import service
from esgledger.server.deps import Allowed, WorkspaceDep
from esgledger.server.problems import problem_responses

router = APIRouter(prefix="/api/v1/inclusion", tags=["inclusion"])

Reader = Annotated[Principal, Allowed("inclusion:read")]
Operator = Annotated[Principal, Allowed("inclusion:operate")]


@router.get(
    "/methodologies",
    operation_id="inclusion-methodologies",
    responses=problem_responses(401, 403),
)
def methodologies(ws: WorkspaceDep, principal: Reader) -> dict[str, Any]:
    """Every shipped methodology version with its factors, rules and filing metadata, and
    the one the programme uses (``esgledger inclusion methodologies``)."""
    return service.methodologies_view(ws, principal)


class TripIn(BaseModel):
    """One trip of an operator's feed (the columns of the ``trips`` import kind)."""

    trip_id: str = Field(max_length=200)
    account: str = Field(max_length=200)
    operator: str = Field(max_length=200)
    mode: str = Field(max_length=60)
    start_time: str = Field(max_length=60, description="ISO 8601, with offset or local time")
    end_time: str = Field(max_length=60)
    origin: str | None = Field(default=None, max_length=200)
    destination: str | None = Field(default=None, max_length=200)
    distance_km: float | str | None = Field(default=None, description="[km] when known")
    channel: str | None = Field(default=None, max_length=60)


class FeedIn(BaseModel):
    """A batch of trips (at most 200 000 per request)."""

    trips: list[TripIn]


class FeedOut(BaseModel):
    """What the import of a feed did."""

    batch_id: str | None
    created: bool
    rows: int
    message: str


_FEED_COLUMNS = (
    "trip_id", "account", "operator", "mode", "start_time", "end_time", "origin",
    "destination", "distance_km", "channel",
)  # fmt: skip


@router.post(
    "/trips",
    operation_id="inclusion-import_trips",
    responses=problem_responses(401, 403, 409, 413, 422),
    response_model=FeedOut,
)
def import_trips(ws: WorkspaceDep, principal: Operator, body: FeedIn) -> FeedOut:
    """Import an operator's batch of trips: validated whole (row-level issues in the
    problem document), idempotent by (operator, trip_id), accounts created by their first
    trip (``esgledger import WS --kind trips FILE``)."""
    columns: dict[str, list[Any]] = {name: [] for name in _FEED_COLUMNS}
    for trip in body.trips:
        for name in _FEED_COLUMNS:
            value = getattr(trip, name)
            columns[name].append(None if value is None else str(value))
    feed = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    result = service.import_feed(ws, principal, feed)
    return FeedOut(
        batch_id=result.batch_id, created=result.created, rows=result.rows, message=result.message
    )


class ConsentIn(BaseModel):
    """An account's opt-in to a scenario (or its withdrawal)."""

    account: str = Field(max_length=200, description="the account id the operator knows")
    scenario: str = Field(default="transit", max_length=20)
    withdraw: bool = False


class ConsentOut(BaseModel):
    account: str = Field(description="the account's pseudonym")
    scenario: str
    active: bool
    granted_at: datetime | None
    withdrawn_at: datetime | None


@router.post(
    "/consents",
    operation_id="inclusion-consent",
    responses=problem_responses(401, 403, 422),
    response_model=ConsentOut,
)
def consent(ws: WorkspaceDep, principal: Operator, body: ConsentIn) -> ConsentOut:
    """Record an account's consent to a scenario, or withdraw it (audited)."""
    view = service.consent(ws, principal, body.account, body.scenario, withdraw=body.withdraw)
    return ConsentOut(
        account=view.account,
        scenario=view.scenario,
        active=view.active,
        granted_at=view.granted_at,
        withdrawn_at=view.withdrawn_at,
    )


class LookupIn(BaseModel):
    account: str = Field(max_length=200, description="the account id the operator knows")


@router.post(
    "/accounts/lookup",
    operation_id="inclusion-lookup_account",
    responses=problem_responses(401, 403, 422),
)
def lookup_account(ws: WorkspaceDep, principal: Operator, body: LookupIn) -> dict[str, Any]:
    """The pseudonym of a raw account id and whether the programme knows the account."""
    return service.lookup(ws, principal, body.account)


@router.get(
    "/accounts/{pseudonym}/statement",
    operation_id="inclusion-statement",
    responses=problem_responses(401, 403, 404),
)
def account_statement(ws: WorkspaceDep, principal: Reader, pseudonym: str) -> dict[str, Any]:
    """An account's balance, credited reductions, trips (settled, refused, pending, with
    reasons) and the proof of each ledger entry (``esgledger inclusion statement``)."""
    return service.statement_json(service.statement(ws, principal, pseudonym, pseudonymous=True))


class SettleIn(BaseModel):
    through: date | None = Field(default=None, description="last trip date to settle")
    as_of: datetime | None = Field(default=None, description="settle as at (with offset)")


@router.post(
    "/settlements",
    operation_id="inclusion-settle",
    responses=problem_responses(401, 403, 409, 422),
)
def settle(ws: WorkspaceDep, principal: Operator, body: SettleIn) -> dict[str, Any]:
    """Settle the imported trips (``esgledger inclusion settle``)."""
    return service.settlement_json(
        service.settle(ws, principal, through=body.through, as_of=body.as_of)
    )


@router.get(
    "/catalogue",
    operation_id="inclusion-catalogue",
    responses=problem_responses(401, 403),
)
def catalogue(ws: WorkspaceDep, principal: Reader) -> dict[str, Any]:
    """The redemption catalogue: items, prices in points, stock."""
    return {"items": service.catalogue(ws, principal)}


class RedeemIn(BaseModel):
    account: str = Field(max_length=200, description="the account id the operator knows")
    item: str = Field(max_length=60)
    quantity: int = Field(default=1, ge=1, le=10_000)


@router.post(
    "/redemptions",
    operation_id="inclusion-redeem",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def redeem(ws: WorkspaceDep, principal: Operator, body: RedeemIn) -> Any:
    """Spend an account's points on a catalogue item; the database refuses an overdraft
    and an empty stock, also between concurrent requests."""
    return service.redeem(ws, principal, body.account, body.item, quantity=body.quantity)


@router.get(
    "/verification",
    operation_id="inclusion-verify",
    responses=problem_responses(401, 403),
)
def verification(ws: WorkspaceDep, principal: Reader) -> dict[str, Any]:
    """Recompute the ledger's hash chain, Merkle roots, balances and settlement files
    (``esgledger inclusion verify``): ``ok`` and the first difference."""
    return service.verify_json(service.verify(ws, principal))
