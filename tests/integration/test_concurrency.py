"""Concurrent writers and killed processes (issue 11, defects 1-5), on SQLite and PostgreSQL.

Every race runs real ``esgledger`` processes. They meet at a barrier: the test hook
``ESGLEDGER_TEST_PAUSE_AT=POINT`` (:func:`esgledger.ingest.batches.pause_at`) makes each one
print ``paused at POINT`` and wait there until the test creates the ``ESGLEDGER_TEST_RELEASE``
file, so every process has finished its checks before any of them commits: the worst case of
a race, every round. Rounds are bounded (``ROUNDS``), every wait has a time limit, and no
test measures time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from _inventory_support import activity, entity, import_rows, write_csv
from _processes import Cli as Process
from esgledger.cli import app
from esgledger.ingest.batches import PAUSE_ENV, RELEASE_ENV
from esgledger.store import Workspace
from esgledger.store.models import ImportBatch

pytestmark = pytest.mark.slow  # real processes: minutes, not seconds

ROUNDS = 3
runner = CliRunner()
#: Seconds any one process may take (a bound, not a measurement).
LIMIT = 120


class Cli(Process):
    """One ``esgledger`` process (:class:`_processes.Cli`) bounded by :data:`LIMIT`."""

    def __init__(self, args: Sequence[str], **env: str) -> None:
        super().__init__(args, limit=LIMIT, **env)


def _race(
    commands: Sequence[Sequence[str]], point: str, release: Path
) -> list[tuple[int, str, str]]:
    """Start every command, wait until each paused at ``point``, release them together, and
    return (exit code, stdout, stderr) of each."""
    release.unlink(missing_ok=True)
    env = {PAUSE_ENV: f"{point}:{LIMIT}", RELEASE_ENV: str(release)}
    procs = [Cli(command, **env) for command in commands]
    try:
        for proc in procs:
            proc.wait_paused()
        release.touch()
        return [proc.finish() for proc in procs]
    finally:
        for proc in procs:
            if proc.proc.poll() is None:
                proc.kill()


def _no_traceback(results: Sequence[tuple[int, str, str]]) -> None:
    for code, out, err in results:
        assert "Traceback" not in out + err, (code, out, err)


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """A workspace (SQLite, PostgreSQL) with the entity GRP in the US."""
    import_rows(workspace, "entities", [entity("GRP", country="US")])
    return workspace


def _electricity(month: int, quantity: float, record_id: str) -> dict[str, Any]:
    return activity(
        "electricity",
        quantity,
        "MWh",
        region="US",
        record_id=record_id,
        period_start=f"2024-{month:02d}-01",
        period_end=f"2024-{month:02d}-28",
    )


def _lake_record_ids(ws: Workspace) -> list[str]:
    """Record ids of every row of every registered activity batch (read through the
    registry, as ``calculate`` reads them)."""
    with ws.session() as session:
        paths = session.scalars(
            sa.select(ImportBatch.lake_path).where(ImportBatch.kind == "activities")
        ).all()
    ids: list[str] = []
    for lake_path in paths:
        ids += pq.read_table(ws.lake / str(lake_path)).column("record_id").to_pylist()
    return ids


def _import(ws: Workspace, path: Path) -> list[str]:
    return ["import", str(ws.root), "--kind", "activities", str(path)]


def test_concurrent_imports_of_one_record_id_land_once(ws: Workspace, tmp_path: Path) -> None:
    """Defect 1: two files with the same (entity, record_id), imported at once: one lands,
    the other is refused naming the record id, as when they run one after the other."""
    for k in range(1, ROUNDS + 1):
        first = write_csv(tmp_path / f"a{k}.csv", [_electricity(2 * k - 1, 100 + k, f"R-{k}")])
        second = write_csv(tmp_path / f"b{k}.csv", [_electricity(2 * k, 200 + k, f"R-{k}")])
        results = _race([_import(ws, first), _import(ws, second)], "validated", tmp_path / "go")
        _no_traceback(results)
        assert sorted(code for code, _, _ in results) == [0, 2], results
        loser = next(out + err for code, out, err in results if code == 2)
        assert "already has this record id" in loser
        assert _lake_record_ids(ws).count(f"R-{k}") == 1


def test_the_same_file_three_times_at_once_is_imported_once(ws: Workspace, tmp_path: Path) -> None:
    """Defect 5: three imports of the same bytes at once: one imports, two say "already
    imported" and exit 0, as a sequential repeat does."""
    for k in range(1, ROUNDS + 1):
        path = write_csv(tmp_path / f"same{k}.csv", [_electricity(k, 10 * k, f"S-{k}")])
        results = _race([_import(ws, path)] * 3, "validated", tmp_path / "go")
        _no_traceback(results)
        assert [code for code, _, _ in results] == [0, 0, 0], results
        outs = sorted(out for _, out, _ in results)
        assert sum(out.startswith("Imported 1 activity row") for out in outs) == 1, outs
        assert sum("was already imported as activities batch" in out for out in outs) == 2
        assert _lake_record_ids(ws).count(f"S-{k}") == 1


