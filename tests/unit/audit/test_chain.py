"""The audit trail's hash chain: appended events verify; any edit, removal or reordering is
named at the first broken link (issue 12, "The audit trail")."""

from __future__ import annotations

import io
import itertools

import pytest
import sqlalchemy as sa

from esgledger.access import Principal
from esgledger.audit import GENESIS, digest, events, record, verify, write_csv
from esgledger.store import Workspace
from esgledger.store.models_platform import AuditEvent

ALICE = Principal(username="alice", role="esg_office", address="127.0.0.1")


def _append(workspace: Workspace, n: int) -> None:
    for i in range(n):
        with workspace.write_lock() as session:
            record(
                session,
                ALICE,
                "import.activities",
                "batch",
                f"b{i}",
                after=digest({"rows": i}),
                detail={"file": f"f{i}.csv", "rows": i, "name": "能源"},
            )


def test_an_empty_trail_is_intact(workspace: Workspace) -> None:
    report = verify(workspace)
    assert report.intact
    assert (report.count, report.head) == (0, GENESIS)


def test_appended_events_chain_and_verify(workspace: Workspace) -> None:
    _append(workspace, 5)
    report = verify(workspace)
    assert report.intact
    assert report.count == 5
    got = events(workspace)
    assert [e.object_id for e in got] == [f"b{i}" for i in range(5)]
    assert got[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(got))
    assert report.head == got[-1].hash


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (sa.update(AuditEvent).where(AuditEvent.seq == 3).values(actor="mallory"), "changed"),
        (sa.update(AuditEvent).where(AuditEvent.seq == 3).values(detail={"rows": 99}), "changed"),
        (sa.delete(AuditEvent).where(AuditEvent.seq == 3), "removed"),
    ],
)
def test_a_tampered_row_is_caught_at_its_link(
    workspace: Workspace, change: sa.Executable, why: str
) -> None:
    _append(workspace, 5)
    with workspace.session() as session:
        session.execute(change)
    report = verify(workspace)
    assert not report.intact
    assert report.broken_seq in (3, 4)  # the changed event, or the one after a removed one
    assert why in (report.problem or "")
    assert report.count == 2


def test_filters_and_csv_export(workspace: Workspace) -> None:
    _append(workspace, 3)
    with workspace.write_lock() as session:
        record(session, Principal("bob", "admin"), "user.add", "user", "=cmd|calc")
    assert [e.actor for e in events(workspace, user="bob")] == ["bob"]
    assert len(events(workspace, object_id="batch:b1")) == 1
    assert len(events(workspace, action="import.")) == 3
    out = io.StringIO()
    write_csv(events(workspace), out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("seq,at,actor,")
    assert len(lines) == 5
    assert "'=cmd|calc" in lines[-1]  # a formula-looking id is neutralised
