"""Workspace profiles as data (esgledger/data/profiles/profiles.csv): every profile exists,
and every fallback it writes can actually price the activities it names."""

from __future__ import annotations

import pytest

from esgledger.factors import FactorLibrary
from esgledger.factors.profiles import COVERAGES, GENERIC, get, profile_for, profiles
from esgledger.taxonomy import Taxonomy

LIBRARY = FactorLibrary.shipped()
TAXONOMY = Taxonomy.shipped()
FACTORS = LIBRARY.as_arrow().to_pylist()


def test_the_required_profiles_are_shipped() -> None:
    assert {"CN", "US", "GB", "HK", GENERIC} <= set(profiles())
    assert profile_for("cn").code == "CN"
    assert profile_for("FR").code == GENERIC  # a country without a profile of its own
    assert profile_for(None).code == GENERIC
    with pytest.raises(KeyError, match="not a country code"):
        profile_for("CN-GD")


@pytest.mark.parametrize("code", sorted(profiles()))
def test_every_rule_names_known_activities_and_shipped_sets(code: str) -> None:
    shipped = {s["id"] for s in LIBRARY.sets()}
    families = {t.activity.removesuffix("*") for t in list(TAXONOMY) if t.activity.endswith("*")}
    for rule in get(code).rules:
        assert rule.coverage in COVERAGES
        assert rule.note
        assert rule.note_zh
        assert set(rule.sets) <= shipped, rule
        for pattern in rule.activities:
            if pattern.endswith(".*"):
                prefix = pattern[:-1]
                assert (
                    any(t.activity.startswith(prefix) for t in list(TAXONOMY)) or prefix in families
                ), pattern
            else:
                TAXONOMY.get(pattern)  # raises for an unknown activity


@pytest.mark.parametrize("code", sorted(profiles()))
def test_every_fallback_has_factors_for_its_exact_activities(code: str) -> None:
    """A fallback that could price nothing would be a promise the profile does not keep."""
    for fallback in get(code).fallbacks:
        # The note's first clause is the label every reason quotes.
        assert " used as " in fallback.note.split(": ", 1)[0], fallback.note
        for pattern in fallback.activities:
            factor_activity = (
                pattern[:-2] if pattern.endswith(".*") else TAXONOMY.get(pattern).factor_activity
            )
            found = [
                f
                for f in FACTORS
                if _under(f["activity"], factor_activity)
                and f["region"] in fallback.regions
                and (not fallback.sets or f["factor_set"] in fallback.sets)
            ]
            assert found, (code, pattern)


def _under(activity: str, key: str) -> bool:
    return activity == key or activity.startswith(key + ".")


def test_the_cn_profile_toml_round_trips_and_names_its_choices() -> None:
    import tomllib

    config = tomllib.loads(get("CN").toml("CN"))
    assert config["profile"] == {
        "profile": "CN",
        "country": "CN",
        "sets": ["cn-mee", "cn-defaults", "ipcc-2006", "desnz-2024", "useeio-1.3.0"],
    }
    travel, spend = config["factors"]["fallbacks"]
    assert (travel["tier"], travel["regions"], travel["sets"]) == (
        "default",
        ["GB"],
        ["desnz-2024"],
    )
    assert travel["note"].startswith("DESNZ factors used as an explicit global default for China: ")
    assert {"travel.air.*", "travel.rail", "travel.rail.high_speed", "travel.bus"} <= set(
        travel["activities"]
    )
    assert (spend["activities"], spend["tier"], spend["regions"]) == (["spend.*"], "proxy", ["US"])
