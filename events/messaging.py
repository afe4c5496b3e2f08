"""Messaging: threads of a JIT, and of a lead, task, hit or operation, and the messages in them.

A thread has one writer (the messaging service, keyed by thread id ``<kind>:<ref>``). Its
audience is set by its first message (the poster's team and the teams named, by default every
team that may see what the thread is about); a message goes to the thread's audience unless it
names fewer teams. An edit keeps the earlier text in the log; a deletion is a tombstone with a
reason. Every event is sealed with the key of the thread's subject (the lead, task, operation or
hit, or the JIT for a JIT thread), so erasing the subject shreds its thread.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.handling import Tlp
from events.registry import CatalogueEntry
from events.topics import MESSAGE_COMMANDS, MESSAGE_EVENTS

RefId = Annotated[str, Field(pattern=ID_PATTERN)]
TeamCode = Annotated[str, Field(pattern=TEAM_PATTERN)]
THREAD_PATTERN = r"^(jit|lead|task|hit|operation):[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class ThreadKind(StrEnum):
    JIT = "jit"
    LEAD = "lead"
    TASK = "task"
    HIT = "hit"
    OPERATION = "operation"


def thread_id(kind: ThreadKind | str, ref: str) -> str:
    return f"{ThreadKind(kind).value}:{ref}"


def split_thread(thread: str) -> tuple[ThreadKind, str]:
    if not re.match(THREAD_PATTERN, thread):
        raise ValueError(f"not a thread id: {thread!r}")
    kind, ref = thread.split(":", 1)
    return ThreadKind(kind), ref


class Mention(StrEnum):
    """Whom a mention names: a member, or a team's desk."""

    MEMBER = "member"
    DESK = "desk"


class MessageCommand(Command):
    thread_id: str = Field(pattern=THREAD_PATTERN)


class PostMessage(MessageCommand):
    """Post a message; the first one opens the thread and sets its audience."""

    type = "interlock.message.post"

    message_id: RefId
    text: Text
    tlp: Tlp = Tlp.AMBER
    releasable_to: tuple[TeamCode, ...] | None = Field(
        default=None,
        max_length=50,
        description="Teams besides the poster's; None: the thread's audience.",
    )
    thread_audience: tuple[TeamCode, ...] = Field(
        default=(),
        max_length=50,
        description="For the first message: the teams the thread is for besides the poster's.",
    )
    mentions: tuple[RefId, ...] = Field(default=(), max_length=50)
    """Member ids mentioned (``@anna``)."""
    desks: tuple[TeamCode, ...] = Field(default=(), max_length=50)
    """Teams whose desk is mentioned (``@desk:RO-DIICOT``)."""

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value


class EditMessage(MessageCommand):
    type = "interlock.message.edit"

    message_id: RefId
    text: Text


class DeleteMessage(MessageCommand):
    type = "interlock.message.delete"

    message_id: RefId
    reason: str = Field(min_length=1, max_length=2_000)


class MarkThreadRead(MessageCommand):
    """A member has read the thread up to message ``seq``."""

    type = "interlock.message.mark_read"

    seq: int = Field(ge=0)


class ThreadEvent(Event):
    thread_id: str
    subject_id: str
    """The lead, task, operation, hit or JIT whose key seals the thread."""


class MessagePosted(ThreadEvent):
    type = "interlock.message.posted"

    message_id: str
    seq: int
    by: str
    team: str
    text: str
    tlp: Tlp
    audience: tuple[str, ...]
    thread_audience: tuple[str, ...] = ()
    """Set on the message that opened the thread."""
    mentions: tuple[str, ...] = ()
    desks: tuple[str, ...] = ()


class MessageEdited(ThreadEvent):
    type = "interlock.message.edited"

    message_id: str
    by: str
    team: str
    text: str
    version: int


class MessageDeleted(ThreadEvent):
    type = "interlock.message.deleted"

    message_id: str
    by: str
    team: str
    reason: str


class ThreadRead(ThreadEvent):
    type = "interlock.message.thread_read"

    by: str
    team: str
    seq: int


ENTRIES = (
    CatalogueEntry(PostMessage, MESSAGE_COMMANDS),
    CatalogueEntry(EditMessage, MESSAGE_COMMANDS),
    CatalogueEntry(DeleteMessage, MESSAGE_COMMANDS),
    CatalogueEntry(MarkThreadRead, MESSAGE_COMMANDS),
    CatalogueEntry(MessagePosted, MESSAGE_EVENTS, sealed_by="subject_id"),
    CatalogueEntry(MessageEdited, MESSAGE_EVENTS, sealed_by="subject_id"),
    CatalogueEntry(MessageDeleted, MESSAGE_EVENTS, sealed_by="subject_id"),
    CatalogueEntry(ThreadRead, MESSAGE_EVENTS),
)
