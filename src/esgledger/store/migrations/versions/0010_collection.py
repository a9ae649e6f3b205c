"""Data-collection campaigns, tasks, submissions, review flags and evidence
(``esgledger.collection``).

Slot reserved in the chain so that work on several parts of the platform can land in any order;
a slot without tables upgrades nothing.

Revision ID: 0010_collection
Revises: 0009_batch_corrections
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_collection"
down_revision: str | None = "0009_batch_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
