"""``esgledger doctor WS``: find, and with ``repair`` fix, what killed processes leave behind.

A workspace keeps two kinds of things in two places: registry rows in the database
(``import_batches``, ``runs``) and files in the lake (``lake/activities/<batch>.parquet``,
``lake/telemetry/readings/<batch>.parquet``, ``lake/telemetry/weather/<batch>.parquet``,
``lake/runs/<run>/``). Imports and calculations write the file first, under a temporary name,
rename it under the workspace's write lock and commit the row before the lock is released
(``docs/hardening/concurrency.md``). A process killed part of the way leaves:

* a **temporary file** (``lake/activities/.<batch>.<pid>.<random>.tmp``) or **temporary run
  folder** (``lake/runs/.tmp-<run>/``, with its process id in ``.owner``): removed;
* a **lake file no batch names** or a **run folder without a runs row** (killed after the
  rename, before the commit): removed, since nothing refers to it;
* and, from older versions that renamed after the commit or from a lake changed by hand, a
  **batch without its lake file** or a **run without its folder**: the registry row is
  removed (the batch can then be imported again; a run referenced by a base year is reported,
  never removed).

Everything is examined under the write lock (:meth:`~esgledger.store.Workspace.write_lock`),
so an import or calculation between its rename and its commit is never taken for debris.
Temporary files and folders of a process that is still running on this machine are left
alone. A file that a committed row names is never removed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace

__all__ = ["Finding", "examine"]

ACTIVITIES_DIR = "activities"
#: Lake folders holding one file per import batch (activities, meter readings, weather).
BATCH_DIRS: tuple[str, ...] = (ACTIVITIES_DIR, "telemetry/readings", "telemetry/weather")
RUNS_DIR = "runs"
RUN_TMP_PREFIX = ".tmp-"
RUN_OWNER_FILE = ".owner"


@dataclass(frozen=True, slots=True)
class Finding:
    """One inconsistency: where (relative to the workspace), what is wrong, what the repair
    does (or why it cannot), and whether it was repaired."""

    where: str
    problem: str
    repair: str
    repaired: bool = False
    repairable: bool = True

    def line(self) -> str:
        if self.repaired:
            return f"repaired: {self.where}: {self.problem}; {self.repair}"
        return f"problem: {self.where}: {self.problem}; " + (
            f"--repair {self.repair}" if self.repairable else self.repair
        )


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a temporary file it owns is in use)."""
    if pid <= 0 or pid == os.getpid():
        return pid == os.getpid()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:  # pragma: no cover - e.g. platforms without signals
        return True
    return True


def _temp_owner(name: str) -> int | None:
    """The process id in ``.<batch>.<pid>.<random>.tmp``, None for other names."""
    parts = name.split(".")
    # ["", "b-…", "<pid>", "<random>", "tmp"]
    if len(parts) == 5 and parts[2].isdigit():
        return int(parts[2])
    return None


