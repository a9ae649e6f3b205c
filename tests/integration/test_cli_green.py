"""``esgledger import --kind instruments`` and ``esgledger green instruments | re | cfe`` end
to end on a small group: a Chongqing data centre fully covered by 60 GWh of green power, a
Jiangsu data centre with rooftop PV, an unretired certificate that is excluded, and a solar
supply whose daily volume exceeds the load while its hourly match stays far below 100 %."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.inventory import load_run, summary
from esgledger.store import Workspace
from esgledger.store.repository_renewables import load_allocations

runner = CliRunner()

ENTITIES = (
    "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
    "GRP,Group,,100,true,true,CN\nCLOUD,Cloud,GRP,100,true,true,CN\n"
    "JV,Joint venture,GRP,50,false,false,CN\n"
)
SITES = (
    "site,entity,name,country,region,type\n"
    "DC-CQ,CLOUD,Chongqing DC,CN,CN-CQ,data_centre\n"
    "DC-JS,CLOUD,Yizheng DC,CN,CN-JS,data_centre\n"
    "DC-JV,JV,Joint-venture DC,CN,CN-GD,data_centre\n"
)
ACTIVITIES = (
    "entity,site,period_start,period_end,activity,quantity,unit\n"
    "CLOUD,DC-CQ,2024-01-01,2024-12-31,electricity,60000,MWh\n"
    "CLOUD,DC-JS,2024-01-01,2024-12-31,electricity,36000000,kWh\n"
    "JV,DC-JV,2024-01-01,2024-12-31,electricity,40000,MWh\n"
)
INSTRUMENTS = (
    "instrument,type,technology,generator,commissioned,country,region,period_start,period_end,"
    "mwh,retired_on,retired_for,registry_id\n"
    "GPT-CQ,green_power_trade,wind,Inner Mongolia wind,2021-06-30,CN,CN-NM,2024-01-01,"
    "2024-12-31,60000,2025-01-15,DC-CQ,BJPX-2024-001\n"
    "PV-JS,onsite,solar,Rooftop 12.92 MW,2022-02-22,CN,CN-JS,2024-01-01,2024-12-31,12000,,"
    "DC-JS,\n"
    "GEC-OPEN,gec,solar,Qinghai PV,2020-01-01,CN,CN-QH,2024-01-01,2024-12-31,5000,,CLOUD,"
    "GEC-2024-77\n"
)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "300"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path) -> Path:
    root = workspace.root
    for kind, name, text in (
        ("entities", "entities.csv", ENTITIES),
        ("sites", "sites.csv", SITES),
        ("activities", "activities.csv", ACTIVITIES),
        ("instruments", "instruments.csv", INSTRUMENTS),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, _out, err = _invoke("import", root, path, "--kind", kind)
        assert code == 0, err
    return root


def test_import_instruments_and_reject_a_bad_file(ws: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(INSTRUMENTS.replace("GPT-CQ,", "NEW-1,").replace(",60000,", ",-1,"), "utf-8")
    code, _out, err = _invoke("import", ws, bad, "--kind", "instruments")
    assert code == 2
    assert "bad.csv was rejected: 5 problems in 3 rows" in err
    assert "a volume cannot be negative" in err
    assert "instrument 'PV-JS' is already stored" in err


def test_green_instruments_lists_the_verdicts(ws: Path) -> None:
    code, out, _err = _invoke("green", "instruments", ws)
    assert code == 0
    assert "GPT-CQ" in out
    assert "not retired (cancelled) in the registry" in out
    assert "2 of 3 instruments (72,000.000 of 77,000.000 MWh) pass the Scope 2 Quality" in out
    code, out, _err = _invoke("green", "instruments", ws, "--lang", "zh-CN")
    assert code == 0
    assert "尚未在登记系统中注销" in out
    assert "绿电交易" in out


def test_green_re_takes_a_named_run_and_its_boundary(ws: Path) -> None:
    # Equity share: the joint venture's data centre counts (at 50 % in the totals; RE % is a
    # share of its electricity), so the group's RE % is lower than under operational control.
    assert _invoke("calculate", ws, "--consolidation", "equity")[0] == 0
    with Workspace.open(ws) as workspace:
        equity = load_run(workspace)
    assert _invoke("calculate", ws)[0] == 0
    code, out, err = _invoke("green", "re", ws, "--run", equity.run_id, "--level", "group")
    assert code == 0, err
    assert equity.run_id in out
    group = next(line for line in out.splitlines() if line.strip().startswith("GROUP"))
    # (60,000 GEC + 12,000 on-site) / (60,000 + 36,000 + 40,000 + 12,000) MWh = 48.6 %.
    assert group.split()[-2:] == ["48.6", "%"]
    assert summary(equity)["renewable_share"]["group"] == pytest.approx(72 / 148, rel=1e-12)


def test_green_re_needs_an_inventory_run(ws: Path) -> None:
    code, _out, err = _invoke("green", "re", ws)
    assert code == 1
    assert "has no inventory run yet; run `esgledger calculate WS` first" in err


def test_green_re_by_site_and_group_with_saved_allocations(ws: Path) -> None:
    assert _invoke("calculate", ws)[0] == 0
    code, out, _err = _invoke("green", "re", ws, "--target-year", "2030", "--save")
    assert code == 0, _err
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    # The joint venture is outside the run's operational-control boundary: not counted.
    assert "DC-JV" not in lines
    assert lines["DC-CQ"][-2:] == ["100.0", "%"]
    # DC-JS: 36,000 MWh purchased + 12,000 MWh on-site PV → 25 %.
    assert lines["DC-JS"][1:3] == ["48,000.000", "36,000.000"]
    assert lines["DC-JS"][-2:] == ["25.0", "%"]
    assert "excluded: GEC-OPEN: not retired (cancelled) in the registry" in out
    # Group: (60,000 + 12,000) / 108,000 = 66.7 %; 33.3 points left over 6 years.
    assert "Group RE % 66.7 % in 2024; target 100 % by 2030: 5.6 percentage points" in out
    assert "Saved 1 allocations for 2024." in out
    with Workspace.open(ws) as workspace, workspace.session() as session:
        (allocation,) = load_allocations(session, 2024)
    assert (allocation["instrument"], allocation["site"], allocation["mwh"]) == (
        "GPT-CQ",
        "DC-CQ",
        60000.0,
    )
    # The same RE % as the run's market-based result (one RE % everywhere).
    with Workspace.open(ws) as workspace:
        data = summary(load_run(workspace))
    assert data["renewable_share"]["group"] == pytest.approx(72_000 / 108_000, rel=1e-12)
    assert data["renewable_share"]["by_site"]["DC-JS"] == pytest.approx(0.25, rel=1e-12)
    # Saving again replaces the year's allocations instead of double counting them.
    code, out, _err = _invoke("green", "re", ws, "--save", "--level", "group")
    assert code == 0
    assert "GROUP" in out
    group = next(line for line in out.splitlines() if line.strip().startswith("GROUP"))
    assert group.split()[-2:] == [f"{data['renewable_share']['group'] * 100:.1f}", "%"]
    with Workspace.open(ws) as workspace, workspace.session() as session:
        assert len(load_allocations(session, 2024)) == 1


def _hourly_files(tmp_path: Path) -> tuple[Path, Path]:
    """The worked day of domain-modules.md §2.5 at DC-JS: 10 MW flat, 260 MWh of solar."""
    solar = [0, 0, 0, 0, 0, 0, 2, 8, 16, 24, 30, 33, 34, 33, 30, 24, 16, 8, 2, 0, 0, 0, 0, 0]
    hours = [datetime(2024, 6, 1) + timedelta(hours=h) for h in range(24)]
    load = tmp_path / "load.csv"
    load.write_text(
        "site,hour,load_kwh\n" + "".join(f"DC-JS,{h:%Y-%m-%d %H:%M:%S},10000\n" for h in hours),
        "utf-8",
    )
    supply = tmp_path / "supply.parquet"
    pq.write_table(
        pa.table(
            {
                "site": ["DC-JS"] * 24,
                "hour": pa.array(hours, pa.timestamp("s")),
                "clean_mwh": [float(x) for x in solar],
            }
        ),
        supply,
    )
    return load, supply


def test_green_cfe_reproduces_the_worked_day(ws: Path, tmp_path: Path) -> None:
    load, supply = _hourly_files(tmp_path)
    grid = tmp_path / "grid.csv"
    grid.write_text(
        "hour,grid_cfe\n"
        + "".join(
            f"2024-06-01 {h:02d}:00:00,{[0.25, 0.30, 0.45, 0.30][h // 6]}\n" for h in range(24)
        ),
        "utf-8",
    )
    png = tmp_path / "cfe.png"
    table = tmp_path / "cfe.csv"
    code, out, err = _invoke(
        "green", "cfe", ws, "--load", load, "--supply", supply, "--grid-cfe", grid,
        "--heatmap", png, "--out", table,
    )  # fmt: skip
    assert code == 0, err
    assert "Portfolio (load-weighted): hourly match 45.8 %, 24/7 CFE 61.0 %" in out
    assert "100.0 %" in out  # annual-style volumetric match
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "Wrote" in out
    assert "(24 of 288 month × hour cells)" in out
    assert table.read_text("utf-8").startswith('"site","load_mwh"')
    code, out, _err = _invoke("green", "cfe", ws, "--load", load, "--supply", supply)
    assert "hourly match 45.8 %, 24/7 CFE 45.8 % (no grid CFE share given)" in out
    code, out, _err = _invoke(
        "green", "cfe", ws, "--load", load, "--supply", supply, "--grid-cfe", "0.5"
    )
    # 110 MWh matched + 0.5 × 130 MWh residual = 175 of 240 MWh.
    assert "24/7 CFE 72.9 %" in out


def test_green_cfe_rejects_unknown_sites_and_bad_columns(ws: Path, tmp_path: Path) -> None:
    load, supply = _hourly_files(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text(load.read_text("utf-8").replace("DC-JS", "DC-XX"), "utf-8")
    code, _out, err = _invoke("green", "cfe", ws, "--load", other, "--supply", supply)
    assert code == 2
    assert "other.csv was rejected: unknown site 'DC-XX': it is not imported" in err
    columns = tmp_path / "columns.csv"
    columns.write_text("site,hour,power\nDC-JS,2024-06-01 00:00:00,1\n", "utf-8")
    code, _out, err = _invoke("green", "cfe", ws, "--load", columns, "--supply", supply)
    assert code == 2
    assert (
        "columns.csv was rejected: the file needs the columns site, hour and load_mwh or "
        "load_kwh" in err
    )
