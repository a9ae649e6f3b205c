"""``esgledger init``, ``esgledger import`` and ``esgledger upgrade`` from the command line."""

from __future__ import annotations

import sys
import tomllib
import types
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from esgledger import __version__
from esgledger.cli import app
from esgledger.errors import InputError, Issue, UnitError
from esgledger.ingest import ImportResult
from esgledger.store import CONFIG_FILE, Workspace, head_revision
from esgledger.store.repository import load_entities

runner = CliRunner()
DEMO_ENTITIES = Path(__file__).parents[2] / "src" / "esgledger" / "demo" / "entities.csv"


def test_init_defaults_to_last_calendar_year_and_the_folder_name(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    result = runner.invoke(app, ["init", str(root)])
    assert result.exit_code == 0, result.output
    last_year = date.today().year - 1
    first, second = result.stdout.splitlines()[:2]
    assert first == (
        f"Initialised workspace 'acme' in {root} for reporting year {last_year}; database: "
        f"sqlite:///{root.resolve() / 'esgledger.db'}"
    )
    # Without --country the generic profile is written (and printed).
    assert second == "Profile generic (any country), written into esgledger.toml:"
    config = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["name"] == "acme"
    assert config["reporting_year"] == last_year
    assert config["profile"]["profile"] == "generic"
    assert [f["tier"] for f in config["factors"]["fallbacks"]] == ["default", "proxy"]


def test_init_with_a_country_writes_and_prints_its_profile(tmp_path: Path) -> None:
    root = tmp_path / "cn"
    result = runner.invoke(app, ["init", str(root), "--country", "CN", "--year", "2024"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "Profile CN (China (mainland)), written into esgledger.toml:"
    assert "  shipped [cn-mee]: electricity leased.electricity use_phase.electricity" in lines
    assert any(
        line.startswith("  default (tier default) → GB [desnz-2024]: travel.air.* travel.rail ")
        for line in lines
    )
    assert "  proxy (tier proxy) → US [useeio-1.3.0]: spend.*" in lines
    assert any(
        line.startswith("      DESNZ factors used as an explicit global default") for line in lines
    )
    config = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["profile"]["country"] == "CN"
    assert "proxies" not in config["factors"]  # fallbacks only, no region-wide proxies
    zh = runner.invoke(app, ["init", str(tmp_path / "zh"), "--country", "HK", "--lang", "zh-CN"])
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.splitlines()[1] == "配置档案 HK（中国香港），已写入 esgledger.toml："
    other = runner.invoke(app, ["init", str(tmp_path / "fr"), "--country", "fr"])
    assert other.stdout.splitlines()[1] == (
        "Profile generic (any country), written into esgledger.toml: (no profile of its own for FR)"
    )
    bad = runner.invoke(app, ["init", str(tmp_path / "bad"), "--country", "CN-GD"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: 'CN-GD' is not a country code")


def test_init_with_year_and_name(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--year", "2021", "--name", "腾讯"])
    assert result.exit_code == 0, result.output
    with Workspace.open(tmp_path / "ws") as ws:
        assert (ws.name, ws.reporting_year) == ("腾讯", 2021)


def test_init_twice_fails_with_the_reason_on_stderr(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "ws")]).exit_code == 0
    result = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {tmp_path / 'ws'} is already an esgledger workspace (esgledger.toml exists); "
        "open it instead, or choose another folder\n"
    )


@pytest.mark.postgres
def test_init_on_postgresql(pg_url: str, pg_schema: str, tmp_path: Path) -> None:
    args = ["init", str(tmp_path / "ws"), "--year", "2024", "--database-url", pg_url]
    result = runner.invoke(app, [*args, "--schema", pg_schema])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(f" (schema {pg_schema})")
    with Workspace.open(tmp_path / "ws") as ws:
        assert (ws.schema, ws.engine.dialect.name) == (pg_schema, "postgresql")


class FakeImporter:
    """Stands in for ``esgledger.ingest.importers.import_file``; records its calls."""

    def __init__(self, outcome: ImportResult | Exception) -> None:
        self.outcome = outcome
        self.calls: list[tuple[Path, str, Path, bool]] = []

    def __call__(
        self,
        ws: Workspace,
        kind: str,
        path: Path,
        *,
        progress: bool = True,
        sheet: str | None = None,
        principal: object = None,
    ) -> ImportResult:
        assert principal is not None  # the CLI acts as Principal.local()
        assert sheet is None  # --sheet is tested with the real importers (test_cli_import_xlsx)
        self.calls.append((ws.root, kind, path, progress))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def ws_and_file(tmp_path: Path) -> tuple[Path, Path]:
    Workspace.init(tmp_path / "ws", year=2024).close()
    data = tmp_path / "types.csv"
    data.write_text("activity,name\n", encoding="utf-8")
    return tmp_path / "ws", data


def _use(monkeypatch: pytest.MonkeyPatch, importer: FakeImporter) -> None:
    module = types.ModuleType("esgledger.ingest.importers")
    module.import_file = importer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "esgledger.ingest.importers", module)


def _result(created: bool) -> ImportResult:
    return ImportResult(
        kind="activity-types",
        batch_id="b-0123456789ab",
        file_name="types.csv",
        rows=3,
        created=created,
        message="Imported 3 activity types from types.csv as batch b-0123456789ab.",
    )


def test_import_dispatches_to_the_importer_and_prints_its_message(
    ws_and_file: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, data = ws_and_file
    importer = FakeImporter(_result(created=True))
    _use(monkeypatch, importer)
    result = runner.invoke(app, ["import", str(ws), "--kind", "activity-types", str(data)])
    assert result.exit_code == 0, result.output
    assert importer.calls == [(ws, "activity-types", data, False)]
    assert result.stdout == "Imported 3 activity types from types.csv as batch b-0123456789ab.\n"


def test_a_reimport_says_it_was_already_imported(
    ws_and_file: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, data = ws_and_file
    _use(monkeypatch, FakeImporter(_result(created=False)))
    result = runner.invoke(app, ["import", str(ws), "--kind", "activity-types", str(data)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "types.csv was already imported as activity-types batch b-0123456789ab; nothing changed.\n"
    )


def test_a_rejected_file_exits_2_with_the_issues_and_the_report(
    ws_and_file: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, data = ws_and_file
    issues = [
        Issue("types.csv", 2, "scope", "4", "scope must be 1, 2 or 3", "use 1, 2 or 3"),
        Issue("types.csv", 3, "name", "", "name is empty", "give the activity a name"),
    ]
    error = InputError("types.csv: 2 rows rejected; nothing was imported", issues)
    _use(monkeypatch, FakeImporter(error))
    report = ws.parent / "problems.csv"
    result = runner.invoke(
        app, ["import", str(ws), "--kind", "activity-types", str(data), "--report", str(report)]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "types.csv: 2 rows rejected; nothing was imported\n"
        "  types.csv, row 2, column 'scope': scope must be 1, 2 or 3 (value: '4'). "
        "Fix: use 1, 2 or 3\n"
        "  types.csv, row 3, column 'name': name is empty (value: ''). "
        "Fix: give the activity a name\n"
        f"The report of all 2 issue(s) is in {report}\n"
    )
    assert report.read_text(encoding="utf-8-sig") == (
        "file,row,column,value,problem,fix\n"
        "types.csv,2,scope,4,"
        '"scope must be 1, 2 or 3","use 1, 2 or 3"\n'
        "types.csv,3,name,,name is empty,give the activity a name\n"
    )


def test_a_rejected_file_with_many_issues_suggests_the_report(
    ws_and_file: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, data = ws_and_file
    issues = [Issue("types.csv", row, "scope", "9", "bad scope") for row in range(2, 27)]
    _use(monkeypatch, FakeImporter(InputError("types.csv: 25 rows rejected", issues)))
    result = runner.invoke(app, ["import", str(ws), "--kind", "activity-types", str(data)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[-2:] == [
        "  ... and 5 more issue(s)",
        "Use --report FILE.csv to get every issue in one file.",
    ]


def test_another_esgledger_error_exits_1(
    ws_and_file: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, data = ws_and_file
    _use(monkeypatch, FakeImporter(UnitError("'furlong' is not a unit esgledger knows")))
    result = runner.invoke(app, ["import", str(ws), "--kind", "activity-types", str(data)])
    assert result.exit_code == 1
    assert result.stderr == "error: 'furlong' is not a unit esgledger knows\n"


def test_import_into_a_folder_that_is_not_a_workspace_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importer = FakeImporter(_result(created=True))
    _use(monkeypatch, importer)
    data = tmp_path / "e.csv"
    data.write_text("entity\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path), "--kind", "entities", str(data)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path} is not an esgledger workspace (no esgledger.toml); "
        "create one with `esgledger init`\n"
    )
    assert importer.calls == []


def test_upgrade_of_a_current_workspace(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "ws", year=2024).close()
    result = runner.invoke(app, ["upgrade", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'ws'}: database at schema revision {head_revision()}\n"


def test_upgrade_refuses_a_database_newer_than_the_code(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "ws", year=2024) as ws, ws.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00000000000'"))
    result = runner.invoke(app, ["upgrade", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the database sqlite:///")
    assert result.stderr.endswith(
        "is at schema revision 'f00000000000', newer than this esgledger "
        f"{__version__} knows; upgrade esgledger instead\n"
    )


def test_import_the_demo_entities_end_to_end(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "ws"), "--year", "2024"]).exit_code == 0
    args = ["import", str(tmp_path / "ws"), "--kind", "entities", str(DEMO_ENTITIES)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    with Workspace.open(tmp_path / "ws") as ws, ws.session() as session:
        entities = {e["code"]: e for e in load_entities(session)}
    assert entities["MUSIC"]["parent"] == "CONTENT"
    assert entities["MUSIC"]["ownership_pct"] == 55.0
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("entities.csv was already imported as entities batch b-")
