"""The factor, green power and targets pages in Chromium, as the ESG office reads them in
both languages: every page loads with its charts drawn and no script or CSP error, the
resolve form answers in the browser, and each page is photographed per language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _site import PHONE, Site

PAGES = {
    "factors": "/factors",
    "factor": "/factors/cn-mee:location:CN-GD:2023",
    "factor-resolve": "/factors/resolve",
    "green-power": "/green-power",
    "targets": "/targets",
    "targets-plan": "/targets/plan",
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_office_reads_factors_green_power_and_targets(
    site: Site, open_page: Any, screenshots: Path, lang: str
) -> None:
    page = open_page(site, "esg.office", lang=lang)
    for name, path in PAGES.items():
        page.goto(site.url + path)
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").count() == 1
        charts = page.locator("[data-chart]")
        if charts.count():
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-chart]')]"
                ".every(c => c.getAttribute('data-drawn') === '1')"
            )
            assert page.locator(".chart-canvas svg").count() >= charts.count(), name
        # nothing forces a horizontal scroll
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
        ), name
        page.screenshot(path=str(screenshots / f"explore-{name}.{lang}.png"), full_page=True)
    assert page.esgledger_errors == []


def test_the_resolve_form_works_in_the_browser(site: Site, open_page: Any) -> None:
    page = open_page(site, "esg.office", lang="zh-CN")
    page.goto(site.url + "/factors/resolve")
    page.get_by_label("活动类型").select_option("stationary.diesel")
    page.get_by_label("地区代码").fill("CN")
    page.get_by_label("单位", exact=True).fill("t")
    page.get_by_role("button", name="匹配因子").click()
    page.wait_for_selector("#resolve-result")
    assert page.locator("#resolved-factor").inner_text() == "cn-defaults:stationary.diesel:t"
    assert page.locator("#resolved-tier").get_attribute("data-tier") == "country"
    assert "国家级" in page.locator("#resolved-tier").inner_text()

    page.get_by_label("地区代码").fill("XX")
    page.get_by_role("button", name="匹配因子").click()
    alert = page.get_by_role("alert")
    assert "不是已知的地区代码" in alert.inner_text()
    assert page.get_by_label("地区代码").input_value() == "XX"
    # the browser logs the 422 answer itself; nothing else may fail
    assert [e for e in page.esgledger_errors if "422" not in e] == []


def test_the_pages_fit_a_phone(site: Site, open_page: Any, screenshots: Path) -> None:
    page = open_page(site, "esg.office", lang="zh-CN", viewport=PHONE)
    for name, path in PAGES.items():
        page.goto(site.url + path)
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
        ), name
    page.goto(site.url + "/green-power")
    page.screenshot(path=str(screenshots / "explore-green-power.phone.zh-CN.png"), full_page=True)
    assert page.esgledger_errors == []
