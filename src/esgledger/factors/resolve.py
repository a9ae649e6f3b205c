"""Factor resolution: which emission factor applies to an activity row, and why.

Pure functions over a :class:`~esgledger.factors.library.FactorLibrary`; the rules are those
of ``docs/methodology/factor-resolution.md`` (numbers below refer to them):

1. an explicit ``factor_id`` on the row wins; it must exist and its unit must fit both the
   activity's dimension and the row's unit;
2. candidates are the factors filed under the activity type's ``factor_activity`` whose unit
   has the dimensionality of the row's unit (a currency row matches a factor in any
   currency: FX is applied later by the engine). ``methods`` (ordered preference) limits the
   methods that qualify; earlier methods win at equal tier. Without ``methods`` every method
   qualifies except those in :data:`ON_REQUEST_METHODS`, and life-cycle factors rank last;
3. tiers, best first: ``supplier`` > ``site`` > ``subnational`` (province, China grid region,
   eGRID subregion; nearer in the region chain wins) > ``country`` > ``global``; a factor
   specific to another supplier or site never applies;
4. vintage: the reporting year, else the latest earlier vintage, else the earliest later
   one; ``vintage_gap = factor year - reporting year``;
5. then the higher set precedence (user sets over shipped sets), then ``factor_id`` order;
6. ``refrigerant.*`` and ``process.*`` resolve to the IPCC GWP-100 of the gas under the
   run's GWP set (a synthetic per-kg factor) unless a user factor for that exact activity
   exists at a tier better than ``global``;
7. the answer is a :class:`Resolution` with the factor, tier, vintage gap, a one-sentence
   reason, the unit conversion and the candidates that lost and why;
8. ``strict`` refuses a result beyond a tier or vintage gap (:class:`StrictFallbackError`);
   no candidate at all is a :class:`FactorNotFoundError` that says what to add;
9. proxies (only when configured): when nothing in the row's own region chain qualifies, the
   factors of the configured proxy regions are tried in order (``{"CN": ("GB", "US")}``);
   the result has tier ``proxy``, the worst tier, and a reason that names the proxy;
10. price basis (money rows): at equal tier and method a factor of the requested
    ``price_basis`` (default ``purchaser``: spend is what the company paid) ranks before
    one that does not say, which ranks before one of the other basis;
11. fuel conversions: for a fuel activity (:func:`esgledger.fuels.fuel_of`), a factor in
    another dimension than the row's unit still qualifies when the fuel's properties
    convert one into the other (litres → tonnes by density, tonnes → TJ by NCV, a plain gas
    m3 → Nm3 by the reference conditions; :func:`esgledger.fuels.convert`). Tier and the
    other rules rank first, so a Chinese factor per tonne beats a global one per litre;
    at equal rank a factor needing fewer conversion steps wins. The path is recorded on
    the resolution (``conversion_path``) and in its reason.
12. profile fallbacks (``fallbacks``, from the workspace profile): before any proxy region,
    when nothing in the chain qualifies, the first :class:`Fallback` whose activities match
    the row supplies a factor of its regions, with its tier: ``default`` (e.g. UK DESNZ
    flights and freight as the explicit global default for China) or ``proxy`` (e.g. US EEIO
    spend factors for CNY spend); the reason names the fallback and quotes its note's label.

:func:`resolve_many` resolves each distinct key of an activity table once and returns a table
for the engine to join back onto millions of rows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import pyarrow as pa

from esgledger import fuels, regions
from esgledger.errors import (
    EsgledgerError,
    FactorNotFoundError,
    StrictFallbackError,
    UnitError,
    UnknownActivityError,
    UnknownGasError,
)
from esgledger.factors.library import FactorLibrary
from esgledger.factors.sources._common import FACTOR_COLUMNS
from esgledger.reasons import Joined, Listing, Reason, Words, reason, templates
from esgledger.taxonomy import ActivityType, Taxonomy
from esgledger.units import conversion_factor, currency_of, dimensionality, fits_dimension

__all__ = [
    "ERROR_KINDS",
    "FALLBACK_TIERS",
    "GAS_FAMILIES",
    "GWP_FACTOR_PREFIX",
    "KEY_COLUMNS",
    "LAST_RESORT_METHODS",
    "ON_REQUEST_METHODS",
    "PRICE_BASES",
    "PROXY_WILDCARD",
    "REPORTED_ACTIVITY",
    "TIERS",
    "Fallback",
    "Resolution",
    "Strictness",
    "gwp_factor",
    "parse_fallbacks",
    "parse_proxies",
    "proxies_from_options",
    "reported_factor",
    "resolve",
    "resolve_many",
]

#: Tiers, best first. ``explicit`` is a factor named on the row (rule 1); ``default`` is a
#: factor of another region that the workspace profile names as the documented default for
#: the activity (rule 12); ``proxy`` is a factor of another region used as a configured
#: proxy (rules 9 and 12), the worst tier.
TIERS: tuple[str, ...] = (
    "explicit",
    "supplier",
    "site",
    "subnational",
    "country",
    "global",
    "default",
    "proxy",
)
#: The tiers a profile fallback (rule 12) can carry.
FALLBACK_TIERS: tuple[str, ...] = ("default", "proxy")

#: Methods that answer another question than "the emissions of this activity" and are used
#: only when asked for by name through ``methods``: market-based scope 2 inputs
#: (``residual_mix``, ``market_reporting``), the fossil-only grid factor, scope 3 category 3
#: add-ons (``td_losses``, ``wtt``, ``wtt_td_losses``) and air travel with radiative forcing
#: (``distance_rf``).
ON_REQUEST_METHODS: frozenset[str] = frozenset(
    {"residual_mix", "market_reporting", "fossil_only", "td_losses", "wtt", "wtt_td_losses"}
    | {"distance_rf"}
)
#: Methods that qualify without ``methods`` but rank after every other method at equal tier:
#: life-cycle grid factors include upstream emissions, so they are not a scope 2 factor and
#: are used only where nothing else exists (e.g. a country Ember alone covers).
LAST_RESORT_METHODS: tuple[str, ...] = ("lifecycle",)
#: Activity families resolved through the GWP tables (rule 6).
GAS_FAMILIES: tuple[str, ...] = ("refrigerant", "process")
#: Prefix of the ids of synthetic GWP factors: ``ipcc-gwp:AR6:R-410A``.
GWP_FACTOR_PREFIX = "ipcc-gwp"
#: The factor activity of types whose quantity IS emissions (supplier-, lessor-, investee-
#: reported CO2e); they resolve to an identity factor (rule 7).
REPORTED_ACTIVITY = "reported_emissions"
#: Price bases of spend factors (rule 10): purchaser prices include trade and transport
#: margins and taxes, producer prices do not. Spend is what the company paid, i.e. purchaser
#: prices; the EPA dataset (Supply Chain GHG Emission Factors v1.3) recommends its "with
#: margins" factors for purchaser-price spend.
PRICE_BASES: tuple[str, ...] = ("purchaser", "producer")
#: The ``error_kind`` of an unresolved key in :func:`resolve_many`: ``not_found`` (no
#: candidate), ``strict`` (refused by ``strict``), ``unit`` (the row's unit or an explicit
#: factor's unit does not fit), ``gas`` (the gas is not in the GWP tables), ``region`` (no
#: region, or an unknown region code), ``activity`` (unknown activity type), ``error``
#: (anything else).
ERROR_KINDS: tuple[str, ...] = ("not_found", "strict", "unit", "gas", "region", "activity", "error")
#: Columns of the keys :func:`resolve_many` resolves.
KEY_COLUMNS: tuple[str, ...] = ("activity", "region", "unit", "supplier", "site", "factor", "year")

_SUBNATIONAL_KINDS = frozenset({"province", "grid_region", "egrid_subregion"})
_KIND_WORDS = {
    "province": "provincial",
    "grid_region": "grid-region",
    "egrid_subregion": "eGRID-subregion",
    "country": "national",
    "global": "global",
}
_METHOD_WORDS = {
    "location": "location-based",
    "residual_mix": "residual-mix",
    "market_reporting": "market-reporting",
    "fossil_only": "fossil-only",
    "lifecycle": "life-cycle",
    "td_losses": "T&D-loss",
    "wtt": "well-to-tank",
    "wtt_td_losses": "well-to-tank T&D-loss",
    "spend": "spend-based",
    "distance": "distance-based",
    "distance_rf": "distance-based (with radiative forcing)",
    "fuel": "fuel-based",
    "gwp": "GWP",
    "reported": "reported",
}
_CURRENCY_KIND = "[currency]"
_MAX_CONSIDERED = 8


@dataclass(frozen=True, slots=True)
class Strictness:
    """How far resolution may fall back before it must fail (rule 8).

    Parameters
    ----------
    max_tier
        The least specific tier accepted (``"subnational"`` accepts supplier, site and
        subnational factors, refuses country, global, default and proxy ones). The default,
        ``"proxy"``, accepts every tier; ``"global"`` accepts all but profile defaults and
        proxies; ``"default"`` all but proxies.
    max_vintage_gap
        The largest accepted ``|vintage_gap|`` [years]; None accepts any.
    """

    max_tier: str = "proxy"
    max_vintage_gap: int | None = None

    def __post_init__(self) -> None:
        if self.max_tier not in TIERS:
            raise ValueError(f"unknown tier {self.max_tier!r}; tiers are {', '.join(TIERS)}")
        if self.max_vintage_gap is not None and self.max_vintage_gap < 0:
            raise ValueError("max_vintage_gap must be 0 or more years")

    def allows(self, tier: str, vintage_gap: int) -> bool:
        if TIERS.index(tier) > TIERS.index(self.max_tier):
            return False
        return self.max_vintage_gap is None or abs(vintage_gap) <= self.max_vintage_gap

    def describe(self) -> str:
        text = f"tier {self.max_tier} or better"
        if self.max_vintage_gap is not None:
            text += f", vintage gap at most {_years(self.max_vintage_gap)}"
        return text


@dataclass(frozen=True, slots=True)
class Resolution:
    """The factor that applies to an activity key, and everything an auditor needs.

    Attributes
    ----------
    factor
        The factor record (the tidy columns of ``factor_columns.csv``).
    tier
        One of :data:`TIERS`.
    vintage_gap
        Factor vintage minus reporting year [years]; negative = an older factor.
    reason
        One sentence saying which factor was chosen and why (English).
    reason_zh
        The same sentence in Simplified Chinese; both are renderings of one
        :class:`esgledger.reasons.Reason` (``docs/architecture.md``, "Reasons in two
        languages").
    unit_conversion
        The number turning 1 row unit into factor units (1 MWh → 1000 kWh); None when the
        row is money (FX and price year are applied by the engine).
    considered
        Candidates that lost or were refused, each ``"<factor_id>: <why>"`` (at most a
        few, then a count).
    currency, price_year
        For a spend factor: its currency and price year.
    gwp_set
        For a synthetic GWP factor (rule 6): the GWP set.
    conversion_path
        For a fuel whose factor is in another dimension than the row (rule 11): how one row
        unit became ``unit_conversion`` factor units, each step with its property and
        source (:meth:`esgledger.fuels.FuelConversion.describe`); None otherwise.
    """

    factor: dict[str, Any]
    tier: str
    vintage_gap: int
    reason: str
    unit_conversion: float | None
    considered: tuple[str, ...] = ()
    currency: str | None = None
    price_year: int | None = None
    gwp_set: str | None = None
    conversion_path: str | None = None
    reason_zh: str = ""

    @property
    def factor_id(self) -> str:
        return str(self.factor["factor_id"])


@dataclass(slots=True)
class _Candidate:
    factor: Mapping[str, Any]
    tier: str
    method_rank: int
    distance: int
    gap: int
    precedence: int
    gwp_set: str | None = None
    basis_rank: int = 0
    conversion: fuels.FuelConversion | None = None
    fallback: Fallback | None = None
    rank_key: tuple[Any, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.rank_key = (
            TIERS.index(self.tier),
            self.method_rank,
            self.basis_rank,
            self.distance,
            _vintage_rank(self.gap),
            -self.precedence,
            len(self.conversion.steps) if self.conversion is not None else 0,
            str(self.factor["factor_id"]),
        )

    @property
    def factor_id(self) -> str:
        return str(self.factor["factor_id"])


def _vintage_rank(gap: int) -> tuple[int, int]:
    """Rule 4: same year, then the latest earlier vintage, then the earliest later one."""
    if gap == 0:
        return (0, 0)
    if gap < 0:
        return (1, -gap)
    return (2, gap)


def _years(n: int) -> str:
    return f"{n} year" if n == 1 else f"{n} years"


@lru_cache(maxsize=2048)
def _unit_kind(unit: str) -> str | None:
    """``"[currency]"`` for money in any currency, else the pint dimensionality; None when
    the unit cannot be parsed."""
    try:
        if currency_of(unit) is not None:
            return _CURRENCY_KIND
        return dimensionality(unit)
    except UnitError:
        return None


@lru_cache(maxsize=1024)
def _region_kind(code: str) -> str | None:
    try:
        return regions.kind_of(code)
    except KeyError:
        return None


def _region_tier(kind: str) -> str:
    if kind in _SUBNATIONAL_KINDS:
        return "subnational"
    return kind  # "country" or "global"


def _gas_of(factor_activity: str) -> str | None:
    """The gas of a ``refrigerant.*`` / ``process.*`` factor activity, else None."""
    family, dot, gas = factor_activity.partition(".")
    if dot and family in GAS_FAMILIES and gas:
        return gas
    return None


def _as_strictness(strict: Strictness | str | None) -> Strictness | None:
    if strict is None or isinstance(strict, Strictness):
        return strict
    return Strictness(max_tier=strict)


def _method_rank(method: str | None, methods: tuple[str, ...] | None) -> int | str:
    """The rank of a factor's method (lower is better), or why it does not qualify."""
    if methods is not None:
        if method in methods:
            return methods.index(method)
        return f"method {method or '(none)'} not requested (requested: {', '.join(methods)})"
    if method in ON_REQUEST_METHODS:
        return f"method {method} is used only when requested (methods=...)"
    return 1 if method in LAST_RESORT_METHODS else 0


# ---- synthetic GWP factors (rule 6) ----------------------------------------------------


@lru_cache(maxsize=1)
def _gwp_meta() -> dict[str, Any]:
    """Licence and attribution of the shipped GWP table (``data/gwp/gwp100.meta.json``)."""
    text = resources.files("esgledger.data.gwp").joinpath("gwp100.meta.json").read_text("utf-8")
    meta: dict[str, Any] = json.loads(text)
    return meta


def gwp_factor(
    activity: str, gwp_set: str | None = None, *, year: int | None = None
) -> dict[str, Any]:
    """The synthetic per-kg factor of a ``refrigerant.*`` or ``process.*`` activity.

    Its ``co2e_kg`` is the GWP-100 of the gas (or blend) in ``gwp_set`` [kg CO2e / kg]
    (IPCC AR4 WG1 Table 2.14, AR5 WG1 Table 8.A.1, AR6 WG1 Table 7.SM.7, as
    :mod:`esgledger.gwp` ships them), ``unit`` kg, ``region`` GLOBAL, ``method`` gwp and
    ``factor_id`` ``ipcc-gwp:<set>:<gas>``.

    Raises
    ------
    UnknownGasError
        If the gas is not in the GWP tables of the set.
    ValueError
        If ``activity`` is not of a gas family.
    """
    from esgledger import gwp

    gas_name = _gas_of(activity)
    if gas_name is None:
        raise ValueError(f"{activity!r} is not a refrigerant.* or process.* activity")
    chosen = (gwp_set or gwp.DEFAULT_GWP_SET).upper()
    gas = gwp.canonical_gas(gas_name)
    value = float(gwp.gwp(gas, chosen))
    meta = _gwp_meta()
    row: dict[str, Any] = dict.fromkeys(FACTOR_COLUMNS)
    row.update(
        factor_id=f"{GWP_FACTOR_PREFIX}:{chosen}:{gas}",
        factor_set=f"{GWP_FACTOR_PREFIX}-{chosen}",
        activity=activity,
        region="GLOBAL",
        year=year,
        unit="kg",
        co2e_kg=value,
        gwp_basis=chosen,
        method="gwp",
        source=gwp.provenance(chosen),
        edition=chosen,
        licence=meta.get("licence"),
        attribution=meta.get("attribution"),
        source_row=gas,
        description=f"GWP-100 of {gas}, IPCC {chosen}: kg CO2e per kg emitted",
    )
    return row


def _gwp_factor_by_id(factor_id: str, activity: str, year: int) -> dict[str, Any]:
    """The synthetic factor named by an explicit id ``ipcc-gwp:<set>:<gas>``."""
    parts = factor_id.split(":", 2)
    if len(parts) != 3 or not parts[2]:
        raise FactorNotFoundError(
            f"{factor_id!r} is not a GWP factor id; the form is "
            f"{GWP_FACTOR_PREFIX}:<GWP set>:<gas>, e.g. {GWP_FACTOR_PREFIX}:AR6:R-410A",
            activity=activity,
            year=year,
        )
    family = activity.partition(".")[0]
    family = family if family in GAS_FAMILIES else GAS_FAMILIES[0]
    return gwp_factor(f"{family}.{parts[2]}", parts[1], year=year)


# ---- proxy regions (rule 9) -------------------------------------------------------------

#: The key of :func:`parse_proxies` that applies to rows no other key matches.
PROXY_WILDCARD = "*"


def parse_proxies(
    proxies: Mapping[str, Sequence[str] | str] | None,
) -> dict[str, tuple[str, ...]]:
    """Check and normalise a proxy configuration (rule 9).

    Parameters
    ----------
    proxies
        Region code (or ``"*"`` for any row) → the proxy regions to try, in order:
        ``{"CN": ("GB", "US"), "*": ("GB",)}``. A single string is one proxy region.
        Codes are case-insensitive. None or an empty mapping configures no proxies.

    Returns
    -------
    dict
        Upper-case region code → tuple of upper-case proxy region codes.

    Raises
    ------
    ValueError
        If a key or proxy region is not a shipped region code (``esgledger/data/regions.csv``),
        is ``GLOBAL`` (every chain already ends there), a key has no proxy region, a proxy
        region is repeated, or a key is its own proxy.
    """
    out: dict[str, tuple[str, ...]] = {}
    for raw_key, raw_values in (proxies or {}).items():
        key = str(raw_key).strip().upper()
        if key == "GLOBAL":
            raise ValueError("GLOBAL cannot be a proxy key: use '*' for rows of any region")
        if key != PROXY_WILDCARD and not regions.is_known(key):
            raise ValueError(
                f"proxy key {raw_key!r} is not a region code (esgledger/data/regions.csv) or '*'"
            )
        values = (raw_values,) if isinstance(raw_values, str) else tuple(raw_values)
        codes = tuple(str(v).strip().upper() for v in values)
        if not codes:
            raise ValueError(f"no proxy regions for {key}")
        for raw, code in zip(values, codes, strict=True):
            if code == "GLOBAL":
                raise ValueError(
                    f"GLOBAL cannot be a proxy region (for {key}): global factors already "
                    "apply to every row"
                )
            if not regions.is_known(code):
                raise ValueError(
                    f"proxy region {raw!r} for {key} is not a region code "
                    "(esgledger/data/regions.csv)"
                )
            if code == key:
                raise ValueError(f"{key} cannot be its own proxy")
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"proxy regions for {key} repeat {', '.join(repeated)}")
        if key in out:
            raise ValueError(f"proxy key {key} is given twice")
        out[key] = codes
    return out


