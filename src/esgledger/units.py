"""The one unit registry of esgledger.

Every quantity inside the domain is a pint quantity from :data:`ureg`; in vectorised code
(DuckDB, Arrow) a column carries its unit in its name (``quantity_kwh``) or beside it in a
``unit`` column, and conversions are applied as per-unit factors computed here once per
*distinct* unit, never row by row.

Beyond pint's defaults the registry defines:

* **Money as one dimension per currency** (``[currency_USD]``, ``[currency_CNY]`` …). Currencies
  never convert into each other by unit arithmetic; that needs a year's exchange rate (see
  :mod:`esgledger.fx`). ``[currency]`` in an activity type means "any one currency".
* **Standard gas volumes as amounts of substance.** ``scf`` (60 °F, 14.696 psia), ``Nm3``
  (0 °C, 101.325 kPa) and ``Sm3`` (15 °C, 101.325 kPa) are volumes *at reference conditions*,
  i.e. a number of moles of ideal gas, so they convert into each other exactly and never
  silently into a geometric ``m3``.
* Activity units: ``passenger`` (passenger-km = ``passenger * km``), ``room_night``, ``vehicle``
  (vehicle-km), ``FTE_hour``, ``tonne`` aliases, ``mmBtu``, ``short_ton``.
* Spellings people type: ``tkm``, ``pkm``, ``tonne.km``, ``passenger.km``, ``吨``, ``千瓦时``,
  ``度`` (kWh), ``万元`` (10,000 CNY) … see :data:`ALIASES`.
"""

from __future__ import annotations

import itertools
import math
import re
from functools import lru_cache
from typing import Any

import pint

from esgledger.errors import UnitError, quoted

__all__ = [
    "ALIASES",
    "CURRENCIES",
    "MAX_EXPONENT",
    "MAX_NESTING",
    "MAX_SCALE",
    "MAX_UNIT_CHARS",
    "MIN_SCALE",
    "Q_",
    "UNITS_HINT",
    "check_unit_grammar",
    "conversion_factor",
    "currency_of",
    "dimensionality",
    "fits_dimension",
    "normalize_unit",
    "parse_unit",
    "ureg",
]

#: ISO 4217 codes defined as currency units. Add more with :func:`define_currency`.
CURRENCIES: tuple[str, ...] = (
    "USD", "CNY", "HKD", "EUR", "GBP", "JPY", "SGD", "KRW", "INR", "AUD", "CAD", "CHF",
    "TWD", "MOP", "MYR", "THB", "IDR", "VND", "PHP", "BRL", "MXN", "ZAR", "AED", "SAR",
)  # fmt: skip

_DEFINITIONS = """
# --- energy -----------------------------------------------------------------------------
mmBtu = 1e6 * Btu = MMBtu = mmbtu
# --- mass -------------------------------------------------------------------------------
short_ton = 2000 * pound = ton_us
# --- standard gas volumes (ideal gas at reference conditions) -------------------------
# 60 degF = 519.67 degR = 288.705556 K, 14.696 psia = 101.325 kPa (1 atm), as the US EPA uses.
scf = 101325 * pascal * foot ** 3 / (molar_gas_constant * 519.67 * degR) = standard_cubic_foot
Nm3 = 101325 * pascal * meter ** 3 / (molar_gas_constant * 273.15 * kelvin) = normal_cubic_meter
Sm3 = 101325 * pascal * meter ** 3 / (molar_gas_constant * 288.15 * kelvin) = standard_cubic_meter
# --- counted things -----------------------------------------------------------------------
passenger = [passenger]
room_night = [room_night] = room_nights
vehicle = [vehicle]
FTE = [FTE]
FTE_hour = FTE * hour
unit_item = [item] = item = items = piece = pcs
employee = [employee] = employees = headcount
"""

