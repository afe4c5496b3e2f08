"""Builders for subjects, policies and commands, and a way to drive a subject through the domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from events.directory import RetentionPolicySet
from events.envelope import Actor, Addressed, Command, Event
from events.retention import (
    DataCategory,
    EraseSubject,
    ExtendRetention,
    SubjectKind,
)
from services.retention.domain import Policies, SubjectRecord, decide, evolve, observe

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JIT = "jit-ceres"
OWNER = "NL-KLPD"
OTHER = "RO-DIICOT"
LEAD = "lead-1"


def actor(team: str = OWNER, *roles: str, member: str | None = None) -> Actor:
    return Actor(member=member or f"{team.lower()}-m1", team=team, roles=roles)


LEADER = actor(OWNER, "team_lead")


def policy(
    category: DataCategory,
    keep_days: int,
    *,
    team: str | None = None,
    review_days: int = 30,
    jit: str = JIT,
) -> RetentionPolicySet:
    return RetentionPolicySet(
        jit_id=jit,
        team=team,
        category=category,
        keep_days=keep_days,
        review_days=review_days,
        set_by="nl-klpd-admin",
    )


def subject(
    *categories: DataCategory,
    at: datetime = NOW,
    subject_id: str = LEAD,
    kind: SubjectKind = SubjectKind.LEAD,
    owner: str = OWNER,
) -> SubjectRecord:
    return observe(
        None,
        subject_id=subject_id,
        subject_kind=kind,
        jit=JIT,
        owner_team=owner,
        categories=categories or (DataCategory.LEADS,),
        at=at,
    )


def erase(by: Actor = LEADER, subject_id: str = LEAD) -> EraseSubject:
    return EraseSubject(
        subject_id=subject_id,
        subject_kind=SubjectKind.LEAD,
        actor=by,
        reason="Lead found to be unfounded after verification",
    )


def extend(days: int = 90, by: Actor = LEADER, subject_id: str = LEAD) -> ExtendRetention:
    return ExtendRetention(
        subject_id=subject_id,
        subject_kind=SubjectKind.LEAD,
        actor=by,
        days=days,
        reason="Proceedings opened; evidence review pending",
    )


def events_of(outcome: Iterable[Event | Addressed]) -> list[Event]:
    return [o.event if isinstance(o, Addressed) else o for o in outcome]


def apply_all(record: SubjectRecord, outcome: Iterable[Event | Addressed]) -> SubjectRecord:
    """Evolve a record by every event of an outcome, as the service does."""
    for event in events_of(outcome):
        record = evolve(record, event)
    return record


def apply(
    record: SubjectRecord | None,
    command: Command,
    policies: Policies | None = None,
    now: datetime = NOW,
) -> tuple[SubjectRecord, list[Event | Addressed]]:
    outcome = decide(record, command, policies or Policies(), now=now)
    assert record is not None
    return apply_all(record, outcome), outcome


def days(n: float) -> timedelta:
    return timedelta(days=n)
