"""The readings import: instants from offsets or the site's zone, idempotent per (meter,
timestamp), a stored key with another value refused, every bad row named, nothing written
on rejection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _energy_support import import_meters, import_readings, meter, organise, series
from esgledger.energy import rollups
from esgledger.energy.readings import LAKE_DIR, reading_files
from esgledger.errors import ConflictError, InputError
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace

CST = timezone(timedelta(hours=8))


@pytest.fixture
def metered(workspace: Workspace) -> Workspace:
    organise(workspace)
    import_meters(
        workspace,
        [meter("IN", "incomer", kind="counter"), meter("IT", "it_input", parent="IN")],
    )
    return workspace


def _lake_files(ws: Workspace) -> list[Path]:
    folder = ws.lake / LAKE_DIR
    return sorted(folder.iterdir()) if folder.exists() else []


def test_offsets_and_local_times_are_one_instant_and_reimport_is_idempotent(
    metered: Workspace,
) -> None:
    start = datetime(2024, 1, 1, 0, 15, tzinfo=CST)
    first = import_readings(metered, series("IT", start, [10.0, 11.0, 12.0]))
    assert first.created
    assert first.rows == 3
    # the same readings as local times (no offset) of the site's zone Asia/Shanghai, plus one
    local = series("IT", start.replace(tzinfo=None), [10.0, 11.0, 12.0, 13.0])
    second = import_readings(metered, local, fmt="csv")
    assert second.rows == 1
    assert "3 reading(s) already stored were skipped" in second.message
    table = rollups.intervals(metered, meters=["IT"])
    assert table.column("quantity").to_pylist() == [10.0, 11.0, 12.0, 13.0]
    assert str(table.column("end_utc")[0].as_py()) == "2023-12-31 16:15:00"


def test_a_stored_key_with_another_value_is_refused(metered: Workspace) -> None:
    start = datetime(2024, 1, 1, 0, 15, tzinfo=CST)
    import_readings(metered, series("IT", start, [10.0, 11.0]))
    files = _lake_files(metered)
    with pytest.raises(InputError) as info:
        import_readings(metered, series("IT", start, [10.0, 99.0]))
    (issue,) = info.value.issues
    assert (issue.row, issue.column, issue.value) == (2, "value", "99.0")
    assert "already has the reading 11.0" in issue.problem
    assert "supersede" in issue.fix
    assert _lake_files(metered) == files


def test_every_bad_row_is_named_and_nothing_is_written(metered: Workspace) -> None:
    rows = [
        ("IT", "2024-01-01T00:15:00+08:00", "1.5"),
        ("GHOST", "2024-01-01T00:15:00+08:00", "1"),
        ("IT", "2024-02-30T00:00:00+08:00", "1"),
        ("IT", "yesterday", "1"),
        ("IT", "2024-01-01T00:30:00+08:00", "1,5"),
        ("IT", "2024-01-01T00:45:00+08:00", "inf"),
        ("", "2024-01-01T00:45:00+08:00", "1"),
    ]
    table = pa.table(
        {
            "meter": [r[0] for r in rows],
            "timestamp": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        }
    )
    with pytest.raises(InputError) as info:
        import_readings(metered, table, fmt="csv")
    found = {(i.row, i.column, i.problem) for i in info.value.issues}
    assert (3, "meter", "unknown meter") in found
    assert (4, "timestamp", "not a timestamp") in found
    assert (5, "timestamp", "not a timestamp") in found
    assert (6, "value", "not a number") in found
    assert (7, "value", "not a number") in found
    assert (8, "meter", "the meter is empty") in found
    assert _lake_files(metered) == []
    assert reading_files(metered) == []


def test_two_readings_of_one_meter_at_one_instant_are_refused(metered: Workspace) -> None:
    rows = [
        ("IT", "2024-01-01T00:15:00+08:00", 1.0),
        ("IT", "2023-12-31T16:15:00Z", 2.0),
    ]
    with pytest.raises(InputError) as info:
        import_readings(metered, rows)
    (issue,) = info.value.issues
    assert issue.row == 2
    assert issue.column == "timestamp"
    assert "another reading at this instant (row 1)" in issue.problem


def test_chinese_headers_and_typed_parquet_timestamps(metered: Workspace, tmp_path: Path) -> None:
    csv_file = tmp_path / "读数.csv"
    csv_file.write_text("计量表,时间,读数\nIT,2024-01-01 00:15:00,7\n", encoding="utf-8")
    assert import_file(metered, "readings", csv_file).rows == 1
    naive = pa.table(
        {
            "meter": ["IT"],
            "timestamp": pa.array([datetime(2024, 1, 1, 0, 30)], pa.timestamp("us")),
            "value": [8.0],
        }
    )
    aware = pa.table(
        {
            "meter": ["IT"],
            "timestamp": pa.array(
                [datetime(2023, 12, 31, 16, 45, tzinfo=UTC)], pa.timestamp("us", "UTC")
            ),
            "value": [9.0],
        }
    )
    for name, table in (("naive.parquet", naive), ("aware.parquet", aware)):
        pq.write_table(table, tmp_path / name)
        assert import_file(metered, "readings", tmp_path / name).rows == 1
    stamps = [
        str(t) for t in rollups.intervals(metered, meters=["IT"]).column("end_utc").to_pylist()
    ]
    assert stamps == ["2023-12-31 16:15:00", "2023-12-31 16:30:00", "2023-12-31 16:45:00"]


def test_a_readings_batch_is_corrected_by_superseding_it(metered: Workspace) -> None:
    from esgledger.access.principal import Principal
    from esgledger.batches import service

    start = datetime(2024, 1, 1, 0, 15, tzinfo=CST)
    old = import_readings(metered, series("IT", start, [10.0, 11.0]))
    corrected = metered.root / "corrected.csv"
    corrected.write_text(
        "meter,timestamp,value\nIT,2024-01-01T00:15:00+08:00,10\n"
        "IT,2024-01-01T00:30:00+08:00,12.5\n",
        encoding="utf-8",
    )
    service.supersede(metered, Principal.local(), old.batch_id, corrected, "meter re-read")
    values = rollups.intervals(metered, meters=["IT"]).column("quantity").to_pylist()
    assert values == [10.0, 12.5]


def _instants(rows: list[tuple[str, datetime, float]]) -> pa.Table:
    """Readings with typed UTC instants (``TIMESTAMP WITH TIME ZONE`` in DuckDB): the
    import's path without text to parse, which writes a file already sorted as it comes."""
    return pa.table(
        {
            "meter": [r[0] for r in rows],
            "timestamp": pa.array([r[1] for r in rows], pa.timestamp("us", "UTC")),
            "value": [r[2] for r in rows],
        }
    )


