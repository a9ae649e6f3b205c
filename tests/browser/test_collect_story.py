"""The ESG office's campaign pages in Chromium, in both languages (the data owner's and the
reviewer's pages are walked by the end-to-end story, ``test_end_to_end_story.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _site import PHONE, Site
from _story import serious_axe_violations

from esgledger.i18n import ui


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_campaign_pages_of_the_esg_office(
    site: Site, open_page: Any, screenshots: Path, lang: str
) -> None:
    page = open_page(site, "esg.office", lang)
    page.goto(site.url + "/campaigns")
    assert page.get_by_role("heading", level=1).inner_text() == ui("campaigns.title", lang)  # type: ignore[arg-type]
    assert serious_axe_violations(page) == []
    page.screenshot(path=str(screenshots / f"campaigns.{lang}.png"), full_page=True)
    page.get_by_role("link", name="FY2024 water (supplementary)").click()
    page.wait_for_url(site.url + "/campaigns/1")
    page.locator("#campaign-progress .chart-canvas svg").first.wait_for()  # ECharts drew it
    assert serious_axe_violations(page) == []
    page.screenshot(path=str(screenshots / f"campaign.{lang}.png"), full_page=True)
    page.goto(site.url + "/campaigns/new")
    assert serious_axe_violations(page) == []
    page.screenshot(path=str(screenshots / f"campaign-new.{lang}.png"), full_page=True)
    assert page.esgledger_errors == []
    phone = open_page(site, "esg.office", lang, viewport=PHONE)
    for url in ("/campaigns", "/campaigns/1", "/campaigns/new"):
        phone.goto(site.url + url)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
