"""The grid electricity factor of a data-centre site, resolved once for every energy module.

站点电网排放因子的统一解析（KPI、异常告警、改造方案共用）。

:func:`site_grid_factor` resolves the factor of purchased electricity (activity
``electricity``, unit kWh) at a site for a year from the workspace's factor library through
:func:`esgledger.factors.service.resolve_row` — the same path the inventory engine keys a row
with: the site's region, else its country — for one method (``location``, ``residual_mix`` or
``market``). Its CO2e per kWh follows the inventory engine's rule
(``inventory/engine.py``, step 5; :func:`co2e_per_unit`). The result is a frozen
:class:`SiteGridFactor` with the factor's id, source, vintage, region, tier and GWP set, which
each caller turns into its own provenance record (``kpi.FactorRef``,
``detectors.alerts.GridFactor``, ``whatif.GridFactor``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from esgledger.errors import FactorNotFoundError
from esgledger.factors.service import RowQuery, resolve_row
from esgledger.gwp import DEFAULT_GWP_SET, co2e_kg

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["ELECTRICITY_ACTIVITY", "SiteGridFactor", "co2e_per_unit", "site_grid_factor"]

#: The activity key of purchased grid electricity in the factor library.
ELECTRICITY_ACTIVITY = "electricity"


@dataclass(frozen=True, slots=True)
class SiteGridFactor:
    """A site's grid electricity factor [kg CO2e/kWh] with its provenance.

    ``method`` is the factor method resolved (``location``, ``residual_mix``, ``market``);
    ``region`` the region code the row was keyed with; ``tier`` the resolver's match tier;
    ``gwp_set`` the GWP set the CO2e is under.
    """

    factor_id: str
    source: str
    vintage: int
    region: str
    tier: str
    kg_co2e_per_kwh: float
    gwp_set: str
    method: str


def _number(factor: Mapping[str, Any], key: str) -> float | None:
    value = factor.get(key)
    return None if value is None or value != value else float(value)


def co2e_per_unit(factor: Mapping[str, Any], gwp_set: str = DEFAULT_GWP_SET) -> float | None:
    """[kg CO2e per factor unit] by the inventory engine's rule (``inventory/engine.py``, step
    5): the published CO2e when it is under ``gwp_set``; else CO2 + CH4 · GWP + N2O · GWP from
    the gas masses (China's MEE grid factors publish CO2 only); else the published CO2e as it
    is (another or an unknown set); ``None`` when the factor has neither (NaN counts as
    missing)."""
    published = _number(factor, "co2e_kg")
    if published is not None and factor.get("gwp_basis") == gwp_set:
        return published
    gases = {g: _number(factor, f"{g.lower()}_kg") for g in ("CO2", "CH4", "N2O")}
    masses = {g: v for g, v in gases.items() if v is not None}
    if masses:
        return co2e_kg(masses, gwp_set)
    return published


def site_grid_factor(
    ws: Workspace,
    site: str,
    year: int,
    *,
    method: str = "location",
    gwp_set: str = DEFAULT_GWP_SET,
) -> SiteGridFactor:
    """The ``method`` grid electricity factor of ``site`` for ``year`` [kg CO2e/kWh] under
    ``gwp_set``, from the workspace's factor library.

    Raises
    ------
    FactorNotFoundError
        When no factor fits (as :func:`esgledger.factors.service.resolve_row`), when the
        factor is a spend factor (no kWh conversion), or when it has neither CO2e nor gas
        masses.
    InputError
        As :func:`~esgledger.factors.service.resolve_row` does.
    """
    found = resolve_row(
        ws,
        RowQuery(
            activity=ELECTRICITY_ACTIVITY,
            region="",
            unit="kWh",
            site=site,
            year=year,
            methods=(method,),
        ),
    )
    result = found.resolution
    if result.unit_conversion is None:
        raise FactorNotFoundError(
            f"the electricity factor {result.factor_id} is a spend factor, not per kWh",
            activity=ELECTRICITY_ACTIVITY,
        )
    per_unit = co2e_per_unit(result.factor, gwp_set)
    if per_unit is None:
        raise FactorNotFoundError(
            f"the electricity factor {result.factor_id} has no CO2e and no gas masses",
            activity=ELECTRICITY_ACTIVITY,
        )
    return SiteGridFactor(
        factor_id=result.factor_id,
        source=str(result.factor.get("source") or result.factor.get("factor_set") or ""),
        vintage=int(result.factor["year"]),
        region=found.region,
        tier=str(result.tier),
        kg_co2e_per_kwh=per_unit * float(result.unit_conversion),
        gwp_set=gwp_set,
        method=method,
    )
