"""The messaging HTTP router: threads of a JIT and of its leads, tasks, hits and operations;
post, edit, delete (tombstone), read marks and unread counts, mentions, and a live stream (SSE
with ``Last-Event-ID``). Every message a caller gets passes the disclosure policy: visible to its
team, victim data redacted from its text, marked with its TLP banner.

``reads`` holds the routes that read message text: the gateway mounts it with the audit's
consultation dependency, so every read of a thread is a justified, recorded consultation.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from events.alerts import AlertLink, Category, RaiseAlert, Severity
from events.alerts import LinkKind as AlertLinkKind
from events.envelope import ID_PATTERN, TEAM_PATTERN
from events.handling import Handling, Tlp
from events.messaging import (
    THREAD_PATTERN,
    DeleteMessage,
    EditMessage,
    MarkThreadRead,
    MessageCommand,
    PostMessage,
    ThreadKind,
    split_thread,
)
from events.outcomes import CommandRejected
from services.kit.commands import CommandBus
from services.kit.directory import DirectoryView, StaticDirectory
from services.kit.disclosure import Viewer
from services.kit.identity import Principal
from services.kit.web import ApiError, DecidingBus, JitMember, command_envelope, decided
from services.messaging.domain import subject_of
from services.messaging.ledger import Messages, Thread

router = APIRouter(tags=["messaging"])
reads = APIRouter(tags=["messaging"])

SOURCE = "/interlock/gateway/messaging"
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000
ThreadId = Annotated[str, PathParam(pattern=THREAD_PATTERN)]
Team = Annotated[str, Field(pattern=TEAM_PATTERN)]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[Team] | None = Field(
        default=None, max_length=50, description="Fewer teams than the thread's; None: all of it."
    )
    thread_audience: list[Team] | None = Field(
        default=None,
        max_length=50,
        description="Opening a thread: the teams it is for (default: the JIT's teams for a JIT "
        "thread, the poster's team for any other).",
    )
    mentions: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(default=[], max_length=50)
    desks: list[Team] = Field(default=[], max_length=50)
    alert_desks: bool = Field(
        default=False, description="Also raise a P3 alert to every desk mentioned."
    )


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class DeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0)


def _messages(request: Request) -> Messages:
    messages: Messages = request.app.state.messages
    return messages


def viewer(principal: Principal) -> Viewer:
    return Viewer(
        team=principal.team,
        member=principal.member,
        national_system=principal.has_role("national_system"),
    )


def _thread(request: Request, principal: Principal, jit: str, thread_id: str) -> Thread:
    thread = _messages(request).thread(thread_id)
    if thread is None and thread_id.startswith("task:"):  # comments made a moment ago
        _messages(request).catch_up_comments()
        thread = _messages(request).thread(thread_id)
    if thread is None or thread.jit != jit or not thread.visible_to(viewer(principal)):
        raise ApiError(404, f"no thread {thread_id}")
    return thread


async def _send(
    bus: CommandBus, request: Request, principal: Principal, jit: str, command: MessageCommand
) -> list[str]:
    envelope = command_envelope(
        command, principal=principal, jit=jit, subject=command.thread_id, source=SOURCE,
        request=request,
    )  # fmt: skip
    outcome = await decided(bus, envelope, service="messaging")
    await asyncio.to_thread(_messages(request).catch_up)
    return list(outcome.events)


async def _jit_teams(request: Request, jit: str) -> tuple[str, ...]:
    directory: DirectoryView | StaticDirectory = request.app.state.directory
    book = await directory.fresh(jit=jit)
    return tuple(sorted(book.teams_of(jit)))


@router.get("/jits/{jit}/threads", summary="Threads the caller's team may see, with unread counts")
async def list_threads(jit: str, request: Request, principal: JitMember) -> dict[str, Any]:
    messages = _messages(request)
    me = viewer(principal)
    out = []
    for thread in messages.threads(jit):
        if not thread.visible_to(me):
            continue
        kind, ref = split_thread(thread.thread_id)
        out.append(
            {
                "thread_id": thread.thread_id,
                "kind": kind.value,
                "ref": ref,
                "unread": messages.unread(thread, me),
                "url": f"/jits/{jit}/threads/{thread.thread_id}",
            }
        )
    return {"jit": jit, "threads": out}


@reads.get("/jits/{jit}/threads/{thread_id}", summary="Read a thread")
async def read_thread(
    jit: str, thread_id: ThreadId, request: Request, principal: JitMember
) -> dict[str, Any]:
    """The messages the caller may see, redacted and marked, with edit history and tombstones;
    a recorded consultation (justification required)."""
    thread = _thread(request, principal, jit, thread_id)
    messages = _messages(request)
    await asyncio.to_thread(messages.catch_up_victims)
    await asyncio.to_thread(messages.catch_up_comments)
    me = viewer(principal)
    return {
        "thread_id": thread_id,
        "audience": list(thread.audience),
        "unread": messages.unread(thread, me),
        "position": messages.position(thread_id),
        "messages": messages.view(thread, me),
    }


@reads.get(
    "/jits/{jit}/threads/{thread_id}/stream",
    response_class=EventSourceResponse,
    summary="Live messages of a thread (SSE)",
)
async def stream_thread(
    jit: str,
    thread_id: ThreadId,
    request: Request,
    principal: JitMember,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, description="As Last-Event-ID, for links.")] = None,
) -> EventSourceResponse:
    """Each message (new, edited or deleted) as an SSE ``message`` whose ``id`` is the thread's
    position; reconnecting with ``Last-Event-ID`` sends what changed since, then goes on live."""
    _thread(request, principal, jit, thread_id)
    if last_event_id is not None and not last_event_id.isdigit():
        raise ApiError(
            422,
            "Last-Event-ID is not a thread position",
            [{"field": "header.Last-Event-ID", "message": "a non-negative integer"}],
        )
    start = int(last_event_id) if last_event_id is not None else (after or 0)
    messages = _messages(request)
    me = viewer(principal)

    async def events() -> AsyncIterator[ServerSentEvent]:
        position = start
        yield ServerSentEvent(comment="thread stream", retry=RETRY_MS)
        while True:
            thread = messages.thread(thread_id)
            if thread is None:  # its subject was erased: nothing more is said
                return
            now = messages.position(thread_id)
            if now > position:
                for item in messages.view(thread, me, after=position):
                    yield ServerSentEvent(
                        data=json.dumps(item), event="message", id=str(item["position"])
                    )
                position = now
                continue
            if not await messages.changed(thread_id, position, KEEPALIVE_SECONDS):
                yield ServerSentEvent(comment="keep-alive")

    return EventSourceResponse(events())


@router.post(
    "/jits/{jit}/threads/{thread_id}/messages",
    status_code=201,
    summary="Post a message",
    responses={410: {"description": "The thread's subject was erased"}},
)
async def post_message(
    jit: str,
    thread_id: ThreadId,
    body: MessageIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
) -> JSONResponse:
    """Post (the first message opens the thread); mentioned desks can be alerted (P3)."""
    kind, ref = split_thread(thread_id)
    if kind is ThreadKind.JIT and ref != jit:
        raise ApiError(
            422,
            "a JIT thread is named after its JIT",
            [{"field": "path.thread_id", "message": f"jit:{jit}"}],
        )
    messages = _messages(request)
    await asyncio.to_thread(messages.catch_up_erasures)
    if messages.erased(jit, subject_of(thread_id, jit)):
        raise ApiError(410, f"the subject of {thread_id} was erased; nothing more is said about it")
    audience = body.thread_audience
    existing = messages.thread(thread_id)
    if audience is None and (existing is None or not existing.opened):
        if existing is not None:  # a task's thread holding its comments: the task's audience
            audience = list(existing.audience)
        else:
            audience = list(await _jit_teams(request, jit)) if kind is ThreadKind.JIT else []
    message_id = str(uuid.uuid4())
    command = PostMessage(
        actor=principal.actor(),
        thread_id=thread_id,
        message_id=message_id,
        text=body.text,
        tlp=body.tlp,
        releasable_to=tuple(body.releasable_to) if body.releasable_to is not None else None,
        thread_audience=tuple(audience or ()),
        mentions=tuple(body.mentions),
        desks=tuple(body.desks),
    )
    events = await _send(bus, request, principal, jit, command)
    alerts = []
    if body.alert_desks and body.desks:
        alerts = await _alert_desks(request, principal, bus, jit, thread_id, kind, ref, body)
    return JSONResponse(
        {
            "message_id": message_id,
            "thread_id": thread_id,
            "events": events,
            "alerts": alerts,
            "url": f"/jits/{jit}/threads/{thread_id}",
        },
        status_code=201,
    )


async def _alert_desks(
    request: Request,
    principal: Principal,
    bus: CommandBus,
    jit: str,
    thread_id: str,
    kind: ThreadKind,
    ref: str,
    body: MessageIn,
) -> list[str]:
    """A P3 alert to the desks mentioned: a pointer to the thread, never the message text."""
    alert_id = str(uuid.uuid4())
    links = (
        (AlertLink(kind=AlertLinkKind(kind.value), id=ref),)
        if kind.value in {k.value for k in AlertLinkKind}
        else ()
    )
    teams = tuple(sorted(set(body.desks)))
    command = RaiseAlert(
        actor=principal.actor(),
        alert_id=alert_id,
        jit=jit,
        severity=Severity.P3,
        category=Category.OTHER,
        target_teams=teams,
        summary=f"{principal.member} ({principal.team}) mentioned your desk in thread {thread_id}",
        links=links,
        handling=Handling(tlp=body.tlp),
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=alert_id,
        source=SOURCE,
        releasable_to=sorted(set(teams) - {principal.team}),
        handling=Handling(tlp=body.tlp),
        request=request,
    )
    outcome = await bus.send(envelope)
    if isinstance(outcome, CommandRejected):
        raise ApiError(
            outcome.status, f"message posted, but the alert was refused: {outcome.reason}"
        )
    return [alert_id]


@router.patch("/jits/{jit}/threads/{thread_id}/messages/{message_id}", summary="Edit a message")
async def edit_message(
    jit: str,
    thread_id: ThreadId,
    message_id: str,
    body: EditIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
) -> dict[str, Any]:
    """Replace the text (the author only); the earlier text stays in the history."""
    _thread(request, principal, jit, thread_id)
    command = EditMessage(
        actor=principal.actor(), thread_id=thread_id, message_id=message_id, text=body.text
    )
    return {"events": await _send(bus, request, principal, jit, command)}


@router.post(
    "/jits/{jit}/threads/{thread_id}/messages/{message_id}/delete", summary="Delete a message"
)
async def delete_message(
    jit: str,
    thread_id: ThreadId,
    message_id: str,
    body: DeleteIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
) -> dict[str, Any]:
    """Leave a tombstone with the reason in place of the message (the author only)."""
    _thread(request, principal, jit, thread_id)
    command = DeleteMessage(
        actor=principal.actor(), thread_id=thread_id, message_id=message_id, reason=body.reason
    )
    return {"events": await _send(bus, request, principal, jit, command)}


@router.post("/jits/{jit}/threads/{thread_id}/read", summary="Mark a thread read")
async def mark_read(
    jit: str,
    thread_id: ThreadId,
    body: ReadIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
) -> dict[str, Any]:
    _thread(request, principal, jit, thread_id)
    command = MarkThreadRead(actor=principal.actor(), thread_id=thread_id, seq=body.seq)
    events = await _send(bus, request, principal, jit, command)
    thread = _thread(request, principal, jit, thread_id)
    return {"events": events, "unread": _messages(request).unread(thread, viewer(principal))}


@router.get("/jits/{jit}/mentions", summary="Messages that mention me or my desk")
async def my_mentions(jit: str, request: Request, principal: JitMember) -> dict[str, Any]:
    return {"jit": jit, "mentions": _messages(request).mentions(jit, viewer(principal))}
