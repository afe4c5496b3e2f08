"""Reading a team's feed topic by position, for the HTTP feed: opaque cursors and pages.

A cursor is the next offset to read on each partition of the feed. A page hands out records of
each partition in offset order and advances the cursor only past records it hands out, so a
client that resumes from the last cursor it got misses nothing and gets nothing twice, whatever
the page size. Records of different aggregates on different partitions may interleave; one
aggregate's records are on one partition, so they come in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from events.topics import feed_topic
from services.kit.kafka import watermarks
from services.kit.logs import Consumer, KafkaError, TopicPartition, log_consumer
from services.kit.settings import Settings

CURSOR_VERSION = "v1"
MAX_PARTITIONS = 10_000
READ_DEADLINE = 10.0
"""Longest a page may take to gather records that are already there."""


class InvalidCursorError(ValueError):
    """A cursor this service did not hand out (or one mangled on the way)."""


@dataclass(frozen=True)
class Cursor:
    """The next offset to read on each partition; partitions it does not name start at the start."""

    offsets: Mapping[int, int]

    def encode(self) -> str:
        positions = {str(p): o for p, o in sorted(self.offsets.items())}
        body = json.dumps(positions, separators=(",", ":"))
        return f"{CURSOR_VERSION}.{base64.urlsafe_b64encode(body.encode()).decode().rstrip('=')}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        version, _, body = text.partition(".")
        if version != CURSOR_VERSION or not body:
            raise InvalidCursorError("not a cursor of this feed (take it from a page's `cursor`)")
        try:
            raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidCursorError("the cursor is damaged") from None
        if not isinstance(raw, dict) or len(raw) > MAX_PARTITIONS:
            raise InvalidCursorError("the cursor is damaged")
        offsets: dict[int, int] = {}
        for partition, offset in raw.items():
            if not (partition.isdigit() and isinstance(offset, int) and offset >= 0):
                raise InvalidCursorError("the cursor is damaged")
            offsets[int(partition)] = offset
        return cls(MappingProxyType(offsets))

    def advanced(self, partition: int, offset: int) -> Cursor:
        """The cursor after the record at ``offset`` on ``partition`` was handed out."""
        return Cursor(MappingProxyType({**self.offsets, partition: offset + 1}))

    @classmethod
    def start(cls) -> Cursor:
        return cls(MappingProxyType({}))


@dataclass(frozen=True)
class FeedRecord:
    """One feed record and the cursor that resumes right after it."""

    partition: int
    offset: int
    value: bytes
    cursor: Cursor

    def event(self) -> Any:
        return json.loads(self.value)


@dataclass(frozen=True)
class Page:
    records: list[FeedRecord]
    cursor: Cursor
    caught_up: bool
    """Whether the page reached the end of every partition (as it stood when it was read)."""


class FeedReader:
    """Reads one team's feed topic with the services' own client; nothing is committed."""

    def __init__(self, settings: Settings, team: str) -> None:
        self.settings = settings
        self.topic = settings.topic(feed_topic(team).name)

    def page(
        self,
        cursor: Cursor | None,
        *,
        limit: int,
        since: datetime | None = None,
        wait: float = 0.0,
    ) -> Page:
        """Up to ``limit`` records after ``cursor`` (or from ``since``, or from the start).

        With ``wait`` > 0 and nothing to read, waits up to that long for a first record.
        """
        consumer = log_consumer(
            self.settings, "interlock-gateway-feed", **{"enable.partition.eof": True}
        )
        try:
            return self._page(consumer, cursor, limit=limit, since=since, wait=wait)
        finally:
            consumer.close()

    def _page(
        self,
        consumer: Consumer,
        cursor: Cursor | None,
        *,
        limit: int,
        since: datetime | None,
        wait: float,
    ) -> Page:
        metadata = consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            if wait > 0:
                time.sleep(min(wait, 1.0))
            return Page([], cursor or Cursor.start(), caught_up=True)
        partitions = sorted(metadata.partitions)
        positions, ends = self._positions(consumer, partitions, cursor, since)
        pending = {p for p in partitions if positions[p] < ends[p]}
        consumer.assign([TopicPartition(self.topic, p, positions[p]) for p in partitions])
        current = Cursor(MappingProxyType(dict(positions)))
        records: list[FeedRecord] = []
        started = time.monotonic()
        while len(records) < limit:
            elapsed = time.monotonic() - started
            if not pending and (records or elapsed >= wait):
                break
            if elapsed >= max(wait, READ_DEADLINE):
                break
            for msg in consumer.consume(limit - len(records), timeout=0.2):
                partition = msg.partition() or 0
                error = msg.error()
                offset = msg.offset() or 0
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"{self.topic}: {error.str()}")
                    pending.discard(partition)
                    if offset > current.offsets.get(partition, 0):
                        current = Cursor(MappingProxyType({**current.offsets, partition: offset}))
                    continue
                current = current.advanced(partition, offset)
                records.append(FeedRecord(partition, offset, msg.value() or b"", current))
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
        return Page(records, current, caught_up=not pending)

    def _positions(
        self,
        consumer: Consumer,
        partitions: list[int],
        cursor: Cursor | None,
        since: datetime | None,
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Where to start on each partition, and where each ends now."""
        bounds = {p: watermarks(consumer, self.topic, p) for p in partitions}
        timed: dict[int, int] = {}
        if cursor is None and since is not None:
            millis = int(since.timestamp() * 1000)
            found = consumer.offsets_for_times(
                [TopicPartition(self.topic, p, millis) for p in partitions], timeout=10
            )
            timed = {tp.partition: tp.offset for tp in found}
        positions: dict[int, int] = {}
        ends: dict[int, int] = {}
        for p in partitions:
            low, high = bounds[p]
            if cursor is not None:
                start = cursor.offsets.get(p, low)
            elif p in timed:
                start = timed[p] if timed[p] >= 0 else high
            else:
                start = low
            positions[p] = min(max(start, low), high)
            ends[p] = high
        return positions, ends
