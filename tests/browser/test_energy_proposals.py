"""The proposals of a site in Chromium: the options form of the site page swaps the ranked
block in with htmx (no navigation), the page with the block has no serious accessibility
violation, no sideways scroll and no overlapping text at desktop and phone width, the adopt
button of a row posts its form (CSRF token included) and lands on the proposals with the
notice, in English and Chinese, with no script error or CSP refusal.

Workspace: ``tests/_energy_proposals.py`` (small and quick: the demo's year of telemetry is
not needed for what is checked here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _site import DESKTOP, PHONE, Site, serving

from _energy_proposals import build

HERE = Path(__file__).parent
AXE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
LAYOUT = (HERE / "_layout.js").read_text(encoding="utf-8")

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""
_AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ` +
                v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(", "));
}"""
#: The notice after an adoption, by language and outcome (web_energy.csv).
NOTICE = {
    ("en", "added"): "added to the measures of the transition plan",
    ("zh-CN", "unchanged"): "已以相同数据列入转型计划的减排措施",
}


@pytest.fixture(scope="module")
def proposals_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("proposals-browser")
    with serving(build(folder / "ws"), folder) as running:
        yield running


def _checked(page: Any) -> list[str]:
    """What is wrong with the page as shown: axe, layout at both widths, errors, CSP."""
    found: list[str] = []
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        layout = page.evaluate(LAYOUT)
        if layout["scrollWidth"] > layout["clientWidth"]:
            found.append(f"{name}: scrolls sideways")
        found += [f"{name}: text overlaps: {o}" for o in layout["overlaps"]]
    page.set_viewport_size(DESKTOP)
    page.evaluate(AXE)
    found += page.evaluate(_AXE_RUN)
    found += [f"CSP: {v}" for v in page.evaluate("window.__cspViolations")]
    found += page.esgledger_errors
    return found


@pytest.mark.parametrize(("lang", "outcome"), [("en", "added"), ("zh-CN", "unchanged")])
def test_rank_in_place_then_adopt(
    proposals_site: Site, open_page: Any, lang: str, outcome: str
) -> None:
    page = open_page(proposals_site, "office", lang)
    page.add_init_script(_CSP_LISTENER)
    site_url = proposals_site.url + "/energy/sites/DC1?period=2024-03"
    page.goto(site_url, wait_until="load")
    page.fill("#f-price", "0.8")
    page.click("#proposals-form button[type=submit]")
    page.wait_for_selector("#proposals-table")
    assert page.url == site_url  # swapped in by htmx: the site page stays
    assert page.locator("#energy-proposals").count() == 1
    assert not _checked(page), _checked(page)

    row = page.locator('tr[data-proposal="energy.DC1.ups_eco"]')
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#proposal-adopted")
    assert "/energy/sites/DC1/proposals?" in page.url
    assert NOTICE[lang, outcome] in page.locator("#proposal-adopted").inner_text()
    assert not _checked(page), _checked(page)
