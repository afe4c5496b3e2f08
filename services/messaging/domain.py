"""Threads as a pure aggregate: one writer per thread, ``decide`` refuses or records a message
act, ``evolve`` folds. Who may post, edit, delete and in front of whom is decided here."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.envelope import Addressed, Command, Event
from events.messaging import (
    DeleteMessage,
    EditMessage,
    MarkThreadRead,
    MessageCommand,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PostMessage,
    ThreadKind,
    ThreadRead,
    split_thread,
)
from events.outcomes import Rejected


class Posted(BaseModel):
    """What the thread remembers of one message to decide on its edit or deletion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str
    team: str
    audience: tuple[str, ...]
    version: int = 1
    deleted: bool = False


class ThreadState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    thread_id: str
    subject_id: str
    originator: str
    audience: tuple[str, ...]
    seq: int = 0
    messages: dict[str, Posted] = {}
    read: dict[str, int] = {}
    version: int = 0


def subject_of(thread: str, jit: str) -> str:
    """The subject whose key seals a thread: what it is about, or the JIT itself."""
    kind, ref = split_thread(thread)
    return jit if kind is ThreadKind.JIT else ref


def decide(
    state: ThreadState | None, command: Command, *, now: datetime, jit: str = ""
) -> list[Event | Addressed]:
    """The event a message command records, or Rejected with the reason."""
    assert isinstance(command, MessageCommand)
    actor = command.actor
    if isinstance(command, PostMessage):
        return _post(state, command, jit=jit)
    if state is None or actor.team not in state.audience:
        raise Rejected(404, f"no thread {command.thread_id}")
    if isinstance(command, MarkThreadRead):
        if command.seq > state.seq:
            raise Rejected(409, f"the thread has {state.seq} messages, not {command.seq}")
        if state.read.get(actor.member, 0) >= command.seq:
            return []
        read = ThreadRead(
            thread_id=state.thread_id,
            subject_id=state.subject_id,
            by=actor.member,
            team=actor.team,
            seq=command.seq,
        )
        return [_to(state, read, (actor.team,))]
    assert isinstance(command, EditMessage | DeleteMessage)
    posted = state.messages.get(command.message_id)
    if posted is None or actor.team not in posted.audience:
        raise Rejected(404, f"no message {command.message_id} in {state.thread_id}")
    if posted.deleted:
        raise Rejected(410, f"message {command.message_id} was deleted")
    if (posted.by, posted.team) != (actor.member, actor.team):
        raise Rejected(403, "only its author may edit or delete a message")
    if isinstance(command, EditMessage):
        edited = MessageEdited(
            thread_id=state.thread_id,
            subject_id=state.subject_id,
            message_id=command.message_id,
            by=actor.member,
            team=actor.team,
            text=command.text,
            version=posted.version + 1,
        )
        return [_to(state, edited, posted.audience)]
    deleted = MessageDeleted(
        thread_id=state.thread_id,
        subject_id=state.subject_id,
        message_id=command.message_id,
        by=actor.member,
        team=actor.team,
        reason=command.reason,
    )
    return [_to(state, deleted, posted.audience)]


def _to(state: ThreadState, event: Event, audience: tuple[str, ...]) -> Addressed:
    """A thread event told to ``audience``, under the thread's originator."""
    return Addressed(
        event,
        subject=state.thread_id,
        originator=state.originator,
        releasable_to=frozenset(audience) - {state.originator},
    )


def _post(state: ThreadState | None, command: PostMessage, *, jit: str) -> list[Event | Addressed]:
    actor = command.actor
    if state is not None:
        if actor.team not in state.audience:
            raise Rejected(404, f"no thread {command.thread_id}")
        if command.message_id in state.messages:
            if state.messages[command.message_id].by == actor.member:
                return []
            raise Rejected(409, f"message id {command.message_id} is taken")
    thread_audience = (
        state.audience
        if state is not None
        else tuple(sorted({actor.team, *command.thread_audience}))
    )
    if command.releasable_to is None:
        audience = thread_audience
    else:
        audience = tuple(sorted({actor.team, *command.releasable_to}))
        outside = sorted(set(audience) - set(thread_audience))
        if outside:
            raise Rejected(
                422,
                f"releasable_to names teams outside the thread's audience: {', '.join(outside)}",
            )
    posted = MessagePosted(
        thread_id=command.thread_id,
        subject_id=state.subject_id if state else subject_of(command.thread_id, jit),
        message_id=command.message_id,
        seq=(state.seq if state else 0) + 1,
        by=actor.member,
        team=actor.team,
        text=command.text,
        tlp=command.tlp,
        audience=audience,
        thread_audience=() if state is not None else thread_audience,
        mentions=command.mentions,
        desks=tuple(d for d in command.desks if d in audience),
    )
    originator = state.originator if state is not None else actor.team
    return [
        Addressed(
            posted,
            subject=command.thread_id,
            originator=originator,
            releasable_to=frozenset(audience) - {originator},
        )
    ]


def evolve(state: ThreadState | None, event: Event) -> ThreadState:
    """Fold one thread event into the state."""
    if isinstance(event, MessagePosted):
        if state is None:
            state = ThreadState(
                thread_id=event.thread_id,
                subject_id=event.subject_id,
                originator=event.team,
                audience=event.thread_audience,
            )
        messages = {
            **state.messages,
            event.message_id: Posted(by=event.by, team=event.team, audience=event.audience),
        }
        return state.model_copy(
            update={"seq": event.seq, "messages": messages, "version": state.version + 1}
        )
    if state is None:
        raise TypeError(f"{event.type} before the thread was opened")
    update: dict[str, object] = {"version": state.version + 1}
    if isinstance(event, MessageEdited | MessageDeleted):
        posted = state.messages[event.message_id]
        changed = (
            posted.model_copy(update={"version": event.version})
            if isinstance(event, MessageEdited)
            else posted.model_copy(update={"deleted": True})
        )
        update["messages"] = {**state.messages, event.message_id: changed}
    elif isinstance(event, ThreadRead):
        update["read"] = {**state.read, event.by: event.seq}
    return state.model_copy(update=update)
