"""SQL tables of the green-power register: instruments and their allocations.

绿色电力登记表：环境权益工具及其分配。

Declared on the same :class:`~esgledger.store.models.Base` as the other tables (so Alembic and
``tests/unit/store/test_migrations.py`` see them); created by migration
``0004_instruments``.

Double counting is refused by the database itself (GHG Protocol Scope 2 Guidance, Table 7.1,
criterion 2: an instrument is the only claim on its MWh):

* an instrument id is the primary key of ``instruments``, and ``(type, registry_id)`` is
  unique, so the same certificate batch cannot be registered twice under two ids;
* ``instruments.allocated_mwh`` carries the MWh allocated so far, with the CHECK
  ``0 <= allocated_mwh <= mwh`` (plus 1e-6 MWh for floating-point sums); every allocation
  row raises it in the same transaction (``store/repository_renewables.py``), by an
  ``UPDATE ... SET allocated_mwh = allocated_mwh + x``, which PostgreSQL serialises on the row
  lock, so two concurrent allocations cannot both fit into the remaining volume;
* ``(instrument, site, period_start)`` is the primary key of ``instrument_allocations``: an
  instrument is allocated to one site and period once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = ["Instrument", "InstrumentAllocation"]

#: [MWh] rounding allowance of the volume CHECK (sums of float allocations).
VOLUME_TOLERANCE_MWH = 1e-6


class Instrument(Base):
    """One contractual instrument: certificate batch, PPA, green tariff or on-site plant
    (``esgledger/schema/instrument_columns.csv``)."""

    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("type", "registry_id", name="uq_instruments_type_registry_id"),
        CheckConstraint("mwh > 0", name="mwh_positive"),
        CheckConstraint(
            f"allocated_mwh >= 0 AND allocated_mwh <= mwh + {VOLUME_TOLERANCE_MWH}",
            name="allocated_within_volume",
        ),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )

    instrument: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), comment="instrument_types.csv key")
    technology: Mapped[str] = mapped_column(String(40), comment="instrument_technologies.csv")
    generator: Mapped[str | None] = mapped_column(String(300))
    commissioned: Mapped[date | None] = mapped_column(Date)
    country: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2 of generation")
    region: Mapped[str] = mapped_column(String(60), comment="region code of generation")
    period_start: Mapped[date] = mapped_column(Date, comment="first day of the vintage")
    period_end: Mapped[date] = mapped_column(Date, comment="last day of the vintage")
    mwh: Mapped[float] = mapped_column(Float, comment="[MWh] volume")
    retired_on: Mapped[date | None] = mapped_column(Date)
    retired_for: Mapped[str | None] = mapped_column(
        String(100), comment="entity or site code the instrument was retired for"
    )
    registry_id: Mapped[str | None] = mapped_column(String(200))
    co2_kg_per_mwh: Mapped[float | None] = mapped_column(
        Float, comment="[kg CO2/MWh] rate conveyed (green tariff); empty = 0"
    )
    contract_signed: Mapped[date | None] = mapped_column(Date)
    attributes_sold: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    allocated_mwh: Mapped[float] = mapped_column(
        Float, comment="[MWh] sum of the instrument's allocations"
    )
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class InstrumentAllocation(Base):
    """MWh of one instrument allocated to one site's consumption in one period."""

    __tablename__ = "instrument_allocations"
    __table_args__ = (CheckConstraint("mwh > 0", name="mwh_positive"),)

    instrument: Mapped[str] = mapped_column(
        String(200), ForeignKey("instruments.instrument"), primary_key=True
    )
    site: Mapped[str] = mapped_column(String(100), ForeignKey("sites.code"), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    entity: Mapped[str] = mapped_column(String(100), ForeignKey("entities.code"))
    mwh: Mapped[float] = mapped_column(Float, comment="[MWh] allocated")
    rule: Mapped[str] = mapped_column(
        String(40), comment="site, entity or group: the pool the allocation came from"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
