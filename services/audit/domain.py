"""What the audit trail records for each domain event, pure: the kind of operation, who, when,
what (ids only) and for whom; and the envelope an audit record travels in.

Derived records get ids derived from their cause, so a replay after a crash yields the same
record id and the chain writer drops the repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.audit import AuditKind, AuditRecorded, Justification
from events.codec import envelop
from events.envelope import Envelope
from events.handling import Handling, HandlingCode, Tlp

SOURCE = "/interlock/audit"
PLATFORM_TEAM = "ZZ-INTERLOCK"
"""The originator of records no team caused (a failed log-in by nobody in particular)."""
PLATFORM_JIT = "platform"
"""The JIT of records outside any JIT."""
AUDIT_HANDLING = Handling(code=HandlingCode.H2, tlp=Tlp.RED)

AUDIT_NAMESPACE = uuid.UUID("0b9e3c8e-8f0c-4d1e-9d7a-5a7f2b6c1e44")

COLLECTION = frozenset(
    {
        "interlock.lead.submitted",
        "interlock.entity.observed",
        "interlock.deconfliction.token_registered",
        "interlock.deconfliction.person_registered",
        "interlock.task.requested",
        "interlock.operation.planned",
        "interlock.alert.raised",
        "interlock.evidence.registered",
    }
)
CONSULTATION = frozenset({"interlock.evidence.viewed", "interlock.evidence.downloaded"})
DISCLOSURE = frozenset(
    {
        "interlock.evidence.shared",
        "interlock.evidence.transferred",
        "interlock.evidence.exported",
    }
)
"""Custody acts on evidence: reading a file is a consultation, passing it on a disclosure."""
COMBINATION = frozenset(
    {
        "interlock.deconfliction.hit_detected",
        "interlock.deconfliction.details_released",
        "interlock.deconfliction.role_conflict_detected",
        "interlock.operation.conflict_detected",
    }
)
ERASURE = frozenset({"interlock.retention.subject_erased", "interlock.evidence.erased"})
NOT_AUDITED = frozenset(
    {
        "interlock.retention.review_due",
        "interlock.lead.rejected",
        "interlock.alert.routed",
        "interlock.alert.delivered",
        "interlock.alert.deduplicated",
        "interlock.alert.webhook_delivery_failed",
    }
)
"""Events that process no case data: refusals and the alert service's own delivery plumbing."""

MEMBER_FIELDS = ("submitted_by", "by", "acknowledged_by", "resolved_by", "raised_by")
MAX_IDS = 200


def record_id(*parts: str) -> str:
    """A deterministic audit record id for one cause (and, for disclosures, one recipient)."""
    return str(uuid.uuid5(AUDIT_NAMESPACE, "/".join(parts)))


def kind_of(event_type: str) -> AuditKind | None:
    """The operation a domain event is, or None when it processes no case data."""
    if event_type in NOT_AUDITED or not event_type.startswith("interlock."):
        return None
    if event_type.startswith(("interlock.command.", "interlock.audit.", "interlock.directory.")):
        return None
    if event_type in COLLECTION:
        return AuditKind.COLLECTION
    if event_type in COMBINATION:
        return AuditKind.COMBINATION
    if event_type in ERASURE:
        return AuditKind.ERASURE
    if event_type in CONSULTATION:
        return AuditKind.CONSULTATION
    if event_type in DISCLOSURE:
        return AuditKind.DISCLOSURE
    return AuditKind.ALTERATION


def object_ids(envelope: Envelope) -> tuple[str, ...]:
    """The ids an event is about: its subject and every ``*_id`` field, top level and one down."""
    found: list[str] = [envelope.subject]
    data = envelope.data
    fields: dict[str, Any] = data.model_dump(mode="json") if hasattr(data, "model_dump") else {}
    for name, value in fields.items():
        if name.endswith("_id") and isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(v for k, v in value.items() if k.endswith("_id") and isinstance(v, str))
    return tuple(dict.fromkeys(found))[:MAX_IDS]


