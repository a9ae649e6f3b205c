"""Layered anomaly detection on a workspace's meter data, each alert priced in kWh and t CO2e.

分层异常检测：基于工作区计量数据，每条告警量化其能耗（kWh）与排放（吨二氧化碳当量）影响。

Four layers (reference ``domain-modules.md`` §1.4; ``docs/energy/anomalies.md``):

1. ``rule`` — the core's ingestion flags, gaps and stuck series in the hourly rollup, and
   physically impossible site values (PUE < 1, UPS efficiency > 1 or below its bound);
2. ``residual`` — each meter's hours outside the P99 interval of an hour-of-week forecast,
   or beyond a robust z-score of 3.5;
3. ``isolation_forest`` — days unusual in PUE, pPUE of cooling, IT energy, UPS efficiency and
   wet bulb taken together;
4. ``cusum`` — slow upward drifts of cooling energy (against IT load and wet bulb) and of UPS
   losses (against UPS load).

:func:`detect` reads the hourly rollup, the flags and the weather of the workspace and
resolves each site's location-based grid factor from its factor library (as the inventory
does for purchased electricity), then runs the pure
:func:`~esgledger.energy.detectors.alerts.analyse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from esgledger.energy.detectors.alerts import (
    KINDS,
    Alert,
    AnomalyReport,
    GridFactor,
    analyse,
    kind_label,
    layer_label,
    merge_detections,
)
from esgledger.energy.detectors.base import LAYERS, AnomalySettings, Detection
from esgledger.energy.findings import Finding
from esgledger.energy.grid import site_grid_factor
from esgledger.energy.meters import Meter, data_centre_sites, load_meters
from esgledger.energy.periods import Period
from esgledger.energy.rollups import flags as rollup_flags
from esgledger.energy.rollups import rollup
from esgledger.energy.weather import hourly as weather_hourly
from esgledger.errors import EsgledgerError
from esgledger.gwp import DEFAULT_GWP_SET
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "KINDS",
    "LAYERS",
    "Alert",
    "AnomalyReport",
    "AnomalySettings",
    "Detection",
    "GridFactor",
    "analyse",
    "detect",
    "grid_factor",
    "hourly_table",
    "kind_label",
    "layer_label",
    "merge_detections",
]


def grid_factor(
    ws: Workspace, site: str, year: int, *, gwp_set: str = DEFAULT_GWP_SET
) -> GridFactor:
    """The location-based factor of purchased electricity at ``site`` for ``year`` from the
    workspace's factor library [kg CO2e/kWh] under ``gwp_set`` (the inventory's default),
    with its id, source and vintage.

    Raises
    ------
    FactorNotFoundError, InputError
        As :func:`esgledger.energy.grid.site_grid_factor` does.
    """
    found = site_grid_factor(ws, site, year, method="location", gwp_set=gwp_set)
    return GridFactor(
        factor_id=found.factor_id,
        source=found.source,
        vintage=found.vintage,
        kg_co2e_per_kwh=found.kg_co2e_per_kwh,
        region=found.region,
        tier=found.tier,
        gwp_set=found.gwp_set,
    )


def hourly_table(rollup: pa.Table, meters: Sequence[Meter]) -> pd.DataFrame:
    """The core's hourly rollup (``rollups.rollup(ws, "hour")``) as the layers' hourly
    table: energy meters only (unit kWh), each with its ``parent`` from the meter tree
    ``meters`` (site aggregates add only the topmost meters of a role),
    ``period_start_utc`` → ``ts_utc``, ``period_local`` → ``ts_local``, ``quantity`` →
    ``energy_kwh``."""
    frame = rollup.select(
        ["site", "meter", "role", "unit", "period_start_utc", "period_local", "quantity",
         "coverage"]
    ).to_pandas()  # fmt: skip
    frame = frame[frame["unit"] == "kWh"]
    parents = {m.meter: m.parent for m in meters}
    frame = frame.assign(parent=frame["meter"].map(lambda m: parents.get(str(m))))
    renamed: pd.DataFrame = frame.rename(
        columns={
            "period_start_utc": "ts_utc",
            "period_local": "ts_local",
            "quantity": "energy_kwh",
        }
    ).drop(columns=["unit"])
    return renamed


def detect(
    ws: Workspace,
    *,
    site: str | None = None,
    period: Period | None = None,
    layers: Sequence[str] = LAYERS,
    settings: AnomalySettings | None = None,
) -> AnomalyReport:
    """The anomalies of ``site`` (default: every data-centre site) over ``period`` (default:
    all readings), layer by layer, each alert priced with the site's grid factor for the
    period's last year (or the data's last year).

    Raises
    ------
    ValueError
        For a layer not in :data:`LAYERS`.
    """
    sites = [site] if site is not None else data_centre_sites(ws)
    tree = [m for m in load_meters(ws) if m.site in set(sites)]
    hourly = hourly_table(rollup(ws, "hour", sites=sites, period=period), tree)
    flags = rollup_flags(ws, sites=sites, period=period).to_pandas()
    findings: list[Finding] = []
    weather_parts: list[pd.DataFrame] = []
    for code in sites:
        table = weather_hourly(ws, code, period)
        if table.num_rows:
            weather_parts.append(table.select(["site", "ts_local", "wet_bulb_c"]).to_pandas())
    weather = pd.concat(weather_parts, ignore_index=True) if weather_parts else None
    if period is not None:
        year = period.end.year
    elif not hourly.empty:
        year = int(pd.Timestamp(hourly["ts_local"].max()).year)
    else:
        year = ws.reporting_year
    factors: dict[str, GridFactor] = {}
    for code in sites:
        try:
            factors[code] = grid_factor(ws, code, year)
        except EsgledgerError as exc:
            findings.append(
                Finding(
                    code="energy.anomaly.factor_error",
                    text=Text(
                        f"{code}: no electricity factor for {year}: {exc}",
                        f"{code}：{year} 年无电力排放因子：{exc}",
                    ),
                    data={"site": code, "year": year},
                )
            )
    report = analyse(
        hourly,
        flags=flags,
        weather=weather,
        factors=factors,
        settings=settings,
        layers=layers,
        period=period.label if period is not None else None,
    )
    if findings:
        report = AnomalyReport(
            alerts=report.alerts,
            findings=(*findings, *report.findings),
            settings=report.settings,
            layers=report.layers,
            sites=report.sites,
            period=report.period,
        )
    return report