def proxies_from_options(options: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """A proxy configuration from command-line options such as ``--proxy CN=GB,US``.

    >>> proxies_from_options(["CN=GB,US", "*=GB"])
    {'CN': ('GB', 'US'), '*': ('GB',)}

    Raises
    ------
    ValueError
        If an option is not of the form ``REGION=PROXY[,PROXY...]``, or as
        :func:`parse_proxies`.
    """
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for option in options:
        key, equals, rest = option.partition("=")
        values = tuple(v.strip() for v in rest.split(",") if v.strip())
        if not equals or not key.strip() or not values:
            raise ValueError(
                f"proxy option {option!r} is not of the form REGION=PROXY[,PROXY...], e.g. CN=GB,US"
            )
        pairs.append((key.strip(), values))
    keys = [key.upper() for key, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"proxy key {repeated[0]} is given twice")
    return parse_proxies(dict(pairs))


# ---- profile fallbacks (rule 12) ---------------------------------------------------------

_PATTERN = re.compile(r"[a-z0-9_]+(\.[A-Za-z0-9_\-]+)*(\.\*)?")


@dataclass(frozen=True, slots=True)
class Fallback:
    """An explicit, flagged fallback of a workspace profile (rule 12).

    For rows of the ``activities`` (exact keys such as ``travel.rail`` or families such as
    ``travel.air.*``) whose own region chain has no qualifying factor, the factors filed for
    exactly one of ``regions`` (tried in order), and only of ``sets`` when given, stand in.
    The result carries ``tier`` (``default``: the documented default the profile chose for
    the activity, e.g. UK DESNZ flights for China; ``proxy``: a geographic proxy, e.g. US
    EEIO spend factors for Chinese spend) and a reason that quotes ``note``.
    """

    activities: tuple[str, ...]
    regions: tuple[str, ...]
    tier: str = "default"
    sets: tuple[str, ...] = ()
    note: str = ""

    def matches(self, activity: str) -> bool:
        """Whether the fallback applies to this activity key."""
        return any(_pattern_matches(p, activity) for p in self.activities)

    def pattern_for(self, activity: str) -> str:
        """The first of :attr:`activities` that matches ``activity`` (else all of them)."""
        return next(
            (p for p in self.activities if _pattern_matches(p, activity)),
            ", ".join(self.activities),
        )

    def describe(self) -> str:
        """``travel.air.*, freight.* → GB (desnz-2024)``."""
        sets = f" ({', '.join(self.sets)})" if self.sets else ""
        return f"{', '.join(self.activities)} → {', '.join(self.regions)}{sets}"

    def as_dict(self) -> dict[str, Any]:
        """The fallback as ``esgledger.toml`` and the run manifest hold it."""
        return {
            "activities": list(self.activities),
            "regions": list(self.regions),
            "tier": self.tier,
            "sets": list(self.sets),
            "note": self.note,
        }


def _pattern_matches(pattern: str, activity: str) -> bool:
    """``travel.rail`` matches itself; ``travel.air.*`` every key under ``travel.air.``."""
    return activity == pattern or (pattern.endswith(".*") and activity.startswith(pattern[:-1]))


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings (value: {value!r})")
    return tuple(v.strip() for v in value)


def parse_fallbacks(
    fallbacks: Iterable[Fallback | Mapping[str, Any]] | None,
) -> tuple[Fallback, ...]:
    """Check and normalise the fallbacks of a workspace profile (rule 12).

    Parameters
    ----------
    fallbacks
        :class:`Fallback` objects or mappings with ``activities`` (exact activity keys or
        ``family.*`` patterns), ``regions`` (region codes whose factors stand in, in order),
        ``tier`` (``default`` or ``proxy``; default ``default``), optional ``sets`` (only
        factors of these sets) and ``note`` (shown in every reason). Order matters: the
        first fallback whose activities match a row applies.

    Raises
    ------
    ValueError
        If an entry has no activities or regions, an activity pattern is malformed, a region
        is not a shipped region code or is ``GLOBAL``, or the tier is not one of
        :data:`FALLBACK_TIERS`.
    """
    out: list[Fallback] = []
    for number, raw in enumerate(fallbacks or (), start=1):
        where = f"fallback {number}"
        if isinstance(raw, Fallback):
            raw = raw.as_dict()
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where} must be a table (value: {raw!r})")
        unknown = sorted(set(raw) - {"activities", "regions", "tier", "sets", "note"})
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(unknown)} (keys: activities, regions, "
                "tier, sets, note)"
            )
        activities = _strings(raw.get("activities", ()), f"{where}: activities")
        if not activities:
            raise ValueError(f"{where}: no activities")
        for pattern in activities:
            if not _PATTERN.fullmatch(pattern):
                raise ValueError(
                    f"{where}: activity pattern {pattern!r} is not an activity key or a "
                    "family such as travel.air.*"
                )
        codes = tuple(c.upper() for c in _strings(raw.get("regions", ()), f"{where}: regions"))
        if not codes:
            raise ValueError(f"{where}: no regions")
        for code in codes:
            if code == "GLOBAL":
                raise ValueError(f"{where}: GLOBAL cannot be a fallback region")
            if not regions.is_known(code):
                raise ValueError(
                    f"{where}: region {code!r} is not a region code (esgledger/data/regions.csv)"
                )
        tier = str(raw.get("tier", "default")).strip().lower()
        if tier not in FALLBACK_TIERS:
            raise ValueError(f"{where}: tier {tier!r} is not one of {', '.join(FALLBACK_TIERS)}")
        sets = _strings(raw.get("sets", ()), f"{where}: sets")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise ValueError(f"{where}: note must be a string")
        out.append(Fallback(activities, codes, tier, sets, note.strip()))
    return tuple(out)