#: Spellings accepted from users and source files, mapped onto pint expressions.
#: Matching is exact after trimming; a spelling that matches nothing exactly is then matched
#: regardless of case when that is unambiguous (see :func:`parse_unit`). ``mwh`` and ``mj`` are
#: deliberately absent: they could be ``MWh``/``mWh`` and ``MJ``/``mJ``.
ALIASES: dict[str, str] = {
    # mass
    "t": "tonne", "tonnes": "tonne", "tonne": "tonne", "metric ton": "tonne",
    "metric tons": "tonne", "吨": "tonne", "千克": "kg", "公斤": "kg", "kgs": "kg",
    "short ton": "short_ton", "short tons": "short_ton",
    # energy
    "kwh": "kWh", "KWH": "kWh", "千瓦时": "kWh", "度": "kWh", "兆瓦时": "MWh",
    "gwh": "GWh", "gj": "GJ", "吉焦": "GJ", "tj": "TJ", "兆焦": "MJ", "therms": "therm",
    "kWh (Net CV)": "kWh", "kWh (Gross CV)": "kWh", "万千瓦时": "10000 * kWh",
    # volume
    "l": "liter", "L": "liter", "litre": "liter", "litres": "liter", "liters": "liter",
    "升": "liter", "m3": "meter**3", "m³": "meter**3", "cubic metres": "meter**3",
    "立方米": "meter**3", "gal": "gallon", "US gal": "gallon", "us gal": "gallon",
    "gallons": "gallon", "Nm³": "Nm3", "标准立方米": "Nm3", "万立方米": "10000 * meter**3",
    "万标准立方米": "10000 * Nm3",
    # area
    "m2": "meter**2", "m²": "meter**2", "sqm": "meter**2", "平方米": "meter**2",
    "km2": "kilometer**2", "km²": "kilometer**2", "ft2": "foot**2", "sq ft": "foot**2",
    "sqft": "foot**2", "ha": "hectare", "公顷": "hectare",
    # distance and activity
    "公里": "km", "千米": "km", "miles": "mile", "mi": "mile",
    "tkm": "tonne * km", "t.km": "tonne * km", "t*km": "tonne * km", "tonne.km": "tonne * km",
    "tonne-km": "tonne * km", "tonne km": "tonne * km", "吨公里": "tonne * km",
    "pkm": "passenger * km", "passenger.km": "passenger * km", "passenger-km": "passenger * km",
    "passenger km": "passenger * km", "人公里": "passenger * km",
    "vkm": "vehicle * km", "vehicle.km": "vehicle * km", "vehicle-km": "vehicle * km",
    "room night": "room_night", "room-night": "room_night", "room per night": "room_night",
    "间夜": "room_night", "FTE hour": "FTE_hour", "per FTE working hour": "FTE_hour",
    "short ton-mile": "short_ton * mile", "passenger-mile": "passenger * mile",
    "vehicle-mile": "vehicle * mile",
    # money
    "元": "CNY", "人民币": "CNY", "RMB": "CNY", "rmb": "CNY", "万元": "10000 * CNY",
    "千元": "1000 * CNY", "百万元": "1000000 * CNY", "亿元": "100000000 * CNY",
    "港元": "HKD", "港币": "HKD", "美元": "USD", "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP",
    # time
    "h": "hour", "hours": "hour", "小时": "hour",
    # people
    "人": "employee", "员工": "employee", "名员工": "employee",
    "雇员": "employee", "persons": "employee", "person": "employee", "people": "employee",
}  # fmt: skip

#: ``'000 kWh`` (the HKEX Guide's "kWh in '000s"), ``CNY million``, ``million HKD``, ``百万港元``.
_THOUSANDS = re.compile(r"^['’‘]000s?\s*(?P<unit>.+)$")
_SCALE_WORDS = {"thousand": "1000", "million": "1000000", "mn": "1000000", "billion": "1e9",
                "bn": "1e9"}  # fmt: skip
_SCALED_MONEY = re.compile(
    r"^(?:(?P<cur1>[A-Z]{3})\s+(?P<word1>thousand|million|mn|billion|bn)"
    r"|(?P<word2>thousand|million|mn|billion|bn)\s+(?P<cur2>[A-Z]{3}))$",
    re.IGNORECASE,
)
_CHINESE_SCALES = {"千": "1000", "万": "10000", "百万": "1000000", "亿": "100000000"}
_CHINESE_CURRENCIES = {"港元": "HKD", "港币": "HKD", "美元": "USD", "人民币": "CNY", "元": "CNY"}


def _build_registry() -> pint.UnitRegistry[Any]:
    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(
        autoconvert_offset_to_baseunit=True, cache_folder=None
    )
    for line in _DEFINITIONS.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            registry.define(line)
    for code in CURRENCIES:
        registry.define(f"{code} = [currency_{code}]")
    return registry


#: The registry every module uses. Never create another one: quantities of two registries
#: cannot be combined.
ureg: pint.UnitRegistry[Any] = _build_registry()
Q_ = ureg.Quantity

