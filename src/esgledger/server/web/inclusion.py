"""The carbon-inclusion pages (碳普惠): the operator's programme view and one personal carbon
account, for roles with ``inclusion:read``; releasing or closing a held account and looking
an account up by its raw id need ``inclusion:operate``.

Routes (action):

* ``GET /inclusion`` (``inclusion:read``): the methodology in use (factors, basis,
  confidence, filing), a period (default: the workspace's reporting year), the programme's
  results over it (:func:`esgledger.inclusion.results.programme_results`: participants, trips
  by status, avoided t CO2 by mode and month as tables and a chart, point flows, refusals by
  reason), the accounts held for review, the redemption catalogue, and — loaded by htmx from
  ``GET /inclusion/verification`` — the ledger's verification. Figures are avoided emissions
  of the programme's participants, outside the company's scopes 1–3, and the page says so.
* ``GET /inclusion/accounts/{pseudonym}`` (``inclusion:read``): one account's standing,
  balance, consent per scenario, trips (50 a page) and ledger entries with their proofs.
* ``POST /inclusion/accounts/lookup`` (``inclusion:operate``): a raw account id (in the form
  body only, never in a URL) → 303 to the account's pseudonym page.
* ``POST /inclusion/accounts/{pseudonym}/review`` (``inclusion:operate``): release or close
  a held account (:func:`esgledger.inclusion.service.review`, audited ``inclusion.review``).

API twins: ``/api/v1/inclusion/methodologies``, ``/api/v1/inclusion/accounts/{pseudonym}/
statement``, ``/api/v1/inclusion/verification``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from esgledger.access import Principal
from esgledger.access.policy import allowed
from esgledger.errors import InputError
from esgledger.i18n import Lang, Text, strings_table, ui
from esgledger.inclusion import methodology as methodologies
from esgledger.inclusion import results as programme
from esgledger.inclusion import service
from esgledger.inclusion.ledger import StatementProof
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = [
    "CatalogueRow",
    "EntryRow",
    "FactorRow",
    "HeldRow",
    "InclusionAccountPage",
    "InclusionProgrammePage",
    "InclusionVerificationPage",
    "MethodologyCard",
    "RefusalRow",
    "TonnesRow",
    "TripRow",
    "reason_label",
    "router",
]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("inclusion:read")]
Operator = Annotated[Principal, PageAllowed("inclusion:operate")]

#: Trips per page of an account's trips table.
TRIPS_PER_PAGE = 50
#: Held accounts listed on the programme page (the count says how many there are in all).
HELD_SHOWN = 100
_T = Decimal("0.001")


def reason_label(code: str) -> Text:
    """The short bilingual label of a line's reason code (``inclusion.reason.<code>`` in the
    strings table); a code the table does not know reads "other reason"."""
    key = f"inclusion.reason.{code}"
    if key not in strings_table():
        key = "inclusion.reason.other"
    return Text(ui(key, "en"), ui(key, "zh-CN"))


def _tonnes_text(mg: int) -> str:
    """[mg CO2] as t CO2 with three decimals (exact Decimal, rounded half to even)."""
    return str(programme.tonnes(mg).quantize(_T, rounding=ROUND_HALF_EVEN))


# ---- the programme page -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactorRow:
    """One reduction factor of the methodology: its id, mode, basis (``pkm`` or ``trip``),
    value [g CO2 per passenger-km or per trip, exact decimal text], unit text, scenario, the
    per-trip value used when a trip has no distance (or ``None``), source and confidence
    (``V`` verified, ``R`` reported, ``A`` assumed)."""

    factor_id: str
    mode: str
    basis: str
    value_g: str
    unit: str
    scenario: str
    per_trip_fallback_g: str | None
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class MethodologyCard:
    """The methodology the programme uses, in the version effective on the period's last day
    (else the latest): id, version, name and city, baseline approach, filing (authority,
    number, date), source, confidence, effective dates, and its factors."""

    id: str
    version: str
    name: Text
    city: Text
    baseline: str
    authority: Text
    filing_number: str | None
    filing_date: dt.date | None
    source: str
    source_url: str | None
    confidence: str
    effective_from: dt.date
    effective_to: dt.date | None
    factors: tuple[FactorRow, ...]


@dataclass(frozen=True, slots=True)
class TonnesRow:
    """One row of avoided emissions: its key (a mode, or a month ``YYYY-MM``), the amount
    [mg CO2, exact] and the same in t CO2 as text with three decimals."""

    key: str
    mg: int
    t_co2: str


@dataclass(frozen=True, slots=True)
class RefusalRow:
    """Refused trips of one reason: the code, its bilingual label and the trips."""

    code: str
    label: Text
    trips: int


@dataclass(frozen=True, slots=True)
class HeldRow:
    """An account held for review: pseudonym, anomaly score (``None``: held for another
    reason) and the reason given when it was held (English, from the domain)."""

    pseudonym: str
    score: float | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    """A catalogue item: code, kind (coupon, voucher, donation, neutralisation), names,
    price [points], grams retired per unit [g CO2] (neutralisations), stock (``None``:
    unlimited), counterparty account and whether it can be redeemed now."""

    item: str
    kind: str
    name: Text
    price_points: int
    reduction_g: float
    stock: int | None
    counterparty: str
    active: bool


@dataclass(frozen=True, slots=True)
class InclusionProgrammePage(PageContext):
    """``/inclusion``: the methodology in use (``None``: none chosen yet), the period (both
    days included; ``default_period``: the reporting year, not asked for), links to the
    previous and next year, the programme's results over it (avoided emissions as rows by
    mode and month, and a chart option of the months by mode [t CO2]), refusals by reason,
    the held accounts shown and how many are held, the catalogue, whether the user may
    operate (review, look up), and the notice of the request (``reviewed``, ``outcome``:
    a review just made; ``lookup_unknown``: the id looked up is no account)."""

    methodology: MethodologyCard | None
    period_start: dt.date
    period_end: dt.date
    default_period: bool
    previous_year: int
    next_year: int
    results: programme.ProgrammeResults
    avoided_t_co2: str
    by_mode: tuple[TonnesRow, ...]
    by_month: tuple[TonnesRow, ...]
    months_chart: dict[str, Any]
    refusals: tuple[RefusalRow, ...]
    held: tuple[HeldRow, ...]
    held_total: int
    catalogue: tuple[CatalogueRow, ...]
    can_operate: bool
    reviewed: str | None
    outcome: Literal["active", "closed"] | None
    lookup_unknown: bool


def _methodology_card(chosen: str | None, on: dt.date) -> MethodologyCard | None:
    if chosen is None:
        return None
    versions = methodologies.versions(chosen)
    current = next(
        (
            m
            for m in versions
            if m.effective_from <= on and (m.effective_to is None or on <= m.effective_to)
        ),
        versions[-1],
    )
    data = service.methodology_json(current)
    return MethodologyCard(
        id=current.id,
        version=current.version,
        name=current.name,
        city=current.city,
        baseline=current.baseline,
        authority=current.authority,
        filing_number=current.filing_number or None,
        filing_date=current.filing_date,
        source=current.source,
        source_url=current.source_url or None,
        confidence=current.confidence,
        effective_from=current.effective_from,
        effective_to=current.effective_to,
        factors=tuple(
            FactorRow(
                factor_id=f["factor_id"],
                mode=f["mode"],
                basis=f["basis"],
                value_g=f["value_g"],
                unit=f["unit"],
                scenario=f["scenario"],
                per_trip_fallback_g=f["per_trip_fallback_g"],
                source=f["source"] or "",
                confidence=f["confidence"] or "",
            )
            for f in data["factors"]
        ),
    )


def _months_chart(found: programme.ProgrammeResults, lang: Lang) -> dict[str, Any]:
    """ECharts option: avoided t CO2 per month, stacked by mode."""
    months = [m for m, _ in found.avoided_mg_by_month]
    modes = [m for m, _ in found.avoided_mg_by_mode]
    cells = {(m, mode): mg for m, mode, mg in found.avoided_mg_by_month_mode}
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 56, "right": 16, "top": 32, "bottom": 72},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": ui("inclusion.chart.unit", lang)},
        "series": [
            {
                "name": mode,
                "type": "bar",
                "stack": "avoided",
                "data": [float(programme.tonnes(cells.get((m, mode), 0))) for m in months],
            }
            for mode in modes
        ],
    }


def _period(
    workspace: Any, year: int | None, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date, bool]:
    if start is not None or end is not None:
        if start is None or end is None:
            raise InputError("a period needs both its first day (start) and its last day (end)")
        if end < start:
            raise InputError(f"the period ends ({end}) before it starts ({start})")
        return start, end, False
    chosen = year if year is not None else int(workspace.reporting_year)
    return dt.date(chosen, 1, 1), dt.date(chosen, 12, 31), year is None


Year = Annotated[int | None, Query(ge=1990, le=2100)]
Day = Annotated[dt.date | None, Query()]
Pseudonym = Annotated[str | None, Query(max_length=40)]


@router.get("/inclusion")
def inclusion_programme(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    year: Year = None,
    start: Day = None,
    end: Day = None,
    reviewed: Pseudonym = None,
    outcome: Annotated[str | None, Query(max_length=10)] = None,
    lookup: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    lang = page_lang(request)
    first, last, default = _period(workspace, year, start, end)
    chosen = service.methodologies_view(workspace, principal)["programme"]
    found = programme.programme_results(workspace, first, last)
    held, held_total = service.held_accounts(workspace, principal, limit=HELD_SHOWN)
    items = service.catalogue(workspace, principal)
    known_outcome = outcome if outcome in ("active", "closed") and reviewed else None
    context = InclusionProgrammePage(
        methodology=_methodology_card(chosen, last),
        period_start=first,
        period_end=last,
        default_period=default,
        previous_year=first.year - 1,
        next_year=first.year + 1,
        results=found,
        avoided_t_co2=_tonnes_text(found.avoided_mg),
        by_mode=tuple(TonnesRow(k, mg, _tonnes_text(mg)) for k, mg in found.avoided_mg_by_mode),
        by_month=tuple(TonnesRow(k, mg, _tonnes_text(mg)) for k, mg in found.avoided_mg_by_month),
        months_chart=_months_chart(found, lang),
        refusals=tuple(
            RefusalRow(code, reason_label(code), n) for code, n in found.refusals_by_reason
        ),
        held=tuple(HeldRow(h.pseudonym, h.score, h.held_reason) for h in held),
        held_total=held_total,
        catalogue=tuple(
            CatalogueRow(
                item=i.item,
                kind=i.kind,
                name=Text(i.name, i.name_zh),
                price_points=i.price_points,
                reduction_g=i.reduction_g,
                stock=i.stock,
                counterparty=i.counterparty,
                active=i.active,
            )
            for i in items
        ),
        can_operate=allowed(principal, "inclusion:operate") is True,
        reviewed=reviewed if known_outcome else None,
        outcome=known_outcome,  # type: ignore[arg-type]
        lookup_unknown=lookup == "unknown",
    )
    return render(
        request,
        "inclusion/index.html",
        context,
        alternate="/api/v1/inclusion/methodologies",
    )


@dataclass(frozen=True, slots=True)
class InclusionVerificationPage(PageContext):
    """``/inclusion/verification``: the ledger recomputed (hash chain, Merkle roots, day
    roots, balances, settlement files): ``ok``, the first difference (code and English
    text, from the domain) and how many transactions, transfers, days and settlements were
    checked. The programme page loads its ``verification`` block with htmx."""

    ok: bool
    first_code: str | None
    first_text: str | None
    issues: int
    transactions: int
    transfers: int
    days: int
    settlements: int


@router.get("/inclusion/verification")
def inclusion_verification(
    request: Request, workspace: WorkspaceDep, principal: Reader
) -> Response:
    report = service.verify(workspace, principal)
    first = report.first
    context = InclusionVerificationPage(
        ok=report.ok,
        first_code=None if first is None else str(first.code),
        first_text=None if first is None else str(first.text),
        issues=len(report.issues),
        transactions=int(report.transactions),
        transfers=int(report.transfers),
        days=int(report.days),
        settlements=int(report.settlements),
    )
    return render(
        request,
        "inclusion/verification.html",
        context,
        block="verification",
        alternate="/api/v1/inclusion/verification",
    )


@router.post("/inclusion/accounts/lookup")
def inclusion_lookup(
    workspace: WorkspaceDep,
    principal: Operator,
    account: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    found = service.lookup(workspace, principal, account)
    if not found["known"]:
        return RedirectResponse("/inclusion?lookup=unknown#inclusion-lookup", status_code=303)
    return RedirectResponse(
        f"/inclusion/accounts/{quote(found['pseudonym'], safe='')}", status_code=303
    )


@router.post("/inclusion/accounts/{pseudonym}/review")
def inclusion_review(
    workspace: WorkspaceDep,
    principal: Operator,
    pseudonym: str,
    decision: Annotated[Literal["release", "close"], Form()],
    note: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[Literal["programme", "account"], Form()] = "programme",
) -> Response:
    status = service.review(
        workspace,
        principal,
        pseudonym,
        release=decision == "release",
        note=note,
        pseudonymous=True,
    )
    query = urlencode({"reviewed": pseudonym, "outcome": status})
    if back == "account":
        return RedirectResponse(
            f"/inclusion/accounts/{quote(pseudonym, safe='')}?{query}", status_code=303
        )
    return RedirectResponse(f"/inclusion?{query}#inclusion-held", status_code=303)


# ---- one account --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TripRow:
    """One trip of the account: id, operator, mode, local trip date, avoided [g CO2] and
    points (0 unless settled), status (``settled``, ``refused``, ``pending``), reason code,
    its bilingual label and the domain's reason text (English, with the trip's values)."""

    trip_id: str
    operator: str
    mode: str
    date: dt.date | None
    reduction_g: float
    points: int
    status: str
    reason_code: str
    reason_label: Text
    reason: str


@dataclass(frozen=True, slots=True)
class ProofView:
    """The proof of one ledger entry (:class:`esgledger.inclusion.ledger.StatementProof`):
    the transfer's Merkle path to its transaction root (``(side, sibling hash)`` steps), the
    transaction hash and its path to the day root, the day root, the day chain link, and
    whether every link recomputes here (``checks``)."""

    transfer_path: tuple[tuple[str, str], ...]
    tx_hash: str
    tx_path: tuple[tuple[str, str], ...]
    day_root: str
    prev_chain: str
    chain_hash: str
    checks: bool


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One ledger entry of the account: transaction, kind, ledger day, asset (``pt``
    points, ``mg`` milligrams CO2), signed amount (+ credited), counterparty account and
    its proof."""

    tx_id: str
    kind: str
    day: dt.date
    asset: str
    amount: int
    counterparty: str
    proof: ProofView


