"""The JIT directory as the alerts worker sees it, read from the compacted directory topic.

Every alerts worker needs the whole directory (any JIT may land on it), and the topic is small
and compacted, so each process reads it from the start with its own consumer (no group) on a
thread, rather than through a faust agent whose consumer group would hand the topic's single
partition to one worker only. A command that names a JIT or desk the view does not know yet
waits for the view to catch up with the topic's current end (:meth:`Directory.sync`), so a JIT
registered a moment before its first alert is not refused.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from collections.abc import Iterable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition

from events.codec import InvalidEvent, decode
from events.directory import DeskRegistered, JitRegistered
from events.topics import DIRECTORY
from services.alerts.routing import Desk, DirectoryView
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

SYNC_MARGIN = 0.2
"""Seconds after a sync request by which the reader must have fetched (fetch.wait.max.ms is
50 ms), so that its "at the end" covers records written before the request."""


def take(consumer: Consumer, most: int, wait: float) -> list[Message]:
    """What has arrived, up to ``most`` records, waiting at most ``wait`` s for the first.

    ``Consumer.consume`` waits out its whole timeout unless the batch fills, which would add up
    to ``wait`` to every page's latency; ``poll`` returns with the first record.
    """
    first = consumer.poll(wait)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=most - 1, timeout=0)]


def desk_id(team: str) -> str:
    """A desk's id: its directory record id (one desk per team)."""
    return f"desk:{team}"


class Directory:
    """JITs and desks by id, kept current by a background reader of the directory topic."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._topic = settings.topic(DIRECTORY.name)
        self._jits: dict[str, JitRegistered] = {}
        self._desks: dict[str, DeskRegistered] = {}
        self._positions: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._failure: BaseException | None = None
        self._at_end_since = -math.inf
        self._waiting = 0
        """Syncs in progress: only then is an empty partition's end asked of the broker."""

    # --- reading ------------------------------------------------------------------------------

    def view(self, jit: str) -> DirectoryView | None:
        """What the alerts domain needs of ``jit``, or None for a JIT the directory lacks."""
        with self._lock:
            record = self._jits.get(jit)
            if record is None:
                return None
            desks = {
                team: Desk(team=team, desk_id=desk_id(team), team_lead=desk.team_lead)
                for team in record.member_teams
                if (desk := self._desks.get(team)) is not None
            }
        return DirectoryView(
            jit=record.jit_id,
            coordinator_team=record.coordinator_team,
            member_teams=frozenset(record.member_teams),
            desks=desks,
        )

    def webhook_url(self, team: str) -> str | None:
        """The team desk's webhook URL, or None when it has none."""
        with self._lock:
            desk = self._desks.get(team)
        return str(desk.webhook_url) if desk is not None and desk.webhook_url else None

    def on_call(self, team: str) -> tuple[str, ...]:
        """The addresses an e-mail page to the team's desk goes to: its on-call list, else the
        desk's own address; none when the team has no desk."""
        with self._lock:
            desk = self._desks.get(team)
        if desk is None:
            return ()
        return desk.on_call or (desk.email,)

    def knows(self, jit: str, teams: Iterable[str] = ()) -> bool:
        """Whether the view has the JIT, and a desk for each of ``teams`` that is a member."""
        with self._lock:
            record = self._jits.get(jit)
            if record is None:
                return False
            members = set(record.member_teams)
            return all(t in self._desks for t in teams if t in members)

    # --- the reader ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading the topic from its beginning on a daemon thread."""
        if self._thread is not None:
            return
        self._consumer = Consumer(
            {
                "bootstrap.servers": self._settings.kafka_bootstrap,
                "group.id": f"alerts-directory-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 50,
            }
        )
        self._thread = threading.Thread(target=self._read, name="directory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _read(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        try:
            partitions = self._partitions(consumer)
            with self._lock:
                self._positions = dict.fromkeys(partitions, 0)
            consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])
            self._started.set()
            while not self._stop.is_set():
                batch = take(consumer, 500, 0.05)
                for msg in batch:
                    if msg.error():
                        continue
                    partition, offset = msg.partition() or 0, msg.offset() or 0
                    self._apply(msg.key(), msg.value())
                    with self._lock:
                        self._positions[partition] = offset + 1
                if not batch and self._at_end(consumer):
                    self._at_end_since = time.monotonic()
        except Exception as exc:  # the worker refuses commands rather than use a stale view
            self._failure = exc
            self._started.set()
            log.exception("directory reader stopped")
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer, within: float = 30) -> list[int]:
        """The topic's partitions, waiting a while for a topic that is being created."""
        deadline = time.monotonic() + within
        while True:
            try:
                meta = consumer.list_topics(self._topic, timeout=10)
                partitions = sorted(meta.topics[self._topic].partitions)
                if partitions:
                    return partitions
                problem = f"topic {self._topic} has no partitions (not provisioned?)"
            except KafkaException as exc:
                problem = str(exc)[:200]
            if time.monotonic() > deadline:
                raise RuntimeError(problem)
            log.warning("directory reader waiting for its topic", reason=problem)
            time.sleep(0.5)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        record_id = key.decode("utf-8", "replace") if key else ""
        if value is None:
            with self._lock:
                if record_id.startswith("jit:"):
                    self._jits.pop(record_id.removeprefix("jit:"), None)
                elif record_id.startswith("desk:"):
                    self._desks.pop(record_id.removeprefix("desk:"), None)
            return
        try:
            envelope = decode(value)
        except InvalidEvent as exc:
            log.warning("unreadable directory record", record=record_id, reason=exc.reason)
            return
        data = envelope.data
        with self._lock:
            if isinstance(data, JitRegistered):
                self._jits[data.jit_id] = data
            elif isinstance(data, DeskRegistered):
                self._desks[data.team] = data

    # --- catching up --------------------------------------------------------------------------

    def _at_end(self, consumer: Consumer) -> bool:
        """Whether the reader has everything the last fetch told of (cached, no request)."""
        with self._lock:
            partitions = list(self._positions)
        try:
            for tp in consumer.position([TopicPartition(self._topic, p) for p in partitions]):
                _, high = consumer.get_watermark_offsets(tp, cached=True)
                if (high is None or high < 0) and self._waiting:
                    _, high = consumer.get_watermark_offsets(tp, timeout=5)
                if high is None or high < 0 or tp.offset is None or tp.offset < high:
                    return False
        except KafkaException:
            return False
        return True

    async def sync(self, within: float) -> bool:
        """Wait until the view has read everything on the topic now; False after ``within`` s.

        The reader marks when an empty fetch found it at the end of the topic; a mark made one
        fetch cycle after this call began covers every record written before it.
        """
        asked = time.monotonic()
        deadline = asked + within
        self._waiting += 1
        try:
            while self._at_end_since < asked + SYNC_MARGIN:
                if self._failure is not None:
                    raise RuntimeError("the directory reader stopped") from self._failure
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.01)
            return True
        finally:
            self._waiting -= 1
