"""The task aggregate: who may move a task where, and when it is overdue. Pure: no I/O, no clock.

Releasability. A task is always visible to the requesting team and the receiving team, and to
the teams its request was released to (``RequestTask.releasable_to``). ``decide`` and ``due``
therefore return every event as ``Addressed``: originated by the team whose member caused it
(the requesting team for timer events) and released to the rest of the task's audience, so an
acceptance by the receiving team reaches the requester even though the receiving team's command
envelope names nobody else. The wiring must envelop each event with exactly that audience and the
task's handling (``Addressed.handling``), ignoring the causing envelope's own releasability.

Versions. ``evolve`` adds one to ``TaskState.version`` per event; the wiring stamps each event's
envelope ``aggregate_version`` with the version after applying it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from events.directory import Role
from events.envelope import Actor, Addressed, Event
from events.handling import Handling
from events.outcomes import FieldError, Rejected
from events.tasking import (
    AcceptTask,
    BlockTask,
    CancelTask,
    CheckTaskDeadlines,
    CommentOnTask,
    CompleteTask,
    ConsentDecision,
    ConsentRecord,
    ConsentRecorded,
    Deadline,
    DeclineTask,
    RecordConsent,
    ReferralStopped,
    RequestTask,
    StartTask,
    TaskAccepted,
    TaskActed,
    TaskBlocked,
    TaskCancelled,
    TaskCommand,
    TaskCommented,
    TaskCompleted,
    TaskDeclined,
    TaskDetails,
    TaskKind,
    TaskLinks,
    TaskOverdue,
    TaskPriority,
    TaskRequested,
    TaskStarted,
    TaskStatus,
    TaskUnblocked,
    UnblockTask,
    VictimReferral,
)

ACTING_ROLES: frozenset[str] = frozenset(
    {
        Role.INVESTIGATOR,
        Role.ANALYST,
        Role.TEAM_LEAD,
        Role.COORDINATOR,
        Role.NATIONAL_SYSTEM,
    }
)
"""Roles that may request, work on, cancel, comment on tasks and record consent."""

OPEN: frozenset[TaskStatus] = frozenset(
    {
        TaskStatus.REQUESTED,
        TaskStatus.ACCEPTED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.BLOCKED,
    }
)
"""Statuses in which a task still awaits work: it can be cancelled, stopped and fall overdue."""

_Acted = TypeVar("_Acted", bound=TaskActed)

Party = Literal["receiver", "requester", "either"]
"""Which of the task's two teams may issue a command."""


class Comment(BaseModel):
    """A remark on a task by a member of the requesting or the receiving team."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str
    team: str
    at: datetime
    text: str


class TaskState(BaseModel):
    """One task as the tasking service keeps it (a faust table value); rebuilt by ``evolve``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    jit: str
    kind: TaskKind
    status: TaskStatus
    requester_team: str
    requested_by: str
    requested_at: datetime
    to_team: str
    to_member: str | None = None
    assignee: str | None = None
    title: str
    description: str
    priority: TaskPriority
    respond_by: datetime | None = None
    due_at: datetime | None = None
    links: TaskLinks = TaskLinks()
    details: TaskDetails
    releasable_to: tuple[str, ...] = ()
    handling: Handling = Handling()
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    decline_reason: str | None = None
    block_reason: str | None = None
    result_summary: str | None = None
    cancel_reason: str | None = None
    consents: tuple[ConsentRecord, ...] = ()
    comments: tuple[Comment, ...] = ()
    overdue_notices: tuple[Deadline, ...] = ()
    version: int = 0

    @property
    def audience(self) -> frozenset[str]:
        """Every team that sees the task: requester, receiver and the teams it was released to."""
        return frozenset({self.requester_team, self.to_team, *self.releasable_to})

    @property
    def consent(self) -> ConsentRecord | None:
        """The latest consent record of a referral: the one that governs it now."""
        return self.consents[-1] if self.consents else None

    @property
    def overdue(self) -> bool:
        """Whether a deadline was missed and is still unmet (for the 'overdue' task list)."""
        return (
            Deadline.RESPONSE in self.overdue_notices and self.status == TaskStatus.REQUESTED
        ) or (Deadline.COMPLETION in self.overdue_notices and self.status in OPEN)


@dataclass(frozen=True)
class _Rule:
    party: Party
    allowed_from: frozenset[TaskStatus] | None
    """None: any status."""
    verb: str