def _fallback_phrase(fallback: Fallback, activity: str) -> Reason:
    """``the workspace profile's default for travel.air.*`` (or ``geographic proxy``)."""
    code = "resolve.fallback_default" if fallback.tier == "default" else "resolve.fallback_proxy"
    return reason(code, pattern=fallback.pattern_for(activity))


def _fallback_detail(fallback: Fallback) -> Reason:
    """``fallback → GB, set desnz-2024: DESNZ factors used as …`` with the note's label."""
    sets = reason("resolve.fallback_sets", sets=Listing(fallback.sets)) if fallback.sets else ""
    where = reason("resolve.fallback_regions", regions=Listing(fallback.regions))
    # The note's first clause is its label ("DESNZ factors used as an explicit global default
    # for China"); the rest explains it in the profile and the docs.
    head = fallback.note.split(": ", 1)[0].rstrip(".")
    if not head:
        return reason("resolve.fallback_bare", where=where, sets=sets)
    return reason("resolve.fallback_noted", where=where, sets=sets, note=head)


def _proxy_entry(
    chain: tuple[str, ...], proxies: Mapping[str, tuple[str, ...]]
) -> tuple[str, tuple[str, ...]] | None:
    """The proxy key that applies to a chain (its nearest code that is a key, else ``*``)
    and its proxy regions."""
    for code in chain:
        if code in proxies:
            return code, proxies[code]
    if PROXY_WILDCARD in proxies:
        return PROXY_WILDCARD, proxies[PROXY_WILDCARD]
    return None