_CURRENCY_DIM = re.compile(r"^\[currency_([A-Z]{3})\]$")


def normalize_unit(text: str) -> str:
    """Map a user's spelling of a unit onto a pint expression (``"吨"`` → ``"tonne"``)."""
    cleaned = " ".join(str(text).replace("\u3000", " ").split())
    if cleaned in ALIASES:
        return ALIASES[cleaned]
    thousands = _THOUSANDS.match(cleaned)
    if thousands:
        return f"1000 * ({normalize_unit(thousands.group('unit'))})"
    money = _SCALED_MONEY.match(cleaned)
    if money:
        code = (money.group("cur1") or money.group("cur2")).upper()
        word = (money.group("word1") or money.group("word2")).lower()
        if code in CURRENCIES:
            return f"{_SCALE_WORDS[word]} * {code}"
    for prefix, scale in sorted(_CHINESE_SCALES.items(), key=lambda kv: -len(kv[0])):
        rest = cleaned.removeprefix(prefix)
        if rest != cleaned and rest in _CHINESE_CURRENCIES:
            return f"{scale} * {_CHINESE_CURRENCIES[rest]}"
    return cleaned


#: Where to look up the units accepted, named in every "unknown unit" message.
UNITS_HINT = "run `esgledger units` for the units accepted"


# ---- the guard in front of pint ------------------------------------------------------------
#
# Every unit text from a file reaches pint only through :func:`check_unit_grammar`: a length
# limit and an allow-list grammar (unit names, numbers, ``*``, ``/``, ``·``, parentheses,
# small whole exponents). pint's own parser is not meant for hostile text: ``kWh/0``, ``(``,
# ``()``, ``kWh**1e10`` or 2,000 factors raise ZeroDivisionError, TokenError, AssertionError,
# OverflowError or RecursionError instead of a unit error (issue 11, defect 9).

