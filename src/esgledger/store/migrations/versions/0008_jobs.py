"""Long jobs: the jobs table the worker pool claims from (``esgledger.jobs``).

Slot reserved in the chain so that work on several parts of the platform can land in any order;
a slot without tables upgrades nothing.

Revision ID: 0008_jobs
Revises: 0007_platform
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_jobs"
down_revision: str | None = "0007_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
