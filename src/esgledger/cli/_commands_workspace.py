"""Workspace commands: ``esgledger init``, ``esgledger import``, ``esgledger upgrade``.

Exit status: 0 on success (a re-import of the same file is a success that changes nothing;
an accepted file whose rows deserve a look, e.g. overlapping activity rows, prints them as
warnings on stderr and still exits 0), 2 when the input file is rejected (the issues go to
stderr, and to ``--report`` as CSV), 1 on any other esgledger error.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from esgledger.cli._app import EXIT_REJECTED, Lang, app, console
from esgledger.errors import EsgledgerError, InputError, WorkspaceBusyError, issues_to_csv
from esgledger.ingest import ImportResult

EXIT_ERROR = 1
#: Warnings of an accepted import printed at most (all go to ``--report``).
_WARNINGS_SHOWN = 20


class ImportKind(StrEnum):
    """What an imported file holds."""

    entities = "entities"
    sites = "sites"
    activity_types = "activity-types"
    activities = "activities"
    factors = "factors"
    fx = "fx"
    instruments = "instruments"
    emissions_history = "emissions-history"
    targets = "targets"
    measures = "measures"
    credits = "credits"
    retirements = "retirements"
    metrics = "metrics"
    metric_values = "metric-values"
    meters = "meters"
    readings = "readings"
    weather = "weather"
    trips = "trips"


def _stdout() -> Console:
    return console()


def _stderr() -> Console:
    return console(stderr=True)


def _fail(error: EsgledgerError) -> typer.Exit:
    _stderr().print(f"error: {error}", markup=False)
    # A workspace kept busy by another process is refused like bad input: nothing written.
    return typer.Exit(EXIT_REJECTED if isinstance(error, WorkspaceBusyError) else EXIT_ERROR)


@app.command()
def init(
    workspace: Annotated[Path, typer.Argument(help="Folder of the new workspace.")],
    year: Annotated[
        int | None,
        typer.Option(help="Reporting year (default: last calendar year)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Name of the reporting organisation (default: the folder's name)."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of a PostgreSQL database (default: SQLite esgledger.db in "
            "the folder). ESGLEDGER_DATABASE_URL overrides it when the workspace is opened. "
            "A password in it is never written into esgledger.toml: it is kept in "
            "WS/.secrets/database_password (mode 0600); or leave it out and let libpq find it "
            "(PGPASSWORD, ~/.pgpass)."
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="PostgreSQL schema to hold the tables (created if missing)."),
    ] = None,
    country: Annotated[
        str,
        typer.Option(
            help="Country of the group (ISO 3166-1 alpha-2): its profile — which shipped "
            "factor sets serve it and which explicit, flagged fallbacks apply — is written into "
            "esgledger.toml and printed. Profiles: CN, US, GB, HK; any other country, or "
            "'generic', gets the generic one."
        ),
    ] = "generic",
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the profile shown.")] = (
        Lang.en
    ),
) -> None:
    """Create a workspace: a folder with esgledger.toml (with the country's factor profile),
    the database and the lake."""
    from esgledger.store import DatabaseUrlError, Workspace

    reporting_year = year if year is not None else date.today().year - 1
    created = _missing_folders(workspace)
    try:
        ws = Workspace.init(
            workspace,
            year=reporting_year,
            name=name,
            database_url=database_url,
            schema=schema,
            country=country,
        )
    except BaseException as exc:
        _remove_created(workspace, created)
        if isinstance(exc, DatabaseUrlError):  # bad input: exit 2, the password never shown
            _stderr().print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_REJECTED) from None
        if isinstance(exc, EsgledgerError):
            raise _fail(exc) from exc
        raise
    with ws:
        where = make_url(ws.database_url).render_as_string(hide_password=True)
        if ws.schema is not None:
            where += f" (schema {ws.schema})"
        out = _stdout()
        out.print(
            f"Initialised workspace {ws.name!r} in {ws.root} for reporting year "
            f"{ws.reporting_year}; database: {where}",
            markup=False,
        )
        if ws.password_file is not None:
            out.print(
                f"The database password was not written into esgledger.toml: it is kept in "
                f"{ws.password_file}, readable only by you. Do not copy or share that folder; "
                "to keep the password elsewhere, delete the file and use ~/.pgpass or "
                "PGPASSWORD instead.",
                markup=False,
            )
        for line in _profile_lines(str(ws.profile.get("profile")), country, lang):
            out.print(line, markup=False)


def _missing_folders(path: Path) -> list[Path]:
    """The folders of ``path`` (itself included) that do not exist yet, deepest first: what
    ``init`` creates."""
    missing: list[Path] = []
    for folder in (path, *path.absolute().parents):
        if folder.exists() or folder.is_symlink():
            break
        missing.append(folder)
    return missing


def _remove_created(root: Path, created: list[Path]) -> None:
    """After a failed ``init``: remove the folders it created, deepest first; nothing that
    was there before. The workspace folder, when ``init`` created it, goes with everything
    in it (all of it written by this ``init``: ``lake``, ``.secrets``, a half-written
    ``esgledger.toml``); its parents only while empty."""
    if root in created and root.is_dir() and not root.is_symlink():
        shutil.rmtree(root, ignore_errors=True)
        created = created[1:]
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


_COVERAGE_WORDS = {
    "shipped": ("shipped", "内置"),
    "default": ("default (tier default)", "缺省（层级default）"),
    "proxy": ("proxy (tier proxy)", "替代（层级proxy）"),
    "none": ("not covered", "未覆盖"),
}


def _profile_lines(code: str, country: str, lang: Lang) -> list[str]:
    """The profile written into esgledger.toml, as init prints it."""
    from esgledger.factors import profiles

    profile = profiles.get(code)
    zh = lang is Lang.zh_cn
    if zh:
        head = f"配置档案 {profile.code}（{profile.name_zh}），已写入 esgledger.toml："
    else:
        head = f"Profile {profile.code} ({profile.name}), written into esgledger.toml:"
    if profile.code == profiles.GENERIC and country.strip().lower() != profiles.GENERIC:
        code = country.upper()
        head += f"（{code} 无专属配置档案）" if zh else f" (no profile of its own for {code})"
    lines = [head]
    for rule in profile.rules:
        word = _COVERAGE_WORDS[rule.coverage][1 if zh else 0]
        where = ""
        if rule.coverage in ("default", "proxy"):
            where = f" → {', '.join(rule.regions)}"
        sets = f" [{', '.join(rule.sets)}]" if rule.sets else ""
        lines.append(f"  {word}{where}{sets}: {' '.join(rule.activities)}")
        lines.append(f"      {rule.note_zh if zh else rule.note}")
    lines.append(
        "  其他地区的因子仅通过上述回退（或 --proxy / [factors] proxies）使用，"
        "并在 explain 中标注层级与数据质量评分。"
        if zh
        else "  Factors of another area are used only through these fallbacks (or --proxy / "
        "[factors] proxies), each line flagged with its tier and data-quality score in explain."
    )
    return lines


def _report_path(value: Path | None) -> Path | None:
    """``--report``: refused (exit 2) before any work when it cannot become a file: a folder,
    or a path through a file or an unwritable folder. Missing folders are created when the
    report is written."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(
            f"{value} is a folder; give a file name, e.g. {value / 'issues.csv'}"
        )
    existing = value.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise typer.BadParameter(f"{existing} is a file, so {value} cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"{existing} is not writable, so {value} cannot be created")
    return value


def _write_report(path: Path, text: str) -> bool:
    """Write the ``--report`` CSV (UTF-8 with BOM, for Excel), creating missing folders;
    on failure one error line and False."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8-sig")
    except OSError as exc:
        _stderr().print(
            f"error: cannot write the report {path}: {exc.strerror or exc}", markup=False
        )
        return False
    return True


@app.command("import")
def import_(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    file: Annotated[
        Path,
        typer.Argument(help="File to import (CSV, XLSX or Parquet).", exists=True, dir_okay=False),
    ],
    kind: Annotated[ImportKind, typer.Option(help="What the file holds.")],
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write every issue of a rejected file (or every warning of an accepted one) "
            "to this CSV file (missing folders are created).",
            dir_okay=False,
            callback=_report_path,
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            help="XLSX: the sheet to import (default: the one sheet whose header fits --kind)."
        ),
    ] = None,
) -> None:
    """Validate a file and import it whole, or reject it with a row-by-row report."""
    from esgledger.access import Principal
    from esgledger.ingest.importers import import_file
    from esgledger.store import Workspace

    err = _stderr()
    try:
        with Workspace.open(workspace) as ws:
            result = import_file(
                ws,
                kind.value,
                file,
                progress=err.is_terminal,
                sheet=sheet,
                principal=Principal.local(),
            )
    except InputError as exc:
        err.print(str(exc), markup=False)
        if report is not None:
            if _write_report(report, exc.report_csv()):
                err.print(f"The report of all {exc.total} issue(s) is in {report}", markup=False)
        elif exc.total > min(len(exc.issues), 20):
            err.print("Use --report FILE.csv to get every issue in one file.", markup=False)
        raise typer.Exit(EXIT_REJECTED) from exc
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    if result.created:
        _stdout().print(result.message, markup=False)
        _print_import_warnings(result, report)
    else:
        _stdout().print(
            f"{result.file_name} was already imported as {result.kind} batch {result.batch_id}; "
            "nothing changed.",
            markup=False,
        )


def _print_import_warnings(result: ImportResult, report: Path | None) -> None:
    """The rows an accepted import names for a look (stderr; the import still succeeded,
    exit status 0), and all of them in ``report`` when given."""
    if not result.warnings:
        return
    err = _stderr()
    for issue in result.warnings[:_WARNINGS_SHOWN]:
        err.print(f"warning: {issue}", markup=False)
    if report is not None:
        if not _write_report(report, issues_to_csv(result.warnings)):
            raise typer.Exit(EXIT_ERROR)
        err.print(
            f"The {len(result.warnings)} warning(s) listed are in {report}"
            + (
                f" (of {result.warning_total})"
                if result.warning_total > len(result.warnings)
                else ""
            ),
            markup=False,
        )
    elif result.warning_total > _WARNINGS_SHOWN:
        err.print(
            f"{result.warning_total - _WARNINGS_SHOWN} more; use --report FILE.csv to list them.",
            markup=False,
        )


@app.command()
def upgrade(workspace: Annotated[Path, typer.Argument(help="Workspace folder.")]) -> None:
    """Migrate the workspace database to this esgledger's schema (back it up first)."""
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace, check_schema=False) as ws:
            revision = ws.upgrade()
    except EsgledgerError as exc:
        raise _fail(exc) from exc
    _stdout().print(f"{workspace}: database at schema revision {revision}", markup=False)
