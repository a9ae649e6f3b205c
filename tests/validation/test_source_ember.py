"""Ember, Yearly Electricity Data (country overview, data-API refresh of 21 May 2025, CC BY 4.0):
the shipped ``ember-2025`` set against the official CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from _sources_common import assert_tables_equal, check_vocabulary, shared_file

from esgledger.errors import InputError
from esgledger.factors.sources import ember
from esgledger.factors.sources._common import read_shipped_set

EMBER = "grid/ember-yearly-electricity-country-overview-2000-2024.csv"


def _official_rows() -> list[dict[str, str]]:
    with shared_file(EMBER).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_row_count_is_country_years_with_an_intensity() -> None:
    expected = [
        r for r in _official_rows() if r["country_code"] and r["emissions_intensity_gco2_per_kwh"]
    ]
    assert read_shipped_set(ember.SET_ID).num_rows == len(expected)


@pytest.mark.parametrize(
    ("alpha3", "year"), [("CHN", "2023"), ("USA", "2023"), ("GBR", "2024"), ("NAM", "2000")]
)
def test_spot_values_are_grams_over_1000(alpha3: str, year: str) -> None:
    # Ember's column is gCO2e/kWh; the factor is kgCO2e/kWh. Exact up to the float division.
    official = next(
        r for r in _official_rows() if r["country_code"] == alpha3 and r["year"] == year
    )
    alpha2 = ember.alpha3_to_alpha2()[alpha3]
    shipped = {r["factor_id"]: r for r in read_shipped_set(ember.SET_ID).to_pylist()}
    row = shipped[f"ember-2025:{alpha2}:{year}"]
    assert row["co2e_kg"] == pytest.approx(
        float(official["emissions_intensity_gco2_per_kwh"]) / 1000, rel=1e-12
    )
    assert (row["region"], row["method"], row["gwp_basis"]) == (alpha2, "lifecycle", None)
    assert row["attribution"] == "Source: Ember, Yearly Electricity Data (2025), CC BY 4.0"


def test_shipped_table_matches_a_fresh_conversion() -> None:
    assert_tables_equal(ember.convert_ember(shared_file(EMBER)), read_shipped_set(ember.SET_ID))


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(ember.SET_ID))


def test_unknown_country_code_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "ember.csv"
    path.write_text(
        "country_or_region,country_code,year,emissions_intensity_gco2_per_kwh\n"
        "Atlantis,ATL,2020,100.0\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"ember\.csv: 1 row\(s\) rejected") as info:
        ember.convert_ember(path)
    issue = info.value.issues[0]
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "ember.csv",
        2,
        "country_code",
        "ATL",
    )
    assert issue.problem == "not an ISO 3166-1 alpha-3 code in country_codes.csv"
