"""The ``weather`` import (esgledger.energy.weather) and ``hourly``.

Covers: a year of the demo's synthetic weather through the real import and back out of
``hourly``; the wet bulb computed by Stull (2011) when only the humidity is given (checked
against the paper's own worked value, T = 20 °C, RH = 50 % -> Tw = 13.7 °C); the row-level
rejections (bad timestamp, unknown site, RH outside 0-100, wet bulb above dry bulb) naming
file, row and column with nothing written; instants already stored; local times in a zone
with daylight saving time (skipped hour refused, repeated hour resolved by file order).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from esgledger.demo.telemetry import weather_year
from esgledger.energy import weather
from esgledger.energy.periods import parse_period
from esgledger.errors import InputError
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace

ENTITIES = [
    {"entity": "GRP", "name": "Group", "ownership_pct": "100", "operational_control": "true",
     "financial_control": "true", "country": "CN"},
]  # fmt: skip
SITES = [
    {"site": "DC-SH", "entity": "GRP", "name": "Shanghai DC", "country": "CN",
     "region": "CN-SH", "type": "data_centre"},
    {"site": "DC-US", "entity": "GRP", "name": "Virginia DC", "country": "US", "region": "US",
     "type": "data_centre"},
    # No meters and a country with several zones: no time zone.
    {"site": "DC-TX", "entity": "GRP", "name": "Texas DC", "country": "US", "region": "US",
     "type": "data_centre"},
]  # fmt: skip


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


METERS = [
    # No time zone given: DC-SH's is its country's single zone (Asia/Shanghai).
    {"meter": "DC-SH-INC", "site": "DC-SH", "role": "incomer", "unit": "kWh",
     "kind": "interval", "timezone": ""},
    {"meter": "DC-US-INC", "site": "DC-US", "role": "incomer", "unit": "kWh",
     "kind": "interval", "timezone": "America/New_York"},
]  # fmt: skip


@pytest.fixture
def ws(sqlite_workspace: Workspace, tmp_path: Path) -> Workspace:
    """Two sites whose time zones come from their meters (the energy core's rule)."""
    import_file(sqlite_workspace, "entities", _write(tmp_path / "entities.csv", ENTITIES))
    import_file(sqlite_workspace, "sites", _write(tmp_path / "sites.csv", SITES))
    import_file(sqlite_workspace, "meters", _write(tmp_path / "meters.csv", METERS))
    return sqlite_workspace


def _lake_files(ws: Workspace) -> list[Path]:
    folder = ws.lake / "telemetry" / "weather"
    return sorted(folder.glob("*.parquet")) if folder.exists() else []


def test_a_synthetic_year_goes_in_and_comes_back_hourly(ws: Workspace, tmp_path: Path) -> None:
    year = weather_year(5, 2024, ["DC-SH"])
    file = tmp_path / "weather.parquet"
    # The import file: UTC instants as a tz-aware timestamp, wet bulb and RH given.
    pq.write_table(
        pa.table(
            {
                "site": year["site"],
                "timestamp": pc.assume_timezone(year["ts_utc"], "UTC"),
                "dry_bulb_c": year["dry_bulb_c"],
                "wet_bulb_c": year["wet_bulb_c"],
                "relative_humidity_pct": year["relative_humidity_pct"],
            }
        ),
        file,
    )
    result = import_file(ws, "weather", file)
    assert result.created
    assert result.rows == 8784
    assert _lake_files(ws) == [ws.lake / "telemetry" / "weather" / f"{result.batch_id}.parquet"]
    again = import_file(ws, "weather", file)
    assert not again.created
    hours = weather.hourly(ws, "DC-SH")
    assert hours.schema == weather.HOURLY_SCHEMA
    assert hours.num_rows == 8784
    assert hours["dry_bulb_c"].to_pylist() == year["dry_bulb_c"].to_pylist()
    assert hours["ts_local"].to_pylist() == year["ts_local"].cast(pa.timestamp("us")).to_pylist()
    assert set(hours["wet_bulb_source"].to_pylist()) == {"file"}

    july = weather.hourly(ws, "DC-SH", parse_period("2024-07"))
    assert july.num_rows == 31 * 24
    assert july["ts_local"][0].as_py() == datetime(2024, 7, 1, 0, 0)
    assert weather.hourly(ws, "DC-US").num_rows == 0


def test_wet_bulb_from_humidity_by_stull(ws: Workspace, tmp_path: Path) -> None:
    file = _write(
        tmp_path / "rh.csv",
        [
            {"site": "DC-SH", "timestamp": "2024-05-01T12:00:00+08:00", "dry_bulb_c": "20",
             "relative_humidity_pct": "50", "wet_bulb_c": ""},
            {"site": "DC-SH", "timestamp": "2024-05-01 13:00", "dry_bulb_c": "21.5",
             "relative_humidity_pct": "", "wet_bulb_c": "15.2"},
            {"site": "DC-SH", "timestamp": "2024-05-01 14:00", "dry_bulb_c": "22",
             "relative_humidity_pct": "", "wet_bulb_c": ""},
        ],
    )  # fmt: skip
    import_file(ws, "weather", file)
    hours = weather.hourly(ws, "DC-SH").to_pylist()
    # Stull (2011), JAMC 50, p. 2267: "T = 20 °C and RH = 50 % gives Tw = 13.7 °C".
    assert hours[0]["wet_bulb_c"] == pytest.approx(13.7, abs=0.05)
    assert hours[0]["wet_bulb_source"] == "stull2011"
    assert hours[0]["ts_utc"] == datetime(2024, 5, 1, 4, 0)
    assert hours[1]["wet_bulb_c"] == 15.2
    assert hours[1]["wet_bulb_source"] == "file"
    assert hours[1]["ts_utc"] == datetime(2024, 5, 1, 5, 0)  # naive = Shanghai time
    assert hours[2]["wet_bulb_c"] is None  # neither given: nothing guessed
    assert hours[2]["wet_bulb_source"] is None


def test_rejections_name_file_row_and_column(ws: Workspace, tmp_path: Path) -> None:
    good = {"site": "DC-SH", "timestamp": "2024-01-01T00:00:00+08:00", "dry_bulb_c": "5.0",
            "wet_bulb_c": "3.0", "relative_humidity_pct": "70"}  # fmt: skip
    rows = [
        {**good, "timestamp": "2024-13-01 00:00"},  # row 2: no such month
        {**good, "site": "DC-XX", "timestamp": "2024-01-01T01:00:00+08:00"},  # row 3
        {**good, "timestamp": "2024-01-01T02:00:00+08:00", "relative_humidity_pct": "120"},
        {**good, "timestamp": "2024-01-01T03:00:00+08:00", "wet_bulb_c": "6.5"},  # row 5
        {**good, "timestamp": "2024-01-01T04:00:00+08:00"},  # fine
        {**good, "timestamp": "2024-01-01 04:00"},  # row 7: the same instant as row 6
    ]
    file = _write(tmp_path / "bad-weather.csv", rows)
    with pytest.raises(InputError) as caught:
        import_file(ws, "weather", file)
    found = {(i.row, i.column) for i in caught.value.issues}
    assert found == {
        (2, "timestamp"),
        (3, "site"),
        (4, "relative_humidity_pct"),
        (5, "wet_bulb_c"),
        (7, "timestamp"),
    }
    assert all(i.file == "bad-weather.csv" for i in caught.value.issues)
    text = str(caught.value)
    assert "unknown site 'DC-XX'" in text
    assert "between 0 and 100" in text
    assert "wet bulb is above the dry bulb" in text
    assert "already in row 6" in text
    assert _lake_files(ws) == []
    with ws.session() as session:
        from esgledger.store.repository import load_batches

        assert [b for b in load_batches(session) if b.kind == "weather"] == []


def test_an_instant_already_stored_is_refused(ws: Workspace, tmp_path: Path) -> None:
    row = {"site": "DC-SH", "timestamp": "2024-02-01T08:00:00Z", "dry_bulb_c": "7"}
    first = import_file(ws, "weather", _write(tmp_path / "a.csv", [row]))
    with pytest.raises(InputError, match=f"already \\(batch {first.batch_id}\\)") as caught:
        import_file(ws, "weather", _write(tmp_path / "b.csv", [{**row, "dry_bulb_c": "7.5"}]))
    assert caught.value.issues[0].row == 2
    assert len(_lake_files(ws)) == 1


def test_local_times_across_daylight_saving(ws: Workspace, tmp_path: Path) -> None:
    base = {"site": "DC-US", "dry_bulb_c": "10"}
    skipped = _write(tmp_path / "spring.csv", [{**base, "timestamp": "2024-03-10 02:30"}])
    with pytest.raises(InputError, match="does not exist in America/New_York"):
        import_file(ws, "weather", skipped)
    once = _write(tmp_path / "once.csv", [{**base, "timestamp": "2024-11-03 01:30"}])
    with pytest.raises(InputError, match="exists twice"):
        import_file(ws, "weather", once)
    autumn = _write(
        tmp_path / "autumn.csv",
        [
            {**base, "timestamp": "2024-11-03 00:30"},
            {**base, "timestamp": "2024-11-03 01:30", "dry_bulb_c": "9"},
            {**base, "timestamp": "2024-11-03 01:30", "dry_bulb_c": "8"},
            {**base, "timestamp": "2024-11-03 02:30"},
        ],
    )
    import_file(ws, "weather", autumn)
    hours = weather.hourly(ws, "DC-US").to_pylist()
    assert [h["ts_utc"] for h in hours] == [
        datetime(2024, 11, 3, 4, 0),  # 00:30 EDT
        datetime(2024, 11, 3, 5, 0),  # 01:30 EDT (first)
        datetime(2024, 11, 3, 6, 0),  # 01:30 EST (second)
        datetime(2024, 11, 3, 7, 0),  # 02:30 EST
    ]
    assert [h["dry_bulb_c"] for h in hours] == [10.0, 9.0, 8.0, 10.0]
    assert hours[1]["ts_local"] == datetime(2024, 11, 3, 1, 0)
    assert hours[2]["ts_local"] == datetime(2024, 11, 3, 1, 0)


def test_a_site_without_a_time_zone_is_refused(ws: Workspace, tmp_path: Path) -> None:
    row = {"site": "DC-TX", "timestamp": "2024-02-01T08:00:00Z", "dry_bulb_c": "7"}
    with pytest.raises(InputError) as caught:
        import_file(ws, "weather", _write(tmp_path / "tx.csv", [row]))
    (issue,) = caught.value.issues
    assert (issue.row, issue.column, issue.value) == (2, "site", "DC-TX")
    assert "time zone of site 'DC-TX' is not known" in issue.problem
    assert "meters" in issue.fix
