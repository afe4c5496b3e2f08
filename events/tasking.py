"""Tasking: requests from one team to another, legal-assistance requests and victim referrals.

A task has one writer (the tasking service, keyed by task id). Every task event is visible to
the requesting team, the receiving team and the teams the request was released to; the domain
says so by returning each event with its audience, whichever team's command caused it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.handling import Handling
from events.registry import CatalogueEntry
from events.topics import TASK_COMMANDS, TASK_EVENTS

RefId = Annotated[str, Field(pattern=ID_PATTERN)]
TeamCode = Annotated[str, Field(pattern=TEAM_PATTERN)]
Reason = Annotated[str, Field(min_length=1, max_length=2_000)]


class TaskKind(StrEnum):
    INVESTIGATIVE_ACTION = "investigative_action"
    INFORMATION_REQUEST = "information_request"
    LEGAL_ASSISTANCE = "legal_assistance"
    VICTIM_REFERRAL = "victim_referral"


class TaskPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TaskStatus(StrEnum):
    """Where a task is in its life; ``stopped`` is a victim referral whose consent was withdrawn."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


class ReferralService(StrEnum):
    """Protection services a victim is referred to through the national referral mechanism."""

    SHELTER = "shelter"
    MEDICAL_CARE = "medical_care"
    LEGAL_AID = "legal_aid"
    PSYCHOSOCIAL_SUPPORT = "psychosocial_support"


