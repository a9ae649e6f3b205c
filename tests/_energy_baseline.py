"""Synthetic baseline data of known parameters for the energy-baseline tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from esgledger.energy.baseline import BaselineData
from esgledger.energy.periods import Period

#: A year of days starting 2024-01-01 (a leap year: 366 days, cut to 365).
DAYS = 365


def days(n: int = DAYS, start: datetime = datetime(2024, 1, 1)) -> list[datetime]:
    return [start + timedelta(days=i) for i in range(n)]


def temperatures(n: int = DAYS, seed: int = 7) -> np.ndarray:
    """Daily mean outdoor temperature (°C): a seasonal cycle from about 3 °C to 27 °C plus
    3 °C of day-to-day noise."""
    rng = np.random.default_rng(seed)
    return 15.0 + 12.0 * np.sin(2 * np.pi * (np.arange(n) - 110) / 365) + rng.normal(0, 3, n)


def noise(n: int = DAYS, sd: float = 10.0, seed: int = 11) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, sd, n)


def daily(energy: np.ndarray, temp: np.ndarray, **kwargs: object) -> BaselineData:
    return BaselineData.from_readings(days(len(energy)), energy, temp, **kwargs)  # type: ignore[arg-type]


#: Calendar year 2023 for the rollup-shaped tables (365 days).
PERIOD_2023 = Period(date(2023, 1, 1), date(2023, 12, 31), "2023", "Y")
DAYS_2023 = [PERIOD_2023.start + timedelta(days=i) for i in range(PERIOD_2023.days)]
T_2023 = temperatures(len(DAYS_2023))


def rollup_table(meters: dict[str, tuple[str, list[float | None]]]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for meter, (role, values) in meters.items():
        for day, value in zip(DAYS_2023, values, strict=True):
            rows.append(
                {
                    "site": "SH1",
                    "meter": meter,
                    "role": role,
                    "unit": "kWh",
                    "period_start_utc": datetime(day.year, day.month, day.day),
                    "period_local": datetime(day.year, day.month, day.day),
                    "quantity": value,
                    "expected_intervals": 96,
                    "intervals": 96,
                    "flagged": 0,
                    "estimated": False,
                    "coverage": 1.0,
                }
            )
    return pa.Table.from_pylist(rows)


def weather_table(hourly_swing: float = 4.0) -> pa.Table:
    rows = []
    for day, mean in zip(DAYS_2023, T_2023, strict=True):
        for hour in range(24):
            value = mean + hourly_swing * np.sin(2 * np.pi * (hour - 9) / 24)
            stamp = datetime(day.year, day.month, day.day, hour)
            rows.append(
                {"site": "SH1", "ts_utc": stamp, "ts_local": stamp, "dry_bulb_c": float(value)}
            )
    return pa.Table.from_pylist(rows)
