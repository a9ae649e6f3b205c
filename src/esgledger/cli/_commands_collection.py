"""``esgledger campaigns create|list|show|progress WS`` and ``esgledger tasks
list|show|template|submit|review|accept-flag|approve|return|reopen|assign|attach WS``: the
data-collection cycle from the command line, thin over :mod:`esgledger.collection.service`.

The CLI acts as :meth:`esgledger.access.Principal.local` (an administrator of the whole group,
named ``local:<os user>`` in the audit trail). Exit status: 0 on success, 2 when a file or
input is rejected (the row-level report goes to stderr), 1 on any other error (a task in the
wrong state, not found ...).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from esgledger.cli._app import EXIT_ERROR, EXIT_REJECTED, Lang, app, console
from esgledger.errors import EsgledgerError, InputError, WorkspaceBusyError

campaigns_app = typer.Typer(
    help="Data-collection campaigns: what the ESG office asks of entities and sites.",
    no_args_is_help=True,
)
tasks_app = typer.Typer(
    help="Collection tasks: templates, submissions, review and approval.",
    no_args_is_help=True,
)
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(tasks_app, name="tasks")

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace folder.")]
TaskArg = Annotated[int, typer.Argument(help="Task id (esgledger tasks list WS).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of text.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the task's history).")]


def _fail(error: EsgledgerError) -> typer.Exit:
    console(stderr=True).print(f"error: {error}", markup=False)
    rejected = isinstance(error, InputError | WorkspaceBusyError)
    return typer.Exit(EXIT_REJECTED if rejected else EXIT_ERROR)


def _run(workspace: Path, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(ws, Principal.local(), *args, **kwargs)`` on the opened workspace."""
    from esgledger.access import Principal
    from esgledger.store import Workspace

    try:
        with Workspace.open(workspace) as ws:
            return call(ws, Principal.local(), *args, **kwargs)
    except EsgledgerError as exc:
        raise _fail(exc) from exc


def _print_json(value: Any) -> None:
    console().print(json.dumps(value, ensure_ascii=False, indent=2), markup=False)


def _task_line(task: dict[str, Any]) -> str:
    owner = task["owner"] or "(no owner)"
    late = " OVERDUE" if task["overdue"] else ""
    return (
        f"{task['id']:>5}  {task['status']:<10} {task['target_kind']} {task['target']:<12} "
        f"{task['item_group']:<10} {owner:<16} due {task['due_date']}{late}"
    )


def _show_task(task: dict[str, Any], json_: bool) -> None:
    if json_:
        _print_json(task)
        return
    out = console()
    out.print(_task_line(task), markup=False)
    for flag in task.get("flags", []):
        out.print(f"  flag {flag.get('id')}: {flag.get('text', {}).get('en', '')}", markup=False)
    if "import" in task:
        out.print(task["import"]["message"], markup=False)


# ---- campaigns ---------------------------------------------------------------------------


