"""Server settings: a frozen pydantic-settings class read from ``ESGLEDGER_SERVER_*``
environment variables (and the arguments of ``esgledger serve``)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServerSettings"]

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "todo", "xxx", ""}


class ServerSettings(BaseSettings):
    """What the server needs besides the workspace. Every field has a safe default."""

    model_config = SettingsConfigDict(env_prefix="ESGLEDGER_SERVER_", frozen=True)

    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="browser session lifetime")
    cookie_secure: bool = Field(
        True, description="Secure cookies (browsers accept them on http://127.0.0.1 too)"
    )
    max_upload_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="largest request body (uploads) in bytes"
    )
    sign_in_max_failures: int = Field(5, ge=1, description="failures before an account locks")
    sign_in_lockout_minutes: float = Field(15.0, gt=0)
    sign_in_rate_per_minute: int = Field(
        20, ge=1, description="sign-in attempts per client address per minute"
    )
    workers: int = Field(2, ge=0, le=64, description="job worker threads (0: no worker)")
    oidc_issuer: str | None = Field(
        None, description="OIDC identity provider (issuer URL); unset: no OIDC sign-in"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_redirect_url: str | None = Field(
        None,
        description="the callback URL registered at the provider (default: this server's "
        "/api/v1/oidc/callback as the request reached it)",
    )

    @model_validator(mode="after")
    def _oidc_complete(self) -> ServerSettings:
        if (self.oidc_issuer is None) != (self.oidc_client_id is None):
            raise ValueError(
                "OIDC needs both ESGLEDGER_SERVER_OIDC_ISSUER and ESGLEDGER_SERVER_OIDC_CLIENT_ID"
            )
        issuer = self.oidc_issuer or ""
        local = issuer.startswith(("http://127.0.0.1", "http://localhost"))
        if issuer and not issuer.startswith("https://") and not local:
            raise ValueError("the OIDC issuer must be an https:// URL")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None and self.oidc_client_id is not None

    @field_validator("oidc_client_secret")
    @classmethod
    def _no_placeholder(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() in _PLACEHOLDERS:
            raise ValueError(
                "ESGLEDGER_SERVER_OIDC_CLIENT_SECRET is a placeholder: set the real one"
            )
        return value
