"""The proposals of a site on the energy pages: the options form on the site page (htmx swaps
the ranked block in; without JavaScript it opens the proposals page), the ranked table as
the API gives it, both languages, adoption through a CSRF-protected form by a user with
``energy:plan`` (into the planner's measures, then a notice), no adopt form for a user
without it, scope (another unit's site is 404), the domain's reason when the proposals cannot
be computed, and escaping.

Workspace: ``tests/_energy_proposals.py`` (two data centres, two metered days, weather), through
the ``proposals_*`` fixtures of ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from _energy_proposals import HOSTILE, PRICE
from _web_support import DemoCopy, page_client
from _zh_english import english_words, html_text
from esgledger.store import Workspace
from esgledger.targets import service as targets

URL = "/energy/sites/DC1/proposals"
QUERY = {"price_per_kwh": PRICE, "currency": "CNY", "period": "2024"}


def _rows(text: str) -> list[str]:
    return re.findall(r'<tr data-proposal="([^"]+)"', text)


def test_the_site_page_offers_the_options_form(proposals_office: Any) -> None:
    page = proposals_office.get("/energy/sites/DC1?period=2024-03")
    assert page.status_code == 200, page.text[-2000:]
    form = page.text.split('id="energy-proposals"', 1)[1].split("</section>", 1)[0]
    assert f'hx-get="{URL}"' in form
    assert f'action="{URL}"' in form
    assert 'name="price_per_kwh"' in form
    assert 'name="period" value="2024-03"' in form  # the period the page shows


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_block_ranks_as_the_api_does_in_both_languages(
    proposals_ws: DemoCopy, lang: str
) -> None:
    with page_client(proposals_ws, "office", lang) as client:
        fragment = client.get(URL, params=QUERY, headers={"HX-Request": "true"})
        assert fragment.status_code == 200, fragment.text[-2000:]
        assert "<html" not in fragment.text
        assert fragment.text.lstrip().startswith('<section class="card" id="energy-proposals">')
        api = client.get("/api/v1/energy/sites/DC1/proposals", params=QUERY).json()
        assert _rows(fragment.text) == [p["id"] for p in api["proposals"]]
        page = client.get(URL, params=QUERY)
        assert page.status_code == 200
        assert page.text.count("<h1") == 1
        assert page.headers["link"].startswith("</api/v1/energy/sites/DC1/proposals?")
        text = html_text(page.text, skip_untranslated=True)
        if lang == "zh-CN":
            found = english_words(text)
            assert not found, [str(f) for f in found]
            assert "减排建议" in page.text
        else:
            assert not re.search(r"[\u4e00-\u9fff]", text)


def test_without_a_price_the_page_only_asks_for_one(proposals_office: Any) -> None:
    page = proposals_office.get(URL)
    assert page.status_code == 200
    assert 'id="proposals-form"' in page.text
    assert "proposals-table" not in page.text
    assert "link" not in page.headers  # no API twin without its required price


def test_an_esg_office_user_adopts_a_proposal_into_the_plan(proposals_copy: DemoCopy) -> None:
    with page_client(proposals_copy, "office") as client:
        page = client.get(URL, params=QUERY)
        row = page.text.split('data-proposal="energy.DC1.ups_eco"', 1)[1].split("</tr>", 1)[0]
        assert 'action="/energy/sites/DC1/proposals/energy.DC1.ups_eco/adopt"' in row
        assert 'name="csrf_token"' in row
        # heat reuse at a site without heat export avoids nothing: no form, a reason
        nothing = page.text.split('data-proposal="energy.DC1.heat_reuse"', 1)[1]
        assert "<form" not in nothing.split("</tr>", 1)[0]
        form = {"price_per_kwh": PRICE, "currency": "CNY", "period": "2024",
                "start_year": 2026, "ramp_years": 1}  # fmt: skip
        action = "/energy/sites/DC1/proposals/energy.DC1.ups_eco/adopt"
        refused = client.post(action, data=form)  # no CSRF token
        assert refused.status_code == 403
        done = client.post(action, data={**form, "csrf_token": client.csrf})
        assert done.status_code == 303, done.text[-2000:]
        target = done.headers["location"]
        assert target.startswith(URL + "?")
        assert "outcome=added" in target
        shown = client.get(target)
        notice = shown.text.split('id="proposal-adopted"', 1)[1].split("</p>", 1)[0]
        assert "energy.DC1.ups_eco" in notice
        assert "added to the measures" in notice
    with Workspace.open(proposals_copy.path) as ws:
        (measure,) = targets.stored_measures(ws)
    assert measure.id == "energy.DC1.ups_eco"
    assert (measure.start_year, measure.ramp_years) == (2026, 1)


def test_a_proposal_that_cannot_be_a_measure_is_the_page_with_the_reason(
    proposals_copy: DemoCopy,
) -> None:
    with page_client(proposals_copy, "office") as client:
        answer = client.post(
            "/energy/sites/DC1/proposals/energy.DC1.heat_reuse/adopt",
            data={**QUERY, "start_year": 2026, "csrf_token": client.csrf},
        )
    assert answer.status_code == 422
    assert "avoids no market-based emissions" in answer.text
    with Workspace.open(proposals_copy.path) as ws:
        assert targets.stored_measures(ws) == []


def test_a_data_owner_reads_its_own_site_without_adopt_forms(proposals_ws: DemoCopy) -> None:
    with page_client(proposals_ws, "owner.a") as client:
        page = client.get(URL, params=QUERY)
        assert page.status_code == 200
        assert _rows(page.text)
        assert "/adopt" not in page.text
        assert client.get("/energy/sites/DC2/proposals", params=QUERY).status_code == 404
        posted = client.post(
            "/energy/sites/DC1/proposals/energy.DC1.ups_eco/adopt",
            data={**QUERY, "start_year": 2026, "csrf_token": client.csrf},
        )
        assert posted.status_code == 403


def test_the_reason_the_proposals_cannot_be_computed_is_shown(proposals_office: Any) -> None:
    # March 2023 has no readings: the domain says so, the page shows it (422; htmx: 200)
    page = proposals_office.get(URL, params={**QUERY, "period": "2023-03"})
    assert page.status_code == 422
    assert 'id="proposals-error"' in page.text
    assert "Traceback" not in page.text
    fragment = proposals_office.get(
        URL, params={**QUERY, "period": "2023-03"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert 'id="proposals-error"' in fragment.text


def test_user_typed_values_are_escaped(proposals_office: Any) -> None:
    typed = {**QUERY, "period": '"><script>x()</script>', "adopted": HOSTILE, "outcome": "added"}
    page = proposals_office.get(URL, params=typed)
    assert "<script>x()" not in page.text
    assert HOSTILE not in page.text
    assert "&lt;script&gt;" in page.text
    # a notice names only a proposal the page lists
    spoofed = proposals_office.get(
        URL, params={**QUERY, "adopted": "energy.DC1.warp", "outcome": "added"}
    )
    assert "proposal-adopted" not in spoofed.text
