"""OpenID Connect sign-in (authorization code flow with PKCE) with kept libraries: authlib
for OAuth 2 and joserfc (authlib's own JOSE) for the ID token.

:class:`OidcClient` talks to the identity provider named by ``ServerSettings.oidc_issuer``:
it reads the provider's discovery document, builds the authorization URL (``state``,
``nonce``, PKCE ``S256``), exchanges the code for tokens, and verifies the ID token's
signature against the provider's JWKS, its issuer, audience, nonce and expiry. What the
verified token says (``iss`` and ``sub``) is handed to
:func:`esgledger.access.users.authenticate_oidc`, which signs in only an account an
administrator linked to that identity.

Pending sign-ins (state → nonce, PKCE verifier) are kept in this process for ten minutes; the
server runs as one process (``esgledger serve``). Every failure of the provider's answer is an
:class:`~esgledger.errors.AuthenticationError` whose text names no secret.
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from threading import Lock
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from esgledger.errors import AuthenticationError

with warnings.catch_warnings():
    # authlib's httpx client prefers httpx2 (not installed); it keeps httpx working until
    # authlib 2.0.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = ["OidcClient", "PendingSignIn"]

#: Signature algorithms accepted on an ID token (never "none", never a shared-secret HMAC).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
PENDING_SECONDS = 600
_MAX_PENDING = 10_000
_REFUSED = "the identity provider's answer could not be verified; sign in again"


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A sign-in sent to the provider and not yet back."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_path: str
    started: float


class OidcClient:
    """The relying party of one identity provider. ``transport`` lets tests route the HTTP
    calls to an in-process provider."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.transport = transport
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._pending: dict[str, PendingSignIn] = {}
        self._lock = Lock()

    def _client(self, **kwargs: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method=("client_secret_basic" if self.client_secret else "none"),
            code_challenge_method="S256",
            transport=self.transport,
            timeout=self.timeout,
            **kwargs,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
            answer = await client.get(url)
        if answer.status_code != 200:
            raise AuthenticationError(f"the identity provider answered {answer.status_code}")
        body = answer.json()
        if not isinstance(body, dict):
            raise AuthenticationError(_REFUSED)
        return body

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached; its ``issuer`` must be ours)."""
        if self._metadata is None:
            found = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                raise AuthenticationError("the identity provider names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(key), str):
                    raise AuthenticationError(f"the identity provider publishes no {key}")
            self._metadata = found
        return self._metadata

    async def start(self, redirect_uri: str, next_path: str = "/") -> tuple[str, str]:
        """A new pending sign-in: the provider's authorization URL and the state."""
        meta = await self.metadata()
        pending = PendingSignIn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect_uri,
            next_path=next_path,
            started=time.monotonic(),
        )
        with self._lock:
            self._expire()
            if len(self._pending) >= _MAX_PENDING:
                raise AuthenticationError("too many sign-ins under way; try again in a minute")
            self._pending[pending.state] = pending
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile email",
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": create_s256_code_challenge(pending.code_verifier),
                "code_challenge_method": "S256",
            }
        )
        endpoint = meta["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending.state

    def _expire(self) -> None:
        cutoff = time.monotonic() - PENDING_SECONDS
        for state in [s for s, p in self._pending.items() if p.started < cutoff]:
            del self._pending[state]

    def take(self, state: str) -> PendingSignIn:
        """The pending sign-in of ``state``, once (a replayed or unknown state is refused)."""
        with self._lock:
            self._expire()
            pending = self._pending.pop(state, None)
        if pending is None:
            raise AuthenticationError("this sign-in expired or was already used; sign in again")
        return pending

    async def finish(self, pending: PendingSignIn, code: str) -> dict[str, Any]:
        """Exchange ``code`` and return the verified claims of the ID token."""
        meta = await self.metadata()
        try:
            async with self._client(redirect_uri=pending.redirect_uri) as client:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise AuthenticationError(_REFUSED) from exc
        except Exception as exc:  # authlib's OAuthError and its kin: the provider refused
            if type(exc).__module__.startswith("authlib"):
                raise AuthenticationError(_REFUSED) from exc
            raise
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise AuthenticationError("the identity provider sent no ID token")
        keys = await self._get_json(meta["jwks_uri"])
        try:
            decoded = jwt.decode(
                id_token,
                KeySet.import_key_set(keys),  # type: ignore[arg-type]  # a JWKS document
                algorithms=list(ID_TOKEN_ALGORITHMS),
            )
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": meta["issuer"]},
                sub={"essential": True},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise AuthenticationError(_REFUSED) from exc
        claims: dict[str, Any] = dict(decoded.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise AuthenticationError(_REFUSED)  # OIDC Core 3.1.3.7: several audiences → azp
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise AuthenticationError(_REFUSED)
        return claims
