"""The live desk stream (SSE, in the gateway): one hub reads the alert events and fans each out to
the desks it is for.

The desk stream's cursor
------------------------
An SSE ``id`` is a vector of Kafka offsets of ``interlock.alerts.events``, one per partition
(``c1-<o0>.<o1>…``): everything for this desk before those offsets has been sent. It grows
component-wise with every message, means the same on every gateway instance and survives a
gateway restart, so a reconnect with ``Last-Event-ID`` replays exactly what was missed: from the
hub's per-team ring when the ring reaches back that far, else read from Kafka at those offsets.
A message is only ever sent when its offset is at or past the cursor, so nothing comes twice;
an event the alerts worker decided again after a crash (same id, later offset) is dropped by id.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from events.alerts import AlertRaised
from events.codec import InvalidEvent, decode
from events.topics import ALERT_EVENTS
from services.alerts.delivery import (
    RaisedAlerts,
    SeenEvents,
    VictimBooks,
    desk_message,
    desk_teams,
)
from services.alerts.settings import AlertsSettings
from services.kit.kafka import take, watermarks
from services.kit.logging import get_logger
from services.kit.logs import Consumer, KafkaException, TopicPartition, log_consumer
from services.kit.settings import Settings

log = get_logger()

CURSOR_PATTERN = re.compile(r"^c1-\d{1,19}(\.\d{1,19}){0,999}$")


# --- the cursor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Per-partition offsets of the alert events topic: everything before them was sent."""

    offsets: tuple[int, ...]

    def encode(self) -> str:
        return "c1-" + ".".join(str(o) for o in self.offsets)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read a ``Last-Event-ID``; ValueError for anything that is not a desk stream cursor."""
        if not CURSOR_PATTERN.match(text):
            raise ValueError("Last-Event-ID is not a desk stream cursor")
        return cls(tuple(int(o) for o in text.removeprefix("c1-").split(".")))

    def widened(self, partitions: int) -> Cursor:
        """The cursor over ``partitions`` partitions; a partition added since starts at 0."""
        if len(self.offsets) >= partitions:
            return self
        return Cursor(self.offsets + (0,) * (partitions - len(self.offsets)))

    def at(self, partition: int) -> int:
        return self.offsets[partition] if partition < len(self.offsets) else 0


@dataclass(frozen=True)
class DeskEntry:
    """One message for one team's desk, at a position of the alert events topic.

    ``after`` is the hub's whole position right after this record (None when read for a
    replay outside the hub): everything before it has been handed to the team's subscribers.
    """

    partition: int
    offset: int
    after: tuple[int, ...] | None
    jit: str
    event: str
    data: str

    @cached_property
    def encoded(self) -> bytes:
        """The SSE ``event`` and ``data`` lines (compact JSON has no line breaks)."""
        return f"event: {self.event}\r\ndata: {self.data}\r\n".encode()


# --- the gateway's hub ------------------------------------------------------------------------


@dataclass(eq=False)
class Subscription:
    """One connected desk client: its team, the JITs it may see, and where it is."""

    team: str
    jits: frozenset[str]
    cursor: list[int]
    limit: int
    queue: asyncio.Queue[DeskEntry | None] = field(default_factory=asyncio.Queue)
    replay: list[DeskEntry] = field(default_factory=list)
    truncated: bool = False
    closed: bool = False

    def offer(self, entry: DeskEntry) -> None:
        if self.closed or entry.jit not in self.jits:
            return
        if self.queue.qsize() >= self.limit:
            self.closed = True
            self.queue.put_nowait(None)
            log.warning("desk stream overflowed; the client will resume", team=self.team)
            return
        self.queue.put_nowait(entry)

    def _advance(self, entry: DeskEntry) -> str | None:
        """The SSE id for ``entry``, or None when the client already has it."""
        p = entry.partition
        if p >= len(self.cursor):
            self.cursor.extend([0] * (p + 1 - len(self.cursor)))
        if entry.offset < self.cursor[p]:
            return None
        if entry.after is not None:
            for i, o in enumerate(entry.after):
                if i >= len(self.cursor):
                    self.cursor.append(o)
                elif o > self.cursor[i]:
                    self.cursor[i] = o
        self.cursor[p] = max(self.cursor[p], entry.offset + 1)
        return Cursor(tuple(self.cursor)).encode()

    def _encode(self, entries: Iterable[DeskEntry]) -> bytes:
        """The SSE messages for ``entries`` the client does not have yet, each with its id."""
        out = bytearray()
        for entry in entries:
            sse_id = self._advance(entry)
            if sse_id is not None:
                out += b"id: " + sse_id.encode() + b"\r\n" + entry.encoded + b"\r\n"
        return bytes(out)

    async def chunks(self, batch: int = 200) -> AsyncIterator[bytes]:
        """Encoded SSE messages: the replay, then live ones as they come (what has queued up
        goes in one write); ends when the client must resume from its last id."""
        for start in range(0, len(self.replay), batch):
            chunk = self._encode(self.replay[start : start + batch])
            if chunk:
                yield chunk
        if self.truncated:
            return
        while True:
            entries = [await self.queue.get()]
            while len(entries) < batch and not self.queue.empty():
                entries.append(self.queue.get_nowait())
            ended = entries[-1] is None
            chunk = self._encode(e for e in entries if e is not None)
            if chunk:
                yield chunk
            if ended:
                return


class DeskHub:
    """Reads the alert events from a bounded window and fans them out to connected desks.

    One confluent-kafka consumer per gateway process (no group: every instance reads every
    partition) on a thread; fan-out happens on the event loop, so a new subscriber's position,
    its replay and the live messages it then receives fit together without a gap or overlap.
    """

    def __init__(
        self, settings: Settings, alerts: AlertsSettings, victims: VictimBooks | None = None
    ) -> None:
        self.settings = settings
        self.alerts = alerts
        self.victims = victims
        self.topic = settings.topic(ALERT_EVENTS.name)
        self.partitions: list[int] = []
        self.positions: tuple[int, ...] = ()
        self.caught_up = False
        self._start_offsets: tuple[int, ...] = ()
        self._rings: dict[str, deque[DeskEntry]] = {}
        self._floors: dict[str, list[int]] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self._raised = RaisedAlerts()
        self._seen = SeenEvents()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _consumer(self) -> Consumer:
        return log_consumer(
            self.settings, "gateway-desks", **{"fetch.wait.max.ms": 5, "fetch.min.bytes": 1}
        )

    async def start(self, within: float = 30) -> None:
        """Start reading; returns once the hub knows its partitions and start offsets."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name="desk-hub", daemon=True)
        self._thread.start()
        if not await asyncio.to_thread(self._ready.wait, within):
            raise RuntimeError("the desk hub could not start reading alert events")
        if self._failure is not None:
            raise RuntimeError("the desk hub stopped") from self._failure

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # consumer thread --------------------------------------------------------------------------

    def _read(self) -> None:
        consumer = self._consumer()
        try:
            partitions, start = self._window(consumer)
            self.partitions = partitions
            self._start_offsets = tuple(start)
            self.positions = tuple(start)
            consumer.assign(
                [TopicPartition(self.topic, p, o) for p, o in zip(partitions, start, strict=True)]
            )
            self._ready.set()
            positions = list(start)
            while not self._stop.is_set():
                batch = take(consumer, 1000, 0.05)
                if not batch:
                    if not self.caught_up and self._at_end(consumer, positions):
                        self.caught_up = True
                    continue
                entries: list[tuple[str, DeskEntry]] = []
                for msg in batch:
                    if msg.error():
                        continue
                    p, o = msg.partition() or 0, msg.offset() or 0
                    positions[p] = o + 1
                    entries.extend(self._entries(p, o, tuple(positions), msg.value()))
                assert self._loop is not None
                if self._stop.is_set() or self._loop.is_closed():
                    break
                self._loop.call_soon_threadsafe(self._fan_out, entries, tuple(positions))
        except Exception as exc:  # reported to every new subscriber, logged once here
            self._failure = exc
            self._ready.set()
            log.exception("desk hub stopped")
        finally:
            consumer.close()

    def _window(self, consumer: Consumer, within: float = 30) -> tuple[list[int], list[int]]:
        """The topic's partitions and where the replay window starts in each.

        Retried for a while: right after the topic is created its partitions may have no
        leader yet, and the gateway should not fail to start for that.
        """
        deadline = time.monotonic() + within
        while True:
            try:
                meta = consumer.list_topics(self.topic, timeout=10)
                partitions = sorted(meta.topics[self.topic].partitions)
                if not partitions:
                    raise RuntimeError(f"topic {self.topic} has no partitions (not provisioned?)")
                since = int((time.time() - self.alerts.sse_window_seconds) * 1000)
                found = consumer.offsets_for_times(
                    [TopicPartition(self.topic, p, since) for p in partitions], timeout=10
                )
                start: list[int] = []
                for tp in found:
                    if tp.offset < 0:
                        _, high = consumer.get_watermark_offsets(
                            TopicPartition(self.topic, tp.partition), timeout=10
                        )
                        start.append(high)
                    else:
                        start.append(tp.offset)
                return partitions, start
            except (KafkaException, RuntimeError) as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("desk hub waiting for the alert events topic", reason=str(exc)[:200])
                time.sleep(0.5)

    def _at_end(self, consumer: Consumer, positions: list[int]) -> bool:
        try:
            for p in self.partitions:
                tp = TopicPartition(self.topic, p)
                _, high = consumer.get_watermark_offsets(tp, cached=True)
                if high is None or high < 0:
                    _, high = consumer.get_watermark_offsets(tp, timeout=5)
                if high is None or high < 0 or positions[p] < high:
                    return False
        except KafkaException:
            return False
        return True

    def _entries(
        self,
        partition: int,
        offset: int,
        after: tuple[int, ...] | None,
        value: bytes | None,
        *,
        local: RaisedAlerts | None = None,
        local_seen: SeenEvents | None = None,
    ) -> list[tuple[str, DeskEntry]]:
        """The desk messages for one record; none for a repeat of an event already read."""
        try:
            envelope = decode(value)
        except InvalidEvent as exc:
            log.warning(
                "unreadable alert event", partition=partition, offset=offset, reason=exc.reason
            )
            return []
        if local_seen is None:
            if not self._seen.first(envelope.id, partition, offset):
                return []
        elif self._seen.repeated(envelope.id, partition, offset) or not local_seen.first(
            envelope.id, partition, offset
        ):
            return []
        if isinstance(envelope.data, AlertRaised):
            (local or self._raised).remember(envelope)
            return []
        teams = desk_teams(envelope)
        if not teams:
            return []
        alert_id = getattr(envelope.data, "alert_id", None)
        raised = (local.get(alert_id) if local is not None else None) or self._raised.get(alert_id)
        return [
            (
                team,
                DeskEntry(
                    partition,
                    offset,
                    after,
                    envelope.jit,
                    envelope.type,
                    desk_message(envelope, raised, team, self.victims),
                ),
            )
            for team in sorted(teams)
        ]

    # event loop -------------------------------------------------------------------------------

    def _fan_out(self, entries: list[tuple[str, DeskEntry]], positions: tuple[int, ...]) -> None:
        for team, entry in entries:
            ring = self._rings.get(team)
            if ring is None:
                ring = self._rings[team] = deque()
                self._floors[team] = list(self._start_offsets)
            if len(ring) >= self.alerts.sse_ring_size:
                evicted = ring.popleft()
                floor = self._floors[team]
                floor[evicted.partition] = max(floor[evicted.partition], evicted.offset + 1)
            ring.append(entry)
            for sub in self._subscribers.get(team, ()):
                sub.offer(entry)
        self.positions = positions

    def _covers(self, team: str, cursor: Cursor) -> bool:
        floor = self._floors.get(team, list(self._start_offsets))
        return all(cursor.at(p) >= floor[p] for p in range(len(floor)))

    async def subscribe(
        self, team: str, jits: Iterable[str], last_event_id: Cursor | None
    ) -> Subscription:
        """Register a desk client; with a cursor, what it missed comes first, then live.

        RuntimeError when the hub has stopped or Kafka cannot be read right now.
        """
        try:
            return await self._subscribe(team, jits, last_event_id)
        except KafkaException as exc:
            raise RuntimeError(f"reading alert events failed: {exc}") from exc

    async def _subscribe(
        self, team: str, jits: Iterable[str], last_event_id: Cursor | None
    ) -> Subscription:
        if self._failure is not None:
            raise RuntimeError("the desk hub stopped") from self._failure
        n = len(self.partitions)
        visible = frozenset(jits)
        if last_event_id is None:
            sub = Subscription(team, visible, list(self.positions), self.alerts.sse_queue_size)
            self._subscribers.setdefault(team, set()).add(sub)
            if not self.caught_up:
                # still reading the window: start at the topic's end, not at the hub's position
                try:
                    sub.cursor = list(await asyncio.to_thread(self._ends))
                except BaseException:
                    self.unsubscribe(sub)
                    raise
            return sub
        cursor = last_event_id.widened(n)
        here = self.positions
        sub = Subscription(team, visible, list(cursor.offsets), self.alerts.sse_queue_size)
        self._subscribers.setdefault(team, set()).add(sub)
        limit = self.alerts.sse_replay_limit
        if self._covers(team, cursor):
            replay = [
                e
                for e in self._rings.get(team, ())
                if e.offset >= cursor.at(e.partition) and e.jit in visible
            ]
            sub.replay, sub.truncated = replay[:limit], len(replay) > limit
        else:
            try:
                sub.replay, sub.truncated = await asyncio.to_thread(
                    self._read_range, team, visible, cursor, here, limit
                )
            except BaseException:
                self.unsubscribe(sub)
                raise
        if sub.truncated:
            self.unsubscribe(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        subs = self._subscribers.get(sub.team)
        if subs is not None:
            subs.discard(sub)

    def subscribers(self, team: str | None = None) -> int:
        if team is not None:
            return len(self._subscribers.get(team, ()))
        return sum(len(s) for s in self._subscribers.values())

    # reads outside the hub's consumer ---------------------------------------------------------

    def _ends(self) -> tuple[int, ...]:
        consumer = self._consumer()
        try:
            return tuple(watermarks(consumer, self.topic, p)[1] for p in self.partitions)
        finally:
            consumer.close()

    def _read_range(
        self,
        team: str,
        jits: frozenset[str],
        cursor: Cursor,
        until: tuple[int, ...],
        limit: int,
        timeout: float = 30,
    ) -> tuple[list[DeskEntry], bool]:
        """The team's messages from ``cursor`` up to ``until``, read from Kafka; and whether the
        read stopped at ``limit`` (or the timeout) before reaching ``until``."""
        wanted = {p: (cursor.at(p), until[p]) for p in self.partitions if cursor.at(p) < until[p]}
        if not wanted:
            return [], False
        consumer = self._consumer()
        entries: list[DeskEntry] = []
        local = RaisedAlerts()
        local_seen = SeenEvents()
        deadline = time.monotonic() + timeout
        try:
            consumer.assign([TopicPartition(self.topic, p, lo) for p, (lo, _) in wanted.items()])
            remaining = set(wanted)
            while remaining:
                if time.monotonic() > deadline:
                    return entries, True
                for msg in take(consumer, 1000, 0.2):
                    if msg.error():
                        continue
                    p, o = msg.partition() or 0, msg.offset() or 0
                    if p not in remaining or o >= wanted[p][1]:
                        continue
                    for entry_team, entry in self._entries(
                        p, o, None, msg.value(), local=local, local_seen=local_seen
                    ):
                        if entry_team == team and entry.jit in jits:
                            entries.append(entry)
                            if len(entries) >= limit:
                                return entries, True
                positions = consumer.position(
                    [TopicPartition(self.topic, p) for p in sorted(remaining)]
                )
                for tp in positions:
                    if tp.offset is not None and tp.offset >= wanted[tp.partition][1]:
                        remaining.discard(tp.partition)
            return entries, False
        finally:
            consumer.close()
