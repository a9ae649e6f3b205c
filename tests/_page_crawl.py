"""Page discovery: every page of the site, found by following its links as each demo user.

The quality tests of the pages (zh-CN completeness, context contracts, roles, escaping, the
browser checks) never list pages by hand: they ask this module, which signs in as each demo
account (and once anonymously) and crawls breadth-first from ``/`` over same-origin GET links
(``<a href>`` and ``<form method="get" action>``), in process (``page_client``). A page that
arrives later is checked as soon as a link leads to it.

- Skipped: ``/static/``, ``/api/``, ``/sign-out``, ``/language/``. Redirects (303 to another
  page) are followed.
- A link answering something else than ``text/html`` from ``render()`` (:func:`is_page`) is
  a download — a CSV, a PDF, a generated report's own HTML file: its route counts as reached
  (``SiteCrawl.downloads``), it is no page.
- An ``hx-get`` URL is fetched as htmx does (``HX-Request: true``): a fragment
  (``CrawledPage.fragment``); its route counts as reached and its HTML is checked like a
  page's where that makes sense (language, context contract, escaping), not in the browser.
- Each URL is normalised to its route template (matched against
  ``esgledger.server.deps.page_routes(app)``); at most :data:`PER_ROUTE` URLs per template
  that answer 200 (and three times as many tries) and :data:`MAX_PAGES` per crawl are kept,
  so a list of 500 tasks costs two requests.
- :func:`unreached_routes` is the GET page routes no crawl reached, minus
  :data:`NOT_PAGES`, the explicit allow-list of routes that are not pages.

Usage::

    from _page_crawl import crawl_site

    site = crawl_site(web_demo)   # once per session, over a copy with example jobs/evidence
    for page in site.pages: ...   # CrawledPage(username, url, route, status, fragment)
    site.html[page], site.contexts[page]   # what the crawl got (in English)
    site.demo                     # the copy crawled: open pages there, never write to it
"""

from __future__ import annotations

import functools
import re
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from _web_support import DemoCopy, page_client

__all__ = [
    "MAX_PAGES",
    "NOT_PAGES",
    "PER_ROUTE",
    "PUBLIC_PAGES",
    "SEEDED_ROUTES",
    "CrawledPage",
    "SiteCrawl",
    "add_example_evidence",
    "add_example_jobs",
    "crawl",
    "crawl_demo",
    "crawl_site",
    "demo_users",
    "get_page_routes",
    "is_page",
    "links_of",
    "route_of",
    "unreached_routes",
]

#: URLs kept per route template (``/tasks/{task_id}``: the first two tasks linked).
PER_ROUTE = 2
#: Pages per crawl at most (one user), whatever the site grows into.
MAX_PAGES = 120

#: Path prefixes never followed: files, the JSON API, state-changing or cookie-setting links.
SKIP_PREFIXES = ("/static/", "/api/", "/sign-out", "/language/")

#: GET page routes no crawl has to reach, each with why. Downloads and htmx fragments need no
#: entry when a page links to them (``href`` / ``hx-get``): the crawl reaches them. Keep it
#: short: a page that users open belongs in the crawl (link to it from somewhere).
NOT_PAGES: frozenset[str] = frozenset(
    {
        # The language switch: sets a cookie and redirects back (never a page of its own).
        "/language/{lang}",
    }
)

#: Page routes anyone may open without signing in (declare no action through PageAllowed).
PUBLIC_PAGES: frozenset[str] = frozenset({"/sign-in", "/language/{lang}"})

#: Pages reached only by submitting a form (a POST that redirects, 303, to them), so no link
#: leads to them; the crawl opens them from example URLs (:func:`_seed_urls`).
#:
#: - ``/jobs/{job_id}``: a job's page is where a form that starts a job (report, import)
#:   redirects. The crawl's demo has three finished jobs (:func:`add_example_jobs`); every
#:   GET page route with a ``{job_id}`` parameter (this one, and any area's job view) is opened
#:   with their ids by every signed-in user.
SEEDED_ROUTES: frozenset[str] = frozenset({"/jobs/{job_id}"})


