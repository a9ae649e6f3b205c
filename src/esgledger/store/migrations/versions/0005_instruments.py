"""Green power: the instrument register and its allocations
(``esgledger.store.models_renewables``).

Written to match what Alembic's autogenerate produces from the models; it runs on SQLite and
PostgreSQL. ``tests/unit/store/test_migrations.py`` checks that the migrated schema matches the
models on both.

Revision ID: 0005_instruments
Revises: 0004_base_year
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_instruments"
down_revision: str | None = "0004_base_year"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("instrument", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False, comment="instrument_types.csv key"),
        sa.Column(
            "technology",
            sa.String(length=40),
            nullable=False,
            comment="instrument_technologies.csv",
        ),
        sa.Column("generator", sa.String(length=300), nullable=True),
        sa.Column("commissioned", sa.Date(), nullable=True),
        sa.Column(
            "country",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2 of generation",
        ),
        sa.Column(
            "region", sa.String(length=60), nullable=False, comment="region code of generation"
        ),
        sa.Column("period_start", sa.Date(), nullable=False, comment="first day of the vintage"),
        sa.Column("period_end", sa.Date(), nullable=False, comment="last day of the vintage"),
        sa.Column("mwh", sa.Float(), nullable=False, comment="[MWh] volume"),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column(
            "retired_for",
            sa.String(length=100),
            nullable=True,
            comment="entity or site code the instrument was retired for",
        ),
        sa.Column("registry_id", sa.String(length=200), nullable=True),
        sa.Column(
            "co2_kg_per_mwh",
            sa.Float(),
            nullable=True,
            comment="[kg CO2/MWh] rate conveyed (green tariff); empty = 0",
        ),
        sa.Column("contract_signed", sa.Date(), nullable=True),
        sa.Column("attributes_sold", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "allocated_mwh",
            sa.Float(),
            nullable=False,
            comment="[MWh] sum of the instrument's allocations",
        ),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("mwh > 0", name=op.f("ck_instruments_mwh_positive")),
        sa.CheckConstraint(
            "allocated_mwh >= 0 AND allocated_mwh <= mwh + 1e-06",
            name=op.f("ck_instruments_allocated_within_volume"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_instruments_period_order")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_instruments_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("instrument", name=op.f("pk_instruments")),
        sa.UniqueConstraint("type", "registry_id", name="uq_instruments_type_registry_id"),
    )
    op.create_table(
        "instrument_allocations",
        sa.Column("instrument", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("mwh", sa.Float(), nullable=False, comment="[MWh] allocated"),
        sa.Column(
            "rule",
            sa.String(length=40),
            nullable=False,
            comment="site, entity or group: the pool the allocation came from",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mwh > 0", name=op.f("ck_instrument_allocations_mwh_positive")),
        sa.ForeignKeyConstraint(
            ["entity"],
            ["entities.code"],
            name=op.f("fk_instrument_allocations_entity_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument"],
            ["instruments.instrument"],
            name=op.f("fk_instrument_allocations_instrument_instruments"),
        ),
        sa.ForeignKeyConstraint(
            ["site"], ["sites.code"], name=op.f("fk_instrument_allocations_site_sites")
        ),
        sa.PrimaryKeyConstraint(
            "instrument", "site", "period_start", name=op.f("pk_instrument_allocations")
        ),
    )


def downgrade() -> None:
    op.drop_table("instrument_allocations")
    op.drop_table("instruments")
