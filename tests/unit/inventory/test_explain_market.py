"""``explain`` of a purchased-electricity line shows its market-based part: the instruments
allocated to its site and period (id, type, MWh, quality verdict) and the remainder's factor
and method, as the run stored them (GHG Protocol Scope 2 Guidance ch. 6, Table 6.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import (
    YEAR,
    activity,
    entity,
    gec_instrument,
    import_rows,
    new_workspace,
    site,
)
from esgledger.inventory import calculate
from esgledger.inventory.explain import explain, market_part
from esgledger.inventory.runs import Run

# China's residual-mix proxy for 2023 as shipped (cn-mee:residual_mix:CN:2023), 0.6096 kg
# CO2/kWh (MEE/NBS Announcement 2025 No. 47); the 2024 reporting year uses this vintage.
CN_RESIDUAL_KG_PER_MWH = 609.6
REL = 1e-9


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """A Guangdong data centre: 30 MWh in the first half-year, 30,000 kWh in the second;
    40 MWh of solar GECs retired for it. The first half is covered fully, the second gets the
    other 10 MWh and 20 MWh at the residual mix."""
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP")],
        sites=[site("DC", "GRP", region="CN-GD", type="data_centre")],
        activities=[
            activity(
                "electricity", 30, "MWh", site="DC", period_end=f"{YEAR}-06-30", record_id="H1"
            ),
            activity(
                "electricity",
                30_000,
                "kWh",
                site="DC",
                period_start=f"{YEAR}-07-01",
                period_end=f"{YEAR}-12-31",
                record_id="H2",
            ),
            activity("stationary.diesel", 100, "gal", region="US", record_id="D-1"),
        ],
    )
    import_rows(ws, "instruments", [gec_instrument("G-1", 40)])
    with ws:
        return calculate(ws, category_3=False)


def test_an_electricity_line_shows_its_instruments_and_remainder(run: Run) -> None:
    explanation = explain(run, "H2")
    (line,) = explanation.lines
    market = line.market
    assert market is not None
    assert (market["site"], market["period_start"]) == ("DC", f"{YEAR}-07-01")
    assert market["consumption_mwh"] == pytest.approx(30, rel=REL)
    assert market["covered_mwh"] == pytest.approx(10, rel=REL)
    (instrument,) = market["instruments"]
    assert (instrument["instrument"], instrument["type"], instrument["pool"]) == (
        "G-1",
        "gec",
        "site",
    )
    assert instrument["mwh"] == pytest.approx(10, rel=REL)
    assert instrument["re100"] is True
    assert market["remainder_mwh"] == pytest.approx(20, rel=REL)
    assert market["remainder_method"] == "residual_mix"
    assert market["remainder_factor_id"] == "cn-mee:residual_mix:CN:2023"
    assert market["co2e_kg"] == pytest.approx(20 * CN_RESIDUAL_KG_PER_MWH, rel=REL)
    # The line is the whole site-period: its part is all of it.
    assert market["line_mwh"] == pytest.approx(30, rel=REL)
    assert market["line_co2e_kg"] == pytest.approx(20 * CN_RESIDUAL_KG_PER_MWH, rel=REL)
    assert explanation.to_dict()["lines"][0]["market"]["instruments"][0]["instrument"] == "G-1"

    text = explanation.to_text()
    assert "Scope 2, market-based: site-period DC, 2024-07-01 – 2024-12-31" in text
    assert "purchased electricity: 30 MWh; covered by instruments: 10 MWh" in text
    assert (
        "instrument G-1 (gec): 10 MWh × 0 kg/MWh; pool site; passes the Scope 2 Quality "
        "Criteria; counts toward RE100"
    ) in text
    assert "remainder: 20 MWh × 609.6 kg/MWh (residual mix, cn-mee:residual_mix:CN:2023)" in text
    assert "market-based, site-period: 12,192 kg CO2e" in text
    zh = explanation.to_text("zh-CN")
    assert "范围二（基于市场）: 站点-期间 DC" in zh
    # Instrument type and pool by their Chinese names, not the codes gec and site.
    assert "工具 G-1 (绿色电力证书（绿证）): 10 MWh × 0 kg/MWh; 分配池 站点; " in zh
    assert "符合范围二质量准则; 计入RE100" in zh
    assert "剩余电量: 20 MWh × 609.6 kg/MWh (剩余组合因子, cn-mee:residual_mix:CN:2023)" in zh


def test_a_fully_covered_line_has_no_remainder(run: Run) -> None:
    (line,) = explain(run, "H1").lines
    assert line.market is not None
    assert line.market["remainder_method"] is None
    assert line.market["co2e_kg"] == 0.0
    assert [i["instrument"] for i in line.market["instruments"]] == ["G-1"]
    assert "remainder" not in explain(run, "H1").to_text()


def test_other_lines_have_no_market_part(run: Run) -> None:
    (line,) = explain(run, "D-1").lines
    assert line.market is None
    assert "market-based" not in explain(run, "D-1").to_text()
    assert market_part(run, {**line.line, "activity": "heat"}) is None
