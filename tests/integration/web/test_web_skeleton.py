"""The frame every page shares, in process: sign-in redirect and form, language choice,
htmx partials, the API twin link, error pages, static files."""

from __future__ import annotations

from pathlib import Path

from _web_support import DemoCopy, copy_demo, page_client


def test_a_page_without_a_session_redirects_to_sign_in_and_back(
    web_demo: DemoCopy, tmp_path: Path
) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    with page_client(demo, None) as client:
        answer = client.get("/jobs/1?x=1")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=/jobs/1%3Fx%3D1"
        htmx = client.get("/jobs/1", headers={"HX-Request": "true"})
        assert htmx.headers["HX-Redirect"].startswith("/sign-in?next=")
        # a sign-in never sends the user off the site
        form = client.get("/sign-in?next=//evil.example/x")
        assert 'name="next" value="/"' in form.text


def test_pages_follow_the_chosen_language_else_accept_language(
    web_demo: DemoCopy, tmp_path: Path
) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    with page_client(demo, None, lang="zh-CN") as client:
        assert '<html lang="zh-CN">' in client.get("/sign-in").text
        client.get("/language/en?next=/sign-in")
        assert client.cookies.get("esgledger_lang") == "en"
        assert '<html lang="en">' in client.get("/sign-in").text


def test_htmx_gets_the_block_and_every_answer_varies_on_it(
    web_demo: DemoCopy, tmp_path: Path
) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    with page_client(demo, "admin") as client:
        whole = client.get("/")
        assert whole.text.startswith("<!doctype html>")
        part = client.get("/", headers={"HX-Request": "true"})
        assert "<html" not in part.text
        assert "<h1>" in part.text
        restore = client.get(
            "/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
        )
        assert restore.text.startswith("<!doctype html>")
        for answer in (whole, part):
            assert "HX-Request" in answer.headers["vary"]


def test_a_form_post_without_the_csrf_token_is_refused(web_demo: DemoCopy, tmp_path: Path) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    with page_client(demo, "admin") as client:
        refused = client.post("/sign-out", data={})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        wrong = client.post("/sign-out", data={"csrf_token": "forged"})
        assert wrong.status_code == 403
        done = client.post("/sign-out", data={"csrf_token": client.csrf})
        assert done.status_code == 303
        assert client.get("/").status_code == 303  # signed out: back to sign-in


def test_static_files_are_cacheable_and_pages_are_not(web_demo: DemoCopy, tmp_path: Path) -> None:
    demo = copy_demo(web_demo, tmp_path / "demo")
    with page_client(demo, "admin") as client:
        page = client.get("/")
        assert page.headers["cache-control"] == "no-store"
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        css = client.get("/static/app.css")
        assert "immutable" in css.headers["cache-control"]
        assert client.get("/static/../pages.py").status_code == 404
