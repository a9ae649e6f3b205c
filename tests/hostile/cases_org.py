"""Issue 11, defects 11 and 13: the organisation's shape, ``--report`` paths, report inputs.

The base workspace has the root ``GRP`` (level 1) with ``CLOUD`` and ``HQ``; the entity files
here hang new chains under ``GRP`` (an entity import upserts by code, so the seeded entities
stay). ``E0`` is then level 2 and ``E{k}`` level ``k + 2``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from esgledger.boundary import MAX_DEPTH
from hostile._corpus import Case, activities, activity_row, text_file

ENTITY_HEADER = "entity,name,parent,ownership_pct,operational_control,financial_control,country"


def chain(n: int, *, cycle: bool = False, name: str = "chain.csv") -> Callable[[Path], Path]:
    """An entities file E0 <- E1 <- … <- E{n-1} under GRP; with ``cycle`` E0's parent is
    E{n-1} instead (a loop of ``n`` entities, not attached to the root)."""
    top = f"E{n - 1}" if cycle else "GRP"
    rows = [f"E{i},Entity {i},{top if i == 0 else f'E{i - 1}'},100,true,true,CN" for i in range(n)]
    return text_file(name, "\n".join([ENTITY_HEADER, *rows]) + "\n")


def unknown_parents(n: int) -> Callable[[Path], Path]:
    """``n`` entities, each under a parent of its own that exists nowhere."""
    rows = [f"U{i},Entity {i},P{i},100,true,true,CN" for i in range(n)]
    return text_file("unknown.csv", "\n".join([ENTITY_HEADER, *rows]) + "\n")


def report_inputs(green: str) -> Callable[[Path], Path]:
    """A run in the case's workspace (``folder/../ws``) and a ``report/report.toml`` with
    ``[green]`` lines ``green``; the file returned is the activity file of the run."""

    def build(folder: Path) -> Path:
        from esgledger.ingest.importers import import_file
        from esgledger.inventory import calculate
        from esgledger.store import Workspace

        root = folder.parent / "ws"
        data = activities(activity_row(), name="run.csv")(folder)
        with Workspace.open(root) as ws:
            import_file(ws, "activities", data)
            calculate(ws, gwp_set="AR5", consolidation="equity")
        (root / "report").mkdir()
        (root / "report" / "report.toml").write_text(
            f'[company]\nname = "Hostile"\n[green]\n{green}\n', encoding="utf-8"
        )
        return data

    return build


REPORT = ["report", "{ws}", "--format", "html", "--lang", "en"]

CASES: list[Case] = [
    # -- defect 11: deep chains and long cycles, refused quickly with the limit named
    Case(
        "org-entities-5000-deep-chain",
        chain(5_000),
        kind="entities",
        says=f"entity 'E{MAX_DEPTH - 1}' is at level {MAX_DEPTH + 1}",
        postgres=True,
    ),
    Case(
        "org-entities-50000-deep-chain",
        chain(50_000),
        kind="entities",
        says=f"deeper than the limit of {MAX_DEPTH} levels",
    ),
    Case(
        "org-entities-3000-cycle",
        chain(3_000, cycle=True),
        kind="entities",
        says="the parent chain loops: E0 → E2999 → E2998 → … → E3 → E2 → E1 → E0 (3000",
        postgres=True,
    ),
    Case(
        "org-entities-50000-unknown-parents",
        unknown_parents(50_000),
        kind="entities",
        says="unknown parent entity 'P0'",
    ),
    Case("org-entities-chain-at-the-depth-limit", chain(MAX_DEPTH - 1), kind="entities", expect=0),
    # -- defect 13: --report paths
    Case(
        "org-import-report-into-a-missing-folder",
        activities(activity_row(entity="NOPE")),
        command=[
            "import",
            "{ws}",
            "{file}",
            "--kind",
            "activities",
            "--report",
            "{file}.d/missing/report.csv",
        ],
        says="the report of all 1 issue(s) is in",
    ),
    Case(
        "org-import-report-onto-a-folder",
        activities(activity_row()),
        command=["import", "{ws}", "{file}", "--kind", "activities", "--report", "{ws}/lake"],
        says="directory",
    ),
    Case(
        "org-import-report-through-a-file",
        activities(activity_row()),
        command=[
            "import",
            "{ws}",
            "{file}",
            "--kind",
            "activities",
            "--report",
            "{file}/r.csv",
        ],
        says="is a file",
    ),
    # -- defect 13: report.toml names files outside the workspace
    Case(
        "org-report-toml-hourly-load-dot-dot-escape",
        report_inputs(
            'hourly_load = "../../../../../../../../../../etc/passwd"\n'
            'hourly_supply = "../../../../../../../../../../etc/passwd"'
        ),
        command=REPORT,
        says="the path leads outside the workspace",
    ),
    Case(
        "org-report-toml-hourly-load-absolute",
        report_inputs('hourly_load = "/etc/passwd"\nhourly_supply = "/etc/hostname"'),
        command=REPORT,
        says="an absolute path",
    ),
]
