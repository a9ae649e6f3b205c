"""API fuzz: schemathesis generates requests from the OpenAPI document and sends them to the
application in process (ASGI), as an administrator (bearer token) and without credentials.

Every response must be no server error (no 5xx), use a status code the operation documents,
carry a documented content type, and conform to the documented schema of that status. One
test per operation and principal (the operations come from the committed snapshot
``docs/api/openapi.json``, which ``test_api_contract`` keeps equal to the live document).
Valid and invalid requests are generated (schemathesis' positive and negative modes).

Bounded: ``ESGLEDGER_FUZZ_EXAMPLES`` (default 80) examples per mode for the administrator and
half as many anonymously, so about 240 requests per operation; the whole file runs in about
two minutes on two CPUs. Marked ``slow``; it runs on SQLite in CI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from _inventory_support import activity, entity, new_workspace, site
from esgledger.access import Principal, users
from esgledger.collection import service as campaigns
from esgledger.collection.service import CampaignSpec
from esgledger.inventory import calculate
from esgledger.server.app import create_app
from esgledger.server.openapi import SNAPSHOT_PATH
from esgledger.server.settings import ServerSettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = int(os.environ.get("ESGLEDGER_FUZZ_EXAMPLES", "80"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: An administrator whose name a generator will not hit (a fuzzed disable or role change of
#: the fuzzing account itself would only turn the rest of the run into 401s and 403s).
ADMIN = "fuzz-admin-5d0c1e"
#: Operations whose every request is deliberately expensive get fewer examples: a sign-in
#: attempt runs Argon2id (a dummy hash for unknown users, so timing reveals nothing).
COSTLY = {"session-sign_in": 4}
PASSWORD = "a-long-password-1"


def _operation_ids() -> list[str]:
    document = json.loads((ROOT / SNAPSHOT_PATH).read_text(encoding="utf-8"))
    return sorted(op["operationId"] for item in document["paths"].values() for op in item.values())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The schema loaded from the live app over a small calculated SQLite workspace with a
    campaign, and an administrator's bearer token."""
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    ws = new_workspace(
        root,
        entities=[entity("GRP"), entity("BU1", parent="GRP")],
        sites=[site("S1", "BU1", region="CN-GD")],
        activities=[
            activity("electricity", 1_000, "MWh", site="S1", entity_code="BU1"),
            activity("stationary.diesel", 1_000, "L", region="CN-GD"),
        ],
    )
    try:
        calculate(ws)
        users.add_user(ws, Principal.local(), ADMIN, role="admin", password=PASSWORD)
        users.add_user(ws, Principal.local(), "owner", role="data_owner", scope="BU1")
        # a campaign with tasks, so that generated small ids reach real tasks and states
        campaigns.create_campaign(
            ws,
            Principal.local(),
            CampaignSpec(
                name="Fuzz campaign",
                reporting_year=2024,
                due_date=date(2025, 3, 31),
                activities=("electricity", "stationary.diesel"),
                entities=("GRP", "BU1"),
            ),
        )
        admin = users.authenticate(ws, ADMIN, PASSWORD)
        token = users.create_token(ws, admin, "fuzz").token
        # generous sign-in limits: the fuzzer posts many sign-ins from one address
        app = create_app(ws, ServerSettings(sign_in_rate_per_minute=100_000, workers=0))
        yield schemathesis.openapi.from_asgi("/openapi.json", app), token
    finally:
        ws.close()


def _fuzz(schema: Any, operation_id: str, headers: dict[str, str], examples: int) -> None:
    operation = schema.find_operation_by_id(operation_id)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=2 * examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize("operation_id", _operation_ids())
def test_fuzz_as_admin(api: tuple[Any, str], operation_id: str) -> None:
    schema, token = api
    examples = max(1, EXAMPLES // COSTLY.get(operation_id, 1))
    _fuzz(schema, operation_id, {"Authorization": f"Bearer {token}"}, examples)


@pytest.mark.parametrize("operation_id", _operation_ids())
def test_fuzz_anonymous(api: tuple[Any, str], operation_id: str) -> None:
    schema, _ = api
    _fuzz(schema, operation_id, {}, max(1, EXAMPLES // 2 // COSTLY.get(operation_id, 1)))