@dataclass(frozen=True, slots=True)
class CrawledPage:
    """One page the crawl opened: who (``None`` = anonymous), its URL (path and query), its
    route template and the status it answered with (200, or 403/404 for a page the user may
    not see but that a link led to)."""

    username: str | None
    url: str
    route: str
    status: int
    fragment: bool = False

    def get(self, client: Any) -> Any:
        """Open this page again over ``client`` (as htmx does for a fragment)."""
        return client.get(self.url, headers={"HX-Request": "true"} if self.fragment else None)


@dataclass
class SiteCrawl:
    """Every user's crawl of one demo: the pages, the route templates seen, the page routes
    of the app (GET only) and the users' roles and scopes."""

    demo: DemoCopy
    pages: list[CrawledPage]
    page_routes: frozenset[str]
    users: dict[str, tuple[str, str | None]]
    problems: list[str] = field(default_factory=list)
    downloads: set[str] = field(default_factory=set)
    #: The HTML each page answered in the crawl (in English), by page.
    html: dict[CrawledPage, str] = field(default_factory=dict)
    #: The ``(template, context)`` pairs ``render()`` recorded for each page of the crawl.
    contexts: dict[CrawledPage, list[tuple[str, Any]]] = field(default_factory=dict)

    def routes_reached(self) -> set[str]:
        """Routes of pages and fragments that answered 200, and of downloads."""
        return {page.route for page in self.pages if page.status == 200} | self.downloads

    def whole_pages(self) -> list[CrawledPage]:
        """The crawled pages without the htmx fragments."""
        return [page for page in self.pages if not page.fragment]

    def urls(self, *, ok_only: bool = True) -> list[str]:
        """Distinct URLs of every crawl's whole pages, in crawl order."""
        seen: dict[str, None] = {}
        for page in self.whole_pages():
            if not ok_only or page.status == 200:
                seen.setdefault(page.url, None)
        return list(seen)

    def pages_of(self, username: str | None) -> list[CrawledPage]:
        """The whole pages ``username``'s crawl opened with a 200."""
        return [p for p in self.whole_pages() if p.username == username and p.status == 200]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append((values["href"] or "", False))
        elif tag == "form" and (values.get("method") or "get").lower() == "get":
            action = values.get("action")
            if action:
                self.links.append((action, False))
        if values.get("hx-get"):
            self.links.append((values["hx-get"] or "", True))


def links_of(html: str) -> list[tuple[str, bool]]:
    """``(url, is_fragment)`` of every link of ``html`` (``hx-get``: a fragment)."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def _route_patterns(app: Any) -> list[tuple[re.Pattern[str], str]]:
    from starlette.routing import compile_path

    from esgledger.server.deps import page_routes

    patterns = []
    for context in page_routes(app):
        if "GET" not in (context.methods or set()):
            continue
        regex, _format, _convertors = compile_path(context.path)
        patterns.append((regex, context.path))
    return patterns


def get_page_routes(app: Any) -> frozenset[str]:
    """The route templates of every GET page route of ``app``."""
    return frozenset(template for _regex, template in _route_patterns(app))


def route_of(path: str, patterns: Iterable[tuple[re.Pattern[str], str]]) -> str | None:
    """The page route template ``path`` matches, or ``None`` (not a page)."""
    for regex, template in patterns:
        if regex.match(path):
            return template
    return None


def is_page(answer: Any) -> bool:
    """Whether ``answer`` is a page (or fragment) the site rendered: ``text/html`` from
    ``render()``, which always says ``Vary: HX-Request``. Anything else — a CSV, a PDF, a
    generated report's own HTML file served for download — is a download."""
    return answer.headers.get("content-type", "").startswith("text/html") and (
        "hx-request" in answer.headers.get("vary", "").lower()
    )


