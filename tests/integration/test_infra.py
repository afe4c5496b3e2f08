"""The real Kafka 4.x broker and Neo4j 5.26 database that the test infrastructure provides."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from services.kit.kafka import admin_client, consumer_for, kafka_config, new_admin, producer_for
from tests.support import infra
from tests.support.infra import SaslEndpoint

# generous: the first test also pays for the session fixture, which may fetch jars and start both
pytestmark = pytest.mark.timeout(600)


def _sasl_conf(endpoint: SaslEndpoint, username: str, password: str) -> dict[str, Any]:
    return kafka_config(
        endpoint.bootstrap,
        protocol=endpoint.protocol,
        username=username,
        password=password,
        ca_file=endpoint.ca_file,
    )


@pytest.fixture
def topic(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh 3-partition topic, deleted afterwards."""
    admin = admin_client(infra.kafka_settings())
    name = f"it-infra-{uuid.uuid4().hex[:12]}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(30)
    yield name
    admin.delete_topics([name])[name].result(30)


def test_kafka_topic_round_trip(kafka_bootstrap: str, topic: str) -> None:
    """A message produced with acks=all and idempotence is consumed back unchanged."""
    producer = producer_for(infra.kafka_settings(), {"acks": "all", "enable.idempotence": True})
    delivered: list[object] = []
    producer.produce(
        topic, key=b"case-1", value=b"hello", on_delivery=lambda err, msg: delivered.append(err)
    )
    assert producer.flush(30) == 0
    assert delivered == [None]

    consumer = consumer_for(
        infra.kafka_settings(),
        {
            "group.id": f"it-infra-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        },
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        msg = None
        while msg is None and time.monotonic() < deadline:
            candidate = consumer.poll(1.0)
            if candidate is not None:
                assert candidate.error() is None, candidate.error()
                msg = candidate
        assert msg is not None, "no message consumed within 60 s"
        assert (msg.key(), msg.value()) == (b"case-1", b"hello")
    finally:
        consumer.close()


def test_kafka_rejects_auto_created_topics(kafka_bootstrap: str) -> None:
    """The broker does not create topics on first use: services must declare them."""
    admin = admin_client(infra.kafka_settings())
    missing = f"it-missing-{uuid.uuid4().hex[:12]}"
    producer = producer_for(infra.kafka_settings(), {"message.timeout.ms": 3000})
    errors: list[object] = []
    producer.produce(missing, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(10)
    assert len(errors) == 1
    assert errors[0] is not None
    assert missing not in admin.list_topics(timeout=10).topics


def test_neo4j_node_round_trip(neo4j_auth: tuple[str, str, str]) -> None:
    """A node written with Cypher is read back with its properties."""
    uri, user, password = neo4j_auth
    marker = uuid.uuid4().hex
    with GraphDatabase.driver(uri, auth=(user, password)) as driver:
        driver.execute_query("CREATE (:ItInfraProbe {marker: $m, n: 42})", m=marker)
        try:
            records, _, _ = driver.execute_query(
                "MATCH (p:ItInfraProbe {marker: $m}) RETURN p.n AS n", m=marker
            )
            assert [r["n"] for r in records] == [42]
        finally:
            driver.execute_query("MATCH (p:ItInfraProbe {marker: $m}) DELETE p", m=marker)


def test_neo4j_refuses_wrong_password(neo4j_auth: tuple[str, str, str]) -> None:
    """Authentication is on: a wrong password is refused."""
    uri, user, _ = neo4j_auth
    with (
        GraphDatabase.driver(uri, auth=(user, "not-the-password")) as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()


def test_kafka_sasl_refuses_wrong_password(kafka_sasl: SaslEndpoint) -> None:
    """The SCRAM listener refuses the admin user with a wrong password."""
    errors: list[KafkaError] = []
    conf = _sasl_conf(kafka_sasl, kafka_sasl.username, "not-the-password")
    admin = new_admin(conf | {"log_level": 0, "error_cb": errors.append})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=10)
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:
        admin.poll(0.5)  # serves error_cb
    assert KafkaError._AUTHENTICATION in {e.code() for e in errors}, errors


def test_kafka_sasl_admin_is_super_user(kafka_sasl: SaslEndpoint, topic: str) -> None:
    """The SCRAM admin logs in and sees every topic (it is a super user)."""
    admin = new_admin(_sasl_conf(kafka_sasl, kafka_sasl.username, kafka_sasl.password))
    metadata = admin.list_topics(timeout=15)
    assert metadata.brokers
    assert topic in metadata.topics


def test_kafka_sasl_user_without_acls_sees_nothing(kafka_sasl: SaslEndpoint, topic: str) -> None:
    """A SCRAM user with no ACLs is authenticated but authorised for nothing."""
    # Upserted, never deleted: with a deletion in the replayed metadata log, Kafka 4.x (ScramDelta)
    # can drop SCRAM credentials at the next broker restart; deploy/infra.sh works around it.
    admin = new_admin(_sasl_conf(kafka_sasl, kafka_sasl.username, kafka_sasl.password))
    user, password = "it-infra-no-acl", uuid.uuid4().hex
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    upsert = UserScramCredentialUpsertion(user, info, password.encode())
    for fut in admin.alter_user_scram_credentials([upsert]).values():
        fut.result(15)
    client = new_admin(_sasl_conf(kafka_sasl, user, password) | {"log_level": 0})
    deadline = time.monotonic() + 20
    while True:  # the credential reaches the broker through the metadata log
        try:
            metadata = client.list_topics(timeout=5)
            break
        except KafkaException:
            if time.monotonic() > deadline:
                raise
    assert metadata.brokers
    assert topic not in metadata.topics
