"""Stand-in for the core's ``energy/rollups.py`` (issue 14 contract); the core's wins on merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from esgledger.energy.periods import Period

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["rollup"]


def rollup(
    workspace: Workspace,
    grain: str,
    *,
    sites: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    meters: Sequence[str] | None = None,
    period: Period | None = None,
) -> pa.Table:
    raise NotImplementedError("energy core not merged yet")