RULES: dict[type[TaskCommand], _Rule] = {
    AcceptTask: _Rule("receiver", frozenset({TaskStatus.REQUESTED}), "accept"),
    DeclineTask: _Rule("receiver", frozenset({TaskStatus.REQUESTED}), "decline"),
    StartTask: _Rule("receiver", frozenset({TaskStatus.ACCEPTED}), "start"),
    BlockTask: _Rule("receiver", frozenset({TaskStatus.IN_PROGRESS}), "block"),
    UnblockTask: _Rule("receiver", frozenset({TaskStatus.BLOCKED}), "unblock"),
    CompleteTask: _Rule("receiver", frozenset({TaskStatus.IN_PROGRESS}), "complete"),
    CancelTask: _Rule("requester", OPEN, "cancel"),
    CommentOnTask: _Rule("either", None, "comment on"),
    RecordConsent: _Rule("either", None, "record consent for"),
}
"""Who may issue each command to an existing task, and from which statuses: lifecycle as data."""


def decide(
    state: TaskState | None, command: TaskCommand, *, now: datetime
) -> list[Event | Addressed]:
    """Turn a command into the events it causes, or raise Rejected with the HTTP status and why."""
    if isinstance(command, RequestTask):
        return _request(state, command, now)
    if isinstance(command, CheckTaskDeadlines):
        return [] if state is None else due(state, now=now)
    if state is None:
        raise Rejected(404, f"no task {command.task_id}")
    if state.task_id != command.task_id:
        raise ValueError(
            f"command for task {command.task_id} given the state of task {state.task_id}"
        )
    rule = RULES.get(type(command))
    if rule is None:
        raise ValueError(f"{type(command).__name__} is not a tasking command")
    _authorise(state, command.actor, rule)
    if rule.allowed_from is not None and state.status not in rule.allowed_from:
        allowed = " or ".join(sorted(rule.allowed_from))
        raise Rejected(
            409,
            f"cannot {rule.verb} task {state.task_id} while it is {state.status} "
            f"(only when {allowed})",
        )
    return [_address(state, event, command.actor.team) for event in _act(state, command, now)]


def decide_addressed(
    state: TaskState | None,
    command: TaskCommand,
    *,
    now: datetime,
    jit: str,
    subject: str,
) -> list[Event | Addressed]:
    """``decide`` for a command as it arrived: its envelope must name the task and its JIT.

    The envelope's subject is the partition key and the table key, so a command whose
    ``task_id`` differs would be applied to another task's state; the envelope's JIT stamps the
    events, so a task must not be worked on through another JIT.
    """
    if command.task_id != subject:
        message = f"is {command.task_id} but the envelope's subject is {subject}"
        raise Rejected(
            422,
            f"task_id: {message}",
            (FieldError(field="task_id", message=message),),
        )
    if isinstance(command, RequestTask):
        if command.jit != jit:
            message = f"is {command.jit} but the envelope's JIT is {jit}"
            raise Rejected(422, f"jit: {message}", (FieldError(field="jit", message=message),))
    elif state is not None and state.jit != jit:
        raise Rejected(404, f"no task {command.task_id} in JIT {jit}")
    return decide(state, command, now=now)


def evolve(state: TaskState | None, event: Event) -> TaskState:
    """Apply one event to the task; the only way a task's state changes."""
    if isinstance(event, TaskRequested):
        if state is not None:
            raise ValueError(f"task {event.task_id} was already requested")
        return _requested(event)
    if state is None:
        raise ValueError(
            f"{type(event).__name__} for task {getattr(event, 'task_id', '?')} "
            "before it was requested"
        )
    changes: dict[str, object]
    match event:
        case TaskAccepted():
            changes = {
                "status": TaskStatus.ACCEPTED,
                "assignee": event.assignee,
                "accepted_at": event.at,
            }
        case TaskDeclined():
            changes = {
                "status": TaskStatus.DECLINED,
                "decline_reason": event.reason,
                "closed_at": event.at,
            }
        case TaskStarted():
            changes = {"status": TaskStatus.IN_PROGRESS}
        case TaskBlocked():
            changes = {"status": TaskStatus.BLOCKED, "block_reason": event.reason}
        case TaskUnblocked():
            changes = {"status": TaskStatus.IN_PROGRESS, "block_reason": None}
        case TaskCompleted():
            changes = {
                "status": TaskStatus.COMPLETED,
                "result_summary": event.result_summary,
                "block_reason": None,
                "closed_at": event.at,
            }
        case TaskCancelled():
            changes = {
                "status": TaskStatus.CANCELLED,
                "cancel_reason": event.reason,
                "closed_at": event.at,
            }
        case TaskCommented():
            comment = Comment(by=event.by, team=event.team, at=event.at, text=event.text)
            changes = {"comments": (*state.comments, comment)}
        case ConsentRecorded():
            changes = {"consents": (*state.consents, event.consent)}
        case ReferralStopped():
            changes = {"status": TaskStatus.STOPPED, "closed_at": event.at}
        case TaskOverdue():
            changes = {"overdue_notices": (*state.overdue_notices, event.deadline)}
        case _:
            raise ValueError(f"{type(event).__name__} is not a task event")
    return state.model_copy(update={**changes, "version": state.version + 1})


