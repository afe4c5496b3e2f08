"""The JIT directory as every process reads it: one read model over the compacted topic.

:class:`DirectoryBook` is the pure state (JITs, teams, desks, members) and how a record changes
it; :class:`DirectoryView` keeps a book current from the topic on a thread of its own, so any
process (the gateway's authorization, the release's policy, a worker's routing) asks the same
questions of the same data. A question about a JIT or member the book does not know yet first
catches up with the topic's current end: something registered a moment ago is not refused.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from events.codec import InvalidEvent, decode
from events.directory import DeskRegistered, JitRegistered, MemberRegistered, TeamRegistered
from events.envelope import Envelope
from events.topics import DIRECTORY
from services.kit.compacted import CompactedReader
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

CATCH_UP_TIMEOUT = 3.0
"""Seconds a question about an unknown JIT or member waits for the topic's current end."""


@dataclass(frozen=True)
class DirectoryBook:
    """JITs, teams, desks and members by id: the whole directory, immutable."""

    jits: Mapping[str, JitRegistered] = field(default_factory=lambda: MappingProxyType({}))
    teams: Mapping[str, TeamRegistered] = field(default_factory=lambda: MappingProxyType({}))
    desks: Mapping[str, DeskRegistered] = field(default_factory=lambda: MappingProxyType({}))
    members: Mapping[str, MemberRegistered] = field(default_factory=lambda: MappingProxyType({}))

    # --- questions ---------------------------------------------------------------------------

    def knows(self, jit: str) -> bool:
        return jit in self.jits

    def teams_of(self, jit: str) -> frozenset[str]:
        """The member teams of ``jit`` (none for a JIT the directory does not know)."""
        record = self.jits.get(jit)
        return frozenset(record.member_teams) if record is not None else frozenset()

    def is_member(self, team: str, jit: str) -> bool:
        return team in self.teams_of(jit)

    def member(self, member_id: str) -> MemberRegistered | None:
        """An active member's record; None for an unknown or deactivated member."""
        record = self.members.get(member_id)
        return record if record is not None and record.active else None

    def desk(self, team: str) -> DeskRegistered | None:
        return self.desks.get(team)

    def unknown_teams(self, jit: str, teams: Iterable[str]) -> list[str]:
        """The codes in ``teams`` that are not teams of ``jit``, in the order given."""
        known = self.teams_of(jit)
        return [t for t in dict.fromkeys(teams) if t not in known]

    # --- change ------------------------------------------------------------------------------

    def with_record(self, key: str | None, envelope: Envelope | None) -> DirectoryBook:
        """The book after one record of the compacted topic (``envelope`` None: a tombstone)."""
        if envelope is not None:
            data = envelope.data
            if isinstance(data, JitRegistered):
                return self._put("jits", data.jit_id, data)
            if isinstance(data, TeamRegistered):
                return self._put("teams", data.team, data)
            if isinstance(data, DeskRegistered):
                return self._put("desks", data.team, data)
            if isinstance(data, MemberRegistered):
                return self._put("members", data.member_id, data)
            return self
        if key is None:
            return self
        kind, _, ident = key.partition(":")
        slot = {"jit": "jits", "team": "teams", "desk": "desks", "member": "members"}.get(kind)
        return self._put(slot, ident, None) if slot else self

    def _put(self, slot: str, ident: str, record: object | None) -> DirectoryBook:
        current = dict(getattr(self, slot))
        if record is None:
            current.pop(ident, None)
        else:
            current[ident] = record
        return DirectoryBook(**{**self._slots(), slot: MappingProxyType(current)})

    def _slots(self) -> dict[str, Mapping[str, object]]:
        return {
            "jits": self.jits,
            "teams": self.teams,
            "desks": self.desks,
            "members": self.members,
        }

    @classmethod
    def of(cls, records: Iterable[Envelope]) -> DirectoryBook:
        book = cls()
        for envelope in records:
            book = book.with_record(envelope.subject, envelope)
        return book


class DirectoryView:
    """A :class:`DirectoryBook` kept current by a reader of the compacted directory topic."""

    def __init__(self, settings: Settings, *, name: str) -> None:
        self._book = DirectoryBook()
        self._lock = threading.Lock()
        self._reader = CompactedReader(
            settings,
            settings.topic(DIRECTORY.name),
            self._take,
            name=f"{name}-directory",
        )

    @property
    def book(self) -> DirectoryBook:
        return self._book

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        text = key.decode() if key else None
        if value is None:
            envelope = None
        else:
            try:
                envelope = decode(value)
            except InvalidEvent as exc:
                log.warning("directory record ignored", reason=str(exc)[:200], key=text)
                return
        with self._lock:
            self._book = self._book.with_record(text, envelope)

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    def wait_loaded(self, timeout: float) -> bool:
        """Block until the whole topic has been read once (or the timeout passes)."""
        return self._reader.wait_loaded(timeout)

    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        """Block until every record on the topic now has been read."""
        return self._reader.catch_up(timeout)

    async def fresh(self, *, jit: str | None = None, member: str | None = None) -> DirectoryBook:
        """The book, caught up first when it does not know ``jit`` or ``member`` yet."""
        book = self._book
        unknown = (jit is not None and not book.knows(jit)) or (
            member is not None and book.member(member) is None
        )
        if unknown:
            await asyncio.to_thread(self.catch_up)
        return self._book


class StaticDirectory:
    """A directory that does not change: for pure unit tests of routes and for tools that load
    the whole topic once. Answers like :class:`DirectoryView`."""

    def __init__(self, book: DirectoryBook) -> None:
        self.book = book

    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        return True

    async def fresh(self, *, jit: str | None = None, member: str | None = None) -> DirectoryBook:
        return self.book