def _proxy_phrase(key: str, codes: Sequence[str]) -> str:
    return f"proxies {key} → {', '.join(codes)}"


# ---- resolution --------------------------------------------------------------------------


def _row_unit_kind(activity_type: ActivityType, unit: str) -> str:
    kind = _unit_kind(unit)
    if kind is None:
        raise UnitError(f"unknown unit {unit!r}", unit=unit)
    if not fits_dimension(unit, activity_type.dimension):
        raise UnitError(
            f"unit {unit!r} does not fit activity {activity_type.activity} "
            f"(dimension {activity_type.dimension})",
            unit=unit,
            expected=activity_type.dimension,
        )
    return kind


def _method_words(method: str) -> Reason | str:
    """The method in words (``location-based`` / ``基于位置的``), or the code itself."""
    return reason(f"method.{method}") if f"method.{method}" in templates() else method


def _describe(candidate: _Candidate, supplier: str | None, site: str | None) -> Reason:
    """What the factor is, in words: ``CN-GD provincial location-based factor 2023 (cn-mee)``."""
    f = candidate.factor
    if candidate.gwp_set is not None:
        what = reason(
            "resolve.gwp_what", gwp_set=candidate.gwp_set, gas=f["source_row"], value=f["co2e_kg"]
        )
        if candidate.tier == "explicit":
            return reason("resolve.explicit_what", factor_id=f["factor_id"], what=what)
        return reason("resolve.gwp_package", what=what)
    method = Words((_method_words(str(f["method"])),)) if f["method"] else Words(())
    where = f"{f['factor_set']}"
    if candidate.tier == "supplier":
        return reason(
            "resolve.supplier_factor", method=method, year=f["year"], supplier=repr(supplier),
            set=where,
        )  # fmt: skip
    if candidate.tier == "site":
        return reason(
            "resolve.site_factor", method=method, year=f["year"], site=repr(site), set=where
        )
    region = str(f["region"])
    kind = _region_kind(region) or ""
    words = Words((*((reason(f"kind.{kind}"),) if kind in _KIND_WORDS else ()), *method.parts))
    what = reason("resolve.region_factor", region=region, words=words, year=f["year"], set=where)
    if candidate.tier == "explicit":
        return reason("resolve.explicit_what", factor_id=f["factor_id"], what=what)
    return what


def _years_words(n: int) -> Reason:
    return reason("resolve.year_one") if n == 1 else reason("resolve.years", n=n)


def _vintage_phrase(gap: int, *, chosen: bool) -> Reason:
    if gap == 0:
        return reason("resolve.vintage_same")
    if gap < 0:
        code = "resolve.vintage_older_chosen" if chosen else "resolve.vintage_older"
        return reason(code, years=_years_words(-gap))
    code = "resolve.vintage_newer_chosen" if chosen else "resolve.vintage_newer"
    return reason(code, years=_years_words(gap))


def _why_lost(
    loser: _Candidate, winner: _Candidate, methods: tuple[str, ...] | None
) -> tuple[str, str]:
    """Why ``loser`` ranks below ``winner``: (a group key, the sentence)."""
    lf, wf = loser.factor, winner.factor
    for position, (a, b) in enumerate(zip(loser.rank_key, winner.rank_key, strict=True)):
        if a == b:
            continue
        if position == 0:
            return f"tier {loser.tier}", f"tier {loser.tier} is below {winner.tier}"
        if position == 1:
            order = "in the requested order" if methods else "(life-cycle factors come last)"
            return (
                f"method {lf['method']}",
                f"method {lf['method']} ranks after {wf['method']} {order}",
            )
        if position == 2:
            basis = lf.get("price_basis") or "(not given)"
            return (
                f"price basis {basis}",
                f"price basis {basis} ranks after {wf.get('price_basis') or '(not given)'} "
                "(rule 10)",
            )
        if position == 3:
            return (
                "region",
                f"region {lf['region']} is farther up the region chain than {wf['region']}",
            )
        if position == 4:
            return "vintage", f"vintage {lf['year']} loses to {wf['year']} (rule 4)"
        if position == 5:
            return "precedence", (
                f"set {lf['factor_set']} has precedence {loser.precedence}, "
                f"below {wf['factor_set']} ({winner.precedence})"
            )
        if position == 6:
            return "conversion", (
                f"per {lf['unit']}: needs more fuel-conversion steps than "
                f"{winner.factor_id} (rule 11)"
            )
        return "tie", f"tied with {winner.factor_id}, which comes first in factor_id order"
    return "tie", "identical rank"  # unreachable: factor ids are unique


def _considered(
    losers: Sequence[tuple[str, str, str]],
    refused: Sequence[tuple[str, str]],
    outside: Counter[str],
    chain: tuple[str, ...],
) -> tuple[str, ...]:
    """A short list for the auditor: the best candidate of each way of losing (lost on
    tier, method, region, vintage, precedence, tie; refused for each reason), with a count
    of the others alike, then the factors of regions outside the chain."""
    groups: dict[str, list[str]] = {}
    for fid, group, why in losers:
        groups.setdefault(f"lost:{group}", []).append(f"{fid}: {why}")
    for fid, why in refused:
        groups.setdefault(f"refused:{why}", []).append(f"{fid}: {why}")
    out = []
    for entries in list(groups.values())[:_MAX_CONSIDERED]:
        more = f" (+{len(entries) - 1} alike)" if len(entries) > 1 else ""
        out.append(entries[0] + more)
    if len(groups) > _MAX_CONSIDERED:
        rest = sum(len(e) for e in list(groups.values())[_MAX_CONSIDERED:])
        out.append(f"... and {rest} more")
    if outside:
        out.append(_outside_phrase(outside, chain))
    return tuple(out)


def _outside_phrase(outside: Counter[str], chain: tuple[str, ...]) -> str:
    total = sum(outside.values())
    examples = ", ".join(sorted(outside)[:5])
    more = ", ..." if len(outside) > 5 else ""
    return f"{total} factor(s) for regions outside {' > '.join(chain)} ({examples}{more})"


def _not_found(
    activity_type: ActivityType,
    chain: tuple[str, ...],
    year: int,
    unit: str,
    methods: tuple[str, ...] | None,
    refused: Sequence[tuple[str, str]],
    outside: Counter[str],
    extra: str | None = None,
) -> FactorNotFoundError:
    factor_activity = activity_type.factor_activity
    filed = (
        f" (factors filed under {factor_activity})"
        if factor_activity != activity_type.activity
        else ""
    )
    method = f" and method {' or '.join(methods)}" if methods else ""
    message = (
        f"no factor for activity {activity_type.activity}{filed} with unit {unit!r}{method} "
        f"in {chain[0]} or above ({' > '.join(chain)})"
    )
    if extra:
        message += f"; {extra.rstrip('.')}"
    if refused:
        counts = Counter(why for _, why in refused)
        message += "; " + "; ".join(f"{n} refused: {why}" for why, n in counts.most_common(3))
    if outside:
        message += f"; {_outside_phrase(outside, chain)}"
    message += (
        f"; add a factor for activity {factor_activity} in region {chain[0]} or above: "
        "esgledger import WS --kind factors FILE"
    )
    return FactorNotFoundError(
        message,
        activity=activity_type.activity,
        region=chain[0],
        year=year,
        tried=_considered([], refused, outside, chain),
    )


