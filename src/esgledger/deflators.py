"""Price indexes by year, to express spend in the price year of a spend-based factor.

价格指数（按年）：将支出金额折算到支出类排放因子的价格基准年。

A spend-based factor is per unit of money *of its price year*: EPA's Supply Chain GHG Emission
Factors v1.3 (USEEIO v2.2) are in kg CO2e per **2022 USD**, purchaser price (the dataset's
unit, ``kg CO2e/2022 USD, purchaser price``; ``price_year`` 2022 in the shipped set
``useeio-1.3.0``). Spend of another year must first be expressed in that year's dollars; the
GHG Protocol spend-based method applies the factor "with inflation adjustment between the EEIO
price year and the activity year" (standards-and-data.md §1.7)::

    spend_in_price_year = spend × index(price_year) / index(spend_year)      (adjust)

Shipped index (``esgledger/data/deflators/us-cpi-u.csv``)
---------------------------------------------------------
U.S. Bureau of Labor Statistics, Consumer Price Index for All Urban Consumers (CPI-U), U.S.
city average, all items, not seasonally adjusted, series ``CUUR0000SA0``, **annual average**
(BLS period M13), 1982-84 = 100, complete years 2000 to 2025. The 2025 average is BLS's
average of 11 months: the BLS data have no October 2025 index (not collected during the 2025
federal funding lapse). Built by ``tools/build_defaults_deflators.py`` from the BLS data that
the PyPI package ``cpi`` 2.1.0 ships (``cpi/cpi.db``); ``cpi`` is not a runtime dependency.
BLS data are U.S. Government work, in the public domain.

The index is a consumer price index: the usual proxy for the general price level when a
purchaser-price factor is deflated, not a producer price index of the factor's sector. A
year or country that is not in the table is an error (:class:`PriceIndexMissingError`);
esgledger never uses another year's index.

Joining in the engine: :func:`as_arrow` gives ``country``, ``year``, ``price_index``; join it
twice, on (``country``, spend year) and on (``country``, the factor's ``price_year``), and
multiply the spend (already converted to the factor's currency with the FX rate of the spend
year) by ``price_index(price_year) / price_index(spend_year)``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa

from esgledger.errors import PriceIndexMissingError

__all__ = [
    "DEFAULT_COUNTRY",
    "PriceIndexMissingError",
    "adjust",
    "as_arrow",
    "meta",
    "price_index",
    "years",
]

#: The country whose index is used unless another is named (the USEEIO factors are USD).
DEFAULT_COUNTRY = "US"
_FILES = {"US": "us-cpi-u"}


@dataclass(frozen=True, slots=True)
class _Index:
    country: str
    series: str
    values: dict[int, float]  # year -> annual-average index [1982-84 = 100]


@cache
def _load(country: str) -> _Index:
    name = _FILES[country]
    folder = resources.files("esgledger.data.deflators")
    rows = list(csv.DictReader(folder.joinpath(f"{name}.csv").read_text("utf-8").splitlines()))
    return _Index(
        country=country,
        series=rows[0]["series"],
        values={int(r["year"]): float(r["price_index"]) for r in rows},
    )


def _index(country: str) -> _Index:
    code = country.strip().upper()
    if code not in _FILES:
        raise PriceIndexMissingError(
            f"no price index for country {country!r}; shipped: {', '.join(sorted(_FILES))}",
            country=code,
        )
    return _load(code)


def years(country: str = DEFAULT_COUNTRY) -> tuple[int, ...]:
    """The years with an index for ``country``, ascending."""
    return tuple(sorted(_index(country).values))


def meta(country: str = DEFAULT_COUNTRY) -> dict[str, Any]:
    """Source, series, licence, attribution and build details of the shipped index."""
    folder = resources.files("esgledger.data.deflators")
    data: dict[str, Any] = json.loads(
        folder.joinpath(f"{_FILES[_index(country).country]}.meta.json").read_text("utf-8")
    )
    return data


def price_index(year: int, country: str = DEFAULT_COUNTRY) -> float:
    """The annual-average price index of ``country`` in ``year`` [index points, 1982-84 = 100
    for the U.S. CPI-U, BLS series CUUR0000SA0, period M13].

    Raises
    ------
    PriceIndexMissingError
        If the country has no shipped index, or the year is not in it.
    """
    index = _index(country)
    try:
        return index.values[int(year)]
    except KeyError:
        span = f"{min(index.values)}-{max(index.values)}"
        raise PriceIndexMissingError(
            f"no {index.series} price index for {index.country} in {year} (shipped: {span}, "
            "complete years only); esgledger does not use another year's index",
            country=index.country,
            year=int(year),
        ) from None


def adjust(amount: float, from_year: int, to_year: int, country: str = DEFAULT_COUNTRY) -> float:
    """Express ``amount`` of money of ``from_year`` in prices of ``to_year``.

    ``amount × price_index(to_year) / price_index(from_year)`` [same currency, prices of
    ``to_year``]; e.g. 2024 USD into the 2022 USD of a USEEIO v1.3 factor:
    ``adjust(spend_usd_2024, 2024, 2022)``.

    >>> round(adjust(100.0, 2024, 2022), 4)  # BLS CPI-U annual averages 292.655 / 313.689
    93.2946

    Raises
    ------
    PriceIndexMissingError
        If either year (or the country) has no index.
    """
    ratio = price_index(to_year, country) / price_index(from_year, country)  # [1]
    return amount * ratio


def as_arrow(country: str | None = None) -> pa.Table:
    """The shipped indexes as a table for joins: ``country`` (ISO 3166-1 alpha-2), ``year``,
    ``price_index`` [index points], ``series`` (the statistical series id), sorted by country
    and year; all countries unless ``country`` is given."""
    codes = [_index(country).country] if country is not None else sorted(_FILES)
    rows = [
        {"country": code, "year": year, "price_index": value, "series": _load(code).series}
        for code in codes
        for year, value in sorted(_load(code).values.items())
    ]
    schema = pa.schema(
        [
            ("country", pa.string()),
            ("year", pa.int64()),
            ("price_index", pa.float64()),
            ("series", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