def test_two_calculations_in_the_same_second_get_two_run_ids(ws: Workspace, tmp_path: Path) -> None:
    """Defect 3: two ``calculate`` of the same inputs at once both finish, with two ids."""
    import_rows(ws, "activities", [_electricity(1, 100, "E-1")])
    calculate = ["calculate", str(ws.root), "--no-category-3"]
    results = _race([calculate, calculate], "run-id", tmp_path / "go")
    _no_traceback(results)
    assert [code for code, _, _ in results] == [0, 0], results
    with ws.session() as session:
        runs = session.execute(sa.text("SELECT id FROM runs")).scalars().all()
    assert len(set(runs)) == 2
    assert sorted(p.name for p in (ws.lake / "runs").iterdir()) == sorted(runs)


def test_run_ids_are_reserved_so_the_same_second_gives_two(ws: Workspace) -> None:
    """Defect 3, in one process: the id is taken when it is handed out, not when the run is
    written, so a second caller in the same second gets the next one."""
    from datetime import UTC, datetime

    from esgledger.inventory.runs import prepare_run

    import_rows(ws, "activities", [_electricity(1, 100, "E-1")])
    run = prepare_run(
        ws, gwp_set="AR6", consolidation="operational_control", strict=None, allow_unresolved=False
    )
    now = datetime.now(UTC)
    first, first_tmp = run._reserve_id(ws.lake / "runs", now)
    second, second_tmp = run._reserve_id(ws.lake / "runs", now)
    assert first != second
    assert second == f"{first}-2"
    assert first_tmp.is_dir()
    assert second_tmp.is_dir()


def test_an_import_waits_for_another_then_says_busy_in_one_line(
    ws: Workspace, tmp_path: Path
) -> None:
    """Defect 4: an import that cannot get the workspace within ESGLEDGER_BUSY_TIMEOUT stops
    with one line and exit 2 (never a traceback), nothing written; with time to wait it
    imports once the other has finished."""
    holder_file = write_csv(tmp_path / "holder.csv", [_electricity(1, 1, "H-1")])
    other_file = write_csv(tmp_path / "other.csv", [_electricity(2, 2, "O-1")])
    release = tmp_path / "go"
    holder = Cli(
        _import(ws, holder_file), **{PAUSE_ENV: f"placed:{LIMIT}", RELEASE_ENV: str(release)}
    )
    try:
        holder.wait_paused()  # holds the write lock: file placed, row not committed
        code, out, err = Cli(_import(ws, other_file), ESGLEDGER_BUSY_TIMEOUT="0.5").finish()
        assert code == 2, (code, out, err)
        assert "Traceback" not in out + err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: another esgledger process kept the workspace's")
        assert "ESGLEDGER_BUSY_TIMEOUT" in lines[0]
        waiting = Cli(_import(ws, other_file))
        release.touch()
        assert holder.finish()[0] == 0
        code, out, err = waiting.finish()
        assert code == 0, (code, out, err)
    finally:
        if holder.proc.poll() is None:
            holder.kill()
    assert sorted(_lake_record_ids(ws)) == ["H-1", "O-1"]