def resolve(
    library: FactorLibrary,
    *,
    activity_type: ActivityType,
    region_chain: Sequence[str],
    year: int,
    unit: str,
    supplier: str | None = None,
    site: str | None = None,
    factor_id: str | None = None,
    methods: Sequence[str] | None = None,
    gwp_set: str | None = None,
    strict: Strictness | str | None = None,
    proxies: Mapping[str, Sequence[str]] | None = None,
    price_basis: str = "purchaser",
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback | Mapping[str, Any]] = (),
) -> Resolution:
    """The factor that applies to one activity key (rules 1-12 of the module docstring).

    Parameters
    ----------
    library
        The factor library.
    activity_type
        The row's activity type (``Taxonomy.get(key)``); factors are looked up under its
        ``factor_activity``.
    region_chain
        The row's region and its ancestors, nearest first (``esgledger.regions.chain``).
    year
        The reporting year the row belongs to.
    unit
        The unit of the row's quantity; it must fit the activity's dimension.
    supplier, site
        The row's supplier and site code, for supplier- and site-specific factors.
    factor_id
        An explicit factor id named on the row (rule 1); ``ipcc-gwp:<set>:<gas>`` names a
        synthetic GWP factor.
    methods
        Ordered method preference, e.g. ``("location",)`` for location-based scope 2 or
        ``("supplier", "residual_mix")`` for market-based; only these methods qualify.
    gwp_set
        GWP set of synthetic refrigerant / process factors (default
        :data:`esgledger.gwp.DEFAULT_GWP_SET`).
    strict
        None (any fallback), a tier name, or a :class:`Strictness`. A proxy is the worst
        tier: ``strict="global"`` refuses it.
    proxies
        Proxy regions (rule 9), e.g. ``{"CN": ("GB", "US"), "*": ("GB",)}``: when nothing in
        the row's own chain qualifies, the factors of the proxy regions of the nearest key in
        the chain (else of ``"*"``) are tried in that order; the first proxy region with a
        qualifying factor supplies it, with tier ``proxy``. Checked by :func:`parse_proxies`.
        None (the default) never uses another region's factor.
    price_basis
        For money rows (rule 10): ``purchaser`` (default; spend is what the company paid)
        or ``producer``. At equal tier and method a factor of this basis ranks first, then
        one without a basis, then one of the other basis; the reason says which was used.
    gas_volume_reference
        Reference temperature of a plain ``m3`` of a gas fuel (``0C``, ``15C``, ``20C`` at
        101.325 kPa; rule 11, :func:`esgledger.fuels.convert`); None: the default ``0C``,
        and the conversion path says it is the default.
    fallbacks
        The workspace profile's fallbacks (rule 12: :class:`Fallback` objects, or mappings
        checked by :func:`parse_fallbacks`): when nothing
        in the row's own chain qualifies, the first fallback whose activities match the row
        supplies a factor of its regions (and sets), with the fallback's tier (``default``
        or ``proxy``), before any proxy region is tried.

    Raises
    ------
    FactorNotFoundError
        If no factor qualifies, or an explicit id does not exist.
    StrictFallbackError
        If the best factor lies beyond ``strict``.
    UnitError
        If the row's unit does not fit the activity, or an explicit factor's unit does not
        fit the activity or the row's unit.
    ValueError
        If ``proxies`` is not a valid proxy configuration, or ``fallbacks`` not valid
        fallbacks.
    """
    chain = tuple(code.upper() for code in region_chain)
    if not chain:
        raise ValueError("region_chain is empty")
    wanted = tuple(methods) if methods is not None else None
    if wanted is not None and not wanted:
        raise ValueError("methods is empty; pass None to allow the default methods")
    strictness = _as_strictness(strict)
    proxy_map = parse_proxies(proxies) if proxies else {}
    basis = _check_basis(price_basis)
    row_kind = _row_unit_kind(activity_type, unit)
    wanted_basis = basis if row_kind == _CURRENCY_KIND else None
    if factor_id:
        return _resolve_explicit(
            library, activity_type, chain, year, unit, row_kind, factor_id, gas_volume_reference
        )

    factor_activity = activity_type.factor_activity
    gas = _gas_of(factor_activity)
    fuel = fuels.fuel_of(activity_type.activity) if row_kind != _CURRENCY_KIND else None
    if gas_volume_reference is not None:
        fuels.parse_gas_reference(gas_volume_reference)
    position = {code: i for i, code in enumerate(chain)}
    candidates: list[_Candidate] = []
    refused: list[tuple[str, str]] = []
    outside: Counter[str] = Counter()
    for f in library.by_activity(factor_activity):
        fid = str(f["factor_id"])
        if f["supplier"] is not None and f["supplier"] != supplier:
            refused.append((fid, f"specific to supplier {f['supplier']!r}"))
            continue
        if f["site"] is not None and f["site"] != site:
            refused.append((fid, f"specific to site {f['site']!r}"))
            continue
        region = str(f["region"]).upper()
        if f["supplier"] is not None:
            tier = "supplier"
        elif f["site"] is not None:
            tier = "site"
        elif region not in position:
            outside[region] += 1
            continue
        else:
            kind = _region_kind(region)
            if kind is None:
                refused.append((fid, f"unknown region code {region!r}"))
                continue
            tier = _region_tier(kind)
        conversion: fuels.FuelConversion | None = None
        if fuel is not None and _unit_kind(str(f["unit"])) != row_kind:
            conversion = fuels.convert(
                fuel, unit, str(f["unit"]), chain, gas_reference=gas_volume_reference
            )
        rank = _qualify(library, f, row_kind, unit, wanted, gas, converted=conversion is not None)
        if isinstance(rank, str):
            refused.append((fid, rank))
            continue
        candidates.append(
            _Candidate(
                factor=f,
                tier=tier,
                method_rank=rank,
                distance=position.get(region, len(chain)),
                gap=int(f["year"]) - year,
                precedence=library.precedence_of(str(f["factor_set"])),
                basis_rank=_basis_rank(f, wanted_basis),
                conversion=conversion,
            )
        )

    ranked = sorted(candidates, key=lambda c: c.rank_key)
    if factor_activity == REPORTED_ACTIVITY and not ranked:
        ranked = [_reported_candidate(activity_type.activity, year, chain)]
    gas_note: str | None = None
    gas_error: UnknownGasError | None = None
    if gas is not None and (not ranked or ranked[0].tier == "global"):
        synthetic, gas_note, gas_error = _gwp_candidate(
            factor_activity, year, wanted, gwp_set, chain
        )
        if synthetic is not None:
            # Rule 6: at the global tier the GWP of the run's set beats any user factor.
            refused = [
                (
                    c.factor_id,
                    "a global-tier user factor; at the global tier the IPCC GWP "
                    "of the run's GWP set applies (rule 6)",
                )
                for c in ranked
            ] + refused
            ranked = [synthetic]
    profile = (
        tuple(fallbacks)
        if all(isinstance(fb, Fallback) for fb in fallbacks)
        else parse_fallbacks(fallbacks)
    )
    fallback = next(
        (fb for fb in profile if isinstance(fb, Fallback) and fb.matches(activity_type.activity)),
        None,
    )
    if not ranked and fallback is not None:
        ranked, fallback_refused = _proxy_candidates(
            library, factor_activity, ("", fallback.regions), year, row_kind, unit, wanted, gas,
            wanted_basis, fallback=fallback,
        )  # fmt: skip
        refused.extend(fallback_refused)
        if not ranked:
            note = (
                f"no factor for {_fallback_phrase(fallback, activity_type.activity).en} either "
                f"({fallback.describe()})"
            )
            gas_note = f"{gas_note.rstrip('.')}; {note}" if gas_note else note
    proxy: tuple[str, tuple[str, ...]] | None = None
    if not ranked and proxy_map:
        proxy = _proxy_entry(chain, proxy_map)
        if proxy is not None:
            ranked, proxy_refused = _proxy_candidates(
                library, factor_activity, proxy, year, row_kind, unit, wanted, gas, wanted_basis
            )
            refused.extend(proxy_refused)
            if not ranked:
                note = f"no factor in the proxy regions either ({_proxy_phrase(*proxy)})"
                gas_note = f"{gas_note.rstrip('.')}; {note}" if gas_note else note
    if not ranked:
        # An unknown gas is the cause (error_kind "gas" in resolve_many).
        raise _not_found(
            activity_type, chain, year, unit, wanted, refused, outside, gas_note
        ) from gas_error

    winner = ranked[0]
    losers = [(c.factor_id, *_why_lost(c, winner, wanted)) for c in ranked[1:]]
    why: Reason | Joined
    if winner.fallback is not None:
        why = _proxy_reason(
            winner, ranked, chain, year, ("", ()), wanted_basis, activity_type.activity
        )
    else:
        why = _reason(winner, ranked, chain, year, supplier, site, proxy, wanted_basis)
    considered = _considered(losers, refused, outside, chain)
    if strictness is not None and not strictness.allows(winner.tier, winner.gap):
        raise StrictFallbackError(
            f"strict: {activity_type.activity} in {chain[0]} for {year} resolves to "
            f"{winner.factor_id} (tier {winner.tier}, vintage gap {winner.gap}), but only "
            f"{strictness.describe()} is allowed ({why.render('en')})",
            activity=activity_type.activity,
            region=chain[0],
            year=year,
            tried=considered,
        )
    return _resolution(winner, row_kind, unit, why, considered)


