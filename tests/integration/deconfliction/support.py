"""Helpers for the deconfliction integration tests: a fresh JIT with desks in the directory,
members of its teams, and a reader of the session's ``interlock.deconfliction.events`` topic."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from events.codec import ErasedEvent, decode
from events.deconfliction import DeskContact
from events.directory import DeskRegistered, JitRegistered
from events.envelope import Envelope
from events.topics import DECONFLICTION_EVENTS
from services.admin import desk_record, jit_record, publish
from services.kit.identity import Issuer
from services.kit.kafka import consumer_for
from tests.support.api import Member
from tests.support.kafka import key_ring
from tests.support.platform import Platform

HIT = "interlock.deconfliction.hit_detected"
RELEASED = "interlock.deconfliction.details_released"
DECLINED = "interlock.deconfliction.details_declined"
ROLE_CONFLICT = "interlock.deconfliction.role_conflict_detected"
TOKEN_REGISTERED = "interlock.deconfliction.token_registered"
PERSON_REGISTERED = "interlock.deconfliction.person_registered"
CONFLICT = "interlock.operation.conflict_detected"
CLEARED = "interlock.operation.conflict_cleared"
RESOLUTION = "interlock.operation.conflict_resolution_recorded"
RESOLVED = "interlock.operation.conflict_resolved"


def team_code(country: str) -> str:
    """A team code of its own per test, so that desks and events never mix between tests."""
    return f"{country}-T{uuid.uuid4().hex[:8].upper()}"


def desk_of(team: str) -> DeskRegistered:
    return DeskRegistered(
        team=team,
        name=f"{team} rapid-response desk",
        phone="+31 70 000 0000",
        email=f"desk-{team.lower()}@example.org",
    )


@dataclass
class Jit:
    """A JIT registered in the session's directory: NL, RO and DE teams, each with a desk."""

    id: str
    nl: str
    ro: str
    de: str
    base_url: str
    issuer: Issuer

    @property
    def teams(self) -> tuple[str, str, str]:
        return (self.nl, self.ro, self.de)

    def member(self, team: str, name: str = "investigator", **kwargs: Any) -> Member:
        return Member(
            self.base_url,
            self.issuer,
            member=f"{name}-{team.lower()}",
            team=team,
            jits=(self.id,),
            **kwargs,
        )

    def desk(self, team: str) -> DeskContact:
        return DeskContact.from_directory(desk_of(team))


def register_jit(platform: Platform, issuer: Issuer, *, cross_jit: bool = False) -> Jit:
    """A fresh JIT of three fresh teams with desks, written to the directory."""
    jit = Jit(
        f"jit-{uuid.uuid4().hex[:8]}",
        team_code("NL"),
        team_code("RO"),
        team_code("DE"),
        platform.base_url,
        issuer,
    )
    publish(
        platform.settings,
        [
            jit_record(
                JitRegistered(
                    jit_id=jit.id,
                    name="Operation Ceres",
                    legal_basis="JIT agreement 2026/17 (Council Framework Decision 2002/465/JHA)",
                    coordinator_team=jit.nl,
                    member_teams=jit.teams,
                    starts_on=date(2026, 1, 1),
                    cross_jit_matching=cross_jit,
                )
            ),
            *(desk_record(desk_of(team)) for team in jit.teams),
        ],
    )
    return jit


class EventLog:
    """Every record on the session's deconfliction event topic, read from the beginning.

    Keeps redeliveries (the same event id twice) so that tests can tell them from duplicates.
    """

    def __init__(self, platform: Platform) -> None:
        settings = platform.settings
        self._ring = key_ring(settings)
        topic = settings.topic(DECONFLICTION_EVENTS.name)
        self._consumer = consumer_for(
            settings,
            {
                "group.id": f"deconfliction-it-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._records: list[Envelope] = []
        self._by_jit: dict[str, list[Envelope]] = defaultdict(list)

    def _drain(self) -> None:
        while True:
            batch = self._consumer.consume(num_messages=5000, timeout=0.1)
            for msg in batch:
                if msg.error():
                    continue
                try:
                    envelope = decode(msg.value(), ring=self._ring)
                except ErasedEvent:
                    continue  # an erased subject's record: passed over, as the services do
                self._records.append(envelope)
                self._by_jit[envelope.jit].append(envelope)
            if len(batch) < 5000:
                return  # caught up (a short batch means the wait ran out)

    def records(self, jit: str) -> list[Envelope]:
        """Every record of the JIT so far, redeliveries included, in log order."""
        self._drain()
        return list(self._by_jit[jit])

    def all_records(self) -> list[Envelope]:
        """Every record on the topic so far, of every JIT."""
        self._drain()
        return list(self._records)

    def events(self, jit: str, type_: str | None = None) -> list[Envelope]:
        """The JIT's events (of a type), each event id once."""
        seen: dict[str, Envelope] = {}
        for envelope in self.records(jit):
            if type_ is None or envelope.type == type_:
                seen.setdefault(envelope.id, envelope)
        return list(seen.values())

    def wait(
        self,
        jit: str,
        type_: str,
        *,
        count: int = 1,
        where: Callable[[Envelope], bool] = lambda _: True,
        timeout: float = 20,
        settle: float = 1.5,
    ) -> list[Envelope]:
        """Wait for at least ``count`` events of a type, then ``settle`` seconds for any extra
        one (so that a test of "exactly one" sees a second if there is one)."""
        deadline = time.monotonic() + timeout
        found: list[Envelope] = []
        while time.monotonic() < deadline:
            found = [e for e in self.events(jit, type_) if where(e)]
            if len(found) >= count:
                time.sleep(settle)
                return [e for e in self.events(jit, type_) if where(e)]
            time.sleep(0.1)
        raise AssertionError(
            f"expected {count} {type_} in {jit} within {timeout}s, found {len(found)}"
        )

    def close(self) -> None:
        self._consumer.close()


def lead(key: str, **overrides: Any) -> dict[str, Any]:
    """A lead that mentions only what the test gives it."""
    body: dict[str, Any] = {
        "idempotency_key": key,
        "source": "ngo",
        "summary": f"Workers housed at a farm; passports held by the employer ({key}).",
        "reliability": "B",
        "credibility": "2",
        "persons": [],
        "identifiers": [],
    }
    body.update(overrides)
    return body


def submit(member: Member, jit: Jit, body: dict[str, Any]) -> str:
    """Submit a lead and return its id."""
    response = member.post(f"/jits/{jit.id}/leads", body)
    assert response.status_code in (200, 201), response.text
    lead_id: str = response.json()["lead_id"]
    return lead_id
