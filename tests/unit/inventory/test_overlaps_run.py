"""Overlapping activity rows in a run: flagged lines, the run's warning (English and
Chinese), the manifest and data quality (``docs/methodology/overlaps.md``; issue 10, §3).

The rows are imported through the real importer (the second file is accepted with a
warning under the default rule); nothing is dropped or changed: the flag asks for a look.
Runs on SQLite and, with ESGLEDGER_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _backends import DbBackend
from _inventory_support import YEAR, activity, entity, import_rows, site
from _line_item_builder import line, table
from esgledger.inventory import calculate, summary
from esgledger.inventory.quality import score_line_items
from esgledger.overlaps import overlap_warning
from esgledger.report.builder import _run_warning
from esgledger.store import Workspace

# Guangdong's provincial average 2023, 0.4419 kg CO2/kWh (MEE/NBS Announcement 2025 No. 47,
# Table 3), the shipped factor of a CN-GD site for 2024 (latest vintage).
GD_KG_PER_KWH = 0.4419
REL = 1e-9


def _workspace(backend: DbBackend, root: Path) -> Workspace:
    ws = backend.init_workspace(root)
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("GZ", "GRP", region="CN-GD")])
    jan = {"period_end": f"{YEAR}-01-31"}
    import_rows(
        ws,
        "activities",
        [
            activity("electricity", 1000, "kWh", site="GZ", record_id="A-1", **jan),
            activity(
                "electricity", 1000, "kWh", site="GZ", record_id="A-2",
                period_start=f"{YEAR}-02-01", period_end=f"{YEAR}-02-29",
            ),
            activity("stationary.diesel", 0.1, "t", site="GZ", record_id="D-1", **jan),
        ],
    )  # fmt: skip
    # The case: January again, under another record id, in a second file.
    import_rows(
        ws, "activities", [activity("electricity", 1200, "kWh", site="GZ", record_id="B-1", **jan)]
    )
    return ws


def test_overlapping_rows_are_flagged_counted_and_warned(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    ws = _workspace(db_backend, tmp_path / "ws")
    with ws:
        run = calculate(ws, category_3=False)
    lines = {r["record_id"]: r for r in run.line_items().to_pylist()}
    assert {k for k, r in lines.items() if r["overlap_suspect"]} == {"A-1", "B-1"}
    # Both are counted as they are: the flag asks for a look, it does not drop a row.
    data = summary(run)
    assert data["totals"]["scope2_location"] * 1000 == pytest.approx(
        (1000 + 1000 + 1200) * GD_KG_PER_KWH, rel=REL
    )
    found = run.manifest["overlaps"]
    assert found["rows"] == 2
    assert found["examples"] == [
        {
            "entity": "GRP",
            "site": "GZ",
            "activity": "electricity",
            "meter": None,
            "period_start": f"{YEAR}-01-01",
            "period_end": f"{YEAR}-01-31",
        }
    ]
    warning = overlap_warning(found)
    assert warning in data["warnings"]
    assert warning.startswith(
        "overlapping activity rows: 2 scope 1 and 2 row(s) share entity, site, activity, "
        "supplier and meter with another row over overlapping periods (electricity GRP/GZ "
        "2024-01-01..2024-01-31)"
    )
    # Data quality: the two lines, and their reliability one step worse than the February
    # line of the same site and factor.
    assert data["data_quality"]["overlap_suspect"]["lines"] == 2
    assert data["data_quality"]["overlap_suspect"]["co2e_t"] * 1000 == pytest.approx(
        2200 * GD_KG_PER_KWH, rel=REL
    )
    scored = {r["record_id"]: r for r in score_line_items(run.line_items_path).to_pylist()}
    assert scored["A-1"]["dq_reliability"] == scored["A-2"]["dq_reliability"] + 1
    assert scored["B-1"]["dq_reliability"] == scored["A-2"]["dq_reliability"] + 1
    # In the report the warning is bilingual.
    text = _run_warning(warning, run.manifest)
    assert text.en == warning
    assert text.zh.startswith("疑似重复计量：2 行范围一、范围二活动数据")


def test_a_run_without_overlaps_has_no_flag_or_warning(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    ws = db_backend.init_workspace(tmp_path / "ws")
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("GZ", "GRP", region="CN-GD")])
    import_rows(ws, "activities", [activity("electricity", 10, "MWh", site="GZ", record_id="E")])
    with ws:
        run = calculate(ws, category_3=False)
    assert run.manifest["overlaps"] is None
    assert not any(r["overlap_suspect"] for r in run.line_items().to_pylist())
    assert not any(w.startswith("overlapping activity rows") for w in run.manifest["warnings"])


def test_lake_batches_without_the_meter_column_still_calculate(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    """A workspace whose first batch predates the meter column: the engine reads the lake
    by column name and still finds the overlap."""
    ws = _workspace(db_backend, tmp_path / "ws")
    with ws:
        first = sorted((ws.lake / "activities").glob("*.parquet"), key=lambda p: p.stat().st_mtime)
        for path in first:
            pq.write_table(pq.read_table(path).drop_columns(["meter"]), path)
        run = calculate(ws, category_3=False)
    assert run.manifest["overlaps"]["rows"] == 2


def test_line_items_of_older_runs_score_without_the_flag() -> None:
    """Line items written before ``overlap_suspect`` existed are scored as if it were false."""
    scored = score_line_items(table([line()]))
    assert "overlap_suspect" not in table([line()]).column_names
    assert scored.num_rows == 1
