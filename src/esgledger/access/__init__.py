"""Access: principals, roles scoped to the organisation tree, and the one role matrix
(``roles.csv``) that decides every action."""

from __future__ import annotations

from esgledger.access.principal import Principal

__all__ = ["Principal"]
