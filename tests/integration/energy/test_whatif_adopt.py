"""Adopting proposals: stored as planner measures (the ``import --kind measures`` store),
in one write-locked transaction with an ``energy.adopt`` audit event, idempotent, and taken
into ``plan``'s scenario and MACC; the site's grid factor comes from the factor library.

Workspace: one entity, data-centre site DC1, 13,400 MWh of 2024 electricity at DC1 priced by
the test's own factor 0.5703 kg/kWh (location-based scope 2 = 7,642.02 t).
"""

from __future__ import annotations

import pytest

from _energy_whatif import PRICES, baseline
from _inventory_support import activity, entity, import_rows, site, user_factor
from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.energy.proposals import Capex, adopt, propose, site_grid_factors
from esgledger.energy.whatif import CoolingCut, HeatReuse, UpsEcoMode
from esgledger.errors import AccessDeniedError, InputError
from esgledger.inventory.engine import calculate
from esgledger.store import Workspace
from esgledger.targets import service


def _fill(ws: Workspace) -> None:
    import_rows(ws, "entities", [entity("GRP")])
    import_rows(ws, "sites", [site("DC1", type="data_centre", region="CN-GD")])
    import_rows(ws, "factors", [user_factor("t-el", "electricity", "kWh", 0.5703)])
    import_rows(
        ws, "activities", [activity("electricity", 13_400_000, "kWh", site="DC1", factor="t-el")]
    )
    calculate(ws)


def _proposals(ws: Workspace):  # type: ignore[no-untyped-def]
    location, market = site_grid_factors(ws, "DC1", 2024)
    return propose(
        baseline(),
        [CoolingCut(share=0.4), UpsEcoMode(), HeatReuse()],
        location=location,
        market=market,
        prices=PRICES,
        capex={
            "cooling_cut": Capex(1_000_000.0, "CNY", 5),
            "ups_eco": Capex(50_000.0, "CNY", 10),
            "heat_reuse": Capex(1.0, "CNY", 5),
        },
    )


def _adopt_events(ws: Workspace) -> list[str]:
    return [e.object_id for e in audit.events(ws) if e.action == "energy.adopt"]


def test_site_grid_factor_comes_from_the_library_with_its_provenance(
    workspace: Workspace,
) -> None:
    _fill(workspace)
    # DC1 is in Guangdong: the shipped provincial MEE factor (2023, CO2 only, 0.4419 kg/kWh,
    # Announcement 2025 No. 47 Table 3) beats the test's global factor, latest earlier vintage.
    location, market = site_grid_factors(workspace, "DC1", 2024)
    assert location.factor_id == "cn-mee:location:CN-GD:2023"
    assert location.kg_co2e_per_kwh == pytest.approx(0.4419, rel=1e-9)
    assert location.vintage == 2023
    assert "2025 No. 47" in location.source
    # Market-based: the national residual mix of the same announcement (0.6096 kg/kWh).
    assert market is not None
    assert market.method == "residual_mix"
    assert market.factor_id == "cn-mee:residual_mix:CN:2023"
    assert market.kg_co2e_per_kwh == pytest.approx(0.6096, rel=1e-9)


def test_adopted_proposals_become_measures_in_the_plan_and_macc_once(
    workspace: Workspace,
) -> None:
    _fill(workspace)
    proposals = _proposals(workspace)
    ids = ["energy.DC1.cooling_cut", "energy.DC1.ups_eco"]
    done = adopt(workspace, ids, Principal.local(), proposals=proposals, start_year=2025)
    assert done.outcome == dict.fromkeys(ids, "added")
    stored = {m.id: m for m in service.stored_measures(workspace)}
    assert set(stored) == set(ids)
    # Market-based (the ranking figure): 1,000 MWh × the residual mix 0.6096 kg/kWh.
    assert stored[ids[0]].reduction_t_co2e_per_yr == pytest.approx(609.6, rel=1e-9)
    assert _adopt_events(workspace) == ids
    # Again: nothing changes, no new audit event.
    again = adopt(workspace, ids, Principal.local(), proposals=proposals, start_year=2025)
    assert again.outcome == dict.fromkeys(ids, "unchanged")
    assert _adopt_events(workspace) == ids
    # A changed start year updates the measure (one more event).
    later = adopt(workspace, ids[:1], Principal.local(), proposals=proposals, start_year=2026)
    assert later.outcome == {ids[0]: "updated"}
    assert len(_adopt_events(workspace)) == 3
    result = service.plan(workspace)
    assert set(result.macc["id"].to_pylist()) == set(ids)
    rows = {r["year"]: r for r in result.scenario.to_pylist()}
    # 2026: both measures at full effect on DC1's scope 2 lines (7,642 t hold them).
    total = stored[ids[0]].reduction_t_co2e_per_yr + stored[ids[1]].reduction_t_co2e_per_yr
    assert rows[2026]["abated_t_co2e"] == pytest.approx(total, rel=1e-9)
    assert audit.verify(workspace).intact


def test_adoption_is_all_or_nothing_and_needs_the_planning_right(workspace: Workspace) -> None:
    _fill(workspace)
    proposals = _proposals(workspace)
    with pytest.raises(InputError, match="avoids no market-based emissions"):
        adopt(
            workspace,
            ["energy.DC1.cooling_cut", "energy.DC1.heat_reuse"],
            Principal.local(),
            proposals=proposals,
            start_year=2025,
        )
    with pytest.raises(InputError, match="no proposal"):
        adopt(workspace, ["x"], None, proposals=proposals, start_year=2025)
    assert service.stored_measures(workspace) == []
    viewer = Principal("v", "viewer")
    with pytest.raises(AccessDeniedError):
        adopt(workspace, ["energy.DC1.cooling_cut"], viewer, proposals=proposals, start_year=2025)
    assert _adopt_events(workspace) == []
