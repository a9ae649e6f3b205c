"""The data-collection pages in process: my tasks (template, upload with its row-level
problems and the offending cells highlighted, evidence), the review queue (flags, last year
side by side, accept, return, approve) and the campaigns (create, progress, assign, overdue
reminders) — through the forms, with the roles' refusals, escaping and zh-CN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from _web_support import DemoCopy, copy_demo, page_client

#: The demo's submitted task: Cloud's water (cloud.owner, scope CLOUD; cloud.reviewer).
CLOUD_TASK = 1
GAME_TASK = 2
SCRIPT = "<script>alert(1)</script>"
HEADER = "record_id,entity,site,period_start,period_end,activity,quantity,unit,supplier,notes\n"


def water_csv(quantity: str = "93000", notes: str = "meter") -> bytes:
    """Cloud's water for April to June; the May quantity is ``quantity``."""
    rows = [
        f"CW-2024-04,CLOUD,DC-TJ,2024-04-01,2024-04-30,water.supply,91422.2,m3,,{notes}",
        f"CW-2024-05,CLOUD,DC-TJ,2024-05-01,2024-05-31,water.supply,{quantity},m3,,{notes}",
        f"CW-2024-06,CLOUD,DC-TJ,2024-06-01,2024-06-30,water.supply,95921.6,m3,,{notes}",
    ]
    return (HEADER + "\n".join(rows) + "\n").encode()


def task_state(demo: DemoCopy, task_id: int = CLOUD_TASK) -> dict[str, Any]:
    from esgledger.access import Principal
    from esgledger.collection import service
    from esgledger.store.workspace import Workspace

    office = Principal(username="esg.office", role="esg_office")
    return service.get_task(Workspace.open(demo.path), office, task_id)


def upload(client: Any, name: str, data: bytes, task_id: int = CLOUD_TASK) -> Any:
    return client.post(
        f"/tasks/{task_id}/upload",
        data={"csrf_token": client.csrf},
        files={"file": (name, data, "text/csv")},
    )


@pytest.fixture
def demo(web_demo: DemoCopy, tmp_path: Path) -> DemoCopy:
    return copy_demo(web_demo, tmp_path / "demo")


