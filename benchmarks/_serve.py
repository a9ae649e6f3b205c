"""What the scripts that run a real ``esgledger serve`` share: esgledger in a child process
with this checkout's sources, a demo workspace built once and copied, the server on a free
port of 127.0.0.1 (ready when ``/readyz`` answers), and the operating system's Chromium.

Used by ``benchmarks/web_pages.py`` and ``benchmarks/bench_server.py`` (run as scripts, so this
folder is first on ``sys.path`` and ``import _serve`` finds it) and by
``tools/readme_screenshots.py``, which puts this folder on ``sys.path`` itself: the module lives
with the benchmarks because two of its three users are here, and it is not part of the
installed package (``src/esgledger``) since nothing the server runs needs it. It imports no
esgledger (the children do), and httpx only inside :func:`serve`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def child_env(src: Path | None = None, *, plain_http: bool = True) -> dict[str, str]:
    """The environment of a child: ``src`` (default this checkout's) first on the path; with
    ``plain_http``, session cookies without ``Secure`` (the server is plain http on 127.0.0.1,
    for a browser or a cookie client) and no ``ESGLEDGER_DEBUG``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src or SRC) + os.pathsep + env.get("PYTHONPATH", "")
    if plain_http:
        env["ESGLEDGER_SERVER_COOKIE_SECURE"] = "false"
        env.pop("ESGLEDGER_DEBUG", None)
    return env


def esgledger(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> None:
    """``python -m esgledger ARGS`` in a child process (``env``, default :func:`child_env`);
    stop on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "esgledger", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=child_env() if env is None else env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"esgledger {args[0]} failed:\n{done.stderr[-2000:]}")


def build_demo(target: Path, env: dict[str, str] | None = None) -> None:
    """``esgledger demo -w TARGET``, saying so (it takes a minute)."""
    print(f"building the demo workspace in {target} ...", flush=True)
    esgledger("demo", "-w", str(target), env=env)


def cached_demo(
    source: Path, cache: Path, rebuild: bool, env: dict[str, str] | None = None
) -> Path:
    """``source``, a workspace; when it is ``cache`` (a folder git ignores), the demo built
    there first if it is missing or ``rebuild`` is asked."""
    if source == cache and (rebuild or not source.exists()):
        if source.exists():
            shutil.rmtree(source)
        source.parent.mkdir(parents=True, exist_ok=True)
        build_demo(source, env)
    if not (source / "esgledger.toml").exists():
        raise SystemExit(f"{source} is not an esgledger workspace")
    return source


def copy_workspace(source: Path, work: Path, env: dict[str, str] | None = None) -> Path:
    """A copy of ``source`` in ``work/ws`` (the original stays as it is), brought to the
    code's migration by ``esgledger upgrade`` (a workspace cached by an older esgledger)."""
    root = work / "ws"
    shutil.copytree(source, root)
    esgledger("upgrade", str(root), env=env)
    return root


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(root: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``esgledger serve ROOT`` (``env``, default :func:`child_env`) on 127.0.0.1 and a free
    port, its output in ``log``; yields the base URL once ``/readyz`` answers 200 (at most
    120 s); stopped (SIGINT, then killed after 30 s) after."""
    import httpx

    port = free_port()
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "esgledger", "serve", str(root), "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=child_env() if env is None else env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server was not ready within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def chromium() -> str | None:
    """The operating system's Chromium (``tools/install-system-packages.sh``), or None; launch
    it with ``playwright.chromium.launch(executable_path=..., args=CHROMIUM_ARGS)``."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
