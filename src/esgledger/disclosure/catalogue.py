"""The metric catalogue: every disclosure item a report can carry, as data.

指标目录：报告可披露的每一个条目（数据驱动）。

The shipped catalogue (``disclosure/catalogue.csv``) lists

* the HKEX ESG Reporting Code (Main Board Appendix C2): Part B mandatory disclosures (codes
  ``MDR.*``), Part C general disclosures and KPIs (``A1`` … ``B8.2``), Part D climate-related
  disclosures (``D.*``) with their phase-in;
* IFRS S2 (``S2.*``: governance, strategy, risk management, metrics 29(a)–(g), targets) and
  the SASB-derived industry metrics for software and internet companies (``TC-SI-130a.*``,
  ``TC-IM-130a.*``);
* GRI 302, 303, 305 and 306 (``GRI 305-1`` …);
* the typed denominators of intensity metrics (``revenue``, ``employees``).

Each row has a code, framework, titles in English and Simplified Chinese, a type (``number``,
``text``, ``table``), a unit (pint-parsable by :func:`esgledger.units.parse_unit`,
``[currency]`` for an amount in any one currency, or empty for counts and percentages, whose
printed label is in ``unit_label_en``/``unit_label_zh``), the status rule with its phase-in,
the codes it maps to in other frameworks, the derivation that computes it (``derived_from``;
such values are never typed in), the report section, and how sure the wording is
(``mark_en``, ``mark_zh``: ``V`` verified, ``S`` secondary, ``M`` memory, as in the project's
reference notes) with its source.

Status rule (HKEX Code Part D phase-in, consultation conclusions of 19 April 2024 [S])::

    fiscal year < effective_from                    -> not_applicable
    GEM issuer                                      -> status_gem
    LargeCap issuer, fiscal year >= largecap_mandatory_from -> mandatory
    LargeCap issuer, earlier                        -> status_largecap
    other Main Board issuer                         -> status

A company adds its own metrics in a file with the columns of ``schema/metric_columns.csv``
(CSV, XLSX or Parquet; English or Chinese headers); :func:`load_catalogue` validates it with
the shipped catalogue and rejects it whole, row by row, when anything is wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from esgledger.errors import InputError, Issue, UnitError
from esgledger.units import parse_unit

__all__ = [
    "DERIVATIONS",
    "FRAMEWORKS",
    "ISSUER_TIERS",
    "MARKS",
    "STATUSES",
    "TYPES",
    "Catalogue",
    "CatalogueItem",
    "IssuerTier",
    "Status",
    "load_catalogue",
    "metric_columns",
    "unit_dimension_ok",
]

Status = Literal["mandatory", "comply_or_explain", "voluntary", "not_applicable"]
IssuerTier = Literal["main_board", "largecap", "gem"]

#: Item types.
TYPES: tuple[str, ...] = ("number", "text", "table")
#: Status rules a row can carry (``not_applicable`` is only ever computed).
STATUSES: tuple[str, ...] = ("mandatory", "comply_or_explain", "voluntary")
#: Issuer tiers of the HKEX Part D phase-in.
ISSUER_TIERS: tuple[str, ...] = ("main_board", "largecap", "gem")
#: Frameworks of the shipped catalogue; company files add ``company``.
FRAMEWORKS: tuple[str, ...] = ("HKEX_C2", "IFRS_S2", "SASB", "GRI", "organisation", "company")
#: Confidence marks of the wording (standards-and-data.md legend).
MARKS: tuple[str, ...] = ("V", "S", "M", "C")
#: The derivations of :mod:`esgledger.disclosure.derived`, id -> what it computes.
DERIVATIONS: dict[str, str] = {
    "ghg.scope1_2": "scope 1 and scope 2 (location- and market-based) [t CO2e] with intensities",
    "ghg.by_gas": "scope 1 and 2 emissions by gas [t of gas; t CO2e for gases without a mass]",
    "ghg.scope1": "scope 1 [t CO2e]",
    "ghg.scope2": "scope 2 location-based and market-based [t CO2e]",
    "ghg.scope3": "scope 3 [t CO2e] in total and by category",
    "ghg.intensity": "scope 1+2 and total emissions per revenue and per employee",
    "energy.by_type": "energy consumed by type [MWh] with intensities (HKEX KPI A2.1)",
    "energy.consumption": "energy consumed within the organisation by type [MWh]",
    "energy.total": "total energy consumed [GJ]",
    "energy.intensity": "energy consumed per revenue and per employee",
    "energy.grid_share": "grid electricity as a share of energy consumed [%]",
    "water.consumption": "water supplied (water.supply activity rows) [m3]",
    "re.share": "renewable share of electricity of the run [%]",
    "targets": "climate targets (from the targets module)",
    "inclusion.participants": "carbon-inclusion accounts with a settled trip in the year",
    "inclusion.trips": "carbon-inclusion trips of the year by settlement status",
    "inclusion.avoided": (
        "avoided emissions of the carbon-inclusion programme [t CO2] by mode and month "
        "(outside scopes 1-3, never in a scope total)"
    ),
    "inclusion.points_issued": "carbon-inclusion points issued in the year [points]",
    "inclusion.points_redeemed": "carbon-inclusion points redeemed in the year [points]",
}

_SHIPPED = "catalogue.csv"
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*( [0-9]{3}-[0-9]+)?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """One disclosure item (a row of the catalogue).

    Attributes
    ----------
    code
        Unique code (``A2.1``, ``D.metrics.scope3``, ``GRI 305-1``, a company code).
    unit
        Unit the values are held in: pint expression, ``[currency]`` (any one currency,
        alone or in a ratio such as ``[currency] / tonne``), or ``""`` (counts, percentages).
    largecap_mandatory_from, effective_from
        First fiscal year (the calendar year the financial year commences in) a rule applies
        from; ``None`` when there is none.
    user
        ``True`` for a company-specific metric from a user file.
    breakdowns
        Breakdown keys the item asks values for (``gender``, ``age``, ``region`` … of
        ``key=value`` breakdowns): KPI B1.1 asks for the workforce by gender, employment type,
        age group and region. The content index notes a disclosure without one of them.
    """

    code: str
    framework: str
    part: str
    parent: str
    title_en: str
    title_zh: str
    type: str
    unit: str
    unit_label_en: str
    unit_label_zh: str
    status: str
    status_largecap: str
    largecap_mandatory_from: int | None
    status_gem: str
    effective_from: int | None
    maps_to: tuple[str, ...]
    derived_from: str
    section: str
    mark_en: str
    mark_zh: str
    source: str
    user: bool = False
    breakdowns: tuple[str, ...] = ()
    #: Whether a value may be below zero: shipped items listed in ``negative_allowed.csv``
    #: (reductions, net figures), company metrics whose ``may_be_negative`` says yes. Every
    #: other count, amount, rate or quantity below zero is refused at import.
    may_be_negative: bool = False

    @property
    def is_derived(self) -> bool:
        """Whether values are computed (from the inventory, energy data or targets)."""
        return bool(self.derived_from)

    def status_for(self, fiscal_year: int, tier: IssuerTier = "main_board") -> Status:
        """The status of the item for an issuer tier and fiscal year.

        Parameters
        ----------
        fiscal_year
            Calendar year in which the reporting financial year commences [year].
        tier
            ``main_board`` (not LargeCap), ``largecap`` (Hang Seng Composite LargeCap Index
            constituent throughout the year before the reporting year) or ``gem``.

        Notes
        -----
        HKEX ESG Reporting Code Part D phase-in (consultation conclusions of 19 April 2024,
        via secondary summaries [S]; standards-and-data.md §2.3).
        """
        if tier not in ISSUER_TIERS:
            raise ValueError(f"unknown issuer tier {tier!r}: use one of {', '.join(ISSUER_TIERS)}")
        if self.effective_from is not None and fiscal_year < self.effective_from:
            return "not_applicable"
        if tier == "gem":
            chosen = self.status_gem
        elif tier == "largecap":
            if self.largecap_mandatory_from is not None and (
                fiscal_year >= self.largecap_mandatory_from
            ):
                return "mandatory"
            chosen = self.status_largecap
        else:
            chosen = self.status
        return _as_status(chosen)

    def label(self, lang: str) -> str:
        """How the unit is printed: the label if any, else the unit ("" for none)."""
        text = self.unit_label_zh if lang.startswith("zh") else self.unit_label_en
        return text or self.unit


def _as_status(text: str) -> Status:
    if text == "mandatory":
        return "mandatory"
    if text == "comply_or_explain":
        return "comply_or_explain"
    return "voluntary"


class Catalogue:
    """The shipped items and a company's own, in file order, looked up by code."""

    def __init__(self, items: Sequence[CatalogueItem]) -> None:
        self._items: dict[str, CatalogueItem] = {item.code: item for item in items}

    def __getitem__(self, code: str) -> CatalogueItem:
        return self._items[code]

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def __iter__(self) -> Iterator[CatalogueItem]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, code: str) -> CatalogueItem | None:
        return self._items.get(code)

    def framework(self, name: str) -> list[CatalogueItem]:
        """The items of one framework (``HKEX_C2``, ``IFRS_S2``, ``SASB``, ``GRI`` …)."""
        return [item for item in self if item.framework == name]

    def children(self, code: str) -> list[CatalogueItem]:
        """Items whose ``parent`` is ``code`` (KPIs of an aspect, company metrics of a KPI)."""
        return [item for item in self if item.parent == code]

    def derived_by(self, derivation: str) -> list[CatalogueItem]:
        """Items computed by one derivation id."""
        return [item for item in self if item.derived_from == derivation]

    def as_arrow(self) -> pa.Table:
        """The catalogue as an Arrow table (``maps_to`` joined by ``;``)."""
        rows = []
        for item in self:
            row = {f.name: getattr(item, f.name) for f in fields(CatalogueItem)}
            row["maps_to"] = ";".join(item.maps_to)
            rows.append(row)
        return pa.Table.from_pylist(rows)