@campaigns_app.command("create")
def create(
    workspace: WorkspaceArg,
    name: Annotated[str, typer.Option("--name", help="Campaign name.")],
    due: Annotated[str, typer.Option("--due", help="Due date, YYYY-MM-DD.")],
    year: Annotated[
        int | None, typer.Option("--year", help="Reporting year (default: the workspace's).")
    ] = None,
    activity: Annotated[
        list[str] | None, typer.Option("--activity", help="Activity key asked (repeat).")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Metric code asked (repeat).")
    ] = None,
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="Entity asked (repeat).")
    ] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Site asked (repeat).")] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option("--owner", help="CODE=USERNAME: the data owner of an entity or site."),
    ] = None,
    instructions_en: Annotated[str, typer.Option("--instructions-en")] = "",
    instructions_zh: Annotated[str, typer.Option("--instructions-zh")] = "",
    json_: JsonOpt = False,
) -> None:
    """Create a campaign: one task per (entity or site, item group), each with its owner."""
    from pydantic import ValidationError

    from esgledger.collection import service
    from esgledger.store import Workspace

    try:
        due_date = dt.date.fromisoformat(due)
    except ValueError as exc:
        raise typer.BadParameter("write the date as YYYY-MM-DD", param_hint="--due") from exc
    owners = dict(item.split("=", 1) for item in owner or [] if "=" in item)
    if year is None:
        try:
            with Workspace.open(workspace) as ws:
                year = ws.reporting_year
        except EsgledgerError as exc:
            raise _fail(exc) from exc
    try:
        spec = service.CampaignSpec(
            name=name,
            reporting_year=year,
            due_date=due_date,
            activities=tuple(activity or ()),
            metrics=tuple(metric or ()),
            entities=tuple(entity or ()),
            sites=tuple(site or ()),
            instructions_en=instructions_en,
            instructions_zh=instructions_zh,
            owners=owners,
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc.errors()[0]["msg"])) from exc
    campaign = _run(workspace, service.create_campaign, spec)
    if json_:
        _print_json(campaign)
        return
    out = console()
    out.print(
        f"Created campaign {campaign['id']} ({campaign['name']}) with "
        f"{len(campaign['tasks'])} task(s):",
        markup=False,
    )
    for task in campaign["tasks"]:
        out.print(_task_line(task), markup=False)


@campaigns_app.command("list")
def list_campaigns(workspace: WorkspaceArg, json_: JsonOpt = False) -> None:
    """The campaigns."""
    from esgledger.collection import service

    found = _run(workspace, service.list_campaigns)
    if json_:
        _print_json(found)
        return
    for campaign in found:
        console().print(
            f"{campaign['id']:>5}  {campaign['reporting_year']}  {campaign['status']:<7} "
            f"due {campaign['due_date']}  {campaign['name']}",
            markup=False,
        )


@campaigns_app.command("show")
def show_campaign(
    workspace: WorkspaceArg,
    campaign: Annotated[int, typer.Argument(help="Campaign id.")],
    json_: JsonOpt = False,
) -> None:
    """One campaign and its tasks."""
    from esgledger.collection import service

    found = _run(workspace, service.get_campaign, campaign)
    if json_:
        _print_json(found)
        return
    console().print(f"{found['id']}  {found['name']}  due {found['due_date']}", markup=False)
    for task in found["tasks"]:
        console().print(_task_line(task), markup=False)


@campaigns_app.command("progress")
def progress(
    workspace: WorkspaceArg,
    campaign: Annotated[int, typer.Argument(help="Campaign id.")],
    json_: JsonOpt = False,
) -> None:
    """Status counts per entity and item group, overdue tasks, share of last year's
    emissions approved."""
    from esgledger.collection import service

    report = _run(workspace, service.progress, campaign)
    if json_:
        _print_json(report)
        return
    out = console()
    counts = ", ".join(f"{k} {v}" for k, v in report["by_status"].items())
    out.print(f"{report['campaign']['name']}: {report['tasks']} task(s): {counts}", markup=False)
    for group in report["by_entity_item"]:
        line = ", ".join(f"{k} {v}" for k, v in group["counts"].items() if v)
        out.print(f"  {group['entity']:<12} {group['item_group']:<10} {line}", markup=False)
    for task in report["overdue"]:
        out.print(f"  overdue: task {task['id']} {task['target']} ({task['status']})", markup=False)
    emissions = report["emissions"]
    share = emissions["share"]
    shown = "n/a (no baseline run)" if share is None else f"{share:.1%}"
    out.print(f"  share of last year's emissions approved: {shown}", markup=False)


# ---- tasks -------------------------------------------------------------------------------


