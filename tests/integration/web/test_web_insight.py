"""The dashboard and the inventory pages, in process: every page renders for the ESG office
in both languages; the dashboard's figures are the API's inventory and each links to a
breakdown that sums to it, down to the line items and one row's explanation; a viewer scoped
to GAME sees GAME only."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _web_support import DemoCopy, copy_demo, page_client
from esgledger.i18n import format_number

PAGES = (
    "/",
    "/inventory",
    "/inventory/breakdown?figure=total&by=entity",
    "/inventory/breakdown?figure=scope3&category=3.6&by=category",
    "/inventory/breakdown?figure=scope2_market&by=site",
    "/inventory/breakdown?figure=scope1&by=activity",
    "/inventory/lines?figure=total&entity=GAME",
    "/inventory/lines?figure=scope2_market&site=DC-SH",
    "/inventory/quality",
    "/inventory/uncertainty",
    "/inventory/uncertainty?by=scope3_category",
    "/inventory/diff",
)


@pytest.fixture(scope="module")
def demo(web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """One read-only copy for this module's tests."""
    return copy_demo(web_demo, tmp_path_factory.mktemp("insight") / "demo")


def _element(page: str, element_id: str) -> str:
    """The inner HTML of the element with ``id`` (up to its first closing ``</div>``,
    ``</span>`` or ``</table>``)."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(div|span|table|dd)>', page, re.S)
    assert found is not None, f"no element #{element_id}"
    return found.group(1)


def _figure(page: str, element_id: str) -> str:
    """The value part of the figure card ``element_id`` (its link and unit)."""
    found = re.search(rf'id="{element_id}">.*?class="figure-value">(.*?)</div>', page, re.S)
    assert found is not None, f"no figure #{element_id}"
    return found.group(1)


def _href(fragment: str) -> str:
    found = re.search(r'href="([^"]+)"', fragment)
    assert found is not None, fragment
    return html.unescape(found.group(1))


def _values(page: str) -> list[float]:
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', page)]


def _explain_links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'class="line-link" href="([^"]+)"', page)]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_page_renders_for_the_esg_office(demo: DemoCopy, lang: str) -> None:
    with page_client(demo, "esg.office", lang) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[-2000:])
            assert f'<html lang="{lang}">' in answer.text
            assert answer.text.count("<h1>") == 1, path
        lines = client.get("/inventory/lines?figure=scope1")
        explain = client.get(_explain_links(lines.text)[0])
        assert explain.status_code == 200
        if lang == "zh-CN":
            assert "排放因子" in explain.text
            assert "年总览" in client.get("/").text


def test_the_dashboard_shows_the_apis_inventory_and_every_figure_sums_down(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "esg.office") as client:
        api = client.get("/api/v1/inventory").json()
        page = client.get("/").text
        totals = api["totals"]
        for element_id, key in (
            ("dash-total", "total"),
            ("dash-scope1", "scope1"),
            ("dash-scope2-location", "scope2_location"),
            ("dash-scope2-market", "scope2_market"),
            ("dash-scope3", "scope3"),
        ):
            figure = _figure(page, element_id)
            shown = format_number(totals[key], "en", 0)
            assert f">{shown}</a>" in figure, (element_id, figure)
            breakdown = client.get(_href(figure))
            assert breakdown.status_code == 200
            rows = _values(breakdown.text)
            assert rows, element_id
            assert sum(rows) == pytest.approx(totals[key], rel=1e-9), element_id
            assert _element(breakdown.text, "bd-total") == shown
        # every scope 3 category figure (all fifteen named) breaks down to its value
        table = _element(page, "dash-s3-table")
        links = re.findall(r'<td class="num"><a href="([^"]+)">', table)
        assert len(links) == 15
        for number, link in enumerate(links, start=1):
            expected = api["scope3_by_category"][str(number)]
            rows = _values(client.get(html.unescape(link)).text)
            assert sum(rows) == pytest.approx(expected, rel=1e-9, abs=1e-9), number
        # year-on-year against the published 2023 figure, the trend and the targets
        assert "dash-yoy" in page
        assert "dash-trend-option" in page
        assert "2021" in _element(page, "dash-trend-table")
        assert "NZ-2050" in _element(page, "dash-targets-table")
        assert 'id="dash-re"' in page
        assert 'id="dash-dq"' in page
        assert "dash-campaigns-table" in page
        assert client.get("/").headers["link"].startswith("</api/v1/inventory>")


def test_a_breakdown_leads_to_paged_lines_and_one_rows_explanation(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        breakdown = client.get("/inventory/breakdown?figure=scope3&category=3.6&by=entity").text
        # the tabs keep the filters
        assert "/inventory/breakdown?by=site&amp;figure=scope3&amp;category=3.6" in breakdown
        first_row = re.search(r'data-value="([^"]+)"><a href="([^"]+)"', breakdown)
        assert first_row is not None
        value, link = float(first_row.group(1)), html.unescape(first_row.group(2))
        lines = client.get(link).text
        assert float(_element(lines, "lines-total").replace(",", "")) == pytest.approx(
            value, abs=0.06
        )
        count = int(_element(lines, "lines-count").replace(",", ""))
        assert count > 50
        assert 'rel="next"' in lines
        assert len(_explain_links(lines)) == 50
        second = client.get(link + "&page=2").text
        assert len(_explain_links(second)) == min(50, count - 50)
        assert 'rel="prev"' in second
        explain = client.get(_explain_links(lines)[0])
        assert explain.status_code == 200
        text = explain.text
        assert 'class="ex-factor-id"' in text
        assert 'class="ex-tier"' in text
        assert _element(text, "ex-gwp-set") == "AR6"
        assert "Gases × GWP (AR6)" in text
        assert "The row as imported" in text
        assert ".xlsx" in text or ".csv" in text


def test_an_electricity_line_explains_its_market_based_part(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        lines = client.get("/inventory/lines?figure=scope2_location&site=DC-SH").text
        explain = client.get(_explain_links(lines)[0]).text
        assert 'class="facts ex-market"' in explain
        assert "Scope 2, market-based" in explain


def test_a_viewer_scoped_to_game_sees_game_only(demo: DemoCopy) -> None:
    with page_client(demo, "game.viewer") as client:
        api = client.get("/api/v1/inventory").json()
        assert api["scope"]["entities"] == ["GAME"]
        page = client.get("/").text
        assert f">{format_number(api['totals']['total'], 'en', 0)}</a>" in _figure(
            page, "dash-total"
        )
        assert "dash-scope2-market" not in page
        assert "dash-targets-table" not in page
        by_entity = client.get("/inventory/breakdown?figure=total&by=entity").text
        assert re.findall(r'<td><span translate="no">([^<]+)</span></td>', by_entity) == ["GAME"]
        assert sum(_values(by_entity)) == pytest.approx(api["totals"]["total"], rel=1e-9)
        other = client.get("/inventory/lines?figure=total&entity=CLOUD").text
        assert _element(other, "lines-count") == "0"
        runs = client.get("/inventory").text
        assert "calc-form" not in runs  # a viewer may not calculate
        assert client.get("/inventory/diff?a=x&b=y").status_code == 403
    with page_client(demo, "esg.office") as office:
        cloud = office.get("/inventory/lines?figure=total&entity=CLOUD").text
        cloud_line = _explain_links(cloud)[0]
    with page_client(demo, "game.viewer") as client:
        assert client.get(cloud_line).status_code == 404  # another entity's row


def test_bad_query_values_are_refused_not_crashed(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        for path in (
            "/inventory/breakdown?figure=nope",
            "/inventory/breakdown?by=colour",
            "/inventory/lines?category=3.99",
            "/inventory/lines?sort=random",
            "/inventory/uncertainty?by=planet",
            "/inventory/breakdown?figure=scope2_market&by=activity",
        ):
            answer = client.get(path)
            assert answer.status_code == 422, path
            assert answer.headers["content-type"].startswith("text/html")
        assert client.get("/inventory/lines/b-000000000000:2/explain").status_code == 404
        assert client.get("/inventory/breakdown?run=r-none").status_code == 404


# ---- a calculation from the form, run by a worker pool -------------------------------------


def _worker_client(demo: DemoCopy, username: str) -> Any:
    """Like ``page_client`` but over ``build_app`` (with one job worker)."""
    from contextlib import contextmanager

    from _web_support import csrf_of
    from esgledger.server.run import build_app
    from esgledger.server.settings import ServerSettings

    @contextmanager
    def opened() -> Any:
        app = build_app(demo.path, ServerSettings(workers=1))
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            answer = client.post(
                "/sign-in",
                data={"username": username, "password": demo.passwords[username], "next": "/"},
            )
            assert answer.status_code == 303
            client.csrf = csrf_of(client.get("/inventory").text)  # type: ignore[attr-defined]
            yield client

    return opened()


def test_the_calculate_form_starts_a_job_and_the_new_run_can_be_compared(
    web_demo: DemoCopy, tmp_path: Path
) -> None:
    import time

    demo = copy_demo(web_demo, tmp_path / "demo")
    with _worker_client(demo, "esg.office") as client:
        before = re.findall(r'<tr data-run="([^"]+)"', client.get("/inventory").text)
        assert len(before) == 1
        refused = client.post("/inventory/calculate", data={"gwp": "AR6"})
        assert refused.status_code == 403  # no CSRF token
        bad = client.post("/inventory/calculate", data={"gwp": "AR9", "csrf_token": client.csrf})
        assert bad.status_code == 422
        assert "issues" in bad.text
        answer = client.post(
            "/inventory/calculate",
            data={"gwp": "AR5", "consolidation": "operational", "csrf_token": client.csrf},
        )
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/inventory?job=")
        job_id = int(location.rsplit("=", 1)[1])
        page = client.get(location).text
        assert f'id="job-{job_id}"' in page
        assert 'hx-get="/inventory?job=' in page
        deadline = time.monotonic() + 180
        while True:
            poll = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
            assert poll.status_code == 200  # htmx's poll gets the progress block
            status = re.search(r'data-job-status="([a-z]+)"', poll.text)
            assert status is not None
            if status.group(1) in ("succeeded", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, "the calculation did not end in time"
            time.sleep(0.5)
        assert status.group(1) == "succeeded"
        # the runs block (what htmx polls) now lists the new run, and stops polling
        block = client.get(location, headers={"HX-Request": "true"}).text
        after = re.findall(r'<tr data-run="([^"]+)"', block)
        assert len(after) == 2
        assert before[0] in after
        assert "hx-trigger" not in block
        new = next(r for r in after if r != before[0])
        assert "esg.office" in block
        diff = client.get(f"/inventory/diff?a={before[0]}&b={new}")
        assert diff.status_code == 200
        assert 'id="diff-totals"' in diff.text
        assert "Another GWP set" in diff.text
    with _worker_client(demo, "cloud.owner") as owner:
        assert (
            owner.post("/inventory/calculate", data={"csrf_token": owner.csrf}).status_code == 403
        )
