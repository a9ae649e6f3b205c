"""esgledger.deflators: price indexes by year and the adjustment of spend between years."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from esgledger import deflators
from esgledger.deflators import PriceIndexMissingError, adjust, price_index
from esgledger.errors import EsgledgerError


def test_public_api() -> None:
    assert deflators.__all__ == [
        "DEFAULT_COUNTRY",
        "PriceIndexMissingError",
        "adjust",
        "as_arrow",
        "meta",
        "price_index",
        "years",
    ]


def test_years_are_the_complete_years_from_2000_without_gaps() -> None:
    years = deflators.years()
    assert years == tuple(range(2000, years[-1] + 1))
    assert years[-1] >= 2024


def test_adjust_is_the_ratio_of_the_two_indexes() -> None:
    # spend_in_to_year = spend x index(to_year) / index(from_year)
    assert adjust(1000.0, 2024, 2022) == pytest.approx(
        1000.0 * price_index(2022) / price_index(2024), rel=1e-15
    )
    assert adjust(1000.0, 2024, 2022) < 1000.0  # prices rose from 2022 to 2024
    assert adjust(1000.0, 2022, 2024) > 1000.0


def test_adjust_worked_example_against_hand_arithmetic() -> None:
    # 1,000 USD of 2024 in 2022 USD (USEEIO v1.3 price year): BLS CPI-U annual averages
    # 2022 = 292.655, 2024 = 313.689; 1000 x 292.655 / 313.689 = 932.9463... (by hand).
    assert adjust(1000.0, 2024, 2022) == pytest.approx(932.9463, abs=5e-5)


def test_adjust_round_trips_and_same_year_is_identity() -> None:
    assert adjust(123.45, 2021, 2021) == 123.45
    there = adjust(123.45, 2019, 2024)
    assert adjust(there, 2024, 2019) == pytest.approx(123.45, rel=1e-12)
    # chaining years is the same as going directly
    assert adjust(adjust(50.0, 2010, 2015), 2015, 2020) == pytest.approx(
        adjust(50.0, 2010, 2020), rel=1e-12
    )


def test_country_is_case_insensitive() -> None:
    assert price_index(2022, "us") == price_index(2022)


def test_a_missing_year_is_an_error_never_a_fallback() -> None:
    last = deflators.years()[-1]
    message = (
        f"no CUUR0000SA0 price index for US in {last + 1} (shipped: 2000-{last}, complete "
        "years only); esgledger does not use another year's index"
    )
    with pytest.raises(PriceIndexMissingError, match=f"^{re.escape(message)}$") as info:
        adjust(100.0, last + 1, 2022)
    assert (info.value.country, info.value.year) == ("US", last + 1)
    assert isinstance(info.value, EsgledgerError)
    assert isinstance(info.value, LookupError)
    with pytest.raises(
        PriceIndexMissingError, match=r"^no CUUR0000SA0 price index for US in 1999 "
    ):
        price_index(1999)


def test_an_unknown_country_is_an_error() -> None:
    with pytest.raises(
        PriceIndexMissingError, match=r"^no price index for country 'CN'; shipped: US$"
    ) as info:
        price_index(2022, "CN")
    assert (info.value.country, info.value.year) == ("CN", None)


def test_as_arrow_for_joins() -> None:
    table = deflators.as_arrow()
    assert table.schema == pa.schema(
        [
            ("country", pa.string()),
            ("year", pa.int64()),
            ("price_index", pa.float64()),
            ("series", pa.string()),
        ]
    )
    assert table.num_rows == len(deflators.years())
    rows = {(r["country"], r["year"]): r["price_index"] for r in table.to_pylist()}
    assert rows[("US", 2022)] == price_index(2022)
    assert set(table.column("series").to_pylist()) == {"CUUR0000SA0"}
    assert deflators.as_arrow("us").equals(table)


def test_meta_names_source_licence_and_the_spend_factors_price_year() -> None:
    info = deflators.meta()
    assert info["source"].startswith("U.S. Bureau of Labor Statistics (BLS), Consumer Price Index")
    assert info["licence"] == "U.S. Government work (BLS): public domain in the United States"
    assert "2022 USD" in info["price_year_of_spend_factors"]
    assert info["rows"] == len(deflators.years())
    assert info["years"] == [deflators.years()[0], deflators.years()[-1]]
