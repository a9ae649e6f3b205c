"""Green power: contractual instruments, Scope 2 Quality Criteria, allocation and
market-based scope 2, renewable share (RE %), hourly 24/7 CFE and modelled on-site PV.

绿色电力：环境权益工具、范围二质量准则、分配与基于市场的范围二排放、可再生电力比例、
逐时 24/7 无碳电力匹配、现场光伏发电估算。

Every function here is pure (tables in, tables out; no database). The importer of the
register is :mod:`esgledger.ingest.instruments`; its tables are declared in
:mod:`esgledger.store.models_renewables`. The hourly matcher with its hourly detail is
:func:`esgledger.renewables.cfe.cfe` (not re-exported here: the name is its module's).
"""

from __future__ import annotations

from esgledger.renewables.allocation import (
    GRID_AVERAGE_FLAG,
    Allocation,
    AllocationResult,
    AllocationRule,
    Consumption,
    FactorChoice,
    MarketBasedLine,
    RemainderFactors,
    ReProgress,
    ReShare,
    allocate,
    consumption_from_table,
    lines_table,
    market_based,
    re_progress,
    re_share,
)
from esgledger.renewables.cfe import CfeResult, CfeSummary, cfe_summary
from esgledger.renewables.instruments import Instrument, instrument_types, market_of, technologies
from esgledger.renewables.pv import PvSystem, pv_hourly
from esgledger.renewables.quality import Assessment, Failure, QualityRules, assess

__all__ = [
    "GRID_AVERAGE_FLAG",
    "Allocation",
    "AllocationResult",
    "AllocationRule",
    "Assessment",
    "CfeResult",
    "CfeSummary",
    "Consumption",
    "FactorChoice",
    "Failure",
    "Instrument",
    "MarketBasedLine",
    "PvSystem",
    "QualityRules",
    "ReProgress",
    "ReShare",
    "RemainderFactors",
    "allocate",
    "assess",
    "cfe_summary",
    "consumption_from_table",
    "instrument_types",
    "lines_table",
    "market_based",
    "market_of",
    "pv_hourly",
    "re_progress",
    "re_share",
    "technologies",
]
