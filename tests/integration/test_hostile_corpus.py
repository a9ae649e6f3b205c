"""Every case of the hostile-input corpus (``tests/hostile/cases_*.py``) through the CLI.

A case must end in the exit code it expects (0 or 2, never 1), print no traceback and no
unprintable character, keep every line short, name the problem, and, when refused, leave
the workspace exactly as it was (no batch row, no lake file, no temporary file). See
``tests/hostile/_corpus.py`` for the shape of a case.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import resource
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import hostile
from _backends import DbBackend
from _inventory_support import write_csv
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.cli import app
from esgledger.collection.service import CampaignSpec, create_campaign
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from hostile._corpus import MAX_LINE, Case

runner = CliRunner()


def _cases() -> list[Case]:
    cases: list[Case] = []
    for module in pkgutil.iter_modules(hostile.__path__):
        if module.name.startswith("cases_"):
            cases.extend(importlib.import_module(f"hostile.{module.name}").CASES)
    ids = [case.id for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"hostile case ids used twice: {duplicates}"
    return cases


CASES = _cases()


def seed(ws: Workspace) -> None:
    """The organisation every case starts from, imported through the real importers."""
    folder = ws.root / "seed"
    folder.mkdir()
    entities = [
        {"entity": "GRP", "name": "Group", "parent": "", "ownership_pct": 100,
         "operational_control": "true", "financial_control": "true", "country": "CN"},
        {"entity": "CLOUD", "name": "Cloud", "parent": "GRP", "ownership_pct": 100,
         "operational_control": "true", "financial_control": "true", "country": "CN"},
        {"entity": "HQ", "name": "Head office", "parent": "GRP", "ownership_pct": 100,
         "operational_control": "true", "financial_control": "true", "country": "CN"},
    ]  # fmt: skip
    sites = [
        {"site": "DC-TJ", "entity": "CLOUD", "name": "Tianjin DC", "country": "CN",
         "region": "CN-TJ", "type": "data_centre"},
        {"site": "HQ-SZ", "entity": "HQ", "name": "Shenzhen HQ", "country": "CN",
         "region": "CN-GD", "type": "office"},
    ]  # fmt: skip
    import_file(ws, "entities", write_csv(folder / "entities.csv", entities))
    import_file(ws, "sites", write_csv(folder / "sites.csv", sites))
    # A meter tree for DC-TJ (cases_energy): readings files can name real meters.
    meters = [
        {"meter": "TJ-IN", "site": "DC-TJ", "parent": "", "role": "incomer", "unit": "kWh",
         "kind": "counter"},
        {"meter": "TJ-IT", "site": "DC-TJ", "parent": "TJ-IN", "role": "it_input",
         "unit": "kWh", "kind": "interval"},
    ]  # fmt: skip
    import_file(ws, "meters", write_csv(folder / "meters.csv", meters))
    # The carbon-inclusion programme (cases_trips): trips files can name its modes.
    from esgledger.inclusion import service as inclusion

    inclusion.use(ws, Principal.local(), "shenzhen-transit")
    # The platform's entry points (cases_platform): a data owner of CLOUD and a campaign whose
    # task 1 asks CLOUD for its electricity.
    add_user(ws, Principal.local(), "owner", role="data_owner", scope="CLOUD")
    create_campaign(
        ws,
        Principal.local(),
        CampaignSpec(
            name="Hostile",
            reporting_year=ws.reporting_year,
            due_date=dt.date(2099, 1, 31),
            activities=("electricity",),
            entities=("CLOUD",),
        ),
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite workspace, copied for each case (faster than a new one each time)."""
    root = tmp_path_factory.mktemp("hostile") / "ws"
    with DbBackend("sqlite", None, None).init_workspace(root) as ws:
        seed(ws)
    return root


def _state(root: Path) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """What a refused case must not change: every file of the workspace (database aside)
    and the row count of every table."""
    files = tuple(
        sorted(
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith("esgledger.db")
        )
    )
    with Workspace.open(root) as ws:
        inspector = sa.inspect(ws.engine)
        schema = ws.schema if hasattr(ws, "schema") else None
        counts = []
        with ws.engine.connect() as connection:
            for table in sorted(inspector.get_table_names(schema=schema)):
                if table == "alembic_version":
                    continue
                query = sa.text(f'SELECT count(*) FROM "{table}"')
                counts.append((table, int(connection.execute(query).scalar_one())))
    return files, tuple(counts)


def _isolated(case: Case, argv: list[str]) -> tuple[int, str]:
    """Run the CLI in a subprocess with an address-space limit."""
    limit = case.memory_mb * 1024 * 1024

    def cap() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, **case.env}
    completed = subprocess.run(
        [sys.executable, "-m", "esgledger", *argv],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        preexec_fn=cap,
        env=env,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def _run(case: Case, ws: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = case.build(folder)
    argv = case.argv(ws, file)
    before = _state(ws)
    if case.isolated:
        code, output = _isolated(case, argv)
    else:
        for key, value in case.env.items():
            monkeypatch.setenv(key, value)
        result = runner.invoke(app, argv)
        code, output = result.exit_code, result.stdout + result.stderr
    shown = output[:2000]
    assert "Traceback" not in output, shown
    assert code == case.expect, f"exit {code}, expected {case.expect}:\n{shown}"
    if case.says:
        assert case.says.lower() in output.lower(), shown
    if case.hides:
        assert case.hides not in output, f"{case.hides!r} was shown:\n{shown}"
    for line in output.splitlines():
        assert len(line) <= MAX_LINE, f"a line of {len(line)} characters: {line[:200]}…"
        bad = [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Cs") and c != "\t"]
        assert not bad, f"unprintable characters {bad[:5]!r} in: {line[:200]}"
    if code == 2:
        assert _state(ws) == before, "a refused input changed the workspace"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case_on_sqlite(
    case: Case, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    folder = tmp_path / "in"
    folder.mkdir()
    _run(case, ws, folder, monkeypatch)


PG_CASES = [c for c in CASES if c.postgres]


@pytest.mark.postgres
@pytest.mark.parametrize("case", PG_CASES, ids=[c.id for c in PG_CASES])
def test_hostile_case_on_postgres(
    case: Case, pg_url: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    with DbBackend("postgres", pg_url, pg_schema).init_workspace(ws) as workspace:
        seed(workspace)
    folder = tmp_path / "in"
    folder.mkdir()
    _run(case, ws, folder, monkeypatch)


def test_the_corpus_is_not_empty() -> None:
    assert len(CASES) >= 1
