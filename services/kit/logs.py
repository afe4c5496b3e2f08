"""Reading topics as logs, by position, without a consumer group's commitments: one partition from
an offset to its end, every record of some topics up to their ends, a partition's last record, the
ends of a topic's partitions.

Each reader is a plain consumer of this module (nothing committed, a group name of its own so two
readers never share an assignment); no module outside the kit builds one by hand. Readers that
keep positions of their own (the alert desks' hub, a team's feed pages) take their consumer from
``log_consumer`` and the client's types from here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from services.kit.kafka import consumer_for, watermarks
from services.kit.settings import Settings

__all__ = [
    "Consumer",
    "KafkaError",
    "KafkaException",
    "LastRecords",
    "LogReader",
    "Message",
    "TopicEnds",
    "TopicPartition",
    "last_records",
    "log_consumer",
    "read_partition",
]

LastRecords = dict[tuple[str, int], tuple[int, int | None]]
"""Per (topic, partition): the high watermark and the timestamp (ms) of the last record, if any."""


def log_consumer(settings: Settings, group: str, **extra: Any) -> Consumer:
    """A consumer that commits nothing, in a group of its own named after ``group``."""
    return consumer_for(
        settings,
        {
            "group.id": settings.group_id(f"{group}-{uuid.uuid4().hex[:8]}"),
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            **extra,
        },
    )


def _partitions(consumer: Consumer, topic: str, timeout: float) -> list[int]:
    """The partitions of ``topic`` (none if it does not exist)."""
    found = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if found is None or found.error is not None:
        return []
    return sorted(found.partitions)


def read_partition(
    settings: Settings,
    topic: str,
    *,
    partition: int = 0,
    last: int | None = None,
    group: str = "interlock-log-reader",
    timeout: float = 30.0,
) -> Iterator[bytes]:
    """The values on one partition, oldest first, up to its end when reading started: all of
    them, or the last ``last``. Raises ``TimeoutError`` if a record there is not read within
    ``timeout`` s."""
    consumer = log_consumer(settings, group)
    try:
        low, high = watermarks(consumer, topic, partition, timeout)
        start = low if last is None else max(low, high - last)
        if high <= start:
            return
        consumer.assign([TopicPartition(topic, partition, start)])
        while True:
            msg = consumer.poll(timeout)
            if msg is None:
                raise TimeoutError(f"{topic}[{partition}] not readable within {timeout}s")
            error = msg.error()
            if error is not None:
                raise RuntimeError(f"reading {topic}: {error.str()}")
            yield msg.value() or b""
            if (msg.offset() or 0) >= high - 1:
                return
    finally:
        consumer.close()


def last_records(settings: Settings, topics: Sequence[str], *, timeout: float = 5.0) -> LastRecords:
    """Per partition of the named topics (those that exist): its high watermark and the time of
    its last record."""
    consumer = log_consumer(settings, "interlock-lag")
    try:
        ends: LastRecords = {}
        wanted: list[TopicPartition] = []
        for name in topics:
            for partition in _partitions(consumer, name, timeout):
                low, high = watermarks(consumer, name, partition, timeout)
                ends[(name, partition)] = (high, None)
                if high > low:
                    wanted.append(TopicPartition(name, partition, high - 1))
        if wanted:
            consumer.assign(wanted)
            pending = {(tp.topic, tp.partition) for tp in wanted}
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=len(pending), timeout=0.5):
                    if msg.error() is not None:
                        continue
                    key = (str(msg.topic()), int(msg.partition() or 0))
                    if key in pending:
                        ends[key] = (ends[key][0], msg.timestamp()[1])
                        pending.discard(key)
        return ends
    finally:
        consumer.close()


class LogReader:
    """Every record of some topics, from the beginning up to their ends when reading started."""

    def __init__(self, settings: Settings, topics: Sequence[str], *, group: str) -> None:
        self.consumer = log_consumer(settings, group)
        self.remaining: dict[tuple[str, int], int] = {}
        assignment: list[TopicPartition] = []
        for name in topics:
            for partition in _partitions(self.consumer, name, 10):
                low, high = watermarks(self.consumer, name, partition)
                if high > low:
                    self.remaining[(name, partition)] = high - 1
                    assignment.append(TopicPartition(name, partition, low))
        if assignment:
            self.consumer.assign(assignment)

    def batches(self, size: int, *, quiet: float = 30.0) -> Iterator[list[Message]]:
        """Batches of records in log order per partition, until every partition is read; raises
        ``TimeoutError`` after ``quiet`` s without a record."""
        idle_since = time.monotonic()
        while self.remaining:
            batch: list[Message] = []
            for msg in self.consumer.consume(num_messages=size, timeout=1.0):
                error = msg.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"reading {msg.topic()}: {error.str()}")
                    continue
                key = (str(msg.topic()), int(msg.partition() or 0))
                last = self.remaining.get(key)
                if last is None:
                    continue
                batch.append(msg)
                if (msg.offset() or 0) >= last:
                    del self.remaining[key]
            if batch:
                idle_since = time.monotonic()
                yield batch
            elif time.monotonic() - idle_since > quiet:
                raise TimeoutError(
                    f"no records for {quiet}s; still to read: {sorted(self.remaining)}"
                )

    def close(self) -> None:
        self.consumer.close()


PARTITIONS_KEPT_SECONDS = 30.0


class TopicEnds:
    """High watermarks of topics, read with one long-lived consumer (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._partitions: dict[str, tuple[float, list[int]]] = {}

    def highs(self, topic: str, timeout: float = 2.0) -> dict[int, int]:
        """Per partition of ``topic``: the offset its next record will get (empty if no topic)."""
        with self._lock:
            if self._consumer is None:
                self._consumer = log_consumer(self.settings, "interlock-ends")
            kept = self._partitions.get(topic)
            if kept is None or time.monotonic() - kept[0] > PARTITIONS_KEPT_SECONDS:
                kept = (time.monotonic(), _partitions(self._consumer, topic, timeout))
                if not kept[1]:
                    return {}
                self._partitions[topic] = kept
            return {p: watermarks(self._consumer, topic, p, timeout)[1] for p in kept[1]}

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