def _stored(ws: Workspace) -> list[tuple[str, datetime, float]]:
    """The rows of every readings lake file, each file in its own order."""
    rows: list[tuple[str, datetime, float]] = []
    for file in _lake_files(ws):
        table = pq.read_table(file)
        rows.extend(
            zip(
                table.column("meter").to_pylist(),
                table.column("ts_utc").to_pylist(),
                table.column("value").to_pylist(),
                strict=True,
            )
        )
    return rows


_T0 = datetime(2024, 1, 1, 0, 15, tzinfo=UTC)
_STEP = timedelta(minutes=15)


@pytest.mark.parametrize("order", ["sorted", "by time", "shuffled"])
def test_typed_instants_are_stored_sorted_by_meter_and_time(metered: Workspace, order: str) -> None:
    rows = [
        (m, _T0 + i * _STEP, float(10 * i + (m == "IT"))) for m in ("IN", "IT") for i in range(5)
    ]
    if order == "by time":
        rows.sort(key=lambda r: (r[1], r[0]))
    elif order == "shuffled":
        rows = [rows[i] for i in (7, 0, 9, 3, 5, 1, 8, 2, 6, 4)]
    result = import_readings(metered, _instants(rows))
    assert result.rows == 10
    expected = sorted((m, t.replace(tzinfo=None), v) for m, t, v in rows)
    assert _stored(metered) == expected


