"""Regulatory packs over a site's KPIs: EU 2024/1364, GB 40879-2021, ETSI DCEM (pure).

监管指标包：欧盟 2024/1364 报告指标、GB 40879-2021 能效等级、ETSI DCEM 等级。

The thresholds are versioned data (``packs.csv``: pack, version, kind, key, bounds, unit,
bilingual label, confidence mark ``[V]`` verified / ``[R]`` reported / ``[A]`` assumed, and
source). :func:`evaluate_packs` reads one :class:`~esgledger.energy.kpi.SiteKpis`:

* ``eu_2024_1364``: whether the reporting obligation applies (installed IT power ≥ 500 kW,
  when the power is given) and the four KPIs it asks for (PUE, WUE, ERF, REF), with those
  that are missing;
* ``gb_40879_2021``: the grade (1 best … 3 the limit value) of the electric-energy ratio,
  taken as the site's PUE (``value ≤ upper`` of the grade, as the thresholds are quoted);
  above grade 3 the limit is not met;
* ``etsi_dcem``: ``KPI_TE``, ``KPI_REN``, ``KPI_REUSE``, ``KPI_EC``, ``DC_P`` and its class
  A–I (``lower ≤ DC_P < upper``), the gauge XXS–XXL of ``KPI_EC`` and ``KPI_DCEM`` as
  ``gauge,class`` — the formulas of openDCIM's ``DCEM.php`` after ETSI EN 305 200-2-1.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from esgledger.energy.kpi import SiteKpis

__all__ = ["PackRow", "dcem", "evaluate_packs", "gb_40879_grade", "pack_rows"]


@dataclass(frozen=True)
class PackRow:
    """One threshold row of ``packs.csv``."""

    pack: str
    version: str
    kind: str
    key: str
    lower: float | None
    upper: float | None
    unit: str
    label: str
    label_zh: str
    confidence: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "version": self.version,
            "kind": self.kind,
            "key": self.key,
            "lower": self.lower,
            "upper": self.upper,
            "unit": self.unit,
            "label": {"en": self.label, "zh-CN": self.label_zh},
            "confidence": self.confidence,
            "source": self.source,
        }


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def pack_rows() -> tuple[PackRow, ...]:
    """The shipped pack thresholds, in file order."""
    text = resources.files("esgledger.energy").joinpath("packs.csv").read_text("utf-8")
    return tuple(
        PackRow(
            pack=r["pack"],
            version=r["version"],
            kind=r["kind"],
            key=r["key"],
            lower=_num(r["lower"]),
            upper=_num(r["upper"]),
            unit=r["unit"],
            label=r["label"],
            label_zh=r["label_zh"],
            confidence=r["confidence"],
            source=r["source"],
        )
        for r in csv.DictReader(text.splitlines())
    )


def _rows(pack: str, kind: str, rows: Sequence[PackRow] | None) -> list[PackRow]:
    return [
        r for r in (rows if rows is not None else pack_rows()) if r.pack == pack and r.kind == kind
    ]


def _band(value: float, rows: Sequence[PackRow]) -> PackRow | None:
    """The row with ``lower ≤ value < upper`` (open ends where a bound is empty)."""
    for r in rows:
        if (r.lower is None or value >= r.lower) and (r.upper is None or value < r.upper):
            return r
    return None


def gb_40879_grade(pue: float | None, rows: Sequence[PackRow] | None = None) -> dict[str, Any]:
    """The GB 40879-2021 grade of ``pue`` (``value ≤ upper``): ``grade`` 1–3, or None when the
    limit value (grade 3) is exceeded or PUE is unknown."""
    grades = sorted(_rows("gb_40879_2021", "grade", rows), key=lambda r: r.upper or 0.0)
    out: dict[str, Any] = {
        "pack": "gb_40879_2021",
        "version": grades[0].version if grades else None,
        "value": pue,
        "grade": None,
        "limit_met": None,
        "confidence": grades[0].confidence if grades else None,
        "source": grades[0].source if grades else None,
        "thresholds": [g.to_json() for g in grades],
    }
    if pue is None:
        return out
    for g in grades:
        if g.upper is not None and pue <= g.upper:
            out["grade"] = int(g.key)
            out["label"] = {"en": g.label, "zh-CN": g.label_zh}
            break
    out["limit_met"] = out["grade"] is not None
    return out


def dcem(
    kpis: SiteKpis,
    *,
    reuse_ratio_for_it: float = 0.0,
    built_before_2005: bool = False,
    rows: Sequence[PackRow] | None = None,
) -> dict[str, Any]:
    """The ETSI DCEM indicators of ``kpis`` (openDCIM ``DCEM.php``).

    ``KPI_TE = E_DC/E_IT``; ``KPI_REN = E_ren/E_DC``; ``KPI_REUSE = (min(RU, E_IT) +
    W·max(0, RU − E_IT))/E_DC`` with ``RU`` the reused energy and ``W`` =
    ``reuse_ratio_for_it`` (openDCIM's "ratio used for IT", default 0);
    ``DC_P = KPI_TE(1 − W_REN·KPI_REN)(1 − W_REUSE·KPI_REUSE)``; ``KPI_EC = E_DC``.
    The gauge is meant for a year of ``KPI_EC``.
    """
    weights = {r.key: r.upper for r in _rows("etsi_dcem", "weight", rows)}
    w_ren = weights.get("w_ren") or 0.0
    w_reuse = weights.get("w_reuse") or 0.0
    out: dict[str, Any] = {
        "pack": "etsi_dcem",
        "kpi_ec_kwh": kpis.e_dc_kwh,
        "kpi_te": None,
        "kpi_ren": None,
        "kpi_reuse": None,
        "dc_p": None,
        "dc_p_class": None,
        "dc_g": None,
        "kpi_dcem": None,
        "weights": {"w_ren": w_ren, "w_reuse": w_reuse, "reuse_ratio_for_it": reuse_ratio_for_it},
    }
    e_dc, e_it = kpis.e_dc_kwh, kpis.e_it_kwh
    if e_dc is None or e_it is None or kpis.pue is None:
        return out
    kpi_te = e_dc / e_it
    kpi_ren = (kpis.e_ren_kwh or 0.0) / e_dc if kpis.e_ren_kwh is not None else 0.0
    reused = (kpis.erf or 0.0) * e_dc
    kpi_reuse = (min(reused, e_it) + reuse_ratio_for_it * max(0.0, reused - e_it)) / e_dc
    dc_p = kpi_te * (1 - w_ren * kpi_ren) * (1 - w_reuse * kpi_reuse)
    kind = "dcp_class_pre2005" if built_before_2005 else "dcp_class"
    band = _band(dc_p, _rows("etsi_dcem", kind, rows))
    gauge = _band(e_dc, _rows("etsi_dcem", "gauge", rows))
    out.update(
        kpi_te=kpi_te,
        kpi_ren=kpi_ren,
        kpi_reuse=kpi_reuse,
        dc_p=dc_p,
        dc_p_class=band.key if band else None,
        dc_g=gauge.key if gauge else None,
        kpi_dcem=f"{gauge.key},{band.key}" if band and gauge else None,
        kpi_ren_counts_instruments=kpis.e_ren_kwh is not None,
    )
    return out


def evaluate_packs(
    kpis: SiteKpis,
    *,
    it_power_kw: float | None = None,
    reuse_ratio_for_it: float = 0.0,
    built_before_2005: bool = False,
    rows: Sequence[PackRow] | None = None,
) -> dict[str, Any]:
    """The three packs for one site's KPIs (JSON-native)."""
    eu_kpis = _rows("eu_2024_1364", "kpi", rows)
    threshold = _rows("eu_2024_1364", "applicability", rows)
    minimum = threshold[0].lower if threshold else None
    values = {
        "pue": kpis.pue,
        "wue": kpis.wue_l_per_kwh,
        "erf": kpis.erf,
        "ref": kpis.ref,
    }
    eu = {
        "pack": "eu_2024_1364",
        "version": eu_kpis[0].version if eu_kpis else None,
        "applies": None if it_power_kw is None or minimum is None else it_power_kw >= minimum,
        "it_power_kw": it_power_kw,
        "min_it_power_kw": minimum,
        "kpis": {r.key: values.get(r.key) for r in eu_kpis},
        "missing": [r.key for r in eu_kpis if values.get(r.key) is None],
        "confidence": eu_kpis[0].confidence if eu_kpis else None,
        "source": eu_kpis[0].source if eu_kpis else None,
    }
    return {
        "eu_2024_1364": eu,
        "gb_40879_2021": gb_40879_grade(kpis.pue, rows),
        "etsi_dcem": dcem(
            kpis,
            reuse_ratio_for_it=reuse_ratio_for_it,
            built_before_2005=built_before_2005,
            rows=rows,
        ),
    }
