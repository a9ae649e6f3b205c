"""The instrument register: import (whole file or nothing, exact issues) and the database's
refusal of double allocation, on SQLite and (with ESGLEDGER_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from esgledger.errors import InputError, WorkspaceError
from esgledger.ingest.importers import import_file
from esgledger.ingest.instruments import import_instruments, instrument_column_specs
from esgledger.ingest.reference import import_entities, import_sites
from esgledger.renewables.instruments import (
    INSTRUMENT_TYPES,
    TECHNOLOGIES,
    Instrument,
    market_of,
)
from esgledger.store import Workspace
from esgledger.store.repository import load_batches
from esgledger.store.repository_renewables import (
    clear_allocations,
    load_allocations,
    load_instruments,
    save_allocations,
)

HEADER = (
    "instrument,type,technology,generator,commissioned,country,region,period_start,"
    "period_end,mwh,retired_on,retired_for,registry_id\n"
)
GOOD = (
    "GEC-1,gec,wind,Inner Mongolia wind farm,2021-06-30,CN,CN-NM,2024-01-01,2024-12-31,"
    "60000,2025-01-15,DC-CQ,GEC-2024-000001~060000\n"
)
FIX_TYPE = (
    "use one of: gec, green_power_trade, irec, rec, go, ppa_physical, ppa_virtual, "
    "green_tariff, onsite"
)


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def _group(ws: Workspace, tmp_path: Path) -> None:
    """Entities GRP > CLOUD; sites DC-CQ (Chongqing, CLOUD) and OF-SZ (Guangdong, GRP)."""
    import_entities(
        ws,
        _write(
            tmp_path,
            "entities.csv",
            "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
            "GRP,Group,,100,true,true,CN\nCLOUD,Cloud,GRP,100,true,true,CN\n",
        ),
    )
    import_sites(
        ws,
        _write(
            tmp_path,
            "sites.csv",
            "site,entity,name,country,region,type\n"
            "DC-CQ,CLOUD,Chongqing DC,CN,CN-CQ,data_centre\n"
            "OF-SZ,GRP,Shenzhen office,CN,CN-GD,office\n",
        ),
    )


def _rejected(ws: Workspace, path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        import_instruments(ws, path)
    return info.value


def _issues(error: InputError) -> list[tuple[int | None, str | None, str | None, str, str]]:
    return [(i.row, i.column, i.value, i.problem, i.fix) for i in error.issues]


# ---- vocabulary -------------------------------------------------------------------------


def test_the_schema_declares_the_issue_columns_with_chinese_headers() -> None:
    specs = {s.column: s for s in instrument_column_specs()}
    wanted = {
        *("instrument", "type", "technology", "generator", "commissioned", "country"),
        *("region", "period_start", "period_end", "mwh", "retired_on", "retired_for"),
        "registry_id",
    }
    assert wanted <= set(specs)
    for spec in specs.values():
        assert spec.header_zh
        assert spec.description
        assert spec.description_zh
    headers = [s.header_zh for s in specs.values()] + list(specs)
    assert len(set(headers)) == len(headers)
    assert tuple(FIX_TYPE.removeprefix("use one of: ").split(", ")) == INSTRUMENT_TYPES
    assert "nuclear" in TECHNOLOGIES


def test_market_boundaries() -> None:
    assert market_of("us") == market_of("CA") == "US-CA"
    assert market_of("DE") == market_of("FR") == "EU-AIB"
    assert market_of("CN") == "CN"
    assert market_of("HK") == "HK"
    assert market_of("CN", {"CN": "CN-SOUTH"}) == "CN-SOUTH"


# ---- import -----------------------------------------------------------------------------


def test_a_good_file_is_stored_whole_and_a_reimport_is_a_no_op(
    workspace: Workspace, tmp_path: Path
) -> None:
    _group(workspace, tmp_path)
    path = _write(
        tmp_path,
        "instruments.csv",
        HEADER
        + GOOD
        + "PV-JS,onsite,solar,Rooftop 13 MW,2022-02-22,CN,,2024-01-01,2024-12-31,12100,,CLOUD,\n",
    )
    result = import_file(workspace, "instruments", path)
    assert result.created
    assert result.rows == 2
    assert (
        result.message == f"Imported 2 instruments from instruments.csv as batch {result.batch_id}."
    )
    assert not import_instruments(workspace, path).created
    with workspace.session() as session:
        rows = load_instruments(session)
    assert [r["instrument"] for r in rows] == ["GEC-1", "PV-JS"]
    gec = Instrument.from_record(rows[0])
    assert gec.period_start == date(2024, 1, 1)
    assert gec.commissioned == date(2021, 6, 30)
    assert gec.mwh == 60000.0
    assert gec.region == "CN-NM"
    assert gec.kind == "certificate"
    assert gec.hierarchy == 1
    assert gec.emission_rate_kg_per_mwh == 0.0
    assert rows[1]["region"] == "CN"  # empty region = the country
    assert rows[0]["allocated_mwh"] == 0.0
    assert rows[0]["batch_id"] == result.batch_id


def test_chinese_headers_gb18030_and_chinese_type_names(
    workspace: Workspace, tmp_path: Path
) -> None:
    _group(workspace, tmp_path)
    text = (
        "工具编号,类型,技术,国家或地区,发电开始日期,发电结束日期,电量（兆瓦时）,受益方\n"
        "G-1,绿证,光伏,中国,2024/01/01,2024/06/30,１００,DC-CQ\n"
    )
    error = _rejected(workspace, _write(tmp_path, "zh.csv", text, "gb18030"))
    # 中国 is a name, not the ISO code: the fix names the code.
    assert _issues(error) == [
        (
            2,
            "country",
            "中国",
            "unknown country code",
            "use the two-letter ISO 3166-1 code 'CN' (China)",
        )
    ]
    fixed = text.replace("中国", "CN")
    import_instruments(workspace, _write(tmp_path, "zh2.csv", fixed, "gb18030"))
    with workspace.session() as session:
        (row,) = load_instruments(session)
    assert (row["type"], row["technology"], row["mwh"]) == ("gec", "solar", 100.0)


def test_green_tariff_needs_its_rate(workspace: Workspace, tmp_path: Path) -> None:
    _group(workspace, tmp_path)
    header = "instrument,type,technology,country,period_start,period_end,mwh,co2_kg_per_mwh\n"
    error = _rejected(
        workspace,
        _write(tmp_path, "t.csv", header + "T-1,green tariff,wind,GB,2024-01-01,2024-12-31,5,\n"),
    )
    assert _issues(error) == [
        (
            2,
            "co2_kg_per_mwh",
            None,
            "a green tariff needs the supplier's emission rate",
            "give the supplier-specific rate in kg CO2 per MWh (0 if the supplier retires "
            "zero-emission certificates for you)",
        )
    ]


ROW_CASES = [
    pytest.param(
        GOOD.replace(",gec,", ",gecc,"),
        (2, "type", "gecc", "unknown instrument type", "did you mean 'gec'? " + FIX_TYPE),
        id="type",
    ),
    pytest.param(
        GOOD.replace(",wind,", ",coal,"),
        (
            2,
            "technology",
            "coal",
            "unknown technology",
            "use one of: solar, wind, hydro, biomass, geothermal, ocean, nuclear",
        ),
        id="technology",
    ),
    pytest.param(
        GOOD.replace(",CN,CN-NM,", ",XX,CN-NM,"),
        (
            2,
            "country",
            "XX",
            "unknown country code",
            "use the two-letter ISO 3166-1 code, e.g. CN, HK, SG, US",
        ),
        id="country",
    ),
    pytest.param(
        GOOD.replace(",CN-NM,", ",CN-ZZ,"),
        (
            2,
            "region",
            "CN-ZZ",
            "unknown region code",
            "did you mean 'CN-ZJ'? use a code of esgledger's regions table (CN-NM, "
            "US-EGRID-CAMX …), or leave it empty for the whole country",
        ),
        id="region",
    ),
    pytest.param(
        GOOD.replace(",CN-NM,", ",US-EGRID-CAMX,"),
        (
            2,
            "region",
            "US-EGRID-CAMX",
            "region US-EGRID-CAMX (WECC California) is not in the instrument's country CN",
            "correct the country or the region",
        ),
        id="region-outside-country",
    ),
    pytest.param(
        GOOD.replace("2024-01-01,2024-12-31", "2024-12-31,2024-01-01"),
        (
            2,
            "period_end",
            "2024-01-01",
            "the period ends before it starts (period_start 2024-12-31)",
            "swap period_start and period_end, or correct the dates",
        ),
        id="end-before-start",
    ),
    pytest.param(
        GOOD.replace(",60000,", ",-5,"),
        (
            2,
            "mwh",
            "-5",
            "a volume cannot be negative",
            "give the MWh whose attributes the instrument carries (1 certificate = 1 MWh)",
        ),
        id="negative-volume",
    ),
    pytest.param(
        GOOD.replace(",60000,", ",0,"),
        (
            2,
            "mwh",
            "0",
            "a volume of 0 MWh carries no claim",
            "give the MWh whose attributes the instrument carries (1 certificate = 1 MWh)",
        ),
        id="zero-volume",
    ),
    pytest.param(
        GOOD.replace(",60000,", ",60 000 MWh,"),
        (2, "mwh", "60 000 MWh", "not a number", "write a number such as 12.5"),
        id="volume-text",
    ),
    pytest.param(
        GOOD.replace("2024-01-01,", "2024-13-01,", 1),
        (
            2,
            "period_start",
            "2024-13-01",
            "not a date",
            "write the date as YYYY-MM-DD (e.g. 2024-01-31) or YYYY/MM/DD",
        ),
        id="bad-date",
    ),
    pytest.param(
        GOOD.replace(",DC-CQ,", ",DC-XX,"),
        (
            2,
            "retired_for",
            "DC-XX",
            "unknown entity or site 'DC-XX': it is not imported",
            "did you mean 'DC-CQ'? name an imported entity or site (import it first with "
            "--kind entities or --kind sites)",
        ),
        id="unknown-claimant",
    ),
    pytest.param(
        GOOD.replace(",DC-CQ,", ",dc-cq,"),
        (
            2,
            "retired_for",
            "dc-cq",
            "unknown entity or site 'dc-cq': it is not imported",
            "use 'DC-CQ' (codes are case-sensitive)",
        ),
        id="claimant-case",
    ),
    pytest.param(
        GOOD.replace("2025-01-15", "2023-12-01"),
        (
            2,
            "retired_on",
            "2023-12-01",
            "retired before its generation period starts (2024-01-01)",
            "a certificate is issued for generation that happened: correct the dates",
        ),
        id="retired-before-generation",
    ),
    pytest.param(
        GOOD.replace("2021-06-30", "2025-06-30"),
        (
            2,
            "commissioned",
            "2025-06-30",
            "the plant was commissioned after the generation period ends (2024-12-31)",
            "correct the commissioning date or the period",
        ),
        id="commissioned-after-generation",
    ),
]


@pytest.mark.parametrize(("row", "issue"), ROW_CASES)
def test_a_wrong_row_rejects_the_file_with_its_exact_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: tuple[object, ...]
) -> None:
    _group(workspace, tmp_path)
    error = _rejected(workspace, _write(tmp_path, "bad.csv", HEADER + row))
    assert _issues(error) == [issue]
    assert str(error).startswith("bad.csv was rejected: 1 problem in 1 row")
    with workspace.session() as session:
        assert load_instruments(session) == []
        assert [b.kind for b in load_batches(session)] == ["entities", "sites"]


def test_duplicates_in_the_file_and_against_the_store(workspace: Workspace, tmp_path: Path) -> None:
    _group(workspace, tmp_path)
    import_instruments(workspace, _write(tmp_path, "first.csv", HEADER + GOOD))
    second = GOOD.replace("GEC-1,", "GEC-2,").replace("000001~060000", "060001~070000")
    third = GOOD.replace("GEC-1,", "GEC-3,")  # same registry id as the stored GEC-1
    error = _rejected(
        workspace,
        _write(
            tmp_path,
            "again.csv",
            HEADER + GOOD + second + second.replace("GEC-2,", "gec-2,") + third,
        ),
    )
    assert _issues(error) == [
        (
            2,
            "instrument",
            "GEC-1",
            f"instrument 'GEC-1' is already stored (batch {_batch_of(workspace)})",
            "an instrument is registered once: give a new instrument a new id",
        ),
        (
            2,
            "registry_id",
            "GEC-2024-000001~060000",
            "registry id 'GEC-2024-000001~060000' of type gec is already stored as instrument "
            "'GEC-1'",
            "the same certificates cannot be registered twice",
        ),
        (
            4,
            "instrument",
            "gec-2",
            "instrument 'gec-2' differs from 'GEC-2' of row 3 only in letter case",
            "keep one row per instrument",
        ),
        (
            5,
            "registry_id",
            "GEC-2024-000001~060000",
            "registry id 'GEC-2024-000001~060000' of type gec is already stored as instrument "
            "'GEC-1'",
            "the same certificates cannot be registered twice",
        ),
    ]
    assert str(error).startswith("again.csv was rejected: 4 problems in 3 rows")


def _batch_of(ws: Workspace) -> str:
    with ws.session() as session:
        return str(load_instruments(session)[0]["batch_id"])


# ---- allocation guard in the database ---------------------------------------------------


def _allocation(mwh: float, site: str = "DC-CQ", month: int = 1) -> dict[str, object]:
    return {
        "instrument": "GEC-1",
        "site": site,
        "entity": "CLOUD" if site == "DC-CQ" else "GRP",
        "period_start": date(2024, month, 1),
        "period_end": date(2024, month, 28),
        "mwh": mwh,
        "rule": "site",
    }


def test_the_database_refuses_allocation_beyond_the_volume(
    workspace: Workspace, tmp_path: Path
) -> None:
    _group(workspace, tmp_path)
    import_instruments(workspace, _write(tmp_path, "i.csv", HEADER + GOOD))
    with workspace.session() as session:
        save_allocations(session, [_allocation(50000.0), _allocation(10000.0, "OF-SZ")])
    # The whole 60,000 MWh is allocated: one more MWh anywhere is refused, and nothing of
    # the refused call is written.
    with (
        pytest.raises(
            WorkspaceError,
            match=r"^the allocation was refused: an instrument would "
            r"be allocated beyond its volume \(double counting, GHG Protocol Scope 2 "
            r"Guidance Table 7\.1\)$",
        ),
        workspace.session() as session,
    ):
        save_allocations(session, [_allocation(1.0, month=2)])
    with workspace.session() as session:
        assert [a["mwh"] for a in load_allocations(session)] == [50000.0, 10000.0]
        assert load_instruments(session)[0]["allocated_mwh"] == 60000.0


def test_the_database_refuses_the_same_site_and_period_twice(
    workspace: Workspace, tmp_path: Path
) -> None:
    _group(workspace, tmp_path)
    import_instruments(workspace, _write(tmp_path, "i.csv", HEADER + GOOD))
    with workspace.session() as session:
        save_allocations(session, [_allocation(100.0)])
    with (
        pytest.raises(
            WorkspaceError,
            match=r"^the allocation was refused: the same instrument is "
            r"already allocated to that site and period$",
        ),
        workspace.session() as session,
    ):
        save_allocations(session, [_allocation(100.0)])
    with workspace.session() as session:
        assert load_instruments(session)[0]["allocated_mwh"] == 100.0


def test_cleared_allocations_give_their_volume_back(workspace: Workspace, tmp_path: Path) -> None:
    _group(workspace, tmp_path)
    import_instruments(workspace, _write(tmp_path, "i.csv", HEADER + GOOD))
    with workspace.session() as session:
        save_allocations(session, [_allocation(0.1), _allocation(0.2, month=2)])
    with workspace.session() as session:
        assert clear_allocations(session, 2024) == 2
    with workspace.session() as session:
        assert load_allocations(session) == []
        assert load_instruments(session)[0]["allocated_mwh"] == 0.0
        save_allocations(session, [_allocation(60000.0)])


def test_an_unknown_instrument_cannot_be_allocated(workspace: Workspace, tmp_path: Path) -> None:
    _group(workspace, tmp_path)
    with (
        pytest.raises(WorkspaceError, match=r"^cannot allocate unknown instrument 'GEC-1'$"),
        workspace.session() as session,
    ):
        save_allocations(session, [_allocation(1.0)])


def test_parquet_typed_columns(workspace: Workspace, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _group(workspace, tmp_path)
    table = pa.table(
        {
            "instrument": ["R-1"],
            "type": ["irec"],
            "technology": ["hydro"],
            "country": ["VN"],
            "period_start": pa.array([date(2024, 1, 1)], pa.date32()),
            "period_end": pa.array([date(2024, 12, 31)], pa.date32()),
            "mwh": [12.5],
            "attributes_sold": [False],
        }
    )
    pq.write_table(table, tmp_path / "i.parquet")
    assert import_instruments(workspace, tmp_path / "i.parquet").rows == 1
    with workspace.session() as session:
        (row,) = load_instruments(session)
    assert row["period_end"] == date(2024, 12, 31)


def test_xlsx_with_excel_dates(workspace: Workspace, tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    _group(workspace, tmp_path)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["工具编号", "类型", "技术", "国家或地区", "发电开始日期", "发电结束日期", "电量（兆瓦时）"]
    )
    sheet.append(
        ["X-1", "绿电交易", "风电", "CN", datetime(2024, 1, 1), datetime(2024, 12, 31), 1500]
    )
    book.save(tmp_path / "i.xlsx")
    assert import_instruments(workspace, tmp_path / "i.xlsx").rows == 1
    with workspace.session() as session:
        (row,) = load_instruments(session)
    assert (row["type"], row["technology"]) == ("green_power_trade", "wind")
    assert (row["period_start"], row["period_end"], row["mwh"]) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
        1500.0,
    )


def test_concurrent_allocations_cannot_both_fit_on_postgresql(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Two transactions each allocate 40,000 of the 60,000 MWh: PostgreSQL makes the second
    wait on the row lock of the first and then re-checks the volume against the committed
    value, so the second is refused (the CHECK constraint, not application code)."""
    import threading

    if workspace.engine.dialect.name != "postgresql":
        pytest.skip("needs two concurrent writers; SQLite serialises whole transactions")
    _group(workspace, tmp_path)
    import_instruments(workspace, _write(tmp_path, "i.csv", HEADER + GOOD))
    errors: list[BaseException] = []
    first_wrote = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with workspace.session() as session:
            save_allocations(session, [_allocation(40000.0)])
            first_wrote.set()
            release_first.wait(timeout=30)

    def second() -> None:
        first_wrote.wait(timeout=30)
        try:
            with workspace.session() as session:
                save_allocations(session, [_allocation(40000.0, "OF-SZ")])
        except WorkspaceError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_wrote.wait(timeout=30)
    threads[1].join(timeout=1.0)
    assert threads[1].is_alive()  # the second writer waits for the first one's row lock
    release_first.set()
    for thread in threads:
        thread.join(timeout=30)
    assert [str(e) for e in errors] == [
        "the allocation was refused: an instrument would be allocated beyond its volume "
        "(double counting, GHG Protocol Scope 2 Guidance Table 7.1)"
    ]
    with workspace.session() as session:
        assert load_instruments(session)[0]["allocated_mwh"] == 40000.0
        assert [a["site"] for a in load_allocations(session)] == ["DC-CQ"]
