"""Import kinds ``metrics`` (company metric definitions) and ``metric-values`` (typed values):
validated whole against the catalogue, the workspace's entities and reporting year, converted
into catalogue units, stored with evidence; a re-import of the same bytes is a no-op."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from esgledger.errors import InputError
from esgledger.ingest.metrics import (
    EARLIER_YEARS,
    import_metric_values,
    import_metrics,
    workspace_catalogue,
)
from esgledger.ingest.reference import import_entities
from esgledger.store import Workspace
from esgledger.store.repository_targets import load_metric_definitions, load_metric_values

ENTITIES = (
    "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
    "GRP,Group,,100,true,true,CN\n"
    "GAME,Games,GRP,100,true,true,CN\n"
)
METRICS = (
    "code,title_en,title_zh,type,unit,unit_label_en,unit_label_zh,parent,maps_to,section,notes\n"
    "CO.charity.donations,Donations raised,公益平台募集善款,number,[currency],,,B8.2,,,"
    "Raised on the platform\n"
    "CO.minors.time_share,Minors' share of gaming time,未成年人游戏时长占比,number,,%,%,B6,,"
    "soc.minors,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def group(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The test workspace (reporting year 2024) with entities GRP and GAME."""
    import_entities(workspace, _write(tmp_path, "entities.csv", ENTITIES))
    return workspace


def _issues(error: pytest.ExceptionInfo[InputError]) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.column, i.problem) for i in error.value.issues]


# ---- metrics -------------------------------------------------------------------------------


def test_company_metrics_are_stored_and_join_the_catalogue(
    group: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "metrics.csv", METRICS)
    first = import_metrics(group, path)
    again = import_metrics(group, path)
    assert (first.kind, first.rows, first.created, again.created) == ("metrics", 2, True, False)
    assert first.message.startswith("Imported 2 company metric definitions from metrics.csv")
    with group.session() as session:
        stored = load_metric_definitions(session)
    assert [row["code"] for row in stored] == ["CO.charity.donations", "CO.minors.time_share"]
    assert stored[0]["definition"]["title_zh"] == "公益平台募集善款"
    assert stored[0]["batch_id"] == first.batch_id
    catalogue = workspace_catalogue(group)
    donations = catalogue["CO.charity.donations"]
    assert (donations.user, donations.framework, donations.unit) == (True, "company", "[currency]")
    assert donations.section == "soc.community"  # the section of its parent B8.2
    assert catalogue["CO.minors.time_share"].section == "soc.minors"
    assert "A1.3" in catalogue


def test_a_changed_definition_replaces_the_stored_one(group: Workspace, tmp_path: Path) -> None:
    import_metrics(group, _write(tmp_path, "metrics.csv", METRICS))
    changed = METRICS.replace("Donations raised,", "Donations raised online,")
    result = import_metrics(group, _write(tmp_path, "metrics2.csv", changed))
    assert result.created
    catalogue = workspace_catalogue(group)
    assert catalogue["CO.charity.donations"].title_en == "Donations raised online"
    assert len([i for i in catalogue if i.user]) == 2


def test_bad_company_metrics_are_refused_row_by_row(group: Workspace, tmp_path: Path) -> None:
    bad = (
        "code,title_en,title_zh,type,unit,unit_label_en\n"
        "A1.3,Hazardous waste again,有害废弃物,number,t,\n"
        "CO.water,Water,水,number,bananas,\n"
        "CO.count,Products,产品,number,,\n"
    )
    with pytest.raises(InputError, match=r"^bad\.csv was rejected: 3 problem\(s\)") as error:
        import_metrics(group, _write(tmp_path, "bad.csv", bad))
    assert _issues(error) == [
        (2, "code", "the code is already an item of the shipped catalogue"),
        (3, "unit", "the unit is not one esgledger knows"),
        (4, "unit_label_en", "a number without a unit needs a label saying what it counts"),
    ]
    assert error.value.issues[0].fix == "choose another code (prefix company metrics, e.g. CO.)"
    with group.session() as session:
        assert load_metric_definitions(session) == []


