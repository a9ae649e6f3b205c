"""Corrections without deletion: withdraw and supersede activity batches; only approved
batches enter a calculation unless a preview run includes submitted ones; the manifest and
``diff`` name the batches used, left out and why (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import activity, entity, import_rows, site, write_csv
from esgledger import audit
from esgledger.access import Principal
from esgledger.batches import list_batches, show, supersede, withdraw
from esgledger.errors import AccessDeniedError, ConflictError, InputError, NotFoundError
from esgledger.ingest.importers import import_file
from esgledger.inventory import calculate, list_runs
from esgledger.inventory.diff import diff_runs
from esgledger.store import Workspace

OFFICE = Principal("office", "esg_office")


def _batch(ws: Workspace, file_name: str) -> str:
    (found,) = [b for b in list_batches(ws, OFFICE) if b["file_name"] == file_name]
    return str(found["id"])


def _group(ws: Workspace, tmp_path: Path) -> tuple[str, str]:
    """GRP with two subsidiaries; A: 100 gal diesel at GRP (record D-1); B: 1,000 kWh at
    SUB-1's site. Returns the ids of batches A and B."""
    import_rows(
        ws,
        "entities",
        [entity("GRP"), entity("SUB-1", parent="GRP"), entity("SUB-2", parent="GRP")],
    )
    import_rows(ws, "sites", [site("S1", "SUB-1", region="CN-GD")])
    write_csv(
        tmp_path / "a.csv",
        [activity("stationary.diesel", 100, "gal", region="US", record_id="D-1")],
    )
    write_csv(
        tmp_path / "b.csv",
        [activity("electricity", 1000, "kWh", entity_code="SUB-1", site="S1", record_id="E-1")],
    )
    a = import_file(ws, "activities", tmp_path / "a.csv", principal=OFFICE)
    b = import_file(ws, "activities", tmp_path / "b.csv", principal=OFFICE)
    return a.batch_id, b.batch_id


def test_withdrawn_batch_leaves_the_next_run_and_diff_names_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    a, b = _group(workspace, tmp_path)
    before = calculate(workspace, category_3=False)
    assert [x["id"] for x in before.manifest["batches"]] == [a, b]
    assert before.manifest["preview"] is False
    assert before.manifest["included_statuses"] == ["approved"]

    view = withdraw(workspace, OFFICE, b, "  duplicate of the March upload  ")
    assert view["status"] == "withdrawn"
    assert view["status_changed_by"] == "office"
    assert view["status_reason"] == "duplicate of the March upload"
    assert view["lake_file_present"] is True  # the lake file stays
    assert (workspace.lake / str(view["lake_path"])).is_file()

    after = calculate(workspace, category_3=False)
    assert [x["id"] for x in after.manifest["batches"]] == [a]
    (left,) = after.manifest["excluded_batches"]
    assert (left["id"], left["status"], left["reason"]) == (
        b,
        "withdrawn",
        "duplicate of the March upload",
    )
    assert set(after.line_items(["batch_id"]).column("batch_id").to_pylist()) == {a}

    diff = diff_runs(before, after)
    (removed,) = diff.batches_removed
    assert removed["id"] == b
    assert removed["cause"] == "withdrawn"
    assert removed["reason"] == "duplicate of the March upload"
    assert removed["changed_by"] == "office"
    assert diff.by_cause["removed"] < 0

    with pytest.raises(ConflictError, match="already withdrawn"):
        withdraw(workspace, OFFICE, b, "again")
    # The same bytes again do not bring the batch back.
    with pytest.raises(ConflictError, match="withdrawn"):
        import_file(workspace, "activities", tmp_path / "b.csv")


