"""Metrics computed from an inventory run, its energy data and the targets, never typed in.

由盘查运行结果、能源数据和目标计算得出的指标（不得手工填报）。

:func:`derive` takes the JSON of :func:`esgledger.inventory.runs.summary` and the run's line
items (the Parquet file at ``run.line_items_path``, or an Arrow table with its columns) and
computes the derivations of :data:`esgledger.disclosure.catalogue.DERIVATIONS`; each result is
then given to every catalogue item whose ``derived_from`` names it (A1.2, D.metrics.scope1,
IFRS S2 29(a) and GRI 305-1 share ``ghg.scope1``), converted into that item's unit.

* **GHG** (GHG Protocol Corporate Standard; HKEX KPI A1.2, Part D; IFRS S2 29(a); GRI
  305-1…305-4): the run's consolidated totals [t CO2e]: scope 1, scope 2 location-based and
  market-based, scope 3 with its categories (those the run reports), intensities per revenue
  [t CO2e / million currency units] and per employee [t CO2e / employee] from the typed
  metric values ``revenue`` and ``employees`` of the reporting year.
* **By gas** (KPI A1.1): consolidated masses of CO2, CH4, N2O and biogenic CO2 of the scope 1
  and 2 lines [t of gas]; lines with CO2e but no per-gas masses (refrigerants, process gases,
  published CO2e) are given as CO2e [t CO2e] in buckets ``refrigerants``, ``process gases``,
  ``unspecified``.
* **Energy** (KPI A2.1, GRI 302-1/302-3, SASB 130a.1): the quantities of the scope 1 and 2
  activity lines (electricity, heat, steam, cooling, stationary and mobile fuels) ×
  consolidation share, by type. Energy units convert directly; a fuel in litres, cubic
  metres, mass or standard gas volume converts through :mod:`esgledger.fuels` — the same
  densities, NCVs (China GB/T 32150 defaults for a Chinese line, else IPCC 2006 Vol. 2 Table
  1.2) and gas reference conditions the resolver used (one source of truth); anything no
  shipped property converts is listed in :attr:`Derived.not_convertible`, never guessed,
  and the report prints it under the energy table.
* **Water** (KPI A2.2, GRI 303-5): ``water.supply`` activity lines [m3] × consolidation share.
* **RE share** (SASB 130a.1 (3)): ``renewable_share.group`` of the summary [%].
* **Targets**: the plain target dicts given (one value per target).
* **Carbon inclusion** (``INCL.`` items): the results of the workspace's carbon-inclusion
  programme over the reporting year (:class:`esgledger.inclusion.results.ProgrammeResults`,
  given by the caller): participants, trips by status, avoided emissions [t CO2] in total, by
  mode and by month, points issued and redeemed. These are avoided emissions of other people,
  reported separately from scopes 1-3 (GHG Protocol Corporate Standard): no ``ghg.*``
  derivation reads them, so they are never part of a scope total. Nothing is derived (and
  nothing reported as not computed) when the workspace has no programme.

Every value carries its unit and a ``source``: the run id, what it sums, the factor sets and
GWP set of the run's manifest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from esgledger import fuels, regions
from esgledger.disclosure.catalogue import DERIVATIONS, Catalogue, CatalogueItem
from esgledger.disclosure.values import format_breakdown
from esgledger.errors import UnitError
from esgledger.units import conversion_factor

if TYPE_CHECKING:
    from esgledger.inclusion.results import ProgrammeResults

__all__ = [
    "DERIVED_SCHEMA",
    "Derived",
    "DerivedValue",
    "NotComputed",
    "NotConvertible",
    "derive",
    "energy_type",
]

#: Columns of :meth:`Derived.table` (``source`` is JSON text).
DERIVED_SCHEMA = pa.schema(
    [
        pa.field("metric", pa.string(), nullable=False),
        pa.field("derivation", pa.string(), nullable=False),
        pa.field("entity", pa.string()),
        pa.field("period_start", pa.date32()),
        pa.field("period_end", pa.date32()),
        pa.field("breakdown", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("unit_label", pa.string()),
        pa.field("text", pa.string()),
        pa.field("source", pa.string()),
    ]
)

_NON_FUEL = ("electricity", "heat", "steam", "cooling")
_ENERGY_UNIT = "MWh"
_T_LABEL = "t CO2e"


def energy_type(activity: str) -> str | None:
    """The energy type of an activity key (``mobile.cng`` -> ``natural_gas``), or ``None``
    when the activity is not energy consumed by the organisation."""
    if activity in _NON_FUEL:
        return activity
    family, _, fuel = activity.partition(".")
    if family in ("stationary", "mobile") and fuel:
        return "natural_gas" if fuel == "cng" else fuel
    return None


@dataclass(frozen=True, slots=True)
class DerivedValue:
    """One computed figure for one catalogue item.

    Attributes
    ----------
    unit
        Pint-parsable unit of ``value`` ("" for percentages and counts).
    unit_label
        How the unit is printed (``t CO2e``, ``'000 kWh``, ``%``, ``t CO2e / employee``).
    breakdown
        Canonical breakdown (``scope=2;method=market``), "" for the total.
    source
        ``run_id``, ``what`` (the sum in words), ``factor_sets``, ``gwp_set`` and, for
        energy, the NCVs used.
    """

    metric: str
    derivation: str
    value: float | None
    unit: str
    unit_label: str
    breakdown: str = ""
    text: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotComputed:
    """A derivation (or part of one) that could not be computed, and why."""

    derivation: str
    reason: str


@dataclass(frozen=True, slots=True)
class NotConvertible:
    """Fuel quantities that could not be expressed as energy (no shipped NCV or density)."""

    activity: str
    unit: str
    quantity: float
    lines: int
    reason: str


@dataclass(frozen=True, slots=True)
class Derived:
    """What :func:`derive` computed."""

    run_id: str
    reporting_year: int
    entity: str | None
    values: tuple[DerivedValue, ...]
    not_computed: tuple[NotComputed, ...]
    not_convertible: tuple[NotConvertible, ...]

    def for_metric(self, code: str) -> list[DerivedValue]:
        """The values of one catalogue item."""
        return [v for v in self.values if v.metric == code]

    def get(self, code: str, breakdown: str = "") -> DerivedValue | None:
        """The value of one item and breakdown, or ``None``."""
        for value in self.values:
            if value.metric == code and value.breakdown == breakdown:
                return value
        return None

    def table(self) -> pa.Table:
        """The values as an Arrow table (:data:`DERIVED_SCHEMA`), one reporting year."""
        start = dt.date(self.reporting_year, 1, 1)
        end = dt.date(self.reporting_year, 12, 31)
        rows = [
            {
                "metric": v.metric,
                "derivation": v.derivation,
                "entity": self.entity,
                "period_start": start,
                "period_end": end,
                "breakdown": v.breakdown,
                "value": v.value,
                "unit": v.unit,
                "unit_label": v.unit_label,
                "text": v.text,
                "source": json.dumps(v.source, sort_keys=True, default=str),
            }
            for v in self.values
        ]
        return pa.Table.from_pylist(rows, schema=DERIVED_SCHEMA)


@dataclass(slots=True)
class _Row:
    breakdown: dict[str, str]
    value: float | None
    unit: str
    label: str
    what: str
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _lines_relation(con: duckdb.DuckDBPyConnection, lines: pa.Table | Path | str) -> str:
    if isinstance(lines, pa.Table):
        con.register("line_items", lines)
        return "line_items"
    path = str(lines).replace("'", "''")
    return f"read_parquet('{path}')"


def _denominator(
    values: pa.Table | None, metric: str, year: int, entity: str | None
) -> tuple[float, str, str] | str:
    """(value, unit, entity) of ``revenue``/``employees`` for the year, or the reason why not."""
    if values is None:
        return f"no typed values given (metric {metric!r})"
    rows = [
        r
        for r in values.to_pylist()
        if r["metric"] == metric
        and not r.get("breakdown")
        and r.get("value") is not None
        and r["period_start"] == dt.date(year, 1, 1)
        and r["period_end"] == dt.date(year, 12, 31)
    ]
    if entity is not None:
        rows = [r for r in rows if r["entity"] == entity]
    if not rows:
        where = f" for entity {entity!r}" if entity else ""
        return f"no {metric!r} value for the whole year {year}{where}"
    if len(rows) > 1:
        return (
            f"{metric!r} is given for several entities "
            f"({', '.join(sorted(r['entity'] for r in rows))}); name the group entity (entity=...)"
        )
    value = float(rows[0]["value"])
    if value == 0:
        return f"{metric!r} is 0 for {year}"
    return value, str(rows[0]["unit"] or ""), str(rows[0]["entity"])


def _intensities(
    base: Sequence[tuple[dict[str, str], float, str, str]],
    revenue: tuple[float, str, str] | str,
    employees: tuple[float, str, str] | str,
    derivation: str,
    not_computed: list[NotComputed],
) -> list[_Row]:
    """Intensity rows for each (breakdown, value, unit, label) of ``base``."""
    out: list[_Row] = []
    if isinstance(revenue, str):
        not_computed.append(NotComputed(derivation, f"intensity per revenue: {revenue}"))
    else:
        amount, currency, entity = revenue
        millions = amount / 1e6
        for breakdown, value, unit, label in base:
            out.append(
                _Row(
                    {**breakdown, "per": "revenue"},
                    value / millions,
                    f"{unit} / (1000000 {currency})",
                    f"{label} / million {currency}",
                    f"{label} per million {currency} of revenue ({entity})",
                    extra={"revenue": amount, "revenue_unit": currency},
                )
            )
    if isinstance(employees, str):
        not_computed.append(NotComputed(derivation, f"intensity per employee: {employees}"))
    else:
        count, _, entity = employees
        for breakdown, value, unit, label in base:
            out.append(
                _Row(
                    {**breakdown, "per": "employee"},
                    value / count,
                    unit,
                    f"{label} / employee",
                    f"{label} per employee ({entity})",
                    extra={"employees": count},
                )
            )
    return out


def _energy(
    con: duckdb.DuckDBPyConnection, relation: str, gas_reference: str | None = None
) -> tuple[dict[str, float], dict[str, list[dict[str, Any]]], list[NotConvertible]]:
    """Energy by type [MWh], the conversions used per type, and what could not be converted.

    A fuel in mass, volume or standard gas volume converts through the properties of
    :mod:`esgledger.fuels` for the line's region (the same densities, NCVs and gas reference
    conditions the resolver used for its factor: one source of truth).
    """
    grouped = con.execute(
        f"""
        SELECT activity, unit, region, sum(quantity * consolidation_share), count(*)
        FROM {relation}
        WHERE line_kind = 'activity' AND scope IN (1, 2)
          AND (activity IN ('electricity', 'heat', 'steam', 'cooling')
               OR activity LIKE 'stationary.%' OR activity LIKE 'mobile.%')
        GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    by_type: dict[str, float] = {}
    used: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    failed: dict[tuple[str, str], list[Any]] = {}
    for activity, unit, region, quantity, lines in grouped:
        kind = energy_type(str(activity))
        if kind is None or quantity is None:
            continue
        mwh: float | None = None
        reason = ""
        try:
            mwh = float(quantity) * conversion_factor(str(unit), _ENERGY_UNIT)
        except UnitError:
            fuel = fuels.fuel_of(str(activity)) or ""
            try:
                chain = regions.chain(str(region)) if region else ("GLOBAL",)
            except KeyError:
                chain = ("GLOBAL",)
            conversion = (
                fuels.convert(fuel, str(unit), _ENERGY_UNIT, chain, gas_reference=gas_reference)
                if fuel
                else None
            )
            if conversion is None:
                reason = (
                    f"no density or net calorific value of {fuel or activity} is shipped for "
                    f"{unit} in {' > '.join(chain)}"
                )
            else:
                mwh = float(quantity) * conversion.factor
                ncv = next(
                    (
                        st.property
                        for st in conversion.steps
                        if st.property is not None and st.property.property == "ncv"
                    ),
                    None,
                )
                used[(kind, str(activity), str(unit), str(region))] = {
                    "activity": activity,
                    "unit": unit,
                    "region": region,
                    "ncv": ncv.value if ncv is not None else None,
                    "ncv_unit": ncv.unit if ncv is not None else None,
                    "citation": ncv.citation() if ncv is not None else None,
                    "mwh_per_unit": conversion.factor,
                    "conversion": conversion.describe(),
                }
        if mwh is None:
            entry = failed.setdefault((str(activity), str(unit)), [0.0, 0, reason])
            entry[0] += float(quantity)
            entry[1] += int(lines)
            continue
        by_type[kind] = by_type.get(kind, 0.0) + mwh
    not_convertible = [
        NotConvertible(a, u, q, n, r or "no density or NCV is shipped for this unit")
        for (a, u), (q, n, r) in sorted(failed.items())
    ]
    ncvs: dict[str, list[dict[str, Any]]] = {}
    for (kind, _, _, _), record in sorted(used.items()):
        ncvs.setdefault(kind, []).append(record)
    return by_type, ncvs, not_convertible


