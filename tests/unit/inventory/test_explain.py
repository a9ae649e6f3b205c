"""Explaining one figure: the line items of an activity row, step by step."""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import activity, entity, new_workspace
from esgledger.errors import InputError
from esgledger.inventory import calculate
from esgledger.inventory.explain import explain_line, find_lines


def test_a_record_is_found_by_record_id_or_by_batch_and_row(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP", country="GB")],
        activities=[
            activity("stationary.diesel", 100, "gal", region="US", record_id="D-1"),
            activity("electricity", 1000, "kWh", record_id="E-1"),
        ],
    )
    run = calculate(ws, gwp_set="AR5")
    (diesel,) = find_lines(run, "D-1")
    assert find_lines(run, f"{diesel['batch_id']}:2") == [diesel]
    assert [line["line_kind"] for line in find_lines(run, "E-1")] == [
        "activity",
        "wtt",
        "td_losses",
        "wtt_td_losses",
    ]
    with pytest.raises(InputError, match=f"^run {run.run_id} has no line for record 'nope'"):
        find_lines(run, "nope")


def test_the_steps_go_from_activity_to_consolidated_co2e(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        activities=[activity("stationary.diesel", 100, "gal", region="US", record_id="D-1")],
    )
    run = calculate(ws, gwp_set="AR5")
    steps = dict(explain_line(find_lines(run, "D-1")[0]))
    assert list(steps) == [
        "activity",
        "scope",
        "region",
        "factor",
        "source",
        "why",
        "conversion",
        "gases",
        "CO2e",
        "consolidated",
    ]
    assert steps["activity"].endswith(
        "(record D-1): stationary.diesel 100 gal, entity GRP, 2024-01-01 to 2024-12-31"
    )
    assert steps["factor"] == (
        "epa-hub-2025:t1:distillate_fuel_oil_no_2:gallon [epa-hub-2025], tier country, "
        "vintage gap 1, method fuel"
    )
    assert steps["conversion"] == "100 gal = 100 gallon"
    assert steps["gases"] == (
        "CO2 1,021 kg (10.21 kg/gallon); CH4 0.041 kg (0.00041 kg/gallon); "
        "N2O 0.008 kg (8e-05 kg/gallon)"
    )
    # 1,021 + 0.041 x 28 + 0.008 x 265 = 1,024.268 kg CO2e (EPA Hub 2025 Table 1, AR5)
    assert steps["CO2e"] == "CO2 + CH4 x 28 + N2O x 265 (IPCC AR5 GWP-100) = 1,024.268 kg CO2e"
    assert steps["consolidated"] == "1,024.268 x share 1 = 1,024.268 kg CO2e"


def test_an_excluded_line_says_why(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws", activities=[activity("purchased_goods.steel", 1, "t", record_id="X")]
    )
    run = calculate(ws, allow_unresolved=True)
    steps = dict(explain_line(find_lines(run, "X")[0]))
    assert steps["excluded"].startswith("no factor: no factor for activity purchased_goods.steel")
    assert "factor" not in steps
