"""Issue 11, defect 11: importing deep chains and long cycles of entities.

A 5,000-deep parent chain took 542 s to import, a 50,000-deep one did not finish and a
3,000-entity cycle took 126 s to reject. The structure is now checked in one linear pass and
a chain deeper than :data:`esgledger.boundary.MAX_DEPTH` levels is refused on the row of the
first entity beyond the limit. No timings here (``benchmarks/bench_org.py`` has them): these
tests check the behaviour on the sizes of the issue.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from esgledger.boundary import MAX_DEPTH
from esgledger.errors import InputError
from esgledger.ingest.reference import import_entities
from esgledger.store import Workspace
from esgledger.store.repository import load_batches, load_entities

HEADER = ["entity", "name", "parent", "ownership_pct", "operational_control",
          "financial_control", "country"]  # fmt: skip


def chain_file(
    path: Path, n: int, *, cycle: bool = False, prefix: str = "E", top: str = ""
) -> Path:
    """E0 <- E1 <- … <- E{n-1}; E0's parent is ``top`` (empty: the root), or E{n-1} with
    ``cycle``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(n):
            parent = top if i == 0 else f"{prefix}{i - 1}"
            if cycle and i == 0:
                parent = f"{prefix}{n - 1}"
            writer.writerow([f"{prefix}{i}", f"Entity {i}", parent, 100, "true", "true", "CN"])
    return path


def refused(ws: Workspace, path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        import_entities(ws, path)
    with ws.session() as session:
        assert load_entities(session) == []
        assert load_batches(session) == []
    return info.value


@pytest.mark.parametrize("n", [5_000, 50_000])
def test_a_deep_chain_is_refused_on_the_row_beyond_the_limit(
    workspace: Workspace, tmp_path: Path, n: int
) -> None:
    error = refused(workspace, chain_file(tmp_path / "chain.csv", n))
    (issue,) = error.issues
    assert issue.row == MAX_DEPTH + 2  # the header is row 1, E0 row 2
    assert issue.column == "parent"
    assert issue.value == f"E{MAX_DEPTH - 1}"
    assert issue.problem == (
        f"entity 'E{MAX_DEPTH}' is at level {MAX_DEPTH + 1} of the chain of parents from the "
        f"root 'E0' (E0 > E1 > E2 > … > E{MAX_DEPTH - 2} > E{MAX_DEPTH - 1} > E{MAX_DEPTH}): "
        f"deeper than the limit of {MAX_DEPTH} levels"
    )
    assert "20 levels" in issue.fix


def test_a_3000_entity_cycle_is_refused_naming_the_loop(
    workspace: Workspace, tmp_path: Path
) -> None:
    error = refused(workspace, chain_file(tmp_path / "cycle.csv", 3_000, cycle=True))
    (issue,) = error.issues
    assert issue.row == 2
    assert issue.problem == (
        "the parent chain loops: E0 → E2999 → E2998 → … → E3 → E2 → E1 → E0 (3000 entities)"
    )


def test_a_chain_of_the_limit_is_accepted_and_one_more_level_below_it_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_entities(workspace, chain_file(tmp_path / "chain.csv", MAX_DEPTH))
    below = chain_file(tmp_path / "below.csv", 1, prefix="X", top=f"E{MAX_DEPTH - 1}")
    with pytest.raises(InputError) as info:
        import_entities(workspace, below)
    (issue,) = info.value.issues
    assert issue.row == 2
    assert f"entity 'X0' is at level {MAX_DEPTH + 1}" in issue.problem
    with workspace.session() as session:
        assert len(load_entities(session)) == MAX_DEPTH


def test_moving_a_stored_branch_deeper_is_refused_naming_the_stored_entity(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_entities(workspace, chain_file(tmp_path / "chain.csv", MAX_DEPTH))
    # a new root above E0 pushes every stored entity one level down
    with (tmp_path / "top.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["TOP", "Top", "", 100, "true", "true", "CN"])
        writer.writerow(["E0", "Entity 0", "TOP", 100, "true", "true", "CN"])
    with pytest.raises(InputError) as info:
        import_entities(workspace, tmp_path / "top.csv")
    (issue,) = info.value.issues
    assert issue.row is None  # E99 is not in the file: the message names it
    assert f"entity 'E{MAX_DEPTH - 1}' is at level {MAX_DEPTH + 1}" in issue.problem
    assert "root 'TOP'" in issue.problem


def test_suggestions_for_unknown_parents_are_bounded(workspace: Workspace, tmp_path: Path) -> None:
    """A close code is suggested for the first 5 unknown parents only: each suggestion
    compares with every entity, so 50,000 unknown parents would take hours."""
    path = tmp_path / "unknown.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["GRP", "Group", "", 100, "true", "true", "CN"])
        for i in range(30):
            writer.writerow([f"S{i}", f"Sub {i}", "GRQ", 100, "true", "true", "CN"])
    error = refused(workspace, path)
    assert len(error.issues) == 30
    assert sum("did you mean 'GRP'?" in i.fix for i in error.issues) == 5
    assert all(
        i.fix.endswith("add the parent to this file or import it first") for i in error.issues
    )
