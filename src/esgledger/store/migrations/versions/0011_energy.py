"""The data-centre meter tree (``esgledger.energy``): table ``energy_meters``.

Written to match ``esgledger.store.models_energy``; it runs on SQLite and PostgreSQL.
``tests/unit/store/test_migrations.py`` checks the result on both.

Revision ID: 0011_energy
Revises: 0010_collection
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_energy"
down_revision: str | None = "0010_collection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "energy_meters",
        sa.Column("meter", sa.String(length=100), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("parent", sa.String(length=100), nullable=True, comment="upstream meter id"),
        sa.Column(
            "role", sa.String(length=20), nullable=False, comment="esgledger.energy.roles.ROLES"
        ),
        sa.Column(
            "unit", sa.String(length=64), nullable=False, comment="unit of the readings as given"
        ),
        sa.Column("kind", sa.String(length=10), nullable=False, comment="counter or interval"),
        sa.Column(
            "multiplier", sa.Float(), nullable=False, comment="CT/PT scaling of every reading"
        ),
        sa.Column(
            "rollover",
            sa.Float(),
            nullable=True,
            comment="a counter's maximum register value, in the meter's unit",
        ),
        sa.Column(
            "timezone", sa.String(length=64), nullable=False, comment="IANA time zone of the site"
        ),
        sa.Column(
            "fuel", sa.String(length=40), nullable=True, comment="fuel of a volume fuel meter"
        ),
        sa.Column(
            "timestamp_marks",
            sa.String(length=5),
            nullable=False,
            comment="end or start: what an interval reading's timestamp marks",
        ),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("name_zh", sa.String(length=300), nullable=True),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_energy_meters_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(["site"], ["sites.code"], name=op.f("fk_energy_meters_site_sites")),
        sa.PrimaryKeyConstraint("meter", name=op.f("pk_energy_meters")),
    )
    op.create_index(op.f("ix_energy_meters_site"), "energy_meters", ["site"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_energy_meters_site"), table_name="energy_meters")
    op.drop_table("energy_meters")
