"""Reading the chained audit log back from its topic, in the order it was written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, TopicPartition

from events.topics import AUDIT_CHAIN
from services.kit.kafka import watermarks
from services.kit.settings import Settings


def chain_values(settings: Settings, *, timeout: float = 30.0) -> Iterator[bytes]:
    """Every raw link on the chain topic, from the first to the last written when called."""
    topic = settings.topic(AUDIT_CHAIN.name)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.topic('interlock-audit-reader')}-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        low, high = watermarks(consumer, topic, 0, timeout)
        if high <= low:
            return
        consumer.assign([TopicPartition(topic, 0, low)])
        while True:
            msg = consumer.poll(timeout)
            if msg is None:
                raise TimeoutError(f"audit chain not readable within {timeout}s")
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return
                raise RuntimeError(f"reading the audit chain: {error.str()}")
            yield msg.value() or b""
            if (msg.offset() or 0) >= high - 1:
                return
    finally:
        consumer.close()