def _gases(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[int, str, float, str]]:
    """(scope, gas, amount, unit label) of the scope 1 and 2 lines, consolidated [t]."""
    rows = con.execute(
        f"""
        SELECT scope,
          sum(co2_kg * consolidation_share) / 1000,
          sum(ch4_kg * consolidation_share) / 1000,
          sum(n2o_kg * consolidation_share) / 1000,
          sum(biogenic_co2_kg * consolidation_share) / 1000,
          sum(CASE WHEN co2_kg IS NULL AND ch4_kg IS NULL AND n2o_kg IS NULL
                    AND activity LIKE 'refrigerant.%' THEN co2e_kg_consolidated END) / 1000,
          sum(CASE WHEN co2_kg IS NULL AND ch4_kg IS NULL AND n2o_kg IS NULL
                    AND activity LIKE 'process.%' THEN co2e_kg_consolidated END) / 1000,
          sum(CASE WHEN co2_kg IS NULL AND ch4_kg IS NULL AND n2o_kg IS NULL
                    AND activity NOT LIKE 'refrigerant.%' AND activity NOT LIKE 'process.%'
                    THEN co2e_kg_consolidated END) / 1000
        FROM {relation}
        WHERE scope IN (1, 2) AND NOT coalesce(excluded, false)
        GROUP BY scope ORDER BY scope
        """
    ).fetchall()
    names = ("CO2", "CH4", "N2O", "biogenic CO2", "refrigerants", "process gases", "unspecified")
    out: list[tuple[int, str, float, str]] = []
    for scope, *amounts in rows:
        for name, amount in zip(names, amounts, strict=True):
            if amount is not None:
                label = "t" if name in ("CO2", "CH4", "N2O", "biogenic CO2") else _T_LABEL
                out.append((int(scope), name, float(amount), label))
    return out


