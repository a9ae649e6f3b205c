"""Data-collection campaigns: the operations the CLI and the API call.

数据收集活动：创建活动与任务、下载预填模板、提交、审核、批准、重新打开、证明材料与进度。

Every function takes the workspace and the acting :class:`~esgledger.access.Principal`,
checks the action against the role matrix and the principal's scope, and records one audit
event in the same write-locked transaction as the change it describes. Results are
JSON-native dicts (the API returns them as they are; the CLI prints them).

A task outside the principal's scope answers :class:`~esgledger.errors.NotFoundError`, as a
task that does not exist (scope cannot be probed); a task inside it whose action the role
lacks answers :class:`~esgledger.errors.AccessDeniedError`.

Submissions (``docs/platform/collection.md``): a submitted file goes through the importer of
its kind (``activities`` or ``metric-values``) through
:func:`esgledger.ingest.importers.import_file` with a submission context, so it passes the
same all-or-nothing validation as ``esgledger import`` and lands as a batch with
``status = 'submitted'`` and ``task_id`` set.
Under the same write lock the rows are checked against the task (its entity or site and its
items), the task's version is compared with the one read when the submission began (a
concurrent submission to the same task is refused with :class:`~esgledger.errors.ConflictError`
and leaves nothing behind), the review flags are computed and stored, the previous submission
of the task is marked ``superseded``, and the audit event is appended.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import hashlib
import importlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TypeVar

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from esgledger import audit
from esgledger.access import Principal, policy, scope
from esgledger.collection import tasks as machine
from esgledger.errors import (
    AccessDeniedError,
    ConflictError,
    EsgledgerError,
    InputError,
    Issue,
    NotFoundError,
    shown,
    with_zh,
)
from esgledger.ingest.batches import batch_state
from esgledger.ingest.limits import human_bytes
from esgledger.store.models import Entity, ImportBatch, Run, Site
from esgledger.store.models_collection import (
    Campaign,
    CollectionTask,
    Evidence,
    FlagAcceptance,
    TaskTransition,
)
from esgledger.store.models_platform import User
from esgledger.store.workspace import Workspace

__all__ = [
    "EVIDENCE_DIR",
    "EVIDENCE_MAX_BYTES_ENV",
    "SUBMIT_SLOTS_ENV",
    "CampaignSpec",
    "accept_flag",
    "approve",
    "assign_owner",
    "attach_evidence",
    "campaign_choices",
    "campaign_overview",
    "campaigns_with_progress",
    "create_campaign",
    "get_campaign",
    "get_task",
    "list_campaigns",
    "list_evidence",
    "list_tasks",
    "progress",
    "read_evidence",
    "reopen",
    "return_task",
    "start_review",
    "submit",
    "submit_upload",
    "template_download",
    "template_for_task",
    "upload_preview",
    "year_on_year",
]

#: Item groups: one task per (entity or site, group), one import kind per group.
GROUP_KINDS: dict[str, str] = {"activities": "activities", "metrics": "metric-values"}

#: Evidence lives under ``<workspace>/evidence/<sha256[:2]>/<sha256>``.
EVIDENCE_DIR = "evidence"
#: Largest evidence file [bytes], changed by :data:`EVIDENCE_MAX_BYTES_ENV` (as the limits of
#: :mod:`esgledger.ingest.limits`: a positive whole number, else the default holds).
EVIDENCE_MAX_BYTES = 25 << 20
EVIDENCE_MAX_BYTES_ENV = "ESGLEDGER_MAX_EVIDENCE_BYTES"

#: Evidence types: extension -> (content type, magic-bytes prefixes; empty = text checked).
EVIDENCE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".csv": ("text/csv", ()),
}

_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
F = TypeVar("F", bound=Callable[..., Any])


def _split_language(error: EsgledgerError) -> EsgledgerError:
    """An error whose message ends in `` / <Chinese>`` as the English message carrying the
    Chinese one (:func:`esgledger.errors.with_zh`, which the API's problem details show to
    clients preferring Chinese); any other error as it is."""
    text = (
        error.summary if isinstance(error, InputError) else str(error.args[0] if error.args else "")
    )
    en, separator, zh = text.rpartition(" / ")
    if not separator or not _CJK.search(zh) or _CJK.search(en):
        return error
    split: EsgledgerError
    if isinstance(error, InputError):
        split = InputError(en, error.issues, error.total)
    else:
        split = type(error)(en)
    return with_zh(split, zh)


def _bilingual(function: F) -> F:
    """Raise the service's errors with their Chinese text apart (:func:`_split_language`)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ConflictError, NotFoundError, InputError, AccessDeniedError) as exc:
            split = _split_language(exc)
            if split is exc:
                raise
            raise split from None

    return wrapper  # type: ignore[return-value]


# ---- access ------------------------------------------------------------------------------


def _visible(session: Session, principal: Principal, action: str) -> frozenset[str] | None:
    """The entities ``principal`` may take ``action`` on (``None`` = the whole group).

    Raises
    ------
    AccessDeniedError
        When the role lacks the action altogether (``access/roles.csv``).
    """
    policy.require(principal, action)
    if principal.scope_entity is None or policy.grant(principal.role, action) == "all":
        return None
    parents = {str(c): p for c, p in session.execute(sa.select(Entity.code, Entity.parent))}
    return scope.subtree(parents, principal.scope_entity)


def _require(session: Session, principal: Principal, action: str, entity: str) -> None:
    policy.require(principal, action, entity, visible=_visible(session, principal, action))


def _can(session: Session, principal: Principal, action: str, entity: str) -> bool:
    try:
        _require(session, principal, action, entity)
    except AccessDeniedError:
        return False
    return True


# ---- campaigns ---------------------------------------------------------------------------


def _printable(value: str) -> str:
    """Refuse NUL and other control characters (line breaks and tabs aside): no database
    stores NUL in text, and no name needs a control character."""
    if any(ord(char) < 32 and char not in "\t\r\n" for char in value) or "\x7f" in value:
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_printable)]
Code = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_printable)]


