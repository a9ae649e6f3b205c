"""Programme results (esgledger.inclusion.results) with hand-worked numbers.

Amounts per /work/inclusion-design.md "Units": mg = floor(distance_m x factor [g/km]); the
Shenzhen methodology's metro factor is 46.7 g/pkm (issue 15, "Validation": a 12 km metro
ride = 560.4 g) and its electric-bus factor 26.9 g/pkm (a 6 km ride = 161.4 g).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _inclusion_support import (
    BUS_6KM_MG,
    METRO_12KM_MG,
    line,
    lines_table,
    write_programme,
)
from esgledger.inclusion import results as results_module
from esgledger.inclusion.results import (
    MethodologyUse,
    ProgrammeResults,
    TransferSum,
    account_class,
    programme_results,
    results_from,
    tonnes,
)
from esgledger.store import Workspace

Y2024 = {"period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 12, 31)}


def test_public_api_is_explicit() -> None:
    public = {n for n in dir(results_module) if not n.startswith("_")}
    assert set(results_module.__all__) <= public
    assert "programme_results" in results_module.__all__


def test_the_hand_worked_amounts_of_the_fixture() -> None:
    # 12 000 m x 46.7 mg/m and 6 000 m x 26.9 mg/m (issue 15, "Validation and scale")
    assert METRO_12KM_MG == 560_400
    assert BUS_6KM_MG == 161_400
    assert line("x", "p")["reduction_mg"] == METRO_12KM_MG


def test_two_12_km_metro_rides_avoid_0_0011208_t() -> None:
    lines = lines_table([line("t1", "p_a"), line("t2", "p_b")])
    result = results_from(lines, **Y2024)
    assert result.avoided_mg == 1_120_800
    assert result.avoided_t == Decimal("0.0011208")  # exact, not a float
    assert isinstance(result.avoided_t, Decimal)
    assert result.participants == 2
    assert (result.trips_settled, result.trips_refused, result.trips_pending) == (2, 0, 0)
    assert result.avoided_mg_by_mode == (("metro", 1_120_800),)
    assert result.avoided_mg_by_month == (("2024-03", 1_120_800),)
    assert result.methodologies == (
        MethodologyUse(
            "shenzhen-transit",
            "2021.1",
            "metro",
            "shenzhen-transit/2021.1/metro",
            "pkm",
            "46.7",
            2,
            1_120_800,
        ),
    )


def test_modes_months_refusals_and_participants() -> None:
    lines = lines_table(
        [
            line("t1", "p_a", trip_date=dt.date(2024, 1, 31)),
            line("t2", "p_a", trip_date=dt.date(2024, 2, 1)),
            line("t3", "p_b", mode="bus_electric", distance_m=6_000, trip_date=dt.date(2024, 2, 2)),
            line("t4", "p_c", status="refused", reason_code="cap.daily_trips"),
            line("t5", "p_c", status="refused", reason_code="cap.daily_trips"),
            line("t6", "p_d", status="refused", reason_code="rule.too_short"),
            line("t7", "p_e", status="pending", reason_code="consent.missing"),
        ]
    )
    result = results_from(lines, **Y2024)
    assert result.participants == 2  # p_c, p_d and p_e have no settled trip
    assert (result.trips_settled, result.trips_refused, result.trips_pending) == (3, 3, 1)
    assert result.trips == 7
    assert result.refusals_by_reason == (("cap.daily_trips", 2), ("rule.too_short", 1))
    assert result.avoided_mg == 2 * 560_400 + 161_400 == 1_282_200
    assert dict(result.avoided_mg_by_mode) == {"bus_electric": 161_400, "metro": 1_120_800}
    assert result.avoided_mg_by_month == (("2024-01", 560_400), ("2024-02", 721_800))
    assert result.avoided_mg_by_month_mode == (
        ("2024-01", "metro", 560_400),
        ("2024-02", "bus_electric", 161_400),
        ("2024-02", "metro", 560_400),
    )


def test_a_later_clawback_line_reverses_the_settled_one() -> None:
    first = lines_table([line("t1", "p_a"), line("t2", "p_a")])
    second = lines_table([line("t2", "p_a", status="refused", reason_code="clawback.duplicate")])
    result = results_from([first, second], **Y2024)
    assert result.avoided_mg == METRO_12KM_MG
    assert (result.trips_settled, result.trips_refused) == (1, 1)
    assert result.refusals_by_reason == (("clawback.duplicate", 1),)
    # the order of the settlements decides: the same lines the other way round settle both
    reversed_order = results_from([second, first], **Y2024)
    assert reversed_order.avoided_mg == 2 * METRO_12KM_MG


def test_one_table_later_rows_supersede_and_files_in_seq_order(tmp_path: Path) -> None:
    rows = [line("t1", "p_a"), line("t1", "p_a", status="refused", reason_code="clawback.x")]
    assert results_from(lines_table(rows), **Y2024).trips_settled == 0
    one, two = tmp_path / "s1.parquet", tmp_path / "s2.parquet"
    pq.write_table(lines_table(rows[:1]), one)
    pq.write_table(lines_table(rows[1:]), two)
    assert results_from([one, two], **Y2024).trips_refused == 1
    assert results_from([two, one], **Y2024).trips_settled == 1


def test_a_pending_trip_settled_later_counts_once() -> None:
    first = lines_table([line("t1", "p_a", status="pending", reason_code="consent.missing")])
    second = lines_table([line("t1", "p_a", settlement_id="s2")])
    result = results_from([first, second], **Y2024)
    assert (result.trips_settled, result.trips_pending, result.participants) == (1, 0, 1)


def test_the_period_takes_trips_by_local_trip_date() -> None:
    lines = lines_table(
        [
            line("t1", "p_a", trip_date=dt.date(2023, 12, 31)),
            line("t2", "p_a", trip_date=dt.date(2024, 1, 1)),
            line("t3", "p_b", trip_date=dt.date(2024, 12, 31)),
            line("t4", "p_c", trip_date=dt.date(2025, 1, 1)),
        ]
    )
    result = results_from(lines, **Y2024)
    assert result.trips == 2
    assert result.participants == 2
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        results_from(lines, period_start=dt.date(2024, 2, 1), period_end=dt.date(2024, 1, 1))


def test_point_flows_by_kind_asset_and_account_class() -> None:
    sums = [
        TransferSum("issuance", "pt", "pool", "user", 1_841),
        TransferSum("issuance", "mg", "reductions", "user", 1_842_600),
        TransferSum("redemption", "pt", "user", "merchant", 300),
        ("neutralisation", "pt", "user", "cancelled", 50),
        ("neutralisation", "mg", "user", "cancelled", 50_000),
        ("donation", "pt", "user", "charity", 100),
        ("expiry", "pt", "user", "expired", 7),
        ("clawback", "pt", "user", "pool", 560),
        ("clawback", "mg", "user", "reductions", 560_400),
        ("aggregation", "mg", "user", "project", 1_000_000),
        ("redemption", "mg", "user", "cancelled", 7_000),  # a redemption that retires grams
    ]
    result = results_from([], sums, **Y2024)
    assert result.points_issued == 1_841
    assert result.points_redeemed == 350  # redemption + neutralisation
    assert result.points_donated == 100
    assert result.points_expired == 7
    assert result.points_clawed_back == 560
    assert result.retired_mg == 57_000
    assert result.aggregated_mg == 1_000_000
    assert not result.empty
    assert not result.has_settled


def test_an_empty_programme_is_a_result_that_says_so() -> None:
    result = results_from([], **Y2024)
    assert result == ProgrammeResults(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert result.empty
    assert not result.has_settled
    assert result.avoided_t == Decimal(0)
    assert result.note == "no carbon-inclusion trips or ledger flows from 2024-01-01 to 2024-12-31"
    assert results_from(lines_table([]), **Y2024).empty
    assert result.as_dict()["empty"] is True


def test_as_dict_keeps_amounts_exact() -> None:
    result = results_from(lines_table([line("t1", "p_a"), line("t2", "p_b")]), **Y2024)
    data = result.as_dict()
    assert data["avoided_mg"] == 1_120_800
    assert data["avoided_t_co2"] == "0.0011208"
    assert data["avoided_t_co2_by_mode"] == {"metro": "0.0011208"}
    assert data["trips"] == {"settled": 2, "refused": 0, "pending": 0}


def test_tonnes_and_account_classes() -> None:
    assert tonnes(1_000_000_000) == Decimal(1)
    assert tonnes(1) == Decimal("1E-9")
    assert tonnes(0) == 0
    assert account_class("user:p_1") == "user"
    assert account_class("pool") == "pool"
    assert account_class("cancelled:expo:2024") == "cancelled"


def test_programme_results_of_a_workspace(workspace: Workspace) -> None:
    """Both backends: lines files in seq order, transfers summed in SQL by account class."""
    assert programme_results(workspace, **Y2024).empty  # no programme yet: not an error
    write_programme(workspace, 2024)
    result = programme_results(workspace, **Y2024)
    assert result.participants == 3
    assert (result.trips_settled, result.trips_refused, result.trips_pending) == (3, 2, 1)
    assert result.avoided_mg == 1_282_200
    assert result.avoided_mg_by_month == (
        ("2024-03", 560_400),
        ("2024-04", 161_400),
        ("2024-05", 560_400),
    )
    assert result.points_issued == 1_841
    assert result.points_clawed_back == 560
    assert result.points_redeemed == 350
    assert result.points_donated == 100
    assert result.retired_mg == 50_000
    assert dict(result.refusals_by_reason) == {"cap.daily_trips": 1, "clawback.duplicate": 1}
    assert programme_results(workspace, dt.date(2023, 1, 1), dt.date(2023, 12, 31)).empty


def test_a_missing_lines_file_is_named(sqlite_workspace: Workspace) -> None:
    from esgledger.errors import WorkspaceError

    write_programme(sqlite_workspace, 2024)
    missing = sqlite_workspace.root / "lake" / "inclusion" / "settlements" / "s2.parquet"
    missing.unlink()
    with pytest.raises(WorkspaceError, match=r"s2\.parquet is listed in inclusion_settlements"):
        programme_results(sqlite_workspace, **Y2024)


def test_describe_factor_reads_the_methodology_registry() -> None:
    """Name, authority and confidence come from the shipped registry
    (esgledger.inclusion.methodology); a per-trip fallback factor takes the fallback's
    confidence; an unknown methodology gives empty values."""
    from esgledger.inclusion.methodology import get
    from esgledger.inclusion.results import describe_factor

    shenzhen = get("shenzhen-transit")
    use = MethodologyUse(
        "shenzhen-transit", shenzhen.version, "bus_electric",
        f"shenzhen-transit/{shenzhen.version}/bus_electric", "pkm", "26.9", 1, 161_400,
    )  # fmt: skip
    about = describe_factor(use)
    assert about["authority_zh"] == shenzhen.authority.zh
    assert about["name_zh"] == shenzhen.name.zh
    assert about["confidence"] == shenzhen.modes["bus_electric"].confidence
    fallback = MethodologyUse(
        "shenzhen-transit", shenzhen.version, "bus_electric",
        f"shenzhen-transit/{shenzhen.version}/bus_electric/per_trip", "trip", "80.7", 1, 80_700,
    )  # fmt: skip
    assert (
        describe_factor(fallback)["confidence"]
        == shenzhen.modes["bus_electric"].fallback_confidence
    )
    unknown = MethodologyUse("nowhere", "1", "metro", "nowhere/1/metro", "pkm", "1", 1, 1000)
    assert set(describe_factor(unknown).values()) == {""}


def test_a_damaged_lines_file_is_a_workspace_error(sqlite_workspace: Workspace) -> None:
    from esgledger.errors import WorkspaceError

    write_programme(sqlite_workspace, 2024)
    damaged = sqlite_workspace.root / "lake" / "inclusion" / "settlements" / "s1.parquet"
    damaged.write_bytes(b"not parquet")
    with pytest.raises(WorkspaceError, match="settlement lines files could not be read"):
        programme_results(sqlite_workspace, **Y2024)
