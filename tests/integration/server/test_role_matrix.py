"""The role matrix, walked through the API: every route × every role × an object in the
caller's scope and one outside it, signed in for real (``POST /api/v1/session``, then a
personal API token made with that session; nothing overrides the auth dependency).

Each caller is scoped to the business unit ``BUA`` (see ``tests/_access_support.py``).
What ``access/roles.csv`` says decides the expected answer:

* ``-``: 403 with a problem document, whatever the object;
* ``all``: allowed (a 2xx answer, or one of the statuses :data:`ALLOWED_STATUSES` lists for
  the route) for the object in scope and the one outside it;
* ``scope``: allowed in scope; outside it, a route that names one object (a path parameter of
  :data:`ENTITY_BOUND`) answers 404, the documented choice (``docs/platform/roles.md``: the
  same answer as for an object that does not exist, so scope cannot be probed), and a list
  route is allowed but names nothing outside the caller's subtree.

A route is found by walking ``app.routes``; its action by its ``Allowed`` dependency. Path
parameters come from :data:`PATH_VALUES`, bodies from :data:`REQUESTS`: a route with a
parameter or a body the tables do not know fails the test, so no route escapes the matrix.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext

from _access_support import (
    BUA_SUBTREE,
    add,
    bearer_client,
    bearer_token,
    build_organisation,
)
from _inventory_support import write_csv
from esgledger.access import Principal
from esgledger.access.policy import ROLES, grant
from esgledger.collection import service as collection
from esgledger.collection.service import CampaignSpec
from esgledger.ingest.importers import import_file
from esgledger.server.app import create_app
from esgledger.server.deps import api_routes, route_actions
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace
from esgledger.store.repository_jobs import add_job

IN_SCOPE = "BUA"
OUT_OF_SCOPE = "BUB"
#: What a response of a scoped caller must never name (quoted JSON strings).
FOREIGN = ('"BUB"', '"SB"')

#: Routes without an action: anyone may call them (sign-in itself, liveness, readiness, the
#: OIDC redirects). A route missing from here and without ``Allowed`` fails the test.
PUBLIC_OPERATIONS = frozenset(
    {
        "health-live",
        "health-ready",
        "session-sign_in",
        "oidc-login",
        "oidc-callback",
    }
)

#: Path parameters that name one object belonging to an entity: out of scope → 404.
ENTITY_BOUND = frozenset({"task_id", "batch_id", "entity", "evidence_id", "site"})


@dataclass
class Context:
    """What the fixtures built: the run, the users' spare tokens and the entity-bound
    objects in and out of the callers' scope."""

    app: FastAPI
    ws: Workspace
    run_id: str
    spare_tokens: dict[str, str] = field(default_factory=dict)
    #: (caller, in_scope) → a queued job the caller submitted
    jobs: dict[tuple[str, bool], int] = field(default_factory=dict)
    campaign_id: int = 0
    #: in_scope → the collection task of BUA (True) or of BUB (False), and its evidence
    tasks: dict[bool, int] = field(default_factory=dict)
    evidence: dict[bool, int] = field(default_factory=dict)
    #: in_scope → an activities batch of BUA's subtree (True) or of BUB (False)
    batches: dict[bool, str] = field(default_factory=dict)
    #: the pseudonym of the carbon-inclusion account the programme settled (_inclusion)
    pseudonym: str = ""
    counter: itertools.count[int] = field(default_factory=itertools.count)


@dataclass(frozen=True)
class Call:
    caller: str  # username
    role: str
    in_scope: bool


PathValue = Callable[[Context, Call], str]

#: Path parameter name → its value for a call. A route with a parameter missing here fails.
PATH_VALUES: dict[str, PathValue] = {
    "username": lambda ctx, call: "target",
    "token_id": lambda ctx, call: ctx.spare_tokens[call.caller],
    "run": lambda ctx, call: ctx.run_id,
    "run_id": lambda ctx, call: ctx.run_id,
    "job_id": lambda ctx, call: str(ctx.jobs[call.caller, call.in_scope]),
    "campaign_id": lambda ctx, call: str(ctx.campaign_id),
    "task_id": lambda ctx, call: str(ctx.tasks[call.in_scope]),
    "evidence_id": lambda ctx, call: str(ctx.evidence[call.in_scope]),
    # No flag exists until a submission raises one: the route answers 404 for the flag, after
    # the role and the task's scope were checked (see ALLOWED_STATUSES).
    "flag_id": lambda ctx, call: "no-such-flag",
    "batch_id": lambda ctx, call: ctx.batches[call.in_scope],
    # a metered site of BUA (in scope) or of BUB (_meter_sites)
    "site": lambda ctx, call: "SA" if call.in_scope else "SB",
    # a lever of that site (its proposals need an IT meter: the routes answer 422 here, after
    # the role and the site's scope were checked, see ALLOWED_STATUSES)
    "proposal_id": lambda ctx, call: f"energy.{'SA' if call.in_scope else 'SB'}.free_cooling",
    # the carbon-inclusion account of _inclusion (the programme is not entity-bound)
    "pseudonym": lambda ctx, call: ctx.pseudonym,
}

