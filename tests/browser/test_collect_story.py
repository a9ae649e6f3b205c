"""The data owner's and the reviewer's half of the end-to-end story, in Chromium, in both
languages (``_story.owner_and_reviewer_story``), and the ESG office's campaign pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _site import PHONE, Site
from _story import owner_and_reviewer_story, serious_axe_violations

from esgledger.i18n import ui


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_owner_uploads_fixes_and_submits_then_the_reviewer_accepts_and_approves(
    new_site: Callable[[], Site],
    open_page: Any,
    screenshots: Path,
    tmp_path: Path,
    lang: str,
) -> None:
    site = new_site()
    outcome = owner_and_reviewer_story(
        open_page, site, lang, folder=tmp_path / "files", screenshots=screenshots
    )
    for page in outcome["pages"]:
        # no script error, no CSP refusal (the 422 of the bad upload is the page's answer,
        # which Chromium logs as a failed load)
        errors = [e for e in page.esgledger_errors if "status of 422" not in e]
        assert errors == []
        # nothing forces a horizontal scroll at 1440 wide
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


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
