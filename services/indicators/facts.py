"""Events → facts: the few fields of an event that an indicator needs, and nothing personal.

A fact is a flat record (strings, numbers, booleans, lists of strings) named by the id of the
event it comes from, so writing it twice is writing it once, and a rebuild from the log makes
the same facts. Free text (summaries, reasons, notes, names, identifiers) never becomes a fact:
the indicators store holds ids, team codes, enumerations and times only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from events.alerts import (
    AlertAcknowledged,
    AlertDeduplicated,
    AlertEscalated,
    AlertRaised,
    AlertResolved,
    AlertRouted,
    LinkKind,
)
from events.audit import AuditKind, AuditRecorded
from events.deconfliction import (
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    OperationConflictCleared,
    OperationConflictDetected,
    OperationConflictResolved,
    OperationPlanned,
    PersonRegistered,
    RoleConflictDetected,
    TokenRegistered,
)
from events.envelope import Envelope
from events.leads import LeadActioned, LeadSubmitted, LeadTriaged
from events.retention import RetentionExtended, ReviewDue, SubjectErased
from events.tasking import (
    ConsentDecision,
    ConsentRecorded,
    LegalAssistance,
    ReferralStopped,
    TaskAccepted,
    TaskCancelled,
    TaskCompleted,
    TaskDeclined,
    TaskOverdue,
    TaskRequested,
    VictimReferral,
)

Value = str | int | float | bool | list[str] | None
Fact = dict[str, Value]
"""One fact: ``id`` (the event's), ``jit``, ``kind``, ``ref`` (the thing it is about), ``at``
(ISO 8601 UTC) and the kind's own fields."""

EIO_PATTERN = re.compile(r"\b(EIO|OEE|EEA|2014/41)\b|european investigation order", re.IGNORECASE)
"""A legal-assistance request whose legal basis names the EIO Directive (2014/41/EU) is an EIO;
any other is a mutual legal assistance (MLA) request."""


def iso(value: datetime) -> str:
    """A time as sortable ISO 8601 UTC text (microseconds, ``+00:00``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def instrument(legal_basis: str) -> str:
    """``EIO`` or ``MLA``: which instrument a legal-assistance request was made under."""
    return "EIO" if EIO_PATTERN.search(legal_basis) else "MLA"


def _alert_raised(env: Envelope, e: AlertRaised) -> Fact:
    return {
        "kind": "alert.raised",
        "ref": e.alert_id,
        "at": iso(e.raised_at),
        "team": e.raising_team,
        "teams": sorted({*e.target_teams, e.raising_team}),
        "severity": e.severity.value,
        "category": e.category.value,
        "expects_ack": e.acknowledge_by is not None,
        "conflicts": sorted({link.id for link in e.links if link.kind is LinkKind.CONFLICT}),
    }


def _alert_routed(env: Envelope, e: AlertRouted) -> Fact:
    return {
        "kind": "alert.routed",
        "ref": e.alert_id,
        "at": iso(env.time),
        "team": e.team,
        "desk": e.desk,
    }


def _alert_acknowledged(env: Envelope, e: AlertAcknowledged) -> Fact:
    return {"kind": "alert.acknowledged", "ref": e.alert_id, "at": iso(e.at), "team": e.team}


def _alert_escalated(env: Envelope, e: AlertEscalated) -> Fact:
    return {
        "kind": "alert.escalated",
        "ref": e.alert_id,
        "at": iso(e.at),
        "team": e.team,
        "step": e.step,
    }


def _alert_deduplicated(env: Envelope, e: AlertDeduplicated) -> Fact:
    return {"kind": "alert.repaged", "ref": e.alert_id, "at": iso(e.last_seen)}


def _alert_resolved(env: Envelope, e: AlertResolved) -> Fact:
    return {"kind": "alert.resolved", "ref": e.alert_id, "at": iso(e.at), "team": e.team}


def _hit(env: Envelope, e: DeconflictionHit) -> Fact | None:
    if env.jit not in (e.registering.jit, e.holding.jit):
        return None
    return {
        "kind": "hit.detected",
        "ref": e.hit_id,
        "at": iso(e.detected_at),
        "team": e.registering.team,
        "other": e.holding.team,
        "teams": sorted({e.registering.team, e.holding.team}),
        "match": str(e.kind),
        "registrations": sorted({e.registering.registration_id, e.holding.registration_id}),
    }


def _released(env: Envelope, e: DeconflictionDetailsReleased) -> Fact:
    return {
        "kind": "hit.released",
        "ref": e.hit_id,
        "at": iso(e.released_at),
        "team": e.by_team,
        "other": e.to_team,
    }


def _declined(env: Envelope, e: DeconflictionDetailsDeclined) -> Fact:
    return {
        "kind": "hit.declined",
        "ref": e.hit_id,
        "at": iso(e.declined_at),
        "team": e.by_team,
        "other": e.to_team,
    }


def _role_conflict(env: Envelope, e: RoleConflictDetected) -> Fact:
    return {
        "kind": "role_conflict.detected",
        "ref": e.conflict_id,
        "at": iso(e.detected_at),
        "teams": sorted({e.victim.team, e.suspect.team}),
    }


def _op_conflict(env: Envelope, e: OperationConflictDetected) -> Fact:
    return {
        "kind": "op_conflict.detected",
        "ref": e.conflict_id,
        "at": iso(e.detected_at),
        "teams": sorted({side.team for side in e.sides}),
    }


def _op_resolved(env: Envelope, e: OperationConflictResolved) -> Fact:
    return {"kind": "op_conflict.handled", "ref": e.conflict_id, "at": iso(e.resolved_at)}


def _op_cleared(env: Envelope, e: OperationConflictCleared) -> Fact:
    return {"kind": "op_conflict.handled", "ref": e.conflict_id, "at": iso(e.cleared_at)}


def _op_planned(env: Envelope, e: OperationPlanned) -> Fact:
    return {
        "kind": "operation.planned",
        "ref": e.operation_id,
        "at": iso(e.planned_at),
        "team": e.team,
        "operation": e.kind.value,
    }


def _registered(env: Envelope, e: TokenRegistered | PersonRegistered) -> Fact:
    return {
        "kind": "registration",
        "ref": e.registration_id,
        "at": iso(e.registered_at),
        "team": e.team,
        "lead": e.source_ref,
    }


def _task_requested(env: Envelope, e: TaskRequested) -> Fact:
    fact: Fact = {
        "kind": "task.requested",
        "ref": e.task_id,
        "at": iso(e.at),
        "team": e.team,
        "other": e.to_team,
        "teams": sorted({e.team, e.to_team}),
        "task_kind": e.details.kind,
        "priority": e.priority.value,
        "leads": sorted(e.links.leads),
    }
    if isinstance(e.details, LegalAssistance):
        fact["instrument"] = instrument(e.details.legal_basis)
    if isinstance(e.details, VictimReferral):
        consent = e.details.consent
        fact["consent"] = consent.decision.value if consent is not None else None
    return fact


def _task_step(
    kind: str,
) -> Callable[[Envelope, TaskAccepted | TaskDeclined | TaskCompleted | TaskCancelled], Fact]:
    def make(env: Envelope, e: TaskAccepted | TaskDeclined | TaskCompleted | TaskCancelled) -> Fact:
        return {"kind": kind, "ref": e.task_id, "at": iso(e.at), "team": e.team}

    return make


def _consent(env: Envelope, e: ConsentRecorded) -> Fact:
    return {
        "kind": "task.consent",
        "ref": e.task_id,
        "at": iso(e.at),
        "consent": e.consent.decision.value,
    }


def _referral_stopped(env: Envelope, e: ReferralStopped) -> Fact:
    return {
        "kind": "task.consent",
        "ref": e.task_id,
        "at": iso(e.at),
        "consent": ConsentDecision.WITHDRAWN.value,
    }


def _overdue(env: Envelope, e: TaskOverdue) -> Fact:
    return {
        "kind": "task.overdue",
        "ref": e.task_id,
        "at": iso(e.at),
        "team": e.responsible_team,
        "deadline": e.deadline.value,
    }


def _lead_submitted(env: Envelope, e: LeadSubmitted) -> Fact:
    return {
        "kind": "lead.submitted",
        "ref": e.lead_id,
        "at": iso(env.time),
        "received": iso(e.received_at),
        "team": e.team,
        "grading": f"{e.reliability.value}{e.credibility.value}",
        "source": e.source.value,
    }


def _lead_triaged(env: Envelope, e: LeadTriaged) -> Fact:
    return {"kind": "lead.triaged", "ref": e.lead_id, "at": iso(env.time)}


def _lead_actioned(env: Envelope, e: LeadActioned) -> Fact:
    return {
        "kind": "lead.actioned",
        "ref": e.lead_id,
        "at": iso(env.time),
        "link_kind": e.link_kind,
    }


def _audit(env: Envelope, e: AuditRecorded) -> Fact | None:
    if e.kind is not AuditKind.CONSULTATION:
        return None
    return {
        "kind": "consultation",
        "ref": env.subject,
        "at": iso(e.at),
        "team": e.team,
        "justified": e.justification is not None,
    }


def _review_due(env: Envelope, e: ReviewDue) -> Fact:
    return {
        "kind": "retention.review",
        "ref": e.subject_id,
        "at": iso(e.at),
        "team": e.owner_team,
        "erase_after": iso(e.erase_after),
    }


def _extended(env: Envelope, e: RetentionExtended) -> Fact:
    return {
        "kind": "retention.extended",
        "ref": e.subject_id,
        "at": iso(e.at),
        "erase_after": iso(e.erase_after),
    }


def _erased(env: Envelope, e: SubjectErased) -> Fact:
    return {
        "kind": "retention.erased",
        "ref": e.subject_id,
        "at": iso(e.at),
        "team": e.owner_team,
        "cause": e.cause,
    }


FACTS: dict[type[Any], Callable[[Envelope, Any], Fact | None]] = {
    AlertRaised: _alert_raised,
    AlertRouted: _alert_routed,
    AlertAcknowledged: _alert_acknowledged,
    AlertEscalated: _alert_escalated,
    AlertDeduplicated: _alert_deduplicated,
    AlertResolved: _alert_resolved,
    DeconflictionHit: _hit,
    DeconflictionDetailsReleased: _released,
    DeconflictionDetailsDeclined: _declined,
    RoleConflictDetected: _role_conflict,
    OperationConflictDetected: _op_conflict,
    OperationConflictResolved: _op_resolved,
    OperationConflictCleared: _op_cleared,
    OperationPlanned: _op_planned,
    TokenRegistered: _registered,
    PersonRegistered: _registered,
    TaskRequested: _task_requested,
    TaskAccepted: _task_step("task.accepted"),
    TaskDeclined: _task_step("task.declined"),
    TaskCompleted: _task_step("task.completed"),
    TaskCancelled: _task_step("task.cancelled"),
    ConsentRecorded: _consent,
    ReferralStopped: _referral_stopped,
    TaskOverdue: _overdue,
    LeadSubmitted: _lead_submitted,
    LeadTriaged: _lead_triaged,
    LeadActioned: _lead_actioned,
    AuditRecorded: _audit,
    ReviewDue: _review_due,
    RetentionExtended: _extended,
    SubjectErased: _erased,
}
"""Which events make a fact, and how; every other event makes none."""

COUNTED_TYPES = frozenset(str(getattr(model, "type", "")) for model in FACTS)


def fact_of(env: Envelope) -> Fact | None:
    """The fact an event makes, or None when no indicator needs it."""
    make = FACTS.get(type(env.data))
    if make is None:
        return None
    fact = make(env, env.data)
    if fact is None:
        return None
    jit = env.jit
    if isinstance(env.data, AuditRecorded) and env.data.jit:
        jit = env.data.jit
    return {"id": env.id, "jit": jit, **fact}
