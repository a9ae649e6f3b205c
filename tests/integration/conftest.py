"""Fixtures shared by the integration tests of more than one face.

``proposals_ws``, ``proposals_copy`` and ``proposals_office``: the workspace of
``tests/_energy_proposals.py`` (built once per test module), a private copy of it for a test
that adopts (changes the measures), and a client logged in as its ``office`` account.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _energy_proposals import build
from _web_support import DemoCopy, page_client


@pytest.fixture(scope="module")
def proposals_ws(tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    return build(tmp_path_factory.mktemp("energy-proposals") / "ws")


@pytest.fixture
def proposals_copy(proposals_ws: DemoCopy, tmp_path: Path) -> DemoCopy:
    """A private copy for a test that adopts (changes the measures)."""
    shutil.copytree(proposals_ws.path, tmp_path / "ws")
    return DemoCopy(tmp_path / "ws", dict(proposals_ws.passwords))


@pytest.fixture(scope="module")
def proposals_office(proposals_ws: DemoCopy) -> Iterator[Any]:
    with page_client(proposals_ws, "office") as client:
        yield client
