"""Base year: the ``base_years`` table (``esgledger.store.models.BaseYearEntry``).

One row per event in the life of the base-year inventory (GHG Protocol Corporate Standard,
revised edition, ch. 5): a run designated as the base year (``set``), a recalculation that
replaced the base-year inventory (``recalculated``), or an assessment of changes that stayed
below the significance threshold (``assessed``; its changes count again, cumulatively, in the
next assessment). Written to match what Alembic's autogenerate produces from the model.

Revision ID: 0004_base_year
Revises: 0003_activity_type_columns
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_base_year"
down_revision: str | None = "0003_activity_type_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "base_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="set, recalculated or assessed",
        ),
        sa.Column(
            "base_year",
            sa.Integer(),
            nullable=False,
            comment="the base year (reporting year of the designated run)",
        ),
        sa.Column("run_id", sa.String(length=60), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "threshold",
            sa.Float(),
            nullable=False,
            comment="[fraction of base-year emissions] significance threshold",
        ),
        sa.Column(
            "totals",
            sa.JSON(),
            nullable=False,
            comment="[t CO2e] the base-year inventory after this entry, consolidated",
        ),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["base_years.id"], name=op.f("fk_base_years_parent_id_base_years")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_base_years_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_years")),
    )


def downgrade() -> None:
    op.drop_table("base_years")
