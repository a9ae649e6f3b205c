"""An organisation with two business units and a calculated run, and real sign-in, for the
tests of accounts, roles and scope (``tests/integration/server``, ``tests/unit/access``).

The group ``GRP`` has two business units: ``BUA`` (with a subsidiary ``BUA1`` and the site
``SA``) and ``BUB`` (with the site ``SB``). Each of ``GRP``, ``BUA``, ``BUA1`` and ``BUB``
burns diesel, so every entity has emissions of its own in the run. Everything goes through
the real importers and the real calculation.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from _inventory_support import activity, entity, import_rows, site
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.inventory import calculate
from esgledger.store import Workspace

PASSWORD = "a-long-password-1"
BASE_URL = "https://testserver"

#: The subtree of BUA (what a principal scoped to BUA may see).
BUA_SUBTREE = frozenset({"BUA", "BUA1"})
ALL_ENTITIES = frozenset({"GRP", "BUA", "BUA1", "BUB"})


def build_organisation(ws: Workspace) -> str:
    """Fill ``ws`` with the two business units and their diesel, calculate; the run id."""
    import_rows(
        ws,
        "entities",
        [
            entity("GRP", country="US"),
            entity("BUA", parent="GRP", country="US"),
            entity("BUA1", parent="BUA", country="US"),
            entity("BUB", parent="GRP", country="US"),
        ],
    )
    import_rows(ws, "sites", [site("SA", "BUA", country="US"), site("SB", "BUB", country="US")])
    import_rows(
        ws,
        "activities",
        [
            activity("stationary.diesel", 1_000, "gal", region="US", entity_code="GRP"),
            activity("stationary.diesel", 2_000, "gal", region="US", entity_code="BUA", site="SA"),
            activity("stationary.diesel", 3_000, "gal", region="US", entity_code="BUA1"),
            activity("stationary.diesel", 5_000, "gal", region="US", entity_code="BUB", site="SB"),
        ],
    )
    return calculate(ws, category_3=False).run_id


def add(ws: Workspace, username: str, role: str, scope: str | None = None, **extra: Any) -> None:
    add_user(ws, Principal.local(), username, role=role, scope=scope, password=PASSWORD, **extra)


def client(app: Any, **kwargs: Any) -> TestClient:
    return TestClient(app, base_url=BASE_URL, **kwargs)


def sign_in(app: Any, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A client signed in by ``POST /api/v1/session`` (the cookie in its jar) and the CSRF
    token of the session."""
    browser = client(app)
    answer = browser.post("/api/v1/session", json={"username": username, "password": password})
    if answer.status_code != 200:
        raise AssertionError(f"sign-in of {username}: {answer.status_code} {answer.text}")
    return browser, answer.json()["csrf_token"]


def bearer_token(app: Any, username: str, password: str = PASSWORD) -> str:
    """Sign in for real and create a personal API token with the session."""
    browser, csrf = sign_in(app, username, password)
    made = browser.post("/api/v1/tokens", json={"name": "tests"}, headers={"X-CSRF-Token": csrf})
    if made.status_code != 201:
        raise AssertionError(f"token of {username}: {made.status_code} {made.text}")
    token: str = made.json()["token"]
    return token


def bearer_client(app: Any, token: str) -> httpx.Client:
    """A client that sends only the bearer token (no cookies)."""
    return client(app, headers={"Authorization": f"Bearer {token}"})
