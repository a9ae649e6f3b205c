"""OIDC sign-in against a stub identity provider built on authlib's own JOSE (joserfc): an
in-process FastAPI app serving discovery, JWKS, /authorize and /token, reached through an httpx ASGI
transport (no network). The stub checks PKCE and the client's secret as a real provider
would; its knobs forge the ID token in each way the relying party must refuse."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from _access_support import add, bearer_client, bearer_token, client
from esgledger.access.users import oidc_key
from esgledger.server.app import create_app
from esgledger.server.oidc import OidcClient
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace

ISSUER = "https://idp.test"
CLIENT_ID = "esgledger"
CLIENT_SECRET = "s3cr3t-of-the-relying-party"


@dataclass
class Provider:
    """The stub's state and knobs."""

    key: Any = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    subject: str = "alice-42"
    claims: dict[str, Any] = field(default_factory=dict)  # override the ID token's claims
    signing_key: Any = None  # sign with another key than the published one
    algorithm: str = "RS256"
    token_calls: int = 0

    def app(self) -> FastAPI:
        provider = FastAPI()

        @provider.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @provider.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @provider.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
                raise HTTPException(400, "bad client or PKCE method")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": q["nonce"],
                "challenge": q["code_challenge"],
                "redirect_uri": q["redirect_uri"],
            }
            return RedirectResponse(
                f"{q['redirect_uri']}?code={code}&state={q['state']}", status_code=302
            )

        @provider.post("/token")
        def token(
            request: Request,
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
        ) -> dict[str, Any]:
            self.token_calls += 1
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                raise HTTPException(401, "invalid_client")
            issued = self.codes.pop(code, None)
            if grant_type != "authorization_code" or issued is None:
                raise HTTPException(400, "invalid_grant")
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != issued["challenge"] or redirect_uri != issued["redirect_uri"]:
                raise HTTPException(400, "invalid_grant: PKCE or redirect_uri")
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "sub": self.subject,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": issued["nonce"],
                **self.claims,
            }
            claims = {k: v for k, v in claims.items() if v is not None}
            signer = self.signing_key or self.key
            header = {"alg": self.algorithm, "kid": self.key.kid}
            id_token = jwt.encode(header, claims, signer, algorithms=[self.algorithm])
            return {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }

        return provider


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def app(sqlite_workspace: Workspace, provider: Provider) -> FastAPI:
    settings = ServerSettings(
        oidc_issuer=ISSUER, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    )
    application = create_app(sqlite_workspace, settings)
    application.state.oidc = OidcClient(
        ISSUER, CLIENT_ID, CLIENT_SECRET, transport=httpx.ASGITransport(app=provider.app())
    )
    add(sqlite_workspace, "alice", "reviewer", oidc_subject=oidc_key(ISSUER, "alice-42"))
    return application


def _login(app: FastAPI, provider: Provider, next_path: str = "/") -> tuple[Any, str]:
    """Start a sign-in and let the stub provider answer it: the browser and the callback
    URL the provider sends it back to."""
    browser = client(app, follow_redirects=False)
    started = browser.get("/api/v1/oidc/login", params={"next": next_path})
    assert started.status_code == 302, started.text
    location = started.headers["location"]
    with client(provider.app(), follow_redirects=False) as idp:
        split = urlsplit(location)
        answer = idp.get(f"{split.path}?{split.query}")
    assert answer.status_code == 302, answer.text
    return browser, answer.headers["location"]


def test_the_login_redirect_carries_state_nonce_and_pkce(app: FastAPI) -> None:
    started = client(app, follow_redirects=False).get("/api/v1/oidc/login")
    assert started.status_code == 302
    url = urlsplit(started.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 40
    assert len(query["nonce"]) >= 40
    assert query["redirect_uri"] == "https://testserver/api/v1/oidc/callback"
    assert "openid" in query["scope"].split()
    cookie = started.headers["set-cookie"].lower()
    assert cookie.startswith(f"esgledger_oidc={query['state'].lower()}")
    assert {"httponly", "secure", "samesite=lax"} <= {p.strip() for p in cookie.split(";")}


def test_a_linked_account_signs_in_with_a_cookie_session(app: FastAPI, provider: Provider) -> None:
    browser, back = _login(app, provider, next_path="/dashboard")
    answer = browser.get(back)
    assert answer.status_code == 200, answer.text
    assert 'url=/dashboard"' in answer.text
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("esgledger_session=")
    )
    assert {"httponly", "secure", "samesite=strict"} <= {
        p.strip().lower() for p in cookie.split(";")
    }
    me = browser.get("/api/v1/session")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["role"] == "reviewer"
    assert provider.token_calls == 1