def _local(url: str, base: str) -> str | None:
    """``url`` (seen on page ``base``) as a same-origin path and query, or ``None``."""
    if url.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    joined = urljoin("https://testserver" + base, url)
    parts = urlsplit(joined)
    if parts.scheme != "https" or parts.netloc != "testserver":
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path == "/sign-out":
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(
    client: Any,
    username: str | None,
    *,
    start: Iterable[str] = ("/",),
    per_route: int = PER_ROUTE,
    limit: int = MAX_PAGES,
    problems: list[str] | None = None,
    downloads: set[str] | None = None,
) -> Iterator[tuple[CrawledPage, Any]]:
    """Breadth-first over ``client`` (a ``page_client``) from ``start``: yields each page
    (and htmx fragment) opened with its response. Redirects are followed (the redirect
    itself is not a page); the routes of downloads go to ``downloads``."""
    patterns = _route_patterns(client.app)
    queue: deque[tuple[str, bool]] = deque((url, False) for url in start)
    seen: set[tuple[str, bool]] = set(queue)
    per: dict[str, int] = {}  # URLs per route that answered 200
    tried: dict[str, int] = {}  # URLs per route requested (an error page does not fill a
    # route's quota, so a job view the first jobs are not for still gets its example)

    def full(route: str) -> bool:
        return per.get(route, 0) >= per_route or tried.get(route, 0) >= 3 * per_route

    opened = 0
    while queue and opened < limit:
        url, fragment = queue.popleft()
        path = urlsplit(url).path
        route = route_of(path, patterns)
        if route is None:
            if problems is not None:
                problems.append(f"{username}: a link to {url}, which is no page route")
            continue
        if full(route):
            continue
        answer = client.get(url, headers={"HX-Request": "true"} if fragment else None)
        hops = 0
        while answer.status_code in (301, 302, 303, 307, 308) and hops < 5:
            target = _local(answer.headers.get("location", ""), url)
            if target is None or (target, fragment) in seen:
                answer = None
                break
            seen.add((target, fragment))
            url, hops = target, hops + 1
            route = route_of(urlsplit(url).path, patterns)
            if route is None or full(route):
                answer = None
                break
            answer = client.get(url)
        if answer is None:
            continue
        assert route is not None
        tried[route] = tried.get(route, 0) + 1
        if answer.status_code == 200:
            per[route] = per.get(route, 0) + 1
        if not is_page(answer):
            if downloads is not None and answer.status_code == 200:
                downloads.add(route)  # a download, not a page
            continue
        opened += 1
        yield CrawledPage(username, url, route, answer.status_code, fragment), answer
        if answer.status_code != 200:
            continue
        for link, is_fragment in links_of(answer.text):
            target = _local(link, url)
            if target is not None and (target, is_fragment) not in seen:
                seen.add((target, is_fragment))
                queue.append((target, is_fragment))


def demo_users(demo: DemoCopy) -> dict[str, tuple[str, str | None]]:
    """username → (role, scope entity) of the demo's accounts."""
    from esgledger.access import Principal, users
    from esgledger.store.workspace import Workspace

    with Workspace.open(demo.path) as workspace:
        found = users.list_users(workspace, Principal.local())
    return {
        row["username"]: (row["role"], row.get("scope"))
        for row in found
        if row["username"] in demo.passwords
    }


def add_example_jobs(demo: DemoCopy) -> None:
    """Three finished jobs in ``demo`` (a copy: this writes), submitted by the admin through
    the service and ended by a stand-in worker: a calculation that succeeded, one that failed
    with a row issue, and a report that failed — the states a job page shows once nothing
    moves any more (a succeeded report would need its files)."""
    from datetime import UTC, datetime

    from esgledger.access import Principal
    from esgledger.jobs import service as jobs
    from esgledger.store.repository_jobs import claim_next, finish_job
    from esgledger.store.workspace import Workspace

    admin = Principal("admin", "admin")
    with Workspace.open(demo.path) as workspace:
        made = [jobs.submit(workspace, admin, kind, {}) for kind in ("calculate",) * 2]
        made.append(jobs.submit(workspace, admin, "report", {}))
        now = datetime.now(UTC)
        with workspace.write_lock() as session:
            for job, status in zip(made, ("succeeded", "failed", "failed"), strict=True):
                claimed = claim_next(session, "quality-crawl", now)
                assert claimed is not None
                assert claimed.id == job["id"]
                issues = [
                    {
                        "file": "",
                        "row": None,
                        "column": "year",
                        "value": "1999",
                        "problem": "out of range",
                        "fix": "use the reporting year",
                    }
                ]
                finish_job(
                    session,
                    job["id"],
                    "quality-crawl",
                    status=status,
                    now=now,
                    error=None if status == "succeeded" else "stopped by the crawl's stand-in",
                    issues=None if status == "succeeded" else issues,
                )