def test_supersede_puts_the_corrected_rows_in_and_the_old_ones_out(
    workspace: Workspace, tmp_path: Path
) -> None:
    a, _b = _group(workspace, tmp_path)
    before = calculate(workspace, category_3=False)
    # The same record id with a corrected quantity: without the correction it would be
    # refused as a record already in the lake.
    fixed = write_csv(
        tmp_path / "a-fixed.csv",
        [activity("stationary.diesel", 120, "gal", region="US", record_id="D-1")],
    )
    with pytest.raises(InputError, match="record"):
        import_file(workspace, "activities", fixed)

    result = supersede(workspace, OFFICE, a, fixed, "meter read corrected by the supplier")
    new = result["new"]["id"]
    assert result["old"]["status"] == "superseded"
    assert result["old"]["superseded_by"] == new
    assert result["old"]["status_reason"] == "meter read corrected by the supplier"
    assert result["old"]["lake_file_present"] is True
    assert result["new"]["status"] == "approved"
    assert result["new"]["supersedes"] == [a]
    assert show(workspace, OFFICE, new)["imported_by"] == "office"

    after = calculate(workspace, category_3=False)
    used = {x["id"]: x for x in after.manifest["batches"]}
    assert a not in used
    assert used[new]["supersedes"] == [a]
    diff = diff_runs(before, after)
    (added,) = diff.batches_added
    (removed,) = diff.batches_removed
    assert (added["id"], added["cause"], added["supersedes"]) == (new, "superseding", [a])
    assert (removed["id"], removed["cause"], removed["superseded_by"]) == (a, "superseded", new)
    assert diff.totals["scope1"]["delta"] == pytest.approx(diff.totals["scope1"]["a"] * 0.2)

    actions = [e.action for e in audit.events(workspace)]
    assert actions[-3:] == ["import.activities", "batch.supersede", "run.calculate"]
    with pytest.raises(ConflictError, match="already superseded"):
        supersede(workspace, OFFICE, a, fixed, "again")


def test_a_rejected_correction_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    a, _b = _group(workspace, tmp_path)
    bad = write_csv(tmp_path / "bad.csv", [activity("stationary.diesel", "lots", "gal")])
    events = len(audit.events(workspace))
    with pytest.raises(InputError):
        supersede(workspace, OFFICE, a, bad, "fix")
    assert show(workspace, OFFICE, a)["status"] == "approved"
    assert len(list_batches(workspace, OFFICE, kind="activities")) == 2
    assert len(audit.events(workspace)) == events
    # A correction identical to what is registered is refused too.
    with pytest.raises(ConflictError, match="same content"):
        supersede(workspace, OFFICE, a, tmp_path / "a.csv", "fix")


def test_reference_batches_and_bad_reasons_are_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    a, _b = _group(workspace, tmp_path)
    (entities,) = list_batches(workspace, OFFICE, kind="entities")
    with pytest.raises(ConflictError, match="cannot be withdrawn"):
        withdraw(workspace, OFFICE, entities["id"], "wrong parent")
    for reason in ("", "   ", "x" * 1001, "bell\x07"):
        with pytest.raises(InputError):
            withdraw(workspace, OFFICE, a, reason)
    with pytest.raises(NotFoundError):
        withdraw(workspace, OFFICE, "b-000000000000", "gone")
    assert show(workspace, OFFICE, a)["status"] == "approved"


def test_roles_and_scope(workspace: Workspace, tmp_path: Path) -> None:
    a, b = _group(workspace, tmp_path)
    with pytest.raises(AccessDeniedError):
        withdraw(workspace, Principal("v", "viewer"), a, "no")
    with pytest.raises(AccessDeniedError):
        withdraw(workspace, Principal("o", "data_owner", scope_entity="SUB-1"), b, "no")
    owner = Principal("o", "data_owner", scope_entity="SUB-1")
    assert [v["id"] for v in list_batches(workspace, owner)] == [b]  # SUB-1's rows only
    other = Principal("p", "data_owner", scope_entity="SUB-2")
    assert list_batches(workspace, other) == []
    with pytest.raises(NotFoundError):
        show(workspace, other, b)
    reviewer = Principal("r", "reviewer", scope_entity="SUB-2")
    with pytest.raises(NotFoundError):  # out of scope: the same answer as a missing batch
        withdraw(workspace, reviewer, b, "not mine")
    assert show(workspace, OFFICE, b)["entities"] == ["SUB-1"]


