"""The demo group's platform side: one account per role, so a newcomer can sign in to
``esgledger serve`` at once. Passwords are random, returned once (the demo prints them) and
stored only as Argon2id hashes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.store import Workspace

__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "add_demo_accounts"]

#: (username, role, scope entity or None for the whole group, display name).
DEMO_ACCOUNTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("admin", "admin", None, "Platform administrator"),
    ("esg.office", "esg_office", None, "ESG office analyst"),
    ("cloud.reviewer", "reviewer", "CLOUD", "Reviewer, Cloud and Smart Industries"),
    ("cloud.owner", "data_owner", "CLOUD", "Data owner, Cloud and Smart Industries"),
    ("game.viewer", "viewer", "GAME", "Viewer, Interactive Entertainment"),
    ("auditor", "auditor", None, "Assurance provider"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    scope: str | None
    password: str


def add_demo_accounts(workspace: Workspace) -> list[DemoAccount]:
    """Add :data:`DEMO_ACCOUNTS` with fresh random passwords (returned, never stored)."""
    made = []
    for username, role, scope, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        add_user(
            workspace,
            Principal.local(),
            username,
            role=role,
            scope=scope,
            password=password,
            display_name=name,
        )
        made.append(DemoAccount(username, role, scope, password))
    return made
