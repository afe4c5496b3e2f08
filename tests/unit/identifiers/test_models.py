"""The entity models: canonical values on construction, keys, countries and field-level errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
import pycountry
import pytest
from pydantic import BaseModel, ValidationError

from events.identifiers import (
    COUNTRIES,
    Identifier,
    IdentifierKind,
    Location,
    Organisation,
    Person,
    PersonRole,
    country_code,
    name_parts,
    person_key,
)

K = IdentifierKind


class Mentions(BaseModel):
    """Stands in for a lead: entities nested in tuples, as the catalogue carries them."""

    persons: tuple[Person, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    organisations: tuple[Organisation, ...] = ()


def errors(**fields: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        Mentions.model_validate(fields)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in refused.value.errors()]


# -------------------------------------------------------------------------------- identifier


def test_identifier_value_is_canonical_after_validation() -> None:
    """Constructing an Identifier replaces the written value by its canonical form."""
    identifier = Identifier(kind=K.IBAN, value="ro49 aaaa 1b31 0075 9384 0000")
    assert identifier.value == "RO49AAAA1B31007593840000"


def test_two_spellings_are_one_identifier() -> None:
    """Two spellings of a phone number give equal identifiers and equal keys."""
    one = Identifier(kind=K.PHONE, value="0721 234 567", country="RO")
    two = Identifier(kind=K.PHONE, value="+40 (721) 234-567", country="RO")
    assert one == two
    assert one.key == two.key == "phone::+40721234567"


def test_key_ignores_the_country_where_it_only_helps_reading() -> None:
    """A phone number reported by two countries' teams has one key."""
    ro = Identifier(kind=K.PHONE, value="0721 234 567", country="RO")
    nl = Identifier(kind=K.PHONE, value="+40721234567", country="NL")
    assert ro.key == nl.key


def test_key_scopes_documents_and_plates_by_country() -> None:
    """The same document number issued by two countries is two documents."""
    ro = Identifier(kind=K.DOCUMENT, value="AB123456", country="RO")
    md = Identifier(kind=K.DOCUMENT, value="AB123456", country="MD")
    assert ro.key == "document:RO:AB123456"
    assert ro.key != md.key
    assert Identifier(kind=K.VEHICLE_PLATE, value="B 123 ABC", country="RO").key == (
        "vehicle_plate:RO:B123ABC"
    )


def test_identifier_survives_a_json_round_trip() -> None:
    """An identifier read back from the wire equals the one written (normalising is idempotent)."""
    for identifier in (
        Identifier(kind=K.URL, value="HTTP://Example.com/ad/1/?utm_source=x#y"),
        Identifier(kind=K.DOCUMENT, value="ab-123-456", country="ro", person=0),
        Identifier(kind=K.ADDRESS, value="Str. Lipscani 5, București"),
    ):
        assert Identifier.model_validate_json(identifier.model_dump_json()) == identifier


def test_identifier_is_immutable() -> None:
    """An identifier cannot be changed after validation (it would lose its canonical form)."""
    identifier = Identifier(kind=K.EMAIL, value="ion@example.ro")
    with pytest.raises(ValidationError):
        identifier.value = "Ion@Example.ro"  # type: ignore[misc]


def test_invalid_value_is_reported_at_its_field_with_the_reason() -> None:
    """A bad value is reported as identifiers.<i>.value with the normaliser's reason, unprefixed."""
    assert errors(
        identifiers=[
            {"kind": "phone", "value": "+40721234567"},
            {"kind": "email", "value": "ion@example.ro"},
            {"kind": "iban", "value": "RO49 AAAA 1B31 0075 9384 0001"},
        ]
    ) == [("identifiers.2.value", "not a valid IBAN: invalid checksum digits")]


def test_missing_country_is_reported_at_the_country_field() -> None:
    """A document without its country is reported on country, and only there."""
    assert errors(identifiers=[{"kind": "document", "value": "AB123456"}]) == [
        ("identifiers.0.country", "document needs its issuing country")
    ]


def test_unknown_country_is_reported_once() -> None:
    """An unknown country code is reported on country, without a second error on value."""
    assert errors(identifiers=[{"kind": "phone", "value": "0721234567", "country": "ZZ"}]) == [
        (
            "identifiers.0.country",
            "unknown country code 'ZZ' (expected ISO 3166-1 alpha-2, e.g. RO)",
        )
    ]


def test_unknown_kind_is_reported_once() -> None:
    """An unknown kind is reported on kind, without a second error on value."""
    found = errors(identifiers=[{"kind": "fax", "value": "12345"}])
    assert [loc for loc, _ in found] == ["identifiers.0.kind"]


def test_unknown_fields_are_refused() -> None:
    """An identifier with a field the catalogue does not know is refused."""
    found = errors(identifiers=[{"kind": "phone", "value": "+40721234567", "type": "mobile"}])
    assert [loc for loc, _ in found] == ["identifiers.0.type"]


# --------------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("written", "code"), [("ro", "RO"), (" nl ", "NL"), ("UK", "GB"), ("EL", "GR"), ("XK", "XK")]
)
def test_country_codes_are_forgiven_case_and_eu_aliases(written: str, code: str) -> None:
    """Lower case, spaces and the EU codes UK/EL are read as the ISO code."""
    assert country_code(written) == code
    assert Identifier(kind=K.PHONE, value="+40721234567", country=written).country == code


