"""Default fuel factors for where no national set applies: IPCC 2006 (``ipcc-2006``, region
GLOBAL) and the Chinese national default parameters (``cn-defaults``, region CN).

Both sets are built from small keyed source tables in ``esgledger/data/sources/``, each value
with its table, a confidence mark and a citation (standards-and-data.md §4.4 and §4.5; the
reference's rule: small official tables that exist only there may be keyed in with their
citation):

* ``ipcc_2006_keyed.csv``: 2006 IPCC Guidelines, Vol. 2 (Energy), ch. 1 Table 1.2 (default
  net calorific values [TJ/Gg]) and Table 1.4 (default CO2 factors [kg CO2/TJ]) for six fuels,
  and ch. 2 Tables 2.2 (energy industries) and 2.4 (commercial/institutional) CH4 and N2O
  defaults [kg/TJ], all marked [M] (medium confidence: from the researcher's knowledge of the
  PDF, not re-verified).
* ``fuel_properties.csv`` (read through :mod:`esgledger.fuels`): the Chinese default net
  calorific value, carbon content per calorific value and oxidation rate of diesel, natural
  gas, petrol, fuel oil, LPG and bituminous coal (GB/T 32150-2015 Annex B Table B.1 and the
  NDRC guidelines), each row with its source, table, edition and confidence mark;
  ``cn_defaults_keyed.csv``: the purchased-heat factor [S]. The Chinese defaults give CO2
  only; CH4 and N2O of the ``cn-defaults`` rows are the IPCC 2006 defaults (kg/TJ) scaled by
  the Chinese NCV, and each row's ``source`` says which gas came from which source.

Factors are gas masses (``co2_kg``, ``ch4_kg``, ``n2o_kg``), never CO2e; ``gwp_basis`` is empty.
A gas no keyed table gives is left null and the row's description says so: nothing is
invented. Per-tonne IPCC factors are ``EF [kg/TJ] x NCV [TJ/Gg] / 1000 [t/Gg]`` (Vol. 2 ch. 2,
eq. 2.1 with the NCV of Table 1.2); the Chinese CO2 factors are ``NCV x carbon content x
oxidation rate x 44/12`` (GB/T 32150-2015, fuel-combustion formula). Neither set has per-litre
factors: a litre resolves through a density (rule 11 of the resolver, :mod:`esgledger.fuels`).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pyarrow as pa

from esgledger.factors.sources._common import tidy_table

__all__ = [
    "CN_SET_ID",
    "CO2_PER_C",
    "IPCC_SET_ID",
    "cn_defaults_meta",
    "cn_keyed_rows",
    "convert_cn_defaults",
    "convert_ipcc_2006",
    "ipcc_2006_meta",
    "ipcc_keyed_rows",
]

IPCC_SET_ID = "ipcc-2006"
CN_SET_ID = "cn-defaults"
#: Mass of CO2 per mass of carbon [t CO2 / t C]: the molar-mass ratio 44/12 that the IPCC 2006
#: Guidelines (Vol. 2 ch. 1 §1.4.1.1) and GB/T 32150-2015 use.
CO2_PER_C = 44.0 / 12.0
_T_PER_GG = 1000.0  # [t / Gg], SI prefixes
_KG_PER_T = 1000.0  # [kg / t]
_GJ_PER_TJ = 1000.0  # [GJ / TJ]

IPCC_SOURCE = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 (Energy), ch. 1 "
    "Tables 1.2 and 1.4, ch. 2 Table 2.4, ch. 3 Tables 3.2.2 and 3.6.5"
)
IPCC_LICENCE = (
    "IPCC copyright, no open licence; a small cited subset of the numeric default values, keyed "
    "in by hand with their table references (the emission factor database is not copied)"
)
IPCC_ATTRIBUTION = (
    "IPCC 2006, 2006 IPCC Guidelines for National Greenhouse Gas Inventories, prepared by the "
    "National Greenhouse Gas Inventories Programme, Eggleston H.S., Buendia L., Miwa K., Ngara T. "
    "and Tanabe K. (eds). Published: IGES, Japan."
)
CN_SOURCE = (
    "GB/T 32150-2015 and GB/T 32151 series (General rules / requirements for GHG emission "
    "accounting and reporting of industrial enterprises) and the industry GHG accounting "
    "guidelines of the NDRC/MEE: default parameters"
)
CN_LICENCE = (
    "Numeric default parameters of Chinese national standards and official guidelines, keyed "
    "in as facts with their citation (guidelines of PRC state organs: PRC Copyright Law Art. 5); "
    "the GB/T texts (SAC publications) are not redistributed"
)
CN_ATTRIBUTION = (
    "SAC/AQSIQ, GB/T 32150-2015 and GB/T 32151 series; NDRC/MEE industry greenhouse-gas "
    "emission accounting methods and reporting guidelines (default values)."
)

#: Taxonomy activity → (IPCC fuel of Tables 1.2/1.4, sector of the CH4/N2O defaults).
#: Stationary combustion at a company's offices, data centres and plants is the
#: commercial/institutional sector (Vol. 2 ch. 2 Table 2.4), not energy industries (Table 2.2,
#: for power and heat producers), so Table 2.2 values are keyed but not used. Mobile
#: combustion: road transport (Vol. 2 ch. 3 Table 3.2.2) and civil aviation (Table 3.6.5).
IPCC_ACTIVITIES: Mapping[str, tuple[str, str | None]] = {
    "stationary.diesel": ("gas_diesel_oil", "commercial_institutional"),
    "stationary.fuel_oil": ("residual_fuel_oil", "commercial_institutional"),
    "stationary.lpg": ("lpg", "commercial_institutional"),
    "stationary.coal": ("other_bituminous_coal", "commercial_institutional"),
    "mobile.diesel": ("gas_diesel_oil", "road"),
    "mobile.petrol": ("motor_gasoline", "road"),
    "mobile.lpg": ("lpg", "road"),
    "mobile.jet_fuel": ("jet_kerosene", "aviation"),
}
_IPCC_FUEL_NAMES = {
    "gas_diesel_oil": "Gas/diesel oil",
    "motor_gasoline": "Motor gasoline",
    "lpg": "Liquefied petroleum gases",
    "jet_kerosene": "Jet kerosene",
    "residual_fuel_oil": "Residual fuel oil",
    "other_bituminous_coal": "Other bituminous coal",
    "natural_gas": "Natural gas",
}
_SECTOR_TABLES = {
    "commercial_institutional": "Table 2.4 (commercial/institutional)",
    "road": "ch. 3 Table 3.2.2 (road transport)",
    "aviation": "ch. 3 Table 3.6.5 (civil aviation)",
}

#: Taxonomy activity → (Chinese fuel of ``fuel_properties.csv``, IPCC fuel and sector of the
#: CH4/N2O defaults). The CO2 parameters are properties of the fuel (carbon content,
#: calorific value, oxidation rate), the same for stationary and mobile combustion in the
#: guidelines' fuel-combustion formula; the Chinese defaults give CO2 only, so CH4 and N2O
#: come from IPCC 2006 (kg/TJ) scaled by the Chinese NCV, and each row says so.
CN_FUEL_ACTIVITIES: Mapping[str, tuple[str, str, str]] = {
    "stationary.diesel": ("diesel", "gas_diesel_oil", "commercial_institutional"),
    "mobile.diesel": ("diesel", "gas_diesel_oil", "road"),
    "stationary.natural_gas": ("natural_gas", "natural_gas", "commercial_institutional"),
    "mobile.cng": ("natural_gas", "natural_gas", "road"),
    "mobile.petrol": ("petrol", "motor_gasoline", "road"),
    "stationary.fuel_oil": ("fuel_oil", "residual_fuel_oil", "commercial_institutional"),
    "stationary.lpg": ("lpg", "lpg", "commercial_institutional"),
    "mobile.lpg": ("lpg", "lpg", "road"),
    "stationary.coal": ("coal", "other_bituminous_coal", "commercial_institutional"),
}
#: The guidelines' 热力 (purchased heat) covers steam and hot water measured in GJ.
CN_HEAT_ACTIVITIES: tuple[str, ...] = ("heat", "steam")
#: The results the reference states (standards-and-data.md §4.5, marked [C]).
_CN_PUBLISHED = {"diesel": "3.0959 t CO2/t", "natural_gas": "21.65 t CO2/10^4 Nm3"}
_CN_NAMES = {
    "diesel": "diesel 柴油",
    "natural_gas": "natural gas 天然气",
    "petrol": "petrol 汽油",
    "fuel_oil": "fuel oil 燃料油",
    "lpg": "LPG 液化石油气",
    "coal": "bituminous coal 烟煤",
}
CN_GAS_SOURCE = "IPCC 2006 Guidelines"
_SECTOR_WORDS = {
    "commercial_institutional": "commercial/institutional",
    "road": "road transport",
    "aviation": "civil aviation",
}


def _read_keyed(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.data.sources").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _keyed_sha256(name: str) -> str:
    data = resources.files("esgledger.data.sources").joinpath(name).read_bytes()
    return hashlib.sha256(data).hexdigest()


def ipcc_keyed_rows() -> list[dict[str, str]]:
    """``ipcc_2006_keyed.csv`` as dicts: fuel, parameter (ncv, co2, ch4, n2o), sector, value,
    unit, table, confidence, citation."""
    return _read_keyed("ipcc_2006_keyed.csv")


def cn_keyed_rows() -> list[dict[str, str]]:
    """``cn_defaults_keyed.csv`` as dicts: fuel, parameter (ncv, carbon_content, oxidation,
    emission_factor), value, unit, used (yes/no), confidence, citation."""
    return _read_keyed("cn_defaults_keyed.csv")


def _fmt(value: float) -> str:
    return f"{value:g}"


def convert_ipcc_2006() -> pa.Table:
    """The ``ipcc-2006`` set: region GLOBAL, per TJ (net calorific value basis) and per tonne.

    Returns
    -------
    pyarrow.Table
        Tidy factor table, two rows per activity of :data:`IPCC_ACTIVITIES`: ``co2_kg``
        [kg CO2 / TJ] from Table 1.4 and [kg CO2 / t] = Table 1.4 x Table 1.2 / 1000;
        ``ch4_kg``, ``n2o_kg`` from Table 2.4 for stationary diesel, else null (not in the
        reference). Vintage 2006 (the edition), method ``fuel``.
    """
    keyed = ipcc_keyed_rows()
    value = {(r["fuel"], r["parameter"], r["sector"]): float(r["value"]) for r in keyed}
    mark = {(r["fuel"], r["parameter"], r["sector"]): r["confidence"] for r in keyed}
    rows: list[dict[str, Any]] = []
    for activity, (fuel, sector) in IPCC_ACTIVITIES.items():
        ncv = value[(fuel, "ncv", "")]  # [TJ / Gg]
        co2 = value[(fuel, "co2", "")]  # [kg CO2 / TJ]
        marks = {mark[(fuel, "ncv", "")], mark[(fuel, "co2", "")]}
        gases: dict[str, float | None] = {}
        notes: list[str] = []
        for gas in ("ch4", "n2o"):
            found = value.get((fuel, gas, sector)) if sector else None
            gases[gas] = found
            if found is not None:
                marks.add(mark[(fuel, gas, str(sector))])
        if sector is None:  # pragma: no cover - every activity has a sector
            notes.append("CH4 and N2O not keyed")
        elif gases["ch4"] is None:
            notes.append(
                f"CH4 and N2O not keyed: the reference gives no {_SECTOR_TABLES[sector]} "
                f"value for {_IPCC_FUEL_NAMES[fuel].lower()}"
            )
        gas_rows = f", {_SECTOR_TABLES[sector]}" if gases["ch4"] is not None and sector else ""
        if gas_rows:
            notes.append(
                f"CH4 {_fmt(gases['ch4'] or 0.0)} and N2O {_fmt(gases['n2o'] or 0.0)} kg/TJ from "
                f"{_SECTOR_TABLES[str(sector)]}, scaled like CO2"
            )
        note = f"; {notes[0]}" if notes else ""
        confidence = "/".join(sorted(marks))
        name = _IPCC_FUEL_NAMES[fuel]
        per_tonne = ncv / _T_PER_GG  # [TJ / t]
        for unit, scale, basis in (
            ("TJ", 1.0, f"per TJ (net calorific value): Table 1.4 {_fmt(co2)} kg CO2/TJ"),
            (
                "tonne",
                per_tonne,
                f"per tonne: Table 1.2 NCV {_fmt(ncv)} TJ/Gg x Table 1.4 {_fmt(co2)} kg CO2/TJ "
                f"/ 1000 = {_fmt(co2 * per_tonne)} kg CO2/t",
            ),
        ):
            ch4, n2o = gases["ch4"], gases["n2o"]
            rows.append(
                {
                    "factor_id": f"{IPCC_SET_ID}:{activity}:{'tj' if unit == 'TJ' else 't'}",
                    "factor_set": IPCC_SET_ID,
                    "activity": activity,
                    "region": "GLOBAL",
                    "year": 2006,
                    "unit": unit,
                    "co2_kg": co2 * scale,
                    "ch4_kg": ch4 * scale if ch4 is not None else None,
                    "n2o_kg": n2o * scale if n2o is not None else None,
                    "method": "fuel",
                    "source": IPCC_SOURCE,
                    "edition": "2006",
                    "licence": IPCC_LICENCE,
                    "attribution": IPCC_ATTRIBUTION,
                    "source_row": f"Vol. 2 ch. 1 Tables 1.2, 1.4: {name}{gas_rows}",
                    "description": f"{name}, {activity}: {basis}{note} [{confidence}]",
                }
            )
    return tidy_table(rows)


def convert_cn_defaults() -> pa.Table:
    """The ``cn-defaults`` set: region CN; CO2 from the Chinese defaults, CH4 and N2O from
    IPCC 2006 where the Chinese defaults give CO2 only.

    Returns
    -------
    pyarrow.Table
        Tidy factor table: per fuel activity of :data:`CN_FUEL_ACTIVITIES` one row per
        tonne (natural gas: per 10^4 Nm³) and one per TJ; ``co2_kg`` = NCV x carbon content
        x oxidation rate x 44/12 [kg CO2 / unit] (GB/T 32150-2015, the parameters of
        ``fuel_properties.csv``); ``ch4_kg``, ``n2o_kg`` = IPCC 2006 default [kg/TJ] (Vol. 2
        ch. 2 Table 2.4 stationary, ch. 3 Table 3.2.2 road) x the Chinese NCV [TJ / unit].
        ``source`` names both sources and which gas came from which; method ``fuel``.
        Purchased heat (and steam) 0.11 t CO2/GJ = 110 kg CO2/GJ, CO2 only, method
        ``location`` (an average scope 2 factor, as DESNZ files heat). Vintage 2015.
    """
    from esgledger import fuels

    keyed = [r for r in cn_keyed_rows() if r["used"] == "yes"]
    value = {(r["fuel"], r["parameter"]): float(r["value"]) for r in keyed}
    mark = {(r["fuel"], r["parameter"]): r["confidence"] for r in keyed}
    props = {(p.fuel, p.property): p for p in fuels.properties() if p.region == "CN" and p.used}
    variants = [p for p in fuels.properties() if p.region == "CN" and not p.used]
    ipcc = {(r["fuel"], r["parameter"], r["sector"]): r for r in ipcc_keyed_rows()}
    rows: list[dict[str, Any]] = []
    base = {
        "factor_set": CN_SET_ID,
        "region": "CN",
        "year": 2015,
        "edition": "GB/T 32150-2015; GB/T 32151 series; industry guidelines",
        "licence": CN_LICENCE,
        "attribution": CN_ATTRIBUTION,
    }
    for activity, (fuel, ipcc_fuel, sector) in CN_FUEL_ACTIVITIES.items():
        ncv_p = props[(fuel, "ncv")]
        ncv = ncv_p.value  # [GJ / t] or [GJ / 10^4 Nm3]
        carbon = props[(fuel, "carbon_content")].value  # [t C / TJ] = [kg C / GJ]
        oxidation = props[(fuel, "oxidation")].value  # [1]
        confidence = "/".join(
            sorted({props[(fuel, p)].confidence for p in ("ncv", "carbon_content", "oxidation")})
        )
        per_tj = carbon * oxidation * CO2_PER_C * _GJ_PER_TJ  # [kg CO2 / TJ]
        per_unit = ncv * carbon * oxidation * CO2_PER_C  # [kg CO2 / t or 10^4 Nm3]
        gas_rows = [ipcc.get((ipcc_fuel, gas, sector)) for gas in ("ch4", "n2o")]
        ch4_tj, n2o_tj = (float(r["value"]) if r else None for r in gas_rows)
        gas_table = str(gas_rows[0]["table"]) if gas_rows[0] else ""
        gas_mark = "/".join(sorted({r["confidence"] for r in gas_rows if r}))
        if ch4_tj is not None and n2o_tj is not None:
            gases_note = (
                f"CH4 {_fmt(ch4_tj)} and N2O {_fmt(n2o_tj)} kg/TJ from IPCC 2006 {gas_table} "
                f"({_SECTOR_WORDS[sector]}) [{gas_mark}], scaled by the Chinese NCV"
            )
            source = (
                f"CO2: {CN_SOURCE}; CH4 and N2O: {CN_GAS_SOURCE} {gas_table} "
                f"({_SECTOR_WORDS[sector]})"
            )
        else:  # pragma: no cover - every mapped fuel has IPCC CH4/N2O keyed
            gases_note = "CO2 only: no IPCC CH4/N2O default keyed for this fuel"
            source = f"CO2: {CN_SOURCE}"
        unit = "10000 Nm3" if fuel == "natural_gas" else "tonne"
        tj_per_unit = ncv / _GJ_PER_TJ  # [TJ / unit]
        variant_note = "".join(
            f"; variant {v.property} {_fmt(v.value)} {v.unit} ({v.source}) recorded, not used"
            for v in variants
            if v.fuel == fuel and v.property in ("ncv", "carbon_content", "oxidation")
        )
        formula = f"{_fmt(carbon)} tC/TJ x {_fmt(oxidation * 100)} % oxidation x 44/12"
        name = _CN_NAMES[fuel]
        published = f" (published: {_CN_PUBLISHED[fuel]} [C])" if fuel in _CN_PUBLISHED else ""
        table = ncv_p.table
        for per, scale, co2, fid, text in (
            (
                unit,
                tj_per_unit,
                per_unit,
                f"{CN_SET_ID}:{activity}:{'1e4nm3' if fuel == 'natural_gas' else 't'}",
                f"per {unit}: NCV {_fmt(ncv)} {ncv_p.unit} x {formula} = {per_unit:.1f} kg "
                f"CO2{published}",
            ),
            (
                "TJ",
                1.0,
                per_tj,
                f"{CN_SET_ID}:{activity}:tj",
                f"per TJ (net calorific value): {formula} x 1000 GJ/TJ = {per_tj:.1f} kg CO2",
            ),
        ):
            rows.append(
                {
                    **base,
                    "factor_id": fid,
                    "activity": activity,
                    "unit": per,
                    "co2_kg": co2,
                    "ch4_kg": ch4_tj * scale if ch4_tj is not None else None,
                    "n2o_kg": n2o_tj * scale if n2o_tj is not None else None,
                    "method": "fuel",
                    "source": source,
                    "source_row": (
                        f"{name}: {table}; IPCC 2006 {gas_table} ({_SECTOR_WORDS[sector]})"
                    ),
                    "description": (
                        f"{name}, {activity}, {text}; {gases_note}{variant_note} [CO2 {confidence}]"
                    ),
                }
            )
    heat = value[("heat", "emission_factor")] * _KG_PER_T  # [kg CO2 / GJ]
    for activity in CN_HEAT_ACTIVITIES:
        steam = (
            "; steam filed under 热力, which covers steam and hot water"
            if activity == "steam"
            else ""
        )
        heat_mark = mark[("heat", "emission_factor")]
        heat_mark = f"{heat_mark}; filing under steam: M" if activity == "steam" else heat_mark
        rows.append(
            {
                **base,
                "factor_id": f"{CN_SET_ID}:{activity}:gj",
                "activity": activity,
                "unit": "GJ",
                "co2_kg": heat,
                "source": CN_SOURCE,
                "method": "location",
                "source_row": "purchased heat 热力: default emission factor",
                "description": (
                    f"purchased heat 外购热力, {activity}: 0.11 t CO2/GJ = {_fmt(heat)} kg CO2/GJ; "
                    f"CO2 only{steam} [{heat_mark}]"
                ),
            }
        )
    return tidy_table(rows)


def ipcc_2006_meta() -> dict[str, Any]:
    """Set metadata of ``ipcc-2006`` for :func:`~esgledger.factors.sources._common.write_set`."""
    return {
        "id": IPCC_SET_ID,
        "name": "IPCC 2006 default fuel factors (Vol. 2 Energy), global",
        "source": IPCC_SOURCE,
        "edition": "2006",
        "licence": IPCC_LICENCE,
        "attribution": IPCC_ATTRIBUTION,
        "keyed_table": "data/sources/ipcc_2006_keyed.csv",
        "sha256": _keyed_sha256("ipcc_2006_keyed.csv"),
        "notes": (
            "Every value is marked [M] in standards-and-data.md §4.4 (medium confidence: from "
            "knowledge of the primary PDF, not re-verified): check against the IPCC PDF before "
            "relying on it. Gas masses, no CO2e. Per TJ (net calorific value) and per tonne "
            "(NCV x EF). CH4/N2O: ch. 2 Table 2.4 (commercial/institutional) for stationary "
            "fuels, ch. 3 Table 3.2.2 (road transport; motor gasoline: the oxidation-catalyst "
            "row, the highest CO2e of the three) and Table 3.6.5 (civil aviation) for mobile "
            "fuels; the values beyond standards-and-data.md §4.4 are from the engineer's "
            "knowledge of the tables [M]. Table 2.2 (energy industries) values are keyed but "
            "not used. Not shipped: natural gas, other kerosene and wood (no NCV/CO2 keyed). "
            "No per-litre factors: a litre resolves through a density of "
            "data/sources/fuel_properties.csv (esgledger.fuels)."
        ),
    }


def cn_defaults_meta() -> dict[str, Any]:
    """Set metadata of ``cn-defaults`` for :func:`~esgledger.factors.sources._common.write_set`."""
    return {
        "id": CN_SET_ID,
        "name": "China default fuel and heat parameters (GB/T 32150/32151, guidelines)",
        "source": CN_SOURCE,
        "edition": "GB/T 32150-2015; GB/T 32151 series; industry guidelines",
        "licence": CN_LICENCE,
        "attribution": CN_ATTRIBUTION,
        "keyed_table": (
            "data/sources/fuel_properties.csv (fuel parameters), "
            "data/sources/cn_defaults_keyed.csv (heat), data/sources/ipcc_2006_keyed.csv "
            "(CH4, N2O)"
        ),
        "sha256": _keyed_sha256("fuel_properties.csv"),
        "sha256_heat": _keyed_sha256("cn_defaults_keyed.csv"),
        "sha256_ipcc": _keyed_sha256("ipcc_2006_keyed.csv"),
        "notes": (
            "Fuel parameters with their confidence mark per row in fuel_properties.csv "
            "(diesel and natural gas [S/M] as in standards-and-data.md §4.5; petrol, fuel oil, "
            "LPG and bituminous coal NCVs [M], their carbon contents and oxidation rates [S]); "
            "the heat factor [S]: check against GB/T 32150-2015 Table B.1 and the guidelines "
            "before relying on them. CO2 from the Chinese parameters; the Chinese defaults "
            "give no CH4/N2O, so those come from IPCC 2006 (Vol. 2 ch. 2 Table 2.4 "
            "stationary, ch. 3 Table 3.2.2 road) scaled by the Chinese NCV, and each row's "
            "source says which gas came from where. Natural gas uses 15.32 tC/TJ, which "
            "reproduces the published 21.65 t CO2/10^4 Nm3; the 15.3 variant and the 2015 "
            "guidelines' NCVs are recorded, not used. Heat and steam are CO2 only. Steam is "
            "filed under the heat factor (热力 covers steam and hot water) [M]. No per-litre "
            "factors: a litre resolves through a density (esgledger.fuels)."
        ),
    }
