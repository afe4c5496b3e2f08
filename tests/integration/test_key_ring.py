"""The key ring behind crypto-shredding, on a real broker: keys travel between processes'
rings, a destroyed key is gone for every ring (and for one started afterwards), nothing new is
sealed for an erased subject, and an unreachable broker is never taken for an erasure."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import ConfigResource

from events import sealing
from events.topics import KEYS
from services.kit.kafka import admin_client, provision
from services.kit.keys import KafkaKeyRing, KeyRingUnavailable
from services.kit.settings import Settings
from tests.support import infra

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(kafka_bootstrap: str) -> Settings:
    found = Settings.model_validate(
        {
            **infra.kafka_client_env(),  # the admin on the test broker
            "INTERLOCK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "INTERLOCK_TOPIC_PREFIX": f"keys{uuid.uuid4().hex[:8]}.",
            "INTERLOCK_PARTITIONS": "3",
        }
    )
    provision(found, [KEYS])
    return found


@pytest.fixture
def rings(settings: Settings) -> Iterator[list[KafkaKeyRing]]:
    started: list[KafkaKeyRing] = []
    yield started
    for ring in started:
        ring.stop()


def ring_of(settings: Settings, rings: list[KafkaKeyRing], name: str) -> KafkaKeyRing:
    ring = KafkaKeyRing(settings, name=name).start()
    rings.append(ring)
    return ring


def test_a_key_sealed_in_one_process_opens_in_another_until_destroyed(
    settings: Settings, rings: list[KafkaKeyRing]
) -> None:
    """The writer's key reaches a reader at once; after destruction both lose it, and a ring
    started later never had it."""
    writer, reader = ring_of(settings, rings, "w"), ring_of(settings, rings, "r")
    key = writer.sealing_key("jit-1:lead-1")
    assert writer.sealing_key("jit-1:lead-1") == key, "one key per subject"
    assert reader.opening_key("jit-1:lead-1") == key
    assert reader.opening_key("jit-1:lead-2") is None

    writer.destroy("jit-1:lead-1")
    deadline = time.monotonic() + 10
    while reader.opening_key("jit-1:lead-1") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.opening_key("jit-1:lead-1") is None
    assert ring_of(settings, rings, "late").opening_key("jit-1:lead-1") is None
    with pytest.raises(sealing.Erased):
        reader.sealing_key("jit-1:lead-1")


def test_the_wrapped_key_on_the_topic_is_not_the_key(
    settings: Settings, rings: list[KafkaKeyRing]
) -> None:
    """The topic holds the key wrapped by the master key: a process with another master key
    cannot unwrap it, and says so instead of taking the subject for erased."""
    key = ring_of(settings, rings, "w").sealing_key("jit-1:lead-9")
    other = settings.model_copy(update={"master_key": type(settings.master_key)("another")})
    with pytest.raises(KeyRingUnavailable, match="INTERLOCK_MASTER_KEY"):
        ring_of(other, rings, "foreign").opening_key("jit-1:lead-9")
    assert len(key) == 32


def test_the_keys_topic_is_compacted_quickly(settings: Settings) -> None:
    """Tombstoned keys leave the broker's disks within hours: compaction settings are in force."""
    admin = admin_client(settings)
    resource = ConfigResource(ConfigResource.Type.TOPIC, settings.topic(KEYS.name))
    config = admin.describe_configs([resource])[resource].result(timeout=10)
    assert config["cleanup.policy"].value == "compact"
    assert int(config["segment.ms"].value) <= 3_600_000
    assert float(config["min.cleanable.dirty.ratio"].value) <= 0.01


def test_an_unreachable_broker_is_an_error_not_an_erasure(settings: Settings) -> None:
    """A ring that cannot read the topic up to date refuses to answer instead of saying erased."""
    nowhere = settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:1"})
    ring = KafkaKeyRing(nowhere, name="nowhere").start()
    try:
        with pytest.raises(KeyRingUnavailable):
            ring.opening_key("jit-1:lead-1")
        with pytest.raises(KeyRingUnavailable):
            ring.sealing_key("jit-1:lead-1")
    finally:
        ring.stop()


def test_a_batch_of_new_subjects_gets_its_keys_together(
    settings: Settings, rings: list[KafkaKeyRing]
) -> None:
    """``prepare`` creates every missing key in one go, keeps existing ones, and mints none for
    an erased subject."""
    writer, reader = ring_of(settings, rings, "w"), ring_of(settings, rings, "r")
    existing = writer.sealing_key("jit-1:lead-0")
    writer.destroy("jit-1:gone")
    kids = [f"jit-1:lead-{i}" for i in range(50)]
    writer.prepare([*kids, "jit-1:gone"])
    assert writer.knows(kids) and not writer.knows(["jit-1:gone"])
    assert writer.sealing_key("jit-1:lead-0") == existing
    assert all(reader.opening_key(kid) == writer.sealing_key(kid) for kid in kids)
