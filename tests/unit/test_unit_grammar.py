"""The guard in front of pint (issue 11, defect 9): every unit text goes through one
length limit and one allow-list grammar, and every failure is a :class:`UnitError`."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from esgledger.errors import UnitError
from esgledger.units import (
    ALIASES,
    MAX_UNIT_CHARS,
    check_unit_grammar,
    conversion_factor,
    fits_dimension,
    parse_unit,
)

#: Texts that raised ZeroDivisionError, TokenError, AssertionError, OverflowError or
#: RecursionError out of pint before the guard, and texts pint read as units though they are
#: not (an infinite or huge scale, a fractional power, code after a semicolon).
HOSTILE = [
    "kWh/0",
    "(",
    "()",
    '__import__("os").system("id")',
    "__import__('os')",
    "kWh**1000000",
    "kWh**1e10",
    "kWh**0.5",
    "kWh**5",
    "kWh^-9",
    "m²²",
    "*".join(["kWh"] * 2000),
    "(" * 200 + "kWh" + ")" * 200,
    "((((kWh))))",
    "inf kWh",
    "nan kWh",
    "1e308 kWh",
    "1e999 kWh",
    "1e-12 kWh",
    "kWh/1e-9/1e-9",
    "kWh; 1",
    "lambda: 1",
    "kWh.real",
    "kWh[0]",
    "kWh*",
    "/kWh",
    "kWh)",
    "**2",
    "kWh\x00",
    "kWh\u202e",
    "kWh" * 30,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_unit_texts_are_unknown_units(text: str) -> None:
    with pytest.raises(UnitError, match=r"^unknown unit '") as caught:
        parse_unit(text)
    message = str(caught.value)
    assert len(message) < 300
    assert all(c.isprintable() for c in message)


@pytest.mark.parametrize(
    "spec",
    ["[energy]/0", "[", "[]", "[energy]**1000000", "*".join(["[energy]"] * 2000), "[e].x"],
)
def test_hostile_dimensions_are_unknown_dimensions(spec: str) -> None:
    with pytest.raises(UnitError, match=r"^unknown dimension '"):
        fits_dimension("kWh", spec)


def _spellings_in_use() -> list[str]:
    """Every unit the shipped tables and the aliases spell."""
    spellings = set(ALIASES) | set(ALIASES.values())
    schema = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    spellings |= {row["unit"] for row in csv.DictReader(schema.splitlines())}
    factors = resources.files("esgledger.data.factors")
    for entry in factors.iterdir():
        if entry.name.endswith(".csv"):
            rows = csv.DictReader(entry.read_text("utf-8").splitlines())
            spellings |= {row["unit"] for row in rows}
    return sorted(spellings)


@pytest.mark.parametrize("text", _spellings_in_use())
def test_every_spelling_in_use_passes_the_grammar(text: str) -> None:
    parse_unit(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kWh**-1", "1/kWh"),
        ("kWh^2", "kWh**2"),
        ("m³", "m**3"),
        ("km²", "km**2"),
        ("GJ/(10000 Nm3)", "1e-4 GJ/Nm3"),
        ("kWh·h", "kWh*h"),
        ("1000 kWh", "MWh"),
        ("'000 百万元", "1e9 CNY"),
    ],
)
def test_ordinary_expressions_still_parse(text: str, expected: str) -> None:
    assert conversion_factor(text, expected) == pytest.approx(1)


def test_degree_signs_are_unit_names() -> None:
    assert parse_unit("°C").units == parse_unit("degC").units


def test_the_length_limit_is_checked_before_anything_else() -> None:
    check_unit_grammar("k" * MAX_UNIT_CHARS)
    with pytest.raises(UnitError, match=f"longer than {MAX_UNIT_CHARS} characters"):
        parse_unit("k" * (MAX_UNIT_CHARS + 1))
    with pytest.raises(UnitError, match=r"… \(10,000,000 characters\)"):
        parse_unit("k" * 10_000_000)


def test_a_refused_text_is_named_escaped_and_short() -> None:
    with pytest.raises(UnitError) as caught:
        parse_unit("\x1b[2J")
    assert "'\\x1b[2J'" in str(caught.value)
    assert caught.value.unit == "\x1b[2J"
