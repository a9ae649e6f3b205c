"""Regenerate the README's screenshots of the pages (1440×900, Chromium).

Run from the repository root (after the pages change)::

    .venv/bin/python tools/readme_screenshots.py
    .venv/bin/python tools/readme_screenshots.py --workspace benchmarks/.data/pages-demo

It copies a demo workspace (``--workspace``, default: a fresh ``esgledger demo`` in a
temporary folder), sets known passwords for ``admin`` and ``cloud.owner`` on the copy
(``esgledger users set-password``), starts ``esgledger serve`` on 127.0.0.1 and writes:

- ``docs/images/screenshot-dashboard-zh-CN.png``: the dashboard ``/`` of the admin, in
  Simplified Chinese;
- ``docs/images/screenshot-task-en.png``: the data owner of CLOUD's first task (the first
  ``/tasks/<id>`` link of ``/tasks``), in English — or, while the server has no ``/tasks``
  page, the sign-in page in English as ``docs/images/screenshot-sign-in-en.png`` (it says
  so).

Chromium is the operating system's (``tools/install-system-packages.sh``), never a download.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
PASSWORD = "readme-screenshots-not-secret-1"
VIEWPORT = {"width": 1440, "height": 900}

# The helpers to run esgledger and its server are the benchmarks' (benchmarks/_serve.py).
sys.path.insert(0, str(ROOT / "benchmarks"))
from _serve import CHROMIUM_ARGS, build_demo, chromium, copy_workspace, esgledger, serve  # noqa: E402


def prepare(source: Path | None, work: Path) -> Path:
    """The workspace to photograph: a copy of ``source``, or a fresh demo; with known
    passwords."""
    if source is None:
        root = work / "ws"
        build_demo(root)
    else:
        root = copy_workspace(source, work)
    for username in ("admin", "cloud.owner"):
        esgledger("users", "set-password", str(root), username, stdin=PASSWORD + "\n")
    return root


def shoot(base: str) -> list[str]:
    executable = chromium()
    if executable is None:
        raise SystemExit("no Chromium on PATH (tools/install-system-packages.sh installs it)")
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    made = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            shots = (
                ("admin", "zh-CN", "/", "screenshot-dashboard-zh-CN.png"),
                ("cloud.owner", "en", "/tasks", "screenshot-task-en.png"),
            )
            for username, lang, path, name in shots:
                context = browser.new_context(
                    viewport=VIEWPORT,
                    locale=lang,
                    device_scale_factor=1,
                    extra_http_headers={"Accept-Language": lang},
                )
                context.add_cookies([{"name": "esgledger_lang", "value": lang, "url": base}])
                signed = context.request.post(
                    base + "/api/v1/session", data={"username": username, "password": PASSWORD}
                )
                if signed.status != 200:
                    raise SystemExit(f"sign-in of {username} failed: {signed.status}")
                page = context.new_page()
                answer = page.goto(base + path, wait_until="networkidle")
                if answer is None or answer.status != 200:
                    print(f"{path} answers {answer and answer.status}: the sign-in page instead")
                    name = "screenshot-sign-in-en.png"
                    context.clear_cookies()
                    context.add_cookies([{"name": "esgledger_lang", "value": lang, "url": base}])
                    page.goto(base + "/sign-in", wait_until="networkidle")
                elif path == "/tasks":
                    first = page.locator('main a[href^="/tasks/"]').first
                    page.goto(base + (first.get_attribute("href") or "/tasks"))
                    page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)  # charts finish their entry animation
                page.screenshot(path=str(IMAGES / name))
                made.append(f"{IMAGES / name} ({page.url.removeprefix(base)})")
                context.close()
        finally:
            browser.close()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a demo workspace to copy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="esgledger-screenshots-") as work:
        root = prepare(args.workspace.resolve() if args.workspace else None, Path(work))
        with serve(root, Path(work) / "server.log") as base:
            for line in shoot(base):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
