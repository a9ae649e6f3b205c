"""The written reports of a workspace for a principal: what is there to download, one file
by its listed name, and the HKEX content index of a run — for the pages and the API.

报告服务：列出工作区已生成的报告文件、按清单取出单个文件、计算某次运行的港交所内容索引。

A report job (:func:`esgledger.report.builder.build_report`) writes into
``WS/reports/<year>/``: the editions ``esg-report-<year>.<lang>.html`` / ``.pdf`` and the
table exports ``<table>.<lang>.csv`` / ``.xlsx``. :func:`list_outputs` lists exactly those
files; :func:`output_file` hands out only a file that listing names, after resolving it and
checking that it lies inside the reports folder (a path from a request is never joined
blindly). Reading needs ``inventory:read`` (a report shows the whole inventory).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from esgledger.access.policy import allowed, require
from esgledger.access.principal import Principal
from esgledger.access.scope import visible_entities
from esgledger.errors import NotFoundError, quoted
from esgledger.inventory.runs import load_run
from esgledger.jobs import service as jobs
from esgledger.store.models_platform import AuditEvent
from esgledger.store.repository_targets import load_metric_values
from esgledger.store.workspace import Workspace

__all__ = [
    "CONTENT_TYPES",
    "REPORTS_FOLDER",
    "ContentIndexItem",
    "ContentIndexView",
    "ReportFile",
    "content_disposition",
    "content_index_view",
    "list_outputs",
    "output_file",
]

#: The folder of written reports inside a workspace (``builder.REPORTS_DIR``; kept here so
#: listing files does not load the report engine — a test checks they agree).
REPORTS_FOLDER = "reports"

#: Format of a listed file -> its content type.
CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# <stem>.<lang>.<format>: stems of letters, digits, dot, dash and underscore only.
_NAME = re.compile(
    r"^(?P<stem>[A-Za-z0-9][A-Za-z0-9_.-]*)\.(?P<lang>en|zh-CN)\.(?P<fmt>pdf|html|csv|xlsx)$"
)
_YEAR = re.compile(r"^[0-9]{4}$")
_EDITION = re.compile(r"^esg-report-")


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One written file: ``path`` relative to the reports folder (``<year>/<name>``), its
    ``year``, ``name``, ``lang`` (``en``/``zh-CN``), ``format`` (pdf, html, csv, xlsx),
    ``kind`` (``report`` for an edition, ``table`` for a table export), ``table`` (the
    table's id, for an export), ``size`` [bytes] and ``modified`` (UTC, ISO 8601)."""

    path: str
    year: int
    name: str
    lang: str
    format: str
    kind: str
    table: str | None
    size: int
    modified: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _reports_root(workspace: Workspace) -> Path:
    return (workspace.root / REPORTS_FOLDER).resolve()


def _scan(root: Path) -> list[ReportFile]:
    found: list[ReportFile] = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not (_YEAR.match(folder.name) and folder.is_dir() and not folder.is_symlink()):
            continue
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match is None or path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            edition = _EDITION.match(path.name) is not None and match["fmt"] in ("pdf", "html")
            found.append(
                ReportFile(
                    path=f"{folder.name}/{path.name}",
                    year=int(folder.name),
                    name=path.name,
                    lang=match["lang"],
                    format=match["fmt"],
                    kind="report" if edition else "table",
                    table=None if edition else match["stem"],
                    size=stat.st_size,
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
                )
            )
    order = {"report": 0, "table": 1}
    formats = {"pdf": 0, "html": 1, "xlsx": 2, "csv": 3}
    found.sort(key=lambda f: (-f.year, order[f.kind], f.table or "", f.lang, formats[f.format]))
    return found


def list_outputs(workspace: Workspace, principal: Principal) -> list[ReportFile]:
    """The written reports, newest year first: each year's editions (PDF, HTML in English
    and Chinese), then its table exports (XLSX, CSV)."""
    require(principal, "inventory:read")
    return _scan(_reports_root(workspace))


