"""The messaging read model answers every read through the disclosure policy: which messages a
team sees (releasability, TLP), their markings, and victims' names and numbers in message text
replaced by the pseudonym for teams the victim is hidden from. A channel that bypassed the policy
would fail these tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.handling import Tlp
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import EntityObserved
from events.messaging import MessageDeleted, MessageEdited, MessagePosted
from services.kit.disclosure import Viewer
from services.kit.settings import Settings
from services.kit.victims import Victims
from services.messaging import ledger as ledger_module
from services.messaging.ledger import Messages

AT = datetime(2026, 1, 1, tzinfo=UTC)
NL, RO = "NL-KLPD", "RO-DIICOT"
ANNA = Viewer(team=NL, member="anna")
IOANA = Viewer(team=RO, member="ioana")
THREAD = "jit:jit-1"


def posted(
    message_id: str, seq: int, text: str, tlp: Tlp = Tlp.AMBER, **kw: object
) -> MessagePosted:
    return MessagePosted(
        thread_id=THREAD, subject_id="jit-1", message_id=message_id, seq=seq, by="anna", team=NL,
        text=text, tlp=tlp, audience=(NL, RO), thread_audience=(NL, RO) if seq == 1 else (),
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def messages() -> Messages:
    """A read model fed by hand (never started: no Kafka), with one victim recorded by NL."""
    victims = Victims(Settings())
    m = Messages(Settings(), victims)
    victim = Person(name="Daria Vasilescu")
    victims.observe(
        "jit-1",
        NL,
        EntityObserved(lead_id="l1", entity_id="p1", person=victim, role=PersonRole.VICTIM),
    )
    phone = Identifier(kind=IdentifierKind.PHONE, value="+40 721 555 987")
    victims.observe(
        "jit-1",
        NL,
        EntityObserved(lead_id="l1", entity_id="i1", identifier=phone, person_entity_id="p1"),
    )
    return m


def fold(m: Messages, event_id: str, event: MessagePosted | MessageEdited | MessageDeleted) -> None:
    with m._lock:
        m.fold(event_id, "jit-1", NL, AT, event)


def test_victims_in_message_text_are_redacted_for_other_teams_only(messages: Messages) -> None:
    """RO reads the victim's pseudonym where NL wrote her name and phone, in the text and in the
    edit history; NL, who recorded her, reads its own words."""
    fold(messages, "e1", posted("m1", 1, "Daria Vasilescu called from 0721 555 987"))
    fold(messages, "e2", MessageEdited(
        thread_id=THREAD, subject_id="jit-1", message_id="m1", by="anna", team=NL,
        text="Daria called again", version=2,
    ))  # fmt: skip
    thread = messages.thread(THREAD)
    assert thread is not None
    (theirs,) = messages.view(thread, IOANA)
    assert "Daria" not in theirs["text"] and "[victim" in theirs["text"]
    assert (
        "555" not in theirs["history"][0]["text"]
        and "Vasilescu" not in theirs["history"][0]["text"]
    )
    (ours,) = messages.view(thread, ANNA)
    assert ours["text"] == "Daria called again"
    assert ours["history"][0]["text"] == "Daria Vasilescu called from 0721 555 987"


def test_tlp_red_and_markings_follow_the_policy(messages: Messages) -> None:
    """A TLP:RED message is not shown to another team's members nor counted unread for them; each
    message carries the policy's banner; a deleted one shows its tombstone, not its text."""
    fold(messages, "e1", posted("m1", 1, "amber words"))
    fold(messages, "e2", posted("m2", 2, "red words", Tlp.RED))
    fold(messages, "e3", MessageDeleted(
        thread_id=THREAD, subject_id="jit-1", message_id="m1", by="anna", team=NL, reason="typo",
    ))  # fmt: skip
    thread = messages.thread(THREAD)
    assert thread is not None
    seen = messages.view(thread, IOANA)
    assert [m["message_id"] for m in seen] == ["m1"]
    assert seen[0]["text"] is None and seen[0]["deleted"]["reason"] == "typo"
    assert seen[0]["marking"]["banner"].startswith("TLP:AMBER")
    assert messages.unread(thread, IOANA) == 0
    assert [m["marking"]["banner"][:7] for m in messages.view(thread, ANNA)] == [
        "TLP:AMB",
        "TLP:RED",
    ]


def test_every_message_shown_is_asked_of_the_policy(
    messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read model has no rule of its own: with the policy refusing everything, no thread,
    message, unread count or mention is shown."""
    fold(messages, "e1", posted("m1", 1, "hello @ioana", mentions=("ioana",)))
    monkeypatch.setattr(ledger_module, "may_see", lambda viewer, record: False)
    thread = messages.thread(THREAD)
    assert thread is not None
    assert not thread.visible_to(IOANA)
    assert messages.view(thread, ANNA) == [] and messages.unread(thread, IOANA) == 0
    assert messages.mentions("jit-1", IOANA) == []


def test_an_erased_subject_takes_its_threads_and_victims_with_it(messages: Messages) -> None:
    """Erasing the lead forgets its thread (and a replayed event does not bring it back); only the
    erased id is kept."""
    lead_thread = "lead:l1"
    event = posted("m1", 1, "about the farm").model_copy(
        update={"thread_id": lead_thread, "subject_id": "l1"}
    )
    fold(messages, "e1", event)
    assert messages.thread(lead_thread) is not None
    messages.erase("jit-1", "l1")
    fold(messages, "e2", event.model_copy(update={"message_id": "m2", "seq": 2}))
    assert messages.thread(lead_thread) is None and messages.erased("jit-1", "l1")