def due(state: TaskState, *, now: datetime) -> list[Event | Addressed]:
    """The overdue notices a task owes at ``now``, each once: run it from a timer, then evolve."""
    events: list[TaskOverdue] = []
    if (
        state.respond_by is not None
        and state.status == TaskStatus.REQUESTED
        and now >= state.respond_by
        and Deadline.RESPONSE not in state.overdue_notices
    ):
        events.append(_overdue(state, Deadline.RESPONSE, state.respond_by, now))
    if (
        state.due_at is not None
        and state.status in OPEN
        and now >= state.due_at
        and Deadline.COMPLETION not in state.overdue_notices
    ):
        events.append(_overdue(state, Deadline.COMPLETION, state.due_at, now))
    return [_address(state, event, state.requester_team) for event in events]


def next_deadline(state: TaskState) -> datetime | None:
    """When ``due`` will next have something to say, so a timer can sleep until then."""
    pending: list[datetime] = []
    if (
        state.respond_by is not None
        and state.status == TaskStatus.REQUESTED
        and Deadline.RESPONSE not in state.overdue_notices
    ):
        pending.append(state.respond_by)
    if (
        state.due_at is not None
        and state.status in OPEN
        and Deadline.COMPLETION not in state.overdue_notices
    ):
        pending.append(state.due_at)
    return min(pending, default=None)


def replay(events: Sequence[Event]) -> TaskState | None:
    """Rebuild a task from its events, e.g. after losing the table."""
    state: TaskState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _request(
    state: TaskState | None, command: RequestTask, now: datetime
) -> list[Event | Addressed]:
    if state is not None:
        raise Rejected(409, f"task {command.task_id} already exists and is {state.status}")
    _require_role(command.actor, "request")
    errors: list[FieldError] = []
    if command.respond_by is not None and command.respond_by <= now:
        errors.append(FieldError(field="respond_by", message="is not in the future"))
    if command.due_at is not None and command.due_at <= now:
        errors.append(FieldError(field="due_at", message="is not in the future"))
    if isinstance(command.details, VictimReferral):
        errors.extend(_referral_consent_errors(command.details.consent, now))
    if errors:
        raise Rejected(422, "; ".join(f"{e.field}: {e.message}" for e in errors), tuple(errors))
    event = TaskRequested(
        task_id=command.task_id,
        at=now,
        by=command.actor.member,
        team=command.actor.team,
        jit=command.jit,
        to_team=command.to_team,
        to_member=command.to_member,
        title=command.title,
        description=command.description,
        priority=command.priority,
        respond_by=command.respond_by,
        due_at=command.due_at,
        links=command.links,
        details=command.details,
        releasable_to=tuple(
            sorted(set(command.releasable_to) - {command.actor.team, command.to_team})
        ),
        handling=command.handling,
    )
    return [_address(_requested(event), event, command.actor.team)]


def _referral_consent_errors(consent: ConsentRecord | None, now: datetime) -> list[FieldError]:
    field = "details.consent"
    if consent is None:
        return [
            FieldError(
                field=field,
                message="a victim referral needs a record of the victim's consent",
            )
        ]
    if consent.decision != ConsentDecision.GIVEN:
        return [
            FieldError(
                field=field,
                message=f"consent is {consent.decision}; a referral needs consent given",
            )
        ]
    if consent.at > now:
        return [
            FieldError(
                field=f"{field}.at",
                message="consent is recorded as given in the future",
            )
        ]
    return []


