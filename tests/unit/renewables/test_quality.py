"""Scope 2 Quality Criteria (GHG Protocol Scope 2 Guidance 2015, Table 7.1), China's
certificate rules (domain-modules.md §2.2) and RE100 criteria: one instrument failing each
criterion, with its exact reason, and a clean instrument passing all of them."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from esgledger.renewables.instruments import Instrument
from esgledger.renewables.quality import (
    CRITERIA,
    QualityRules,
    assess,
    check_allocation,
    check_instrument,
)

CLAIMANTS = ("GRP", "CLOUD", "DC-CQ")

GOOD = Instrument(
    instrument="GEC-1",
    type="gec",
    technology="wind",
    country="CN",
    region="CN-NM",
    period_start=date(2024, 1, 1),
    period_end=date(2024, 12, 31),
    mwh=60000.0,
    commissioned=date(2021, 6, 30),
    retired_on=date(2025, 1, 15),
    retired_for="DC-CQ",
    registry_id="GEC-2024-000001~060000",
)


def _failures(instrument: Instrument, year: int = 2024, **kwargs: object) -> list[str]:
    found = check_instrument(instrument, reporting_year=year, claimants=CLAIMANTS, **kwargs)  # type: ignore[arg-type]
    return [f.criterion for f in found]


def test_a_clean_gec_passes_every_criterion() -> None:
    assert _failures(GOOD) == []
    (verdict,) = assess([GOOD], reporting_year=2024, claimants=CLAIMANTS)
    assert verdict.valid_scope2
    assert verdict.valid_re100
    assert verdict.reasons() == ""


CASES = [
    pytest.param(
        dataclasses.replace(GOOD, attributes_sold=True),
        "attributes",
        "its certificates were sold to someone else: the energy is null power and gets the "
        "residual mix",
        id="null-power",
    ),
    pytest.param(
        dataclasses.replace(GOOD, retired_on=None),
        "retired",
        "not retired (cancelled) in the registry",
        id="not-retired",
    ),
    pytest.param(
        dataclasses.replace(GOOD, retired_for="OTHER-CO"),
        "retired_for",
        "retired for 'OTHER-CO', which is not an entity or site of the reporting group",
        id="retired-for-someone-else",
    ),
    pytest.param(
        dataclasses.replace(GOOD, period_start=date(2022, 1, 1), period_end=date(2022, 12, 31)),
        "vintage",
        "generated 2022-01-01 to 2022-12-31, outside the vintage window 2023-07-01 to "
        "2025-03-31 of reporting year 2024",
        id="old-vintage",
    ),
    pytest.param(
        dataclasses.replace(
            GOOD, type="irec", period_start=date(2025, 1, 1), period_end=date(2025, 3, 31)
        ),
        "china_irec",
        "an I-REC for Chinese generation after 2024-12-31 is not accepted: use GECs",
        id="irec-china-2025",
    ),
    pytest.param(
        dataclasses.replace(GOOD, type="ppa_virtual"),
        "china_gec",
        "Chinese green power is proven by GECs only (Document 1044, 2023); a ppa_virtual does "
        "not prove it: register the GECs that came with it",
        id="china-not-gec",
    ),
    pytest.param(
        dataclasses.replace(GOOD, technology="nuclear"),
        "re100_technology",
        "Nuclear is not a renewable technology RE100 recognises",
        id="nuclear-re100",
    ),
    pytest.param(
        dataclasses.replace(GOOD, commissioned=date(2005, 3, 1), contract_signed=date(2024, 3, 1)),
        "re100_age",
        "the plant was commissioned in 2005, more than 15 years before 2024 (RE100 limit for "
        "contracts from 2024-01-01)",
        id="re100-age",
    ),
]


@pytest.mark.parametrize(("instrument", "criterion", "reason"), CASES)
def test_an_instrument_failing_one_criterion(
    instrument: Instrument, criterion: str, reason: str
) -> None:
    (failure,) = check_instrument(instrument, reporting_year=2024, claimants=CLAIMANTS)
    assert failure.criterion == criterion
    assert failure.reason == reason
    assert failure.reason_zh  # every reason is bilingual
    assert failure.scope == CRITERIA[criterion][0]
    (verdict,) = assess([instrument], reporting_year=2024, claimants=CLAIMANTS)
    assert verdict.valid_scope2 is (failure.scope == "re100")
    assert not verdict.valid_re100
    assert verdict.reasons() == reason
    assert verdict.reasons("zh") == failure.reason_zh


def test_the_same_registry_id_twice_fails_both_as_a_double_claim() -> None:
    twin = dataclasses.replace(GOOD, instrument="GEC-1-COPY")
    verdicts = assess([GOOD, twin], reporting_year=2024, claimants=CLAIMANTS)
    for verdict in verdicts:
        assert [f.criterion for f in verdict.failures] == ["unique_claim"]
        assert verdict.failures[0].reason == (
            "registry id 'GEC-2024-000001~060000' is carried by another instrument of type gec: "
            "the same MWh would be claimed twice"
        )


def test_allocation_beyond_the_volume_is_a_double_claim() -> None:
    assert _failures(GOOD, allocated_mwh=60000.0) == []
    assert _failures(GOOD, allocated_mwh=60000.5) == ["unique_claim"]


def test_the_market_boundary() -> None:
    (failure,) = check_allocation(GOOD, consumption_country="HK")
    assert failure.criterion == "market"
    assert failure.reason == ("generated in market CN, consumed in market HK: not the same market")
    assert check_allocation(GOOD, consumption_country="CN") == ()
    rec = dataclasses.replace(GOOD, type="rec", country="CA", region="CA")
    assert check_allocation(rec, consumption_country="US") == ()
    assert check_allocation(rec, consumption_country="US", rules=QualityRules(markets={})) != ()
    # assess() applies the market check to an instrument retired for a site.
    (verdict,) = assess(
        [GOOD], reporting_year=2024, claimants=CLAIMANTS, site_countries={"DC-CQ": "HK"}
    )
    assert [f.criterion for f in verdict.failures] == ["market"]


def test_vintage_window_edges_and_configuration() -> None:
    july = dataclasses.replace(GOOD, period_start=date(2023, 1, 1), period_end=date(2023, 7, 1))
    june = dataclasses.replace(GOOD, period_start=date(2023, 1, 1), period_end=date(2023, 6, 30))
    assert _failures(july) == []
    assert _failures(june) == ["vintage"]
    march = dataclasses.replace(GOOD, period_start=date(2025, 3, 31), period_end=date(2025, 12, 31))
    april = dataclasses.replace(GOOD, period_start=date(2025, 4, 1), period_end=date(2025, 12, 31))
    assert _failures(march) == []
    assert _failures(april) == ["vintage"]
    strict = QualityRules(vintage_months_before=0, vintage_months_after=0)
    assert _failures(july, rules=strict) == ["vintage"]


def test_china_rules_keep_what_they_should() -> None:
    # I-REC for Chinese generation of 2024 is still accepted; GEC, green-power trade and
    # on-site generation prove Chinese green power; generation outside China is not concerned.
    irec_2024 = dataclasses.replace(GOOD, type="irec")
    assert _failures(irec_2024) == []
    for kind in ("green_power_trade", "onsite"):
        assert _failures(dataclasses.replace(GOOD, type=kind)) == []
    go = dataclasses.replace(GOOD, type="go", country="DE", region="DE")
    assert _failures(go) == []
    # Before Document 1044 (3 Aug 2023) a Chinese PPA was not yet excluded by it.
    early = dataclasses.replace(
        GOOD, type="ppa_physical", period_start=date(2023, 1, 1), period_end=date(2023, 7, 31)
    )
    assert _failures(early) == []


def test_unretired_contract_and_empty_beneficiary_but_tariff_and_onsite_are_exempt() -> None:
    bare = dataclasses.replace(GOOD, retired_on=None, retired_for=None)
    assert _failures(bare) == ["retired", "retired_for"]
    tariff = dataclasses.replace(
        bare, type="green_tariff", country="GB", region="GB", co2_kg_per_mwh=0.0
    )
    assert _failures(tariff) == []
    assert _failures(dataclasses.replace(bare, type="onsite")) == []


def test_re100_age_rule_exemptions() -> None:
    old = dataclasses.replace(GOOD, commissioned=date(2005, 3, 1))
    # Grandfathered: a contract signed before 2024.
    assert _failures(dataclasses.replace(old, contract_signed=date(2023, 12, 31))) == []
    # Self-generation is exempt.
    assert _failures(dataclasses.replace(old, type="onsite")) == []
    # Unknown commissioning date on a new contract cannot be checked.
    unknown = dataclasses.replace(GOOD, commissioned=None)
    (failure,) = check_instrument(unknown, reporting_year=2024, claimants=CLAIMANTS)
    assert failure.criterion == "re100_age"
    assert failure.reason.startswith("the commissioning date is unknown")
    # Exactly 15 years is within the limit.
    assert _failures(dataclasses.replace(GOOD, commissioned=date(2009, 1, 1))) == []
    assert _failures(dataclasses.replace(GOOD, commissioned=date(2008, 12, 31))) == ["re100_age"]
