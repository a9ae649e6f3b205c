"""Targets, measures, credits and retirements imported whole or not at all, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from esgledger.errors import InputError, WorkspaceError
from esgledger.ingest.importers import import_file
from esgledger.store import Workspace
from esgledger.store.repository_targets import (
    load_credits,
    load_measures,
    load_retirements,
    load_targets,
    save_retirements,
)

TARGETS = """id,name,kind,scopes,scope2_method,base_year,target_year,reduction,target_share,ambition
S12,Scope 1+2 -70 %,absolute,1+2,market,2021,2030,0.70,,1.5C
S3,Scope 3 -30 %,absolute,3,,2021,2030,0.30,,WB2C
RE,100 % renewable electricity,renewable_electricity,2,,2021,2030,,1.0,
"""

MEASURES = """\
id,name,lever,cost_per_t,currency,reduction_t_co2e_per_yr,start_year,ramp_years,acts_on
PUE,PUE improvement,efficiency,-50,CNY,1000,2025,2,scope=2; site=DC1
PPA,Wind PPA,ppa,20,CNY,5000,2026,,scope=2
"""

CREDITS = (
    "id,registry,serial_block,serial_start,serial_end,project,project_type,kind,permanence,"
    "standard,vintage,volume_t_co2e\n"
    """\
WIND,Verra,VCS-1-2023,1,1000,Wind farm,wind,avoidance,,VCS,2023,1000
BIOCHAR,Puro Registry,PURO-9,1,100,Biochar,biochar,removal,permanent,Puro,2024,100
"""
)

RETIREMENTS = """\
credit,volume_t_co2e,retired_on,claim_year,beneficiary,purpose,reference,serial_start,serial_end
WIND,600,2025-03-01,2024,Group,neutrality,R-1,1,600
BIOCHAR,100,2025-03-01,2024,Group,net_zero,R-2,1,100
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- targets --------------------------------------------------------------------------------


def test_targets_land_whole_and_a_reimport_is_a_no_op(workspace: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, "targets.csv", TARGETS)
    first = import_file(workspace, "targets", path)
    again = import_file(workspace, "targets", path)
    assert (first.rows, first.created, again.created) == (3, True, False)
    assert first.message.endswith("Targets new: RE, S12, S3.")
    with workspace.session() as session:
        rows = load_targets(session)
    assert [(r["id"], r["revision"], r["reason"]) for r in rows] == [
        ("RE", 1, "imported from targets.csv"),
        ("S12", 1, "imported from targets.csv"),
        ("S3", 1, "imported from targets.csv"),
    ]
    s12 = rows[1]["definition"]
    assert (s12["reduction"], s12["scopes"]["scope2_method"], s12["ambition"]) == (
        0.7,
        "market",
        "1.5C",
    )