def _run_owner(folder: Path) -> int | None:
    try:
        text = (folder / RUN_OWNER_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def examine(workspace: Workspace, *, repair: bool = False) -> list[Finding]:
    """Every inconsistency between the workspace's registry and its lake, in a stable order;
    with ``repair``, each one fixed where that is safe (``repaired`` True).

    Raises
    ------
    WorkspaceBusyError
        If another process holds the workspace's write lock beyond the busy timeout.
    """
    with workspace.write_lock() as session:
        findings = _lake_findings(workspace, session, repair)
        findings += _run_findings(workspace, session, repair)
    return findings


def _rel(workspace: Workspace, path: Path) -> str:
    """``path`` relative to the workspace, unprintable characters escaped and long names
    shortened (a file name is not ours to trust)."""
    try:
        text = path.relative_to(workspace.root).as_posix()
    except ValueError:  # pragma: no cover - the lake is inside the workspace
        text = str(path)
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= 160 else text[:100] + "…" + text[-40:]


def _lake_findings(workspace: Workspace, session: Session, repair: bool) -> list[Finding]:
    from esgledger.store.models import ImportBatch

    lake = workspace.lake
    rows = session.execute(
        sa.select(ImportBatch.id, ImportBatch.file_name, ImportBatch.kind, ImportBatch.lake_path)
        .where(ImportBatch.lake_path.is_not(None))
        .order_by(ImportBatch.id)
    ).all()
    named = {(lake / str(r.lake_path)).resolve() for r in rows}
    findings: list[Finding] = []
    for batch_id, file_name, kind, lake_path in rows:
        path = lake / str(lake_path)
        if path.is_file():
            continue
        fix = (
            f"removed the registration of {kind} batch {batch_id}; import {file_name} again"
            if repair
            else f"removes the registration of {kind} batch {batch_id} so that {file_name} can "
            "be imported again"
        )
        finding = Finding(
            _rel(workspace, path),
            f"{kind} batch {batch_id} ({file_name}) is registered but its lake file is missing",
            fix,
        )
        if not lake.is_dir():
            finding = Finding(
                finding.where,
                finding.problem,
                f"the lake folder {_rel(workspace, lake)} itself is missing: restore it from a "
                "backup (not repaired)",
                repairable=False,
            )
        elif repair:
            try:
                with session.begin_nested():
                    session.execute(sa.delete(ImportBatch).where(ImportBatch.id == batch_id))
                finding = Finding(finding.where, finding.problem, fix, repaired=True)
            except sa.exc.IntegrityError:
                finding = Finding(
                    finding.where,
                    finding.problem,
                    "other rows refer to the batch: restore the file from a backup",
                    repairable=False,
                )
        findings.append(finding)
    for name in BATCH_DIRS:
        folder = lake / name
        if folder.is_dir():
            findings += _folder_debris(workspace, folder, named, repair)
    return findings


def _folder_debris(
    workspace: Workspace, folder: Path, named: set[Path], repair: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".tmp"):
            owner = _temp_owner(path.name)
            if owner is not None and _alive(owner):
                continue  # an import that is running now
            problem = "temporary file left by an import that was stopped"
            findings.append(_debris(workspace, path, problem, repair))
        elif path.suffix == ".parquet" and path.resolve() not in named:
            problem = "lake file that no import batch names (an import stopped before it committed)"
            findings.append(_debris(workspace, path, problem, repair))
    return findings


def _debris(workspace: Workspace, path: Path, problem: str, repair: bool) -> Finding:
    if repair:
        _remove(path)
        return Finding(_rel(workspace, path), problem, "removed it", repaired=True)
    return Finding(_rel(workspace, path), problem, "removes it")


def _run_findings(workspace: Workspace, session: Session, repair: bool) -> list[Finding]:
    from esgledger.store.models import BaseYearEntry, Run

    runs = set(session.scalars(sa.select(Run.id)))
    folder = workspace.lake / RUNS_DIR
    findings: list[Finding] = []
    present: set[str] = set()
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if not path.is_dir():
                continue
            if path.name.startswith(RUN_TMP_PREFIX):
                owner = _run_owner(path)
                if owner is not None and _alive(owner):
                    continue  # a calculation that is running now
                problem = "temporary run folder left by a calculation that was stopped"
                findings.append(_debris(workspace, path, problem, repair))
            elif path.name in runs:
                present.add(path.name)
            else:
                problem = "run folder without a row in the runs table (a calculation stopped)"
                findings.append(_debris(workspace, path, problem, repair))
    referenced = set(session.scalars(sa.select(BaseYearEntry.run_id)))
    for run_id in sorted(runs - present):
        where = _rel(workspace, folder / run_id)
        problem = f"run {run_id} is registered but its folder is missing"
        if run_id in referenced:
            findings.append(
                Finding(
                    where,
                    problem,
                    "a base year refers to it: restore the folder from a backup (not repaired)",
                    repairable=False,
                )
            )
        elif repair:
            session.execute(sa.delete(Run).where(Run.id == run_id))
            findings.append(Finding(where, problem, "removed the run's row", repaired=True))
        else:
            findings.append(Finding(where, problem, "removes the run's row"))
    return findings
