"""targets.service on a small workspace (published 2021-2023, a 2024 run), on both backends.

The workspace: one entity, 1,000,000 kWh of electricity and 10 t of diesel in 2024 priced by
the test's own factors (0.5 kg/kWh and 3,000 kg/t: scope 2 location-based 500 t, scope 1
30 t), and published totals for 2021-2023 (scope 1 40 / 36 / 33 t, scope 2 market-based
600 / 560 / 540 t). Every expected figure below is worked out by hand from these.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from _inventory_support import activity, import_rows, user_factor
from esgledger.errors import InputError
from esgledger.inventory.engine import calculate
from esgledger.store import Workspace
from esgledger.targets import service

HISTORY = [
    {"year": y, "scope": s, "category": None, "t_co2e": t, "source": f"{y} report p. 9"}
    for y, s, t in (
        (2021, "1", 40), (2021, "2_location", 610), (2021, "2_market", 600), (2021, "3", 0),
        (2022, "1", 36), (2022, "2_location", 570), (2022, "2_market", 560), (2022, "3", 0),
        (2023, "1", 33), (2023, "2_location", 545), (2023, "2_market", 540), (2023, "3", 0),
    )
]  # fmt: skip
TARGETS = [
    {
        "id": "S12",
        "name": "Scope 1+2 -50 % by 2030",
        "kind": "absolute",
        "scopes": "1+2",
        "scope2_method": "market",
        "base_year": 2021,
        "target_year": 2030,
        "submission_year": 2023,
        "reduction": 0.5,
        "ambition": "1.5C",
    },
    {
        "id": "RE",
        "name": "100 % RE by 2030",
        "kind": "renewable_electricity",
        "scopes": "2",
        "base_year": 2021,
        "target_year": 2030,
        "target_share": 1.0,
    },
]
MEASURES = [
    {
        "id": "EFF",
        "name": "Efficiency",
        "lever": "efficiency",
        "cost_per_t": -10,
        "currency": "CNY",
        "reduction_t_co2e_per_yr": 100,
        "start_year": 2025,
        "ramp_years": 0,
        "acts_on": "scope=2",
    },
    {
        "id": "FUEL",
        "name": "Electric generators",
        "lever": "electrification",
        "cost_per_t": 50,
        "currency": "CNY",
        "reduction_t_co2e_per_yr": 1000,  # more than the 30 t of scope 1: capped
        "start_year": 2026,
        "ramp_years": 2,
        "acts_on": "scope=1",
    },
]


def _fill(ws: Workspace, *, run: bool = True) -> None:
    import_rows(ws, "entities", [{"entity": "GRP", "name": "Group", "country": "CN",
                                 "ownership_pct": 100, "operational_control": "true",
                                 "financial_control": "true", "parent": None}])  # fmt: skip
    import_rows(ws, "emissions-history", HISTORY)
    import_rows(ws, "targets", TARGETS)
    import_rows(ws, "measures", MEASURES)
    if run:
        import_rows(
            ws,
            "factors",
            [
                user_factor("t-el", "electricity", "kWh", 0.5),
                user_factor("t-dsl", "stationary.diesel", "t", 3000.0),
            ],
        )
        import_rows(
            ws,
            "activities",
            [
                activity("electricity", 1_000_000, "kWh", factor="t-el"),
                activity("stationary.diesel", 10, "t", factor="t-dsl"),
            ],
        )
        calculate(ws)


def _round_trip(data: Any) -> Any:
    return json.loads(json.dumps(data, allow_nan=False))


def test_status_reads_base_and_actuals_from_published_years_and_the_run(
    workspace: Workspace,
) -> None:
    _fill(workspace)
    status = service.target_status(workspace)
    data = _round_trip(status.as_dict())
    s12 = next(s for s in status.targets if s.target.id == "S12")
    # Base 2021: scope 1 40 t + market-based scope 2 600 t = 640 t, from the published year.
    assert s12.base is not None
    assert (s12.base.t_co2e, s12.base.scope2_method) == (640.0, "market")
    assert s12.base.source == "published: 2021 report p. 9"
    p = s12.progress
    assert p is not None
    totals = next(iter(workspace_runs(workspace)))["totals"]["totals"]
    actual_2024 = totals["scope1"] + totals["scope2_market"]
    assert [(y.year, y.actual) for y in p.years] == [
        (2021, 640.0),
        (2022, 596.0),
        (2023, 573.0),
        (2024, pytest.approx(actual_2024)),
    ]
    # Pathway 2024: 640 × (1 − 0.5 / 9 × 3) = 533.33 t (linear, never compounded).
    assert p.years[-1].pathway == pytest.approx(640 * (1 - 0.5 / 9 * 3))
    assert s12.actual_sources[2024].startswith("run r-")
    assert s12.actual_sources[2022] == "published: 2022 report p. 9, scope 2 market"
    assert data["targets"][1]["progress"]["status"] in ("on_track", "off_track")
    # The RE target reads the run's renewable share (no instruments: 0 %).
    re_target = next(s for s in status.targets if s.target.id == "RE")
    assert re_target.progress is not None
    assert [y.actual for y in re_target.progress.years] == [0.0]
    # SBTi checks on the 2021 inventory: -50 % over 9 years is 5.56 %/yr >= 4.2 %/yr.
    assert status.checks_basis == "base year 2021: published: 2021 report p. 9"
    ambition = next(c for c in status.checks if c.rule == "ambition")
    assert ambition.passed
    assert ambition.value == pytest.approx(0.5 / 9)
    assert status.temperature is not None
    assert data["temperature_unit"] == "°C"


def workspace_runs(ws: Workspace) -> list[dict[str, Any]]:
    from esgledger.inventory.runs import list_runs

    return list_runs(ws)


def test_status_without_inventories_says_why_instead_of_guessing(workspace: Workspace) -> None:
    import_rows(workspace, "targets", TARGETS[:1])
    status = service.target_status(workspace)
    (state,) = status.targets
    assert state.progress is None
    assert state.progress_note.startswith("no inventory for the base year 2021: import its")
    assert status.checks == ()
    assert status.checks_note.startswith("no inventory for the base year 2021")
    assert status.temperature is None
    _round_trip(status.as_dict())


def test_plan_runs_the_measures_on_the_run_lines_to_the_target_year(
    workspace: Workspace,
) -> None:
    _fill(workspace)
    result = service.plan(workspace)
    assert result.target is not None
    assert result.target.id == "S12"
    years = result.scenario["year"].to_pylist()
    assert (years[0], years[-1]) == (2024, 2030)
    rows = {r["year"]: r for r in result.scenario.to_pylist()}
    bau = rows[2024]["bau_t_co2e"]
    # S12 counts market-based scope 2: the scope 2 lines are priced at the run's market-based
    # scope 2 (no instruments: the grid average, not the 500 t of the location-based lines).
    market = workspace_runs(workspace)[-1]["totals"]["totals"]["scope2_market"]
    assert market != pytest.approx(500.0)
    assert bau == pytest.approx(30.0 + market)  # 30 t scope 1 + market-based scope 2
    # 2030: EFF takes 100 t of scope 2, FUEL is capped at the 30 t of scope 1.
    assert rows[2030]["remaining_t_co2e"] == pytest.approx(market - 100.0)
    capped = dict(
        zip(result.macc["id"].to_pylist(), result.macc["capped"].to_pylist(), strict=True)
    )
    assert capped == {"EFF": False, "FUEL": True}
    # Target 2030: 640 × 0.5 = 320 t; what remains above it is still to close.
    assert result.gap is not None
    assert result.gap.target_t_co2e == pytest.approx(320.0)
    assert result.gap.gap_t_co2e == pytest.approx(market - 100.0 - 320.0)
    assert any("priced market-based" in note for note in result.notes)
    data = _round_trip(result.as_dict())
    assert data["residual_gap"]["met"] is False
    assert data["source"] == f"run {result.run_id}"
    assert data["currency"] == "CNY"


def test_plan_refuses_an_unknown_or_non_absolute_target(sqlite_workspace: Workspace) -> None:
    _fill(sqlite_workspace)
    with pytest.raises(InputError, match=r"no target 'X' in the workspace \(targets: RE, S12\)"):
        service.plan(sqlite_workspace, target_id="X")
    with pytest.raises(InputError, match="target RE is a renewable_electricity target"):
        service.plan(sqlite_workspace, target_id="RE")


def test_claims_rest_on_reductions_green_power_and_credits(workspace: Workspace) -> None:
    _fill(workspace, run=False)
    import_rows(
        workspace,
        "credits",
        [
            {"id": "W", "registry": "Verra", "project": "Wind", "project_type": "wind",
             "kind": "avoidance", "standard": "VCS", "vintage": 2022, "volume_t_co2e": 1000},
        ],
    )  # fmt: skip
    import_rows(
        workspace,
        "retirements",
        [
            {"credit": "W", "volume_t_co2e": 573, "retired_on": "2024-03-01", "claim_year": 2023,
             "beneficiary": "Group", "purpose": "neutrality", "reference": "R1"},
        ],
    )  # fmt: skip
    outcome = service.claims(workspace, 2023, "carbon_neutral", "operations")
    r = outcome.result
    # 2023 vs base 2021 (location-based): 650 − 578 = 72 t reductions; green power
    # 578 − 573 = 5 t; residual 573 t covered by the 573 t of avoidance credits.
    assert (r.reductions_t, r.green_power_t, r.residual_t) == pytest.approx((72.0, 5.0, 573.0))
    assert (r.avoidance_t, r.uncovered_t, r.passed) == (pytest.approx(573.0), 0.0, True)
    assert outcome.base_year == 2021
    data = _round_trip(outcome.as_dict())
    assert data["shares"]["avoidance"] == pytest.approx(573 / 650)
    assert data["inventory_source"] == "published: 2023 report p. 9"
    with pytest.raises(InputError, match="no inventory for the claim year 2025"):
        service.claims(workspace, 2025, "carbon_neutral")


def test_add_target_stores_a_revision_only_when_it_changes(workspace: Workspace) -> None:
    first, created = service.add_target(workspace, TARGETS[0], reason="board decision")
    again, created_again = service.add_target(workspace, TARGETS[0])
    changed, created_changed = service.add_target(
        workspace, {**TARGETS[0], "reduction": 0.6}, reason="raised"
    )
    assert (first.revision, created, again.revision, created_again) == (1, True, 1, False)
    assert (changed.revision, created_changed, changed.reason) == (2, True, "raised")
    history = service.stored_targets(workspace, history=True)
    assert [(s.target.id, s.revision, s.target.reduction) for s in history] == [
        ("S12", 1, 0.5),
        ("S12", 2, 0.6),
    ]
    with pytest.raises(InputError, match="target S12 was rejected"):
        service.add_target(workspace, {**TARGETS[0], "reduction": 60})


def test_an_intensity_target_divides_by_the_typed_revenue_of_each_year(
    sqlite_workspace: Workspace,
) -> None:
    # Scope 1+2 per CNY million of revenue, base 2021: 640 t / 1,280 CNY million = 0.5.
    # Revenue (metric values, in 万元): 2023 1,350 CNY million, 2024 1,500 CNY million.
    # Actuals: 2023 33 + 540 = 573 t / 1,350 = 0.42444; 2024 the run's scope 1 + market-based
    # scope 2 / 1,500.
    ws = sqlite_workspace
    _fill(ws)
    intensity = {
        "id": "INT", "name": "Scope 1+2 per revenue -60 %", "kind": "intensity",
        "scopes": "1+2", "base_year": 2021, "target_year": 2030, "reduction": 0.6,
        "denominator": "revenue", "denominator_unit": "CNY million", "base_denominator": 1280,
    }  # fmt: skip
    import_rows(ws, "targets", [intensity])
    revenue = [
        {"metric": "revenue", "entity": "GRP", "year": y, "value": v, "unit": "万元"}
        for y, v in ((2023, 135_000), (2024, 150_000))
    ]
    import_rows(ws, "metric-values", revenue)
    status = service.target_status(ws)
    state = next(s for s in status.targets if s.target.id == "INT")
    assert state.progress is not None
    assert state.progress.unit == "t CO2e per CNY million"
    by_year = {row.year: row.actual for row in state.progress.years}
    assert by_year[2021] == pytest.approx(0.5, rel=1e-12)
    assert by_year[2023] == pytest.approx(573 / 1350, rel=1e-12)
    totals = workspace_runs(ws)[-1]["totals"]["totals"]
    actual_2024 = totals["scope1"] + totals["scope2_market"]
    assert by_year[2024] == pytest.approx(actual_2024 / 1500, rel=1e-12)
    assert state.progress_note == "denominators: metric values of 'revenue' (2023, 2024)"


def test_an_intensity_target_without_denominators_says_what_to_import(
    sqlite_workspace: Workspace,
) -> None:
    _fill(sqlite_workspace, run=False)
    intensity = {
        "id": "INT", "name": "per employee", "kind": "intensity", "scopes": "1+2",
        "base_year": 2021, "target_year": 2030, "reduction": 0.6, "denominator": "employees",
        "denominator_unit": "employee", "base_denominator": 100,
    }  # fmt: skip
    import_rows(sqlite_workspace, "targets", [intensity])
    status = service.target_status(sqlite_workspace)
    state = next(s for s in status.targets if s.target.id == "INT")
    assert state.progress is None
    assert state.progress_note == (
        "no metric values of 'employees' at the group's root entity: import them "
        "(--kind metric-values) to track this intensity target"
    )
