"""Excel templates for the people who send data: activity data, entities, sites, activity
types, factors, exchange rates, green-power instruments, disclosure metric values, and the
energy platform's meters, readings and weather.

数据填报模板：活动数据、主体、站点、活动类型、排放因子、汇率、环境权益工具、披露指标数值，
以及能源平台的计量表、读数与气象数据（Excel）。

:func:`write_template` writes one XLSX workbook per kind of input file, in English or Chinese
(zh-CN). The workbook has three sheets:

1. **the data sheet** (first, so that the importers read it): the column headers (the Chinese
   headers of ``esgledger/schema/*_columns.csv`` for zh-CN; both are accepted on import), a
   frozen header row, column widths, a note on each header with the column's description in
   both languages, and data validation on the columns: drop-down lists (entities and sites of
   the workspace, activity keys, units, regions, countries, currencies, site types, GWP sets,
   true/false …), whole numbers (scope, scope 3 category, years), decimals (quantities,
   percentages, factors) and dates (the workspace's reporting year for activity periods).
   Required columns have a darker header. The sheet has no rows: nothing in it is example
   data that could be imported by mistake.
2. **README / 说明**: every column in both languages (required or not, type, description,
   allowed values), an example row, and how to import the file.
3. **lists** (hidden): the values of the long drop-down lists. Excel allows at most 255
   characters in a list typed into the validation itself, so every list longer than that lives
   here and the validation refers to its range.

Drop-downs of open vocabularies (activity keys, units, dimensions) warn rather than refuse a
value that is not listed: a refrigerant blend, a NAICS code or a unit spelling such as
``万千瓦时`` is valid without being in the list, and the importer checks every value anyway.
Drop-downs of closed vocabularies (entities, sites, regions, countries, currencies, site types,
GWP sets, true/false) refuse other values.

The activities template needs a workspace (its entities, sites, user activity types and
reporting year); the others take one optionally (sites: the entity list; factors: the site list
and user activity types; instruments: the entities and sites instruments can be retired for;
entities: nothing more). The instruments template offers the instrument types and
technologies (``instrument_types.csv``, ``instrument_technologies.csv``; their Chinese names
in zh-CN, which the importer accepts too), countries and regions.

The metric-values template (one per collection campaign: the reporting year of the
workspace) offers the codes of the typed metrics only — the shipped catalogue and, with a
workspace, its company metrics; never a metric computed from the inventory — the entities of
the workspace, and checks years and dates against the reporting year and the
:data:`esgledger.ingest.metrics.EARLIER_YEARS` years before it. A fourth sheet (**metrics /
指标说明**) lists every offered metric with its titles in both languages, type, unit and
description, since a drop-down can only show the code the importer needs.

The meters template offers the workspace's sites, the meter roles of
:func:`esgledger.schema.meter_roles`, the reading kinds (``counter``, ``interval``), the IANA
time zones, fuels and timestamp marks as closed lists (codes, in both languages: the importer
reads codes), the usual units as an open one, and parents from its own meter column; the
readings template the workspace's meters; the weather template the sites and the
temperature range (:data:`esgledger.ingest.values_guard.TEMPERATURE_RANGE_C`) and relative humidity
(0-100 %) the importer enforces. Timestamps are typed as text (ISO 8601 with the UTC offset).
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.ingest.reference import (
    FACTOR_METHODS,
    PRICE_BASES,
    ColumnSpec,
    column_specs,
    site_types,
)
from esgledger.safe_output import is_formula_like, set_xlsx_cell

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from esgledger.disclosure import CatalogueItem
    from esgledger.store import Workspace
    from esgledger.taxonomy import Taxonomy

__all__ = [
    "LANGUAGES",
    "TEMPLATE_KINDS",
    "Prefill",
    "TemplateList",
    "data_sheet_name",
    "template_lists",
    "write_template",
]

#: The kinds of template, as ``esgledger import --kind`` names the files they become.
TEMPLATE_KINDS: tuple[str, ...] = (
    "activities",
    "entities",
    "sites",
    "activity-types",
    "factors",
    "fx",
    "instruments",
    "metric-values",
    "meters",
    "readings",
    "weather",
    "trips",
)
#: Template languages.
LANGUAGES: tuple[str, ...] = ("en", "zh-CN")

_SHEETS: dict[str, tuple[str, str]] = {
    "activities": ("activities", "活动数据"),
    "entities": ("entities", "主体"),
    "sites": ("sites", "站点"),
    "activity-types": ("activity-types", "活动类型"),
    "factors": ("factors", "排放因子"),
    "fx": ("fx", "汇率"),
    "instruments": ("instruments", "环境权益工具"),
    "metric-values": ("metric-values", "指标数值"),
    "meters": ("meters", "计量表"),
    "readings": ("readings", "读数"),
    "weather": ("weather", "气象"),
    "trips": ("trips", "出行记录"),
}
_README = ("README", "说明")
_METRICS_SHEET = ("metrics", "指标说明")
LISTS_SHEET = "lists"

#: Rows covered by the validations of the data sheet (all of Excel's rows).
_LAST_ROW = 1_048_576
#: Excel's limit on a list typed into a validation (``"a,b,c"``) [characters].
INLINE_LIST_LIMIT = 255
_FIRST_DATE = dt.date(1990, 1, 1)
_LAST_DATE = dt.date(2100, 12, 31)
_EXCEL_EPOCH = dt.date(1899, 12, 30)

_REQUIRED_FILL = "FF1F4E79"
_OPTIONAL_FILL = "FF9DC3E6"
_WHITE = "FFFFFFFF"
_BLACK = "FF000000"

_TEXT = {
    "required": ("required", "必填"),
    "optional": ("optional", "选填"),
    "pick": ("Choose a value from the list", "请从下拉列表中选择"),
    "not_listed": (
        "This value is not in the list. Keep it only if you are sure it is valid.",
        "该值不在列表中。仅在确认有效时保留。",
    ),
    "refused": ("This value is not allowed here.", "此处不允许该值。"),
}


def data_sheet_name(kind: str, lang: str = "en") -> str:
    """The name of the data sheet of the ``kind`` template in ``lang``."""
    return _SHEETS[kind][_lang_index(lang)]


def _lang_index(lang: str) -> int:
    if lang not in LANGUAGES:
        raise ValueError(
            f"unknown template language {lang!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return LANGUAGES.index(lang)


@dataclass(frozen=True, slots=True)
class TemplateList:
    """The allowed values of one column of a template.

    Attributes
    ----------
    column
        The column (canonical name).
    values
        The values offered in the drop-down, in order.
    strict
        Whether Excel refuses a value not in the list (else it warns and lets it stay).
    """

    column: str
    values: tuple[str, ...]
    strict: bool = True


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a collection task's template comes filled with (:func:`write_template`).

    Attributes
    ----------
    rows
        Data rows written from row 2, by canonical column name (a date as
        :class:`datetime.date`); columns not of the kind are ignored.
    reference
        Reference values shown beside the rows on a second sheet (**last year / 去年数据**,
        to read, not to fill: the importer reads the data sheet only), as ``(key, header_en,
        header_zh)``: each row's value under ``key`` (last year's quantity ...).
    entities, sites
        When given, the only entities and sites the drop-downs offer (the task's own).
    note
        ``(en, zh)``: a line added to the README (the campaign's instructions).
    """

    rows: Sequence[Mapping[str, object]] = ()
    reference: Sequence[tuple[str, str, str]] = ()
    entities: Sequence[str] | None = None
    sites: Sequence[str] | None = None
    note: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class _NumberRule:
    kind: str  # "whole", "decimal" or "date"
    operator: str
    low: str
    high: str | None = None
    text: tuple[str, str] = ("", "")


