"""Data in: readers for CSV / XLSX / Parquet, validation, import batches, templates."""

from __future__ import annotations

from dataclasses import dataclass

from esgledger.errors import Issue

__all__ = ["ImportResult"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did. ``created`` is False when the same file was already imported
    (the import was a no-op and ``batch_id`` names the earlier batch).

    ``warnings`` names rows that were imported but deserve a look (e.g. activity rows that
    overlap other rows, ``docs/methodology/overlaps.md``), at most the importer's issue cap;
    ``warning_total`` counts them all.
    """

    kind: str
    batch_id: str
    file_name: str
    rows: int
    created: bool
    message: str
    warnings: tuple[Issue, ...] = ()
    warning_total: int = 0
