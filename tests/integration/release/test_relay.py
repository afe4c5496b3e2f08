"""A national system submits a lead on its own command topic: it reaches the platform and comes
back on its feed; a command in another team's name is refused at the relay."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from confluent_kafka import KafkaError, TopicPartition

from events.codec import encode, envelop
from events.envelope import Actor, Envelope
from events.leads import InformationCredibility, SourceReliability, SourceType, SubmitLead
from services.kit.kafka import consumer_for, new_producer, watermarks
from services.release.credentials import Credentials
from tests.integration.release.conftest import Feeds, new_team, sasl_config
from tests.support.infra import SaslEndpoint
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

Issue = Callable[[str], Credentials]


def _submission(team: str, *, speaking_for: str, jit: str) -> Envelope:
    lead_id = f"lead-{uuid.uuid4().hex[:12]}"
    command = SubmitLead(
        actor=Actor(member=f"ns-{team.lower()}", team=speaking_for, roles=("national_system",)),
        lead_id=lead_id,
        idempotency_key=f"case-{uuid.uuid4().hex[:8]}",
        source=SourceType.PARTNER_TEAM,
        received_at=datetime.now(UTC),
        summary="Recruitment ads on a job board lead to a flat used as a brothel.",
        reliability=SourceReliability.B,
        credibility=InformationCredibility.KNOWN_TO_SOURCE,
    )
    return envelop(
        command,
        subject=lead_id,
        jit=jit,
        originator=speaking_for,
        source=f"/national/{team}",
        correlation_id=str(uuid.uuid4()),
    )


def _send(endpoint: SaslEndpoint, creds: Credentials, topic: str, command: Envelope) -> None:
    """Write as the national system does; retried while the new credential reaches the broker."""
    deadline = time.monotonic() + 20
    while True:
        producer = new_producer(sasl_config(endpoint, creds, **{"message.timeout.ms": 5000}))
        outcome: list[KafkaError | None] = []

        def delivered(
            err: KafkaError | None, _msg: object, sink: list[KafkaError | None] = outcome
        ) -> None:
            sink.append(err)

        producer.produce(
            topic, key=command.subject.encode(), value=encode(command), on_delivery=delivered
        )
        producer.flush(10)
        if outcome == [None]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"could not write to {topic}: {outcome}")
        time.sleep(1)


def _dead_letters(platform: Platform) -> list[dict[str, object]]:
    topic = platform.settings.topic("interlock.deadletter")
    consumer = consumer_for(
        platform.settings,
        {
            "group.id": "it-dl",
            "enable.auto.commit": False,
        },
    )
    try:
        _, high = watermarks(consumer, topic, 0)
        consumer.assign([TopicPartition(topic, 0, 0)])
        out: list[dict[str, object]] = []
        while len(out) < high:
            msgs = consumer.consume(500, 2)
            if not msgs:
                break
            out += [json.loads(m.value() or b"{}") for m in msgs if m.error() is None]
        return out
    finally:
        consumer.close()


def test_a_lead_submitted_on_the_own_command_topic_comes_back_on_the_feed(
    platform: Platform, kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """The relay forwards the team's command; the leads service accepts it; the feed shows it."""
    team = new_team("NL")
    creds = national_systems(team)
    jit = feeds.register_jit(team)
    command = _submission(team, speaking_for=team, jit=jit)
    _send(kafka_sasl, creds, platform.settings.topic(f"interlock.leads.commands.{team}"), command)
    got = feeds.wait_for(
        team,
        lambda ev: [
            e
            for e in ev
            if e["type"] == "interlock.lead.submitted" and e["subject"] == command.subject
        ],
    )
    submitted = next(e for e in got if e["subject"] == command.subject)
    assert submitted["data"]["team"] == team
    assert submitted["causationid"] == command.id


def test_a_command_in_another_teams_name_is_refused_at_the_relay(
    platform: Platform, kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """A writes a lead claiming to be B on its own topic: dead-lettered, never a lead of B."""
    team, victim_team = new_team("NL"), new_team("RO")
    creds = national_systems(team)
    jit = feeds.register_jit(team, victim_team)
    forged = _submission(team, speaking_for=victim_team, jit=jit)
    _send(kafka_sasl, creds, platform.settings.topic(f"interlock.leads.commands.{team}"), forged)

    deadline = time.monotonic() + 30
    refusal = None
    while refusal is None and time.monotonic() < deadline:
        refusal = next((d for d in _dead_letters(platform) if d.get("key") == forged.subject), None)
        time.sleep(0.5)
    assert refusal is not None, "the forged command was not dead-lettered"
    assert refusal["service"] == "release-relay"
    assert f"originator {victim_team}" in str(refusal["reason"])
    assert [e for e in feeds.read(victim_team) if e["subject"] == forged.subject] == []