@dataclass(frozen=True, slots=True)
class InclusionAccountPage(PageContext):
    """``/inclusion/accounts/{pseudonym}``: the account's standing, balance [points], grams
    it holds [mg] and was credited [g CO2], consent per scenario, this page of its trips
    (``page_no``, ``has_next``; ``trips_total`` in all), its ledger entries with proofs,
    whether the user may review it, and the outcome of a review just made."""

    state: service.AccountState
    balance_points: int
    balance_mg: int
    reduction_g: float
    consents: dict[str, bool]
    trips: tuple[TripRow, ...]
    trips_total: int
    page_no: int
    has_next: bool
    entries: tuple[EntryRow, ...]
    can_operate: bool
    outcome: Literal["active", "closed"] | None


def _steps(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(side), str(sibling)) for side, sibling in value)


def _entry(entry: dict[str, Any]) -> EntryRow:
    proof = entry["proof"]
    day = entry["day"]
    return EntryRow(
        tx_id=str(entry["tx_id"]),
        kind=str(entry["kind"]),
        day=day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)),
        asset=str(entry["asset"]),
        amount=int(entry["amount"]),
        counterparty=str(entry["counterparty"]),
        proof=ProofView(
            transfer_path=_steps(proof["transfer_path"]),
            tx_hash=str(proof["tx_hash"]),
            tx_path=_steps(proof["tx_path"]),
            day_root=str(proof["day_root"]),
            prev_chain=str(proof["prev_chain"]),
            chain_hash=str(proof["chain_hash"]),
            checks=StatementProof.from_dict(proof).check(),
        ),
    )


