"""The import dispatcher: each kind goes to its importer; an unknown kind is refused."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from esgledger.errors import InputError, Issue
from esgledger.ingest import ImportResult
from esgledger.ingest.importers import KINDS, import_file, importer_for
from esgledger.store import Workspace


def test_kinds_match_the_cli_choices() -> None:
    from esgledger.cli._commands_workspace import ImportKind

    assert set(KINDS) == {kind.value for kind in ImportKind}


def test_unknown_kind_is_refused_with_the_kinds() -> None:
    with pytest.raises(InputError) as info:
        importer_for("telemetry")
    kinds = (
        "entities, sites, activity-types, factors, fx, activities, instruments, emissions-history, "
        "targets, measures, credits, retirements, metrics, metric-values, meters, readings, "
        "weather, trips"
    )
    assert info.value.summary == f"cannot import files of kind 'telemetry': the kinds are {kinds}"
    assert info.value.issues == (
        Issue("", None, None, "telemetry", "unknown import kind", f"choose one of {kinds}"),
    )


@pytest.mark.parametrize(
    ("kind", "function"),
    [
        ("entities", "import_entities"),
        ("sites", "import_sites"),
        ("activity-types", "import_activity_types"),
        ("factors", "import_factors"),
        ("fx", "import_fx"),
    ],
)
def test_reference_kinds_go_to_the_reference_importers(
    kind: str, function: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, str, Path, bool]] = []

    def fake(workspace: object, path: Path, *, progress: bool = False) -> ImportResult:
        calls.append((workspace, function, path, progress))
        return ImportResult(kind, "b-000000000000", path.name, 1, True, "done")

    module = types.ModuleType("esgledger.ingest.reference")
    setattr(module, function, fake)
    monkeypatch.setitem(sys.modules, "esgledger.ingest.reference", module)
    monkeypatch.setattr(sys.modules["esgledger.ingest"], "reference", module, raising=False)
    workspace = object()
    result = import_file(workspace, kind, str(tmp_path / "x.csv"), progress=True)  # type: ignore[arg-type]
    assert calls == [(workspace, function, tmp_path / "x.csv", True)]
    assert result.message == "done"


def test_activities_go_to_the_activity_importer(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    # The workspace has no entities: the activity importer itself answers.
    path = tmp_path / "a.csv"
    path.write_text(
        "entity,period_start,period_end,activity,quantity,unit\n"
        "ACME,2024-01-01,2024-01-31,electricity,5,kWh\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        import_file(sqlite_workspace, "activities", path)
    assert [(i.row, i.column, i.problem) for i in info.value.issues] == [
        (2, "entity", "unknown entity")
    ]
