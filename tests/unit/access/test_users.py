"""Accounts and passwords (``esgledger.access.users``): Argon2id, re-hash on sign-in, the dummy
hash for unknown users, lock-out, and the audit events of each change."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from esgledger.access import Principal, users
from esgledger.audit import events
from esgledger.errors import AccessDeniedError, AuthenticationError, ConflictError, NotFoundError
from esgledger.store import Workspace
from esgledger.store.models_platform import User, WebSession

PASSWORD = "a-long-password-1"
ADMIN = Principal.local()


def _stored_hash(ws: Workspace, username: str) -> str:
    with ws.session() as session:
        value = session.execute(
            sa.select(User.password_hash).where(User.username == username)
        ).scalar_one()
    assert value is not None
    return value


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    users.add_user(workspace, ADMIN, "olga", role="viewer", password=PASSWORD)
    return workspace


class _RecordingHasher:
    """The module's hasher, recording which hashes it verified against."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.verified: list[str] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return self.inner.verify(stored, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_passwords_are_argon2id_phc_strings(ws: Workspace) -> None:
    stored = _stored_hash(ws, "olga")
    assert stored.startswith("$argon2id$v=19$m=")
    assert PASSWORD not in stored
    assert users.authenticate(ws, "olga", PASSWORD).username == "olga"


def test_sign_in_rehashes_when_the_parameters_changed(ws: Workspace) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with ws.session() as session:
        user = session.execute(sa.select(User).where(User.username == "olga")).scalar_one()
        user.password_hash = weak.hash(PASSWORD)
    assert "m=8192,t=1,p=1" in _stored_hash(ws, "olga")
    users.authenticate(ws, "olga", PASSWORD)
    stored = _stored_hash(ws, "olga")
    assert "m=8192,t=1" not in stored
    assert not PasswordHasher().check_needs_rehash(stored)
    assert users.authenticate(ws, "olga", PASSWORD).username == "olga"


@pytest.mark.parametrize("username", ["nobody", "oidc_only"])
def test_an_unknown_or_passwordless_user_is_still_verified_against_a_dummy_hash(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    users.add_user(
        ws, ADMIN, "oidc_only", role="viewer", oidc_subject=users.oidc_key("https://idp", "42")
    )
    recorder = _RecordingHasher(users._hasher)
    monkeypatch.setattr(users, "_hasher", recorder)
    with pytest.raises(AuthenticationError) as refused:
        users.authenticate(ws, username, PASSWORD)
    assert recorder.verified == [users._DUMMY_HASH]
    # The same words for every cause.
    with pytest.raises(AuthenticationError) as wrong:
        users.authenticate(ws, "olga", "not-the-password")
    assert str(refused.value) == str(wrong.value)


def test_lock_out_after_max_failures_and_enable_lifts_it(ws: Workspace) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            users.authenticate(ws, "olga", "wrong-password!", max_failures=3)
    with pytest.raises(AuthenticationError):
        users.authenticate(ws, "olga", PASSWORD, max_failures=3)  # locked
    users.enable_user(ws, ADMIN, "olga")
    assert users.authenticate(ws, "olga", PASSWORD, max_failures=3).role == "viewer"


def test_a_good_sign_in_resets_the_count(ws: Workspace) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            users.authenticate(ws, "olga", "wrong-password!", max_failures=3)
    users.authenticate(ws, "olga", PASSWORD, max_failures=3)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            users.authenticate(ws, "olga", "wrong-password!", max_failures=3)
    users.authenticate(ws, "olga", PASSWORD, max_failures=3)


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(ws: Workspace) -> None:
    principal = users.authenticate(ws, "olga", PASSWORD)
    signed = users.start_session(ws, principal, lifetime=timedelta(hours=1))
    assert users.principal_for_session(ws, signed.cookie)[0].username == "olga"
    users.disable_user(ws, ADMIN, "olga")
    with pytest.raises(AuthenticationError):
        users.authenticate(ws, "olga", PASSWORD)
    with pytest.raises(AuthenticationError):
        users.principal_for_session(ws, signed.cookie)
    with ws.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(WebSession)).scalar() == 0


