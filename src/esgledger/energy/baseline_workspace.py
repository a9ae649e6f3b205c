"""Energy baselines of a workspace's meters: daily rollups plus the site's hourly weather.

:func:`baseline_for` reads :func:`esgledger.energy.rollups.rollup` (grain ``day``) for one
meter or every meter of one role at a site, the site's hourly weather
(:func:`esgledger.energy.weather.hourly`) and, for the data-centre model, the IT energy of the
highest measurement category the site has (``it_input`` → ``pdu_output`` → ``ups_output``),
builds :class:`~esgledger.energy.baseline.BaselineData` with
:func:`~esgledger.energy.baseline.data_from_tables` and fits it. The pure work lives in
:mod:`esgledger.energy.baseline`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from esgledger.energy.baseline import (
    AvoidedEnergy,
    BaselineData,
    FittedBaseline,
    avoided_energy,
    data_from_tables,
    fit_baseline,
)
from esgledger.energy.findings import Finding
from esgledger.energy.meters import load_meters
from esgledger.energy.periods import Period
from esgledger.energy.roles import IT_ROLES, ROLES, it_category, top_meters
from esgledger.energy.rollups import rollup
from esgledger.energy.weather import hourly
from esgledger.errors import InputError, NotFoundError
from esgledger.i18n import Text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["baseline_for", "reporting_for", "workspace_data"]

Kind = Literal["meter", "role"]


def _role_rows(ws: Workspace, site: str, role: str, period: Period) -> pa.Table:
    """The daily rollup of the topmost meters of ``role`` at ``site`` (a sub-meter below a
    meter of its own role is not added again: :func:`esgledger.energy.roles.top_meters`)."""
    tops = top_meters(load_meters(ws, site=site)).get(role, [])
    return rollup(ws, "day", sites=[site], meters=[m.meter for m in tops], period=period)


def _energy_rows(
    ws: Workspace, site: str, meter_or_role: str, kind: Kind | None, period: Period
) -> pa.Table:
    as_role = kind == "role" or (kind is None and meter_or_role in ROLES)
    if as_role:
        table = _role_rows(ws, site, meter_or_role, period)
    else:
        table = rollup(ws, "day", sites=[site], meters=[meter_or_role], period=period)
    if table.num_rows == 0:
        what = "role" if as_role else "meter"
        raise NotFoundError(
            f"no daily readings of {what} {meter_or_role!r} at site {site!r} in {period.label}"
        )
    return table


def _it_rows(ws: Workspace, site: str, period: Period) -> tuple[pa.Table, str]:
    for role in IT_ROLES:  # the best measurement category the site meters first
        table = _role_rows(ws, site, role, period)
        if table.num_rows:
            return table, role
    raise InputError(
        f"site {site!r} has no IT energy meter (roles {', '.join(IT_ROLES)}) "
        "in the period; the dc_it_cdh baseline needs one"
    )


def workspace_data(
    ws: Workspace,
    site: str,
    meter_or_role: str,
    period: Period,
    *,
    with_it: bool = False,
    kind: Kind | None = None,
) -> BaselineData:
    """Daily baseline data of ``meter_or_role`` at ``site`` over ``period`` (a role — the sum
    of its topmost meters — when it is one of :data:`~esgledger.energy.roles.ROLES` or
    ``kind="role"``, else a meter)."""
    energy = _energy_rows(ws, site, meter_or_role, kind, period)
    weather = hourly(ws, site, period)
    it = None
    extra: list[Finding] = []
    if with_it:
        it, role = _it_rows(ws, site, period)
        category = it_category(role)
        extra.append(
            Finding(
                code="energy.baseline.it_role",
                text=Text(
                    f"IT energy taken from the {role} meters (category {category}).",
                    f"IT能耗取自{role}计量表（类别{category}）。",
                ),
                data={"role": role, "category": category},
                severity="info",
            )
        )
    data = data_from_tables(energy, weather, period=period, it=it)
    if extra:
        data = dataclasses.replace(data, findings=(*data.findings, *extra))
    return data


def baseline_for(
    ws: Workspace,
    site: str,
    meter_or_role: str,
    baseline_period: Period,
    method: str = "caltrack_daily",
    *,
    kind: Kind | None = None,
    allow_insufficient: bool = False,
    post_retrofit_months: int | None = None,
) -> FittedBaseline:
    """Fit ``method`` to the daily energy of ``meter_or_role`` at ``site`` over
    ``baseline_period`` (raises :class:`~esgledger.errors.InsufficientDataError` with the
    findings unless ``allow_insufficient``)."""
    data = workspace_data(
        ws, site, meter_or_role, baseline_period, with_it=method == "dc_it_cdh", kind=kind
    )
    return fit_baseline(
        data,
        method,
        allow_insufficient=allow_insufficient,
        post_retrofit_months=post_retrofit_months,
    )


def reporting_for(
    ws: Workspace,
    baseline: FittedBaseline,
    site: str,
    meter_or_role: str,
    reporting_period: Period,
    *,
    kind: Kind | None = None,
) -> AvoidedEnergy:
    """Avoided energy of ``reporting_period`` against ``baseline`` for the same meters."""
    data = workspace_data(
        ws,
        site,
        meter_or_role,
        reporting_period,
        with_it=baseline.method == "dc_it_cdh",
        kind=kind,
    )
    return avoided_energy(baseline, data)
