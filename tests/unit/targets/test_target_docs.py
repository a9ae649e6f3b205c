"""The Python examples of docs/methodology/targets.md run and their assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "methodology" / "targets.md"


def test_python_blocks_of_the_targets_methodology_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/methodology/targets.md has no python example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
