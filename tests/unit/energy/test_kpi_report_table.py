"""The report's data-centre table: metered KPIs where a site has meters, else the typed PUE,
with the source of each row."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from esgledger.report.builder import _Layout
from esgledger.report.document import DataTable


def facts(pue: dict[str, float], metered: dict[str, dict[str, Any]]) -> Any:
    config = SimpleNamespace(green=SimpleNamespace(pue=pue))
    return SimpleNamespace(
        inputs=SimpleNamespace(config=config),
        energy_kpis=metered,
        inventory={"by_site": {}},
        site_types={},
    )


def test_metered_rows_replace_typed_ones():
    metered = {
        "DC1": {"pue": 1.34, "wue_l_per_kwh": 2.5, "cue_kg_per_kwh": 0.764, "ref": 0.336,
                "pue_category": "PUE_L2,YC"}
    }  # fmt: skip
    blocks = _Layout(facts({"DC1": 1.5, "DC2": 1.6}, metered)).datacentres()  # type: ignore[arg-type]
    [table] = [b for b in blocks if isinstance(b, DataTable) and b.id == "pue"]
    assert [c.key for c in table.columns] == ["site", "pue", "wue", "cue", "ref", "source"]
    dc1, dc2 = table.rows
    assert dc1[:5] == ("DC1", 1.34, 2.5, 0.764, 0.336)
    assert "PUE_L2,YC" in dc1[5].en
    assert "PUE_L2,YC" in dc1[5].zh
    assert dc2[:5] == ("DC2", 1.6, None, None, None)
    assert "typed" in dc2[5].en


def test_no_figures_no_table():
    blocks = _Layout(facts({}, {})).datacentres()  # type: ignore[arg-type]
    assert not [b for b in blocks if isinstance(b, DataTable) and b.id == "pue"]
