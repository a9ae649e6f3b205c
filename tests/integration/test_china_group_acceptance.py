"""Issue 10, "Done when": a fresh workspace made with ``esgledger init --country CN`` and a small
Chinese group (sites in Guangdong and Shanghai and one US site; electricity, natural gas in m3,
diesel in litres stationary and mobile, flights from Shanghai, a US flight, CNY spend, hotel
nights, rail incl. high-speed rail, taxi, bus, freight) runs ``calculate`` with no proxies or
flags, and every line's tier and source are visible in ``explain``.

Everything goes through the command line, as a new user would type it. The rows in litres and
cubic metres resolve through the shipped fuel properties (densities, calorific values, gas
reference conditions; ``docs/methodology/fuel-conversions.md``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.inventory import load_run
from esgledger.store import Workspace

runner = CliRunner()

ENTITIES = [
    {
        "entity": "GRP", "name": "Lingnan Digital Group", "name_zh": "岭南数字集团", "parent": "",
        "ownership_pct": 100, "operational_control": "true", "financial_control": "true",
        "country": "CN",
    },
    {
        "entity": "USCO", "name": "Lingnan Digital US Inc.", "name_zh": "", "parent": "GRP",
        "ownership_pct": 100, "operational_control": "true", "financial_control": "true",
        "country": "US",
    },
]  # fmt: skip
SITES = [
    {"site": "GZ-OFF", "entity": "GRP", "name": "Guangzhou office", "name_zh": "广州办公室",
     "country": "CN", "region": "CN-GD", "type": "office"},
    {"site": "SH-DC", "entity": "GRP", "name": "Shanghai data centre", "name_zh": "上海数据中心",
     "country": "CN", "region": "CN-SH", "type": "data_centre"},
    {"site": "US-OFF", "entity": "USCO", "name": "San Jose office", "name_zh": "",
     "country": "US", "region": "US-EGRID-CAMX", "type": "office"},
]  # fmt: skip

#: record_id → (entity, site, activity, quantity, unit, region, expected tier, expected set).
#: Rows in litres and cubic metres take the China default parameters (GB/T 32150-2015) through
#: the fuel conversions, at country tier.
ROWS: dict[str, tuple[str, str, str, float, str, str, str, str]] = {
    "E-GZ": ("GRP", "GZ-OFF", "electricity", 120_000, "kWh", "", "subnational", "cn-mee"),
    "E-SH": ("GRP", "SH-DC", "electricity", 850, "MWh", "", "subnational", "cn-mee"),
    "E-US": ("USCO", "US-OFF", "electricity", 60, "MWh", "", "subnational", "epa-hub-2025"),
    "GAS-GZ": (
        "GRP", "GZ-OFF", "stationary.natural_gas", 4_000, "m3", "", "country", "cn-defaults",
    ),
    "DSL-SH": ("GRP", "SH-DC", "stationary.diesel", 500, "L", "", "country", "cn-defaults"),
    "DSL-GZ-FLEET": ("GRP", "GZ-OFF", "mobile.diesel", 1_200, "L", "", "country", "cn-defaults"),
    "AIR-SH-PEK": (
        "GRP", "SH-DC", "travel.air.short_haul.economy", 2_360, "pkm", "", "default", "desnz-2024",
    ),
    "AIR-SH-FRA": (
        "GRP", "SH-DC", "travel.air.long_haul.business", 17_800, "pkm", "", "default",
        "desnz-2024",
    ),
    "AIR-US": (
        "USCO", "US-OFF", "travel.air.medium_haul.average", 3_100, "pkm", "", "country",
        "epa-hub-2025",
    ),
    "SPEND-GZ": (
        "GRP", "GZ-OFF", "spend.naics.541511", 250_000, "CNY", "", "proxy", "useeio-1.3.0",
    ),
    "HOTEL-CN": ("GRP", "SH-DC", "travel.hotel", 12, "room_night", "CN", "country", "desnz-2024"),
    "HSR-SH-PEK": (
        "GRP", "SH-DC", "travel.rail.high_speed", 1_318, "pkm", "", "default", "desnz-2024",
    ),
    "RAIL-GZ": ("GRP", "GZ-OFF", "travel.rail", 150, "pkm", "", "default", "desnz-2024"),
    "TAXI-SH": ("GRP", "SH-DC", "travel.taxi", 320, "vkm", "", "default", "desnz-2024"),
    "BUS-GZ": ("GRP", "GZ-OFF", "travel.bus", 200, "pkm", "", "default", "desnz-2024"),
    "FRT-ROAD": ("GRP", "GZ-OFF", "freight.road", 12_000, "tkm", "", "default", "desnz-2024"),
    "FRT-SEA": ("GRP", "SH-DC", "freight.sea", 480_000, "tkm", "", "default", "desnz-2024"),
}  # fmt: skip


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"esgledger {' '.join(args)}:\n{result.output}"
    return result


def _group(tmp_path: Path, records: list[str]) -> Path:
    root = tmp_path / "lingnan"
    init = _invoke("init", str(root), "--country", "CN", "--year", "2024")
    assert "Profile CN (China (mainland)), written into esgledger.toml:" in init.stdout
    activities = [
        {
            "record_id": record, "entity": e, "site": s, "period_start": "2024-01-01",
            "period_end": "2024-12-31", "activity": a, "quantity": q, "unit": u, "region": r,
        }
        for record, (e, s, a, q, u, r, _, _) in ROWS.items()
        if record in records
    ]  # fmt: skip
    for kind, rows in (("entities", ENTITIES), ("sites", SITES), ("activities", activities)):
        _invoke("import", str(root), str(_write(tmp_path / f"{kind}.csv", rows)), "--kind", kind)
    return root


def _check(root: Path, records: list[str]) -> None:
    calculated = runner.invoke(app, ["calculate", str(root)])  # no --proxy, no flag
    assert calculated.exit_code == 0, calculated.output
    # Every fallback is said, not only in explain: the run's warnings count the lines.
    assert re.search(
        r"warning: \d+ line\(s\) use GB factors \(desnz-2024\) as the workspace profile's "
        r"documented default \(tier default\)",
        calculated.stderr,
    )
    assert (
        "warning: 1 line(s) use US factors (useeio-1.3.0) as a flagged geographic proxy (tier "
        "proxy)" in calculated.stderr
    )
    with Workspace.open(root) as ws:
        assert ws.factor_proxies == {}
        run = load_run(ws)
    assert run.manifest["options"]["proxies"] == {}
    assert [f["tier"] for f in run.manifest["options"]["fallbacks"]] == ["default", "proxy"]
    lines = {
        line["record_id"]: line
        for line in run.line_items().to_pylist()
        if line["line_kind"] == "activity"
    }
    assert sorted(lines) == sorted(records)
    assert not any(line["excluded"] for line in lines.values())
    for record in records:
        *_, tier, factor_set = ROWS[record]
        line = lines[record]
        assert (line["tier"], line["factor_set"]) == (tier, factor_set), record
        text = _invoke("explain", str(root), record).stdout
        assert f"tier: {line['tier']}; method: {line['method']}" in text, record
        assert f"source: {line['source']}" in text, record
        assert re.search(r"data quality: technology \d, time \d, geography \d", text), record
        if line["conversion_path"]:
            assert "fuel properties" in text, record
        if line["tier"] == "default":
            assert "DESNZ factors used as an explicit global default for China" in text
            assert "geography 3" in text
        if line["tier"] == "proxy":
            assert "US EEIO factors used as a geographic proxy for spend in CNY" in text
            assert "geography 4" in text
            # ECB 2024 annual average: 7.1955863 CNY per USD (shipped FX table)
            assert "exchange rate of the reporting year: 0.138974 USD/CNY" in text
    zh = _invoke("explain", str(root), "AIR-SH-FRA", "--lang", "zh-CN").stdout
    assert "层级: 缺省（配置档案）" in zh
    assert "数据质量: 技术 2, 时间 1, 地理 3, 完整性 1, 可靠性 2; 平均 1.8" in zh


def test_a_new_chinese_group_calculates_without_proxies_or_flags(tmp_path: Path) -> None:
    records = list(ROWS)
    _check(_group(tmp_path, records), records)
