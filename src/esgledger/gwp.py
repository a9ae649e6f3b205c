"""Global warming potentials (GWP-100) of the IPCC AR4, AR5 and AR6 sets, and refrigerant blends.

全球变暖潜势（GWP-100）：IPCC 第四、五、六次评估报告值及制冷剂混合物。

A GWP converts a mass of gas into a mass of CO2-equivalent: ``co2e_kg = mass_kg × GWP``
[kg CO2e per kg gas]. GHG Protocol Corporate Standard ch. 4 and 9 ask for each of the seven
Kyoto gases (CO2, CH4, N2O, HFCs, PFCs, SF6, NF3) to be converted with the GWP-100 of one IPCC
assessment report, named in the inventory; :data:`DEFAULT_GWP_SET` is AR6 (the GHG Protocol
recommends the latest report), but official factor tables still use AR5 (EPA Hub 2025, DESNZ
2024), and every result names the set that produced it (:func:`provenance`).

Shipped data (``esgledger/data/gwp/``)
--------------------------------------
``gwp100.csv``
    GWP-100 of 106 single gases, converted by ``tools/build_gwp_fx.py`` from the CC0 package
    ``globalwarmingpotentials`` 0.13.2 (openclimatedata): AR4 WGI Table 2.14, AR5 WGI Table
    8.A.1 (without climate-carbon feedbacks), AR6 WGI Table 7.SM.7. CO2 = 1 is added
    explicitly. A blank cell means the report gives no value; :func:`gwp` then raises rather
    than guessing. The CH4 value is the single (generic) one of each report: the AR5/AR6
    fossil/non-fossil split is not shipped.
``blends.csv``
    Mass composition of refrigerant blends: the 30 blends of EPA GHG Emission Factors Hub 2025
    Table 12 with EPA's compositions, plus R-407F, R-427A, R-438A, R-448A, R-449A, R-452A,
    R-454B and R-513A from ANSI/ASHRAE Standard 34.

Blends: the Kyoto-only rule
---------------------------
The GWP of a blend is the mass-fraction-weighted sum of the GWPs of its constituents **in the
Kyoto basket** (HFCs, PFCs; also CO2, CH4, N2O, SF6, NF3 if present); every other constituent
counts 0: HCFCs and CFCs (Montreal Protocol gases, reported outside the Kyoto inventory even
though the table has a GWP for them), hydrocarbons (R-290 propane, R-600a isobutane, R-1270
propylene ...) and HFOs (R-1234yf, R-1234ze(E)), which the shipped IPCC table has no value for.
This is the rule of EPA Hub 2025 Table 12 ("based only on their HFC and PFC constituents") and
of DESNZ 2024 ("Emissions including only Kyoto products"), so R-410A (50 % HFC-32, 50 %
HFC-125) is 0.5 × 677 + 0.5 × 3170 = 1923.5 under AR5, published as 1,924 by both.

Gas names
---------
:func:`canonical_gas` maps the many spellings onto one key: ``"HFC-134a"``, ``"R-134a"``,
``"r134a"``, ``"HFC134a"`` → ``"HFC-134a"``; ``"R410A"`` → ``"R-410A"``; ``"PFC-14"``,
``"R-14"`` → ``"CF4"``; ``"sf6"``, ``"六氟化硫"`` → ``"SF6"``. Keys: chemical formulae for CO2,
CH4, N2O, SF6, NF3 and the PFCs (``CF4``, ``C2F6``, ``c-C4F8`` ...); ``HFC-``, ``HCFC-``,
``CFC-``, ``HFE-`` and ``Halon-`` names for halocarbons; ``R-`` numbers for blends; ``HFO-1234yf``,
``HFO-1234ze(E)``, ``propane``, ``butane``, ``isobutane``, ``isopentane``, ``propylene`` for the
blend constituents the table has no value for.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from esgledger.errors import InputError, UnknownGasError

__all__ = [
    "DEFAULT_GWP_SET",
    "GWP_SETS",
    "blends",
    "canonical_gas",
    "co2e_kg",
    "composition",
    "gwp",
    "gwp_sets_table",
    "is_blend",
    "is_kyoto",
    "provenance",
]

#: The GWP-100 sets esgledger ships, oldest first.
GWP_SETS: tuple[str, ...] = ("AR4", "AR5", "AR6")
#: The set used when none is named: the latest IPCC report, as the GHG Protocol recommends.
DEFAULT_GWP_SET = "AR6"

_PACKAGE = "globalwarmingpotentials 0.13.2 (openclimatedata, CC0)"
_PROVENANCE: dict[str, str] = {
    "AR4": (
        "IPCC Fourth Assessment Report (2007), WGI Chapter 2, Table 2.14, 100-year GWP; as "
        "compiled in the GHG Protocol 'Global Warming Potential Values' (16 Feb 2016); shipped "
        f"from the Python package {_PACKAGE}"
    ),
    "AR5": (
        "IPCC Fifth Assessment Report (2013), WGI Chapter 8, Table 8.A.1, 100-year GWP without "
        "climate-carbon feedbacks; as compiled in the GHG Protocol 'Global Warming Potential "
        f"Values' (16 Feb 2016); shipped from the Python package {_PACKAGE}"
    ),
    "AR6": (
        "IPCC Sixth Assessment Report (2021), WGI Chapter 7, Supplementary Material Table "
        f"7.SM.7, 100-year GWP; shipped from the Python package {_PACKAGE}"
    ),
}
_BLEND_RULE = (
    "; refrigerant blends: mass-fraction-weighted sum over their Kyoto-basket constituents "
    "(HFCs, PFCs), other constituents counted 0, as in EPA GHG Emission Factors Hub 2025 "
    "Table 12; compositions from EPA Hub 2025 Table 12 or ANSI/ASHRAE Standard 34"
)

#: Blend constituents that are not in the IPCC table (no GWP-100 shipped, not Kyoto gases),
#: with the other names people use for them.
_OTHER_CONSTITUENTS: dict[str, tuple[str, ...]] = {
    "HFO-1234yf": ("R-1234yf", "HFC-1234yf", "2,3,3,3-tetrafluoropropene"),
    "HFO-1234ze(E)": ("R-1234ze(E)", "R-1234ze", "HFO-1234ze", "HFC-1234ze(E)"),
    "propane": ("R-290", "HC-290", "丙烷"),
    "butane": ("R-600", "HC-600", "n-butane", "正丁烷"),
    "isobutane": ("R-600a", "HC-600a", "异丁烷"),
    "isopentane": ("R-601a", "HC-601a", "异戊烷"),
    "propylene": ("R-1270", "HC-1270", "propene", "丙烯"),
}

#: Other names of gases in the IPCC table (the ``HFC-x`` = ``R-x`` rule is applied in code).
_NAMES: dict[str, tuple[str, ...]] = {
    "CO2": ("carbon dioxide", "R-744", "二氧化碳"),
    "CH4": ("methane", "R-50", "甲烷"),
    "N2O": ("nitrous oxide", "R-744A", "氧化亚氮", "一氧化二氮"),
    "SF6": ("sulfur hexafluoride", "sulphur hexafluoride", "六氟化硫"),
    "NF3": ("nitrogen trifluoride", "三氟化氮"),
    "SO2F2": ("sulfuryl fluoride", "sulphuryl fluoride"),
    "SF5CF3": ("trifluoromethyl sulphur pentafluoride", "trifluoromethyl sulfur pentafluoride"),
    "CF4": ("PFC-14", "R-14", "FC-14", "perfluoromethane", "tetrafluoromethane"),
    "C2F6": ("PFC-116", "R-116", "FC-116", "perfluoroethane", "hexafluoroethane"),
    "C3F8": ("PFC-218", "R-218", "FC-218", "perfluoropropane", "octafluoropropane"),
    "c-C4F8": ("PFC-318", "R-C318", "FC-C318", "perfluorocyclobutane"),
    "C4F10": ("PFC-3-1-10", "PFC-31-10", "perfluorobutane"),
    "C5F12": ("PFC-4-1-12", "PFC-41-12", "perfluoropentane"),
    "C6F14": ("PFC-5-1-14", "PFC-51-14", "perfluorohexane"),
    "C7F16": ("PFC-6-1-16", "PFC-61-16", "perfluoroheptane"),
    "C8F18": ("PFC-7-1-18", "PFC-71-18", "perfluorooctane"),
    "C10F18": ("PFC-9-1-18", "PFC-91-18", "perfluorodecalin"),
    "c-C3F6": ("PFC-c216", "perfluorocyclopropane"),
    "CCl4": ("carbon tetrachloride", "R-10"),
    "CH3CCl3": ("methyl chloroform", "1,1,1-trichloroethane"),
}

#: Common spellings of blends that are not their ASHRAE designation.
_BLEND_NAMES: dict[str, tuple[str, ...]] = {"R-507A": ("R-507",)}

_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_STRIP = re.compile(r"[\s\-_()]")
_HALOCARBON = re.compile(r"^(?:HFC|HCFC|CFC)-(\d.*)$")


def _norm(name: str) -> str:
    """Comparison key of a gas name: ASCII digits, no spaces/hyphens/brackets, upper case."""
    return _STRIP.sub("", str(name).translate(_SUBSCRIPTS)).upper()


@dataclass(frozen=True, slots=True)
class _Gas:
    values: dict[str, float]  # GWP set -> value (sets without a value are absent)
    kyoto: bool


@dataclass(frozen=True, slots=True)
class _Tables:
    gases: dict[str, _Gas]
    blends: dict[str, tuple[tuple[str, float], ...]]
    others: frozenset[str]
    aliases: dict[str, str]


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.data.gwp").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    gases: dict[str, _Gas] = {}
    for row in _read("gwp100.csv"):
        values = {s: float(row[s]) for s in GWP_SETS if row[s].strip()}
        gases[row["gas"]] = _Gas(values=values, kyoto=row["kyoto"] == "true")
    parts: dict[str, list[tuple[str, float]]] = {}
    for row in _read("blends.csv"):
        parts.setdefault(row["blend"], []).append((row["component"], float(row["mass_fraction"])))
    blends_ = {name: tuple(items) for name, items in parts.items()}
    others = frozenset(_OTHER_CONSTITUENTS)

    aliases: dict[str, str] = {}

    def add(alias: str, key: str) -> None:
        norm = _norm(alias)
        if aliases.setdefault(norm, key) != key:  # pragma: no cover - guarded by a unit test
            raise RuntimeError(f"gas alias {alias!r} names both {aliases[norm]} and {key}")

    for key in gases:
        add(key, key)
        match = _HALOCARBON.match(key)
        if match:
            add(f"R-{match.group(1)}", key)
        for alias in _NAMES.get(key, ()):
            add(alias, key)
    for key, names in _OTHER_CONSTITUENTS.items():
        add(key, key)
        for alias in names:
            add(alias, key)
    for key in blends_:
        add(key, key)
        for alias in _BLEND_NAMES.get(key, ()):
            add(alias, key)
    return _Tables(gases=gases, blends=blends_, others=others, aliases=aliases)


def _check_set(gwp_set: str) -> str:
    key = str(gwp_set).strip().upper()
    if key not in GWP_SETS:
        raise InputError(f"Unknown GWP set {gwp_set!r}: choose one of {', '.join(GWP_SETS)}.")
    return key


def canonical_gas(name: str) -> str:
    """The one esgledger key of a gas or refrigerant blend.

    Matching ignores case, spaces, hyphens, underscores and brackets, and accepts the ASHRAE
    refrigerant number of a halocarbon (``R-134a`` = ``HFC-134a``, ``R-22`` = ``HCFC-22``),
    PFC numbers (``PFC-14`` = ``R-14`` = ``CF4``), common English and Chinese names
    (``"methane"``, ``"六氟化硫"``) and subscript digits (``"CO₂"``).

    >>> canonical_gas("r410a"), canonical_gas("HFC134a"), canonical_gas("R-14")
    ('R-410A', 'HFC-134a', 'CF4')

    Raises
    ------
    UnknownGasError
        If the name is none of the shipped gases, blend constituents or blends.
    """
    tables = _tables()
    key = tables.aliases.get(_norm(name))
    if key is None:
        raise UnknownGasError(
            f"Unknown gas or refrigerant {name!r}: it is not in esgledger's GWP table (IPCC "
            f"AR4/AR5/AR6) nor one of its {len(tables.blends)} refrigerant blends. Use a name "
            "such as 'CH4', 'HFC-134a', 'R-410A' or 'SF6'.",
            gas=str(name),
        )
    return key


def is_blend(gas: str) -> bool:
    """Whether ``gas`` names a refrigerant blend (raises :class:`UnknownGasError` if unknown)."""
    return canonical_gas(gas) in _tables().blends


def is_kyoto(gas: str) -> bool:
    """Whether a gas is in the Kyoto basket (CO2, CH4, N2O, the UNFCCC HFCs and PFCs, SF6,
    NF3; GHG Protocol Corporate Standard ch. 4 and its 2013 NF3 amendment). A blend is when at
    least one of its constituents is. HCFCs, CFCs, HFEs, HFOs and hydrocarbons are not: the
    Corporate Standard has their emissions reported separately, outside the scopes."""
    tables = _tables()
    key = canonical_gas(gas)
    if key in tables.blends:
        return any(_is_kyoto_key(c) for c, _ in tables.blends[key])
    return _is_kyoto_key(key)


def _is_kyoto_key(key: str) -> bool:
    entry = _tables().gases.get(key)
    return entry is not None and entry.kyoto


def composition(blend: str) -> tuple[tuple[str, float], ...]:
    """Constituents of a refrigerant blend as (canonical gas, mass fraction) pairs, in the order
    of the source; the fractions sum to 1.

    >>> composition("R-410A")
    (('HFC-32', 0.5), ('HFC-125', 0.5))

    Raises
    ------
    UnknownGasError
        If ``blend`` is unknown, or is a single gas rather than a blend.
    """
    key = canonical_gas(blend)
    parts = _tables().blends.get(key)
    if parts is None:
        raise UnknownGasError(f"{key} is a single gas, not a refrigerant blend", gas=str(blend))
    return parts


def blends() -> tuple[str, ...]:
    """The canonical names of the shipped refrigerant blends, in ASHRAE number order."""
    return tuple(_tables().blends)


def _single(key: str, gwp_set: str, asked: str) -> float:
    tables = _tables()
    if key in tables.others:
        raise UnknownGasError(
            f"{key} has no GWP-100 in esgledger's IPCC table (it is not a Kyoto gas; it counts "
            "0 inside refrigerant blends)",
            gas=asked,
            gwp_set=gwp_set,
        )
    entry = tables.gases[key]
    value = entry.values.get(gwp_set)
    if value is None:
        available = ", ".join(entry.values) or "none"
        raise UnknownGasError(
            f"{key} has no {gwp_set} GWP-100 value (the report gives none); sets with a value: "
            f"{available}",
            gas=asked,
            gwp_set=gwp_set,
        )
    return value


def gwp(gas: str, gwp_set: str = DEFAULT_GWP_SET) -> float:
    """The 100-year GWP of a gas or refrigerant blend [kg CO2e / kg gas].

    Parameters
    ----------
    gas
        Any spelling :func:`canonical_gas` accepts.
    gwp_set
        ``"AR4"``, ``"AR5"`` or ``"AR6"`` (case-insensitive).

    Returns
    -------
    float
        The IPCC value (see :func:`provenance`); for a blend, the sum over its Kyoto-basket
        constituents of mass fraction × GWP (EPA GHG Emission Factors Hub 2025, Table 12 rule):
        ``gwp("R-410A", "AR5") == 1923.5``.

    Raises
    ------
    UnknownGasError
        If the gas is unknown, or the set has no value for it (or, for a blend, for one of its
        Kyoto constituents). Never falls back to another set.
    InputError
        If ``gwp_set`` is not one of :data:`GWP_SETS` (a ``ValueError``).
    """
    key_set = _check_set(gwp_set)
    key = canonical_gas(gas)
    parts = _tables().blends.get(key)
    if parts is None:
        return _single(key, key_set, str(gas))
    total = 0.0
    for component, fraction in parts:
        if not _is_kyoto_key(component):
            continue
        try:
            total += fraction * _single(component, key_set, str(gas))
        except UnknownGasError as exc:
            raise UnknownGasError(
                f"{key} has no {key_set} GWP-100: its constituent {component} has none",
                gas=str(gas),
                gwp_set=key_set,
            ) from exc
    return total


def gwp_sets_table() -> dict[str, dict[str, float]]:
    """Every shipped gas and blend with its GWP-100 per set: ``{"CH4": {"AR4": 25.0, "AR5":
    28.0, "AR6": 27.9}, "R-410A": {...}, ...}``. A set without a value is absent from the inner
    dict; blends are computed as in :func:`gwp`; constituents without any value (HFOs,
    hydrocarbons) are left out."""
    tables = _tables()
    table = {key: dict(entry.values) for key, entry in tables.gases.items()}
    for blend in tables.blends:
        values: dict[str, float] = {}
        for gwp_set in GWP_SETS:
            try:
                values[gwp_set] = gwp(blend, gwp_set)
            except UnknownGasError:
                continue
        table[blend] = values
    return table


def provenance(gwp_set: str) -> str:
    """Where the values of a GWP set come from: IPCC report, chapter and table, and the package
    and version they were shipped from (text to print in a run manifest or report)."""
    return _PROVENANCE[_check_set(gwp_set)] + _BLEND_RULE


def co2e_kg(gas_masses_kg: Mapping[str, float], gwp_set: str = DEFAULT_GWP_SET) -> float:
    """Total CO2-equivalent of several gas masses [kg CO2e]: the sum of mass [kg] × GWP-100.

    >>> co2e_kg({"CH4": 1.0, "N2O": 1.0}, "AR5")
    293.0

    Raises
    ------
    UnknownGasError, InputError
        As :func:`gwp`; also :class:`InputError` if a mass is not a finite number.
    """
    total = 0.0
    for gas, mass in gas_masses_kg.items():
        value = float(mass)
        if not math.isfinite(value):
            raise InputError(f"The mass of {gas} is not a finite number of kg: {mass!r}")
        total += value * gwp(gas, gwp_set)
    return total
