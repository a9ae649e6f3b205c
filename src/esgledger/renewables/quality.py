"""Scope 2 Quality Criteria, China's certificate rules and the RE100 technical criteria.

范围二质量准则、中国绿证规则与 RE100 技术标准的逐项检查。

Pure functions: an :class:`~esgledger.renewables.instruments.Instrument` (plus what the
check needs to know about the reporter and the consumption) in, the list of failed criteria
out, each with its reason in English and Chinese and the clause it implements. An instrument
with any failure of scope ``"scope2"`` cannot reduce market-based scope 2 and is excluded
from allocation; a failure of scope ``"re100"`` keeps the instrument in market-based scope 2
but out of the RE100 renewable share.

=====================  ======  ===========================================================
criterion              scope   rule (source)
=====================  ======  ===========================================================
``attributes``         scope2  the instrument conveys the generation's attributes: not null
                               power whose certificates were sold (Scope 2 Guidance
                               Table 7.1, criterion 1; domain-modules.md §2.1)
``unique_claim``       scope2  no other instrument of the same type carries the same registry
                               id, and allocations never exceed the volume (criterion 2;
                               a tradable GEC can be sold only once, Document 1044)
``retired``            scope2  certificates and contracts are retired (cancelled) in the
                               registry (criterion 3); green tariffs (the supplier retires)
                               and on-site generation are exempt
``retired_for``        scope2  retired for the reporter: ``retired_for`` is an entity or
                               site of the group (criterion 3)
``vintage``            scope2  generation period within the consumption year widened by
                               :attr:`QualityRules.vintage_months_before` / ``_after``
                               (criterion 4: "as close as possible"; default window of
                               Green-e Energy, 6 months before to 3 months after [M])
``market``             scope2  generation in the same market as the consumption
                               (criterion 5; :func:`~esgledger.renewables.instruments.
                               market_of`)
``china_gec``          scope2  Chinese generation consumed in China is proven by GECs only
                               (GECs, green-power trades, on-site generation): NDRC/MOF/NEA
                               Document 1044 (3 Aug 2023), domain-modules.md §2.2; I-REC is
                               judged by ``china_irec``
``china_irec``         scope2  I-REC(E) is not accepted for Chinese generation after
                               31 Dec 2024 (domain-modules.md §2.2 [R])
``re100_technology``   re100   wind, solar, geothermal, sustainable biomass, sustainable
                               hydro (RE100 technical criteria; nuclear is carbon-free, not
                               renewable)
``re100_age``          re100   contracts from 1 Jan 2024: the plant was commissioned or
                               re-powered at most 15 years before the reporting year;
                               on-site generation is exempt (RE100 technical criteria
                               v4.1 [R])
=====================  ======  ===========================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from esgledger.renewables.instruments import Instrument, market_of, technologies

__all__ = [
    "CHINA_GEC_SOLE_PROOF_FROM",
    "CHINA_IREC_LAST_GENERATION_DAY",
    "CRITERIA",
    "RE100_AGE_RULE_FROM",
    "Assessment",
    "Failure",
    "QualityRules",
    "assess",
    "check_allocation",
    "check_instrument",
]

#: Criterion → (scope, source).
CRITERIA: Mapping[str, tuple[str, str]] = {
    "attributes": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 1"),
    "unique_claim": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 2"),
    "retired": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 3"),
    "retired_for": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 3"),
    "vintage": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 4"),
    "market": ("scope2", "GHG Protocol Scope 2 Guidance (2015), Table 7.1, criterion 5"),
    "china_gec": ("scope2", "NDRC/MOF/NEA Document 1044 (2023): the GEC is the sole proof"),
    "china_irec": ("scope2", "I-REC(E) not issued for Chinese generation after 2024-12-31"),
    "re100_technology": ("re100", "RE100 technical criteria v4.1: recognised technologies"),
    "re100_age": ("re100", "RE100 technical criteria v4.1: 15-year commissioning limit"),
}

#: Document 1044 (NDRC/MOF/NEA, 3 Aug 2023) makes the GEC the sole proof of renewable
#: attributes of Chinese generation.
CHINA_GEC_SOLE_PROOF_FROM = date(2023, 8, 3)
#: The last day of Chinese generation for which an I-REC(E) is accepted.
CHINA_IREC_LAST_GENERATION_DAY = date(2024, 12, 31)
#: RE100's 15-year commissioning / re-powering limit applies to contracts from this day.
RE100_AGE_RULE_FROM = date(2024, 1, 1)

#: Instrument types that prove Chinese green power under Document 1044.
_CHINA_PROOF = frozenset({"gec", "green_power_trade", "onsite"})


@dataclass(frozen=True, slots=True)
class QualityRules:
    """The configurable parts of the checks.

    Parameters
    ----------
    vintage_months_before, vintage_months_after
        [months] how far the generation period may lie before the start / after the end of
        the consumption year (default 6 and 3, the Green-e Energy window [M]; Scope 2
        Guidance only says "as close as possible").
    re100_max_age_years
        [years] RE100 commissioning limit (15).
    markets
        Country → market; default :data:`esgledger.renewables.instruments.MARKET_BOUNDARIES`.
    """

    vintage_months_before: int = 6
    vintage_months_after: int = 3
    re100_max_age_years: int = 15
    markets: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed criterion of one instrument (or allocation).

    Attributes
    ----------
    criterion
        Key of :data:`CRITERIA`.
    scope
        ``"scope2"`` (excluded from market-based scope 2) or ``"re100"`` (excluded from the
        RE100 renewable share only).
    reason, reason_zh
        Why, in English and Chinese.
    source
        The clause the criterion implements.
    """

    criterion: str
    reason: str
    reason_zh: str
    scope: str = field(init=False)
    source: str = field(init=False)

    def __post_init__(self) -> None:
        scope, source = CRITERIA[self.criterion]
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "source", source)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The verdict on one instrument.

    ``valid_scope2``: may reduce market-based scope 2; ``valid_re100``: may also count toward
    the RE100 renewable share.
    """

    instrument: Instrument
    failures: tuple[Failure, ...]

    @property
    def valid_scope2(self) -> bool:
        return not any(f.scope == "scope2" for f in self.failures)

    @property
    def valid_re100(self) -> bool:
        return not self.failures

    def reasons(self, lang: str = "en") -> str:
        """The failures joined with ``"; "`` (``lang`` ``"zh"`` for Chinese)."""
        return "; ".join(f.reason_zh if lang == "zh" else f.reason for f in self.failures)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def _vintage_window(year: int, rules: QualityRules) -> tuple[date, date]:
    first = _shift_months(date(year, 1, 1), -rules.vintage_months_before)
    after = _shift_months(date(year + 1, 1, 1), rules.vintage_months_after)
    return first, date.fromordinal(after.toordinal() - 1)


def check_instrument(
    instrument: Instrument,
    *,
    reporting_year: int,
    claimants: Iterable[str],
    duplicate_registry_ids: Iterable[tuple[str, str]] = (),
    allocated_mwh: float = 0.0,
    rules: QualityRules | None = None,
) -> tuple[Failure, ...]:
    """The criteria one instrument fails on its own (without a consumption to match).

    Parameters
    ----------
    instrument
        The instrument.
    reporting_year
        The year of the consumption it would cover (vintage window, RE100 age).
    claimants
        Codes of the group's entities and sites: a ``retired_for`` outside them is retired
        for someone else.
    duplicate_registry_ids
        ``(type, registry_id)`` pairs carried by more than one instrument (see
        :func:`assess`).
    allocated_mwh
        [MWh] already allocated; more than ``instrument.mwh`` is a double claim.
    rules
        The configurable parts (default :class:`QualityRules`).

    Returns
    -------
    tuple of Failure
        Empty when the instrument passes every criterion.
    """
    r = rules or QualityRules()
    out: list[Failure] = []
    kind = instrument.kind
    if instrument.attributes_sold:
        out.append(
            Failure(
                "attributes",
                "its certificates were sold to someone else: the energy is null power and gets "
                "the residual mix",
                "其证书已出售给他方：该电量为无属性电力，按剩余组合排放因子计算",
            )
        )
    dup = (instrument.type, instrument.registry_id or "")
    if instrument.registry_id is not None and dup in set(duplicate_registry_ids):
        out.append(
            Failure(
                "unique_claim",
                f"registry id {instrument.registry_id!r} is carried by another instrument of "
                f"type {instrument.type}: the same MWh would be claimed twice",
                f"登记编号 {instrument.registry_id!r} 同时出现在另一个 {instrument.type} "
                "工具中：同一电量将被重复声明",
            )
        )
    if allocated_mwh > instrument.mwh * (1 + 1e-12):
        out.append(
            Failure(
                "unique_claim",
                f"allocated {allocated_mwh:g} MWh, more than its {instrument.mwh:g} MWh",
                f"已分配 {allocated_mwh:g} 兆瓦时，超过其 {instrument.mwh:g} 兆瓦时",
            )
        )
    if kind in ("certificate", "contract"):
        if instrument.retired_on is None:
            out.append(
                Failure(
                    "retired",
                    "not retired (cancelled) in the registry",
                    "尚未在登记系统中注销（核销）",
                )
            )
        if instrument.retired_for is None:
            out.append(
                Failure(
                    "retired_for",
                    "not retired on behalf of anyone: retired_for is empty",
                    "未注明注销受益方（retired_for 为空）",
                )
            )
    if instrument.retired_for is not None and instrument.retired_for not in set(claimants):
        out.append(
            Failure(
                "retired_for",
                f"retired for {instrument.retired_for!r}, which is not an entity or site of "
                "the reporting group",
                f"注销受益方 {instrument.retired_for!r} 不是本集团的主体或站点",
            )
        )
    first, last = _vintage_window(reporting_year, r)
    if instrument.period_end < first or instrument.period_start > last:
        out.append(
            Failure(
                "vintage",
                f"generated {instrument.period_start.isoformat()} to "
                f"{instrument.period_end.isoformat()}, outside the vintage window "
                f"{first.isoformat()} to {last.isoformat()} of reporting year {reporting_year}",
                f"发电期间 {instrument.period_start.isoformat()} 至 "
                f"{instrument.period_end.isoformat()} 不在报告年度 {reporting_year} 的生产年份"
                f"窗口（{first.isoformat()} 至 {last.isoformat()}）内",
            )
        )
    if instrument.country == "CN":
        if instrument.type == "irec":
            if instrument.period_end > CHINA_IREC_LAST_GENERATION_DAY:
                out.append(
                    Failure(
                        "china_irec",
                        "an I-REC for Chinese generation after 2024-12-31 is not accepted: "
                        "use GECs",
                        "2024-12-31 之后的中国发电量不再认可 I-REC：请使用绿证",
                    )
                )
        elif (
            instrument.type not in _CHINA_PROOF
            and instrument.period_end >= CHINA_GEC_SOLE_PROOF_FROM
        ):
            out.append(
                Failure(
                    "china_gec",
                    f"Chinese green power is proven by GECs only (Document 1044, 2023); a "
                    f"{instrument.type} does not prove it: register the GECs that came with it",
                    f"中国绿色电力仅以绿证为唯一凭证（1044 号文，2023 年）；{instrument.type} "
                    "不能作为凭证：请登记随附的绿证",
                )
            )
    tech = technologies()[instrument.technology]
    if not tech.re100:
        out.append(
            Failure(
                "re100_technology",
                f"{tech.name} is not a renewable technology RE100 recognises",
                f"{tech.name_zh}不属于 RE100 认可的可再生能源技术",
            )
        )
    signed = instrument.contract_signed
    if kind != "onsite" and (signed is None or signed >= RE100_AGE_RULE_FROM):
        commissioned = instrument.commissioned
        if commissioned is None:
            out.append(
                Failure(
                    "re100_age",
                    "the commissioning date is unknown, so the RE100 15-year limit cannot be "
                    "checked (contracts from 2024-01-01)",
                    "投产日期未知，无法检查 RE100 的 15 年投产年限（适用于 2024-01-01 起的合同）",
                )
            )
        elif reporting_year - commissioned.year > r.re100_max_age_years:
            out.append(
                Failure(
                    "re100_age",
                    f"the plant was commissioned in {commissioned.year}, more than "
                    f"{r.re100_max_age_years} years before {reporting_year} (RE100 limit for "
                    "contracts from 2024-01-01)",
                    f"电站于 {commissioned.year} 年投产，距 {reporting_year} 年超过 "
                    f"{r.re100_max_age_years} 年（RE100 对 2024-01-01 起合同的限制）",
                )
            )
    return tuple(out)


def check_allocation(
    instrument: Instrument, *, consumption_country: str, rules: QualityRules | None = None
) -> tuple[Failure, ...]:
    """The criteria that depend on the consumption an instrument would cover: the same
    market (Scope 2 Guidance Table 7.1, criterion 5).

    Parameters
    ----------
    instrument
        The instrument.
    consumption_country
        ISO 3166-1 alpha-2 code of the site whose consumption it would cover.
    rules
        The configurable parts (``markets``).
    """
    markets = (rules or QualityRules()).markets
    generated = market_of(instrument.country, markets)
    consumed = market_of(consumption_country, markets)
    if generated == consumed:
        return ()
    return (
        Failure(
            "market",
            f"generated in market {generated}, consumed in market {consumed}: not the same market",
            f"发电所在市场 {generated} 与用电所在市场 {consumed} 不同",
        ),
    )


def assess(
    instruments: Sequence[Instrument],
    *,
    reporting_year: int,
    claimants: Iterable[str],
    site_countries: Mapping[str, str] | None = None,
    allocated_mwh: Mapping[str, float] | None = None,
    rules: QualityRules | None = None,
) -> list[Assessment]:
    """Assess a register: :func:`check_instrument` for each instrument, and, for an
    instrument retired for a site, :func:`check_allocation` against that site's country.

    Parameters
    ----------
    instruments
        The register.
    reporting_year
        The year of the consumption.
    claimants
        Codes of the group's entities and sites.
    site_countries
        Site code → country, for the market check of instruments retired for a site.
    allocated_mwh
        [MWh] instrument id → MWh already allocated.
    rules
        The configurable parts.

    Examples
    --------
    >>> from datetime import date
    >>> i = Instrument("I-1", "irec", "solar", "CN", "CN", date(2025, 1, 1),
    ...                date(2025, 12, 31), 10.0, retired_on=date(2026, 1, 5),
    ...                retired_for="DC", commissioned=date(2020, 1, 1))
    >>> [f.criterion for f in assess([i], reporting_year=2025, claimants=["DC"])[0].failures]
    ['china_irec']
    """
    claimant_set = set(claimants)
    counts = Counter((i.type, i.registry_id) for i in instruments if i.registry_id is not None)
    duplicates = {(t, str(r)) for (t, r), n in counts.items() if n > 1}
    countries = site_countries or {}
    allocated = allocated_mwh or {}
    out: list[Assessment] = []
    for instrument in instruments:
        failures = check_instrument(
            instrument,
            reporting_year=reporting_year,
            claimants=claimant_set,
            duplicate_registry_ids=duplicates,
            allocated_mwh=allocated.get(instrument.instrument, 0.0),
            rules=rules,
        )
        site = instrument.retired_for
        if site is not None and site in countries:
            failures += check_allocation(
                instrument, consumption_country=countries[site], rules=rules
            )
        out.append(Assessment(instrument, failures))
    return out
