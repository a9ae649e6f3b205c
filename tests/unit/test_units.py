"""The unit registry: definitions checked against the legal definitions of the units.

Exact values: NIST Special Publication 811 (2008 edition), Appendix B.8/B.9 — US gallon
= 3.785 411 784 L, pound = 0.453 592 37 kg (so short ton = 907.184 74 kg), foot = 0.3048 m;
British thermal unit = 1 055.056 J as ISO 31-4 and pint define it (the International Table
Btu, 1 055.055 852 62 J, differs by 1e-7 relative, below any factor's precision). These are
definitions, so the tolerance is floating-point rounding only (rel 1e-12).
"""

from __future__ import annotations

import re

import pytest

from esgledger.errors import UnitError
from esgledger.units import (
    conversion_factor,
    currency_of,
    define_currency,
    fits_dimension,
    normalize_unit,
    parse_unit,
)

EXACT = 1e-12


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("MWh", "kWh", 1000.0),
        ("GJ", "kWh", 1e9 / 3.6e6),
        ("TJ", "GJ", 1000.0),
        ("mmBtu", "GJ", 1.055056),
        ("therm", "mmBtu", 0.1),
        ("US gal", "L", 3.785411784),
        ("short ton", "kg", 907.18474),
        ("t", "kg", 1000.0),
        ("吨", "kg", 1000.0),
        ("度", "kWh", 1.0),
        ("万千瓦时", "MWh", 10.0),
        ("mile", "km", 1.609344),
        ("short ton-mile", "tonne * km", 0.90718474 * 1.609344),
        ("m2", "ft2", 1 / 0.3048**2),
        ("平方米", "m2", 1.0),
        ("万元", "CNY", 10000.0),
        ("亿元", "万元", 10000.0),
    ],
)
def test_conversion_factors_follow_the_unit_definitions(
    source: str, target: str, expected: float
) -> None:
    assert conversion_factor(source, target) == pytest.approx(expected, rel=EXACT)


def test_standard_gas_volumes_convert_by_the_ideal_gas_law() -> None:
    # scf is at 60 degF (288.70556 K), Nm3 at 0 degC (273.15 K), both at 1 atm:
    # 1 scf = 0.3048**3 m3 * 273.15 / 288.70556 at normal conditions.
    expected = 0.3048**3 * 273.15 / (273.15 + (60 - 32) * 5 / 9)
    assert conversion_factor("scf", "Nm3") == pytest.approx(expected, rel=EXACT)
    assert conversion_factor("Sm3", "Nm3") == pytest.approx(273.15 / 288.15, rel=EXACT)


def test_a_standard_gas_volume_is_not_a_geometric_volume() -> None:
    with pytest.raises(UnitError, match=r"cannot convert 'scf' .* to 'm3'"):
        conversion_factor("scf", "m3")


def test_currencies_never_convert_into_each_other_by_unit_arithmetic() -> None:
    with pytest.raises(UnitError, match="cannot convert 'USD'"):
        conversion_factor("USD", "CNY")


@pytest.mark.parametrize(
    ("unit", "required", "fits"),
    [
        ("kWh", "[energy]", True),
        ("L", "[volume] | [mass] | [energy]", True),
        ("kg", "[energy]", False),
        ("tkm", "[mass] * [length]", True),
        ("pkm", "[passenger] * [length]", True),
        ("vkm", "[passenger] * [length]", False),
        ("间夜", "[room_night]", True),
        ("万元", "[currency]", True),
        ("HKD", "[currency]", True),
        ("kWh", "[currency]", False),
        ("Nm3", "[substance]", True),
        ("MWh", "kWh", True),
    ],
)
def test_fits_dimension(unit: str, required: str, fits: bool) -> None:
    assert fits_dimension(unit, required) is fits


def test_currency_of_a_money_unit() -> None:
    assert currency_of("万元") == "CNY"
    assert currency_of("US$") == "USD"
    assert currency_of("kWh") is None
    assert currency_of("USD / kWh") is None


def test_user_spellings_are_normalised() -> None:
    assert normalize_unit(" KWH ") == "kWh"
    assert normalize_unit("tonne.km") == "tonne * km"
    assert normalize_unit("kWh (Net CV)") == "kWh"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the unit is empty"),
        ("widgets", "unknown unit 'widgets'"),
        ("1000", "'1000' is a number, not a unit"),
    ],
)
def test_bad_units_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_unit(text)


