"""Offsets register: credits, retirements, one credit retired once, serials never twice."""

from __future__ import annotations

from datetime import date

import pytest

from esgledger.errors import InputError
from esgledger.targets.offsets import (
    Credit,
    CreditKind,
    Permanence,
    Purpose,
    Register,
    Retirement,
    credits_from_rows,
    retirements_from_rows,
)


def credit(
    id: str = "C1",
    volume: float = 1000.0,
    *,
    start: int | None = 1,
    block: str = "VCS-1234-2023",
    kind: CreditKind = CreditKind.AVOIDANCE,
    permanence: Permanence | None = None,
) -> Credit:
    return Credit(
        id=id,
        registry="Verra",
        project="Wind farm",
        project_type="wind",
        kind=kind,
        standard="verra",
        vintage=2023,
        volume_t_co2e=volume,
        permanence=permanence,
        serial_block=block,
        serial_start=start,
        serial_end=None if start is None else start + int(volume) - 1,
    )


def retirement(
    ref: str, volume: float, *, credit: str = "C1", serials: tuple[int, int] | None = None
) -> Retirement:
    return Retirement(
        credit=credit,
        volume_t_co2e=volume,
        retired_on=date(2026, 3, 1),
        claim_year=2025,
        beneficiary="HK",
        purpose=Purpose.NEUTRALITY,
        reference=ref,
        serial_start=None if serials is None else serials[0],
        serial_end=None if serials is None else serials[1],
    )


def test_standard_spelling_is_normalised_and_serials_shown() -> None:
    c = credit()
    assert c.standard == "VCS"
    assert c.serials == "Verra VCS-1234-2023:1-1000"


def test_retire_tracks_what_is_left() -> None:
    register = Register((credit(),)).retire(retirement("R1", 400.0))
    assert register.retired_t("C1") == 400.0
    assert register.available_t("C1") == 600.0


def test_retiring_more_than_the_volume_is_refused() -> None:
    register = Register((credit(),), (retirement("R1", 600.0),))
    with pytest.raises(
        InputError, match="retirements total 1,200 t CO2e but the credit holds 1,000"
    ):
        register.retire(retirement("R2", 600.0))


def test_the_same_retirement_reference_twice_is_refused() -> None:
    with pytest.raises(InputError, match="retirement reference recorded more than once"):
        Register((credit(),), (retirement("R1", 100.0), retirement("R1", 100.0)))


def test_the_same_serial_block_retired_twice_is_refused() -> None:
    first = retirement("R1", 100.0, serials=(1, 100))
    second = retirement("R2", 100.0, serials=(51, 150))
    with pytest.raises(InputError, match="serials already retired by 'R1' \\(1-100\\)"):
        Register((credit(),), (first, second))
    # Adjacent blocks are fine: 1-100 then 101-200.
    Register((credit(),), (first, retirement("R2", 100.0, serials=(101, 200))))


def test_retired_serials_must_lie_inside_the_credit() -> None:
    with pytest.raises(InputError, match="retired serials lie outside credit 'C1'"):
        Register((credit(),), (retirement("R1", 10.0, serials=(995, 1004)),))


def test_overlapping_serial_ranges_across_credits_are_refused() -> None:
    # C1 holds 1-1000, C2 would hold 901-1400 of the same block.
    with pytest.raises(InputError, match="serials overlap those of credit 'C1'"):
        Register((credit("C1"), credit("C2", 500.0, start=901)))
    # The same numbers in another block are other serials.
    Register((credit("C1"), credit("C2", 500.0, start=901, block="VCS-9999-2023")))


def test_duplicate_credit_ids_and_unknown_credits_are_refused() -> None:
    with pytest.raises(InputError, match="credit id used more than once"):
        Register((credit("C1"), credit("C1", start=5001)))
    with pytest.raises(InputError, match="no credit with this id"):
        Register((credit(),), (retirement("R1", 1.0, credit="C9"),))


def test_credit_rules() -> None:
    with pytest.raises(InputError, match="a removal credit needs its permanence"):
        credit(kind=CreditKind.REMOVAL)
    with pytest.raises(InputError, match="permanence applies to removal credits only"):
        credit(permanence=Permanence.PERMANENT)
    with pytest.raises(InputError, match="volume differs from the 1000 serials 1-1000"):
        Credit(
            "C1",
            "Verra",
            "P",
            "wind",
            CreditKind.AVOIDANCE,
            "VCS",
            2023,
            999.0,
            serial_start=1,
            serial_end=1000,
        )
    with pytest.raises(InputError, match="unknown crediting standard"):
        Credit("C1", "X", "P", "wind", CreditKind.AVOIDANCE, "Acme", 2023, 1.0)


def test_rows_are_read_with_every_problem_reported() -> None:
    rows = [
        {
            "id": "C1",
            "registry": "Puro",
            "project": "Biochar A",
            "project_type": "biochar",
            "kind": "removal",
            "permanence": "permanent",
            "standard": "puro.earth",
            "vintage": "2024",
            "volume_t_co2e": "50",
        },
        {
            "id": "C2",
            "registry": "Verra",
            "project": "Forest",
            "project_type": "forestry",
            "kind": "removal",
            "standard": "VCS",
            "vintage": "twenty",
            "volume_t_co2e": "10",
        },
    ]
    with pytest.raises(InputError, match=r"credits\.csv: 1 problem") as info:
        credits_from_rows(rows)
    assert [(i.row, i.column) for i in info.value.issues] == [(3, "vintage")]
    [c] = credits_from_rows(rows[:1])
    assert (c.standard, c.permanence) == ("Puro", Permanence.PERMANENT)
    retired = {
        "credit": "C1",
        "volume_t_co2e": "50",
        "retired_on": "2026-01-31",
        "claim_year": "2025",
        "beneficiary": "HK",
        "purpose": "net_zero",
        "reference": "PURO-R-1",
    }
    [r] = retirements_from_rows([retired])
    assert (r.purpose, r.retired_on) == (Purpose.NET_ZERO, date(2026, 1, 31))
    with pytest.raises(InputError, match="unknown purpose") as info:
        retirements_from_rows([dict(retired, purpose="offsetting")])
    assert info.value.issues[0].row == 2
