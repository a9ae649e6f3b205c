"""The house's arrows point down (docs/architecture.md): faces (``cli``, ``server``) never
import each other, and nothing below them imports a face. Read from the source with ``ast``,
function-level imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "esgledger"
FACES = ("esgledger.cli", "esgledger.server")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _face(module: str) -> str | None:
    return next((f for f in FACES if module == f or module.startswith(f + ".")), None)


#: ``python -m esgledger`` is the CLI's entry point, so it may import the CLI.
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if _module(p) != "esgledger.__main__")


def test_the_sources_are_found() -> None:
    assert any(_module(p) == "esgledger.server.app" for p in SOURCES)
    assert any(_module(p) == "esgledger.cli._app" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: _module(p))
def test_arrows_point_down(path: Path) -> None:
    own = _face(_module(path))
    wrong = sorted(
        name for name in _imports(path) if (face := _face(name)) is not None and face != own
    )
    assert not wrong, f"{_module(path)} imports {wrong}: faces call the domain, never each other"
