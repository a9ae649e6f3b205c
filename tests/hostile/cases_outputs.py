"""Outputs and secrets (issue 11 §14, §15): formula payloads in imported text land as data
(exports neutralise them, see tests/integration/test_formula_injection.py), and a malformed
database URL given to ``init`` is a one-line refusal (exit 2) that never echoes a password."""

from __future__ import annotations

from hostile._corpus import Case, activities, activity_row, text_file

_NOTHING = text_file("nothing.txt", "")


def _init(case_id: str, url: str, says: str) -> Case:
    return Case(
        case_id,
        _NOTHING,
        command=["init", "{ws}-new", "--database-url", url],
        says=says,
    )


CASES: list[Case] = [
    Case(
        "outputs-formula-record-ids-land-as-data",
        activities(
            activity_row(record_id="=1+1"),
            activity_row(record_id="@SUM(1)", start="2024-02-01", end="2024-02-29"),
            activity_row(record_id="-1+1", start="2024-03-01", end="2024-03-31"),
            activity_row(record_id="+1", start="2024-04-01", end="2024-04-30"),
        ),
        expect=0,
    ),
    Case(
        "outputs-formula-entity-is-refused-by-name",
        activities(activity_row(entity='=HYPERLINK("http://x";"y")')),
        says="HYPERLINK",
    ),
    _init("outputs-init-url-port-not-a-number", "postgresql://u:S3cret@h:abc/db", "port"),
    _init("outputs-init-url-port-out-of-range", "postgresql://u:S3cret@h:70000/db", "65535"),
    _init("outputs-init-url-unparsable", "u:S3cret@h/db", "cannot read the database URL"),
    _init("outputs-init-url-other-database", "mysql://u:S3cret@h/db", "SQLite and PostgreSQL"),
]
