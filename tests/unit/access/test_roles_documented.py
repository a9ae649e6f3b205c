"""Every action is documented: the routes' actions, ``access/roles.csv`` and
``docs/platform/roles.md`` agree (Datasette's "every action is documented")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from esgledger.access.policy import ROLES, actions, allowed, grant, matrix_markdown, require
from esgledger.access.principal import Principal
from esgledger.errors import AccessDeniedError
from esgledger.server.app import create_app
from esgledger.server.deps import DECLARED_ACTIONS, api_routes, route_actions
from esgledger.store import Workspace

ROLES_DOC = Path(__file__).resolve().parents[3] / "docs" / "platform" / "roles.md"


def _between(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name} begin -->\n(.*?)<!-- {name} end -->", text, re.S)
    assert match is not None, f"docs/platform/roles.md lacks the {name} markers"
    return match.group(1)


def _service_only() -> frozenset[str]:
    listed = _between(ROLES_DOC.read_text(), "service-only")
    return frozenset(re.findall(r"`([a-z_]+:[a-z_]+)`", listed))


@pytest.fixture
def used_actions(sqlite_workspace: Workspace) -> frozenset[str]:
    app = create_app(sqlite_workspace)
    used: set[str] = set()
    for route in api_routes(app):
        used |= route_actions(route)
    return frozenset(used | DECLARED_ACTIONS)


def test_every_action_a_route_uses_is_in_roles_csv_and_documented(
    used_actions: frozenset[str],
) -> None:
    assert used_actions, "no route declares an action"
    documented = _between(ROLES_DOC.read_text(), "roles.csv")
    assert sorted(used_actions - set(actions())) == []
    assert sorted(a for a in used_actions if f"`{a}`" not in documented) == []


def test_roles_csv_has_no_action_that_nothing_uses(used_actions: frozenset[str]) -> None:
    unused = set(actions()) - used_actions - _service_only()
    assert sorted(unused) == [], (
        "actions of roles.csv no route declares: use them, remove them, or list them as "
        "checked by a service in docs/platform/roles.md"
    )
    assert _service_only() <= set(actions())


def test_the_documented_table_is_the_one_generated_from_roles_csv() -> None:
    documented = _between(ROLES_DOC.read_text(), "roles.csv")
    assert documented == matrix_markdown(), (
        "docs/platform/roles.md differs from roles.csv: run tools/update_roles_doc.py"
    )


def test_every_cell_is_all_scope_or_never_and_no_one_but_admin_writes_users() -> None:
    for action in actions():
        assert {grant(role, action) for role in ROLES} <= {"all", "scope", "-"}
    assert [role for role in ROLES if grant(role, "user:write") != "-"] == ["admin"]
    # The auditor writes nothing: every action it may do reads.
    writes = [
        a
        for a in actions()
        if grant("auditor", a) != "-" and not a.split(":")[1].startswith("read")
    ]
    assert writes == ["session:self"]


def test_allowed_answers_true_or_the_reason() -> None:
    owner = Principal("olga", "data_owner", scope_entity="BUA")
    visible = frozenset({"BUA", "BUA1"})
    assert allowed(owner, "inventory:read", "BUA1", visible=visible) is True
    reason = allowed(owner, "inventory:read", "BUB", visible=visible)
    assert reason == "BUB is outside the scope of olga (BUA)"
    assert allowed(owner, "user:write") == "the role data_owner may not user:write"
    # A role granted "all" ignores the scope; an unknown role may do nothing.
    auditor = Principal("ann", "auditor", scope_entity="BUA")
    assert allowed(auditor, "inventory:read", "BUB", visible=visible) is True
    nobody = Principal("x", "root")
    assert allowed(nobody, "inventory:read") == "the role root may not inventory:read"
    with pytest.raises(AccessDeniedError, match="outside the scope"):
        require(owner, "inventory:read", "BUB", visible=visible)
    with pytest.raises(KeyError, match=r"not in access/roles\.csv"):
        grant("admin", "nothing:here")
