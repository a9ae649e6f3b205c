"""The carbon-inclusion (碳普惠) API, ``/api/v1/inclusion/…`` (issue 15): trip feeds,
consent, account lookup, statements by pseudonym, settlement, the catalogue, redemptions and
the ledger's verification; roles (reading needs ``inclusion:read``, running the programme
``inclusion:operate``: a viewer or data owner gets 403), problem documents, raw account ids
only in request bodies; and two concurrent redemptions of the same last points through the
service (one wins), on SQLite and PostgreSQL.

Hand-worked values as in ``tests/integration/inclusion/test_cli_inclusion.py``: Shenzhen
metro 46.7 g CO2/pkm (domain-modules.md §3.1, citysz.net 2022-09-23), so a 12 km ride is
560.4 g and 560 points; tolerance zero (integer milligrams and points).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from _access_support import add, bearer_client, bearer_token
from esgledger.access import Principal
from esgledger.errors import EsgledgerError, LedgerError
from esgledger.inclusion import service
from esgledger.server.app import create_app
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace

PROBLEM = "application/problem+json"
BASE = "/api/v1/inclusion"
RAW = "RAWACCT-0001"
AS_OF = "2024-06-10T12:00:00+08:00"


def trip(trip_id: str = "M1", account: str = RAW, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trip_id": trip_id,
        "account": account,
        "operator": "SZMC",
        "mode": "metro",
        "start_time": "2024-05-01T08:00:00+08:00",
        "end_time": "2024-05-01T08:30:00+08:00",
        "origin": "Futian",
        "destination": "Luohu",
        "distance_km": "12",
        "channel": "card",
    }
    row.update(over)
    return row


@dataclass
class Api:
    ws: Workspace
    app: Any
    tokens: dict[str, str]

    def as_(self, who: str | None) -> httpx.Client:
        if who is None:
            from _access_support import client

            return client(self.app)
        if who not in self.tokens:  # signing in hashes a password: only for who is used
            self.tokens[who] = bearer_token(self.app, who)
        return bearer_client(self.app, self.tokens[who])


@pytest.fixture
def api(workspace: Workspace) -> Api:
    service.use(workspace, Principal.local(), "shenzhen-transit")
    app = create_app(workspace, ServerSettings(sign_in_rate_per_minute=1000, workers=0))
    roles = {
        "office": "esg_office",
        "auditor": "auditor",
        "viewer": "viewer",
        "owner": "data_owner",
    }
    for name, role in roles.items():
        add(workspace, name, role)
    return Api(workspace, app, {})


def settled(api: Api) -> str:
    """Import one 12 km metro trip, consent, settle; the account's pseudonym."""
    with api.as_("office") as c:
        assert c.post(f"{BASE}/trips", json={"trips": [trip()]}).status_code == 200
        assert c.post(f"{BASE}/consents", json={"account": RAW}).status_code == 200
        done = c.post(f"{BASE}/settlements", json={"through": "2024-05-31", "as_of": AS_OF})
        assert done.status_code == 200, done.text
        pseudonym: str = c.post(f"{BASE}/accounts/lookup", json={"account": RAW}).json()[
            "pseudonym"
        ]
    return pseudonym


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert "Traceback" not in answer.text
    body: dict[str, Any] = answer.json()
    return body


class TestTripFeed:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.post(f"{BASE}/trips", json={"trips": [trip()]}), 401)

    @pytest.mark.parametrize("who", ["viewer", "owner", "auditor"])
    def test_without_operate_gets_403(self, api: Api, who: str) -> None:
        with api.as_(who) as c:
            _problem(c.post(f"{BASE}/trips", json={"trips": [trip()]}), 403)

    def test_import_and_idempotent_resend(self, api: Api) -> None:
        with api.as_("office") as c:
            first = c.post(f"{BASE}/trips", json={"trips": [trip("M1"), trip("M2", start_time=
                "2024-05-01T10:00:00+08:00", end_time="2024-05-01T10:30:00+08:00")]})  # fmt: skip
            assert first.status_code == 200, first.text
            assert first.json()["created"] is True
            assert first.json()["rows"] == 2
            again = c.post(f"{BASE}/trips", json={"trips": [trip("M1")]})
        assert again.status_code == 200, again.text
        assert again.json()["rows"] in (0, 1)
        # settlement sees each trip once
        pseudonym = settled(api)
        with api.as_("auditor") as c:
            body = c.get(f"{BASE}/accounts/{pseudonym}/statement").json()
        assert sorted(t["trip_id"] for t in body["trips"]) == ["M1", "M2"]
        assert body["balance_points"] == 1120

    def test_a_bad_row_is_named_in_the_problem_document(self, api: Api) -> None:
        bad = trip("M2", mode="rocket")
        with api.as_("office") as c:
            answer = c.post(f"{BASE}/trips", json={"trips": [trip("M1"), bad]})
        body = _problem(answer, 422)
        # the feed's trips are its rows, counted from 1: the bad trip is the second
        assert [(i["row"], i["column"], i["value"]) for i in body["issues"]] == [
            (2, "mode", "rocket")
        ]
        assert RAW not in answer.text
        assert body["status"] == 422

    def test_an_empty_feed_is_refused(self, api: Api) -> None:
        with api.as_("office") as c:
            _problem(c.post(f"{BASE}/trips", json={"trips": []}), 422)