def _requested(event: TaskRequested) -> TaskState:
    details = event.details
    return TaskState(
        task_id=event.task_id,
        jit=event.jit,
        kind=TaskKind(details.kind),
        status=TaskStatus.REQUESTED,
        requester_team=event.team,
        requested_by=event.by,
        requested_at=event.at,
        to_team=event.to_team,
        to_member=event.to_member,
        assignee=event.to_member,
        title=event.title,
        description=event.description,
        priority=event.priority,
        respond_by=event.respond_by,
        due_at=event.due_at,
        links=event.links,
        details=details,
        releasable_to=event.releasable_to,
        handling=event.handling,
        consents=(details.consent,)
        if isinstance(details, VictimReferral) and details.consent
        else (),
        version=1,
    )


def _authorise(state: TaskState, actor: Actor, rule: _Rule) -> None:
    if actor.team not in state.audience:
        # The same answer as for a task that does not exist: a team the task was not released
        # to learns nothing of it, not even who its parties are.
        raise Rejected(404, f"no task {state.task_id}")
    teams = {
        "receiver": {state.to_team},
        "requester": {state.requester_team},
        "either": {state.requester_team, state.to_team},
    }[rule.party]
    if actor.team not in teams:
        who = {
            "receiver": f"the receiving team {state.to_team}",
            "requester": f"the requesting team {state.requester_team}",
            "either": f"the requesting team {state.requester_team} "
            f"or the receiving team {state.to_team}",
        }[rule.party]
        raise Rejected(
            403,
            f"only {who} may {rule.verb} task {state.task_id}; {actor.team} may not",
        )
    _require_role(actor, rule.verb)


def _require_role(actor: Actor, verb: str) -> None:
    if not ACTING_ROLES.intersection(actor.roles):
        needed = ", ".join(sorted(ACTING_ROLES))
        raise Rejected(403, f"to {verb} a task a member needs one of the roles {needed}")


def _address(state: TaskState, event: Event, originator: str) -> Addressed:
    return Addressed(
        event=event,
        subject=state.task_id,
        originator=originator,
        releasable_to=state.audience - {originator},
        handling=state.handling,
    )


def _overdue(state: TaskState, deadline: Deadline, at: datetime, now: datetime) -> TaskOverdue:
    return TaskOverdue(
        task_id=state.task_id,
        at=now,
        responsible_team=state.to_team,
        deadline=deadline,
        due_at=at,
        title=state.title,
    )


def _acted(cls: type[_Acted], command: TaskCommand, now: datetime, **fields: Any) -> _Acted:
    return cls(
        task_id=command.task_id,
        at=now,
        by=command.actor.member,
        team=command.actor.team,
        **fields,
    )


def _act(state: TaskState, command: TaskCommand, now: datetime) -> list[Event]:
    match command:
        case AcceptTask():
            return [
                _acted(
                    TaskAccepted,
                    command,
                    now,
                    assignee=command.assignee or command.actor.member,
                )
            ]
        case DeclineTask():
            return [_acted(TaskDeclined, command, now, reason=command.reason)]
        case StartTask():
            return [_acted(TaskStarted, command, now)]
        case BlockTask():
            return [_acted(TaskBlocked, command, now, reason=command.reason)]
        case UnblockTask():
            return [_acted(TaskUnblocked, command, now)]
        case CompleteTask():
            return [_acted(TaskCompleted, command, now, result_summary=command.result_summary)]
        case CancelTask():
            return [_acted(TaskCancelled, command, now, reason=command.reason)]
        case CommentOnTask():
            return [_acted(TaskCommented, command, now, text=command.text)]
        case RecordConsent():
            return _record_consent(state, command, now)
    raise ValueError(f"{type(command).__name__} is not a tasking command")


def _record_consent(state: TaskState, command: RecordConsent, now: datetime) -> list[Event]:
    if state.kind != TaskKind.VICTIM_REFERRAL:
        raise Rejected(
            422,
            f"consent: is recorded only for victim referrals; task {state.task_id} is {state.kind}",
            (FieldError(field="consent", message="the task is not a victim referral"),),
        )
    if command.consent.at > now:
        raise Rejected(
            422,
            "consent.at: is in the future",
            (FieldError(field="consent.at", message="is in the future"),),
        )
    events: list[Event] = [_acted(ConsentRecorded, command, now, consent=command.consent)]
    if command.consent.decision == ConsentDecision.WITHDRAWN and state.status in OPEN:
        events.append(
            _acted(
                ReferralStopped,
                command,
                now,
                previous_status=state.status,
                reason="the victim's consent was withdrawn",
            )
        )
    return events