RequestKwargs = Callable[[Context, Call], dict[str, Any]]

#: Operation id → the keyword arguments of a minimal valid request (json=, params=, files=).
#: A route with a request body missing here fails the test.
REQUESTS: dict[str, RequestKwargs] = {
    "users-add": lambda ctx, call: {
        "json": {"username": f"new{next(ctx.counter)}", "role": "viewer", "scope": "BUA"}
    },
    "users-set_role": lambda ctx, call: {"json": {"role": "viewer", "scope": "BUA"}},
    "session-create_token": lambda ctx, call: {"json": {"name": "matrix"}},
    "jobs-submit": lambda ctx, call: {"json": {"kind": "calculate", "params": {}}},
    "campaigns-create": lambda ctx, call: {
        "json": {
            "name": f"matrix {next(ctx.counter)}",
            "reporting_year": 2024,
            "due_date": "2025-03-31",
            "activities": ["stationary.diesel"],
            "entities": ["BUA"],
        }
    },
    "tasks-submit": lambda ctx, call: {
        "files": {"file": ("diesel.csv", _submission(call.in_scope), "text/csv")}
    },
    "tasks-return": lambda ctx, call: {"json": {"reason": "matrix"}},
    "tasks-reopen": lambda ctx, call: {"json": {"reason": "matrix"}},
    "tasks-accept_flag": lambda ctx, call: {"json": {"comment": "matrix"}},
    "tasks-assign": lambda ctx, call: {
        "json": {"owner": "data_owner_a" if call.in_scope else "target"}
    },
    "tasks-attach_evidence": lambda ctx, call: {
        "files": {"file": ("bill.pdf", b"%PDF-1.4\n% matrix\n", "application/pdf")}
    },
    "batches-withdraw": lambda ctx, call: {"json": {"reason": "matrix"}},
    "batches-supersede": lambda ctx, call: {
        "files": {"file": ("corrected.csv", _february(call.in_scope, 8), "text/csv")},
        "data": {"reason": "matrix"},
    },
    "energy-site_proposals": lambda ctx, call: {"params": {"price_per_kwh": 0.8}},
    "energy-adopt_proposal": lambda ctx, call: {"json": {"start_year": 2025, "price_per_kwh": 0.8}},
    "inclusion-import_trips": lambda ctx, call: {
        "json": {"trips": [_trip(f"M{next(ctx.counter)}", "2024-03-05T08:00:00+08:00")]}
    },
    "inclusion-consent": lambda ctx, call: {
        "json": {"account": INCLUSION_ACCOUNT, "scenario": "transit"}
    },
    "inclusion-lookup_account": lambda ctx, call: {"json": {"account": INCLUSION_ACCOUNT}},
    "inclusion-settle": lambda ctx, call: {
        "json": {"through": "2024-03-31", "as_of": "2024-04-10T02:00:00+08:00"}
    },
    "inclusion-redeem": lambda ctx, call: {
        "json": {"account": INCLUSION_ACCOUNT, "item": "matrix-donation", "quantity": 1}
    },
    "jobs-import": lambda ctx, call: {
        "files": {"file": ("entities.csv", b"entity,name,country\nNEW,New,CN\n", "text/csv")},
        "data": {"kind": "entities"},
    },
}

