"""Hostile text where users type never becomes markup on a page.

A copy of the demo gets markup for every value a user or an import supplies — entity and site
names (both languages), users' display names, campaign names and instructions, task comments,
evidence and import file names, a batch's status reason, a job's error and row issues, the
carbon-inclusion catalogue's item names and an account's held reason — then
every page the crawl (``tests/_page_crawl.py``) finds is opened as the admin (who sees every
page) and as the data owner of CLOUD (the task pages as their owner). No page may
carry the markup as markup; the pages that show such a value show it escaped.

The values are written straight into the workspace's tables (a test's copy): several have no
service to change them (names come from imported files), and a table is where a hostile value
would sit whichever face put it there.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from _page_crawl import add_example_evidence, add_example_jobs, crawl, demo_users
from _web_support import DemoCopy, copy_demo, page_client

#: Markup a user might type, each with a tell-tale part that only the raw markup contains.
HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
)
#: What must never appear in a page's HTML (the raw, unescaped markup).
RAW = ("<script>alert(1)", "<img src=x onerror", "<svg onload")
#: The escaped forms, one of which a page showing a hostile value carries.
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")

_UPDATES = (
    ("entities", ("name", "name_zh"), "code"),
    ("sites", ("name", "name_zh"), "code"),
    ("users", ("display_name",), "id"),
    ("campaigns", ("name", "instructions_en", "instructions_zh"), "id"),
    ("task_transitions", ("comment",), "id"),
    ("evidence", ("original_name",), "id"),
    ("import_batches", ("file_name", "status_reason"), "id"),
    ("jobs", ("error",), "id"),
    # the carbon-inclusion programme: catalogue names, why an account is held
    ("inclusion_catalogue", ("name", "name_zh"), "item"),
    ("inclusion_accounts", ("held_reason",), "pseudonym"),
)


def _make_hostile(demo: DemoCopy) -> dict[str, int]:
    """Hostile text in every user-typed column of ``demo``; rows changed per table."""
    from esgledger.store.workspace import Workspace

    changed: dict[str, int] = {}
    issue = {
        "file": HOSTILE[1],
        "row": 2,
        "column": HOSTILE[0],
        "value": HOSTILE[2],
        "problem": HOSTILE[0],
        "fix": HOSTILE[1],
    }
    with Workspace.open(demo.path) as workspace, workspace.write_lock() as session:
        for table, columns, key in _UPDATES:
            keys = [row[0] for row in session.execute(sa.text(f"SELECT {key} FROM {table}"))]
            for n, value in enumerate(keys):
                text = HOSTILE[n % len(HOSTILE)]
                assignments = ", ".join(f"{c} = :v{i}" for i, c in enumerate(columns))
                params = {f"v{i}": f"{text} {value}" for i in range(len(columns))}
                session.execute(
                    sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :key"),
                    {**params, "key": value},
                )
            changed[table] = len(keys)
        jobs_table = sa.table("jobs", sa.column("id"), sa.column("issues", sa.JSON))
        session.execute(sa.update(jobs_table).values(issues=[issue]))
    return changed


def test_no_page_renders_hostile_text_as_markup(web_demo: DemoCopy, tmp_path: Path) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    add_example_jobs(demo)
    add_example_evidence(demo)
    changed = _make_hostile(demo)
    expected = ("entities", "sites", "users", "jobs", "evidence", "inclusion_catalogue")
    assert all(changed[t] for t in expected), changed
    raw: list[str] = []
    shown: set[str] = set()
    opened = 0
    # the admin sees every page; the data owner of CLOUD the task pages as their owner
    assert {"admin", "cloud.owner"} <= set(demo_users(demo))
    for username in ("admin", "cloud.owner"):
        with page_client(demo, username) as client:
            jobs = ["/jobs/1", "/jobs/2"] if username == "admin" else []
            for page, answer in crawl(client, username, start=["/", *jobs]):
                opened += 1
                html = answer.text
                raw += [f"{page.url} as {username}: {r!r}" for r in RAW if r in html]
                if any(e in html for e in ESCAPED):
                    shown.add(page.route)
    assert opened > 0
    assert not raw, "unescaped hostile markup:\n" + "\n".join(raw)
    # the job page shows its row issues (file, column, value, problem, fix) and error
    assert "/jobs/{job_id}" in shown, shown
    # the programme page shows catalogue names and held reasons; an account page its reason
    assert {"/inclusion", "/inclusion/accounts/{pseudonym}"} <= shown, shown
