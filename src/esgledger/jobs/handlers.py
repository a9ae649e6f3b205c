"""What each kind of job does: thin adapters from a job's JSON parameters to the domain
functions the command line calls too.

作业处理程序：把作业参数交给命令行同样调用的领域函数。

==============  ===========================================================================
kind            domain function (and the stages it reports)
==============  ===========================================================================
``import``      :func:`esgledger.ingest.importers.import_file` (``importing``): whole or
                nothing, the same bytes again a no-op
``calculate``   :func:`esgledger.inventory.calculate` (``reading``, ``resolving factors``,
                ``writing line items``, ``summary``, ``registering``): the run is
                registered only at the end
``report``      :func:`esgledger.report.builder.build_report` (``assembling``,
                ``writing files``) into ``WS/reports/<year>/``
==============  ===========================================================================

A handler gets the open workspace and a :class:`JobContext`; it returns the job's result
(JSON-native) or raises. :func:`check_params` validates parameters when a job is submitted,
so that a bad parameter is refused at once instead of failing later in the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from esgledger.access import Principal
from esgledger.errors import InputError, Issue, WorkspaceError
from esgledger.ingest.importers import KINDS as IMPORT_KINDS
from esgledger.ingest.importers import import_file
from esgledger.inventory.options import options_from_params
from esgledger.inventory.runs import load_run
from esgledger.jobs import uploads
from esgledger.report.document import LANGS
from esgledger.report.render import FORMATS as REPORT_FORMATS
from esgledger.store import Workspace
from esgledger.store.models_jobs import JOB_KINDS

__all__ = ["HANDLERS", "Handler", "JobContext", "check_params"]


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler knows of its job. ``progress(stage, percent)`` records the stage
    (:data:`esgledger.jobs.labels.STAGE_LABELS`) and raises
    :class:`~esgledger.jobs.worker.JobStopped` when the job was cancelled or its pool is
    shutting down: handlers call it only where stopping leaves nothing behind."""

    job_id: int
    params: Mapping[str, Any]
    principal: Principal
    progress: Callable[[str, int], None]


Handler = Callable[[Workspace, JobContext], dict[str, Any]]


def _refused(kind: str, name: str, value: object, problem: str, fix: str) -> InputError:
    return InputError(
        f"the {kind} job parameter {name!r} was refused: {problem}",
        [Issue("", None, name, None if value is None else str(value)[:200], problem, fix)],
    )


def _only(kind: str, params: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _refused(
            kind, unknown[0], None, "unknown parameter", f"use only {', '.join(allowed)}"
        )


def _check_import(workspace: Workspace, params: Mapping[str, Any]) -> None:
    _only("import", params, ("kind", "file", "sheet"))
    kind = params.get("kind")
    if kind not in IMPORT_KINDS:
        raise _refused(
            "import",
            "kind",
            kind,
            "unknown import kind",
            f"choose one of {', '.join(IMPORT_KINDS)}",
        )
    file = params.get("file")
    if not isinstance(file, str):
        raise _refused("import", "file", file, "missing", "upload the file with the job")
    uploads.resolve(workspace.root, file)
    sheet = params.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise _refused("import", "sheet", sheet, "expected text", "name the sheet, or leave it out")


def _report_choice(params: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> list[str]:
    value = params.get(name, list(choices))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or any(v not in choices for v in value):
        raise _refused(
            "report", name, value, f"expected a list of {', '.join(choices)}", "correct the value"
        )
    return list(dict.fromkeys(value))


def _check_report(workspace: Workspace, params: Mapping[str, Any]) -> None:
    _only("report", params, ("run_id", "langs", "formats"))
    run_id = params.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise _refused(
            "report", "run_id", run_id, "expected text", "give a run id, or leave it out"
        )
    _report_choice(params, "langs", tuple(LANGS))
    _report_choice(params, "formats", tuple(REPORT_FORMATS))
    try:
        load_run(workspace, run_id)
    except WorkspaceError:
        raise _refused(
            "report",
            "run_id",
            run_id,
            "no such run" if run_id is not None else "no inventory run yet",
            "calculate the inventory first, or name a registered run",
        ) from None


def check_params(workspace: Workspace, kind: str, params: Mapping[str, Any]) -> None:
    """Refuse a job's parameters before it is queued.

    Raises
    ------
    InputError
        If ``kind`` is not one of :data:`~esgledger.store.models_jobs.JOB_KINDS` or a
        parameter is unknown, of the wrong type or (for imports) names no uploaded file.
    """
    if kind not in JOB_KINDS:
        raise InputError(
            f"unknown job kind {kind!r}",
            [
                Issue(
                    "",
                    None,
                    "kind",
                    str(kind)[:60],
                    "unknown job kind",
                    f"choose one of {', '.join(JOB_KINDS)}",
                )
            ],
        )
    if kind == "import":
        _check_import(workspace, params)
    elif kind == "calculate":
        options_from_params(params)
    else:
        _check_report(workspace, params)


def run_import(workspace: Workspace, job: JobContext) -> dict[str, Any]:
    """Import the uploaded file (whole or not at all)."""
    params = job.params
    path = uploads.resolve(workspace.root, str(params["file"]))
    job.progress("importing", 10)
    result = import_file(
        workspace,
        str(params["kind"]),
        path,
        sheet=params.get("sheet"),
        principal=job.principal,
    )
    return {
        "kind": result.kind,
        "batch_id": result.batch_id,
        "file_name": result.file_name,
        "rows": result.rows,
        "created": result.created,
        "message": result.message,
        "warnings": [asdict(issue) for issue in result.warnings],
        "warning_total": result.warning_total,
    }


def run_calculate(workspace: Workspace, job: JobContext) -> dict[str, Any]:
    """Calculate the inventory and register the run (only at the end)."""
    # The engine (DuckDB, Arrow) and the report stack load when a job needs them: a worker
    # process, or a server, starts in a second instead of several.
    from esgledger.inventory.engine import calculate

    run = calculate(
        workspace,
        **options_from_params(job.params),
        principal=job.principal,
        progress=job.progress,
    )
    return {"run_id": run.run_id, "totals": run.totals}


def run_report(workspace: Workspace, job: JobContext) -> dict[str, Any]:
    """Write the report of a run into ``WS/reports/<year>/``."""
    from esgledger.report.builder import build_report, default_out_dir

    params = job.params
    run_id = params.get("run_id")
    target = default_out_dir(workspace, run_id)
    result = build_report(
        workspace,
        target,
        langs=_report_choice(params, "langs", tuple(LANGS)),
        formats=_report_choice(params, "formats", tuple(REPORT_FORMATS)),
        run_id=run_id,
        progress=job.progress,
        principal=job.principal,
    )
    return {
        "run_id": result.run_id,
        "files": [p.relative_to(workspace.root).as_posix() for p in result.paths],
        "draft": result.draft,
        "missing": list(result.missing),
        "page_counts": dict(result.page_counts),
    }


#: Kind → handler.
HANDLERS: dict[str, Handler] = {
    "import": run_import,
    "calculate": run_calculate,
    "report": run_report,
}