def _member(envelope: Envelope) -> str | None:
    for name in MEMBER_FIELDS:
        value = getattr(envelope.data, name, None)
        if isinstance(value, str) and value:
            return value[:128]
    return None


def _recipients(envelope: Envelope) -> tuple[str, ...]:
    to_team = getattr(envelope.data, "to_team", None)
    if isinstance(to_team, str):
        return (to_team,)
    teams = getattr(envelope.data, "teams", None)
    if isinstance(teams, tuple) and all(isinstance(t, str) for t in teams):
        return teams
    return tuple(sorted(envelope.audience))


def derive(envelope: Envelope) -> AuditRecorded | None:
    """The audit record of one domain event (collection, alteration or combination)."""
    kind = kind_of(envelope.type)
    if kind is None:
        return None
    return AuditRecorded(
        kind=kind,
        at=envelope.time,
        member=_member(envelope),
        team=envelope.originator,
        jit=envelope.jit,
        operation=envelope.type,
        object_ids=(*object_ids(envelope), *_digests(envelope))[:MAX_IDS],
        justification=_justification(envelope),
        recipients=_recipients(envelope)
        if kind in (AuditKind.COMBINATION, AuditKind.DISCLOSURE)
        else (),
        cause_id=envelope.id,
    )


def _justification(envelope: Envelope) -> Justification | None:
    """The purpose an act stated (custody acts on evidence carry one)."""
    stated = getattr(envelope.data, "justification", None)
    return stated if isinstance(stated, Justification) else None


def _digests(envelope: Envelope) -> tuple[str, ...]:
    """The content hashes an act was done on (evidence), as ``sha256:<hex>`` ids."""
    return tuple(
        f"{name}:{value}"
        for name in ("sha256", "sha512")
        if isinstance(value := getattr(envelope.data, name, None), str)
    )


def disclosure(envelope: Envelope, team: str, *, at: datetime) -> AuditRecorded:
    """The audit record of an event written to ``team``'s feed."""
    return AuditRecorded(
        kind=AuditKind.DISCLOSURE,
        at=at,
        member=None,
        team=envelope.originator,
        jit=envelope.jit,
        operation=envelope.type,
        object_ids=object_ids(envelope),
        recipients=(team,),
        cause_id=envelope.id,
    )


def consultation(
    *,
    at: datetime,
    member: str,
    team: str,
    jit: str | None,
    operation: str,
    ids: Iterable[str],
    justification: Justification,
) -> AuditRecorded:
    """The audit record of a successful read of personal data."""
    return AuditRecorded(
        kind=AuditKind.CONSULTATION,
        at=at,
        member=member,
        team=team,
        jit=jit,
        operation=operation,
        object_ids=tuple(dict.fromkeys(ids))[:MAX_IDS],
        justification=justification,
    )


def envelope_of(record: AuditRecorded, *, id: str, correlation_id: str) -> Envelope:
    """The CloudEvent an audit record travels in on the audit topic."""
    env = envelop(
        record,
        subject=record.jit or PLATFORM_JIT,
        jit=record.jit or PLATFORM_JIT,
        originator=record.team or PLATFORM_TEAM,
        source=SOURCE,
        correlation_id=correlation_id,
        causation_id=record.cause_id,
        handling=AUDIT_HANDLING,
    )
    return env.model_copy(update={"id": id, "time": record.at})


def matches(
    record: dict[str, Any],
    *,
    jit: str,
    member: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> bool:
    """Whether a chained audit record answers an auditor's search."""
    if record.get("jit") != jit:
        return False
    if member is not None and record.get("member") != member:
        return False
    if kind is not None and record.get("kind") != kind:
        return False
    if since is not None or until is not None:
        at = datetime.fromisoformat(str(record.get("at")))
        if since is not None and at < since:
            return False
        if until is not None and at >= until:
            return False
    return True
