"""Market-based scope 2 of a run (esgledger.inventory.market), through the real imports."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
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
from esgledger.inventory import calculate, summary
from esgledger.inventory.market import MARKET_FILE, add_market_to_summary, market_based
from esgledger.store import Workspace

# China's residual-mix proxy for 2023 as shipped (cn-mee:residual_mix:CN:2023): the national
# factor excluding market-traded non-fossil electricity, 0.6096 kg CO2/kWh (MEE/NBS
# Announcement 2025 No. 47); the reporting year 2024 falls back to this latest vintage.
CN_RESIDUAL_KG_PER_MWH = 609.6
# Guangdong's provincial average 2023, 0.4419 kg CO2/kWh (same announcement, Table 3).
GD_LOCATION_KG_PER_MWH = 441.9
REL = 1e-9


def _workspace(tmp_path: Path, instruments: list[dict[str, Any]] | None) -> Workspace:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP")],
        sites=[site("DC", "GRP", region="CN-GD", type="data_centre")],
        activities=[
            activity("electricity", 30, "MWh", site="DC", period_end=f"{YEAR}-06-30"),
            activity(
                "electricity",
                30_000,
                "kWh",
                site="DC",
                period_start=f"{YEAR}-07-01",
                period_end=f"{YEAR}-12-31",
            ),
        ],
    )
    if instruments is not None:
        import_rows(ws, "instruments", instruments)
    return ws


def test_certificates_cover_part_and_the_rest_gets_the_residual_mix(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, [gec_instrument("G-1", 40)])
    with ws:
        run = calculate(ws)
        result = market_based(ws, run)
    # 60 MWh bought; 40 MWh covered by valid solar GECs at 0 kg; 20 MWh × residual mix.
    expected_kg = 20 * CN_RESIDUAL_KG_PER_MWH
    assert result.electricity_t * 1000 == pytest.approx(expected_kg, rel=REL)
    assert result.scope2_market_t * 1000 == pytest.approx(expected_kg, rel=REL)
    assert sum(line.consumption_mwh for line in result.lines) == pytest.approx(60, rel=REL)
    assert sum(line.covered_mwh for line in result.lines) == pytest.approx(40, rel=REL)
    # Site-periods in date order: the first half-year (30 MWh) is covered fully, the second
    # gets the other 10 MWh and 20 MWh at the residual mix.
    first, second = result.lines
    assert (first.covered_mwh, first.remainder_method) == (pytest.approx(30, rel=REL), None)
    assert second.remainder_mwh == pytest.approx(20, rel=REL)
    assert second.remainder_factor_id == "cn-mee:residual_mix:CN:2023"
    assert all(line.data_quality_flag is None for line in result.lines)
    assert result.re_share_group == pytest.approx(40 / 60, rel=REL)
    assert result.by_site["DC"]["scope2_market"] * 1000 == pytest.approx(expected_kg, rel=REL)
    # The lines are written into the run folder, units in the column names.
    table = pq.read_table(run.folder / MARKET_FILE)
    assert result.path == run.folder / MARKET_FILE
    assert sum(table.column("co2e_kg_consolidated").to_pylist()) == pytest.approx(
        expected_kg, rel=REL
    )
    assert "remainder_co2e_kg_per_mwh" in table.column_names


def test_an_instrument_failing_a_quality_criterion_is_excluded_with_its_reason(
    tmp_path: Path,
) -> None:
    ws = _workspace(
        tmp_path,
        [gec_instrument("G-1", 40), gec_instrument("G-NOT-RETIRED", 20, retired_on=None)],
    )
    with ws:
        run = calculate(ws)
        result = market_based(ws, run)
    assert result.allocation.excluded == {
        "G-NOT-RETIRED": "not retired (cancelled) in the registry"
    }
    assert all("G-NOT-RETIRED" not in line.instruments for line in result.lines)
    # Still 20 MWh at the residual mix: the unretired 20 MWh do not reduce anything.
    assert result.electricity_t * 1000 == pytest.approx(20 * CN_RESIDUAL_KG_PER_MWH, rel=REL)


def test_every_run_stores_market_based_scope2_and_the_summary_reads_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, [gec_instrument("G-1", 40)])
    with ws:
        run = calculate(ws)
    after = summary(run)
    # The run wrote the market-based lines; the manifest records their sha256 and the digests
    # of the register and the allocations.
    section = run.manifest["market_based"]
    path = run.folder / MARKET_FILE
    assert section["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(section["instruments_sha256"]) == 64
    assert len(section["allocations_sha256"]) == 64
    assert (section["instruments"], len(section["allocations"])) == (1, 2)
    assert run.totals["totals"]["scope2_market"] == after["totals"]["scope2_market"]
    assert after["totals"]["scope2_location"] * 1000 == pytest.approx(
        60 * GD_LOCATION_KG_PER_MWH, rel=REL
    )
    assert after["totals"]["scope2_market"] * 1000 == pytest.approx(
        20 * CN_RESIDUAL_KG_PER_MWH, rel=REL
    )
    assert after["by_site"]["DC"]["scope2_market"] == pytest.approx(
        after["totals"]["scope2_market"], rel=REL
    )
    assert after["by_entity"]["GRP"]["scope2_market"] == pytest.approx(
        after["totals"]["scope2_market"], rel=REL
    )
    assert after["renewable_share"]["group"] == pytest.approx(40 / 60, rel=REL)
    assert after["renewable_share"]["by_site"] == {"DC": pytest.approx(40 / 60, rel=REL)}
    # Computing it again gives what the summary read back from the stored file.
    with ws:
        again = add_market_to_summary(summary(run), market_based(ws, run))
    assert again["totals"]["scope2_market"] == pytest.approx(
        after["totals"]["scope2_market"], rel=REL
    )
    assert again["renewable_share"] == after["renewable_share"]


def test_without_instruments_market_based_is_computed_and_the_run_says_so(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path, None)
    with ws:
        run = calculate(ws)
    data = summary(run)
    # No instrument: all 60 MWh at China's residual mix, not the Guangdong grid average.
    assert data["totals"]["scope2_market"] * 1000 == pytest.approx(
        60 * CN_RESIDUAL_KG_PER_MWH, rel=REL
    )
    assert data["totals"]["scope2_location"] * 1000 == pytest.approx(
        60 * GD_LOCATION_KG_PER_MWH, rel=REL
    )
    assert data["renewable_share"]["group"] == 0.0
    assert run.manifest["market_based"]["instruments"] == 0
    assert any(w.startswith("no contractual instruments are registered") for w in data["warnings"])


def test_without_a_residual_mix_the_grid_average_is_used_and_flagged(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP", country="GB")],
        sites=[site("LDN", "GRP", country="GB", region="GB")],
        activities=[activity("electricity", 1_000, "MWh", site="LDN")],
    )
    with ws:
        run = calculate(ws)
        result = market_based(ws, run)
        location = summary(run)["totals"]["scope2_location"]
    (line,) = result.lines
    assert line.remainder_method == "grid_average"
    assert line.data_quality_flag == "grid_average_no_residual_mix"
    assert result.flags == {"LDN": "grid_average_no_residual_mix"}
    # The grid average is the location-based factor (DESNZ 2024 UK electricity), weighted
    # under the run's GWP set as the engine weights it: the same figure as location-based.
    assert result.electricity_t == pytest.approx(location, rel=REL)
    assert line.remainder_factor_id == "desnz-2024:7_400_4000_5:electricity"
    assert any("grid average" in w for w in result.warnings)
    assert result.re_share_group == 0.0


def test_electricity_without_a_site_is_covered_only_by_entity_or_group_instruments(
    tmp_path: Path,
) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("GRP")],
        sites=[site("DC", "GRP", region="CN-GD")],
        activities=[activity("electricity", 10, "MWh", region="CN-GD")],
    )
    import_rows(
        ws,
        "instruments",
        [gec_instrument("G-SITE", 5), gec_instrument("G-GRP", 4, retired_for="GRP")],
    )
    with ws:
        run = calculate(ws)
        result = market_based(ws, run)
        after = add_market_to_summary(summary(run), result)
    (line,) = result.lines
    # The site's certificates cannot cover a row without a site; the entity's 4 MWh can.
    assert line.instruments == ("G-GRP",)
    assert result.allocation.surplus_mwh["G-SITE"] == 5
    expected_t = 6 * CN_RESIDUAL_KG_PER_MWH / 1000
    assert after["by_site"]["(no site)"]["scope2_market"] == pytest.approx(expected_t, rel=REL)
    assert after["totals"]["scope2_market"] == pytest.approx(expected_t, rel=REL)
