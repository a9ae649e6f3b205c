"""Inventory runs: lake folder, manifest, registration, reproducibility and the summary JSON."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest

from _inventory_support import activity, entity, import_rows, new_workspace, user_factor
from esgledger import __version__
from esgledger.errors import WorkspaceError
from esgledger.inventory import calculate, list_runs, load_run, summary
from esgledger.inventory.runs import SCOPE3_CATEGORIES
from esgledger.store import Workspace
from esgledger.store.repository import load_run as load_run_row
from esgledger.store.repository import save_run

REL = 1e-12


def _mixed(tmp_path: Path) -> Workspace:
    return new_workspace(
        tmp_path / "ws",
        entities=[
            entity("GRP"),
            entity("JV", parent="GRP", ownership_pct=50, operational_control="false"),
        ],
        factors=[user_factor("u-paper", "purchased_goods.paper", "kg", 1.2)],
        activities=[
            activity("electricity", 1000, "kWh", region="CN-GD"),
            activity("stationary.diesel", 100, "gal", region="US"),
            activity("purchased_goods.paper", 50, "kg"),
            activity("travel.air.long_haul.economy", 1000, "pkm", region="GB"),
            activity("electricity", 500, "kWh", region="CN-GD", entity_code="JV"),
        ],
    )


def test_a_run_writes_its_folder_manifest_and_row(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    run = calculate(ws, gwp_set="AR5", consolidation="equity")
    assert re.fullmatch(r"r-[0-9a-f]{12}-\d{8}T\d{6}Z", run.run_id)
    assert run.run_id.startswith(f"r-{run.manifest['input_hash'][:12]}-")
    folder = ws.lake / "runs" / run.run_id
    assert sorted(p.name for p in folder.iterdir()) == [
        "line_items.parquet",
        "manifest.json",
        "market_based.parquet",
    ]
    on_disk = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(run.manifest, default=str))
    manifest = run.manifest
    assert manifest["esgledger_version"] == __version__
    assert manifest["reporting_year"] == 2024
    assert manifest["gwp_set"] == "AR5"
    assert manifest["consolidation"] == "equity_share"
    assert manifest["options"] == {
        "strict": None,
        "allow_unresolved": False,
        "category_3": True,
        "proxies": {},
        "category_3_proxies": False,
        "price_basis": "purchaser",
        "gas_volume_reference": None,
        "fallbacks": [],
    }
    assert len(manifest["inputs"]["reference_data"]["deflators_sha256"]) == 64
    assert manifest["deflators"]["used"] == []  # no spend in these rows
    assert manifest["double_counting"] == []
    # The two CN-GD electricity rows share one key (the entity is not part of it).
    # No WTT or T&D factor exists for CN-GD or US: no category 3 lines.
    assert manifest["counts"] == {
        "rows": 5,
        "lines": 5,
        "category_3_lines": 0,
        "category_15_lines": 0,
        "excluded": 0,
        "keys": 4,
    }
    (batch,) = manifest["inputs"]["activity_batches"]
    assert batch["id"].startswith("b-")
    assert len(batch["content_hash"]) == 64
    sets = {s["id"]: s for s in manifest["inputs"]["factor_sets"]}
    assert sets["epa-hub-2025"]["shipped"] is True
    assert sets["epa-hub-2025"]["sha256"] is not None
    user_set = next(s for s in sets.values() if not s["shipped"])
    assert user_set["precedence"] >= 100
    assert len(user_set["sha256"]) == 64
    assert len(user_set["file_sha256"]) == 64
    assert manifest["consolidation_shares"]["JV"]["share"] == 0.5
    assert manifest["factor_sets_used"] == {
        "cn-mee": 2,
        "desnz-2024": 1,
        "epa-hub-2025": 1,
        user_set["id"]: 1,
    }
    digest = hashlib.sha256(run.line_items_path.read_bytes()).hexdigest()
    assert manifest["line_items_sha256"] == digest

    with ws.session() as session:
        row = load_run_row(session, run.run_id)
    assert row is not None
    assert row["gwp_set"] == "AR5"
    assert row["consolidation"] == "equity_share"
    assert row["reporting_year"] == 2024
    assert row["input_hash"] == manifest["input_hash"]
    assert row["totals"] == run.totals
    assert row["manifest"]["run_id"] == run.run_id


def test_rerunning_the_same_inputs_reproduces_every_number(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    first = calculate(ws, gwp_set="AR6")
    second = calculate(ws, gwp_set="AR6")
    assert first.run_id != second.run_id
    assert first.manifest["input_hash"] == second.manifest["input_hash"]
    a = first.line_items().drop_columns(["run_id"])
    b = second.line_items().drop_columns(["run_id"])
    assert a.equals(b)
    assert summary(first)["totals"] == summary(second)["totals"]
    assert first.totals == second.totals


def test_a_change_of_inputs_or_options_changes_the_input_hash(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    base = calculate(ws).manifest["input_hash"]
    assert calculate(ws, gwp_set="AR5").manifest["input_hash"] != base
    assert calculate(ws, consolidation="equity").manifest["input_hash"] != base
    import_rows(ws, "activities", [activity("electricity", 1, "kWh", region="CN-GD")])
    more = calculate(ws)
    assert more.manifest["input_hash"] != base
    assert len(more.manifest["inputs"]["activity_batches"]) == 2


def test_load_run_finds_the_latest_or_a_named_run(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    with pytest.raises(WorkspaceError, match="has no inventory run yet; run `esgledger calculate"):
        load_run(ws)
    first = calculate(ws)
    second = calculate(ws, gwp_set="AR4")
    assert load_run(ws).run_id == second.run_id
    assert load_run(ws, first.run_id).manifest["gwp_set"] == "AR6"
    assert [r["id"] for r in list_runs(ws)] == [first.run_id, second.run_id]
    with pytest.raises(WorkspaceError, match=r"has no run 'r-nope'$"):
        load_run(ws, "r-nope")


def test_a_run_id_is_never_registered_twice(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    run = calculate(ws)
    with ws.session() as session:
        row = load_run_row(session, run.run_id)
        assert row is not None
        with pytest.raises(WorkspaceError, match=f"a run with id '{run.run_id}' is already"):
            save_run(session, row)


def test_the_summary_is_the_json_contract(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    run = calculate(ws, gwp_set="AR5", consolidation="equity")
    data = summary(run)
    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert data["unit"] == "t CO2e"
    assert set(data) >= {
        "unit",
        "totals",
        "scope3_by_category",
        "by_entity",
        "by_site",
        "data_quality",
        "run",
    }
    assert tuple(data["scope3_by_category"]) == SCOPE3_CATEGORIES
    totals = data["totals"]
    # Hand-worked: CN-GD 0.4419 kg/kWh x (1000 + 50 % of 500) kWh; diesel EPA Table 1 x
    # 100 gal under AR5; paper 50 kg x 1.2; DESNZ long-haul economy 0.11812 kg/pkm x 1000.
    assert totals["scope2_location"] == pytest.approx(0.4419 * 1250 / 1000, rel=REL)
    assert totals["scope1"] == pytest.approx((1021 + 0.041 * 28 + 0.008 * 265) / 1000, rel=REL)
    assert data["scope3_by_category"]["1"] == pytest.approx(0.06, rel=REL)
    assert data["scope3_by_category"]["6"] == pytest.approx(0.11812, rel=1e-9)
    assert totals["scope3"] == pytest.approx(0.06 + 0.11812, rel=1e-9)
    assert totals["total"] == pytest.approx(
        totals["scope1"] + totals["scope2_location"] + totals["scope3"], rel=REL
    )
    assert data["by_entity"]["JV"]["consolidation_share"] == 0.5
    assert data["by_entity"]["JV"]["scope2_location"] == pytest.approx(0.4419 * 0.25, rel=REL)
    assert data["by_entity"]["JV"]["total_gross"] == pytest.approx(0.4419 * 0.5, rel=REL)
    assert set(data["by_site"]) == {"(no site)"}
    tiers = data["data_quality"]["by_tier"]
    assert sum(v["share"] for v in tiers.values()) == pytest.approx(1.0, rel=REL)
    assert set(tiers) == {"subnational", "country", "global"}
    # The Scope 3 Standard's indicators (esgledger.inventory.quality) are merged in.
    quality = data["data_quality"]
    assert {"overall", "by_scope", "scope3_by_category", "rules", "by_vintage_gap"} <= set(quality)
    assert set(quality["overall"]["scores"]) == {
        "technology", "temporal", "geography", "completeness", "reliability", "overall",
    }  # fmt: skip
    assert quality["overall"]["co2e_t"] == pytest.approx(totals["total"], rel=1e-9)
    completeness = data["scope3_completeness"]
    assert tuple(completeness) == SCOPE3_CATEGORIES
    assert {k for k, v in completeness.items() if v["status"] == "reported"} == {"1", "6"}
    assert completeness["2"] == {
        "name": "Capital goods",
        "name_zh": "资本货物",
        "lines": 0,
        "excluded_lines": 0,
        "co2e_t": 0.0,
        "status": "not reported",
    }
    assert data["run"] == run.manifest
    assert run.totals["totals"] == totals


def test_the_line_items_can_be_filtered_with_arrow(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    run = calculate(ws)
    table = run.line_items(columns=["scope", "co2e_kg"])
    assert table.column_names == ["scope", "co2e_kg"]
    assert pc.sum(pc.equal(table.column("scope"), 2)).as_py() == 2


def test_a_run_whose_files_are_gone_is_reported(tmp_path: Path) -> None:
    ws = _mixed(tmp_path)
    run = calculate(ws)
    run.line_items_path.unlink()
    with pytest.raises(WorkspaceError, match="its line items are missing from the lake"):
        load_run(ws, run.run_id)
