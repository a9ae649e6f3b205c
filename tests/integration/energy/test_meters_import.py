"""The meters import: a site's meter tree checked whole, stored whole or not at all."""

from __future__ import annotations

from typing import Any

import pytest

from _energy_support import import_meters, import_readings, meter, organise, series
from _inventory_support import site
from esgledger.energy.meters import load_meters, site_timezone
from esgledger.errors import InputError
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch


def _batches(ws: Workspace, kind: str) -> int:
    with ws.session() as session:
        return session.query(ImportBatch).filter(ImportBatch.kind == kind).count()


def test_a_tree_is_stored_with_defaults_and_canonical_units(workspace: Workspace) -> None:
    organise(workspace)
    result = import_meters(
        workspace,
        [
            meter("IN", "incomer", kind="counter", unit="MWh", multiplier=2, rollover=99999),
            meter("UPS-IN", "ups_input", parent="IN", unit="kW"),
            meter("UPS-OUT", "ups_output", parent="UPS-IN"),
            meter("W", "water", unit="m3"),
            meter("GEN", "fuel", unit="L", fuel="diesel"),
        ],
    )
    assert result.created
    assert result.rows == 5
    meters = {m.meter: m for m in load_meters(workspace)}
    assert meters["IN"].timezone == "Asia/Shanghai"  # CN has one zone
    assert meters["IN"].timestamp_marks == "end"
    assert meters["IN"].scale == pytest.approx(2000.0)  # MWh -> kWh x multiplier 2
    assert meters["UPS-IN"].is_power
    assert meters["UPS-IN"].scale == pytest.approx(1.0)
    assert meters["W"].canonical_unit == "L"
    assert meters["W"].scale == pytest.approx(1000.0)
    # EN 50600-4-x factsheet: diesel 9.9 kWh per litre
    assert meters["GEN"].scale == pytest.approx(9.9)
    assert site_timezone(workspace, "DC1") == "Asia/Shanghai"


def _rejected(
    ws: Workspace, rows: list[dict[str, Any]]
) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(InputError) as info:
        import_meters(ws, rows)
    assert _batches(ws, "meters") == 0 or load_meters(ws) != []
    return [(i.row, i.column, i.problem) for i in info.value.issues]


def test_every_row_problem_is_named(workspace: Workspace) -> None:
    organise(workspace)
    problems = _rejected(
        workspace,
        [
            meter("A", "incomer", site_code="NOPE"),
            meter("B", "boiler"),
            meter("C", "it_input", kind="cumulative"),
            meter("D", "it_input", unit="kg"),
            meter("E", "water", unit="kWh"),
            meter("F", "it_input", unit="kW", kind="counter"),
            meter("G", "fuel", unit="L"),
            meter("H", "it_input", multiplier=-1),
            meter("I", "it_input", rollover=100),
            meter("J", "it_input", timezone="Mars/Olympus"),
            meter("K", "it_input", timestamp_marks="middle"),
            meter("A", "incomer"),
            meter("L", "cooling", unit="m3"),
        ],
    )
    assert (2, "site", "unknown site") in problems
    assert (3, "role", "unknown meter role") in problems
    assert (4, "kind", "unknown kind of reading") in problems
    assert (5, "unit", "not an energy, volume or power unit") in problems
    assert (6, "unit", "a water meter reads a volume") in problems
    assert (7, "kind", "a power reading cannot be a cumulative register") in problems
    assert (8, "fuel", "a fuel meter in volume units needs its fuel") in problems
    assert (9, "multiplier", "the multiplier must be greater than 0") in problems
    assert (10, "rollover", "only a counter has a rollover value") in problems
    assert (11, "timezone", "unknown time zone") in problems
    assert (12, "timestamp_marks", "unknown timestamp meaning") in problems
    assert (13, "meter", "meter A is listed twice (row 2)") in problems
    assert (14, "unit", "a cooling meter reads energy or power, not volume") in problems
    assert load_meters(workspace) == []


def test_the_tree_is_checked_whole(workspace: Workspace) -> None:
    organise(
        workspace,
        [
            site("DC1", region="CN-GD", type="data_centre"),
            site("DC2", region="CN-SH", type="data_centre"),
        ],
    )
    problems = _rejected(
        workspace,
        [
            meter("A", "incomer", parent="C"),
            meter("B", "ups_input", parent="A"),
            meter("C", "ups_output", parent="B"),
            meter("D", "cooling", parent="GHOST"),
            meter("E", "cooling", site_code="DC2", parent="A"),
        ],
    )
    assert (5, "parent", "unknown parent meter") in problems
    assert (6, "parent", "the parent meter belongs to site DC1") in problems
    assert any(
        c == "parent" and p.startswith("the tree has a cycle: A → C → B → A")
        for _, c, p in problems
    )


def test_a_country_of_several_zones_needs_a_timezone(workspace: Workspace) -> None:
    organise(workspace, [site("VA", country="US", region="US", type="data_centre")])
    problems = _rejected(workspace, [meter("A", "incomer", site_code="VA")])
    assert problems == [(2, "timezone", "the site's country US has no single time zone")]
    import_meters(workspace, [meter("A", "incomer", site_code="VA", timezone="America/New_York")])
    problems = _rejected(
        workspace, [meter("B", "cooling", site_code="VA", timezone="America/Chicago")]
    )
    assert problems[0][1] == "timezone"
    assert "several time zones" in problems[0][2]


def test_a_meter_with_readings_keeps_what_gives_them_meaning(
    sqlite_workspace: Workspace,
) -> None:
    from datetime import datetime, timedelta, timezone

    ws = sqlite_workspace
    organise(ws)
    import_meters(ws, [meter("A", "incomer", kind="counter")])
    start = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    import_readings(ws, series("A", start, [1.0, 2.0, 3.0]))
    # renaming and re-parenting are corrections; a new unit would reinterpret the readings
    import_meters(ws, [meter("A", "incomer", kind="counter", name="Main incomer")])
    problems = _rejected(ws, [meter("A", "incomer", kind="counter", unit="MWh")])
    assert problems == [
        (2, "unit", "meter A has readings; changing its unit would reinterpret them")
    ]
    assert load_meters(ws)[0].unit == "kWh"
