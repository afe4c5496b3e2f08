"""Reading every topic whose name matches a pattern (one per team), on a thread of its own.

Per-team topics appear while a worker runs (a team's first feed record, a national system's
command topic), so they are read by subscription to a regular expression, in a consumer group.
Each batch is routed to the records it calls for; they are written and confirmed by the broker
before the batch's offsets are committed, and a batch whose records the broker did not confirm is
read again: a record is acknowledged only once what it called for is done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from services.kit.kafka import DeliveryFailed, OutgoingRecord, Publisher, consumer_for
from services.kit.logging import get_logger
from services.kit.settings import Settings

__all__ = ["Message", "PatternReader", "Route", "next_offsets", "rewind"]

log = get_logger()

Route = Callable[[Message], Sequence[OutgoingRecord]]
"""The records one message read calls for (none to pass it over)."""

PASSED_OVER = (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART)


class PatternReader:
    """One thread reading, in a consumer group, the topics whose names match ``pattern``."""

    def __init__(
        self,
        settings: Settings,
        *,
        pattern: str,
        group: str,
        name: str,
        route: Route,
        batch: int = 500,
        wait: float = 0.5,
    ) -> None:
        self.settings = settings
        self.pattern = pattern
        self.group = group
        self.name = name
        self.route = route
        self.batch = batch
        self.wait = wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        consumer = consumer_for(
            self.settings,
            {
                "group.id": self.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 3000,
            },
        )
        publisher = Publisher(self.settings)
        consumer.subscribe([self.pattern])
        try:
            while not self._stop.is_set():
                batch = [m for m in consumer.consume(self.batch, self.wait) if self._readable(m)]
                if not batch:
                    continue
                records = [r for m in batch for r in self.route(m)]
                try:
                    publisher.publish_records(records)
                except (DeliveryFailed, KafkaException) as exc:
                    log.error("batch not written; reading it again", reader=self.name, error=exc)
                    rewind(consumer, batch)
                    time.sleep(1)
                    continue
                consumer.commit(offsets=next_offsets(batch), asynchronous=False)
        except Exception:
            log.exception("pattern reader stopped", reader=self.name)
            raise
        finally:
            publisher.close()
            consumer.close()

    def _readable(self, msg: Message) -> bool:
        error = msg.error()
        if error is None:
            return True
        if error.code() not in PASSED_OVER:
            log.warning("read error", reader=self.name, error=error.str())
        return False


def rewind(consumer: Consumer, batch: Sequence[Message]) -> None:
    """Seek each partition of a batch back to its first record: the batch is read again."""
    first: dict[tuple[str, int], int] = {}
    for m in batch:
        tp = (m.topic() or "", m.partition() or 0)
        first[tp] = min(first.get(tp, m.offset() or 0), m.offset() or 0)
    for (topic, partition), offset in first.items():
        consumer.seek(TopicPartition(topic, partition, offset))


def next_offsets(batch: Sequence[Message]) -> list[TopicPartition]:
    """The offsets to commit after a batch: one past the last record of each partition."""
    last: dict[tuple[str, int], int] = {}
    for m in batch:
        last[(m.topic() or "", m.partition() or 0)] = (m.offset() or 0) + 1
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in last.items()]
