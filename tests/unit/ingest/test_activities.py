"""The activity importer: every rejection rule with its exact message, every input format,
the lake file and batch it writes, and that a rejected or failed import leaves nothing behind.

Tests that touch the store run on SQLite and, with ESGLEDGER_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from esgledger.errors import InputError, Issue, WorkspaceError
from esgledger.ingest import activities, batches
from esgledger.ingest.activities import ACTIVITY_COLUMNS, LAKE_SCHEMA, import_activities
from esgledger.ingest.batches import file_sha256
from esgledger.store import Workspace
from esgledger.store.repository import (
    batch_id_for,
    load_batches,
    register_batch,
    save_entities,
    save_sites,
)

ROW: dict[str, str] = {
    "record_id": "R-1",
    "entity": "CLOUD",
    "site": "DC-TJ",
    "period_start": "2024-01-01",
    "period_end": "2024-01-31",
    "activity": "electricity",
    "quantity": "1000",
    "unit": "kWh",
}
HEADER = [spec.name for spec in ACTIVITY_COLUMNS]

FIX_ENTITY = (
    "import the entity first (esgledger import WS --kind entities FILE) or correct the code"
)
FIX_SITE = (
    "import the site first (esgledger import WS --kind sites FILE), correct the code, or "
    "leave site empty"
)
FIX_UNIT = (
    "write a unit such as kWh, MWh, L, m3, Nm3, t, kg, tkm, pkm, room_night, CNY or 万元 "
    "(`esgledger units` lists them all)"
)
FIX_ACTIVITY = (
    "use a key that `esgledger activities` lists, or import your own type first "
    "(esgledger import WS --kind activity-types FILE)"
)
FIX_DATE = "write the date as YYYY-MM-DD (e.g. 2024-01-31) or YYYY/MM/DD"
FIX_YEAR = (
    "import only activity from 2024-01-01 to 2024-12-31; a period spanning two years is "
    "split into one row per year"
)
FIX_CATEGORY = (
    "write a whole number from 1 to 15 (GHG Protocol Scope 3 Standard categories), or leave "
    "it empty to use the activity's default"
)
FIX_FACTOR_ID = "use a factor id of the library, or leave factor empty to let esgledger choose"
FIX_FACTOR_FIT = "choose a factor of the activity's dimension, or leave factor empty"
FIX_LAKE_DUP = (
    "remove rows that were imported before; a row that corrects one gets a new record id and "
    "correction = true"
)


def _entity(code: str, parent: str | None) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"{code} Ltd",
        "name_zh": None,
        "parent": parent,
        "ownership_pct": 100.0,
        "operational_control": True,
        "financial_control": True,
        "country": "CN",
    }


def _site(code: str, entity: str, region: str) -> dict[str, Any]:
    return {
        "code": code,
        "entity": entity,
        "name": code,
        "name_zh": None,
        "country": "CN",
        "region": region,
        "type": "data_centre",
    }


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """A 2024 workspace with entities GRP > CLOUD, SOC and sites DC-TJ (CLOUD), HQ-SZ (GRP)."""
    with workspace.session() as session:
        batch = register_batch(
            session, kind="entities", file_name="org.csv", content_hash="0" * 64, row_count=3
        )
        save_entities(
            session,
            [_entity("GRP", None), _entity("CLOUD", "GRP"), _entity("SOC", "GRP")],
            batch,
        )
        save_sites(
            session, [_site("DC-TJ", "CLOUD", "CN-TJ"), _site("HQ-SZ", "GRP", "CN-GD")], batch
        )
    return workspace


def write_csv(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    header: Sequence[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    names = list(header) if header is not None else [c for c in HEADER if any(c in r for r in rows)]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in names])
    return path


def rows_with(**changes: str) -> list[dict[str, str]]:
    """A good row 2 and row 3 that differs from it by ``changes`` (and its record id)."""
    return [dict(ROW), {**ROW, "record_id": "R-2", **changes}]


def rejection(ws: Workspace, path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        import_activities(ws, path)
    return info.value


def issues_of(ws: Workspace, tmp_path: Path, **changes: str) -> list[Issue]:
    """The issues of a two-row file whose second row (row 3) has ``changes``."""
    error = rejection(ws, write_csv(tmp_path / "a.csv", rows_with(**changes)))
    assert error.total == len(error.issues)
    return list(error.issues)


def lake_files(ws: Workspace) -> list[Path]:
    folder = ws.lake / "activities"
    return sorted(folder.iterdir()) if folder.exists() else []


def lake_rows(ws: Workspace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in lake_files(ws):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def activity_batches(ws: Workspace) -> list[Any]:
    with ws.session() as session:
        return [b for b in load_batches(session) if b.kind == "activities"]


# ---- rejection rules, one by one -----------------------------------------------------------


def test_unknown_entity_suggests_a_close_code(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, entity="CLOUDD", site="") == [
        Issue(
            "a.csv", 3, "entity", "CLOUDD", "unknown entity", "did you mean 'CLOUD'? " + FIX_ENTITY
        )
    ]


def test_unknown_site(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, site="DC-XX") == [
        Issue("a.csv", 3, "site", "DC-XX", "unknown site", "did you mean 'DC-TJ'? " + FIX_SITE)
    ]


def test_site_of_another_entity(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, site="HQ-SZ") == [
        Issue(
            "a.csv",
            3,
            "site",
            "HQ-SZ",
            "site 'HQ-SZ' belongs to entity 'GRP', not 'CLOUD'",
            "correct the entity or the site of the row",
        )
    ]


def test_unknown_activity_suggests_close_keys(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, activity="electricty") == [
        Issue(
            "a.csv",
            3,
            "activity",
            "electricty",
            "unknown activity 'electricty'; did you mean electricity, leased.electricity, "
            "use_phase.electricity? (`esgledger activities` lists them)",
            FIX_ACTIVITY,
        )
    ]


def test_refrigerant_gas_not_in_the_gwp_tables(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, activity="refrigerant.R-9999", unit="kg") == [
        Issue(
            "a.csv",
            3,
            "activity",
            "refrigerant.R-9999",
            "Unknown gas or refrigerant 'R-9999': it is not in esgledger's GWP table (IPCC "
            "AR4/AR5/AR6) nor one of its 38 refrigerant blends. Use a name such as 'CH4', "
            "'HFC-134a', 'R-410A' or 'SF6'.",
            "write the gas after 'refrigerant.', e.g. refrigerant.R-410A",
        )
    ]


def test_process_gas_not_in_the_gwp_tables(ws: Workspace, tmp_path: Path) -> None:
    (issue,) = issues_of(ws, tmp_path, activity="process.XYZ", unit="t")
    assert (issue.row, issue.column, issue.value, issue.fix) == (
        3,
        "activity",
        "process.XYZ",
        "write the gas after 'process.', e.g. process.SF6",
    )
    assert issue.problem.startswith("Unknown gas or refrigerant 'XYZ': ")


def test_known_refrigerant_and_process_gases_pass(ws: Workspace, tmp_path: Path) -> None:
    rows = [
        {**ROW, "record_id": "R-1", "activity": "refrigerant.r410a", "unit": "kg"},
        {**ROW, "record_id": "R-2", "activity": "process.SF6", "unit": "t"},
    ]
    assert import_activities(ws, write_csv(tmp_path / "gas.csv", rows)).rows == 2


def test_unknown_unit(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, unit="kWhh") == [
        Issue("a.csv", 3, "unit", "kWhh", "unknown unit", FIX_UNIT)
    ]


def test_an_ambiguous_ton_is_refused_with_the_reason(ws: Workspace, tmp_path: Path) -> None:
    (issue,) = issues_of(ws, tmp_path, activity="refrigerant.r410a", unit="ton")
    assert (issue.row, issue.column, issue.value) == (3, "unit", "ton")
    assert issue.problem.startswith("unit 'ton' is ambiguous: ")
    assert "write t (or tonne, 吨) or short_ton" in issue.problem


def test_units_in_capitals_are_accepted_like_kwh(ws: Workspace, tmp_path: Path) -> None:
    rows = [
        {**ROW, "record_id": "R-1", "unit": "KWH"},
        {**ROW, "record_id": "R-2", "activity": "refrigerant.r410a", "unit": "KG"},
    ]
    assert import_activities(ws, write_csv(tmp_path / "caps.csv", rows)).rows == 2


def test_unit_that_does_not_fit_the_activity(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, unit="L") == [
        Issue(
            "a.csv",
            3,
            "unit",
            "L",
            "the unit does not fit activity 'electricity', which needs [energy]",
            "give the quantity in a unit of [energy], e.g. kWh",
        )
    ]


def test_unknown_region_code(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, region="CN-XX") == [
        Issue(
            "a.csv",
            3,
            "region",
            "CN-XX",
            "unknown region code",
            "did you mean 'CN-XZ', 'CN-XJ', 'CN-SX'? use a code of esgledger's region table "
            "(CN, CN-GD, CN-GRID-SOUTH, HK, US, US-EGRID-CAMX, GLOBAL ...) or leave region "
            "empty to use the site's",
        )
    ]


@pytest.mark.parametrize("value", ["16", "0", "2.5", "two"])
def test_scope3_category_outside_1_to_15(ws: Workspace, tmp_path: Path, value: str) -> None:
    issues = issues_of(ws, tmp_path, activity="travel.rail", unit="pkm", scope3_category=value)
    assert issues == [
        Issue("a.csv", 3, "scope3_category", value, "not a scope 3 category", FIX_CATEGORY)
    ]


def test_scope3_category_on_a_scope_2_activity(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, scope3_category="3") == [
        Issue(
            "a.csv",
            3,
            "scope3_category",
            "3",
            "activity 'electricity' is scope 2; a scope 3 category only applies to scope 3 "
            "activities",
            "leave scope3_category empty on this row",
        )
    ]


def test_unknown_factor_id(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, factor="cn-mee:location:CN-GD:2032") == [
        Issue(
            "a.csv",
            3,
            "factor",
            "cn-mee:location:CN-GD:2032",
            "no factor with id 'cn-mee:location:CN-GD:2032'; did you mean "
            "cn-mee:location:CN-GD:2023, cn-mee:location:CN-GD:2022, cn-mee:location:CN-GD:2021? "
            "(`esgledger factors search TEXT` finds factors)",
            FIX_FACTOR_ID,
        )
    ]


def test_factor_whose_unit_does_not_fit_the_activity(ws: Workspace, tmp_path: Path) -> None:
    factor = "cn-mee:location:CN-GD:2023"  # a grid factor per kWh
    assert issues_of(ws, tmp_path, activity="travel.rail", unit="pkm", factor=factor) == [
        Issue(
            "a.csv",
            3,
            "factor",
            factor,
            f"factor {factor!r} is per kWh, which does not fit activity 'travel.rail' "
            "([passenger] * [length])",
            FIX_FACTOR_FIT,
        )
    ]


def test_factor_the_rows_unit_cannot_convert_to(ws: Workspace, tmp_path: Path) -> None:
    # Diesel may be given by volume, mass or energy, but a per-kWh factor needs energy.
    factor = "desnz-2024:1_101_1011_7:stationary.diesel"
    issues = issues_of(ws, tmp_path, activity="stationary.diesel", unit="L", factor=factor)
    assert issues == [
        Issue(
            "a.csv",
            3,
            "factor",
            factor,
            f"factor {factor!r} is per kWh; unit 'L' cannot be converted to it",
            FIX_FACTOR_FIT,
        )
    ]


def test_factor_that_fits_is_accepted(ws: Workspace, tmp_path: Path) -> None:
    rows = rows_with(unit="MWh", factor="cn-mee:location:CN-GD:2023")
    import_activities(ws, write_csv(tmp_path / "f.csv", rows))
    assert [r["factor"] for r in lake_rows(ws)] == [None, "cn-mee:location:CN-GD:2023"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1,234", "not a number: it contains a comma"),
        ("1_234", "not a number: it contains an underscore"),
        ("0x10", "not a number: hexadecimal, binary and octal numbers are not accepted"),
        ("12 kWh", "not a number"),
        ("abc", "not a number"),
        ("inf", "not a finite number"),
    ],
)
def test_quantity_that_is_not_a_number(
    ws: Workspace, tmp_path: Path, value: str, problem: str
) -> None:
    assert issues_of(ws, tmp_path, quantity=value) == [
        Issue(
            "a.csv",
            3,
            "quantity",
            value,
            problem,
            "write a plain number such as 1234.5: no thousands separators, units or text",
        )
    ]


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        # Words are refused by the number grammar ...
        ("nan", "write a plain number such as 1234.5: no thousands separators, units or text"),
        ("inf", "write a plain number such as 1234.5: no thousands separators, units or text"),
        ("-inf", "write a plain number such as 1234.5: no thousands separators, units or text"),
        # ... a number too large for a double by the finiteness rule.
        ("1e999", "write the amount as a plain number such as 1234.5"),
        ("-1e999", "write the amount as a plain number such as 1234.5"),
    ],
)
def test_quantity_that_is_not_finite(ws: Workspace, tmp_path: Path, value: str, fix: str) -> None:
    assert issues_of(ws, tmp_path, quantity=value, correction="true") == [
        Issue("a.csv", 3, "quantity", value, "not a finite number", fix)
    ]


def test_negative_quantity_needs_correction(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, quantity="-5") == [
        Issue(
            "a.csv",
            3,
            "quantity",
            "-5",
            "a negative quantity is only allowed on a correction row",
            "give the amount as a positive number, or set correction to true if this row "
            "corrects an earlier one",
        )
    ]


@pytest.mark.parametrize("flag", ["true", "TRUE", "yes", "1", "是"])
def test_negative_quantity_on_a_correction_row_is_accepted(
    ws: Workspace, tmp_path: Path, flag: str
) -> None:
    import_activities(ws, write_csv(tmp_path / "c.csv", rows_with(quantity="-5", correction=flag)))
    assert [(r["quantity"], r["correction"]) for r in lake_rows(ws)] == [
        (1000.0, False),
        (-5.0, True),
    ]


def test_correction_that_is_not_a_boolean(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, correction="maybe") == [
        Issue(
            "a.csv",
            3,
            "correction",
            "maybe",
            "not true or false",
            "write true or false (是/否), or leave it empty for false",
        )
    ]


@pytest.mark.parametrize("value", ["2024-13-01", "31/01/2024", "45292", "2024-01-05 10:30:00"])
def test_date_that_does_not_parse(ws: Workspace, tmp_path: Path, value: str) -> None:
    assert issues_of(ws, tmp_path, period_start=value) == [
        Issue("a.csv", 3, "period_start", value, "not a date", FIX_DATE)
    ]


def test_period_outside_the_reporting_year(ws: Workspace, tmp_path: Path) -> None:
    issues = issues_of(ws, tmp_path, period_start="2023-12-01", period_end="2025-01-31")
    problem = "the date is outside the reporting year 2024"
    assert issues == [
        Issue("a.csv", 3, "period_start", "2023-12-01", problem, FIX_YEAR),
        Issue("a.csv", 3, "period_end", "2025-01-31", problem, FIX_YEAR),
    ]


def test_period_that_ends_before_it_starts(ws: Workspace, tmp_path: Path) -> None:
    assert issues_of(ws, tmp_path, period_start="2024-03-01", period_end="2024-02-29") == [
        Issue(
            "a.csv",
            3,
            "period_end",
            "2024-02-29",
            "the period ends before it starts (period_start 2024-03-01)",
            "swap period_start and period_end, or correct the dates",
        )
    ]


def test_missing_required_values(ws: Workspace, tmp_path: Path) -> None:
    issues = issues_of(ws, tmp_path, entity=" ", quantity="", unit="")
    assert issues == [
        Issue(
            "a.csv",
            3,
            "entity",
            None,
            "the value is missing",
            "fill in entity: Entity code (from the entities file)",
        ),
        Issue(
            "a.csv",
            3,
            "quantity",
            None,
            "the value is missing",
            "fill in quantity: Amount of activity in `unit`; negative only on correction rows",
        ),
        Issue(
            "a.csv",
            3,
            "unit",
            None,
            "the value is missing",
            "fill in unit: Unit of the quantity (kWh, L, t, tkm, CNY ...); must fit the "
            "activity's dimension",
        ),
    ]


def test_duplicate_record_id_within_the_file(ws: Workspace, tmp_path: Path) -> None:
    rows = [dict(ROW), {**ROW, "record_id": "R-2"}, {**ROW}, {**ROW}]
    error = rejection(ws, write_csv(tmp_path / "d.csv", rows))
    fix = "give every row its own record id, or remove the repeated row"
    problem = "the record id is used more than once in the file (first in row 2)"
    assert error.issues == (
        Issue("d.csv", 4, "record_id", "R-1", problem, fix),
        Issue("d.csv", 5, "record_id", "R-1", problem, fix),
    )


def test_record_id_already_in_the_lake_for_the_same_entity(ws: Workspace, tmp_path: Path) -> None:
    first = import_activities(ws, write_csv(tmp_path / "jan.csv", [ROW]))
    # Same record id: refused for the same entity, accepted for another one.
    again = {**ROW, "period_start": "2024-02-01", "period_end": "2024-02-29"}
    other = {**again, "entity": "GRP", "site": "HQ-SZ"}
    error = rejection(ws, write_csv(tmp_path / "feb.csv", [again]))
    assert error.issues == (
        Issue(
            "feb.csv",
            2,
            "record_id",
            "R-1",
            f"entity 'CLOUD' already has this record id in batch {first.batch_id} (row 2); "
            "importing it again would count it twice",
            FIX_LAKE_DUP,
        ),
    )
    assert import_activities(ws, write_csv(tmp_path / "grp.csv", [other])).rows == 1


def test_a_registered_lake_file_that_is_missing_stops_the_import(
    ws: Workspace, tmp_path: Path
) -> None:
    import_activities(ws, write_csv(tmp_path / "jan.csv", [ROW]))
    (missing,) = lake_files(ws)
    missing.unlink()
    with pytest.raises(WorkspaceError, match=r"the lake file .* is missing; restore it"):
        import_activities(ws, write_csv(tmp_path / "feb.csv", [{**ROW, "record_id": "R-9"}]))


# ---- whole-file rejections -----------------------------------------------------------------


def test_header_only_csv_is_empty(ws: Workspace, tmp_path: Path) -> None:
    error = rejection(ws, write_csv(tmp_path / "e.csv", [], header=HEADER))
    assert error.summary == "e.csv was rejected: the file has no data rows"
    assert error.issues == (
        Issue("e.csv", None, None, None, "the file has no data rows", "add the activity rows"),
    )


@pytest.mark.parametrize("name", ["zero.csv", "zero.parquet"])
def test_zero_byte_file_is_empty(ws: Workspace, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    error = rejection(ws, tmp_path / name)
    assert error.summary == f"{name} was rejected: the file is empty"


def test_parquet_without_rows_is_empty(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({c: pa.array([], type=pa.string()) for c in ROW})
    pq.write_table(table, tmp_path / "e.parquet")
    assert rejection(ws, tmp_path / "e.parquet").summary == (
        "e.parquet was rejected: the file has no data rows"
    )


def test_corrupt_parquet(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not really parquet")
    error = rejection(ws, tmp_path / "bad.parquet")
    assert error.summary == "bad.parquet was rejected: damaged file (not a valid Parquet file)"
    assert error.issues[0].fix == "write the file again (it may have been cut short while copying)"


def test_parquet_with_damaged_pages_but_a_sound_footer(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({c: [f"{ROW[c]}"] * 2000 for c in ROW})
    pq.write_table(table, tmp_path / "ok.parquet", compression="zstd")
    data = bytearray((tmp_path / "ok.parquet").read_bytes())
    footer = pq.read_metadata(tmp_path / "ok.parquet").serialized_size + 8
    for index in range(4, len(data) - footer):
        data[index] ^= 0x5A
    (tmp_path / "damaged.parquet").write_bytes(bytes(data))
    error = rejection(ws, tmp_path / "damaged.parquet")
    assert error.summary == (
        "damaged.parquet was rejected: damaged file (not a valid Parquet file)"
    )
    assert lake_files(ws) == []


def test_a_file_that_does_not_exist(ws: Workspace, tmp_path: Path) -> None:
    error = rejection(ws, tmp_path / "nowhere.csv")
    assert error.issues == (
        Issue(
            "nowhere.csv",
            None,
            None,
            None,
            f"the file {tmp_path / 'nowhere.csv'} does not exist",
            "check the path",
        ),
    )


def test_corrupt_xlsx(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    error = rejection(ws, tmp_path / "bad.xlsx")
    assert error.summary == (
        "bad.xlsx was rejected: damaged file (not a valid XLSX workbook): "
        "it is not a complete zip archive"
    )


def test_missing_required_column(ws: Workspace, tmp_path: Path) -> None:
    rows = [{k: v for k, v in ROW.items() if k != "unit"}]
    error = rejection(ws, write_csv(tmp_path / "h.csv", rows))
    assert error.summary == "h.csv was rejected: its header is not right"
    assert error.issues == (
        Issue("h.csv", 1, "unit", None, "required column is missing", "add a column 'unit'"),
    )


def test_every_issue_of_a_file_is_reported_at_once_in_row_order(
    ws: Workspace, tmp_path: Path
) -> None:
    rows = [
        {**ROW, "record_id": "R-1", "unit": "L"},
        dict(ROW, record_id="R-2"),
        {**ROW, "record_id": "R-3", "entity": "NOPE", "site": "", "quantity": "x"},
        {**ROW, "record_id": "R-4", "period_end": "2025-01-01", "region": "ZZ"},
    ]
    error = rejection(ws, write_csv(tmp_path / "m.csv", rows))
    assert error.total == 5
    assert [(i.row, i.column, i.problem) for i in error.issues] == [
        (2, "unit", "the unit does not fit activity 'electricity', which needs [energy]"),
        (4, "entity", "unknown entity"),
        (4, "quantity", "not a number"),
        (5, "period_end", "the date is outside the reporting year 2024"),
        (5, "region", "unknown region code"),
    ]


def test_the_report_is_capped_but_counts_every_issue(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activities, "ISSUE_CAP", 10)
    rows = [{**ROW, "record_id": f"R-{i}", "unit": "kWhh", "quantity": "-1"} for i in range(30)]
    error = rejection(ws, write_csv(tmp_path / "many.csv", rows))
    assert (len(error.issues), error.total) == (10, 60)
    assert [i.row for i in error.issues] == [2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert error.summary == "many.csv was rejected: 60 issues found; nothing was imported"


def test_rejection_writes_nothing(ws: Workspace, tmp_path: Path) -> None:
    error = rejection(ws, write_csv(tmp_path / "a.csv", rows_with(unit="kWhh")))
    assert error.summary == "a.csv was rejected: 1 issue found; nothing was imported"
    assert lake_files(ws) == []
    assert activity_batches(ws) == []


# ---- accepted files ------------------------------------------------------------------------


def test_csv_is_stored_typed_in_the_lake_with_its_batch(ws: Workspace, tmp_path: Path) -> None:
    rows = [
        {**ROW, "notes": "January", "supplier": "State Grid"},
        {
            "record_id": "R-2",
            "entity": "GRP",
            "site": "",
            "period_start": "2024/02/01",
            "period_end": "2024-02-29T00:00:00",
            "activity": "travel.hotel",
            "quantity": "12.5",
            "unit": "间夜",
            "region": "hk",
            "scope3_category": "6",
            "correction": "false",
        },
    ]
    path = write_csv(tmp_path / "energy.csv", rows)
    result = import_activities(ws, path)
    batch_id = batch_id_for("activities", file_sha256(path))
    assert (result.kind, result.batch_id, result.rows, result.created) == (
        "activities",
        batch_id,
        2,
        True,
    )
    assert result.message == (
        f"Imported 2 activity rows from energy.csv as batch {batch_id} (2 activities, "
        "2024-01-01 to 2024-02-29)."
    )
    assert lake_files(ws) == [ws.lake / "activities" / f"{batch_id}.parquet"]
    table = pq.read_table(lake_files(ws)[0])
    assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in LAKE_SCHEMA]
    assert pq.read_metadata(lake_files(ws)[0]).row_group(0).column(0).compression == "ZSTD"
    base = {
        "batch_id": batch_id,
        "factor": None,
        "scope3_category": None,
        "region": None,
        "meter": None,
    }
    assert table.to_pylist() == [
        {
            **base,
            "row_number": 2,
            "record_id": "R-1",
            "entity": "CLOUD",
            "site": "DC-TJ",
            "period_start": dt.date(2024, 1, 1),
            "period_end": dt.date(2024, 1, 31),
            "activity": "electricity",
            "quantity": 1000.0,
            "unit": "kWh",
            "supplier": "State Grid",
            "correction": False,
            "notes": "January",
        },
        {
            **base,
            "row_number": 3,
            "record_id": "R-2",
            "entity": "GRP",
            "site": None,
            "period_start": dt.date(2024, 2, 1),
            "period_end": dt.date(2024, 2, 29),
            "activity": "travel.hotel",
            "quantity": 12.5,
            "unit": "间夜",
            "region": "HK",
            "supplier": None,
            "scope3_category": 6,
            "correction": False,
            "notes": None,
        },
    ]
    (batch,) = activity_batches(ws)
    assert (batch.id, batch.file_name, batch.row_count, batch.lake_path) == (
        batch_id,
        "energy.csv",
        2,
        f"activities/{batch_id}.parquet",
    )
    assert batch.summary == {
        "rows": 2,
        "format": "csv",
        "encoding": "utf-8",
        "period_start": "2024-01-01",
        "period_end": "2024-02-29",
        "rows_by_activity": {"electricity": 1, "travel.hotel": 1},
        "quantity_by_activity_unit": [
            {"activity": "electricity", "unit": "kWh", "rows": 1, "quantity": 1000.0},
            {"activity": "travel.hotel", "unit": "间夜", "rows": 1, "quantity": 12.5},
        ],
        "entities": ["CLOUD", "GRP"],  # what scopes a data owner's view of the registry
    }
    json.dumps(batch.summary)  # the summary is plain JSON


def test_summary_totals_per_activity_and_unit(ws: Workspace, tmp_path: Path) -> None:
    rows = [
        {**ROW, "record_id": "A", "quantity": "1.5"},
        {**ROW, "record_id": "B", "quantity": "2.25"},
        {**ROW, "record_id": "C", "quantity": "3", "unit": "MWh"},
        {**ROW, "record_id": "D", "quantity": "-0.25", "correction": "true"},
    ]
    import_activities(ws, write_csv(tmp_path / "s.csv", rows))
    (batch,) = activity_batches(ws)
    assert batch.summary["rows_by_activity"] == {"electricity": 4}
    assert batch.summary["quantity_by_activity_unit"] == [
        {"activity": "electricity", "unit": "MWh", "rows": 1, "quantity": 3.0},
        {"activity": "electricity", "unit": "kWh", "rows": 3, "quantity": 3.5},
    ]


def test_gb18030_csv_with_chinese_headers(ws: Workspace, tmp_path: Path) -> None:
    zh = {spec.name: spec.header_zh for spec in ACTIVITY_COLUMNS}
    path = tmp_path / "差旅.csv"
    row = {**ROW, "activity": "travel.rail", "unit": "人公里", "notes": "高铁"}
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([zh[c] for c in row])
        writer.writerow(list(row.values()))
    result = import_activities(ws, path)
    assert result.rows == 1
    (stored,) = lake_rows(ws)
    assert (stored["unit"], stored["notes"], stored["activity"]) == (
        "人公里",
        "高铁",
        "travel.rail",
    )
    (batch,) = activity_batches(ws)
    assert batch.summary["encoding"] == "gb18030"


def test_header_names_are_case_insensitive(ws: Workspace, tmp_path: Path) -> None:
    header = ["Record_ID", "ENTITY", "Site", "Period Start", "PERIOD_END", "Activity"]
    header += ["Quantity", "Unit"]
    path = tmp_path / "caps.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(list(ROW.values()))
    assert import_activities(ws, path).rows == 1


def test_xlsx_with_date_and_number_cells(ws: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["record_id", "entity", "site", "period_start", "period_end", "activity"])
    sheet.cell(1, 7, "quantity")
    sheet.cell(1, 8, "unit")
    sheet.cell(1, 9, "scope3_category")
    sheet.append(
        ["X-1", "CLOUD", None, dt.datetime(2024, 4, 1), dt.date(2024, 6, 30), "spend.naics.334111"]
    )
    sheet.cell(2, 7, 2250000.5)
    sheet.cell(2, 8, "万元")
    sheet.cell(2, 9, 2)
    workbook.save(tmp_path / "vc.xlsx")
    result = import_activities(ws, tmp_path / "vc.xlsx")
    assert result.message.endswith("(1 activity, 2024-04-01 to 2024-06-30).")
    assert result.message.startswith(
        "Imported 1 activity row from vc.xlsx (sheet 'Sheet') as batch b-"
    )
    (stored,) = lake_rows(ws)
    assert (
        stored["row_number"],
        stored["quantity"],
        stored["unit"],
        stored["scope3_category"],
    ) == (
        2,
        2250000.5,
        "万元",
        2,
    )
    assert (stored["period_start"], stored["period_end"]) == (
        dt.date(2024, 4, 1),
        dt.date(2024, 6, 30),
    )


def test_typed_parquet(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "record_id": ["P-1", "P-2"],
            "entity": ["CLOUD", "CLOUD"],
            "period_start": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1)], pa.date32()),
            "period_end": pa.array(
                [dt.datetime(2024, 1, 31), dt.datetime(2024, 2, 29)], pa.timestamp("us")
            ),
            "activity": ["electricity", "refrigerant.R-134a"],
            "quantity": pa.array([12.0, -3], pa.float32()),
            "unit": ["MWh", "kg"],
            "scope3_category": pa.array([None, None], pa.int64()),
            "correction": [False, True],
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    import_activities(ws, tmp_path / "typed.parquet")
    assert [
        (r["row_number"], r["period_end"], r["quantity"], r["correction"]) for r in lake_rows(ws)
    ] == [(1, dt.date(2024, 1, 31), 12.0, False), (2, dt.date(2024, 2, 29), -3.0, True)]


def test_parquet_from_pandas_with_its_index(ws: Workspace, tmp_path: Path) -> None:
    import pandas as pd

    february = {"record_id": "R-2", "period_start": "2024-02-01", "period_end": "2024-02-29"}
    frame = pd.DataFrame([ROW, {**ROW, **february}], index=[7, 9])
    frame.to_parquet(tmp_path / "pandas.parquet")
    assert "__index_level_0__" in pq.read_schema(tmp_path / "pandas.parquet").names
    import_activities(ws, tmp_path / "pandas.parquet")
    assert [(r["row_number"], r["record_id"]) for r in lake_rows(ws)] == [(1, "R-1"), (2, "R-2")]


def test_parquet_rejection_names_the_1_based_data_row(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({c: [ROW[c], ROW[c], ROW[c]] for c in ROW})
    table = table.set_column(0, "record_id", pa.array(["A", "B", "C"]))
    table = table.set_column(7, "unit", pa.array(["kWh", "kWh", "florp"]))
    pq.write_table(table, tmp_path / "s.parquet")
    error = rejection(ws, tmp_path / "s.parquet")
    assert error.issues == (Issue("s.parquet", 3, "unit", "florp", "unknown unit", FIX_UNIT),)


def test_parquet_timestamp_with_a_time_of_day_is_not_a_date(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({c: [ROW[c]] for c in ROW})
    table = table.set_column(
        3, "period_start", pa.array([dt.datetime(2024, 1, 1, 8)], pa.timestamp("s"))
    )
    pq.write_table(table, tmp_path / "t.parquet")
    assert rejection(ws, tmp_path / "t.parquet").issues == (
        Issue("t.parquet", 1, "period_start", "2024-01-01 08:00:00", "not a date", FIX_DATE),
    )


def test_reimport_of_the_same_bytes_is_a_no_op(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [ROW])
    first = import_activities(ws, path)
    again = import_activities(ws, path)
    assert (again.created, again.batch_id, again.rows) == (False, first.batch_id, 1)
    assert again.message == (
        f"a.csv was already imported as activities batch {first.batch_id}; nothing changed."
    )
    assert len(lake_files(ws)) == 1
    assert len(activity_batches(ws)) == 1


def test_progress_bar_on_large_files(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activities, "PROGRESS_MIN_BYTES", 0)
    assert import_activities(ws, write_csv(tmp_path / "p.csv", [ROW]), progress=True).rows == 1


# ---- never a half-written batch -------------------------------------------------------------


def test_failed_commit_removes_the_lake_file(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_commit(*args: object, **kwargs: object) -> None:
        raise WorkspaceError("database gone")

    # the lake file is placed by esgledger.ingest.batches.commit_lake_batch
    monkeypatch.setattr(batches, "commit_batch", failing_commit)
    with pytest.raises(WorkspaceError, match="database gone"):
        import_activities(ws, write_csv(tmp_path / "a.csv", [ROW]))
    assert lake_files(ws) == []
    assert activity_batches(ws) == []


def test_failed_rename_unregisters_the_batch(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(batches.os, "replace", failing_replace)
    with pytest.raises(WorkspaceError, match=r"cannot put the lake file of batch b-\w+ in place"):
        import_activities(ws, write_csv(tmp_path / "a.csv", [ROW]))
    assert lake_files(ws) == []
    assert activity_batches(ws) == []
