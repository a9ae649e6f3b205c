"""Data in: readers for CSV / XLSX / Parquet, validation, import batches, templates."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImportResult"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did. ``created`` is False when the same file was already imported
    (the import was a no-op and ``batch_id`` names the earlier batch)."""

    kind: str
    batch_id: str
    file_name: str
    rows: int
    created: bool
    message: str
