"""Overlapping and duplicate activity rows at import (``docs/methodology/overlaps.md``).

Issue 10, §3: a second file with the same site, activity and month under another record id
was accepted and summed without a word. Now, among scope 1 and 2 rows that are not
corrections: an exact duplicate (of a row of the file or of the lake) is refused; an overlap
(same entity, site, activity, supplier and meter; periods sharing a day) is accepted with a
warning naming both rows, or refused when the workspace says ``[import] overlaps =
"reject"``. Runs on SQLite and, with ESGLEDGER_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from _inventory_support import seed_organisation
from esgledger.errors import InputError, WorkspaceError
from esgledger.ingest.activities import import_activities
from esgledger.store import Workspace
from esgledger.store.repository import load_batches

JAN = {"period_start": "2024-01-01", "period_end": "2024-01-31"}
FEB = {"period_start": "2024-02-01", "period_end": "2024-02-29"}
ROW: dict[str, Any] = {
    "record_id": "A-1",
    "entity": "GRP",
    "site": "GZ",
    **JAN,
    "activity": "electricity",
    "quantity": 1000,
    "unit": "kWh",
}
OVERLAP_FIX = (
    "if it is the same consumption, remove this row (or adjust the earlier one with a row of "
    "correction = true); if it is other consumption, tell the rows apart by their meter or "
    "supplier"
)


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """A 2024 workspace with entity GRP and its site GZ (Guangdong)."""
    seed_organisation(workspace, entity="GRP", site="GZ", region="CN-GD")
    return workspace


def _csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return path


def _reject(ws: Workspace, path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        import_activities(ws, path)
    return info.value


def test_a_second_file_with_the_same_site_activity_and_month_is_named(
    ws: Workspace, tmp_path: Path
) -> None:
    first = import_activities(
        ws, _csv(tmp_path / "jan.csv", [ROW, {**ROW, "record_id": "A-2", **FEB}])
    )
    assert first.warnings == ()
    second = import_activities(
        ws, _csv(tmp_path / "again.csv", [{**ROW, "record_id": "B-1", "quantity": 1200}])
    )
    # Accepted (the rule is "warn" by default) and counted, but named with the row it
    # overlaps: batch, file, row and record id.
    assert second.created
    assert second.warning_total == 1
    (issue,) = second.warnings
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "again.csv",
        2,
        "period_start",
        "2024-01-01..2024-01-31",
    )
    assert issue.problem == (
        f"the period overlaps row 2 of batch {first.batch_id} (jan.csv, record id A-1), of the "
        "same entity GRP, site GZ, activity electricity, supplier (none) and meter (none): the "
        "same consumption may be counted twice"
    )
    assert issue.fix == OVERLAP_FIX
    assert "Warning: 1 row overlaps other activity rows" in second.message
    with ws.session() as session:
        (batch,) = [b for b in load_batches(session) if b.id == second.batch_id]
    assert batch.summary is not None
    assert batch.summary["overlaps"]["rows"] == 1
    assert batch.summary["overlaps"]["rule"] == "warn"
    assert batch.summary["overlaps"]["listed"][0]["row"] == 2


def test_an_exact_duplicate_of_a_lake_row_is_refused(ws: Workspace, tmp_path: Path) -> None:
    first = import_activities(ws, _csv(tmp_path / "jan.csv", [ROW]))
    error = _reject(ws, _csv(tmp_path / "copy.csv", [{**ROW, "record_id": "C-1", "notes": "x"}]))
    (issue,) = error.issues
    assert (issue.row, issue.column) == (2, "quantity")
    assert issue.problem == (
        f"exact duplicate of row 2 of batch {first.batch_id} (jan.csv, record id A-1): same "
        "entity, site, meter, activity, supplier, period, quantity, unit, region and factor; it "
        "would be counted twice"
    )
    assert error.summary == "copy.csv was rejected: 1 issue found; nothing was imported"


def test_an_exact_duplicate_within_the_file_is_refused(ws: Workspace, tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "record_id": "A-2", **FEB}, {**ROW, "record_id": "A-3"}]
    (issue,) = _reject(ws, _csv(tmp_path / "dup.csv", rows)).issues
    assert issue.row == 4
    assert issue.problem.startswith("exact duplicate of row 2 of this file (record id A-1)")


def test_an_overlap_within_the_file_names_both_rows(ws: Workspace, tmp_path: Path) -> None:
    # A bill from 15 January to 14 February beside a January bill: one day in common is enough.
    rows = [
        ROW,
        {**ROW, "record_id": "A-2", "period_start": "2024-01-15", "period_end": "2024-02-14"},
    ]
    result = import_activities(ws, _csv(tmp_path / "bills.csv", rows))
    assert [(i.row, i.problem.split(",")[0]) for i in result.warnings] == [
        (2, "the period overlaps row 3 of this file (record id A-2)"),
        (3, "the period overlaps row 2 of this file (record id A-1)"),
    ]


def test_adjacent_periods_other_meters_suppliers_and_corrections_are_not_overlaps(
    ws: Workspace, tmp_path: Path
) -> None:
    rows = [
        {**ROW, "meter": "M-1"},
        {**ROW, "record_id": "A-2", "meter": "M-2"},  # another meter of the same site
        {**ROW, "record_id": "A-3", "meter": "M-1", **FEB},  # the next month
        {**ROW, "record_id": "A-4", "supplier": "PPA Co", "meter": "M-1"},  # another supplier
        {**ROW, "record_id": "A-5", "meter": "M-1", "quantity": -50, "correction": "true"},
        # Scope 3 rows are not compared: two trips of one entity in one month are normal.
        {**ROW, "record_id": "T-1", "site": None, "activity": "travel.hotel", "unit": "room_night"},
        {**ROW, "record_id": "T-2", "site": None, "activity": "travel.hotel", "unit": "room_night"},
    ]
    result = import_activities(ws, _csv(tmp_path / "meters.csv", rows))
    assert result.warnings == ()
    assert result.warning_total == 0
    (lake,) = (ws.lake / "activities").glob("*.parquet")
    assert pq.read_table(lake).column("meter").to_pylist()[:4] == ["M-1", "M-2", "M-1", "M-1"]
    # The same meter again for January is an overlap.
    again = import_activities(
        ws, _csv(tmp_path / "m1.csv", [{**ROW, "record_id": "B-1", "meter": "M-1", "quantity": 7}])
    )
    assert [i.row for i in again.warnings] == [2]
    assert "meter M-1" in again.warnings[0].problem


def test_the_workspace_can_refuse_overlaps(ws: Workspace, tmp_path: Path) -> None:
    config = ws.root / "esgledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[import]\noverlaps = "reject"\n')
    with Workspace.open(ws.root) as strict:
        assert strict.overlap_rule == "reject"
        import_activities(strict, _csv(tmp_path / "jan.csv", [ROW]))
        error = _reject(
            strict, _csv(tmp_path / "b.csv", [{**ROW, "record_id": "B", "quantity": 9}])
        )
        (issue,) = error.issues
        assert issue.problem.endswith('counted twice ([import] overlaps = "reject")')
        assert len(list((strict.lake / "activities").glob("*.parquet"))) == 1


def test_an_unknown_overlap_setting_is_refused(ws: Workspace) -> None:
    config = ws.root / "esgledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[import]\noverlaps = "maybe"\n')
    with (
        Workspace.open(ws.root) as other,
        pytest.raises(
            WorkspaceError,
            match=r"\[import\] overlaps must be 'warn' or 'reject' \(value: 'maybe'\)",
        ),
    ):
        _ = other.overlap_rule


def test_lake_batches_without_the_meter_column_are_still_compared(
    ws: Workspace, tmp_path: Path
) -> None:
    """Batches imported before the meter column existed have no such column in the lake."""
    first = import_activities(ws, _csv(tmp_path / "jan.csv", [ROW]))
    path = ws.lake / "activities" / f"{first.batch_id}.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["meter"]), path)
    second = import_activities(
        ws, _csv(tmp_path / "b.csv", [{**ROW, "record_id": "B", "quantity": 5}])
    )
    assert [i.row for i in second.warnings] == [2]
