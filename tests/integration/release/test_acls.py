"""A national system's SCRAM credentials on the real broker: its own feed, groups and command
topics, and nothing else."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import NewTopic

from services.kit.kafka import admin_client, new_admin, new_consumer, new_producer
from services.release.credentials import Credentials, NationalSystems
from tests.integration.release.conftest import (
    Feeds,
    first_message_or_error,
    new_team,
    of_subject,
    sasl_config,
    triaged,
)
from tests.support.infra import SaslEndpoint
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

Issue = Callable[[str], Credentials]


def _consumer(endpoint: SaslEndpoint, creds: Credentials, group: str | None = None) -> Consumer:
    return new_consumer(
        sasl_config(
            endpoint,
            creds,
            **{
                "group.id": group or f"{creds.group_prefix}it-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
        )
    )


def _logged_in(endpoint: SaslEndpoint, creds: Credentials, timeout: float = 20) -> None:
    """Wait until the broker knows the new credential (it travels through the metadata log)."""
    admin = new_admin(sasl_config(endpoint, creds))
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin.list_topics(timeout=3)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise


def _produce(endpoint: SaslEndpoint, creds: Credentials, topic: str) -> KafkaError | None:
    producer = new_producer(sasl_config(endpoint, creds, **{"message.timeout.ms": 10_000}))
    outcome: list[KafkaError | None] = []
    producer.produce(topic, key=b"k", value=b"{}", on_delivery=lambda e, _m: outcome.append(e))
    producer.flush(15)
    return outcome[0] if outcome else KafkaError(KafkaError._MSG_TIMED_OUT)


def test_a_national_system_reads_its_own_feed_and_no_other(
    platform: Platform, kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """A reads its feed with its group; B's feed and internal topics: TOPIC_AUTHORIZATION_FAILED."""
    team_a, team_b = new_team("NL"), new_team("RO")
    creds_a, _ = national_systems(team_a), national_systems(team_b)
    event = triaged(team_a)
    feeds.publish([event])
    feeds.wait_for(team_a, of_subject(event.subject))
    _logged_in(kafka_sasl, creds_a)

    own = _consumer(kafka_sasl, creds_a)
    try:
        own.subscribe([feeds.topic(team_a)])
        msg = first_message_or_error(own)
        assert msg is not None, "nothing read from the own feed"
        assert msg.error() is None, msg.error()
        assert event.id.encode() in msg.value()
    finally:
        own.close()

    internal = platform.settings.topic("interlock.leads.events")
    for foreign in (feeds.topic(team_b), internal, platform.settings.topic("interlock.outcomes")):
        other = _consumer(kafka_sasl, creds_a)
        try:
            other.subscribe([foreign])
            msg = first_message_or_error(other)
            assert msg is not None, f"no answer reading {foreign}"
            assert msg.error() is not None, f"read {foreign} without the right"
            assert msg.error().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, msg.error()
        finally:
            other.close()


def test_a_national_system_sees_only_its_own_topics_in_metadata(
    kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """Listing topics shows its feed and command topics; nobody else's exist for it."""
    team_a, team_b = new_team("NL"), new_team("RO")
    creds_a, creds_b = national_systems(team_a), national_systems(team_b)
    _logged_in(kafka_sasl, creds_a)
    visible = set(new_admin(sasl_config(kafka_sasl, creds_a)).list_topics(timeout=10).topics)
    assert visible == {creds_a.feed_topic, *creds_a.command_topics}
    assert creds_b.feed_topic not in visible


def test_a_national_system_cannot_create_topics(
    kafka_sasl: SaslEndpoint, platform: Platform, national_systems: Issue
) -> None:
    """Creating a topic, even one named like its own feed, is refused by the authorizer."""
    creds = national_systems(new_team("BG"))
    _logged_in(kafka_sasl, creds)
    admin = new_admin(sasl_config(kafka_sasl, creds))
    name = platform.settings.topic(f"interlock.feed.{new_team('BG')}")
    future = admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name]
    with pytest.raises(KafkaException) as refused:
        future.result(20)
    assert refused.value.args[0].code() in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    )
    assert name not in admin_client(platform.settings).list_topics(timeout=10).topics


def test_a_consumer_group_outside_its_prefix_is_refused(
    kafka_sasl: SaslEndpoint, feeds: Feeds, national_systems: Issue
) -> None:
    """Group ids must start with the principal's prefix; others: GROUP_AUTHORIZATION_FAILED."""
    team = new_team("FR")
    creds = national_systems(team)
    feeds.publish([triaged(team)])
    _logged_in(kafka_sasl, creds)
    consumer = _consumer(kafka_sasl, creds, group=f"someone-else-{uuid.uuid4().hex[:6]}")
    try:
        consumer.subscribe([creds.feed_topic])
        msg = first_message_or_error(consumer)
        assert msg is not None, "no answer from the group coordinator"
        assert msg.error() is not None, "joined a group outside the prefix"
        assert msg.error().code() == KafkaError.GROUP_AUTHORIZATION_FAILED, msg.error()
    finally:
        consumer.close()


def test_a_national_system_writes_its_own_command_topics_only(
    kafka_sasl: SaslEndpoint, platform: Platform, national_systems: Issue
) -> None:
    """Its command topic takes a record; the shared one, another team's and its feed refuse."""
    team_a, team_b = new_team("NL"), new_team("RO")
    creds_a, creds_b = national_systems(team_a), national_systems(team_b)
    _logged_in(kafka_sasl, creds_a)
    own = platform.settings.topic(f"interlock.deconfliction.commands.{team_a}")
    assert _produce(kafka_sasl, creds_a, own) is None
    for foreign in (
        platform.settings.topic("interlock.leads.commands"),
        platform.settings.topic(f"interlock.leads.commands.{team_b}"),
        creds_a.feed_topic,
        creds_b.feed_topic,
    ):
        error = _produce(kafka_sasl, creds_a, foreign)
        assert error is not None, f"wrote to {foreign}"
        assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (foreign, error)


def _login_error(endpoint: SaslEndpoint, creds: Credentials) -> KafkaError | None:
    """The authentication error the broker answers a login with, or None if it succeeds."""
    errors: list[KafkaError] = []
    admin = new_admin(sasl_config(endpoint, creds, error_cb=errors.append))
    try:
        admin.list_topics(timeout=5)
        return None
    except KafkaException:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            admin.poll(0.5)
            for error in errors:
                if error.code() == KafkaError._AUTHENTICATION:
                    return error
        raise


def test_a_wrong_password_is_refused_and_rotation_replaces_the_password(
    kafka_sasl: SaslEndpoint, platform: Platform, national_systems: Issue
) -> None:
    """A wrong password fails authentication; after rotate the old one fails and the new works."""
    team = new_team("DE")
    creds = national_systems(team)
    _logged_in(kafka_sasl, creds)
    wrong = Credentials(**{**creds.__dict__, "password": "not-the-password"})
    refused = _login_error(kafka_sasl, wrong)
    assert refused is not None
    assert "Authentication failed" in refused.str()

    rotated = NationalSystems(platform.settings).rotate(team)
    assert rotated.password != creds.password
    _logged_in(kafka_sasl, rotated)
    assert _login_error(kafka_sasl, creds) is not None
