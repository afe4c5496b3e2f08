"""The command bus of the gateway: write a command to its topic, then wait briefly for its outcome.

Every gateway instance reads the whole outcomes topic from the end (no consumer group to share
it), so whichever instance took the request hears the answer; outcomes that arrive after the
caller was told 202 are kept for a while so that ``/commands/{id}`` can answer any instance.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from typing import Any

from confluent_kafka import OFFSET_END, TopicPartition

from events.codec import InvalidEvent, decode
from events.envelope import Envelope
from events.outcomes import CommandAccepted, CommandRejected
from events.topics import OUTCOMES
from services.kit.kafka import Publisher, consumer_for
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

Outcome = CommandAccepted | CommandRejected


class CommandBus:
    """Publishes commands and pairs each with its outcome by correlation id."""

    def __init__(self, settings: Settings, publisher: Publisher, *, keep: int = 10_000) -> None:
        self.settings = settings
        self.publisher = publisher
        self._pending: dict[str, asyncio.Future[Outcome]] = {}
        self._late: OrderedDict[str, tuple[str, Outcome]] = OrderedDict()
        self._keep = keep
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    async def start(self, timeout: float = 30) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._listen, name="outcomes", daemon=True)
        self._thread.start()
        ok = await asyncio.to_thread(self._ready.wait, timeout)
        if not ok:
            raise RuntimeError("could not start reading command outcomes from Kafka")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        topic = self.settings.topic(OUTCOMES.name)
        consumer = consumer_for(
            self.settings,
            {
                "group.id": self.settings.group_id(f"outcomes-{uuid.uuid4()}"),
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "latest",
                "fetch.wait.max.ms": 10,
            },
        )
        try:
            meta = consumer.list_topics(topic, timeout=30)
            partitions = meta.topics[topic].partitions
            if not partitions:
                raise RuntimeError(f"topic {topic} has no partitions (not provisioned?)")
            consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
            self._ready.set()
            while not self._stop.is_set():
                msg = consumer.poll(0.1)
                if msg is None or msg.error():
                    continue
                self._on_outcome(msg.value())
        except Exception:
            log.exception("outcome listener stopped")
        finally:
            consumer.close()

    def _on_outcome(self, raw: bytes | None) -> None:
        try:
            env = decode(raw)
        except InvalidEvent as exc:
            log.warning("unreadable outcome", reason=exc.reason)
            return
        outcome = env.data
        if not isinstance(outcome, (CommandAccepted, CommandRejected)):
            return
        with self._lock:
            fut = self._pending.pop(env.correlation_id, None)
            # The first outcome stands: a command replayed after a crash may be answered again
            # (a 409 for a task that the first run created), which must not overwrite it.
            self._late.setdefault(env.correlation_id, (env.originator, outcome))
            while len(self._late) > self._keep:
                self._late.popitem(last=False)
        if fut is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(_resolve, fut, outcome)

    async def send(self, command: Envelope, *, timeout: float | None = None) -> Outcome | None:
        """Publish ``command``; its outcome, or None if none came within the timeout."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Outcome] = loop.create_future()
        with self._lock:
            self._pending[command.correlation_id] = fut
        limit = self.settings.command_timeout_seconds
        wait = limit if timeout is None else min(timeout, limit)
        try:
            await self.publisher.publish_async([command])
            if wait <= 0:
                return None
            return await asyncio.wait_for(asyncio.shield(fut), wait)
        except TimeoutError:
            return None
        finally:
            with self._lock:
                self._pending.pop(command.correlation_id, None)

    def outcome(self, correlation_id: str, *, team: str) -> Outcome | None:
        """The outcome of a command ``team`` sent; None for any other (unknown or another's)."""
        with self._lock:
            found = self._late.get(correlation_id)
        if found is None or found[0] != team:
            return None
        return found[1]


def _resolve(fut: asyncio.Future[Any], outcome: Outcome) -> None:
    if not fut.done():
        fut.set_result(outcome)
