"""The deconfliction HTTP router: register identifiers or blind tokens, decide on a hit's details,
and plan, move, cancel operations and resolve their conflicts.

Each handler validates the body (422 naming the field), checks that the caller's team works in
the JIT, builds the command with the caller as actor and waits for the deconfliction service's
outcome: 201/200, 403 (not this team's hit or operation), 404, 409, 422, or 202 with a status URL
when the outcome is late. Raw identifier values only pass through to the worker, which keeps
keyed tokens. Hits and conflicts arrive as events (the team's feed, the desk's alerts); reads go
through the projection's query layer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.deconfliction import (
    MAX_RADIUS_M,
    UUID_PATTERN,
    BlindToken,
    CancelOperation,
    DeclineHitDetails,
    MoveOperation,
    OperationKind,
    OperationPlace,
    PlanOperation,
    RegisterBlindTokens,
    RegisterIdentifiers,
    ReleasedDetails,
    ReleaseHitDetails,
    ResolveOperationConflict,
)
from events.envelope import ID_PATTERN, Command
from events.identifiers import Identifier, Person
from services.kit.identity import Principal
from services.kit.web import (
    Bus,
    JitMember,
    Sensitive,
    build_command,
    command_envelope,
    dispatch,
)

router = APIRouter(tags=["deconfliction"])

SOURCE = "/interlock/gateway/deconfliction"
OPERATION_NAMESPACE = uuid.UUID("4d1f0c7e-2b9a-4e57-8c31-6a0b5d9e7f21")

JitId = Annotated[str, Path(pattern=ID_PATTERN, description="The JIT's id.")]
HitId = Annotated[str, Path(pattern=UUID_PATTERN, description="The hit's id.")]
OperationId = Annotated[str, Path(pattern=ID_PATTERN, description="The operation's id.")]
ConflictId = Annotated[str, Path(pattern=UUID_PATTERN, description="The conflict's id.")]


def operation_id_for(team: str, idempotency_key: str) -> str:
    """The operation id a plan gets: the same team and key always name the same operation."""
    return str(uuid.uuid5(OPERATION_NAMESPACE, f"operation|{team}|{idempotency_key}"))


class RegistrationIn(BaseModel):
    """Identifiers and persons of one of your records (a lead, a suspect record) to match."""

    model_config = ConfigDict(extra="forbid")

    source_ref: str = Field(pattern=ID_PATTERN, description="Your own lead or record id.")
    identifiers: list[Identifier] = Field(default_factory=list, max_length=500)
    persons: list[Person] = Field(
        default_factory=list,
        max_length=200,
        description="Persons with a date of birth are matched by name (fuzzy) too.",
    )


class BlindTokensIn(BaseModel):
    """Tokens your national system computed with contracts/token-recipe.md."""

    model_config = ConfigDict(extra="forbid")

    source_ref: str = Field(pattern=ID_PATTERN)
    tokens: list[BlindToken] = Field(min_length=1, max_length=10_000)


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, min_length=1, max_length=2_000)


class OperationIn(BaseModel):
    """An operation as a team plans it."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your reference for this plan; sending it again names the same operation.",
    )
    kind: OperationKind
    place: OperationPlace


class MoveIn(BaseModel):
    """A new place and/or window; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, min_length=1, max_length=2_000)


async def _send(
    command: Command,
    *,
    jit: str,
    subject: str,
    request: Request,
    principal: Principal,
    bus: Bus,
    body: dict[str, Any],
    created: bool = False,
) -> JSONResponse:
    envelope = command_envelope(
        command, principal=principal, jit=jit, subject=subject, source=SOURCE, request=request
    )
    return await dispatch(bus, envelope, created=created, body=body)


@router.post(
    "/jits/{jit}/deconfliction/registrations",
    status_code=201,
    summary="Register identifiers and persons for target deconfliction",
)
async def register_identifiers(
    jit: JitId, registration: RegistrationIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Match your identifiers against other teams'; hits come as events to both teams' desks."""
    command = build_command(
        RegisterIdentifiers,
        actor=principal.actor(),
        source_ref=registration.source_ref,
        identifiers=tuple(registration.identifiers),
        persons=tuple(registration.persons),
    )
    return await _send(
        command,
        jit=jit,
        subject=registration.source_ref,
        request=request,
        principal=principal,
        bus=bus,
        body={"source_ref": registration.source_ref},
        created=True,
    )


