"""The audit worker: audit records derived from the domain events and the team feeds, and the
one writer that appends every audit record to the hash-chained log.

- ``derive_records`` reads the domain event topics (collection, alteration, combination) and
  writes an audit record per event, with an id derived from the event's, to the audit topic.
- A feed reader (a plain consumer subscribed to every team's feed topic by pattern, because feed
  topics appear as teams join) writes a disclosure record per feed record: what went to whom.
- ``chain_records`` reads the audit topic (one partition: one writer, one order) and appends
  each record to the chain topic. The chain's head is read back from the chain topic itself when
  the worker starts, with the audit-topic offset of the last link: a record already chained is
  skipped after a crash, and a repeated record id (an at-least-once replay upstream) is dropped.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import faust
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from mode import Service

from events.audit import AuditRecorded, ChainLink
from events.codec import InvalidEvent, decode, encode, partition_key
from events.topics import (
    ALERT_EVENTS,
    AUDIT,
    AUDIT_CHAIN,
    DECONFLICTION_EVENTS,
    EVIDENCE_EVENTS,
    FEED_PREFIX,
    LEAD_EVENTS,
    RETENTION_EVENTS,
    TASK_EVENTS,
)
from services.audit import domain
from services.audit.chain import Head, append
from services.kit.kafka import Publisher, watermarks
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.streams import DeadLetters, create_app, decode_or_explain, raw_topic

log = get_logger()

AUDITED_TOPICS = (
    LEAD_EVENTS,
    DECONFLICTION_EVENTS,
    TASK_EVENTS,
    ALERT_EVENTS,
    RETENTION_EVENTS,
    EVIDENCE_EVENTS,
)
BATCH = 500
BATCH_WITHIN = 0.05
RECENT_IDS = 20_000
"""How many recent record ids the chain writer remembers to drop repeats."""


class RecentIds:
    """A bounded set of the record ids chained last."""

    def __init__(self, size: int = RECENT_IDS) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._ids

    def add(self, record_id: str) -> None:
        self._ids[record_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


def read_tail(settings: Settings, size: int = RECENT_IDS) -> tuple[Head, RecentIds]:
    """The chain's head and its last ``size`` record ids, read from the chain topic."""
    topic = settings.topic(AUDIT_CHAIN.name)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": settings.topic("interlock-audit-head"),
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    recent = RecentIds(size)
    head = Head()
    try:
        low, high = watermarks(consumer, topic, 0, timeout=120)
        if high <= low:
            return head, recent
        consumer.assign([TopicPartition(topic, 0, max(low, high - size))])
        while True:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    break
                raise RuntimeError(f"reading the audit chain: {error.str()}")
            link = ChainLink.model_validate_json(msg.value() or b"")
            recent.add(link.record_id)
            head = Head.after(link)
            if (msg.offset() or 0) >= high - 1:
                break
    finally:
        consumer.close()
    return head, recent


class FeedReader:
    """Writes a disclosure record for every record the release wrote to a team's feed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        prefix = re.escape(settings.topic(FEED_PREFIX))
        self.pattern = f"^{prefix}[A-Z]{{2}}-[A-Z0-9]{{2,16}}$"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-feeds", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "group.id": self.settings.topic("interlock-audit-feeds"),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 3000,
            }
        )
        publisher = Publisher(self.settings)
        consumer.subscribe([self.pattern])
        try:
            while not self._stop.is_set():
                batch = [m for m in consumer.consume(500, 0.5) if _readable(m)]
                if not batch:
                    continue
                try:
                    publisher.publish([e for m in batch for e in self._records(m)])
                except Exception:
                    log.exception("disclosure records not written; reading the batch again")
                    _rewind(consumer, batch)
                    continue
                consumer.commit(asynchronous=False)
        except Exception:
            log.exception("feed reader stopped")
            raise
        finally:
            publisher.close()
            consumer.close()

    def _records(self, msg: Message) -> list[Any]:
        team = (msg.topic() or "").removeprefix(self.settings.topic(FEED_PREFIX))
        try:
            envelope = decode(msg.value())
        except InvalidEvent as exc:
            log.warning("feed record not audited", topic=msg.topic(), reason=exc.reason[:200])
            return []
        _, stamp = msg.timestamp()
        at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp and stamp > 0 else envelope.time
        record = domain.disclosure(envelope, team, at=at)
        return [
            domain.envelope_of(
                record,
                id=domain.record_id(envelope.id, "disclosure", team),
                correlation_id=envelope.correlation_id,
            )
        ]


def _readable(msg: Message) -> bool:
    error = msg.error()
    if error is None:
        return True
    if error.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
        log.warning("feed read error", error=error.str())
    return False


def _rewind(consumer: Consumer, batch: list[Message]) -> None:
    first: dict[tuple[str, int], int] = {}
    for m in batch:
        tp = (m.topic() or "", m.partition() or 0)
        first[tp] = min(first.get(tp, m.offset() or 0), m.offset() or 0)
    for (topic, partition), offset in first.items():
        consumer.seek(TopicPartition(topic, partition, offset))


class ChainState:
    """The chain writer's head, read from the chain topic once before the first append."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.head: Head | None = None
        self.recent = RecentIds()

    async def loaded(self) -> Head:
        if self.head is None:
            head, self.recent = await asyncio.to_thread(read_tail, self.settings)
            log.info("audit chain head", sequence=head.sequence)
            self.head = head
        return self.head


