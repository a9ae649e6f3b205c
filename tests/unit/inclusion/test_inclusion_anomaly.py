"""Anomaly scores per account (esgledger.inclusion.anomaly): reference domain-modules.md §3.3
("IsolationForest over trips/day, night-time share and repeated OD pairs")."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from _inclusion_trips import trip_table
from esgledger.inclusion import anomaly
from esgledger.inclusion import methodology as m

SZ = m.get("shenzhen-transit")
UTC = dt.UTC


def _normal_accounts(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for a in range(n):
        for day in range(5):  # two daytime commutes a day, varied distances
            for k, hour in enumerate((0, 10)):  # 08:00 and 18:00 in Shenzhen
                rows.append(
                    {
                        "account": f"p{a:03d}",
                        "trip_id": f"{a}-{day}-{k}",
                        "start": dt.datetime(2026, 1, 1 + day, hour, a % 50, tzinfo=UTC),
                        "distance_m": 3_000 + 997 * ((a * 7 + day * 3 + k) % 13),
                    }
                )
    return rows


def _farmer() -> list[dict[str, object]]:
    # 12 trips a night, 01:00-03:45 local, all the same distance (one OD pair)
    return [
        {
            "account": "pfarm",
            "trip_id": f"f{day}-{k}",
            "start": dt.datetime(2026, 1, 1 + day, 17, 0, tzinfo=UTC)
            + dt.timedelta(minutes=15 * k),
            "distance_m": 5_000,
        }
        for day in range(5)
        for k in range(12)
    ]


def test_features_hand_worked() -> None:
    rows = [
        {"account": "a", "trip_id": "1", "start": dt.datetime(2026, 1, 1, 17, tzinfo=UTC)},  # 01:00
        {"account": "a", "trip_id": "2", "start": dt.datetime(2026, 1, 2, 2, tzinfo=UTC)},  # 10:00
        {
            "account": "a",
            "trip_id": "3",
            "start": dt.datetime(2026, 1, 2, 4, tzinfo=UTC),
            "distance_m": 7_000,
        },
    ]
    (row,) = anomaly.features(trip_table(*rows), "Asia/Shanghai").to_pylist()
    # local days 01-02 (trips 1, 2, 3 all on 2026-01-02 local) -> 1 active day
    assert (row["trips"], row["active_days"]) == (3, 1)
    assert row["trips_per_active_day"] == 3.0
    assert row["night_share"] == pytest.approx(1 / 3)
    assert row["top_pair_share"] == pytest.approx(2 / 3)  # two metro trips of 12 000 m


def test_origin_destination_columns_are_used_when_present() -> None:
    table = trip_table(
        {"trip_id": "1"}, {"trip_id": "2", "start": dt.datetime(2026, 1, 1, 3, tzinfo=UTC)}
    )
    table = table.append_column("origin", [["A", "A"]]).append_column("destination", [["B", "C"]])
    (row,) = anomaly.features(table, "Asia/Shanghai").to_pylist()
    assert row["top_pair_share"] == 0.5


def test_an_account_farming_night_trips_is_held_with_its_features() -> None:
    result = anomaly.score(trip_table(*_normal_accounts(80), *_farmer()), SZ)
    assert result.skipped is None
    assert result.accounts == 81
    held = result.held.to_pylist()
    assert held[0]["account"] == "pfarm"
    assert held[0]["score"] > 1.0
    assert held[0]["night_share"] == 1.0
    assert held[0]["trips_per_active_day"] == 12.0
    assert held[0]["top_pair_share"] == 1.0
    assert len(held) <= 2  # contamination 1 % of 81 accounts


def test_scores_are_reproducible() -> None:
    table = trip_table(*_normal_accounts(60), *_farmer())
    assert anomaly.score(table, SZ).held.equals(anomaly.score(table, SZ).held)


def test_too_few_accounts_are_not_scored() -> None:
    result = anomaly.score(trip_table(*_normal_accounts(49)), SZ)
    assert result.held.num_rows == 0
    assert result.skipped is not None
    assert result.skipped.en == "anomaly score skipped: 49 account(s), at least 50 needed"
    rules = dataclasses.replace(SZ.rules, anomaly_min_accounts=49)
    assert (
        anomaly.score(
            trip_table(*_normal_accounts(49)), dataclasses.replace(SZ, rules=rules)
        ).skipped
        is None
    )


def test_accounts_with_fewer_than_three_trips_are_not_scored() -> None:
    rows: list[dict[str, object]] = [*_normal_accounts(50), {"account": "once", "trip_id": "x"}]
    assert anomaly.score(trip_table(*rows), SZ).accounts == 50
