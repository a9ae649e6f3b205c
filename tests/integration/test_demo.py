"""``esgledger demo``: the main job on the embedded default, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.demo.data import DEMO_YEAR
from esgledger.demo.run import DEMO_MARKER, build_demo
from esgledger.errors import WorkspaceError
from esgledger.store import Workspace
from esgledger.store.repository import load_batches, load_entities, load_sites

if TYPE_CHECKING:
    from conftest import DbBackend

DEMO = Path(__file__).parents[2] / "src" / "esgledger" / "demo"


def _data_rows(name: str) -> int:
    return len((DEMO / name).read_text(encoding="utf-8").strip().splitlines()) - 1


def test_the_demo_imports_every_file_and_resolves_factors(
    db_backend: DbBackend, tmp_path: Path
) -> None:
    summary = build_demo(
        tmp_path / "demo",
        progress=False,
        database_url=db_backend.database_url,
        schema=db_backend.schema,
    )
    kinds = [result.kind for result in summary.imports]
    assert kinds == ["entities", "sites", "factors", "activities", "activities", "activities"]
    assert all(result.created for result in summary.imports)
    files = {result.file_name for result in summary.imports}
    # The three activity files are written the way business units send them.
    assert {
        f"activities-energy-{DEMO_YEAR}.csv",
        f"activities-value-chain-{DEMO_YEAR}.xlsx",
    } < files
    assert f"activities-travel-{DEMO_YEAR}-gb18030.csv" in files

    with Workspace.open(tmp_path / "demo") as ws, ws.session() as session:
        assert len(load_entities(session)) == _data_rows("entities.csv")
        assert len(load_sites(session)) == _data_rows("sites.csv")
        batches = load_batches(session)
        assert len(batches) == len(summary.imports)
        lake_files = [ws.lake / b.lake_path for b in batches if b.lake_path is not None]
    assert len(lake_files) == 3
    assert all(path.exists() for path in lake_files)

    by_key = {(r.activity, r.region, r.unit): r for r in summary.resolutions}
    # Guangdong data centres report MWh: the MEE/NBS 2023 provincial factor, one year older
    # than the 2024 reporting year (Announcement 2025 No. 47 is the latest published).
    guangdong = by_key[("electricity", "CN-GD", "MWh")]
    assert (guangdong.factor_id, guangdong.tier, guangdong.vintage_gap) == (
        "cn-mee:location:CN-GD:2023",
        "subnational",
        -1,
    )
    # The Hong Kong office buys from a supplier with its own factor (the demo's factor file).
    assert by_key[("electricity", "HK", "kWh")].factor_id == "demo-hk-power-2024"
    assert by_key[("electricity", "HK", "kWh")].tier == "supplier"
    # Refrigerants resolve to the IPCC GWP of the default set.
    assert by_key[("refrigerant.R-410A", "CN-GD", "kg")].factor_id == "ipcc-gwp:AR6:R-410A"
    # Nothing is silently resolved: every unresolved combination says why.
    assert all(r.problem for r in summary.unresolved)
    assert all(r.factor_id is None for r in summary.unresolved)


def test_the_demo_is_deterministic_and_rebuilt_on_every_run(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "demo", progress=False)
    second = build_demo(tmp_path / "demo", progress=False)
    assert [r.batch_id for r in first.imports] == [r.batch_id for r in second.imports]
    assert (tmp_path / "demo" / DEMO_MARKER).exists()


def test_the_demo_never_overwrites_a_folder_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("do not delete", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="is not a demo workspace; refusing to overwrite it"):
        build_demo(precious, progress=False)
    assert (precious / "thesis.docx").exists()


def test_the_demo_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--workspace", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "entities.csv" in result.stdout
    assert "activity/region/unit combinations resolve to a factor" in result.stdout