#: Non-2xx answers that still mean "allowed" for a route: the role and the scope passed, and
#: the object's state (409) or the request's content (422) decided. The state machine of a
#: task moves as the matrix walks (submit, review, return, approve, reopen), so each call
#: meets the task in whatever state the calls before it left.
_STATEFUL = frozenset({409, 422})
ALLOWED_STATUSES: dict[str, frozenset[int]] = {
    "tasks-submit": _STATEFUL,
    "tasks-start_review": _STATEFUL,
    "tasks-return": _STATEFUL,
    "tasks-approve": _STATEFUL,
    "tasks-reopen": _STATEFUL,
    "tasks-assign": frozenset({422}),  # the BUB task's owner must cover BUB
    "tasks-accept_flag": frozenset({404, 409}),  # no such flag (PATH_VALUES)
    "batches-withdraw": frozenset({409}),  # withdrawn by an earlier call
    "batches-supersede": _STATEFUL,
    # SA and SB meter an incomer only: no what-if without an IT meter (the request's content)
    "energy-site_proposals": frozenset({422}),
    "energy-adopt_proposal": frozenset({422}),
    # the matrix's one account runs out of points after a few donations (the ledger refuses
    # the overdraft: 409/422 after the role was checked)
    "inclusion-redeem": _STATEFUL,
}

#: The raw id of the carbon-inclusion account of the matrix's programme (_inclusion).
INCLUSION_ACCOUNT = "matrix-rider-1"


def _trip(trip_id: str, start: str) -> dict[str, str]:
    """A 12 km metro trip of :data:`INCLUSION_ACCOUNT` (Shenzhen methodology: 560.4 g)."""
    begin = datetime.fromisoformat(start)
    end = begin.replace(minute=begin.minute + 30)
    return {
        "trip_id": trip_id, "account": INCLUSION_ACCOUNT, "operator": "matrix-metro",
        "mode": "metro", "start_time": begin.isoformat(), "end_time": end.isoformat(),
        "origin": "A", "destination": "B", "distance_km": "12", "channel": "card",
    }  # fmt: skip


def _inclusion(ws: Workspace) -> str:
    """A tiny settled carbon-inclusion programme: the Shenzhen methodology, two trips of one
    consenting account, one settlement, a donation item; the account's pseudonym."""
    from esgledger.inclusion import service as inclusion

    local = Principal.local()
    inclusion.use(ws, local, "shenzhen-transit")
    trips = [_trip("T1", "2024-03-01T08:00:00+08:00"), _trip("T2", "2024-03-02T08:00:00+08:00")]
    folder = ws.root / "inputs"
    folder.mkdir(exist_ok=True)
    import_file(ws, "trips", write_csv(folder / "trips.csv", trips), principal=local)
    inclusion.consent(ws, local, INCLUSION_ACCOUNT, "transit", at=datetime(2024, 2, 1, tzinfo=UTC))
    settled = inclusion.settle(
        ws, local, through=date(2024, 3, 31), as_of=datetime(2024, 4, 10, tzinfo=UTC)
    )
    assert settled.settled == 2, settled
    inclusion.add_item(
        ws, local, item="matrix-donation", kind="donation", name="Matrix donation",
        name_zh="矩阵捐赠", price_points=100, counterparty="charity:matrix",
    )  # fmt: skip
    return inclusion.account_pseudonym(ws, INCLUSION_ACCOUNT)


def _february(in_scope: bool, quantity: int) -> bytes:
    """February's diesel of BUA1 (in scope) or of BUB (out of scope): a batch of one
    business unit, so it lies wholly inside or wholly outside the callers' scope."""
    entity = "BUA1" if in_scope else "BUB"
    return (
        "entity,site,period_start,period_end,activity,quantity,unit,region\n"
        f"{entity},,2024-02-01,2024-02-28,stationary.diesel,{quantity},gal,US\n"
    ).encode()


def _submission(in_scope: bool) -> bytes:
    entity, site = ("BUA", "SA") if in_scope else ("BUB", "SB")
    return (
        "entity,site,period_start,period_end,activity,quantity,unit,region\n"
        f"{entity},{site},2024-01-01,2024-12-31,stationary.diesel,100,gal,US\n"
    ).encode()


def _path(route: RouteContext, ctx: Context, call: Call) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name not in PATH_VALUES:
            raise LookupError(
                f"{route.path}: no fixture value for the path parameter {name!r}; add it to "
                "PATH_VALUES in tests/integration/server/test_role_matrix.py"
            )
        return PATH_VALUES[name](ctx, call)

    return re.sub(r"\{([^}]+)\}", value, route.path)


