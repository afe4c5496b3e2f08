"""Reading and writing the session's real topics from tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

from confluent_kafka import KafkaError, TopicPartition

from events import sealing
from events.codec import InvalidEvent, decode
from events.envelope import Envelope
from events.topics import TopicSpec
from services.kit.kafka import Publisher, consumer_for, watermarks
from services.kit.keys import KafkaKeyRing
from services.kit.settings import Settings

_rings: dict[tuple[str, str], KafkaKeyRing] = {}


def key_ring(settings: Settings) -> KafkaKeyRing:
    """The key ring of the settings' deployment, to open sealed events as its services do.

    Not installed for the test process: tests publish in the clear, as a national system
    would, and several deployments (topic prefixes) may share one test process.
    """
    where = (settings.kafka_bootstrap, settings.topic_prefix)
    if where not in _rings:
        _rings[where] = KafkaKeyRing(settings, name=f"test-{uuid.uuid4().hex[:6]}").start()
    return _rings[where]


def publish_as_the_platform(settings: Settings, envelopes: Sequence[Envelope]) -> None:
    """Write events onto the platform's own topics as its services do: personal data sealed with
    the deployment's key ring (the wire test holds the records there to that form)."""
    before = sealing.installed()
    sealing.install(key_ring(settings))
    publisher = Publisher(settings)
    try:
        publisher.publish(envelopes)
    finally:
        publisher.close()
        sealing.install(before)


def read_events(
    settings: Settings,
    topic: TopicSpec | str,
    *,
    where: Callable[[Envelope], bool] = lambda _: True,
    until: Callable[[list[Envelope]], bool] | None = None,
    timeout: float = 20,
    quiet: float = 1.5,
) -> list[Envelope]:
    """Every matching event on a topic from its start; stops at ``until`` or once quiet."""
    name = topic if isinstance(topic, str) else settings.topic(topic.name)
    consumer = consumer_for(
        settings,
        {
            "group.id": f"test-reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        },
    )
    consumer.subscribe([name])
    found: list[Envelope] = []
    deadline = time.monotonic() + timeout
    last_match = time.monotonic()
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                if until is None and found and time.monotonic() - last_match > quiet:
                    break
                continue
            try:
                env = decode(msg.value(), ring=key_ring(settings))
            except InvalidEvent:
                continue
            if where(env):
                found.append(env)
                last_match = time.monotonic()
                if until is not None and until(found):
                    break
    finally:
        consumer.close()
    return found


def raw_records(
    settings: Settings,
    topic: TopicSpec | str,
    *,
    timeout: float = 10,
    where: Callable[[bytes], bool] = lambda _: True,
) -> list[bytes]:
    """Raw values on a topic (e.g. the dead-letter topic) that match ``where``."""
    name = topic if isinstance(topic, str) else settings.topic(topic.name)
    consumer = consumer_for(
        settings,
        {
            "group.id": f"test-raw-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        },
    )
    consumer.subscribe([name])
    found: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            if where(msg.value() or b""):
                found.append(msg.value() or b"")
    finally:
        consumer.close()
    return found


def every_record(
    settings: Settings, *, timeout: float = 60
) -> dict[str, list[tuple[int, int, bytes, dict[str, str]]]]:
    """Every record (partition, offset, value, headers) of every topic of the settings'
    deployment (its topic prefix), from each partition's start to its end as it was when asked."""
    consumer = consumer_for(
        settings,
        {
            "group.id": f"test-every-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,  # a compacted tail may end before the high mark
        },
    )
    found: dict[str, list[tuple[int, int, bytes, dict[str, str]]]] = {}
    try:
        topics = consumer.list_topics(timeout=10).topics
        ends: dict[tuple[str, int], int] = {}
        assignment = []
        for name, meta in sorted(topics.items()):
            if not name.startswith(settings.topic_prefix) or not settings.topic_prefix:
                continue
            found[name] = []
            for partition in meta.partitions:
                low, high = watermarks(consumer, name, partition)
                if high > low:
                    ends[(name, partition)] = high
                    assignment.append(TopicPartition(name, partition, low))
        consumer.assign(assignment)
        deadline = time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            where = (msg.topic(), msg.partition())
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    ends.pop(where, None)
                continue
            if where in ends:
                headers = {k: (v or b"").decode() for k, v in msg.headers() or []}
                record = (msg.partition(), msg.offset(), msg.value() or b"", headers)
                found[msg.topic()].append(record)
                if msg.offset() + 1 >= ends[where]:
                    del ends[where]
        assert not ends, f"records not read within {timeout}s: {sorted(ends)[:5]}"
    finally:
        consumer.close()
    return found
