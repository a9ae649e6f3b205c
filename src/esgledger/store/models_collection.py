"""Data-collection campaigns: campaigns, tasks, their transitions, review-flag acceptances and
evidence files (``esgledger.store.models_collection``; the rules live in
``esgledger.collection``).

A campaign asks entities and sites for items (activity keys and metric codes) of one reporting
year; it has one task per (entity or site, item group). A task's submitted file becomes an
import batch with ``status = 'submitted'`` and ``task_id`` set (``import_batches``); the task
names its current batch. ``version`` counts the task's changes: every transition checks and
bumps it under the workspace's write lock, so of two concurrent submissions one is refused.
Transitions, flag acceptances and evidence are append-only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = ["Campaign", "CollectionTask", "Evidence", "FlagAcceptance", "TaskTransition"]


class Campaign(Base):
    """One data-collection campaign of the ESG office."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reporting_year: Mapped[int] = mapped_column(Integer)
    items: Mapped[dict[str, object]] = mapped_column(
        JSON, comment='{"activities": [activity keys], "metrics": [metric codes]}'
    )
    entities: Mapped[list[str]] = mapped_column(JSON, comment="entity codes asked")
    sites: Mapped[list[str]] = mapped_column(JSON, comment="site codes asked")
    due_date: Mapped[date] = mapped_column(Date)
    instructions_en: Mapped[str | None] = mapped_column(Text)
    instructions_zh: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), comment="open or closed")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CollectionTask(Base):
    """What one entity or site owes a campaign for one item group, and where it stands."""

    __tablename__ = "collection_tasks"
    __table_args__ = (
        UniqueConstraint("campaign_id", "target_kind", "target", "item_group", name="uq_task"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("campaigns.id"))
    target_kind: Mapped[str] = mapped_column(String(10), comment="entity or site")
    target: Mapped[str] = mapped_column(String(100), comment="entity or site code")
    entity: Mapped[str] = mapped_column(
        String(100), comment="the entity whose scope covers the task (a site's own entity)"
    )
    item_group: Mapped[str] = mapped_column(String(20), comment="activities or metrics")
    items: Mapped[list[str]] = mapped_column(JSON, comment="activity keys or metric codes")
    owner: Mapped[str | None] = mapped_column(
        String(100), comment="username of the data owner; empty until assigned"
    )
    status: Mapped[str] = mapped_column(
        String(20), comment="open, submitted, in_review, returned or approved"
    )
    due_date: Mapped[date] = mapped_column(Date)
    batch_id: Mapped[str | None] = mapped_column(
        String(40), comment="the current submission (an import batch id)"
    )
    flags: Mapped[list[dict[str, object]] | None] = mapped_column(
        JSON, comment="review flags of the current submission"
    )
    version: Mapped[int] = mapped_column(
        Integer, comment="bumped by every change: optimistic locking"
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskTransition(Base):
    """One change of a task's status: from, to, who, when, why."""

    __tablename__ = "task_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("collection_tasks.id"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text, comment="the reason of a return or reopen")


class FlagAcceptance(Base):
    """A reviewer's acceptance of one review flag of a submission, with a comment."""

    __tablename__ = "flag_acceptances"
    __table_args__ = (UniqueConstraint("task_id", "batch_id", "flag_id", name="uq_flag_accept"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("collection_tasks.id"))
    batch_id: Mapped[str] = mapped_column(String(40))
    flag_id: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    """A file attached to a task (invoice, meter photo, bill), stored content-addressed under
    ``evidence/<sha256[:2]>/<sha256>`` in the workspace."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("collection_tasks.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, comment="[bytes]")
    stored_path: Mapped[str] = mapped_column(String(200), comment="relative to the workspace")
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
