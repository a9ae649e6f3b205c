"""Targets keep their history; a credit block is retired once; metrics and history upsert."""

from __future__ import annotations

from datetime import date

import pytest

from esgledger.errors import WorkspaceError
from esgledger.store import Workspace
from esgledger.store.repository import register_batch, save_entities
from esgledger.store.repository_targets import (
    load_credits,
    load_emissions_history,
    load_metric_values,
    load_retirements,
    load_targets,
    save_credits,
    save_emissions_history,
    save_metric_values,
    save_retirements,
    save_target,
)

S12 = {"id": "S12-2030", "scopes": "1+2", "base_year": 2021, "target_year": 2030, "reduction": 0.7}


def _credit(credit_id: str, serial: str, volume: float) -> dict[str, object]:
    return {
        "id": credit_id,
        "registry_name": "Verra",
        "serial_start": serial,
        "serial_end": None,
        "volume_t": volume,
        "vintage": 2023,
        "kind": "avoidance",
        "definition": {"project": "wind"},
    }


def _retirement(ref: str, credit: str, volume: float) -> dict[str, object]:
    return {
        "id": ref,
        "credit": credit,
        "volume_t": volume,
        "retired_on": date(2024, 12, 1),
        "claim_year": 2024,
        "purpose": "neutrality",
        "definition": {},
    }


def test_a_changed_target_is_a_new_revision_and_the_same_one_is_not(
    workspace: Workspace,
) -> None:
    with workspace.session() as session:
        assert save_target(session, "S12-2030", S12) == (1, True)
        assert save_target(session, "S12-2030", S12) == (1, False)
        changed = {**S12, "reduction": 0.75}
        assert save_target(session, "S12-2030", changed, reason="revalidated") == (2, True)
    with workspace.session() as session:
        current = load_targets(session)
        history = load_targets(session, history=True)
    assert [(t["revision"], t["definition"]["reduction"]) for t in current] == [(2, 0.75)]
    assert [t["revision"] for t in history] == [1, 2]
    assert history[1]["reason"] == "revalidated"


def test_a_withdrawn_target_leaves_the_current_list_but_keeps_its_history(
    workspace: Workspace,
) -> None:
    with workspace.session() as session:
        save_target(session, "S12-2030", S12)
        assert save_target(session, "S12-2030", S12, status="withdrawn") == (2, True)
    with workspace.session() as session:
        assert load_targets(session) == []
        assert [t["status"] for t in load_targets(session, withdrawn=True)] == ["withdrawn"]


def test_a_credit_block_cannot_be_retired_beyond_its_volume(workspace: Workspace) -> None:
    with workspace.session() as session:
        save_credits(session, [_credit("C1", "VCS-1-1", 100.0)], None)
        save_retirements(session, [_retirement("R1", "C1", 60.0)], None)
    with pytest.raises(WorkspaceError, match="retired beyond its volume"):  # noqa: SIM117
        with workspace.session() as session:
            save_retirements(session, [_retirement("R2", "C1", 50.0)], None)
    with workspace.session() as session:
        assert [c["retired_t"] for c in load_credits(session)] == [60.0]
        assert [r["id"] for r in load_retirements(session)] == ["R1"]


def test_a_retirement_reference_and_a_credit_block_are_registered_once(
    workspace: Workspace,
) -> None:
    with workspace.session() as session:
        save_credits(session, [_credit("C1", "VCS-1-1", 100.0)], None)
        save_retirements(session, [_retirement("R1", "C1", 10.0)], None)
    with pytest.raises(WorkspaceError, match="retirement reference is stored already"):  # noqa: SIM117
        with workspace.session() as session:
            save_retirements(session, [_retirement("R1", "C1", 10.0)], None)
    with pytest.raises(WorkspaceError, match="registered once"):  # noqa: SIM117
        with workspace.session() as session:
            save_credits(session, [_credit("C2", "VCS-1-1", 5.0)], None)
    with pytest.raises(WorkspaceError, match="unknown credit 'C9'"):  # noqa: SIM117
        with workspace.session() as session:
            save_retirements(session, [_retirement("R9", "C9", 1.0)], None)
    with workspace.session() as session:
        assert [c["retired_t"] for c in load_credits(session)] == [10.0]


def test_history_and_metric_values_are_replaced_by_their_keys(workspace: Workspace) -> None:
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="e.csv", content_hash="0" * 64, row_count=1
        )
        entity = {"code": "GRP", "name": "Group", "parent": None, "country": "CN"}
        entity |= {"ownership_pct": 100.0, "operational_control": True}
        save_entities(session, [entity | {"financial_control": True}], batch)
        row = {"year": 2021, "scope": "1", "category": 0, "t_co2e": 19_000.0, "source": "r"}
        save_emissions_history(session, [row], None)
        save_emissions_history(session, [{**row, "t_co2e": 19_500.0}], None)
        value = {
            "metric": "employees",
            "entity": "GRP",
            "period_start": date(2024, 1, 1),
            "period_end": date(2024, 12, 31),
            "breakdown": None,
            "value": 100.0,
            "unit": "employee",
        }
        save_metric_values(session, [value], None)
        save_metric_values(session, [{**value, "value": 120.0}], None)
    with workspace.session() as session:
        assert [h["t_co2e"] for h in load_emissions_history(session)] == [19_500.0]
        assert [(v["value"], v["breakdown"]) for v in load_metric_values(session, 2024)] == [
            (120.0, "")
        ]
        assert load_metric_values(session, 2023) == []


def test_history_refuses_an_unknown_scope(workspace: Workspace) -> None:
    row = {"year": 2021, "scope": "2", "category": 0, "t_co2e": 1.0, "source": "r"}
    with pytest.raises(ValueError, match="history scope must be one of"):  # noqa: SIM117
        with workspace.session() as session:
            save_emissions_history(session, [row], None)
