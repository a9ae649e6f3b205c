"""``diff_runs``: what changed between two runs, with the change of emissions attributed to
its cause line by line (runs built through the real import and engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import (
    activity,
    entity,
    import_rows,
    new_workspace,
    site,
    user_factor,
    write_csv,
)
from esgledger.ingest.importers import import_file
from esgledger.inventory import calculate
from esgledger.inventory.diff import CAUSES, diff_runs
from esgledger.store import Workspace


def _group(root: Path) -> Workspace:
    """GRP (root) burns 100 US gal of diesel (EPA Hub 2025); JV, 60 % owned and not operated
    by the group, uses 1,000 kWh in Guangdong."""
    return new_workspace(
        root,
        entities=[
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=60, operational_control="false"),
        ],
        sites=[site("DC-GD", "JV", region="CN-GD")],
        activities=[
            activity("stationary.diesel", 100, "gal", region="US", record_id="D-1"),
            activity("electricity", 1000, "kWh", entity_code="JV", site="DC-GD", record_id="E-1"),
        ],
    )


def _assert_causes_add_up(diff: object) -> None:
    total = diff.totals["total"]  # type: ignore[attr-defined]
    assert sum(diff.by_cause.values()) == pytest.approx(total["delta"], abs=1e-9)  # type: ignore[attr-defined]
    assert total["b"] - total["a"] == pytest.approx(total["delta"], abs=1e-9)


def test_two_runs_of_the_same_inputs_do_not_differ(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    first = calculate(ws, category_3=False)
    second = calculate(ws, category_3=False)
    diff = diff_runs(first, second)
    assert diff.options == {}
    assert diff.batches_added == diff.batches_removed == []
    assert diff.factor_sets == []
    assert diff.by_cause == {}
    # D-1, E-1 and E-1's scope 3 category 15 line (the JV is outside operational control).
    assert diff.lines == {"matched": 3, "added": 0, "removed": 0, "changed": 0}
    assert diff.top == []
    assert diff.totals["total"]["delta"] == 0


def test_a_gwp_change_is_attributed_to_the_gwp_set(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    ar5 = calculate(ws, gwp_set="AR5", category_3=False)
    ar6 = calculate(ws, gwp_set="AR6", category_3=False)
    diff = diff_runs(ar5, ar6)
    assert diff.options == {"gwp_set": {"a": "AR5", "b": "AR6"}}
    # 100 gal diesel: 0.041 kg CH4 x (27.9 - 28) + 0.008 kg N2O x (273 - 265) = 0.0599 kg
    # (EPA Hub 2025 Table 1 masses; IPCC AR5 and AR6 GWP-100). Grid electricity is CO2 only.
    assert diff.by_cause == {"gwp_set": pytest.approx(0.0599e-3, rel=1e-9)}
    (line,) = diff.top
    assert line["record_id"] == "D-1"
    assert line["causes"] == ["gwp_set"]
    assert diff.totals["scope1"]["delta"] == pytest.approx(0.0599e-3, rel=1e-9)
    _assert_causes_add_up(diff)


def test_a_consolidation_change_is_attributed_to_the_share(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    equity = calculate(ws, consolidation="equity", category_3=False)
    operational = calculate(ws, consolidation="operational", category_3=False)
    diff = diff_runs(equity, operational)
    assert diff.options == {"consolidation": {"a": "equity_share", "b": "operational_control"}}
    jv = next(x for x in diff.top if x["entity"] == "JV" and x["line_kind"] == "activity")
    # The JV counts 60 % under equity share and 0 % in scope 2 under operational control,
    # where its 60 % is scope 3 category 15 instead (Scope 3 Standard Table 5.4): the same
    # share moves from scope 2 to category 15, and the change is the consolidation's.
    assert jv["causes"] == ["consolidation"]
    assert jv["b_t"] == 0
    assert jv["delta_t"] == pytest.approx(-jv["a_t"], rel=1e-12)
    moved = next(x for x in diff.top if x["line_kind"] == "investment")
    assert moved["causes"] == ["consolidation"]
    assert moved["delta_t"] == pytest.approx(jv["a_t"], rel=1e-12)
    assert diff.totals["scope2_location"]["delta"] == pytest.approx(jv["delta_t"], rel=1e-12)
    assert diff.totals["total"]["delta"] == pytest.approx(0, abs=1e-12)
    assert set(diff.by_cause) <= {"consolidation"}
    _assert_causes_add_up(diff)


def test_new_activity_rows_are_added_lines_and_their_batch_is_listed(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    before = calculate(ws, category_3=False)
    import_rows(ws, "activities", [activity("stationary.diesel", 50, "gal", region="US")])
    after = calculate(ws, category_3=False)
    diff = diff_runs(before, after)
    (batch,) = diff.batches_added
    assert batch["file_name"].startswith("activities-")
    assert batch["row_count"] == 1
    assert diff.lines["added"] == 1
    assert diff.lines["matched"] == 3  # D-1, E-1 and E-1's category 15 line
    # Half the diesel of D-1, under the same factor and GWP set.
    d1 = diff_runs(before, before).totals["scope1"]["a"]
    assert diff.by_cause == {"added": pytest.approx(d1 / 2, rel=1e-12)}
    assert diff.top[0]["causes"] == ["added"]
    assert batch["cause"] == "new"
    back = diff_runs(after, before)
    (gone,) = back.batches_removed
    assert {k: gone[k] for k in ("id", "file_name", "row_count")} == {
        k: batch[k] for k in ("id", "file_name", "row_count")
    }
    assert gone["cause"] == "absent"  # imported after run "before" was made
    assert back.by_cause == {"removed": pytest.approx(-d1 / 2, rel=1e-12)}
    _assert_causes_add_up(diff)


def test_a_new_factor_is_attributed_to_the_factor_and_its_set_is_listed(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    shipped = calculate(ws, consolidation="equity", category_3=False)
    # A user factor of 0.5 kg CO2e/kWh for Guangdong, of the reporting year: it wins over the
    # shipped 2023 provincial factor (closer vintage).
    import_rows(ws, "factors", [user_factor("TEST-GD", "electricity", "kWh", 0.5, region="CN-GD")])
    user = calculate(ws, consolidation="equity", category_3=False)
    diff = diff_runs(shipped, user)
    (added,) = diff.factor_sets
    assert added["change"] == "added"
    assert added["id"].startswith("user-")
    jv = next(line for line in diff.top if line["record_id"] == "E-1")
    assert jv["causes"] == ["factor"]
    assert jv["factor_b"] == "TEST-GD"
    assert jv["factor_a"].startswith("cn-mee:")
    # 1,000 kWh x 0.5 kg/kWh x 60 % = 300 kg = 0.3 t
    assert jv["b_t"] == pytest.approx(0.3, rel=1e-12)
    assert diff.by_cause == {"factor": pytest.approx(0.3 - jv["a_t"], rel=1e-9)}
    _assert_causes_add_up(diff)


def test_a_changed_factor_value_under_the_same_id_is_named(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    path = tmp_path / "my factors.csv"
    write_csv(path, [user_factor("TEST-GD", "electricity", "kWh", 0.5, region="CN-GD")])
    import_file(ws, "factors", path)
    first = calculate(ws, consolidation="equity", category_3=False)
    write_csv(path, [user_factor("TEST-GD", "electricity", "kWh", 0.6, region="CN-GD")])
    import_file(ws, "factors", path)
    second = calculate(ws, consolidation="equity", category_3=False)
    diff = diff_runs(first, second)
    (changed,) = diff.factor_sets
    assert changed["change"] == "changed"
    assert "sha256" in changed["fields"]
    assert diff.reference_data == []
    # 1,000 kWh x (0.6 - 0.5) kg/kWh x 60 % = 60 kg
    assert diff.by_cause == {"factor_value": pytest.approx(0.06, rel=1e-9)}
    _assert_causes_add_up(diff)


def test_several_causes_at_once_add_up_to_the_change(tmp_path: Path) -> None:
    ws = _group(tmp_path / "ws")
    first = calculate(ws, gwp_set="AR5", consolidation="equity", category_3=False)
    import_rows(ws, "activities", [activity("stationary.diesel", 7, "gal", region="US")])
    import_rows(ws, "factors", [user_factor("TEST-GD", "electricity", "kWh", 0.5, region="CN-GD")])
    second = calculate(ws, gwp_set="AR6", consolidation="financial", category_3=False)
    diff = diff_runs(first, second, top=1)
    assert set(diff.by_cause) <= set(CAUSES)
    assert {"added", "gwp_set", "factor"} <= set(diff.by_cause)
    assert len(diff.top) == 1
    assert abs(diff.top[0]["delta_t"]) == max(
        abs(line["delta_t"]) for line in diff_runs(first, second, top=100).top
    )
    by_scope = sum(row["delta_t"] for row in diff.by_scope_cause)
    assert by_scope == pytest.approx(diff.totals["total"]["delta"], abs=1e-9)
    _assert_causes_add_up(diff)
