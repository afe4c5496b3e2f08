"""Builders for tasks, actors and commands, and a way to drive a task through the domain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from events.envelope import Actor, Addressed, Event
from events.tasking import (
    AcceptTask,
    BlockTask,
    CancelTask,
    CommentOnTask,
    CompleteTask,
    ConsentDecision,
    ConsentRecord,
    DeclineTask,
    InformationRequest,
    InvestigativeAction,
    LegalAssistance,
    RecordConsent,
    ReferralService,
    RequestTask,
    StartTask,
    TaskCommand,
    TaskDetails,
    TaskStatus,
    UnblockTask,
    VictimReferral,
)
from services.tasking.domain import TaskState, decide, evolve

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TASK = "task-1"
JIT = "jit-ceres"
REQUESTER = "NL-KLPD"
RECEIVER = "RO-DIICOT"
OBSERVER = "EU-EUROPOL"
"""A team the task is released to: it sees the task but may not act on it."""
STRANGER = "DE-BKA"
"""A JIT team the task was never released to."""


def actor(team: str, *roles: str, member: str | None = None) -> Actor:
    return Actor(member=member or f"{team.lower()}-m1", team=team, roles=roles)


REQ = actor(REQUESTER, "investigator")
RCV = actor(RECEIVER, "investigator")


def consent(
    decision: ConsentDecision = ConsentDecision.GIVEN, at: datetime | None = None
) -> ConsentRecord:
    return ConsentRecord(
        decision=decision,
        by="victim-entity-42",
        at=at or NOW - timedelta(hours=1),
        purposes=("referral to shelter", "sharing with the receiving team"),
    )


def referral(record: ConsentRecord | None = None) -> VictimReferral:
    return VictimReferral(service=ReferralService.SHELTER, consent=record or consent())


KINDS: dict[str, TaskDetails] = {
    "investigative_action": InvestigativeAction(),
    "information_request": InformationRequest(),
    "legal_assistance": LegalAssistance(
        legal_basis="Art. 13 Convention on Mutual Assistance 2000",
        requested_measure="Hearing of a witness in Constanța",
    ),
    "victim_referral": referral(),
}


def request(
    details: TaskDetails | None = None,
    *,
    by: Actor = REQ,
    respond_by: datetime | None = None,
    due_at: datetime | None = None,
    releasable_to: tuple[str, ...] = (OBSERVER,),
    task_id: str = TASK,
) -> RequestTask:
    return RequestTask(
        task_id=task_id,
        actor=by,
        jit=JIT,
        to_team=RECEIVER,
        to_member="ro-diicot-m7",
        title="Check the phone subscriber",
        description="Identify the subscriber of the number in lead L-7.",
        respond_by=respond_by,
        due_at=due_at,
        details=details or InvestigativeAction(),
        releasable_to=releasable_to,
    )


def accept(by: Actor = RCV) -> AcceptTask:
    return AcceptTask(task_id=TASK, actor=by)


def decline(by: Actor = RCV) -> DeclineTask:
    return DeclineTask(task_id=TASK, actor=by, reason="No legal basis in Romania")


def start(by: Actor = RCV) -> StartTask:
    return StartTask(task_id=TASK, actor=by)


def block(by: Actor = RCV) -> BlockTask:
    return BlockTask(task_id=TASK, actor=by, reason="Waiting for a court order")


def unblock(by: Actor = RCV) -> UnblockTask:
    return UnblockTask(task_id=TASK, actor=by)


def complete(by: Actor = RCV) -> CompleteTask:
    return CompleteTask(task_id=TASK, actor=by, result_summary="Subscriber identified: E-19")


def cancel(by: Actor = REQ) -> CancelTask:
    return CancelTask(task_id=TASK, actor=by, reason="Lead turned out to be false")


def comment(by: Actor = REQ) -> CommentOnTask:
    return CommentOnTask(task_id=TASK, actor=by, text="Any news?")


def record_consent(
    by: Actor = REQ, decision: ConsentDecision = ConsentDecision.GIVEN
) -> RecordConsent:
    return RecordConsent(task_id=TASK, actor=by, consent=consent(decision))


COMMANDS: dict[str, Callable[[Actor], TaskCommand]] = {
    "accept": accept,
    "decline": decline,
    "start": start,
    "block": block,
    "unblock": unblock,
    "complete": complete,
    "cancel": cancel,
    "comment": comment,
    "record_consent": record_consent,
}

PATHS: dict[TaskStatus, tuple[Callable[[], TaskCommand], ...]] = {
    TaskStatus.REQUESTED: (),
    TaskStatus.ACCEPTED: (accept,),
    TaskStatus.DECLINED: (decline,),
    TaskStatus.IN_PROGRESS: (accept, start),
    TaskStatus.BLOCKED: (accept, start, block),
    TaskStatus.COMPLETED: (accept, start, complete),
    TaskStatus.CANCELLED: (cancel,),
    TaskStatus.STOPPED: (lambda: record_consent(decision=ConsentDecision.WITHDRAWN),),
}
"""How a victim referral reaches each status, by commands through the domain."""


def events_of(outcome: Iterable[Event | Addressed]) -> list[Event]:
    return [o.event if isinstance(o, Addressed) else o for o in outcome]


def apply(
    state: TaskState | None, command: TaskCommand, now: datetime = NOW
) -> tuple[TaskState, list[Event | Addressed]]:
    """Decide a command and evolve the state by what it caused, as the service does."""
    outcome = decide(state, command, now=now)
    for event in events_of(outcome):
        state = evolve(state, event)
    assert state is not None
    return state, outcome


def drive(*commands: TaskCommand, now: datetime = NOW) -> TaskState:
    state: TaskState | None = None
    for command in commands:
        state, _ = apply(state, command, now)
    assert state is not None
    return state


def task_in(
    status: TaskStatus,
    details: TaskDetails | None = None,
    *,
    respond_by: datetime | None = None,
    due_at: datetime | None = None,
) -> TaskState:
    """A task (a victim referral unless ``details`` says otherwise) brought to ``status``."""
    first = request(details or referral(), respond_by=respond_by, due_at=due_at)
    state = drive(first, *(step() for step in PATHS[status]))
    assert state.status == status
    return state
