"""``esgledger template`` from the command line."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store import Workspace

runner = CliRunner()


def _entities(root: Path) -> None:
    path = root.parent / "entities.csv"
    path.write_text(
        "entity,name,parent,ownership_pct,operational_control,financial_control,country\n"
        "GRP,Group,,100,true,true,CN\nCLOUD,Cloud,GRP,100,true,true,CN\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(root), str(path), "--kind", "entities"])
    assert result.exit_code == 0, result.output


def test_activities_template_of_a_workspace(workspace: Workspace, tmp_path: Path) -> None:
    _entities(workspace.root)
    out = tmp_path / "活动模板.xlsx"
    args = ["template", "activities", str(workspace.root), "--lang", "zh-CN", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote the activities template (zh-CN) to {out}. Fill in sheet '活动数据', then run: "
        f"esgledger import {workspace.root} {out} --kind activities\n"
    )
    book = load_workbook(out)
    assert book.sheetnames == ["活动数据", "说明", "lists"]
    entity_list = next(
        v for v in book["活动数据"].data_validations.dataValidation if str(v.sqref).startswith("B")
    )
    assert entity_list.formula1 == '"CLOUD,GRP"'


def test_a_reference_template_needs_no_workspace(tmp_path: Path) -> None:
    out = tmp_path / "fx.xlsx"
    result = runner.invoke(app, ["template", "fx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote the fx template (en) to {out}. Fill in sheet 'fx', then run: "
        f"esgledger import WS {out} --kind fx\n"
    )
    assert load_workbook(out).sheetnames == ["fx", "README", "lists"]


def test_the_activities_template_without_a_workspace_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "activities", "--out", str(tmp_path / "a.xlsx")])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the activities template needs a workspace (its entity and site lists and "
        "reporting year come from it): esgledger template activities WS --out FILE.xlsx\n"
    )
    assert not (tmp_path / "a.xlsx").exists()


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "sites.xlsx"
    out.write_bytes(b"filled in by someone")
    result = runner.invoke(app, ["template", "sites", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {out} exists; use --force to replace it\n"
    assert out.read_bytes() == b"filled in by someone"
    forced = runner.invoke(app, ["template", "sites", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert load_workbook(out).sheetnames == ["sites", "README", "lists"]


def test_the_output_must_be_an_xlsx_file(tmp_path: Path) -> None:
    out = tmp_path / "sites.csv"
    result = runner.invoke(app, ["template", "sites", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the template is an Excel workbook: give --out a name ending in .xlsx ({out})\n"
    )


def test_a_folder_that_is_not_a_workspace_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "a.xlsx"
    result = runner.invoke(app, ["template", "activities", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path} is not an esgledger workspace (no esgledger.toml); create one with "
        "`esgledger init`\n"
    )


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "fx", "--lang", "fr", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "'fr' is not one of 'en', 'zh-CN'" in result.stderr
