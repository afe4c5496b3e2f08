"""The release worker: the sharing policy applied once, per-team feeds out, national systems'
commands relayed in.

Feeds: every catalogued event topic (but the directory, outcomes, dead letters and audit) is
read in one consumer group; each event goes, as each team may see it, to that team's feed topic
with the source record's key, so a feed is in order per aggregate. A batch's offsets are
acknowledged only after every feed record of the batch is acknowledged by the broker
(at-least-once); a replay after a crash writes the same CloudEvents ids again, so a national
system drops repeats by id.

Directory: every worker keeps its own full copy of the JIT records (a consumer with no group,
from the start of the compacted topic), loaded before the first event is released. Before a
team is refused for want of JIT membership, the copy is brought up to the topic's end, so a
JIT record written just before an event is never missed.

Relay: a national system writes commands to its own ``<context>.commands.<TEAM>`` topic, which
only its principal may write. The relay checks that the command speaks for that team only
(:func:`services.release.policy.admit_command`) and forwards the record unchanged, with its key,
to the shared command topic; anything else goes to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

import faust
from confluent_kafka import (
    Consumer,
    KafkaError,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from mode import Service

from events.codec import InvalidEvent, decode, encode, sealed_subject
from events.envelope import Envelope
from events.topics import DIRECTORY, feed_topic
from services.kit.compacted import CompactedReader
from services.kit.disclosure import regions_of
from services.kit.kafka import Producer, dead_letter_record, dead_letter_topic, producer_config
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.streams import DeadLetters, create_app, decode_or_explain, raw_topic
from services.release.credentials import ensure_topics
from services.release.policy import (
    Directory,
    admit_command,
    decide,
    fed_topics,
    links_of,
    parse_team_command_topic,
    view_for,
)
from services.release.shares import ShareBook

log = get_logger()

BATCH = 500
BATCH_WITHIN = 0.05
CATCH_UP_TIMEOUT = 5.0


class DirectoryView:
    """This worker's own, whole copy of the directory's JIT records, kept current by a thread."""

    def __init__(self, settings: Settings) -> None:
        self._directory = Directory()
        self._reader = CompactedReader(
            settings.kafka_bootstrap,
            settings.topic(DIRECTORY.name),
            self._take,
            name="release-directory",
        )

    @property
    def snapshot(self) -> Directory:
        return self._directory

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    def wait_loaded(self, timeout: float) -> bool:
        """Block until the whole topic has been read once (or the timeout passes)."""
        return self._reader.wait_loaded(timeout)

    async def loaded(self) -> None:
        """Return once the whole topic has been read once (at once when it has)."""
        while not await asyncio.to_thread(self.wait_loaded, 1.0):
            log.info("waiting for the directory", topic=self._reader.topic)

    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        """Block until every record on the directory topic now has been read."""
        return self._reader.catch_up(timeout)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        envelope: Envelope | None = None
        if value is not None:
            try:
                envelope = decode(value)
            except InvalidEvent as exc:
                log.warning("directory record skipped", reason=exc.reason)
        self._directory = self._directory.with_record(
            key.decode("utf-8", "replace") if key is not None else None, envelope
        )


class FeedTopics:
    """Creates per-team feed topics on first use and remembers the ones that exist."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
        self.known: set[str] = set()

    def name(self, team: str) -> str:
        return self.settings.topic(feed_topic(team).name)

    def ensure(self, teams: Iterable[str]) -> None:
        missing = {self.name(t): feed_topic(t) for t in teams if self.name(t) not in self.known}
        if missing:
            ensure_topics(self.admin, self.settings, missing)
            self.known |= set(missing)


