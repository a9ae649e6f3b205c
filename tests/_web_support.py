"""The demo workspace for the page tests, in process (``TestClient``) and in the browser.

``web_demo`` (a session fixture of ``tests/conftest.py``) builds ``esgledger demo`` once per
session through the Python API, keeping the passwords it prints; a test that changes data
works on ``copy_demo(web_demo, tmp_path / "demo")``. ``page_client`` opens a signed-in
in-process client over a workspace (the real sign-in form, never an auth override).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

__all__ = ["DemoCopy", "build_demo_copy", "copy_demo", "csrf_of", "page_client"]


@dataclass
class DemoCopy:
    """A built demo workspace and the passwords of its accounts (username → password)."""

    path: Path
    passwords: dict[str, str]


def build_demo_copy(folder: Path) -> DemoCopy:
    """``esgledger demo`` into ``folder`` (the Python API, to keep the printed passwords)."""
    from esgledger.demo.run import build_demo

    summary = build_demo(folder, progress=False)
    return DemoCopy(folder, {a.username: a.password for a in summary.accounts})


def copy_demo(demo: DemoCopy, target: Path) -> DemoCopy:
    """A private copy of a built demo (each test that changes data gets its own)."""
    shutil.copytree(demo.path, target)
    return DemoCopy(target, dict(demo.passwords))


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page rendered into its forms."""
    found = _CSRF.search(html)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return found.group(1)


@contextmanager
def page_client(
    demo: DemoCopy, username: str | None, lang: str = "en", **settings: Any
) -> Iterator[TestClient]:
    """An in-process client of ``create_app`` over ``demo``, signed in as ``username`` through
    the sign-in form (``None``: anonymous), asking for pages in ``lang``. ``settings`` go to
    ``ServerSettings``. ``client.csrf`` is the session's CSRF token (for form posts)."""
    from esgledger.server.app import create_app
    from esgledger.server.settings import ServerSettings

    app = create_app(demo.path, ServerSettings(**settings))
    with TestClient(
        app,
        base_url="https://testserver",
        follow_redirects=False,
        headers={"Accept-Language": lang},
    ) as client:
        client.csrf = ""  # type: ignore[attr-defined]
        if username is not None:
            answer = client.post(
                "/sign-in",
                data={"username": username, "password": demo.passwords[username], "next": "/"},
            )
            if answer.status_code != 303:
                raise AssertionError(f"sign-in of {username} failed: {answer.status_code}")
            client.cookies.set("esgledger_lang", lang)
            client.csrf = csrf_of(client.get("/").text)  # type: ignore[attr-defined]
        yield client
