"""The command line as a whole: ``--version``, shell completion, ``python -m esgledger``, and
the guard that keeps every traceback from a user (issue 10, section 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import esgledger.demo.run
from esgledger import __version__
from esgledger.cli import app
from esgledger.cli._app import DEBUG_ENV

runner = CliRunner()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != DEBUG_ENV}
    return {**env, **extra}


def test_version_option_prints_the_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"esgledger {__version__}\n"


def test_python_dash_m_runs_the_same_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "esgledger", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"esgledger {__version__}\n", "")


def test_help_offers_shell_completion() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


def test_bash_completion_completes_command_names(tmp_path: Path) -> None:
    """What the script that ``--install-completion`` installs asks the program."""
    done = subprocess.run(
        [sys.executable, "-m", "esgledger"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(_ESGLEDGER_COMPLETE="complete_bash", COMP_WORDS="esgledger dem", COMP_CWORD="1"),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["demo"]


def test_demo_on_a_folder_that_is_not_a_demo_gives_one_line(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("my own file", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--workspace", str(tmp_path)], env=_env())
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path} exists and is not a demo workspace; refusing to overwrite it. "
        "Choose another folder with --workspace.\n"
    )
    assert (tmp_path / "mine.txt").exists()


def test_demo_on_a_folder_that_is_not_a_demo_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("my own file", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "esgledger", "demo", "--workspace", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {tmp_path} exists and is not a demo workspace")


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom\nsecond line of the message")


def test_an_unexpected_error_is_one_line_with_the_debug_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(esgledger.demo.run, "build_demo", _explode)
    result = runner.invoke(app, ["demo", "--workspace", str(tmp_path / "d")], env=_env())
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected RuntimeError: boom (this is a bug in esgledger; rerun with --debug "
        f"or {DEBUG_ENV}=1 to see the traceback, and report it)\n"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--debug"], {}), ([], {DEBUG_ENV: "1"})],
    ids=["--debug", DEBUG_ENV],
)
def test_debug_lets_the_traceback_through(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    monkeypatch.setattr(esgledger.demo.run, "build_demo", _explode)
    result = runner.invoke(
        app, [*args, "demo", "--workspace", str(tmp_path / "d")], env=_env(**env)
    )
    assert isinstance(result.exception, RuntimeError)
    assert "unexpected" not in result.stderr


def test_an_os_error_names_the_file_without_calling_it_a_bug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "d"))

    monkeypatch.setattr(esgledger.demo.run, "build_demo", denied)
    result = runner.invoke(app, ["demo", "--workspace", str(tmp_path / "d")], env=_env())
    assert result.exit_code == 1
    assert result.stderr == f"error: Permission denied: {tmp_path / 'd'}\n"