def test_the_busy_timeout_must_be_a_number(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from esgledger.errors import WorkspaceError
    from esgledger.store.workspace import busy_timeout

    monkeypatch.setenv("ESGLEDGER_BUSY_TIMEOUT", "soon")
    with pytest.raises(WorkspaceError, match="ESGLEDGER_BUSY_TIMEOUT must be a number of seconds"):
        busy_timeout()
    monkeypatch.setenv("ESGLEDGER_BUSY_TIMEOUT", "2.5")
    assert busy_timeout() == 2.5


def _doctor(ws: Workspace, *options: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["doctor", str(ws.root), *options])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines()


def _registry_matches_lake(ws: Workspace) -> None:
    """Every registered activity batch has its file, and every lake file a batch."""
    with ws.session() as session:
        named = set(
            session.scalars(
                sa.select(ImportBatch.lake_path).where(ImportBatch.kind == "activities")
            )
        )
    folder = ws.lake / "activities"
    files = {f"activities/{p.name}" for p in folder.iterdir()} if folder.is_dir() else set()
    assert files == named


@pytest.mark.parametrize("point", ["validated", "placed", "committed"])
def test_an_import_killed_at_any_point_is_found_repaired_and_imported_again(
    ws: Workspace, tmp_path: Path, point: str
) -> None:
    """Defect 2: kill -9 an import (before the lock, between the rename of its lake file and
    its commit, after the commit): `doctor` reports what is left, `--repair` removes it, the
    workspace is healthy, and importing the file again lands it exactly once."""
    kept = write_csv(tmp_path / "kept.csv", [_electricity(1, 5, "K-1")])
    assert (
        runner.invoke(app, ["import", str(ws.root), "--kind", "activities", str(kept)]).exit_code
        == 0
    )
    path = write_csv(tmp_path / "killed.csv", [_electricity(2, 7, "X-1")])
    victim = Cli(_import(ws, path), **{PAUSE_ENV: f"{point}:{LIMIT}"})
    victim.wait_paused()
    victim.kill()

    code, lines = _doctor(ws)
    if point == "committed":
        assert (code, lines) == (0, [f"{ws.root}: healthy, registry and lake agree"])
    else:
        expected = "temporary file" if point == "validated" else "no import batch names"
        assert code == 2, lines
        assert len(lines) == 2, lines
        assert lines[0].startswith("problem: lake/activities/")
        assert expected in lines[0]
        assert lines[1].endswith(f"1 problem(s) left; run `esgledger doctor {ws.root} --repair`")
        code, lines = _doctor(ws, "--repair")
        assert code == 0, lines
        assert lines[0].startswith("repaired: lake/activities/")
        assert _doctor(ws)[0] == 0
    _registry_matches_lake(ws)

    again = runner.invoke(app, ["import", str(ws.root), "--kind", "activities", str(path)])
    assert again.exit_code == 0, again.output
    assert ("already imported" in again.stdout) == (point == "committed")
    assert sorted(_lake_record_ids(ws)) == ["K-1", "X-1"]
    _registry_matches_lake(ws)
    assert runner.invoke(app, ["calculate", str(ws.root), "--no-category-3"]).exit_code == 0


def test_a_calculation_killed_midway_leaves_a_folder_doctor_removes(
    ws: Workspace, tmp_path: Path
) -> None:
    import_rows(ws, "activities", [_electricity(1, 100, "E-1")])
    victim = Cli(["calculate", str(ws.root), "--no-category-3"], **{PAUSE_ENV: f"run-id:{LIMIT}"})
    victim.wait_paused()
    (leftover,) = (ws.lake / "runs").iterdir()
    assert leftover.name.startswith(".tmp-r-")
    code, lines = _doctor(ws)
    assert code == 0, lines  # the calculation is still running: its folder is in use
    victim.kill()
    code, lines = _doctor(ws, "--repair")
    assert code == 0, lines
    assert lines[0] == (
        f"repaired: lake/runs/{leftover.name}: temporary run folder left by a calculation that "
        "was stopped; removed it"
    )
    assert not leftover.exists()
    assert runner.invoke(app, ["calculate", str(ws.root), "--no-category-3"]).exit_code == 0
    assert _doctor(ws)[0] == 0


def test_a_batch_whose_lake_file_is_gone_is_unregistered_by_doctor(
    ws: Workspace, tmp_path: Path
) -> None:
    """Defect 2 as reported (a batch registered without its file, as the old order left it on
    a crash): `calculate` names doctor, `doctor --repair` unregisters the batch, and the file
    can then be imported again instead of being "already imported" for ever."""
    path = write_csv(tmp_path / "lost.csv", [_electricity(3, 9, "L-1")])
    assert (
        runner.invoke(app, ["import", str(ws.root), "--kind", "activities", str(path)]).exit_code
        == 0
    )
    (lake_file,) = (ws.lake / "activities").iterdir()
    lake_file.unlink()

    failed = runner.invoke(app, ["calculate", str(ws.root)])
    assert failed.exit_code == 1
    assert f"esgledger doctor {ws.root} --repair" in failed.stderr
    code, lines = _doctor(ws)
    assert code == 2, lines
    assert lines[0].startswith(f"problem: lake/activities/{lake_file.name}: activities batch ")
    assert "(lost.csv) is registered but its lake file is missing" in lines[0]
    code, lines = _doctor(ws, "--repair")
    assert code == 0, lines
    assert lines[0].endswith(
        f"removed the registration of activities batch {lake_file.stem}; import lost.csv again"
    )
    again = runner.invoke(app, ["import", str(ws.root), "--kind", "activities", str(path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Imported 1 activity row from lost.csv")
    assert _lake_record_ids(ws) == ["L-1"]
    assert runner.invoke(app, ["calculate", str(ws.root), "--no-category-3"]).exit_code == 0


def test_doctor_never_removes_a_file_a_row_names_nor_a_run_a_base_year_needs(
    ws: Workspace, tmp_path: Path
) -> None:
    import_rows(ws, "activities", [_electricity(1, 100, "E-1")])
    assert runner.invoke(app, ["calculate", str(ws.root), "--no-category-3"]).exit_code == 0
    before = sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*"))
    code, lines = _doctor(ws, "--repair")
    assert (code, len(lines)) == (0, 1), lines
    assert sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*")) == before


def _credit(block: str, start: int, end: int) -> dict[str, Any]:
    return {
        "id": block,
        "registry": "Verra",
        "serial_block": "VCS-1234",
        "serial_start": start,
        "serial_end": end,
        "project": "Forest",
        "project_type": "forestry",
        "kind": "removal",
        "permanence": "temporary",
        "standard": "VCS",
        "vintage": 2022,
        "volume_t_co2e": end - start + 1,
    }


def test_concurrent_credit_blocks_with_overlapping_serials_register_once(
    ws: Workspace, tmp_path: Path
) -> None:
    """A cross-batch rule of another kind (serials are never held by two credit blocks) holds
    under concurrency too: re-checked under the write lock against what landed meanwhile."""
    for k in range(1, ROUNDS + 1):
        base = 1000 * k
        first = write_csv(tmp_path / f"c{k}a.csv", [_credit(f"A-{k}", base, base + 99)])
        second = write_csv(tmp_path / f"c{k}b.csv", [_credit(f"B-{k}", base + 50, base + 149)])
        commands = [
            ["import", str(ws.root), "--kind", "credits", str(path)] for path in (first, second)
        ]
        results = _race(commands, "validated", tmp_path / "go")
        _no_traceback(results)
        assert sorted(code for code, _, _ in results) == [0, 2], results
        loser = next(out + err for code, out, err in results if code == 2)
        assert "serial" in loser
        with ws.session() as session:
            blocks = session.execute(sa.text("SELECT id FROM credits")).scalars().all()
        assert sum(b.endswith(f"-{k}") for b in blocks) == 1


def test_imports_killed_at_random_moments_never_break_the_workspace(
    ws: Workspace, tmp_path: Path
) -> None:
    """kill -9 at seeded random moments (no pause point): whatever the moment, `doctor
    --repair` leaves a healthy workspace whose registry and lake agree, and importing the
    file again lands it exactly once."""
    import random
    import time

    rng = random.Random(11)
    for k in range(1, ROUNDS + 1):
        path = write_csv(tmp_path / f"r{k}.csv", [_electricity(k, k, f"Z-{k}")])
        victim = Cli(_import(ws, path))
        time.sleep(rng.uniform(0.5, 4.0))  # a moment to kill at, not a measurement
        if victim.proc.poll() is None:
            victim.kill()
        else:
            victim.finish()
        assert _doctor(ws, "--repair")[0] == 0
        assert _doctor(ws) == (0, [f"{ws.root}: healthy, registry and lake agree"])
        _registry_matches_lake(ws)
        again = runner.invoke(app, _import(ws, path))
        assert again.exit_code == 0, again.output
        assert _lake_record_ids(ws).count(f"Z-{k}") == 1
    _registry_matches_lake(ws)


def test_a_failed_commit_leaves_no_run_folder_and_no_lake_file(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is in place before the row commits: when the commit fails, the file (or run
    folder) goes again, under the lock, and nothing else is left."""
    from esgledger.inventory.runs import prepare_run
    from esgledger.store import repository

    import_rows(ws, "activities", [_electricity(1, 100, "E-1")])
    run = prepare_run(
        ws, gwp_set="AR6", consolidation="operational_control", strict=None, allow_unresolved=False
    )

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database refused the row")

    monkeypatch.setattr(repository, "save_run", refuse)
    with pytest.raises(RuntimeError, match="refused the row"):
        run.execute()
    assert list((ws.lake / "runs").iterdir()) == []

    monkeypatch.setattr(repository, "register_batch", refuse)
    path = write_csv(tmp_path / "late.csv", [_electricity(2, 5, "L-2")])
    result = runner.invoke(app, _import(ws, path))
    assert result.exit_code == 1
    assert "refused the row" in result.output
    _registry_matches_lake(ws)
    assert _lake_record_ids(ws) == ["E-1"]
    assert _doctor(ws)[0] == 0


def test_a_locked_sqlite_database_ends_an_import_in_one_line_with_exit_2(
    sqlite_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 4 as reported: another writer holds SQLite's lock (here a plain sqlite3
    connection, as a long import's commit would): the import waits the busy timeout, then
    says so in one line with exit 2 instead of an OperationalError."""
    import sqlite3

    ws = sqlite_workspace
    import_rows(ws, "entities", [entity("GRP", country="US")])
    path = write_csv(tmp_path / "blocked.csv", [_electricity(1, 1, "B-1")])
    monkeypatch.setenv("ESGLEDGER_BUSY_TIMEOUT", "0.2")
    other = sqlite3.connect(ws.root / "esgledger.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        result = runner.invoke(app, _import(ws, path))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: another esgledger process kept the workspace's database busy")
    assert "(database is locked)" in line
    assert runner.invoke(app, _import(ws, path)).exit_code == 0
    assert _lake_record_ids(ws) == ["B-1"]
