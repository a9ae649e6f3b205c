"""A new Chinese workspace made with ``esgledger init``: natural gas in m3 and diesel in L
(stationary and mobile) calculate with China-tier factors, and ``explain`` shows the
conversion (issue 10, section 1; docs/methodology/fuel-conversions.md).

Expected values: GB/T 32150-2015 Table B.1 as keyed in fuel_properties.csv (natural gas
389.31 GJ/10^4 Nm3, 15.32 tC/TJ, 99 % -> 21.65 t CO2/10^4 Nm3; diesel 42.652 GJ/t,
20.20 tC/TJ, 98 % -> 3.0959 t CO2/t; standards-and-data.md §4.5, §5.5) and the shipped
diesel density 0.83368 t/m3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _inventory_support import activity, entity, site, write_csv
from esgledger.cli import app

runner = CliRunner()


def _cli(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _china_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    _cli("init", root, "--name", "China Group", "--year", "2024")
    files = {
        "entities": [entity("GRP", country="CN")],
        "sites": [
            site("GZ", country="CN", region="CN-GD"),
            site("SH", country="CN", region="CN-SH"),
        ],
        "activities": [
            activity("stationary.natural_gas", 4000, "立方米", site="GZ", record_id="GAS-M3"),
            activity("stationary.natural_gas", 4000, "Nm3", site="GZ", record_id="GAS-NM3"),
            activity("stationary.diesel", 1000, "L", site="SH", record_id="GEN-L"),
            activity("mobile.diesel", 2000, "升", site="SH", record_id="FLEET-L"),
        ],
    }
    for kind, rows in files.items():
        _cli("import", root, "--kind", kind, write_csv(tmp_path / f"{kind}.csv", rows))
    return root


def test_china_fuels_calculate_with_china_factors_and_explain_the_conversion(
    tmp_path: Path,
) -> None:
    root = _china_workspace(tmp_path)
    # No proxies, no flags: before issue 10 the m3 and L rows had no factor and stopped the run.
    _cli("calculate", root)
    gas = json.loads(_cli("explain", root, "GAS-M3", "--format", "json"))
    text = json.dumps(gas, ensure_ascii=False)
    assert "cn-defaults:stationary.natural_gas:1e4nm3" in text
    assert "gas volume at 0 °C, 101.325 kPa" in text
    assert "gas_volume_reference" in text
    diesel = _cli("explain", root, "GEN-L")
    assert "cn-defaults:stationary.diesel:t" in diesel
    assert "tier: country" in diesel
    assert "via fuel properties: 1 L = 0.00083368 tonne: diesel volume → mass by density" in diesel
    assert "CH4" in diesel
    assert "N2O" in diesel
    fleet = _cli("explain", root, "FLEET-L", "--lang", "zh-CN")
    assert "cn-defaults:mobile.diesel:t" in fleet
    # In Chinese the conversion path is part of the reason (reason_zh), in Chinese words.
    path = "按燃料特性换算（规则11）：1 升 = 0.00083368 tonne：柴油体积→质量，密度 0.83368 t/m3"
    assert path in fleet


def test_m3_and_nm3_rows_carry_the_same_china_emissions(tmp_path: Path) -> None:
    root = _china_workspace(tmp_path)
    _cli("calculate", root)
    lines = {}
    for record in ("GAS-M3", "GAS-NM3", "GEN-L", "FLEET-L"):
        data = json.loads(_cli("explain", root, record, "--format", "json"))
        (line,) = [x["line"] for x in data["lines"] if x["line"]["line_kind"] == "activity"]
        lines[record] = line
    assert {x["factor_region"] for x in lines.values()} == {"CN"}
    assert {x["tier"] for x in lines.values()} == {"country"}
    # 4,000 m3 at the default 0 °C = 4,000 Nm3: 0.4 x 21.65 t CO2 (published to 2 decimals).
    assert lines["GAS-M3"]["co2_kg"] == pytest.approx(lines["GAS-NM3"]["co2_kg"], rel=1e-12)
    assert lines["GAS-M3"]["co2_kg"] == pytest.approx(0.4 * 21_650, abs=0.4 * 5)
    # 1,000 L x 0.83368 t/m3 x 3.0959 t CO2/t (published to 4 decimals).
    assert lines["GEN-L"]["co2_kg"] == pytest.approx(0.83368 * 3095.9, abs=0.83368 * 0.05)
    assert lines["FLEET-L"]["ch4_kg"] is not None
    assert lines["FLEET-L"]["ch4_kg"] > 0


def test_the_workspace_setting_reads_plain_m3_at_20_c(tmp_path: Path) -> None:
    root = _china_workspace(tmp_path)
    toml = root / "esgledger.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[units]\ngas_volume_reference = "20C"\n',
        encoding="utf-8",
    )
    _cli("calculate", root)
    m3 = json.loads(_cli("explain", root, "GAS-M3", "--format", "json"))
    nm3 = json.loads(_cli("explain", root, "GAS-NM3", "--format", "json"))
    (a,) = [x["line"] for x in m3["lines"] if x["line"]["line_kind"] == "activity"]
    (b,) = [x["line"] for x in nm3["lines"] if x["line"]["line_kind"] == "activity"]
    # 1 m3 at 20 °C, 101.325 kPa = 273.15 / 293.15 Nm3 (ideal gas).
    assert a["co2_kg"] == pytest.approx(b["co2_kg"] * 273.15 / 293.15, rel=1e-12)
    assert "20 °C" in a["conversion_path"]
    bad = toml.read_text(encoding="utf-8").replace('"20C"', '"25C"')
    toml.write_text(bad, encoding="utf-8")
    result = runner.invoke(app, ["calculate", str(root)])
    assert result.exit_code != 0
    assert "gas_volume_reference" in result.stderr
    assert "Traceback" not in result.output


def test_factors_resolve_previews_the_conversion_with_the_workspace_setting(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    _cli("init", root, "--year", "2024")
    toml = root / "esgledger.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[units]\ngas_volume_reference = "20C"\n',
        encoding="utf-8",
    )
    out = _cli(
        "factors", "resolve", root, "--activity", "stationary.natural_gas", "--region", "CN-GD",
        "--unit", "立方米",
    )  # fmt: skip
    assert "cn-defaults:stationary.natural_gas:1e4nm3" in out
    assert "gas volume at 20 °C, 101.325 kPa → standard volume x 0.931776 Nm3/m3" in out
