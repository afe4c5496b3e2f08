"""Every Kafka client authenticates, and each service's principal may do what its role needs and
nothing more (services/principals.py, derived from the role registry).

Against the real broker: an unauthenticated client is refused on every listener; each service
principal sees exactly the topics of its grants; examples of refusals outside them (the
projection writing a command, the leads worker reading the deconfliction index or another
team's feed, a worker joining another role's group or creating a topic) and of the grants
inside them working.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from events import topics as t
from services import roles
from services.kit.kafka import (
    admin_client,
    kafka_config,
    new_admin,
    new_consumer,
    new_producer,
    provision,
)
from services.kit.settings import Settings
from services.principals import all_grants, password_file, provision_principals
from tests.support import infra

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str) -> Settings:
    """The admin's settings on a fresh topic prefix, its topics and service ACLs provisioned."""
    admin = infra.kafka_settings()
    if admin.kafka_security_protocol == "PLAINTEXT":
        pytest.skip("this broker has no authentication (testcontainers): nothing to prove here")
    settings = admin.model_copy(
        update={"topic_prefix": f"p{uuid.uuid4().hex[:8]}.", "partitions": 1}
    )
    provision(settings, roles.topics())
    provision_principals(settings, admin_client(settings))
    return settings


def _as(settings: Settings, principal: str, **conf: Any) -> dict[str, Any]:
    return kafka_config(
        settings.kafka_bootstrap,
        protocol=settings.kafka_security_protocol,
        username=principal,
        password=password_file(settings, principal).read_text().strip(),
        ca_file=settings.kafka_ca_file,
        conf={"log_level": 0, **conf},
    )


def _visible(settings: Settings, principal: str) -> set[str]:
    """The deployment's topics the principal may see (describe); the broker hides the rest."""
    deadline = time.monotonic() + 20
    while True:  # new ACLs reach the broker through the metadata log
        found = new_admin(_as(settings, principal)).list_topics(timeout=10).topics
        mine = {name for name in found if name.startswith(settings.topic_prefix)}
        if mine or time.monotonic() > deadline:
            return mine
        time.sleep(0.5)


def _produce(settings: Settings, principal: str, topic: str) -> KafkaError | None:
    errors: list[KafkaError | None] = []
    producer = new_producer(_as(settings, principal, **{"message.timeout.ms": 10_000}))
    producer.produce(topic, key=b"k", value=b"{}", on_delivery=lambda err, _m: errors.append(err))
    producer.flush(15)
    return errors[0] if errors else KafkaError(KafkaError._MSG_TIMED_OUT)


