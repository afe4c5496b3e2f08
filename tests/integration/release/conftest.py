"""Helpers for the release tests: unique teams and JITs, national-system credentials (revoked
afterwards), publishing source events, and reading feeds as the services or as a national system."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from events.directory import JitRegistered
from events.envelope import Envelope
from services.admin import jit_record
from services.kit.kafka import Publisher, consumer_for, kafka_config, watermarks
from services.kit.settings import Settings
from services.release.credentials import Credentials, NationalSystems
from tests.support.infra import SaslEndpoint
from tests.support.platform import Platform


def new_team(country: str = "NL") -> str:
    """A team code no other test uses."""
    return f"{country}-T{uuid.uuid4().hex[:8].upper()}"


def sasl_config(endpoint: SaslEndpoint, creds: Credentials, **extra: Any) -> dict[str, Any]:
    """What docs/national-systems.md tells a national system to configure."""
    return kafka_config(
        endpoint.bootstrap,
        protocol=endpoint.protocol,
        username=creds.principal,
        password=creds.password,
        ca_file=endpoint.ca_file,
        conf={"log_level": 0, **extra},
    )


@dataclass
class Feeds:
    """The session's platform seen from the release's side."""

    settings: Settings

    def publish(self, envelopes: list[Envelope]) -> None:
        publisher = Publisher(self.settings)
        try:
            publisher.publish(envelopes)
        finally:
            publisher.close()

    def register_jit(self, *teams: str) -> str:
        jit = f"jit-{uuid.uuid4().hex[:8]}"
        record = JitRegistered(
            jit_id=jit,
            name=f"Operation {jit}",
            legal_basis="Council Framework Decision 2002/465/JHA",
            coordinator_team=teams[0],
            member_teams=teams,
            starts_on=date.today(),
        )
        self.publish([jit_record(record)])
        return jit

    def topic(self, team: str) -> str:
        return self.settings.topic(f"interlock.feed.{team}")

    def read(self, team: str) -> list[dict[str, Any]]:
        """Everything on ``team``'s feed now, as CloudEvents (empty if the feed does not exist)."""
        topic = self.topic(team)
        consumer = consumer_for(
            self.settings,
            {
                "group.id": f"it-release-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            },
        )
        try:
            found = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if found is None or found.error is not None:
                return []
            ends = {}
            for p in found.partitions:
                low, high = watermarks(consumer, topic, p)
                if high > low:
                    ends[p] = high
            consumer.assign([TopicPartition(topic, p, 0) for p in ends])
            out: list[tuple[int, int, dict[str, Any]]] = []
            deadline = time.monotonic() + 20
            while ends and time.monotonic() < deadline:
                for msg in consumer.consume(500, 0.5):
                    if msg.error() is not None:
                        continue
                    partition, offset = msg.partition() or 0, msg.offset() or 0
                    out.append((partition, offset, json.loads(msg.value() or b"null")))
                    if offset + 1 >= ends.get(partition, 0):
                        ends.pop(partition, None)
            return [wire for _, _, wire in sorted(out, key=lambda r: (r[0], r[1]))]
        finally:
            consumer.close()

    def wait_for(
        self,
        team: str,
        check: Callable[[list[dict[str, Any]]], Any],
        timeout: float = 30,
    ) -> list[dict[str, Any]]:
        """Read ``team``'s feed until ``check`` holds for it."""
        deadline = time.monotonic() + timeout
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            events = self.read(team)
            if check(events):
                return events
            time.sleep(0.3)
        raise AssertionError(
            f"feed of {team} never satisfied the check; it holds {[e['type'] for e in events]}"
        )


@pytest.fixture(scope="session")
def feeds(platform: Platform) -> Feeds:
    return Feeds(platform.settings)


@pytest.fixture
def national_systems(platform: Platform) -> Iterator[Callable[[str], Credentials]]:
    """Issue a team's national-system credentials; every one issued is revoked afterwards."""
    systems = NationalSystems(platform.settings)
    issued: list[str] = []

    def issue(team: str) -> Credentials:
        creds = systems.issue(team)
        issued.append(team)
        return creds

    yield issue
    for team in issued:
        systems.revoke(team)


def of_subject(subject: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda events: [e for e in events if e["subject"] == subject]


def triaged(
    team: str, *, releasable_to: frozenset[str] = frozenset(), jit: str = "jit-any"
) -> Envelope:
    """A small lead event of ``team``: enough to put something on a feed."""
    from events.codec import envelop
    from events.leads import LeadPriority, LeadTriaged

    lead_id = f"lead-{uuid.uuid4().hex[:10]}"
    return envelop(
        LeadTriaged(lead_id=lead_id, by="anna", assignee="anna", priority=LeadPriority.HIGH),
        subject=lead_id,
        jit=jit,
        originator=team,
        source="/tests/release",
        correlation_id=str(uuid.uuid4()),
        releasable_to=releasable_to,
    )


def first_message_or_error(consumer: Consumer, timeout: float = 30) -> Any:
    """The first record or error the consumer gets (None if nothing within the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        error = msg.error()
        if error is not None and error.code() == error._PARTITION_EOF:
            continue
        return msg
    return None