def test_set_password_and_set_role(ws: Workspace) -> None:
    users.set_password(ws, ADMIN, "olga", "another-long-password")
    with pytest.raises(AuthenticationError):
        users.authenticate(ws, "olga", PASSWORD)
    assert users.authenticate(ws, "olga", "another-long-password").username == "olga"
    with pytest.raises(users.UserError, match="unknown role"):
        users.set_role(ws, ADMIN, "olga", "root", None)
    with pytest.raises(users.UserError, match="unknown entity"):
        users.set_role(ws, ADMIN, "olga", "viewer", "NOPE")
    assert users.set_role(ws, ADMIN, "olga", "auditor", None)["role"] == "auditor"
    with pytest.raises(NotFoundError):
        users.set_role(ws, ADMIN, "nobody", "viewer", None)


def test_only_an_admin_changes_accounts(ws: Workspace) -> None:
    viewer = users.authenticate(ws, "olga", PASSWORD)
    with pytest.raises(AccessDeniedError):
        users.add_user(ws, viewer, "eve", role="admin", password=PASSWORD)
    with pytest.raises(AccessDeniedError):
        users.set_role(ws, viewer, "olga", "admin", None)
    with pytest.raises(AccessDeniedError):
        users.set_password(ws, viewer, "olga", "another-long-password")
    with pytest.raises(AccessDeniedError):
        users.list_users(ws, viewer)


@pytest.mark.parametrize(
    ("username", "password", "match"),
    [
        ("", PASSWORD, "invalid username"),
        ("-lead", PASSWORD, "invalid username"),
        ("a b", PASSWORD, "invalid username"),
        ("ok", "short", "at least 12"),
        ("ok", "x" * 1025, "at most 1024"),
    ],
)
def test_bad_usernames_and_passwords_are_refused(
    ws: Workspace, username: str, password: str, match: str
) -> None:
    with pytest.raises(users.UserError, match=match):
        users.add_user(ws, ADMIN, username, role="viewer", password=password)


def test_a_username_is_taken_once(ws: Workspace) -> None:
    with pytest.raises(ConflictError):
        users.add_user(ws, ADMIN, "olga", role="viewer", password=PASSWORD)


def test_every_change_and_sign_in_is_an_audit_event(ws: Workspace) -> None:
    with pytest.raises(AuthenticationError):
        users.authenticate(ws, "olga", "wrong-password!", address="10.0.0.9")
    users.authenticate(ws, "olga", PASSWORD, address="10.0.0.9")
    users.set_role(ws, ADMIN, "olga", "reviewer", None)
    users.disable_user(ws, ADMIN, "olga")
    actions = [(e.action, e.object_id, e.address) for e in events(ws)]
    assert actions[-5:] == [
        ("user.add", "olga", None),
        ("session.sign_in_failed", "olga", "10.0.0.9"),
        ("session.sign_in", "olga", "10.0.0.9"),
        ("user.set_role", "olga", None),
        ("user.disable", "olga", None),
    ]


def test_the_slow_hash_runs_outside_the_write_lock(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of sign-ins must not hold up the workspace's writers: while the password is
    being checked, another writer gets the lock at once."""
    took_lock: list[bool] = []

    class _WriterDuringVerify(_RecordingHasher):
        def verify(self, stored: str, password: str) -> bool:
            def write() -> None:
                with ws.write_lock() as session:
                    session.execute(sa.select(1))
                took_lock.append(True)

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            writer.join(timeout=5)
            return super().verify(stored, password)

    monkeypatch.setattr(users, "_hasher", _WriterDuringVerify(users._hasher))
    assert users.authenticate(ws, "olga", PASSWORD).username == "olga"
    with pytest.raises(AuthenticationError):
        users.authenticate(ws, "nobody", PASSWORD)
    assert took_lock == [True, True]


def test_the_api_keeps_one_administrator_of_the_whole_group(ws: Workspace) -> None:
    users.add_user(ws, ADMIN, "root", role="admin", password=PASSWORD)
    root = users.authenticate(ws, "root", PASSWORD)
    for change in (
        lambda: users.disable_user(ws, root, "root"),
        lambda: users.set_role(ws, root, "root", "viewer", None),
    ):
        with pytest.raises(ConflictError, match="last active administrator"):
            change()
    users.add_user(ws, ADMIN, "root2", role="admin", password=PASSWORD)
    assert users.set_role(ws, root, "root", "auditor", None)["role"] == "auditor"
    # The CLI's local administrator may always (it can add another one at once).
    assert users.disable_user(ws, ADMIN, "root2")["disabled"] is True
