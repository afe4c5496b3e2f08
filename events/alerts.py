"""Alerts: time-critical notices to the rapid-response desks of a JIT's teams.

An alert is raised (by a member or by another service), routed to the desks of its target teams
under each desk's rules, delivered live, by signed webhook and on the team's feed, acknowledged
by a desk officer, escalated along the chain desk → team lead → the JIT coordinator team's desk
while nobody acknowledges it, folded with repeats of the same condition, and resolved.

The alerts service is the one writer of an alert's lifecycle. Delivery receipts and webhook
failures are facts reported by the delivery workers; they travel on the same topic so that a
desk's history of an alert is in one place.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.handling import Handling
from events.registry import CatalogueEntry
from events.topics import ALERT_COMMANDS, ALERT_EVENTS

RefId = Annotated[str, Field(pattern=ID_PATTERN)]
TeamCode = Annotated[str, Field(pattern=TEAM_PATTERN)]
Reason = Annotated[str, Field(min_length=1, max_length=2_000)]

DEDUP_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$"
"""A condition's de-duplication key, e.g. ``opconflict:OP-17:OP-23``; never personal data."""

HOST_PATTERN = r"^[A-Za-z0-9.\-\[\]:]{1,255}$"


class Severity(StrEnum):
    """P1 is the most urgent. Compare with :meth:`at_least`, never with ``<`` on the strings."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 for P1 … 4 for P4: a lower rank is more urgent."""
        return int(self.value[1])

    def at_least(self, other: Severity) -> bool:
        """Whether this severity is as urgent as ``other`` or more (P1 is at least P3)."""
        return self.rank <= other.rank


class Category(StrEnum):
    OFFICER_SAFETY = "officer_safety"
    VICTIM_AT_RISK = "victim_at_risk"
    SUSPECT_MOVEMENT = "suspect_movement"
    DECONFLICTION = "deconfliction"
    TASK_OVERDUE = "task_overdue"
    OTHER = "other"


class LinkKind(StrEnum):
    """What an alert can point at in the other contexts."""

    LEAD = "lead"
    TASK = "task"
    OPERATION = "operation"
    ENTITY = "entity"
    REGISTRATION = "registration"
    HIT = "hit"
    CONFLICT = "conflict"
    ALERT = "alert"


class DeliveryChannel(StrEnum):
    SSE = "sse"
    WEBHOOK = "webhook"
    FEED = "feed"


class EscalationTarget(StrEnum):
    """The steps after the desk in the escalation chain, in order."""

    TEAM_LEAD = "team_lead"
    COORDINATOR_DESK = "coordinator_desk"


class RouteBasis(StrEnum):
    """Why a desk received an alert, so that a desk can tell why its rule was overridden."""

    DEFAULT = "default"
    """The desk has no rule: it receives everything."""
    RULE = "rule"
    """The desk's rule admits the alert's category and severity."""
    SAFETY = "safety"
    """A P1 officer-safety or victim-at-risk alert, which reaches the desk whatever its rule."""


class AlertLink(BaseModel):
    """A pointer from an alert to the record it is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: LinkKind
    id: RefId


def _unique_sorted(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(value)))


class RaiseAlert(Command):
    """Raise an alert for the desks of ``target_teams``.

    ``summary`` is free text shown to desk officers; it should carry no personal data (link to
    the record instead), and it is never logged. With a ``dedup_key``, a repeat of the same
    condition while the first alert is unresolved and within the de-duplication window is folded
    into that alert instead of paging the desks again. ``handling`` travels with every event of
    the alert, whichever team's command caused it.
    """

    type = "interlock.alert.raise"

    alert_id: RefId
    jit: RefId
    severity: Severity
    category: Category
    target_teams: tuple[TeamCode, ...] = Field(min_length=1, max_length=32)
    summary: str = Field(min_length=1, max_length=1_000)
    links: tuple[AlertLink, ...] = Field(default=(), max_length=50)
    dedup_key: str | None = Field(default=None, pattern=DEDUP_KEY_PATTERN)
    handling: Handling = Handling()

    @field_validator("target_teams")
    @classmethod
    def _teams_once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique_sorted(value)

    @field_validator("summary")
    @classmethod
    def _summary_not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("summary is blank")
        return stripped


class AcknowledgeAlert(Command):
    """A desk officer (or team lead, or coordinator) of a target team takes the alert on."""

    type = "interlock.alert.acknowledge"

    alert_id: RefId


class ResolveAlert(Command):
    type = "interlock.alert.resolve"

    alert_id: RefId
    reason: Reason


class SetDeskRule(Command):
    """Set which alerts a team's desk is paged for in one JIT; safety-critical ones always are."""

    type = "interlock.alert.set_desk_rule"

    jit: RefId
    team: TeamCode
    categories: tuple[Category, ...] = Field(min_length=1)
    min_severity: Severity

    @field_validator("categories")
    @classmethod
    def _categories_once_each(cls, value: tuple[Category, ...]) -> tuple[Category, ...]:
        return tuple(sorted(set(value)))


JIT_WIDE = "*"
"""The ``team`` of an escalation setting that holds for every desk of the JIT without its own."""

StepSeconds = Annotated[float, Field(gt=0, le=7 * 86_400)]


