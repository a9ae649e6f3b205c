"""The ``trips`` import of the carbon-inclusion module (``/work/inclusion-design.md``,
"Trips"): every row checked, errors naming file, row and column; idempotent per (operator,
trip_id); raw account ids replaced by pseudonyms before anything is written; the lake file
and the origins/destinations apart; accounts created by their first trip."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from esgledger.errors import InputError
from esgledger.inclusion import trips as trips_module
from esgledger.inclusion.accounts import programme_key, pseudonym
from esgledger.inclusion.trips import (
    LAKE_DIR,
    OD_DIR,
    import_trips,
    od_files,
    purge_od,
    trips_files,
)
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch
from esgledger.store.models_inclusion import InclusionAccount, InclusionProgramme
from esgledger.store.models_platform import AuditEvent

MODES = ("metro", "bus_electric", "bike_share")
HEADER = "trip_id,account,operator,mode,start_time,end_time,origin,destination,distance_km,channel"
RAW_A, RAW_B = "RAWACCT-7f3a9-0001", "RAWACCT-7f3a9-0002"


def row(
    trip: str = "T1",
    account: str = RAW_A,
    *,
    operator: str = "SZMC",
    mode: str = "metro",
    start: str = "2024-05-01T08:00:00+08:00",
    end: str = "2024-05-01T08:30:00+08:00",
    origin: str = "Futian",
    destination: str = "Luohu",
    distance: str = "12.5",
    channel: str = "card",
) -> str:
    return ",".join(
        [trip, account, operator, mode, start, end, origin, destination, distance, channel]
    )


def write(folder: Path, name: str, *rows: str, header: str = HEADER) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _nothing_written(ws: Workspace) -> None:
    with ws.session() as session:
        assert session.query(ImportBatch).filter(ImportBatch.kind == "trips").count() == 0
        assert session.query(InclusionAccount).count() == 0
    for folder in (LAKE_DIR, OD_DIR):
        path = ws.lake / folder
        assert not path.exists() or not any(path.iterdir()), folder


def test_a_good_file_lands_whole(workspace: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "trips.csv",
        row("T1", RAW_A, distance="12.0059"),
        row("T2", RAW_B, mode="Bus_Electric", start="2024-05-01 09:00:00",
            end="2024-05-01 09:20", distance=""),
        row("T3", f"  {RAW_A} ", start="2024-05-01T07:00:00Z", end="2024-05-01T07:10:00Z",
            distance="1.005", channel=""),
    )  # fmt: skip
    result = import_trips(workspace, path, modes=MODES)
    assert result.created
    assert result.rows == 3
    assert "3 trip(s) of 2 account(s)" in result.message
    key = programme_key(workspace)
    a, b = pseudonym(RAW_A, key), pseudonym(RAW_B, key)
    [lake] = trips_files(workspace)
    assert lake == workspace.lake / LAKE_DIR / f"{result.batch_id}.parquet"
    table = pq.read_table(lake)
    assert table.column_names == [
        "operator", "trip_id", "account", "mode", "start_utc", "end_utc", "distance_m",
        "channel", "batch_id", "row",
    ]  # fmt: skip
    assert table.schema.field("start_utc").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("distance_m").type == pa.int64()
    rows = table.to_pylist()
    # sorted by account (pseudonym), then start
    assert [r["account"] for r in rows] == sorted(r["account"] for r in rows)
    by_trip = {r["trip_id"]: r for r in rows}
    assert by_trip["T1"]["account"] == by_trip["T3"]["account"] == a
    assert by_trip["T2"]["account"] == b
    assert by_trip["T1"]["distance_m"] == 12005  # floor of 12 005.9 m: conservative
    assert by_trip["T3"]["distance_m"] == 1005  # 1.005 km is 1 005 m, not 1 004.999…
    assert by_trip["T2"]["distance_m"] is None
    assert by_trip["T2"]["mode"] == "bus_electric"
    # local time in Asia/Shanghai (UTC+8), and a time without seconds
    assert by_trip["T2"]["start_utc"] == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    assert by_trip["T2"]["end_utc"] == datetime(2024, 5, 1, 1, 20, tzinfo=UTC)
    assert by_trip["T1"]["start_utc"] == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert by_trip["T3"]["channel"] is None
    assert {r["row"] for r in rows} == {2, 3, 4}
    assert {r["batch_id"] for r in rows} == {result.batch_id}
    [od] = od_files(workspace)
    assert pq.read_table(od).to_pylist()[0] == {
        "operator": "SZMC", "trip_id": "T1", "origin": "Futian", "destination": "Luohu",
    }  # fmt: skip
    assert "origin" not in table.column_names
    with workspace.session() as session:
        accounts = {x.pseudonym: x.first_batch for x in session.query(InclusionAccount)}
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert accounts == {a: result.batch_id, b: result.batch_id}
    assert "import.trips" in actions


def test_through_the_import_dispatcher(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trips_module, "allowed_modes", lambda _ws: frozenset(MODES))
    result = import_file(workspace, "trips", write(tmp_path, "t.csv", row()))
    assert result.kind == "trips"
    assert result.rows == 1


def test_without_a_methodology_the_file_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"esgledger inclusion use WS ID"):
        import_trips(workspace, write(tmp_path, "t.csv", row()))
    _nothing_written(workspace)


def test_the_methodology_row_is_read(workspace: Workspace, tmp_path: Path) -> None:
    """With the programme's methodology set, the modes are that methodology's (every version
    of ``shenzhen-transit``: metro and bus_electric); a mode of another methodology is
    refused."""
    with workspace.write_lock() as session:
        session.add(
            InclusionProgramme(
                key="methodology", value="shenzhen-transit", set_by="t", set_at=datetime.now(UTC)
            )
        )
    assert import_trips(workspace, write(tmp_path, "t.csv", row())).rows == 1
    with pytest.raises(InputError) as info:
        import_trips(workspace, write(tmp_path, "u.csv", row("T9", mode="bike_share")))
    assert "not a mode of the programme's methodology" in str(info.value.issues[0])


BAD = [
    pytest.param(row(trip=""), 2, "trip_id", "the trip_id is empty", id="empty-trip"),
    pytest.param(row(account=" "), 2, "account", "the account is empty", id="empty-account"),
    pytest.param(row(operator=""), 2, "operator", "the operator is empty", id="empty-operator"),
    pytest.param(row(mode=""), 2, "mode", "the mode is empty", id="empty-mode"),
    pytest.param(row(mode="plane"), 2, "mode", "not a mode", id="unknown-mode"),
    pytest.param(row(start="yesterday"), 2, "start_time", "not a time", id="bad-start"),
    pytest.param(row(end="2024-13-01 08:00"), 2, "end_time", "not a time", id="bad-end"),
    pytest.param(
        row(start="2024-05-01T08:00:00+25:00"), 2, "start_time", "not a time", id="bad-offset"
    ),
    pytest.param(row(start="99999-01-01T00:00:00+08:00"), 2, "start_time", "time", id="year-99999"),
    pytest.param(
        row(start="1850-01-01 00:00:00", end="1850-01-01 01:00:00"),
        2,
        "start_time",
        "outside the years 1900 to 2199",
        id="year-1850",
    ),
    pytest.param(
        row(end="2024-05-01T07:59:59+08:00"), 2, "end_time", "ends before it starts", id="end<start"
    ),
    pytest.param(row(distance="-1"), 2, "distance_km", "not a finite distance", id="negative"),
    pytest.param(row(distance="1e999"), 2, "distance_km", "not a finite distance", id="1e999"),
    pytest.param(row(distance="5000"), 2, "distance_km", "not a finite distance", id="too-far"),
    pytest.param(row(distance="12 km"), 2, "distance_km", "not a number", id="units"),
    pytest.param(row(distance="nan"), 2, "distance_km", "not a number", id="nan"),
    pytest.param(row(trip="T\u200b1"), 2, "trip_id", "invisible", id="zero-width"),
    pytest.param(row(trip="T" * 200), 2, "trip_id", "longer than 128", id="huge-id"),
]


@pytest.mark.parametrize(("line", "at", "column", "problem"), BAD)
def test_each_bad_row_is_refused_naming_file_row_and_column(
    workspace: Workspace, tmp_path: Path, line: str, at: int, column: str, problem: str
) -> None:
    path = write(tmp_path, "bad.csv", row("T0", RAW_B), line)
    with pytest.raises(InputError) as info:
        import_trips(workspace, path, modes=MODES)
    issues = info.value.issues
    assert issues, str(info.value)
    first = issues[0]
    assert (first.file, first.row, first.column) == ("bad.csv", at + 1, column)
    assert problem in first.problem
    assert "nothing was imported" in str(info.value)
    _nothing_written(workspace)


def test_a_missing_required_column_is_named(workspace: Workspace, tmp_path: Path) -> None:
    header = HEADER.replace("end_time,", "")
    line = row().replace(",2024-05-01T08:30:00+08:00", "")
    with pytest.raises(InputError) as info:
        import_trips(workspace, write(tmp_path, "h.csv", line, header=header), modes=MODES)
    assert any(i.column == "end_time" and "missing" in i.problem for i in info.value.issues)
    _nothing_written(workspace)


def test_a_trip_given_twice_names_both_rows(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", row("T1"), row("T2"), row("T1", RAW_B))
    with pytest.raises(InputError) as info:
        import_trips(workspace, path, modes=MODES)
    [issue] = info.value.issues
    assert issue.row == 4
    assert issue.column == "trip_id"
    assert "rows 2 and 4" in issue.problem
    _nothing_written(workspace)
    # the same trip id of two operators is two trips
    other = write(tmp_path, "o.csv", row("T1"), row("T1", operator="SZBUS"))
    assert import_trips(workspace, other, modes=MODES).rows == 2


def test_reimport_is_idempotent_and_a_changed_trip_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    first = import_trips(workspace, write(tmp_path, "a.csv", row("T1"), row("T2")), modes=MODES)
    again = import_trips(workspace, tmp_path / "a.csv", modes=MODES)
    assert not again.created
    assert again.batch_id == first.batch_id
    # overlapping file: T1 and T2 unchanged (skipped), T3 new
    overlap = write(tmp_path, "b.csv", row("T2"), row("T1"), row("T3"))
    second = import_trips(workspace, overlap, modes=MODES)
    assert second.rows == 1
    assert "2 trip(s) already imported were skipped" in second.message
    assert [r["trip_id"] for r in pq.read_table(trips_files(workspace)[1]).to_pylist()] == ["T3"]
    # T1 with another distance: refused, naming the batch that has it
    changed = write(tmp_path, "c.csv", row("T1", distance="13"), row("T4"))
    with pytest.raises(InputError) as info:
        import_trips(workspace, changed, modes=MODES)
    [issue] = info.value.issues
    assert issue.row == 2
    assert issue.column == "distance_km"
    assert first.batch_id in issue.problem
    # another account for a stored trip is refused too, without showing either raw id
    moved = write(tmp_path, "m.csv", row("T2", RAW_B))
    with pytest.raises(InputError) as info:
        import_trips(workspace, moved, modes=MODES)
    assert info.value.issues[0].column == "account"
    assert RAW_B not in str(info.value.issues[0])
    assert RAW_A not in str(info.value.issues[0])
    assert len(trips_files(workspace)) == 2


def test_gb18030_csv_with_chinese_headers(workspace: Workspace, tmp_path: Path) -> None:
    header = "行程编号,账户,运营商,出行方式,开始时间,结束时间,起点,终点,距离（公里）,渠道"
    text = "\n".join(
        [header, row("行程1", "张三-卡号001", origin="福田", destination="罗湖", channel="二维码")]
    )
    path = tmp_path / "行程.csv"
    path.write_bytes((text + "\n").encode("gb18030"))
    result = import_trips(workspace, path, modes=MODES)
    assert result.rows == 1
    [trip] = pq.read_table(trips_files(workspace)[0]).to_pylist()
    assert trip["trip_id"] == "行程1"
    assert trip["channel"] == "二维码"
    assert trip["account"] == pseudonym("张三-卡号001", programme_key(workspace))
    assert pq.read_table(od_files(workspace)[0]).to_pylist()[0]["origin"] == "福田"


def test_xlsx_and_parquet(workspace: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(row("X1").split(","))
    sheet.append(
        ["X2", RAW_B, "SZMC", "metro", datetime(2024, 5, 1, 9), datetime(2024, 5, 1, 9, 30),
         "A", "B", 3.25, "app"]
    )  # fmt: skip
    book.save(tmp_path / "t.xlsx")
    assert import_trips(workspace, tmp_path / "t.xlsx", modes=MODES).rows == 2
    table = pa.table(
        {
            "trip_id": ["P1"],
            "account": [RAW_A],
            "operator": ["SZMC"],
            "mode": ["metro"],
            "start_time": pa.array(
                [datetime(2024, 5, 2, 0, 0, tzinfo=UTC)], pa.timestamp("us", tz="UTC")
            ),
            "end_time": pa.array([datetime(2024, 5, 2, 8, 40)], pa.timestamp("us")),
            "distance_km": [7.5],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    assert import_trips(workspace, tmp_path / "t.parquet", modes=MODES).rows == 1
    rows = {r["trip_id"]: r for f in trips_files(workspace) for r in pq.read_table(f).to_pylist()}
    assert rows["X2"]["start_utc"] == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)  # local time
    assert rows["X2"]["distance_m"] == 3250
    assert rows["P1"]["start_utc"] == datetime(2024, 5, 2, 0, 0, tzinfo=UTC)
    # a naive Parquet timestamp is a local time of the zone
    assert rows["P1"]["end_utc"] == datetime(2024, 5, 2, 0, 40, tzinfo=UTC)


def test_raw_account_ids_are_written_nowhere(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", row("T1", RAW_A), row("T2", RAW_B))
    import_trips(workspace, path, modes=MODES)
    with pytest.raises(InputError):  # a refused file (its messages aside) leaves nothing
        import_trips(workspace, write(tmp_path, "u.csv", row("T9", RAW_A, mode="x")), modes=MODES)
    needles = [RAW_A.encode(), RAW_B.encode(), b"7f3a9"]
    for file in workspace.root.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert not any(n in data for n in needles), file
    # the database, whatever the backend: every text column of every table
    with workspace.session() as session:
        bind = session.get_bind()
        inspector = sa.inspect(bind)
        for table in inspector.get_table_names():
            for record in session.execute(sa.text(f'SELECT * FROM "{table}"')):
                assert "7f3a9" not in repr(tuple(record)), table


def test_purge_deletes_old_origins_and_destinations(workspace: Workspace, tmp_path: Path) -> None:
    old = import_trips(workspace, write(tmp_path, "old.csv", row("T1")), modes=MODES)
    new = import_trips(
        workspace,
        write(tmp_path, "new.csv", row("T2", start="2024-07-01 08:00", end="2024-07-01 09:00")),
        modes=MODES,
    )
    assert len(od_files(workspace)) == 2
    assert purge_od(workspace, date(2024, 6, 1)) == 1
    remaining = od_files(workspace)
    assert remaining == [workspace.lake / OD_DIR / f"{new.batch_id}.parquet"]
    assert not (workspace.lake / OD_DIR / f"{old.batch_id}.parquet").exists()
    assert len(trips_files(workspace)) == 2  # the trips stay
    assert purge_od(workspace, date(2024, 6, 1)) == 0
    with workspace.session() as session:
        [event] = session.query(AuditEvent).filter(AuditEvent.action == "inclusion.purge").all()
        assert event.detail == {"older_than": "2024-06-01", "batches": [old.batch_id]}


# -- hostile files (the pattern of tests/hostile/cases_energy.py, called directly: the CLI
# corpus needs a methodology chosen by `esgledger inclusion use`)

HOSTILE_LANDS = [
    pytest.param("=1+2", "trip_id", id="formula-trip-id"),
    pytest.param("+cmd|' /C calc'!A0", "operator", id="dde-operator"),
    pytest.param("@SUM(A1)", "channel", id="at-formula-channel"),
]


@pytest.mark.parametrize(("text", "column"), HOSTILE_LANDS)
def test_formula_like_ids_land_as_data(
    workspace: Workspace, tmp_path: Path, text: str, column: str
) -> None:
    """A formula-like id lands as data, like every imported text (exports neutralise
    formulas: tests/integration/test_formula_injection.py)."""
    line = row(**{{"trip_id": "trip", "operator": "operator", "channel": "channel"}[column]: text})
    import_trips(workspace, write(tmp_path, "f.csv", line), modes=MODES)
    [stored] = pq.read_table(trips_files(workspace)[0]).to_pylist()
    assert stored[column] == text


HOSTILE_REFUSED = [
    pytest.param(row(account="A" * 100_000), "account", "longer than 128", id="100k-account"),
    pytest.param(row(operator="SZ\x1bMC"), "operator", "invisible", id="escape-in-operator"),
    pytest.param(row(trip="T\u202e1"), "trip_id", "invisible", id="bidi-override"),
    pytest.param(row(account="RAW\x07A"), "account", "invisible", id="bell-in-account"),
    pytest.param(row(distance="1e999"), "distance_km", "finite", id="1e999"),
    pytest.param(row(distance="0x10"), "distance_km", "not a number", id="hex-distance"),
    pytest.param(row(distance="１２"), "distance_km", "not a number", id="fullwidth-digits"),
    pytest.param(
        row(start="99999-05-01T08:00:00+08:00", end="99999-05-01T09:00:00+08:00"),
        "start_time",
        "time",
        id="year-99999",
    ),
    pytest.param(row(start="2024-05-01T08:00:00+14:30"), "start_time", "not a time", id="+14:30"),
]


@pytest.mark.parametrize(("line", "column", "problem"), HOSTILE_REFUSED)
def test_hostile_cells_are_refused_shown_short(
    workspace: Workspace, tmp_path: Path, line: str, column: str, problem: str
) -> None:
    with pytest.raises(InputError) as info:
        import_trips(workspace, write(tmp_path, "h.csv", line), modes=MODES)
    first = info.value.issues[0]
    assert (first.row, first.column) == (2, column)
    assert problem in first.problem
    shown_text = str(first)
    assert len(shown_text) < 1200  # a 10 MB cell prints as one short line
    assert "\x1b" not in shown_text
    assert "\u202e" not in shown_text
    assert "\x07" not in shown_text
    _nothing_written(workspace)


def test_a_10_mb_line_is_refused_by_the_reader(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="longer than"):
        import_trips(
            workspace, write(tmp_path, "l.csv", row(account="A" * 10_000_000)), modes=MODES
        )
    _nothing_written(workspace)


def test_nul_in_a_cell_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + "\n" + row(account="RAW\x00A") + "\n").encode())
    with pytest.raises(InputError) as info:
        import_trips(workspace, path, modes=MODES)
    assert "NUL" in str(info.value) or "binary" in str(info.value)
    _nothing_written(workspace)


def test_a_bom_and_crlf_land(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + row() + "\r\n").encode())
    assert import_trips(workspace, path, modes=MODES).rows == 1
    [stored] = pq.read_table(trips_files(workspace)[0]).to_pylist()
    assert stored["trip_id"] == "T1"
    assert stored["channel"] == "card"
