"""The end-to-end story of issue 13 in the browser, in parts a test chains: the data owner's
and the reviewer's half (:func:`owner_and_reviewer_story`) ends with the demo's Cloud water
task approved, so a later part (the ESG office's calculation, dashboard and report) can go on
from that state on the same site."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from _site import Site

from esgledger.i18n import ui

#: The demo's submitted task: Cloud's water (cloud.owner, scope CLOUD; cloud.reviewer).
CLOUD_TASK = 1
HEADER = "record_id,entity,site,period_start,period_end,activity,quantity,unit,supplier,notes\n"
#: The May quantity of the bad file: not a number.
BAD_QUANTITY = "ninety-three thousand"


def water_csv(may: str) -> str:
    """Cloud's Tianjin data centre water for April to June; May's quantity is ``may``."""
    return HEADER + "".join(
        f"CW-2024-{month:02d},CLOUD,DC-TJ,2024-{month:02d}-01,2024-{month:02d}-{last},"
        f"water.supply,{quantity},m3,,from the water meter readings\n"
        for month, last, quantity in ((4, 30, "91422.2"), (5, 31, may), (6, 30, "95921.6"))
    )


def _shot(page: Any, screenshots: Path | None, name: str, lang: str) -> None:
    """Check the page with axe-core and save its screenshot."""
    assert serious_axe_violations(page) == [], name
    if screenshots is not None:
        page.screenshot(path=str(screenshots / f"{name}.{lang}.png"), full_page=True)


def owner_and_reviewer_story(
    page_factory: Any,
    site: Site,
    lang: str,
    *,
    folder: Path,
    screenshots: Path | None = None,
    year_on_year: bool = False,
) -> dict[str, Any]:
    """The data owner signs in through the form, opens the Cloud water task, downloads its
    template, uploads a file with a bad row, sees the row and the fix, uploads the corrected
    file, attaches evidence and so submits; the reviewer starts the review, sees the flags,
    accepts one with a comment and approves (``year_on_year``: the site holds last year's
    water, so the flag accepted is the change against last year; else the note that there is
    no last year to compare with). ``page_factory`` is the ``open_page`` fixture;
    ``folder`` holds the files uploaded. Returns what a later part needs (the task id and the
    pages used, whose ``esgledger_errors`` the caller checks)."""

    def t(key: str, **fields: Any) -> str:
        return ui(key, lang, **fields)  # type: ignore[arg-type]

    folder.mkdir(parents=True, exist_ok=True)
    bad = folder / f"water-q2-{lang}.csv"
    bad.write_text(water_csv(BAD_QUANTITY), encoding="utf-8")
    good = folder / f"water-q2-{lang}-fixed.csv"
    good.write_text(water_csv("93000"), encoding="utf-8")
    bill = folder / f"water-bill-{lang}.pdf"
    bill.write_bytes(b"%PDF-1.4\n% a water bill\n%%EOF\n")

    # ---- the data owner -------------------------------------------------------------------
    owner = page_factory(site, None, lang)
    owner.goto(site.url + "/tasks")
    assert owner.url.startswith(site.url + "/sign-in")
    owner.get_by_label(t("signin.username")).fill("cloud.owner")
    owner.get_by_label(t("signin.password")).fill(site.passwords["cloud.owner"])
    owner.get_by_role("button", name=t("signin.submit")).click()
    owner.wait_for_url(site.url + "/tasks")
    assert owner.get_by_role("heading", level=1).inner_text() == t("tasks.title")
    _shot(owner, screenshots, "tasks", lang)

    owner.get_by_role("link", name=t("tasks.task_no", id=CLOUD_TASK)).click()
    owner.wait_for_url(f"{site.url}/tasks/{CLOUD_TASK}")
    _shot(owner, screenshots, "task", lang)
    with owner.expect_download() as download_info:
        owner.get_by_role("link", name=t("tasks.template.download")).click()
    download = download_info.value
    assert download.suggested_filename == f"task-{CLOUD_TASK}-CLOUD.xlsx"
    template = folder / f"template-{lang}.xlsx"
    download.save_as(template)
    assert template.read_bytes()[:4] == b"PK\x03\x04"

    # a file with a bad row: the page shows the row, the offending cell and the fix
    owner.get_by_label(t("tasks.upload.file")).set_input_files(str(bad))
    owner.get_by_role("button", name=t("tasks.upload.submit")).click()
    problems = owner.locator("#problems")
    problems.wait_for()
    assert t("tasks.problems.title") in problems.inner_text()
    issue_row = problems.locator("table.issues tbody tr").first
    cells = issue_row.locator("td").all_inner_texts()
    assert cells[1] == "3"
    assert cells[2] == "quantity"
    assert cells[3] == BAD_QUANTITY
    assert "plain number" in cells[5]  # the fix
    marked = problems.locator("table.preview td.bad mark")
    assert marked.count() == 1
    assert marked.inner_text() == BAD_QUANTITY
    assert t("tasks.preview.bad_cell") in problems.locator("table.preview td.bad").inner_text()
    _shot(owner, screenshots, "task-upload-problems", lang)

    # the corrected file goes through and submits the task
    owner.get_by_label(t("tasks.upload.file")).set_input_files(str(good))
    owner.get_by_role("button", name=t("tasks.upload.submit")).click()
    owner.wait_for_url(re.compile(r".*/tasks/1\?done=uploaded$"))
    assert t("tasks.done.uploaded") in owner.get_by_role("status").inner_text()
    assert owner.locator("#problems").count() == 0

    owner.get_by_label(t("tasks.evidence.file")).set_input_files(str(bill))
    owner.get_by_role("button", name=t("tasks.evidence.attach")).click()
    owner.wait_for_url(re.compile(r".*/tasks/1\?done=evidence$"))
    assert owner.get_by_role("link", name=bill.name).count() == 1
    assert t("tasks.status.submitted") in owner.locator("dl.facts").inner_text()
    _shot(owner, screenshots, "task-submitted", lang)

    # ---- the reviewer ---------------------------------------------------------------------
    reviewer = page_factory(site, "cloud.reviewer", lang)
    reviewer.goto(site.url + "/review")
    _shot(reviewer, screenshots, "review-queue", lang)
    reviewer.get_by_role("link", name=t("tasks.task_no", id=CLOUD_TASK)).click()
    reviewer.wait_for_url(f"{site.url}/review/{CLOUD_TASK}")
    reviewer.get_by_role("button", name=t("review.start")).click()
    reviewer.wait_for_url(re.compile(r".*/review/1\?done=started$"))
    flags = reviewer.locator("ul.flags > li")
    assert flags.count() >= 1
    # the year-on-year check: the change against last year's same months, or, without last
    # year's approved water, the note that there was nothing to compare with
    checked = "review.code.change_vs_last_year" if year_on_year else "review.code.no_history"
    assert t(checked) in reviewer.locator("ul.flags").inner_text()
    assert "280" in reviewer.locator("table.data").first.inner_text()  # the submitted figures
    assert bill.name in reviewer.locator("ul.evidence").inner_text()
    _shot(reviewer, screenshots, "review-task", lang)
    flag = flags.filter(has_text=t(checked)).first
    flag.get_by_label(t("review.comment")).fill("First year of metering at DC-TJ.")
    flag.get_by_role("button", name=t("review.accept")).click()
    reviewer.wait_for_url(re.compile(r".*/review/1\?done=accepted$"))
    assert t("tasks.done.accepted") in reviewer.get_by_role("status").inner_text()
    assert "First year of metering at DC-TJ." in reviewer.locator("table.data").last.inner_text()
    reviewer.get_by_role("button", name=t("review.approve")).click()
    reviewer.wait_for_url(re.compile(r".*/review/1\?done=approved$"))
    assert t("tasks.status.approved") in reviewer.locator("dl.facts").inner_text()
    _shot(reviewer, screenshots, "review-approved", lang)
    return {"task_id": CLOUD_TASK, "pages": [owner, reviewer]}


def serious_axe_violations(page: Any) -> list[str]:
    """The serious and critical accessibility violations axe-core (vendored for tests) finds
    on ``page``, as ``"rule: selector"`` lines (evaluated through the DevTools protocol, so
    the page's CSP stays as it is)."""
    source = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
    page.evaluate(f"() => {{ {source}\n; window.axe = axe; }}")
    found: list[str] = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ['violations']});
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .flatMap(v => v.nodes.map(n => v.id + ': ' + n.target.join(' ')));
        }"""
    )
    return found