def _check_basis(price_basis: str) -> str:
    basis = str(price_basis).strip().lower()
    if basis not in PRICE_BASES:
        raise ValueError(
            f"unknown price basis {price_basis!r}; price bases are {', '.join(PRICE_BASES)}"
        )
    return basis


def _basis_rank(f: Mapping[str, Any], wanted: str | None) -> int:
    """Rule 10: 0 for the requested price basis (and for every non-money row), 1 for a
    factor that does not say, 2 for the other basis."""
    if wanted is None:
        return 0
    basis = f.get("price_basis")
    if basis is None:
        return 1
    return 0 if str(basis).lower() == wanted else 2


def _qualify(
    library: FactorLibrary,
    f: Mapping[str, Any],
    row_kind: str,
    unit: str,
    wanted: tuple[str, ...] | None,
    gas: str | None,
    *,
    converted: bool = False,
) -> int | str:
    """Rule 2 for a factor whose region or identity applies: its method rank, or why it is
    refused (unit, method, vintage, shipped factor for a gas). ``converted``: the fuel's
    properties convert the row's unit into the factor's (rule 11)."""
    if not converted and _unit_kind(str(f["unit"])) != row_kind:
        return f"per {f['unit']}, which cannot be converted from the row's {unit}"
    rank = _method_rank(f["method"], wanted)
    if isinstance(rank, str):
        return rank
    if f["year"] is None:
        return "no vintage (year)"
    if gas is not None and library.is_shipped_set(str(f["factor_set"])):
        return "a shipped factor; refrigerant and process gases use the IPCC GWP (rule 6)"
    return rank


def _proxy_candidates(
    library: FactorLibrary,
    factor_activity: str,
    proxy: tuple[str, tuple[str, ...]],
    year: int,
    row_kind: str,
    unit: str,
    wanted: tuple[str, ...] | None,
    gas: str | None,
    basis: str | None = None,
    *,
    fallback: Fallback | None = None,
) -> tuple[list[_Candidate], list[tuple[str, str]]]:
    """Rules 9 and 11: the ranked candidates of the first proxy (or fallback) region that
    has any, and the factors of those regions that were refused or come later in the order.

    Only factors filed for exactly a proxy region qualify (not its subregions, not
    supplier- or site-specific ones; for a fallback with ``sets``, only factors of those
    sets); within that region rules 2, 4 and 5 rank them.
    """
    key, codes = proxy
    order = {code: i for i, code in enumerate(codes)}
    found: dict[str, list[_Candidate]] = {}
    refused: list[tuple[str, str]] = []
    tier = fallback.tier if fallback is not None else "proxy"
    word = "fallback" if fallback is not None else "proxy"
    for f in library.by_activity(factor_activity):
        region = str(f["region"]).upper()
        if region not in order or f["supplier"] is not None or f["site"] is not None:
            continue
        fid = str(f["factor_id"])
        if fallback is not None and fallback.sets and f["factor_set"] not in fallback.sets:
            refused.append((fid, f"fallback {region}: not of set {', '.join(fallback.sets)}"))
            continue
        rank = _qualify(library, f, row_kind, unit, wanted, gas)
        if isinstance(rank, str):
            refused.append((fid, f"{word} {region}: {rank}"))
            continue
        found.setdefault(region, []).append(
            _Candidate(
                factor=f,
                tier=tier,
                method_rank=rank,
                distance=order[region],
                gap=int(f["year"]) - year,
                precedence=library.precedence_of(str(f["factor_set"])),
                basis_rank=_basis_rank(f, basis),
                fallback=fallback,
            )
        )
    if not found:
        return [], refused
    chosen = min(found, key=order.__getitem__)
    for region in sorted(found, key=order.__getitem__):
        if region != chosen:
            refused.extend(
                (
                    c.factor_id,
                    f"{word} region {region} comes after {chosen} "
                    f"({fallback.describe() if fallback else _proxy_phrase(key, codes)})",
                )
                for c in found[region]
            )
    return sorted(found[chosen], key=lambda c: c.rank_key), refused


def reported_factor(activity: str, *, year: int | None = None) -> dict[str, Any]:
    """The identity factor of an activity whose quantity is reported emissions (rule 7).

    A supplier's allocated cradle-to-gate emissions, a lessor's or franchisee's scope 1 and 2,
    an investee's emissions scaled to the equity share (GHG Protocol Scope 3 Technical Guidance
    (2013), supplier-specific and investment-specific methods) arrive as a mass of CO2e: the
    factor is 1 kg CO2e per kg. Its GWP basis is whatever the reporter used, so
    ``gwp_basis`` is left empty and the data-quality assessment has to ask for it.
    """
    row: dict[str, Any] = dict.fromkeys(FACTOR_COLUMNS)
    row.update(
        factor_id=f"{REPORTED_ACTIVITY}:{activity}",
        factor_set=REPORTED_ACTIVITY,
        activity=REPORTED_ACTIVITY,
        region="GLOBAL",
        year=year,
        unit="kg",
        co2e_kg=1.0,
        method="reported",
        source="Reported emissions: the row's quantity is the emitter's own CO2e figure",
        description="Identity factor: 1 kg CO2e per kg CO2e reported",
    )
    return row


def _reported_candidate(activity: str, year: int, chain: tuple[str, ...]) -> _Candidate:
    return _Candidate(
        factor=reported_factor(activity, year=year),
        tier="global",
        method_rank=0,
        distance=chain.index("GLOBAL") if "GLOBAL" in chain else len(chain),
        gap=0,
        precedence=0,
    )


def _gwp_candidate(
    factor_activity: str,
    year: int,
    methods: tuple[str, ...] | None,
    gwp_set: str | None,
    chain: tuple[str, ...],
) -> tuple[_Candidate | None, str | None, UnknownGasError | None]:
    """The synthetic GWP candidate of rule 6, or None, why not and the unknown-gas error."""
    if methods is not None and "gwp" not in methods:
        why = f"the IPCC GWP factor (method gwp) was not requested ({', '.join(methods)})"
        return None, why, None
    try:
        factor = gwp_factor(factor_activity, gwp_set, year=year)
    except UnknownGasError as exc:
        return None, str(exc), exc
    candidate = _Candidate(
        factor=factor,
        tier="global",
        method_rank=0,
        distance=chain.index("GLOBAL") if "GLOBAL" in chain else len(chain),
        gap=0,
        precedence=0,
        gwp_set=str(factor["gwp_basis"]),
    )
    return candidate, None, None


def _reason(
    winner: _Candidate,
    ranked: Sequence[_Candidate],
    chain: tuple[str, ...],
    year: int,
    supplier: str | None,
    site: str | None,
    proxy: tuple[str, tuple[str, ...]] | None = None,
    basis: str | None = None,
) -> Reason | Joined:
    f = winner.factor
    if winner.tier == "proxy" and proxy is not None:
        return _proxy_reason(winner, ranked, chain, year, proxy, basis)
    if winner.gwp_set is not None:
        return reason("resolve.gwp_chosen", what=_describe(winner, supplier, site), year=year)
    extras: list[Reason] = []
    if supplier and winner.tier != "supplier":
        extras.append(reason("resolve.no_supplier_factor", supplier=repr(supplier)))
    if site and winner.tier not in ("supplier", "site"):
        extras.append(reason("resolve.no_site_factor", site=repr(site)))
    if winner.tier in ("subnational", "country", "global") and winner.distance > 0:
        extras.append(reason("resolve.none_in", regions=Listing(chain[: winner.distance])))
    ties = [c for c in ranked[1:] if c.rank_key[:7] == winner.rank_key[:7]]
    if ties:
        others = Listing(tuple(c.factor_id for c in ties[:3]))
        extras.append(reason("resolve.tied", others=others))
    elif (
        len(ranked) > 1
        and ranked[1].rank_key[:5] == winner.rank_key[:5]
        and ranked[1].rank_key[5] != winner.rank_key[5]
    ):
        runner_up = ranked[1]
        extras.append(
            reason(
                "resolve.precedence",
                set=f["factor_set"],
                precedence=winner.precedence,
                other=runner_up.factor["factor_set"],
                other_precedence=runner_up.precedence,
            )
        )
    elif (
        winner.conversion is not None
        and len(ranked) > 1
        and ranked[1].rank_key[:6] == winner.rank_key[:6]
    ):
        extras.append(
            reason(
                "resolve.fewer_conversions",
                other=ranked[1].factor_id,
                unit=ranked[1].factor["unit"],
            )
        )
    if winner.conversion is not None:
        extras.append(reason("resolve.fuel_converted", path=winner.conversion))
    text = reason(
        "resolve.chosen",
        what=_describe(winner, supplier, site),
        year=year,
        vintage=_vintage_phrase(winner.gap, chosen=True),
    )
    if basis is not None:
        extras.insert(0, _basis_phrase(f.get("price_basis"), basis))
    return Joined((text, *extras))


