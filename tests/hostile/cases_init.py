"""``init`` with hostile database URLs: refused with exit 2, the password never echoed, and
nothing left behind (the runner checks that the workspace folder holding ``new`` is as it
was)."""

from __future__ import annotations

from hostile._corpus import Case, text_file

_UNUSED = text_file("unused.txt", "")

CASES: list[Case] = [
    Case(
        "init-url-with-a-non-numeric-port",
        _UNUSED,
        command=["init", "{ws}/new", "--database-url", "postgresql+psycopg://u:s3cr3t@h:abc/db"],
        says="port",
        hides="s3cr3t",
    ),
    Case(
        "init-url-unparsable",
        _UNUSED,
        command=["init", "{ws}/new", "--database-url", "::not a url:s3cr3t@"],
        says="database URL",
        hides="s3cr3t",
    ),
    Case(
        "init-url-of-another-database",
        _UNUSED,
        command=["init", "{ws}/new", "--database-url", "mysql://u:s3cr3t@127.0.0.1/db"],
        says="PostgreSQL",
        hides="s3cr3t",
    ),
]
