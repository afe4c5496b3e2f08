"""Fuzzy person matching: keyed name encodings, Dice, possible and confirmed person hits."""

from __future__ import annotations

import json

import pytest

from events.deconfliction import DeconflictionHit, HitStatus, RoleConflictDetected
from events.identifiers import PersonRole
from services.deconfliction.fuzzy import (
    DEFAULT_THRESHOLD,
    clk_from_text,
    clk_to_text,
    dice,
    encode,
    labelled_pairs,
    measure,
    score,
)
from services.deconfliction.tokens import jit_key, purpose_key

from .builders import JIT, MASTER, NL, OTHER_JIT, RO, Index, person, registration_command, tokenise

KEY = purpose_key(jit_key(MASTER, JIT, 1), "clk")


def _register(index: Index, team: str, name: str, **kw: object) -> list[DeconflictionHit]:
    born = str(kw.pop("born", "1990-05-17"))
    role = kw.pop("role", PersonRole.UNKNOWN)
    assert isinstance(role, PersonRole)
    told = index.feed(
        tokenise(registration_command(team, f"{team}-src", persons=[person(name, born, role)]))
    )
    return [a.event for a in told if isinstance(a.event, DeconflictionHit)]


def test_precision_and_recall_on_the_generated_set() -> None:
    """On a seeded labelled set of transliteration, script, diacritic, order and typo variants
    against different people born the same day, matching at the default threshold reaches
    precision ≥ 0.95 and recall ≥ 0.8."""
    quality = measure(labelled_pairs(seed=20250301, count=2000), key=KEY)
    print(f"\nfuzzy person matching, 2000 pairs: {quality}")
    assert quality.threshold == DEFAULT_THRESHOLD
    assert quality.precision >= 0.95
    assert quality.recall >= 0.8


def test_the_test_set_holds_every_kind_of_variant_and_non_match() -> None:
    """The generated set exercises each variant and each kind of non-match, half and half."""
    pairs = labelled_pairs(seed=1, count=600)
    assert sum(p.same for p in pairs) == 300
    assert {p.variant for p in pairs if p.same} == {
        "spelling",
        "script",
        "swapped",
        "typo",
        "diacritics",
    }
    assert {p.variant for p in pairs if not p.same} == {"same_surname", "same_given", "unrelated"}
    assert all(p.a.date_of_birth == p.b.date_of_birth for p in pairs)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammed Haddad", "Muhammad Haddad"),
        ("Mohamed Haddad", "Haddad Mohammed"),
        ("Дмитрий Кузнецов", "Dmitriy Kuznetsov"),
        ("Ion Popescu", "Popescu Ion"),
        ("Ștefan Țăranu", "Stefan Taranu"),
        ("Natalya Sokolova", "Natalia Sokolova"),
    ],
)
def test_variants_of_one_name_score_at_or_above_the_threshold(a: str, b: str) -> None:
    """Transliteration, script, diacritics and order variants of one name are possible matches."""
    assert score(person(a), person(b), key=KEY) >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ivan Petrov", "Oleg Petrov"),
        ("Mohammed Haddad", "Mohammed Mansour"),
        ("Ion Popescu", "Maria Ionescu"),
    ],
)
def test_different_people_score_below_the_threshold(a: str, b: str) -> None:
    """Relatives (same surname) and namesakes (same given name) are not matches."""
    assert score(person(a), person(b), key=KEY) < DEFAULT_THRESHOLD


def test_dice_of_equal_and_disjoint_sets() -> None:
    """Dice is 1 for equal encodings and 0 for disjoint ones."""
    assert dice(0b1011, 0b1011) == 1.0
    assert dice(0b1100, 0b0011) == 0.0
    assert dice(0, 0) == 0.0


def test_encoding_depends_on_the_key() -> None:
    """Another JIT's key gives an unrelated encoding of the same name."""
    other = purpose_key(jit_key(MASTER, OTHER_JIT, 1), "clk")
    parts = ("ion", "popescu")
    assert dice(encode(parts, key=KEY), encode(parts, key=other)) < 0.6


def test_encoding_round_trips_through_text() -> None:
    """The text form of an encoding gives back the same bits."""
    bits = encode(("ion", "popescu"), key=KEY)
    assert clk_from_text(clk_to_text(bits)) == bits


def test_variant_spelling_is_a_possible_hit_with_its_score() -> None:
    """Another team registering a variant spelling, same birth date, gets a possible hit."""
    index = Index()
    _register(index, NL, "Mohammed Haddad")
    [hit] = _register(index, RO, "Haddad Muhammad")
    assert hit.status is HitStatus.POSSIBLE
    assert hit.score is not None
    assert DEFAULT_THRESHOLD <= hit.score < 1.0


def test_same_person_key_is_a_confirmed_hit() -> None:
    """The same name parts and birth date (any order, any script) is a confirmed hit."""
    index = Index()
    _register(index, NL, "Ion Popescu")
    [hit] = _register(index, RO, "POPESCU Ion")
    assert hit.status is HitStatus.CONFIRMED
    assert hit.score is None


def test_another_birth_date_is_no_hit() -> None:
    """A person born on another day is in another block and never compared."""
    index = Index()
    _register(index, NL, "Ion Popescu")
    assert _register(index, RO, "Ion Popescu", born="1990-05-18") == []


def test_same_team_is_no_person_hit() -> None:
    """Two records of one team for one person are no hit."""
    index = Index()
    _register(index, NL, "Ion Popescu")
    assert _register(index, NL, "Popescu Ion") == []


def test_confirmed_victim_and_suspect_is_a_role_conflict() -> None:
    """A confirmed person hit between a victim and a suspect raises a role conflict."""
    index = Index()
    _register(index, NL, "Ana Ionescu", role=PersonRole.VICTIM)
    told = index.feed(
        tokenise(
            registration_command(
                RO, "ro-src", persons=[person("Ionescu Ana", role=PersonRole.SUSPECT)]
            )
        )
    )
    conflicts = [a.event for a in told if isinstance(a.event, RoleConflictDetected)]
    assert len(conflicts) == 1
    assert conflicts[0].victim.team == NL


def test_possible_victim_and_suspect_is_no_role_conflict() -> None:
    """A possible match is not proof enough of one person for a role conflict."""
    index = Index()
    _register(index, NL, "Mohammed Haddad", role=PersonRole.VICTIM)
    told = index.feed(
        tokenise(
            registration_command(
                RO, "ro-src", persons=[person("Muhammad Haddad", role=PersonRole.SUSPECT)]
            )
        )
    )
    assert [type(a.event) for a in told] == [DeconflictionHit]


def test_person_hit_carries_no_name_or_birth_date() -> None:
    """A person hit tells neither team the other's name or the date of birth."""
    index = Index()
    _register(index, NL, "Mohammed Haddad")
    [hit] = _register(index, RO, "Muhammad Haddad")
    dumped = json.dumps(hit.model_dump(mode="json")).lower()
    for leak in ("haddad", "mohammed", "muhammad", "1990-05-17", "nl-src", "ro-src"):
        assert leak not in dumped
