"""The carbon-inclusion pages over the demo's settled programme, in process, signed in through
the real sign-in form: who may open them, the programme page's figures against
:func:`esgledger.inclusion.results.programme_results` over the same workspace, an account page
against its statement, pagination, escaping of a catalogue item's name, the account lookup
(the raw id never in a URL) and the review of a held account through its CSRF form, audited.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from _web_support import DemoCopy, copy_demo, page_client
from esgledger.access import Principal
from esgledger.audit import service as audit
from esgledger.inclusion import results, service
from esgledger.inclusion.results import tonnes
from esgledger.store import Workspace

ADMIN = Principal.local()


def _pseudonym(demo: DemoCopy, account: str) -> str:
    with Workspace.open(demo.path) as ws:
        return service.account_pseudonym(ws, account)


def _text(page: str) -> str:
    """The page's text, tags removed and whitespace folded (to compare figures)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def demo(web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """A private copy of the demo for the reading tests of this module."""
    return copy_demo(web_demo, tmp_path_factory.mktemp("inclusion-pages") / "demo")


class TestWhoMayOpen:
    def test_anonymous_goes_to_sign_in(self, demo: DemoCopy) -> None:
        pseudonym = _pseudonym(demo, "rider-0001")
        with page_client(demo, None) as client:
            for url in ("/inclusion", f"/inclusion/accounts/{pseudonym}"):
                answer = client.get(url)
                assert answer.status_code == 303, url
                assert answer.headers["location"].startswith("/sign-in?next="), url

    @pytest.mark.parametrize("username", ["cloud.owner", "game.viewer", "cloud.reviewer"])
    def test_roles_without_inclusion_read_get_403(self, demo: DemoCopy, username: str) -> None:
        pseudonym = _pseudonym(demo, "rider-0001")
        with page_client(demo, username) as client:
            home = client.get("/")
            assert 'href="/inclusion"' not in home.text  # no navigation entry either
            for url in ("/inclusion", f"/inclusion/accounts/{pseudonym}"):
                assert client.get(url).status_code == 403, url

    def test_the_auditor_reads_but_may_not_review(self, demo: DemoCopy) -> None:
        pseudonym = _pseudonym(demo, "fraud-bot")
        with page_client(demo, "auditor") as client:
            page = client.get("/inclusion")
            assert page.status_code == 200
            assert 'href="/inclusion"' in page.text  # the navigation entry
            assert "/review" not in re.sub(r'href="/review[^"]*"', "", page.text)
            assert 'action="/inclusion/accounts/lookup"' not in page.text
            answer = client.post(
                f"/inclusion/accounts/{pseudonym}/review",
                data={"decision": "release", "csrf_token": client.csrf},  # type: ignore[attr-defined]
            )
            assert answer.status_code == 403

    def test_an_unknown_pseudonym_is_not_found(self, demo: DemoCopy) -> None:
        with page_client(demo, "admin") as client:
            assert client.get("/inclusion/accounts/p_" + "0" * 24).status_code == 404
            assert client.get("/inclusion/accounts/rider-0001").status_code == 404


