"""Accounting: the GHG inventory engine, its runs and the inventory they add up to.

温室气体盘查：计算引擎、运行记录与盘查汇总。

* :func:`calculate` turns a workspace's activity data and factor library into one line item
  per activity row (:mod:`esgledger.inventory.engine`) and registers the run;
* :func:`load_run` and :func:`list_runs` find runs again; :func:`summary` gives a run's
  inventory as the JSON contract (:mod:`esgledger.inventory.runs`);
* :mod:`esgledger.inventory.explain` shows how one activity row's figures came to be.

See ``docs/methodology/inventory.md``.
"""

from __future__ import annotations

from esgledger.inventory.engine import (
    CONSOLIDATION_ALIASES,
    LINE_ITEM_COLUMNS,
    calculate,
    compute_line_items,
)
from esgledger.inventory.runs import Run, aggregate, list_runs, load_run, summary

__all__ = [
    "CONSOLIDATION_ALIASES",
    "LINE_ITEM_COLUMNS",
    "Run",
    "aggregate",
    "calculate",
    "compute_line_items",
    "list_runs",
    "load_run",
    "summary",
]