class EscalationTimes(BaseModel):
    """How long each step of an alert's chain waits for an acknowledgement, per severity, and how
    often the last step is paged again; P4 never escalates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p1_seconds: StepSeconds
    p2_seconds: StepSeconds
    p3_seconds: StepSeconds
    repage_seconds: StepSeconds


class SetDeskEscalation(Command):
    """The JIT coordinator sets the escalation times of one desk, or of the whole JIT
    (``team`` = ``*``); ``times`` None goes back to the JIT's (or the service's) default."""

    type = "interlock.alert.set_desk_escalation"

    jit: RefId
    team: Annotated[str, Field(pattern=rf"^(?:{TEAM_PATTERN[1:-1]}|\*)$")]
    times: EscalationTimes | None = None


class EscalateAlert(Command):
    """The escalation timer's tick: move the alert along its chain if its deadline has passed.

    Issued by the alerts service itself (``actor`` is the service, on behalf of the raising
    team), keyed by the alert's JIT like every alert command, so the alert's one writer applies
    it; a tick that arrives twice finds nothing more due.
    """

    type = "interlock.alert.escalate"

    alert_id: RefId
    jit: RefId


class AlertRaised(Event):
    """A new alert. ``acknowledge_by`` is None when nobody is expected to acknowledge (P4, or no
    desk was paged); ``coordinator_team``/``coordinator_desk`` are the last step of its chain."""

    type = "interlock.alert.raised"

    alert_id: str
    jit: str
    severity: Severity
    category: Category
    target_teams: tuple[str, ...]
    summary: str
    links: tuple[AlertLink, ...] = ()
    dedup_key: str | None = None
    handling: Handling = Handling()
    raised_by: str
    raising_team: str
    raised_at: datetime
    acknowledge_by: datetime | None = None
    escalates_at: datetime | None = None
    coordinator_team: str
    coordinator_desk: str | None = None
    escalation: EscalationTimes | None = None
    """The times the alert's whole chain runs on, when a coordinator set them for a paged desk
    or the JIT; None: the service's defaults."""


class AlertRouted(Event):
    """The alert goes to ``desk`` for ``team``; ``team_lead`` is that team's next step up."""

    type = "interlock.alert.routed"

    alert_id: str
    team: str
    desk: str
    basis: RouteBasis
    team_lead: str | None = None


class AlertDelivered(Event):
    """A delivery worker's receipt: the alert reached ``team`` on ``channel``.

    ``reference`` is the channel's own id for the delivery (SSE event id, feed offset, the
    receiver's request id); ``status_code`` is the webhook receiver's HTTP status.
    """

    type = "interlock.alert.delivered"

    alert_id: str
    team: str
    channel: DeliveryChannel
    delivered_at: AwareDatetime
    attempts: int = Field(default=1, ge=1)
    reference: str | None = Field(default=None, max_length=256)
    status_code: int | None = Field(default=None, ge=100, le=599)


class AlertAcknowledged(Event):
    type = "interlock.alert.acknowledged"

    alert_id: str
    by: str
    team: str
    at: datetime


class AlertEscalated(Event):
    """Nobody acknowledged in time: the alert goes to the next step of its chain.

    One event per recipient: at the team-lead step one for each paged team that has a lead
    (``member``), at the coordinator step one for the coordinator team's ``desk``.
    ``next_escalation_at`` is when the next step, or the last step once more, is paged.
    ``repeat`` is 0 when the step is first paged and counts the pages of the last step after
    that, which go on at the re-page interval until someone acknowledges.
    """

    type = "interlock.alert.escalated"

    alert_id: str
    step: int = Field(ge=1, le=2)
    to: EscalationTarget
    team: str
    member: str | None = None
    desk: str | None = None
    severity: Severity
    category: Category
    at: datetime
    acknowledge_by: datetime
    next_escalation_at: datetime | None = None
    repeat: int = Field(default=0, ge=0)


class AlertDeduplicated(Event):
    """The same condition was raised again (as ``duplicate_id``) and folded into ``alert_id``."""

    type = "interlock.alert.deduplicated"

    alert_id: str
    duplicate_id: str
    count: int = Field(ge=2)
    last_seen: datetime


class AlertResolved(Event):
    type = "interlock.alert.resolved"

    alert_id: str
    by: str
    team: str
    reason: str
    at: datetime


class WebhookDeliveryFailed(Event):
    """A webhook attempt failed; ``final`` means no more retries (the dead-letter record).

    Only the receiver's host is recorded: a webhook URL's path or query may carry a token.
    """

    type = "interlock.alert.webhook_delivery_failed"

    alert_id: str
    team: TeamCode
    host: str = Field(pattern=HOST_PATTERN)
    attempts: int = Field(ge=1)
    last_error: str = Field(min_length=1, max_length=500)
    final: bool = False
    next_attempt_at: AwareDatetime | None = None


class DeskRuleSet(Event):
    type = "interlock.alert.desk_rule_set"

    jit: str
    team: str
    categories: tuple[Category, ...]
    min_severity: Severity
    by: str


class DeskEscalationSet(Event):
    """A desk's (or, for ``team`` ``*``, the JIT's) escalation times changed; None: default."""

    type = "interlock.alert.desk_escalation_set"

    jit: str
    team: str
    times: EscalationTimes | None = None
    by: str


ENTRIES = (
    CatalogueEntry(RaiseAlert, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(SetDeskEscalation, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(AcknowledgeAlert, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(ResolveAlert, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(SetDeskRule, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(EscalateAlert, ALERT_COMMANDS, key="jit"),
    CatalogueEntry(AlertRaised, ALERT_EVENTS),
    CatalogueEntry(AlertRouted, ALERT_EVENTS),
    CatalogueEntry(AlertDelivered, ALERT_EVENTS),
    CatalogueEntry(AlertAcknowledged, ALERT_EVENTS),
    CatalogueEntry(AlertEscalated, ALERT_EVENTS),
    CatalogueEntry(AlertDeduplicated, ALERT_EVENTS),
    CatalogueEntry(AlertResolved, ALERT_EVENTS),
    CatalogueEntry(WebhookDeliveryFailed, ALERT_EVENTS),
    CatalogueEntry(DeskRuleSet, ALERT_EVENTS),
    CatalogueEntry(DeskEscalationSet, ALERT_EVENTS),
)