def add_example_evidence(demo: DemoCopy) -> None:
    """A small PDF as the evidence of the first task that takes one (``demo`` is a copy: this
    writes): task pages then list evidence, and its download is linked."""
    from esgledger.access import Principal
    from esgledger.collection import service as collection
    from esgledger.errors import EsgledgerError
    from esgledger.store.workspace import Workspace

    admin = Principal("admin", "admin")
    with Workspace.open(demo.path) as workspace:
        for task_id in range(1, 10):
            try:
                collection.attach_evidence(
                    workspace, admin, task_id, "meter-readings.pdf", b"%PDF-1.4\n%%EOF\n"
                )
            except EsgledgerError:
                continue
            return


def _seed_urls(demo: DemoCopy, routes: Iterable[str]) -> list[str]:
    """Example URLs of :data:`SEEDED_ROUTES` (see there): each GET page route of ``routes``
    with a ``{job_id}`` parameter and no other, with the id of each job of ``demo``."""
    from esgledger.access import Principal
    from esgledger.jobs import service as jobs
    from esgledger.store.workspace import Workspace

    with Workspace.open(demo.path) as workspace:
        listed = jobs.list_jobs(workspace, Principal.local())
    ids = sorted(job["id"] for job in listed)
    templates = sorted(r for r in routes if re.findall(r"\{[^}]+\}", r) == ["{job_id}"])
    return [t.replace("{job_id}", str(i)) for t in templates for i in ids]


def crawl_demo(demo: DemoCopy) -> DemoCopy:
    """The demo the crawl runs over: a copy of ``demo`` next to it (made once per session)
    with :func:`add_example_jobs` and :func:`add_example_evidence`. Read-only for the tests
    that use it."""
    from _web_support import copy_demo

    target = demo.path.parent / "crawl-demo"
    if (target / ".crawl-ready").exists():
        return DemoCopy(target, dict(demo.passwords))
    if target.exists():
        shutil.rmtree(target)
    copied = copy_demo(demo, target)
    add_example_jobs(copied)
    add_example_evidence(copied)
    (target / ".crawl-ready").write_text("ok\n")
    return copied


@functools.cache
def _crawl_cached(path: str, passwords: tuple[tuple[str, str], ...]) -> SiteCrawl:
    demo = DemoCopy(Path(path), dict(passwords))
    accounts = demo_users(demo)
    problems: list[str] = []
    site = SiteCrawl(demo, [], frozenset(), accounts, problems)
    for username in (None, *accounts):
        with page_client(demo, username) as client:
            site.page_routes = get_page_routes(client.app)
            seeds = _seed_urls(demo, site.page_routes)
            start = ["/", *seeds] if username is not None else ["/"]
            recorded: list[tuple[str, Any]] = []
            client.app.state.page_contexts = recorded  # render() appends to it
            found = crawl(
                client, username, start=start, problems=problems, downloads=site.downloads
            )
            for page, answer in found:
                site.pages.append(page)
                site.html[page] = answer.text
                site.contexts[page] = list(recorded)
                recorded.clear()
    return site


def crawl_site(demo: DemoCopy) -> SiteCrawl:
    """Every demo user's crawl (and the anonymous one) over :func:`crawl_demo` of ``demo``,
    cached per session. ``SiteCrawl.demo`` is the copy crawled: open the pages there."""
    crawled = crawl_demo(demo)
    return _crawl_cached(str(crawled.path), tuple(sorted(crawled.passwords.items())))


def unreached_routes(site: SiteCrawl) -> set[str]:
    """GET page routes no user's crawl opened with a 200, outside :data:`NOT_PAGES`."""
    return set(site.page_routes) - site.routes_reached() - NOT_PAGES