class TestProgrammePage:
    def test_figures_are_the_programme_results_of_the_reporting_year(self, demo: DemoCopy) -> None:
        with Workspace.open(demo.path) as ws:
            year = ws.reporting_year
            found = results.programme_results(ws, dt.date(year, 1, 1), dt.date(year, 12, 31))
        assert found.trips_settled > 0
        assert found.refusals_by_reason
        with page_client(demo, "admin") as client:
            answer = client.get("/inclusion")
        assert answer.status_code == 200
        assert answer.headers["link"].startswith("</api/v1/inclusion/methodologies>")
        page = answer.text
        text = _text(page)

        def figure(fig_id: str) -> str:
            match = re.search(rf'id="{fig_id}".*?figure-value">\s*(.*?)\s*<', page, re.S)
            assert match is not None, fig_id
            return match.group(1)

        assert figure("fig-participants") == f"{found.participants:,}"
        assert figure("fig-settled") == f"{found.trips_settled:,}"
        assert figure("fig-refused") == f"{found.trips_refused:,}"
        assert figure("fig-pending") == f"{found.trips_pending:,}"
        assert figure("fig-avoided") == f"{tonnes(found.avoided_mg):.3f}"
        for mode, mg in found.avoided_mg_by_mode:
            row = re.search(rf'data-mode="{mode}">(.*?)</tr>', page, re.S)
            assert row is not None, mode
            assert f"{mg:,}" in row.group(1), mode
        for month, mg in found.avoided_mg_by_month:
            row = re.search(rf'data-month="{month}">(.*?)</tr>', page, re.S)
            assert row is not None, month
            assert f"{mg:,}" in row.group(1), month
        for code, trips in found.refusals_by_reason:
            row = re.search(rf'data-reason="{re.escape(code)}">(.*?)</tr>', page, re.S)
            assert row is not None, code
            assert f">{trips:,}<" in row.group(1), code
        # the reason's label, not only its code
        assert "daily trip cap" in text
        # the chart's option and its table, and the clear label of what these figures are
        assert 'id="inclusion-months-chart-option"' in page
        assert "outside scopes 1–3" in text
        # the methodology in use, with its factors and filing
        assert "shenzhen-transit/2021.1/metro" in page
        assert "46.7 g CO2/pkm" in text
        assert "Shenzhen Municipal Ecology and Environment Bureau" in text

    def test_another_year_has_no_trips(self, demo: DemoCopy) -> None:
        with page_client(demo, "admin") as client:
            answer = client.get("/inclusion?year=2001")
        assert answer.status_code == 200
        assert 'id="inclusion-empty"' in answer.text
        assert "2001" in _text(answer.text)

    def test_a_period_that_ends_before_it_starts_is_refused(self, demo: DemoCopy) -> None:
        with page_client(demo, "admin") as client:
            answer = client.get("/inclusion?start=2024-03-31&end=2024-03-01")
        assert answer.status_code == 422
        assert "before it starts" in answer.text

    def test_held_accounts_and_catalogue_are_listed(self, demo: DemoCopy) -> None:
        bot = _pseudonym(demo, "fraud-bot")
        with Workspace.open(demo.path) as ws:
            held, total = service.held_accounts(ws, ADMIN)
            items = service.catalogue(ws, ADMIN)
        assert bot in {h.pseudonym for h in held}
        with page_client(demo, "admin") as client:
            page = client.get("/inclusion").text
        assert f'data-account="{bot}"' in page
        assert f'action="/inclusion/accounts/{bot}/review"' in page
        for item in items:
            row = re.search(rf'data-item="{item.item}">(.*?)</tr>', page, re.S)
            assert row is not None, item.item
            if item.stock is not None:
                assert f">{item.stock:,}<" in row.group(1)
        assert total >= 1

    def test_the_ledger_verification_is_an_htmx_block(self, demo: DemoCopy) -> None:
        with page_client(demo, "auditor") as client:
            page = client.get("/inclusion").text
            assert 'hx-get="/inclusion/verification"' in page
            block = client.get("/inclusion/verification", headers={"HX-Request": "true"})
        assert block.status_code == 200
        assert block.text.lstrip().startswith('<section class="card" id="inclusion-verification"')
        assert "intact" in block.text
        assert "badge-pass" in block.text

    def test_chinese_page_says_what_the_figures_are(self, demo: DemoCopy) -> None:
        with page_client(demo, "admin", "zh-CN") as client:
            page = client.get("/inclusion").text
        assert "不属于范围一至三" in page
        assert "碳普惠" in page


class TestAccountPage:
    def test_shows_the_statement(self, demo: DemoCopy) -> None:
        raw = "rider-0003"
        with Workspace.open(demo.path) as ws:
            statement = service.statement(ws, ADMIN, raw)
        pseudonym = statement.account
        with page_client(demo, "admin") as client:
            answer = client.get(f"/inclusion/accounts/{pseudonym}")
        assert answer.status_code == 200
        assert answer.headers["link"].startswith(
            f"</api/v1/inclusion/accounts/{pseudonym}/statement>"
        )
        page = answer.text
        assert raw not in page  # the raw id is never shown
        balance = re.search(r'id="fig-balance".*?figure-value">\s*(.*?)\s*<', page, re.S)
        assert balance is not None
        assert balance.group(1) == f"{statement.balance_points:,}"
        for trip in statement.trips[:50]:
            row = re.search(rf'data-trip="{trip.trip_id}" data-status="(\w+)"', page)
            assert row is not None, trip.trip_id
            assert row.group(1) == trip.status, trip.trip_id
        for entry in statement.entries:
            assert f'data-tx="{entry["tx_id"]}"' in page
            assert entry["proof"]["day_root"] in page
        assert page.count('class="proof"') == len(statement.entries)
        assert "badge-fail" not in page.split('id="inclusion-entries"')[1]  # proofs recompute
        assert "esgledger inclusion statement WS ACCOUNT --format json" in page
        assert re.search(r"transit</span>: <span class=\"badge badge-pass\"", page)

    def test_long_trip_lists_are_paginated(self, demo: DemoCopy) -> None:
        pseudonym = _pseudonym(demo, "fraud-bot")  # 100 night trips
        with Workspace.open(demo.path) as ws:
            trips = service.statement(ws, ADMIN, pseudonym, pseudonymous=True).trips
        assert len(trips) > 50
        with page_client(demo, "auditor") as client:
            first = client.get(f"/inclusion/accounts/{pseudonym}").text
            second = client.get(f"/inclusion/accounts/{pseudonym}?page=2").text
        assert first.count("data-trip=") == 50
        assert f'href="/inclusion/accounts/{pseudonym}?page=2"' in first
        assert second.count("data-trip=") == min(50, len(trips) - 50)
        assert f'data-trip="{trips[50].trip_id}"' in second
        assert "held for review" in first  # its status


