"""Unit tests of esgledger.gwp: names, lookups, blends, errors (messages tested exactly)."""

from __future__ import annotations

import csv
import json
import math
import re
from importlib import resources

import pytest

from esgledger import gwp
from esgledger.errors import InputError, UnknownGasError


def _shipped(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.data.gwp").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_public_api() -> None:
    assert set(gwp.__all__) == {
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
    }
    assert gwp.GWP_SETS == ("AR4", "AR5", "AR6")
    assert gwp.DEFAULT_GWP_SET == "AR6"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("R-410A", "R-410A"),
        ("r410a", "R-410A"),
        ("R410A", "R-410A"),
        (" r-410a ", "R-410A"),
        ("HFC-134a", "HFC-134a"),
        ("R-134a", "HFC-134a"),
        ("HFC134a", "HFC-134a"),
        ("hfc-134A", "HFC-134a"),
        ("R134a", "HFC-134a"),
        ("sf6", "SF6"),
        ("SF6", "SF6"),
        ("六氟化硫", "SF6"),
        ("CH4", "CH4"),
        ("methane", "CH4"),
        ("CO₂", "CO2"),
        ("R-744", "CO2"),
        ("R-32", "HFC-32"),
        ("R-125", "HFC-125"),
        ("R-143a", "HFC-143a"),
        ("R-23", "HFC-23"),
        ("R-152a", "HFC-152a"),
        ("R-227ea", "HFC-227ea"),
        ("HFC-4310mee", "HFC-43-10mee"),
        ("R-22", "HCFC-22"),
        ("R-14", "CF4"),
        ("PFC-14", "CF4"),
        ("PFC-116", "C2F6"),
        ("R-C318", "c-C4F8"),
        ("PFC-31-10", "C4F10"),
        ("PFC-3-1-10", "C4F10"),
        ("R-1234yf", "HFO-1234yf"),
        ("R-1234ze", "HFO-1234ze(E)"),
        ("R-290", "propane"),
        ("R-600a", "isobutane"),
        ("R-1270", "propylene"),
        ("R-507", "R-507A"),
    ],
)
def test_canonical_gas(name: str, key: str) -> None:
    assert gwp.canonical_gas(name) == key


def test_unknown_gas_message() -> None:
    n = len(gwp.blends())
    with pytest.raises(UnknownGasError) as info:
        gwp.canonical_gas("R-999Z")
    assert str(info.value) == (
        "Unknown gas or refrigerant 'R-999Z': it is not in esgledger's GWP table (IPCC "
        f"AR4/AR5/AR6) nor one of its {n} refrigerant blends. Use a name such as 'CH4', "
        "'HFC-134a', 'R-410A' or 'SF6'."
    )
    assert info.value.gas == "R-999Z"
    assert isinstance(info.value, LookupError)


def test_aliases_do_not_collide() -> None:
    """Each spelling names one gas: the same normalised alias never maps to two keys."""
    keys = [row["gas"] for row in _shipped("gwp100.csv")] + list(gwp.blends())
    assert len(keys) == len(set(keys))
    for key in keys:
        assert gwp.canonical_gas(key) == key


@pytest.mark.parametrize(
    ("gas", "gwp_set", "value"),
    [
        # Hand-copied from the upstream CC0 file (globalwarmingpotentials 0.13.2) columns.
        ("CO2", "AR4", 1.0),
        ("CO2", "AR6", 1.0),
        ("CH4", "AR4", 25.0),
        ("CH4", "AR5", 28.0),
        ("CH4", "AR6", 27.9),
        ("N2O", "AR6", 273.0),
        ("HFC-41", "AR5", 116.0),
        ("C10F18", "AR6", 7480.0),
    ],
)
def test_single_gas_values(gas: str, gwp_set: str, value: float) -> None:
    assert gwp.gwp(gas, gwp_set) == value


def test_default_set_is_ar6() -> None:
    assert gwp.gwp("SF6") == 25200.0


def test_set_name_is_case_insensitive() -> None:
    assert gwp.gwp("N2O", "ar5") == 265.0


def test_unknown_set() -> None:
    with pytest.raises(InputError, match=r"^Unknown GWP set 'AR7': choose one of AR4, AR5, AR6\.$"):
        gwp.gwp("CH4", "AR7")
    with pytest.raises(ValueError, match="Unknown GWP set 'SAR'"):
        gwp.provenance("SAR")


def test_set_without_value_raises() -> None:
    with pytest.raises(UnknownGasError) as info:
        gwp.gwp("HFC-41", "AR4")
    assert str(info.value) == (
        "HFC-41 has no AR4 GWP-100 value (the report gives none); sets with a value: AR5, AR6"
    )
    assert (info.value.gas, info.value.gwp_set) == ("HFC-41", "AR4")


def test_constituent_without_gwp_raises_when_asked_alone() -> None:
    with pytest.raises(UnknownGasError) as info:
        gwp.gwp("R-290", "AR5")
    assert str(info.value) == (
        "propane has no GWP-100 in esgledger's IPCC table (it is not a Kyoto gas; it counts 0 "
        "inside refrigerant blends)"
    )
    assert info.value.gas == "R-290"


