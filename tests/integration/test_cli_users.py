"""``esgledger users add|list|disable|enable|set-role|set-password WS``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _inventory_support import seed_organisation
from esgledger.access import users
from esgledger.cli import app
from esgledger.errors import AuthenticationError
from esgledger.store import Workspace

runner = CliRunner()
PASSWORD = "a-long-password-1"


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    with Workspace.init(root, year=2024, name="T") as ws:
        seed_organisation(ws, entity="BUA", site="SA", region="CN-BJ")
    return root


def _users(root: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["users", "list", str(root), "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def _signs_in(root: Path, username: str, password: str = PASSWORD) -> bool:
    with Workspace.open(root) as ws:
        try:
            users.authenticate(ws, username, password)
        except AuthenticationError:
            return False
    return True


def test_add_reads_the_password_from_stdin_and_list_shows_the_account(ws_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            str(ws_path),
            "olga",
            "--role",
            "data_owner",
            "--scope",
            "BUA",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "added olga: data_owner of BUA"
    assert PASSWORD not in result.output
    assert _signs_in(ws_path, "olga")
    (row,) = _users(ws_path)
    assert (row["username"], row["role"], row["scope"], row["disabled"]) == (
        "olga",
        "data_owner",
        "BUA",
        False,
    )
    table = runner.invoke(app, ["users", "list", str(ws_path)])
    assert [line.split() for line in table.stdout.splitlines()] == [
        ["olga", "data_owner", "BUA", "active"]
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "root"], PASSWORD, "unknown role 'root'"),
        (["--role", "viewer", "--scope", "NOPE"], PASSWORD, "unknown entity 'NOPE'"),
        (["--role", "viewer"], "short", "at least 12 characters"),
    ],
)
def test_add_refuses_bad_input_with_one_line(
    ws_path: Path, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(
        app, ["users", "add", str(ws_path), "olga", *args, "--password-stdin"], input=stdin
    )
    assert result.exit_code == 2  # rejected input, as for `import` (nothing written)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _users(ws_path) == []


def test_an_empty_stdin_is_a_usage_error(ws_path: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "add", str(ws_path), "olga", "--role", "viewer", "--password-stdin"],
        input="",
    )
    assert result.exit_code == 2
    assert "no password on standard input" in result.output


def test_a_second_account_of_the_same_name_is_refused(ws_path: Path) -> None:
    for expected in (0, 1):
        result = runner.invoke(
            app,
            ["users", "add", str(ws_path), "olga", "--role", "viewer", "--password-stdin"],
            input=PASSWORD,
        )
        assert result.exit_code == expected, result.output
    assert "exists already" in result.stderr


def test_disable_enable_set_role_and_set_password(ws_path: Path) -> None:
    runner.invoke(
        app,
        ["users", "add", str(ws_path), "olga", "--role", "viewer", "--password-stdin"],
        input=PASSWORD,
    )
    disabled = runner.invoke(app, ["users", "disable", str(ws_path), "olga"])
    assert disabled.exit_code == 0, disabled.output
    assert disabled.stdout.strip() == "disabled olga"
    assert not _signs_in(ws_path, "olga")
    assert _users(ws_path)[0]["disabled"] is True
    assert runner.invoke(app, ["users", "list", str(ws_path)]).stdout.endswith("disabled\n")

    enabled = runner.invoke(app, ["users", "enable", str(ws_path), "olga"])
    assert enabled.exit_code == 0
    assert _signs_in(ws_path, "olga")

    role = runner.invoke(
        app, ["users", "set-role", str(ws_path), "olga", "--role", "reviewer", "--scope", "BUA"]
    )
    assert role.exit_code == 0, role.output
    assert role.stdout.strip() == "olga: reviewer of BUA"
    assert _users(ws_path)[0]["role"] == "reviewer"
    whole = runner.invoke(app, ["users", "set-role", str(ws_path), "olga", "--role", "auditor"])
    assert whole.stdout.strip() == "olga: auditor of the whole group"

    new = "a-newer-long-password"
    changed = runner.invoke(app, ["users", "set-password", str(ws_path), "olga"], input=new)
    assert changed.exit_code == 0, changed.output
    assert not _signs_in(ws_path, "olga")
    assert _signs_in(ws_path, "olga", new)


def test_enable_lifts_a_lock_out(ws_path: Path) -> None:
    runner.invoke(
        app,
        ["users", "add", str(ws_path), "olga", "--role", "viewer", "--password-stdin"],
        input=PASSWORD,
    )
    with Workspace.open(ws_path) as ws:
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                users.authenticate(ws, "olga", "wrong-password!")
    assert not _signs_in(ws_path, "olga")
    assert runner.invoke(app, ["users", "enable", str(ws_path), "olga"]).exit_code == 0
    assert _signs_in(ws_path, "olga")


def test_unknown_users_exit_1_naming_them(ws_path: Path) -> None:
    for command in (["disable"], ["enable"], ["set-role", "--role", "viewer"]):
        result = runner.invoke(app, ["users", command[0], str(ws_path), "ghost", *command[1:]])
        assert result.exit_code == 1
        assert result.stderr.strip() == "error: no user 'ghost'"


def test_an_oidc_identity_is_linked_only_with_issuer_and_subject(ws_path: Path) -> None:
    half = runner.invoke(
        app, ["users", "add", str(ws_path), "ida", "--role", "viewer", "--oidc-subject", "42"]
    )
    assert half.exit_code == 2
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            str(ws_path),
            "ida",
            "--role",
            "viewer",
            "--oidc-issuer",
            "https://idp.example.com/",
            "--oidc-subject",
            "42",
        ],
    )
    assert result.exit_code == 0, result.output
    assert _users(ws_path)[0]["oidc"] is True
    with Workspace.open(ws_path) as ws:
        assert users.authenticate_oidc(ws, "https://idp.example.com", "42").username == "ida"
        with pytest.raises(AuthenticationError):
            users.authenticate_oidc(ws, "https://idp.example.com", "43")