@pytest.mark.parametrize("written", ["ZZ", "ROU", "R", "", "EU"])
def test_unknown_country_codes_are_refused(written: str) -> None:
    """Anything but an ISO 3166-1 alpha-2 code (or XK) is refused, naming the code."""
    with pytest.raises(ValueError, match="unknown country code"):
        country_code(written)


def test_country_list_is_iso_3166_plus_kosovo() -> None:
    """The country list is ISO 3166-1 alpha-2 and XK, and covers every phone region but AC/TA."""
    assert {c.alpha_2 for c in pycountry.countries} | {"XK"} == COUNTRIES
    geographic = set(phonenumbers.SUPPORTED_REGIONS)
    assert geographic - COUNTRIES == {"AC", "TA"}


def test_nationality_and_organisation_country_are_validated() -> None:
    """Every country field, not only the identifier's, refuses unknown codes."""
    assert Person(name="Ion", nationality="ro").nationality == "RO"
    assert Organisation(name="SC Exemplu SRL", country="uk").country == "GB"
    assert [loc for loc, _ in errors(persons=[{"name": "Ion", "nationality": "XX"}])] == [
        "persons.0.nationality"
    ]
    assert [loc for loc, _ in errors(organisations=[{"name": "X", "country": "QQ"}])] == [
        "organisations.0.country"
    ]


# ----------------------------------------------------------------------------------- persons


@pytest.mark.parametrize(
    ("name", "latin"),
    [
        ("Иван Попеску", "Ivan Popesku"),
        ("محمد", "Mhmd"),
        ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoylos"),
        ("Ștefan Țărână", "Stefan Tarana"),
        ("王小明", "Wang Xiao Ming"),
        ("ION   POPESCU", "Ion Popescu"),
    ],
)
def test_latin_name_is_filled_by_transliteration(name: str, latin: str) -> None:
    """A name in any script gets a title-cased ASCII latin_name when none is given."""
    assert Person(name=name).latin_name == latin


def test_given_latin_name_is_kept() -> None:
    """A latin_name the team wrote (a passport spelling) is not replaced by a transliteration."""
    person = Person(name="Иван Попеску", latin_name="Ivan  Popescu")
    assert person.latin_name == "Ivan Popescu"


def test_name_is_kept_as_written_but_folded() -> None:
    """The name keeps its script and diacritics; only whitespace and invisible marks go."""
    assert Person(name="  Ștefan\u200b \u00a0Țărână ").name == "Ștefan Țărână"


def test_name_without_letters_is_refused() -> None:
    """A name of digits or punctuation only is refused."""
    assert errors(persons=[{"name": "123 --"}]) == [("persons.0.name", "name has no letters")]


def test_name_parts_ignore_order_case_and_diacritics() -> None:
    """ "Popescu Ion" and "ION POPESCU" and "Ión Popescu" give the same parts."""
    assert name_parts("Popescu Ion") == name_parts("ION POPESCU") == name_parts("Ión Popescu")
    assert name_parts("Popescu Ion") == ("ion", "popescu")


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Попеску Иван", ("ivan", "popesku")),
        ("محمد", ("mhmd",)),
        ("Παπαδόπουλος Γιώργος", ("giorgos", "papadopoylos")),
        ("Țărână, Ștefan", ("stefan", "tarana")),
        ("王小明", ("ming", "wang", "xiao")),
        ("Jean-Pierre O'Brien", ("jean", "obrien", "pierre")),
    ],
)
def test_name_parts_in_other_scripts(name: str, parts: tuple[str, ...]) -> None:
    """Names in Cyrillic, Arabic, Greek, Romanian and Chinese give ASCII, sorted parts."""
    assert name_parts(name) == parts


def test_person_key_is_name_parts_and_date_of_birth() -> None:
    """Two spellings of one person born on one day have one key; another birthday, another key."""
    one = Person(name="Ion Popescu", date_of_birth=date(1985, 3, 2), role=PersonRole.SUSPECT)
    two = Person(name="POPESCU, Ion", date_of_birth=date(1985, 3, 2), role=PersonRole.VICTIM)
    other = Person(name="Ion Popescu", date_of_birth=date(1985, 3, 3))
    assert person_key(one) == person_key(two) == "person:1985-03-02:ion popescu"
    assert person_key(other) != person_key(one)
    assert person_key(Person(name="Ion Popescu")) == "person::ion popescu"


def test_location_coordinates_are_bounded() -> None:
    """A latitude outside ±90 is refused."""
    with pytest.raises(ValidationError):
        Location(name="Constanța", latitude=91, longitude=28.6)


def test_canonical_form_longer_than_the_limit_is_refused() -> None:
    """A value that grows past 512 characters when percent-encoded is refused, not stored."""
    found = errors(identifiers=[{"kind": "url", "value": "https://example.com/" + "é" * 200}])
    assert found == [("identifiers.0.value", "canonical form is longer than 512 characters")]


@pytest.mark.parametrize("name", ["北" * 256, "a" + "😀" * 255])
def test_long_transliterations_survive_a_round_trip(name: str) -> None:
    """A latin_name made from a long name in another script is read back unchanged."""
    person = Person(name=name)
    assert person.latin_name
    assert Person.model_validate_json(person.model_dump_json()) == person


def test_person_key_follows_the_teams_latin_spelling() -> None:
    """A Latin spelling the team gave (the passport's) is what the person key is made of."""
    written = Person(name="محمد علي", latin_name="ALI, Mohammed", date_of_birth=date(1990, 1, 31))
    latin_only = Person(name="Mohammed Ali", date_of_birth=date(1990, 1, 31))
    assert person_key(written) == person_key(latin_only) == "person:1990-01-31:ali mohammed"
