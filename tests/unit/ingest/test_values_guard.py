"""The one guard of import numbers (issue 11, defect 6): grammar, finiteness, bounds as data,
and the arithmetic that keeps every accepted product inside the engine's DECIMAL(38, 9)."""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from esgledger.errors import InputError, UnitError
from esgledger.ingest.values_guard import (
    DECIMAL_LIMIT_KG,
    GENERIC_CEILING,
    LINE_CEILING_KG,
    NumberError,
    bound_for,
    bound_problem,
    bounds,
    check_number,
    line_ceiling_by_dimension,
    measure_of_column,
    parse_number,
    quantity_limit,
    unit_scale_problem,
)
from esgledger.inventory.runs import check_line_ceiling
from esgledger.units import fits_dimension, parse_unit


@pytest.mark.parametrize(
    ("text", "number"),
    [("1234.5", 1234.5), ("-5", -5.0), ("+5", 5.0), ("5.", 5.0), (".5", 0.5), ("1.2e6", 1.2e6),
     ("1E-3", 1e-3), (" 7 ", 7.0), ("１２", 12.0), ("0", 0.0)],
)  # fmt: skip
def test_the_grammar_accepts_plain_decimals_and_exponents(text: str, number: float) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1,000", "not a number: it contains a comma"),
        ("1_000", "not a number: it contains an underscore"),
        ("1 000", "not a number: it contains a blank"),
        ("1'000", "not a number: it contains an apostrophe"),
        ("0x10", "not a number: hexadecimal, binary and octal numbers are not accepted"),
        ("0b101", "not a number: hexadecimal, binary and octal numbers are not accepted"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("nan", "not a finite number"),
        ("1e999", "not a finite number"),
        ("٣", "not a number"),  # an Arabic-Indic digit: float() would take it
        ("12 kWh", "not a number"),
        ("", "not a number"),
        ("1e", "not a number"),
    ],
)
def test_the_grammar_refuses_everything_else(text: str, problem: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_number(text)
    assert str(caught.value) == problem


def test_cells_that_are_numbers_skip_the_grammar_but_not_finiteness() -> None:
    assert parse_number(12) == 12.0
    assert parse_number(2.5) == 2.5
    for value in (math.inf, -math.inf, math.nan, 10**400):
        with pytest.raises(NumberError, match="not a finite number"):
            parse_number(value)
    with pytest.raises(NumberError):
        parse_number(True)


def test_every_bound_is_well_formed() -> None:
    measures = {b.measure for b in bounds()}
    assert {"quantity", "factor", "fx_rate", "t_co2e", "mwh", "any"} <= measures
    for bound in bounds():
        assert bound.min <= bound.max, bound
        assert max(abs(bound.min), abs(bound.max)) <= GENERIC_CEILING, bound
        assert bound.rationale, bound
        if bound.dimension and bound.dimension != "[currency]":
            assert fits_dimension(bound.unit, bound.dimension), bound


def test_every_activity_dimension_has_a_quantity_and_a_factor_bound() -> None:
    text = resources.files("esgledger.schema").joinpath("activity_types.csv").read_text("utf-8")
    dimensions = {
        part.strip()
        for row in csv.DictReader(text.splitlines())
        for part in row["dimension"].split("|")
    }
    ceilings = line_ceiling_by_dimension()
    assert dimensions <= set(ceilings), dimensions - set(ceilings)


def test_the_arithmetic_of_the_decimal_range() -> None:
    """The proof of the module docstring, step by step."""
    # 1. Each dimension: largest accepted quantity x largest accepted factor <= 1e18 kg.
    for dimension, ceiling in line_ceiling_by_dimension().items():
        assert ceiling <= LINE_CEILING_KG, (dimension, ceiling)
    # 2. A GWP-weighted gas column is bounded as CO2e, so CH4 and N2O add nothing beyond it.
    assert bound_problem(1e5 / 300, "factor", "kg", column="n2o_kg") is None
    assert bound_problem(1e5, "factor", "kg", column="n2o_kg") is not None
    # 3. Fewer than 1e10 lines of at most 1e18 kg sum to less than 1e28 < 1e29.
    assert LINE_CEILING_KG * 1e10 <= DECIMAL_LIMIT_KG / 10
    # 4. DuckDB agrees: a million lines at the ceiling sum as DECIMAL(38, 9).
    con = duckdb.connect()
    total = con.execute(
        f"SELECT sum(CAST({LINE_CEILING_KG!r} AS DECIMAL(38, 9))) FROM range(1000000)"
    ).fetchone()
    assert total is not None
    assert abs(total[0] - Decimal(10) ** 24) < Decimal(10) ** 12  # the cast's rounding


def test_shipped_factors_lie_within_the_factor_bounds() -> None:
    """The rationale of each factor bound holds for every factor esgledger ships."""
    folder = resources.files("esgledger.data.factors")
    checked = 0
    for entry in folder.iterdir():
        if not entry.name.endswith(".csv"):
            continue
        for row in csv.DictReader(entry.read_text("utf-8").splitlines()):
            for column in ("co2e_kg", "co2_kg", "ch4_kg", "n2o_kg", "biogenic_co2_kg"):
                if row.get(column):
                    problem = bound_problem(
                        float(row[column]), "factor", row["unit"], column=column
                    )
                    assert problem is None, (entry.name, row["factor_id"], column, problem)
                    checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    ("value", "unit", "refused"),
    [
        (1e14, "kWh", False),
        (1.0000001e14, "kWh", True),
        (1e11, "MWh", False),
        (1e27, "MWh", True),
        (1e13, "t", True),
        (1e10, "t", False),
        (1e15, "万元", True),  # 1e19 CNY
        (1e11, "万元", False),
        (-1e14, "kWh", False),  # corrections may be negative: the sign is another rule
    ],
)
def test_quantities_are_bounded_in_the_reference_unit(
    value: float, unit: str, refused: bool
) -> None:
    assert (bound_problem(value, "quantity", unit) is not None) is refused