@tasks_app.command("list")
def list_tasks(
    workspace: WorkspaceArg,
    campaign: Annotated[int | None, typer.Option("--campaign", help="Campaign id.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The tasks (of one campaign, in one status)."""
    from esgledger.collection import service

    found = _run(workspace, service.list_tasks, campaign, status=status)
    if json_:
        _print_json(found)
        return
    for task in found:
        console().print(_task_line(task), markup=False)


@tasks_app.command("show")
def show_task(workspace: WorkspaceArg, task: TaskArg, json_: JsonOpt = False) -> None:
    """One task with its history, flags, acceptances and evidence."""
    from esgledger.collection import service

    found = _run(workspace, service.get_task, task)
    _show_task(found, json_)
    if not json_:
        for step in found["transitions"]:
            why = f" — {step['comment']}" if step["comment"] else ""
            console().print(
                f"  {step['at']} {step['actor']}: {step['from']} → {step['to']}{why}", markup=False
            )


@tasks_app.command("template")
def template(
    workspace: WorkspaceArg,
    task: TaskArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The XLSX file to write.")],
    lang: Annotated[Lang, typer.Option("--lang")] = Lang.en,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
) -> None:
    """Write the task's template, pre-filled with its entity, sites and last year's rows."""
    from esgledger.collection import service

    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter("give a name ending in .xlsx", param_hint="--out")
    if out.exists() and not force:
        raise typer.BadParameter(f"{out} exists; use --force to replace it", param_hint="--out")
    written = _run(workspace, service.template_for_task, task, out, lang=lang.value)
    console().print(
        f"Wrote the template of task {task} to {written}; fill it in, then run: "
        f"esgledger tasks submit {workspace} {task} {written}",
        markup=False,
    )


@tasks_app.command("submit")
def submit(
    workspace: WorkspaceArg,
    task: TaskArg,
    file: Annotated[Path, typer.Argument(help="The filled template (XLSX, CSV or Parquet).")],
    json_: JsonOpt = False,
) -> None:
    """Submit a file to a task: checked whole, like `esgledger import`."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.submit, task, file), json_)


@tasks_app.command("review")
def review(workspace: WorkspaceArg, task: TaskArg, json_: JsonOpt = False) -> None:
    """Start the review of a submitted task."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.start_review, task), json_)


@tasks_app.command("accept-flag")
def accept_flag(
    workspace: WorkspaceArg,
    task: TaskArg,
    flag: Annotated[str, typer.Argument(help="Flag id (esgledger tasks show WS TASK).")],
    comment: Annotated[str, typer.Option("--comment", help="Why the flagged value is right.")],
    json_: JsonOpt = False,
) -> None:
    """Accept one review flag with a comment."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.accept_flag, task, flag, comment), json_)


@tasks_app.command("approve")
def approve(workspace: WorkspaceArg, task: TaskArg, json_: JsonOpt = False) -> None:
    """Approve a task in review: its batch enters calculations."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.approve, task), json_)


@tasks_app.command("return")
def return_(
    workspace: WorkspaceArg, task: TaskArg, reason: ReasonOpt, json_: JsonOpt = False
) -> None:
    """Return a task in review to its owner, with a reason."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.return_task, task, reason), json_)


@tasks_app.command("reopen")
def reopen(
    workspace: WorkspaceArg, task: TaskArg, reason: ReasonOpt, json_: JsonOpt = False
) -> None:
    """Reopen an approved task (ESG office), with a reason."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.reopen, task, reason), json_)


@tasks_app.command("assign")
def assign(
    workspace: WorkspaceArg,
    task: TaskArg,
    owner: Annotated[str, typer.Argument(help="Username of a data owner.")],
    json_: JsonOpt = False,
) -> None:
    """Make a data owner the task's owner."""
    from esgledger.collection import service

    _show_task(_run(workspace, service.assign_owner, task, owner), json_)


@tasks_app.command("attach")
def attach(
    workspace: WorkspaceArg,
    task: TaskArg,
    file: Annotated[Path, typer.Argument(help="pdf, png, jpeg, xlsx or csv.")],
) -> None:
    """Attach an evidence file (invoice, meter photo, bill) to a task."""
    from esgledger.collection import service

    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    stored = _run(workspace, service.attach_evidence, task, file.name, file.read_bytes())
    console().print(
        f"Attached {stored['name']} ({stored['size']:,} bytes, sha256 {stored['sha256']}) "
        f"to task {task} as evidence {stored['id']}.",
        markup=False,
    )