@router.get("/inclusion/accounts/{pseudonym}")
def inclusion_account(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    pseudonym: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    outcome: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    found = service.statement(workspace, principal, pseudonym, pseudonymous=True)
    state = service.account_state(workspace, principal, pseudonym)
    first = (page - 1) * TRIPS_PER_PAGE
    shown = found.trips[first : first + TRIPS_PER_PAGE]
    context = InclusionAccountPage(
        state=state,
        balance_points=found.balance_points,
        balance_mg=found.balance_mg,
        reduction_g=found.reduction_g,
        consents=dict(sorted(found.consents.items())),
        trips=tuple(
            TripRow(
                trip_id=t.trip_id,
                operator=t.operator,
                mode=t.mode,
                date=t.date,
                reduction_g=t.reduction_g,
                points=t.points,
                status=t.status,
                reason_code=t.reason_code,
                reason_label=reason_label(t.reason_code),
                reason=t.reason,
            )
            for t in shown
        ),
        trips_total=len(found.trips),
        page_no=page,
        has_next=first + TRIPS_PER_PAGE < len(found.trips),
        entries=tuple(_entry(e) for e in found.entries),
        can_operate=allowed(principal, "inclusion:operate") is True,
        outcome=outcome if outcome in ("active", "closed") else None,  # type: ignore[arg-type]
    )
    return render(
        request,
        "inclusion/account.html",
        context,
        alternate=f"/api/v1/inclusion/accounts/{quote(found.account, safe='')}/statement",
    )
