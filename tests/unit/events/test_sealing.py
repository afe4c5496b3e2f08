"""Crypto-shredding in the codec: personal data sealed per subject, unreadable once its key goes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from events import sealing
from events.catalogue import CATALOGUE
from events.codec import ErasedEvent, InvalidEvent, decode, encode, envelop
from events.identifiers import Person
from events.leads import LeadSubmitted, LeadTriaged
from events.outcomes import CommandAccepted


class MemoryRing:
    """A key ring held in a dict: what the Kafka-backed ring does, without the topic."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.destroyed: set[str] = set()

    def sealing_key(self, kid: str) -> bytes:
        if kid in self.destroyed:
            raise sealing.Erased(kid)
        return self.keys.setdefault(kid, os.urandom(32))

    def opening_key(self, kid: str) -> bytes | None:
        return self.keys.get(kid)

    def destroy(self, kid: str) -> None:
        self.keys.pop(kid, None)
        self.destroyed.add(kid)


@pytest.fixture
def ring() -> Iterator[MemoryRing]:
    ring = MemoryRing()
    sealing.install(ring)
    yield ring
    sealing.install(None)


def submitted(lead_id: str = "lead-1") -> LeadSubmitted:
    return LeadSubmitted(
        lead_id=lead_id,
        team="NL-KLPD",
        submitted_by="anna",
        idempotency_key="k",
        source="osint",
        received_at=datetime(2026, 11, 28, tzinfo=UTC),
        summary="Advert for Ioana Popescu, +40 721 000 111",
        reliability="C",
        credibility="3",
        persons=(Person(name="Ioana Popescu", role="victim"),),
    )


def on_topic(payload: object, lead_id: str = "lead-1") -> bytes:
    env = envelop(
        payload,  # type: ignore[arg-type]
        subject=lead_id,
        jit="jit-1",
        originator="NL-KLPD",
        source="/leads",
        correlation_id="c-1",
    )
    return encode(env)


def test_personal_data_is_sealed_and_the_envelope_stays_clear(ring: MemoryRing) -> None:
    """A lead's names and summary are not in the record; its ids and audience are."""
    raw = on_topic(submitted())
    assert b"Popescu" not in raw and b"721 000 111" not in raw
    wire = json.loads(raw)
    assert wire["datacontenttype"] == sealing.SEALED_CONTENT_TYPE
    assert wire["subject"] == "lead-1" and wire["jit"] == "jit-1"
    assert sealing.sealed_kid(wire) == "jit-1:lead-1"
    assert decode(raw).data == submitted()


def test_one_key_per_subject(ring: MemoryRing) -> None:
    """Two leads are sealed with two keys; every event of one lead with the same key."""
    on_topic(submitted("lead-1"))
    on_topic(LeadTriaged(lead_id="lead-1", by="anna", assignee="bo", priority="high"))
    on_topic(submitted("lead-2"), "lead-2")
    assert set(ring.keys) == {"jit-1:lead-1", "jit-1:lead-2"}


def test_destroying_the_key_makes_the_record_erased_not_invalid(ring: MemoryRing) -> None:
    """After erasure the record decodes to ErasedEvent (skipped), and other leads still read."""
    gone, kept = on_topic(submitted("lead-1")), on_topic(submitted("lead-2"), "lead-2")
    ring.destroy("jit-1:lead-1")
    with pytest.raises(ErasedEvent) as caught:
        decode(gone)
    assert caught.value.kid == "jit-1:lead-1"
    assert decode(kept).data.lead_id == "lead-2"


def test_nothing_new_is_sealed_for_an_erased_subject(ring: MemoryRing) -> None:
    """Writing for an erased subject fails rather than minting it a fresh key."""
    ring.destroy("jit-1:lead-1")
    with pytest.raises(sealing.Erased):
        on_topic(submitted("lead-1"))


def test_types_without_personal_data_stay_in_the_clear(ring: MemoryRing) -> None:
    """Outcomes are not sealed: a caller reads them without a key."""
    raw = on_topic(CommandAccepted(command_type="interlock.lead.submit", command_id="x"))
    assert json.loads(raw)["datacontenttype"] == "application/json"
    assert not ring.keys


def test_feed_form_is_plaintext(ring: MemoryRing) -> None:
    """``seal=False`` writes the readable form a team's feed carries."""
    env = decode(on_topic(submitted()))
    assert b"Popescu" in encode(env, seal=False)


def test_a_ciphertext_moved_onto_another_envelope_is_refused(ring: MemoryRing) -> None:
    """The JWE is bound to its envelope id: a swap is an invalid record naming data."""
    one = json.loads(on_topic(submitted("lead-1")))
    other = json.loads(on_topic(submitted("lead-1")))
    other["data"] = one["data"]
    with pytest.raises(InvalidEvent) as caught:
        decode(json.dumps(other).encode())
    assert caught.value.fields == ("data",) and "another envelope" in caught.value.reason


def test_a_sealed_record_without_a_ring_is_invalid_with_the_reason(ring: MemoryRing) -> None:
    """A process without keys says why it cannot read, instead of guessing an erasure."""
    raw = on_topic(submitted())
    sealing.install(None)
    with pytest.raises(InvalidEvent, match="no key ring") as caught:
        decode(raw)
    assert not isinstance(caught.value, ErasedEvent)


@pytest.mark.parametrize("data", ["not-a-jwe", "a.b.c.d.e", 42])
def test_malformed_sealed_data_is_refused_naming_data(ring: MemoryRing, data: object) -> None:
    """Garbage claiming to be sealed is a poison record with a reason, not a crash."""
    wire = json.loads(on_topic(submitted()))
    wire["data"] = data
    with pytest.raises(InvalidEvent) as caught:
        decode(json.dumps(wire).encode())
    assert caught.value.fields == ("data",)
    assert not isinstance(caught.value, ErasedEvent)


def test_every_type_that_names_a_subject_seals_by_a_real_field() -> None:
    """A catalogue entry's ``sealed_by`` is a field of its model (a typo would seal nothing)."""
    sealed = [e for e in CATALOGUE if e.sealed_by]
    assert {e.type for e in sealed} >= {"interlock.lead.submitted", "interlock.task.requested"}
    for entry in sealed:
        assert entry.sealed_by in entry.model.model_fields, entry.type
        assert entry.kind == "event", entry.type