class CommandRelay:
    """Forwards national systems' commands from their own topics to the shared command topics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        prefix = re.escape(settings.topic_prefix)
        self.pattern = f"^{prefix}interlock\\.[a-z]+\\.commands\\.[A-Z]{{2}}-[A-Z0-9]{{2,16}}$"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="release-relay", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "group.id": self.settings.topic("interlock-release-relay"),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 3000,
            }
        )
        producer = Producer(producer_config(self.settings))
        consumer.subscribe([self.pattern])
        try:
            while not self._stop.is_set():
                batch = [m for m in consumer.consume(200, 0.5) if self._readable(m)]
                if batch:
                    self._relay(consumer, producer, batch)
        except Exception:
            log.exception("command relay stopped")
            raise
        finally:
            producer.flush(10)
            consumer.close()

    @staticmethod
    def _readable(msg: Message) -> bool:
        error = msg.error()
        if error is None:
            return True
        if error.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
            log.warning("relay read error", error=error.str())
        return False

    def _relay(self, consumer: Consumer, producer: Producer, batch: list[Message]) -> None:
        errors: list[str] = []

        def done(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err.str())

        for msg in batch:
            target, value, reason = self._route(msg)
            if target is None:
                key, record = dead_letter_record(
                    service="release-relay",
                    topic=msg.topic() or "",
                    partition=msg.partition() or 0,
                    offset=msg.offset() or 0,
                    key=msg.key(),
                    value=msg.value(),
                    reason=reason,
                )
                producer.produce(
                    dead_letter_topic(self.settings), key=key, value=record, on_delivery=done
                )
                log.warning("command refused at the relay", topic=msg.topic(), reason=reason)
            else:
                producer.produce(target, key=msg.key(), value=value, on_delivery=done)
            producer.poll(0)
        if producer.flush(60) or errors:
            log.error("relay could not forward; will read the batch again", errors=errors[:3])
            self._rewind(consumer, batch)
            return
        consumer.commit(offsets=_next_offsets(batch), asynchronous=False)

    def _route(self, msg: Message) -> tuple[str | None, bytes | None, str]:
        name = (msg.topic() or "").removeprefix(self.settings.topic_prefix)
        parsed = parse_team_command_topic(name)
        if parsed is None:
            return None, None, f"{name} is not a team's command topic"
        context, team = parsed
        value = msg.value()
        try:
            envelope = decode(value)
        except InvalidEvent as exc:
            return None, None, exc.reason
        reason = admit_command(envelope, team=team, context=context)
        if reason is not None:
            return None, None, reason
        return self.settings.topic(context.name), value, ""

    def _rewind(self, consumer: Consumer, batch: list[Message]) -> None:
        first: dict[tuple[str, int], int] = {}
        for m in batch:
            tp = (m.topic() or "", m.partition() or 0)
            first[tp] = min(first.get(tp, m.offset() or 0), m.offset() or 0)
        for (topic, partition), offset in first.items():
            consumer.seek(TopicPartition(topic, partition, offset))
        time.sleep(1)


def _next_offsets(batch: list[Message]) -> list[TopicPartition]:
    """The offsets to commit after a batch: one past the last record of each partition."""
    last: dict[tuple[str, int], int] = {}
    for m in batch:
        last[(m.topic() or "", m.partition() or 0)] = (m.offset() or 0) + 1
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in last.items()]


def build(settings: Settings) -> faust.App:
    """The release worker: sharing policy → per-team feeds; national systems' commands relayed."""
    app = create_app("release", settings)
    directory = DirectoryView(settings)
    shares = ShareBook(settings)
    feeds = FeedTopics(settings)
    relay = CommandRelay(settings)
    dead = DeadLetters(app, settings, "release")
    sources = [raw_topic(app, settings, t) for t in fed_topics()]
    channel = app.topic(
        *[t.get_topic_name() for t in sources], key_serializer="raw", value_serializer="raw"
    )
    outputs: dict[str, faust.TopicT] = {}

    class Background(Service):
        """Loads the directory before the worker reports ready; runs the relay."""

        async def on_start(self) -> None:
            await directory.loaded()
            await shares.loaded()
            relay.start()

        async def on_stop(self) -> None:
            relay.stop()
            directory.stop()
            shares.stop()

    app.service(Background)

    def output(team: str) -> faust.TopicT:
        if team not in outputs:
            outputs[team] = raw_topic(app, settings, feeds.name(team))
        return outputs[team]

    @app.agent(channel, name=f"{app.conf.id}.release")  # type: ignore[untyped-decorator]
    async def release_events(stream: faust.StreamT[bytes]) -> None:
        # faust's StreamT stub lacks noack_take, which the Stream it is at run time has
        async for batch in stream.noack_take(BATCH, within=BATCH_WITHIN):
            await _release(list(batch))
            for event in batch:
                event.ack()

    async def _release(batch: list[faust.EventT[bytes]]) -> None:
        """Write one batch's feed records; the batch is acknowledged only after this returns."""
        await directory.loaded()
        await shares.loaded()
        decoded: list[tuple[faust.EventT[bytes], Envelope]] = []
        for event in batch:
            envelope, error, _ = decode_or_explain(event.value)
            if envelope is None:
                assert error is not None
                await dead.refuse(event, error)
            else:
                decoded.append((event, envelope))
        await shares.remember(env for _, env in decoded)
        known = await shares.knowing(set().union(*(links_of(env) for _, env in decoded)))
        snapshot = directory.snapshot
        if any(decide(env, snapshot).withheld for _, env in decoded):
            await asyncio.to_thread(directory.catch_up)
            snapshot = directory.snapshot
        records: list[tuple[str, Any, bytes]] = []
        for event, envelope in decoded:
            sealed = sealed_subject(envelope) is not None
            decision = decide(envelope, snapshot)
            if decision.withheld:
                log.info(
                    "not released to teams outside the JIT",
                    event_id=envelope.id,
                    jit=envelope.jit,
                    teams=sorted(decision.withheld),
                )
            regions = regions_of(snapshot.jits.get(envelope.jit, envelope.audience))
            for team in sorted(decision.teams):
                view = view_for(envelope, team, regions, known)
                if view is None:
                    continue
                value = event.value if view is envelope and not sealed else encode(view, seal=False)
                records.append((team, event.message.key, value))
        if not records:
            return
        await asyncio.to_thread(feeds.ensure, {team for team, _, _ in records})
        pending = [await output(team).send(key=key, value=value) for team, key, value in records]
        await asyncio.gather(*pending)

    return app
