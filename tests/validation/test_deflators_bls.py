"""The shipped U.S. CPI-U annual averages against the BLS data.

Reference: U.S. Bureau of Labor Statistics, CPI for All Urban Consumers (CPI-U), U.S. city
average, all items, not seasonally adjusted, series CUUR0000SA0, annual averages (period M13),
1982-84 = 100; as shipped by BLS in the data of the PyPI package ``cpi`` 2.1.0 (``cpi/cpi.db``,
which the build script reads). The comparison with the package's data runs when ``cpi`` is
installed (the ``dev`` extra) and skips otherwise.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import statistics
from pathlib import Path

import pytest

from esgledger import deflators


def _cpi_db() -> Path:
    spec = importlib.util.find_spec("cpi")  # locates the package without importing it
    if spec is None or spec.origin is None:
        pytest.skip("the cpi package (dev extra) is not installed")
    path = Path(spec.origin).parent / "cpi.db"
    if not path.exists():
        pytest.skip("the cpi package has no cpi.db")
    return path


def _bls(period_filter: str) -> list[tuple[int, str, float]]:
    with sqlite3.connect(f"file:{_cpi_db()}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT year, period, value FROM indexes WHERE series = 'CUUR0000SA0' AND "
            f"period {period_filter} AND year >= 2000 ORDER BY year, period"
        ).fetchall()


@pytest.mark.parametrize(
    ("year", "value"),
    [
        # BLS CPI-U U.S. city average annual averages as BLS publishes them (to 1 decimal up
        # to 2006, to 3 decimals since 2007); exact equality: the table carries BLS's digits.
        (2000, 172.2),
        (2010, 218.056),
        (2020, 258.811),
        (2021, 270.970),
        (2022, 292.655),
        (2023, 304.702),
        (2024, 313.689),
    ],
)
def test_published_annual_averages(year: int, value: float) -> None:
    assert deflators.price_index(year) == value


def test_every_shipped_year_equals_the_bls_annual_average_in_the_package() -> None:
    bls = {year: value for year, _, value in _bls("= 'M13'")}
    shipped = dict(
        zip(deflators.years(), map(deflators.price_index, deflators.years()), strict=True)
    )
    assert shipped == {year: value for year, value in bls.items() if year in shipped}
    # Complete years only: every year of the file with an annual average is shipped.
    assert set(shipped) == set(bls)


def test_annual_average_is_the_mean_of_the_monthly_indexes() -> None:
    # BLS computes the annual average as the arithmetic mean of the monthly indexes and rounds
    # it like them (1 decimal before 2007, 3 since): the shipped value must agree with that
    # mean to half a unit of its last digit. 2025 has 11 months (no October 2025 index).
    months: dict[int, list[float]] = {}
    for year, _, value in _bls("<> 'M13'"):
        months.setdefault(year, []).append(value)
    for year in deflators.years():
        half_unit = 0.05 if year < 2007 else 0.0005
        expected = statistics.fmean(months[year])
        assert deflators.price_index(year) == pytest.approx(expected, abs=half_unit), year
        assert len(months[year]) == (11 if year == 2025 else 12), year
