"""Who is acting: the principal every service takes explicitly.

The server builds one from the signed-in user or API token; the CLI passes
:meth:`Principal.local`, the operating-system user at the workspace's own machine, who acts as
an administrator of the whole group (whoever can write the workspace folder can do anything
with it; the audit trail still names them).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An acting user: ``role`` applies to ``scope_entity`` and every entity under it
    (``None`` = the whole group); ``address`` is the client's IP address (``None`` from the
    CLI)."""

    username: str
    role: str
    scope_entity: str | None = None
    user_id: int | None = None
    address: str | None = None

    @classmethod
    def local(cls) -> Principal:
        """The operating-system user running the CLI on the workspace: ``admin`` of the whole
        group, named ``local:<user>`` in the audit trail."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            user = "unknown"
        return cls(username=f"local:{user}", role="admin")