def _read(settings: Settings, principal: str, topic: str, group: str) -> KafkaError | None:
    """The first error a consumer in ``group`` meets reading ``topic`` (None: it read)."""
    consumer = new_consumer(
        _as(settings, principal, **{"group.id": group, "auto.offset.reset": "earliest"})
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is not None:
                error: KafkaError = msg.error()
                if error.code() != KafkaError._PARTITION_EOF:
                    return error
            if consumer.assignment():
                return None
        return KafkaError(KafkaError._TIMED_OUT)
    finally:
        consumer.close()


def test_an_unauthenticated_client_is_refused_on_every_listener(kafka_bootstrap: str) -> None:
    """No listener lists topics to a client without credentials (PLAINTEXT), nor to a wrong
    password: INTERNAL (services), EXTERNAL (national systems), CONTROLLER (KRaft)."""
    settings = infra.kafka_settings()
    if settings.kafka_security_protocol == "PLAINTEXT":
        pytest.skip("this broker has no authentication (testcontainers)")
    host, port = settings.kafka_bootstrap.rsplit(":", 1)
    # the infra's ports: exported with its env, else the test infra's own
    known = infra.TEST_PORTS if port == infra.TEST_PORTS["KAFKA_PORT"] else os.environ
    ports = {port} | {
        known[name] for name in ("KAFKA_SASL_PORT", "KAFKA_CONTROLLER_PORT") if name in known
    }
    assert len(ports) == 3, f"the three listeners' ports are not known: {ports}"
    for port in sorted(ports):
        bare = new_admin(
            kafka_config(f"{host}:{port}", protocol="PLAINTEXT", conf={"log_level": 0})
        )
        with pytest.raises(KafkaException):
            bare.list_topics(timeout=5)
    wrong = new_admin(
        kafka_config(
            settings.kafka_bootstrap,
            protocol=settings.kafka_security_protocol,
            username=roles.principal("leads"),
            password="not-the-password",
            ca_file=settings.kafka_ca_file,
            conf={"log_level": 0},
        )
    )
    with pytest.raises(KafkaException):
        wrong.list_topics(timeout=5)


def test_each_principal_sees_exactly_the_topics_of_its_grants(deployment: Settings) -> None:
    """Derived from the registry: a principal describes the topics it reads or writes, and no
    other topic of the deployment (the broker hides a topic one may not describe)."""
    existing = {
        name
        for name in admin_client(deployment).list_topics(timeout=10).topics
        if name.startswith(deployment.topic_prefix)
    }
    for grants in all_grants():
        prefixes = (
            *(deployment.topic(p) for p in grants.read_prefixes | grants.write_prefixes),
            grants.internal_prefix(deployment) + "-",
        )
        wanted = {deployment.topic(n) for n in grants.reads | grants.writes} & existing
        wanted |= {name for name in existing if name.startswith(prefixes)}
        assert _visible(deployment, grants.principal) == wanted, grants.principal


@pytest.mark.parametrize(
    ("principal", "topic"),
    [
        ("projection", t.LEAD_COMMANDS),  # a read model never speaks for a team
        ("leads", t.TASK_COMMANDS),
        ("audit", t.DIRECTORY),
        ("release", t.LEAD_EVENTS),
        ("gateway", t.LEAD_EVENTS),  # the gateway sends commands; services decide the events
        ("gateway", t.DECONFLICTION_INDEX),
    ],
)
def test_a_principal_is_refused_a_write_outside_its_grants(
    deployment: Settings, principal: str, topic: t.TopicSpec
) -> None:
    error = _produce(deployment, roles.principal(principal), deployment.topic(topic.name))
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error


@pytest.mark.parametrize(
    ("principal", "topic"),
    [
        ("leads", t.DECONFLICTION_INDEX),  # the blind index is deconfliction's alone
        ("leads", t.AUDIT_CHAIN),
        ("tasking", t.SHARES),
        ("messaging", t.LEAD_EVENTS),
        ("projection", t.OUTCOMES),
    ],
)
def test_a_principal_is_refused_a_read_outside_its_grants(
    deployment: Settings, principal: str, topic: t.TopicSpec
) -> None:
    group = f"{deployment.topic_prefix}interlock-{principal}-probe"
    error = _read(deployment, roles.principal(principal), deployment.topic(topic.name), group)
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error


def test_a_worker_cannot_read_a_team_feed_join_another_group_or_create_topics(
    deployment: Settings,
) -> None:
    """A team's feed is the release's (it writes) and the team's national system's (it reads):
    the leads worker may not read it; nor join the tasking worker's group; nor create a topic
    outside its own internal ones."""
    feed = deployment.topic(t.feed_topic("NL-KLPD").name)
    admin = admin_client(deployment)
    admin.create_topics([NewTopic(feed, 1, -1)])[feed].result(30)
    leads = roles.principal("leads")
    error = _read(deployment, leads, feed, f"{deployment.topic_prefix}interlock-leads-feed")
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error

    commands = deployment.topic(t.LEAD_COMMANDS.name)
    error = _read(deployment, leads, commands, f"{deployment.topic_prefix}interlock-tasking")
    assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error

    stray = deployment.topic(f"interlock.stray-{uuid.uuid4().hex[:6]}")
    client = new_admin(_as(deployment, leads))
    with pytest.raises(KafkaException) as refused:
        client.create_topics([NewTopic(stray, 1, -1)])[stray].result(30)
    assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_principal_works_inside_its_grants(deployment: Settings) -> None:
    """The leads worker reads its commands in its own group, writes its events and creates its
    own changelog; the gateway writes a command."""
    leads = roles.principal("leads")
    group = f"{deployment.topic_prefix}interlock-leads"
    assert _read(deployment, leads, deployment.topic(t.LEAD_COMMANDS.name), group) is None
    assert _produce(deployment, leads, deployment.topic(t.LEAD_EVENTS.name)) is None
    changelog = f"{group}-lead_to_state-changelog"
    client = new_admin(_as(deployment, leads))
    client.create_topics([NewTopic(changelog, 1, -1)])[changelog].result(30)
    gateway = roles.principal(roles.GATEWAY)
    assert _produce(deployment, gateway, deployment.topic(t.LEAD_COMMANDS.name)) is None


def test_the_passwords_are_files_only_their_owner_reads(deployment: Settings) -> None:
    for grants in all_grants():
        path = Path(password_file(deployment, grants.principal))
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert Path(deployment.kafka_secrets_dir).stat().st_mode & 0o077 == 0


def test_offsets_of_a_group_are_the_roles_own(deployment: Settings) -> None:
    """A principal can commit in its own group prefix (the grant is usable end to end)."""
    leads = roles.principal("leads")
    topic = deployment.topic(t.LEAD_COMMANDS.name)
    consumer = new_consumer(
        _as(deployment, leads, **{"group.id": f"{deployment.topic_prefix}interlock-leads-x"})
    )
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    finally:
        consumer.close()
