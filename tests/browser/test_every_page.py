"""Every page in Chromium, in English and Chinese: accessibility (axe-core), layout at desktop
and phone width, no script error or CSP refusal, bounded JavaScript, a screenshot of each.

The pages are those the in-process crawl found (``tests/_page_crawl.py``), so a page that
arrives later is checked as soon as a link leads to it. The server runs over the crawl's own
copy of the demo (the shared ``site`` has no finished jobs, so the job pages the crawl opens
would be 404 there); like ``site`` it is read-only and shared by the tests of this module.

One walk (the ``walk`` fixture) opens each page once per language, as a user who may see it
(the admin where the admin may, anonymous for the sign-in page, the user who met an error
page for that error page), in one browser context per user and language, and records what it
finds; each test below then judges one aspect, so a failure names what is wrong and where.

- axe-core (``vendor/axe.min.js``, injected with ``page.evaluate``: the page's CSP governs
  the page's own scripts, not what the test driver evaluates, so no ``bypass_csp`` is
  needed) must report no ``serious`` or ``critical`` violation;
- at 1440×900 and 390×844 the page must not scroll sideways and no two visible text boxes
  may overlap (``_layout.js``);
- no console error, no uncaught exception, no ``securitypolicyviolation`` event;
- the scripts a page loads weigh at most :data:`JS_LIMIT` bytes (decoded), and its CSP header
  has no ``unsafe-inline``;
- a full-page screenshot per page, language and viewport into ``screenshots``
  (``<route>.<lang>.<viewport>.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _site import DESKTOP, PHONE, Site, serving, sign_in

from _page_crawl import SiteCrawl, crawl_demo, crawl_site
from _web_support import DemoCopy

HERE = Path(__file__).parent
AXE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
LAYOUT = (HERE / "_layout.js").read_text(encoding="utf-8")
LANGS = ("en", "zh-CN")
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
#: The most JavaScript (decoded bytes) one page may load.
JS_LIMIT = 1_000_000

#: Listens for CSP refusals before any script of the page runs.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""

_SCRIPT_BYTES = """() => performance.getEntriesByType("resource")
  .filter((e) => e.initiatorType === "script" || e.name.split("?")[0].endsWith(".js"))
  .reduce((sum, e) => sum + (e.decodedBodySize || e.encodedBodySize || 0), 0)"""


@dataclass
class Visit:
    """One page opened in one language: what the checks found."""

    url: str
    route: str
    lang: str
    username: str | None
    status: int
    axe: list[dict[str, Any]] = field(default_factory=list)
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    script_bytes: int = 0
    csp: str = ""

    def __str__(self) -> str:
        return f"{self.url} [{self.lang}, {self.username or 'anonymous'}]"


def _targets(site: SiteCrawl) -> list[tuple[str, str, str | None, int]]:
    """(url, route, viewer, status) of every crawled page once, and one error page of each
    status a crawl met."""
    chosen: dict[str, tuple[str, str, str | None, int]] = {}
    for page in site.whole_pages():
        if page.status != 200:
            continue
        current = chosen.get(page.url)
        if current is None or (page.username == "admin" and current[2] != "admin"):
            chosen[page.url] = (page.url, page.route, page.username, 200)
    errors: dict[int, tuple[str, str, str | None, int]] = {}
    for page in site.whole_pages():
        if page.status != 200 and page.status not in errors:
            errors[page.status] = (page.url, page.route, page.username, page.status)
    return list(chosen.values()) + list(errors.values())


def _shot_name(route: str, status: int, seen: dict[str, int]) -> str:
    base = f"error-{status}" if status != 200 else (route.strip("/") or "home")
    base = re.sub(r"[{}]", "", base).replace("/", "-")
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


@pytest.fixture(scope="module")
def crawl_server(
    web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, SiteCrawl]]:
    crawled = crawl_site(web_demo)
    folder = tmp_path_factory.mktemp("every-page")
    # the server reads the crawl's demo: the same data the URLs came from (never written)
    with serving(crawl_demo(web_demo), folder) as running:
        yield running, crawled


@pytest.fixture(scope="module")
def walk(crawl_server: tuple[Site, SiteCrawl], browser: Any, screenshots: Path) -> list[Visit]:
    site, crawled = crawl_server
    targets = _targets(crawled)
    visits: list[Visit] = []
    for lang in LANGS:
        names: dict[str, int] = {}
        by_user: dict[str | None, list[tuple[str, str, int]]] = {}
        for url, route, username, status in targets:
            by_user.setdefault(username, []).append((url, route, status))
        for username, pages in by_user.items():
            context = browser.new_context(
                viewport=DESKTOP, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            try:
                context.set_default_timeout(15_000)
                context.add_init_script(_CSP_LISTENER)
                if username is not None:
                    sign_in(context, site, username)
                context.add_cookies([{"name": "esgledger_lang", "value": lang, "url": site.url}])
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                page.on(
                    "console",
                    lambda message, errors=errors: (
                        errors.append(message.text) if message.type == "error" else None
                    ),
                )
                for url, route, status in pages:
                    name = _shot_name(route, status, names)
                    visits.append(
                        _visit(
                            page,
                            errors,
                            site,
                            url,
                            route,
                            lang,
                            username,
                            status,
                            name,
                            screenshots,
                        )
                    )
            finally:
                context.close()
    return visits


def _visit(
    page: Any,
    errors: list[str],
    site: Site,
    url: str,
    route: str,
    lang: str,
    username: str | None,
    status: int,
    name: str,
    screenshots: Path,
) -> Visit:
    errors.clear()
    page.set_viewport_size(DESKTOP)
    answer = page.goto(site.url + url, wait_until="load")
    visit = Visit(url, route, lang, username, answer.status if answer else 0)
    visit.csp = (answer.headers if answer else {}).get("content-security-policy", "")
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(50)  # charts redraw on resize
        visit.layout[viewport] = page.evaluate(LAYOUT)
        page.screenshot(path=str(screenshots / f"{name}.{lang}.{viewport}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.evaluate(AXE)
    visit.axe = page.evaluate(_AXE_RUN)
    visit.script_bytes = page.evaluate(_SCRIPT_BYTES)
    visit.errors = list(errors) + [f"CSP: {v}" for v in page.evaluate("window.__cspViolations")]
    return visit


def test_the_walk_opened_every_crawled_page_in_both_languages(
    walk: list[Visit], crawl_server: tuple[Site, SiteCrawl]
) -> None:
    _site, crawled = crawl_server
    opened = {(v.url, v.lang) for v in walk}
    for url in crawled.urls():
        for lang in LANGS:
            assert (url, lang) in opened
    unanswered = [str(v) for v in walk if v.status == 0]
    assert not unanswered, unanswered


def test_no_page_has_a_serious_accessibility_violation(walk: list[Visit]) -> None:
    found = [
        f"{v}: {item['impact']} {item['id']} at {item['targets']}: {item['help']}"
        for v in walk
        for item in v.axe
    ]
    assert not found, "axe-core:\n" + "\n".join(found)


def test_no_page_scrolls_sideways_or_overlaps_text(walk: list[Visit]) -> None:
    found = []
    for v in walk:
        for viewport, layout in v.layout.items():
            if layout["scrollWidth"] > layout["clientWidth"]:
                found.append(
                    f"{v} at {viewport}: scrolls sideways "
                    f"({layout['scrollWidth']} > {layout['clientWidth']} px)"
                )
            found += [f"{v} at {viewport}: text overlaps: {o}" for o in layout["overlaps"]]
    assert not found, "\n".join(found)
    assert all(layout["boxes"] > 0 for v in walk for layout in v.layout.values())


def test_no_page_logs_an_error_or_a_csp_refusal(walk: list[Visit]) -> None:
    # the error pages answer 403/404, which Chromium logs as a failed resource load
    found = [
        f"{v}: {e}"
        for v in walk
        for e in v.errors
        if not (v.status != 200 and "Failed to load resource" in e)
    ]
    assert not found, "\n".join(found)


def test_pages_load_little_javascript_and_forbid_inline_script(walk: list[Visit]) -> None:
    heavy = [
        f"{v}: {v.script_bytes:,} bytes of JavaScript" for v in walk if v.script_bytes > JS_LIMIT
    ]
    assert not heavy, "\n".join(heavy)
    assert all(v.script_bytes > 0 for v in walk if v.status == 200)  # htmx and app.js at least
    unsafe = [str(v) for v in walk if not v.csp or "unsafe-inline" in v.csp]
    assert not unsafe, f"no CSP or one allowing inline script: {unsafe}"


def test_the_checks_see_a_broken_page(browser: Any) -> None:
    """The checkers themselves: a page with an image without text, a box wider than the
    screen and two paragraphs on top of each other is caught by each."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content(
            '<html lang="en"><body><h1>Broken</h1>'
            '<a href="/x"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></a>'
            '<div style="width: 900px">wide</div>'
            '<p style="position: absolute; top: 400px; left: 10px">first words</p>'
            '<p style="position: absolute; top: 404px; left: 20px">second words</p>'
            '<div class="table-wrap" style="overflow-x: auto; width: 100px">'
            '<p style="width: 400px">clipped part is ignored</p></div>'
            "</body></html>"
        )
        layout = page.evaluate(LAYOUT)
        assert layout["scrollWidth"] > layout["clientWidth"]
        assert [(o["a"], o["b"]) for o in layout["overlaps"]] == [("first words", "second words")]
        page.evaluate(AXE)
        assert "link-name" in {v["id"] for v in page.evaluate(_AXE_RUN)}
    finally:
        context.close()
