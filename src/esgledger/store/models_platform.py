"""The group platform's own tables: accounts, API tokens, sign-in sessions and the audit trail
(``esgledger.store.models_platform``).

Secrets are never stored: passwords as Argon2id hashes, API tokens and session cookies as the
sha256 of their (high-entropy, random) values. The audit trail is append-only and hash-chained
(``esgledger.audit``): each event carries the hash of the one before it, and both hashes are
unique, so the chain can neither fork nor be edited without ``esgledger audit verify`` naming
the first broken link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = ["ApiToken", "AuditEvent", "User", "WebSession"]


class User(Base):
    """A person (or a script's owner) who signs in, with one role scoped to one entity."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(
        String(200), comment="Argon2id (PHC string); empty for accounts that sign in by OIDC only"
    )
    role: Mapped[str] = mapped_column(String(20), comment="access/roles.csv column")
    scope_entity: Mapped[str | None] = mapped_column(
        String(100),
        comment="entity code: the role applies to it and everything under it; "
        "empty = the whole group",
    )
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failed_sign_ins: Mapped[int] = mapped_column(
        Integer, comment="failed sign-ins since the last good one"
    )
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    oidc_subject: Mapped[str | None] = mapped_column(
        String(400), unique=True, comment="issuer + subject of the identity provider's account"
    )


class ApiToken(Base):
    """A personal API token: shown once, kept as the sha256 of its secret part."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, comment="public token id")
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser session: the cookie's sha256 and the CSRF token of its forms."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class AuditEvent(Base):
    """One change of state, appended, never updated: who, when, what, from where, and the
    object's digest before and after."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(
        String(32), comment="UTC, ISO 8601 with microseconds (text, so the hash is exact)"
    )
    actor: Mapped[str] = mapped_column(String(100), comment="username, or local:<os user>")
    role: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(64), comment="client IP; empty from CLI")
    action: Mapped[str] = mapped_column(String(60), comment="e.g. import.activities, task.approve")
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    before_digest: Mapped[str | None] = mapped_column(String(64))
    after_digest: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
