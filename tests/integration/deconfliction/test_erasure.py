"""Erasure end to end: an erased lead leaves the target index, an erased operation leaves the
operation index, on the real platform.

The erasure is published as the retention service publishes it (``SubjectErased`` on the
retention topic, keyed by subject id). The worker's own tables tell when it has been applied:
each index partition records the erased lead (``source_to_erasure``), and the JIT's operation
index records the erased operation (``jit_to_operations``), both on their changelog topics.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from events import sealing
from events.codec import ErasedEvent, InvalidEvent, decode, envelop
from events.deconfliction import (
    DeconflictionHit,
    OperationConflictDetected,
    PersonRegistered,
    TokenRegistered,
)
from events.envelope import Envelope, new_id
from events.retention import DataCategory, SubjectErased, SubjectKind
from events.topics import DECONFLICTION_EVENTS, DECONFLICTION_INDEX
from services.kit.kafka import Publisher, consumer_for
from services.kit.keys import KafkaKeyRing
from tests.support.api import Member
from tests.support.kafka import key_ring
from tests.support.platform import Platform

from .support import CONFLICT, HIT, PERSON_REGISTERED, TOKEN_REGISTERED, Jit, lead

PHONE = "+40 721 555 321"
PHONE_AS_WRITTEN_IN_RO = "0721 555 321"
SUSPECT = {"name": "Ion Popescu", "role": "suspect", "date_of_birth": "1984-03-02"}
WAIT = 90.0
"""Seconds to wait for the platform: the machine is shared and slow."""

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
CENTRE = (44.4268, 26.1025)


class _Told:
    """The session's deconfliction events, read from the beginning, opened with the deployment's
    key ring (operations and their conflicts are sealed); records it cannot open are passed
    over. ``raw`` keeps each record's bytes, to try them again after an erasure."""

    def __init__(self, platform: Platform) -> None:
        settings = platform.settings
        topic = settings.topic(DECONFLICTION_EVENTS.name)
        self._consumer = consumer_for(
            settings,
            {
                "group.id": f"erasure-it-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._seen: dict[str, Envelope] = {}
        self._ring = key_ring(settings)
        self.raw: dict[str, bytes] = {}

    def of(self, jit: str, type_: str) -> list[Envelope]:
        """The JIT's events of a type so far, each event id once, in log order."""
        while batch := self._consumer.consume(num_messages=1000, timeout=0.2):
            for msg in batch:
                if msg.error():
                    continue
                try:
                    envelope = decode(msg.value(), ring=self._ring)
                except InvalidEvent:
                    continue
                self._seen.setdefault(envelope.id, envelope)
                self.raw.setdefault(envelope.id, msg.value())
        return [e for e in self._seen.values() if e.jit == jit and e.type == type_]

    def wait(
        self,
        jit: str,
        type_: str,
        *,
        count: int = 1,
        where: Callable[[Envelope], bool] = lambda _: True,
        settle: float = 3.0,
    ) -> list[Envelope]:
        """At least ``count`` matching events, then ``settle`` seconds for any extra one."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if len([e for e in self.of(jit, type_) if where(e)]) >= count:
                time.sleep(settle)
                return [e for e in self.of(jit, type_) if where(e)]
            time.sleep(0.2)
        raise AssertionError(f"expected {count} {type_} in {jit} within {WAIT}s")

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def told(deconfliction: Platform) -> Iterator[_Told]:
    reader = _Told(deconfliction)
    try:
        yield reader
    finally:
        reader.close()


def _settled(member: Member, response: httpx.Response) -> httpx.Response:
    """The command's final answer: a 202 (the outcome was slow to come) is followed up."""
    deadline = time.monotonic() + WAIT
    while response.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.5)
        response = member.get(response.json()["status_url"])
    return response


def _submit(member: Member, jit: Jit, body: dict[str, Any]) -> str:
    response = member.post(f"/jits/{jit.id}/leads", body)
    final = _settled(member, response)
    assert final.status_code in (200, 201), final.text
    lead_id: str = response.json()["lead_id"]
    return lead_id


def _erase(platform: Platform, *, jit: str, subject: str, kind: SubjectKind, owner: str) -> None:
    """Publish the subject's erasure as the retention service does, at the owner's request."""
    erased = SubjectErased(
        subject_id=subject,
        subject_kind=kind,
        at=datetime.now(UTC),
        owner_team=owner,
        categories=(
            DataCategory.OPERATIONS if kind is SubjectKind.OPERATION else DataCategory.LEADS,
        ),
        cause="request",
        by="coordinator-1",
        reason="The owning team asked for the erasure (integration test).",
    )
    publisher = Publisher(platform.settings)
    try:
        publisher.publish(
            [
                envelop(
                    erased,
                    subject=subject,
                    jit=jit,
                    originator=owner,
                    source="/tests/deconfliction/erasure",
                    correlation_id=new_id(),
                )
            ]
        )
    finally:
        publisher.close()


def _changelog(
    platform: Platform, table: str, found: Callable[[bytes, Any], bool], *, count: int = 1
) -> None:
    """Wait until ``count`` distinct keys of the worker's table were written as ``found`` says."""
    settings = platform.settings
    topic = f"{settings.topic_prefix}interlock-deconfliction-{table}-changelog"
    consumer = consumer_for(
        settings,
        {
            "group.id": f"erasure-it-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        },
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        keys: set[bytes] = set()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=0.5):
                value = msg.value()
                if msg.error() or value is None:
                    continue
                if found(msg.key() or b"", json.loads(value)):
                    keys.add(msg.key() or b"")
            if len(keys) >= count:
                return
        raise AssertionError(f"{table}: {len(keys)} of {count} erasure records within {WAIT}s")
    finally:
        consumer.close()


def _index_partitions(platform: Platform) -> int:
    settings = platform.settings
    topic = settings.topic(DECONFLICTION_INDEX.name)
    consumer = consumer_for(settings, {"group.id": "erasure-it"})
    try:
        return len(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
    finally:
        consumer.close()


def _registrations(hit: Envelope) -> set[str]:
    data = hit.data
    assert isinstance(data, DeconflictionHit)
    return {data.registering.registration_id, data.holding.registration_id}


def test_an_erased_lead_is_never_hit_again_and_cannot_be_registered_again(
    deconfliction: Platform, jit: Jit, told: _Told
) -> None:
    """After NL's lead is erased, a DE lead with the same phone and person hits RO's
    registrations only; NL registering again under the erased lead's id enters no index."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    nl_lead = _submit(
        nl,
        jit,
        lead("erase-nl", identifiers=[{"kind": "phone", "value": PHONE}], persons=[SUSPECT]),
    )
    phone_in_ro = {"kind": "phone", "value": PHONE_AS_WRITTEN_IN_RO, "country": "RO"}
    _submit(ro, jit, lead("erase-ro", identifiers=[phone_in_ro], persons=[SUSPECT]))
    before = told.wait(jit.id, HIT, count=2)
    assert {frozenset(h.data.teams) for h in before} == {frozenset({jit.nl, jit.ro})}
    erased = {
        e.data.registration_id
        for e in (*told.of(jit.id, TOKEN_REGISTERED), *told.of(jit.id, PERSON_REGISTERED))
        if isinstance(e.data, TokenRegistered | PersonRegistered) and e.data.source_ref == nl_lead
    }
    assert all(erased & _registrations(h) for h in before)

    _erase(deconfliction, jit=jit.id, subject=nl_lead, kind=SubjectKind.LEAD, owner=jit.nl)
    _changelog(
        deconfliction,
        "source_to_erasure",
        lambda key, value: value.get("jit") == jit.id and value.get("source_ref") == nl_lead,
        count=_index_partitions(deconfliction),
    )

    again = nl.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": nl_lead, "identifiers": [{"kind": "phone", "value": PHONE}]},
    )
    assert _settled(nl, again).status_code == 201, again.text
    _submit(
        de,
        jit,
        lead("erase-de", identifiers=[{"kind": "phone", "value": PHONE}], persons=[SUSPECT]),
    )

    after = told.wait(jit.id, HIT, count=2, where=lambda h: jit.de in h.data.teams)
    assert {h.data.kind for h in after} == {"phone", "person"}
    assert all(h.data.teams == {jit.de, jit.ro} for h in after)
    every = told.of(jit.id, HIT)
    assert [h for h in every if h not in before and erased & _registrations(h)] == []
    assert [h for h in every if h not in before and jit.nl in h.data.teams] == []


def _place(north_m: float, radius: float) -> dict[str, Any]:
    return {
        "latitude": CENTRE[0] + north_m / 111_195.0,
        "longitude": CENTRE[1],
        "radius_m": radius,
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=4)).isoformat(),
    }


def _plan(member: Member, jit: Jit, key: str, north_m: float, radius: float) -> httpx.Response:
    body = {"idempotency_key": key, "kind": "search", "place": _place(north_m, radius)}
    return _settled(member, member.post(f"/jits/{jit.id}/operations", body))


def test_an_erased_operation_conflicts_with_nothing_and_cannot_be_planned_again(
    deconfliction: Platform, jit: Jit, told: _Told
) -> None:
    """After NL's operation is erased, a DE operation overlapping only its place raises no
    conflict (one overlapping RO's still does), and NL's replayed plan is refused (410)."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    planned = _plan(nl, jit, "erase-op-nl", 0, 400)
    assert planned.status_code == 201, planned.text
    nl_op = planned.json()["operation_id"]
    planned = _plan(ro, jit, "erase-op-ro", 500, 300)
    assert planned.status_code == 201, planned.text
    ro_op = planned.json()["operation_id"]
    [conflict] = told.wait(jit.id, CONFLICT)
    assert {s.operation_id for s in conflict.data.sides} == {nl_op, ro_op}
    sealed = json.loads(told.raw[conflict.id])
    assert sealed["datacontenttype"] == sealing.SEALED_CONTENT_TYPE, "the overlap is sealed"

    _erase(deconfliction, jit=jit.id, subject=nl_op, kind=SubjectKind.OPERATION, owner=jit.nl)
    _changelog(
        deconfliction,
        "jit_to_operations",
        lambda key, value: jit.id.encode() in key and nl_op in value.get("erased_operations", ()),
    )

    south = _plan(de, jit, "erase-op-de-south", -500, 300)
    assert south.status_code == 201, south.text
    de_south = south.json()["operation_id"]
    north = _plan(de, jit, "erase-op-de-north", 900, 300)
    assert north.status_code == 201, north.text
    de_north = north.json()["operation_id"]

    conflicts = told.wait(
        jit.id, CONFLICT, count=2, where=lambda e: isinstance(e.data, OperationConflictDetected)
    )
    sides = [{s.operation_id for s in e.data.sides} for e in conflicts]
    assert {de_north, ro_op} in sides
    assert not [s for s in sides if de_south in s or (nl_op in s and s != {nl_op, ro_op})]

    replayed = _plan(nl, jit, "erase-op-nl", 0, 400)
    assert replayed.status_code == 410, replayed.text

    fresh = KafkaKeyRing(deconfliction.settings, name="it-fresh").start()
    try:
        with pytest.raises(ErasedEvent):
            decode(told.raw[conflict.id], ring=fresh)
        survivor = next(
            e for e in conflicts if {s.operation_id for s in e.data.sides} == {de_north, ro_op}
        )
        assert decode(told.raw[survivor.id], ring=fresh).id == survivor.id
    finally:
        fresh.stop()
