"""The HTTP feed, for national systems that cannot use Kafka: the same per-team feed topic, read
by position with an opaque cursor, as pages or as a server-sent event stream.

Only callers of the team may read its feed (its national system or any of its members): the
feed holds exactly what the team may see, already filtered and pseudonymised by the release.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.kit.identity import Principal
from services.kit.settings import Settings, load_settings
from services.kit.web import ApiError, Member, OffsetTime, refuse
from services.release.reader import Cursor, FeedReader, InvalidCursorError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

router = APIRouter(tags=["feeds"])

STREAM_WAIT = 5.0
STREAM_BATCH = 200


def _settings(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else load_settings()


def _reader(request: Request, principal: Principal, team: str) -> FeedReader:
    if principal.team != team:
        raise refuse(request, principal, f"team {principal.team} may not read the feed of {team}")
    return FeedReader(_settings(request), team)


def _cursor(text: str | None, field: str) -> Cursor | None:
    if not text:
        return None
    try:
        return Cursor.decode(text)
    except InvalidCursorError as exc:
        raise ApiError(422, f"{field}: {exc}", [{"field": field, "message": str(exc)}]) from None


@router.get("/feeds/{team}/events", summary="A page of your team's feed, resumable by cursor")
async def feed_page(
    team: str,
    request: Request,
    principal: Member,
    cursor: Annotated[
        str | None,
        Query(description="The `cursor` of the previous page; absent: from the start."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    since: Annotated[
        OffsetTime,
        Query(description="Without a cursor: start at the first event at or after this time."),
    ] = None,
    wait: Annotated[
        float, Query(ge=0, le=30, description="Seconds to wait for an event if none is there.")
    ] = 0,
) -> JSONResponse:
    """Up to ``limit`` events after ``cursor``; resume with the returned cursor to miss nothing."""
    reader = _reader(request, principal, team)
    after = _cursor(cursor, "query.cursor")
    if since is not None and not EPOCH <= since <= datetime.now(UTC) + timedelta(days=1):
        message = "a time between 1970-01-01T00:00:00Z and tomorrow"
        raise ApiError(
            422, f"query.since: {message}", [{"field": "query.since", "message": message}]
        )
    page = await asyncio.to_thread(reader.page, after, limit=limit, since=since, wait=wait)
    next_cursor = page.cursor.encode()
    body: dict[str, Any] = {
        "team": team,
        "events": [r.event() for r in page.records],
        "cursor": next_cursor,
        "caught_up": page.caught_up,
    }
    return JSONResponse(
        body, headers={"Link": f'</feeds/{team}/events?cursor={next_cursor}>; rel="next"'}
    )


@router.get(
    "/feeds/{team}/stream",
    summary="Your team's feed as server-sent events",
    response_class=EventSourceResponse,
)
async def feed_stream(
    team: str,
    request: Request,
    principal: Member,
    cursor: Annotated[str | None, Query(description="Where to start; absent: the start.")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Each event as ``event: cloudevent``, its ``id`` the cursor just after it: a reconnecting
    EventSource sends it back as ``Last-Event-ID`` and resumes exactly there."""
    reader = _reader(request, principal, team)
    position = _cursor(last_event_id, "header.Last-Event-ID") or _cursor(cursor, "query.cursor")

    async def events() -> AsyncIterator[ServerSentEvent]:
        after = position
        while not await request.is_disconnected():
            page = await asyncio.to_thread(reader.page, after, limit=STREAM_BATCH, wait=STREAM_WAIT)
            for record in page.records:
                yield ServerSentEvent(
                    data=record.value.decode(), event="cloudevent", id=record.cursor.encode()
                )
            after = page.cursor

    return EventSourceResponse(events(), ping=15)