#: Longest unit text accepted, in characters after trimming (the longest spelling in use,
#: ``fraction of residual emissions``, has 30).
MAX_UNIT_CHARS = 64
#: Largest exponent accepted (``m**3``, ``kWh**-1``); exponents are whole numbers.
MAX_EXPONENT = 4
#: Deepest nesting of parentheses accepted (``GJ/(10000 Nm3)`` has one level).
MAX_NESTING = 3
#: Range of every number in a unit (``1000 kWh``, ``10000 * CNY``) and of the scale of the
#: whole unit (``'000 百万元`` is 1e9 CNY): a unit is not a way to write a huge quantity.
MIN_SCALE, MAX_SCALE = 1e-9, 1e9

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TOKENS = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<power>(?:\*\*|\^)\s*(?P<exponent>[+-]?\s*[\d.]+(?:[eE][+-]?\d+)?)?)
  | (?P<superscript>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)
  | (?P<op>[*/·])
  | (?P<open>\()
  | (?P<close>\))
  | (?P<dimension>\[[A-Za-z_][A-Za-z0-9_]*\])
  | (?P<name>(?:[^\W\d]|°)(?:(?![⁰¹²³⁴⁵⁶⁷⁸⁹])\w)*)
    """,
    re.VERBOSE,
)
_NOT_NUMBERS = frozenset({"inf", "infinity", "nan"})


def _refusal(text: object, why: str, *, dimension: bool = False) -> UnitError:
    if dimension:
        return UnitError(f"unknown dimension {quoted(text)}: {why}", expected=str(text))
    return UnitError(f"unknown unit {quoted(text)}: {why}; {UNITS_HINT}", unit=str(text))


def check_unit_grammar(
    text: str,
    *,
    original: object = None,
    dimensions: bool = False,
    max_chars: int = MAX_UNIT_CHARS,
) -> None:
    """Refuse a unit text that is not a short product and quotient of unit names.

    The grammar, an allow-list: at most ``max_chars`` characters; tokens are unit
    names (letters, digits and ``_``, not starting with a digit; ``°C``), numbers between
    :data:`MIN_SCALE` and :data:`MAX_SCALE` (or 0, which :func:`parse_unit` refuses with its
    own reason), the operators ``*``, ``/`` and ``·`` (or a space), parentheses nested at most
    :data:`MAX_NESTING` deep and never empty, and exponents (``**n``, ``^n``, ``²``) that are
    whole numbers with ``|n| ≤`` :data:`MAX_EXPONENT`. With ``dimensions`` the terms are
    dimensions in brackets (``[mass] * [length]``) instead. ``original`` is the text as the
    user wrote it, named in the message. At most ``max_chars`` steps: fast on any input.

    Raises
    ------
    UnitError
        ``unknown unit …`` with the reason, naming (escaped and shortened) the text.
    """
    shown_as = text if original is None else original

    def fail(why: str) -> UnitError:
        return _refusal(shown_as, why, dimension=dimensions)

    if len(text) > max_chars:
        raise fail(f"longer than {max_chars} characters")
    position, depth, expect_term, terms = 0, 0, True, 0
    while position < len(text):
        match = _TOKENS.match(text, position)
        if match is None:
            what = "dimension" if dimensions else "unit"
            raise fail(f"{quoted(text[position])} is not allowed in a {what}")
        kind, token = match.lastgroup, match.group()
        position = match.end()
        if kind == "space":
            continue
        if kind == "power" or kind == "superscript":
            if expect_term:
                raise fail("an exponent must follow a unit")
            if kind == "power":
                exponent = (match.group("exponent") or "").replace(" ", "")
                if not re.fullmatch(r"[+-]?\d{1,2}", exponent):
                    raise fail("exponents must be small whole numbers (m**3)")
                value = int(exponent)
            else:
                digits = token.removeprefix("⁻")
                if len(digits) > 1:
                    raise fail("exponents must be small whole numbers (m**3)")
                value = _SUPERSCRIPTS.index(digits)
            if abs(value) > MAX_EXPONENT:
                raise fail(f"exponents beyond ±{MAX_EXPONENT} are not units")
            continue
        if kind == "op":
            if expect_term:
                raise fail(f"{quoted(token)} must stand between two units")
            expect_term = True
            continue
        if kind == "close":
            if depth == 0 or expect_term:
                raise fail("unbalanced or empty parentheses")
            depth -= 1
            continue
        # a term: "(", a number, a name or a dimension; after a term one is implicit "*"
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise fail(f"parentheses nested deeper than {MAX_NESTING}")
            expect_term = True
            continue
        if kind == "number":
            if dimensions:
                raise fail("a dimension has no numbers")
            value_f = float(token)
            if value_f != 0 and not MIN_SCALE <= value_f <= MAX_SCALE:
                raise fail(f"numbers in a unit must lie between {MIN_SCALE:g} and {MAX_SCALE:g}")
        elif kind == "name":
            if dimensions:
                raise fail("write dimensions in brackets ([energy])")
            if token.lower() in _NOT_NUMBERS:
                raise fail(f"{quoted(token)} is not a unit")
        elif kind == "dimension" and not dimensions:
            raise fail("brackets name a dimension, not a unit")
        terms += 1
        expect_term = False
    if depth or (expect_term and terms):
        raise fail("unbalanced parentheses or a trailing operator")
    if not terms:
        raise fail("no unit in it")


#: Spellings of "ton" that are refused: in UK usage a long ton (2,240 lb), in US usage a short
#: ton (2,000 lb), loosely a metric tonne (1,000 kg); pint itself reads ``ton`` as a short ton.
_AMBIGUOUS_TON = re.compile(r"(?<![\w.])tons?(?![\w.])", re.IGNORECASE)
#: A single unit name (no operator, space or number), the only form matched regardless of case.
_SINGLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Beyond this many letters a spelling is not matched regardless of case (2**n variants).
_CASE_LETTERS_MAX = 8


def _try_parse(expression: str) -> pint.Quantity[Any] | None:
    try:
        quantity = ureg.parse_expression(expression)
    except (
        pint.errors.PintError,
        AttributeError,
        TypeError,
        ValueError,
        SyntaxError,
        ArithmeticError,  # "kWh/(0 kg)": a zero divisor the grammar lets through
    ):
        return None
    # A bare number ("1000") parses to a plain int or float: a dimensionless quantity here.
    return quantity if isinstance(quantity, ureg.Quantity) else ureg.Quantity(quantity)


@lru_cache(maxsize=1)
def _esg_dimensions() -> frozenset[str]:
    """The dimensions of every unit the aliases and the common-unit list spell: what activity
    data are measured in. Matching regardless of case only ever lands on one of these, never on
    a tesla (``T``), a gauss (``kG``) or a knot (``kt``)."""
    from importlib import resources

    spellings = list(ALIASES.values())
    text = resources.files("esgledger.schema").joinpath("common_units.csv").read_text("utf-8")
    spellings += [line.split(",", 1)[0] for line in text.splitlines()[1:] if line.strip()]
    dimensions = set()
    for spelling in spellings:
        quantity = _try_parse(normalize_unit(spelling))
        if quantity is not None:
            dimensions.add(str(quantity.dimensionality))
    return frozenset(dimensions)


def _case_variants(name: str) -> list[str]:
    choices = [(c.lower(), c.upper()) if c.isascii() and c.isalpha() else (c,) for c in name]
    return ["".join(chars) for chars in itertools.product(*choices)]


def _match_case_insensitively(name: str) -> pint.Quantity[Any] | None:
    """The one unit ``name`` spells regardless of case, or ``None`` if it spells none.

    The rule (documented in docs/methodology/unit-spellings.md): every spelling that differs from
    ``name`` only by the case of its letters is looked up, exactly, among the aliases and the
    registry's units; of what it finds, only units of a dimension activity data use count
    (:func:`_esg_dimensions`). If they are all the same unit, that unit is the answer
    (``KG`` → kg, ``Kwh`` → kWh, ``M3`` → m³). If they differ, the spelling is refused, naming
    each: SI prefixes differ by case (``m`` milli / ``M`` mega, ``p`` pico / ``P`` peta), so
    ``mwh``, ``MWH``, ``mj`` or ``MM`` are never guessed.

    Raises
    ------
    UnitError
        If the spelling could be two different units.
    """
    if not _SINGLE_NAME.match(name) or sum(c.isalpha() for c in name) > _CASE_LETTERS_MAX:
        return None
    dimensions = _esg_dimensions()
    found: dict[str, pint.Quantity[Any]] = {}
    for variant in _case_variants(name):
        quantity = _try_parse(ALIASES.get(variant, variant))
        if quantity is None or quantity.unitless:
            continue
        dimension = str(quantity.dimensionality)
        if (dimension in dimensions or _CURRENCY_DIM.match(dimension)) and quantity.magnitude > 0:
            found[variant] = quantity
    meanings: dict[str, list[str]] = {}
    for variant, quantity in found.items():
        base = quantity.to_base_units()
        key = f"{float(base.magnitude):.12g} {base.units}"
        meanings.setdefault(key, []).append(variant)
    if not meanings:
        return None
    if len(meanings) > 1:
        options = " or ".join(
            f"{spellings[0]} ({found[spellings[0]].units})"
            for spellings in sorted(meanings.values(), key=lambda v: v[0].swapcase())
        )
        raise UnitError(
            f"unit {name!r} is ambiguous: case matters for it; write {options}", unit=name
        )
    (spellings,) = meanings.values()
    return found[spellings[0]]


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Quantity[Any]:
    """Parse a unit expression into a pint quantity of magnitude 1 (or a scaled one).

    Scaled units such as ``"万元"`` (10,000 CNY) come back with their scale as magnitude.

    A spelling is first read exactly (aliases, then pint's names, case-sensitive); a single
    unit name that matches nothing is then matched regardless of case when only one unit fits
    (``KG``, ``Kwh``), see :func:`_match_case_insensitively`. ``ton`` and ``tons`` are refused
    as ambiguous (metric tonne, short ton or long ton): write ``t`` or ``short_ton``.

    Raises
    ------
    UnitError
        If the text is empty, ambiguous, or pint does not know it.
    """
    if text is None or not str(text).strip():
        raise UnitError("the unit is empty", unit=text)
    if len(str(text).strip()) > MAX_UNIT_CHARS:
        raise _refusal(text, f"longer than {MAX_UNIT_CHARS} characters")
    expression = normalize_unit(text)
    # The expanded spelling ("'000 百万元" → "1000 * (1000000 * CNY)") may be a little longer.
    check_unit_grammar(expression, original=text, max_chars=2 * MAX_UNIT_CHARS)
    shown = quoted(text)
    if _AMBIGUOUS_TON.search(expression):
        raise UnitError(
            f"unit {shown} is ambiguous: a 'ton' is a metric tonne (1,000 kg), a US short ton "
            "(2,000 lb) or a long ton (2,240 lb); write t (or tonne, 吨) or short_ton",
            unit=text,
        )
    if expression.lower() == "mt" and expression != "Mt":
        raise UnitError(
            f"unit {shown} is ambiguous: 'MT' often means metric ton, but mt is a millitonne "
            "(1 kg) and Mt a megatonne; write t (metric tonne) or Mt (megatonne)",
            unit=text,
        )
    quantity = _try_parse(expression)
    if quantity is None or (
        _SINGLE_NAME.match(expression)
        and not quantity.unitless
        and str(quantity.dimensionality) not in _esg_dimensions()
    ):
        # Unknown, or a physics unit no activity is measured in (T is a tesla, MM a
        # megamolar): look for the unit the spelling means regardless of case.
        quantity = _match_case_insensitively(expression) or quantity
    if quantity is None:
        raise UnitError(f"unknown unit {shown}: {UNITS_HINT}", unit=text)
    if quantity.unitless:  # a bare number: "1000"
        raise UnitError(f"{shown} is a number, not a unit", unit=text)
    magnitude = float(quantity.magnitude)
    if not magnitude > 0:  # "0 kWh", or a spelling pint reads as zero
        raise UnitError(
            f"{shown} is not a unit: it reads as {quantity.magnitude} {quantity.units}",
            unit=text,
        )
    if not (math.isfinite(magnitude) and MIN_SCALE <= magnitude <= MAX_SCALE):
        raise _refusal(text, f"its scale {magnitude:g} lies outside {MIN_SCALE:g} to {MAX_SCALE:g}")
    return quantity


def dimensionality(text: str) -> str:
    """The pint dimensionality of a unit as a string.

    ``dimensionality("kWh")`` is ``"[length] ** 2 * [mass] / [time] ** 2"``.
    """
    return str(parse_unit(text).dimensionality)


def currency_of(text: str) -> str | None:
    """The ISO currency code of a pure money unit (``"万元"`` → ``"CNY"``), else ``None``."""
    dims = dict(parse_unit(text).dimensionality)
    if len(dims) == 1:
        ((dim, power),) = dims.items()
        match = _CURRENCY_DIM.match(dim)
        if match and power == 1:
            return match.group(1)
    return None


def _dimension_of_spec(spec: str) -> Any:
    """Dimensionality of one requirement: ``"[energy]"`` style or a unit such as ``"kWh"``."""
    spec = spec.strip()
    if spec.startswith("["):
        check_unit_grammar(spec, dimensions=True)
        try:
            return ureg.get_dimensionality(spec)
        except (pint.errors.PintError, KeyError, ValueError, ArithmeticError) as exc:
            raise UnitError(f"unknown dimension {quoted(spec)}", expected=spec) from exc
    return parse_unit(spec).dimensionality


def fits_dimension(unit: str, required: str) -> bool:
    """Whether ``unit`` can express the dimension ``required``.

    ``required`` is a pint dimensionality (``"[energy]"``, ``"[mass] * [length]"``), a unit
    (``"kWh"``), ``"[currency]"`` for any single currency, or several of these joined by
    ``|`` ("``[volume] | [mass] | [energy]``") when any one will do.
    """
    parsed = parse_unit(unit).dimensionality
    for alternative in required.split("|"):
        alternative = alternative.strip()
        if alternative == "[currency]":
            if currency_of(unit) is not None:
                return True
            continue
        if parsed == _dimension_of_spec(alternative):
            return True
    return False


@lru_cache(maxsize=16384)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """The number that turns a magnitude in ``from_unit`` into one in ``to_unit``.

    >>> conversion_factor("MWh", "kWh")
    1000.0
    >>> round(conversion_factor("US gal", "L"), 6)
    3.785412

    Raises
    ------
    UnitError
        If the two units have different dimensions (including two different currencies).
    """
    source = parse_unit(from_unit)
    target = parse_unit(to_unit)
    try:
        return float((source / target).to("dimensionless").magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            f"cannot convert {from_unit!r} ({source.dimensionality}) "
            f"to {to_unit!r} ({target.dimensionality})",
            unit=from_unit,
            expected=to_unit,
        ) from exc


def define_currency(code: str) -> None:
    """Add an ISO 4217 currency to the registry (idempotent)."""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise UnitError(f"{code!r} is not an ISO 4217 currency code", unit=code)
    if code not in ureg:
        ureg.define(f"{code} = [currency_{code}]")
        parse_unit.cache_clear()
        conversion_factor.cache_clear()
