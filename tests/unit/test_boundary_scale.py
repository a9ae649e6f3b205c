"""Issue 11, defect 11: the organisation checks on deep chains, long cycles and wide trees.

The structure check was cubic (a walk to the root from every entity, with a list search at
each step): a 5,000-deep chain took 542 s to import, a 3,000-entity cycle 126 s to reject, and
reasons named every entity of every path. These tests hold no timings: linearity is shown by
counting the parent look-ups of :func:`esgledger.boundary.analyse_structure`, and the rest by
behaviour (the depth limit named, the cycle named and shortened, reasons of bounded length).
The timings are in ``benchmarks/bench_org.py`` and ``docs/performance.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from esgledger.boundary import (
    MAX_DEPTH,
    analyse_structure,
    consolidation_shares,
    validate_structure,
)
from esgledger.errors import InputError


class CountingParents(Mapping[str, str | None]):
    """A parent map that counts every look-up made of it."""

    def __init__(self, parents: dict[str, str | None]) -> None:
        self._parents = parents
        self.lookups = 0

    def __getitem__(self, key: str) -> str | None:
        self.lookups += 1
        return self._parents[key]

    def __contains__(self, key: object) -> bool:
        self.lookups += 1
        return key in self._parents

    def __iter__(self) -> Iterator[str]:
        return iter(self._parents)

    def __len__(self) -> int:
        return len(self._parents)


def chain(n: int, *, cycle: bool = False, pct: float = 100) -> list[dict[str, Any]]:
    """E0 (root) <- E1 <- … <- E{n-1}; with ``cycle`` E0's parent is E{n-1} (no root)."""
    rows = []
    for i in range(n):
        parent = None if i == 0 else f"E{i - 1}"
        if cycle and i == 0:
            parent = f"E{n - 1}"
        rows.append(
            {
                "code": f"E{i}",
                "parent": parent,
                "ownership_pct": pct,
                "operational_control": True,
                "financial_control": True,
            }
        )
    return rows


