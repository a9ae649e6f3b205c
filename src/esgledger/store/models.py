"""SQL tables of a workspace (SQLAlchemy 2 declarative models).

The SQL side holds what is small and relational: the organisation, user activity types,
user factor sets, exchange rates and the registry of import batches. Activity rows — the big
volume — live in the Parquet lake, one immutable file per accepted batch, and are registered
here by their content hash.

Schema changes go through Alembic (``store/migrations``); never ``create_all`` in production
code. Column comments carry units so that the database documents itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "BATCH_STATUSES",
    "ActivityType",
    "Base",
    "Entity",
    "Factor",
    "FactorSet",
    "FxRate",
    "ImportBatch",
    "Site",
    "WorkspaceInfo",
]


#: Constraint names are fixed by convention so that later migrations can name what they alter
#: (SQLite can only alter a table by copying it, which needs every constraint named).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkspaceInfo(Base):
    """One row: what this workspace is."""

    __tablename__ = "workspace_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reporting_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_version: Mapped[str] = mapped_column(String(40))


#: What a batch's ``status`` may be. Only ``approved`` batches enter a calculation by default;
#: ``withdrawn`` and ``superseded`` batches keep their lake file and registry row for ever.
BATCH_STATUSES: tuple[str, ...] = ("submitted", "approved", "withdrawn", "superseded")


class ImportBatch(Base):
    """One accepted import: a file, its content hash, and where its rows went.

    The pair (kind, content_hash) is unique: importing the same bytes again is a no-op.
    """

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("kind", "content_hash", name="uq_batch_kind_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64), comment="sha256 of the file bytes")
    row_count: Mapped[int] = mapped_column(Integer)
    lake_path: Mapped[str | None] = mapped_column(
        String(500), comment="path relative to the workspace lake, for activity batches"
    )
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        String(20),
        server_default="approved",
        comment="submitted (awaiting review), approved (enters calculations), withdrawn, "
        "superseded; see BATCH_STATUSES",
    )
    imported_by: Mapped[str | None] = mapped_column(
        String(100), comment="username, or local:<os user> from the CLI"
    )
    task_id: Mapped[int | None] = mapped_column(
        Integer, comment="the collection task this batch was submitted to, if any"
    )
    superseded_by: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("import_batches.id"), comment="the correcting batch"
    )
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_by: Mapped[str | None] = mapped_column(String(100))
    status_reason: Mapped[str | None] = mapped_column(Text)


class Entity(Base):
    """A legal entity or business group in the group structure (GHG Protocol Corporate
    Standard ch. 3)."""

    __tablename__ = "entities"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    parent: Mapped[str | None] = mapped_column(
        String(100), ForeignKey("entities.code", deferrable=True, initially="DEFERRED")
    )
    ownership_pct: Mapped[float] = mapped_column(
        Float, comment="[%] the parent's equity share in this entity, 0-100"
    )
    operational_control: Mapped[bool] = mapped_column(Boolean)
    financial_control: Mapped[bool] = mapped_column(Boolean)
    country: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2")
    name_zh: Mapped[str | None] = mapped_column(String(300))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class Site(Base):
    """A place where activity happens: data centre, office, warehouse, retail, fleet depot …"""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    entity: Mapped[str] = mapped_column(String(100), ForeignKey("entities.code"))
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2), comment="ISO 3166-1 alpha-2")
    region: Mapped[str | None] = mapped_column(
        String(60), comment="region code (CN-GD, US-EGRID-CAMX, ...), see regions.csv"
    )
    type: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str | None] = mapped_column(String(300))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class ActivityType(Base):
    """A user-defined activity type extending the shipped taxonomy."""

    __tablename__ = "activity_types"

    activity: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_zh: Mapped[str | None] = mapped_column(String(300))
    dimension: Mapped[str] = mapped_column(String(200))
    scope: Mapped[int] = mapped_column(Integer)
    scope3_category: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))
    factor_activity: Mapped[str | None] = mapped_column(
        String(120), comment="activity key its factors are filed under (default: its own key)"
    )
    description: Mapped[str | None] = mapped_column(Text)


class FactorSet(Base):
    """A versioned set of user factors (shipped sets live in the package, not here)."""

    __tablename__ = "factor_sets"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    precedence: Mapped[int] = mapped_column(
        Integer, comment="higher wins at equal tier; shipped sets are 0, user sets 100+"
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Factor(Base):
    """One user factor. The columns are those of the shipped tidy factor tables
    (see ``esgledger/schema/factor_columns.csv``)."""

    __tablename__ = "factors"

    factor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    factor_set: Mapped[str] = mapped_column(String(80), ForeignKey("factor_sets.id"))
    activity: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(60), comment="the denominator: per one of these")
    co2e_kg: Mapped[float | None] = mapped_column(Float)
    co2_kg: Mapped[float | None] = mapped_column(Float)
    ch4_kg: Mapped[float | None] = mapped_column(Float)
    n2o_kg: Mapped[float | None] = mapped_column(Float)
    biogenic_co2_kg: Mapped[float | None] = mapped_column(Float)
    gwp_basis: Mapped[str | None] = mapped_column(String(10))
    supplier: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(100))
    scope3_category: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    price_year: Mapped[int | None] = mapped_column(Integer)
    price_basis: Mapped[str | None] = mapped_column(String(20))
    uncertainty_pct: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300))
    edition: Mapped[str | None] = mapped_column(String(100))
    licence: Mapped[str | None] = mapped_column(String(200))
    attribution: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class FxRate(Base):
    """Units of ``currency`` per one US dollar, as an annual average for ``year``."""

    __tablename__ = "fx_rates"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    per_usd: Mapped[float] = mapped_column(Float, comment="[currency/USD] annual average")
    source: Mapped[str | None] = mapped_column(String(300))
    batch_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("import_batches.id"))


class Run(Base):
    """One inventory calculation: its options, its manifest and its totals.

    The line items live in the lake (``lake/runs/<id>/line_items.parquet``) beside the
    manifest (``manifest.json``); this row registers the run so that the latest one can be
    found and listed without reading the lake.
    """

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reporting_year: Mapped[int] = mapped_column(Integer)
    gwp_set: Mapped[str] = mapped_column(String(10), comment="AR4, AR5 or AR6 (GWP-100)")
    consolidation: Mapped[str] = mapped_column(
        String(40), comment="equity_share, operational_control or financial_control"
    )
    input_hash: Mapped[str] = mapped_column(
        String(64), comment="sha256 of the run's inputs and options (equal inputs, equal hash)"
    )
    manifest: Mapped[dict[str, object]] = mapped_column(JSON)
    totals: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="[t CO2e] scope totals, consolidated"
    )


__all__ += ["Run"]


class BaseYearEntry(Base):
    """One event in the life of the base-year inventory (GHG Protocol Corporate Standard,
    revised edition, ch. 5 "Tracking Emissions Over Time").

    ``kind`` is ``set`` (a run designated as the base year), ``recalculated`` (the base-year
    inventory recalculated for structural or methodology changes; ``parent_id`` is the entry
    it replaces) or ``assessed`` (changes assessed but below the significance threshold: they
    count again, cumulatively, in the next assessment). The current base-year inventory is the
    ``totals`` of the latest ``set`` or ``recalculated`` entry; earlier entries are kept.
    """

    __tablename__ = "base_years"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(20), comment="set, recalculated or assessed")
    base_year: Mapped[int] = mapped_column(
        Integer, comment="the base year (reporting year of the designated run)"
    )
    run_id: Mapped[str] = mapped_column(String(60), ForeignKey("runs.id"))
    parent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("base_years.id"))
    threshold: Mapped[float] = mapped_column(
        Float, comment="[fraction of base-year emissions] significance threshold"
    )
    totals: Mapped[dict[str, object]] = mapped_column(
        JSON, comment="[t CO2e] the base-year inventory after this entry, consolidated"
    )
    changes: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


__all__ += ["BaseYearEntry"]

from esgledger.store import models_collection as _models_collection  # noqa: E402, F401
from esgledger.store import models_energy as _models_energy  # noqa: E402, F401
from esgledger.store import models_inclusion as _models_inclusion  # noqa: E402, F401
from esgledger.store import models_jobs as _models_jobs  # noqa: E402, F401
from esgledger.store import models_platform as _models_platform  # noqa: E402, F401
from esgledger.store import models_renewables as _models_renewables  # noqa: E402, F401
from esgledger.store import models_targets as _models_targets  # noqa: E402, F401
