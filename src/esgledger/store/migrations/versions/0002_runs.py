"""Inventory runs: the ``runs`` table (``esgledger.store.models.Run``).

Written to match what Alembic's autogenerate produces from the model; it runs on SQLite and
PostgreSQL. ``tests/unit/store/test_migrations.py`` checks that the migrated schema matches the
models on both.

Revision ID: 0002_runs
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_runs"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column(
            "gwp_set", sa.String(length=10), nullable=False, comment="AR4, AR5 or AR6 (GWP-100)"
        ),
        sa.Column(
            "consolidation",
            sa.String(length=40),
            nullable=False,
            comment="equity_share, operational_control or financial_control",
        ),
        sa.Column(
            "input_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 of the run's inputs and options (equal inputs, equal hash)",
        ),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column(
            "totals", sa.JSON(), nullable=False, comment="[t CO2e] scope totals, consolidated"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )


def downgrade() -> None:
    op.drop_table("runs")