def parents_of(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {row["code"]: row["parent"] for row in rows}


@pytest.mark.parametrize("n", [1_000, 5_000, 50_000])
def test_the_structure_is_analysed_in_linear_time_on_a_deep_chain(n: int) -> None:
    parents = CountingParents(parents_of(chain(n)))
    shape = analyse_structure(parents)
    assert shape.roots == ("E0",)
    assert shape.depth[f"E{n - 1}"] == n
    assert shape.too_deep == (f"E{MAX_DEPTH}",)
    # every entity is looked up a bounded number of times, whatever the depth
    assert parents.lookups <= 6 * n


@pytest.mark.parametrize("n", [3_000, 30_000])
def test_a_long_cycle_is_found_once_in_linear_time(n: int) -> None:
    parents = CountingParents(parents_of(chain(n, cycle=True)))
    shape = analyse_structure(parents)
    assert len(shape.cycles) == 1
    assert len(shape.cycles[0]) == n
    assert shape.depth == {}
    assert parents.lookups <= 6 * n


def test_a_wide_tree_is_analysed_in_linear_time() -> None:
    rows: dict[str, str | None] = {"G": None}
    for i in range(20_000):
        rows[f"S{i}"] = "G"
        rows[f"S{i}-A"] = f"S{i}"
    parents = CountingParents(rows)
    shape = analyse_structure(parents)
    assert shape.depth["S19999-A"] == 3
    assert shape.root_of["S19999-A"] == "G"
    assert parents.lookups <= 6 * len(rows)


def test_a_5000_deep_chain_is_refused_naming_the_root_the_entity_and_the_limit() -> None:
    problems = validate_structure(chain(5_000))
    assert problems == [
        f"entity 'E{MAX_DEPTH}' is at level {MAX_DEPTH + 1} of the chain of parents from the "
        f"root 'E0' (E0 > E1 > E2 > … > E{MAX_DEPTH - 2} > E{MAX_DEPTH - 1} > E{MAX_DEPTH}): "
        f"deeper than the limit of {MAX_DEPTH} levels"
    ]


def test_a_50000_deep_chain_is_refused_with_one_problem() -> None:
    problems = validate_structure(chain(50_000))
    assert len(problems) == 1
    assert f"limit of {MAX_DEPTH} levels" in problems[0]


def test_a_chain_of_exactly_the_limit_is_accepted() -> None:
    assert validate_structure(chain(MAX_DEPTH)) == []
    problems = validate_structure(chain(MAX_DEPTH + 1))
    assert len(problems) == 1
    assert f"'E{MAX_DEPTH}'" in problems[0]


def test_a_3000_entity_cycle_is_refused_naming_the_cycle_shortened() -> None:
    problems = validate_structure(chain(3_000, cycle=True))
    assert problems == [
        "no group root: every entity has a parent (the root has parent empty)",
        "cycle in the parent chain: E0 > E2999 > E2998 > … > E3 > E2 > E1 > E0 (3000 entities)",
    ]


def test_entities_under_a_cycle_are_not_reported_again() -> None:
    rows = [*chain(3), *chain(4, cycle=True)]
    for row in rows[3:]:
        row["code"] = "C" + row["code"]
        row["parent"] = "C" + row["parent"]
    rows.append({**rows[-1], "code": "UNDER", "parent": "CE2"})
    assert validate_structure(rows) == [
        "cycle in the parent chain: CE0 > CE3 > CE2 > CE1 > CE0",
    ]


def test_many_roots_are_listed_shortened() -> None:
    rows = [{**chain(1)[0], "code": f"R{i}"} for i in range(500)]
    (problem,) = validate_structure(rows)
    assert problem == (
        "more than one root (entities without a parent): 'R0', 'R1', 'R2', …, 'R497', 'R498', "
        "'R499' (500 in all)"
    )


def test_consolidation_is_refused_beyond_the_limit() -> None:
    with pytest.raises(InputError) as info:
        consolidation_shares(chain(MAX_DEPTH + 1), "equity_share")
    assert [f"limit of {MAX_DEPTH} levels" in i.problem for i in info.value.issues] == [True]


@pytest.mark.parametrize("approach", ["equity_share", "operational_control", "financial_control"])
def test_shares_down_a_deep_chain_and_reasons_of_bounded_length(approach: str) -> None:
    rows = chain(MAX_DEPTH, pct=50)
    rows[-1]["operational_control"] = False
    shares = consolidation_shares(rows, approach)
    last = shares[f"E{MAX_DEPTH - 1}"]
    assert last.path == tuple(f"E{i}" for i in range(MAX_DEPTH))
    expected = {
        "equity_share": 0.5 ** (MAX_DEPTH - 1),
        "operational_control": 0.0,
        "financial_control": 1.0,
    }[approach]
    assert last.share == expected
    # reasons name the path shortened: no longer at level 100 than at level 10
    assert len(last.reason) <= len(shares["E9"].reason) + 20
    assert len(last.reason_zh) <= len(shares["E9"].reason_zh) + 20
    assert "E0 > E1 > E2 > … > E97 > E98 > E99" in last.reason


def test_the_equity_reason_of_a_deep_chain_shortens_its_terms() -> None:
    shares = consolidation_shares(chain(12, pct=50), "equity_share")
    assert shares["E11"].reason == (
        "50 % × 50 % × 50 % × … × 50 % × 50 % × 50 % equity via E0 > E1 > E2 > … > E9 > E10 > E11"
    )
    assert shares["E11"].reason_zh == (
        "按股权比例 50 % × 50 % × 50 % × … × 50 % × 50 % × 50 %（经 E0 > E1 > E2 > … > E9 > E10 > "
        "E11）"
    )


def test_many_joint_links_are_shortened() -> None:
    rows = chain(12, pct=50)
    for row in rows[1:]:
        row["financial_control"] = False
        row["joint_financial_control"] = True
    share = consolidation_shares(rows, "financial_control")["E11"]
    assert share.share == 0.5**11
    assert share.reason.count("joint financial control of") == 6
    assert "; …; " in share.reason


@pytest.mark.parametrize("approach", ["equity_share", "operational_control", "financial_control"])
def test_shortened_reasons_still_read_as_chinese_in_the_report(approach: str) -> None:
    from _zh_english import english_words
    from esgledger.report.vocabulary import message_text

    rows = chain(12, pct=50)
    rows[5]["operational_control"] = False
    for share in consolidation_shares(rows, approach).values():
        text = message_text(share.reason)
        assert text.zh != share.reason, share.reason
        assert not english_words(text.zh), text.zh


def test_entities_beyond_the_limit_are_listed_in_input_order() -> None:
    # G is level 1, so A{k} and B{k} are level k + 1: A{MAX_DEPTH} and B{MAX_DEPTH} are the
    # first beyond the limit. AX (under A{MAX_DEPTH}) comes first: its walk places
    # A{MAX_DEPTH}; B{MAX_DEPTH} comes second in the input.
    chains: dict[str, str | None] = {"G": None}
    for name, length in (("A", MAX_DEPTH), ("B", MAX_DEPTH - 1)):
        for level in range(1, length + 1):
            chains[f"{name}{level}"] = "G" if level == 1 else f"{name}{level - 1}"
    parents = {"AX": f"A{MAX_DEPTH}", f"B{MAX_DEPTH}": f"B{MAX_DEPTH - 1}", **chains}
    shape = analyse_structure(parents)
    assert shape.too_deep == (f"B{MAX_DEPTH}", f"A{MAX_DEPTH}")
    assert list(shape.depth) == list(parents)