# the rule of a quantity or value column: any decimal from -1E15 to 1E15
_ANY_NUMBER = _NumberRule("decimal", "between", "-1E+15", "1E+15", ("a number", "数字"))


@dataclass(slots=True)
class _Plan:
    lists: dict[str, TemplateList] = field(default_factory=dict)
    numbers: dict[str, _NumberRule] = field(default_factory=dict)
    self_lists: dict[str, str] = field(default_factory=dict)  # column -> column it lists
    example: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[CatalogueItem] = field(default_factory=list)  # metric-values: offered items


# ---- vocabularies -----------------------------------------------------------------------


@cache
def _common_units() -> tuple[str, ...]:
    text = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    return tuple(row["unit"] for row in csv.DictReader(text.splitlines()))


#: Dimensions offered for user activity types.
_DIMENSIONS: tuple[str, ...] = (
    "[energy]",
    "[mass]",
    "[volume]",
    "[currency]",
    "[item]",
    "[mass] * [length]",
    "[passenger] * [length]",
    "[vehicle] * [length]",
    "[room_night]",
    "[FTE] * [time]",
    "[volume] | [mass] | [energy]",
    "[mass] | [item]",
)


@cache
def _shipped_family_members() -> tuple[str, ...]:
    """Members of the shipped families that have shipped factors (``travel.air.*``,
    ``waste.*``, ``refrigerant.*``, ``spend.naics.*`` …), sorted."""
    import pyarrow.compute as pc

    from esgledger.errors import UnknownActivityError
    from esgledger.factors.library import FactorLibrary
    from esgledger.taxonomy import Taxonomy

    taxonomy = Taxonomy.shipped()
    keys = pc.unique(FactorLibrary.shipped().as_arrow().column("activity")).to_pylist()
    members: list[str] = []
    for key in keys:
        try:
            found = taxonomy.get(str(key))
        except UnknownActivityError:
            continue
        if found.family is not None:
            members.append(str(key))
    return tuple(sorted(members))


@cache
def _refrigerant_blends() -> tuple[str, ...]:
    """``refrigerant.<blend>`` for the refrigerant blends of the GWP tables (R-410A …)."""
    from esgledger.gwp import blends

    return tuple(f"refrigerant.{blend}" for blend in blends())


def _activity_keys(taxonomy: Taxonomy) -> tuple[str, ...]:
    """Declared activity types (shipped, then user), the refrigerant blends of the GWP
    tables, then members of shipped families that have shipped factors."""
    declared = [t.activity for t in taxonomy if not t.is_family]
    return tuple(dict.fromkeys([*declared, *_refrigerant_blends(), *_shipped_family_members()]))


def _factor_activity_keys(taxonomy: Taxonomy) -> tuple[str, ...]:
    """Keys factors are filed under: each type's factor activity, then family members."""
    keys = [t.factor_activity for t in taxonomy if not t.is_family]
    return tuple(dict.fromkeys([*keys, *_shipped_family_members()]))


@cache
def _country_codes() -> tuple[str, ...]:
    text = resources.files("esgledger.data").joinpath("country_codes.csv").read_text("utf-8")
    return tuple(row["alpha2"] for row in csv.DictReader(text.splitlines()))


def _region_codes() -> tuple[str, ...]:
    from esgledger.regions import all_regions

    return tuple(all_regions())


def _serial(day: dt.date) -> str:
    """An Excel date serial number (days since 1899-12-30)."""
    return str((day - _EXCEL_EPOCH).days)


