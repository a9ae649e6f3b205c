"""A real esgledger site for the browser tests: the demo workspace (built once per session,
copied for each site), ``esgledger serve`` in its own process on 127.0.0.1 and a free port,
and Chromium from the operating system's packages driven by Playwright.

No browser is ever downloaded: ``chromium`` must be on ``PATH`` (``tools/install-system-
packages.sh`` installs Debian's ``chromium`` only when missing; ``.ci/run`` runs it). Without
it the browser tests skip, saying so — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _web_support import DemoCopy

#: Chromium's flags here: headless, no sandbox (containers run as root), and none of its
#: background connections (the machine's network is closed to them).
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
)

#: Bounds, not measurements: how long a server may take to answer its first request.
SERVER_START_LIMIT_S = 60.0

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    """The operating system's Chromium, or ``None``."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Site:
    """A running ``esgledger serve`` over ``workspace``."""

    url: str
    workspace: Path
    passwords: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    extras: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def serving(demo: DemoCopy, log_dir: Path, **settings: str) -> Iterator[Site]:
    """``esgledger serve`` over ``demo`` on 127.0.0.1 and a free port, until the block ends.
    ``settings`` become ``ESGLEDGER_SERVER_<NAME>`` variables."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if k != "ESGLEDGER_DEBUG"}
    env["ESGLEDGER_SERVER_COOKIE_SECURE"] = "false"  # plain http on 127.0.0.1
    env.setdefault("ESGLEDGER_SERVER_WORKERS", "1")
    for name, value in settings.items():
        env[f"ESGLEDGER_SERVER_{name.upper()}"] = value
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "esgledger",
                "serve",
                str(demo.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    site = Site(f"http://127.0.0.1:{port}", demo.path, demo.passwords, process, log)
    try:
        _wait_until_up(site)
        yield site
    finally:
        site.stop()


def _wait_until_up(site: Site) -> None:
    deadline = time.monotonic() + SERVER_START_LIMIT_S
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            raise RuntimeError(f"esgledger serve exited: {site.log.read_text(errors='replace')}")
        try:
            if httpx.get(site.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"esgledger serve did not answer within {SERVER_START_LIMIT_S} s")


def sign_in(context: Any, site: Site, username: str) -> None:
    """Sign ``context`` (a Playwright ``BrowserContext``) in as ``username`` through the API
    (the cookie lands in the context's jar; the sign-in form has a test of its own)."""
    answer = context.request.post(
        site.url + "/api/v1/session",
        data={"username": username, "password": site.passwords[username]},
    )
    if answer.status != 200:
        raise RuntimeError(f"sign-in of {username} failed: {answer.status} {answer.text()}")