class CampaignSpec(BaseModel):
    """What a campaign asks: the request body of ``POST /campaigns`` and what
    ``esgledger campaigns create`` builds from its options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    reporting_year: int = Field(ge=1990, le=2100)
    due_date: dt.date
    activities: tuple[Code, ...] = Field(default=(), max_length=500)
    metrics: tuple[Code, ...] = Field(default=(), max_length=500)
    entities: tuple[Code, ...] = Field(default=(), max_length=5000)
    sites: tuple[Code, ...] = Field(default=(), max_length=5000)
    instructions_en: Text = Field(default="", max_length=10_000)
    instructions_zh: Text = Field(default="", max_length=10_000)
    owners: dict[Code, Code] = Field(
        default_factory=dict, description="entity or site code -> data owner's username"
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _issue(column: str, value: object, problem: str, fix: str = "") -> Issue:
    return Issue("", None, column, None if value is None else str(value), problem, fix)


def _check_spec(workspace: Workspace, session: Session, spec: CampaignSpec) -> list[Issue]:
    from esgledger.ingest.metrics import workspace_catalogue
    from esgledger.taxonomy import Taxonomy

    issues: list[Issue] = []
    if spec.reporting_year != workspace.reporting_year:
        issues.append(
            _issue(
                "reporting_year",
                spec.reporting_year,
                f"the workspace's reporting year is {workspace.reporting_year}; submissions are "
                "checked against it / 工作区的报告年度为 "
                f"{workspace.reporting_year}",
                f"use {workspace.reporting_year}",
            )
        )
    if not spec.activities and not spec.metrics:
        issues.append(_issue("activities", None, "no item requested / 未选择任何填报项"))
    if not spec.entities and not spec.sites:
        issues.append(_issue("entities", None, "no entity or site asked / 未选择任何主体或站点"))
    if spec.metrics and not spec.entities:
        issues.append(
            _issue("metrics", None, "metrics are asked of entities; name at least one entity")
        )
    taxonomy = Taxonomy.for_workspace(workspace)
    declared = {t.activity for t in taxonomy}
    for key in spec.activities:
        if key not in taxonomy and key not in declared:
            issues.append(_issue("activities", key, "not an activity type / 不是有效的活动类型"))
    catalogue = workspace_catalogue(workspace)
    for code in spec.metrics:
        if code not in catalogue:
            issues.append(_issue("metrics", code, "not a metric of the catalogue / 不在指标目录中"))
    entities = {str(c) for c in session.scalars(sa.select(Entity.code))}
    for code in spec.entities:
        if code not in entities:
            issues.append(_issue("entities", code, "no such entity / 主体不存在"))
    sites = {str(c) for c in session.scalars(sa.select(Site.code))}
    for code in spec.sites:
        if code not in sites:
            issues.append(_issue("sites", code, "no such site / 站点不存在"))
    for field in ("activities", "metrics", "entities", "sites"):
        values = getattr(spec, field)
        if len(set(values)) != len(values):
            issues.append(_issue(field, None, "a value is listed twice / 存在重复值"))
    return issues


def _ancestors(session: Session, entity: str) -> list[str]:
    """``entity`` and its parents, nearest first."""
    parents = {str(c): p for c, p in session.execute(sa.select(Entity.code, Entity.parent))}
    chain = [entity]
    while (parent := parents.get(chain[-1])) is not None and parent not in chain:
        chain.append(str(parent))
    return chain


def _owner_for(session: Session, entity: str, owners: Iterable[User]) -> str | None:
    """The data owner nearest to ``entity``: the one whose scope is the entity or its nearest
    ancestor (a whole-group owner last); none when two are equally near."""
    chain = _ancestors(session, entity)
    by_depth: dict[int, list[str]] = {}
    for user in owners:
        if user.scope_entity is None:
            by_depth.setdefault(len(chain), []).append(user.username)
        elif user.scope_entity in chain:
            by_depth.setdefault(chain.index(user.scope_entity), []).append(user.username)
    if not by_depth:
        return None
    nearest = by_depth[min(by_depth)]
    return nearest[0] if len(nearest) == 1 else None


def _data_owners(session: Session) -> list[User]:
    return list(
        session.scalars(sa.select(User).where(User.role == "data_owner", User.disabled.is_(False)))
    )


def _covers(session: Session, user: User, entity: str) -> bool:
    return user.scope_entity is None or user.scope_entity in _ancestors(session, entity)


def _campaign_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "reporting_year": campaign.reporting_year,
        "items": campaign.items,
        "entities": list(campaign.entities),
        "sites": list(campaign.sites),
        "due_date": campaign.due_date.isoformat(),
        "instructions_en": campaign.instructions_en or "",
        "instructions_zh": campaign.instructions_zh or "",
        "status": campaign.status,
        "created_by": campaign.created_by,
        "created_at": campaign.created_at.isoformat(),
    }


def _scoped_campaign(
    session: Session, campaign: Campaign, visible: frozenset[str] | None
) -> dict[str, Any]:
    """:func:`_campaign_dict` naming only the entities and sites within ``visible`` (a
    scoped principal does not learn which other business units a campaign asks)."""
    out = _campaign_dict(campaign)
    if visible is not None:
        site_entity = dict(session.execute(sa.select(Site.code, Site.entity)).all())
        out["entities"] = [e for e in out["entities"] if e in visible]
        out["sites"] = [s for s in out["sites"] if site_entity.get(s) in visible]
    return out


def _task_dict(task: CollectionTask) -> dict[str, Any]:
    en, zh = machine.STATUS_NAMES[task.status]
    return {
        "id": task.id,
        "campaign_id": task.campaign_id,
        "target_kind": task.target_kind,
        "target": task.target,
        "entity": task.entity,
        "item_group": task.item_group,
        "items": list(task.items),
        "owner": task.owner,
        "status": task.status,
        "status_name": {"en": en, "zh": zh},
        "due_date": task.due_date.isoformat(),
        "overdue": task.status != "approved" and task.due_date < _now().date(),
        "batch_id": task.batch_id,
        "flags": list(task.flags or []),
        "version": task.version,
        "actions": list(machine.allowed_actions(task.status)),
    }


def _task_state(task: CollectionTask) -> dict[str, Any]:
    """What an audit digest of a task covers."""
    return {
        "id": task.id,
        "status": task.status,
        "owner": task.owner,
        "batch_id": task.batch_id,
        "version": task.version,
    }


@_bilingual
def create_campaign(
    workspace: Workspace, principal: Principal, spec: CampaignSpec
) -> dict[str, Any]:
    """Create a campaign and its tasks: one per (entity or site, item group), each with the
    data owner named in ``spec.owners`` or, failing that, the nearest data owner whose scope
    covers the task's entity (none when there is no single nearest one; assign later).

    Raises
    ------
    InputError
        For a reporting year other than the workspace's, unknown items, entities or sites, an
        owner who is not a data owner covering the entity (every issue listed).
    AccessDeniedError
        When the principal may not create campaigns for every entity asked.
    """
    with workspace.write_lock() as session:
        issues = _check_spec(workspace, session, spec)
        if issues:
            raise InputError(
                f"the campaign {shown(spec.name)} was not created / 活动未创建", issues
            )
        site_entity = {
            str(code): str(entity)
            for code, entity in session.execute(sa.select(Site.code, Site.entity))
        }
        targets = [("entity", code, code) for code in spec.entities] + [
            ("site", code, str(site_entity[code])) for code in spec.sites
        ]
        for _kind, _code, entity in targets:
            _require(session, principal, "campaign:create", entity)
        owners = _data_owners(session)
        by_name = {user.username: user for user in owners}
        now = _now()
        campaign = Campaign(
            name=spec.name,
            reporting_year=spec.reporting_year,
            items={"activities": list(spec.activities), "metrics": list(spec.metrics)},
            entities=list(spec.entities),
            sites=list(spec.sites),
            due_date=spec.due_date,
            instructions_en=spec.instructions_en or None,
            instructions_zh=spec.instructions_zh or None,
            status="open",
            created_by=principal.username,
            created_at=now,
        )
        session.add(campaign)
        session.flush()
        created: list[CollectionTask] = []
        for kind, code, entity in targets:
            groups = [("activities", spec.activities)] if spec.activities else []
            if spec.metrics and kind == "entity":
                groups.append(("metrics", spec.metrics))
            named = spec.owners.get(code)
            if named is not None:
                user = by_name.get(named)
                if user is None or not _covers(session, user, entity):
                    issues.append(
                        _issue(
                            "owners",
                            named,
                            f"not a data owner whose scope covers {entity} / "
                            f"不是负责 {entity} 的数据填报人",
                        )
                    )
            owner = named if named is not None else _owner_for(session, entity, owners)
            for group, items in groups:
                task = CollectionTask(
                    campaign_id=campaign.id,
                    target_kind=kind,
                    target=code,
                    entity=entity,
                    item_group=group,
                    items=list(items),
                    owner=owner,
                    status="open",
                    due_date=spec.due_date,
                    batch_id=None,
                    flags=None,
                    version=1,
                    updated_at=now,
                )
                session.add(task)
                created.append(task)
        if issues:
            raise InputError(
                f"the campaign {shown(spec.name)} was not created / 活动未创建", issues
            )
        session.flush()
        result = _campaign_dict(campaign)
        result["tasks"] = [_task_dict(task) for task in created]
        audit.record(
            session,
            principal,
            "campaign.create",
            "campaign",
            str(campaign.id),
            after=audit.digest(result),
            detail={"name": spec.name, "tasks": len(created)},
        )
    return result


@_bilingual
def list_campaigns(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    """The campaigns with at least one task the principal can see (all for the whole group)."""
    with workspace.session() as session:
        visible = _visible(session, principal, "campaign:read")
        query = sa.select(Campaign).order_by(Campaign.id)
        if visible is not None:
            seen = sa.select(CollectionTask.campaign_id).where(CollectionTask.entity.in_(visible))
            query = query.where(Campaign.id.in_(seen))
        return [_scoped_campaign(session, c, visible) for c in session.scalars(query)]


@_bilingual
def get_campaign(workspace: Workspace, principal: Principal, campaign_id: int) -> dict[str, Any]:
    """One campaign with the tasks the principal can see.

    Raises
    ------
    NotFoundError
        When there is no such campaign, or none of its tasks is within the principal's scope.
    """
    with workspace.session() as session:
        campaign = session.get(Campaign, campaign_id)
        visible = _visible(session, principal, "campaign:read")
        found = [] if campaign is None else _tasks(session, campaign_id, visible)
        if campaign is None or (visible is not None and not found):
            raise NotFoundError(f"no campaign {campaign_id} / 活动 {campaign_id} 不存在")
        result = _scoped_campaign(session, campaign, visible)
        result["tasks"] = [_task_dict(t) for t in found]
        return result


def _tasks(
    session: Session, campaign_id: int | None, visible: frozenset[str] | None
) -> list[CollectionTask]:
    query = sa.select(CollectionTask).order_by(CollectionTask.id)
    if campaign_id is not None:
        query = query.where(CollectionTask.campaign_id == campaign_id)
    if visible is not None:
        query = query.where(CollectionTask.entity.in_(visible))
    return list(session.scalars(query))


@_bilingual
def list_tasks(
    workspace: Workspace,
    principal: Principal,
    campaign_id: int | None = None,
    *,
    status: str | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """The tasks within the principal's scope (of one campaign, in one status, of one owner)."""
    if status is not None and status not in machine.STATUSES:
        raise InputError(
            f"unknown task status {shown(status)}",
            [_issue("status", status, "unknown status", f"one of {', '.join(machine.STATUSES)}")],
        )
    with workspace.session() as session:
        found = _tasks(session, campaign_id, _visible(session, principal, "task:read"))
    return [
        _task_dict(t)
        for t in found
        if (status is None or t.status == status) and (owner is None or t.owner == owner)
    ]


