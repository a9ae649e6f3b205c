"""The vendored front-end files are exactly the pinned releases their VENDORED.csv names:
each file's sha256 matches, each has its licence beside it, and nothing unlisted is vendored."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

import esgledger.server.web

SHIPPED = Path(esgledger.server.web.__file__).parent / "static" / "vendor"
TESTS_ONLY = Path(__file__).parents[2] / "browser" / "vendor"


@pytest.mark.parametrize("folder", [SHIPPED, TESTS_ONLY], ids=["shipped", "tests"])
def test_every_vendored_file_is_the_pinned_release(folder: Path) -> None:
    with (folder / "VENDORED.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    listed = set()
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        assert (folder / row["licence_file"]).read_text(encoding="utf-8").strip(), row["file"]
        assert row["version"], row["file"]
        assert row["licence"], row["file"]
        listed |= {row["file"], row["licence_file"]}
    scripts = {p.name for p in folder.iterdir() if p.suffix in (".js", ".mjs", ".css")}
    assert scripts <= listed, f"vendored but not listed in VENDORED.csv: {scripts - listed}"
