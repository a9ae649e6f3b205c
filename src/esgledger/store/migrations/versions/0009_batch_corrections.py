"""Corrections without deletion: batch status, withdrawal and supersession
(``esgledger.store.models``).

Slot reserved in the chain so that work on several parts of the platform can land in any order;
a slot without tables upgrades nothing.

Revision ID: 0009_batch_corrections
Revises: 0008_jobs
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_batch_corrections"
down_revision: str | None = "0008_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
