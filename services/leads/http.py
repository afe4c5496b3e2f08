"""The leads HTTP router: submit a lead and move it through triage. Reads go through the graph."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.envelope import ID_PATTERN, TEAM_PATTERN
from events.handling import Handling, HandlingCode, Tlp
from events.identifiers import Identifier, Location, Organisation, Person
from events.leads import (
    ActionLead,
    CloseLead,
    DiscardLead,
    InformationCredibility,
    LeadPriority,
    SourceReliability,
    SourceType,
    SubmitLead,
    TriageLead,
    lead_id_for,
)
from services.kit.web import Bus, JitMember, command_envelope, dispatch

router = APIRouter(tags=["leads"])

SOURCE = "/interlock/gateway/leads"


class LeadIn(BaseModel):
    """A lead as a member or a national system submits it."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str = Field(
        min_length=1,
        max_length=128,
        description="Your reference for this submission; the same key returns the same lead.",
    )
    source: SourceType
    received_at: AwareDatetime | None = None
    summary: str = Field(min_length=1, max_length=10_000)
    reliability: SourceReliability
    credibility: InformationCredibility
    persons: list[Person] = Field(default_factory=list, max_length=200)
    identifiers: list[Identifier] = Field(default_factory=list, max_length=500)
    organisations: list[Organisation] = Field(default_factory=list, max_length=200)
    locations: list[Location] = Field(default_factory=list, max_length=200)
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Teams that may see the lead besides yours; none by default.",
    )
    readers: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(
        default_factory=list,
        max_length=50,
        description="TLP:RED only: the members of those teams who may read it (FIRST TLP 2.0: "
        "RED is for named recipients). Without them a RED lead stays with your team.",
    )

    def releasable(self) -> list[str]:
        import re

        bad = [t for t in self.releasable_to if not re.match(TEAM_PATTERN, t)]
        if bad:
            from services.kit.web import ApiError

            raise ApiError(
                422,
                "releasable_to holds values that are not team codes",
                [{"field": "body.releasable_to", "message": f"not a team code: {b}"} for b in bad],
            )
        return self.releasable_to


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: str = Field(pattern=ID_PATTERN)
    priority: LeadPriority


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link_kind: Literal["task", "operation"]
    link_id: str = Field(pattern=ID_PATTERN)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)


@router.post("/jits/{jit}/leads", status_code=201, summary="Submit a lead")
async def submit_lead(
    jit: str, lead: LeadIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Submit a lead: 201 with its id, 200 for a repeated idempotency key, 422 naming a field."""
    lead_id = lead_id_for(principal.team, lead.idempotency_key)
    command = SubmitLead(
        actor=principal.actor(),
        lead_id=lead_id,
        idempotency_key=lead.idempotency_key,
        source=lead.source,
        received_at=lead.received_at or datetime.now(UTC),
        summary=lead.summary,
        reliability=lead.reliability,
        credibility=lead.credibility,
        persons=tuple(lead.persons),
        identifiers=tuple(lead.identifiers),
        organisations=tuple(lead.organisations),
        locations=tuple(lead.locations),
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=lead_id,
        source=SOURCE,
        releasable_to=lead.releasable(),
        handling=Handling(
            code=lead.handling,
            tlp=lead.tlp,
            readers=tuple(lead.readers) if lead.tlp is Tlp.RED else (),
        ),
        request=request,
    )
    return await dispatch(
        bus,
        envelope,
        created=True,
        body={"lead_id": lead_id, "url": f"/jits/{jit}/leads/{lead_id}"},
    )


async def _transition(
    jit: str,
    lead_id: str,
    command: TriageLead | ActionLead | CloseLead | DiscardLead,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=lead_id,
        source=SOURCE,
        request=request,
    )
    return await dispatch(bus, envelope, body={"lead_id": lead_id}, request=request)


@router.post("/jits/{jit}/leads/{lead_id}/triage", summary="Triage a lead")
async def triage_lead(
    jit: str,
    lead_id: str,
    body: TriageIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Assign and prioritise a new lead; 409 when its status does not allow it."""
    command = TriageLead(
        actor=principal.actor(),
        lead_id=lead_id,
        assignee=body.assignee,
        priority=body.priority,
    )
    return await _transition(jit, lead_id, command, request, principal, bus)


@router.post("/jits/{jit}/leads/{lead_id}/action", summary="Link a lead to a task or operation")
async def action_lead(
    jit: str,
    lead_id: str,
    body: ActionIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Record that a task or an operation acts on the lead."""
    command = ActionLead(
        actor=principal.actor(),
        lead_id=lead_id,
        link_kind=body.link_kind,
        link_id=body.link_id,
    )
    return await _transition(jit, lead_id, command, request, principal, bus)


@router.post("/jits/{jit}/leads/{lead_id}/close", summary="Close a lead")
async def close_lead(
    jit: str,
    lead_id: str,
    body: ReasonIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Close a triaged or actioned lead, with the reason."""
    command = CloseLead(actor=principal.actor(), lead_id=lead_id, reason=body.reason)
    return await _transition(jit, lead_id, command, request, principal, bus)


@router.post("/jits/{jit}/leads/{lead_id}/discard", summary="Discard a lead")
async def discard_lead(
    jit: str,
    lead_id: str,
    body: ReasonIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Discard a lead that is not worth acting on, with the reason."""
    command = DiscardLead(actor=principal.actor(), lead_id=lead_id, reason=body.reason)
    return await _transition(jit, lead_id, command, request, principal, bus)