def _basis_word(basis: str) -> Reason | str:
    return reason(f"price.{basis}") if basis in PRICE_BASES else basis


def _basis_phrase(factor_basis: str | None, wanted: str) -> Reason:
    """Rule 10 in words: which price basis the chosen spend factor has, and why."""
    if factor_basis == wanted:
        return reason("resolve.basis_as_requested", wanted=_basis_word(wanted), wanted_code=wanted)
    if factor_basis is None:
        return reason("resolve.basis_unknown", wanted=_basis_word(wanted))
    return reason(
        "resolve.basis_other",
        factor_basis=_basis_word(factor_basis),
        wanted=_basis_word(wanted),
        wanted_code=wanted,
    )


def _proxy_reason(
    winner: _Candidate,
    ranked: Sequence[_Candidate],
    chain: tuple[str, ...],
    year: int,
    proxy: tuple[str, tuple[str, ...]],
    basis: str | None = None,
    activity: str = "",
) -> Joined:
    """Rules 9 and 12: say that nothing in the chain qualified and which proxy or profile
    fallback was used."""
    fallback = winner.fallback
    phrase: list[Reason] = []
    if fallback is not None:
        codes = fallback.regions
        phrase.append(_fallback_detail(fallback))
    else:
        key, codes = proxy
        phrase.append(reason("resolve.proxies", key=key, codes=Listing(codes)))
    skipped = codes[: winner.distance]
    if skipped:
        phrase.append(reason("resolve.nothing_in", regions=Listing(skipped)))
    common: dict[str, Any] = {
        "chain": " > ".join(chain),
        "what": _describe(winner, None, None),
        "phrase": Joined(tuple(phrase)),
        "year": year,
        "vintage": _vintage_phrase(winner.gap, chosen=True),
    }
    if fallback is not None:
        chosen = reason(
            "resolve.fallback_chosen", used=_fallback_phrase(fallback, activity), **common
        )
    else:
        chosen = reason("resolve.proxy_chosen", **common)
    parts: list[Reason] = [chosen]
    if basis is not None:
        parts.append(_basis_phrase(winner.factor.get("price_basis"), basis))
    ties = [c for c in ranked[1:] if c.rank_key[:7] == winner.rank_key[:7]]
    if ties:
        others = Listing(tuple(c.factor_id for c in ties[:3]))
        parts.append(reason("resolve.tied", others=others))
    return Joined(tuple(parts))


def _resolution(
    winner: _Candidate,
    row_kind: str,
    unit: str,
    why: Reason | Joined,
    considered: tuple[str, ...],
) -> Resolution:
    f = dict(winner.factor)
    factor_unit = str(f["unit"])
    currency: str | None = None
    price_year: int | None = None
    conversion: float | None
    if row_kind == _CURRENCY_KIND:
        conversion = None
        currency = f["currency"] or currency_of(factor_unit)
        price_year = f["price_year"]
    elif winner.conversion is not None:
        conversion = winner.conversion.factor
    else:
        conversion = conversion_factor(unit, factor_unit)
    return Resolution(
        factor=f,
        tier=winner.tier,
        vintage_gap=winner.gap,
        reason=why.render("en"),
        reason_zh=why.render("zh-CN"),
        unit_conversion=conversion,
        considered=considered,
        currency=currency,
        price_year=price_year,
        gwp_set=winner.gwp_set,
        conversion_path=winner.conversion.describe() if winner.conversion is not None else None,
    )


def _resolve_explicit(
    library: FactorLibrary,
    activity_type: ActivityType,
    chain: tuple[str, ...],
    year: int,
    unit: str,
    row_kind: str,
    factor_id: str,
    gas_volume_reference: str | None = None,
) -> Resolution:
    """Rule 1: the factor named on the row, checked against the activity and the row; a
    fuel's row unit of another dimension converts through its properties (rule 11)."""
    gwp_set: str | None = None
    if factor_id.startswith(f"{GWP_FACTOR_PREFIX}:"):
        try:
            factor = _gwp_factor_by_id(factor_id, activity_type.factor_activity, year)
        except UnknownGasError as exc:
            raise FactorNotFoundError(
                f"no factor with id {factor_id!r}: {exc}",
                activity=activity_type.activity,
                region=chain[0],
                year=year,
            ) from exc
        gwp_set = str(factor["gwp_basis"])
    else:
        try:
            factor = library.get(factor_id)
        except FactorNotFoundError as exc:
            raise FactorNotFoundError(
                str(exc), activity=activity_type.activity, region=chain[0], year=year
            ) from None
    factor_unit = str(factor["unit"])
    if _unit_kind(factor_unit) is None or not fits_dimension(factor_unit, activity_type.dimension):
        raise UnitError(
            f"factor {factor_id} is per {factor_unit!r}, which does not fit activity "
            f"{activity_type.activity} (dimension {activity_type.dimension})",
            unit=factor_unit,
            expected=activity_type.dimension,
        )
    conversion: fuels.FuelConversion | None = None
    if _unit_kind(factor_unit) != row_kind:
        fuel = fuels.fuel_of(activity_type.activity) if row_kind != _CURRENCY_KIND else None
        if fuel is not None:
            conversion = fuels.convert(
                fuel, unit, factor_unit, chain, gas_reference=gas_volume_reference
            )
        if conversion is None:
            raise UnitError(
                f"factor {factor_id} is per {factor_unit!r}, which cannot be converted from "
                f"the row's unit {unit!r}",
                unit=unit,
                expected=factor_unit,
            )
    gap = int(factor["year"]) - year if factor["year"] is not None else 0
    candidate = _Candidate(
        factor=factor,
        tier="explicit",
        method_rank=0,
        distance=0,
        gap=gap,
        precedence=0,
        gwp_set=gwp_set,
        conversion=conversion,
    )
    why = Joined(
        (
            reason(
                "resolve.chosen",
                what=_describe(candidate, None, None),
                year=year,
                vintage=_vintage_phrase(gap, chosen=False),
            ),
            reason("resolve.explicit_note"),
        )
    )
    if conversion is not None:
        why = Joined((*why.parts, reason("resolve.fuel_converted", path=conversion)))
    return _resolution(candidate, row_kind, unit, why, ())


# ---- many keys at once -------------------------------------------------------------------

_OUTPUT_SCHEMA = pa.schema(
    [
        ("activity", pa.string()),
        ("region", pa.string()),
        ("unit", pa.string()),
        ("supplier", pa.string()),
        ("site", pa.string()),
        ("factor", pa.string()),
        ("year", pa.int64()),
        ("factor_id", pa.string()),
        ("factor_set", pa.string()),
        ("factor_region", pa.string()),
        ("tier", pa.string()),
        ("vintage_gap", pa.int64()),
        ("unit_conversion", pa.float64()),
        ("conversion_path", pa.string()),
        ("factor_unit", pa.string()),
        ("method", pa.string()),
        ("currency", pa.string()),
        ("price_year", pa.int64()),
        ("price_basis", pa.string()),
        ("gwp_basis", pa.string()),
        ("co2e_kg", pa.float64()),
        ("co2_kg", pa.float64()),
        ("ch4_kg", pa.float64()),
        ("n2o_kg", pa.float64()),
        ("biogenic_co2_kg", pa.float64()),
        ("uncertainty_pct", pa.float64()),
        ("source", pa.string()),
        ("reason", pa.string()),
        ("reason_zh", pa.string()),
        ("error", pa.string()),
        ("error_kind", pa.string()),
    ]
)
_KEY_TYPES = {name: _OUTPUT_SCHEMA.field(name).type for name in KEY_COLUMNS}