@pytest.mark.parametrize(
    ("rows", "row", "first"),
    [
        # side by side in a sorted file: found as the file is written as it comes
        ([("IT", _T0, 1.0), ("IT", _T0, 2.0), ("IT", _T0 + _STEP, 3.0)], 2, 1),
        # far apart in an unsorted file: found once sorted
        ([("IT", _T0, 1.0), ("IT", _T0 + _STEP, 3.0), ("IN", _T0, 5.0), ("IT", _T0, 1.0)], 4, 1),
        # the same instant written with another offset is the same key
        ([("IN", _T0, 1.0), ("IT", _T0 + _STEP, 2.0), ("IT", _T0 + _STEP, 2.5)], 3, 2),
    ],
)
def test_a_key_given_twice_in_typed_instants_is_refused(
    metered: Workspace, rows: list[tuple[str, datetime, float]], row: int, first: int
) -> None:
    with pytest.raises(InputError) as info:
        import_readings(metered, _instants(rows))
    (issue,) = info.value.issues
    assert (issue.row, issue.column) == (row, "timestamp")
    assert f"another reading at this instant (row {first})" in issue.problem
    assert _lake_files(metered) == []


def test_a_stored_key_given_twice_is_refused_even_when_both_equal_the_stored_one(
    metered: Workspace,
) -> None:
    import_readings(metered, _instants([("IT", _T0, 1.0), ("IT", _T0 + _STEP, 2.0)]))
    files = _lake_files(metered)
    # both rows of the key would be skipped as already stored: still a key given twice
    again = [("IT", _T0 + 2 * _STEP, 3.0), ("IT", _T0, 1.0), ("IT", _T0, 1.0)]
    with pytest.raises(InputError) as info:
        import_readings(metered, _instants(again))
    (issue,) = info.value.issues
    assert issue.row == 3
    assert "another reading at this instant (row 2)" in issue.problem
    # a key given twice is named before a conflict with a stored reading
    clash = [("IT", _T0, 9.0), ("IT", _T0 + 2 * _STEP, 3.0), ("IT", _T0 + 2 * _STEP, 4.0)]
    with pytest.raises(InputError) as info:
        import_readings(metered, _instants(clash))
    (issue,) = info.value.issues
    assert issue.row == 3
    assert "another reading at this instant (row 2)" in issue.problem
    assert _lake_files(metered) == files


def test_readings_of_other_meters_and_times_skip_nothing(metered: Workspace) -> None:
    import_readings(metered, _instants([("IT", _T0 + i * _STEP, float(i)) for i in range(4)]))
    # another meter at the same times, then the same meter later: nothing is stored there
    other = import_readings(metered, _instants([("IN", _T0 + i * _STEP, 5.0) for i in range(4)]))
    later = import_readings(
        metered, _instants([("IT", _T0 + (4 + i) * _STEP, float(4 + i)) for i in range(2)])
    )
    # and one overlapping both: two readings stored with the same values, one new
    both = import_readings(
        metered,
        _instants([("IT", _T0 + 5 * _STEP, 5.0), ("IN", _T0, 5.0), ("IT", _T0 + 6 * _STEP, 6.0)]),
    )
    assert (other.rows, later.rows, both.rows) == (4, 2, 1)
    assert "skipped" not in other.message
    assert "2 reading(s) already stored were skipped" in both.message
    assert len(_stored(metered)) == 11