def test_a_changed_target_becomes_a_new_revision_and_an_unchanged_one_does_not(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_file(workspace, "targets", _write(tmp_path, "targets.csv", TARGETS))
    # S12 tightened to -75 %; S3 and RE unchanged (another file, so not a byte-for-byte no-op).
    changed = TARGETS.replace("2030,0.70,", "2030,0.75,")
    result = import_file(workspace, "targets", _write(tmp_path, "targets-2025.csv", changed))
    assert result.message.endswith("Targets new revision of: S12; 2 targets unchanged.")
    with workspace.session() as session:
        history = load_targets(session, history=True)
        current = {r["id"]: r for r in load_targets(session)}
    assert [(r["id"], r["revision"]) for r in history] == [
        ("RE", 1),
        ("S12", 1),
        ("S12", 2),
        ("S3", 1),
    ]
    assert current["S12"]["revision"] == 2
    assert current["S12"]["definition"]["reduction"] == 0.75
    assert current["S12"]["reason"] == "imported from targets-2025.csv"


def test_every_bad_target_row_is_reported_and_nothing_is_stored(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        "id,name,kind,scopes,base_year,target_year,reduction,target_share\n"
        "A,Fine,absolute,1+2,2021,2030,0.7,\n"  # row 2: fine
        "B,Backwards,absolute,1+2,2030,2021,0.7,\n"  # row 3: target year before base year
        "C,Percent,absolute,1+2,2021,2030,70,\n"  # row 4: 70 instead of 0.70
        "D,Bad scopes,absolute,4,2021,2030,0.5,\n"  # row 5: no scope 4
        "E,Year,absolute,1,20x1,2030,0.5,\n"  # row 6: not a year
        "A,Twice,absolute,1,2021,2030,0.5,\n"  # row 7: id given twice
    )
    with pytest.raises(
        InputError, match=r"targets\.csv was rejected: 5 problems in 5 rows"
    ) as info:
        import_file(workspace, "targets", _write(tmp_path, "targets.csv", text))
    issues = info.value.issues
    assert [i.row for i in issues] == [3, 4, 5, 6, 7]
    assert all(i.file == "targets.csv" and i.fix for i in issues)
    assert "target_year 2021 must be after base_year 2030" in issues[0].problem
    assert (issues[1].column, issues[1].value) == ("reduction", "70.0")
    assert "write a percentage as a fraction" in issues[1].problem
    assert issues[2].column == "scopes"
    assert issues[3].column == "base_year"
    assert issues[4].problem == "target A is given twice (first in row 2)"
    with workspace.session() as session:
        assert load_targets(session) == []


# ---- measures -------------------------------------------------------------------------------


def test_measures_land_and_bad_rows_are_reported_with_their_rows(
    workspace: Workspace, tmp_path: Path
) -> None:
    result = import_file(workspace, "measures", _write(tmp_path, "measures.csv", MEASURES))
    assert result.rows == 2
    with workspace.session() as session:
        stored = {m["id"]: m["definition"] for m in load_measures(session)}
    assert stored["PUE"]["acts_on"] == "scope=2; site=DC1"
    assert stored["PPA"]["ramp_years"] == "0"

    bad = (
        "id,name,lever,cost_per_t,currency,reduction_t_co2e_per_yr,start_year,acts_on\n"
        "X1,Fine,efficiency,10,CNY,100,2025,\n"
        "X2,Lever,magic,10,CNY,100,2025,\n"  # row 3: unknown lever
        "X3,Cost,efficiency,cheap,CNY,100,2025,\n"  # row 4: not a number
        "X4,Selector,efficiency,10,CNY,100,2025,building=7\n"  # row 5: unknown selector key
    )
    with pytest.raises(InputError, match=r"measures-bad\.csv was rejected: 3 problems") as info:
        import_file(workspace, "measures", _write(tmp_path, "measures-bad.csv", bad))
    issues = info.value.issues
    assert [(i.row, i.column) for i in issues] == [(3, "lever"), (4, "cost_per_t"), (5, "acts_on")]
    assert all(i.file == "measures-bad.csv" for i in issues)
    with workspace.session() as session:
        assert {m["id"] for m in load_measures(session)} == {"PUE", "PPA"}


# ---- credits and retirements ----------------------------------------------------------------


def test_credits_are_registered_once(workspace: Workspace, tmp_path: Path) -> None:
    first = import_file(workspace, "credits", _write(tmp_path, "credits.csv", CREDITS))
    assert first.rows == 2
    # The same blocks again in a longer file: skipped, the new one registered.
    more = (
        CREDITS
        + "FOREST,CCER registry,CCER-5,1,50,Forest,forestry,removal,temporary,CCER,2023,50\n"
    )
    second = import_file(workspace, "credits", _write(tmp_path, "credits-2.csv", more))
    assert second.rows == 1
    assert second.message.endswith("Already registered, skipped: BIOCHAR, WIND.")
    # A registered block cannot be changed, and serials cannot be held twice.
    changed = CREDITS.replace("Verra,VCS-1-2023,1,1000", "Verra,VCS-1-2023,1,900").replace(
        ",2023,1000", ",2023,900"
    )
    overlap = (
        CREDITS.splitlines()[0]
        + "\nWIND-B,Verra,VCS-1-2023,500,1499,Wind farm,wind,avoidance,,VCS,2023,1000\n"
    )
    with pytest.raises(InputError, match="rejected") as info:
        import_file(workspace, "credits", _write(tmp_path, "credits-3.csv", changed))
    assert [(i.row, i.column) for i in info.value.issues] == [(2, "id")]
    assert "registered already with another definition" in info.value.issues[0].problem
    with pytest.raises(InputError, match="rejected") as info:
        import_file(workspace, "credits", _write(tmp_path, "credits-4.csv", overlap))
    assert [(i.row, i.column) for i in info.value.issues] == [(2, "serial_start")]
    assert "serials overlap those of credit 'WIND'" in info.value.issues[0].problem
    with workspace.session() as session:
        assert [c["id"] for c in load_credits(session)] == ["BIOCHAR", "FOREST", "WIND"]


def test_retirements_are_checked_against_the_stored_register(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_file(workspace, "credits", _write(tmp_path, "credits.csv", CREDITS))
    import_file(workspace, "retirements", _write(tmp_path, "retirements.csv", RETIREMENTS))
    with workspace.session() as session:
        retired = {c["id"]: c["retired_t"] for c in load_credits(session)}
        assert [r["id"] for r in load_retirements(session, 2024)] == ["R-1", "R-2"]
    assert retired == {"BIOCHAR": 100.0, "WIND": 600.0}

    header = RETIREMENTS.splitlines()[0]
    # Row 2: 500 t more of WIND (400 left); row 3: the serials of R-1 again under a new
    # reference; row 4: an unknown credit.
    bad = (
        f"{header}\n"
        "WIND,500,2025-04-01,2024,Group,neutrality,R-3,601,1100\n"
        "WIND,10,2025-04-01,2024,Group,neutrality,R-4,1,10\n"
        "SOLAR,10,2025-04-01,2024,Group,neutrality,R-5,,\n"
    )
    with pytest.raises(InputError, match=r"retirements-2\.csv was rejected") as info:
        import_file(workspace, "retirements", _write(tmp_path, "retirements-2.csv", bad))
    issues = info.value.issues
    problems = {(i.row, i.column): i.problem for i in issues}
    assert "no credit with this id" in problems[(4, "credit")]
    assert "serials already retired by 'R-1'" in problems[(3, "serial_start")]
    assert (
        "retirements total 1,110 t CO2e but the credit holds 1,000 t CO2e"
        in (problems[(3, "volume_t_co2e")])
    )
    assert all(i.file == "retirements-2.csv" for i in issues)
    with workspace.session() as session:
        assert {c["id"]: c["retired_t"] for c in load_credits(session)} == retired
        assert len(load_retirements(session)) == 2


def test_a_retirement_recorded_twice_is_refused_and_the_database_backs_it_up(
    workspace: Workspace, tmp_path: Path
) -> None:
    import_file(workspace, "credits", _write(tmp_path, "credits.csv", CREDITS))
    import_file(workspace, "retirements", _write(tmp_path, "retirements.csv", RETIREMENTS))
    # The same registry statement with other content: refused.
    twice = RETIREMENTS.replace("WIND,600,", "WIND,650,").replace(",1,600\n", ",1,650\n")
    with pytest.raises(InputError, match="rejected") as info:
        import_file(workspace, "retirements", _write(tmp_path, "again.csv", twice))
    assert [(i.row, i.column) for i in info.value.issues] == [(2, "reference")]
    # The same statements with the same content (rows in another order, so not the same
    # bytes) are the same retirements: skipped.
    header, *rows = RETIREMENTS.splitlines()
    same_text = "\n".join([header, *reversed(rows)]) + "\n"
    same = import_file(workspace, "retirements", _write(tmp_path, "same.csv", same_text))
    assert (same.rows, same.message.endswith("Already recorded, skipped: R-1, R-2.")) == (0, True)
    # Past the importer, the database's CHECK refuses an over-retirement on its own.
    with (
        pytest.raises(WorkspaceError, match="retired beyond its volume"),
        workspace.session() as session,
    ):
        save_retirements(
            session,
            [
                {
                    "id": "R-9",
                    "credit": "BIOCHAR",
                    "volume_t": 1.0,
                    "retired_on": date(2025, 5, 1),
                    "claim_year": 2024,
                    "purpose": "net_zero",
                    "definition": {},
                }
            ],
            None,
        )
    with workspace.session() as session:
        assert {c["id"]: c["retired_t"] for c in load_credits(session)} == {
            "BIOCHAR": 100.0,
            "WIND": 600.0,
        }
