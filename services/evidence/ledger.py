"""The evidence read model: every item and its custody timeline, folded from the evidence topic.

Each gateway follows the topic from its beginning (the items are few, their files are not on
Kafka), so any instance answers any read; ``catch_up`` after a command makes a caller read its own
write. A record whose subject was erased no longer opens (its key is destroyed) and leaves no
trace here; an erasure told on the retention topic drops the items of that subject at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.codec import InvalidEvent, decode
from events.evidence import (
    CustodyEvent,
    EvidenceDownloadDecided,
    EvidenceDownloadRequested,
    EvidenceErased,
    EvidenceReceiptAcknowledged,
    EvidenceRegistered,
    EvidenceShared,
    EvidenceTransferred,
)
from events.retention import SubjectErased
from events.topics import EVIDENCE_EVENTS, RETENTION_EVENTS
from services.evidence.domain import custody_line
from services.kit.compacted import CompactedReader
from services.kit.disclosure import Record, Viewer, may_export, may_see
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()


@dataclass
class Item:
    """One evidence item as its readers see it."""

    evidence_id: str
    jit: str
    originator: str
    subject_id: str
    registered: EvidenceRegistered
    registered_at: datetime
    releasable_to: tuple[str, ...]
    custodian: str
    pending_transfer: dict[str, str] | None = None
    requests: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    erased: bool = False
    custody: list[dict[str, Any]] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)

    @property
    def record(self) -> Record:
        """The item as the disclosure policy sees it: originator, audience and marking."""
        return Record.of(
            self.originator,
            self.releasable_to,
            tlp=self.registered.tlp,
            handling=self.registered.handling,
        )

    def visible_to(self, viewer: Viewer) -> bool:
        return may_see(viewer, self.record)

    def exportable_by(self, viewer: Viewer) -> bool:
        return may_export(viewer, self.record)

    def summary(self) -> dict[str, Any]:
        r = self.registered
        return {
            "evidence_id": self.evidence_id,
            "jit": self.jit,
            "originator": self.originator,
            "filename": r.filename,
            "media_type": r.media_type,
            "size": r.size,
            "sha256": r.sha256,
            "sha512": r.sha512,
            "blob": r.blob,
            "exhibit_ref": r.exhibit_ref,
            "description": r.description,
            "link_kind": r.link_kind.value if r.link_kind else None,
            "link_id": r.link_id,
            "handling": r.handling.value,
            "tlp": r.tlp.value,
            "marking": self.record.marking.as_dict(),
            "releasable_to": list(self.releasable_to),
            "custodian": self.custodian,
            "pending_transfer": self.pending_transfer,
            "download_requests": list(self.requests),
            "download_grants": list(self.grants),
            "erased": self.erased,
            "registered_at": self.registered_at.isoformat(),
            "registered_by": r.by,
        }


class Ledger:
    """Items by id, kept up to date from the evidence and retention topics."""

    def __init__(self, settings: Settings) -> None:
        self._items: dict[str, Item] = {}
        self._lock = threading.Lock()
        self._events = CompactedReader(
            settings,
            settings.topic(EVIDENCE_EVENTS.name),
            self._take,
            name=f"{settings.topic_prefix}evidence-ledger",
        )
        self._erasures = CompactedReader(
            settings,
            settings.topic(RETENTION_EVENTS.name),
            self._take_erasure,
            name=f"{settings.topic_prefix}evidence-ledger-erasures",
        )

    def start(self) -> Ledger:
        self._events.start()
        self._erasures.start()
        return self

    def stop(self) -> None:
        self._events.stop()
        self._erasures.stop()

    def catch_up(self) -> bool:
        """Block until every evidence event written before the call is folded in."""
        return self._events.catch_up()

    def get(self, evidence_id: str) -> Item | None:
        with self._lock:
            return self._items.get(evidence_id)

    def items(self, jit: str) -> list[Item]:
        with self._lock:
            return [i for i in self._items.values() if i.jit == jit]

    def all(self) -> list[Item]:
        with self._lock:
            return list(self._items.values())

    def _take(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:  # erased (key destroyed) or not readable: no trace of it here
            return
        data = envelope.data
        if not isinstance(data, CustodyEvent):
            return
        with self._lock:
            self.fold(envelope.id, envelope.jit, envelope.time, data)

    def fold(self, event_id: str, jit: str, at: datetime, event: CustodyEvent) -> None:
        """Fold one custody event (under the lock)."""
        if isinstance(event, EvidenceRegistered):
            if event.evidence_id in self._items:
                return
            item = Item(
                evidence_id=event.evidence_id,
                jit=jit,
                originator=event.team,
                subject_id=event.subject_id,
                registered=event,
                registered_at=at,
                releasable_to=event.releasable_to,
                custodian=event.team,
            )
            self._items[event.evidence_id] = item
        else:
            found = self._items.get(event.evidence_id)
            if found is None:
                return
            item = found
        if event_id in item.event_ids:
            return
        item.event_ids.add(event_id)
        item.custody.append({"event_id": event_id, "at": at.isoformat(), **custody_line(event)})
        if isinstance(event, EvidenceShared):
            item.releasable_to = tuple(sorted({*item.releasable_to, *event.teams}))
        elif isinstance(event, EvidenceDownloadRequested):
            item.requests = (*item.requests, event.team)
        elif isinstance(event, EvidenceDownloadDecided):
            item.requests = tuple(t for t in item.requests if t != event.for_team)
            if event.decision == "granted":
                item.grants = (*item.grants, event.for_team)
        elif isinstance(event, EvidenceTransferred):
            item.pending_transfer = {"to_team": event.to_team, "to_member": event.to_member}
        elif isinstance(event, EvidenceReceiptAcknowledged):
            item.pending_transfer = None
            item.custodian = event.team
        elif isinstance(event, EvidenceErased):
            item.erased = True

    def _take_erasure(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:
            return
        if not isinstance(envelope.data, SubjectErased):
            return
        erased = envelope.data
        with self._lock:
            for evidence_id in [
                i.evidence_id
                for i in self._items.values()
                if i.jit == envelope.jit and i.subject_id == erased.subject_id
            ]:
                del self._items[evidence_id]
                log.info("evidence dropped with its erased subject", evidence_id=evidence_id)