def test_an_empty_metrics_file_is_refused(group: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.csv", "code,title_en,title_zh,type\n")
    with pytest.raises(InputError, match=r"^empty\.csv was rejected: the file has no data rows"):
        import_metrics(group, path)


# ---- metric values -------------------------------------------------------------------------


def test_values_are_converted_and_stored_with_their_evidence(
    group: Workspace, tmp_path: Path
) -> None:
    import_metrics(group, _write(tmp_path, "metrics.csv", METRICS))
    values = (
        "metric,entity,year,value,unit,breakdown,evidence\n"
        "A1.3,GRP,2024,1500,kg,,Contractor manifests 2024\n"
        "B1.1,GRP,2024,120,people,gender=female; type=full_time,HR report\n"
        "CO.charity.donations,GRP,2024,12,万元,,Platform statement\n"
        "CO.minors.time_share,GAME,2023,0.6,%,,\n"
        "B2.1,GRP,2022,0,,measure=number,Incident register\n"
    )
    result = import_metric_values(group, _write(tmp_path, "values.csv", values))
    assert (result.kind, result.rows, result.created) == ("metric-values", 5, True)
    assert result.message.startswith("Imported 5 metric values (2022, 2023, 2024) from values.csv")
    with group.session() as session:
        stored = {(r["metric"], r["period_start"].year): r for r in load_metric_values(session)}
        only_2024 = load_metric_values(session, 2024)
    waste = stored[("A1.3", 2024)]
    assert (waste["value"], waste["unit"], waste["evidence"]) == (
        pytest.approx(1.5),  # 1500 kg = 1.5 t exactly; approx only for the float product
        "tonne",
        "Contractor manifests 2024",
    )
    assert (waste["period_start"], waste["period_end"]) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )
    assert stored[("B1.1", 2024)]["breakdown"] == "gender=female;type=full_time"
    donations = stored[("CO.charity.donations", 2024)]
    assert (donations["value"], donations["unit"]) == (pytest.approx(120_000), "CNY")
    assert stored[("CO.minors.time_share", 2023)]["entity"] == "GAME"
    assert stored[("B2.1", 2022)]["batch_id"] == result.batch_id
    assert len(only_2024) == 3
    again = import_metric_values(group, tmp_path / "values.csv")
    assert (again.created, again.batch_id) == (False, result.batch_id)


def test_bad_values_are_refused_whole(group: Workspace, tmp_path: Path) -> None:
    earliest = 2024 - EARLIER_YEARS
    values = (
        "metric,entity,year,value,unit\n"
        "A1.3,GRP,2024,12,t\n"  # good, but the file is refused as a whole
        "A1.2,GRP,2024,100,t\n"
        f"A1.4,GRP,{earliest - 1},5,t\n"
        "A1.4,HQ,2024,5,t\n"
        "B2.2,GRP,2024,5,kg\n"
        "CO.charity.donations,GRP,2024,5,CNY\n"  # company metrics not imported
    )
    with pytest.raises(
        InputError, match=r"^values\.csv was rejected: 5 problem\(s\); nothing was imported"
    ) as error:
        import_metric_values(group, _write(tmp_path, "values.csv", values))
    assert _issues(error) == [
        (3, "metric", "A1.2 is computed from the inventory; remove the row"),
        (4, "year", "the period is outside the reporting year 2024"),
        (5, "entity", "unknown entity"),
        (6, "unit", "the unit does not have the dimension of days"),
        (7, "metric", "unknown metric"),
    ]
    assert error.value.issues[1].fix == (
        f"give values for {earliest}-2024 only, one calendar year or part of it per row"
    )
    with group.session() as session:
        assert load_metric_values(session) == []


def test_two_periods_with_the_same_start_are_refused(group: Workspace, tmp_path: Path) -> None:
    values = (
        "metric,entity,period_start,period_end,value,unit\n"
        "A1.3,GRP,2024-01-01,2024-06-30,3,t\n"
        "A1.3,GRP,2024-01-01,2024-12-31,7,t\n"
    )
    with pytest.raises(InputError, match=r"^values\.csv was rejected: 1 problem;") as error:
        import_metric_values(group, _write(tmp_path, "values.csv", values))
    assert _issues(error) == [
        (
            3,
            "period_end",
            "row 2 has the same metric, entity, start and breakdown but ends on 2024-06-30",
        )
    ]


def test_chinese_headers_are_read(group: Workspace, tmp_path: Path) -> None:
    values = "指标代码,主体,年度,数值,单位\nB2.2,GRP,2024,2,week\n"
    import_metric_values(group, _write(tmp_path, "数值.csv", values))
    with group.session() as session:
        (row,) = load_metric_values(session)
    assert (row["metric"], row["value"], row["unit"]) == ("B2.2", pytest.approx(14), "day")