def _load_task(
    session: Session, principal: Principal, task_id: int, action: str, *, lock: bool = False
) -> CollectionTask:
    """The task, after checking ``action`` (NotFoundError outside the read scope,
    AccessDeniedError within it when the role lacks ``action``)."""
    query = sa.select(CollectionTask).where(CollectionTask.id == task_id)
    if lock:
        query = query.with_for_update()
    task = session.scalars(query).one_or_none()
    if task is None or not _can(session, principal, "task:read", task.entity):
        raise NotFoundError(f"no task {task_id} / 任务 {task_id} 不存在")
    _require(session, principal, action, task.entity)
    return task


@_bilingual
def get_task(workspace: Workspace, principal: Principal, task_id: int) -> dict[str, Any]:
    """One task with its history (transitions), flag acceptances and evidence."""
    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:read")
        result = _task_dict(task)
        result["transitions"] = [
            {
                "from": t.from_status,
                "to": t.to_status,
                "actor": t.actor,
                "at": t.at.isoformat(),
                "batch_id": t.batch_id,
                "comment": t.comment,
            }
            for t in session.scalars(
                sa.select(TaskTransition)
                .where(TaskTransition.task_id == task_id)
                .order_by(TaskTransition.id)
            )
        ]
        result["acceptances"] = [
            {
                "flag_id": a.flag_id,
                "batch_id": a.batch_id,
                "comment": a.comment,
                "actor": a.actor,
                "at": a.at.isoformat(),
            }
            for a in session.scalars(
                sa.select(FlagAcceptance)
                .where(FlagAcceptance.task_id == task_id)
                .order_by(FlagAcceptance.id)
            )
        ]
        result["evidence"] = [_evidence_dict(e) for e in _evidence_rows(session, task_id)]
        return result


@_bilingual
def assign_owner(
    workspace: Workspace, principal: Principal, task_id: int, owner: str
) -> dict[str, Any]:
    """Make ``owner`` (a data owner whose scope covers the task's entity) the task's owner."""
    with workspace.write_lock() as session:
        task = _load_task(session, principal, task_id, "task:assign", lock=True)
        user = session.scalars(sa.select(User).where(User.username == owner)).one_or_none()
        if (
            user is None
            or user.role != "data_owner"
            or user.disabled
            or not _covers(session, user, task.entity)
        ):
            raise InputError(
                f"{shown(owner)} cannot own task {task_id} / 不能指派为任务负责人",
                [
                    _issue(
                        "owner",
                        owner,
                        f"not an active data owner whose scope covers {task.entity}",
                    )
                ],
            )
        before = audit.digest(_task_state(task))
        task.owner = owner
        task.version += 1
        task.updated_at = _now()
        audit.record(
            session,
            principal,
            "task.assign",
            "task",
            str(task.id),
            before=before,
            after=audit.digest(_task_state(task)),
            detail={"owner": owner},
        )
        return _task_dict(task)


# ---- transitions -------------------------------------------------------------------------


