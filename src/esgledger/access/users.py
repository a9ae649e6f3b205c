"""Accounts, passwords, API tokens and sign-in sessions.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, RFC 9106's second recommended
parameter set), re-hashed on sign-in when the parameters change, and compared against a dummy
hash for unknown users so the time of a failed sign-in does not tell whether the user exists.
After ``max_failures`` failed sign-ins in a row an account is locked for ``lockout`` (the
server's settings); a good sign-in resets the count.

API tokens look like ``esl_<id>_<secret>``: the id is public (listed, revoked by), the secret
is 32 random bytes shown once and kept as its sha256 (a random 256-bit secret needs no slow
hash). Session cookies are 32 random bytes kept the same way, each with its own CSRF token.

Every change is an audit event in the same write-locked transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from esgledger.access.policy import ROLES, action_descriptions, actions, allowed, grant, require
from esgledger.access.principal import Principal
from esgledger.audit import digest, record
from esgledger.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    quoted,
    with_zh,
)
from esgledger.store.models import Entity
from esgledger.store.models_platform import ApiToken, AuditEvent, User, WebSession
from esgledger.store.workspace import Workspace

__all__ = [
    "MIN_PASSWORD_CHARS",
    "NewToken",
    "SignIn",
    "UserError",
    "account",
    "add_account",
    "add_user",
    "authenticate",
    "authenticate_oidc",
    "create_token",
    "directory",
    "disable_user",
    "enable_user",
    "end_session",
    "list_tokens",
    "list_users",
    "oidc_key",
    "principal_for_session",
    "principal_for_token",
    "revoke_token",
    "set_password",
    "set_role",
    "start_session",
]

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_TOKEN = re.compile(r"^esl_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(InputError):
    """A bad username, role, scope or password: rejected input (exit 2, HTTP 422)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # SQLite gives naive datetimes back
    return moment


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _public(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "scope": user.scope_entity,
        "disabled": user.disabled,
        "created_at": _aware(user.created_at).isoformat() if user.created_at else None,  # type: ignore[union-attr]
        "oidc": user.oidc_subject is not None,
    }


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(f"the password must have at most {MAX_PASSWORD_CHARS} characters")


def _check_role_scope(session: Session, role: str, scope: str | None) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {quoted(role)}: use one of {', '.join(ROLES)}")
    if scope is not None and session.get(Entity, scope) is None:
        raise UserError(
            f"unknown entity {quoted(scope)} for the scope: import the organisation first "
            "(esgledger import WS entities FILE)"
        )


def _user(session: Session, username: str) -> User:
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFoundError(f"no user {quoted(username)}")
    return user


