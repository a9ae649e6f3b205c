"""Telemetry rollups (issue-14 contract): signature only.

Stand-in written by the baseline helper so that its workspace adapter type-checks before the
lead's ``energy core:`` commit lands; the lead's version replaces it on merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from esgledger.energy.periods import Period

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["rollup"]


def rollup(
    ws: Workspace,
    grain: Literal["15min", "hour", "day", "month"],
    *,
    sites: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    meters: Sequence[str] | None = None,
    period: Period | None = None,
) -> pa.Table:
    """Columns ``site, meter, role, unit, period_start_utc, period_local, quantity,
    expected_intervals, intervals, flagged, estimated, coverage`` (contract)."""
    raise NotImplementedError("energy core has not landed on this branch")