class TestOperatorForms:
    def test_lookup_redirects_to_the_pseudonym_never_the_raw_id(self, demo: DemoCopy) -> None:
        pseudonym = _pseudonym(demo, "rider-0007")
        with page_client(demo, "esg.office") as client:
            page = client.get("/inclusion").text
            assert 'action="/inclusion/accounts/lookup"' in page
            answer = client.post(
                "/inclusion/accounts/lookup",
                data={"account": "rider-0007", "csrf_token": client.csrf},  # type: ignore[attr-defined]
            )
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/inclusion/accounts/{pseudonym}"
            unknown = client.post(
                "/inclusion/accounts/lookup",
                data={"account": "nobody-42", "csrf_token": client.csrf},  # type: ignore[attr-defined]
            )
            assert unknown.status_code == 303
            assert "nobody" not in unknown.headers["location"]
            shown = client.get(unknown.headers["location"]).text
            assert "The programme has no account with that id." in shown
            # without the CSRF token nothing is looked up
            refused = client.post("/inclusion/accounts/lookup", data={"account": "rider-0007"})
            assert refused.status_code == 403

    @pytest.mark.parametrize(("decision", "status"), [("release", "active"), ("close", "closed")])
    def test_review_of_a_held_account_through_the_form_is_audited(
        self, web_demo: DemoCopy, tmp_path: Path, decision: str, status: str
    ) -> None:
        demo = copy_demo(web_demo, tmp_path / "demo")
        bot = _pseudonym(demo, "fraud-bot")
        with page_client(demo, "esg.office") as client:
            refused = client.post(f"/inclusion/accounts/{bot}/review", data={"decision": decision})
            assert refused.status_code == 403  # no CSRF token
            answer = client.post(
                f"/inclusion/accounts/{bot}/review",
                data={
                    "decision": decision,
                    "note": "checked the night trips",
                    "back": "account",
                    "csrf_token": client.csrf,  # type: ignore[attr-defined]
                },
            )
            assert answer.status_code == 303
            assert answer.headers["location"].startswith(f"/inclusion/accounts/{bot}?")
            shown = client.get(answer.headers["location"]).text
        assert f'data-account="{bot}"' not in shown
        assert {"active": "released", "closed": "was closed"}[status] in shown
        with Workspace.open(demo.path) as ws:
            assert service.account_state(ws, ADMIN, bot).status == status
            held, _ = service.held_accounts(ws, ADMIN)
            assert bot not in {h.pseudonym for h in held}
            events = audit.log(ws, ADMIN, action="inclusion.review", object_id=bot)
        assert len(events) == 1
        assert events[0]["actor"] == "esg.office"
        assert events[0]["object_type"] == "account"
        assert "checked the night trips" in str(events[0]["detail"])


def test_a_hostile_catalogue_name_is_escaped(web_demo: DemoCopy, tmp_path: Path) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    hostile = "<script>alert(1)</script>"
    with Workspace.open(demo.path) as ws:
        service.add_item(
            ws, ADMIN, item="evil-coupon", kind="coupon", name=f"{hostile} coupon",
            name_zh=f"{hostile} 优惠券", price_points=10, counterparty="merchant:demo-metro",
        )  # fmt: skip
    for lang in ("en", "zh-CN"):
        with page_client(demo, "admin", lang) as client:
            page = client.get("/inclusion").text
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