def test_blend_is_mass_weighted_over_kyoto_constituents() -> None:
    # R-410A = 50 % HFC-32 + 50 % HFC-125 (EPA Hub 2025 Table 12); AR4 675 and 3500.
    assert gwp.gwp("R-410A", "AR4") == pytest.approx(0.5 * 675 + 0.5 * 3500, abs=1e-9)
    # R-402A = 38 % HCFC-22, 60 % HFC-125, 2 % propane: only HFC-125 counts (Kyoto-only rule),
    # although HCFC-22 has a GWP of its own (AR5 1760).
    assert gwp.gwp("HCFC-22", "AR5") == 1760.0
    assert gwp.gwp("R-402A", "AR5") == pytest.approx(0.60 * 3170, abs=1e-9)
    # R-513A = 56 % HFO-1234yf + 44 % HFC-134a: the HFO counts 0.
    assert gwp.gwp("R-513A", "AR6") == pytest.approx(0.44 * 1530, abs=1e-9)
    # A blend of Montreal-Protocol gases only has no Kyoto constituent.
    assert gwp.gwp("R-409A", "AR5") == 0.0


def test_composition_and_is_blend() -> None:
    assert gwp.composition("r410a") == (("HFC-32", 0.5), ("HFC-125", 0.5))
    assert gwp.is_blend("R-404A")
    assert not gwp.is_blend("HFC-134a")
    with pytest.raises(UnknownGasError) as info:
        gwp.composition("R-134a")
    assert str(info.value) == "HFC-134a is a single gas, not a refrigerant blend"


def test_every_blend_sums_to_one_and_names_known_constituents() -> None:
    for blend in gwp.blends():
        parts = gwp.composition(blend)
        assert math.isclose(sum(f for _, f in parts), 1.0, abs_tol=1e-12), blend
        for component, fraction in parts:
            assert 0 < fraction < 1, blend
            assert gwp.canonical_gas(component) == component
            assert not gwp.is_blend(component)


def test_required_blends_are_shipped_with_cited_sources() -> None:
    required = {
        "R-404A", "R-407A", "R-407C", "R-407F", "R-410A", "R-417A", "R-422D", "R-427A",
        "R-438A", "R-448A", "R-449A", "R-452A", "R-454B", "R-507A", "R-508B", "R-513A",
    }  # fmt: skip
    assert required <= set(gwp.blends())
    sources = {row["source"] for row in _shipped("blends.csv")}
    assert sources == {
        "EPA GHG Emission Factors Hub 2025, Table 12",
        "ANSI/ASHRAE Standard 34, refrigerant blend compositions (mass %)",
    }


def test_is_kyoto() -> None:
    assert gwp.is_kyoto("CO2")
    assert gwp.is_kyoto("NF3")
    assert gwp.is_kyoto("R-134a")
    assert gwp.is_kyoto("PFC-116")
    assert not gwp.is_kyoto("HCFC-22")
    assert not gwp.is_kyoto("CFC-12")
    assert not gwp.is_kyoto("C7F16")  # a PFC outside the UNFCCC list
    assert not gwp.is_kyoto("R-1234yf")
    assert gwp.is_kyoto("R-410A")
    assert not gwp.is_kyoto("R-409A")  # HCFC-22/124/142b only


def test_gwp_sets_table() -> None:
    table = gwp.gwp_sets_table()
    assert table["CH4"] == {"AR4": 25.0, "AR5": 28.0, "AR6": 27.9}
    assert table["HFC-41"] == {"AR5": 116.0, "AR6": 135.0}
    assert table["R-410A"]["AR5"] == pytest.approx(1923.5)
    assert "propane" not in table
    assert set(gwp.blends()) <= set(table)


def test_provenance_names_report_table_and_package() -> None:
    assert "WGI Chapter 2, Table 2.14" in gwp.provenance("AR4")
    assert "WGI Chapter 8, Table 8.A.1" in gwp.provenance("AR5")
    assert "Table 7.SM.7" in gwp.provenance("AR6")
    for gwp_set in gwp.GWP_SETS:
        assert "globalwarmingpotentials 0.13.2" in gwp.provenance(gwp_set)


def test_co2e_kg() -> None:
    # 2 kg CH4 + 0.5 kg N2O + 1 kg R-410A under AR5: 2*28 + 0.5*265 + 1923.5
    assert gwp.co2e_kg({"CH4": 2.0, "N2O": 0.5, "R410A": 1.0}, "AR5") == pytest.approx(2112.0)
    assert gwp.co2e_kg({}) == 0.0
    with pytest.raises(InputError, match=r"^The mass of CH4 is not a finite number of kg: nan$"):
        gwp.co2e_kg({"CH4": math.nan})


def test_shipped_meta() -> None:
    meta = json.loads(
        resources.files("esgledger.data.gwp").joinpath("gwp100.meta.json").read_text("utf-8")
    )
    assert meta["licence"] == "CC0 1.0 (public domain dedication)"
    assert re.fullmatch(r"[0-9a-f]{64}", meta["official_sha256"])
    assert meta["rows"] == len(_shipped("gwp100.csv"))
    assert _shipped("gwp100.csv")[0] == {
        "gas": "CO2",
        "AR4": "1",
        "AR5": "1",
        "AR6": "1",
        "kyoto": "true",
        "upstream": "",
    }