@router.post(
    "/jits/{jit}/deconfliction/blind-tokens",
    status_code=201,
    summary="Register blind tokens a national system computed",
)
async def register_blind_tokens(
    jit: JitId, registration: BlindTokensIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Register tokens without sending raw values; 422 for a key version that is not live."""
    command = build_command(
        RegisterBlindTokens,
        actor=principal.actor(),
        source_ref=registration.source_ref,
        tokens=tuple(registration.tokens),
    )
    return await _send(
        command,
        jit=jit,
        subject=registration.source_ref,
        request=request,
        principal=principal,
        bus=bus,
        body={"source_ref": registration.source_ref},
        created=True,
    )


@router.post("/jits/{jit}/hits/{hit_id}/release", summary="Release details of your side of a hit")
async def release_hit_details(
    jit: JitId,
    hit_id: HitId,
    details: ReleasedDetails,
    request: Request,
    principal: Sensitive,
    bus: Bus,
) -> JSONResponse:
    """Tell the other team of the hit what you choose to; only the two teams see it."""
    command = build_command(
        ReleaseHitDetails, actor=principal.actor(), hit_id=hit_id, details=details
    )
    return await _send(
        command,
        jit=jit,
        subject=hit_id,
        request=request,
        principal=principal,
        bus=bus,
        body={"hit_id": hit_id},
        created=True,
    )


@router.post("/jits/{jit}/hits/{hit_id}/decline", summary="Decline to release details of a hit")
async def decline_hit_details(
    jit: JitId,
    hit_id: HitId,
    body: DeclineIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Say that your side's details stay with you; the other team is told."""
    command = build_command(
        DeclineHitDetails, actor=principal.actor(), hit_id=hit_id, reason=body.reason
    )
    return await _send(
        command,
        jit=jit,
        subject=hit_id,
        request=request,
        principal=principal,
        bus=bus,
        body={"hit_id": hit_id},
        created=True,
    )


@router.post("/jits/{jit}/operations", status_code=201, summary="Plan an operation")
async def plan_operation(
    jit: JitId, operation: OperationIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Plan an operation; it is checked at once against the JIT's other teams' operations."""
    operation_id = (
        operation_id_for(principal.team, operation.idempotency_key)
        if operation.idempotency_key
        else str(uuid.uuid4())
    )
    command = build_command(
        PlanOperation,
        actor=principal.actor(),
        operation_id=operation_id,
        kind=operation.kind,
        place=operation.place,
    )
    return await _send(
        command,
        jit=jit,
        subject=jit,
        request=request,
        principal=principal,
        bus=bus,
        body={"operation_id": operation_id},
        created=True,
    )


@router.patch("/jits/{jit}/operations/{operation_id}", summary="Move an operation")
async def move_operation(
    jit: JitId,
    operation_id: OperationId,
    body: MoveIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Change its place or window; conflicts are re-checked (cleared or detected anew)."""
    command = build_command(
        MoveOperation,
        actor=principal.actor(),
        operation_id=operation_id,
        **body.model_dump(exclude_none=True),
    )
    return await _send(
        command,
        jit=jit,
        subject=jit,
        request=request,
        principal=principal,
        bus=bus,
        body={"operation_id": operation_id},
    )


@router.post("/jits/{jit}/operations/{operation_id}/cancel", summary="Cancel an operation")
async def cancel_operation(
    jit: JitId,
    operation_id: OperationId,
    body: CancelIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Cancel it; its open conflicts are cleared."""
    command = build_command(
        CancelOperation, actor=principal.actor(), operation_id=operation_id, reason=body.reason
    )
    return await _send(
        command,
        jit=jit,
        subject=jit,
        request=request,
        principal=principal,
        bus=bus,
        body={"operation_id": operation_id},
    )


@router.post(
    "/jits/{jit}/operation-conflicts/{conflict_id}/resolve",
    summary="Declare an operation conflict handled on your side",
)
async def resolve_operation_conflict(
    jit: JitId,
    conflict_id: ConflictId,
    body: ResolveIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Record your team's resolution; the conflict is resolved once both teams have."""
    command = build_command(
        ResolveOperationConflict,
        actor=principal.actor(),
        conflict_id=conflict_id,
        note=body.note,
    )
    return await _send(
        command,
        jit=jit,
        subject=jit,
        request=request,
        principal=principal,
        bus=bus,
        body={"conflict_id": conflict_id},
    )
