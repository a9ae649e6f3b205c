"""Derived disclosure metrics from a real inventory run (SQLite workspace, shipped factors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import activity, new_workspace, site
from esgledger.disclosure import derive, load_catalogue
from esgledger.inventory.engine import calculate
from esgledger.inventory.runs import summary


def test_a12_and_a21_from_a_run(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        sites=[site("SZ")],
        activities=[
            activity("electricity", 1_000_000, "kWh", site="SZ"),
            activity("stationary.diesel", 10, "t", site="SZ"),
            activity("stationary.natural_gas", 20_000, "Nm3", site="SZ"),
            activity("mobile.petrol", 5_000, "L"),
        ],
    )
    run = calculate(ws)  # petrol in litres: the CN factor through the shipped density
    inventory = summary(run)
    derived = derive(inventory, run.line_items_path, load_catalogue())
    scope1 = derived.get("A1.2", "scope=1")
    assert scope1 is not None
    assert scope1.value == inventory["totals"]["scope1"]
    assert scope1.source["run_id"] == run.run_id
    location = derived.get("D.metrics.scope2", "method=location")
    assert location is not None
    assert location.value == inventory["totals"]["scope2_location"]
    electricity = derived.get("A2.1", "type=electricity")
    assert electricity is not None
    assert electricity.value == pytest.approx(1000.0, rel=1e-12)
    gas = derived.get("A2.1", "type=natural_gas")
    assert gas is not None
    # 2 x 10^4 Nm3 x 389.31 GJ / 10^4 Nm3 (GB/T 32150 default NCV) / 3.6 GJ/MWh
    assert gas.value == pytest.approx(2 * 389.31 / 3.6, rel=1e-12)
    assert derived.not_convertible == ()
    petrol = derived.get("A2.1", "type=petrol")
    assert petrol is not None
    # 5,000 L x 0.75018 kg/L x 43.070 GJ/t (GB/T 32150-2015 Table B.1) / 3.6 GJ/MWh
    assert petrol.value == pytest.approx(5000 * 0.75018 / 1000 * 43.070 / 3.6, rel=1e-12)
