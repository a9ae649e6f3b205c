"""The group platform's entry points on the command line (issue 12): a file submitted to a
collection task, evidence attached to it, a campaign and an account. Each is refused with
exit 2 and one short message; the runner checks that no row (the audit trail included) and no
file changed. Task 1 is the seed's campaign task asking CLOUD for electricity."""

from __future__ import annotations

from hostile._corpus import Case, activities, activity_row, bytes_file, text_file

_UNUSED = text_file("unused.txt", "")

CASES: list[Case] = [
    Case(
        "submit-unknown-unit",
        activities(activity_row(unit="parsecs")),
        command=["tasks", "submit", "{ws}", "1", "{file}"],
        says="parsecs",
    ),
    Case(
        "submit-a-row-of-another-entity",
        activities(activity_row(entity="HQ", site="HQ-SZ")),
        command=["tasks", "submit", "{ws}", "1", "{file}"],
        says="HQ",
    ),
    Case(
        "submit-an-activity-the-task-did-not-ask",
        activities(activity_row("5", "t", activity="stationary.diesel")),
        command=["tasks", "submit", "{ws}", "1", "{file}"],
        says="stationary.diesel",
    ),
    Case(
        "submit-binary-garbage",
        bytes_file("bills.csv", b"\x00\xff\xfe" * 2000),
        command=["tasks", "submit", "{ws}", "1", "{file}"],
    ),
    Case(
        "evidence-an-executable-named-pdf",
        bytes_file("bill.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200),
        command=["tasks", "attach", "{ws}", "1", "{file}"],
        says="pdf",
    ),
    Case(
        "evidence-a-script",
        text_file("bill.html", "<script>alert(1)</script>"),
        command=["tasks", "attach", "{ws}", "1", "{file}"],
    ),
    Case(
        "campaign-asks-an-unknown-activity",
        _UNUSED,
        command=[
            "campaigns",
            "create",
            "{ws}",
            "--name",
            "x",
            "--due",
            "2099-01-31",
            "--activity",
            "no.such.activity",
            "--entity",
            "CLOUD",
        ],
        says="no.such.activity",
    ),
    Case(
        "campaign-asks-an-unknown-entity",
        _UNUSED,
        command=[
            "campaigns",
            "create",
            "{ws}",
            "--name",
            "x",
            "--due",
            "2099-01-31",
            "--activity",
            "electricity",
            "--entity",
            "=HYPERLINK(1)",
        ],
        says="HYPERLINK",
    ),
    Case(
        "user-name-with-an-escape-sequence",
        _UNUSED,
        command=["users", "add", "{ws}", "eve\x1b[31mred", "--role", "viewer"],
        says="username",
    ),
    Case(
        "user-with-an-unknown-role",
        _UNUSED,
        command=["users", "add", "{ws}", "eve", "--role", "superuser"],
        says="role",
    ),
    Case(
        "user-scoped-to-an-unknown-entity",
        _UNUSED,
        command=["users", "add", "{ws}", "eve", "--role", "viewer", "--scope", "NOPE"],
        says="NOPE",
    ),
]
