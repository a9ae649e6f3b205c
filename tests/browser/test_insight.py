"""The dashboard and the inventory in Chromium: the ESG office clicks the dashboard's total
down to a breakdown, a line and its explanation (in English and Chinese), the charts draw,
no script error; and a calculation started from /inventory runs to done and its run appears."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _site import Site

#: What each step shows, per language: the heading of the explanation's factor section.
FACTOR_HEADING = {"en": "The factor chosen and why", "zh-CN": "所选排放因子及理由"}


def _chart_drawn(page: Any, figure_id: str) -> None:
    """ECharts drew into the figure (its SVG renderer)."""
    page.locator(f"#{figure_id} .chart-canvas svg").first.wait_for(state="attached")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_esg_office_clicks_the_total_down_to_one_lines_explanation(
    site: Site, open_page: Any, screenshots: Path, lang: str
) -> None:
    page = open_page(site, "esg.office", lang=lang)
    page.goto(site.url + "/")
    assert page.locator("html").get_attribute("lang") == lang
    total = page.locator("#dash-total a")
    assert total.inner_text().strip()
    _chart_drawn(page, "dash-trend")
    _chart_drawn(page, "dash-s3-chart")
    page.screenshot(path=str(screenshots / f"insight-dashboard.{lang}.png"), full_page=True)

    shown = total.inner_text().strip()
    total.click()
    page.wait_for_url("**/inventory/breakdown?**")
    assert page.locator("#bd-total").inner_text() == shown
    _chart_drawn(page, "bd-chart")
    page.screenshot(path=str(screenshots / f"insight-breakdown.{lang}.png"), full_page=True)

    page.locator("#bd-table tbody tr").first.locator("a").click()
    page.wait_for_url("**/inventory/lines?**")
    assert page.locator("#lines-table tbody tr").count() == 50
    page.screenshot(path=str(screenshots / f"insight-lines.{lang}.png"), full_page=True)

    page.locator("#lines-table a.line-link").first.click()
    page.wait_for_url("**/explain**")
    assert page.get_by_role("heading", name=FACTOR_HEADING[lang]).first.is_visible()
    assert page.locator(".ex-factor-id").first.inner_text().strip()
    assert page.locator("#ex-gwp-set").inner_text() == "AR6"
    page.screenshot(path=str(screenshots / f"insight-explain.{lang}.png"), full_page=True)

    for path, name in (
        ("/inventory", "runs"),
        ("/inventory/quality", "quality"),
        ("/inventory/uncertainty", "uncertainty"),
        ("/inventory/diff", "diff"),
    ):
        page.goto(site.url + path)
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(screenshots / f"insight-{name}.{lang}.png"), full_page=True)
    assert page.esgledger_errors == []  # no script error, no CSP refusal


def test_a_calculation_started_from_the_inventory_runs_to_done_and_is_listed(
    new_site: Callable[[], Site], open_page: Any, screenshots: Path
) -> None:
    site = new_site()
    page = open_page(site, "esg.office")
    page.goto(site.url + "/inventory")
    runs_before = page.locator("#runs-table tbody tr").count()
    page.locator("#calc-gwp").select_option("AR5")
    page.locator("#calc-start").click()
    page.wait_for_url("**/inventory?job=**")
    progress = page.locator("[data-job-status]")
    progress.wait_for()
    page.locator('[data-job-status="succeeded"]').wait_for(timeout=180_000)
    # the runs block polls while the job runs: the new run appears without a reload
    page.wait_for_function(
        "n => document.querySelectorAll('#runs-table tbody tr').length === n",
        arg=runs_before + 1,
        timeout=30_000,
    )
    assert "esg.office" in page.locator("#runs-table tbody tr").first.inner_text()
    page.screenshot(path=str(screenshots / "insight-calculated.en.png"), full_page=True)
    page.locator("#runs-table tbody tr").first.get_by_role("link").last.click()
    page.wait_for_url("**/inventory/diff?**")
    assert page.locator("#diff-totals").is_visible()
    assert page.esgledger_errors == []