class ConsentDecision(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class Deadline(StrEnum):
    """Which deadline a task missed: acceptance by ``respond_by`` or completion by ``due_at``."""

    RESPONSE = "response"
    COMPLETION = "completion"


class ConsentRecord(BaseModel):
    """A victim's consent (or its withdrawal) to a referral, recorded without naming anyone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: ConsentDecision
    by: RefId = Field(
        description="Reference to who gave or withdrew consent (the victim's pseudonymous "
        "entity id or a guardian's reference), never a name."
    )
    at: AwareDatetime
    purposes: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        min_length=1,
        max_length=20,
        description="What the consent covers, e.g. 'referral to shelter'.",
    )


class TaskLinks(BaseModel):
    """Leads, entities and operations a task is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leads: tuple[RefId, ...] = Field(default=(), max_length=100)
    entities: tuple[RefId, ...] = Field(default=(), max_length=200)
    operations: tuple[RefId, ...] = Field(default=(), max_length=100)


class InvestigativeAction(BaseModel):
    """An investigative step the receiving team is asked to take (a check, a hearing, a watch)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["investigative_action"] = "investigative_action"


class InformationRequest(BaseModel):
    """A request for information the receiving team holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["information_request"] = "information_request"


class LegalAssistance(BaseModel):
    """A mutual legal-assistance request: a measure under a stated legal basis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["legal_assistance"] = "legal_assistance"
    legal_basis: str = Field(min_length=1, max_length=1_000)
    requested_measure: str = Field(min_length=1, max_length=2_000)


class VictimReferral(BaseModel):
    """A referral of a victim to a protection service through the national referral mechanism.

    ``consent`` may be absent on the wire so that the tasking service, not the parser, refuses a
    referral without given consent (422 naming ``consent``) wherever the command came from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["victim_referral"] = "victim_referral"
    service: ReferralService
    nrm_reference: RefId | None = Field(
        default=None,
        description="Case reference in the national referral mechanism, once known.",
    )
    consent: ConsentRecord | None = None


TaskDetails = Annotated[
    InvestigativeAction | InformationRequest | LegalAssistance | VictimReferral,
    Field(discriminator="kind"),
]


class TaskCommand(Command):
    """A command to one task; the task id is the partition key and the aggregate id."""

    task_id: RefId


class RequestTask(TaskCommand):
    """Ask another team (or a member of it, or one's own team) to do something.

    The task is always visible to the requesting and the receiving team; ``releasable_to``
    names further teams (e.g. the JIT coordinator) that may see it.
    """

    type = "interlock.task.request"

    jit: RefId
    to_team: TeamCode
    to_member: RefId | None = None
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    priority: TaskPriority = TaskPriority.NORMAL
    respond_by: AwareDatetime | None = Field(
        default=None,
        description="When the receiving team must have accepted or declined.",
    )
    due_at: AwareDatetime | None = Field(
        default=None, description="When the task must be completed."
    )
    links: TaskLinks = TaskLinks()
    details: TaskDetails
    releasable_to: tuple[TeamCode, ...] = Field(default=(), max_length=50)
    handling: Handling = Handling()

    @model_validator(mode="after")
    def _response_before_completion(self) -> Self:
        if (
            self.respond_by is not None
            and self.due_at is not None
            and self.respond_by > self.due_at
        ):
            raise ValueError("respond_by: is after due_at; a task is accepted before it is done")
        return self


class AcceptTask(TaskCommand):
    """Take the task on; ``assignee`` will do it (the accepting member if absent)."""

    type = "interlock.task.accept"

    assignee: RefId | None = None


class DeclineTask(TaskCommand):
    type = "interlock.task.decline"

    reason: Reason


class StartTask(TaskCommand):
    type = "interlock.task.start"


class BlockTask(TaskCommand):
    type = "interlock.task.block"

    reason: Reason


class UnblockTask(TaskCommand):
    type = "interlock.task.unblock"


class CompleteTask(TaskCommand):
    type = "interlock.task.complete"

    result_summary: str = Field(min_length=1, max_length=10_000)


class CancelTask(TaskCommand):
    type = "interlock.task.cancel"

    reason: Reason


class CommentOnTask(TaskCommand):
    type = "interlock.task.comment"

    text: str = Field(min_length=1, max_length=10_000)


class RecordConsent(TaskCommand):
    """Record consent given or withdrawn for a victim referral; withdrawal stops the referral."""

    type = "interlock.task.record_consent"

    consent: ConsentRecord


class CheckTaskDeadlines(TaskCommand):
    """A timer's tick: the task's one writer emits whatever overdue notices are due now.

    Sent by the tasking service's own deadline timer (a table may only be written by the agent
    that owns the task's partition); a tick that arrives twice, or from anyone else, finds nothing
    more due than the deadlines already in the task.
    """

    type = "interlock.task.check_deadlines"


class TaskEvent(Event):
    """Something that happened to one task, at ``at`` (the time the service decided it)."""

    task_id: str
    at: datetime


class TaskActed(TaskEvent):
    """A task event caused by a member: who (member id) of which team."""

    by: str
    team: str


class TaskRequested(TaskActed):
    type = "interlock.task.requested"

    jit: str
    to_team: str
    to_member: str | None = None
    title: str
    description: str
    priority: TaskPriority
    respond_by: datetime | None = None
    due_at: datetime | None = None
    links: TaskLinks = TaskLinks()
    details: TaskDetails
    releasable_to: tuple[str, ...] = ()
    handling: Handling = Handling()


class TaskAccepted(TaskActed):
    type = "interlock.task.accepted"

    assignee: str


class TaskDeclined(TaskActed):
    type = "interlock.task.declined"

    reason: str


class TaskStarted(TaskActed):
    type = "interlock.task.started"


class TaskBlocked(TaskActed):
    type = "interlock.task.blocked"

    reason: str


class TaskUnblocked(TaskActed):
    type = "interlock.task.unblocked"


class TaskCompleted(TaskActed):
    type = "interlock.task.completed"

    result_summary: str


class TaskCancelled(TaskActed):
    type = "interlock.task.cancelled"

    reason: str


class TaskCommented(TaskActed):
    type = "interlock.task.commented"

    text: str


class ConsentRecorded(TaskActed):
    type = "interlock.task.consent_recorded"

    consent: ConsentRecord


class ReferralStopped(TaskActed):
    """A victim referral stopped because consent was withdrawn; told to every team that saw it."""

    type = "interlock.task.referral_stopped"

    previous_status: TaskStatus
    reason: str


class TaskOverdue(TaskEvent):
    """A task missed a deadline; the alerts service raises an alert to the responsible desk."""

    type = "interlock.task.overdue"

    responsible_team: str
    deadline: Deadline
    due_at: datetime
    title: str | None = None
    """The task's title, so that the alert names the task instead of its id."""


ENTRIES = (
    CatalogueEntry(RequestTask, TASK_COMMANDS),
    CatalogueEntry(AcceptTask, TASK_COMMANDS),
    CatalogueEntry(DeclineTask, TASK_COMMANDS),
    CatalogueEntry(StartTask, TASK_COMMANDS),
    CatalogueEntry(BlockTask, TASK_COMMANDS),
    CatalogueEntry(UnblockTask, TASK_COMMANDS),
    CatalogueEntry(CompleteTask, TASK_COMMANDS),
    CatalogueEntry(CancelTask, TASK_COMMANDS),
    CatalogueEntry(CommentOnTask, TASK_COMMANDS),
    CatalogueEntry(RecordConsent, TASK_COMMANDS),
    CatalogueEntry(CheckTaskDeadlines, TASK_COMMANDS),
    CatalogueEntry(TaskRequested, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskAccepted, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskDeclined, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskStarted, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskBlocked, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskUnblocked, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskCompleted, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskCancelled, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskCommented, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(ConsentRecorded, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(ReferralStopped, TASK_EVENTS, sealed_by="task_id"),
    CatalogueEntry(TaskOverdue, TASK_EVENTS, sealed_by="task_id"),
)
