"""Unit tests of esgledger.boundary: shares, reasons, edge cases, structure validation."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import pytest

from esgledger.boundary import (
    APPROACHES,
    ConsolidationApproach,
    EntityShare,
    consolidation_shares,
    validate_structure,
)
from esgledger.errors import InputError


def _e(
    code: str,
    parent: str | None,
    pct: float | None = 100,
    op: Any = True,
    fin: Any = True,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": code,
        "parent": parent,
        "ownership_pct": pct,
        "operational_control": op,
        "financial_control": fin,
        "country": "CN",
        **extra,
    }


def _demo() -> list[dict[str, str]]:
    text = resources.files("esgledger.demo").joinpath("entities.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_approaches() -> None:
    assert APPROACHES == ("equity_share", "operational_control", "financial_control")
    assert ConsolidationApproach("equity_share") is ConsolidationApproach.EQUITY_SHARE
    assert ConsolidationApproach.OPERATIONAL_CONTROL == "operational_control"
    assert ConsolidationApproach.FINANCIAL_CONTROL.label_zh == "财务控制法"


def test_demo_group_equity_share() -> None:
    shares = consolidation_shares(_demo(), "equity_share")
    assert shares["MUSIC"] == EntityShare(
        entity="MUSIC",
        share=0.55,
        path=("GRP", "CONTENT", "MUSIC"),
        reason="55 % × 100 % equity via GRP > CONTENT > MUSIC",
        reason_zh="按股权比例 55 % × 100 %（经 GRP > CONTENT > MUSIC）",
    )
    assert shares["DCJV"].share == 0.5
    assert shares["GRP"] == EntityShare(
        "GRP", 1.0, ("GRP",), "100 %: GRP is the group root", "100 %：GRP 为集团最顶层实体"
    )
    assert list(shares) == [row["entity"] for row in _demo()]


@pytest.mark.parametrize("approach", ["operational_control", "financial_control"])
def test_demo_group_control(approach: str) -> None:
    shares = consolidation_shares(_demo(), approach)
    label = approach.replace("_", " ")
    assert shares["MUSIC"].share == 1.0
    assert shares["MUSIC"].reason == f"100 %: {label} of every link via GRP > CONTENT > MUSIC"
    assert shares["DCJV"].share == 0.0
    assert shares["DCJV"].reason == f"0 %: CLOUD has no {label} of DCJV (via GRP > CLOUD > DCJV)"


def test_equity_multiplies_along_the_chain() -> None:
    entities = [_e("G", None), _e("A", "G", 80), _e("B", "A", 50), _e("C", "B", 25)]
    shares = consolidation_shares(entities, ConsolidationApproach.EQUITY_SHARE)
    assert shares["C"].share == pytest.approx(0.8 * 0.5 * 0.25)
    assert shares["C"].path == ("G", "A", "B", "C")
    assert shares["C"].reason == "25 % × 50 % × 80 % equity via G > A > B > C"


def test_uncontrolled_link_breaks_the_chain() -> None:
    """A controlled grandchild of an uncontrolled child is outside a control boundary."""
    entities = [_e("G", None), _e("JV", "G", 60, op=False, fin=False), _e("SUB", "JV", 100)]
    for approach in ("operational_control", "financial_control"):
        shares = consolidation_shares(entities, approach)
        assert shares["JV"].share == 0.0
        assert shares["SUB"].share == 0.0
        assert shares["SUB"].reason.startswith(f"0 %: G has no {approach.replace('_', ' ')} of JV")
    assert consolidation_shares(entities, "equity_share")["SUB"].share == pytest.approx(0.6)


def test_control_does_not_need_equity() -> None:
    entities = [
        _e("G", None),
        _e("OPERATED", "G", 0, op=True, fin=False),
        _e("MAJORITY", "G", 70, op=False, fin=False),
    ]
    operational = consolidation_shares(entities, "operational_control")
    assert operational["OPERATED"].share == 1.0
    assert operational["MAJORITY"].share == 0.0
    equity = consolidation_shares(entities, "equity_share")
    assert equity["OPERATED"].share == 0.0
    assert equity["OPERATED"].reason == "0 % equity via G > OPERATED"
    assert equity["MAJORITY"].share == pytest.approx(0.7)


def test_joint_financial_control_counts_equity_under_financial_control() -> None:
    entities = [
        _e("G", None),
        _e("SUB", "G", 80),
        _e("JV", "SUB", 50, op=False, fin=False, joint_financial_control=True),
    ]
    financial = consolidation_shares(entities, "financial_control")["JV"]
    assert financial.share == 0.5
    assert financial.reason == (
        "50 %: joint financial control of JV at 50 % equity, financial control of every other "
        "link via G > SUB > JV"
    )
    assert consolidation_shares(entities, "operational_control")["JV"].share == 0.0
    assert consolidation_shares(entities, "equity_share")["JV"].share == pytest.approx(0.4)


def test_root_flags_and_ownership_are_ignored() -> None:
    entities = [_e("G", None, pct=None, op=False, fin=False), _e("A", "G", 100)]
    for approach in APPROACHES:
        assert consolidation_shares(entities, approach)["G"].share == 1.0
        assert consolidation_shares(entities, approach)["A"].share == 1.0


def test_entity_key_and_text_flags_as_in_import_files() -> None:
    entities = [
        {"entity": "G", "parent": "", "ownership_pct": "100", "operational_control": "true"},
        {
            "entity": "A",
            "parent": "G",
            "ownership_pct": "40",
            "operational_control": "yes",
            "financial_control": "0",
        },
    ]
    assert consolidation_shares(entities, "operational_control")["A"].share == 1.0
    assert consolidation_shares(entities, "financial_control")["A"].share == 0.0
    assert consolidation_shares(entities, "equity_share")["A"].share == pytest.approx(0.4)


def test_unknown_approach() -> None:
    with pytest.raises(InputError) as info:
        consolidation_shares([_e("G", None)], "cost_share")
    assert str(info.value) == (
        "Unknown consolidation approach 'cost_share': choose one of equity_share, "
        "operational_control, financial_control."
    )


def test_empty_structure() -> None:
    assert validate_structure([]) == []
    assert consolidation_shares([], "equity_share") == {}


def test_validate_structure_problems() -> None:
    entities = [
        _e("G", None),
        _e("H", None),
        _e("A", "G", 120),
        _e("B", "NOPE", 50),
        _e("C", "G", None),
        _e("D", "G", 50, op="maybe"),
        _e("E", "G", 50, fin=True, joint_financial_control=True),
        _e("A", "G", 10),
        {"name": "no code"},
        _e("X", "Y", 50),
        _e("Y", "X", 50),
        _e("S", "S", 50),
    ]
    assert validate_structure(entities) == [
        "entity 'A': ownership_pct 120 is outside 0..100",
        "entity 'C': ownership_pct is missing",
        "entity 'D': operational_control 'maybe' is not true/false",
        "entity 'E': financial_control and joint_financial_control are both true (control is "
        "either sole or joint)",
        "entity 'A' appears more than once",
        "entity #9 has no code",
        "entity 'B' has unknown parent 'NOPE'",
        "more than one root (entities without a parent): 'G', 'H'",
        "cycle in the parent chain: X > Y > X",
        "cycle in the parent chain: S > S",
    ]


def test_no_root() -> None:
    assert validate_structure([_e("X", "Y", 50), _e("Y", "X", 50)]) == [
        "no group root: every entity has a parent (the root has parent empty)",
        "cycle in the parent chain: X > Y > X",
    ]


def test_invalid_structure_is_refused_with_issues() -> None:
    with pytest.raises(InputError) as info:
        consolidation_shares([_e("G", None), _e("A", "Z", 50)], "equity_share")
    assert info.value.summary == (
        "The group structure cannot be consolidated (GHG Protocol Corporate Standard ch. 3 "
        "needs one tree of entities under one root)"
    )
    assert [i.problem for i in info.value.issues] == ["entity 'A' has unknown parent 'Z'"]


def test_demo_structure_is_valid() -> None:
    assert validate_structure(_demo()) == []
