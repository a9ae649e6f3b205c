"""The README's walkthrough works as written in a fresh shell (issue 10: its later sections
called a bare `esgledger` that only the activated virtual environment provides)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def _bash_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_venv_is_activated_before_the_first_bare_esgledger_command() -> None:
    lines = _bash_lines()
    bare = [i for i, line in enumerate(lines) if re.match(r"esgledger\b", line)]
    assert bare, "the README shows esgledger commands"
    activated = [i for i, line in enumerate(lines) if line == "source .venv/bin/activate"]
    assert activated, "the README says to activate .venv"
    assert activated[0] < bare[0]


def test_the_first_commands_use_the_venv_without_activation() -> None:
    """The install one-liners run before any activation, so they name .venv/bin/ explicitly."""
    lines = _bash_lines()
    first_activation = lines.index("source .venv/bin/activate")
    for line in lines[:first_activation]:
        if line.startswith("#"):
            continue
        for command in re.findall(r"(?:^|&& )(esgledger|pip|pytest)\b", line):
            raise AssertionError(f"{command} without .venv/bin/ before activation: {line}")


ROOT = README.parent


def _install_files() -> list[Path]:
    """Every file that tells a person or CI how to make a virtual environment."""
    files = [README, ROOT / ".ci" / "run", *sorted((ROOT / "docs").rglob("*.md"))]
    files += sorted(p for p in (ROOT / "tools").iterdir() if p.is_file())
    return [p for p in files if p.is_file()]


def test_every_virtualenv_made_upgrades_pip_inside_it() -> None:
    """Issue 11 §17: an old pip (with its own advisories) must not install the project."""
    checked = 0
    for path in _install_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if not re.search(r"python[\w.]*\s+-m venv\b", line):
                continue
            checked += 1
            following = " ".join(lines[number : number + 3])
            assert "--upgrade-deps" in line or re.search(
                r"pip install\b[^&|;]*--upgrade pip", following
            ), f"{path.relative_to(ROOT)}:{number + 1} makes a venv without upgrading pip: {line}"
    assert checked >= 3  # README's two commands and .ci/run
