"""Contractual instruments of market-based scope 2: their vocabulary and record.

合同工具（环境权益证书、购电协议、绿色电价、自发自用）的词汇与记录。

The kinds of instrument (``esgledger/schema/instrument_types.csv``) and generation
technologies (``instrument_technologies.csv``) are schema as data; :class:`Instrument` is one
row of the register, as the importer stores it and the pure functions of
:mod:`esgledger.renewables.quality` and :mod:`esgledger.renewables.allocation` read it.

Each type has a place in the market-based hierarchy of GHG Protocol Scope 2 Guidance (2015),
Table 6.3: ``1`` energy attribute certificates (GEC, green-power trade, I-REC, REC, GO),
``2`` contracts for specified sources (PPAs), ``3`` supplier-specific rates (green tariffs);
``0`` marks on-site generation consumed at the site, which is not purchased electricity at all
(domain-modules.md §2.1).

Market boundaries (same-market criterion, Scope 2 Guidance Table 7.1; RE100 technical
criteria) are data too: :data:`MARKET_BOUNDARIES` puts the countries of one market under one
name (mainland China one market; the United States and Canada one market; the members of the
AIB's European Energy Certificate System one market); every other country is a market of its
own. A caller can pass its own mapping wherever a market is needed.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

__all__ = [
    "INSTRUMENT_TYPES",
    "MARKET_BOUNDARIES",
    "TECHNOLOGIES",
    "Instrument",
    "InstrumentType",
    "Technology",
    "instrument_types",
    "market_of",
    "technologies",
]


@dataclass(frozen=True, slots=True)
class InstrumentType:
    """A kind of instrument (one row of ``instrument_types.csv``).

    Attributes
    ----------
    type
        Key (``gec``, ``ppa_physical`` …).
    name, name_zh
        English and Chinese names.
    kind
        ``certificate``, ``contract``, ``supplier`` or ``onsite``.
    hierarchy
        Rank in the market-based hierarchy of Scope 2 Guidance Table 6.3 (1 certificates,
        2 contracts, 3 supplier rates; 0 on-site generation).
    aliases
        Other spellings accepted on import.
    description
        What it is and when it counts.
    """

    type: str
    name: str
    name_zh: str
    kind: str
    hierarchy: int
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Technology:
    """A generation technology (one row of ``instrument_technologies.csv``).

    ``renewable`` and ``re100`` say whether the technology counts toward RE % and RE100
    (RE100 recognises wind, solar, geothermal, sustainable biomass and sustainable hydro);
    ``carbon_free`` whether it counts as clean supply in hourly CFE (nuclear does, Google
    24/7 CFE methodology).
    """

    technology: str
    name: str
    name_zh: str
    renewable: bool
    carbon_free: bool
    re100: bool
    aliases: tuple[str, ...]


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.schema").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _aliases(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(";") if a.strip())


@cache
def instrument_types() -> dict[str, InstrumentType]:
    """The instrument types by key, in the order of ``instrument_types.csv``."""
    return {
        row["type"]: InstrumentType(
            type=row["type"],
            name=row["name"],
            name_zh=row["name_zh"],
            kind=row["kind"],
            hierarchy=int(row["hierarchy"]),
            aliases=_aliases(row["aliases"]),
            description=row["description"],
        )
        for row in _read("instrument_types.csv")
    }


@cache
def technologies() -> dict[str, Technology]:
    """The generation technologies by key, in the order of ``instrument_technologies.csv``."""
    return {
        row["technology"]: Technology(
            technology=row["technology"],
            name=row["name"],
            name_zh=row["name_zh"],
            renewable=row["renewable"] == "yes",
            carbon_free=row["carbon_free"] == "yes",
            re100=row["re100"] == "yes",
            aliases=_aliases(row["aliases"]),
        )
        for row in _read("instrument_technologies.csv")
    }


#: Keys of the instrument types.
INSTRUMENT_TYPES: tuple[str, ...] = tuple(instrument_types())
#: Keys of the technologies.
TECHNOLOGIES: tuple[str, ...] = tuple(technologies())

# Members of the Association of Issuing Bodies using the EECS GO scheme [M: AIB member list,
# aib-net.org, 2024]; RE100 treats Europe as one market where an AIB member has an
# interconnection (domain-modules.md §2.3). Check against the current member list.
_AIB_EECS = (
    "AT", "BE", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IS", "IE",
    "IT", "LV", "LT", "LU", "NL", "NO", "PT", "RS", "SK", "SI", "ES", "SE", "CH",
)  # fmt: skip

#: Country (ISO 3166-1 alpha-2) → market name, where a market spans more than one country or
#: differs from the country code. Mainland China is one market for GECs and green-power trades
#: (one national GEC registry, Document 1044); Hong Kong and Macao are separate markets
#: (regions.csv). The US and Canada form one RE100 market [R: RE100 technical criteria v4.1].
MARKET_BOUNDARIES: Mapping[str, str] = {
    "US": "US-CA",
    "CA": "US-CA",
    **dict.fromkeys(_AIB_EECS, "EU-AIB"),
}


def market_of(country: str, boundaries: Mapping[str, str] | None = None) -> str:
    """The electricity market a country belongs to (its own code when no boundary joins it).

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.
    boundaries
        Country → market; default :data:`MARKET_BOUNDARIES`.

    Examples
    --------
    >>> market_of("CA"), market_of("CN"), market_of("HK")
    ('US-CA', 'CN', 'HK')
    """
    table = MARKET_BOUNDARIES if boundaries is None else boundaries
    code = country.upper()
    return table.get(code, code)


@dataclass(frozen=True, slots=True)
class Instrument:
    """One contractual instrument of the register (``instrument_columns.csv``).

    Attributes
    ----------
    instrument
        Id, unique in the workspace.
    type
        Key of :func:`instrument_types`.
    technology
        Key of :func:`technologies`.
    country, region
        Where the electricity was generated (ISO 3166-1 alpha-2; region code or the country).
    period_start, period_end
        Generation period (vintage), inclusive.
    mwh
        [MWh] volume whose attributes the instrument carries.
    generator
        Plant name or device id.
    commissioned
        Commissioning or re-powering date of the plant.
    retired_on
        Retirement (cancellation) date in the registry; None = not retired.
    retired_for
        Entity or site code the instrument was retired for; None = nobody named.
    registry_id
        Serial range or retirement statement id.
    co2_kg_per_mwh
        [kg CO2 / MWh] emission rate the instrument conveys (supplier rate of a green tariff);
        None means 0 for a renewable or carbon-free technology.
    contract_signed
        Date the contract was signed or the purchase made (RE100 15-year rule).
    attributes_sold
        The plant's certificates were sold to someone else (null power).
    """

    instrument: str
    type: str
    technology: str
    country: str
    region: str
    period_start: date
    period_end: date
    mwh: float
    generator: str | None = None
    commissioned: date | None = None
    retired_on: date | None = None
    retired_for: str | None = None
    registry_id: str | None = None
    co2_kg_per_mwh: float | None = None
    contract_signed: date | None = None
    attributes_sold: bool = False

    @property
    def kind(self) -> str:
        """``certificate``, ``contract``, ``supplier`` or ``onsite``."""
        return instrument_types()[self.type].kind

    @property
    def hierarchy(self) -> int:
        """Rank in Scope 2 Guidance Table 6.3 (0 on-site, 1 certificate, 2 contract, 3
        supplier)."""
        return instrument_types()[self.type].hierarchy

    @property
    def emission_rate_kg_per_mwh(self) -> float:
        """[kg CO2 / MWh] the rate the instrument conveys: ``co2_kg_per_mwh`` or 0."""
        return 0.0 if self.co2_kg_per_mwh is None else self.co2_kg_per_mwh

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Instrument:
        """An instrument from a dict keyed by column name (a stored row); unknown keys such
        as ``batch_id`` or ``allocated_mwh`` are ignored."""
        names = [f.name for f in dataclasses.fields(cls)]
        values = {k: record[k] for k in names if k in record}
        if values.get("attributes_sold") is None:
            values["attributes_sold"] = False
        return cls(**values)  # type: ignore[arg-type]