def _water(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[float, list[str]] | None:
    rows = con.execute(
        f"""
        SELECT unit, sum(quantity * consolidation_share) FROM {relation}
        WHERE line_kind = 'activity' AND activity = 'water.supply' GROUP BY unit
        """
    ).fetchall()
    if not rows:
        return None
    total, skipped = 0.0, []
    for unit, quantity in rows:
        try:
            total += float(quantity) * conversion_factor(str(unit), "m3")
        except UnitError:
            skipped.append(str(unit))
    return total, skipped


def _convert_to_item(row: _Row, item: CatalogueItem) -> tuple[float | None, str, str]:
    """The row's value in the item's unit when both are plain units of one dimension."""
    if row.value is None or not item.unit or not row.unit or "per" in row.breakdown:
        return row.value, row.unit, row.label
    if "[currency]" in item.unit:
        return row.value, row.unit, row.label
    try:
        factor = conversion_factor(row.unit, item.unit)
    except UnitError:
        return row.value, row.unit, row.label
    label = row.label if item.unit == row.unit else (item.unit_label_en or item.unit)
    return row.value * factor, item.unit, label


def derive(
    summary: Mapping[str, Any],
    line_items: pa.Table | Path | str,
    catalogue: Catalogue,
    *,
    values: pa.Table | None = None,
    targets: Sequence[Mapping[str, Any]] = (),
    entity: str | None = None,
    inclusion: ProgrammeResults | None = None,
) -> Derived:
    """Compute every derivation of the catalogue from one inventory run.

    Parameters
    ----------
    summary
        :func:`esgledger.inventory.runs.summary` of the run (``totals`` [t CO2e],
        ``scope3_by_category``, ``scope3_completeness``, ``renewable_share``, ``run``).
    line_items
        The run's line items: ``run.line_items_path`` or an Arrow table of its columns.
    catalogue
        The catalogue (:func:`~esgledger.disclosure.catalogue.load_catalogue`).
    values
        Typed metric values (:func:`~esgledger.disclosure.values.validate_values`); the
        intensities use ``revenue`` and ``employees`` of the reporting year, no breakdown.
    targets
        Plain target dicts, e.g. ``esgledger.targets.Target.model_dump()`` (``id``, ``name``,
        ``kind``, ``scopes``, ``base_year``, ``target_year``, ``reduction`` as a fraction,
        ``target_share``); one value each [%], the whole dict in its ``source``.
    entity
        The group entity whose ``revenue``/``employees`` divide (needed when several
        entities have them).
    inclusion
        The carbon-inclusion programme's results over the reporting year
        (:func:`esgledger.inclusion.results.programme_results`); ``None`` or a result without
        settled trips derives no ``inclusion.*`` value.

    Returns
    -------
    Derived
        The values per catalogue item, what could not be computed and why, and the fuel
        quantities that could not be converted into energy.
    """
    manifest: Mapping[str, Any] = summary.get("run", {}) or {}
    run_id = str(manifest.get("run_id", ""))
    year = int(manifest.get("reporting_year", 0) or 0)
    base_source = {
        "run_id": run_id,
        "factor_sets": sorted(dict(manifest.get("factor_sets_used", {}) or {})),
        "gwp_set": manifest.get("gwp_set"),
        "consolidation": manifest.get("consolidation"),
    }
    totals: Mapping[str, Any] = summary.get("totals", {})
    not_computed: list[NotComputed] = []
    rows: dict[str, list[_Row]] = {key: [] for key in DERIVATIONS}
    revenue = _denominator(values, "revenue", year, entity)
    employees = _denominator(values, "employees", year, entity)

    def total(key: str) -> float | None:
        value = totals.get(key)
        return None if value is None else float(value)

    scope1 = total("scope1")
    loc = total("scope2_location")
    market = total("scope2_market")
    scope3 = total("scope3")
    if scope1 is not None:
        rows["ghg.scope1"].append(_Row({}, scope1, "tonne", _T_LABEL, "totals.scope1 of the run"))
    if loc is not None:
        rows["ghg.scope2"].append(
            _Row({"method": "location"}, loc, "tonne", _T_LABEL, "totals.scope2_location")
        )
    if market is not None:
        rows["ghg.scope2"].append(
            _Row({"method": "market"}, market, "tonne", _T_LABEL, "totals.scope2_market")
        )
    else:
        not_computed.append(NotComputed("ghg.scope2", "the run has no market-based scope 2"))
    if scope3 is not None:
        rows["ghg.scope3"].append(_Row({}, scope3, "tonne", _T_LABEL, "totals.scope3"))
        completeness = summary.get("scope3_completeness") or {}
        reported = _reported_categories(completeness)
        for category, amount in dict(summary.get("scope3_by_category", {})).items():
            if (reported is not None and str(category) in reported) or (
                reported is None and float(amount) != 0
            ):
                rows["ghg.scope3"].append(
                    _Row(
                        {"category": str(category)},
                        float(amount),
                        "tonne",
                        _T_LABEL,
                        f"scope3_by_category[{category}]",
                    )
                )
    # A1.2: scope 1, scope 2 (both methods), 1+2 and intensities
    a12 = rows["ghg.scope1_2"]
    base: list[tuple[dict[str, str], float, str, str]] = []
    if scope1 is not None:
        a12.append(_Row({"scope": "1"}, scope1, "tonne", _T_LABEL, "totals.scope1"))
    if loc is not None:
        a12.append(
            _Row({"scope": "2", "method": "location"}, loc, "tonne", _T_LABEL, "scope2_location")
        )
    if market is not None:
        a12.append(
            _Row({"scope": "2", "method": "market"}, market, "tonne", _T_LABEL, "scope2_market")
        )
    if scope1 is not None and loc is not None:
        both = {"scope": "1+2", "method": "location"}
        a12.append(_Row(both, scope1 + loc, "tonne", _T_LABEL, "scope1 + scope2_location"))
        base.append((both, scope1 + loc, "tonne", _T_LABEL))
    if scope1 is not None and market is not None:
        both_m = {"scope": "1+2", "method": "market"}
        a12.append(_Row(both_m, scope1 + market, "tonne", _T_LABEL, "scope1 + scope2_market"))
        base.append((both_m, scope1 + market, "tonne", _T_LABEL))
    a12 += _intensities(base, revenue, employees, "ghg.scope1_2", not_computed)
    grand = total("total")
    gri_base = list(base)
    if grand is not None:
        gri_base.append(({"scope": "1+2+3", "method": "location"}, grand, "tonne", _T_LABEL))
    rows["ghg.intensity"] += _intensities(gri_base, revenue, employees, "ghg.intensity", [])
    if not rows["ghg.intensity"]:
        not_computed.append(NotComputed("ghg.intensity", "no revenue or employees value"))

    from esgledger.inventory._duckdb import connect  # bounded memory (docs/hardening/memory.md)

    con = connect(ordered=True)
    try:
        relation = _lines_relation(con, line_items)
        for scope, gas, amount, label in _gases(con, relation):
            rows["ghg.by_gas"].append(
                _Row(
                    {"scope": str(scope), "gas": gas},
                    amount,
                    "tonne",
                    label,
                    f"consolidated {gas} of the scope {scope} lines",
                )
            )
        options = manifest.get("options", {}) or {}
        by_type, ncvs, not_convertible = _energy(con, relation, options.get("gas_volume_reference"))
        water = _water(con, relation)
    finally:
        con.close()
    all_ncvs = [entry for kind in sorted(ncvs) for entry in ncvs[kind]]
    energy_source = {"ncv": all_ncvs} if all_ncvs else {}
    energy_total = sum(by_type.values())
    for kind, mwh in sorted(by_type.items()):
        for key in ("energy.by_type", "energy.consumption"):
            rows[key].append(
                _Row(
                    {"type": kind},
                    mwh,
                    _ENERGY_UNIT,
                    "MWh",
                    f"scope 1 and 2 {kind} quantities x consolidation share",
                    extra={"ncv": ncvs[kind]} if kind in ncvs else {},
                )
            )
    if by_type:
        for key in ("energy.by_type", "energy.consumption", "energy.total"):
            rows[key].append(
                _Row(
                    {},
                    energy_total,
                    _ENERGY_UNIT,
                    "MWh",
                    "energy of all types",
                    extra=energy_source,
                )
            )
        energy_base: list[tuple[dict[str, str], float, str, str]] = [
            ({}, energy_total, _ENERGY_UNIT, "MWh")
        ]
        intensity_rows = _intensities(
            energy_base, revenue, employees, "energy.intensity", not_computed
        )
        rows["energy.by_type"] += intensity_rows
        rows["energy.intensity"] += intensity_rows
        if energy_total:
            rows["energy.grid_share"].append(
                _Row(
                    {},
                    100 * by_type.get("electricity", 0.0) / energy_total,
                    "",
                    "%",
                    "electricity / energy of all types x 100",
                )
            )
    else:
        for key in ("energy.by_type", "energy.consumption", "energy.total", "energy.intensity"):
            not_computed.append(NotComputed(key, "no energy lines in the run"))
    if not_convertible:
        listed = ", ".join(f"{n.activity} in {n.unit}" for n in not_convertible)
        not_computed.append(
            NotComputed("energy.by_type", f"not convertible into energy (left out): {listed}")
        )
    if water is None:
        not_computed.append(NotComputed("water.consumption", "no water.supply rows in the run"))
    else:
        amount, skipped = water
        rows["water.consumption"].append(
            _Row({}, amount, "m3", "m³", "water.supply quantities x consolidation share")
        )
        if skipped:
            not_computed.append(
                NotComputed("water.consumption", f"units not volumes, left out: {skipped}")
            )
    share = (summary.get("renewable_share") or {}).get("group")
    if share is None:
        not_computed.append(NotComputed("re.share", "the run has no renewable share"))
    else:
        rows["re.share"].append(
            _Row({}, 100 * float(share), "", "%", "renewable_share.group of the run x 100")
        )
    for index, target in enumerate(targets, start=1):
        ident = str(target.get("id") or target.get("name") or index)
        percent = _target_percent(target)
        rows["targets"].append(
            _Row(
                {"target": ident},
                percent,
                "",
                "%",
                "target of the targets module: reduction (or renewable share) x 100",
                text=str(target.get("name") or target.get("description") or "") or None,
                extra={"target": dict(target)},
            )
        )
    if not targets:
        not_computed.append(NotComputed("targets", "no targets given"))
    if inclusion is not None and inclusion.has_settled:
        for key, found in _inclusion_rows(inclusion).items():
            rows[key] += found

    out: list[DerivedValue] = []
    for item in catalogue:
        if not item.derived_from:
            continue
        for row in rows.get(item.derived_from, []):
            value, unit, label = _convert_to_item(row, item)
            source = {**base_source, "what": row.what, **row.extra}
            out.append(
                DerivedValue(
                    metric=item.code,
                    derivation=item.derived_from,
                    value=value,
                    unit=unit,
                    unit_label=label,
                    breakdown=format_breakdown(row.breakdown),
                    text=row.text,
                    source=source,
                )
            )
    return Derived(
        run_id=run_id,
        reporting_year=year,
        entity=entity,
        values=tuple(out),
        not_computed=tuple(not_computed),
        not_convertible=tuple(not_convertible),
    )


def _inclusion_rows(results: ProgrammeResults) -> dict[str, list[_Row]]:
    """The ``inclusion.*`` rows of a programme's results (avoided emissions [t CO2] from the
    exact milligrams; counts and points as they are)."""
    from esgledger.inclusion.results import tonnes

    span = f"{results.period_start.isoformat()}/{results.period_end.isoformat()}"
    extra = {"period": span, "outside_scopes": True}

    def t_co2(mg: int) -> float:
        return float(tonnes(mg))

    trips = [
        _Row({"status": status}, float(count), "", "trips", f"{status} trips", extra=extra)
        for status, count in (
            ("settled", results.trips_settled),
            ("refused", results.trips_refused),
            ("pending", results.trips_pending),
        )
    ]
    avoided = [
        _Row(
            {},
            t_co2(results.avoided_mg),
            "tonne",
            "t CO2",
            "reduction_mg of the settled trips / 10^9 (avoided, outside scopes 1-3)",
            extra={**extra, "avoided_mg": results.avoided_mg},
        )
    ]
    breakdowns = (("mode", results.avoided_mg_by_mode), ("month", results.avoided_mg_by_month))
    for key, pairs in breakdowns:
        avoided += [
            _Row(
                {key: name},
                t_co2(mg),
                "tonne",
                "t CO2",
                f"reduction_mg of the settled trips of {key} {name} / 10^9",
                extra={**extra, "avoided_mg": mg},
            )
            for name, mg in pairs
        ]
    return {
        "inclusion.participants": [
            _Row(
                {},
                float(results.participants),
                "",
                "people",
                "accounts with a settled trip in the year",
                extra=extra,
            )
        ],
        "inclusion.trips": [
            _Row({}, float(results.trips), "", "trips", "trips of the year", extra=extra),
            *trips,
        ],
        "inclusion.avoided": avoided,
        "inclusion.points_issued": [
            _Row({}, float(results.points_issued), "", "points", "issuance to users", extra=extra)
        ],
        "inclusion.points_redeemed": [
            _Row(
                {},
                float(results.points_redeemed),
                "",
                "points",
                "redemption and neutralisation by users",
                extra=extra,
            )
        ],
    }


def _target_percent(target: Mapping[str, Any]) -> float | None:
    """The headline figure of a target [%]: ``reduction`` (fraction 0-1, as
    ``esgledger.targets.Target`` has it) x 100, or ``target_share`` x 100 for a renewable
    electricity target."""
    for key in ("reduction", "target_share"):
        value = target.get(key)
        if value is not None:
            return 100 * float(value)
    return None


def _reported_categories(completeness: Any) -> set[str] | None:
    """Categories with status ``reported`` in ``scope3_completeness`` (``{"1": {"status":
    ...}}`` as the summary gives it, or a list of rows with ``category``)."""
    if not completeness:
        return None
    if isinstance(completeness, Mapping):
        pairs = [(str(k), v) for k, v in completeness.items()]
    else:
        pairs = [(str(e.get("category")), e) for e in completeness if isinstance(e, Mapping)]
    return {key for key, entry in pairs if dict(entry).get("status") == "reported"}
