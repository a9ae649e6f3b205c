"""Rewrite the role matrix in ``docs/platform/roles.md`` from ``src/esgledger/access/roles.csv``.

Usage, from the repository root: ``.venv/bin/python tools/update_roles_doc.py [--check]``

The table between ``<!-- roles.csv begin -->`` and ``<!-- roles.csv end -->`` becomes
:func:`esgledger.access.policy.matrix_markdown`; ``--check`` writes nothing and exits 1 when
the committed table differs (``tests/unit/access/test_roles_documented.py`` checks the same).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from esgledger.access.policy import matrix_markdown

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "platform" / "roles.md"
_TABLE = re.compile(r"(<!-- roles\.csv begin -->\n).*?(<!-- roles\.csv end -->)", re.S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    if _TABLE.search(old) is None:
        print(f"{DOC}: the roles.csv markers are missing", file=sys.stderr)
        return 1
    new = _TABLE.sub(lambda m: m.group(1) + matrix_markdown() + m.group(2), old)
    if new == old:
        print("docs/platform/roles.md is up to date")
        return 0
    if args.check:
        print("docs/platform/roles.md differs from roles.csv: run tools/update_roles_doc.py")
        return 1
    DOC.write_text(new, encoding="utf-8")
    print("docs/platform/roles.md rewritten from roles.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
