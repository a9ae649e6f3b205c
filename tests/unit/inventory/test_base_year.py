"""Base year: the recalculation rules (pure function), the changes file, and the base year
kept in the workspace."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from _inventory_support import activity, entity, new_workspace
from esgledger.errors import InputError, WorkspaceError
from esgledger.inventory import calculate
from esgledger.inventory.base_year import (
    ChangeKind,
    StructuralChange,
    base_year_history,
    current_base_year,
    read_changes,
    recalculate,
    record_recalculation,
    set_base_year,
)

BASE = {"A": 60.0, "B": 40.0}  # 100 t: 1 t is 1 %


def test_a_change_at_the_threshold_triggers_and_below_it_does_not() -> None:
    at = recalculate(BASE, [StructuralChange("acquisition", "C", 5.0)])
    assert at.triggered
    assert at.recalculated_total_t_co2e == 105.0
    assert at.recalculated_by_unit == {"A": 60.0, "B": 40.0, "C": 5.0}
    below = recalculate(BASE, [StructuralChange("acquisition", "C", 4.9)])
    assert not below.triggered
    assert below.recalculated_total_t_co2e == 100.0
    assert below.recalculated_by_unit == BASE
    assert below.assessments[0].qualifies
    assert not below.assessments[0].applied
    assert below.reason.startswith("not recalculated: 1 qualifying change(s) together move")


def test_small_changes_count_cumulatively_whatever_their_sign() -> None:
    one = [StructuralChange("acquisition", "C", 3.0)]
    assert not recalculate(BASE, one).triggered
    both = [*one, StructuralChange("divestment", "B", 3.0)]
    result = recalculate(BASE, both)
    # 3 t in and 3 t out: 6 % of change to the boundary, net zero.
    assert result.triggered
    assert result.cumulative_share == pytest.approx(0.06)
    assert result.net_adjustment_t_co2e == 0.0
    assert result.recalculated_by_unit == {"A": 60.0, "B": 37.0, "C": 3.0}
    assert all(a.applied for a in result.assessments)


def test_organic_change_and_units_new_since_the_base_year_never_trigger() -> None:
    result = recalculate(
        BASE,
        [
            StructuralChange("organic", "A", 50.0),
            StructuralChange("acquisition", "NEW", 30.0, existed_in_base_year=False),
            StructuralChange("insourcing", "NEW2", 30.0, existed_in_base_year=False),
        ],
    )
    assert not result.triggered
    assert [a.qualifies for a in result.assessments] == [False, False, False]
    assert result.reason == "no change qualifies for recalculation: the base year stands"
    assert result.assessments[0].reason == (
        "organic growth or decline never triggers a recalculation (Corporate Standard ch. 5)"
    )
    assert result.assessments[1].reason == (
        "acquisition of NEW, which did not exist in the base year: no recalculation "
        "(Corporate Standard ch. 5)"
    )


def test_divestments_take_the_units_base_year_emissions_by_default() -> None:
    result = recalculate(BASE, [StructuralChange("divestment", "B")])
    assert result.recalculated_by_unit == {"A": 60.0}
    assert result.assessments[0].adjustment_t_co2e == -40.0
    outsourced = recalculate(BASE, [StructuralChange("outsourcing", "A", 10.0)])
    assert outsourced.recalculated_by_unit == {"A": 50.0, "B": 40.0}


def test_methodology_factor_and_error_changes_are_signed_corrections() -> None:
    result = recalculate(
        BASE,
        [
            StructuralChange("methodology", "A", -4.0),
            StructuralChange(ChangeKind.FACTOR, "B", 2.0),
            StructuralChange("error", "A", 1.0),
        ],
    )
    assert result.cumulative_t_co2e == 7.0
    assert result.triggered
    assert result.recalculated_by_unit == {"A": 57.0, "B": 42.0}
    assert result.net_adjustment_t_co2e == -1.0


def test_the_threshold_is_configurable() -> None:
    change = [StructuralChange("acquisition", "C", 7.0)]
    assert recalculate(BASE, change).triggered
    # Scope 3 Standard §9.3 gives 10 % as an example of a significance threshold.
    assert not recalculate(BASE, change, threshold=0.10).triggered


def test_intermediate_years_are_recalculated_before_the_change_takes_effect() -> None:
    change = StructuralChange(
        "acquisition", "C", 10.0, effective_date=date(2026, 1, 1), by_year_t_co2e={2025: 12.0}
    )
    result = recalculate(BASE, [change], other_years={2025: {"A": 70, "B": 45}, 2026: {"A": 1}})
    assert result.other_years == {2025: 127.0, 2026: 1.0}


def test_bad_inputs_are_refused_with_exact_messages() -> None:
    with pytest.raises(InputError, match=r"^The significance threshold must be a fraction "):
        recalculate(BASE, [], threshold=5)
    with pytest.raises(InputError, match=r"^The base year has no emissions \(0.0 t CO2e\)"):
        recalculate({"A": 0.0}, [])
    with pytest.raises(InputError, match=r"^Unknown change kind 'merge': choose one of "):
        StructuralChange("merge", "A", 1.0)
    with pytest.raises(InputError, match=r"^acquisition of 'C' needs base_year_t_co2e"):
        recalculate(BASE, [StructuralChange("acquisition", "C")])
    with pytest.raises(InputError, match=r"^divestment of 'Z': give its base-year emissions"):
        recalculate(BASE, [StructuralChange("divestment", "Z")])
    with pytest.raises(InputError, match=r"^acquisition of 'C': base_year_t_co2e must not be"):
        recalculate(BASE, [StructuralChange("acquisition", "C", -1.0)])


def test_the_changes_file_is_read_and_every_bad_cell_reported(tmp_path: Path) -> None:
    good = tmp_path / "changes.csv"
    good.write_text(
        "kind,entity,base_year_t_co2e,effective_date,note,existed_in_base_year\n"
        'Acquisition,C,"1,250.5",2026-01-01,deal,\n'
        "divestment,B,,,,\n"
        "acquisition,NEW,0,,built 2025,否\n",
        encoding="utf-8",
    )
    changes = read_changes(good)
    assert changes == [
        StructuralChange("acquisition", "C", 1250.5, date(2026, 1, 1), "deal"),
        StructuralChange("divestment", "B"),
        StructuralChange("acquisition", "NEW", 0.0, None, "built 2025", False),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "kind,unit,base_year_t_co2e,effective_date\ntakeover,C,1,\nacquisition,,x,2026-13-01\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"^bad.csv was rejected: 4 issue\(s\) found") as caught:
        read_changes(bad)
    assert [(i.row, i.column) for i in caught.value.issues] == [
        (2, "kind"),
        (3, "unit"),
        (3, "base_year_t_co2e"),
        (3, "effective_date"),
    ]
    missing = tmp_path / "missing.csv"
    missing.write_text("kind,unit\nacquisition,C\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^missing.csv was rejected: 1 issue\(s\) found"):
        read_changes(missing)


def test_the_workspace_keeps_the_base_year_and_its_history(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP", country="US"), entity("SUB", parent="GRP", country="US")],
        activities=[
            activity("stationary.diesel", 1000, "gal", region="US"),
            activity("stationary.diesel", 1000, "gal", region="US", entity_code="SUB"),
        ],
    )
    with pytest.raises(WorkspaceError, match="has no base year; designate a run with"):
        current_base_year(ws)
    run = calculate(ws, gwp_set="AR5", category_3=False)
    base = set_base_year(ws, run.run_id, note="first full inventory")
    assert base.base_year == 2024
    # EPA Hub 2025 Table 1: 1,000 US gal diesel = 10.24268 t CO2e (AR5) per entity.
    assert base.by_unit("entity") == pytest.approx({"GRP": 10.24268, "SUB": 10.24268})
    assert current_base_year(ws) == base

    # 0.5 t is 2.4 % of 20.49 t: assessed, stored, pending.
    small = StructuralChange("acquisition", "NEWCO", 0.5)
    first = record_recalculation(ws, [small])
    assert not first.triggered
    assert current_base_year(ws).pending == (small,)
    # The same change again is counted once; a second 0.6 t makes 5.3 % together.
    second = record_recalculation(ws, [small, StructuralChange("error", "GRP", 0.6)])
    assert second.triggered
    assert second.recalculated_total_t_co2e == pytest.approx(2 * 10.24268 + 1.1)
    now = current_base_year(ws)
    assert now.recalculated
    assert now.pending == ()
    assert now.by_unit("entity") == pytest.approx(
        {"GRP": 10.24268 + 0.6, "SUB": 10.24268, "NEWCO": 0.5}
    )
    with pytest.raises(InputError, match=r"^The base year was last recalculated by entity: "):
        now.by_unit("site")
    dry = record_recalculation(ws, [StructuralChange("divestment", "SUB")], save=False)
    assert dry.triggered
    assert [e["kind"] for e in base_year_history(ws)] == ["set", "assessed", "recalculated"]
    ws.close()