def test_a_data_owner_sees_only_the_tasks_of_its_scope(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.owner") as client:
        answer = client.get("/tasks")
        assert answer.status_code == 200
        assert 'href="/tasks/1"' in answer.text
        assert "GAME" not in answer.text
        assert "SOC" not in answer.text
        assert "Submitted" in answer.text  # the status in words, not colour alone
        assert "/api/v1/tasks" in answer.headers["link"]
        assert client.get(f"/tasks/{GAME_TASK}").status_code == 404  # out of scope: unknown
        assert client.get("/review").status_code == 403  # a data owner does not review
        refused = client.post(f"/review/{CLOUD_TASK}/approve", data={"csrf_token": client.csrf})
        assert refused.status_code == 403
        assert client.get("/campaigns/new").status_code == 403


def test_a_viewer_gets_the_refusal_page_for_the_review_queue_and_the_tasks(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "game.viewer") as client:
        for url in ("/review", "/tasks", f"/review/{CLOUD_TASK}"):
            answer = client.get(url)
            assert answer.status_code == 403, url
            assert answer.headers["content-type"].startswith("text/html")
            assert "Traceback" not in answer.text
        assert client.get("/campaigns").status_code == 200  # campaign:read within scope
        # a task of its scope reads, without the forms its role may not use
        task = client.get(f"/tasks/{GAME_TASK}")
        assert task.status_code == 200
        assert f'action="/tasks/{GAME_TASK}/upload"' not in task.text
        assert f'action="/tasks/{GAME_TASK}/evidence"' not in task.text
        assert f'href="/tasks/{GAME_TASK}/template"' in task.text


def test_the_template_download_is_the_tasks_xlsx(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.owner") as client:
        answer = client.get(f"/tasks/{CLOUD_TASK}/template")
        assert answer.status_code == 200
        assert answer.content[:4] == b"PK\x03\x04"
        assert "attachment" in answer.headers["content-disposition"]
        assert "task-1-CLOUD.xlsx" in answer.headers["content-disposition"]


def test_a_bad_upload_shows_the_problems_and_the_offending_cell_and_stores_nothing(
    demo: DemoCopy,
) -> None:
    before = task_state(demo)
    with page_client(demo, "cloud.owner") as client:
        answer = upload(client, f"water{SCRIPT}.csv", water_csv("lots", notes=SCRIPT))
        assert answer.status_code == 422
        page = answer.text
        # the problems table names the file, the row, the column, the value and the fix
        issues = page[page.index('class="data issues"') :]
        assert ">3<" in issues
        assert ">quantity<" in issues
        assert "<mark>lots</mark>" in issues
        assert "plain number" in issues  # the fix
        # the preview shows the row with the offending cell highlighted and marked in words
        preview = page[page.index('class="data preview"') :]
        assert re.search(r'<td class="bad"><mark translate="no">lots</mark>', preview)
        assert "(fix this)" in preview
        assert '<tr class="bad">' in preview
        assert "91422.2" in preview  # the good rows are shown too
        # names and notes from the file render as text
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    after = task_state(demo)
    assert after["version"] == before["version"]
    assert after["batch_id"] == before["batch_id"]
    assert len(after["transitions"]) == len(before["transitions"])


def test_a_file_with_a_wrong_header_shows_its_problems_without_a_preview(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "cloud.owner") as client:
        answer = upload(client, "wrong.csv", b"what,ever\n1,2\n")
        assert answer.status_code == 422
        assert 'class="data issues"' in answer.text
        assert 'class="data preview"' not in answer.text


def test_upload_submit_review_accept_approve_through_the_forms(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.owner") as client:
        done = upload(client, "water-q2.csv", water_csv())
        assert done.status_code == 303
        assert done.headers["location"] == f"/tasks/{CLOUD_TASK}?done=uploaded"
        page = client.get(done.headers["location"]).text
        assert "submitted for review" in page
        evidence = client.post(
            f"/tasks/{CLOUD_TASK}/evidence",
            data={"csrf_token": client.csrf},
            files={"file": ("water bill.pdf", b"%PDF-1.4 bill", "application/pdf")},
        )
        assert evidence.status_code == 303
        page = client.get(f"/tasks/{CLOUD_TASK}").text
        link = re.search(r'href="(/tasks/1/evidence/\d+)"', page)
        assert link is not None
        assert "water bill.pdf" in page
        download = client.get(link.group(1))
        assert download.content == b"%PDF-1.4 bill"
        assert download.headers["content-disposition"].startswith("attachment")
    state = task_state(demo)
    assert state["status"] == "submitted"
    flag = state["flags"][0]["id"]
    with page_client(demo, "cloud.reviewer") as client:
        queue = client.get("/review").text
        assert f'href="/review/{CLOUD_TASK}"' in queue
        review = client.get(f"/review/{CLOUD_TASK}").text
        assert "DC-TJ" in review
        assert "280,343.8" in review
        assert "No data of last year" in review  # the flag in words
        started = client.post(f"/review/{CLOUD_TASK}/start", data={"csrf_token": client.csrf})
        assert started.headers["location"] == f"/review/{CLOUD_TASK}?done=started"
        accepted = client.post(
            f"/review/{CLOUD_TASK}/flags/{flag}",
            data={"csrf_token": client.csrf, "comment": f"first year of metering {SCRIPT}"},
        )
        assert accepted.status_code == 303
        page = client.get(accepted.headers["location"]).text
        assert "accepted with your comment" in page
        assert SCRIPT not in page
        assert "first year of metering &lt;script&gt;" in page
        approved = client.post(f"/review/{CLOUD_TASK}/approve", data={"csrf_token": client.csrf})
        assert approved.status_code == 303
        assert "enters the calculations" in client.get(approved.headers["location"]).text
    assert task_state(demo)["status"] == "approved"


def test_refused_review_actions_show_the_domains_reason_on_the_page(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.reviewer") as client:
        early = client.post(f"/review/{CLOUD_TASK}/approve", data={"csrf_token": client.csrf})
        assert early.status_code == 409
        assert 'role="alert"' in early.text
        assert "cannot approve task 1" in early.text
        assert "Traceback" not in early.text
        client.post(f"/review/{CLOUD_TASK}/start", data={"csrf_token": client.csrf})
        flag = task_state(demo)["flags"][0]["id"]
        empty = client.post(
            f"/review/{CLOUD_TASK}/flags/{flag}", data={"csrf_token": client.csrf, "comment": " "}
        )
        assert empty.status_code == 422
        assert "needs a comment" in empty.text
        no_reason = client.post(
            f"/review/{CLOUD_TASK}/return", data={"csrf_token": client.csrf, "reason": ""}
        )
        assert no_reason.status_code == 422
        assert "give a reason" in no_reason.text
        returned = client.post(
            f"/review/{CLOUD_TASK}/return",
            data={"csrf_token": client.csrf, "reason": f"May is missing {SCRIPT}"},
        )
        assert returned.status_code == 303
    assert task_state(demo)["status"] == "returned"
    with page_client(demo, "cloud.owner") as client:
        page = client.get(f"/tasks/{CLOUD_TASK}").text
        assert "May is missing &lt;script&gt;" in page
        assert SCRIPT not in page
        assert "Returned" in page


def test_campaigns_list_create_progress_assign_and_overdue_reminders(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        listing = client.get("/campaigns")
        assert listing.status_code == 200
        assert "FY2024 water (supplementary)" in listing.text
        assert "0 of 3 approved" in listing.text
        form = client.get("/campaigns/new")
        assert form.status_code == 200
        assert 'value="water.supply"' in form.text
        assert 'value="GAME"' in form.text
        refused = client.post(
            "/campaigns/new",
            data={
                "csrf_token": client.csrf,
                "name": f"energy {SCRIPT}",
                "reporting_year": "2024",
                "due_date": "2025-01-31",
            },
        )
        assert refused.status_code == 422
        assert "no item requested" in refused.text
        assert "no entity or site" in refused.text
        assert 'value="energy &lt;script&gt;' in refused.text  # the form keeps what was typed
        created = client.post(
            "/campaigns/new",
            data={
                "csrf_token": client.csrf,
                "name": "FY2024 water, late units",
                "reporting_year": "2024",
                "due_date": "2025-01-31",
                "activities": ["water.supply"],
                "entities": ["GAME", "SOC"],
            },
        )
        assert created.status_code == 303
        location = created.headers["location"]
        assert location.endswith("?done=created")
        page = client.get(location).text
        assert "created" in page
        # progress per entity and per item, the chart and its table, overdue reminders
        assert "Tasks by entity and status" in page
        assert "Tasks by item and status" in page
        assert 'data-chart="campaign-progress-option"' in page
        reminders = page[page.index("Reminders: overdue tasks") :]
        assert "GAME" in reminders
        assert "SOC" in reminders
        assert " days" in reminders
        # nobody's scope covers GAME or SOC: the page says so instead of an empty select
        assert "No data owner covers this entity." in page
        bad = client.post(
            f"/campaigns/1/tasks/{CLOUD_TASK}/owner",
            data={"csrf_token": client.csrf, "owner": "game.viewer"},
        )
        assert bad.status_code == 422
        assert "cannot own task" in bad.text
    with page_client(demo, "cloud.reviewer") as client:
        assert client.get("/campaigns/new").status_code == 403


def test_assigning_the_cloud_task_to_its_owner(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        page = client.get("/campaigns/1").text
        assert '<option value="cloud.owner" translate="no" selected>' in page
        done = client.post(
            f"/campaigns/1/tasks/{CLOUD_TASK}/owner",
            data={"csrf_token": client.csrf, "owner": "cloud.owner"},
        )
        assert done.status_code == 303
        assert "data owner was assigned" in client.get(done.headers["location"]).text


@pytest.mark.parametrize(
    ("username", "url", "heading"),
    [
        ("cloud.owner", "/tasks", "我的任务"),
        ("cloud.owner", f"/tasks/{CLOUD_TASK}", "任务 1"),
        ("cloud.reviewer", "/review", "审核队列"),
        ("cloud.reviewer", f"/review/{CLOUD_TASK}", "审核任务 1"),
        ("esg.office", "/campaigns", "数据收集活动"),
        ("esg.office", "/campaigns/new", "新建数据收集活动"),
        ("esg.office", "/campaigns/1", "数据收集活动 1"),
    ],
)
def test_each_page_renders_in_chinese(
    demo: DemoCopy, username: str, url: str, heading: str
) -> None:
    with page_client(demo, username, lang="zh-CN") as client:
        answer = client.get(url)
        assert answer.status_code == 200
        assert '<html lang="zh-CN">' in answer.text
        h1 = re.search(r"<h1>(.*?)</h1>", answer.text, re.S)
        assert h1 is not None
        assert heading in h1.group(1)
        for english in ("Due date", "Status", "Submitted", "Campaigns", "Evidence", "Task "):
            assert f">{english}" not in answer.text


def test_a_bad_upload_in_chinese_names_the_problem_cell(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.owner", lang="zh-CN") as client:
        answer = upload(client, "水.csv", water_csv("很多"))
        assert answer.status_code == 422
        assert "上传文件中的问题" in answer.text
        assert "（需修改）" in answer.text
        assert '<mark translate="no">很多</mark>' in answer.text


def _add_year_on_year_flag(demo: DemoCopy) -> str:
    """Give the Cloud task's current submission a change-against-last-year flag (the demo has
    no water of last year, so the checks raise none by themselves)."""
    import sqlalchemy as sa

    from esgledger.store.models_collection import CollectionTask
    from esgledger.store.workspace import Workspace

    flag = {
        "id": "rf-test-change",
        "code": "review.change_vs_last_year",
        "severity": "medium",
        "entity": "CLOUD",
        "site": "DC-TJ",
        "activity": "water.supply",
        "text": {
            "en": "DC-TJ (CLOUD), water.supply: +45 % against the same months of 2023.",
            "zh-CN": "DC-TJ（CLOUD），water.supply：较 2023 年同期变化 +45%。",
        },
    }
    with Workspace.open(demo.path).session() as session:
        task = session.scalars(sa.select(CollectionTask).where(CollectionTask.id == 1)).one()
        task.flags = [flag, *(task.flags or [])]
    return str(flag["id"])


def test_approving_with_an_unsettled_flag_is_refused_with_the_reason_on_the_page(
    demo: DemoCopy,
) -> None:
    flag = _add_year_on_year_flag(demo)
    with page_client(demo, "cloud.reviewer", lang="zh-CN") as client:
        queue = client.get("/review").text
        row = queue[queue.index('href="/review/1"') :]
        assert '<td class="num">1</td>' in row  # one flag (the others are notes)
        client.post(f"/review/{CLOUD_TASK}/start", data={"csrf_token": client.csrf})
        page = client.get(f"/review/{CLOUD_TASK}").text
        assert "同比变化" in page  # the flag's kind, in words
        assert "较 2023 年同期变化 +45%" in page  # its text in the user's language
        refused = client.post(f"/review/{CLOUD_TASK}/approve", data={"csrf_token": client.csrf})
        assert refused.status_code == 409
        assert "尚未确认" in refused.text  # the domain's reason, in Chinese
        assert "Traceback" not in refused.text
        accepted = client.post(
            f"/review/{CLOUD_TASK}/flags/{flag}",
            data={"csrf_token": client.csrf, "comment": "新增冷却塔，用水增加属实"},
        )
        assert accepted.status_code == 303
        approved = client.post(f"/review/{CLOUD_TASK}/approve", data={"csrf_token": client.csrf})
        assert approved.status_code == 303
    assert task_state(demo)["status"] == "approved"
