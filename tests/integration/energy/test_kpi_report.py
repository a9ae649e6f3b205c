"""The report's data-centre table reads the metered KPIs of the reporting year."""

from __future__ import annotations

import pytest

from _energy_kpi import worked_example
from _inventory_support import activity, import_rows
from esgledger.inventory import calculate
from esgledger.report.builder import build_document
from esgledger.report.document import DataTable


def _tables(node):
    for block in getattr(node, "blocks", ()) or ():
        if isinstance(block, DataTable):
            yield block
    for child in getattr(node, "sections", ()) or getattr(node, "children", ()) or ():
        yield from _tables(child)


def test_report_takes_pue_wue_cue_ref_from_the_meters(sqlite_workspace):
    ws = worked_example(sqlite_workspace)
    import_rows(ws, "activities", [activity("electricity", 12_900_000, "kWh", site="DC1")])
    folder = ws.root / "report"
    folder.mkdir(exist_ok=True)
    (folder / "report.toml").write_text(
        '[report]\nsections = ["green.datacentres"]\n[green]\npue = { DC1 = 1.9 }\n',
        encoding="utf-8",
    )
    calculate(ws, allow_unresolved=True)
    doc = build_document(ws)
    [table] = [t for t in _tables(doc) if t.id == "pue"]
    [row] = table.rows
    assert row[0] == "DC1"
    assert row[1] == pytest.approx(1.34)  # metered, not the typed 1.9
    assert row[2] == pytest.approx(2.5)
    assert row[4] == pytest.approx(4_500 / 13_400)
    assert "PUE_L2,YM" in row[5].en


def test_metered_data_centres_bring_the_section_without_a_typed_pue(sqlite_workspace):
    ws = worked_example(sqlite_workspace)
    import_rows(ws, "activities", [activity("electricity", 12_900_000, "kWh", site="DC1")])
    calculate(ws, allow_unresolved=True)
    doc = build_document(ws)
    [table] = [t for t in _tables(doc) if t.id == "pue"]
    assert [row[0] for row in table.rows] == ["DC1"]
