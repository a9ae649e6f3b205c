"""Accounting: the GHG inventory engine, its runs and the inventory they add up to.

温室气体盘查：计算引擎、运行记录与盘查汇总。

* :func:`calculate` turns a workspace's activity data and factor library into one line item
  per activity row (:mod:`esgledger.inventory.engine`) and registers the run;
* :func:`load_run` and :func:`list_runs` find runs again; :func:`summary` gives a run's
  inventory as the JSON contract (:mod:`esgledger.inventory.runs`);
* :func:`market_based` computes market-based scope 2 and the renewable share of a run
  (every run stores it: :mod:`esgledger.inventory.market`);
* :func:`explain` shows how one activity row's figures came to be
  (:mod:`esgledger.inventory.explain`); :func:`diff_runs` what changed between two runs and
  why (:mod:`esgledger.inventory.diff`);
* :func:`recalculate` assesses structural changes against the base year
  (:mod:`esgledger.inventory.base_year`);
* :func:`score_line_items` and :func:`data_quality_summary` score the Scope 3 Standard's
  data-quality indicators (:mod:`esgledger.inventory.quality`); :func:`monte_carlo`
  propagates factor uncertainty to totals (:mod:`esgledger.inventory.uncertainty`).

See ``docs/methodology/inventory.md``.
"""

from __future__ import annotations

from esgledger.inventory.base_year import recalculate
from esgledger.inventory.diff import diff_runs
from esgledger.inventory.engine import (
    CONSOLIDATION_ALIASES,
    LINE_ITEM_COLUMNS,
    calculate,
    compute_line_items,
)
from esgledger.inventory.explain import explain
from esgledger.inventory.market import market_based
from esgledger.inventory.quality import data_quality_summary, score_line_items
from esgledger.inventory.runs import Run, aggregate, list_runs, load_run, summary
from esgledger.inventory.uncertainty import monte_carlo

__all__ = [
    "CONSOLIDATION_ALIASES",
    "LINE_ITEM_COLUMNS",
    "Run",
    "aggregate",
    "calculate",
    "compute_line_items",
    "data_quality_summary",
    "diff_runs",
    "explain",
    "list_runs",
    "load_run",
    "market_based",
    "monte_carlo",
    "recalculate",
    "score_line_items",
    "summary",
]
