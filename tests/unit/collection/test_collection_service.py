"""Campaigns and tasks through the service: creation, scope, submissions (good, bad, outside
the task), the review cycle, flags, templates, evidence and progress. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from _collection_support import (
    CLOUD_OWNER,
    ESG,
    REVIEWER,
    SOC_OWNER,
    VIEWER,
    build_org,
    row,
    spec,
    write_csv,
)
from esgledger.access import Principal
from esgledger.collection import service
from esgledger.errors import AccessDeniedError, ConflictError, InputError, NotFoundError
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch
from esgledger.store.models_collection import CollectionTask
from esgledger.store.models_platform import AuditEvent


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    return build_org(workspace)


def _task(ws: Workspace, campaign: dict[str, object], target: str) -> int:
    tasks = campaign["tasks"]
    assert isinstance(tasks, list)
    return int(next(t["id"] for t in tasks if t["target"] == target))


def _batches(ws: Workspace) -> list[ImportBatch]:
    with ws.session() as session:
        return list(session.scalars(sa.select(ImportBatch).where(ImportBatch.kind == "activities")))


def _actions(ws: Workspace) -> list[str]:
    with ws.session() as session:
        return [
            str(a) for a in session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq))
        ]


def test_create_campaign_makes_one_task_per_target_and_group_with_its_owner(ws: Workspace) -> None:
    campaign = service.create_campaign(ws, ESG, spec(sites=("HQ-SZ",), metrics=("B1.1",)))
    tasks = {(t["target"], t["item_group"]): t for t in campaign["tasks"]}
    assert set(tasks) == {
        ("CLOUD", "activities"), ("CLOUD", "metrics"), ("SOC", "activities"),
        ("SOC", "metrics"), ("HQ-SZ", "activities"),
    }  # fmt: skip
    assert tasks["CLOUD", "activities"]["owner"] == "cloud_owner"
    assert tasks["SOC", "metrics"]["owner"] == "soc_owner"
    assert tasks["HQ-SZ", "activities"]["owner"] is None  # no data owner covers GRP
    assert tasks["HQ-SZ", "activities"]["entity"] == "GRP"
    assert all(t["status"] == "open" and t["version"] == 1 for t in tasks.values())
    assert _actions(ws) == ["campaign.create"]


def test_a_bad_campaign_lists_every_problem_and_creates_nothing(ws: Workspace) -> None:
    with pytest.raises(InputError) as info:
        service.create_campaign(
            ws,
            ESG,
            spec(reporting_year=2023, activities=("electricty",), entities=("NOPE",),
                 owners={"NOPE": "soc_owner"}),
        )  # fmt: skip
    columns = {i.column for i in info.value.issues}
    assert {"reporting_year", "activities", "entities"} <= columns
    assert service.list_campaigns(ws, ESG) == []


def test_an_owner_outside_the_entity_is_refused(ws: Workspace) -> None:
    with pytest.raises(InputError, match="not created") as info:
        service.create_campaign(ws, ESG, spec(owners={"CLOUD": "soc_owner"}))
    assert info.value.issues[0].column == "owners"


def test_a_data_owner_cannot_create_a_campaign(ws: Workspace) -> None:
    with pytest.raises(AccessDeniedError):
        service.create_campaign(ws, CLOUD_OWNER, spec())


def test_a_data_owner_sees_and_submits_only_within_scope(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    soc = _task(ws, campaign, "SOC")
    seen = service.list_tasks(ws, CLOUD_OWNER, campaign["id"])
    assert [t["target"] for t in seen] == ["CLOUD"]
    with pytest.raises(NotFoundError):
        service.get_task(ws, CLOUD_OWNER, soc)
    good = write_csv(tmp_path / "soc.csv", [row("SOC", "DC-SH")])
    with pytest.raises(NotFoundError):
        service.submit(ws, CLOUD_OWNER, soc, good)
    with pytest.raises(AccessDeniedError):  # in scope, but a viewer submits nothing
        service.submit(ws, VIEWER, soc, good)
    assert service.submit(ws, SOC_OWNER, soc, good)["status"] == "submitted"
    assert [c["id"] for c in service.list_campaigns(ws, VIEWER)] == [campaign["id"]]


def test_a_rejected_file_changes_neither_the_task_nor_the_data(
    ws: Workspace, tmp_path: Path
) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    before = service.get_task(ws, ESG, cloud)
    events = _actions(ws)
    bad = write_csv(tmp_path / "bad.csv", [row(), row(month=2, unit="parsecs")])
    with pytest.raises(InputError) as info:
        service.submit(ws, CLOUD_OWNER, cloud, bad)
    assert (3, "unit") in [(i.row, i.column) for i in info.value.issues]
    assert service.get_task(ws, ESG, cloud) == before
    assert _batches(ws) == []
    assert _actions(ws) == events
    assert not list((ws.lake / "activities").glob("*.parquet"))


def test_rows_outside_the_task_are_row_level_issues(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec(sites=("HQ-SZ",)))
    cloud = _task(ws, campaign, "CLOUD")
    before = service.get_task(ws, ESG, cloud)
    other = write_csv(
        tmp_path / "mixed.csv",
        [
            row(),
            row("SOC", "DC-SH", month=2),
            row(month=3, activity="stationary.natural_gas", unit="m3"),
        ],
    )
    with pytest.raises(InputError) as info:
        service.submit(ws, CLOUD_OWNER, cloud, other)
    assert [(i.row, i.column, i.value) for i in info.value.issues] == [
        (3, "entity", "SOC"),
        (4, "activity", "stationary.natural_gas"),
    ]
    assert service.get_task(ws, ESG, cloud) == before
    assert _batches(ws) == []
    assert not list((ws.lake / "activities").glob("*.parquet"))
    hq = _task(ws, campaign, "HQ-SZ")
    with pytest.raises(InputError) as info:
        service.submit(ws, ESG, hq, write_csv(tmp_path / "hq.csv", [row("GRP", "")]))
    assert [(i.row, i.column) for i in info.value.issues] == [(2, "site")]


def _accept_flags(ws: Workspace, task: int) -> None:
    """The reviewer accepts every flag (not notes) of the task's submission with a comment:
    one month submitted of a year asked for raises a gap flag (docs/platform/review-flags.md)."""
    flags = [f for f in service.get_task(ws, ESG, task)["flags"] if f["severity"] != "note"]
    assert flags, "the partial-year submission should raise a gap flag"
    for flag in flags:
        service.accept_flag(ws, REVIEWER, task, flag["id"], "the other months follow in Q2")


def test_the_whole_review_cycle(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    first = service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "a.csv", [row()]))
    assert first["status"] == "submitted"
    assert first["version"] == 2
    # a second file before the review supersedes the first (the same rows are not duplicates)
    second = service.submit(
        ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "b.csv", [row(), row(month=2)])
    )
    batches = {b.id: b for b in _batches(ws)}
    old, new = batches[first["batch_id"]], batches[second["batch_id"]]
    assert (old.status, old.superseded_by) == ("superseded", new.id)
    assert (new.status, new.task_id, new.imported_by) == ("submitted", cloud, "cloud_owner")
    with pytest.raises(AccessDeniedError):
        service.start_review(ws, CLOUD_OWNER, cloud)
    service.start_review(ws, REVIEWER, cloud)
    with pytest.raises(ConflictError, match="cannot submit task"):
        service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "c.csv", [row(month=3)]))
    with pytest.raises(InputError, match="give a reason"):
        service.return_task(ws, REVIEWER, cloud, " ")
    returned = service.return_task(ws, REVIEWER, cloud, "February is missing its bill")
    assert returned["status"] == "returned"
    third = service.submit(
        ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "d.csv", [row(), row(month=2, quantity=5)])
    )
    service.start_review(ws, REVIEWER, cloud)
    _accept_flags(ws, cloud)
    approved = service.approve(ws, REVIEWER, cloud)
    assert approved["status"] == "approved"
    assert approved["actions"] == ["reopen"]
    assert {b.id: b.status for b in _batches(ws)}[third["batch_id"]] == "approved"
    with pytest.raises(AccessDeniedError):
        service.reopen(ws, REVIEWER, cloud, "typo")
    reopened = service.reopen(ws, ESG, cloud, "the meter was replaced in March")
    assert reopened["status"] == "in_review"
    assert {b.id: b.status for b in _batches(ws)}[third["batch_id"]] == "submitted"
    history = service.get_task(ws, REVIEWER, cloud)["transitions"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("open", "submitted"), ("submitted", "submitted"), ("submitted", "in_review"),
        ("in_review", "returned"), ("returned", "submitted"), ("submitted", "in_review"),
        ("in_review", "approved"), ("approved", "in_review"),
    ]  # fmt: skip
    assert history[-1]["comment"] == "the meter was replaced in March"
    assert [a for a in _actions(ws) if a != "task.accept_flag"] == [
        "campaign.create", "import.activities", "task.submit", "import.activities",
        "task.submit", "batch.supersede", "task.start_review", "task.return",
        "import.activities", "task.submit", "batch.supersede", "task.start_review",
        "task.approve", "batch.approve", "task.reopen", "batch.reopen",
    ]  # fmt: skip


def test_the_same_bytes_again_are_refused(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    path = write_csv(tmp_path / "a.csv", [row()])
    service.submit(ws, CLOUD_OWNER, cloud, path)
    with pytest.raises(ConflictError, match="same bytes"):
        service.submit(ws, CLOUD_OWNER, cloud, path)
    assert service.get_task(ws, ESG, cloud)["version"] == 2


def test_a_stale_version_is_refused(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    with pytest.raises(ConflictError, match="changed meanwhile"):
        service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "a.csv", [row()]),
                       expected_version=7)  # fmt: skip
    assert _batches(ws) == []


def test_flags_must_be_accepted_before_approval(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "a.csv", [row()]))
    with ws.session() as session:  # as the flags module would store them
        task = session.get(CollectionTask, cloud)
        assert task is not None
        task.flags = [{"id": "yoy:DC-TJ:electricity", "code": "change", "text": {"en": "x"}}]
    service.start_review(ws, REVIEWER, cloud)
    with pytest.raises(ConflictError, match="not accepted"):
        service.approve(ws, REVIEWER, cloud)
    with pytest.raises(NotFoundError):
        service.accept_flag(ws, REVIEWER, cloud, "nope", "fine")
    with pytest.raises(InputError, match="comment"):
        service.accept_flag(ws, REVIEWER, cloud, "yoy:DC-TJ:electricity", "")
    service.accept_flag(ws, REVIEWER, cloud, "yoy:DC-TJ:electricity", "new chiller plant")
    assert service.approve(ws, REVIEWER, cloud)["status"] == "approved"
    accepted = service.get_task(ws, ESG, cloud)["acceptances"]
    assert [(a["flag_id"], a["actor"]) for a in accepted] == [("yoy:DC-TJ:electricity", "rev")]


def test_the_template_is_prefilled_and_round_trips(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(
        ws, ESG, spec(name='=HYPERLINK("x")', activities=("electricity", "stationary.diesel"))
    )
    cloud = _task(ws, campaign, "CLOUD")
    out = service.template_for_task(ws, CLOUD_OWNER, cloud, tmp_path / "t.xlsx")
    book = load_workbook(out)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["record_id", "entity", "site"]
    body = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    keys = [(r[header.index("entity")], r[header.index("activity")]) for r in body]
    assert keys == [("CLOUD", "electricity"), ("CLOUD", "stationary.diesel")]
    readme = book["README"]
    notes = [str(c.value) for c in readme["A"] if c.value]
    assert any("Send monthly bills." in n for n in notes)
    assert all(not n.startswith("=") for n in notes)  # the campaign name is neutralised
    for position, unit in ((2, "kWh"), (3, "L")):
        sheet.cell(position, header.index("quantity") + 1, 1234)
        sheet.cell(position, header.index("unit") + 1, unit)
    book.save(out)
    done = service.submit(ws, CLOUD_OWNER, cloud, out)
    assert done["status"] == "submitted"
    assert done["import"]["rows"] == 2


def test_evidence_is_checked_and_stored_by_content(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    pdf = b"%PDF-1.7\n" + b"x" * 100
    stored = service.attach_evidence(ws, CLOUD_OWNER, cloud, "../../bill.pdf", pdf)
    assert stored["name"] == "bill.pdf"
    assert stored["content_type"] == "application/pdf"
    sha = stored["sha256"]
    assert (ws.root / "evidence" / sha[:2] / sha).read_bytes() == pdf
    again = service.attach_evidence(ws, CLOUD_OWNER, cloud, "copy.pdf", pdf)
    assert again["sha256"] == sha
    assert len(list((ws.root / "evidence").rglob("*"))) == 2
    assert service.read_evidence(ws, REVIEWER, cloud, stored["id"]) == (
        pdf,
        "application/pdf",
        "bill.pdf",
    )
    for name, data, problem in (
        ("page.html", b"<html><script>alert(1)</script>", "not allowed"),
        ("photo.png", pdf, "does not match"),
        ("meter.jpg", b"GIF89a", "does not match"),
        ("data.csv", b"a,b\x00", "does not match"),
        ("empty.pdf", b"", "empty"),
    ):
        with pytest.raises(InputError) as info:
            service.attach_evidence(ws, CLOUD_OWNER, cloud, name, data)
        assert problem in info.value.issues[0].problem, name
    with pytest.raises(AccessDeniedError):
        service.attach_evidence(ws, REVIEWER, cloud, "r.pdf", pdf)
    monkeypatch.setenv(service.EVIDENCE_MAX_BYTES_ENV, "50")
    with pytest.raises(InputError, match="over the evidence limit"):
        service.attach_evidence(ws, CLOUD_OWNER, cloud, "big.pdf", pdf)
    assert [e["name"] for e in service.list_evidence(ws, ESG, cloud)] == [
        "bill.pdf", "copy.pdf"
    ]  # fmt: skip
    soc = _task(ws, campaign, "SOC")
    with pytest.raises(NotFoundError):
        service.read_evidence(ws, CLOUD_OWNER, soc, stored["id"])
    with pytest.raises(NotFoundError):  # out of scope: not found, whatever the file
        service.attach_evidence(ws, CLOUD_OWNER, soc, "big.pdf", pdf)


def test_progress_counts_statuses_and_overdue_tasks(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec(due_date=dt.date(2020, 1, 31)))
    cloud = _task(ws, campaign, "CLOUD")
    service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "a.csv", [row()]))
    service.start_review(ws, REVIEWER, cloud)
    _accept_flags(ws, cloud)
    service.approve(ws, REVIEWER, cloud)
    report = service.progress(ws, ESG, campaign["id"])
    assert report["by_status"] == {"open": 1, "submitted": 0, "in_review": 0, "returned": 0,
                                   "approved": 1}  # fmt: skip
    assert [(g["entity"], g["counts"]["approved"]) for g in report["by_entity_item"]] == [
        ("CLOUD", 1), ("SOC", 0)
    ]  # fmt: skip
    assert [t["target"] for t in report["overdue"]] == ["SOC"]
    assert report["emissions"]["baseline_run"] is None
    assert report["emissions"]["share"] is None
    mine = service.progress(ws, SOC_OWNER, campaign["id"])
    assert mine["tasks"] == 1
    with pytest.raises(NotFoundError):
        service.progress(ws, Principal("x", "data_owner", scope_entity="NOPE"), campaign["id"])


def test_a_submission_stores_its_review_flags(ws: Workspace, tmp_path: Path) -> None:
    pytest.importorskip("esgledger.collection.flags")
    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    # January to March only: the other months are a gap of a scope 2 activity
    done = service.submit(
        ws, CLOUD_OWNER, cloud,
        write_csv(tmp_path / "a.csv", [row(month=m) for m in (1, 2, 3)]),
    )  # fmt: skip
    gaps = [f for f in done["flags"] if f["code"] == "review.gap"]
    assert len(gaps) == 1
    assert gaps[0]["text"]["zh-CN"]
    service.start_review(ws, REVIEWER, cloud)
    with pytest.raises(ConflictError, match="not accepted"):
        service.approve(ws, REVIEWER, cloud)
    for flag in done["flags"]:
        if flag["severity"] != "note":
            service.accept_flag(ws, REVIEWER, cloud, flag["id"], "the site opened in April")
    assert service.approve(ws, REVIEWER, cloud)["status"] == "approved"


def test_the_template_carries_last_years_rows(ws: Workspace, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from esgledger.ingest.activities import LAKE_SCHEMA
    from esgledger.store.repository import register_batch

    rows = [
        {"batch_id": "b-2023", "row_number": n + 1, "record_id": f"X{n}", "entity": "CLOUD",
         "site": "DC-TJ", "meter": None, "period_start": dt.date(2023, n, 1),
         "period_end": dt.date(2023, n, 28), "activity": "electricity", "quantity": 100.0 * n,
         "unit": "kWh", "region": None, "supplier": None, "scope3_category": None,
         "factor": None, "correction": False, "notes": None}
        for n in (1, 2)
    ]  # fmt: skip
    (ws.lake / "activities").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, LAKE_SCHEMA), ws.lake / "activities" / "b-2023.parquet"
    )
    with ws.session() as session:
        register_batch(session, kind="activities", file_name="2023.csv", content_hash="2" * 64,
                       row_count=2, lake_path="activities/b-2023.parquet")  # fmt: skip
    campaign = service.create_campaign(ws, ESG, spec())
    out = service.template_for_task(ws, ESG, _task(ws, campaign, "CLOUD"), tmp_path / "t.xlsx")
    book = load_workbook(out)
    data = book.worksheets[0]
    header = [c.value for c in data[1]]
    starts = [r[header.index("period_start")] for r in data.iter_rows(min_row=2, values_only=True)]
    assert [s.date() for s in starts] == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    reference = book["last year"]
    names = [c.value for c in reference[1]]
    quantities = [
        r[names.index("last year's quantity / 去年数量")]
        for r in reference.iter_rows(min_row=2, values_only=True)
    ]
    assert quantities == [100.0, 200.0]
    assert service.template_for_task(ws, ESG, _task(ws, campaign, "SOC"), tmp_path / "s.xlsx")
    assert "last year" not in load_workbook(tmp_path / "s.xlsx").sheetnames


def test_a_metrics_task_has_its_own_template(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec(activities=(), metrics=("B1.1",)))
    task = next(t for t in campaign["tasks"] if t["target"] == "CLOUD")
    assert task["item_group"] == "metrics"
    book = load_workbook(service.template_for_task(ws, ESG, task["id"], tmp_path / "m.xlsx"))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[header.index("metric")], r[header.index("entity")]) for r in body] == [
        ("B1.1", "CLOUD")
    ]


def test_a_metrics_submission_is_checked_against_its_entity(ws: Workspace, tmp_path: Path) -> None:
    campaign = service.create_campaign(ws, ESG, spec(activities=(), metrics=("B1.1",)))
    task = next(t["id"] for t in campaign["tasks"] if t["target"] == "CLOUD")
    path = tmp_path / "m.csv"
    path.write_text("metric,entity,year,value,unit\nB1.1,CLOUD,2024,100,\nB1.1,SOC,2024,50,\n")
    with pytest.raises(InputError) as info:
        service.submit(ws, CLOUD_OWNER, task, path)
    assert [(i.column, i.value) for i in info.value.issues] == [("entity", "SOC")]
    with ws.session() as session:
        assert (
            session.scalars(sa.select(ImportBatch).where(ImportBatch.task_id == task)).all() == []
        )
    path.write_text("metric,entity,year,value,unit\nB1.1,CLOUD,2024,100,\n")
    done = service.submit(ws, CLOUD_OWNER, task, path)
    assert done["status"] == "submitted"
    assert done["flags"] == []


def test_a_withdrawn_submission_is_never_approved(ws: Workspace, tmp_path: Path) -> None:
    from esgledger.batches import service as batches

    campaign = service.create_campaign(ws, ESG, spec())
    cloud = _task(ws, campaign, "CLOUD")
    done = service.submit(ws, CLOUD_OWNER, cloud, write_csv(tmp_path / "a.csv", [row()]))
    service.start_review(ws, REVIEWER, cloud)
    _accept_flags(ws, cloud)
    batches.withdraw(ws, ESG, done["batch_id"], "sent to the wrong task")
    with pytest.raises(ConflictError, match="is withdrawn"):
        service.approve(ws, REVIEWER, cloud)
    assert {b.id: b.status for b in _batches(ws)}[done["batch_id"]] == "withdrawn"
    assert service.return_task(ws, REVIEWER, cloud, "withdrawn: send it again")["status"] == (
        "returned"
    )