@pytest.mark.parametrize(
    "micros",
    [
        int(datetime(2300, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000,
        int(datetime(1899, 12, 31, 23, 45, tzinfo=UTC).timestamp()) * 1_000_000,
        2**63 - 1,  # DuckDB's infinity
    ],
)
def test_typed_instants_outside_the_years_allowed_are_refused(
    metered: Workspace, micros: int
) -> None:
    first = int(_T0.timestamp()) * 1_000_000
    table = pa.table(
        {
            "meter": ["IT", "IT"],
            "timestamp": pa.array([first, micros], pa.int64()).cast(pa.timestamp("us", "UTC")),
            "value": [1.0, 2.0],
        }
    )
    with pytest.raises(InputError) as info:
        import_readings(metered, table)
    (issue,) = info.value.issues
    assert (issue.row, issue.column) == (2, "timestamp")
    assert issue.problem == "a timestamp outside the years 1900 to 2199"


def test_a_file_in_order_only_at_first_is_sorted_and_its_duplicates_found(
    metered: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from esgledger.energy import readings

    # the first rows (two, here) look sorted: written as they come, read back, then sorted
    monkeypatch.setattr(readings, "_ORDER_BATCH", 2)
    rows = [
        ("IN", _T0, 1.0),
        ("IN", _T0 + _STEP, 2.0),
        ("IT", _T0, 3.0),
        ("IN", _T0 + 2 * _STEP, 4.0),
    ]
    with pytest.raises(InputError) as info:
        import_readings(metered, _instants([*rows, ("IN", _T0 + _STEP, 5.0)]))
    (issue,) = info.value.issues
    assert issue.row == 5
    assert "another reading at this instant (row 2)" in issue.problem
    assert _lake_files(metered) == []
    assert import_readings(metered, _instants(rows)).rows == 4
    assert _stored(metered) == sorted((m, t.replace(tzinfo=None), v) for m, t, v in rows)


def test_a_file_of_stored_readings_only_is_a_batch_of_none(metered: Workspace) -> None:
    rows = [("IT", _T0 + i * _STEP, float(i)) for i in range(3)]
    import_readings(metered, _instants(rows))
    # the same readings again in other bytes (text with offsets): every one skipped
    again = import_readings(metered, [(m, t.isoformat(), v) for m, t, v in rows], fmt="csv")
    assert again.created
    assert again.rows == 0
    assert "3 reading(s) already stored were skipped" in again.message
    assert len(_stored(metered)) == 3


def test_readings_stored_by_another_import_during_the_check_refuse_the_import(
    metered: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports race: the second stores some of the first's readings (same values) after
    the first checked against the lake and before it takes the lock. Storing the first's file
    would count those readings twice, so it is refused whole; imported again, it skips them."""
    from esgledger.energy import readings

    start = datetime(2024, 1, 1, 0, 15, tzinfo=CST)
    rows = series("IT", start, [10.0, 11.0, 12.0, 13.0])
    real = readings._conflicts
    raced: list[bool] = []

    def racing(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            import_readings(metered, rows[:2])  # lands between the check and the lock
        return found

    monkeypatch.setattr(readings, "_conflicts", racing)
    with pytest.raises(ConflictError, match="another import stored 2 of its readings"):
        import_readings(metered, rows)
    assert len(reading_files(metered)) == 1
    again = import_readings(metered, rows)
    assert again.rows == 2
    values = rollups.intervals(metered, meters=["IT"]).column("quantity").to_pylist()
    assert values == [10.0, 11.0, 12.0, 13.0]  # each reading once


def test_a_meter_id_with_spaces_around_is_stored_as_the_meter_it_names(
    metered: Workspace,
) -> None:
    start = datetime(2024, 1, 1, 0, 15, tzinfo=CST)
    import_readings(metered, series(" IT ", start, [10.0, 11.0]))
    # the same keys under the plain id are the same readings (skipped), not new ones
    again = import_readings(metered, series("IT", start, [10.0, 11.0, 12.0]))
    assert again.rows == 1
    values = rollups.intervals(metered, meters=["IT"]).column("quantity").to_pylist()
    assert values == [10.0, 11.0, 12.0]
