"""Synthetic series for the forecast tests: seeded, with known daily and weekly cycles."""

from __future__ import annotations

import numpy as np
import pandas as pd


def hourly_series(
    ids: tuple[str, ...] = ("m1", "m2"),
    *,
    weeks: int = 6,
    seed: int = 7,
    start: str = "2024-01-01",
    noise: float = 2.0,
) -> pd.DataFrame:
    """Long table ``series_id, ts, energy_kwh``: a level, a daily and a weekly sine and
    Gaussian noise (seeded), one row per hour."""
    rng = np.random.default_rng(seed)
    n = weeks * 168
    t = np.arange(n)
    frames = []
    for i, sid in enumerate(ids):
        level = 100.0 + 20.0 * i
        y = (
            level
            + 10.0 * np.sin(2 * np.pi * t / 24)
            + 4.0 * np.sin(2 * np.pi * t / 168)
            + rng.normal(0.0, noise, n)
        )
        frames.append(
            pd.DataFrame(
                {
                    "series_id": sid,
                    "ts": pd.date_range(start, periods=n, freq="h"),
                    "energy_kwh": y,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def rollup_rows(
    meters: dict[str, tuple[str, str]],
    days: int,
    values: dict[str, list[float]],
    *,
    site: str = "DC1",
    start: str = "2024-03-01",
) -> pd.DataFrame:
    """Rows shaped like a daily ``energy.rollups.rollup`` table: ``meters`` maps a meter to
    ``(role, unit)``, ``values`` a meter to its daily quantities (``nan`` = unknown)."""
    rows = []
    for meter, (role, unit) in meters.items():
        for d in range(days):
            day = pd.Timestamp(start) + pd.Timedelta(days=d)
            q = values[meter][d]
            rows.append(
                {
                    "site": site,
                    "meter": meter,
                    "role": role,
                    "unit": unit,
                    "period_start_utc": day - pd.Timedelta(hours=8),
                    "period_local": day,
                    "quantity": q,
                    "expected_intervals": 96,
                    "intervals": 96 if q == q else 90,
                    "flagged": 0,
                    "estimated": False,
                    "coverage": 1.0 if q == q else 90 / 96,
                }
            )
    return pd.DataFrame(rows)
