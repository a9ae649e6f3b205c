"""The activity taxonomy: shipped types, families and user types."""

from __future__ import annotations

import pytest

from esgledger.errors import UnknownActivityError
from esgledger.taxonomy import Taxonomy, validate_activity_type
from esgledger.units import fits_dimension


def test_every_shipped_type_is_valid_and_its_dimension_is_one_pint_knows() -> None:
    taxonomy = Taxonomy.shipped()
    for activity_type in taxonomy:
        row = {
            "activity": activity_type.activity,
            "scope": activity_type.scope,
            "scope3_category": activity_type.scope3_category,
            "dimension": activity_type.dimension,
        }
        assert validate_activity_type(row) == [], activity_type.activity
        assert activity_type.name_zh, activity_type.activity


def test_the_taxonomy_covers_what_the_issue_asks_for() -> None:
    taxonomy = Taxonomy.shipped()
    for key in (
        "stationary.natural_gas",
        "mobile.diesel",
        "refrigerant.R-410A",
        "electricity",
        "heat",
        "steam",
        "cooling",
        "spend.naics.334111",
        "travel.air.long_haul.business",
        "travel.rail",
        "travel.taxi",
        "travel.hotel",
        "commuting.car",
        "freight.road",
        "freight.sea",
        "waste.mixed_commercial.landfill",
        "water.supply",
        "water.treatment",
        "supplier.emissions",
    ):
        assert key in taxonomy
    categories = {t.scope3_category for t in taxonomy if t.scope == 3}
    # Category 3 is derived from scope 1 and 2 activity; 2, 9 and 12 are set on the row
    # (capital goods bought by spend, downstream transport, end of life of sold products).
    assert categories == set(range(1, 16)) - {2, 3, 9, 12}


def test_a_family_member_inherits_its_family() -> None:
    member = Taxonomy.shipped().get("spend.naics.334111")
    assert (member.family, member.suffix, member.scope, member.scope3_category) == (
        "spend.naics.*",
        "334111",
        3,
        1,
    )
    assert member.factor_activity == "spend.naics.334111"
    assert fits_dimension("万元", member.dimension)


def test_a_type_may_file_its_factors_under_another_activity() -> None:
    assert Taxonomy.shipped().get("leased.electricity").factor_activity == "electricity"


def test_an_unknown_key_suggests_close_ones() -> None:
    with pytest.raises(UnknownActivityError) as caught:
        Taxonomy.shipped().get("electricty")
    assert str(caught.value) == (
        "unknown activity 'electricty'; did you mean electricity, leased.electricity, "
        "use_phase.electricity? (`esgledger activities` lists them)"
    )
    assert caught.value.activity == "electricty"


def test_a_family_suffix_of_the_wrong_form_is_refused() -> None:
    with pytest.raises(
        UnknownActivityError,
        match=r"activity 'spend.naics.3341': the part after 'spend.naics.' must be a 6-digit",
    ):
        Taxonomy.shipped().get("spend.naics.3341")


def test_user_types_extend_the_taxonomy_but_cannot_reuse_a_shipped_key() -> None:
    row = {
        "activity": "purchased_goods.server",
        "name": "Servers",
        "dimension": "[item]",
        "scope": 3,
        "scope3_category": 2,
    }
    taxonomy = Taxonomy.shipped().with_user_types([row])
    server = taxonomy.get("purchased_goods.server")
    assert server.user_defined
    assert server.scope3_category == 2
    with pytest.raises(ValueError, match="activity type 'electricity' is declared twice"):
        Taxonomy.shipped().with_user_types([{**row, "activity": "electricity"}])


@pytest.mark.parametrize(
    ("row", "problems"),
    [
        (
            {"activity": "Bad Key", "scope": 1, "dimension": "[mass]"},
            [
                (
                    "activity",
                    "not a valid activity key: lower-case words joined by dots, e.g. "
                    "purchased_goods.steel, or a family ending in .*",
                )
            ],
        ),
        (
            {"activity": "x.y", "scope": 4, "dimension": "[mass]"},
            [("scope", "scope must be 1, 2 or 3")],
        ),
        (
            {"activity": "x.y", "scope": 3, "dimension": "[mass]"},
            [("scope3_category", "a scope 3 activity needs its category (1-15)")],
        ),
        (
            {"activity": "x.y", "scope": 1, "scope3_category": 4, "dimension": "[mass]"},
            [("scope3_category", "the category must be 1-15 and only given for scope 3")],
        ),
    ],
)
def test_validate_activity_type(row: dict[str, object], problems: list[tuple[str, str]]) -> None:
    assert validate_activity_type(row) == problems
