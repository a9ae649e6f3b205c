"""Hourly 24/7 CFE against the worked day of ``domain-modules.md`` §2.5.

Source: ``/work/shared/reference/domain-modules.md`` §2.5 "Worked day (same load,
annual-style vs hourly)" [A numbers; computed], built on Google, "24/7 Carbon-Free Energy:
Methodologies and Metrics" (Feb 2021) and the PyPSA/247-cfe constraint:

* load: flat 10 MW for 24 h (240 MWh);
* solar PPA: 0,0,0,0,0,0,2,8,16,24,30,33,34,33,30,24,16,8,2,0,0,0,0,0 MW (260 MWh);
* grid CFE share: 25 % (h0-5), 30 % (h6-11), 45 % (h12-17), 30 % (h18-23).

Published results: volumetric 108 %; hourly matched 110 / 240 = 45.8 %; excess 150 MWh;
residual grid purchase 130 MWh; CFE score (110 + 36.3) / 240 = 61.0 %; residual × 0.5703 t/MWh
= 74.1 t. The integer MWh figures are exact (asserted to 1e-12); the percentages and the
tonnes are published to one decimal, so they are asserted rounded to that decimal.
"""

from __future__ import annotations

import numpy as np
import pytest

from esgledger.renewables.cfe import cfe, cfe_summary

LOAD = [10.0] * 24
SOLAR = [0, 0, 0, 0, 0, 0, 2, 8, 16, 24, 30, 33, 34, 33, 30, 24, 16, 8, 2, 0, 0, 0, 0, 0]
GRID = [0.25] * 6 + [0.30] * 6 + [0.45] * 6 + [0.30] * 6


def test_the_worked_day() -> None:
    result = cfe(LOAD, SOLAR, grid_cfe=GRID)
    s = result.summary()
    assert s.load_mwh[0] == 240.0
    assert s.clean_mwh[0] == 260.0
    assert round(float(s.clean_mwh[0] / s.load_mwh[0]) * 100) == 108
    assert s.volumetric_match[0] == 1.0  # claimed as 100 % RE
    assert s.matched_mwh[0] == pytest.approx(110.0, rel=1e-12)
    assert s.excess_mwh[0] == pytest.approx(150.0, rel=1e-12)
    assert s.residual_mwh[0] == pytest.approx(130.0, rel=1e-12)
    assert s.grid_clean_mwh[0] == pytest.approx(36.3, rel=1e-12)
    assert round(float(s.hourly_match[0]) * 100, 1) == 45.8
    assert round(float(s.cfe_score[0]) * 100, 1) == 61.0
    # Residual × grid EF (hourly view) at 0.5703 t/MWh: 130 × 0.5703 = 74.139 t.
    assert round(float(s.residual_mwh[0]) * 0.5703, 1) == 74.1


def test_the_worked_day_hour_by_hour() -> None:
    result = cfe(LOAD, SOLAR, grid_cfe=GRID)
    # Hours 8-16 are fully matched by the PPA; hour 0 only by the grid's 25 %.
    hourly = result.cfe_hourly[0]
    assert hourly[0] == pytest.approx(0.25)
    assert np.all(hourly[8:17] == 1.0)
    assert hourly[6] == pytest.approx((2 + 8 * 0.30) / 10)


def test_chunked_summary_equals_the_detailed_one() -> None:
    rng = np.random.default_rng(7)
    load = rng.uniform(0, 5, (130, 48))
    clean = rng.uniform(0, 8, (130, 48))
    grid = rng.uniform(0, 1, 48)
    detailed = cfe(load, clean, grid).summary()
    chunked = cfe_summary(load, clean, grid, chunk_sites=17)
    for name in ("load_mwh", "clean_mwh", "matched_mwh", "excess_mwh", "residual_mwh"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(detailed, name), rtol=1e-12)
    np.testing.assert_allclose(chunked.cfe_score, detailed.cfe_score, rtol=1e-12)
