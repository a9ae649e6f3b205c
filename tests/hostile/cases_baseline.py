"""Baseline cases: what was already handled before issue 11 (kept so it stays handled)."""

from __future__ import annotations

from hostile._corpus import Case, activities, activity_row, bytes_file, text_file

CASES: list[Case] = [
    Case("activities-valid-file-lands", activities(activity_row()), expect=0),
    Case(
        "activities-unknown-entity",
        activities(activity_row(entity="NOPE")),
        says="NOPE",
        postgres=True,
    ),
    Case("activities-empty-file", text_file("empty.csv", ""), says="empty"),
    Case("activities-header-only", activities(), says="no data rows"),
    Case(
        "activities-html-payload-in-record-id",
        activities(activity_row(record_id="<script>alert(1)</script>", entity="NOPE")),
        says="NOPE",
    ),
    Case("activities-unknown-extension", bytes_file("data.exe", b"MZ\x90\x00"), says="data.exe"),
]