def _move(
    session: Session,
    principal: Principal,
    task: CollectionTask,
    action: str,
    *,
    reason: str = "",
    batch_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> str:
    """Take ``action`` on ``task`` (already loaded and checked): new status, version bump,
    transition row, audit event. Returns the status it came from."""
    before_state = _task_state(task)
    new = machine.next_status(task.status, action, task_id=task.id, reason=reason)
    old = task.status
    task.status = new
    task.version += 1
    now = _now()
    task.updated_at = now
    if batch_id is not None:
        task.batch_id = batch_id
    session.add(
        TaskTransition(
            task_id=task.id,
            from_status=old,
            to_status=new,
            actor=principal.username,
            at=now,
            batch_id=task.batch_id,
            comment=reason.strip() or None,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        f"task.{action}",
        "task",
        str(task.id),
        before=audit.digest(before_state),
        after=audit.digest(_task_state(task)),
        detail={"from": old, "to": new, "batch_id": task.batch_id, "reason": reason or None}
        | dict(detail or {}),
    )
    return old


_BATCH_VERBS = {"approved": "approve", "submitted": "reopen", "superseded": "supersede"}


def _set_batch_status(
    session: Session,
    principal: Principal,
    batch_id: str | None,
    status: str,
    reason: str,
    *,
    superseded_by: str | None = None,
) -> None:
    """Move the task's batch to ``status`` (who, when, why on the registry row) and record
    the audit event ``batch.approve``, ``batch.reopen`` or ``batch.supersede``."""
    if batch_id is None:
        return
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        return
    before = audit.digest(batch_state(batch))
    batch.status = status
    if superseded_by is not None:
        batch.superseded_by = superseded_by
    batch.status_changed_at = _now()
    batch.status_changed_by = principal.username
    batch.status_reason = reason
    session.flush()
    audit.record(
        session,
        principal,
        f"batch.{_BATCH_VERBS[status]}",
        "batch",
        batch.id,
        before=before,
        after=audit.digest(batch_state(batch)),
        detail={"reason": reason, "task_id": batch.task_id, "superseded_by": superseded_by},
    )


def _transition(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    action: str,
    permission: str,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> dict[str, Any]:
    with workspace.write_lock() as session:
        task = _load_task(session, principal, task_id, permission, lock=True)
        if expected_version is not None and task.version != expected_version:
            raise ConflictError(
                f"task {task_id} changed meanwhile (version {task.version}, not "
                f"{expected_version}); reload it / 任务 {task_id} 已被他人修改，请刷新后重试"
            )
        machine.next_status(task.status, action, task_id=task.id, reason=reason)  # fits?
        if action == "approve":
            _check_flags_settled(session, task)
            _check_batch_live(session, task, "submitted")
        elif action == "reopen":
            _check_batch_live(session, task, "approved")
        _move(session, principal, task, action, reason=reason)
        if action == "approve":
            _set_batch_status(session, principal, task.batch_id, "approved", "task approved")
        elif action == "reopen":
            _set_batch_status(session, principal, task.batch_id, "submitted", reason.strip())
        return _task_dict(task)


def _check_batch_live(session: Session, task: CollectionTask, expected: str) -> None:
    """The task's batch must still be ``expected``: a batch withdrawn or superseded through
    ``esgledger batches`` meanwhile is never approved (or reopened) by a task's review."""
    batch = session.get(ImportBatch, task.batch_id) if task.batch_id else None
    if batch is not None and batch.status != expected:
        raise ConflictError(
            f"the batch {batch.id} of task {task.id} is {batch.status} (by "
            f"{batch.status_changed_by}: {shown(batch.status_reason or '', 200)}); return the "
            f"task so that its owner submits again / 任务 {task.id} 的数据批次已{batch.status}，"
            "请退回任务由填报人重新提交"
        )


@_bilingual
def start_review(
    workspace: Workspace, principal: Principal, task_id: int, *, expected_version: int | None = None
) -> dict[str, Any]:
    """submitted → in_review (``task:review``)."""
    return _transition(
        workspace,
        principal,
        task_id,
        "start_review",
        "task:review",
        expected_version=expected_version,
    )


@_bilingual
def return_task(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """in_review → returned, with a reason (``task:review``); the owner submits again."""
    return _transition(
        workspace,
        principal,
        task_id,
        "return",
        "task:review",
        reason=reason,
        expected_version=expected_version,
    )


@_bilingual
def approve(
    workspace: Workspace, principal: Principal, task_id: int, *, expected_version: int | None = None
) -> dict[str, Any]:
    """in_review → approved (``task:approve``): the task's batch becomes ``approved`` and
    enters calculations. Every review flag must have been accepted first.

    Raises
    ------
    ConflictError
        When the task is not in review, or a flag of its submission is not accepted.
    """
    return _transition(
        workspace, principal, task_id, "approve", "task:approve", expected_version=expected_version
    )


@_bilingual
def reopen(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """approved → in_review, with a reason (``task:reopen``: the ESG office). The task's
    batch goes back to ``submitted`` and leaves calculations until approved again."""
    return _transition(
        workspace,
        principal,
        task_id,
        "reopen",
        "task:reopen",
        reason=reason,
        expected_version=expected_version,
    )


# ---- review flags ------------------------------------------------------------------------


def _flag_id(flag: Mapping[str, Any]) -> str:
    return str(flag.get("id") or flag.get("flag_id") or "")


def _accepted(session: Session, task: CollectionTask) -> set[str]:
    if task.batch_id is None:
        return set()
    return {
        str(f)
        for f in session.scalars(
            sa.select(FlagAcceptance.flag_id).where(
                FlagAcceptance.task_id == task.id, FlagAcceptance.batch_id == task.batch_id
            )
        )
    }


def _check_flags_settled(session: Session, task: CollectionTask) -> None:
    accepted = _accepted(session, task)
    open_flags = [
        _flag_id(f)
        for f in task.flags or []
        if f.get("severity") != "note" and _flag_id(f) not in accepted
    ]
    if open_flags:
        raise ConflictError(
            f"task {task.id} has {len(open_flags)} review flag(s) not accepted "
            f"({', '.join(open_flags[:5])}): accept each with a comment, or return the task / "
            f"任务 {task.id} 有 {len(open_flags)} 个审核提示尚未确认："
            "请逐项填写意见确认，或退回任务"
        )


@_bilingual
def accept_flag(
    workspace: Workspace, principal: Principal, task_id: int, flag_id: str, comment: str
) -> dict[str, Any]:
    """Accept one review flag of the task's current submission with a comment
    (``task:review``; the task must be in review)."""
    with workspace.write_lock() as session:
        task = _load_task(session, principal, task_id, "task:review", lock=True)
        if task.status != "in_review":
            raise ConflictError(
                f"flags are accepted during the review; task {task_id} is "
                f"{machine.STATUS_NAMES[task.status][0]} / 仅可在审核中确认审核提示"
            )
        if flag_id not in {_flag_id(f) for f in task.flags or []}:
            raise NotFoundError(f"task {task_id} has no flag {shown(flag_id)} / 无此审核提示")
        if not comment.strip():
            raise InputError(
                "accepting a flag needs a comment / 确认审核提示须填写意见",
                [_issue("comment", comment, "a comment is required / 须填写意见")],
            )
        if flag_id in _accepted(session, task):
            raise ConflictError(f"flag {shown(flag_id)} is already accepted / 该提示已确认")
        before = audit.digest(_task_state(task))
        acceptance = FlagAcceptance(
            task_id=task.id,
            batch_id=str(task.batch_id),
            flag_id=flag_id,
            comment=comment.strip(),
            actor=principal.username,
            at=_now(),
        )
        session.add(acceptance)
        task.version += 1
        task.updated_at = acceptance.at
        session.flush()
        audit.record(
            session,
            principal,
            "task.accept_flag",
            "task",
            str(task.id),
            before=before,
            after=audit.digest(_task_state(task)),
            detail={"flag_id": flag_id, "batch_id": task.batch_id, "comment": comment.strip()},
        )
        return _task_dict(task)


# ---- submissions -------------------------------------------------------------------------


def _item_matches(key: str, items: Sequence[str]) -> bool:
    return any(
        key == item or (item.endswith("*") and fnmatch.fnmatchcase(key, item)) for item in items
    )


def _activity_row_issues(
    workspace: Workspace, task: CollectionTask, batch: ImportBatch, site_entity: Mapping[str, str]
) -> tuple[list[Issue], int]:
    """Rows of the batch's lake file outside the task (another entity or site, an item not
    asked)."""
    import pyarrow.parquet as pq

    table = pq.read_table(
        workspace.lake / str(batch.lake_path), columns=["row_number", "entity", "site", "activity"]
    )
    issues: list[Issue] = []
    total = 0
    for row in table.to_pylist():
        problems: list[tuple[str, str, str, str]] = []
        if task.target_kind == "entity" and row["entity"] != task.entity:
            problems.append(
                (
                    "entity",
                    str(row["entity"]),
                    f"this task collects the data of {task.entity} / "
                    f"本任务仅收集 {task.entity} 的数据",
                    f"remove the row or send it with the task of {row['entity']}",
                )
            )
        if task.target_kind == "site" and row["site"] != task.target:
            problems.append(
                (
                    "site",
                    str(row["site"] or ""),
                    f"this task collects the data of site {task.target} / 本任务仅收集站点 "
                    f"{task.target} 的数据",
                    f"give site {task.target}, or send the row with its own site's task",
                )
            )
        if not _item_matches(str(row["activity"]), task.items):
            problems.append(
                (
                    "activity",
                    str(row["activity"]),
                    "this activity is not asked by the task / 本任务未要求该活动类型",
                    f"the task asks for {', '.join(task.items)}",
                )
            )
        for column, value, problem, fix in problems:
            total += 1
            if len(issues) < 1000:
                issues.append(
                    Issue(batch.file_name, int(row["row_number"]), column, value, problem, fix)
                )
    return issues, total


def _metric_row_issues(
    session: Session, task: CollectionTask, batch: ImportBatch
) -> tuple[list[Issue], int]:
    from esgledger.store.models_targets import MetricValue

    issues: list[Issue] = []
    for value in session.scalars(sa.select(MetricValue).where(MetricValue.batch_id == batch.id)):
        if value.entity != task.entity:
            issues.append(
                Issue(
                    batch.file_name,
                    None,
                    "entity",
                    value.entity,
                    f"this task collects the values of {task.entity} / 本任务仅收集 "
                    f"{task.entity} 的数值",
                )
            )
        if not _item_matches(value.metric, task.items):
            issues.append(
                Issue(
                    batch.file_name,
                    None,
                    "metric",
                    value.metric,
                    "this metric is not asked by the task / 本任务未要求该指标",
                    f"the task asks for {', '.join(task.items)}",
                )
            )
    return issues, len(issues)


def _approved_files(workspace: Workspace, session: Session) -> list[str]:
    """The lake files of the approved activity batches (the rows calculations read)."""
    return [
        str(workspace.lake / str(b.lake_path))
        for b in session.scalars(
            sa.select(ImportBatch).where(
                ImportBatch.kind == "activities", ImportBatch.status == "approved"
            )
        )
        if b.lake_path and (workspace.lake / str(b.lake_path)).is_file()
    ]


def _approved_rows(
    workspace: Workspace, session: Session, where: str, params: Sequence[object]
) -> Any:
    """Approved activity rows of the lake matching ``where`` (DuckDB SQL over the lake
    columns), as an Arrow table; ``None`` when there are no approved batches."""
    import duckdb

    files = _approved_files(workspace, session)
    if not files:
        return None
    con = duckdb.connect()
    try:
        # con.sql, not con.execute: Arrow from a DB-API result is an extra copy (DuckDB warns).
        return con.sql(
            f"SELECT * FROM read_parquet(?, union_by_name = true) WHERE {where}",
            params=[files, *params],
        ).to_arrow_table()
    finally:
        con.close()


def _compute_flags(
    workspace: Workspace, session: Session, task: CollectionTask, batch: ImportBatch, year: int
) -> list[dict[str, Any]]:
    """The review flags and notes of an activity submission
    (:func:`esgledger.collection.flags.compute_flags`): against the approved rows of the
    task's entity or site (last year's and this year's), the approved rows of the same
    activities at other sites (peers) and the workspace's sites. None when the flags module
    is not installed or the submission is not an activity batch."""
    import pyarrow.parquet as pq

    from esgledger.taxonomy import Taxonomy

    try:
        flags_module = importlib.import_module("esgledger.collection.flags")
    except ModuleNotFoundError:  # pragma: no cover - the module ships with this one
        return []
    compute = getattr(flags_module, "compute_flags", None)
    if compute is None or batch.lake_path is None:
        return []
    submission = pq.read_table(workspace.lake / str(batch.lake_path))
    column = "entity" if task.target_kind == "entity" else "site"
    history = _approved_rows(
        workspace,
        session,
        f"{column} = ? AND year(period_start) BETWEEN ? AND ?",
        [task.target, year - 1, year],
    )
    activities = sorted({str(a) for a in submission.column("activity").to_pylist()})
    submitted_sites = sorted({str(s) for s in submission.column("site").to_pylist() if s})
    comparables = (
        _approved_rows(
            workspace,
            session,
            "site IS NOT NULL AND NOT list_contains(?, site) AND list_contains(?, activity) "
            "AND year(period_start) = ?",
            [submitted_sites, activities, year],
        )
        if activities
        else None
    )
    sites = [
        {"site": str(code), "type": str(kind), "country": str(country)}
        for code, kind, country in session.execute(sa.select(Site.code, Site.type, Site.country))
    ]
    settings = flags_module.review_settings(workspace._config)
    review = compute(
        submission,
        history,
        comparables=comparables,
        sites=sites,
        reporting_year=year,
        settings=settings,
        taxonomy=Taxonomy.for_workspace(workspace),
    )
    return [flag.as_dict() for flag in (*review.flags, *review.notes)]


#: How many submissions one process checks and commits at a time (a positive whole number);
#: the others wait their turn. Each holds up to two database connections while it commits (the
#: write lock's and the lake re-check's), so this keeps a burst of uploads inside the
#: connection pool (5 + 10 overflow) and the CPUs free for reads.
SUBMIT_SLOTS_ENV = "ESGLEDGER_SUBMIT_SLOTS"
_SUBMIT_SLOTS_DEFAULT = 4
_slots_guard = threading.Lock()
_slots: dict[str, threading.BoundedSemaphore] = {}


def _submit_slots() -> threading.BoundedSemaphore:
    with _slots_guard:
        if "slots" not in _slots:
            text = os.environ.get(SUBMIT_SLOTS_ENV, "").strip()
            count = int(text) if text.isdigit() and int(text) > 0 else _SUBMIT_SLOTS_DEFAULT
            _slots["slots"] = threading.BoundedSemaphore(count)
        return _slots["slots"]


@dataclass(frozen=True, slots=True)
class _Expected:
    version: int
    status: str
    previous: str | None
    year: int


@_bilingual
def submit(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    file: Path | str,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Submit ``file`` (the task's filled template, or any file of its kind) to the task.

    Returns the task, with ``import`` (the import's message and batch) and its ``flags``.

    Raises
    ------
    InputError
        When the file is rejected (by the importer's checks, or rows outside the task):
        row-level issues; nothing changed, neither the task nor the data.
    ConflictError
        When the task cannot be submitted now (in review, approved), changed while the file
        was checked (a concurrent submission: the second is refused), or the same bytes were
        imported before.
    """
    from esgledger.ingest.importers import import_file

    path = Path(file)
    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:submit")
        machine.next_status(task.status, "submit", task_id=task.id)
        campaign = session.get(Campaign, task.campaign_id)
        year = campaign.reporting_year if campaign is not None else workspace.reporting_year
        expected = _Expected(task.version, task.status, task.batch_id, year)
        if expected_version is not None and expected_version != task.version:
            raise ConflictError(
                f"task {task_id} changed meanwhile (version {task.version}, not "
                f"{expected_version}); reload it / 任务 {task_id} 已被他人修改，请刷新后重试"
            )
        kind = GROUP_KINDS[task.item_group]
        site_entity = {
            str(code): str(entity)
            for code, entity in session.execute(sa.select(Site.code, Site.entity))
        }
    outcome: dict[str, Any] = {}

    def on_lock(session: Session) -> None:
        current = session.scalars(
            sa.select(CollectionTask).where(CollectionTask.id == task_id).with_for_update()
        ).one()
        if current.version != expected.version:
            raise ConflictError(
                f"task {task_id} changed while {shown(path.name)} was checked (another "
                "submission or a review came first); nothing was imported — reload the task and "
                f"submit again if still needed / 校验期间任务 {task_id} 已被修改"
                "（另一提交或审核在先），本次未导入"
            )

    def on_commit(session: Session, batch: ImportBatch) -> None:
        current = session.scalars(
            sa.select(CollectionTask).where(CollectionTask.id == task_id)
        ).one()
        if kind == "activities":
            issues, total = _activity_row_issues(workspace, current, batch, site_entity)
        else:
            issues, total = _metric_row_issues(session, current, batch)
        if issues:
            raise InputError(
                f"{path.name} was rejected: {total} row issue(s) against task {task_id}; nothing "
                f"was imported / 文件被拒绝：{total} 处与任务不符，未导入任何数据",
                issues,
                total=total,
            )
        flags = _compute_flags(workspace, session, current, batch, expected.year)
        previous = current.batch_id
        current.flags = flags
        _move(
            session,
            principal,
            current,
            "submit",
            batch_id=batch.id,
            detail={"file": path.name, "rows": batch.row_count, "flags": len(flags)},
        )
        if previous is not None and previous != batch.id:
            old = session.get(ImportBatch, previous)
            if old is not None and old.status == "submitted":
                _set_batch_status(
                    session,
                    principal,
                    previous,
                    "superseded",
                    f"resubmitted to task {task_id}",
                    superseded_by=batch.id,
                )
        outcome["task"] = _task_dict(current)

    with _submit_slots():
        result = import_file(
            workspace,
            kind,
            path,
            principal=principal,
            status="submitted",
            task_id=task_id,
            replaces=frozenset({expected.previous}) if expected.previous else frozenset(),
            on_lock=on_lock,
            then=on_commit,
        )
    if not result.created:
        raise ConflictError(
            f"{shown(path.name)} has the same bytes as batch {result.batch_id}, imported before; "
            f"nothing changed — send a corrected file / 该文件与已导入的批次 {result.batch_id} "
            "完全相同，未作任何更改"
        )
    task_out: dict[str, Any] = outcome["task"]
    task_out["import"] = {
        "batch_id": result.batch_id,
        "rows": result.rows,
        "message": result.message,
        "warnings": [str(w) for w in result.warnings],
    }
    return task_out


_UNSAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def _safe_name(name: str, default: str) -> str:
    """The last part of an uploaded file's name, without path separators or control
    characters (kept for messages; the file is stored under a name of ours)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    return cleaned[:200] or default


@_bilingual
def submit_upload(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    filename: str,
    stream: BinaryIO,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """:func:`submit` for an uploaded file: its bytes are copied into a private temporary
    folder under the upload's (cleaned) name, so row-level issues name the user's file."""
    name = _safe_name(filename, "submission.xlsx")
    with tempfile.TemporaryDirectory(prefix="esgledger-submit-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        return submit(workspace, principal, task_id, path, expected_version=expected_version)


# ---- templates ---------------------------------------------------------------------------


def _last_year_rows(workspace: Workspace, task: CollectionTask, year: int) -> list[dict[str, Any]]:
    """Approved activity rows of ``year - 1`` for the task (its entity or site and items),
    summed per (entity, site, activity, unit, supplier, meter, period), moved to ``year``."""
    import duckdb

    with workspace.session() as session:
        files = _approved_files(workspace, session)
    if not files:
        return []
    column = "entity" if task.target_kind == "entity" else "site"
    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            SELECT entity, site, activity, unit, supplier, meter, period_start, period_end,
                   sum(quantity) AS quantity
            FROM read_parquet(?, union_by_name = true)
            WHERE """
            + column
            + """ = ? AND year(period_start) = ? AND NOT coalesce(correction, false)
            GROUP BY ALL ORDER BY site NULLS FIRST, activity, period_start
            """,
            [files, task.target, year - 1],
        ).fetchall()
    finally:
        con.close()
    out = []
    for entity, site, activity, unit, supplier, meter, start, end, quantity in rows:
        if not _item_matches(str(activity), task.items):
            continue
        out.append(
            {
                "entity": entity,
                "site": site,
                "activity": activity,
                "unit": unit,
                "supplier": supplier,
                "meter": meter,
                "period_start": _next_year(start),
                "period_end": _next_year(end),
                "last_year_quantity": quantity,
                "last_year_period": f"{start.isoformat()} – {end.isoformat()}",
            }
        )
    return out


def _next_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@_bilingual
def template_for_task(
    workspace: Workspace, principal: Principal, task_id: int, out: Path | str, *, lang: str = "en"
) -> Path:
    """Write the task's XLSX template to ``out``: the template of its kind
    (:func:`esgledger.ingest.template.write_template`) with the drop-downs narrowed to the
    task's entity and sites, one row per item and site to fill — last year's rows when the
    lake has approved ones (their quantity in a reference column) — and the campaign's
    instructions in the README."""
    from esgledger.ingest.template import Prefill, write_template

    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:read")
        campaign = session.get(Campaign, task.campaign_id)
        if campaign is None:  # pragma: no cover - foreign key
            raise NotFoundError(f"no campaign {task.campaign_id}")
        if task.target_kind == "site":
            sites = [task.target]
        else:
            sites = [
                str(c)
                for c in session.scalars(sa.select(Site.code).where(Site.entity == task.entity))
            ]
        year = campaign.reporting_year
        note_en = (
            f"Campaign {campaign.name}, task {task.id}: {task.target_kind} {task.target}, due "
            f"{task.due_date.isoformat()}. {campaign.instructions_en or ''}"
        ).strip()
        note_zh = (
            f"数据收集活动“{campaign.name}”，任务 {task.id}：{task.target}，截止日期 "
            f"{task.due_date.isoformat()}。{campaign.instructions_zh or ''}"
        ).strip()
    rows: list[dict[str, Any]]
    reference: list[tuple[str, str, str]] = []
    if task.item_group == "activities":
        rows = _last_year_rows(workspace, task, year)
        covered = {str(r["activity"]) for r in rows}  # last year's rows of the item
        targets: list[str | None] = [task.target] if task.target_kind == "site" else [None]
        for site in targets:
            for item in task.items:
                if "*" in item or item in covered:
                    continue
                rows.append(
                    {
                        "entity": task.entity,
                        "site": site,
                        "activity": item,
                        "period_start": dt.date(year, 1, 1),
                        "period_end": dt.date(year, 12, 31),
                    }
                )
        reference = [
            ("last_year_quantity", "last year's quantity", "去年数量"),
            ("last_year_period", "last year's period", "去年期间"),
        ]
    else:
        rows = [{"metric": code, "entity": task.entity, "year": year} for code in task.items]
    prefill = Prefill(
        rows=rows,
        reference=reference,
        entities=[task.entity],
        sites=(sites or None) if task.item_group == "activities" else None,
        note=(note_en, note_zh),
    )
    return write_template(
        GROUP_KINDS[task.item_group], out, lang=lang, workspace=workspace, prefill=prefill
    )


@_bilingual
def template_download(
    workspace: Workspace, principal: Principal, task_id: int, *, lang: str = "en"
) -> tuple[bytes, str]:
    """:func:`template_for_task` as bytes, with the file name to offer
    (``task-<id>-<target>.xlsx``)."""
    with tempfile.TemporaryDirectory(prefix="esgledger-template-") as folder:
        path = template_for_task(
            workspace, principal, task_id, Path(folder) / "template.xlsx", lang=lang
        )
        data = path.read_bytes()
    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:read")
        target = _safe_name(task.target, "task").replace(" ", "_")
    return data, f"task-{task_id}-{target}.xlsx"


# ---- evidence ----------------------------------------------------------------------------


def evidence_max_bytes() -> int:
    """The evidence size limit: :data:`EVIDENCE_MAX_BYTES_ENV` when a positive whole number,
    else :data:`EVIDENCE_MAX_BYTES`."""
    text = os.environ.get(EVIDENCE_MAX_BYTES_ENV, "").strip().replace("_", "")
    return int(text) if text.isdigit() and int(text) > 0 else EVIDENCE_MAX_BYTES


def _evidence_type(name: str, data: bytes) -> str:
    """The content type of an allowed evidence file, checked by extension and magic bytes."""
    suffix = Path(name).suffix.lower()
    allowed = ", ".join(sorted({s.lstrip(".") for s in EVIDENCE_TYPES}))
    spec = EVIDENCE_TYPES.get(suffix)
    if spec is None:
        raise InputError(
            f"{shown(name)} was refused: evidence files are {allowed} / 证明材料仅限 {allowed}",
            [Issue(name, None, None, suffix, "file type not allowed", f"send one of: {allowed}")],
        )
    content_type, magics = spec
    if magics:
        ok = any(data.startswith(m) for m in magics)
    else:  # CSV: text (UTF-8 or GB18030), no NUL
        ok = b"\x00" not in data and _decodes(data)
    if not ok:
        raise InputError(
            f"{shown(name)} was refused: its content is not a {suffix.lstrip('.')} file / "
            "文件内容与扩展名不符",
            [
                Issue(
                    name,
                    None,
                    None,
                    None,
                    f"the content does not match the extension {suffix}",
                    "send the original file",
                )
            ],
        )
    return content_type


def _decodes(data: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _evidence_rows(session: Session, task_id: int) -> list[Evidence]:
    return list(
        session.scalars(
            sa.select(Evidence).where(Evidence.task_id == task_id).order_by(Evidence.id)
        )
    )


def _evidence_dict(evidence: Evidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "task_id": evidence.task_id,
        "sha256": evidence.sha256,
        "name": evidence.original_name,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "actor": evidence.actor,
        "at": evidence.at.isoformat(),
    }


@_bilingual
def attach_evidence(
    workspace: Workspace, principal: Principal, task_id: int, filename: str, data: bytes
) -> dict[str, Any]:
    """Store an evidence file for the task, content-addressed
    (``evidence/<sha256[:2]>/<sha256>``; the same bytes are stored once), after checking its
    size (:func:`evidence_max_bytes`) and its type (extension and magic bytes: pdf, png,
    jpeg, xlsx, csv). Evidence is never executed, rendered or served inline.

    Raises
    ------
    InputError
        For an empty, too large or not allowed file.
    """
    name = _safe_name(filename, "evidence")
    with workspace.session() as session:  # who may, before what the file is
        _load_task(session, principal, task_id, "evidence:write")
    limit = evidence_max_bytes()
    if len(data) > limit:
        raise InputError(
            f"{shown(name)} was refused: {human_bytes(len(data))} is over the evidence limit "
            f"({human_bytes(limit)}, {EVIDENCE_MAX_BYTES_ENV}) / 文件超过大小上限",
            [Issue(name, None, None, None, "file too large", f"at most {human_bytes(limit)}")],
        )
    if not data:
        raise InputError(
            f"{shown(name)} was refused: it is empty / 文件为空",
            [Issue(name, None, None, None, "empty file")],
        )
    content_type = _evidence_type(name, data)
    sha = hashlib.sha256(data).hexdigest()
    relative = f"{EVIDENCE_DIR}/{sha[:2]}/{sha}"
    with workspace.write_lock() as session:
        task = _load_task(session, principal, task_id, "evidence:write", lock=True)
        target = workspace.root / relative
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{sha}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)
        evidence = Evidence(
            task_id=task.id,
            sha256=sha,
            original_name=name,
            content_type=content_type,
            size=len(data),
            stored_path=relative,
            actor=principal.username,
            at=_now(),
        )
        session.add(evidence)
        session.flush()
        audit.record(
            session,
            principal,
            "evidence.attach",
            "task",
            str(task.id),
            after=sha,
            detail={"evidence_id": evidence.id, "name": name, "size": len(data)},
        )
        return _evidence_dict(evidence)


@_bilingual
def list_evidence(workspace: Workspace, principal: Principal, task_id: int) -> list[dict[str, Any]]:
    """The task's evidence files (``evidence:read``)."""
    with workspace.session() as session:
        _load_task(session, principal, task_id, "evidence:read")
        return [_evidence_dict(e) for e in _evidence_rows(session, task_id)]


@_bilingual
def read_evidence(
    workspace: Workspace, principal: Principal, task_id: int, evidence_id: int
) -> tuple[bytes, str, str]:
    """One evidence file: ``(bytes, content type, name)``; the bytes are checked against
    their sha256 (a changed file is refused, not served)."""
    with workspace.session() as session:
        _load_task(session, principal, task_id, "evidence:read")
        evidence = session.get(Evidence, evidence_id)
        if evidence is None or evidence.task_id != task_id:
            raise NotFoundError(f"task {task_id} has no evidence {evidence_id} / 无此证明材料")
    path = workspace.root / evidence.stored_path
    data = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise ConflictError(
            f"the stored evidence file {evidence.stored_path} is missing or changed / "
            "证明材料文件缺失或已被改动"
        )
    return data, evidence.content_type, evidence.original_name


# ---- progress ----------------------------------------------------------------------------


def _baseline(workspace: Workspace, session: Session, year: int) -> tuple[Run | None, bool]:
    """The run whose emissions weigh the tasks: the latest run of ``year - 1``, else the
    latest run of an earlier year, else the latest run of any year (a proxy: ``True``)."""
    runs = list(session.scalars(sa.select(Run).order_by(Run.created_at.desc(), Run.id.desc())))
    for candidates, proxy in (
        ([r for r in runs if r.reporting_year == year - 1], False),
        ([r for r in runs if r.reporting_year < year], False),
        (runs, True),
    ):
        for run in candidates:
            if (workspace.lake / "runs" / run.id / "line_items.parquet").is_file():
                return run, proxy
    return None, False


@functools.lru_cache(maxsize=8)
def _activity_totals(path: str) -> tuple[tuple[Any, ...], ...]:
    """CO2e [kg, consolidated] per entity, site and activity of a run's line items. Cached by
    the file's path: a run's line items never change once written (and a new run has a new
    folder), and DuckDB's start and scan cost about 60 ms a progress request on the demo."""
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT entity, site, activity, sum(co2e_kg_consolidated) FROM read_parquet(?) "
            "WHERE NOT excluded AND activity IS NOT NULL GROUP BY ALL",
            [path],
        ).fetchall()
    finally:
        con.close()
    return tuple(tuple(row) for row in rows)


def _task_weights(
    workspace: Workspace, run: Run, found: Sequence[CollectionTask]
) -> dict[int, float]:
    """Each activity task's share of the run's emissions [t CO2e, consolidated]."""
    rows = _activity_totals(str(workspace.lake / "runs" / run.id / "line_items.parquet"))
    by_entity: dict[str, list[tuple[str, float]]] = {}
    by_site: dict[str, list[tuple[str, float]]] = {}
    for entity, site, activity, kg in rows:
        if kg is None:
            continue
        by_entity.setdefault(str(entity), []).append((str(activity), float(kg)))
        if site is not None:
            by_site.setdefault(str(site), []).append((str(activity), float(kg)))
    weights: dict[int, float] = {}
    for task in found:
        if task.item_group != "activities":
            continue
        lines = (by_entity if task.target_kind == "entity" else by_site).get(task.target, [])
        weights[task.id] = sum(kg for activity, kg in lines if _item_matches(activity, task.items))
        weights[task.id] /= 1000.0
    return weights


@_bilingual
def progress(workspace: Workspace, principal: Principal, campaign_id: int) -> dict[str, Any]:
    """How far a campaign has come, within the principal's scope.

    ``by_entity_item``: per (entity, item group) the task count per status; ``overdue``: the
    tasks past their due date and not approved; ``emissions``: the share of last year's
    emissions whose tasks are approved — each activity task weighs the emissions of its
    entity or site and items in the baseline run (the latest run of the year before the
    campaign's, else of an earlier year, else the latest run, marked ``proxy``); ``share`` is
    ``None`` without a run or when the tasks weigh nothing.
    """
    with workspace.session() as session:
        campaign = session.get(Campaign, campaign_id)
        visible = _visible(session, principal, "campaign:read")
        found = [] if campaign is None else _tasks(session, campaign_id, visible)
        if campaign is None or (visible is not None and not found):
            raise NotFoundError(f"no campaign {campaign_id} / 活动 {campaign_id} 不存在")
        run, proxy = _baseline(workspace, session, campaign.reporting_year)
        shown_campaign = _scoped_campaign(session, campaign, visible)
    today = _now().date()
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for task in found:
        counts = groups.setdefault(
            (task.entity, task.item_group), dict.fromkeys(machine.STATUSES, 0)
        )
        counts[task.status] += 1
    overdue = [
        {"id": t.id, "entity": t.entity, "target": t.target, "item_group": t.item_group,
         "status": t.status, "owner": t.owner, "due_date": t.due_date.isoformat()}
        for t in found
        if t.status != "approved" and t.due_date < today
    ]  # fmt: skip
    weights = _task_weights(workspace, run, found) if run is not None else {}
    total = sum(weights.values())
    status_of = {t.id: t.status for t in found}
    approved = sum(w for task_id, w in weights.items() if status_of[task_id] == "approved")
    by_status = dict.fromkeys(machine.STATUSES, 0)
    for task in found:
        by_status[task.status] += 1
    return {
        "campaign": shown_campaign,
        "tasks": len(found),
        "by_status": by_status,
        "by_entity_item": [
            {"entity": entity, "item_group": group, "counts": counts}
            for (entity, group), counts in sorted(groups.items())
        ],
        "overdue": overdue,
        "emissions": {
            "baseline_run": None if run is None else run.id,
            "baseline_year": None if run is None else run.reporting_year,
            "proxy": proxy,
            "t_co2e": round(total, 3),
            "approved_t_co2e": round(approved, 3),
            "share": round(approved / total, 4) if total > 0 else None,
        },
    }


# ---- what the pages show beside the API's contract -----------------------------------------


#: Rows an upload's preview shows at most (the offending rows first).
PREVIEW_ROWS = 50


@_bilingual
def upload_preview(
    workspace: Workspace,
    principal: Principal,
    task_id: int,
    filename: str,
    data: bytes,
    issues: Sequence[Issue],
    *,
    limit: int = PREVIEW_ROWS,
) -> dict[str, Any] | None:
    """The rows of a rejected upload as the task's importer reads them, to show beside its
    issues: ``columns`` (canonical names), ``rows`` (``{"row": n, "cells": [..],
    "bad": [column, ..]}``; the rows with issues first, then the others, at most ``limit``),
    ``total_rows`` and ``shown_rows``. ``None`` when the file cannot be read as a table at all
    (its header is wrong, it is damaged): the issues alone then say why. Changes nothing."""
    from esgledger.ingest.readers import read_table

    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:submit")
        kind = GROUP_KINDS[task.item_group]
    if kind == "activities":
        from esgledger.ingest.activities import _header_aliases

        columns: Mapping[str, Sequence[str]] = _header_aliases()
    else:
        from esgledger.disclosure.values import value_columns

        columns = value_columns()
    bad: dict[int, set[str]] = {}
    for issue in issues:
        if issue.row is not None:
            bad.setdefault(int(issue.row), set()).add(str(issue.column or ""))
    name = _safe_name(filename, "submission.xlsx")
    with tempfile.TemporaryDirectory(prefix="esgledger-preview-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            raw = read_table(path, columns=columns)
        except (EsgledgerError, OSError, ValueError):
            return None
    names = [str(n) for n in raw.table.column_names]
    records = list(raw.rows())
    flagged = [(n, r) for n, r in records if n in bad]
    others = [(n, r) for n, r in records if n not in bad]
    rows: list[dict[str, Any]] = []
    for number, record in (flagged + others)[:limit]:
        rows.append(
            {
                "row": number,
                "cells": ["" if record.get(c) is None else str(record.get(c)) for c in names],
                "bad": sorted(c for c in bad.get(number, set()) if c in names),
                "whole_row": bool(bad.get(number)) and not (bad[number] & set(names)),
            }
        )
    rows.sort(key=lambda r: int(r["row"]))
    return {"columns": names, "rows": rows, "total_rows": len(records), "shown_rows": len(rows)}


@_bilingual
def year_on_year(workspace: Workspace, principal: Principal, task_id: int) -> dict[str, Any]:
    """The task with its current submission side by side with last year: per (site, activity,
    unit) the submitted quantity, last year's approved quantity of the task's entity or site
    in the same unit (``None`` without one) and the change (``None`` when last year is 0 or
    missing). A metric task, or a task without a submission, has no ``comparison`` rows.
    The task is :func:`get_task`'s; ``year`` is the campaign's reporting year."""
    import duckdb

    task_out = get_task(workspace, principal, task_id)
    comparison: list[dict[str, Any]] = []
    with workspace.session() as session:
        task = _load_task(session, principal, task_id, "task:read")
        campaign = session.get(Campaign, task.campaign_id)
        year = campaign.reporting_year if campaign is not None else workspace.reporting_year
        batch = None if task.batch_id is None else session.get(ImportBatch, task.batch_id)
        if batch is None or batch.kind != "activities" or not batch.lake_path:
            return {"task": task_out, "year": year, "comparison": comparison}
        lake_file = workspace.lake / str(batch.lake_path)
        column = "entity" if task.target_kind == "entity" else "site"
        files = [f for f in _approved_files(workspace, session) if f != str(lake_file)]
    con = duckdb.connect()
    try:
        current = con.execute(
            "SELECT coalesce(site, ''), activity, unit, sum(quantity) FROM read_parquet(?) "
            "GROUP BY ALL ORDER BY 1, 2, 3",
            [str(lake_file)],
        ).fetchall()
        previous: dict[tuple[str, str, str], float] = {}
        if files:
            for site, activity, unit, quantity in con.execute(
                "SELECT coalesce(site, ''), activity, unit, sum(quantity) "
                "FROM read_parquet(?, union_by_name = true) WHERE "
                + column
                + " = ? AND year(period_start) = ? AND NOT coalesce(correction, false) "
                "GROUP BY ALL",
                [files, task.target, year - 1],
            ).fetchall():
                previous[(str(site), str(activity), str(unit))] = float(quantity)
    finally:
        con.close()
    for site, activity, unit, quantity in current:
        last = previous.get((str(site), str(activity), str(unit)))
        change = None if not last else round(float(quantity) / last - 1, 6)
        comparison.append(
            {
                "site": str(site),
                "activity": str(activity),
                "unit": str(unit),
                "quantity": float(quantity),
                "last_year": last,
                "change": change,
            }
        )
    return {"task": task_out, "year": year, "comparison": comparison}


@_bilingual
def campaign_choices(workspace: Workspace, principal: Principal) -> dict[str, Any]:
    """What a new campaign may ask (``campaign:create``): the activity types of the
    workspace's taxonomy (families left out), the metrics of the disclosure catalogue and the
    entities, each with its names; and the workspace's reporting year."""
    from esgledger.ingest.metrics import workspace_catalogue
    from esgledger.taxonomy import Taxonomy

    policy.require(principal, "campaign:create")
    activities = [
        {"key": t.activity, "name": {"en": t.name, "zh": t.name_zh}}
        for t in Taxonomy.for_workspace(workspace)
        if not t.is_family
    ]
    metrics = [
        {"code": m.code, "name": {"en": m.title_en, "zh": m.title_zh}}
        for m in workspace_catalogue(workspace)
    ]
    with workspace.session() as session:
        entities = [
            {"code": str(code), "name": str(name)}
            for code, name in session.execute(
                sa.select(Entity.code, Entity.name).order_by(Entity.code)
            )
        ]
    return {
        "reporting_year": workspace.reporting_year,
        "activities": activities,
        "metrics": metrics,
        "entities": entities,
    }


@_bilingual
def campaign_overview(
    workspace: Workspace, principal: Principal, campaign_id: int
) -> dict[str, Any]:
    """:func:`progress` with the campaign's tasks (as :func:`get_campaign` lists them), the
    task counts per item (``by_item``: item -> status -> count), the days each overdue task
    is late (``days_overdue``) and, when the principal may assign tasks (``task:assign``),
    the data owners eligible for each task (``owners``: task id -> usernames; else ``None``)."""
    out = progress(workspace, principal, campaign_id)
    out["task_list"] = get_campaign(workspace, principal, campaign_id)["tasks"]
    today = _now().date()
    for row in out["overdue"]:
        row["days_overdue"] = (today - dt.date.fromisoformat(row["due_date"])).days
    by_item: dict[str, dict[str, int]] = {}
    for task in out["task_list"]:
        for item in task["items"]:
            counts = by_item.setdefault(item, dict.fromkeys(machine.STATUSES, 0))
            counts[task["status"]] += 1
    out["by_item"] = [{"item": k, "counts": v} for k, v in sorted(by_item.items())]
    owners: dict[str, list[str]] | None = None  # task id (as JSON keys are text) -> owners
    if policy.allowed(principal, "task:assign") is True:
        with workspace.session() as session:
            people = _data_owners(session)
            chains = {t["entity"]: _ancestors(session, t["entity"]) for t in out["task_list"]}
        owners = {
            str(t["id"]): sorted(
                u.username
                for u in people
                if u.scope_entity is None or u.scope_entity in chains[t["entity"]]
            )
            for t in out["task_list"]
        }
    out["owners"] = owners
    return out


@_bilingual
def campaigns_with_progress(workspace: Workspace, principal: Principal) -> list[dict[str, Any]]:
    """:func:`list_campaigns`, each with ``counts`` (status -> number of its tasks within the
    principal's scope), ``tasks`` (their number) and ``overdue`` (those past due, not
    approved)."""
    campaigns = list_campaigns(workspace, principal)
    today = _now().date()
    with workspace.session() as session:
        found = _tasks(session, None, _visible(session, principal, "campaign:read"))
        rows = [(t.campaign_id, t.status, t.due_date) for t in found]
    for campaign in campaigns:
        counts = dict.fromkeys(machine.STATUSES, 0)
        overdue = 0
        for campaign_id, status, due in rows:
            if campaign_id == campaign["id"]:
                counts[status] += 1
                overdue += status != "approved" and due < today
        campaign["counts"] = counts
        campaign["tasks"] = sum(counts.values())
        campaign["overdue"] = overdue
    return campaigns