class TestConsent:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.post(f"{BASE}/consents", json={"account": RAW}), 401)

    def test_viewer_gets_403(self, api: Api) -> None:
        with api.as_("viewer") as c:
            _problem(c.post(f"{BASE}/consents", json={"account": RAW}), 403)

    def test_grant_and_withdraw_answer_with_the_pseudonym(self, api: Api) -> None:
        with api.as_("office") as c:
            granted = c.post(f"{BASE}/consents", json={"account": RAW, "scenario": "transit"})
            withdrawn = c.post(f"{BASE}/consents", json={"account": RAW, "withdraw": True})
        assert granted.status_code == withdrawn.status_code == 200, granted.text
        assert granted.json()["active"] is True
        assert withdrawn.json()["active"] is False
        assert granted.json()["account"].startswith("p_")
        assert RAW not in granted.text

    def test_unknown_scenario_is_422(self, api: Api) -> None:
        with api.as_("office") as c:
            _problem(c.post(f"{BASE}/consents", json={"account": RAW, "scenario": "flying"}), 422)


class TestLookup:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.post(f"{BASE}/accounts/lookup", json={"account": RAW}), 401)

    def test_auditor_gets_403_only_operators_hold_raw_ids(self, api: Api) -> None:
        with api.as_("auditor") as c:
            _problem(c.post(f"{BASE}/accounts/lookup", json={"account": RAW}), 403)

    def test_known_and_unknown(self, api: Api) -> None:
        pseudonym = settled(api)
        with api.as_("office") as c:
            known = c.post(f"{BASE}/accounts/lookup", json={"account": RAW}).json()
            unknown = c.post(f"{BASE}/accounts/lookup", json={"account": "NOBODY"}).json()
        assert known == {"pseudonym": pseudonym, "known": True, "status": "active"}
        assert unknown["known"] is False
        assert unknown["pseudonym"].startswith("p_")


class TestStatement:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.get(f"{BASE}/accounts/p_{'0' * 24}/statement"), 401)

    def test_viewer_gets_403(self, api: Api) -> None:
        pseudonym = settled(api)
        with api.as_("viewer") as c:
            _problem(c.get(f"{BASE}/accounts/{pseudonym}/statement"), 403)

    def test_statement_by_pseudonym(self, api: Api) -> None:
        pseudonym = settled(api)
        with api.as_("auditor") as c:
            answer = c.get(f"{BASE}/accounts/{pseudonym}/statement")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["account"] == pseudonym
        assert body["balance_points"] == 560
        assert body["reduction_g"] == 560.4
        (only,) = body["trips"]
        assert (only["trip_id"], only["reduction_g"], only["points"], only["status"]) == (
            "M1", 560.4, 560, "settled",
        )  # fmt: skip
        assert all("proof" in e for e in body["entries"])
        assert RAW not in answer.text

    @pytest.mark.parametrize(
        "name",
        [f"p_{'0' * 24}", "p_xyz", RAW, "p_" + "A" * 24, "%2e%2e", "p_" + "0" * 200],
    )
    def test_unknown_or_malformed_pseudonym_is_404(self, api: Api, name: str) -> None:
        settled(api)
        with api.as_("auditor") as c:
            answer = c.get(f"{BASE}/accounts/{name}/statement")
        assert answer.status_code == 404, answer.text
        assert "Traceback" not in answer.text

    def test_the_raw_id_in_the_path_finds_nothing(self, api: Api) -> None:
        """Raw ids never identify an account in a path (they would land in request logs)."""
        settled(api)
        with api.as_("office") as c:
            _problem(c.get(f"{BASE}/accounts/{RAW}/statement"), 404)


