"""Fixtures of the browser tests (see ``_site.py``).

- ``web_demo`` (``tests/conftest.py``): the demo workspace, built once per session.
- ``site``: one ``esgledger serve`` over a copy of the demo, shared by the read-only tests of
  the session; ``new_site()``: a server over a fresh copy, for a test that changes data.
- ``browser``: Chromium (the operating system's) under Playwright, one per session;
  ``open_page(username, lang="en", viewport=DESKTOP)``: a signed-in page in a new context
  (its own cookies), closed after the test.
- ``screenshots``: the folder the run writes screenshots to (``ESGLEDGER_SCREENSHOTS`` or
  ``<tmp>/screenshots``); never committed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _site import (
    CHROMIUM_ARGS,
    DESKTOP,
    Site,
    chromium_path,
    serving,
    sign_in,
)

from _web_support import DemoCopy, copy_demo


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site(web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser-site")
    with serving(copy_demo(web_demo, folder / "demo"), folder) as running:
        yield running


@pytest.fixture
def new_site(web_demo: DemoCopy, tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """A function starting a server over a fresh copy of the demo (stopped after the test);
    ``prepare(workspace_path)``, if given, runs on the copy before the server starts."""
    stack: list[Any] = []

    def start(prepare: Callable[[Path], None] | None = None) -> Site:
        target = tmp_path / f"site{len(stack)}"
        target.mkdir()
        demo = copy_demo(web_demo, target / "demo")
        if prepare is not None:
            prepare(demo.path)
        manager = serving(demo, target)
        stack.append(manager)
        return manager.__enter__()

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Chromium: run tools/install-system-packages.sh")
        pytest.skip("no Chromium on PATH (tools/install-system-packages.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def open_(
        site: Site,
        username: str | None,
        lang: str = "en",
        viewport: dict[str, int] = DESKTOP,
    ) -> Any:
        context = browser.new_context(
            viewport=viewport,
            locale=lang,
            extra_http_headers={"Accept-Language": lang},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        if username is not None:
            sign_in(context, site, username)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.esgledger_errors = errors  # checked by the tests that care
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ESGLEDGER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
