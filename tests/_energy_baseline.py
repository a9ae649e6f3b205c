"""Synthetic baseline data of known parameters for the energy-baseline tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from esgledger.energy.baseline import BaselineData

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
