"""The alerts HTTP router: raise, acknowledge and resolve alerts, set desk rules, and the live
desk stream.

The list of a desk's alerts (``GET /jits/{jit}/alerts``) is read through the projection's
team-scoped views (``services/projection/http.py``): the alerts worker's table lives in the
worker's process, partitioned by JIT, and a desk must see alerts older than the hub's window.
That list reads *fresh* (it waits for the projection to reach the topic's end) and answers a
``cursor``; a desk passes it to the stream as ``after`` to go live exactly where the list ends.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from events.alerts import (
    DEDUP_KEY_PATTERN,
    JIT_WIDE,
    AcknowledgeAlert,
    AlertLink,
    Category,
    EscalationTimes,
    RaiseAlert,
    ResolveAlert,
    SetDeskEscalation,
    SetDeskRule,
    Severity,
)
from events.envelope import ID_PATTERN, TEAM_PATTERN
from events.handling import Handling, HandlingCode, Tlp
from services.alerts.desks import Cursor, DeskHub
from services.alerts.domain import alert_id_for, describe_policy
from services.alerts.routing import desk_rule_subject
from services.alerts.settings import load_alerts_settings
from services.kit.identity import Principal
from services.kit.logging import get_logger
from services.kit.settings import Settings, load_settings
from services.kit.web import (
    ApiError,
    Authorize,
    Bus,
    JitMember,
    command_envelope,
    dispatch,
    refuse,
    require_teams,
)

log = get_logger()

SOURCE = "/interlock/gateway/alerts"
DESK_ROLES = ("desk_officer", "team_lead", "coordinator")
"""Who may watch a desk's stream: the people an alert pages or escalates to."""
DeskWatcher = Annotated[Principal, Depends(Authorize(*DESK_ROLES, jit=False))]
"""A member who may watch their own team's desk."""
RETRY_MS = 1_000
"""How soon an EventSource reconnects after the stream drops."""


@asynccontextmanager
async def _desk_hub(app: FastAPI) -> AsyncIterator[None]:
    """Start the desk hub with the gateway (FastAPI runs a router's lifespan inside the app's,
    so the gateway's command bus, and the settings it was built with, are there already)."""
    bus = getattr(app.state, "command_bus", None)
    settings: Settings = bus.settings if bus is not None else load_settings()
    hub = DeskHub(settings, load_alerts_settings(), getattr(app.state, "victims", None))
    await hub.start()
    app.state.desk_hub = hub
    try:
        yield
    finally:
        hub.stop()


router = APIRouter(tags=["alerts"], lifespan=_desk_hub)


class AlertIn(BaseModel):
    """An alert as a member raises it."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your reference for this alert; raising it again returns the same alert.",
    )
    severity: Severity
    category: Category
    target_teams: list[Annotated[str, Field(pattern=TEAM_PATTERN)]] = Field(
        min_length=1, max_length=32
    )
    summary: str = Field(
        min_length=1, max_length=1_000, description="Shown to desk officers; no personal data."
    )
    links: list[AlertLink] = Field(default_factory=list, max_length=50)
    dedup_key: str | None = Field(default=None, pattern=DEDUP_KEY_PATTERN)
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)


class DeskRuleIn(BaseModel):
    """Which alerts the desk is paged for; P1 officer-safety and victim-at-risk always are."""

    model_config = ConfigDict(extra="forbid")

    categories: list[Category] = Field(min_length=1)
    min_severity: Severity


def _alert_id(jit: str, alert_id: str) -> str:
    import re

    if not re.match(ID_PATTERN, alert_id):
        raise ApiError(
            422, "not an alert id", [{"field": "path.alert_id", "message": "not an alert id"}]
        )
    return alert_id


@router.post("/jits/{jit}/alerts", status_code=201, summary="Raise an alert")
async def raise_alert(
    jit: str, body: AlertIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Raise an alert for the desks of the target teams; 201 with its id, 200 when the same
    idempotency key was raised before, 422 naming a bad field."""
    require_teams(request, jit, {"body.target_teams": body.target_teams})
    key = body.idempotency_key or str(uuid.uuid4())
    alert_id = alert_id_for(f"{principal.team}/{principal.member}/{key}")
    handling = Handling(code=body.handling, tlp=body.tlp)
    command = RaiseAlert(
        actor=principal.actor(),
        alert_id=alert_id,
        jit=jit,
        severity=body.severity,
        category=body.category,
        target_teams=tuple(body.target_teams),
        summary=body.summary,
        links=tuple(body.links),
        dedup_key=body.dedup_key,
        handling=handling,
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=alert_id,
        source=SOURCE,
        releasable_to=sorted(set(command.target_teams) - {principal.team}),
        handling=handling,
        request=request,
    )
    return await dispatch(
        bus,
        envelope,
        created=True,
        body={"alert_id": alert_id, "url": f"/jits/{jit}/alerts/{alert_id}"},
    )


