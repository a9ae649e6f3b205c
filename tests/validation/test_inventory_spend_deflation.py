"""Spend-based scope 3 against published numbers: USEEIO v1.3 factors and BLS CPI-U.

A spend row of the reporting year 2024 in USD, against a U.S. EPA Supply Chain GHG Emission
Factors v1.3 factor (kg CO2e per **2022** USD), is first expressed in 2022 dollars with the
U.S. CPI-U and then multiplied by the factor (GHG Protocol Scope 3 Technical Guidance (2013),
spend-based method: "with inflation adjustment between the EEIO price year and the activity
year"; esgledger ``docs/methodology/inventory.md``, step "Price year").

Sources
-------
* U.S. EPA, *Supply Chain Greenhouse Gas Emission Factors v1.3 by NAICS-6* (Ingwersen 2024,
  DOI 10.23719/1531143), NAICS 334111 "Electronic Computer Manufacturing": "Supply Chain
  Emission Factors with Margins" 0.058 and "... without Margins" 0.030 kg CO2e / 2022 USD
  (AR5). With margins = purchaser price, which the dataset recommends for spend as paid.
* U.S. Bureau of Labor Statistics, CPI for All Urban Consumers (CPI-U), U.S. city average,
  all items, not seasonally adjusted, series CUUR0000SA0, annual averages (1982-84 = 100):
  2022 = 292.655, 2024 = 313.689 (the shipped ``esgledger/data/deflators/us-cpi-u.csv``;
  checked against BLS data in ``tests/validation/test_deflators_bls.py``).

Tolerance: the published values are used as published, so only float rounding of a few
multiplications and one division remains (``REL = 1e-12``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _inventory_support import activity, entity, new_workspace
from esgledger.inventory import calculate

REL = 1e-12
CPI_U_2022 = 292.655  # BLS CUUR0000SA0, annual average 2022
CPI_U_2024 = 313.689  # BLS CUUR0000SA0, annual average 2024
USEEIO_334111_WITH_MARGINS = 0.058  # kg CO2e / 2022 USD, purchaser price
USEEIO_334111_WITHOUT_MARGINS = 0.030  # kg CO2e / 2022 USD, producer price


def test_2024_usd_spend_is_deflated_to_2022_usd_before_the_useeio_factor(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        entities=[entity("US-CO", country="US")],
        activities=[activity("spend.naics.334111", 10_000, "USD", entity_code="US-CO")],
    )
    run = calculate(ws)
    (line,) = run.line_items().to_pylist()
    assert line["factor_id"] == "useeio-1.3.0:334111"
    assert line["fx_rate"] == 1.0
    assert line["deflator"] == pytest.approx(CPI_U_2022 / CPI_U_2024, rel=REL)
    # 10,000 × 292.655 / 313.689 = 9,329.46 USD of 2022 × 0.058 = 541.109 kg CO2e
    expected = 10_000 * CPI_U_2022 / CPI_U_2024 * USEEIO_334111_WITH_MARGINS
    assert line["co2e_kg"] == pytest.approx(expected, rel=REL)
    assert expected == pytest.approx(541.109, abs=5e-4)  # the worked figure, rounded
    assert run.totals["scope3_by_category"]["1"] == pytest.approx(expected / 1000, rel=REL)

    producer = calculate(ws, price_basis="producer")
    (other,) = producer.line_items().to_pylist()
    assert other["co2e_kg"] == pytest.approx(
        10_000 * CPI_U_2022 / CPI_U_2024 * USEEIO_334111_WITHOUT_MARGINS, rel=REL
    )
