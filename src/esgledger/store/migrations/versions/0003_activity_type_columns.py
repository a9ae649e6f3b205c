"""User activity types keep ``factor_activity`` and ``description``.

Revision ID: 0003_activity_type_columns
Revises: 0002_runs
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_activity_type_columns"
down_revision: str | None = "0002_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns: a plain ADD COLUMN, which SQLite supports without a table copy.
    op.add_column(
        "activity_types",
        sa.Column(
            "factor_activity",
            sa.String(length=120),
            nullable=True,
            comment="activity key its factors are filed under (default: its own key)",
        ),
    )
    op.add_column("activity_types", sa.Column("description", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity_types") as batch:
        batch.drop_column("description")
        batch.drop_column("factor_activity")
