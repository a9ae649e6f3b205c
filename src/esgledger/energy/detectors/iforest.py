"""Layer 3: a multivariate IsolationForest over each site's daily features.

第三层：基于站点日特征的多变量孤立森林检测。

Features: PUE, pPUE of cooling, IT energy [kWh/day], UPS efficiency and the day's mean wet
bulb [°C] (reference ``domain-modules.md`` §1.4 layer 3); a feature a site does not meter is
left out with a finding. One forest per site (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008,
as scikit-learn implements it), seeded, ``if_contamination`` of the days flagged. The score
of a day is ``score_samples / offset_`` (≥ 1 for a flagged day); its energy impact is
``(PUE − median PUE) · E_IT`` [kWh]: the overhead beyond the site's typical PUE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

from esgledger.energy.detectors.base import AnomalySettings, Detection, runs
from esgledger.energy.findings import Finding
from esgledger.i18n import Text
from esgledger.reasons import reason

__all__ = ["FEATURES", "isolation_detections"]

FEATURES: tuple[str, ...] = ("pue", "ppue_cooling", "e_it_kwh", "ups_efficiency", "wet_bulb_c")


def isolation_detections(
    daily: pd.DataFrame, settings: AnomalySettings
) -> tuple[list[Detection], list[Finding]]:
    """Runs of consecutive flagged days per site (:mod:`.base` ``daily_features`` table)."""
    found: list[Detection] = []
    findings: list[Finding] = []
    for site, frame in daily.groupby("site", sort=True):
        frame = frame.sort_values("day").reset_index(drop=True)
        used = [f for f in FEATURES if frame[f].notna().any()]
        left_out = [f for f in FEATURES if f not in used]
        if left_out:
            findings.append(
                Finding(
                    code="energy.anomaly.features_missing",
                    text=Text(
                        f"{site}: IsolationForest without {', '.join(left_out)} (not metered "
                        "or no weather imported)",
                        f"{site}：孤立森林未使用 {', '.join(left_out)}（未计量或未导入气象数据）",
                    ),
                    data={"site": site, "features": left_out},
                    severity="info",
                )
            )
        complete = frame[used].notna().all(axis=1).to_numpy(dtype=bool) if used else None
        if complete is None or complete.sum() < settings.if_min_days:
            findings.append(
                Finding(
                    code="energy.anomaly.too_few_days",
                    text=Text(
                        f"{site}: IsolationForest skipped — "
                        f"{0 if complete is None else int(complete.sum())} complete days, "
                        f"{settings.if_min_days} needed",
                        f"{site}：跳过孤立森林——完整天数 "
                        f"{0 if complete is None else int(complete.sum())}，"
                        f"至少需要 {settings.if_min_days}",
                    ),
                    data={"site": site, "layer": "isolation_forest"},
                    severity="info",
                )
            )
            continue
        rows = frame[complete].reset_index(drop=True)
        forest = IsolationForest(
            n_estimators=settings.if_estimators,
            contamination=settings.if_contamination,
            random_state=settings.seed,
        )
        x = rows[used].to_numpy(dtype="float64")
        forest.fit(x)
        ratio = forest.score_samples(x) / forest.offset_
        flagged = ratio > 1.0
        day_number = (rows["day"] - rows["day"].iloc[0]).dt.days.to_numpy()
        median_pue = float(rows["pue"].median()) if "pue" in used else None
        for start, end in runs(flagged):
            # split a run where complete days are not consecutive calendar days
            cut = [start] + [
                i for i in range(start + 1, end) if day_number[i] - day_number[i - 1] > 1
            ]
            for a, b in zip(cut, [*cut[1:], end], strict=True):
                window = rows.iloc[a:b]
                energy = (
                    float(((window["pue"] - median_pue) * window["e_it_kwh"]).sum())
                    if median_pue is not None
                    else None
                )
                peak = float(ratio[a:b].max())
                found.append(
                    Detection(
                        site=str(site),
                        meter=None,
                        subsystem="facility",
                        layer="isolation_forest",
                        kind="multivariate",
                        start_utc=pd.Timestamp(window["start_utc"].iloc[0]).to_pydatetime(),
                        end_utc=pd.Timestamp(window["end_utc"].iloc[-1]).to_pydatetime(),
                        score=peak,
                        energy_kwh=energy,
                        reason=(
                            reason(
                                "energy.anomaly.multivariate",
                                site=site,
                                days=b - a,
                                features=", ".join(used),
                                pue=float(window["pue"].mean()),
                                median=median_pue,
                            )
                            if median_pue is not None
                            else reason(
                                "energy.anomaly.multivariate_no_pue",
                                site=site,
                                days=b - a,
                                features=", ".join(used),
                            )
                        ),
                        data={
                            "days": b - a,
                            "features": used,
                            "median_pue": median_pue,
                            "values": {f: float(np.round(window[f].mean(), 6)) for f in used},
                        },
                    )
                )
    return found, findings