class TestSettle:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.post(f"{BASE}/settlements", json={}), 401)

    def test_auditor_gets_403(self, api: Api) -> None:
        with api.as_("auditor") as c:
            _problem(c.post(f"{BASE}/settlements", json={}), 403)

    def test_counts_and_nothing_left(self, api: Api) -> None:
        with api.as_("office") as c:
            c.post(f"{BASE}/trips", json={"trips": [trip()]})
            c.post(f"{BASE}/consents", json={"account": RAW})
            body = c.post(
                f"{BASE}/settlements", json={"through": "2024-05-31", "as_of": AS_OF}
            ).json()
            assert (body["settled"], body["refused"], body["pending"]) == (1, 0, 0)
            assert body["points"] == 560
            again = c.post(
                f"{BASE}/settlements", json={"through": "2024-05-31", "as_of": AS_OF}
            ).json()
        assert again["settlement_id"] is None

    def test_a_bad_date_is_422(self, api: Api) -> None:
        with api.as_("office") as c:
            _problem(c.post(f"{BASE}/settlements", json={"through": "2024-02-30"}), 422)


class TestCatalogue:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.get(f"{BASE}/catalogue"), 401)

    def test_viewer_gets_403(self, api: Api) -> None:
        with api.as_("viewer") as c:
            _problem(c.get(f"{BASE}/catalogue"), 403)

    def test_lists_the_items(self, api: Api) -> None:
        _coffee(api.ws)
        with api.as_("auditor") as c:
            items = c.get(f"{BASE}/catalogue").json()["items"]
        assert [(i["item"], i["price_points"], i["kind"]) for i in items] == [("C1", 500, "coupon")]


def _coffee(ws: Workspace, stock: int | None = None) -> None:
    service.add_item(
        ws, Principal.local(), item="C1", kind="coupon", name="Coffee", name_zh="咖啡",
        price_points=500, counterparty="merchant:M1", stock=stock, reduction_g=0.0,
    )  # fmt: skip


class TestRedemption:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.post(f"{BASE}/redemptions", json={"account": RAW, "item": "C1"}), 401)

    @pytest.mark.parametrize("who", ["viewer", "owner", "auditor"])
    def test_without_operate_gets_403(self, api: Api, who: str) -> None:
        with api.as_(who) as c:
            _problem(c.post(f"{BASE}/redemptions", json={"account": RAW, "item": "C1"}), 403)

    def test_redeem_then_overdraft_is_409(self, api: Api) -> None:
        settled(api)
        _coffee(api.ws)
        with api.as_("office") as c:
            done = c.post(f"{BASE}/redemptions", json={"account": RAW, "item": "C1"})
            assert done.status_code == 200, done.text
            assert done.json()["balance_points"] == 60
            body = _problem(c.post(f"{BASE}/redemptions", json={"account": RAW, "item": "C1"}), 409)
        assert "overdraw" in body["detail"]
        assert RAW not in str(body)

    def test_unknown_item_is_404(self, api: Api) -> None:
        settled(api)
        with api.as_("office") as c:
            _problem(c.post(f"{BASE}/redemptions", json={"account": RAW, "item": "NOPE"}), 404)


class TestVerification:
    def test_anonymous_gets_401_and_a_problem_document(self, api: Api) -> None:
        with api.as_(None) as c:
            _problem(c.get(f"{BASE}/verification"), 401)

    def test_viewer_gets_403(self, api: Api) -> None:
        with api.as_("viewer") as c:
            _problem(c.get(f"{BASE}/verification"), 403)

    def test_intact(self, api: Api) -> None:
        settled(api)
        with api.as_("auditor") as c:
            body = c.get(f"{BASE}/verification").json()
        assert body["ok"] is True
        assert body["transactions"] == 1


class TestConcurrentRedemption:
    def test_two_redemptions_of_the_last_points_one_wins(self, api: Api) -> None:
        """Through the service, in two threads: the account holds 560 points, each
        redemption takes 500; exactly one succeeds, the other is an overdraft (or, on a
        busy SQLite file, a busy error), and the ledger still verifies."""
        settled(api)
        _coffee(api.ws)
        barrier = threading.Barrier(2)
        outcomes: list[Any] = []

        def redeem() -> None:
            barrier.wait()
            try:
                outcomes.append(service.redeem(api.ws, Principal.local(), RAW, "C1"))
            except EsgledgerError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=redeem) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        won = [o for o in outcomes if not isinstance(o, Exception)]
        lost = [o for o in outcomes if isinstance(o, Exception)]
        assert len(won) == 1, outcomes
        assert len(lost) == 1, outcomes
        assert isinstance(lost[0], LedgerError), lost
        found = service.statement(api.ws, Principal.local(), RAW)
        assert found.balance_points == 60
        assert service.verify(api.ws, Principal.local()).ok