def test_define_currency_adds_an_iso_code_once() -> None:
    define_currency("NZD")
    define_currency("NZD")
    assert currency_of("NZD") == "NZD"
    with pytest.raises(UnitError, match="'nzd' is not an ISO 4217 currency code"):
        define_currency("nzd")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'000 kWh", "1000 kWh"),  # HKEX ESG Reporting Guide KPI A2.1: "kWh in '000s"
        ("’000 kWh", "1000 kWh"),
        ("CNY million", "1000000 CNY"),
        ("million HKD", "1000000 HKD"),
        ("USD bn", "1e9 USD"),
        ("百万港元", "1000000 HKD"),
        ("万元", "10000 CNY"),
    ],
)
def test_scaled_spellings_parse_to_their_scale(text: str, expected: str) -> None:
    assert parse_unit(text) == parse_unit(expected)


def test_employees_are_a_counted_unit_with_chinese_spellings() -> None:
    assert parse_unit("人") == parse_unit("employee") == parse_unit("employees")
    with pytest.raises(UnitError):  # a headcount is not a full-time equivalent
        conversion_factor("employee", "FTE")


def test_a_spelling_that_reads_as_zero_is_not_a_unit() -> None:
    with pytest.raises(UnitError, match=r"'0 kWh' is not a unit: it reads as 0 kilowatt_hour"):
        parse_unit("0 kWh")


# ---- case and ambiguous spellings (issue 10, section 5) -----------------------------------


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("KG", "kg"),  # refused before while KWH was accepted: now both, by the same rule
        ("Kg", "kg"),
        ("KWH", "kWh"),
        ("Kwh", "kWh"),
        ("GJ", "GJ"),
        ("gj", "GJ"),
        ("KM", "km"),
        ("M3", "m**3"),
        ("cny", "CNY"),
        ("krw", "KRW"),  # any currency code, not only those the aliases spell
        ("THERM", "therm"),
        ("TKM", "tonne * km"),
        ("T", "tonne"),  # exactly, pint reads a tesla; no activity is measured in teslas
        ("Mt", "megatonne"),
    ],
)
def test_a_unit_is_matched_regardless_of_case_when_only_one_unit_fits(text: str, unit: str) -> None:
    assert conversion_factor(text, unit) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("mwh", "mWh (milliwatt_hour) or MWh (megawatt_hour)"),
        ("MWH", "mWh (milliwatt_hour) or MWh (megawatt_hour)"),
        ("mj", "mJ (millijoule) or MJ (megajoule)"),
        ("MM", "mm (millimeter) or Mm (megameter)"),
    ],
)
def test_a_spelling_whose_case_picks_the_si_prefix_is_refused(text: str, choices: str) -> None:
    with pytest.raises(UnitError, match=re.escape(f"unit {text!r} is ambiguous")) as caught:
        parse_unit(text)
    assert str(caught.value).endswith(f"write {choices}")


def test_exact_spellings_keep_their_case_sensitive_meaning() -> None:
    assert conversion_factor("MWh", "kWh") == 1000.0
    assert conversion_factor("mL", "L") == pytest.approx(0.001)
    assert conversion_factor("mm", "m") == pytest.approx(0.001)
    assert conversion_factor("Mm", "km") == pytest.approx(1000.0)


@pytest.mark.parametrize("text", ["ton", "tons", "Ton", "TONS", "ton*km", "ton km"])
def test_ton_is_refused_as_ambiguous(text: str) -> None:
    with pytest.raises(UnitError, match=r"ambiguous.*write t \(or tonne, 吨\) or short_ton"):
        parse_unit(text)


@pytest.mark.parametrize("text", ["mt", "MT"])
def test_mt_is_refused_as_ambiguous(text: str) -> None:
    with pytest.raises(UnitError, match=r"write t \(metric tonne\) or Mt \(megatonne\)"):
        parse_unit(text)


@pytest.mark.parametrize(
    ("text", "kg"), [("tonne", 1000.0), ("t", 1000.0), ("吨", 1000.0), ("short_ton", 907.18474)]
)
def test_the_unambiguous_tons_still_convert(text: str, kg: float) -> None:
    assert conversion_factor(text, "kg") == pytest.approx(kg, rel=1e-12)


def test_the_unknown_unit_message_points_at_the_units_command() -> None:
    with pytest.raises(UnitError, match="run `esgledger units` for the units accepted"):
        parse_unit("widgets")
