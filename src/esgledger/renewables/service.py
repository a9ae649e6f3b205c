"""Green power in the workspace: storing a year's instrument allocations.

The one module of :mod:`esgledger.renewables` that opens a workspace (the rest is pure).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from esgledger import audit
from esgledger.access.principal import Principal
from esgledger.store.repository_renewables import clear_allocations, save_allocations

if TYPE_CHECKING:
    from esgledger.renewables.allocation import AllocationResult
    from esgledger.store import Workspace

__all__ = ["store_allocations"]


def store_allocations(
    workspace: Workspace, principal: Principal, year: int, result: AllocationResult, *, run_id: str
) -> int:
    """Replace the stored allocations of ``year`` by ``result``'s (``esgledger green re
    --save``), under the workspace's write lock, with the audit event ``green.allocate``;
    return the number stored."""
    records = result.records()
    with workspace.write_lock() as session:
        removed = clear_allocations(session, year)
        stored = save_allocations(session, records)
        audit.record(
            session,
            principal,
            "green.allocate",
            "allocations",
            str(year),
            after=audit.digest(json.loads(json.dumps(records, default=str))),  # dates as ISO
            detail={"run_id": run_id, "stored": stored, "replaced": removed},
        )
    return stored
