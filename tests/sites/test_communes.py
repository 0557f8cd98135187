"""The communes of France and the territory lookups."""

import pytest

from sites.communes import Territory, load_all_communes, load_communes, normalise
from sites.geo import haversine_km


def test_every_commune_of_france_is_loaded():
    communes = load_all_communes()
    assert len(communes) == 34_875
    assert len({c.insee for c in communes}) == 34_875


def test_mayenne_has_its_240_communes_and_its_legal_population():
    mayenne = Territory(["53"])
    assert len(mayenne) == 240
    assert mayenne.population == 305_468


def test_a_commune_is_found_by_insee_code_postal_code_or_name_whatever_the_accents():
    t = Territory(["53"])
    assert t.by_insee("53130").name == "Laval"
    assert [c.name for c in t.by_postal_code("53000")] == ["Laval"]
    assert t.resolve("chateau-gontier-sur-mayenne").insee == "53062"
    assert t.resolve("ÉVRON").insee == "53097"
    assert t.resolve("Laval (53000)").insee == "53130"
    assert t.resolve("Paris") is None  # not on the territory


def test_a_postal_code_shared_by_several_communes_resolves_to_none():
    t = Territory(["53"])
    assert len(t.by_postal_code("53200")) > 1
    assert t.resolve("53200") is None


def test_a_code_that_is_both_an_insee_code_and_another_communes_postal_code_is_ambiguous():
    t = Territory(["53"])
    # 53200 is Saint-Baudelle's INSEE code and Château-Gontier-sur-Mayenne's postal code.
    names = {c.name for c in t.matches("53200")}
    assert {"Saint-Baudelle", "Château-Gontier-sur-Mayenne"} <= names
    assert t.resolve("Château-Gontier-sur-Mayenne (53200)").insee == "53062"
    assert t.resolve("53096").name == "Ernée"  # an INSEE code that is no postal code is clear


def test_search_ranks_exact_then_prefix_matches():
    t = Territory(["53"])
    found = t.search("Mayenne")
    assert found[0].name == "Mayenne"
    assert any(c.name == "Château-Gontier-sur-Mayenne" for c in found)
    assert t.search("") == []


def test_a_territory_can_span_several_departements():
    t = Territory(["53", "72"])
    assert t.by_insee("72181").name == "Le Mans"
    assert t.by_insee("53130").name == "Laval"


def test_an_unknown_departement_is_refused_with_its_code():
    with pytest.raises(ValueError, match="99"):
        Territory(["99"])


def test_corsican_departements_are_codes_too():
    assert {c.departement for c in load_communes(["2A", "2B"])} == {"2A", "2B"}


def test_normalise_ignores_accents_case_punctuation_and_saint_abbreviations():
    assert normalise("Saint-Berthevin") == normalise("st berthevin") == "saint berthevin"
    assert normalise("L'Huisserie") == "l huisserie"


def test_great_circle_distance_laval_to_mayenne_is_about_30_km():
    t = Territory(["53"])
    laval, mayenne = t.by_insee("53130"), t.by_insee("53147")
    d = haversine_km(laval.lat, laval.lon, mayenne.lat, mayenne.lon)
    assert 29 < d < 30  # between commune centroids
    assert haversine_km(48.0, -0.7, 48.0, -0.7) == 0
    # Paris–Marseille is about 660 km as the crow flies.
    paris, marseille = Territory(["75"]).by_insee("75056"), Territory(["13"]).by_insee("13055")
    assert 655 < paris.distance_km(marseille) < 665