def _distinct_keys(keys: pa.Table | Iterable[Mapping[str, Any]], year: int | None) -> pa.Table:
    if isinstance(keys, pa.Table):
        table = keys
    else:  # dicts may each carry different keys: take the union
        rows = list(keys)
        present = [name for name in KEY_COLUMNS if any(name in row for row in rows)]
        table = pa.table(
            {name: pa.array([row.get(name) for row in rows], _KEY_TYPES[name]) for name in present}
        )
    missing = [name for name in ("activity", "region", "unit") if name not in table.column_names]
    if missing and table.num_rows:
        raise ValueError(f"resolve_many needs key columns {missing}")
    columns = {}
    for name, kind in _KEY_TYPES.items():
        if name in table.column_names:
            columns[name] = table.column(name).cast(kind)
        elif name == "year":
            if year is None and table.num_rows:
                raise ValueError("the keys have no year column; pass year=")
            columns[name] = pa.array([year] * table.num_rows, kind)
        else:
            columns[name] = pa.nulls(table.num_rows, kind)
    selected = pa.table(columns)
    if year is not None and "year" in table.column_names:
        filled = [year if v is None else v for v in selected.column("year").to_pylist()]
        selected = selected.set_column(
            KEY_COLUMNS.index("year"), "year", pa.array(filled, pa.int64())
        )
    distinct = selected.group_by(list(KEY_COLUMNS), use_threads=False).aggregate([])
    return distinct.select(list(KEY_COLUMNS))


def resolve_many(
    library: FactorLibrary,
    keys: pa.Table | Iterable[Mapping[str, Any]],
    *,
    year: int | None = None,
    methods: Sequence[str] | None = None,
    gwp_set: str | None = None,
    strict: Strictness | str | None = None,
    taxonomy: Taxonomy | None = None,
    proxies: Mapping[str, Sequence[str]] | None = None,
    price_basis: str = "purchaser",
    gas_volume_reference: str | None = None,
    fallbacks: Iterable[Fallback | Mapping[str, Any]] | None = None,
) -> pa.Table:
    """Resolve each distinct key once; a table for the engine to join back onto its rows.

    Parameters
    ----------
    keys
        A table (or dicts) with key columns ``activity``, ``region``, ``unit`` and optionally
        ``supplier``, ``site``, ``factor`` (explicit factor id) and ``year``; other columns
        are ignored and duplicate keys are resolved once.
    year
        The reporting year of keys without one.
    methods, gwp_set, strict, proxies, price_basis, gas_volume_reference, fallbacks
        As for :func:`resolve`, for every key (``proxies``, ``price_basis``,
        ``gas_volume_reference`` and ``fallbacks`` are checked once, before any key is
        resolved).
    taxonomy
        Where activity keys are looked up (default: the library's taxonomy).

    Returns
    -------
    pyarrow.Table
        One row per distinct key, sorted by key: the key columns, then ``factor_id``,
        ``factor_set``, ``factor_region`` (the factor's own region: under tier ``proxy``
        the proxy region), ``tier``, ``vintage_gap`` [years], ``unit_conversion`` [factor units
        per row unit; null for money], ``factor_unit``, ``method``, ``currency``,
        ``price_year``, ``price_basis``, the factor's ``gwp_basis``, ``conversion_path``
        (rule 11: how a fuel's row unit became factor units, else null), ``co2e_kg``, ``co2_kg``,
        ``ch4_kg``, ``n2o_kg``, ``biogenic_co2_kg`` [kg per factor unit], ``uncertainty_pct``
        [%, half-width of the 95 % interval, where the source gives it], ``source``,
        ``reason`` and ``reason_zh`` (English and Chinese), ``error`` (the message when the
        key could not be resolved; then the factor columns are null) and ``error_kind`` (one
        of :data:`ERROR_KINDS`, null when resolved). Synthetic GWP factors are included, so
        no second join is needed.
    """
    taxonomy = taxonomy if taxonomy is not None else library.taxonomy
    proxy_map = parse_proxies(proxies) if proxies else None
    basis = _check_basis(price_basis)
    if gas_volume_reference is not None:
        gas_volume_reference = fuels.parse_gas_reference(gas_volume_reference)
    profile = parse_fallbacks(fallbacks)
    distinct = _distinct_keys(keys, year)
    out: list[dict[str, Any]] = []
    rows = distinct.to_pylist()
    rows.sort(key=lambda k: tuple((k[name] is not None, k[name]) for name in KEY_COLUMNS))
    for key in rows:
        record: dict[str, Any] = dict.fromkeys(_OUTPUT_SCHEMA.names)
        record.update(key)
        try:
            record.update(
                _resolve_key(
                    library,
                    taxonomy,
                    key,
                    methods,
                    gwp_set,
                    strict,
                    proxy_map,
                    basis,
                    gas_volume_reference=gas_volume_reference,
                    fallbacks=profile,
                )
            )
        except EsgledgerError as exc:
            record["error"] = str(exc)
            record["error_kind"] = _error_kind(exc)
        out.append(record)
    return pa.Table.from_pylist(out, schema=_OUTPUT_SCHEMA)


def _resolve_key(
    library: FactorLibrary,
    taxonomy: Taxonomy,
    key: Mapping[str, Any],
    methods: Sequence[str] | None,
    gwp_set: str | None,
    strict: Strictness | str | None,
    proxies: Mapping[str, Sequence[str]] | None,
    price_basis: str = "purchaser",
    gas_volume_reference: str | None = None,
    fallbacks: Sequence[Fallback] = (),
) -> dict[str, Any]:
    activity_type = taxonomy.get(str(key["activity"]))
    region = key["region"]
    if not region:
        raise _RegionError(
            f"no region for activity {key['activity']}: give the row a region, or its site "
            "or entity one",
            activity=str(key["activity"]),
        )
    try:
        region_chain = regions.chain(str(region))
    except KeyError as exc:
        raise _RegionError(
            f"unknown region code {region!r} (see esgledger/data/regions.csv)",
            activity=str(key["activity"]),
            region=str(region),
        ) from exc
    if key["year"] is None:
        raise FactorNotFoundError(
            f"no reporting year for activity {key['activity']} in {region}",
            activity=str(key["activity"]),
            region=str(region),
        )
    result = resolve(
        library,
        activity_type=activity_type,
        region_chain=region_chain,
        year=int(key["year"]),
        unit=str(key["unit"]),
        supplier=key["supplier"],
        site=key["site"],
        factor_id=key["factor"],
        methods=methods,
        gwp_set=gwp_set,
        strict=strict,
        proxies=proxies,
        price_basis=price_basis,
        gas_volume_reference=gas_volume_reference,
        fallbacks=fallbacks,
    )
    f = result.factor
    return {
        "factor_id": f["factor_id"],
        "factor_set": f["factor_set"],
        "factor_region": f["region"],
        "tier": result.tier,
        "vintage_gap": result.vintage_gap,
        "unit_conversion": result.unit_conversion,
        "conversion_path": result.conversion_path,
        "factor_unit": f["unit"],
        "method": f["method"],
        "currency": result.currency,
        "price_year": result.price_year,
        "price_basis": f.get("price_basis") if result.currency is not None else None,
        "gwp_basis": f["gwp_basis"],
        "co2e_kg": f["co2e_kg"],
        "co2_kg": f["co2_kg"],
        "ch4_kg": f["ch4_kg"],
        "n2o_kg": f["n2o_kg"],
        "biogenic_co2_kg": f["biogenic_co2_kg"],
        "uncertainty_pct": f.get("uncertainty_pct"),
        "source": f["source"],
        "reason": result.reason,
        "reason_zh": result.reason_zh,
    }


class _RegionError(FactorNotFoundError):
    """A key without a region, or with an unknown region code (``error_kind`` ``region``)."""


def _error_kind(exc: EsgledgerError) -> str:
    """The :data:`ERROR_KINDS` value of an error raised while resolving a key."""
    if isinstance(exc, StrictFallbackError):
        return "strict"
    if isinstance(exc, UnitError):
        return "unit"
    if isinstance(exc, _RegionError):
        return "region"
    if isinstance(exc, UnknownActivityError):
        return "activity"
    if isinstance(exc, UnknownGasError) or isinstance(exc.__cause__, UnknownGasError):
        return "gas"
    if isinstance(exc, FactorNotFoundError):
        return "not_found"
    return "error"
