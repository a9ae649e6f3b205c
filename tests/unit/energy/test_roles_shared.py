"""The shared helpers the energy modules use for one rule each: which role measures E_IT
(``roles.it_role``), which meters carry a role's energy (``roles.top_meters``, summed by
``balance.role_totals``), and a factor's CO2e per unit (``grid.co2e_per_unit``)."""

from __future__ import annotations

import math

import pytest

from esgledger.energy.balance import MeterTotal, role_totals
from esgledger.energy.grid import co2e_per_unit
from esgledger.energy.roles import IT_ROLE_BY_CATEGORY, IT_ROLES, it_category, it_role
from esgledger.gwp import gwp


def test_it_roles_run_from_the_best_measurement_category_down() -> None:
    assert IT_ROLES == ("it_input", "pdu_output", "ups_output")
    assert [it_category(r) for r in IT_ROLES] == [3, 2, 1]
    assert all(IT_ROLE_BY_CATEGORY[it_category(r) or 0] == r for r in IT_ROLES)
    assert it_category("incomer") is None


def test_it_role_takes_any_iterable_and_prefers_the_most_downstream() -> None:
    assert it_role(iter(["ups_output", "it_input", "cooling"])) == "it_input"
    assert it_role({"pdu_output": 1.0, "ups_output": 2.0}) == "pdu_output"
    assert it_role(["incomer", "cooling"]) is None
    assert it_role([]) is None


def test_role_totals_add_top_meters_only_and_drop_a_role_with_an_unknown_top_meter() -> None:
    meters = [
        MeterTotal("INC", "incomer", None, 1300.0),
        MeterTotal("COOL", "cooling", "INC", 200.0),
        MeterTotal("CH1", "cooling", "COOL", 150.0),  # a sub-meter: inside COOL's 200
        MeterTotal("CRAH", "cooling", "INC", 30.0),
        MeterTotal("IT1", "it_input", "INC", None),  # unknown: IT is not metered
        MeterTotal("IT2", "it_input", "INC", 900.0),
        MeterTotal("LIGHT", "other", "GONE", 12.0),  # parent not in the tree: a top meter
    ]
    totals = role_totals(meters)
    assert totals == {"incomer": 1300.0, "cooling": 230.0, "other": 12.0}


def test_an_unknown_sub_meter_does_not_hide_its_role() -> None:
    meters = [
        MeterTotal("COOL", "cooling", None, 200.0),
        MeterTotal("CH1", "cooling", "COOL", None),
    ]
    assert role_totals(meters) == {"cooling": 200.0}


def test_co2e_per_unit_follows_the_inventory_engine_rule() -> None:
    # published CO2e under the set asked for: taken as it is
    assert co2e_per_unit({"co2e_kg": 0.6, "gwp_basis": "AR5", "co2_kg": 0.5}, "AR5") == 0.6
    # under another set: CO2 + CH4 · GWP + N2O · GWP of the set asked for
    factor = {"co2e_kg": 0.6, "gwp_basis": "AR4", "co2_kg": 0.5, "ch4_kg": 0.01, "n2o_kg": 0.001}
    expected = 0.5 + 0.01 * gwp("CH4", "AR5") + 0.001 * gwp("N2O", "AR5")
    assert co2e_per_unit(factor, "AR5") == pytest.approx(expected)
    # no gases: the published CO2e whatever its set; NaN counts as missing
    assert co2e_per_unit({"co2e_kg": 0.6, "gwp_basis": "AR4", "co2_kg": math.nan}, "AR5") == 0.6
    assert co2e_per_unit({"co2e_kg": math.nan}, "AR5") is None