def build(settings: Settings) -> faust.App:
    """The audit worker: records derived from domain events and feeds; the chain's one writer."""
    app = create_app("audit", settings)
    dead = DeadLetters(app, settings, "audit")
    sources = [raw_topic(app, settings, t) for t in AUDITED_TOPICS]
    channel = app.topic(
        *[t.get_topic_name() for t in sources], key_serializer="raw", value_serializer="raw"
    )
    audit_topic = raw_topic(app, settings, AUDIT)
    chain_topic = raw_topic(app, settings, AUDIT_CHAIN)
    feeds = FeedReader(settings)
    chain = ChainState(settings)

    class Background(Service):
        """Reads the chain's head before the worker reports ready; runs the feed reader."""

        async def on_start(self) -> None:
            await chain.loaded()
            feeds.start()

        async def on_stop(self) -> None:
            feeds.stop()

    app.service(Background)

    @app.agent(channel, name=f"{app.conf.id}.derive-records")  # type: ignore[untyped-decorator]
    async def derive_records(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            pending = []
            for event in batch:
                envelope, error, _ = decode_or_explain(event.value)
                if envelope is None:
                    assert error is not None
                    await dead.refuse(event, error)
                    continue
                record = domain.derive(envelope)
                if record is None:
                    continue
                out = domain.envelope_of(
                    record,
                    id=domain.record_id(envelope.id),
                    correlation_id=envelope.correlation_id,
                )
                pending.append(await audit_topic.send(key=partition_key(out), value=encode(out)))
            await asyncio.gather(*pending)
            for event in batch:
                event.ack()

    @app.agent(audit_topic, name=f"{app.conf.id}.chain-records")  # type: ignore[untyped-decorator]
    async def chain_records(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            try:
                await _chain(list(batch))
            except Exception as exc:
                log.exception("audit chain write failed; restarting from the chain's head")
                await app.crash(exc)
                return
            for event in batch:
                event.ack()

    async def _chain(batch: list[faust.EventT[bytes]]) -> None:
        head = await chain.loaded()
        pending = []
        for event in batch:
            offset = event.message.offset
            if offset <= head.source_offset:
                continue
            envelope, error, _ = decode_or_explain(event.value)
            if envelope is None or not isinstance(envelope.data, AuditRecorded):
                reason = (
                    error.reason if error else f"{envelope and envelope.type} is no audit record"
                )
                await dead.send(event, reason, error.fields if error else ("type",))
                continue
            if envelope.id in chain.recent:
                continue
            link = append(
                head,
                record_id=envelope.id,
                source_offset=offset,
                record=envelope.data.model_dump(mode="json"),
            )
            value = json.dumps(link.model_dump(mode="json"), separators=(",", ":")).encode()
            pending.append(await chain_topic.send(key=b"chain", value=value))
            chain.recent.add(envelope.id)
            head = chain.head = Head.after(link)
        await asyncio.gather(*pending)

    return app
