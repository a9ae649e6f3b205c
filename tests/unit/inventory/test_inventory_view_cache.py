"""The inventory view cache of ``esgledger.inventory.service``: computed once per run and
scope, a fresh copy per caller, a new run seen at once, scopes never mixed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _inventory_support import activity, entity, new_workspace, site
from esgledger.access import Principal
from esgledger.contract import jsonable
from esgledger.inventory import calculate, service
from esgledger.inventory.runs import load_run, summary
from esgledger.store import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP"), entity("BU1", parent="GRP"), entity("BU2", parent="GRP")],
        sites=[site("S1", "BU1", region="CN-GD"), site("S2", "BU2", region="CN-GD")],
        activities=[
            activity("electricity", 1_000, "MWh", site="S1", entity_code="BU1"),
            activity("electricity", 3_000, "MWh", site="S2", entity_code="BU2"),
        ],
    )
    calculate(workspace)
    yield workspace
    workspace.close()


@pytest.fixture
def summaries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The run ids :func:`summary` was computed for, in order."""
    calls: list[str] = []

    def counted(run: Any) -> dict[str, Any]:
        calls.append(run.run_id)
        return summary(run)

    monkeypatch.setattr(service, "summary", counted)
    return calls


def test_a_view_is_computed_once_and_each_caller_gets_a_copy(
    ws: Workspace, summaries: list[str]
) -> None:
    admin = Principal.local()
    first = service.inventory_view(ws, admin)
    first["totals"]["total"] = -1.0  # a caller's change never reaches the cache
    second = service.inventory_view(ws, admin)
    assert len(summaries) == 1
    assert second["totals"]["total"] > 0
    assert second == service.inventory_view(ws, admin)
    assert second == _fresh(ws)


def test_a_new_run_is_seen_at_once(ws: Workspace, summaries: list[str]) -> None:
    admin = Principal.local()
    before = service.inventory_view(ws, admin)
    newer = calculate(ws, gwp_set="AR5")
    after = service.inventory_view(ws, admin)
    assert after["run"]["run_id"] == newer.run_id != before["run"]["run_id"]
    assert service.inventory_view(ws, admin, before["run"]["run_id"]) == before
    assert len(summaries) == 2


def test_scopes_are_cached_apart(ws: Workspace, summaries: list[str]) -> None:
    whole = service.inventory_view(ws, Principal.local())
    one = service.inventory_view(ws, Principal("o1", "viewer", scope_entity="BU1"))
    two = service.inventory_view(ws, Principal("o2", "viewer", scope_entity="BU2"))
    again = service.inventory_view(ws, Principal("o3", "data_owner", scope_entity="BU1"))
    assert one["scope"]["entities"] == ["BU1"] == again["scope"]["entities"]
    assert two["scope"]["entities"] == ["BU2"]
    assert one["totals"]["total"] + two["totals"]["total"] == pytest.approx(
        whole["totals"]["total"]
    )
    assert len(summaries) == 3  # the second BU1 principal shares BU1's view


def test_the_cache_is_bounded(
    ws: Workspace, summaries: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "VIEW_CACHE_SIZE", 1)
    admin = Principal.local()
    first = service.inventory_view(ws, admin)["run"]["run_id"]
    calculate(ws, gwp_set="AR5")
    service.inventory_view(ws, admin)  # the newer run's view pushes the first one out
    service.inventory_view(ws, admin, first)
    assert len(summaries) == 3


def _fresh(ws: Workspace) -> dict[str, Any]:
    fresh: dict[str, Any] = jsonable(summary(load_run(ws)))
    return fresh