def _booleans(lang: str) -> tuple[str, ...]:
    return ("true", "false") if lang == "en" else ("是", "否")


# ---- what each template offers ------------------------------------------------------------


def _workspace_codes(
    workspace: Workspace | None,
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Entity codes, site codes and (entity, site) pairs of the workspace."""
    if workspace is None:
        return [], [], []
    from esgledger.store.repository import load_entities, load_sites

    with workspace.session() as session:
        entities = [str(e["code"]) for e in load_entities(session)]
        sites = load_sites(session)
    pairs = [(str(s["entity"]), str(s["code"])) for s in sites]
    return entities, [code for _, code in pairs], pairs


def _plan(kind: str, lang: str, workspace: Workspace | None) -> _Plan:
    from esgledger.gwp import GWP_SETS
    from esgledger.taxonomy import Taxonomy
    from esgledger.units import CURRENCIES

    plan = _Plan()
    taxonomy = Taxonomy.for_workspace(workspace) if workspace is not None else Taxonomy.shipped()
    entities, sites, site_pairs = _workspace_codes(workspace)
    categories = tuple(str(n) for n in range(1, 16))
    year_rule = _NumberRule("whole", "between", "1990", "2100", ("1990-2100", "1990-2100"))
    non_negative = _NumberRule("decimal", "greaterThanOrEqual", "0", None, (">= 0", "≥ 0"))

    def add(column: str, values: Sequence[str], *, strict: bool = True) -> None:
        if values:
            plan.lists[column] = TemplateList(column, tuple(values), strict)

    if kind == "activities":
        if workspace is None:
            raise ValueError(
                "the activities template needs a workspace: its entity and site lists and "
                "reporting year come from it"
            )
        year = workspace.reporting_year
        add("entity", entities)
        add("site", sites)
        add("activity", _activity_keys(taxonomy), strict=False)
        add("unit", _common_units(), strict=False)
        add("region", _region_codes())
        add("scope3_category", categories)
        add("correction", _booleans(lang))
        period = _NumberRule(
            "date",
            "between",
            _serial(dt.date(year, 1, 1)),
            _serial(dt.date(year, 12, 31)),
            (f"a date in {year}", f"{year}年内的日期"),
        )
        plan.numbers["period_start"] = period
        plan.numbers["period_end"] = period
        plan.numbers["quantity"] = _ANY_NUMBER
        entity = entities[0] if entities else "GRP"
        site = next((code for owner, code in site_pairs if owner == entity), None)
        plan.example = [
            {
                "record_id": f"EL-{year}-0001",
                "entity": entity,
                "site": site,
                "period_start": f"{year}-01-01",
                "period_end": f"{year}-01-31",
                "activity": "electricity",
                "quantity": 125000,
                "unit": "kWh",
                "correction": _booleans(lang)[1],
                "notes": "January electricity bill" if lang == "en" else "1月电费账单",
            }
        ]
    elif kind == "entities":
        plan.self_lists["parent"] = "entity"
        add("operational_control", _booleans(lang))
        add("financial_control", _booleans(lang))
        add("country", _country_codes())
        plan.numbers["ownership_pct"] = _NumberRule(
            "decimal", "between", "0", "100", ("0-100 (%)", "0-100（%）")
        )
        yes, no = _booleans(lang)
        plan.example = [
            {
                "entity": "GRP",
                "name": "Example Holdings Ltd",
                "name_zh": "示例控股有限公司",
                "parent": None,
                "ownership_pct": 100,
                "operational_control": yes,
                "financial_control": yes,
                "country": "CN",
            },
            {
                "entity": "DCJV",
                "name": "Northern Data Centre JV",
                "name_zh": "北方数据中心合资公司",
                "parent": "GRP",
                "ownership_pct": 50,
                "operational_control": no,
                "financial_control": no,
                "country": "CN",
            },
        ]
    elif kind == "sites":
        add("entity", entities)
        add("country", _country_codes())
        add("region", _region_codes())
        add("type", [t.type if lang == "en" else t.name_zh for t in site_types()])
        plan.example = [
            {
                "site": "DC-GD",
                "entity": entities[0] if entities else "GRP",
                "name": "Guangdong Qingyuan data centre",
                "name_zh": "广东清远数据中心",
                "country": "CN",
                "region": "CN-GD",
                "type": "data_centre" if lang == "en" else "数据中心",
            }
        ]
    elif kind == "activity-types":
        add("dimension", _DIMENSIONS, strict=False)
        add("scope", ("1", "2", "3"))
        add("scope3_category", categories)
        plan.example = [
            {
                "activity": "purchased_goods.cement",
                "name": "Cement purchased",
                "name_zh": "采购水泥",
                "dimension": "[mass]",
                "scope": 3,
                "scope3_category": 1,
                "description": "Cement bought for construction projects"
                if lang == "en"
                else "建设项目采购的水泥",
            }
        ]
    elif kind == "factors":
        add("activity", _factor_activity_keys(taxonomy), strict=False)
        add("region", _region_codes())
        add("unit", _common_units(), strict=False)
        add("gwp_basis", GWP_SETS)
        add("site", sites)
        add("scope3_category", categories)
        add("method", FACTOR_METHODS)
        add("currency", CURRENCIES)
        add("price_basis", PRICE_BASES)
        plan.numbers["year"] = year_rule
        plan.numbers["price_year"] = year_rule
        for column in ("co2e_kg", "co2_kg", "ch4_kg", "n2o_kg", "biogenic_co2_kg"):
            plan.numbers[column] = non_negative
        plan.numbers["uncertainty_pct"] = non_negative
        plan.example = [
            {
                "factor": "hk-power-2024",
                "activity": "electricity",
                "region": "HK",
                "year": 2024,
                "unit": "kWh",
                "co2e_kg": 0.39,
                "gwp_basis": "AR5",
                "source": "Utility's 2024 sustainability report"
                if lang == "en"
                else "电力公司2024年可持续发展报告",
                "supplier": "HK Power Co",
                "method": "supplier",
            }
        ]
    elif kind == "fx":
        add("currency", CURRENCIES)
        plan.numbers["year"] = year_rule
        plan.numbers["per_usd"] = _NumberRule("decimal", "greaterThan", "0", None, ("> 0", "> 0"))
        plan.example = [
            {"year": 2024, "currency": "CNY", "per_usd": 7.19, "source": "Group treasury"}
        ]
    elif kind == "instruments":
        from esgledger.renewables.instruments import instrument_types, technologies

        zh = lang != "en"
        add("type", [t.name_zh if zh else t.type for t in instrument_types().values()])
        add("technology", [t.name_zh if zh else t.technology for t in technologies().values()])
        add("country", _country_codes())
        add("region", _region_codes())
        add("retired_for", [*entities, *sites])
        add("attributes_sold", _booleans(lang))
        any_date = _NumberRule(
            "date",
            "between",
            _serial(_FIRST_DATE),
            _serial(_LAST_DATE),
            ("a date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"),
        )
        for column in ("commissioned", "period_start", "period_end", "retired_on"):
            plan.numbers[column] = any_date
        plan.numbers["contract_signed"] = any_date
        plan.numbers["mwh"] = _NumberRule("decimal", "greaterThan", "0", None, ("> 0", "> 0"))
        plan.numbers["co2_kg_per_mwh"] = non_negative
        claimant = sites[0] if sites else (entities[0] if entities else "DC-CQ")
        plan.example = [
            {
                "instrument": "GEC-2024-0001",
                "type": instrument_types()["gec"].name_zh if zh else "gec",
                "technology": technologies()["wind"].name_zh if zh else "wind",
                "generator": "Example wind farm" if not zh else "示例风电场",
                "commissioned": "2019-12-31",
                "country": "CN",
                "region": "CN-NM",
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
                "mwh": 60000,
                "retired_on": "2025-01-20",
                "retired_for": claimant,
                "registry_id": "GEC-serials-0001-60000",
                "contract_signed": "2024-02-01",
                "attributes_sold": _booleans(lang)[1],
            }
        ]
    elif kind == "metric-values":
        _plan_metric_values(plan, lang, workspace, entities)
    elif kind in ("meters", "readings", "weather"):
        _plan_telemetry(plan, kind, lang, workspace, sites)
    elif kind == "trips":
        _plan_trips(plan, workspace)
    else:
        raise ValueError(
            f"unknown template kind {kind!r}; choose one of {', '.join(TEMPLATE_KINDS)}"
        )
    return plan


#: Units a meter is read in (``meter_columns.csv``: energy, volume or power); others that fit
#: one of those dimensions are accepted too, so the list is not strict.
_METER_UNITS = ("kWh", "MWh", "GJ", "m3", "L", "kW", "MW")


def _meter_codes(workspace: Workspace | None) -> list[str]:
    if workspace is None:
        return []
    from esgledger.store.repository_energy import load_meters

    with workspace.session() as session:
        return [str(m["meter"]) for m in load_meters(session)]


def _plan_telemetry(
    plan: _Plan, kind: str, lang: str, workspace: Workspace | None, sites: Sequence[str]
) -> None:
    """The meters, readings and weather templates (``docs/energy/telemetry.md``): the
    workspace's sites (and, for readings, meters) as lists; roles, reading kinds, fuels and
    timestamp marks as the importer accepts them (codes, as the importer reads them in
    either language); the number rules the importer applies."""
    import zoneinfo

    from esgledger.ingest.values_guard import TEMPERATURE_RANGE_C
    from esgledger.schema import meter_roles

    def add(column: str, values: Sequence[str], *, strict: bool = True) -> None:
        if values:
            plan.lists[column] = TemplateList(column, tuple(values), strict)

    if kind == "meters":
        site = sites[0] if sites else "DC-GD"
        add("site", sites)
        plan.self_lists["parent"] = "meter"
        add("role", meter_roles())
        add("unit", _METER_UNITS, strict=False)
        add("kind", ("counter", "interval"))
        add("timezone", sorted(zoneinfo.available_timezones()))
        add("fuel", ("diesel", "natural_gas"))
        add("timestamp_marks", ("end", "start"))
        positive = _NumberRule("decimal", "greaterThan", "0", None, ("> 0", "> 0"))
        plan.numbers["multiplier"] = positive
        plan.numbers["rollover"] = positive
        plan.example = [
            {"meter": f"{site}-INC", "site": site, "role": "incomer", "unit": "kWh",
             "kind": "counter", "rollover": 1_000_000, "timezone": "Asia/Shanghai",
             "name": "Main incomer", "name_zh": "市电总进线"},
            {"meter": f"{site}-IT", "site": site, "parent": f"{site}-INC", "role": "it_input",
             "unit": "kWh", "kind": "interval", "timezone": "Asia/Shanghai",
             "name": "IT load", "name_zh": "IT 负荷"},
        ]  # fmt: skip
    elif kind == "readings":
        meters = _meter_codes(workspace)
        add("meter", meters)
        plan.numbers["value"] = _ANY_NUMBER
        meter = meters[0] if meters else "DC-GD-INC"
        plan.example = [
            {"meter": meter, "timestamp": "2024-01-01T00:15:00+08:00", "value": 104520.5},
            {"meter": meter, "timestamp": "2024-01-01T00:30:00+08:00", "value": 104645.0},
        ]
    else:  # weather
        low, high = (f"{v:g}" for v in TEMPERATURE_RANGE_C)
        add("site", sites)
        temperature = _NumberRule(
            "decimal", "between", low, high, (f"{low} to {high} °C", f"{low} 至 {high} °C")
        )
        plan.numbers["dry_bulb_c"] = temperature
        plan.numbers["wet_bulb_c"] = temperature
        plan.numbers["relative_humidity_pct"] = _NumberRule(
            "decimal", "between", "0", "100", ("0-100 (%)", "0-100（%）")
        )
        site = sites[0] if sites else "DC-GD"
        plan.example = [
            {"site": site, "timestamp": "2024-07-01T14:00:00+08:00", "dry_bulb_c": 33.5,
             "relative_humidity_pct": 62},
            {"site": site, "timestamp": "2024-07-01T15:00:00+08:00", "dry_bulb_c": 33.1,
             "wet_bulb_c": 27.4},
        ]  # fmt: skip


def _plan_trips(plan: _Plan, workspace: Workspace | None) -> None:
    """The carbon-inclusion trips template: the modes of the workspace's methodology when it
    has one (else an open column), distances from 0 to the importer's bound."""
    from esgledger.errors import EsgledgerError
    from esgledger.inclusion.trips import MAX_DISTANCE_KM, allowed_modes

    modes: list[str] = []
    if workspace is not None:
        try:
            modes = sorted(allowed_modes(workspace))
        except (EsgledgerError, ImportError):  # no methodology chosen yet: an open column
            modes = []
    if modes:
        plan.lists["mode"] = TemplateList("mode", tuple(modes), True)
    high = str(MAX_DISTANCE_KM)
    plan.numbers["distance_km"] = _NumberRule(
        "decimal", "between", "0", high, (f"0 to {high} km", f"0 至 {high} 公里")
    )
    plan.example = [
        {"trip_id": "SZMC-20240501-000001", "account": "6225880012345678",
         "operator": "SZMC", "mode": modes[0] if modes else "metro",
         "start_time": "2024-05-01T08:02:00+08:00", "end_time": "2024-05-01T08:31:00+08:00",
         "origin": "福田", "destination": "罗湖", "distance_km": 12.4, "channel": "card"},
    ]  # fmt: skip


def _plan_metric_values(
    plan: _Plan, lang: str, workspace: Workspace | None, entities: Sequence[str]
) -> None:
    """Typed metrics (never derived ones), entities, the campaign's years and dates."""
    from esgledger.disclosure import load_catalogue
    from esgledger.ingest.metrics import EARLIER_YEARS, workspace_catalogue

    catalogue = load_catalogue() if workspace is None else workspace_catalogue(workspace)
    plan.metrics = [item for item in catalogue if not item.is_derived and item.type != "text"]
    plan.metrics += [item for item in catalogue if not item.is_derived and item.type == "text"]
    codes = [item.code for item in plan.metrics]
    # without a workspace its company metrics are unknown: warn instead of refusing
    plan.lists["metric"] = TemplateList("metric", tuple(codes), workspace is not None)
    if entities:
        plan.lists["entity"] = TemplateList("entity", tuple(entities))
    units = dict.fromkeys(
        [u for item in plan.metrics for u in (item.unit, item.unit_label_en) if u and "[" not in u]
    )
    plan.lists["unit"] = TemplateList("unit", (*units, *_common_units()), strict=False)
    if workspace is None:
        first, last = 1990, 2100
    else:
        last = workspace.reporting_year
        first = last - EARLIER_YEARS
    plan.numbers["year"] = _NumberRule(
        "whole", "between", str(first), str(last), (f"{first}-{last}", f"{first}-{last}")
    )
    period = _NumberRule(
        "date",
        "between",
        _serial(dt.date(first, 1, 1)),
        _serial(dt.date(last, 12, 31)),
        (f"a date in {first}-{last}", f"{first}-{last}年内的日期"),
    )
    plan.numbers["period_start"] = period
    plan.numbers["period_end"] = period
    plan.numbers["value"] = _ANY_NUMBER
    entity = entities[0] if entities else "GRP"
    plan.example = [
        {
            "metric": "A1.3",
            "entity": entity,
            "year": last if workspace is not None else 2024,
            "value": 1500,
            "unit": "kg",
            "evidence": "Contractor manifests" if lang == "en" else "危废转移联单",
        },
        {
            "metric": "B1.1",
            "entity": entity,
            "year": last if workspace is not None else 2024,
            "value": 420,
            "unit": "people",
            "breakdown": "gender=female; type=full_time",
            "evidence": "HR report" if lang == "en" else "人力资源报表",
        },
    ]


def template_lists(
    kind: str, *, lang: str = "en", workspace: Workspace | None = None
) -> dict[str, TemplateList]:
    """The drop-down lists of the ``kind`` template, by column.

    Raises
    ------
    ValueError
        For an unknown kind or language, or the activities template without a workspace.
    """
    _lang_index(lang)
    return dict(_plan(kind, lang, workspace).lists)


# ---- writing ----------------------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _note(spec: ColumnSpec, lang: str, values: TemplateList | None) -> str:
    en = f"{spec.column} ({'required' if spec.required else 'optional'}): {spec.description}"
    zh = f"{spec.header_zh}（{'必填' if spec.required else '选填'}）：{spec.description_zh}"
    parts = [en, zh] if lang == "en" else [zh, en]
    if values is not None and len(values.values) > 12:
        parts.append("Pick from the drop-down list." if lang == "en" else "请从下拉列表中选择。")
    return "\n\n".join(parts)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_lists(sheet: Worksheet, lists: Mapping[str, TemplateList]) -> dict[str, str]:
    """Write each list into its own column of the lists sheet; return the range of each."""
    ranges: dict[str, str] = {}
    for index, (column, values) in enumerate(lists.items(), start=1):
        letter = _column_letter(index)
        set_xlsx_cell(sheet, 1, index, column)
        for row, value in enumerate(values.values, start=2):
            set_xlsx_cell(sheet, row, index, value)
        last = len(values.values) + 1
        ranges[column] = f"{LISTS_SHEET}!${letter}$2:${letter}${last}"
        sheet.column_dimensions[letter].width = max(12, min(40, _display_width(column) + 2))
    return ranges


def _offered_lists(
    lists: Mapping[str, TemplateList],
) -> tuple[dict[str, TemplateList], dict[str, tuple[str, ...]]]:
    """The drop-down lists as written, and the values held back from them by column.

    A value a spreadsheet would read as a formula (an entity code such as ``-ACME`` or
    ``=HYPERLINK(...)``, :func:`esgledger.safe_output.is_formula_like`) is not offered: picked
    from a drop-down, Excel would enter it as a formula. Written neutralised (``'-ACME``) it
    would no longer be the code the importer expects. A list that loses a value warns instead
    of refusing, so the value can still be typed (with an apostrophe first); the README says
    so.
    """
    offered: dict[str, TemplateList] = {}
    held_back: dict[str, tuple[str, ...]] = {}
    for column, values in lists.items():
        risky = tuple(v for v in values.values if is_formula_like(v))
        if not risky:
            offered[column] = values
            continue
        held_back[column] = risky
        kept = tuple(v for v in values.values if not is_formula_like(v))
        if kept:
            offered[column] = TemplateList(column, kept, strict=False)
    return offered, held_back


def _held_back_line(held_back: Mapping[str, tuple[str, ...]]) -> tuple[str, str]:
    columns = ", ".join(held_back)
    count = sum(len(values) for values in held_back.values())
    return (
        f"{count} value(s) of column(s) {columns} begin with =, +, - or @ and are not offered "
        "in the drop-downs (a spreadsheet would read them as formulas): type such a value "
        "with an apostrophe first, e.g. '-ACME.",
        f"列 {columns} 中有 {count} 个以 =、+、- 或 @ 开头的值未列入下拉选项（表格软件会将其当作"
        "公式）：输入此类值时请在前面加英文单引号，例如 '-ACME。",
    )


def write_template(
    kind: str,
    out: Path | str,
    *,
    lang: str = "en",
    workspace: Workspace | None = None,
    prefill: Prefill | None = None,
) -> Path:
    """Write the XLSX template of ``kind`` to ``out`` and return its path.

    Parameters
    ----------
    kind
        One of :data:`TEMPLATE_KINDS`.
    out
        The file to write (``.xlsx``); an existing file is replaced.
    lang
        ``"en"`` or ``"zh-CN"``: sheet names, headers and drop-down values of true/false and
        site types. Notes and the README give both languages.
    workspace
        Where entity, site and user activity-type lists (and, for activities and metric
        values, the reporting year of the date validation; for metric values, the company
        metrics) come from. Required for ``activities``.
    prefill
        Rows, reference columns, narrower entity and site lists and a README note for the
        template of one collection task (:class:`Prefill`); every text goes through
        :func:`esgledger.safe_output.set_xlsx_cell`, so no value becomes a formula.

    Raises
    ------
    ValueError
        For an unknown kind or language, or the activities template without a workspace.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    index = _lang_index(lang)
    plan = _plan(kind, lang, workspace)
    specs = _specs(kind)
    out = Path(out)
    if prefill is not None:
        _narrow(plan, prefill)

    book = Workbook()
    data = book.active
    if data is None:  # pragma: no cover - a new workbook always has a sheet
        raise RuntimeError("openpyxl created a workbook without a sheet")
    data.title = _SHEETS[kind][index]
    readme = book.create_sheet(_README[index])
    lists_sheet = book.create_sheet(LISTS_SHEET)
    lists_sheet.sheet_state = "hidden"
    book.properties.creator = "esgledger"
    book.properties.title = f"esgledger {kind} template ({lang})"

    offered, held_back = _offered_lists(plan.lists)
    inline: dict[str, str] = {}
    long_lists: dict[str, TemplateList] = {}
    for column, values in offered.items():
        text = ",".join(values.values)
        if len(text) + 2 <= INLINE_LIST_LIMIT and not any('"' in v for v in values.values):
            inline[column] = f'"{text}"'
        else:
            long_lists[column] = values
    ranges = _write_lists(lists_sheet, long_lists)
    letters = {spec.column: _column_letter(i) for i, spec in enumerate(specs, start=1)}

    for position, spec in enumerate(specs, start=1):
        header = spec.column if lang == "en" else spec.header_zh
        cell = set_xlsx_cell(data, 1, position, header)
        cell.font = Font(bold=True, color=_WHITE if spec.required else _BLACK)
        cell.fill = PatternFill(
            "solid", fgColor=_REQUIRED_FILL if spec.required else _OPTIONAL_FILL
        )
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        note = Comment(_note(spec, lang, plan.lists.get(spec.column)), "esgledger")
        note.width = 360
        note.height = 200
        cell.comment = note
        letter = letters[spec.column]
        example_width = max(
            (_display_width(str(row.get(spec.column) or "")) for row in plan.example), default=0
        )
        data.column_dimensions[letter].width = max(
            10, min(45, max(_display_width(header), example_width) + 4)
        )
        if spec.type == "date":
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
        elif spec.type == "string":
            data.column_dimensions[letter].number_format = "@"
    data.freeze_panes = "A2"
    data.row_dimensions[1].height = 30
    if prefill is not None:
        _write_prefill(data, specs, prefill, lang)

    for column, letter in letters.items():
        area = f"{letter}2:{letter}{_LAST_ROW}"
        prompt = next(s for s in specs if s.column == column)
        description = prompt.description if lang == "en" else prompt.description_zh
        validation: DataValidation | None = None
        if column in offered:
            values = offered[column]
            source = inline.get(column) or f"={ranges[column]}"
            validation = DataValidation(
                type="list",
                formula1=source,
                allow_blank=True,
                showDropDown=False,
                errorStyle="stop" if values.strict else "warning",
                error=_TEXT["refused" if values.strict else "not_listed"][index],
                errorTitle=_TEXT["pick"][index][:32],
            )
        elif column in plan.self_lists:
            source_letter = letters[plan.self_lists[column]]
            validation = DataValidation(
                type="list",
                formula1=f"=${source_letter}$2:${source_letter}$5000",
                allow_blank=True,
                errorStyle="warning",
                error=_TEXT["not_listed"][index],
                errorTitle=_TEXT["pick"][index][:32],
            )
        elif column in plan.numbers:
            rule = plan.numbers[column]
            validation = DataValidation(
                type=rule.kind,
                operator=rule.operator,
                formula1=rule.low,
                formula2=rule.high,
                allow_blank=True,
                errorStyle="stop",
                error=(f"Enter {rule.text[0]}." if lang == "en" else f"请输入{rule.text[1]}。"),
                errorTitle=_error_title(lang),
            )
        if validation is None:
            continue
        validation.showErrorMessage = True
        validation.showInputMessage = True
        validation.promptTitle = _truncate(column if lang == "en" else prompt.header_zh, 32)
        validation.prompt = _truncate(description, 250)
        validation.add(area)
        data.add_data_validation(validation)

    _write_readme(
        readme, kind, lang, specs, plan, inline, held_back, prefill.note if prefill else None
    )
    if plan.metrics:
        _write_metrics(book.create_sheet(_METRICS_SHEET[index], 2), lang, plan.metrics)
    book.active = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def _narrow(plan: _Plan, prefill: Prefill) -> None:
    """Offer only the prefill's entities and sites in the drop-downs."""
    for column, values in (("entity", prefill.entities), ("site", prefill.sites)):
        if values:
            plan.lists[column] = TemplateList(column, tuple(values), strict=True)


_REFERENCE_SHEET = ("last year", "去年数据")


def _write_prefill(
    sheet: Worksheet, specs: Sequence[ColumnSpec], prefill: Prefill, lang: str
) -> None:
    """The prefill's rows from row 2; with reference columns, a sheet after the data sheet
    (to read, not to fill: the importer reads only the data sheet) repeating each row's
    columns with the reference values beside them."""
    from openpyxl.styles import Font

    for row, record in enumerate(prefill.rows, start=2):
        for position, spec in enumerate(specs, start=1):
            value = record.get(spec.column)
            if value is None or value == "":
                continue
            cell = set_xlsx_cell(sheet, row, position, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    keys_shown = [key for key, _en, _zh in prefill.reference]
    if not any(record.get(key) not in (None, "") for record in prefill.rows for key in keys_shown):
        return  # nothing to refer to
    book = sheet.parent
    reference = book.create_sheet(_REFERENCE_SHEET[_lang_index(lang)], 1)
    shown_specs = [s for s in specs if any(r.get(s.column) for r in prefill.rows)]
    headers = [s.column if lang == "en" else s.header_zh for s in shown_specs] + [
        f"{en} / {zh}" if lang == "en" else f"{zh} / {en}" for _key, en, zh in prefill.reference
    ]
    for position, header in enumerate(headers, start=1):
        set_xlsx_cell(reference, 1, position, header).font = Font(bold=True)
        reference.column_dimensions[_column_letter(position)].width = 20
    keys = [s.column for s in shown_specs] + [key for key, _en, _zh in prefill.reference]
    for row, record in enumerate(prefill.rows, start=2):
        for position, key in enumerate(keys, start=1):
            value = record.get(key)
            if value is not None and value != "":
                cell = set_xlsx_cell(reference, row, position, value)
                if isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    reference.freeze_panes = "A2"


def _specs(kind: str) -> tuple[ColumnSpec, ...]:
    """The columns of ``kind`` (its ``esgledger/schema`` CSV)."""
    return column_specs(kind)


def _metric_description(item: CatalogueItem) -> str:
    prefix = "company metric file: "
    if item.user:
        return item.source[len(prefix) :] if item.source.startswith(prefix) else ""
    return item.source


def _write_metrics(sheet: Worksheet, lang: str, items: Sequence[CatalogueItem]) -> None:
    """The metrics sheet: each offered metric with titles, type, unit and description."""
    from openpyxl.styles import Alignment, Font

    headers = [
        ("code", "指标代码"),
        ("title_en", "英文名称"),
        ("title_zh", "中文名称"),
        ("type", "类型"),
        ("unit", "单位"),
        ("unit (printed)", "单位显示"),
        ("parent", "上级指标"),
        ("description / source", "说明 / 来源"),
    ]
    zh = lang != "en"
    for position, (en, cn) in enumerate(headers, start=1):
        label = f"{cn} / {en}" if zh else f"{en} / {cn}"
        set_xlsx_cell(sheet, 1, position, label).font = Font(bold=True)
    for row, item in enumerate(items, start=2):
        values = [
            item.code,
            item.title_en,
            item.title_zh,
            item.type,
            item.unit,
            item.label(lang),
            item.parent,
            _metric_description(item),
        ]
        for position, value in enumerate(values, start=1):
            cell = set_xlsx_cell(sheet, row, position, value or None)
            cell.alignment = Alignment(wrap_text=position in (2, 3, 8), vertical="top")
    sheet.freeze_panes = "B2"
    for position, width in enumerate((26, 50, 36, 9, 16, 14, 12, 50), start=1):
        sheet.column_dimensions[_column_letter(position)].width = width


def _error_title(lang: str) -> str:
    return "Value not allowed" if lang == "en" else "数值不符合要求"


def _allowed(column: str, plan: _Plan, inline: Mapping[str, str], lang: str) -> str:
    if column in plan.lists:
        values = plan.lists[column].values
        if column in inline:
            return ", ".join(values)
        shown = ", ".join(values[:8])
        more = len(values) - 8
        if more <= 0:
            return shown
        return (
            f"{shown} … (+{more}; drop-down)"
            if lang == "en"
            else f"{shown} …（另{more}项，见下拉列表）"
        )
    if column in plan.self_lists:
        return (
            f"an entity of column {plan.self_lists[column]} or one already imported"
            if lang == "en"
            else "本表主体列中的主体或已导入的主体"
        )
    rule = plan.numbers.get(column)
    if rule is not None:
        return rule.text[_lang_index(lang)]
    return ""


def _write_readme(
    sheet: Worksheet,
    kind: str,
    lang: str,
    specs: Sequence[ColumnSpec],
    plan: _Plan,
    inline: Mapping[str, str],
    held_back: Mapping[str, tuple[str, ...]],
    note: tuple[str, str] | None = None,
) -> None:
    from openpyxl.styles import Alignment, Font

    index = _lang_index(lang)
    data_sheet = _SHEETS[kind][index]
    bold = Font(bold=True)
    title = (
        f"esgledger {kind} template / esgledger {_SHEETS[kind][1]}填报模板"
        if lang == "en"
        else f"esgledger {_SHEETS[kind][1]}填报模板 / esgledger {kind} template"
    )
    lines = [
        (
            f"Fill in one row per record in sheet '{data_sheet}', starting in row 2; keep the "
            "header row as it is. Dark blue headers are required columns. Hover over a header "
            "for its description; cells with a list offer a drop-down.",
            f"请在“{data_sheet}”工作表第2行起每行填写一条记录，勿修改表头。深蓝色表头为必填列。"
            "将鼠标悬停在表头上可查看说明；带列表的单元格提供下拉选项。",
        ),
        (
            f"Then import the file: esgledger import WS FILE.xlsx --kind {kind}. The whole file "
            "is checked; if anything is wrong nothing is imported and every problem is listed "
            "with its row, column and how to fix it.",
            f"然后导入文件：esgledger import WS FILE.xlsx --kind {kind}。系统校验整个文件；"
            "如有任何错误，整个文件不会导入，并逐行列出问题及修改方法。",
        ),
    ]
    if held_back:
        lines.append(_held_back_line(held_back))
    if note is not None:
        lines.insert(0, note)
    set_xlsx_cell(sheet, 1, 1, title).font = Font(bold=True, size=14)
    row = 2
    for en, zh in lines:
        for text in (en, zh) if lang == "en" else (zh, en):
            cell = set_xlsx_cell(sheet, row, 1, text)
            cell.alignment = Alignment(wrap_text=False)
            row += 1
    row += 1
    headers = [
        ("column", "列名（英文）"),
        ("header_zh", "中文列名"),
        ("required", "是否必填"),
        ("type", "类型"),
        ("description", "说明（英文）"),
        ("说明", "说明（中文）"),
        ("allowed values", "可选值"),
    ]
    for position, (en, zh) in enumerate(headers, start=1):
        label = f"{en} / {zh}" if lang == "en" else f"{zh} / {en}"
        set_xlsx_cell(sheet, row, position, label).font = bold
    row += 1
    for spec in specs:
        values = [
            spec.column,
            spec.header_zh,
            f"{_TEXT['required' if spec.required else 'optional'][0]} / "
            f"{_TEXT['required' if spec.required else 'optional'][1]}",
            spec.type,
            spec.description,
            spec.description_zh,
            _allowed(spec.column, plan, inline, lang),
        ]
        for position, value in enumerate(values, start=1):
            cell = set_xlsx_cell(sheet, row, position, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    row += 1
    label = "Example / 示例" if lang == "en" else "示例 / Example"
    set_xlsx_cell(sheet, row, 1, label).font = bold
    row += 1
    for position, spec in enumerate(specs, start=1):
        header = spec.column if lang == "en" else spec.header_zh
        set_xlsx_cell(sheet, row, position, header).font = bold
    for example in plan.example:
        row += 1
        for position, spec in enumerate(specs, start=1):
            set_xlsx_cell(sheet, row, position, example.get(spec.column))
    widths = (18, 16, 14, 10, 60, 50, 40)
    for position, width in enumerate(widths, start=1):
        sheet.column_dimensions[_column_letter(position)].width = width
