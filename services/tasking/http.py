"""The tasking HTTP router: request a task, move it through its life, comment, record consent.

Each handler validates the body (422 naming the field), checks that the caller's team works in
the JIT, builds the command with the caller as actor and waits for the tasking service's
outcome: 201/200, 403 (wrong team or role), 404, 409 (not in this status), 422, or 202 with a
status URL when the outcome is late. Reads (get, lists) come from the projection's query layer.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.envelope import ID_PATTERN
from events.handling import Handling, HandlingCode, Tlp
from events.tasking import (
    AcceptTask,
    BlockTask,
    CancelTask,
    CommentOnTask,
    CompleteTask,
    ConsentRecord,
    DeclineTask,
    RecordConsent,
    RefId,
    RequestTask,
    StartTask,
    TaskCommand,
    TaskDetails,
    TaskLinks,
    TaskPriority,
    TeamCode,
    UnblockTask,
)
from services.kit.commands import CommandBus
from services.kit.identity import Principal
from services.kit.web import (
    ApiError,
    Bus,
    JitMember,
    build_command,
    command_envelope,
    dispatch,
    require_teams,
)

router = APIRouter(tags=["tasks"])

SOURCE = "/interlock/gateway/tasking"
TASK_NAMESPACE = uuid.UUID("0b7c4c8e-5a1d-4f0e-9d7b-3e2f6a8c1d45")

JitId = Annotated[str, Path(pattern=ID_PATTERN, description="The JIT's id.")]
TaskId = Annotated[str, Path(pattern=ID_PATTERN, description="The task's id.")]
Reason = Annotated[str, Field(min_length=1, max_length=2_000)]


def task_id_for(team: str, idempotency_key: str) -> str:
    """The task id a request gets: the same team and key always name the same task."""
    return str(uuid.uuid5(TASK_NAMESPACE, f"task|{team}|{idempotency_key}"))


class TaskIn(BaseModel):
    """A task as a member or a national system requests it."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your reference for this request; sending it again names the same task "
        "(and answers 409, the task already exists) instead of creating a second one.",
    )
    to_team: TeamCode
    to_member: RefId | None = None
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    priority: TaskPriority = TaskPriority.NORMAL
    respond_by: AwareDatetime | None = Field(
        default=None, description="When the receiving team must accept or decline."
    )
    due_at: AwareDatetime | None = Field(
        default=None, description="When the task must be completed."
    )
    links: TaskLinks = TaskLinks()
    details: TaskDetails
    releasable_to: list[TeamCode] = Field(
        default_factory=list,
        max_length=50,
        description="Teams that may see the task besides yours and the receiving team.",
    )
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: RefId | None = Field(default=None, description="Who will do it; you, if absent.")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result_summary: str = Field(min_length=1, max_length=10_000)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


async def _send(
    command: TaskCommand,
    *,
    jit: str,
    request: Request,
    principal: Principal,
    bus: CommandBus,
    created: bool = False,
    releasable_to: tuple[str, ...] = (),
    handling: Handling | None = None,
) -> JSONResponse:
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=command.task_id,
        source=SOURCE,
        releasable_to=releasable_to,
        handling=handling,
        request=request,
    )
    return await dispatch(bus, envelope, created=created, body={"task_id": command.task_id})