@router.post("/jits/{jit}/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert")
async def acknowledge_alert(
    jit: str, alert_id: str, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Take an alert on for the desk: stops its escalation; 409 when already acknowledged."""
    command = AcknowledgeAlert(actor=principal.actor(), alert_id=_alert_id(jit, alert_id))
    envelope = command_envelope(
        command, principal=principal, jit=jit, subject=alert_id, source=SOURCE, request=request
    )
    return await dispatch(bus, envelope, body={"alert_id": alert_id})


@router.post("/jits/{jit}/alerts/{alert_id}/resolve", summary="Resolve an alert")
async def resolve_alert(
    jit: str, alert_id: str, body: ResolveIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Close an alert with the reason; a repeat of its condition then raises a new one."""
    command = ResolveAlert(
        actor=principal.actor(), alert_id=_alert_id(jit, alert_id), reason=body.reason
    )
    envelope = command_envelope(
        command, principal=principal, jit=jit, subject=alert_id, source=SOURCE, request=request
    )
    return await dispatch(bus, envelope, body={"alert_id": alert_id})


@router.put("/jits/{jit}/desks/{team}/rules", summary="Set a desk's alert rule")
async def set_desk_rule(
    jit: str, team: str, body: DeskRuleIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Set which categories and severities page the team's desk in this JIT."""
    if principal.team != team:
        raise refuse(request, principal, f"team {principal.team} may not set {team}'s desk rule")
    command = SetDeskRule(
        actor=principal.actor(),
        jit=jit,
        team=team,
        categories=tuple(body.categories),
        min_severity=body.min_severity,
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=desk_rule_subject(jit, team),
        source=SOURCE,
        request=request,
    )
    return await dispatch(bus, envelope, created=True, body={"jit": jit, "team": team})


@router.get("/jits/{jit}/escalation", summary="The alert escalation rules")
async def escalation_rules(jit: str, principal: JitMember) -> dict[str, Any]:
    """How long each severity waits for an acknowledgement, who is paged at each step of the
    chain, how often the last step is paged again, and the de-duplication window."""
    return describe_policy(load_alerts_settings().escalation_policy())


class EscalationIn(BaseModel):
    """Escalation times for one desk, or the whole JIT (``team`` ``*``); ``times`` null goes
    back to the default."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(
        default=JIT_WIDE,
        pattern=rf"^(?:{TEAM_PATTERN[1:-1]}|\*)$",
        description="A member team's code, or * for every desk of the JIT without its own.",
    )
    times: EscalationTimes | None = None


@router.put("/jits/{jit}/escalation", summary="Set escalation times (JIT coordinator)")
async def set_escalation(
    jit: str, body: EscalationIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Set how long each step waits per severity and how often the last step is paged again,
    for one desk or the whole JIT; only a coordinator of the JIT's coordinator team may."""
    command = SetDeskEscalation(actor=principal.actor(), jit=jit, team=body.team, times=body.times)
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=desk_rule_subject(jit, body.team),
        source=SOURCE,
        request=request,
    )
    return await dispatch(bus, envelope, body={"jit": jit, "team": body.team})


@router.get(
    "/desks/{team}/alerts/stream",
    summary="The desk's live alerts (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={400: {"description": "Last-Event-ID or ``after`` is not a cursor of this stream"}},
)
async def desk_stream(
    team: str,
    request: Request,
    principal: DeskWatcher,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[
        str | None,
        Query(
            max_length=20_000,
            description="A cursor to start from when there is no Last-Event-ID: the `cursor` "
            "of the desk's alert list, so that the stream continues where the list ends.",
        ),
    ] = None,
) -> EventSourceResponse:
    """Pages, escalations, acknowledgements and resolutions for the team's desk, as they happen.

    Each message's ``id`` is a cursor; reconnecting with it as ``Last-Event-ID`` first replays
    what was missed, then goes on live, and never sends a message twice. A browser's first
    connection cannot send that header, so ``after`` gives the same start in the query (the
    header wins on a reconnect).
    """
    if principal.team != team:
        raise refuse(request, principal, f"team {principal.team} may not watch {team}'s desk")
    cursor: Cursor | None = None
    for text, field in ((last_event_id, "header.Last-Event-ID"), (after, "query.after")):
        if not text:
            continue
        try:
            cursor = Cursor.parse(text.strip())
        except ValueError as exc:
            raise ApiError(400, str(exc), [{"field": field, "message": str(exc)}]) from None
        break
    hub: DeskHub = request.app.state.desk_hub
    try:
        subscription = await hub.subscribe(team, principal.jits, cursor)
    except RuntimeError as exc:
        log.error("desk stream unavailable", team=team, reason=str(exc)[:200])
        raise ApiError(503, "the desk stream is unavailable; retry shortly") from None
    log.info("desk stream opened", team=team, member=principal.member, resumed=cursor is not None)

    async def messages() -> AsyncIterator[Any]:
        try:
            yield ServerSentEvent(comment="desk stream", retry=RETRY_MS)
            async for chunk in subscription.chunks():
                yield chunk
        finally:
            hub.unsubscribe(subscription)

    return EventSourceResponse(
        messages(),
        ping=hub.alerts.sse_ping_seconds,
        headers={"Cache-Control": "no-store"},
    )
