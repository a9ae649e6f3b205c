"""Allocation of instruments (pools, hierarchy, market, volume), market-based remainder
factors (supplier → residual mix → grid average with its flag), RE % and target progress."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from esgledger.errors import FactorNotFoundError
from esgledger.renewables.allocation import (
    GRID_AVERAGE_FLAG,
    AllocationRule,
    Consumption,
    FactorChoice,
    RemainderFactors,
    allocate,
    market_based,
    re_progress,
    re_share,
)
from esgledger.renewables.instruments import Instrument
from esgledger.renewables.quality import assess

PARENTS: dict[str, str | None] = {"GRP": None, "CLOUD": "GRP", "RETAIL": "GRP"}
CLAIMANTS = ("GRP", "CLOUD", "RETAIL", "DC-A", "DC-B", "OF-HK")
YEAR = 2024
JAN, DEC = date(2024, 1, 1), date(2024, 12, 31)


def _c(site: str, entity: str, mwh: float, country: str = "CN") -> Consumption:
    return Consumption(site, entity, country, country, JAN, DEC, mwh)


def _i(name: str, mwh: float, retired_for: str, **kw: object) -> Instrument:
    base = Instrument(
        instrument=name,
        type="gec",
        technology="solar",
        country="CN",
        region="CN",
        period_start=JAN,
        period_end=DEC,
        mwh=mwh,
        commissioned=date(2020, 1, 1),
        retired_on=date(2025, 1, 10),
        retired_for=retired_for,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _run(consumption: list[Consumption], instruments: list[Instrument], **kw: object):  # type: ignore[no-untyped-def]
    verdicts = assess(instruments, reporting_year=YEAR, claimants=CLAIMANTS)
    return allocate(consumption, verdicts, parents=PARENTS, **kw)  # type: ignore[arg-type]


def test_site_then_entity_then_group_pool() -> None:
    consumption = [_c("DC-A", "CLOUD", 100.0), _c("DC-B", "CLOUD", 100.0)]
    instruments = [
        _i("G-GROUP", 50.0, "GRP"),
        _i("G-CLOUD", 120.0, "CLOUD"),
        _i("G-SITE-B", 30.0, "DC-B"),
    ]
    result = _run(consumption, instruments)
    got = [(a.instrument, a.site, a.mwh, a.pool) for a in result.allocations]
    assert got == [
        ("G-SITE-B", "DC-B", 30.0, "site"),
        ("G-CLOUD", "DC-A", 100.0, "entity"),
        ("G-CLOUD", "DC-B", 20.0, "entity"),
        ("G-GROUP", "DC-B", 50.0, "group"),
    ]
    assert result.surplus_mwh == {"G-GROUP": 0.0, "G-CLOUD": 0.0, "G-SITE-B": 0.0}
    assert sum(a.mwh for a in result.allocations) == 200.0


def test_a_rule_without_the_group_pool_leaves_the_group_volume_as_surplus() -> None:
    result = _run(
        [_c("DC-A", "CLOUD", 100.0)],
        [_i("G-GROUP", 50.0, "GRP")],
        rule=AllocationRule(order=("site", "entity")),
    )
    assert result.allocations == ()
    assert result.surplus_mwh == {"G-GROUP": 50.0}


def test_an_invalid_rule_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^allocation order must list distinct pools"):
        AllocationRule(order=("site", "site"))
    with pytest.raises(ValueError, match=r"^allocation order must list distinct pools"):
        AllocationRule(order=("region",))


def test_certificates_before_contracts_before_supplier_products() -> None:
    # Outside China so that PPAs and tariffs are not excluded by Document 1044.
    consumption = [_c("DC-A", "CLOUD", 100.0, "US")]
    us = {"country": "US", "region": "US"}
    instruments = [
        _i("T", 100.0, "DC-A", type="green_tariff", co2_kg_per_mwh=50.0, **us),
        _i("P", 60.0, "DC-A", type="ppa_physical", **us),
        _i("R", 30.0, "DC-A", type="rec", **us),
    ]
    result = _run(consumption, instruments)
    assert [(a.instrument, a.mwh) for a in result.allocations] == [
        ("R", 30.0),
        ("P", 60.0),
        ("T", 10.0),
    ]
    assert result.surplus_mwh["T"] == 90.0
    (line,) = market_based(consumption, result.allocations, {})
    assert line.covered_co2e_kg == 10.0 * 50.0  # only the tariff carries a rate
    assert line.remainder_mwh == 0.0
    assert line.remainder_method is None
    assert line.co2e_kg == 500.0


def test_the_market_boundary_keeps_an_instrument_from_another_market() -> None:
    consumption = [_c("OF-HK", "GRP", 10.0, "HK"), _c("DC-A", "CLOUD", 10.0)]
    result = _run(consumption, [_i("G", 30.0, "GRP")])
    assert [(a.site, a.mwh) for a in result.allocations] == [("DC-A", 10.0)]
    assert result.surplus_mwh == {"G": 20.0}


def test_failed_and_onsite_instruments_are_excluded_with_their_reason() -> None:
    result = _run(
        [_c("DC-A", "CLOUD", 10.0)],
        [_i("OLD", 5.0, "DC-A", retired_on=None), _i("PV", 4.0, "DC-A", type="onsite")],
    )
    assert result.allocations == ()
    assert result.excluded == {
        "OLD": "not retired (cancelled) in the registry",
        "PV": "on-site generation is consumed at the site, not allocated to purchased electricity",
    }
    assert [a.instrument.instrument for a in result.onsite] == ["PV"]


def test_volume_already_allocated_elsewhere_is_not_allocated_again() -> None:
    result = _run(
        [_c("DC-A", "CLOUD", 100.0)],
        [_i("G", 60.0, "DC-A")],
        already_allocated_mwh={"G": 45.0},
    )
    assert [a.mwh for a in result.allocations] == [15.0]
    assert result.surplus_mwh == {"G": 0.0}
    assert result.records() == [
        {
            "instrument": "G",
            "site": "DC-A",
            "entity": "CLOUD",
            "period_start": JAN,
            "period_end": DEC,
            "mwh": 15.0,
            "rule": "site",
        }
    ]


FACTORS = {
    "supplier": FactorChoice(300.0, "user:supplier-x"),
    "residual": FactorChoice(609.6, "cn-mee:residual_mix:CN:2023"),
    "grid": FactorChoice(530.6, "cn-mee:location:CN:2023"),
}


@pytest.mark.parametrize(
    ("factors", "method", "factor_id", "flag"),
    [
        (
            RemainderFactors(FACTORS["supplier"], FACTORS["residual"], FACTORS["grid"]),
            "supplier",
            "user:supplier-x",
            None,
        ),
        (
            RemainderFactors(None, FACTORS["residual"], FACTORS["grid"]),
            "residual_mix",
            "cn-mee:residual_mix:CN:2023",
            None,
        ),
        (
            RemainderFactors(None, None, FACTORS["grid"]),
            "grid_average",
            "cn-mee:location:CN:2023",
            GRID_AVERAGE_FLAG,
        ),
    ],
)
def test_the_remainder_takes_the_best_factor_available(
    factors: RemainderFactors, method: str, factor_id: str, flag: str | None
) -> None:
    consumption = [_c("DC-A", "CLOUD", 100.0)]
    result = _run(consumption, [_i("G", 40.0, "DC-A")])
    (line,) = market_based(consumption, result.allocations, {"DC-A": factors})
    assert (line.covered_mwh, line.remainder_mwh) == (40.0, 60.0)
    assert (line.remainder_method, line.remainder_factor_id, line.data_quality_flag) == (
        method,
        factor_id,
        flag,
    )
    rate = {"supplier": 300.0, "residual_mix": 609.6, "grid_average": 530.6}[method]
    assert line.co2e_kg == pytest.approx(60.0 * rate, rel=1e-12)
    assert line.instruments == ("G",)


def test_no_factor_or_strict_grid_average_raises() -> None:
    consumption = [_c("DC-A", "CLOUD", 100.0)]
    with pytest.raises(FactorNotFoundError, match=r"^no factor for the 100 MWh of site DC-A"):
        market_based(consumption, [], {}, year=YEAR)
    with pytest.raises(FactorNotFoundError, match=r"strict refuses the grid average$"):
        market_based(
            consumption, [], {"DC-A": RemainderFactors(grid_average=FACTORS["grid"])}, strict=True
        )


def test_re_share_by_site_entity_and_group_with_onsite_generation() -> None:
    consumption = [_c("DC-A", "CLOUD", 100.0), _c("DC-B", "CLOUD", 300.0)]
    instruments = [
        _i("G", 100.0, "DC-A"),
        _i("NUC", 50.0, "DC-B", technology="nuclear"),  # carbon-free, not renewable
        _i("PV", 100.0, "DC-B", type="onsite"),
    ]
    result = _run(consumption, instruments)
    by_site = {s.code: s for s in re_share(consumption, result, year=YEAR)}
    assert by_site["DC-A"].re_share == 1.0
    # DC-B: 300 purchased + 100 on-site; renewable = 100 on-site (nuclear does not count).
    assert by_site["DC-B"].total_mwh == 400.0
    assert by_site["DC-B"].renewable_mwh == 100.0
    assert by_site["DC-B"].re_share == 0.25
    by_entity = {s.code: s for s in re_share(consumption, result, level="entity", parents=PARENTS)}
    assert by_entity["CLOUD"].re_share == by_entity["GRP"].re_share == 200.0 / 500.0
    (group,) = re_share(consumption, result, level="group")
    assert (group.code, group.re_share) == ("GROUP", 0.4)


def test_re100_share_leaves_out_instruments_failing_re100_only() -> None:
    consumption = [_c("DC-A", "CLOUD", 100.0)]
    old = _i("OLD", 100.0, "DC-A", commissioned=date(2000, 1, 1))  # new contract, 24-year plant
    result = _run(consumption, [old])
    assert [a.mwh for a in result.allocations] == [100.0]  # still valid for scope 2
    (re100,) = re_share(consumption, result)
    (plain,) = re_share(consumption, result, re100=False)
    assert (re100.re_share, plain.re_share) == (0.0, 1.0)


def test_re_progress() -> None:
    late = re_progress({2021: 0.10, 2024: 0.22}, target_year=2030)
    assert late.gap == pytest.approx(0.78)
    assert late.required_per_year == pytest.approx(0.13)
    assert late.achieved_per_year == pytest.approx(0.04)
    assert not late.on_track
    done = re_progress({2029: 1.0}, target_year=2030)
    assert done.on_track
    assert done.gap == 0.0
    missed = re_progress({2031: 0.9}, target_year=2030)
    assert not missed.on_track
    with pytest.raises(ValueError, match=r"^shares is empty"):
        re_progress({}, target_year=2030)


def test_arrow_adapters_for_the_engine() -> None:
    import pyarrow as pa

    from esgledger.renewables.allocation import LINES_SCHEMA, consumption_from_table, lines_table

    table = pa.table(
        {
            "site": ["DC-A"],
            "entity": ["CLOUD"],
            "country": ["CN"],
            "region": [None],
            "period_start": pa.array([JAN], pa.date32()),
            "period_end": pa.array([DEC], pa.date32()),
            "quantity_mwh": [100.0],
        }
    )
    (row,) = consumption_from_table(table)
    assert row == _c("DC-A", "CLOUD", 100.0)
    result = _run([row], [_i("G", 40.0, "DC-A")])
    factors = {"DC-A": RemainderFactors(residual_mix=FACTORS["residual"])}
    out = lines_table(market_based([row], result.allocations, factors))
    assert out.schema == LINES_SCHEMA
    (line,) = out.to_pylist()
    assert line["instruments"] == ["G"]
    assert line["co2e_kg"] == pytest.approx(60.0 * 609.6)
    with pytest.raises(KeyError, match=r"lacks the columns quantity_mwh"):
        consumption_from_table(table.drop_columns(["quantity_mwh"]))