def test_factors_are_bounded_per_reference_unit() -> None:
    assert bound_problem(10, "factor", "kWh") is None
    assert bound_problem(10_000, "factor", "MWh") is None  # 10 kg/kWh
    assert bound_problem(10_001, "factor", "MWh") is not None
    assert bound_problem(-1, "factor", "kWh") is None  # negative: the importer's own message


def test_named_measures_follow_their_columns() -> None:
    assert measure_of_column("t_co2e") == "t_co2e"
    assert measure_of_column("per_usd") == "fx_rate"
    assert measure_of_column("mwh") == "mwh"
    assert measure_of_column("ownership_pct") == "any"
    assert check_number("1e300", "fx_rate")[1] is not None
    assert check_number("7.2", "fx_rate") == (7.2, None)
    assert check_number("1e-9", "fx_rate")[1] is not None  # positive but far too small
    assert check_number("1e16")[1] is not None  # the generic ceiling
    assert bound_for("quantity", "no such unit")[0].measure == "any"


@pytest.mark.parametrize("unit", ["inf kWh", "1e308 kWh", "1e-300 kWh", "1e20 CNY"])
def test_a_unit_with_an_unusable_scale_is_refused(unit: str) -> None:
    """Refused by the unit parser (its grammar) or, if the parser takes it, by its scale."""
    try:
        parse_unit(unit)
    except UnitError:
        return
    assert unit_scale_problem(unit) is not None
    assert quantity_limit(unit) is None


@pytest.mark.parametrize("unit", ["kWh", "MWh", "万元", "t", "tkm", "Nm3", "1000 kWh"])
def test_ordinary_units_have_a_usable_scale(unit: str) -> None:
    assert unit_scale_problem(unit) is None
    assert quantity_limit(unit) is not None


def _lines(path: Path, co2e: list[float]) -> Path:
    pq.write_table(
        pa.table(
            {
                "batch_id": ["b-1"] * len(co2e),
                "row_number": list(range(2, 2 + len(co2e))),
                "activity": ["spend.naics.331110"] * len(co2e),
                "co2e_kg": co2e,
                "biogenic_co2_kg": [None] * len(co2e),
                "excluded": [False] * len(co2e),
            }
        ),
        path,
    )
    return path


def test_the_engine_refuses_a_line_beyond_the_ceiling(tmp_path: Path) -> None:
    check_line_ceiling(_lines(tmp_path / "ok.parquet", [LINE_CEILING_KG, 1.0]))
    with pytest.raises(InputError, match="1 line") as caught:
        check_line_ceiling(_lines(tmp_path / "bad.parquet", [1.0, 3e21]))
    assert caught.value.issues[0].row == 3
    with pytest.raises(InputError):
        check_line_ceiling(_lines(tmp_path / "inf.parquet", [math.inf]))
