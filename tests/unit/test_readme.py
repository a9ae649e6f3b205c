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
