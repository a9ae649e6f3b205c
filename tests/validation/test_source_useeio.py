"""U.S. EPA, Supply Chain Greenhouse Gas Emission Factors v1.3 by NAICS-6 (July 2024, USEEIO
v2.2.22-GHG, AR5, 2022 USD; file ``SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv``):
the shipped ``useeio-1.3.0`` set against the official CSV.

The converter copies EPA's 3-decimal values unchanged, so spot values compare exactly.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from _sources_common import assert_tables_equal, check_vocabulary, shared_file

from esgledger.errors import InputError
from esgledger.factors.sources import useeio
from esgledger.factors.sources._common import read_shipped_set, shipped_set_meta

CSV = "supply-chain/SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv"


def _official() -> dict[str, dict[str, str]]:
    with shared_file(CSV).open(encoding="utf-8", newline="") as handle:
        return {r["2017 NAICS Code"]: r for r in csv.DictReader(handle)}


def test_row_count_is_two_per_naics() -> None:
    # PROVENANCE.md and standards-and-data.md §4.2: 1,016 NAICS-6 rows; one purchaser- and
    # one producer-price factor each.
    assert len(_official()) == 1016
    assert read_shipped_set(useeio.SET_ID).num_rows == 2 * 1016


@pytest.mark.parametrize("naics", ["334111", "562111", "111110"])
def test_spot_values(naics: str) -> None:
    official = _official()[naics]
    shipped = {r["factor_id"]: r for r in read_shipped_set(useeio.SET_ID).to_pylist()}
    purchaser = shipped[f"useeio-1.3.0:{naics}"]
    producer = shipped[f"useeio-1.3.0:{naics}:producer"]
    assert purchaser["co2e_kg"] == float(official["Supply Chain Emission Factors with Margins"])
    assert producer["co2e_kg"] == float(official["Supply Chain Emission Factors without Margins"])
    assert (purchaser["price_basis"], producer["price_basis"]) == ("purchaser", "producer")
    for row in (purchaser, producer):
        assert (row["activity"], row["region"], row["year"], row["unit"]) == (
            f"spend.naics.{naics}", "US", 2022, "USD"
        )  # fmt: skip
        assert (row["currency"], row["price_year"], row["gwp_basis"], row["method"]) == (
            "USD", 2022, "AR5", "spend"
        )  # fmt: skip
        assert row["scope3_category"] == 1
        assert row["description"] == official["2017 NAICS Title"]


def test_electronic_computers_value_from_the_file() -> None:
    # 334111 Electronic Computer Manufacturing: 0.03 without margins, 0.058 with margins
    # [kg CO2e / 2022 USD], read from the official CSV (line 391).
    shipped = {r["factor_id"]: r for r in read_shipped_set(useeio.SET_ID).to_pylist()}
    assert shipped["useeio-1.3.0:334111"]["co2e_kg"] == 0.058
    assert shipped["useeio-1.3.0:334111:producer"]["co2e_kg"] == 0.03


def test_shipped_table_matches_a_fresh_conversion() -> None:
    assert_tables_equal(useeio.convert_useeio(shared_file(CSV)), read_shipped_set(useeio.SET_ID))


def test_meta_hash_is_the_official_file() -> None:
    # sha256 from /work/shared/data/PROVENANCE.md
    meta = shipped_set_meta(useeio.SET_ID)
    assert meta["official_sha256"] == (
        "9a1e524f382b27579ce7f92ee2029bf024bb5ba9bba6dfe8f6b38845e0e4cbe1"
    )


def test_vocabulary() -> None:
    check_vocabulary(read_shipped_set(useeio.SET_ID))


def test_bad_naics_code_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "sc.csv"
    path.write_text(
        '"2017 NAICS Code","2017 NAICS Title","Supply Chain Emission Factors without Margins",'
        '"Supply Chain Emission Factors with Margins"\n'
        '33411,"Computers",0.03,0.058\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"^sc\.csv: 1 bad rows") as info:
        useeio.convert_useeio(path)
    issue = info.value.issues[0]
    assert (issue.file, issue.row, issue.column, issue.value, issue.problem) == (
        "sc.csv", 2, "2017 NAICS Code", "33411", "not a six-digit NAICS code"
    )  # fmt: skip
