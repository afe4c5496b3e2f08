"""The retention HTTP router: a team's periods, setting them, and erasing or keeping a subject.

Erasure cannot be undone (the subject's key is destroyed), so the routes say so: erasing needs a
reason that is kept in the audit trail, and shortening a period, which may erase older subjects
at the next check without a reminder, must be confirmed in the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from events.directory import RetentionPolicySet, Role
from events.envelope import ID_PATTERN, TEAM_PATTERN
from events.retention import (
    MAX_EXTENSION_DAYS,
    MAX_KEEP_DAYS,
    MAX_REVIEW_DAYS,
    DataCategory,
    EraseSubject,
    ExtendRetention,
    RetentionCommand,
    SubjectKind,
)
from services.kit.web import (
    ApiError,
    Bus,
    JitMember,
    Sensitive,
    build_command,
    command_envelope,
    dispatch,
)
from services.retention.policies import PolicyBook

router = APIRouter(tags=["retention"])

SOURCE = "/interlock/gateway/retention"
SETTING_ROLES = (Role.COORDINATOR.value, Role.TEAM_LEAD.value)

JitId = Annotated[str, Path(pattern=ID_PATTERN, description="The JIT's id.")]
SubjectId = Annotated[str, Path(pattern=ID_PATTERN, description="The lead, task or operation.")]
Reason = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2_000,
        description="Why, in words that name no person: kept in the audit trail for ever.",
    ),
]


class PolicyIn(BaseModel):
    """A retention period for one category, for your team or (team null) the whole JIT."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(
        default=None,
        pattern=TEAM_PATTERN,
        description="Your team's code, or null for the JIT-wide default (coordinators only).",
    )
    keep_days: int = Field(ge=1, le=MAX_KEEP_DAYS, description="Days kept after last activity.")
    review_days: int = Field(
        ge=0, le=MAX_REVIEW_DAYS, description="Days before erasure the owning team is reminded."
    )
    confirm_shorter: bool = Field(
        default=False,
        description="Required to shorten a period: subjects already older than the new period "
        "are erased at the next check, without a reminder.",
    )


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=1, le=MAX_EXTENSION_DAYS, description="Days added to the period.")
    reason: Reason


def _book(request: Request) -> PolicyBook:
    book: PolicyBook = request.app.state.retention_policies
    return book


@router.get("/jits/{jit}/retention/policies", summary="Your team's retention periods")
async def policies(jit: JitId, request: Request, principal: JitMember) -> dict[str, Any]:
    """Each category's period for your team's subjects, and where it comes from."""
    current = await _book(request).current()
    periods = []
    for category in DataCategory:
        record = current.policy(jit, principal.team, category)
        keep, review = current.period(jit, principal.team, category)
        periods.append(
            {
                "category": category.value,
                "keep_days": keep,
                "review_days": review,
                "set_for": "default"
                if record is None
                else ("jit" if record.team is None else "team"),
                "set_by": record.set_by if record else None,
            }
        )
    return {"jit": jit, "team": principal.team, "policies": periods}


@router.put("/jits/{jit}/retention/policies/{category}", summary="Set a retention period")
async def set_policy(
    jit: JitId,
    category: DataCategory,
    policy: PolicyIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Set your team's (coordinator or team lead) or the JIT's (coordinator) period; 409 when it
    shortens a period without ``confirm_shorter``."""
    if policy.team is None and not principal.has_role(Role.COORDINATOR.value):
        raise ApiError(403, "only a coordinator sets a JIT-wide retention period")
    if policy.team is not None and policy.team != principal.team:
        raise ApiError(403, f"team {principal.team} cannot set the periods of {policy.team}")
    if not principal.has_role(*SETTING_ROLES):
        raise ApiError(403, f"needs one of the roles {', '.join(SETTING_ROLES)}")
    book = _book(request)
    current = await book.current()
    keep_before, _ = current.period(jit, policy.team or principal.team, category)
    if policy.keep_days < keep_before and not policy.confirm_shorter:
        raise ApiError(
            409,
            f"keep_days {policy.keep_days} shortens the period of {keep_before} days: subjects "
            "older than that are erased at the next check, without a reminder; send "
            "confirm_shorter: true to do it",
            [{"field": "body.confirm_shorter", "message": "required to shorten a period"}],
        )
    record = RetentionPolicySet(
        jit_id=jit,
        team=policy.team,
        category=category,
        keep_days=policy.keep_days,
        review_days=policy.review_days,
        set_by=principal.member,
    )
    envelope = command_envelope(
        record, principal=principal, jit="directory", subject=record.key, source=SOURCE
    )
    await bus.publisher.publish_async([envelope])
    return JSONResponse(
        {"jit": jit, "category": category.value, **policy.model_dump(exclude={"confirm_shorter"})}
    )


async def _send(
    command: RetentionCommand, *, jit: str, request: Request, principal: Any, bus: Bus
) -> JSONResponse:
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=command.subject_id,
        source=SOURCE,
        request=request,
    )
    return await dispatch(
        bus,
        envelope,
        body={"subject_id": command.subject_id, "subject_kind": command.subject_kind.value},
        request=request,
    )


@router.post("/jits/{jit}/retention/{kind}/{subject_id}/erase", summary="Erase a subject now")
async def erase(
    jit: JitId,
    kind: SubjectKind,
    subject_id: SubjectId,
    body: EraseIn,
    request: Request,
    principal: Sensitive,
    bus: Bus,
) -> JSONResponse:
    """Erase one of your team's leads, tasks or operations everywhere, for good (coordinator or
    team lead): 200, 403 not yours, 404 unknown, 409 already erased."""
    command = build_command(
        EraseSubject,
        actor=principal.actor(),
        subject_id=subject_id,
        subject_kind=kind,
        reason=body.reason,
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/retention/{kind}/{subject_id}/extend", summary="Keep a subject longer")
async def extend(
    jit: JitId,
    kind: SubjectKind,
    subject_id: SubjectId,
    body: ExtendIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """After a review, keep one of your team's subjects ``days`` longer (coordinator or team
    lead); the reason is audited as an alteration."""
    command = build_command(
        ExtendRetention,
        actor=principal.actor(),
        subject_id=subject_id,
        subject_kind=kind,
        days=body.days,
        reason=body.reason,
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)
