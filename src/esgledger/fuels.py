"""Fuel properties and the conversions they allow: volume → mass → energy, gas volumes.

燃料特性参数（低位发热量、单位热值含碳量、碳氧化率、密度）及其换算路径。

Emission factors of fuels are published per mass (China: GB/T 32150-2015 per tonne), per
energy (IPCC 2006: per TJ of net calorific value) or per standard gas volume (China: per
10^4 Nm3), while activity data arrive in litres, cubic metres, kilograms, GJ or kWh. This
module is the one place that turns one into the other, and says how:

* **Properties as data.** ``esgledger/data/sources/fuel_properties.csv``: per fuel and region
  the net calorific value (NCV), carbon content per unit of NCV, oxidation rate and density,
  each with its source, table, edition and confidence mark ([V]erified, [S]econdary,
  [M]emory, [C]omputed, as in the steering repo's reference). The IPCC 2006 default NCVs
  (Vol. 2 ch. 1 Table 1.2) stay in ``ipcc_2006_keyed.csv`` and are read from there as region
  ``GLOBAL``: every value is keyed once.
* **Lookup like factors.** :func:`property_for` takes the row's region chain (nearest first,
  ``esgledger.regions.chain``): a Chinese site gets the Chinese NCV, else the global one.
* **Conversion paths.** :func:`convert` finds the shortest path from a row's unit to a
  factor's unit over the edges the properties allow — volume ↔ mass by density (liquid
  fuels), mass ↔ energy by NCV per mass, standard gas volume ↔ energy by NCV per volume,
  and a gas fuel's plain volume → standard volume by the reference conditions (one way:
  a factor "per m3" of another source has reference conditions of its own that are not
  recorded, so a standard volume is never turned back into a plain one). Each step names
  its property and source; :meth:`FuelConversion.describe` is what ``explain`` prints.
* **Gas reference conditions.** A standard volume (``Nm3`` 0 °C, ``Sm3`` 15 °C,
  ``scf`` 60 °F, all at 101.325 kPa; :mod:`esgledger.units`) is an amount of gas. A plain
  ``m3`` / ``立方米`` of a gas fuel is a volume *at some* temperature and pressure: the
  workspace says which (``[units] gas_volume_reference = "0C" | "15C" | "20C"``; China's
  GB/T 19205 natural-gas reference conditions are 20 °C, 101.325 kPa). Unset, it is read
  at 0 °C, 101.325 kPa (:data:`DEFAULT_GAS_REFERENCE`, i.e. equal to Nm3, the unit of the
  Chinese NCV): the choice is recorded on every line it affects, never silent.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pint

from esgledger.errors import UnitError
from esgledger.reasons import Reason, reason, templates
from esgledger.units import normalize_unit, parse_unit, ureg

__all__ = [
    "DEFAULT_GAS_REFERENCE",
    "GAS_FUELS",
    "GAS_REFERENCES",
    "IPCC_FUELS",
    "LIQUEFIED_GASES",
    "ConversionStep",
    "FuelConversion",
    "FuelProperty",
    "convert",
    "fuel_of",
    "parse_gas_reference",
    "properties",
    "property_for",
]

#: Reference temperatures [K] of a plain gas volume at 101.325 kPa, by setting value.
GAS_REFERENCES: dict[str, float] = {"0C": 273.15, "15C": 288.15, "20C": 293.15}
_REFERENCE_WORDS = {"0C": "0 °C", "15C": "15 °C", "20C": "20 °C"}
#: The reference of a plain gas ``m3`` when the workspace does not say: 0 °C, 101.325 kPa,
#: the conditions of ``Nm3`` (标准状况), in which the Chinese default NCV of natural gas is
#: given. The conservative choice: read at 20 °C the same meter reading is 6.8 % less gas.
DEFAULT_GAS_REFERENCE = "0C"
#: Fuels that are gases as measured: a plain volume of them needs reference conditions.
GAS_FUELS: frozenset[str] = frozenset({"natural_gas"})
#: Fuels sold as a liquid but gaseous when burnt: a litre or gallon is the liquid, a cubic
#: metre is ambiguous (liquid or vapour, 250 times apart), so cubic metres do not convert.
LIQUEFIED_GASES: frozenset[str] = frozenset({"lpg"})
#: esgledger fuel → fuel name of ``ipcc_2006_keyed.csv`` (IPCC 2006 Vol. 2 Tables 1.2, 1.4).
IPCC_FUELS: dict[str, str] = {
    "diesel": "gas_diesel_oil",
    "petrol": "motor_gasoline",
    "lpg": "lpg",
    "jet_fuel": "jet_kerosene",
    "fuel_oil": "residual_fuel_oil",
    "coal": "other_bituminous_coal",
    "natural_gas": "natural_gas",
}
_IPCC_SOURCE = "IPCC 2006 Guidelines, Vol. 2 (Energy)"
_NON_FUEL = ("electricity", "heat", "steam", "cooling")


@dataclass(frozen=True, slots=True)
class FuelProperty:
    """One keyed property of a fuel: ``ncv`` [energy / mass or standard volume],
    ``carbon_content`` [t C / TJ], ``oxidation`` [1], ``density`` [t / m3]."""

    fuel: str
    property: str
    region: str
    value: float
    unit: str
    used: bool
    source: str
    table: str
    edition: str
    confidence: str
    note: str = ""

    def citation(self) -> str:
        """``GB/T 32150-2015 ..., Annex B Table B.1 [S/M]``."""
        return f"{self.source}, {self.table} [{self.confidence}]"

    def quantity(self) -> pint.Quantity[Any]:
        """The value with its unit; ``t/m3`` and ``GJ/(10000 Nm3)`` are read as a ratio of
        two units :mod:`esgledger.units` knows."""
        quantity: pint.Quantity[Any] = self.value * _ratio(self.unit)
        return quantity


def _ratio(unit: str) -> pint.Quantity[Any]:
    top, slash, bottom = unit.partition("/")
    if not slash:
        return parse_unit(unit)
    ratio: pint.Quantity[Any] = parse_unit(top) / parse_unit(
        bottom.strip().removeprefix("(").removesuffix(")")
    )
    return ratio


def fuel_of(activity: str) -> str | None:
    """The fuel of an activity key (``mobile.cng`` → ``natural_gas``), None for a non-fuel."""
    if activity in _NON_FUEL:
        return None
    family, _, fuel = activity.partition(".")
    if family in ("stationary", "mobile") and fuel:
        return "natural_gas" if fuel == "cng" else fuel
    return None


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.data.sources").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def properties() -> tuple[FuelProperty, ...]:
    """Every keyed fuel property: ``fuel_properties.csv`` and the IPCC 2006 NCVs."""
    out = [
        FuelProperty(
            fuel=r["fuel"],
            property=r["property"],
            region=r["region"].upper(),
            value=float(r["value"]),
            unit=r["unit"],
            used=r["used"] == "yes",
            source=r["source"],
            table=r["table"],
            edition=r["edition"],
            confidence=r["confidence"],
            note=r["note"],
        )
        for r in _read("fuel_properties.csv")
    ]
    by_ipcc = {v: k for k, v in IPCC_FUELS.items()}
    for r in _read("ipcc_2006_keyed.csv"):
        if r["parameter"] == "ncv" and r["fuel"] in by_ipcc:
            unit = "TJ/Gg" if r["unit"] == "TJ/Gg" else r["unit"]
            out.append(
                FuelProperty(
                    fuel=by_ipcc[r["fuel"]],
                    property="ncv",
                    region="GLOBAL",
                    value=float(r["value"]),
                    unit=unit,
                    used=True,
                    source=_IPCC_SOURCE,
                    table=r["table"],
                    edition="2006",
                    confidence=r["confidence"],
                    note=r["citation"],
                )
            )
    return tuple(out)


def property_for(
    fuel: str, name: str, region_chain: Sequence[str], *, dimension: str | None = None
) -> FuelProperty | None:
    """The used property ``name`` of ``fuel`` for the nearest region of ``region_chain``.

    ``dimension`` (a pint dimensionality string) keeps only values whose unit has it, e.g.
    an NCV per mass rather than per standard volume.
    """
    chain = [code.upper() for code in region_chain]
    found = [
        p
        for p in properties()
        if p.fuel == fuel and p.property == name and p.used and p.region in chain
    ]
    if dimension is not None:
        found = [p for p in found if str(_ratio(p.unit).dimensionality) == dimension]
    if not found:
        return None
    return min(found, key=lambda p: chain.index(p.region))


def parse_gas_reference(text: str | None) -> str:
    """Check a ``gas_volume_reference`` setting (``0C``, ``15C``, ``20C``; case and a
    ``°``/space are forgiven); None gives :data:`DEFAULT_GAS_REFERENCE`.

    Raises
    ------
    ValueError
        If the value is not one of :data:`GAS_REFERENCES`.
    """
    if text is None:
        return DEFAULT_GAS_REFERENCE
    cleaned = str(text).replace("°", "").replace(" ", "").upper()
    if cleaned not in GAS_REFERENCES:
        raise ValueError(
            f"gas volume reference {text!r} is not one of {', '.join(GAS_REFERENCES)} "
            "(temperature of a plain m3 of gas at 101.325 kPa)"
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class ConversionStep:
    """One step of a fuel conversion: ``[from_dimension] → [to_dimension]`` and how."""

    text: Reason
    source: str | Reason
    property: FuelProperty | None = None


@dataclass(frozen=True, slots=True)
class FuelConversion:
    """A row unit → factor unit conversion through fuel properties.

    Attributes
    ----------
    factor
        Factor units per row unit.
    steps
        The steps in order, each naming its property, value and source.
    """

    fuel: str
    from_unit: str
    to_unit: str
    factor: float
    steps: tuple[ConversionStep, ...]

    def describe(self, lang: str = "en") -> str:
        """``1 L = 0.00083368 tonne: diesel volume → mass by density 0.83368 t/m3 (...)``
        in ``lang`` (``"en"`` or ``"zh-CN"``); cited publications keep their own titles."""
        then = reason("fuel.then").render(lang)
        body = then.join(
            reason("fuel.step", text=s.text, source=s.source).render(lang) for s in self.steps
        )
        to_unit = f"({self.to_unit})" if self.to_unit[:1].isdigit() else self.to_unit
        return reason(
            "fuel.conversion",
            from_unit=self.from_unit,
            factor=f"{self.factor:.6g}",
            to_unit=to_unit,
            steps=body,
        ).render(lang)

    def render(self, lang: str = "en") -> str:
        """The conversion as a message parameter (:mod:`esgledger.reasons`)."""
        return self.describe(lang)


_KINDS = {
    str(ureg.parse_expression("m**3").dimensionality): "volume",
    str(ureg.parse_expression("kg").dimensionality): "mass",
    str(ureg.parse_expression("J").dimensionality): "energy",
    str(ureg.parse_expression("Nm3").dimensionality): "standard volume",
}


def _kind(unit: str) -> str | None:
    try:
        return _KINDS.get(str(parse_unit(unit).dimensionality))
    except UnitError:
        return None


_Edge = tuple[str, str, "pint.Quantity[Any]", Reason, "str | Reason", "FuelProperty | None"]


def _fuel_name(fuel: str) -> Reason | str:
    """The fuel in words (``natural gas`` / ``天然气``), else its code."""
    code = f"fuel.name.{fuel}"
    return reason(code) if code in templates() else fuel


def _kind_name(kind: str) -> Reason:
    return reason(f"fuel.kind.{kind}")


def _cubic_metres(unit: str) -> bool:
    """Whether a volume unit is spelled in cubic metres (``m3``, ``立方米``, ``万立方米``)."""
    return "meter**3" in normalize_unit(unit).replace(" ", "") or "m3" in unit.replace(" ", "")


def _edges(
    fuel: str,
    region_chain: Sequence[str],
    gas_reference: str,
    reference_from: Reason,
    liquid_volume: bool = True,
) -> list[_Edge]:
    """(from kind, to kind, multiplier, text, source, property) of the conversions ``fuel``
    allows. ``liquid_volume`` False: the row's volume may be vapour (cubic metres of a
    liquefied gas), so no density applies."""
    edges: list[_Edge] = []
    density = property_for(fuel, "density", region_chain)
    if density is not None and fuel not in GAS_FUELS and liquid_volume:
        q = density.quantity()
        for a, b, multiplier in (("volume", "mass", q), ("mass", "volume", 1 / q)):
            text = reason(
                "fuel.density", fuel=_fuel_name(fuel), a=_kind_name(a), b=_kind_name(b),
                value=density.value, unit=density.unit,
            )  # fmt: skip
            edges.append((a, b, multiplier, text, density.citation(), density))
    for dimension, kind in (
        (str(ureg.parse_expression("J/kg").dimensionality), "mass"),
        (str(ureg.parse_expression("J/Nm3").dimensionality), "standard volume"),
    ):
        ncv = property_for(fuel, "ncv", region_chain, dimension=dimension)
        if ncv is None:
            continue
        q = ncv.quantity()
        for a, b, multiplier in ((kind, "energy", q), ("energy", kind, 1 / q)):
            text = reason(
                "fuel.ncv", fuel=_fuel_name(fuel), a=_kind_name(a), b=_kind_name(b),
                value=ncv.value, unit=ncv.unit,
            )  # fmt: skip
            edges.append((a, b, multiplier, text, ncv.citation(), ncv))
    if fuel in GAS_FUELS:
        kelvin = GAS_REFERENCES[gas_reference]
        # Ideal gas at 101.325 kPa: n = p V / (R T); Nm3 is the amount in 1 m3 at 273.15 K.
        q = (273.15 / kelvin) * parse_unit("Nm3") / parse_unit("m**3")
        text = reason(
            "fuel.gas_reference",
            fuel=_fuel_name(fuel),
            temperature=_REFERENCE_WORDS[gas_reference],
            ratio=273.15 / kelvin,
        )
        edges.append(("volume", "standard volume", q, text, reference_from, None))
    return edges


def convert(
    fuel: str,
    from_unit: str,
    to_unit: str,
    region_chain: Sequence[str],
    *,
    gas_reference: str | None = None,
) -> FuelConversion | None:
    """The shortest conversion of ``from_unit`` into ``to_unit`` for ``fuel``, or None.

    Parameters
    ----------
    fuel
        The fuel (:func:`fuel_of`).
    from_unit, to_unit
        The row's unit and the factor's unit (any spelling :mod:`esgledger.units` reads).
    region_chain
        The row's region chain, nearest first: whose properties apply.
    gas_reference
        Reference temperature of a plain gas volume (``0C``, ``15C``, ``20C``); None: the
        default :data:`DEFAULT_GAS_REFERENCE`, and the step says it is the default.

    Returns
    -------
    FuelConversion or None
        None when the two units have the same dimension (no fuel property is needed; use
        :func:`esgledger.units.conversion_factor`) or no path exists.
    """
    start, goal = _kind(from_unit), _kind(to_unit)
    if start is None or goal is None or start == goal:
        return None
    reference = parse_gas_reference(gas_reference)
    reference_from = (
        reason("fuel.reference_setting")
        if gas_reference is not None
        else reason("fuel.reference_default", default=DEFAULT_GAS_REFERENCE)
    )
    liquid_volume = not (fuel in LIQUEFIED_GASES and _cubic_metres(from_unit))
    edges = _edges(fuel, region_chain, reference, reference_from, liquid_volume)
    queue: deque[tuple[str, list[int]]] = deque([(start, [])])
    seen = {start}
    path: list[int] | None = None
    while queue:
        kind, used = queue.popleft()
        if kind == goal:
            path = used
            break
        for index, (a, b, *_rest) in enumerate(edges):
            if a == kind and b not in seen:
                seen.add(b)
                queue.append((b, [*used, index]))
    if path is None:
        return None
    quantity = 1 * parse_unit(from_unit)
    steps = []
    for index in path:
        _, _, multiplier, text, source, prop = edges[index]
        quantity = quantity * multiplier
        steps.append(ConversionStep(text=text, source=source, property=prop))
    try:
        factor = float((quantity / parse_unit(to_unit)).to("dimensionless").magnitude)
    except pint.errors.DimensionalityError:  # pragma: no cover - kinds matched above
        return None
    return FuelConversion(fuel, from_unit, to_unit, factor, tuple(steps))
