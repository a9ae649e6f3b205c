"""Alerts: the layers' detections merged, priced in kWh and t CO2e, explained in two languages.

告警：合并各层检测结果，量化其能耗（kWh）与排放（吨二氧化碳当量）影响，并以中英文说明。

:func:`analyse` runs the layers over plain tables (no workspace) and returns an
:class:`AnomalyReport`; :func:`esgledger.energy.anomalies.detect` feeds it a workspace's
rollups, flags, weather and grid factors.

Merging: detections of one site, meter and subsystem whose windows overlap become one alert
spanning their union, keeping every layer and kind that saw it (``layers``, ``kinds``; ``layer``
and ``kind`` are the first in layer order). Its ``score`` is the largest (each layer's score is
its statistic over its threshold); its ``energy_kwh`` is that of the detection with the longest
window that has one (ties: the earlier layer), because the layers measure the same excess
against different expectations and adding them would count it twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from esgledger.energy.detectors.base import (
    LAYERS,
    AnomalySettings,
    Detection,
    HourlyMatrix,
    daily_features,
)
from esgledger.energy.detectors.cusum import cusum_detections
from esgledger.energy.detectors.iforest import isolation_detections
from esgledger.energy.detectors.residual import residual_detections, seasonal_residuals
from esgledger.energy.detectors.rules import (
    flag_detections,
    hourly_rule_detections,
    physical_detections,
)
from esgledger.energy.findings import Finding
from esgledger.i18n import Text, text
from esgledger.reasons import Joined, Reason, reason

__all__ = [
    "KINDS",
    "Alert",
    "AnomalyReport",
    "GridFactor",
    "analyse",
    "kind_label",
    "layer_label",
    "merge_detections",
]

#: Every kind of alert each layer raises (``docs/energy/anomalies.md``); each has a bilingual
#: label ``energy.alert_kind.<kind>`` in the strings table (:func:`kind_label`).
KINDS: dict[str, tuple[str, ...]] = {
    "rule": ("gap", "stuck", "negative", "spike", "skew", "pue_below_one",
             "ups_efficiency_above_one", "ups_efficiency_low"),
    "residual": ("residual_high", "residual_low"),
    "isolation_forest": ("multivariate",),
    "cusum": ("cooling_drift", "ups_loss_drift"),
}  # fmt: skip


def kind_label(kind: str) -> Text:
    """The bilingual name of an alert kind (:data:`KINDS`), from the strings table.

    Raises
    ------
    UnknownStringError
        For a kind without a label.
    """
    return text(f"energy.alert_kind.{kind}")


def layer_label(layer: str) -> Text:
    """The bilingual name of an anomaly layer (:data:`~esgledger.energy.detectors.base.LAYERS`;
    raises as :func:`kind_label` does)."""
    return text(f"energy.layer.{layer}")


@dataclass(frozen=True, slots=True)
class GridFactor:
    """The location-based grid factor of a site: ``kg_co2e_per_kwh`` [kg CO2e/kWh] from the
    workspace's factor library, with its id, source, vintage (factor year), region, tier and
    the GWP set its CO2e is under."""

    factor_id: str
    source: str
    vintage: int
    kg_co2e_per_kwh: float
    region: str = ""
    tier: str = ""
    gwp_set: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "gwp_set": self.gwp_set,
            "id": self.factor_id,
            "source": self.source,
            "vintage": self.vintage,
            "kg_co2e_per_kwh": self.kg_co2e_per_kwh,
            "region": self.region,
            "tier": self.tier,
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """One anomaly: where (site, meter or None for a site-level alert, subsystem), when
    (``start_utc``..``end_utc``, end exclusive, naive UTC; ``detected_utc``: when a layer
    could first raise it), what (``layer``/``layers``, ``kind``/``kinds``, ``score`` ≥ 1),
    its impact — ``energy_kwh`` = Σ (measured − expected) [kWh] over the window (None when it
    cannot be computed) and ``co2e_t`` = energy × the site's grid factor / 1000 [t CO2e]
    (None without energy or factor) — the ``factor`` used, and the explanation ``text``."""

    id: str
    site: str
    meter: str | None
    subsystem: str
    layer: str
    kind: str
    start_utc: datetime
    end_utc: datetime
    energy_kwh: float | None
    co2e_t: float | None
    factor: GridFactor | None
    score: float
    text: Text
    layers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    detected_utc: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-native values (times as ISO 8601 UTC with ``Z``)."""
        return {
            "id": self.id,
            "site": self.site,
            "meter": self.meter,
            "subsystem": self.subsystem,
            "layer": self.layer,
            "layers": list(self.layers),
            "kind": self.kind,
            "kinds": list(self.kinds),
            "start_utc": _iso(self.start_utc),
            "end_utc": _iso(self.end_utc),
            "detected_utc": _iso(self.detected_utc) if self.detected_utc else None,
            "energy_kwh": self.energy_kwh,
            "co2e_t": self.co2e_t,
            "factor": self.factor.to_json() if self.factor else None,
            "score": self.score,
            "text": {"en": self.text.en, "zh-CN": self.text.zh},
            "data": _jsonable(self.data),
        }


