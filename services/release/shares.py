"""What the release worker remembers of each record it released: who may see it.

A task or an alert links to leads, tasks and operations by id. Its feed record may name only
those the team's feed may carry (:func:`services.kit.disclosure.fed_links`), and the release
worker meets the task long after the lead. So every lead, task and operation event it reads
leaves its record's sharing (originator, audience, markings, readers) on a compacted topic of
its own, ``interlock.release.shares``, which every release worker reads whole, as the directory.
A link to a record the book does not know is dropped: a feed never learns that it exists.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from events.catalogue import CATALOGUE
from events.envelope import Envelope
from events.topics import SHARES
from services.kit.compacted import CompactedReader
from services.kit.disclosure import Record
from services.kit.kafka import Publisher
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

SHARED_SUBJECTS = frozenset({"lead_id", "task_id", "operation_id"})
"""The records links point at: those sealed with their own subject's key."""

CATCH_UP_TIMEOUT = 5.0


def share_of(envelope: Envelope) -> tuple[str, Record] | None:
    """The record an event is of, with its sharing; None for events of no linkable record."""
    entry = CATALOGUE.entry(envelope.type)
    if entry.sealed_by not in SHARED_SUBJECTS:
        return None
    subject = getattr(envelope.data, entry.sealed_by, None)
    if not isinstance(subject, str) or not subject:
        return None
    return subject, Record.of_envelope(envelope)


def to_json(record: Record) -> bytes:
    return json.dumps(
        {
            "originator": record.originator,
            "audience": sorted(record.audience),
            "tlp": record.marking.tlp.value,
            "handling": record.marking.code.value,
            "readers": sorted(record.readers),
        },
        separators=(",", ":"),
    ).encode()


def from_json(value: bytes) -> Record:
    data = json.loads(value)
    return Record.of(
        data["originator"],
        data["audience"],
        tlp=data.get("tlp"),
        handling=data.get("handling"),
        readers=data.get("readers"),
    )


class ShareBook:
    """The compacted share topic, followed by a reader thread; written through the kit."""

    def __init__(self, settings: Settings, *, name: str = "release") -> None:
        self._topic = settings.topic(SHARES.name)
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()
        self._reader = CompactedReader(settings, self._topic, self._take, name=f"{name}-shares")
        self._publisher = Publisher(settings)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        with self._lock:
            if value is None:
                self._records.pop(key.decode(), None)
                return
            try:
                self._records[key.decode()] = from_json(value)
            except (ValueError, KeyError) as exc:
                log.warning("share record ignored", key=key.decode(), reason=str(exc)[:200])

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()
        self._publisher.close()

    async def loaded(self) -> None:
        """Return once the whole topic has been read once (at once when it has)."""
        while not await asyncio.to_thread(self._reader.wait_loaded, 1.0):
            log.info("waiting for the share book", topic=self._topic)

    @property
    def records(self) -> Mapping[str, Record]:
        with self._lock:
            return MappingProxyType(dict(self._records))

    async def remember(self, envelopes: Iterable[Envelope]) -> None:
        """Keep the sharing of every record these events are of, confirmed before any feed
        record of the batch leaves: a later batch's links then find them."""
        changed: dict[str, Record] = {}
        with self._lock:
            for envelope in envelopes:
                found = share_of(envelope)
                if found is not None and self._records.get(found[0]) != found[1]:
                    changed[found[0]] = found[1]
            self._records.update(changed)
        if changed:
            await self._publisher.send_records(
                [(self._topic, k.encode(), to_json(r), None) for k, r in changed.items()]
            )

    async def knowing(self, ids: Iterable[str]) -> Mapping[str, Record]:
        """The book, caught up with the topic first when it does not know one of ``ids``."""
        wanted = set(ids)
        if wanted - set(self.records):
            await asyncio.to_thread(self._reader.catch_up, CATCH_UP_TIMEOUT)
        return self.records
