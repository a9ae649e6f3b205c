"""The server's protections: sign-in rate limit and lock-out, cookies, CSRF, tokens, security
headers on every response, the body size limit, no stack trace in a 500, bilingual problem
documents, readiness, and the two tables from error classes to HTTP problems and CLI exit
codes."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI

import esgledger
from _access_support import PASSWORD, add, bearer_client, bearer_token, client, sign_in
from esgledger import errors
from esgledger.access import Principal
from esgledger.access.users import create_token, disable_user, enable_user
from esgledger.cli._app import EXIT_CODES, exit_code
from esgledger.server.app import create_app
from esgledger.server.middleware import SECURITY_HEADERS
from esgledger.server.problems import PROBLEM_TYPES, problem_for
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace
from esgledger.store.models_platform import ApiToken, User, WebSession

PROBLEM = "application/problem+json"


def _app(ws: Workspace, **settings: Any) -> FastAPI:
    return create_app(ws, ServerSettings(**settings))


@pytest.fixture
def ws(sqlite_workspace: Workspace) -> Workspace:
    add(sqlite_workspace, "olga", "viewer")
    return sqlite_workspace


def _assert_security_headers(headers: Any) -> None:
    for name, value in SECURITY_HEADERS:
        assert headers.get(name.decode()) == value.decode(), name
    assert len(headers.get("x-request-id", "")) == 16


class TestSignIn:
    def test_anonymous_gets_401_and_a_problem_document(self, ws: Workspace) -> None:
        answer = client(_app(ws)).get("/api/v1/inventory")
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["www-authenticate"] == 'Bearer realm="esgledger"'
        assert answer.json()["type"] == "/problems/unauthenticated"

    def test_the_cookie_is_httponly_secure_and_samesite_strict(self, ws: Workspace) -> None:
        answer = client(_app(ws)).post(
            "/api/v1/session", json={"username": "olga", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        cookie = answer.headers["set-cookie"]
        parts = [p.strip().lower() for p in cookie.split(";")]
        assert parts[0].startswith("esgledger_session=")
        assert {"httponly", "secure", "samesite=strict", "path=/"} <= set(parts)
        assert answer.json() == {
            "username": "olga",
            "role": "viewer",
            "scope": None,
            "csrf_token": answer.json()["csrf_token"],
        }
        assert len(answer.json()["csrf_token"]) >= 40

    def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(self, ws: Workspace) -> None:
        browser = client(_app(ws))
        wrong = browser.post("/api/v1/session", json={"username": "olga", "password": "x" * 12})
        unknown = browser.post("/api/v1/session", json={"username": "nobody", "password": "x"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        assert "set-cookie" not in wrong.headers

    def test_lock_out_after_the_failures_refuses_the_right_password_until_enabled(
        self, ws: Workspace
    ) -> None:
        app = _app(ws, sign_in_max_failures=3)
        browser = client(app)
        for _ in range(3):
            bad = browser.post("/api/v1/session", json={"username": "olga", "password": "bad"})
            assert bad.status_code == 401
        good = browser.post("/api/v1/session", json={"username": "olga", "password": PASSWORD})
        assert good.status_code == 401  # locked: the right password is refused too
        with ws.session() as session:
            user = session.execute(sa.select(User).where(User.username == "olga")).scalar_one()
            assert user.locked_until is not None
        enable_user(ws, Principal.local(), "olga")
        sign_in(app, "olga")

    def test_an_expired_lock_gives_fresh_attempts(self, ws: Workspace) -> None:
        app = _app(ws, sign_in_max_failures=2)
        browser = client(app)
        for _ in range(2):
            browser.post("/api/v1/session", json={"username": "olga", "password": "bad"})
        with ws.session() as session:
            user = session.execute(sa.select(User).where(User.username == "olga")).scalar_one()
            user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        # One more failure after the lock ran out does not lock again at once.
        browser.post("/api/v1/session", json={"username": "olga", "password": "bad"})
        sign_in(app, "olga")

    def test_the_rate_limit_per_address_answers_429(self, ws: Workspace) -> None:
        browser = client(_app(ws, sign_in_rate_per_minute=3))
        for _ in range(3):
            answer = browser.post("/api/v1/session", json={"username": "x", "password": "y"})
            assert answer.status_code == 401
        limited = browser.post("/api/v1/session", json={"username": "olga", "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert limited.json()["type"] == "/problems/too-many-requests"

    def test_expired_sessions_are_refused_and_cleared(self, ws: Workspace) -> None:
        app = _app(ws)
        browser, _ = sign_in(app, "olga")
        with ws.session() as session:
            session.execute(
                sa.update(WebSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert browser.get("/api/v1/session").status_code == 401
        sign_in(app, "olga")
        with ws.session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(WebSession)).scalar() == 1

    def test_sign_out_ends_the_session(self, ws: Workspace) -> None:
        app = _app(ws)
        browser, csrf = sign_in(app, "olga")
        cookie = browser.cookies["esgledger_session"]
        assert browser.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        stale = client(app, cookies={"esgledger_session": cookie})
        assert stale.get("/api/v1/session").status_code == 401


class TestCsrf:
    def test_an_unsafe_cookie_request_needs_the_session_csrf_token(self, ws: Workspace) -> None:
        browser, csrf = sign_in(_app(ws), "olga")
        assert browser.get("/api/v1/session").status_code == 200  # safe: no token needed
        missing = browser.post("/api/v1/tokens", json={"name": "t"})
        assert missing.status_code == 403
        assert "CSRF" in missing.json()["detail"]
        wrong = browser.post("/api/v1/tokens", json={"name": "t"}, headers={"X-CSRF-Token": "x"})
        assert wrong.status_code == 403
        made = browser.post("/api/v1/tokens", json={"name": "t"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201

    def test_the_session_gives_its_csrf_token_back_to_the_cookie_only(self, ws: Workspace) -> None:
        app = _app(ws)
        browser, csrf = sign_in(app, "olga")
        assert browser.get("/api/v1/session").json()["csrf_token"] == csrf
        script = bearer_client(app, bearer_token(app, "olga"))
        assert script.get("/api/v1/session").json()["csrf_token"] is None

    def test_a_bearer_token_needs_no_csrf_token(self, ws: Workspace) -> None:
        app = _app(ws)
        script = bearer_client(app, bearer_token(app, "olga"))
        assert script.post("/api/v1/tokens", json={"name": "t2"}).status_code == 201

    def test_another_sessions_csrf_token_is_refused(self, ws: Workspace) -> None:
        app = _app(ws)
        first, _ = sign_in(app, "olga")
        _, other_csrf = sign_in(app, "olga")
        answer = first.post(
            "/api/v1/tokens", json={"name": "t"}, headers={"X-CSRF-Token": other_csrf}
        )
        assert answer.status_code == 403


class TestTokens:
    def test_a_token_is_shown_once_and_stored_as_its_sha256(self, ws: Workspace) -> None:
        app = _app(ws)
        browser, csrf = sign_in(app, "olga")
        made = browser.post(
            "/api/v1/tokens", json={"name": "etl", "days": 7}, headers={"X-CSRF-Token": csrf}
        ).json()
        token = made["token"]
        prefix, token_id, secret = token.split("_", 2)
        assert (prefix, token_id) == ("esl", made["id"])
        with ws.session() as session:
            stored = session.get(ApiToken, token_id)
            assert stored is not None
            assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
            row = session.execute(sa.text("SELECT * FROM api_tokens")).mappings().one()
        assert secret not in str(dict(row))
        listed = browser.get("/api/v1/tokens").json()
        assert listed == [
            {
                "id": token_id,
                "name": "etl",
                "created_at": listed[0]["created_at"],
                "expires_at": made["expires_at"],
                "revoked": False,
            }
        ]
        assert secret not in browser.get("/api/v1/tokens").text
        assert bearer_client(app, token).get("/api/v1/session").json()["username"] == "olga"

    def test_expired_revoked_disabled_and_forged_tokens_are_refused(self, ws: Workspace) -> None:
        app = _app(ws)
        token = bearer_token(app, "olga")
        script = bearer_client(app, token)
        token_id = token.split("_")[1]
        assert script.get("/api/v1/session").status_code == 200
        # A forged secret for a real id.
        forged = f"esl_{token_id}_{'A' * 43}"
        assert bearer_client(app, forged).get("/api/v1/session").status_code == 401
        # Expired.
        with ws.session() as session:
            stored = session.get(ApiToken, token_id)
            assert stored is not None
            real_expiry = stored.expires_at
            stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        assert script.get("/api/v1/session").status_code == 401
        with ws.session() as session:
            stored = session.get(ApiToken, token_id)
            assert stored is not None
            stored.expires_at = real_expiry
        assert script.get("/api/v1/session").status_code == 200
        # A disabled user's token stops working; enabled again, it works.
        disable_user(ws, Principal.local(), "olga")
        assert script.get("/api/v1/session").status_code == 401
        enable_user(ws, Principal.local(), "olga")
        assert script.get("/api/v1/session").status_code == 200
        # Revoked (by the token itself), at once.
        assert script.delete(f"/api/v1/tokens/{token_id}").status_code == 204
        assert script.get("/api/v1/session").status_code == 401

    def test_a_user_cannot_revoke_anothers_token(self, ws: Workspace) -> None:
        app = _app(ws)
        add(ws, "petra", "viewer")
        olgas = bearer_token(app, "olga").split("_")[1]
        petra = bearer_client(app, bearer_token(app, "petra"))
        assert petra.delete(f"/api/v1/tokens/{olgas}").status_code == 404

    def test_an_admin_revokes_anyones_token(self, ws: Workspace) -> None:
        app = _app(ws)
        add(ws, "root", "admin")
        token = bearer_token(app, "olga")
        admin = bearer_client(app, bearer_token(app, "root"))
        assert admin.delete(f"/api/v1/tokens/{token.split('_')[1]}").status_code == 204
        assert bearer_client(app, token).get("/api/v1/session").status_code == 401

    def test_tokens_need_an_account(self, ws: Workspace) -> None:
        with pytest.raises(errors.EsgledgerError, match="belong to accounts"):
            create_token(ws, Principal.local(), "x")

    @pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer esl_x_y", "token"])
    def test_a_malformed_authorization_header_is_401(self, ws: Workspace, header: str) -> None:
        answer = client(_app(ws), headers={"Authorization": header}).get("/api/v1/session")
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM


def _raising_app(ws: Workspace) -> FastAPI:
    app = _app(ws, max_upload_bytes=1000)
    extra = APIRouter()

    @extra.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internal text /etc/passwd")

    @extra.get("/boom-page")
    def boom_page() -> None:
        raise RuntimeError("secret internal text /etc/passwd")

    @extra.post("/api/v1/echo")
    def echo(body: dict[str, str]) -> dict[str, int]:
        return {"keys": len(body)}

    app.include_router(extra)
    return app


class TestResponses:
    def test_a_500_shows_no_exception_text_and_no_stack_trace(self, ws: Workspace) -> None:
        answer = client(_raising_app(ws), raise_server_exceptions=False).get("/api/v1/boom")
        assert answer.status_code == 500
        assert answer.headers["content-type"] == PROBLEM
        body = answer.json()
        assert body["type"] == "/problems/internal"
        assert body["request_id"] == answer.headers["x-request-id"]
        for leak in ("secret internal text", "passwd", "RuntimeError", "Traceback", "line "):
            assert leak not in answer.text
        _assert_security_headers(answer.headers)

    def test_a_page_that_fails_is_an_error_page_without_exception_text(self, ws: Workspace) -> None:
        answer = client(_raising_app(ws), raise_server_exceptions=False).get(
            "/boom-page", headers={"Accept-Language": "zh-CN"}
        )
        assert answer.status_code == 500
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>内部错误</h1>" in answer.text
        assert answer.headers["x-request-id"] in answer.text  # to quote to an administrator
        for leak in ("secret internal text", "passwd", "RuntimeError", "Traceback", "line "):
            assert leak not in answer.text
        _assert_security_headers(answer.headers)

    def test_a_500_is_bilingual(self, ws: Workspace) -> None:
        answer = client(_raising_app(ws), raise_server_exceptions=False).get(
            "/api/v1/boom", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
        )
        assert answer.json()["title"] == "内部错误"
        assert answer.headers["content-language"] == "zh-CN"

    @pytest.mark.parametrize(
        ("path", "method", "status"),
        [
            ("/healthz", "GET", 200),
            ("/api/v1/inventory", "GET", 401),
            ("/api/v1/nothing", "GET", 404),
            ("/api/v1/session", "PATCH", 405),
            ("/api/v1/session", "POST", 422),
        ],
    )
    def test_security_headers_on_every_response(
        self, ws: Workspace, path: str, method: str, status: int
    ) -> None:
        answer = client(_app(ws)).request(method, path, json={})
        assert answer.status_code == status
        _assert_security_headers(answer.headers)
        if status >= 400:
            assert answer.headers["content-type"] == PROBLEM

    def test_a_body_over_the_limit_by_content_length_is_413(self, ws: Workspace) -> None:
        answer = client(_raising_app(ws)).post("/api/v1/echo", json={"x": "a" * 2000})
        assert answer.status_code == 413
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["type"] == "/problems/too-large"
        _assert_security_headers(answer.headers)

    def test_a_chunked_body_over_the_limit_is_413(self, ws: Workspace) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"x": "'
            for _ in range(30):
                yield b"a" * 100
            yield b'"}'

        answer = client(_raising_app(ws)).post(
            "/api/v1/echo", content=chunks(), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json()["type"] == "/problems/too-large"
        _assert_security_headers(answer.headers)
        small = client(_raising_app(ws)).post("/api/v1/echo", json={"x": "a" * 100})
        assert small.status_code == 200

    def test_the_413_is_bilingual(self, ws: Workspace) -> None:
        answer = client(_raising_app(ws)).post(
            "/api/v1/echo", json={"x": "a" * 2000}, headers={"Accept-Language": "zh"}
        )
        assert answer.json()["title"] == "请求过大"

    @pytest.mark.parametrize(
        ("language", "title"),
        [
            (None, "Not signed in"),
            ("en-GB,en;q=0.9", "Not signed in"),
            ("zh-CN", "未登录或凭据无效"),
            ("en;q=0.4, zh-Hans;q=0.8", "未登录或凭据无效"),
            ("fr-FR", "Not signed in"),
            ("zh;q=0, en;q=0.1", "Not signed in"),
        ],
    )
    def test_problem_documents_follow_accept_language(
        self, ws: Workspace, language: str | None, title: str
    ) -> None:
        headers = {"Accept-Language": language} if language else {}
        answer = client(_app(ws)).get("/api/v1/inventory", headers=headers)
        assert answer.json()["title"] == title
        assert answer.headers["content-language"] == ("zh-CN" if "未" in title else "en")

    def test_readiness_and_liveness(self, ws: Workspace) -> None:
        browser = client(_app(ws))
        assert browser.get("/healthz").json() == {"status": "ok"}
        ready = browser.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["ready"] is True
        with ws.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        not_ready = browser.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["ready"] is False


def _every_error_class() -> list[type[errors.EsgledgerError]]:
    for module in pkgutil.walk_packages(esgledger.__path__, "esgledger."):
        importlib.import_module(module.name)
    found: list[type[errors.EsgledgerError]] = []
    stack: list[type[errors.EsgledgerError]] = [errors.EsgledgerError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


class TestErrorTables:
    def test_every_class_of_esgledger_errors_has_a_problem_type_and_an_exit_code(self) -> None:
        problem_classes = {row[0] for row in PROBLEM_TYPES}
        exit_classes = {row[0] for row in EXIT_CODES}
        missing = []
        classes = _every_error_class()
        for cls in classes:
            if cls.__module__ == "esgledger.errors":
                if cls not in problem_classes:
                    missing.append(f"{cls.__name__} not in server/problems.PROBLEM_TYPES")
                if cls not in exit_classes:
                    missing.append(f"{cls.__name__} not in cli/_app.EXIT_CODES")
        assert missing == []
        assert len(classes) > 20  # the walk found the subclasses of other modules too

    def test_every_error_class_anywhere_maps_to_a_4xx_or_503_and_an_exit_code(self) -> None:
        for cls in _every_error_class():
            exc = cls.__new__(cls)
            status = problem_for(exc)[0]
            assert 400 <= status < 500 or status == 503, cls
            assert exit_code(exc) in (1, 2), cls

    def test_the_order_puts_subclasses_before_their_bases(self) -> None:
        for table in (
            [row[0] for row in PROBLEM_TYPES],
            [row[0] for row in EXIT_CODES],
        ):
            for i, cls in enumerate(table):
                assert not any(issubclass(cls, base) for base in table[:i]), cls

    @pytest.mark.parametrize(
        ("error", "status", "code"),
        [
            (errors.InputError("bad file"), 422, 2),
            (errors.WorkspaceBusyError("busy"), 503, 2),
            (errors.WorkspaceError("/srv/secret/path missing"), 503, 1),
            (errors.NotFoundError("no task"), 404, 1),
            (errors.StrictFallbackError("x", activity="a"), 422, 1),
        ],
    )
    def test_known_mappings(self, error: errors.EsgledgerError, status: int, code: int) -> None:
        assert problem_for(error)[0] == status
        assert exit_code(error) == code
