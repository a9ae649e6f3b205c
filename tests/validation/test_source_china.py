"""China MEE/NBS electricity CO2 factors 2021-2023 (shipped set ``cn-mee``).

References: MEE/NBS Announcement 2025 No. 47, Table 3 (2023 provincial averages, via the
CodeCarbon JSON in shared/data/grid); standards-and-data.md §4.5 (national, regional,
selected provincial 2021/2022 values, residual-mix proxy, fossil-power, ETS and life-cycle
factors, with confidence marks)."""

from __future__ import annotations

import csv

import pytest
from _sources_common import assert_tables_equal, check_vocabulary, shared_file

from esgledger.factors.sources import china_mee
from esgledger.factors.sources._common import read_shipped_set

JSON = "grid/china-mee-nbs-provincial-grid-co2-factors-2023.json"
CSV = "grid/china-mee-nbs-provincial-grid-co2-factors-2023.csv"


def _shipped() -> dict[tuple[str, str, int], dict[str, object]]:
    rows = read_shipped_set(china_mee.SET_ID).to_pylist()
    return {(str(r["method"]), str(r["region"]), int(r["year"])): r for r in rows}


def test_2023_provinces_equal_the_official_table() -> None:
    # Announcement 2025 No. 47 Table 3 publishes 4 decimals in kgCO2/kWh; the CSV column
    # ef_kgco2_per_kwh carries them, so equality to 1e-12 relative (float division only).
    with shared_file(CSV).open(encoding="utf-8", newline="") as handle:
        official = list(csv.DictReader(handle))
    assert len(official) == 30
    shipped = _shipped()
    provinces = [k for k in shipped if k[0] == "location" and k[2] == 2023 and k[1].count("-") == 1]
    assert len(provinces) == 30
    for row in official:
        value = shipped[("location", row["iso_3166_2"], 2023)]["co2_kg"]
        assert value == pytest.approx(float(row["ef_kgco2_per_kwh"]), rel=1e-12)


@pytest.mark.parametrize(
    ("method", "region", "year", "column", "value"),
    [
        # standards-and-data.md §4.5 table and paragraphs (values as published, 4 decimals)
        ("location", "CN", 2021, "co2_kg", 0.5568),
        ("location", "CN", 2022, "co2_kg", 0.5366),
        ("location", "CN", 2023, "co2_kg", 0.5306),
        ("residual_mix", "CN", 2023, "co2_kg", 0.6096),
        ("fossil_only", "CN", 2023, "co2_kg", 0.8273),
        ("location", "CN-GRID-SOUTH", 2023, "co2_kg", 0.4042),
        ("location", "CN-GD", 2021, "co2_kg", 0.4715),
        ("location", "CN-GD", 2022, "co2_kg", 0.4403),
        ("market_reporting", "CN", 2022, "co2_kg", 0.5810),
        ("market_reporting", "CN", 2023, "co2_kg", 0.5703),
        ("lifecycle", "CN", 2023, "co2e_kg", 0.6205),
        ("lifecycle", "CN", 2024, "co2e_kg", 0.5777),
    ],
)
def test_section_4_5_values(method: str, region: str, year: int, column: str, value: float) -> None:
    assert _shipped()[(method, region, year)][column] == value


def test_regional_changes_reproduce_the_mee_quoted_percentages() -> None:
    # MEE spokesman, Jan 2026 (standards-and-data.md §4.5): 2023 vs 2022 regional changes
    # -6.1, -8.0, -2.1, -2.3, -5.4, +4.5, +9.0 %. Tolerance 0.1 percentage point: 0.05 for
    # MEE's rounding to 0.1 %, plus up to ~0.03 from the 4-decimal rounding of both factors
    # (MEE computes the change from unrounded values; Northeast gives -7.94 from the rounded).
    quoted = {
        "CN-GRID-NORTH": -6.1,
        "CN-GRID-NORTHEAST": -8.0,
        "CN-GRID-EAST": -2.1,
        "CN-GRID-CENTRAL": -2.3,
        "CN-GRID-NORTHWEST": -5.4,
        "CN-GRID-SOUTH": 4.5,
        "CN-GRID-SOUTHWEST": 9.0,
    }
    shipped = _shipped()
    for region, pct in quoted.items():
        new = float(shipped[("location", region, 2023)]["co2_kg"])  # type: ignore[arg-type]
        old = float(shipped[("location", region, 2022)]["co2_kg"])  # type: ignore[arg-type]
        assert (new / old - 1) * 100 == pytest.approx(pct, abs=0.1), region


def test_every_keyed_value_carries_its_confidence_mark_and_a_citation() -> None:
    for row in china_mee.keyed_rows():
        assert row["confidence"] in {"V", "S", "M", "S/M"}
        assert row["citation"].strip()
    marked = read_shipped_set(china_mee.SET_ID).to_pylist()
    assert all(str(r["description"]).endswith("]") for r in marked)
    assert _shipped()[("residual_mix", "CN", 2021)]["description"].endswith("[M]")  # type: ignore[union-attr]


def test_lifecycle_factors_are_scope3_category_3_co2e() -> None:
    rows = [r for r in read_shipped_set(china_mee.SET_ID).to_pylist() if r["method"] == "lifecycle"]
    assert [(r["year"], r["scope3_category"], r["co2_kg"]) for r in rows] == [
        (2023, 3, None),
        (2024, 3, None),
    ]


def test_shipped_table_matches_a_fresh_conversion() -> None:
    assert_tables_equal(
        china_mee.convert_china(shared_file(JSON)), read_shipped_set(china_mee.SET_ID)
    )


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(china_mee.SET_ID))