def metric_columns() -> dict[str, tuple[str, ...]]:
    """Columns of a company metric file with their accepted spellings (Chinese header and
    aliases), from ``schema/metric_columns.csv``."""
    return _columns("metric_columns.csv")[0]


def _columns(name: str) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    text = resources.files("esgledger.schema").joinpath(name).read_text(encoding="utf-8")
    spellings: dict[str, tuple[str, ...]] = {}
    required: list[str] = []
    for row in csv.DictReader(text.splitlines()):
        aliases = [a for a in row["aliases"].split(";") if a]
        spellings[row["column"]] = (row["header_zh"], *aliases)
        if row["required"] == "yes":
            required.append(row["column"])
    return spellings, tuple(required)


def unit_dimension_ok(unit: str) -> bool:
    """Whether a catalogue unit is valid: empty, a pint unit, or a ``[currency]`` expression."""
    if not unit:
        return True
    try:
        parse_unit(unit.replace("[currency]", "USD"))
    except UnitError:
        return False
    return True


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _year(text: str) -> int | None:
    return int(text) if text else None


def _validate_row(
    row: Mapping[str, object],
    *,
    file: str,
    line: int,
    user: bool,
    known: Mapping[str, object],
    seen: dict[str, int],
) -> list[Issue]:
    issues: list[Issue] = []

    def bad(column: str, problem: str, fix: str) -> None:
        issues.append(Issue(file, line, column, _text(row, column) or None, problem, fix))

    code = _text(row, "code")
    if not code:
        bad("code", "the code is empty", "give each metric a code such as CO.charity.donations")
    elif not _CODE.match(code):
        bad(
            "code",
            "the code has characters other than letters, digits, '.', '_' and '-'",
            "start with a letter and use only letters, digits, '.', '_' and '-'",
        )
    elif user and code in known:
        bad(
            "code",
            "the code is already an item of the shipped catalogue",
            "choose another code (prefix company metrics, e.g. CO.)",
        )
    elif code in seen:
        bad("code", f"the code appears twice (also in row {seen[code]})", "keep one of the rows")
    else:
        seen[code] = line
    if not _text(row, "title_en"):
        bad("title_en", "the English title is empty", "give the title the report shows")
    zh = _text(row, "title_zh")
    if not zh:
        bad("title_zh", "the Chinese title is empty", "give the Simplified Chinese title")
    elif not _CJK.search(zh):
        bad("title_zh", "the Chinese title has no Chinese characters", "write it in Chinese")
    kind = _text(row, "type")
    if kind not in TYPES:
        bad("type", "unknown type", "use number, text or table")
    unit = _text(row, "unit")
    if unit and not unit_dimension_ok(unit):
        bad(
            "unit",
            "the unit is not one esgledger knows",
            "use a unit such as t, kg, kWh, MWh, GJ, m3, hour, day, CNY or [currency]; "
            "leave it empty for counts and percentages",
        )
    if kind == "text" and unit:
        bad("unit", "a text metric has a unit", "leave the unit empty or use type number")
    if user and kind == "number" and not unit and not _text(row, "unit_label_en"):
        bad(
            "unit_label_en",
            "a number without a unit needs a label saying what it counts",
            "give unit_label_en and unit_label_zh (e.g. people / 人, % / %)",
        )
    if user and _text(row, "may_be_negative").lower() not in (*_YES, *_NO):
        bad("may_be_negative", "not a yes/no value", "write yes or no (是/否), or leave it empty")
    parent = _text(row, "parent")
    if parent and parent not in known and parent not in seen:
        bad("parent", "the parent is not an item of the catalogue", "use a code such as B8.2")
    if not user:
        for column in ("status", "status_largecap", "status_gem"):
            if _text(row, column) not in STATUSES:
                bad(column, "unknown status", "use mandatory, comply_or_explain or voluntary")
        for column in ("largecap_mandatory_from", "effective_from"):
            text = _text(row, column)
            if text and not re.fullmatch(r"\d{4}", text):
                bad(column, "not a year", "give a four-digit year or leave it empty")
        derived = _text(row, "derived_from")
        if derived and derived not in DERIVATIONS:
            bad("derived_from", "unknown derivation", "use one of " + ", ".join(DERIVATIONS))
        if _text(row, "framework") not in FRAMEWORKS:
            bad("framework", "unknown framework", "use one of " + ", ".join(FRAMEWORKS))
        for column in ("mark_en", "mark_zh"):
            if _text(row, column) not in MARKS:
                bad(column, "unknown confidence mark", "use V, S, M or C")
        if not _text(row, "section"):
            bad("section", "the report section is empty", "give a section id such as env.emissions")
    return issues


