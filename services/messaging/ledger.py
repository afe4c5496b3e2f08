"""The messaging read model: threads, their messages with every version, tombstones, read marks
and mentions, folded from the messaging topic (task comments from the task topic). Message text
is shown through the disclosure policy, with the victims of the gateway's
:class:`services.kit.victims.Victims`. An erased subject (retention topic) takes its threads with
it; only its id is kept, to refuse new messages about it.

Every gateway follows both topics from their beginning, so any instance answers any read and any
live stream. A live stream waits on an asyncio event that the reader thread sets when its thread
changes; its position is the index of the thread's last change, the SSE ``id``.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.codec import InvalidEvent, decode
from events.messaging import MessageDeleted, MessageEdited, MessagePosted, ThreadEvent, ThreadRead
from events.retention import SubjectErased
from events.tasking import TaskCommented
from events.topics import MESSAGE_EVENTS, RETENTION_EVENTS, TASK_EVENTS
from services.kit.compacted import CompactedReader
from services.kit.disclosure import Record, Viewer, may_see
from services.kit.settings import Settings
from services.kit.victims import Victims


@dataclass
class Message:
    message_id: str
    seq: int
    by: str
    team: str
    at: datetime
    tlp: str
    audience: tuple[str, ...]
    mentions: tuple[str, ...]
    desks: tuple[str, ...]
    versions: list[tuple[datetime, str]] = field(default_factory=list)
    deleted: dict[str, str] | None = None

    @property
    def record(self) -> Record:
        return Record.of(self.team, self.audience, tlp=self.tlp)


@dataclass
class Thread:
    thread_id: str
    jit: str
    subject_id: str
    originator: str
    audience: tuple[str, ...]
    messages: dict[str, Message] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    """Message id of each change, in order: the SSE id of change i is i + 1."""
    read: dict[str, int] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)
    opened: bool = False
    """Whether a message was posted (not only task comments folded in)."""

    def visible_to(self, viewer: Viewer) -> bool:
        return may_see(viewer, Record.of(self.originator, self.audience))


class Messages:
    """Threads by id and victims by JIT, kept current from the topics."""

    def __init__(self, settings: Settings, victims: Victims) -> None:
        self._threads: dict[str, Thread] = {}
        self._victims = victims
        self._erased: set[tuple[str, str]] = set()
        """(JIT, subject id) of erased subjects: ids only, nothing of their data."""
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._reader = CompactedReader(
            settings,
            settings.topic(MESSAGE_EVENTS.name),
            self._take,
            name=f"{settings.topic_prefix}messaging-ledger",
        )
        self._tasks = CompactedReader(
            settings,
            settings.topic(TASK_EVENTS.name),
            self._take_comment,
            name=f"{settings.topic_prefix}messaging-task-comments",
        )
        self._erasures = CompactedReader(
            settings,
            settings.topic(RETENTION_EVENTS.name),
            self._take_erasure,
            name=f"{settings.topic_prefix}messaging-erasures",
        )

    def start(self) -> Messages:
        self._reader.start()
        self._tasks.start()
        self._erasures.start()
        return self

    def stop(self) -> None:
        self._reader.stop()
        self._tasks.stop()
        self._erasures.stop()

    def catch_up(self) -> bool:
        return self._reader.catch_up()

    def catch_up_comments(self) -> bool:
        return self._tasks.catch_up()

    def catch_up_victims(self) -> bool:
        return self._victims.catch_up()

    def catch_up_erasures(self) -> bool:
        return self._erasures.catch_up()

    def erased(self, jit: str, subject_id: str) -> bool:
        """Whether the subject was erased: nothing more is said about it."""
        with self._lock:
            return (jit, subject_id) in self._erased

    # --- reads --------------------------------------------------------------------------------

    def thread(self, thread_id: str) -> Thread | None:
        with self._lock:
            return self._threads.get(thread_id)

    def threads(self, jit: str) -> list[Thread]:
        with self._lock:
            return [t for t in self._threads.values() if t.jit == jit]

    def view(self, thread: Thread, viewer: Viewer, *, after: int = 0) -> list[dict[str, Any]]:
        """The thread's messages the viewer may see, redacted and marked, changed after ``after``
        (an SSE position), oldest first."""
        book = self._victims.book(thread.jit, thread.audience)
        redactor = book.redactor(viewer)
        with self._lock:
            changed = list(dict.fromkeys(thread.changes[after:])) if after else None
            messages = sorted(thread.messages.values(), key=lambda m: m.at)
            position = len(thread.changes)
        out = []
        for m in messages:
            if changed is not None and m.message_id not in changed:
                continue
            if not may_see(viewer, m.record):
                continue
            marking = m.record.marking.as_dict()
            item: dict[str, Any] = {
                "message_id": m.message_id,
                "seq": m.seq,
                "kind": "message" if m.seq else "task_comment",
                "by": m.by,
                "team": m.team,
                "at": m.at.isoformat(),
                "audience": list(m.audience),
                "marking": marking,
                "mentions": list(m.mentions),
                "desks": list(m.desks),
                "position": position,
            }
            if m.deleted is not None:
                item.update(text=None, deleted=m.deleted, history=[])
            else:
                item["text"] = redactor.redact(m.versions[-1][1])
                item["edited"] = len(m.versions) > 1
                item["history"] = [
                    {"at": at.isoformat(), "text": redactor.redact(text)}
                    for at, text in m.versions[:-1]
                ]
            out.append(item)
        return out

    def unread(self, thread: Thread, viewer: Viewer) -> int:
        with self._lock:
            seen = thread.read.get(viewer.member or "", 0)
            return sum(
                1
                for m in thread.messages.values()
                if m.seq > seen and m.deleted is None and may_see(viewer, m.record) and m.seq > 0
            )

    def position(self, thread_id: str) -> int:
        with self._lock:
            thread = self._threads.get(thread_id)
            return len(thread.changes) if thread else 0

    def mentions(self, jit: str, viewer: Viewer) -> list[dict[str, Any]]:
        """Messages that mention the viewer, or its team's desk, which it may see."""
        out = []
        for thread in self.threads(jit):
            for m in list(thread.messages.values()):
                named = (viewer.member in m.mentions) or (viewer.team in m.desks)
                if named and m.deleted is None and may_see(viewer, m.record):
                    unread = m.seq > thread.read.get(viewer.member or "", 0)
                    out.append(
                        {
                            "thread_id": thread.thread_id,
                            "message_id": m.message_id,
                            "by": m.by,
                            "team": m.team,
                            "at": m.at.isoformat(),
                            "unread": unread,
                        }
                    )
        return sorted(out, key=lambda x: x["at"])

    async def changed(self, thread_id: str, position: int, timeout: float) -> bool:
        """Wait until the thread has changed past ``position`` (False on timeout)."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._waiters.setdefault(thread_id, set()).add(entry)
            thread = self._threads.get(thread_id)
            if thread is not None and len(thread.changes) > position:
                event.set()
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.get(thread_id, set()).discard(entry)

    # --- folding -------------------------------------------------------------------------------

    def _take(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:
            return
        if isinstance(envelope.data, ThreadEvent):
            with self._lock:
                self.fold(
                    envelope.id, envelope.jit, envelope.originator, envelope.time, envelope.data
                )

    def fold(
        self, event_id: str, jit: str, originator: str, at: datetime, event: ThreadEvent
    ) -> None:
        """Fold one thread event (under the lock) and wake the thread's live streams."""
        if (jit, event.subject_id) in self._erased:
            return
        thread = self._threads.get(event.thread_id)
        if thread is None:
            if not isinstance(event, MessagePosted):
                return
            thread = Thread(
                thread_id=event.thread_id,
                jit=jit,
                subject_id=event.subject_id,
                originator=originator,
                audience=event.thread_audience or event.audience,
            )
            self._threads[event.thread_id] = thread
        if event_id in thread.events:
            return
        thread.events.add(event_id)
        if isinstance(event, MessagePosted):
            thread.opened = True
            thread.messages[event.message_id] = Message(
                message_id=event.message_id,
                seq=event.seq,
                by=event.by,
                team=event.team,
                at=at,
                tlp=event.tlp.value,
                audience=event.audience,
                mentions=event.mentions,
                desks=event.desks,
                versions=[(at, event.text)],
            )
            thread.changes.append(event.message_id)
        elif isinstance(event, MessageEdited):
            found = thread.messages.get(event.message_id)
            if found is not None:
                found.versions.append((at, event.text))
                thread.changes.append(event.message_id)
        elif isinstance(event, MessageDeleted):
            found = thread.messages.get(event.message_id)
            if found is not None:
                found.deleted = {"by": event.by, "at": at.isoformat(), "reason": event.reason}
                found.versions = []
                thread.changes.append(event.message_id)
        elif isinstance(event, ThreadRead):
            thread.read[event.by] = max(thread.read.get(event.by, 0), event.seq)
        for loop, waiter in self._waiters.get(event.thread_id, set()):
            loop.call_soon_threadsafe(waiter.set)

    def _take_comment(self, _key: bytes | None, value: bytes | None) -> None:
        """A task comment is a message of the task's thread, told to the task's audience."""
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:
            return
        comment = envelope.data
        if not isinstance(comment, TaskCommented):
            return
        thread_id = f"task:{comment.task_id}"
        with self._lock:
            if (envelope.jit, comment.task_id) in self._erased:
                return
            thread = self._threads.get(thread_id)
            if thread is None:
                thread = Thread(
                    thread_id=thread_id,
                    jit=envelope.jit,
                    subject_id=comment.task_id,
                    originator=envelope.originator,
                    audience=tuple(sorted(envelope.audience)),
                )
                self._threads[thread_id] = thread
            if envelope.id in thread.events:
                return
            thread.events.add(envelope.id)
            thread.messages[envelope.id] = Message(
                message_id=envelope.id,
                seq=0,
                by=comment.by,
                team=comment.team,
                at=comment.at,
                tlp=envelope.handling_label.tlp.value,
                audience=tuple(sorted(envelope.audience)),
                mentions=(),
                desks=(),
                versions=[(comment.at, comment.text)],
            )
            thread.changes.append(envelope.id)
            for loop, waiter in self._waiters.get(thread_id, set()):
                loop.call_soon_threadsafe(waiter.set)

    def _take_erasure(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:
            return
        if isinstance(envelope.data, SubjectErased):
            self.erase(envelope.jit, envelope.data.subject_id)

    def erase(self, jit: str, subject_id: str) -> None:
        """Forget the threads about an erased subject."""
        with self._lock:
            self._erased.add((jit, subject_id))
            for thread_id in [
                t.thread_id
                for t in self._threads.values()
                if t.jit == jit and t.subject_id == subject_id
            ]:
                del self._threads[thread_id]
                for loop, waiter in self._waiters.get(thread_id, set()):
                    loop.call_soon_threadsafe(waiter.set)
