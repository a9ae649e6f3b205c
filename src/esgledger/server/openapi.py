"""The OpenAPI 3.1 document of the API, as committed in ``docs/api/openapi.json``.

:func:`snapshot_text` builds the application over a throw-away workspace (the document does
not depend on the workspace's data) and renders its ``/openapi.json`` stably: keys sorted,
indent 2, UTF-8, one trailing newline. ``tools/update_openapi.py`` writes it; a test compares
it with the committed file so that an API change is always reviewed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from esgledger.server.app import create_app
from esgledger.server.settings import ServerSettings
from esgledger.store import Workspace

__all__ = [
    "OPERATION_ID_PATTERN",
    "SNAPSHOT_PATH",
    "live_document",
    "render",
    "snapshot_text",
]

#: Where the snapshot lives, relative to the repository root.
SNAPSHOT_PATH = Path("docs/api/openapi.json")

#: Every operation id is ``<tag>-<name>`` (lower case words joined by ``_``).
OPERATION_ID_PATTERN = r"^[a-z_]+-[a-z_]+$"


def render(document: dict[str, Any]) -> str:
    """``document`` as the committed snapshot's text."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def live_document() -> dict[str, Any]:
    """The ``/openapi.json`` of an application over a fresh temporary workspace."""
    with tempfile.TemporaryDirectory(prefix="esgledger-openapi-") as tmp:
        workspace = Workspace.init(Path(tmp) / "ws", year=2024, name="OpenAPI")
        try:
            document: dict[str, Any] = create_app(workspace, ServerSettings()).openapi()
        finally:
            workspace.close()
    return document


def snapshot_text() -> str:
    """The text ``docs/api/openapi.json`` must hold."""
    return render(live_document())
