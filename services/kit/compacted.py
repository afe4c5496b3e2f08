"""Reading a compacted topic whole, and on demand up to its current end.

A compacted topic is a table: read from the beginning it yields the latest value of every key.
The reader runs in a thread of its own (confluent-kafka is blocking), hands each record to
``take`` under its lock, and can be asked to catch up: block until every record written before
the call has been taken, which is how a caller that just learnt of a new key makes sure it sees
it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from services.kit.kafka import client_config, new_consumer
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

Take = Callable[[bytes | None, bytes | None], None]
"""Receives each record's key and value (None for a tombstone), under the reader's lock."""


class CompactedReader:
    """One thread following a compacted topic from its beginning."""

    def __init__(self, settings: Settings, topic: str, take: Take, *, name: str) -> None:
        self.topic = topic
        self._take = take
        self._name = name
        self._conf = client_config(
            settings,
            {
                "group.id": settings.group_id(f"{name}-reader"),
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            },
        )
        self.lock = threading.Condition()
        self._positions: dict[int, int] = {}
        self._partitions: list[int] = []
        self._at_end: set[int] = set()
        self._loaded = threading.Event()
        self._stop = threading.Event()
        self._wanted = 0
        self._served = 0
        self._targets: dict[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_loaded(self, timeout: float) -> bool:
        """Block until the whole topic has been read once (or the timeout passes)."""
        self.start()
        return self._loaded.wait(timeout)

    def catch_up(self, timeout: float = 10.0) -> bool:
        """Block until every record on the topic now has been taken; False on timeout."""
        self.start()
        with self.lock:
            self._wanted += 1
            ticket = self._wanted
            self.lock.notify_all()
            return self.lock.wait_for(lambda: self._served >= ticket and self._caught_up(), timeout)

    def _caught_up(self) -> bool:
        targets = self._targets
        return targets is not None and all(
            self._positions.get(p, 0) >= end for p, end in targets.items()
        )

    def _run(self) -> None:
        consumer = new_consumer(self._conf)
        # Ends are asked on a connection of their own: on the reader's, the question would wait
        # behind the long-polling fetch (up to fetch.wait.max.ms for each partition).
        ends = new_consumer(self._conf)
        try:
            self._assign(consumer)
            while not self._stop.is_set():
                self._serve_catch_up(ends)
                msg = consumer.poll(0.05)
                if msg is not None:
                    self._handle(msg)
        except Exception:
            log.exception("compacted topic reader stopped", topic=self.topic)
            raise
        finally:
            consumer.close()
            ends.close()

    def _assign(self, consumer: Consumer) -> None:
        while not self._stop.is_set():
            try:
                metadata = consumer.list_topics(self.topic, timeout=10)
            except KafkaException as exc:
                log.warning("broker not reachable; trying again", topic=self.topic, error=str(exc))
                time.sleep(1)
                continue
            found = metadata.topics.get(self.topic)
            if found is not None and found.error is None and found.partitions:
                self._partitions = sorted(found.partitions)
                consumer.assign(
                    [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self._partitions]
                )
                return
            log.warning("compacted topic not there yet", topic=self.topic)
            time.sleep(1)

    def _serve_catch_up(self, consumer: Consumer) -> None:
        with self.lock:
            wanted = self._wanted
        if wanted <= self._served:
            return
        targets = {}
        try:
            for p in self._partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=5, cached=False
                )
                targets[p] = high
        except KafkaException as exc:
            log.warning("topic ends not known yet; asking again", topic=self.topic, error=str(exc))
            time.sleep(0.1)
            return
        with self.lock:
            self._targets = targets
            self._served = wanted
            self.lock.notify_all()

    def _handle(self, msg: Message) -> None:
        error = msg.error()
        partition = msg.partition() or 0
        with self.lock:
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._positions[partition] = msg.offset() or 0
                    self._at_end.add(partition)
                    if self._at_end >= set(self._partitions):
                        self._loaded.set()
                else:
                    log.warning("compacted topic read error", topic=self.topic, error=error.str())
            else:
                self._take(msg.key(), msg.value())
                self._positions[partition] = (msg.offset() or 0) + 1
            self.lock.notify_all()
