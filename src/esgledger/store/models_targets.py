"""SQL tables of ambition and disclosure: targets, abatement measures, carbon credits and their
retirements, reported emissions of earlier years, company metrics and metric values.

目标、减排措施、碳信用及注销、历史排放、指标定义与指标数值的数据表。

Declared on the same :class:`~esgledger.store.models.Base` as the other tables; created by
migration ``0006_targets_disclosure``.

* A target is never overwritten: ``(id, revision)`` is the primary key and a change stores the
  next revision with the reason for it, so the history of a target (SBTi revalidation,
  base-year recalculation) stays readable. The definition is the JSON of
  :class:`esgledger.targets.model.Target`, validated by the domain before it is stored.
* A carbon credit can be retired once: ``credits.retired_t`` carries the tonnes retired so far
  with the CHECK ``0 <= retired_t <= volume_t``, raised by every retirement in the same
  transaction (``UPDATE ... SET retired_t = retired_t + x``, serialised on the row lock), and a
  retirement reference is the primary key of ``credit_retirements``.
* ``emissions_history`` keeps published totals of years the workspace has no run for (the
  years before esgledger), so progress toward a target can start at its base year; a year
  with an inventory run always uses the run.
* ``metric_values`` holds typed E/S/G metric values per entity, period and breakdown; metrics
  derived from the inventory are never stored here (they are computed from a run).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = [
    "Credit",
    "CreditRetirement",
    "EmissionsHistory",
    "Measure",
    "MetricDefinition",
    "MetricValue",
    "TargetRevision",
]

#: [t CO2e] rounding allowance of the credit volume CHECK (sums of float retirements).
VOLUME_TOLERANCE_T = 1e-6


class TargetRevision(Base):
    """One revision of one target; the current target is its highest revision."""

    __tablename__ = "targets"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), comment="active or withdrawn")
    definition: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="the target as esgledger.targets.model.Target JSON"
    )
    reason: Mapped[str | None] = mapped_column(Text, comment="why this revision was made")
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class Measure(Base):
    """One abatement measure of the planner (``esgledger.targets.planner.Measure`` JSON)."""

    __tablename__ = "measures"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class Credit(Base):
    """One block of carbon credits (offsets or removals) held by the group."""

    __tablename__ = "credits"
    __table_args__ = (
        UniqueConstraint(
            "registry_name", "serial_start", name="uq_credits_registry_name_serial_start"
        ),
        CheckConstraint("volume_t > 0", name="volume_positive"),
        CheckConstraint(
            f"retired_t >= 0 AND retired_t <= volume_t + {VOLUME_TOLERANCE_T}",
            name="retired_within_volume",
        ),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    registry_name: Mapped[str] = mapped_column(
        String(100), comment="registry of the credits: Verra, Gold Standard, CCER ..."
    )
    serial_start: Mapped[str | None] = mapped_column(
        String(200), comment="block:first serial; empty when the registry gives no serials"
    )
    serial_end: Mapped[str | None] = mapped_column(String(200))
    volume_t: Mapped[float] = mapped_column(Float, comment="[t CO2e] credits in the block")
    vintage: Mapped[int] = mapped_column(Integer, comment="year the reduction or removal happened")
    kind: Mapped[str] = mapped_column(String(20), comment="avoidance or removal")
    definition: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="the credit as esgledger.targets.offsets.Credit JSON"
    )
    retired_t: Mapped[float] = mapped_column(Float, comment="[t CO2e] retired so far")
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class CreditRetirement(Base):
    """One retirement of credits from one block, for one claim."""

    __tablename__ = "credit_retirements"
    __table_args__ = (CheckConstraint("volume_t > 0", name="volume_positive"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True, comment="registry reference")
    credit: Mapped[str] = mapped_column(String(200), ForeignKey("credits.id"))
    volume_t: Mapped[float] = mapped_column(Float, comment="[t CO2e] retired")
    retired_on: Mapped[date] = mapped_column(Date)
    claim_year: Mapped[int] = mapped_column(Integer, comment="reporting year the claim is for")
    purpose: Mapped[str] = mapped_column(String(20), comment="neutrality, net_zero or other")
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class EmissionsHistory(Base):
    """A published total of a year without an inventory run (scope ``1``, ``2_location``,
    ``2_market``, ``3``; ``category`` 1-15 for a scope 3 category, 0 for the scope total)."""

    __tablename__ = "emissions_history"
    __table_args__ = (CheckConstraint("t_co2e >= 0", name="t_co2e_non_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[int] = mapped_column(Integer, primary_key=True)
    t_co2e: Mapped[float] = mapped_column(Float, comment="[t CO2e] as published")
    source: Mapped[str] = mapped_column(Text, comment="where the figure was published")
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class MetricDefinition(Base):
    """A company-specific metric added to the shipped catalogue."""

    __tablename__ = "metric_definitions"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class MetricValue(Base):
    """One typed value of one metric for one entity, period and breakdown."""

    __tablename__ = "metric_values"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period_order"),)

    metric: Mapped[str] = mapped_column(String(60), primary_key=True)
    entity: Mapped[str] = mapped_column(String(100), ForeignKey("entities.code"), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    breakdown: Mapped[str] = mapped_column(
        String(200), primary_key=True, comment="key=value;... or empty for the total"
    )
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float, comment="in the unit of column unit")
    text: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(60))
    evidence: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))
