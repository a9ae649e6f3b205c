"""Write the API's OpenAPI document to ``docs/api/openapi.json`` (the committed snapshot).

Usage, from the repository root: ``.venv/bin/python tools/update_openapi.py [--check]``

The document is ``/openapi.json`` of ``esgledger.server.app.create_app`` over a fresh
temporary workspace, rendered with sorted keys, indent 2 and a trailing newline
(:func:`esgledger.server.openapi.snapshot_text`). Review the change with ``git diff`` before
committing it: every line of the diff is a change of the API's contract. ``--check`` writes
nothing and exits 1 when the committed file differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from esgledger.server.openapi import SNAPSHOT_PATH, snapshot_text

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    args = parser.parse_args(argv)
    path = ROOT / SNAPSHOT_PATH
    text = snapshot_text()
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if text == old:
        print(f"{SNAPSHOT_PATH}: up to date")
        return 0
    if args.check:
        print(f"{SNAPSHOT_PATH}: differs from the live document", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"{SNAPSHOT_PATH}: written; review it with git diff {SNAPSHOT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
