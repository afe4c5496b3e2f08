"""The deconfliction catalogue: every event and command is catalogued and travels the wire."""

from __future__ import annotations

import inspect

from events import deconfliction
from events.catalogue import CATALOGUE
from events.codec import decode, encode, envelop
from events.envelope import Command, Event
from events.topics import DECONFLICTION_COMMANDS, DECONFLICTION_EVENTS

from .builders import JIT, NL, RO, Index, phone, registration_command, tokenise


def test_every_event_and_command_of_the_module_is_catalogued() -> None:
    """No deconfliction payload model is left out of ENTRIES."""
    models = {
        obj
        for _, obj in inspect.getmembers(deconfliction, inspect.isclass)
        if obj.__module__ == deconfliction.__name__ and issubclass(obj, Event | Command)
    }
    assert models == {e.model for e in (*deconfliction.ENTRIES, *deconfliction.INTERNAL_ENTRIES)}


def test_commands_and_events_go_to_their_topics_with_interlock_types() -> None:
    """Commands travel on the command topic, events on the event topic, typed interlock.*."""
    for entry in deconfliction.ENTRIES:
        assert entry.type.startswith("interlock.")
        expected = DECONFLICTION_COMMANDS if entry.kind == "command" else DECONFLICTION_EVENTS
        assert entry.topic == expected
        assert CATALOGUE.entry(entry.type) is not None


def test_a_hit_travels_the_wire_unchanged() -> None:
    """A hit wrapped in its envelope, encoded and decoded, is the same hit with both teams as
    its audience."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    [item] = index.feed(tokenise(registration_command(RO, "ro-1", [phone()])))
    assert item.subject is not None
    assert item.originator is not None
    envelope = envelop(
        item.event,
        subject=item.subject,
        jit=JIT,
        originator=item.originator,
        source="interlock/deconfliction",
        correlation_id="c-1",
        releasable_to=item.releasable_to or frozenset(),
    )
    back = decode(encode(envelope))
    assert back.data == item.event
    assert back.audience == frozenset({NL, RO})