def add_user(
    workspace: Workspace,
    principal: Principal,
    username: str,
    *,
    role: str,
    scope: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
    oidc_subject: str | None = None,
) -> dict[str, Any]:
    """Add an account (``password`` None: sign-in by OIDC or not at all until one is set).

    ``oidc_subject`` links the account to an identity provider's account
    (:func:`oidc_key` of its issuer and subject): only so linked can it sign in by OIDC.
    """
    require(principal, "user:write")
    if oidc_subject is not None and (len(oidc_subject) > 400 or " " not in oidc_subject):
        raise UserError(
            "an OIDC link is the issuer and the subject (esgledger.access.users.oidc_key)"
        )
    if not _USERNAME.match(username):
        raise UserError(
            f"invalid username {quoted(username)}: 1-100 letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    if password is not None:
        _check_password(password)
    with workspace.write_lock() as session:
        _check_role_scope(session, role, scope)
        exists = session.execute(sa.select(User.id).where(User.username == username)).first()
        if exists is not None:
            raise ConflictError(f"the user {quoted(username)} exists already")
        user = User(
            username=username,
            display_name=display_name,
            password_hash=_hasher.hash(password) if password is not None else None,
            role=role,
            scope_entity=scope,
            disabled=False,
            created_at=_now(),
            failed_sign_ins=0,
            oidc_subject=oidc_subject,
        )
        session.add(user)
        session.flush()
        out = _public(user)
        record(session, principal, "user.add", "user", username, after=digest(out))
        return out


def add_account(
    workspace: Workspace,
    principal: Principal,
    username: str,
    *,
    role: str,
    scope: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
    oidc_issuer: str | None = None,
    oidc_subject: str | None = None,
) -> dict[str, Any]:
    """:func:`add_user` with the OIDC identity as its issuer and subject (both or neither)."""
    if (oidc_issuer is None) != (oidc_subject is None):
        raise UserError("an OIDC identity needs both its issuer and its subject")
    link = (
        oidc_key(oidc_issuer, oidc_subject)
        if oidc_issuer is not None and oidc_subject is not None
        else None
    )
    return add_user(
        workspace,
        principal,
        username,
        role=role,
        scope=scope,
        password=password,
        display_name=display_name,
        oidc_subject=link,
    )


def list_users(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    require(principal, "user:read")
    with workspace.session() as session:
        users = session.execute(sa.select(User).order_by(User.username)).scalars()
        return [_public(u) for u in users]


def directory(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """The accounts for the administration page: ``users`` (:func:`list_users`'s fields and
    ``last_sign_in``, the time of the last good sign-in from the audit trail, or None),
    ``roles`` (:data:`~esgledger.access.policy.ROLES`), ``entities`` (code and name of
    every entity, the choices of a scope), ``may_write`` (the principal may change accounts)
    and ``matrix`` (``roles.csv``: each action, its description and its grant per role)."""
    require(principal, "user:read")
    descriptions = action_descriptions()
    with workspace.session() as session:
        accounts = session.execute(sa.select(User).order_by(User.username)).scalars().all()
        last = dict(
            session.execute(
                sa.select(AuditEvent.object_id, sa.func.max(AuditEvent.at))
                .where(AuditEvent.action == "session.sign_in", AuditEvent.object_type == "user")
                .group_by(AuditEvent.object_id)
            ).all()
        )
        entities = session.execute(sa.select(Entity.code, Entity.name).order_by(Entity.code)).all()
        return {
            "users": [{**_public(u), "last_sign_in": last.get(u.username)} for u in accounts],
            "roles": list(ROLES),
            "entities": [{"code": code, "name": name} for code, name in entities],
            "may_write": allowed(principal, "user:write") is True,
            "matrix": [
                {
                    "action": action,
                    "description": descriptions.get(action, ""),
                    "grants": [grant(role, action) for role in ROLES],
                }
                for action in actions()
            ],
        }


def account(workspace: Workspace, principal: Principal, username: str) -> dict[str, Any]:
    """One account for its administration page: :func:`directory` with ``user`` (that
    account) in place of ``users``.

    Raises
    ------
    NotFoundError
        If there is no such account.
    """
    found = directory(workspace, principal)
    user = next((u for u in found.pop("users") if u["username"] == username), None)
    if user is None:
        raise NotFoundError(f"no user {quoted(username)}")
    return {**found, "user": user}


def _group_admin(user: User) -> bool:
    return user.role == "admin" and user.scope_entity is None and not user.disabled


def _keep_one_admin(session: Session, user: User) -> None:
    """Refuse to disable or demote the last active administrator of the whole group over the
    API (nobody could manage accounts there any more; the CLI's local administrator can)."""
    others = session.execute(
        sa.select(sa.func.count())
        .select_from(User)
        .where(
            User.id != user.id,
            User.role == "admin",
            User.scope_entity.is_(None),
            User.disabled.is_(False),
        )
    ).scalar_one()
    if others == 0:
        raise ConflictError(
            f"{quoted(user.username)} is the last active administrator of the whole group: "
            "make another one first (or use esgledger users on the workspace's machine)"
        )


def _change(
    workspace: Workspace, principal: Principal, username: str, action: str, **values: Any
) -> dict[str, Any]:
    require(principal, "user:write")
    end_sessions = bool(values.pop("end_sessions", False) or values.get("disabled"))
    with workspace.write_lock() as session:
        user = _user(session, username)
        before = _public(user)
        if "role" in values:
            _check_role_scope(session, values["role"], values["scope_entity"])
        was_admin = _group_admin(user)
        for name, value in values.items():
            setattr(user, name, value)
        if was_admin and not _group_admin(user) and principal.user_id is not None:
            _keep_one_admin(session, user)
        if end_sessions:
            session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
        session.flush()
        after = _public(user)
        record(
            session,
            principal,
            action,
            "user",
            username,
            before=digest(before),
            after=digest(after),
            detail={k: v for k, v in after.items() if k in ("role", "scope", "disabled")},
        )
        return after


def disable_user(workspace: Workspace, principal: Principal, username: str) -> dict[str, Any]:
    """Disable an account: its sessions end, its tokens stop working; nothing is deleted."""
    return _change(workspace, principal, username, "user.disable", disabled=True)


def enable_user(workspace: Workspace, principal: Principal, username: str) -> dict[str, Any]:
    return _change(
        workspace,
        principal,
        username,
        "user.enable",
        disabled=False,
        failed_sign_ins=0,
        locked_until=None,
    )


def set_role(
    workspace: Workspace, principal: Principal, username: str, role: str, scope: str | None
) -> dict[str, Any]:
    return _change(workspace, principal, username, "user.set_role", role=role, scope_entity=scope)


def set_password(
    workspace: Workspace, principal: Principal, username: str, password: str
) -> dict[str, Any]:
    """Set an account's password (administrators); its browser sessions end."""
    _check_password(password)
    return _change(
        workspace,
        principal,
        username,
        "user.set_password",
        password_hash=_hasher.hash(password),
        end_sessions=True,
    )


def _principal(user: User, address: str | None) -> Principal:
    return Principal(
        username=user.username,
        role=user.role,
        scope_entity=user.scope_entity,
        user_id=user.id,
        address=address,
    )


@dataclass(frozen=True, slots=True)
class SignIn:
    """A good sign-in: the principal, and (for a browser) the session cookie value and its
    CSRF token."""

    principal: Principal
    cookie: str
    csrf_token: str
    expires_at: datetime


_FAILED = "unknown user or wrong password, or the account is disabled or locked"
_FAILED_ZH = "用户名或密码错误，或账户已停用或锁定。"


def authenticate(
    workspace: Workspace,
    username: str,
    password: str,
    *,
    address: str | None = None,
    max_failures: int = 5,
    lockout: timedelta = timedelta(minutes=15),
) -> Principal:
    """The principal of ``username`` if ``password`` is right; else
    :class:`AuthenticationError` with one message for every cause (an attacker learns
    nothing). Failures count towards the lock-out; both outcomes are audit events."""
    name = username[:100]
    # The slow hash runs outside the write lock, so a flood of sign-ins cannot hold up the
    # workspace's writers; the lock is taken only to count the outcome.
    with workspace.session() as session:
        row = session.execute(
            sa.select(User.id, User.password_hash).where(User.username == name)
        ).first()
    checked = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    good: bool
    try:
        good = _hasher.verify(checked, password[:MAX_PASSWORD_CHARS])
    except (VerificationError, InvalidHashError):
        good = False
    rehashed = _hasher.hash(password) if good and _hasher.check_needs_rehash(checked) else None
    now = _now()
    with workspace.write_lock() as session:
        user = session.get(User, row.id) if row is not None else None
        if user is not None and user.password_hash != checked:
            good = False  # the password changed while it was being checked
        locked = user is not None and (_aware(user.locked_until) or now) > now
        if user is not None and not locked and user.locked_until is not None:
            # The lock has run out: the account gets max_failures fresh attempts.
            user.locked_until = None
            user.failed_sign_ins = 0
        if user is None or not user.password_hash or not good or user.disabled or locked:
            if user is not None:
                user.failed_sign_ins += 1
                if user.failed_sign_ins >= max_failures and not locked:
                    user.locked_until = now + lockout
            actor = Principal(username=name or "-", role="-", address=address)
            record(
                session,
                actor,
                "session.sign_in_failed",
                "user",
                name,
                detail={"locked": user is not None and (_aware(user.locked_until) or now) > now},
            )
            session.commit()
            raise with_zh(AuthenticationError(_FAILED), _FAILED_ZH)
        if rehashed is not None:
            user.password_hash = rehashed
        user.failed_sign_ins = 0
        user.locked_until = None
        principal = _principal(user, address)
        record(session, principal, "session.sign_in", "user", user.username)
        return principal


def start_session(workspace: Workspace, principal: Principal, *, lifetime: timedelta) -> SignIn:
    """A browser session for a principal that :func:`authenticate` (or OIDC) returned."""
    if principal.user_id is None:
        raise AuthenticationError("only accounts of the workspace can sign in")
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = _now() + lifetime
    with workspace.session() as session:
        # Sessions that ran out are of no use to anyone: the user's own go now.
        session.execute(
            sa.delete(WebSession).where(
                WebSession.user_id == principal.user_id, WebSession.expires_at <= _now()
            )
        )
        session.add(
            WebSession(
                id_sha256=_sha256(cookie),
                user_id=principal.user_id,
                csrf_token=csrf,
                created_at=_now(),
                expires_at=expires,
                address=principal.address,
            )
        )
    return SignIn(principal, cookie, csrf, expires)


def principal_for_session(
    workspace: Workspace, cookie: str, *, address: str | None = None
) -> tuple[Principal, str]:
    """The principal of a session cookie and the session's CSRF token."""
    with workspace.session() as session:
        row = session.execute(
            sa.select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id_sha256 == _sha256(cookie))
        ).first()
        if row is None:
            raise AuthenticationError("not signed in, or the session has ended")
        web, user = row
        if user.disabled or (_aware(web.expires_at) or _now()) <= _now():
            raise AuthenticationError("not signed in, or the session has ended")
        return _principal(user, address), web.csrf_token


def end_session(workspace: Workspace, principal: Principal, cookie: str) -> None:
    with workspace.write_lock() as session:
        session.execute(sa.delete(WebSession).where(WebSession.id_sha256 == _sha256(cookie)))
        record(session, principal, "session.sign_out", "user", principal.username)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as created: ``token`` is shown this once and never stored."""

    id: str
    name: str
    token: str
    expires_at: datetime


def create_token(
    workspace: Workspace, principal: Principal, name: str, *, days: int = 90
) -> NewToken:
    """A personal API token of the acting user, valid for ``days`` (1-366)."""
    require(principal, "session:self")
    if principal.user_id is None:
        raise UserError("API tokens belong to accounts: add one with esgledger users add")
    if not 1 <= days <= 366:
        raise UserError("a token lives 1 to 366 days")
    name = name.strip()
    if not name or len(name) > 200:
        raise UserError("a token needs a name of 1 to 200 characters")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    expires = _now() + timedelta(days=days)
    with workspace.write_lock() as session:
        session.add(
            ApiToken(
                id=token_id,
                user_id=principal.user_id,
                name=name,
                secret_sha256=_sha256(secret),
                created_at=_now(),
                expires_at=expires,
            )
        )
        record(
            session,
            principal,
            "token.create",
            "token",
            token_id,
            detail={"name": name, "expires_at": expires.isoformat()},
        )
    return NewToken(token_id, name, f"esl_{token_id}_{secret}", expires)


def list_tokens(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    require(principal, "session:self")
    with workspace.session() as session:
        rows = session.execute(
            sa.select(ApiToken)
            .where(ApiToken.user_id == principal.user_id)
            .order_by(ApiToken.created_at)
        ).scalars()
        return [
            {
                "id": t.id,
                "name": t.name,
                "created_at": _aware(t.created_at).isoformat(),  # type: ignore[union-attr]
                "expires_at": _aware(t.expires_at).isoformat(),  # type: ignore[union-attr]
                "revoked": t.revoked_at is not None,
            }
            for t in rows
        ]


def revoke_token(workspace: Workspace, principal: Principal, token_id: str) -> None:
    """Revoke one of the acting user's tokens (an admin may revoke anyone's)."""
    require(principal, "session:self")
    with workspace.write_lock() as session:
        token = session.get(ApiToken, token_id[:24])
        anyones = allowed(principal, "user:write") is True  # administrators
        if token is None or (token.user_id != principal.user_id and not anyones):
            raise NotFoundError(f"no token {quoted(token_id)}")
        if token.revoked_at is None:
            token.revoked_at = _now()
            record(session, principal, "token.revoke", "token", token.id)


def principal_for_token(
    workspace: Workspace, token: str, *, address: str | None = None
) -> Principal:
    """The principal of a bearer token (unknown, malformed, expired, revoked, or of a
    disabled user: :class:`AuthenticationError`, one message)."""
    match = _TOKEN.match(token)
    if match is None:
        raise AuthenticationError("invalid, expired or revoked API token")
    token_id, secret = match.groups()
    with workspace.session() as session:
        row = session.execute(
            sa.select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id == token_id)
        ).first()
        if row is None:
            raise AuthenticationError("invalid, expired or revoked API token")
        stored, user = row
        if (
            not secrets.compare_digest(stored.secret_sha256, _sha256(secret))
            or stored.revoked_at is not None
            or (_aware(stored.expires_at) or _now()) <= _now()
            or user.disabled
        ):
            raise AuthenticationError("invalid, expired or revoked API token")
        return _principal(user, address)


def oidc_key(issuer: str, subject: str) -> str:
    """How an identity provider's account is stored in ``users.oidc_subject``: the issuer
    (without a trailing slash), a space, the subject (``sub`` of the ID token)."""
    issuer, subject = issuer.strip().rstrip("/"), subject.strip()
    if not issuer or not subject or " " in issuer or len(issuer) + len(subject) >= 400:
        raise UserError("an OIDC issuer has no spaces and with the subject fits 400 characters")
    return f"{issuer} {subject}"


def authenticate_oidc(
    workspace: Workspace, issuer: str, subject: str, *, address: str | None = None
) -> Principal:
    """The principal of the account an administrator linked to ``issuer`` and ``subject``
    (an identity the provider vouched for). Unknown identities are refused, never created:
    the role and scope of an account are an administrator's decision."""
    key = oidc_key(issuer, subject)
    with workspace.write_lock() as session:
        user = session.execute(sa.select(User).where(User.oidc_subject == key)).scalar_one_or_none()
        if user is None or user.disabled:
            actor = Principal(username=f"oidc:{subject[:90]}", role="-", address=address)
            record(
                session,
                actor,
                "session.sign_in_failed",
                "user",
                user.username if user is not None else None,
                detail={"method": "oidc", "issuer": issuer[:200], "subject": subject[:200]},
            )
            session.commit()
            raise AuthenticationError(
                "no active account of this platform is linked to that identity: an "
                "administrator adds one with esgledger users add ... --oidc-issuer ISSUER "
                "--oidc-subject SUBJECT"
            )
        user.failed_sign_ins = 0
        user.locked_until = None
        principal = _principal(user, address)
        record(
            session, principal, "session.sign_in", "user", user.username, detail={"method": "oidc"}
        )
        return principal