def _kwargs(route: RouteContext, ctx: Context, call: Call) -> dict[str, Any]:
    operation = route.operation_id or route.path
    if operation in REQUESTS:
        return REQUESTS[operation](ctx, call)
    if route.dependant.body_params:
        raise LookupError(
            f"{operation} ({route.path}) takes a request body: add a minimal valid one to "
            "REQUESTS in tests/integration/server/test_role_matrix.py"
        )
    return {}


def _expected(route: RouteContext, action: str, call: Call) -> str:
    cell = grant(call.role, action)
    if cell == "-":
        return "denied"
    if cell == "scope" and not call.in_scope:
        bound = {p.name for p in route.dependant.path_params} & ENTITY_BOUND
        return "hidden" if bound else "filtered"
    return "allowed"


def _check(route: RouteContext, expected: str, answer: httpx.Response, call: Call) -> str | None:
    """``None`` when ``answer`` is what the matrix says, else what is wrong."""
    status = answer.status_code
    operation = route.operation_id or route.path
    if status >= 500:
        return f"server error {status}"
    if expected == "denied":
        if status != 403:
            return f"expected 403, got {status}"
        if answer.headers.get("content-type") != "application/problem+json":
            return "a refusal without a problem document"
        return None
    if expected == "hidden":
        return None if status == 404 else f"expected 404 (out of scope), got {status}"
    if status >= 300 and status not in ALLOWED_STATUSES.get(operation, frozenset()):
        return f"expected allowed, got {status}: {answer.text[:200]}"
    grant_cell = grant(call.role, next(iter(route_actions(route))))
    if grant_cell == "scope" and status == 200 and answer.content:
        leaked = [code for code in FOREIGN if code in answer.text]
        if leaked:
            return f"a scoped caller sees {', '.join(leaked)} (outside its scope)"
    return None


def _method(route: RouteContext) -> str:
    methods = sorted(route.methods - {"HEAD", "OPTIONS"})
    if len(methods) != 1:
        raise LookupError(f"{route.path}: one method per route expected, got {methods}")
    return methods[0]


def _meter_sites(ws: Workspace) -> None:
    """One incomer and an hour of readings at SA (BUA) and SB (BUB), for the energy routes."""
    meters = [
        {"meter": f"{code}-IN", "site": code, "role": "incomer", "unit": "kWh",
         "kind": "interval", "timezone": "America/New_York"}
        for code in ("SA", "SB")
    ]  # fmt: skip
    folder = ws.root / "inputs"
    folder.mkdir(exist_ok=True)
    import_file(ws, "meters", write_csv(folder / "meters.csv", meters))
    readings = [
        {"meter": f"{code}-IN", "timestamp": f"2024-01-01T0{h}:00:00-05:00", "value": 10}
        for code in ("SA", "SB")
        for h in range(1, 5)
    ]
    import_file(ws, "readings", write_csv(folder / "readings.csv", readings))


@pytest.fixture
def ctx(workspace: Workspace) -> Context:
    run_id = build_organisation(workspace)
    _meter_sites(workspace)
    pseudonym = _inclusion(workspace)
    app = create_app(workspace, ServerSettings(sign_in_rate_per_minute=1000, workers=0))
    context = Context(app=app, ws=workspace, run_id=run_id, pseudonym=pseudonym)
    add(workspace, "target", "viewer", "BUB")
    for role in ROLES:
        add(workspace, f"{role}_a", role, IN_SCOPE)
        # A queued job of each caller's own (whatever its role lets it submit today), for
        # the routes that read or cancel one.
        for in_scope in (True, False):
            with workspace.write_lock() as session:
                job = add_job(
                    session,
                    kind="calculate",
                    params={},
                    submitted_by=f"{role}_a",
                    submitter={"role": role, "scope_entity": IN_SCOPE},
                    now=datetime.now(UTC),
                )
                context.jobs[f"{role}_a", in_scope] = job.id
    # A campaign asking both business units: one task each; evidence on each task.
    spec = CampaignSpec(
        name="2024 data",
        reporting_year=2024,
        due_date=date(2025, 3, 31),
        activities=("stationary.diesel",),
        entities=("BUA", "BUB"),
    )
    campaign = collection.create_campaign(workspace, Principal.local(), spec)
    context.campaign_id = campaign["id"]
    for task in collection.list_tasks(workspace, Principal.local(), campaign["id"]):
        in_scope = task["entity"] == IN_SCOPE
        context.tasks[in_scope] = task["id"]
        evidence = collection.attach_evidence(
            workspace, Principal.local(), task["id"], "meter.pdf", b"%PDF-1.4\n% fixture\n"
        )
        context.evidence[in_scope] = evidence["id"]
    assert set(context.tasks) == {True, False}, context.tasks
    for in_scope in (True, False):
        path = workspace.root / f"february-{in_scope}.csv"
        path.write_bytes(_february(in_scope, 7))
        context.batches[in_scope] = import_file(workspace, "activities", path).batch_id
    return context


