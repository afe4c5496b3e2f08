"""The victims read model gives the disclosure policy the victims of a JIT, with the identifiers
that belong to them, and forgets those of an erased lead."""

from __future__ import annotations

from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import EntityObserved
from services.kit.disclosure import Viewer
from services.kit.settings import Settings
from services.kit.victims import Victims

NL, RO = "NL-KLPD", "RO-DIICOT"


def test_a_victims_name_and_phone_are_redacted_for_other_teams_until_her_lead_is_erased() -> None:
    """RO reads the pseudonym where NL's victim's name or phone is written (phone in its national
    form); NL, who recorded her, reads the text as written; erasing the lead forgets her."""
    victims = Victims(Settings())
    victims.observe("jit-1", NL, EntityObserved(
        lead_id="l1", entity_id="p1", person=Person(name="Daria Vasilescu"),
        role=PersonRole.VICTIM,
    ))  # fmt: skip
    victims.observe("jit-1", NL, EntityObserved(
        lead_id="l1", entity_id="i1", person_entity_id="p1",
        identifier=Identifier(kind=IdentifierKind.PHONE, value="+40 721 555 987"),
    ))  # fmt: skip
    victims.observe("jit-1", NL, EntityObserved(
        lead_id="l1", entity_id="p2", person=Person(name="Ion Suspect"), role=PersonRole.SUSPECT,
    ))  # fmt: skip
    text = "Daria Vasilescu called Ion Suspect from 0721 555 987"
    theirs = victims.book("jit-1", (NL, RO)).redactor(Viewer(team=RO)).redact(text)
    assert theirs is not None
    assert "Daria" not in theirs and "555" not in theirs and "Ion Suspect" in theirs
    assert victims.book("jit-1", (NL, RO)).redactor(Viewer(team=NL)).redact(text) == text
    victims.erase("jit-1", "l1")
    assert not victims.book("jit-1", (NL, RO)).victims
