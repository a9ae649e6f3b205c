"""The registry of import batches and its corrections (withdraw, supersede) without deleting
anything; see :mod:`esgledger.batches.service`."""

from __future__ import annotations

from esgledger.batches.service import (
    CORRECTABLE_KINDS,
    REASON_CHARS,
    batch_view,
    check_reason,
    list_batches,
    show,
    supersede,
    supersede_upload,
    withdraw,
)

__all__ = [
    "CORRECTABLE_KINDS",
    "REASON_CHARS",
    "batch_view",
    "check_reason",
    "list_batches",
    "show",
    "supersede",
    "supersede_upload",
    "withdraw",
]
