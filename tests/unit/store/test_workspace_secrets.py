"""Database passwords (issue 11 §15): never in ``esgledger.toml``, never in a message; kept in
a private file (0600) or found by libpq; a malformed URL is a one-line error, exit 2."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.errors import WorkspaceError
from esgledger.store import (
    CONFIG_FILE,
    DATABASE_URL_ENV,
    PASSWORD_FILE,
    DatabaseUrlError,
    Workspace,
)

runner = CliRunner()

SECRET = "S3cr%t-pw"  # a '%' too: it must survive URL encoding both ways


def _with_secret(url: str, password: str = SECRET) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _connection_password(ws: Workspace) -> str | None:
    """The password psycopg actually handed to libpq for the workspace's connection."""
    raw = ws.engine.raw_connection()
    try:
        return str(raw.driver_connection.info.password) or None  # type: ignore[union-attr]
    finally:
        raw.close()


@pytest.mark.postgres
def test_init_keeps_the_password_out_of_the_toml_and_the_output(
    pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    url = _with_secret(pg_url)
    assert SECRET not in url  # encoded in the URL: check both spellings below
    result = runner.invoke(
        app, ["init", str(root), "--database-url", url, "--schema", pg_schema, "--year", "2024"]
    )
    assert result.exit_code == 0, result.output
    output = result.stdout + result.stderr
    assert SECRET not in output
    assert make_url(url).password == SECRET
    assert "S3cr%25t-pw" not in output
    assert f"it is kept in {root / PASSWORD_FILE}" in result.stdout
    toml = (root / CONFIG_FILE).read_text("utf-8")
    assert "S3cr" not in toml
    assert make_url(_toml_url(toml)).password is None
    secret = root / PASSWORD_FILE
    assert secret.read_text("utf-8") == SECRET + "\n"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    assert (secret.parent / ".gitignore").read_text("utf-8") == "*\n"
    with Workspace.open(root) as ws:
        assert ws.engine.url.password == SECRET
        assert _connection_password(ws) == SECRET
        assert ws.password_file == secret
        assert "S3cr" not in ws.database_url
        assert "S3cr" not in repr(ws)


def _toml_url(toml: str) -> str:
    match = re.search(r'^database_url = "(.*)"$', toml, flags=re.MULTILINE)
    assert match, toml
    return match.group(1)


@pytest.mark.postgres
def test_a_password_file_others_can_read_is_refused(
    pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    Workspace.init(root, year=2024, database_url=_with_secret(pg_url), schema=pg_schema).close()
    (root / PASSWORD_FILE).chmod(0o644)
    with pytest.raises(WorkspaceError, match="other users can read it") as caught:
        Workspace.open(root)
    assert SECRET not in str(caught.value)
    result = runner.invoke(app, ["inventory", str(root)])
    assert result.exit_code == 1
    assert "chmod 600" in result.stderr
    assert SECRET not in result.output


@pytest.mark.postgres
def test_libpq_finds_the_password_in_a_pgpass_file(
    pg_url: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a password anywhere in esgledger's files, psycopg reads ``PGPASSFILE``."""
    root = tmp_path / "ws"
    Workspace.init(root, year=2024, database_url=pg_url, schema=pg_schema).close()
    assert not (root / PASSWORD_FILE).exists()
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("*:*:*:*:from-pgpass\n", "utf-8")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with Workspace.open(root) as ws:
        assert ws.engine.url.password is None
        assert _connection_password(ws) == "from-pgpass"
        assert ws.password_file is None


@pytest.mark.postgres
def test_the_environment_url_keeps_its_password_out_of_every_rendering(
    pg_url: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    Workspace.init(root, year=2024, database_url=pg_url, schema=pg_schema).close()
    monkeypatch.setenv(DATABASE_URL_ENV, _with_secret(pg_url))
    with Workspace.open(root) as ws:
        assert _connection_password(ws) == SECRET
        assert "S3cr" not in ws.database_url
        assert "S3cr" not in repr(ws)


BAD_URLS = {
    "port-not-a-number": ("postgresql+psycopg://u:S3cr%t-pw@db.example:abc/esg", "port"),
    "port-out-of-range": ("postgresql+psycopg://u:S3cr%t-pw@db.example:99999/esg", "65535"),
    "unparsable": ("u:S3cr%t-pw@db.example/esg", "cannot read the database URL"),
    "other-database": ("mysql://u:S3cr%t-pw@db.example/esg", "supports SQLite and PostgreSQL"),
}


@pytest.mark.parametrize("case", BAD_URLS, ids=list(BAD_URLS))
def test_a_malformed_url_is_one_line_exit_2_without_the_password(case: str, tmp_path: Path) -> None:
    url, says = BAD_URLS[case]
    with pytest.raises(DatabaseUrlError, match=re.escape(says)) as caught:
        Workspace.init(tmp_path / "api", year=2024, database_url=url)
    assert "S3cr" not in str(caught.value)
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "S3cr" not in result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert says in result.stderr


def test_an_unreachable_database_is_reported_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://nobody:S3cr%t-pw@127.0.0.1:1/none"
    with pytest.raises(WorkspaceError, match="cannot use the database") as caught:
        Workspace.init(tmp_path / "ws", year=2024, database_url=url)
    assert "S3cr" not in str(caught.value)
    result = runner.invoke(app, ["init", str(tmp_path / "ws2"), "--database-url", url])
    assert result.exit_code == 1
    assert "S3cr" not in result.output
    assert "nobody@127.0.0.1:1/none" in result.stderr
