"""Rebuild the indicators' facts from the log: clear them, replay the counted topics from the
beginning. Writes are ``MERGE`` on event ids, so a rebuild gives the same facts, hence the same
indicators, as the live worker (tested); the worker may keep running meanwhile."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, TopicPartition
from neo4j import AsyncDriver

from events.codec import ErasedEvent, InvalidEvent, decode
from events.envelope import Envelope
from services.indicators.agents import BATCH, COUNTED_TOPICS, write_until_done
from services.indicators.store import clear_facts, ensure_schema
from services.kit.kafka import consumer_for, watermarks
from services.kit.keys import KafkaKeyRing
from services.kit.settings import Settings


@dataclass
class RebuildReport:
    read: int = 0
    counted: int = 0
    erased: int = 0
    invalid: int = 0
    cleared: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"cleared {self.cleared} facts; read {self.read} records in {self.seconds:.1f}s: "
            f"{self.counted} events, {self.erased} erased, {self.invalid} invalid"
        )


def records(settings: Settings) -> Iterator[list[Message]]:
    """Batches of every record on the counted topics, up to their ends when reading started."""
    consumer = consumer_for(
        settings,
        {
            "group.id": settings.group_id(f"rebuild-{uuid.uuid4().hex[:8]}"),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        },
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        last: dict[tuple[str, int], int] = {}
        assignment: list[TopicPartition] = []
        for spec in COUNTED_TOPICS:
            name = settings.topic(spec.name)
            topic = metadata.topics.get(name)
            if topic is None or topic.error is not None:
                continue
            for partition in topic.partitions:
                low, high = watermarks(consumer, name, partition)
                if high > low:
                    last[(name, partition)] = high - 1
                    assignment.append(TopicPartition(name, partition, low))
        if not assignment:
            return
        consumer.assign(assignment)
        idle = time.monotonic()
        while last:
            batch: list[Message] = []
            for msg in consumer.consume(num_messages=BATCH, timeout=1.0):
                error = msg.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"reading {msg.topic()}: {error.str()}")
                    continue
                key = (str(msg.topic()), int(msg.partition() or 0))
                if key not in last:
                    continue
                batch.append(msg)
                if (msg.offset() or 0) >= last[key]:
                    del last[key]
            if batch:
                idle = time.monotonic()
                yield batch
            elif time.monotonic() - idle > 30:
                raise TimeoutError(f"no records for 30s; still to read: {sorted(last)}")
    finally:
        consumer.close()


async def rebuild(
    settings: Settings,
    driver: AsyncDriver,
    *,
    jits: Sequence[str] | None = None,
    clear: bool = True,
) -> RebuildReport:
    """Clear the facts (of ``jits``, or all) and count the log again; ``clear=False`` replays
    on top of the facts there are (every write is a MERGE on the event id)."""
    started = time.monotonic()
    report = RebuildReport()
    await ensure_schema(driver)
    if clear:
        report.cleared = await clear_facts(driver, jits)
    ring = KafkaKeyRing(settings, name="indicators-rebuild").start()
    batches = records(settings)
    try:
        while True:
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                break
            envelopes: list[Envelope] = []
            for msg in batch:
                report.read += 1
                try:
                    env = decode(msg.value(), ring=ring)
                except ErasedEvent:
                    report.erased += 1
                    continue
                except InvalidEvent:
                    report.invalid += 1
                    continue
                if jits is None or env.jit in jits or _audit_jit(env) in jits:
                    report.counted += 1
                    envelopes.append(env)
            await write_until_done(driver, envelopes)
    finally:
        ring.stop()
    report.seconds = time.monotonic() - started
    return report


def _audit_jit(env: Envelope) -> str | None:
    jit = getattr(env.data, "jit", None)
    return jit if isinstance(jit, str) else None
