"""The reference-data importers: entities, sites, activity types, user factor sets, FX rates.

Every rejection rule is tested with its exact issue (row, column, value, problem, fix) and the
exact summary line; accepted files are checked in the store. Tests that touch the store run
on SQLite and, with ESGLEDGER_TEST_DATABASE_URL, on PostgreSQL (the ``workspace`` fixture).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from esgledger.errors import InputError
from esgledger.ingest import ImportResult
from esgledger.ingest.reference import (
    FACTOR_METHODS,
    column_specs,
    factor_set_id_for,
    import_activity_types,
    import_entities,
    import_factors,
    import_fx,
    import_sites,
    site_types,
)
from esgledger.store import Workspace
from esgledger.store.repository import (
    load_activity_types,
    load_batches,
    load_entities,
    load_factor_sets,
    load_factors,
    load_fx_rates,
    load_sites,
)
from esgledger.taxonomy import Taxonomy

Importer = Callable[..., ImportResult]
IssueTuple = tuple[int | None, str | None, str | None, str, str]

DEMO = Path(__file__).parents[3] / "src" / "esgledger" / "demo"

ENTITY_HEADER = "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
ROOT = "GRP,Group,,100,true,true,CN\n"
SITE_HEADER = "site,entity,name,country,region,type\n"
FACTOR_HEADER = "factor,activity,region,year,unit,co2e_kg,co2_kg,ch4_kg,n2o_kg,gwp_basis,source\n"
FX_HEADER = "year,currency,per_usd,source\n"
TYPE_HEADER = "activity,name,dimension,scope,scope3_category\n"

FIX_PCT = "write the parent's equity share in per cent, e.g. 55 or 55% for 55 %"
FIX_BOOL = "write true or false (also accepted: yes/no, y/n, 1/0, 是/否)"
FIX_COUNTRY = "use the two-letter ISO 3166-1 code, e.g. CN, HK, SG, US"
FIX_IMPORT_ENTITY = "import the entity first (esgledger import WS --kind entities FILE)"
FIX_REGION = (
    "use a code of esgledger's regions table (CN-GD, US-EGRID-CAMX, HK …), or leave it "
    "empty for the whole country"
)
SITE_TYPE_LIST = "data_centre, office, warehouse, retail, fleet_depot, factory, lab, campus, other"
FIX_ACTIVITY = (
    "use a key of the taxonomy (`esgledger activities` lists them), or import an activity "
    "type for it first (--kind activity-types)"
)


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def _rejected(importer: Importer, ws: Workspace, path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        importer(ws, path)
    return info.value


def _issues(error: InputError) -> list[IssueTuple]:
    return [(i.row, i.column, i.value, i.problem, i.fix) for i in error.issues]


def _batch_id(kind: str, path: Path) -> str:
    """The documented batch id: b- and 12 hex digits of sha256("kind:" + sha256(bytes))."""
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    return "b-" + hashlib.sha256(f"{kind}:{content}".encode()).hexdigest()[:12]


def _nothing_stored(ws: Workspace) -> None:
    with ws.session() as session:
        assert load_batches(session) == []
        assert load_entities(session) == []
        assert load_sites(session) == []
        assert load_activity_types(session) == []
        assert load_factor_sets(session) == []
        assert load_fx_rates(session) == []


def _import_group(ws: Workspace, tmp_path: Path) -> None:
    """Entities GRP > CLOUD, GRP > INTL, and sites DC-GD (CN-GD) and OF-HK (HK)."""
    entities = _write(
        tmp_path,
        "group.csv",
        ENTITY_HEADER + ROOT + "CLOUD,Cloud,GRP,100,true,true,CN\nINTL,Intl,GRP,100,1,1,SG\n",
    )
    import_entities(ws, entities)
    sites = _write(
        tmp_path,
        "group-sites.csv",
        SITE_HEADER
        + "DC-GD,CLOUD,Qingyuan DC,CN,CN-GD,data_centre\nOF-HK,GRP,HK office,HK,,office\n",
    )
    import_sites(ws, sites)


# ---- schema as data ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["entities", "sites", "activity-types", "factors", "fx"])
def test_every_column_has_a_chinese_header_type_and_both_descriptions(kind: str) -> None:
    specs = column_specs(kind)
    assert specs
    headers = [s.column for s in specs] + [s.header_zh for s in specs]
    assert len(set(headers)) == len(headers), "a header names two columns"
    for spec in specs:
        assert spec.header_zh, spec
        assert spec.description, spec
        assert spec.description_zh, spec
        assert spec.type in {"string", "integer", "decimal", "boolean", "date"}, spec


def test_the_acceptance_tested_columns_are_the_required_ones() -> None:
    def required(kind: str) -> list[str]:
        return [s.column for s in column_specs(kind) if s.required]

    assert required("entities") == [
        "entity",
        "name",
        "ownership_pct",
        "operational_control",
        "financial_control",
        "country",
    ]
    assert required("sites") == ["site", "entity", "name", "country", "type"]
    assert required("activity-types") == ["activity", "name", "dimension", "scope"]
    assert required("factors") == ["factor", "activity", "region", "year", "unit", "source"]
    assert required("fx") == ["year", "currency", "per_usd"]


def test_activity_columns_carry_their_chinese_descriptions() -> None:
    specs = column_specs("activities")
    assert [s.column for s in specs][:3] == ["record_id", "entity", "site"]
    assert all(s.description_zh for s in specs)


def test_unknown_kind_of_schema() -> None:
    with pytest.raises(KeyError, match="unknown kind of input file 'telemetry'"):
        column_specs("telemetry")


def test_site_types_are_the_documented_ones_with_chinese_names() -> None:
    assert [t.type for t in site_types()] == SITE_TYPE_LIST.split(", ")
    assert all(t.name_zh for t in site_types())


# ---- entities ---------------------------------------------------------------------------


def test_demo_entities_import_and_a_reimport_is_a_no_op(workspace: Workspace) -> None:
    path = DEMO / "entities.csv"
    result = import_entities(workspace, path)
    batch = _batch_id("entities", path)
    assert result == ImportResult(
        kind="entities",
        batch_id=batch,
        file_name="entities.csv",
        rows=10,
        created=True,
        message=f"Imported 10 entities from entities.csv as batch {batch}.",
    )
    with workspace.session() as session:
        entities = {e["code"]: e for e in load_entities(session)}
    assert entities["MUSIC"] == {
        "code": "MUSIC",
        "name": "Demo Music Entertainment (listed subsidiary)",
        "name_zh": "示例音乐娱乐（上市子公司）",
        "parent": "CONTENT",
        "ownership_pct": 55.0,
        "operational_control": True,
        "financial_control": True,
        "country": "CN",
        "batch_id": batch,
    }
    assert entities["DCJV"]["operational_control"] is False
    assert entities["GRP"]["parent"] is None
    again = import_entities(workspace, path)
    assert again.created is False
    assert again.batch_id == batch
    assert again.message == (
        f"entities.csv was already imported as entities batch {batch}; nothing changed."
    )


def test_chinese_headers_gb18030_and_the_ways_analysts_write_values(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        "主体,名称,中文名称,上级主体,持股比例,运营控制权,财务控制权,国家或地区\n"
        "GRP,Group,集团,,１００,是,是,cn\n"
        " JV ,Joint venture,合资公司,GRP,55.5 %,否,yes,ＣＮ\n"
        "SUB,Sub,子公司,GRP,100%,Y,1,hk\n"
    )
    path = _write(tmp_path, "主体.csv", text, encoding="gb18030")
    result = import_entities(workspace, path)
    assert result.rows == 3
    with workspace.session() as session:
        entities = {e["code"]: e for e in load_entities(session)}
    assert (entities["GRP"]["ownership_pct"], entities["GRP"]["country"]) == (100.0, "CN")
    assert entities["JV"]["ownership_pct"] == 55.5
    assert entities["JV"]["operational_control"] is False
    assert entities["JV"]["financial_control"] is True
    assert entities["JV"]["name_zh"] == "合资公司"
    assert entities["SUB"]["country"] == "HK"


def test_parquet_with_typed_columns(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "entities.parquet"
    table = pa.table(
        {
            "entity": ["GRP", "A"],
            "name": ["Group", "Alpha"],
            "parent": [None, "GRP"],
            "ownership_pct": [100.0, 40.0],
            "operational_control": [True, False],
            "financial_control": [True, False],
            "country": ["CN", "CN"],
        }
    )
    pq.write_table(table, path)
    assert import_entities(workspace, path).rows == 2
    with workspace.session() as session:
        stored = {e["code"]: e for e in load_entities(session)}
    assert (stored["A"]["ownership_pct"], stored["A"]["operational_control"]) == (40.0, False)


def test_entities_are_upserted_and_a_parent_may_be_already_imported(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_entities(workspace, _write(tmp_path, "a.csv", ENTITY_HEADER + ROOT))
    second = _write(
        tmp_path,
        "b.csv",
        ENTITY_HEADER + "GRP,Group Holdings,,100,true,true,CN\nA,Alpha,GRP,60,true,false,SG\n",
    )
    assert import_entities(workspace, second).rows == 2
    with workspace.session() as session:
        stored = {e["code"]: e for e in load_entities(session)}
    assert stored["GRP"]["name"] == "Group Holdings"
    assert stored["A"]["parent"] == "GRP"
    assert stored["A"]["batch_id"] == _batch_id("entities", second)


ROW3_ENTITY_CASES: list[tuple[str, IssueTuple]] = [
    (
        "A,Alpha,GRP,155,true,true,CN",
        (3, "ownership_pct", "155", "must be between 0 and 100 %", FIX_PCT),
    ),
    (
        "A,Alpha,GRP,-5%,true,true,CN",
        (3, "ownership_pct", "-5%", "must be between 0 and 100 %", FIX_PCT),
    ),
    (
        "A,Alpha,GRP,half,true,true,CN",
        (3, "ownership_pct", "half", "not a number", "write a number such as 55 or 55%"),
    ),
    (
        "A,Alpha,GRP,,true,true,CN",
        (3, "ownership_pct", None, "a value is required", "fill in ownership_pct"),
    ),
    (
        'A,Alpha,GRP,"55,5",true,true,CN',
        (
            3,
            "ownership_pct",
            "55,5",
            "not a number: it contains a comma",
            "write the number with a decimal point and no thousands separators (1234.5)",
        ),
    ),
    (
        "A,Alpha,GRP,55,maybe,true,CN",
        (3, "operational_control", "maybe", "not a yes/no value", FIX_BOOL),
    ),
    (
        "A,Alpha,GRP,55,true,,CN",
        (
            3,
            "financial_control",
            None,
            "a value is required",
            "write true or false (or 是/否)",
        ),
    ),
    (
        "A,Alpha,GRP,55,true,true,China",
        (
            3,
            "country",
            "China",
            "unknown country code",
            "use the two-letter ISO 3166-1 code 'CN' (China)",
        ),
    ),
    (
        "A,Alpha,GRP,55,true,true,GBR",
        (
            3,
            "country",
            "GBR",
            "unknown country code",
            "use the two-letter ISO 3166-1 code 'GB' (United Kingdom)",
        ),
    ),
    (
        "A,Alpha,GRP,55,true,true,UK",
        (
            3,
            "country",
            "UK",
            "unknown country code",
            "use the two-letter ISO 3166-1 code 'GB' (United Kingdom)",
        ),
    ),
    (
        "A,Alpha,GRP,55,true,true,新加坡",
        (
            3,
            "country",
            "新加坡",
            "unknown country code",
            "use the two-letter ISO 3166-1 code 'SG' (Singapore)",
        ),
    ),
    (
        "A,Alpha,GRP,55,true,true,QQ",
        (3, "country", "QQ", "unknown country code", FIX_COUNTRY),
    ),
    (
        "A,,GRP,55,true,true,CN",
        (3, "name", None, "a value is required", "fill in name"),
    ),
    (
        ",Alpha,GRP,55,true,true,CN",
        (3, "entity", None, "a value is required", "fill in entity"),
    ),
    (
        "A B,Alpha,GRP,55,true,true,CN",
        (
            3,
            "entity",
            "A B",
            "a code may not contain blanks",
            "join the words with - or _ (e.g. DC-TJ)",
        ),
    ),
    (
        "A,Alpha,GPR,55,true,true,CN",
        (
            3,
            "parent",
            "GPR",
            "unknown parent entity 'GPR': it is neither in this file nor already imported",
            "did you mean 'GRP'? add the parent to this file or import it first",
        ),
    ),
    (
        "A,Alpha,A,55,true,true,CN",
        (
            3,
            "parent",
            "A",
            "an entity cannot be its own parent",
            "leave parent empty for the group's root entity",
        ),
    ),
    (
        "GRP,Again,,100,true,true,CN",
        (
            3,
            "entity",
            "GRP",
            "entity 'GRP' appears more than once in the file (first in row 2)",
            "keep one row per entity",
        ),
    ),
    (
        "grp,Again,GRP,100,true,true,CN",
        (
            3,
            "entity",
            "grp",
            "entity 'grp' differs from 'GRP' of row 2 only in letter case",
            "keep one row per entity",
        ),
    ),
]


@pytest.mark.parametrize(("row", "issue"), ROW3_ENTITY_CASES)
def test_an_entity_row_is_rejected_with_its_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: IssueTuple
) -> None:
    path = _write(tmp_path, "entities.csv", ENTITY_HEADER + ROOT + row + "\n")
    error = _rejected(import_entities, workspace, path)
    assert error.summary == "entities.csv was rejected: 1 problem in 1 row"
    assert _issues(error) == [issue]
    assert all(i.file == "entities.csv" for i in error.issues)
    _nothing_stored(workspace)


def test_all_problems_of_a_file_are_reported_at_once(workspace: Workspace, tmp_path: Path) -> None:
    text = (
        ENTITY_HEADER
        + "GRP,Group,,100,true,true,China\n"
        + "A,Alpha,GRP,155,maybe,true,CN\n"
        + "B,Beta,GRP,55%,yes,no,cn\n"
    )
    error = _rejected(import_entities, workspace, _write(tmp_path, "entities.csv", text))
    assert error.summary == "entities.csv was rejected: 3 problems in 2 rows"
    assert [(i.row, i.column) for i in error.issues] == [
        (2, "country"),
        (3, "ownership_pct"),
        (3, "operational_control"),
    ]
    assert str(error).splitlines()[0] == "entities.csv was rejected: 3 problems in 2 rows"


def test_a_cycle_is_reported_once_at_its_first_row(workspace: Workspace, tmp_path: Path) -> None:
    text = ENTITY_HEADER + ROOT + "C,Gamma,D,50,true,true,CN\nD,Delta,C,50,true,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "entities.csv", text))
    assert _issues(error) == [
        (
            3,
            "parent",
            "D",
            "the parent chain loops: C → D → C",
            "break the loop: the group's root entity has no parent",
        )
    ]


def test_a_cycle_through_already_imported_entities(workspace: Workspace, tmp_path: Path) -> None:
    first = ENTITY_HEADER + ROOT + "A,Alpha,GRP,100,true,true,CN\n"
    import_entities(workspace, _write(tmp_path, "a.csv", first))
    text = ENTITY_HEADER + "GRP,Group,A,100,true,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "b.csv", text))
    assert _issues(error) == [
        (
            2,
            "parent",
            "A",
            "the parent chain loops: GRP → A → GRP",
            "break the loop: the group's root entity has no parent",
        )
    ]


def test_two_roots_in_the_file(workspace: Workspace, tmp_path: Path) -> None:
    text = ENTITY_HEADER + ROOT + "A,Alpha,,100,true,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "entities.csv", text))
    problem = "more than one root entity (entities without a parent): 'GRP', 'A'"
    fix = "give every entity except the group's root a parent"
    assert error.summary == "entities.csv was rejected: 2 problems in 2 rows"
    assert _issues(error) == [(2, "parent", None, problem, fix), (3, "parent", None, problem, fix)]


def test_a_second_root_next_to_the_imported_one(workspace: Workspace, tmp_path: Path) -> None:
    import_entities(workspace, _write(tmp_path, "a.csv", ENTITY_HEADER + ROOT))
    text = ENTITY_HEADER + "NEW,New group,,100,true,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "b.csv", text))
    assert _issues(error) == [
        (
            2,
            "parent",
            None,
            "more than one root entity (entities without a parent): 'GRP', 'NEW'",
            "give it a parent ('GRP' is the root already imported)",
        )
    ]


def test_a_code_differing_from_an_imported_one_only_in_case(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_entities(workspace, _write(tmp_path, "a.csv", ENTITY_HEADER + ROOT))
    text = ENTITY_HEADER + "Grp,Group,,100,true,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "b.csv", text))
    assert _issues(error)[0] == (
        2,
        "entity",
        "Grp",
        "entity 'Grp' differs from the already imported entity 'GRP' only in letter case",
        "use 'GRP' to update it (codes are case-sensitive)",
    )


def test_fractions_instead_of_percentages(workspace: Workspace, tmp_path: Path) -> None:
    # What an Excel column formatted as percentage gives: 100 % is 1, 55 % is 0.55.
    path = tmp_path / "entities.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ENTITY_HEADER.strip().split(","))
    sheet.append(["GRP", "Group", None, 1, True, True, "CN"])
    sheet.append(["A", "Alpha", "GRP", 0.55, True, False, "CN"])
    for cell in ("D2", "D3"):
        sheet[cell].number_format = "0%"
    book.save(path)
    error = _rejected(import_entities, workspace, path)
    problem = (
        "every ownership_pct is between 0 and 1: these look like fractions, but the column is "
        "in per cent (0.55 would mean 0.55 %)"
    )
    assert error.summary == f"entities.xlsx (sheet 'Sheet') was rejected: {problem}"
    assert _issues(error) == [
        (
            None,
            "ownership_pct",
            None,
            problem,
            "write percentages, e.g. 55 or 55% for 55 %; in Excel format the column as a "
            "number, not as a percentage",
        )
    ]


def test_a_file_without_data_rows(workspace: Workspace, tmp_path: Path) -> None:
    error = _rejected(import_entities, workspace, _write(tmp_path, "e.csv", ENTITY_HEADER))
    assert str(error) == (
        "e.csv was rejected: the file has no data rows\n"
        "  e.csv: the file has no data rows. Fix: fill in at least one row below the header row"
    )


def test_a_missing_column_is_a_header_error(workspace: Workspace, tmp_path: Path) -> None:
    text = "entity,name,parent,ownership_pct,operational_control,country\nGRP,G,,100,true,CN\n"
    error = _rejected(import_entities, workspace, _write(tmp_path, "e.csv", text))
    assert error.summary == "e.csv was rejected: its header is not right"
    assert _issues(error) == [
        (
            1,
            "financial_control",
            None,
            "required column is missing",
            "add a column 'financial_control'",
        )
    ]


# ---- sites ------------------------------------------------------------------------------


def test_demo_sites_import(workspace: Workspace, tmp_path: Path) -> None:
    from esgledger.demo.data import write_demo_inputs

    files = write_demo_inputs(tmp_path / "inputs")
    import_entities(workspace, files.entities)
    result = import_sites(workspace, files.sites)
    batch = _batch_id("sites", files.sites)
    assert result.message == f"Imported 19 sites from sites.csv as batch {batch}."
    with workspace.session() as session:
        stored = {s["code"]: s for s in load_sites(session)}
    assert stored["DC-GD"] == {
        "code": "DC-GD",
        "entity": "CLOUD",
        "name": "Guangdong Qingyuan data centre",
        "name_zh": "广东清远数据中心",
        "country": "CN",
        "region": "CN-GD",
        "type": "data_centre",
        "batch_id": result.batch_id,
    }
    assert stored["HQ-SZ"]["type"] == "campus"


def test_site_values_as_analysts_write_them(workspace: Workspace, tmp_path: Path) -> None:
    _import_group(workspace, tmp_path)
    text = (
        "站点,主体,名称,国家或地区,地区,类型\n"
        "DC-SH,CLOUD,Shanghai DC,cn,cn-sh,数据中心\n"
        "WH-1,CLOUD,Warehouse,CN,,Distribution Center\n"
        "DC-CA,INTL,California DC,US,us-egrid-camx,data center\n"
    )
    import_sites(workspace, _write(tmp_path, "站点.csv", text))
    with workspace.session() as session:
        stored = {s["code"]: s for s in load_sites(session)}
    assert (stored["DC-SH"]["region"], stored["DC-SH"]["type"]) == ("CN-SH", "data_centre")
    assert (stored["WH-1"]["region"], stored["WH-1"]["type"]) == ("CN", "warehouse")
    assert (stored["DC-CA"]["region"], stored["DC-CA"]["type"]) == ("US-EGRID-CAMX", "data_centre")
    assert stored["OF-HK"]["region"] == "HK"


ROW2_SITE_CASES: list[tuple[str, IssueTuple]] = [
    (
        "S1,CLOUDS,Site,CN,CN-GD,office",
        (
            2,
            "entity",
            "CLOUDS",
            "unknown entity 'CLOUDS': it is not imported",
            f"did you mean 'CLOUD'? {FIX_IMPORT_ENTITY}",
        ),
    ),
    (
        "S1,NOPE,Site,CN,CN-GD,office",
        (2, "entity", "NOPE", "unknown entity 'NOPE': it is not imported", FIX_IMPORT_ENTITY),
    ),
    (
        "S1,cloud,Site,CN,CN-GD,office",
        (
            2,
            "entity",
            "cloud",
            "unknown entity 'cloud': it is not imported",
            "use 'CLOUD' (codes are case-sensitive)",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,GD,office",
        (
            2,
            "region",
            "GD",
            "region GD (Grenada) is in GD, not in the site's country CN",
            "did you mean 'CN-GD' (Guangdong)? correct the country or the region",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,Guangdong,office",
        (
            2,
            "region",
            "Guangdong",
            "unknown region code",
            f"did you mean 'CN-GD' (Guangdong)? {FIX_REGION}",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,广东省,office",
        (
            2,
            "region",
            "广东省",
            "unknown region code",
            f"did you mean 'CN-GD' (Guangdong)? {FIX_REGION}",
        ),
    ),
    (
        "S1,CLOUD,Site,HK,CN-GD,office",
        (
            2,
            "region",
            "CN-GD",
            "region CN-GD (Guangdong) is in CN, not in the site's country HK",
            "correct the country or the region",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,GLOBAL,office",
        (
            2,
            "region",
            "GLOBAL",
            "region GLOBAL (World) is not a place within one country, not in the site's country CN",
            "correct the country or the region",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,CN-GD,Data Centers",
        (
            2,
            "type",
            "Data Centers",
            "unknown site type",
            f"did you mean 'data_centre'? use one of: {SITE_TYPE_LIST}",
        ),
    ),
    (
        "S1,CLOUD,Site,CN,CN-GD,canteen",
        (2, "type", "canteen", "unknown site type", f"use one of: {SITE_TYPE_LIST}"),
    ),
    (
        "S1,CLOUD,Site,XX,,office",
        (2, "country", "XX", "unknown country code", FIX_COUNTRY),
    ),
    (
        "S1,CLOUD,,CN,CN-GD,office",
        (2, "name", None, "a value is required", "fill in name"),
    ),
    (
        "S1,CLOUD,Site,CN,CN-GD,",
        (2, "type", None, "a value is required", "fill in type"),
    ),
    (
        "DC-gd,CLOUD,Site,CN,CN-GD,office",
        (
            2,
            "site",
            "DC-gd",
            "site 'DC-gd' differs from the already imported site 'DC-GD' only in letter case",
            "use 'DC-GD' to update it (codes are case-sensitive)",
        ),
    ),
]


@pytest.mark.parametrize(("row", "issue"), ROW2_SITE_CASES)
def test_a_site_row_is_rejected_with_its_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: IssueTuple
) -> None:
    _import_group(workspace, tmp_path)
    path = _write(tmp_path, "sites.csv", SITE_HEADER + row + "\n")
    error = _rejected(import_sites, workspace, path)
    assert error.summary == "sites.csv was rejected: 1 problem in 1 row"
    assert _issues(error) == [issue]
    with workspace.session() as session:
        assert sorted(s["code"] for s in load_sites(session)) == ["DC-GD", "OF-HK"]


def test_a_duplicate_site(workspace: Workspace, tmp_path: Path) -> None:
    _import_group(workspace, tmp_path)
    text = SITE_HEADER + "S1,CLOUD,A,CN,,office\nS1,CLOUD,B,CN,,office\n"
    error = _rejected(import_sites, workspace, _write(tmp_path, "sites.csv", text))
    assert _issues(error) == [
        (
            3,
            "site",
            "S1",
            "site 'S1' appears more than once in the file (first in row 2)",
            "keep one row per site",
        )
    ]


# ---- activity types ---------------------------------------------------------------------


def test_user_activity_types_join_the_workspace_taxonomy(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        "activity,name,name_zh,dimension,scope,scope3_category\n"
        "purchased.cement,Cement purchased,采购水泥,[mass],Scope 3,1\n"
        "onsite.biogas,Biogas burnt on site,沼气,[energy] | [volume],1,\n"
        "materials.*,Materials by kind,材料,[mass],3,category 1\n"
    )
    path = _write(tmp_path, "types.csv", text)
    result = import_activity_types(workspace, path)
    assert result.message == (
        f"Imported 3 activity types from types.csv as batch {_batch_id('activity-types', path)}."
    )
    taxonomy = Taxonomy.for_workspace(workspace)
    cement = taxonomy.get("purchased.cement")
    assert (cement.scope, cement.scope3_category, cement.dimension) == (3, 1, "[mass]")
    assert cement.user_defined
    assert taxonomy.get("onsite.biogas").scope3_category is None
    assert taxonomy.get("materials.glass").family == "materials.*"


TYPE_CASES: list[tuple[str, IssueTuple]] = [
    (
        "electricity,Power,[energy],2,",
        (
            2,
            "activity",
            "electricity",
            "'electricity' is a shipped activity type",
            "use it as it is (it needs no import), or choose a key of your own",
        ),
    ),
    (
        "travel.air.long_haul.economy,Long haul,[passenger] * [length],3,6",
        (
            2,
            "activity",
            "travel.air.long_haul.economy",
            "'travel.air.long_haul.economy' is already a member of the shipped family "
            "'travel.air.*'",
            "use it in activity files as it is (it needs no import), or choose a key outside "
            "'travel.air.*'",
        ),
    ),
    (
        "travel.air.boat,Boat,[passenger] * [length],3,6",
        (
            2,
            "activity",
            "travel.air.boat",
            "'travel.air.boat' falls under the shipped family 'travel.air.*' but is not a valid "
            "member of it",
            "choose a key outside 'travel.air.*'",
        ),
    ),
    (
        "Steel Purchase,Steel,[mass],3,1",
        (
            2,
            "activity",
            "Steel Purchase",
            "a code may not contain blanks",
            "join the words with - or _ (e.g. DC-TJ)",
        ),
    ),
    (
        "Steel.purchase,Steel,[mass],3,1",
        (
            2,
            "activity",
            "Steel.purchase",
            "not a valid activity key: lower-case words joined by dots, e.g. "
            "purchased_goods.steel, or a family ending in .*",
            "e.g. purchased_goods.steel, or a family such as materials.*",
        ),
    ),
    (
        "steel.purchase,Steel,[mass],4,",
        (2, "scope", "4", "must be between 1 and 3", "write a whole number from 1 to 3, such as 3"),
    ),
    (
        "steel.purchase,Steel,[mass],three,",
        (2, "scope", "three", "not a whole number", "write a whole number such as 3"),
    ),
    (
        "steel.purchase,Steel,[mass],3,",
        (
            2,
            "scope3_category",
            None,
            "a scope 3 activity needs its category (1-15)",
            "give the category (1-15) for scope 3, leave it empty for scopes 1 and 2",
        ),
    ),
    (
        "steel.furnace,Furnace,[mass],1,1",
        (
            2,
            "scope3_category",
            "1",
            "the category must be 1-15 and only given for scope 3",
            "give the category (1-15) for scope 3, leave it empty for scopes 1 and 2",
        ),
    ),
    (
        "steel.purchase,Steel,[mass],3,16",
        (
            2,
            "scope3_category",
            "16",
            "must be between 1 and 15",
            "write a whole number from 1 to 15, such as 6",
        ),
    ),
    (
        "steel.purchase,Steel,mass,3,1",
        (
            2,
            "dimension",
            "mass",
            "dimensions are written in brackets (without them pint reads a unit)",
            "write '[mass]'",
        ),
    ),
    (
        "steel.purchase,Steel,energy | [volume],3,1",
        (
            2,
            "dimension",
            "energy | [volume]",
            "dimensions are written in brackets (without them pint reads a unit)",
            "write '[energy] | [volume]'",
        ),
    ),
    (
        "steel.purchase,Steel,[weight],3,1",
        (
            2,
            "dimension",
            "[weight]",
            "not a dimension or unit pint knows (unknown dimension '[weight]')",
            "write a dimension in brackets ([energy], [mass], [volume], [currency], "
            "[mass] * [length]) or a unit such as kWh; join alternatives with |",
        ),
    ),
    (
        "steel.purchase,,[mass],3,1",
        (2, "name", None, "a value is required", "fill in name"),
    ),
]


@pytest.mark.parametrize(("row", "issue"), TYPE_CASES)
def test_an_activity_type_row_is_rejected_with_its_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: IssueTuple
) -> None:
    path = _write(tmp_path, "types.csv", TYPE_HEADER + row + "\n")
    error = _rejected(import_activity_types, workspace, path)
    assert _issues(error) == [issue]
    assert error.summary == "types.csv was rejected: 1 problem in 1 row"
    _nothing_stored(workspace)


def test_a_duplicate_activity_type(workspace: Workspace, tmp_path: Path) -> None:
    text = TYPE_HEADER + "steel.purchase,Steel,[mass],3,1\nsteel.purchase,Steel 2,[mass],3,1\n"
    error = _rejected(import_activity_types, workspace, _write(tmp_path, "t.csv", text))
    assert _issues(error) == [
        (
            3,
            "activity",
            "steel.purchase",
            "activity type 'steel.purchase' appears more than once in the file (first in row 2)",
            "keep one row per activity type",
        )
    ]


def test_factor_activity_and_description_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    text = (
        "activity,name,dimension,scope,scope3_category,factor_activity,description\n"
        "leased.heat,Heat of leased offices,[energy],3,8,heat,District heating\n"
    )
    import_activity_types(workspace, _write(tmp_path, "types.csv", text))
    with workspace.session() as session:
        (stored,) = load_activity_types(session)
    assert (stored["factor_activity"], stored["description"]) == ("heat", "District heating")


# ---- factors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("factors.csv", "user-factors"),
        ("Supplier Factors 2024.xlsx", "user-supplier-factors-2024"),
        ("供应商 因子.csv", "user-供应商-因子"),
        ("---.csv", "user-factors"),
        ("x" * 100 + ".csv", "user-" + "x" * 75),
    ],
)
def test_factor_set_id_for(name: str, expected: str) -> None:
    assert factor_set_id_for(name) == expected


def test_demo_factor_file_becomes_a_user_set(workspace: Workspace, tmp_path: Path) -> None:
    text = (
        "factor,activity,region,year,unit,co2e_kg,gwp_basis,source,supplier,method\n"
        "demo-hk-power-2024,electricity,hk,2024,kWh,0.39,ar5,Supplier disclosure,HK Power Co,"
        "Supplier\n"
    )
    path = _write(tmp_path, "factors-supplier.csv", text)
    result = import_factors(workspace, path)
    batch = _batch_id("factors", path)
    assert result.message == (
        "Imported 1 factor from factors-supplier.csv into user factor set "
        f"user-factors-supplier (precedence 100) as batch {batch}."
    )
    with workspace.session() as session:
        (factor_set,) = load_factor_sets(session)
        (factor,) = load_factors(session)
    assert (factor_set["id"], factor_set["precedence"], factor_set["batch_id"]) == (
        "user-factors-supplier",
        100,
        batch,
    )
    assert factor_set["name"] == "User factors from factors-supplier.csv"
    assert factor == {
        "factor_id": "demo-hk-power-2024",
        "factor_set": "user-factors-supplier",
        "activity": "electricity",
        "region": "HK",
        "year": 2024,
        "unit": "kWh",
        "co2e_kg": 0.39,
        "co2_kg": None,
        "ch4_kg": None,
        "n2o_kg": None,
        "biogenic_co2_kg": None,
        "gwp_basis": "AR5",
        "supplier": "HK Power Co",
        "site": None,
        "scope3_category": None,
        "method": "supplier",
        "currency": None,
        "price_year": None,
        "price_basis": None,
        "uncertainty_pct": None,
        "source": "Supplier disclosure",
        "edition": None,
        "licence": None,
        "attribution": None,
        "source_row": "factors-supplier.csv row 2",
        "description": None,
    }


def test_a_changed_file_replaces_its_set_whole(workspace: Workspace, tmp_path: Path) -> None:
    first = (
        FACTOR_HEADER + "f1,electricity,CN,2024,kWh,0.5,,,,AR6,s\nf2,heat,CN,2024,GJ,60,,,,AR6,s\n"
    )
    import_factors(workspace, _write(tmp_path, "mine.csv", first))
    second = FACTOR_HEADER + "f3,electricity,CN,2024,MWh,,480,0.01,0.002,,s\n"
    path = _write(tmp_path, "mine.csv", second)
    result = import_factors(workspace, path)
    assert result.message == (
        "Imported 1 factor from mine.csv into user factor set user-mine (precedence 100) as "
        f"batch {_batch_id('factors', path)}. They replace the set's 2 factors of its earlier "
        "import."
    )
    with workspace.session() as session:
        assert [f["factor_id"] for f in load_factors(session)] == ["f3"]


def test_spend_factor_takes_its_currency_from_the_unit(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        "factor,activity,region,year,unit,co2e_kg,gwp_basis,source,currency,price_year,"
        "price_basis,scope3_category\n"
        "cn-steel-spend,spend.naics.331110,CN,2024,万元,3500,AR6,Input-output study,,2023,"
        "Purchaser,1\n"
    )
    import_factors(workspace, _write(tmp_path, "spend.csv", text))
    with workspace.session() as session:
        (factor,) = load_factors(session)
    assert (factor["currency"], factor["price_year"], factor["price_basis"]) == (
        "CNY",
        2023,
        "purchaser",
    )
    assert factor["unit"] == "万元"


def test_reported_emissions_factor_activity_and_a_site_factor(
    workspace: Workspace, tmp_path: Path
) -> None:
    _import_group(workspace, tmp_path)
    text = "factor,activity,region,year,unit,co2e_kg,gwp_basis,source,site\n"
    text += "rep,reported_emissions,GLOBAL,2024,kg,1,AR6,by definition,\n"
    text += "dc-gd-power,electricity,CN-GD,2024,kWh,0.1,AR6,PPA mix,DC-GD\n"
    assert import_factors(workspace, _write(tmp_path, "f.csv", text)).rows == 2


def test_precedence_and_set_id_can_be_chosen(workspace: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, "f.csv", FACTOR_HEADER + "f1,electricity,CN,2024,kWh,0.5,,,,AR6,s\n")
    result = import_factors(workspace, path, set_id="user-ppa", precedence=150)
    assert "into user factor set user-ppa (precedence 150)" in result.message
    with workspace.session() as session:
        assert [(s["id"], s["precedence"]) for s in load_factor_sets(session)] == [
            ("user-ppa", 150)
        ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precedence": 50}, "a user factor set has precedence 100 or more (value: 50)"),
        (
            {"set_id": "desnz-2024"},
            "a user factor set id starts with 'user-' and has at most 80 characters "
            "(value: 'desnz-2024')",
        ),
    ],
)
def test_precedence_and_set_id_limits(
    sqlite_workspace: Workspace, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, "f.csv", FACTOR_HEADER + "f1,electricity,CN,2024,kWh,0.5,,,,AR6,s\n")
    with pytest.raises(ValueError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        import_factors(sqlite_workspace, path, **kwargs)


FULL_FACTOR_HEADER = (
    "factor,activity,region,year,unit,co2e_kg,co2_kg,ch4_kg,n2o_kg,gwp_basis,source,supplier,"
    "site,scope3_category,method,currency,price_year,price_basis\n"
)
GOOD = "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,,,"

FACTOR_CASES: list[tuple[str, IssueTuple]] = [
    (
        "desnz-2024:mine,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "factor",
            "desnz-2024:mine",
            "ids starting with 'desnz-2024:' belong to the shipped set desnz-2024: a user "
            "factor needs an id of its own",
            "choose another id; your factor wins over the shipped one through its set's "
            "precedence, not by reusing its id",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,,,,,,src,,,,,,,",
        (
            2,
            "co2e_kg",
            None,
            "the factor has no value: neither co2e_kg nor any of co2_kg, ch4_kg, n2o_kg",
            "give co2e_kg with its gwp_basis, or the gas masses co2_kg, ch4_kg, n2o_kg",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,,-0.5,,,,src,,,,,,,",
        (
            2,
            "co2_kg",
            "-0.5",
            "an emission factor cannot be negative",
            "give the emissions per unit as a positive number (removals and offsets are not "
            "factors)",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,,src,,,,,,,",
        (
            2,
            "gwp_basis",
            None,
            "gwp_basis is required when co2e_kg is given",
            "write the GWP set the source used for its CO2e: AR4, AR5, AR6",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,SAR,src,,,,,,,",
        (
            2,
            "gwp_basis",
            "SAR",
            "unknown GWP set",
            "write one of AR4, AR5, AR6 (the IPCC report whose GWP-100 values the source used)",
        ),
    ),
    (
        "f1,electricity,CN,2024,furlong,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "unit",
            "furlong",
            "the unit does not fit activity 'electricity', which is measured in [energy]",
            "use a unit of that dimension, e.g. kWh, MWh, GWh, MJ, GJ, TJ",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWhh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "unit",
            "kWhh",
            "unknown unit 'kWhh': run `esgledger units` for the units accepted",
            "use a unit such as kWh, L, t, tkm, pkm or USD",
        ),
    ),
    (
        "f1,leased.electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "activity",
            "leased.electricity",
            "activity 'leased.electricity' takes its factors from 'electricity', so a factor "
            "filed under 'leased.electricity' would never be used",
            "file the factor under 'electricity'",
        ),
    ),
    (
        "f1,electricty,CN,2024,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "activity",
            "electricty",
            "unknown activity",
            f"did you mean 'electricity'? {FIX_ACTIVITY}",
        ),
    ),
    (
        "f1,travel.air.longhaul.economy,GB,2024,pkm,0.2,,,,AR5,src,,,,,,,",
        (
            2,
            "activity",
            "travel.air.longhaul.economy",
            "activity 'travel.air.longhaul.economy': the part after 'travel.air.' must be "
            "haul.class, e.g. long_haul.economy (hauls: domestic, short_haul, medium_haul, "
            "long_haul, international; classes: average, economy, premium_economy, business, "
            "first)",
            "correct the part after the family's prefix",
        ),
    ),
    (
        "f1,refrigerant.*,GLOBAL,2024,kg,1,,,,AR6,src,,,,,,,",
        (
            2,
            "activity",
            "refrigerant.*",
            "'refrigerant.*' is a family, not an activity",
            "give the member, e.g. refrigerant.<suffix>",
        ),
    ),
    (
        "f1,electricity,Guangdong,2024,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "region",
            "Guangdong",
            "unknown region code",
            "did you mean 'CN-GD' (Guangdong)? use GLOBAL, a country (CN), a province (CN-GD), "
            "CN-GRID-* or US-EGRID-*",
        ),
    ),
    (
        "f1,electricity,CN,24,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "year",
            "24",
            "must be between 1900 and 2200",
            "write a whole number from 1900 to 2200, such as 2024",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,,,,,,,,",
        (2, "source", None, "a value is required", "fill in source"),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,DC-XX,,,,,",
        (
            2,
            "site",
            "DC-XX",
            "unknown site 'DC-XX': it is not imported",
            "import the site first (--kind sites)",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,2,,,,",
        (
            2,
            "scope3_category",
            "2",
            "activity 'electricity' is scope 2: a scope 3 category does not apply",
            "leave scope3_category empty",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,market,,,",
        (
            2,
            "method",
            "market",
            "unknown method",
            f"use one of: {', '.join(FACTOR_METHODS)}",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,locaton,,,",
        (
            2,
            "method",
            "locaton",
            "unknown method",
            f"did you mean 'location'? use one of: {', '.join(FACTOR_METHODS)}",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,CNY,,",
        (
            2,
            "currency",
            "CNY",
            "currency is only for spend factors, whose unit is a currency",
            "leave currency empty, or make the unit CNY",
        ),
    ),
    (
        "f1,spend.naics.334111,US,2024,USD,0.1,,,,AR6,src,,,,,CNY,2022,",
        (
            2,
            "currency",
            "CNY",
            "the unit 'USD' is in USD, not CNY",
            "make currency USD or leave it empty",
        ),
    ),
    (
        "f1,spend.naics.334111,US,2024,USD,0.1,,,,AR6,src,,,,,,,",
        (
            2,
            "price_year",
            None,
            "a spend factor (its unit is a currency) needs its price year",
            "write the year whose prices the factor is expressed in, e.g. 2022",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,,2022,",
        (
            2,
            "price_year",
            "2022",
            "price_year is only for spend factors, whose unit is a currency",
            "leave price_year empty",
        ),
    ),
    (
        "f1,spend.naics.334111,US,2024,USD,0.1,,,,AR6,src,,,,,,2022,basic",
        (2, "price_basis", "basic", "unknown price basis", "write purchaser or producer"),
    ),
    (
        "f1,spend.naics.334111,US,2024,kWh,0.1,,,,AR6,src,,,,,,,",
        (
            2,
            "unit",
            "kWh",
            "the unit does not fit activity 'spend.naics.334111', which is measured in [currency]",
            "use a unit of that dimension, e.g. CNY, 万元, USD, HKD, EUR, GBP",
        ),
    ),
    (
        "f 1,electricity,CN,2024,kWh,0.5,,,,AR6,src,,,,,,,",
        (
            2,
            "factor",
            "f 1",
            "a code may not contain blanks",
            "join the words with - or _ (e.g. DC-TJ)",
        ),
    ),
    (
        "f1,electricity,CN,2024,kWh,0.5kg,,,,AR6,src,,,,,,,",
        (2, "co2e_kg", "0.5kg", "not a number", "write a number such as 12.5"),
    ),
]


@pytest.mark.parametrize(("row", "issue"), FACTOR_CASES)
def test_a_factor_row_is_rejected_with_its_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: IssueTuple
) -> None:
    path = _write(tmp_path, "factors.csv", FULL_FACTOR_HEADER + row + "\n")
    error = _rejected(import_factors, workspace, path)
    assert _issues(error) == [issue]
    assert error.summary == "factors.csv was rejected: 1 problem in 1 row"
    _nothing_stored(workspace)


def test_the_good_factor_row_of_the_cases_is_accepted(workspace: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, "factors.csv", FULL_FACTOR_HEADER + GOOD + "\n")
    assert import_factors(workspace, path).rows == 1


def test_a_factor_id_of_another_user_set(workspace: Workspace, tmp_path: Path) -> None:
    import_factors(workspace, _write(tmp_path, "a.csv", FULL_FACTOR_HEADER + GOOD + "\n"))
    other = GOOD.replace(",CN,", ",HK,")
    error = _rejected(
        import_factors, workspace, _write(tmp_path, "b.csv", FULL_FACTOR_HEADER + other + "\n")
    )
    assert _issues(error) == [
        (
            2,
            "factor",
            "f1",
            "the id is already used by user factor set 'user-a'",
            "choose another id (factor ids are unique across all factor sets)",
        )
    ]


def test_a_shipped_factor_id(workspace: Workspace, tmp_path: Path) -> None:
    row = "cn-mee:location:CN-GD:2023,electricity,CN-GD,2023,kWh,0.4,,,,AR6,src,,,,,,,\n"
    error = _rejected(
        import_factors, workspace, _write(tmp_path, "f.csv", FULL_FACTOR_HEADER + row)
    )
    assert _issues(error)[0][3] == (
        "ids starting with 'cn-mee:' belong to the shipped set cn-mee: a user factor needs an "
        "id of its own"
    )


def test_duplicate_and_ambiguous_factors(workspace: Workspace, tmp_path: Path) -> None:
    text = (
        FACTOR_HEADER
        + "f1,electricity,CN,2024,kWh,0.5,,,,AR6,s\n"
        + "f1,electricity,CN,2024,MWh,500,,,,AR6,s\n"
        + "f2,electricity,CN,2024,kWh,0.6,,,,AR6,s\n"
    )
    error = _rejected(import_factors, workspace, _write(tmp_path, "f.csv", text))
    assert error.summary == "f.csv was rejected: 2 problems in 2 rows"
    assert _issues(error) == [
        (
            3,
            "factor",
            "f1",
            "factor 'f1' appears more than once in the file (first in row 2)",
            "keep one row per factor",
        ),
        (
            4,
            "factor",
            "f2",
            "same activity, region, year, unit, supplier, site, scope 3 category and method as "
            "row 2: factor resolution could not choose between them",
            "remove one, or tell them apart by supplier, site or method",
        ),
    ]


# ---- exchange rates ---------------------------------------------------------------------


def test_fx_rates_are_imported_and_upserted(workspace: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, "fx.csv", FX_HEADER + "2024,cny,7.19,Treasury\n2024,TWD,32.1,\n")
    result = import_fx(workspace, path)
    assert result.message == (
        f"Imported 2 exchange rates from fx.csv as batch {_batch_id('fx', path)}."
    )
    import_fx(workspace, _write(tmp_path, "fx2.csv", FX_HEADER + "2024,CNY,7.2,PBoC\n"))
    with workspace.session() as session:
        rates = [
            (r["year"], r["currency"], r["per_usd"], r["source"]) for r in load_fx_rates(session)
        ]
    assert rates == [(2024, "CNY", 7.2, "PBoC"), (2024, "TWD", 32.1, None)]


def _ecb(currency: str, year: int) -> float:
    from esgledger.fx import FxTable

    return FxTable.shipped().rate(currency, year).per_usd


FIX_PER_USD = "write the units of the currency per one US dollar, e.g. 7.2 for CNY"
UNKNOWN_CURRENCY = "not a currency code esgledger knows"
CURRENCY_LIST = (
    "USD, CNY, HKD, EUR, GBP, JPY, SGD, KRW, INR, AUD, CAD, CHF, TWD, MOP, MYR, THB, IDR, VND, "
    "PHP, BRL, MXN, ZAR, AED, SAR"
)

FX_CASES: list[tuple[str, IssueTuple]] = [
    ("2024,CNY,0,", (2, "per_usd", "0", "must be greater than 0", FIX_PER_USD)),
    ("2024,CNY,-7.2,", (2, "per_usd", "-7.2", "must be greater than 0", FIX_PER_USD)),
    ("2024,CNY,seven,", (2, "per_usd", "seven", "not a number", "write a number such as 12.5")),
    (
        "2024,USD,1.1,",
        (2, "per_usd", "1.1", "USD per USD is always 1", "write 1, or leave the USD row out"),
    ),
    ("2024,RMB,7.2,", (2, "currency", "RMB", UNKNOWN_CURRENCY, "use the ISO 4217 code 'CNY'")),
    ("2024,港币,7.8,", (2, "currency", "港币", UNKNOWN_CURRENCY, "use the ISO 4217 code 'HKD'")),
    (
        "2024,CYN,7.2,",
        (
            2,
            "currency",
            "CYN",
            UNKNOWN_CURRENCY,
            f"did you mean 'CNY'? use one of: {CURRENCY_LIST}",
        ),
    ),
    (
        "2024.5,CNY,7.2,",
        (2, "year", "2024.5", "not a whole number", "write a whole number such as 2024"),
    ),
    (",CNY,7.2,", (2, "year", None, "a value is required", "fill in year")),
]


@pytest.mark.parametrize(("row", "issue"), FX_CASES)
def test_an_fx_row_is_rejected_with_its_issue(
    workspace: Workspace, tmp_path: Path, row: str, issue: IssueTuple
) -> None:
    error = _rejected(import_fx, workspace, _write(tmp_path, "fx.csv", FX_HEADER + row + "\n"))
    assert _issues(error) == [issue]
    assert error.summary == "fx.csv was rejected: 1 problem in 1 row"
    _nothing_stored(workspace)


def test_an_inverted_rate_is_named_as_such(workspace: Workspace, tmp_path: Path) -> None:
    error = _rejected(
        import_fx, workspace, _write(tmp_path, "fx.csv", FX_HEADER + "2024,CNY,0.139,\n")
    )
    reference = _ecb("CNY", 2024)
    assert 7.0 < reference < 7.4  # the ECB-derived 2024 average, about 7.19 CNY per USD
    assert _issues(error) == [
        (
            2,
            "per_usd",
            "0.139",
            "looks inverted: 0.139 is about USD per CNY, but per_usd is CNY per USD (ECB annual "
            f"average 2024: {reference:.4g})",
            "write the number of CNY one US dollar buys",
        )
    ]


def test_a_rate_far_from_the_ecb_average(workspace: Workspace, tmp_path: Path) -> None:
    error = _rejected(
        import_fx, workspace, _write(tmp_path, "fx.csv", FX_HEADER + "2024,JPY,15.1,\n")
    )
    reference = _ecb("JPY", 2024)
    assert _issues(error) == [
        (
            2,
            "per_usd",
            "15.1",
            f"differs from the ECB annual average of 2024 ({reference:.4g} JPY per USD) by more "
            "than a factor of 2",
            "write the number of JPY one US dollar buys",
        )
    ]


def test_a_rate_of_a_year_the_ecb_table_lacks_is_not_compared(
    workspace: Workspace, tmp_path: Path
) -> None:
    assert (
        import_fx(workspace, _write(tmp_path, "fx.csv", FX_HEADER + "2030,JPY,15.1,\n")).rows == 1
    )


def test_a_duplicate_rate(workspace: Workspace, tmp_path: Path) -> None:
    text = FX_HEADER + "2024,CNY,7.2,\n2024,cny,7.1,\n"
    error = _rejected(import_fx, workspace, _write(tmp_path, "fx.csv", text))
    assert _issues(error) == [
        (
            3,
            "currency",
            "cny",
            "the CNY rate of 2024 appears more than once in the file (first in row 2)",
            "keep one row per year and currency",
        )
    ]