@dataclass(frozen=True, slots=True)
class AnomalyReport:
    """The alerts of a run (sorted by site, start, meter), its findings, and what produced it:
    the settings, the layers run and the sites."""

    alerts: tuple[Alert, ...]
    findings: tuple[Finding, ...]
    settings: AnomalySettings
    layers: tuple[str, ...]
    sites: tuple[str, ...]
    period: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "esgledger.energy.anomalies (rule, residual, isolation_forest, cusum)",
            "period": self.period,
            "sites": list(self.sites),
            "layers": list(self.layers),
            "settings": self.settings.to_json(),
            "alerts": [a.to_json() for a in self.alerts],
            "findings": [f.to_json() for f in self.findings],
        }


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat() + "Z"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _impact_reason(energy: float | None, factor: GridFactor | None) -> Reason:
    if energy is None:
        return reason("energy.anomaly.impact_none")
    if factor is None:
        return reason("energy.anomaly.impact_no_factor", kwh=energy)
    return reason(
        "energy.anomaly.impact",
        kwh=energy,
        co2e=energy * factor.kg_co2e_per_kwh / 1000,
        ef=factor.kg_co2e_per_kwh,
        factor=factor.factor_id,
        source=factor.source,
        vintage=factor.vintage,
    )


def _alert(group: Sequence[Detection], factor: GridFactor | None) -> Alert:
    order = {layer: i for i, layer in enumerate(LAYERS)}
    ranked = sorted(group, key=lambda d: (order.get(d.layer, len(order)), d.start_utc))
    first = ranked[0]
    layers = tuple(dict.fromkeys(d.layer for d in ranked))
    kinds = tuple(dict.fromkeys(d.kind for d in ranked))
    start = min(d.start_utc for d in group)
    end = max(d.end_utc for d in group)
    priced = [d for d in ranked if d.energy_kwh is not None]
    energy = None
    if priced:
        best = max(priced, key=lambda d: (d.end_utc - d.start_utc, -order.get(d.layer, 0)))
        energy = best.energy_kwh
    co2e = energy * factor.kg_co2e_per_kwh / 1000 if energy is not None and factor else None
    detected = [d.detected_utc or d.end_utc for d in group]
    reasons = tuple(dict.fromkeys(d.reason for d in ranked))
    message = Joined((*reasons, _impact_reason(energy, factor)))
    key = "|".join([first.site, first.meter or "", first.subsystem, ",".join(kinds),
                    start.isoformat(), end.isoformat()])  # fmt: skip
    return Alert(
        id=hashlib.sha256(key.encode()).hexdigest()[:12],
        site=first.site,
        meter=first.meter,
        subsystem=first.subsystem,
        layer=first.layer,
        kind=first.kind,
        start_utc=start,
        end_utc=end,
        energy_kwh=energy,
        co2e_t=co2e,
        factor=factor if energy is not None else None,
        score=max(d.score for d in group),
        text=Text(message.render("en"), message.render("zh-CN")),
        layers=layers,
        kinds=kinds,
        detected_utc=min(detected),
        data={d.layer + ":" + d.kind: dict(d.data) for d in ranked},
    )


