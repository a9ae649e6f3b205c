"""Hourly site weather (issue-14 contract, demo helper's module): signature only.

Stand-in written by the baseline helper so that its workspace adapter type-checks before the
demo helper's module lands; that version replaces it on merge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from esgledger.energy.periods import Period

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["hourly"]


def hourly(ws: Workspace, site: str, period: Period | None = None) -> pa.Table:
    """Columns ``site, ts_utc, ts_local, dry_bulb_c, wet_bulb_c, relative_humidity_pct``."""
    raise NotImplementedError("energy.weather has not landed on this branch")