@router.post("/jits/{jit}/tasks", status_code=201, summary="Request a task")
async def request_task(
    jit: JitId, task: TaskIn, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Ask another team (or your own) to do something; 201 with the task id, 422 naming a field."""
    if task.respond_by and task.due_at and task.respond_by > task.due_at:
        raise ApiError(
            422,
            "invalid request: body.respond_by: is after due_at",
            [
                {
                    "field": "body.respond_by",
                    "message": "is after due_at; a task is accepted before it is done",
                }
            ],
        )
    require_teams(
        request, jit, {"body.to_team": [task.to_team], "body.releasable_to": task.releasable_to}
    )
    task_id = (
        task_id_for(principal.team, task.idempotency_key)
        if task.idempotency_key
        else str(uuid.uuid4())
    )
    label = Handling(code=task.handling, tlp=task.tlp)
    command = build_command(
        RequestTask,
        actor=principal.actor(),
        task_id=task_id,
        jit=jit,
        to_team=task.to_team,
        to_member=task.to_member,
        title=task.title,
        description=task.description,
        priority=task.priority,
        respond_by=task.respond_by,
        due_at=task.due_at,
        links=task.links,
        details=task.details,
        releasable_to=tuple(task.releasable_to),
        handling=label,
    )
    audience = {task.to_team, *task.releasable_to} - {principal.team}
    return await _send(
        command,
        jit=jit,
        request=request,
        principal=principal,
        bus=bus,
        created=True,
        releasable_to=tuple(sorted(audience)),
        handling=label,
    )


@router.post("/jits/{jit}/tasks/{task_id}/accept", summary="Accept a task")
async def accept_task(
    jit: JitId,
    task_id: TaskId,
    body: AcceptIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Take on a requested task (receiving team); 409 unless it is requested."""
    command = build_command(
        AcceptTask, actor=principal.actor(), task_id=task_id, assignee=body.assignee
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/decline", summary="Decline a task")
async def decline_task(
    jit: JitId,
    task_id: TaskId,
    body: ReasonIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Refuse a requested task with the reason (receiving team)."""
    command = build_command(
        DeclineTask, actor=principal.actor(), task_id=task_id, reason=body.reason
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/start", summary="Start work on a task")
async def start_task(
    jit: JitId, task_id: TaskId, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Begin an accepted task (receiving team)."""
    command = build_command(StartTask, actor=principal.actor(), task_id=task_id)
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/block", summary="Mark a task blocked")
async def block_task(
    jit: JitId,
    task_id: TaskId,
    body: ReasonIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Say what a task in progress waits for (receiving team)."""
    command = build_command(BlockTask, actor=principal.actor(), task_id=task_id, reason=body.reason)
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/unblock", summary="Resume a blocked task")
async def unblock_task(
    jit: JitId, task_id: TaskId, request: Request, principal: JitMember, bus: Bus
) -> JSONResponse:
    """Put a blocked task back in progress (receiving team)."""
    command = build_command(UnblockTask, actor=principal.actor(), task_id=task_id)
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/complete", summary="Complete a task")
async def complete_task(
    jit: JitId,
    task_id: TaskId,
    body: CompleteIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Finish a task in progress with a summary of the result (receiving team)."""
    command = build_command(
        CompleteTask,
        actor=principal.actor(),
        task_id=task_id,
        result_summary=body.result_summary,
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post("/jits/{jit}/tasks/{task_id}/cancel", summary="Cancel a task")
async def cancel_task(
    jit: JitId,
    task_id: TaskId,
    body: ReasonIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Withdraw an open task with the reason (requesting team)."""
    command = build_command(
        CancelTask, actor=principal.actor(), task_id=task_id, reason=body.reason
    )
    return await _send(command, jit=jit, request=request, principal=principal, bus=bus)


@router.post(
    "/jits/{jit}/tasks/{task_id}/comments",
    status_code=201,
    summary="Comment on a task",
)
async def comment_on_task(
    jit: JitId,
    task_id: TaskId,
    body: CommentIn,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Add a remark to a task (requesting or receiving team); 201 with the event id. Comments
    are read in the task's thread, ``GET /jits/{jit}/threads/task:{task_id}``."""
    command = build_command(CommentOnTask, actor=principal.actor(), task_id=task_id, text=body.text)
    return await _send(
        command, jit=jit, request=request, principal=principal, bus=bus, created=True
    )


@router.post(
    "/jits/{jit}/tasks/{task_id}/consent",
    status_code=201,
    summary="Record a victim's consent to a referral, or its withdrawal",
)
async def record_consent(
    jit: JitId,
    task_id: TaskId,
    body: ConsentRecord,
    request: Request,
    principal: JitMember,
    bus: Bus,
) -> JSONResponse:
    """Record consent given or withdrawn; withdrawal stops an open referral and tells every team."""
    command = build_command(RecordConsent, actor=principal.actor(), task_id=task_id, consent=body)
    return await _send(
        command, jit=jit, request=request, principal=principal, bus=bus, created=True
    )
