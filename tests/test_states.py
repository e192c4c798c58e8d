"""Resolving state names as statements and press summaries write them."""

import pytest

from db.states import registry


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("FRA", "FRA"),
        ("fra", "FRA"),
        ("Russian Federation", "RUS"),
        ("Russia", "RUS"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Côte d'Ivoire", "CIV"),
        ("Cote d\u2019Ivoire", "CIV"),
        ("Holy See", "VAT"),
        ("State of Palestine", "PSE"),
        ("Republic of Korea", "KOR"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Indonesia's", "IDN"),
        ("the Netherlands", "NLD"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("the United Kingdom", "GBR"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("EUN", "EUN"),
        ("European Union", "EUN"),
        ("the African Union", "AU"),
        ("AU", "AU"),
    ],
)
def test_resolves(name, iso3):
    assert registry().resolve(name) == iso3


@pytest.mark.parametrize("name", ["Korea", "Atlantis", "", "  ", None, "the representative"])
def test_unknown_or_ambiguous_names_are_not_guessed(name):
    assert registry().resolve(name) is None