def test_the_callback_is_single_use(app: FastAPI, provider: Provider) -> None:
    browser, back = _login(app, provider)
    assert browser.get(back).status_code == 200
    replay = browser.get(back)
    assert replay.status_code == 401
    assert replay.headers["content-type"] == "application/problem+json"


def test_a_callback_from_another_browser_is_refused(app: FastAPI, provider: Provider) -> None:
    _, back = _login(app, provider)
    stranger = client(app, follow_redirects=False)
    answer = stranger.get(back)
    assert answer.status_code == 401
    assert provider.token_calls == 0


def test_an_identity_no_admin_linked_is_refused(app: FastAPI, provider: Provider) -> None:
    provider.subject = "mallory-7"
    browser, back = _login(app, provider)
    answer = browser.get(back)
    assert answer.status_code == 401
    assert "administrator adds one" in answer.json()["detail"]
    assert browser.get("/api/v1/session").status_code == 401


@pytest.mark.parametrize(
    "forgery",
    [
        {"iss": "https://evil.test"},
        {"aud": "another-client"},
        {"nonce": "not-the-nonce"},
        {"nonce": None},
        {"exp": int(time.time()) - 3600},
        {"sub": None},
        "foreign-key",
        "hs256",
    ],
    ids=["issuer", "audience", "nonce", "no-nonce", "expired", "no-sub", "signature", "alg"],
)
def test_a_forged_id_token_is_refused(
    app: FastAPI, provider: Provider, forgery: dict[str, Any] | str
) -> None:
    if forgery == "foreign-key":
        provider.signing_key = RSAKey.generate_key(2048, auto_kid=True)
    elif forgery == "hs256":
        provider.algorithm = "HS256"
        provider.signing_key = OctKey.import_key("x" * 32)
    else:
        assert isinstance(forgery, dict)
        provider.claims = forgery
    browser, back = _login(app, provider)
    answer = browser.get(back)
    assert answer.status_code == 401, answer.text
    assert browser.get("/api/v1/session").status_code == 401


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(app: FastAPI, provider: Provider) -> None:
    browser, back = _login(app, provider)
    code = parse_qs(urlsplit(back).query)["code"][0]
    provider.codes[code]["challenge"] = "x" * 43
    assert browser.get(back).status_code == 401


def test_the_provider_refusing_is_a_401(app: FastAPI) -> None:
    browser = client(app, follow_redirects=False)
    started = browser.get("/api/v1/oidc/login")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    answer = browser.get(f"/api/v1/oidc/callback?error=access_denied&state={state}")
    assert answer.status_code == 401


def test_a_disabled_account_cannot_sign_in_by_oidc(
    app: FastAPI, provider: Provider, sqlite_workspace: Workspace
) -> None:
    from esgledger.access import Principal
    from esgledger.access.users import disable_user

    disable_user(sqlite_workspace, Principal.local(), "alice")
    browser, back = _login(app, provider)
    assert browser.get(back).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/oidc/login", "/api/v1/oidc/callback"])
def test_without_settings_the_routes_answer_404_problems(
    sqlite_workspace: Workspace, path: str
) -> None:
    answer = client(create_app(sqlite_workspace)).get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_next_is_a_local_path_only(app: FastAPI, provider: Provider) -> None:
    browser, back = _login(app, provider, next_path="//evil.test/x")
    answer = browser.get(back)
    assert 'url=/"' in answer.text


def test_settings_refuse_half_or_plain_http_configurations() -> None:
    with pytest.raises(ValueError, match="both"):
        ServerSettings(oidc_issuer=ISSUER)
    with pytest.raises(ValueError, match="https"):
        ServerSettings(oidc_issuer="http://idp.example.com", oidc_client_id="x")
    with pytest.raises(ValueError, match="placeholder"):
        ServerSettings(oidc_issuer=ISSUER, oidc_client_id="x", oidc_client_secret="changeme")


def test_an_admin_links_an_identity_over_the_api(
    app: FastAPI, provider: Provider, sqlite_workspace: Workspace
) -> None:
    add(sqlite_workspace, "root", "admin")
    admin = bearer_client(app, bearer_token(app, "root"))
    half = admin.post(
        "/api/v1/users", json={"username": "bob", "role": "viewer", "oidc_subject": "bob-1"}
    )
    assert half.status_code == 422
    made = admin.post(
        "/api/v1/users",
        json={"username": "bob", "role": "viewer", "oidc_issuer": ISSUER, "oidc_subject": "b-1"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["oidc"] is True
    provider.subject = "b-1"
    browser, back = _login(app, provider)
    assert browser.get(back).status_code == 200
    assert browser.get("/api/v1/session").json()["username"] == "bob"