def test_only_approved_batches_by_default_and_a_marked_preview_with_submitted(
    workspace: Workspace, tmp_path: Path
) -> None:
    a, _b = _group(workspace, tmp_path)
    late = write_csv(
        tmp_path / "late.csv",
        [activity("stationary.diesel", 50, "gal", region="US", record_id="D-2")],
    )
    pending = import_file(
        workspace, "activities", late, principal=Principal("owner", "data_owner"),
        status="submitted",
    ).batch_id  # fmt: skip
    assert show(workspace, OFFICE, pending)["status"] == "submitted"

    approved = calculate(workspace, category_3=False)
    assert pending not in {x["id"] for x in approved.manifest["batches"]}
    assert [x["status"] for x in approved.manifest["excluded_batches"]] == ["submitted"]

    preview = calculate(workspace, category_3=False, include=["submitted"])
    assert preview.manifest["preview"] is True
    assert preview.manifest["included_statuses"] == ["approved", "submitted"]
    statuses = {x["id"]: x["status"] for x in preview.manifest["batches"]}
    assert statuses[pending] == "submitted"
    assert statuses[a] == "approved"
    assert {r["id"]: r["preview"] for r in list_runs(workspace)} == {
        approved.run_id: False,
        preview.run_id: True,
    }
    with pytest.raises(InputError):
        calculate(workspace, include=["withdrawn"])

    from esgledger.targets.actuals import yearly_inventories

    # A preview is never the year's inventory.
    assert yearly_inventories(workspace)[2024].run_id == approved.run_id


def test_a_report_of_a_preview_run_says_so(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    import datetime as dt

    from esgledger.report.builder import build_document
    from esgledger.report.render import render_html

    ws = sqlite_workspace
    _group(ws, tmp_path)
    extra = write_csv(tmp_path / "x.csv", [activity("stationary.diesel", 5, "gal", region="US")])
    import_file(ws, "activities", extra, status="submitted")
    stamp = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    approved = calculate(ws, category_3=False)
    plain = build_document(ws, run_id=approved.run_id, generated_at=stamp)
    assert plain.preview == ()
    assert "PREVIEW" not in render_html(plain, "en")
    preview = calculate(ws, category_3=False, include=["submitted"])
    doc = build_document(ws, run_id=preview.run_id, generated_at=stamp)
    assert doc.preview == ("submitted",)
    assert doc.is_draft
    english, chinese = render_html(doc, "en"), render_html(doc, "zh-CN")
    assert "PREVIEW — includes unapproved data" in english
    assert 'id="preview"' in english
    assert preview.run_id in english
    assert "预览——含未审批数据" in chinese
    assert "已提交" in chinese


def test_a_correction_racing_a_withdrawal_writes_nothing(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old batch is withdrawn by someone else after the corrected file was validated and
    before the import's write lock: the supersede fails whole (no new batch, no lake file)."""
    import esgledger.ingest.batches as batches_module

    a, _b = _group(workspace, tmp_path)
    fixed = write_csv(
        tmp_path / "a-fixed.csv",
        [activity("stationary.diesel", 120, "gal", region="US", record_id="D-1")],
    )
    real = batches_module.pause_at

    def race(point: str) -> None:
        if point == "validated":
            withdraw(workspace, Principal("other", "esg_office"), a, "withdrawn meanwhile")
        real(point)

    monkeypatch.setattr(batches_module, "pause_at", race)
    with pytest.raises(ConflictError, match="already withdrawn by other"):
        supersede(workspace, OFFICE, a, fixed, "fix")
    monkeypatch.setattr(batches_module, "pause_at", real)
    assert show(workspace, OFFICE, a)["status"] == "withdrawn"
    assert len(list_batches(workspace, OFFICE, kind="activities")) == 2
    assert sorted(p.name for p in (workspace.lake / "activities").iterdir()) == sorted(
        f"{b}.parquet" for b in (a, _b)
    )
    assert [e.action for e in audit.events(workspace)][-1] == "batch.withdraw"
