"""The ESG office's pages in process: reports (listing, downloads of listed files only, the
content index), audit (filters, the chain's verification, CSV) and user administration
(forms with CSRF, refusals in the user's language, names rendered as text)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from _web_support import DemoCopy, copy_demo, page_client
from esgledger.access import Principal
from esgledger.audit import record
from esgledger.errors import NotFoundError
from esgledger.jobs.worker import WorkerPool
from esgledger.report import service as reports
from esgledger.store import Workspace
from esgledger.store.models_platform import AuditEvent

NEW_PASSWORD = "a long enough new password 42"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def demo(web_demo: DemoCopy, tmp_path: Path) -> DemoCopy:
    return copy_demo(web_demo, tmp_path / "demo")


def _ids(html: str, pattern: str) -> list[str]:
    return re.findall(rf'id="({pattern})"', html)


# --- roles ---------------------------------------------------------------------------------


def test_a_data_owner_gets_the_403_page_on_audit_and_admin(demo: DemoCopy) -> None:
    with page_client(demo, "cloud.owner") as client:
        for path in ("/audit", "/audit/export.csv", "/admin/users", "/admin/users/admin"):
            answer = client.get(path)
            assert answer.status_code == 403, path
            assert answer.headers["content-type"].startswith("text/html")
        refused = client.post(
            "/admin/users",
            data={
                "csrf_token": client.csrf,
                "username": "x",
                "role": "admin",
                "password": "p" * 12,
            },
        )
        assert refused.status_code == 403
        assert "Audit trail" not in client.get("/").text  # not in its navigation either


def test_a_viewer_reads_reports_but_cannot_generate_one(demo: DemoCopy) -> None:
    with page_client(demo, "game.viewer") as client:
        page = client.get("/reports")
        assert page.status_code == 200
        assert 'id="report-generate"' not in page.text
        refused = client.post(
            "/reports/generate", data={"csrf_token": client.csrf, "langs": "en", "formats": "pdf"}
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
    with page_client(demo, "auditor") as client:  # reads everything, changes nothing
        assert client.get("/admin/users").status_code == 200
        assert 'id="user-add"' not in client.get("/admin/users").text
        refused = client.post(
            "/admin/users/game.viewer/status", data={"csrf_token": client.csrf, "disabled": "1"}
        )
        assert refused.status_code == 403


# --- reports -------------------------------------------------------------------------------


def test_the_reports_page_lists_the_written_files_and_a_listed_file_downloads(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "esg.office") as client:
        page = client.get("/reports").text
        year = Workspace.open(demo.path).reporting_year
        for lang in ("en", "zh-CN"):
            for fmt in ("pdf", "html"):
                assert f'id="report-{year}-{lang}-{fmt}"' in page
        href = f"/reports/files/{year}/esg-report-{year}.zh-CN.pdf"
        assert f'href="{href}"' in page
        answer = client.get(href)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF")
        disposition = answer.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f'filename="esg-report-{year}.zh-CN.pdf"' in disposition
        assert f"filename*=UTF-8''esg-report-{year}.zh-CN.pdf" in disposition
        xlsx = _ids(page, rf"report-{year}-[a-z0-9-]+-zh-CN-xlsx")
        assert xlsx, "the table exports are listed"
        table = xlsx[0].removeprefix(f"report-{year}-").removesuffix("-zh-CN-xlsx")
        export = client.get(f"/reports/files/{year}/{table}.zh-CN.xlsx")
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
        csv = client.get(f"/reports/files/{year}/{table}.en.csv")
        assert csv.headers["content-type"].startswith("text/csv")


def test_a_path_outside_the_listing_is_refused(demo: DemoCopy) -> None:
    workspace = Workspace.open(demo.path)
    year = workspace.reporting_year
    folder = demo.path / "reports" / str(year)
    (folder / "notes.txt").write_text("not a report", encoding="utf-8")
    (folder / "leak.en.pdf").symlink_to(demo.path / "esgledger.toml")
    attempts = (
        "../esgledger.toml",
        f"{year}/../../esgledger.toml",
        "%2e%2e/esgledger.toml",
        f"{year}/%2e%2e%2f%2e%2e%2fesgledger.toml",
        "..%2Fesgledger.toml",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        str(demo.path / "esgledger.toml"),
        f"{year}/notes.txt",
        f"{year}/leak.en.pdf",
        f"{year}",
        "",
    )
    with page_client(demo, "admin") as client:
        for attempt in attempts:
            answer = client.get("/reports/files/" + attempt)
            assert answer.status_code == 404, attempt
            assert "reporting_year" not in answer.text
            assert "not a report" not in answer.text
    principal = Principal.local()
    listed = {f.path for f in reports.list_outputs(workspace, principal)}
    assert f"{year}/leak.en.pdf" not in listed
    assert f"{year}/notes.txt" not in listed
    for attempt in ("../esgledger.toml", str(demo.path / "esgledger.toml"), f"{year}/leak.en.pdf"):
        with pytest.raises(NotFoundError):
            reports.output_file(workspace, principal, attempt)


def test_the_reports_folder_is_the_one_the_builder_writes() -> None:
    from esgledger.report.builder import REPORTS_DIR

    assert reports.REPORTS_FOLDER == REPORTS_DIR


def test_content_disposition_escapes_the_file_name() -> None:
    header = reports.content_disposition('a"b\\c\n报告.pdf')
    assert header.startswith('attachment; filename="a_b_c___.pdf"')
    assert "filename*=UTF-8''a%22b%5Cc%0A%E6%8A%A5%E5%91%8A.pdf" in header


def test_a_report_job_runs_from_the_page_and_lists_its_new_files(demo: DemoCopy) -> None:
    # page_client serves pages only (create_app); a worker pool runs the queued job, as
    # ``esgledger serve`` does (build_app starts one).
    pool = WorkerPool(Workspace.open(demo.path), 1, poll_interval=0.2)
    pool.start()
    try:
        _generate_and_follow(demo)
    finally:
        assert pool.stop(timeout=60)


def _generate_and_follow(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        started = client.post(
            "/reports/generate",
            data={"csrf_token": client.csrf, "langs": ["zh-CN"], "formats": ["pdf"]},
        )
        assert started.status_code == 303
        location = started.headers["location"]
        assert re.fullmatch(r"/reports\?job=\d+", location)
        job_id = int(location.rsplit("=", 1)[1])
        page = client.get(location).text
        assert f'id="job-{job_id}"' in page  # the job's progress, polled at /jobs/<id>
        assert f'hx-get="/jobs/{job_id}"' in page or 'data-job-status="succeeded"' in page
        deadline = time.monotonic() + 240
        while True:
            outcome = client.get(f"/reports/jobs/{job_id}", headers={"HX-Request": "true"})
            assert outcome.status_code == 200
            assert "<html" not in outcome.text  # htmx gets the block alone
            status = re.search(r'data-job-status="(\w+)"', outcome.text)
            assert status is not None
            if status.group(1) not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, outcome.text
            time.sleep(0.5)
        assert status.group(1) == "succeeded", outcome.text
        assert 'id="new-' in outcome.text
        link = re.search(r'href="([^"]+)" id="new-\d{4}-zh-CN-pdf"', outcome.text)
        assert link is not None, outcome.text
        assert 'id="new-' not in outcome.text.replace(link.group(0), "").split("new-files")[0]
        pdf = client.get(link.group(1))
        assert pdf.content.startswith(b"%PDF")
        assert "-en-pdf" not in re.sub(r"report-\d{4}-en-pdf", "", outcome.text)


def test_a_refused_report_job_is_shown_on_the_page(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office", lang="zh-CN") as client:
        answer = client.post(
            "/reports/generate",
            data={"csrf_token": client.csrf, "langs": ["fr"], "formats": ["pdf"]},
        )
        assert answer.status_code == 422
        assert "无法开始生成报告" in answer.text
        assert 'role="alert"' in answer.text


def test_the_content_index_shows_each_items_status_and_the_data_behind_it(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "esg.office") as client:
        page = client.get("/reports/content-index").text
        rows = re.findall(r'<tr id="item-([^"]+)">(.*?)</tr>', page, flags=re.S)
        assert len(rows) > 50
        for _code, row in rows:
            status = re.search(r'data-status="(\w+)">(\w[^<]*)<', row)
            assert status is not None
            assert status.group(1) in ("disclosed", "explained", "missing")
            assert status.group(2) == status.group(1).capitalize()  # words, not colour alone
        by_code = dict(rows)
        assert (
            'href="/inventory/breakdown?figure=scope1&amp;by=entity"' in by_code["D.metrics.scope1"]
        )
        assert 'href="/inventory' in by_code["A1.2"]
        assert 'href="/reports/content-index/B1.1"' in by_code["B1.1"]
        assert "Employment" in by_code["B1.1"]  # where it is reported
        item = client.get("/reports/content-index/B1.1")
        assert item.status_code == 200
        assert 'id="item-values"' in item.text
        assert client.get("/reports/content-index/NOPE").status_code == 404
    with page_client(demo, "esg.office", lang="zh-CN") as client:
        page = client.get("/reports/content-index").text
        assert "港交所内容索引" in page
        assert "已披露" in page


# --- audit ---------------------------------------------------------------------------------


def _event_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr id="event-\d+" data-action="([^"]*)" data-actor="([^"]*)">', html)


def test_audit_filters_narrow_the_events_and_the_chain_is_verified(demo: DemoCopy) -> None:
    with page_client(demo, "auditor") as client:
        page = client.get("/audit").text
        assert 'data-intact="true"' in page
        assert "The chain is intact" in page
        everything = _event_rows(page)
        assert len(everything) > 5
        seqs = [int(s) for s in re.findall(r'<tr id="event-(\d+)"', page)]
        assert seqs == sorted(seqs, reverse=True)  # newest first
        signins = _event_rows(client.get("/audit?action=session.sign_in").text)
        assert signins
        assert all(a.startswith("session.sign_in") for a, _ in signins)
        assert len(signins) < len(everything)
        mine = _event_rows(client.get("/audit?user=auditor").text)
        assert mine
        assert all(actor == "auditor" for _, actor in mine)
        assert _event_rows(client.get("/audit?date_to=2000-01-01").text) == []
        today = time.strftime("%Y-%m-%d", time.gmtime())
        assert _event_rows(client.get(f"/audit?date_from={today}&user=auditor").text)
        assert _event_rows(client.get("/audit?object=user:auditor").text)
        bad = client.get("/audit?date_from=31/12/2024")
        assert bad.status_code == 422
        assert "not a date" in bad.text


def _record(demo: DemoCopy, actor: str, times: int = 1) -> None:
    workspace = Workspace.open(demo.path)
    with workspace.write_lock() as session:
        for _ in range(times):
            record(
                session,
                Principal(username=actor, role="-"),
                "session.sign_in_failed",
                "user",
                actor,
            )


def test_audit_pages_hold_fifty_events_newest_first(demo: DemoCopy) -> None:
    _record(demo, "nobody", 60)
    with page_client(demo, "auditor") as client:
        first = client.get("/audit").text
        assert len(_event_rows(first)) == 50
        assert 'rel="next"' in first
        second = client.get("/audit?page=2").text
        assert _event_rows(second)
        last_first = min(int(s) for s in re.findall(r'<tr id="event-(\d+)"', first))
        assert max(int(s) for s in re.findall(r'<tr id="event-(\d+)"', second)) < last_first


def test_the_audit_csv_is_filtered_and_formula_neutral(demo: DemoCopy) -> None:
    _record(demo, "=HYPERLINK(1)")
    with page_client(demo, "auditor") as client:
        answer = client.get("/audit/export.csv?action=session.sign_in_failed")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        lines = answer.text.splitlines()
        assert lines[0].startswith("seq,at,actor")
        assert len(lines) >= 2
        assert all("session.sign_in_failed" in line for line in lines[1:])
        assert not any(cell.startswith("=") for line in lines for cell in line.split(","))
        assert "HYPERLINK" in answer.text
        page = client.get("/audit?action=session.sign_in_failed").text
        assert 'href="/audit/export.csv?action=session.sign_in_failed"' in page


def test_a_tampered_event_shows_the_broken_link(demo: DemoCopy) -> None:
    workspace = Workspace.open(demo.path)
    with workspace.write_lock() as session:
        session.execute(
            sa.update(AuditEvent).where(AuditEvent.seq == 3).values(actor="someone else")
        )
    with page_client(demo, "auditor") as client:
        page = client.get("/audit").text
        assert 'data-intact="false"' in page
        assert "broken at event 3" in page
        assert "the event was changed" in page
    with page_client(demo, "auditor", lang="zh-CN") as client:
        assert "哈希链在第 3 条事件处断开" in client.get("/audit").text


# --- admin ---------------------------------------------------------------------------------


def _sign_in(demo: DemoCopy, username: str, password: str) -> int:
    from esgledger.server.app import create_app
    from esgledger.server.settings import ServerSettings

    app = create_app(demo.path, ServerSettings(workers=0))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as other:
        answer = other.post(
            "/sign-in", data={"username": username, "password": password, "next": "/"}
        )
        return answer.status_code


def test_admin_adds_changes_disables_and_enables_a_user_through_the_forms(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "admin") as client:
        form = {
            "username": "new.owner",
            "display_name": "New Owner",
            "role": "viewer",
            "scope": "",
            "password": NEW_PASSWORD,
        }
        assert client.post("/admin/users", data=form).status_code == 403  # no CSRF token
        added = client.post("/admin/users", data={**form, "csrf_token": client.csrf})
        assert added.status_code == 303
        assert added.headers["location"] == "/admin/users?done=added&user=new.owner"
        listing = client.get(added.headers["location"]).text
        assert 'id="user-new.owner"' in listing
        assert "User added" in listing
        assert _sign_in(demo, "new.owner", NEW_PASSWORD) == 303
        assert re.search(r'id="user-new.owner">.*?</tr>', client.get("/admin/users").text, re.S)

        changed = client.post(
            "/admin/users/new.owner/role",
            data={"csrf_token": client.csrf, "role": "data_owner", "scope": "CLOUD"},
        )
        assert changed.status_code == 303
        page = client.get(changed.headers["location"]).text
        assert "Data owner" in page
        assert ">CLOUD<" in page

        disabled = client.post(
            "/admin/users/new.owner/status", data={"csrf_token": client.csrf, "disabled": "1"}
        )
        assert disabled.status_code == 303
        assert "badge-bad" in client.get("/admin/users/new.owner").text
        assert _sign_in(demo, "new.owner", NEW_PASSWORD) == 401
        client.post(
            "/admin/users/new.owner/status", data={"csrf_token": client.csrf, "disabled": "0"}
        )
        assert _sign_in(demo, "new.owner", NEW_PASSWORD) == 303

        other = NEW_PASSWORD + " changed"
        reset = client.post(
            "/admin/users/new.owner/password", data={"csrf_token": client.csrf, "password": other}
        )
        assert reset.status_code == 303
        assert _sign_in(demo, "new.owner", other) == 303
        assert _sign_in(demo, "new.owner", NEW_PASSWORD) == 401

        last_sign_in = client.get("/admin/users").text
        row = re.search(r'id="user-new.owner">(.*?)</tr>', last_sign_in, re.S)
        assert row is not None
        assert "Never" not in row.group(1)
        trail = client.get("/audit?object=user:new.owner").text
        for action in ("user.add", "user.set_role", "user.disable", "user.enable"):
            assert f'data-action="{action}"' in trail


def test_admin_refusals_are_shown_on_the_page_in_the_users_language(demo: DemoCopy) -> None:
    with page_client(demo, "admin") as client:
        short = client.post(
            "/admin/users",
            data={
                "csrf_token": client.csrf,
                "username": "short.pw",
                "role": "viewer",
                "password": "short",
                "display_name": "Kept",
            },
        )
        assert short.status_code == 422
        assert "at least 12 characters" in short.text
        assert 'value="short.pw"' in short.text
        assert 'value="Kept"' in short.text
        assert 'value="short"' not in short.text  # never the password
        taken = client.post(
            "/admin/users",
            data={"csrf_token": client.csrf, "username": "auditor", "role": "viewer"},
        )
        assert taken.status_code == 422
        assert "exists already" in taken.text
        scope = client.post(
            "/admin/users/game.viewer/role",
            data={"csrf_token": client.csrf, "role": "viewer", "scope": "NOPE"},
        )
        assert scope.status_code == 422
        assert "unknown entity" in scope.text
    with page_client(demo, "admin", lang="zh-CN") as client:
        last = client.post(
            "/admin/users/admin/role",
            data={"csrf_token": client.csrf, "role": "viewer", "scope": ""},
        )
        assert last.status_code == 409
        assert "账户当前状态不允许此更改" in last.text
        assert "last active administrator" in last.text
        assert "管理员" in client.get("/admin/users/admin").text  # still an administrator
        short = client.post(
            "/admin/users",
            data={"csrf_token": client.csrf, "username": "x.y", "role": "viewer", "password": "1"},
        )
        assert "输入有误" in short.text


def test_a_display_name_with_markup_renders_as_text_on_every_admin_page(demo: DemoCopy) -> None:
    with page_client(demo, "admin") as client:
        client.post(
            "/admin/users",
            data={
                "csrf_token": client.csrf,
                "username": "markup",
                "display_name": SCRIPT,
                "role": "viewer",
                "password": NEW_PASSWORD,
            },
        )
        for path in ("/admin/users", "/admin/users/markup", "/admin/users?done=added&user=markup"):
            html = client.get(path).text
            assert SCRIPT not in html, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        refused = client.post(
            "/admin/users",
            data={"csrf_token": client.csrf, "username": SCRIPT, "role": "viewer"},
        )
        assert refused.status_code == 422
        assert SCRIPT not in refused.text


def test_the_office_pages_render_in_chinese(demo: DemoCopy) -> None:
    expected = {
        "/reports": "<h1>报告</h1>",
        "/reports/content-index": "<h1>港交所内容索引</h1>",
        "/audit": "<h1>审计轨迹</h1>",
        "/admin/users": "<h1>用户</h1>",
        "/admin/users/auditor": "审计师",
    }
    with page_client(demo, "admin", lang="zh-CN") as client:
        for path, words in expected.items():
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert '<html lang="zh-CN">' in answer.text
            assert words in answer.text, path
        matrix = client.get("/admin/users").text
        assert "整个集团" in matrix
        assert "不允许" in matrix


def test_the_job_progress_block_renders_alone_for_htmx(demo: DemoCopy) -> None:
    with page_client(demo, "esg.office") as client:
        started = client.post(
            "/reports/generate",
            data={"csrf_token": client.csrf, "langs": ["zh-CN"], "formats": ["pdf"]},
        )
        job_id = int(started.headers["location"].rsplit("=", 1)[1])
        part = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
        assert part.status_code == 200
        assert "<html" not in part.text
        assert f'id="job-{job_id}"' in part.text
        assert 'data-job-status="queued"' in part.text
