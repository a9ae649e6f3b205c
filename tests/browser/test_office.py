"""The office pages in Chromium: the auditor sees the chain verified on /audit; the
administrator opens /admin/users — in English and Chinese, with a screenshot of each page per
language. (Generating the report and downloading the Chinese PDF from /reports is part of the
end-to-end story, ``test_end_to_end_story.py``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _site import Site

WORDS = {
    "en": {"generate": "Generate report", "reports": "Reports", "intact": "Intact"},
    "zh-CN": {"generate": "生成报告", "reports": "报告", "intact": "完整"},
}


def test_the_auditor_sees_the_verified_chain_and_the_admin_the_users(
    site: Site, open_page: Any, screenshots: Path
) -> None:
    for lang in ("en", "zh-CN"):
        auditor = open_page(site, "auditor", lang=lang)
        auditor.goto(site.url + "/audit")
        verification = auditor.locator('#audit-verification[data-intact="true"]')
        assert WORDS[lang]["intact"] in verification.inner_text()
        assert auditor.locator("#audit-events tbody tr").count() >= 1
        auditor.select_option("#f-action", "session.sign_in")
        auditor.locator("#audit-filter-submit").click()
        auditor.wait_for_url("**/audit?*action=session.sign_in*")
        actions = auditor.locator("#audit-events tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.action)"
        )
        assert actions
        assert all(a == "session.sign_in" for a in actions)
        auditor.screenshot(path=str(screenshots / f"audit.{lang}.png"), full_page=True)
        assert auditor.esgledger_errors == []

        admin = open_page(site, "admin", lang=lang)
        admin.goto(site.url + "/admin/users")
        assert admin.locator("#users tbody tr").count() >= 6
        assert admin.locator("#role-matrix").is_visible()
        admin.screenshot(path=str(screenshots / f"admin-users.{lang}.png"), full_page=True)
        admin.locator("#user-auditor a").click()
        admin.wait_for_url("**/admin/users/auditor")
        admin.screenshot(path=str(screenshots / f"admin-user.{lang}.png"), full_page=True)
        assert admin.esgledger_errors == []


_AXE = Path(__file__).parent / "vendor" / "axe.min.js"
_OFFICE_PAGES = (
    ("admin", "/reports"),
    ("admin", "/reports/content-index"),
    ("admin", "/reports/content-index/B1.1"),
    ("auditor", "/audit"),
    ("admin", "/admin/users"),
    ("admin", "/admin/users/cloud.owner"),
)


def test_the_office_pages_pass_axe_and_fit_a_phone(
    site: Site, open_page: Any, screenshots: Path
) -> None:
    from _site import DESKTOP, PHONE

    script = _AXE.read_text(encoding="utf-8")
    problems: list[str] = []
    for lang in ("en", "zh-CN"):
        for viewport in (DESKTOP, PHONE):
            pages: dict[str, Any] = {}
            for username, path in _OFFICE_PAGES:
                if username not in pages:
                    pages[username] = open_page(site, username, lang=lang, viewport=viewport)
                page = pages[username]
                page.goto(site.url + path)
                wide = page.evaluate(
                    "document.documentElement.scrollWidth > document.documentElement.clientWidth"
                )
                if wide:
                    problems.append(f"{path} {lang} {viewport['width']}: scrolls sideways")
                if viewport is PHONE:
                    name = path.strip("/").replace("/", "-")
                    page.screenshot(path=str(screenshots / f"{name}.phone.{lang}.png"))
                    continue
                page.evaluate(
                    script + "\n;0"
                )  # through the devtools protocol: not an inline script
                found = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                    ".violations.filter(v => ['serious', 'critical'].includes(v.impact))"
                    ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target).join(' '))"
                )
                problems += [f"{path} {lang}: {v}" for v in found]
            for page in pages.values():
                assert page.esgledger_errors == [], page.esgledger_errors
    assert problems == []