def merge_detections(
    detections: Iterable[Detection], factors: Mapping[str, GridFactor] | None = None
) -> list[Alert]:
    """Detections merged into alerts (see the module docstring), priced with ``factors``
    (site → grid factor), sorted by site, start and meter."""
    factors = factors or {}
    by_key: dict[tuple[str, str, str], list[Detection]] = {}
    for d in detections:
        by_key.setdefault((d.site, d.meter or "", d.subsystem), []).append(d)
    alerts: list[Alert] = []
    for (site, _, _), group in by_key.items():
        group.sort(key=lambda d: (d.start_utc, d.end_utc))
        cluster: list[Detection] = [group[0]]
        cluster_end = group[0].end_utc
        for d in group[1:]:
            if d.start_utc < cluster_end:
                cluster.append(d)
                cluster_end = max(cluster_end, d.end_utc)
            else:
                alerts.append(_alert(cluster, factors.get(site)))
                cluster, cluster_end = [d], d.end_utc
        alerts.append(_alert(cluster, factors.get(site)))
    alerts.sort(key=lambda a: (a.site, a.start_utc, a.meter or "", a.subsystem))
    return alerts


def analyse(
    hourly: pd.DataFrame,
    *,
    flags: pd.DataFrame | None = None,
    weather: pd.DataFrame | None = None,
    factors: Mapping[str, GridFactor] | None = None,
    settings: AnomalySettings | None = None,
    layers: Sequence[str] = LAYERS,
    period: str | None = None,
) -> AnomalyReport:
    """Run ``layers`` over an hourly energy table (``base.HOURLY_COLUMNS``), the core's
    ``flags`` (``site, meter, start_utc, end_utc, flag, detail``), hourly ``weather``
    (``site, ts_local, wet_bulb_c``) and per-site grid ``factors``.

    Raises
    ------
    ValueError
        For a layer not in :data:`~esgledger.energy.detectors.base.LAYERS`.
    """
    settings = settings or AnomalySettings()
    unknown = [layer for layer in layers if layer not in LAYERS]
    if unknown:
        raise ValueError(f"unknown anomaly layer {', '.join(unknown)}: use {', '.join(LAYERS)}")
    matrix = HourlyMatrix.from_hourly(hourly)
    residuals = seasonal_residuals(matrix, settings)
    daily = daily_features(hourly, weather)
    detections: list[Detection] = []
    findings: list[Finding] = []
    if "rule" in layers:
        if flags is not None and not flags.empty:
            detections += flag_detections(flags, matrix, settings, residuals)
        detections += hourly_rule_detections(matrix, settings, residuals)
        detections += physical_detections(daily, settings)
    if "residual" in layers:
        found, noted = residual_detections(residuals, settings)
        detections += found
        findings += noted
    if "isolation_forest" in layers:
        found, noted = isolation_detections(daily, settings)
        detections += found
        findings += noted
    if "cusum" in layers:
        found, noted = cusum_detections(hourly, settings, weather)
        detections += found
        findings += noted
    sites = tuple(sorted(set(matrix.sites)))
    factors = factors or {}
    for site in sites:
        if site not in factors:
            findings.append(
                Finding(
                    code="energy.anomaly.no_grid_factor",
                    text=Text(
                        f"{site}: no grid factor, so alerts carry kWh but no t CO2e",
                        f"{site}：无电网排放因子，告警仅含 kWh，不含二氧化碳当量",
                    ),
                    data={"site": site},
                )
            )
    return AnomalyReport(
        alerts=tuple(merge_detections(detections, factors)),
        findings=tuple(findings),
        settings=settings,
        layers=tuple(layer for layer in LAYERS if layer in layers),
        sites=sites,
        period=period,
    )
