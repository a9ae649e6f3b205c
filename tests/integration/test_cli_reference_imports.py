"""``esgledger import --kind entities|sites|activity-types|factors|fx`` end to end: the
dispatcher hands the file to the reference importers; accepted files print the importer's
message, re-imports say nothing changed, rejected files exit 2 with every issue."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store import Workspace
from esgledger.store.repository import (
    load_activity_types,
    load_entities,
    load_factor_sets,
    load_fx_rates,
    load_sites,
)

runner = CliRunner()

FILES = {
    "entities": (
        "entities.csv",
        "entity,name,name_zh,parent,ownership_pct,operational_control,financial_control,country\n"
        "GRP,Demo Group,示例集团,,100,true,true,CN\n"
        "CLOUD,Cloud Group,云事业群,GRP,100,true,true,CN\n"
        "DCJV,Data centre JV,数据中心合资公司,CLOUD,50%,false,false,CN\n",
    ),
    "sites": (
        "sites.csv",
        "site,entity,name,country,region,type\n"
        "DC-GD,CLOUD,Qingyuan data centre,CN,CN-GD,data_centre\n"
        "DC-HE,DCJV,Huailai data centre,CN,CN-HE,data_centre\n",
    ),
    "activity-types": (
        "types.csv",
        "activity,name,dimension,scope,scope3_category\n"
        "purchased.servers,Servers bought,[item],3,2\n",
    ),
    "factors": (
        "supplier-factors.csv",
        "factor,activity,region,year,unit,co2e_kg,gwp_basis,source,supplier,method\n"
        "gd-green-2024,electricity,CN-GD,2024,kWh,0.02,AR6,Green tariff certificate,"
        "Guangdong Power,supplier\n",
    ),
    "fx": ("fx.csv", "year,currency,per_usd,source\n2024,TWD,32.1,Treasury\n"),
}
MESSAGES = {
    "entities": "Imported 3 entities from entities.csv as batch {batch}.",
    "sites": "Imported 2 sites from sites.csv as batch {batch}.",
    "activity-types": "Imported 1 activity type from types.csv as batch {batch}.",
    "factors": (
        "Imported 1 factor from supplier-factors.csv into user factor set "
        "user-supplier-factors (precedence 100) as batch {batch}."
    ),
    "fx": "Imported 1 exchange rate from fx.csv as batch {batch}.",
}


def _batch(kind: str, path: Path) -> str:
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    return "b-" + hashlib.sha256(f"{kind}:{content}".encode()).hexdigest()[:12]


def _import(root: Path, path: Path, kind: str, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["import", str(root), str(path), "--kind", kind, *extra])
    return result.exit_code, result.stdout, result.stderr


def test_every_reference_kind_in_order(workspace: Workspace, tmp_path: Path) -> None:
    for kind, (name, text) in FILES.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, out, err = _import(workspace.root, path, kind)
        assert (code, err) == (0, ""), err
        batch = _batch(kind, path)
        assert out == MESSAGES[kind].format(batch=batch) + "\n"
        code, out, err = _import(workspace.root, path, kind)
        assert (code, err) == (0, "")
        assert out == f"{name} was already imported as {kind} batch {batch}; nothing changed.\n"
    with workspace.session() as session:
        assert [e["code"] for e in load_entities(session)] == ["CLOUD", "DCJV", "GRP"]
        assert [s["region"] for s in load_sites(session)] == ["CN-GD", "CN-HE"]
        assert [t["activity"] for t in load_activity_types(session)] == ["purchased.servers"]
        assert [s["id"] for s in load_factor_sets(session)] == ["user-supplier-factors"]
        assert [(r["currency"], r["per_usd"]) for r in load_fx_rates(session)] == [("TWD", 32.1)]


def test_a_rejected_sites_file_exits_2_with_its_issues_and_report(
    workspace: Workspace, tmp_path: Path
) -> None:
    entities = tmp_path / "entities.csv"
    entities.write_text(FILES["entities"][1], encoding="utf-8")
    assert _import(workspace.root, entities, "entities")[0] == 0
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site,entity,name,country,region,type\n"
        "DC-GD,CLOUDS,Qingyuan,CN,CN-GD,data_centre\n"
        "DC-HK,CLOUD,HK,HK,CN-GD,server room\n",
        encoding="utf-8",
    )
    report = tmp_path / "problems.csv"
    code, out, err = _import(workspace.root, sites, "sites", "--report", str(report))
    assert (code, out) == (2, "")
    types = "data_centre, office, warehouse, retail, fleet_depot, factory, lab, campus, other"
    assert err == (
        "sites.csv was rejected: 3 problems in 2 rows\n"
        "  sites.csv, row 2, column 'entity': unknown entity 'CLOUDS': it is not imported "
        "(value: 'CLOUDS'). Fix: did you mean 'CLOUD'? import the entity first (esgledger "
        "import WS --kind entities FILE)\n"
        "  sites.csv, row 3, column 'region': region CN-GD (Guangdong) is in CN, not in the "
        "site's country HK (value: 'CN-GD'). Fix: correct the country or the region\n"
        "  sites.csv, row 3, column 'type': unknown site type (value: 'server room'). "
        f"Fix: use one of: {types}\n"
        f"The report of all 3 issue(s) is in {report}\n"
    )
    assert report.read_text(encoding="utf-8-sig").splitlines()[0] == (
        "file,row,column,value,problem,fix"
    )
    with workspace.session() as session:
        assert load_sites(session) == []


@pytest.mark.parametrize(
    ("kind", "name", "text", "first_line"),
    [
        (
            "fx",
            "fx.csv",
            "year,currency,per_usd\n2024,CNY,0.139\n",
            "fx.csv was rejected: 1 problem in 1 row",
        ),
        (
            "factors",
            "f.csv",
            "factor,activity,region,year,unit,co2e_kg,source\nx,electricity,CN,2024,kWh,0.5,s\n",
            "f.csv was rejected: 1 problem in 1 row",
        ),
        (
            "activity-types",
            "t.csv",
            "activity,name,dimension,scope\nelectricity,Power,[energy],2\n",
            "t.csv was rejected: 1 problem in 1 row",
        ),
    ],
)
def test_other_rejections_exit_2(
    workspace: Workspace, tmp_path: Path, kind: str, name: str, text: str, first_line: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = _import(workspace.root, path, kind)
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == first_line