def output_file(workspace: Workspace, principal: Principal, path: str) -> tuple[Path, ReportFile]:
    """The file ``path`` (``<year>/<name>``, as :func:`list_outputs` names it) and its listing.

    Raises
    ------
    NotFoundError
        Unless :func:`list_outputs` lists exactly ``path`` and it resolves inside the
        reports folder (no ``..``, no absolute path, no link out of it).
    """
    require(principal, "inventory:read")
    root = _reports_root(workspace)
    listed = {f.path: f for f in _scan(root)}
    entry = listed.get(path)
    if entry is None:
        raise NotFoundError(f"no report file {quoted(path)}")
    target = (root / entry.path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundError(f"no report file {quoted(path)}")
    return target, entry


def content_disposition(name: str) -> str:
    """``attachment`` with ``name`` as RFC 6266 gives it: an ASCII fallback in ``filename``
    (quotes, backslashes and controls replaced) and the exact name in ``filename*``."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass(frozen=True, slots=True)
class ContentIndexItem:
    """One HKEX ESG Reporting Code item as the report's content index gives it: ``code``,
    ``title_en``/``title_zh``, ``part`` (B, C, D), ``requirement`` (mandatory,
    comply_or_explain, voluntary, not_applicable), ``status`` in the report (disclosed,
    explained, missing), ``section`` (the report section that reports it, catalogue id),
    ``section_title_en``/``section_title_zh`` (that section's title, when the report has it),
    ``explanation`` (why not disclosed, or which breakdowns are lacking; English),
    ``disclosed_by`` (value, derived, narrative or metric codes), ``data`` (where the data
    behind it is: ``emissions``, ``metric`` or ``narrative``) and ``metrics`` (the metric
    codes whose values disclose it)."""

    code: str
    part: str
    title_en: str
    title_zh: str
    requirement: str
    status: str
    section: str
    section_title_en: str | None
    section_title_zh: str | None
    explanation: str | None
    disclosed_by: tuple[str, ...]
    data: str
    metrics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContentIndexView:
    """The content index of run ``run_id`` (reporting ``year``): its items, how many are
    disclosed, explained and missing, and whether the report would be complete."""

    run_id: str
    year: int
    tier: str
    items: tuple[ContentIndexItem, ...]
    counts: Mapping[str, int]
    complete: bool


#: Items whose data is the GHG inventory (the inventory pages).
EMISSION_CODES: frozenset[str] = frozenset(
    {"A1.1", "A1.2", "D.metrics.scope1", "D.metrics.scope2", "D.metrics.scope3"}
)


def _data_kind(code: str, disclosed_by: tuple[str, ...]) -> str:
    if code in EMISSION_CODES:
        return "emissions"
    if disclosed_by == ("narrative",):
        return "narrative"
    return "metric"


@functools.lru_cache(maxsize=8)
def _index_of(root: str, run_id: str, stamp: tuple[float, ...]) -> ContentIndexView:
    # The report engine (DuckDB, matplotlib, WeasyPrint) loads when an index is computed,
    # as jobs.handlers loads it for a report job: the server starts without it.
    from esgledger.report.builder import _content_entries, _gather, anchor

    workspace = Workspace.open(root)
    facts = _gather(workspace, run_id)
    sections = {anchor(s) for s in (e.section for e in facts.index.entries)}
    entries, _ = _content_entries(facts, sections)
    status_of = {e.code: e.status for e in entries}
    titles = _section_titles()
    items: list[ContentIndexItem] = []
    for entry in facts.index.entries:
        status = status_of.get(entry.code, entry.status)
        section_title = titles.get(entry.section)
        metrics = tuple(d for d in entry.disclosed_by if d not in ("value", "derived", "narrative"))
        if "value" in entry.disclosed_by or "derived" in entry.disclosed_by:
            metrics = (entry.code, *metrics)
        items.append(
            ContentIndexItem(
                code=entry.code,
                part=entry.part,
                title_en=entry.title_en,
                title_zh=entry.title_zh or entry.title_en,
                requirement=entry.requirement,
                status=status,
                section=entry.section,
                section_title_en=None if section_title is None else section_title[0],
                section_title_zh=None if section_title is None else section_title[1],
                explanation=entry.explanation or entry.note or None,
                disclosed_by=tuple(entry.disclosed_by),
                data=_data_kind(entry.code, tuple(entry.disclosed_by)),
                metrics=metrics,
            )
        )
    counts = {"disclosed": 0, "explained": 0, "missing": 0}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return ContentIndexView(
        run_id=facts.run_id,
        year=facts.year,
        tier=facts.index.tier,
        items=tuple(items),
        counts=counts,
        complete=facts.index.complete,
    )


@functools.cache
def _section_titles() -> dict[str, tuple[str, str]]:
    """Section id -> (English, Chinese) title, from the report's ``sections.csv``."""
    text = resources.files("esgledger.report").joinpath("sections.csv").read_text("utf-8")
    titles: dict[str, tuple[str, str]] = {}
    for row in csv.DictReader(text.splitlines()):
        key = row.get("id") or row.get("section") or ""
        en = row.get("title_en") or row.get("en") or ""
        zh = row.get("title_zh") or row.get("zh-CN") or row.get("zh") or en
        if key and en:
            titles[key] = (en, zh)
    return titles


#: Audit actions that change nothing the content index reads (sign-ins, jobs, tokens, the
#: report itself): they do not invalidate a kept index.
_QUIET_ACTIONS = ("session.", "job.", "token.", "report.", "user.")


def _stamp(workspace: Workspace) -> tuple[float, ...]:
    """What invalidates a kept index: the report inputs (``WS/report/``: narratives,
    explanations) and the last audit event that changed data (imports, approvals, targets)."""
    report_inputs = workspace.root / "report"
    times = (
        [p.stat().st_mtime for p in report_inputs.rglob("*") if p.is_file()]
        if report_inputs.is_dir()
        else []
    )
    quiet = sa.or_(*(AuditEvent.action.startswith(a) for a in _QUIET_ACTIONS))
    with workspace.session() as session:
        head = session.execute(
            sa.select(sa.func.max(AuditEvent.seq)).where(sa.not_(quiet))
        ).scalar_one_or_none()
    return (max(times, default=0.0), float(head or 0))


def content_index_view(
    workspace: Workspace, principal: Principal, run_id: str | None = None
) -> ContentIndexView:
    """The HKEX content index of run ``run_id`` (default the latest) exactly as the report's
    content index computes it (:func:`esgledger.report.builder._gather` and its entries):
    kept per run until the workspace changes."""
    require(principal, "inventory:read")
    run = load_run(workspace, run_id)
    return _index_of(str(workspace.root), run.run_id, _stamp(workspace))


def overview(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """The reports page: ``files`` (:func:`list_outputs`), ``may_generate`` (the principal
    may run a report job, ``report:run``), ``languages`` and ``formats`` a report job
    takes."""
    files = list_outputs(workspace, principal)
    return {
        "files": files,
        "may_generate": allowed(principal, "report:run") is True,
        "languages": ["en", "zh-CN"],
        "formats": ["pdf", "html"],
    }


def job_outputs(workspace: Workspace, principal: Principal, job_id: int) -> dict[str, Any]:
    """A report job (:func:`esgledger.jobs.service.get`: the job as the API gives it) and,
    once it has succeeded, the listed files it wrote (``files``, :class:`ReportFile`)."""
    require(principal, "inventory:read")
    job = jobs.get(workspace, principal, job_id)
    if job["kind"] != "report":
        raise NotFoundError(f"no report job {job_id}")
    written: set[str] = set()
    if job["status"] == "succeeded" and job["result"] is not None:
        prefix = f"{REPORTS_FOLDER}/"
        written = {
            str(f).removeprefix(prefix)
            for f in job["result"].get("files", [])
            if str(f).startswith(prefix)
        }
    files = [f for f in list_outputs(workspace, principal) if f.path in written]
    return {"job": dict(job), "files": files}


def item_values(
    workspace: Workspace, principal: Principal, code: str, run_id: str | None = None
) -> dict[str, Any]:
    """The data behind one content-index item: ``item`` (:class:`ContentIndexItem`), ``year``
    and ``values`` — the stored metric values of the reporting year that disclose it (its
    own code and the company metrics below it), within the principal's scope, each with
    ``metric``, ``entity``, ``period_start``, ``period_end``, ``value``, ``unit``, ``text``
    and ``breakdown``. A derived item's numbers come from the inventory instead (the
    inventory pages).

    Raises
    ------
    NotFoundError
        If ``code`` is not an item of the content index.
    """
    view = content_index_view(workspace, principal, run_id)
    item = next((i for i in view.items if i.code == code), None)
    if item is None:
        raise NotFoundError(f"no content-index item {quoted(code)}")
    visible = visible_entities(workspace, principal)
    codes = {item.code, *item.metrics}
    with workspace.session() as session:
        rows = load_metric_values(session, view.year)
    values = [
        {
            "metric": str(r["metric"]),
            "entity": str(r["entity"]),
            "period_start": str(r["period_start"]),
            "period_end": str(r["period_end"]),
            "value": r.get("value"),
            "unit": r.get("unit"),
            "text": r.get("text"),
            "breakdown": r.get("breakdown"),
        }
        for r in rows
        if r["metric"] in codes and (visible is None or r["entity"] in visible)
    ]
    return {"item": item, "year": view.year, "values": values}