def test_every_route_answers_every_role_as_the_matrix_says(ctx: Context) -> None:
    clients: dict[str, httpx.Client] = {}
    for role in ROLES:
        username = f"{role}_a"
        clients[username] = bearer_client(ctx.app, bearer_token(ctx.app, username))
        # A second token, for the routes that revoke one (the first keeps the client going).
        ctx.spare_tokens[username] = bearer_token(ctx.app, username).split("_")[1]

    failures: list[str] = []
    checked = 0
    routes = api_routes(ctx.app)
    assert routes, "the app has no API routes"
    for route in routes:
        operation = route.operation_id or route.path
        actions = route_actions(route)
        if not actions:
            if operation not in PUBLIC_OPERATIONS:
                failures.append(f"{operation} ({route.path}): no Allowed(action) and not public")
            continue
        if len(actions) != 1:
            failures.append(f"{operation}: more than one action {sorted(actions)}")
            continue
        (action,) = actions
        method = _method(route)
        for role, in_scope in itertools.product(ROLES, (True, False)):
            call = Call(f"{role}_a", role, in_scope)
            try:
                path = _path(route, ctx, call)
                kwargs = _kwargs(route, ctx, call)
            except LookupError as exc:
                pytest.fail(str(exc))
            answer = clients[call.caller].request(method, path, **kwargs)
            expected = _expected(route, action, call)
            wrong = _check(route, expected, answer, call)
            checked += 1
            if wrong is not None:
                where = "in scope" if in_scope else "out of scope"
                failures.append(
                    f"{operation} {method} {path} as {role} ({where}, {action}: "
                    f"{grant(role, action)}): {wrong}"
                )
    assert not failures, f"{len(failures)} of {checked} calls disagree:\n" + "\n".join(failures)
    assert checked >= 2 * len(ROLES) * 8


def test_a_data_owner_reads_only_its_business_unit_from_the_lake(ctx: Context) -> None:
    owner = bearer_client(ctx.app, bearer_token(ctx.app, "data_owner_a"))
    answer = owner.get("/api/v1/inventory")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body["by_entity"]) == BUA_SUBTREE
    assert set(body["by_site"]) <= {"SA", "(no site)"}
    assert "SB" not in body["by_site"]
    for key in ("scope1", "total"):
        expected = sum(row[key] for row in body["by_entity"].values())
        assert body["totals"][key] == pytest.approx(expected, abs=1e-6)
    # BUA 2,000 gal + BUA1 3,000 gal of the group's 11,000: strictly less than the whole.
    group = bearer_client(ctx.app, bearer_token(ctx.app, "auditor_a")).get("/api/v1/inventory")
    assert group.status_code == 200
    whole = group.json()
    assert set(whole["by_entity"]) == {"GRP", "BUA", "BUA1", "BUB"}
    assert body["totals"]["scope1"] == pytest.approx(
        whole["by_entity"]["BUA"]["scope1"] + whole["by_entity"]["BUA1"]["scope1"], abs=1e-6
    )
    assert body["totals"]["scope1"] < whole["totals"]["scope1"]
    assert not any(code in json.dumps(body) for code in FOREIGN)
    assert body["scope"]["entities"] == sorted(BUA_SUBTREE)


def test_the_organisation_tree_is_cut_to_the_scope(ctx: Context) -> None:
    viewer = bearer_client(ctx.app, bearer_token(ctx.app, "viewer_a"))
    seen = viewer.get("/api/v1/entities").json()
    assert [e["code"] for e in seen] == ["BUA", "BUA1"]
    assert [s["code"] for e in seen for s in e["sites"]] == ["SA"]
    assert seen[0]["parent"] == "GRP"  # named as the parent, not shown
    auditor = bearer_client(ctx.app, bearer_token(ctx.app, "auditor_a"))
    assert [e["code"] for e in auditor.get("/api/v1/entities").json()] == [
        "BUA",
        "BUA1",
        "BUB",
        "GRP",
    ]
