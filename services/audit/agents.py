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
from collections import OrderedDict
from datetime import UTC, datetime

import faust
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
from services.kit.kafka import OutgoingRecord, Publisher
from services.kit.logging import get_logger
from services.kit.logs import read_partition
from services.kit.readers import Message, PatternReader
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
    recent = RecentIds(size)
    head = Head()
    values = read_partition(
        settings,
        settings.topic(AUDIT_CHAIN.name),
        last=size,
        group="interlock-audit-head",
        timeout=120,
    )
    for value in values:
        link = ChainLink.model_validate_json(value)
        recent.add(link.record_id)
        head = Head.after(link)
    return head, recent


def feed_reader(settings: Settings) -> PatternReader:
    """Writes a disclosure record for every record the release wrote to a team's feed."""
    prefix = settings.topic(FEED_PREFIX)
    publisher = Publisher(settings)

    def disclosures(msg: Message) -> list[OutgoingRecord]:
        team = (msg.topic() or "").removeprefix(prefix)
        try:
            envelope = decode(msg.value())
        except InvalidEvent as exc:
            log.warning("feed record not audited", topic=msg.topic(), reason=exc.reason[:200])
            return []
        _, stamp = msg.timestamp()
        at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp and stamp > 0 else envelope.time
        record = domain.disclosure(envelope, team, at=at)
        disclosed = domain.envelope_of(
            record,
            id=domain.record_id(envelope.id, "disclosure", team),
            correlation_id=envelope.correlation_id,
        )
        return [publisher.record_of(disclosed)]

    return PatternReader(
        settings,
        pattern=f"^{re.escape(prefix)}[A-Z]{{2}}-[A-Z0-9]{{2,16}}$",
        group=settings.topic("interlock-audit-feeds"),
        name="audit-feeds",
        route=disclosures,
    )


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
    feeds = feed_reader(settings)
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