_DESCRIBED_COLUMNS = (
    "code",
    "title_en",
    "title_zh",
    "type",
    "unit",
    "unit_label_en",
    "unit_label_zh",
)
"""Columns a catalogue item takes as written from both shipped and company metric rows."""


_YES = ("yes", "y", "true", "t", "1", "是")
_NO = ("", "no", "n", "false", "f", "0", "否")


@cache
def negative_allowed() -> dict[str, str]:
    """Shipped items whose values may be negative, with the reason
    (``disclosure/negative_allowed.csv``)."""
    text = resources.files("esgledger.disclosure").joinpath("negative_allowed.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {row["code"]: row["reason"] for row in rows}


def _item(row: Mapping[str, object], *, user: bool, sections: Mapping[str, str]) -> CatalogueItem:
    maps = tuple(code.strip() for code in _text(row, "maps_to").split(";") if code.strip())
    described: dict[str, Any] = {column: _text(row, column) for column in _DESCRIBED_COLUMNS}
    if user:
        parent = _text(row, "parent")
        section = _text(row, "section") or sections.get(parent, "company")
        return CatalogueItem(
            **described,
            framework="company",
            part="",
            parent=parent,
            status="voluntary",
            status_largecap="voluntary",
            largecap_mandatory_from=None,
            status_gem="voluntary",
            effective_from=None,
            maps_to=maps,
            derived_from="",
            section=section,
            mark_en="",
            mark_zh="",
            source="company metric file" + (f": {_text(row, 'notes')}" if row.get("notes") else ""),
            user=True,
            may_be_negative=_text(row, "may_be_negative").lower() in _YES,
        )
    return CatalogueItem(
        **described,
        framework=_text(row, "framework"),
        part=_text(row, "part"),
        parent=_text(row, "parent"),
        status=_text(row, "status"),
        status_largecap=_text(row, "status_largecap"),
        largecap_mandatory_from=_year(_text(row, "largecap_mandatory_from")),
        status_gem=_text(row, "status_gem"),
        effective_from=_year(_text(row, "effective_from")),
        maps_to=maps,
        derived_from=_text(row, "derived_from"),
        section=_text(row, "section"),
        mark_en=_text(row, "mark_en"),
        mark_zh=_text(row, "mark_zh"),
        source=_text(row, "source"),
        user=False,
        breakdowns=tuple(k.strip() for k in _text(row, "breakdowns").split(";") if k.strip()),
        may_be_negative=_text(row, "code") in negative_allowed(),
    )


def _shipped_rows() -> list[dict[str, str]]:
    text = resources.files("esgledger.disclosure").joinpath(_SHIPPED).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_catalogue(extra: Path | str | None = None) -> Catalogue:
    """The shipped catalogue, plus a company's metric file when given.

    Parameters
    ----------
    extra
        A CSV, XLSX or Parquet file with the columns of ``schema/metric_columns.csv``
        (English or Chinese headers), one company-specific metric a row.

    Raises
    ------
    InputError
        Naming file, row, column and the fix for every bad row (unknown type or unit, empty
        or non-Chinese title, a code that repeats or shadows a shipped item, an unknown
        parent, a count without a label); nothing is loaded then. Also raised, naming
        ``catalogue.csv``, if the shipped file itself were inconsistent.
    """
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    rows = _shipped_rows()
    for line, row in enumerate(rows, start=2):
        issues += _validate_row(row, file=_SHIPPED, line=line, user=False, known={}, seen=seen)
    if not issues:  # parents and maps_to of the shipped file refer to shipped codes
        codes = {row["code"] for row in rows}
        for line, row in enumerate(rows, start=2):
            for target in filter(None, (t.strip() for t in row["maps_to"].split(";"))):
                if target not in codes:
                    issues.append(
                        Issue(
                            _SHIPPED, line, "maps_to", target, "maps to an unknown code", "fix it"
                        )
                    )
    if issues:
        raise InputError("the shipped metric catalogue is inconsistent", issues)
    items = [_item(row, user=False, sections={}) for row in rows]
    if extra is None:
        return Catalogue(items)

    from esgledger.ingest.readers import read_table

    spellings = metric_columns()
    required = _columns("metric_columns.csv")[1]
    from esgledger.ingest.values_guard import guard_text

    raw = guard_text(read_table(Path(extra), columns=spellings, required=required))
    known = {item.code: item for item in items}
    sections = {item.code: item.section for item in items}
    user_seen: dict[str, int] = {}
    user_rows: list[Mapping[str, object]] = []
    for line, row in raw.rows():
        user_rows.append(row)
        issues += _validate_row(
            row, file=raw.file, line=line, user=True, known=known, seen=user_seen
        )
    if issues:
        raise InputError(
            f"{raw.file} was rejected: {len(issues)} problem(s) in the company metric definitions",
            issues,
        )
    users = [_item(row, user=True, sections=sections) for row in user_rows]
    return Catalogue([*items, *users])
