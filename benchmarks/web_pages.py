"""Speed of the web pages: the dashboard's first paint in Chromium and every page's server
time, each against a baseline measured in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/web_pages.py                 # 30 requests per page
    .venv/bin/python benchmarks/web_pages.py --requests 100 --json pages.json

What it does
------------
1. Builds the demo group's workspace once (``esgledger demo -w benchmarks/.data/pages-demo``,
   which git ignores; ``--rebuild`` to redo it), copies it to a temporary folder (``esgledger
   upgrade`` brings the copy to the code's migration) and adds an ``admin`` account of the
   whole group, ``bench``, who may open every page.
2. Starts ``esgledger serve`` (one process) on 127.0.0.1 and a free port, signs in through the
   sign-in form (httpx) and finds the pages by following links from ``/`` breadth-first
   (same-origin ``<a href>`` answering ``text/html`` from ``render()``, which says
   ``Vary: HX-Request`` — a generated report's HTML file is a download; not ``/static/``, ``/api/``,
   ``/sign-out``, ``/language/``; at most two URLs per route of the app — the URLs are
   matched against the page routes of ``create_app`` over the same workspace — and
   ``--max-pages`` in all).
3. Server time: each page ``--requests`` times in turn (one request at a time, the first of
   each page not counted), and as the baseline a static file (``/static/app.css``: no session,
   no database) the same number of times, interleaved. It reports p50 and p95 [ms] and the p95
   relative to the baseline's.
4. In Chromium (the operating system's, as the browser tests use; skipped with a message when
   missing): the first contentful paint (``performance.getEntriesByType('paint')``) of the
   dashboard ``/`` signed in, and of the sign-in page as the baseline (the same CSS and
   scripts, no database read), ``--paints`` times each in a fresh browser context (cold
   cache), median reported; and the JavaScript each page loads (decoded bytes of its script
   resources).

It prints Markdown tables and checks the targets of issue 13: the dashboard's first
contentful paint under 1 s, every page's p95 under 200 ms, at most 1 MB of JavaScript per page
(exit status 1 when one is missed; ``--no-target`` to only measure). Results are recorded in
``docs/performance.md`` ("Pages"); timings never belong in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from _serve import CHROMIUM_ARGS, cached_demo, chromium, copy_workspace, esgledger, serve

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE / ".data" / "pages-demo"
USER = "bench"
PASSWORD = "bench-password-not-secret-1"
BASELINE = "/static/app.css"
SKIP = ("/static/", "/api/", "/sign-out", "/language/")
TARGET_FCP_MS = 1000.0
TARGET_P95_MS = 200.0
TARGET_JS_BYTES = 1_000_000


def prepare(source: Path, rebuild: bool, work: Path) -> Path:
    """A copy of the demo workspace with the bench account (an admin of the group)."""
    root = copy_workspace(cached_demo(source, WORKSPACE, rebuild), work)
    esgledger("users", "add", str(root), USER, "--role", "admin", "--password-stdin",
              stdin=PASSWORD + "\n")  # fmt: skip
    return root


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def signed_in_client(base: str) -> Any:
    """An httpx client signed in as the bench account through the sign-in form."""
    import httpx

    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    answer = client.post("/sign-in", data={"username": USER, "password": PASSWORD, "next": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return client


def route_patterns(root: Path) -> list[tuple[re.Pattern[str], str]]:
    """The GET page routes of the app over ``root`` (this checkout's sources), as
    ``(regex, template)``: the server's own table of pages, to group URLs by route."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from starlette.routing import compile_path

    from esgledger.server.app import create_app
    from esgledger.server.deps import page_routes

    app = create_app(root)
    return [
        (compile_path(route.path)[0], route.path)
        for route in page_routes(app)
        if "GET" in (route.methods or set())
    ]


def discover(client: Any, max_pages: int, patterns: list[tuple[re.Pattern[str], str]]) -> list[str]:
    """Pages reachable from ``/`` (module docstring, step 2)."""
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    shapes: dict[str, int] = {}
    pages: list[str] = []
    while queue and len(pages) < max_pages:
        url = queue.popleft()
        path = urlsplit(url).path
        shape = next((t for regex, t in patterns if regex.match(path)), path)
        if shapes.get(shape, 0) >= 2:
            continue
        answer = client.get(url)
        page = answer.headers.get("content-type", "").startswith("text/html") and (
            "hx-request" in answer.headers.get("vary", "").lower()
        )
        if answer.status_code != 200 or not page:
            continue  # an error, or a download (a page comes from render(): Vary: HX-Request)
        shapes[shape] = shapes.get(shape, 0) + 1
        pages.append(url)
        parser = _Links()
        parser.feed(answer.text)
        for link in parser.links:
            parts = urlsplit(urljoin(str(client.base_url) + url, link))
            if parts.netloc != urlsplit(str(client.base_url)).netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target.startswith(SKIP) or target in seen:
                continue
            seen.add(target)
            queue.append(target)
    return pages


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def server_times(client: Any, pages: list[str], requests: int) -> dict[str, dict[str, float]]:
    """Each page and the baseline ``requests`` times, interleaved (module docstring, step 3)."""
    import httpx

    static = httpx.Client(base_url=str(client.base_url), timeout=30)
    times: dict[str, list[float]] = {url: [] for url in [BASELINE, *pages]}
    for url in times:  # the first request of each is not counted
        (static if url == BASELINE else client).get(url)
    for _ in range(requests):
        for url in times:
            start = time.perf_counter()
            answer = (static if url == BASELINE else client).get(url)
            elapsed = (time.perf_counter() - start) * 1000
            if answer.status_code != 200:
                raise SystemExit(f"{url} answered {answer.status_code}")
            times[url].append(elapsed)
    static.close()
    return {
        url: {"p50": statistics.median(values), "p95": percentile(values, 0.95)}
        for url, values in times.items()
    }


def browser_figures(base: str, pages: list[str], paints: int) -> dict[str, Any] | None:
    """First contentful paints and JavaScript per page in Chromium (step 4); None without
    Chromium."""
    executable = chromium()
    if executable is None:
        print("no Chromium on PATH: first paints and JavaScript not measured", file=sys.stderr)
        return None
    from playwright.sync_api import sync_playwright

    fcp_js = "() => (performance.getEntriesByType('paint')"
    fcp_js += ".find((e) => e.name === 'first-contentful-paint') || {}).startTime || null"
    scripts_js = """() => performance.getEntriesByType("resource")
      .filter((e) => e.initiatorType === "script" || e.name.split("?")[0].endsWith(".js"))
      .reduce((sum, e) => sum + (e.decodedBodySize || 0), 0)"""
    result: dict[str, Any] = {"fcp": {}, "js": {}}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for label, url, signed in (("baseline /sign-in", "/sign-in", False), ("/", "/", True)):
                values = []
                for _ in range(paints):
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    if signed:
                        context.request.post(
                            base + "/api/v1/session", data={"username": USER, "password": PASSWORD}
                        )
                    page = context.new_page()
                    page.goto(base + url, wait_until="load")
                    page.wait_for_timeout(100)
                    value = page.evaluate(fcp_js)
                    if value is not None:
                        values.append(float(value))
                    context.close()
                result["fcp"][label] = statistics.median(values) if values else None
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.request.post(
                base + "/api/v1/session", data={"username": USER, "password": PASSWORD}
            )
            page = context.new_page()
            for url in pages:
                page.goto(base + url, wait_until="load")
                result["js"][url] = int(page.evaluate(scripts_js))
            context.close()
        finally:
            browser.close()
    return result


def report(times: dict[str, dict[str, float]], browser: dict[str, Any] | None) -> str:
    base95 = times[BASELINE]["p95"]
    lines = [
        "| page | p50 ms | p95 ms | p95 × baseline | JavaScript KB |",
        "|---|---:|---:|---:|---:|",
    ]
    for url, figures in times.items():
        name = f"`{url}` (baseline)" if url == BASELINE else f"`{url}`"
        js = (
            ""
            if browser is None or url not in browser["js"]
            else f"{browser['js'][url] / 1000:,.0f}"
        )
        lines.append(
            f"| {name} | {figures['p50']:.1f} | {figures['p95']:.1f} | "
            f"{figures['p95'] / base95:.2f} | {js} |"
        )
    if browser is not None:
        lines += ["", "| first contentful paint | median ms | × baseline |", "|---|---:|---:|"]
        baseline = browser["fcp"].get("baseline /sign-in")
        for label, value in browser["fcp"].items():
            ratio = f"{value / baseline:.2f}" if value and baseline else ""
            shown = f"{value:.0f}" if value is not None else "none"
            lines.append(f"| `{label}` | {shown} | {ratio} |")
    return "\n".join(lines)


def missed(times: dict[str, dict[str, float]], browser: dict[str, Any] | None) -> list[str]:
    found = [
        f"{url}: p95 {f['p95']:.0f} ms ≥ {TARGET_P95_MS:.0f} ms"
        for url, f in times.items()
        if f["p95"] >= TARGET_P95_MS
    ]
    if browser is not None:
        fcp = browser["fcp"].get("/")
        if fcp is None or fcp >= TARGET_FCP_MS:
            found.append(f"dashboard first contentful paint {fcp} ms ≥ {TARGET_FCP_MS:.0f} ms")
        found += [
            f"{url}: {size:,} bytes of JavaScript"
            for url, size in browser["js"].items()
            if size > TARGET_JS_BYTES
        ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=WORKSPACE)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the demo workspace")
    parser.add_argument("--requests", type=int, default=30, help="requests per page")
    parser.add_argument("--paints", type=int, default=5, help="page loads per paint figure")
    parser.add_argument("--max-pages", type=int, default=60)
    parser.add_argument("--no-target", action="store_true", help="measure only")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="esgledger-bench-pages-") as work:
        root = prepare(args.workspace.resolve(), args.rebuild, Path(work))
        with serve(root, Path(work) / "server.log") as base:
            client = signed_in_client(base)
            pages = discover(client, args.max_pages, route_patterns(root))
            load1, load5, _ = os.getloadavg()
            print(
                f"{platform.node()}: {os.cpu_count()} CPUs, load average {load1:.1f} / "
                f"{load5:.1f} (1 / 5 min), Python {platform.python_version()}; "
                f"{len(pages)} pages, {args.requests} requests each",
                flush=True,
            )
            times = server_times(client, pages, args.requests)
            browser = browser_figures(base, pages, args.paints)
            client.close()
    print(report(times, browser), flush=True)
    if args.json:
        results = {"server": times, "browser": browser, "pages": pages}
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    problems = [] if args.no_target else missed(times, browser)
    for line in problems:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
