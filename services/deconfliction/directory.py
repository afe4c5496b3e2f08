"""The JIT directory as the deconfliction worker needs it: desk contacts, JIT members and which
JIT agreements allow cross-JIT matching.

Every worker needs all of it (a hit may pair any two teams), and the topic is small and
compacted, so each process reads it from the start on a thread with its own consumer (no group),
rather than through an agent whose consumer group would give the single partition to one worker.
A record that names a team without a desk, or a JIT the view lacks, waits for the view to catch
up with the topic's end (:meth:`Directory.sync`), so a desk registered a moment before a hit is
told in it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterable, Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from events.codec import InvalidEvent, decode
from events.deconfliction import DeskContact
from events.directory import DeskRegistered, JitRegistered
from events.topics import DIRECTORY
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()


class Directory:
    """Desk contacts by team and JIT agreements by id, kept current by a background reader."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._topic = settings.topic(DIRECTORY.name)
        self._desks: dict[str, DeskContact] = {}
        self._jits: dict[str, JitRegistered] = {}
        self._cross_jit: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sync_requested = 0.0
        self._caught_up_at = -1.0
        """Monotonic time at which the reader last checked it had read up to the topic's end."""

    # --- the view -----------------------------------------------------------------------------

    def desks(self) -> Mapping[str, DeskContact]:
        """Every team's desk contact (a snapshot: the reader replaces, never mutates, it)."""
        return self._desks

    def members(self, jit: str) -> frozenset[str] | None:
        """The member teams of ``jit``, or None when the directory does not have the JIT."""
        record = self._jits.get(jit)
        return None if record is None else frozenset(record.member_teams)

    def cross_jit(self, jit: str) -> bool:
        """Whether the JIT's agreement allows matching against other JITs."""
        return jit in self._cross_jit

    def cross_jit_jits(self) -> frozenset[str]:
        return self._cross_jit

    def knows(self, jit: str | None = None, teams: Iterable[str] = ()) -> bool:
        """Whether the view has ``jit`` and a desk for each of ``teams``."""
        if jit is not None and jit not in self._jits:
            return False
        return all(team in self._desks for team in teams)

    @property
    def ready(self) -> bool:
        """Whether the whole topic has been read at least once."""
        return self._caught_up_at >= 0

    async def sync(self, timeout: float, *, fresh: float = 0.5) -> bool:
        """Wait until every directory record written before this call is in the view; a view
        that was at the topic's end ``fresh`` seconds ago counts as current (so a burst of
        records naming a JIT the directory lacks waits once, not once each)."""
        asked = time.monotonic()
        if self._caught_up_at >= asked - fresh:
            return True
        self._sync_requested = max(self._sync_requested, asked)
        deadline = asked + timeout
        while self._caught_up_at < asked:
            if time.monotonic() >= deadline:
                log.warning("directory view behind the topic", topic=self._topic)
                return False
            await asyncio.sleep(0.02)
        return True

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for the first full read of the topic (records are never handled before it)."""
        deadline = time.monotonic() + timeout
        while not self.ready and time.monotonic() < deadline:  # noqa: ASYNC110 - set by a thread
            await asyncio.sleep(0.05)

    # --- the reader ---------------------------------------------------------------------------

    def start(self) -> None:
        """Read the topic from its beginning on a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="directory", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_until_stopped()
            except Exception:  # a broken reader is restarted, never left silently stale
                log.exception("directory reader failed; restarting", topic=self._topic)
                self._stop.wait(1.0)

    def _read_until_stopped(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self._settings.kafka_bootstrap,
                "group.id": f"deconfliction-directory-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 50,
            }
        )
        try:
            meta = consumer.list_topics(self._topic, timeout=30)
            found = meta.topics.get(self._topic)
            if found is None or not found.partitions:
                raise RuntimeError(f"topic {self._topic} has no partitions (not provisioned?)")
            partitions = sorted(found.partitions)
            positions = dict.fromkeys(partitions, 0)
            consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])
            checked_at = -1.0
            while not self._stop.is_set():
                batch = consumer.consume(num_messages=500, timeout=0.05)
                for msg in batch:
                    if msg.error():
                        continue
                    self._apply(msg.value())
                    positions[msg.partition() or 0] = (msg.offset() or 0) + 1
                if batch:
                    continue
                wanted = self._sync_requested > checked_at or not self.ready
                if not wanted:
                    continue
                started = time.monotonic()
                if all(
                    positions[p]
                    >= consumer.get_watermark_offsets(
                        TopicPartition(self._topic, p), timeout=5, cached=False
                    )[1]
                    for p in partitions
                ):
                    checked_at = started
                    self._caught_up_at = started
        finally:
            consumer.close()

    def _apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            record = decode(value).data
        except InvalidEvent as exc:
            log.warning("unreadable directory record", reason=exc.reason)
            return
        with self._lock:
            if isinstance(record, DeskRegistered):
                self._desks = {**self._desks, record.team: DeskContact.from_directory(record)}
            elif isinstance(record, JitRegistered):
                self._jits = {**self._jits, record.jit_id: record}
                self._cross_jit = frozenset(
                    jit for jit, r in self._jits.items() if r.cross_jit_matching
                )
