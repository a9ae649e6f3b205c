"""SQL table of the data-centre meter tree (``esgledger.energy``).

数据中心计量树表。

Readings do not live here: they are lake files (``lake/telemetry/readings/``), one per
import batch. A meter is reference data, replaced by a later ``meters`` import of the same id
(the row's ``batch_id`` names the import that last set it); created by migration
``0011_energy``.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = ["EnergyMeter"]


class EnergyMeter(Base):
    """One meter of a site's meter tree (``esgledger/schema/meter_columns.csv``)."""

    __tablename__ = "energy_meters"

    meter: Mapped[str] = mapped_column(String(100), primary_key=True)
    site: Mapped[str] = mapped_column(String(100), ForeignKey("sites.code"), index=True)
    parent: Mapped[str | None] = mapped_column(String(100), comment="upstream meter id")
    role: Mapped[str] = mapped_column(String(20), comment="esgledger.energy.roles.ROLES")
    unit: Mapped[str] = mapped_column(String(64), comment="unit of the readings as given")
    kind: Mapped[str] = mapped_column(String(10), comment="counter or interval")
    multiplier: Mapped[float] = mapped_column(Float, comment="CT/PT scaling of every reading")
    rollover: Mapped[float | None] = mapped_column(
        Float, comment="a counter's maximum register value, in the meter's unit"
    )
    timezone: Mapped[str] = mapped_column(String(64), comment="IANA time zone of the site")
    fuel: Mapped[str | None] = mapped_column(String(40), comment="fuel of a volume fuel meter")
    timestamp_marks: Mapped[str] = mapped_column(
        String(5), comment="end or start: what an interval reading's timestamp marks"
    )
    name: Mapped[str | None] = mapped_column(String(300))
    name_zh: Mapped[str | None] = mapped_column(String(300))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))
