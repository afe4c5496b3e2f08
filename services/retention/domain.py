"""Retention of subjects: when the data a JIT collected is reviewed and erased. Pure: no I/O, no
clock.

Subjects. A subject is the record that collected the data: a lead, a task or an operation. The
retention service keeps one ``SubjectRecord`` per subject (keyed by subject id): ``observe`` folds
in each event of the subject read from the other contexts' topics (the wiring picks which), and
``evolve`` the retention service's own events. A subject's period runs from its last activity,
and is the shortest of its categories' periods under the policies in force when asked:
``erase_after`` is computed, never stored, so a policy set later applies to subjects already kept.

Addressing. Every event is returned as ``Addressed`` from the owning team: a reminder or an
extension to it alone (ids of other teams' subjects must not leak through them), an erasure also
to every team the subject's events went to, which must erase their copies too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from events.directory import RetentionPolicySet, Role, retention_record_key
from events.envelope import Actor, Addressed, Command, Event
from events.identifiers import PersonRole
from events.leads import LeadSubmitted
from events.outcomes import Rejected
from events.retention import (
    DEFAULT_KEEP_DAYS,
    DEFAULT_REVIEW_DAYS,
    CheckRetention,
    DataCategory,
    EraseSubject,
    ExtendRetention,
    RetentionCommand,
    RetentionExtended,
    ReviewDue,
    SubjectErased,
    SubjectKind,
)
from events.tasking import TaskRequested, VictimReferral

ERASING_ROLES: frozenset[str] = frozenset({Role.COORDINATOR, Role.TEAM_LEAD})
"""Roles of the owning team that may erase a subject early or keep it longer."""


# --- policies ---------------------------------------------------------------------------------


class Policies(Mapping[str, RetentionPolicySet]):
    """The retention policies in force, by directory key; immutable, so a change is a new value."""

    __slots__ = ("_records",)

    def __init__(self, records: Iterable[RetentionPolicySet] = ()) -> None:
        self._records: Mapping[str, RetentionPolicySet] = MappingProxyType(
            {record.key: record for record in records}
        )

    def __getitem__(self, key: str) -> RetentionPolicySet:
        return self._records[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"Policies({list(self._records.values())!r})"

    def with_record(self, record: RetentionPolicySet) -> Policies:
        """The policies after one directory record: a later one for the same key replaces it."""
        return Policies([*self._records.values(), record])

    def without(self, key: str) -> Policies:
        """The policies after a tombstone for ``key`` on the compacted directory topic."""
        return Policies(r for k, r in self._records.items() if k != key)

    def policy(
        self, jit: str, owner_team: str, category: DataCategory
    ) -> RetentionPolicySet | None:
        """The record that governs one category of a team's subjects: the team's, else the JIT's."""
        team = self._records.get(retention_record_key(jit, owner_team, category))
        return (
            team
            if team is not None
            else self._records.get(retention_record_key(jit, None, category))
        )

    def period(self, jit: str, owner_team: str, category: DataCategory) -> tuple[int, int]:
        """``(keep_days, review_days)`` for one category: team, then JIT, then the default."""
        record = self.policy(jit, owner_team, category)
        if record is None:
            return DEFAULT_KEEP_DAYS[DataCategory(category)], DEFAULT_REVIEW_DAYS
        return record.keep_days, record.review_days


# --- categories -------------------------------------------------------------------------------


def lead_categories(lead: LeadSubmitted) -> frozenset[DataCategory]:
    """A lead's categories: ``leads``, ``persons`` if it names any, ``victims`` if one is."""
    categories = {DataCategory.LEADS}
    if lead.persons:
        categories.add(DataCategory.PERSONS)
    if any(person.role == PersonRole.VICTIM for person in lead.persons):
        categories.add(DataCategory.VICTIMS)
    return frozenset(categories)


def task_categories(task: TaskRequested) -> frozenset[DataCategory]:
    """A task's categories: ``tasks``, and ``victims`` for a victim referral."""
    if isinstance(task.details, VictimReferral):
        return frozenset({DataCategory.TASKS, DataCategory.VICTIMS})
    return frozenset({DataCategory.TASKS})


OPERATION_CATEGORIES: frozenset[DataCategory] = frozenset({DataCategory.OPERATIONS})
"""An operation's categories, whatever it is: its place and window name nobody."""


# --- subjects ---------------------------------------------------------------------------------


def _sorted_categories(categories: Iterable[DataCategory]) -> tuple[DataCategory, ...]:
    return tuple(sorted({DataCategory(c) for c in categories}))


Categories = Annotated[
    tuple[DataCategory, ...], Field(min_length=1), AfterValidator(_sorted_categories)
]


class SubjectRecord(BaseModel):
    """What the retention service keeps of one subject (a faust table value): no personal data.

    ``reviewed_for`` is the ``erase_after`` a ``ReviewDue`` was sent for, so the reminder goes
    once per deadline and again when the deadline moves.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: str
    subject_kind: SubjectKind
    jit: str
    owner_team: str
    categories: Categories
    collected_at: AwareDatetime
    last_activity: AwareDatetime
    extended_days: int = Field(default=0, ge=0)
    reviewed_for: AwareDatetime | None = None
    erased: bool = False
    audience: tuple[str, ...] = ()
    """Every team the subject's events went to: told of its erasure so that their national
    systems erase their copies too. They already hold its id, so telling them leaks nothing."""


def observe(
    record: SubjectRecord | None,
    *,
    subject_id: str,
    subject_kind: SubjectKind,
    jit: str,
    owner_team: str,
    categories: Iterable[DataCategory],
    at: datetime,
    audience: Iterable[str] = (),
) -> SubjectRecord:
    """Fold in a new or further event of a subject: categories only grow, its clock restarts.

    The owner is the team that collected the data (the first event's): a later event by another
    team (a task accepted by the receiving team) does not change who owns it. An erased subject
    stays erased.
    """
    if record is None:
        return SubjectRecord(
            subject_id=subject_id,
            subject_kind=subject_kind,
            jit=jit,
            owner_team=owner_team,
            categories=tuple(categories),
            collected_at=at,
            last_activity=at,
            audience=tuple(sorted(set(audience))),
        )
    _same_subject(record, subject_id, subject_kind)
    if record.jit != jit:
        raise ValueError(f"{subject_kind} {subject_id} is in JIT {record.jit}, not {jit}")
    return record.model_copy(
        update={
            "categories": _sorted_categories((*record.categories, *categories)),
            "last_activity": max(record.last_activity, at),
            "audience": tuple(sorted({*record.audience, *audience})),
        }
    )


def governing_period(record: SubjectRecord, policies: Policies) -> tuple[DataCategory, int, int]:
    """The category whose period governs a subject, with its ``(keep_days, review_days)``.

    The shortest period wins; among equally short ones, the longest review (the earliest
    reminder).
    """
    periods = [
        (category, *policies.period(record.jit, record.owner_team, category))
        for category in record.categories
    ]
    return min(periods, key=lambda p: (p[1], -p[2]))


def erase_after(record: SubjectRecord, policies: Policies) -> datetime:
    """When a subject is erased: its last activity plus its shortest period and its extensions."""
    _, keep_days, _ = governing_period(record, policies)
    return record.last_activity + timedelta(days=keep_days + record.extended_days)


def review_at(record: SubjectRecord, policies: Policies) -> datetime:
    """When the owning team is reminded: ``review_days`` of the governing category before."""
    _, _, review_days = governing_period(record, policies)
    return erase_after(record, policies) - timedelta(days=review_days)


def due(record: SubjectRecord, policies: Policies, *, now: datetime) -> list[Event | Addressed]:
    """What a subject owes at ``now``: its erasure, else its reminder (once per deadline).

    A reminder that would come no earlier than the erasure is not sent: there is nothing left to
    review (``review_days`` 0, or a shortened policy that put the subject past its period).
    """
    if record.erased:
        return []
    deadline = erase_after(record, policies)
    if now >= deadline:
        return [_address(record, _expired(record, policies, deadline, now))]
    if now >= review_at(record, policies) and record.reviewed_for != deadline:
        reminder = ReviewDue(
            subject_id=record.subject_id,
            subject_kind=record.subject_kind,
            at=now,
            owner_team=record.owner_team,
            categories=record.categories,
            erase_after=deadline,
        )
        return [_address(record, reminder)]
    return []


def next_due(record: SubjectRecord, policies: Policies) -> datetime | None:
    """When ``due`` will next have something to say, so a timer can sleep until then."""
    if record.erased:
        return None
    deadline = erase_after(record, policies)
    reminder = review_at(record, policies)
    if record.reviewed_for != deadline and reminder < deadline:
        return reminder
    return deadline


def decide(
    record: SubjectRecord | None,
    command: Command,
    policies: Policies,
    *,
    now: datetime,
    jit: str | None = None,
) -> list[Event | Addressed]:
    """Turn a retention command into its events, or raise Rejected with the HTTP status and why.

    ``jit`` is the command envelope's JIT when the wiring has it: the events inherit it (the key
    service finds the subject's key by it), so a subject of another JIT is not found.
    """
    if not isinstance(command, RetentionCommand):
        raise ValueError(f"{type(command).__name__} is not a retention command")
    if record is not None and jit is not None and record.jit != jit:
        record = None
    if isinstance(command, CheckRetention):
        return [] if record is None else due(record, policies, now=now)
    if record is None or record.subject_kind != command.subject_kind:
        raise Rejected(404, f"no {command.subject_kind} {command.subject_id}")
    _same_subject(record, command.subject_id, command.subject_kind)
    _authorise(record, command.actor)
    if record.erased:
        raise Rejected(409, f"{record.subject_kind} {record.subject_id} is already erased")
    if isinstance(command, EraseSubject):
        erased = SubjectErased(
            subject_id=record.subject_id,
            subject_kind=record.subject_kind,
            at=now,
            owner_team=record.owner_team,
            categories=record.categories,
            cause="request",
            by=command.actor.member,
            reason=command.reason,
        )
        return [_address(record, erased)]
    if isinstance(command, ExtendRetention):
        extended = RetentionExtended(
            subject_id=record.subject_id,
            subject_kind=record.subject_kind,
            at=now,
            by=command.actor.member,
            days=command.days,
            reason=command.reason,
            erase_after=erase_after(record, policies) + timedelta(days=command.days),
        )
        return [_address(record, extended)]
    raise ValueError(f"{type(command).__name__} is not handled by the retention domain")


def evolve(record: SubjectRecord | None, event: Event) -> SubjectRecord:
    """Apply one retention event to its subject; ``observe`` handles the other contexts' events."""
    if not isinstance(event, ReviewDue | RetentionExtended | SubjectErased):
        raise ValueError(f"{type(event).__name__} is not a retention event")
    if record is None:
        raise ValueError(f"{type(event).__name__} for unknown subject {event.subject_id}")
    _same_subject(record, event.subject_id, event.subject_kind)
    match event:
        case ReviewDue():
            return record.model_copy(update={"reviewed_for": event.erase_after})
        case RetentionExtended():
            return record.model_copy(update={"extended_days": record.extended_days + event.days})
        case SubjectErased():
            return record.model_copy(update={"erased": True})


# --- helpers ----------------------------------------------------------------------------------


def _same_subject(record: SubjectRecord, subject_id: str, subject_kind: SubjectKind) -> None:
    if record.subject_id != subject_id or record.subject_kind != subject_kind:
        raise ValueError(
            f"{subject_kind} {subject_id} given the record of "
            f"{record.subject_kind} {record.subject_id}"
        )


def _authorise(record: SubjectRecord, actor: Actor) -> None:
    if actor.team != record.owner_team and actor.team not in record.audience:
        # A team the subject never went to is told what an unknown id is told: neither its
        # owner nor that it exists.
        raise Rejected(404, f"no {record.subject_kind} {record.subject_id}")
    if actor.team != record.owner_team:
        raise Rejected(403, "only the owning team may erase or extend")
    if not ERASING_ROLES & set(actor.roles):
        raise Rejected(
            403, "only a coordinator or a team lead of the owning team may erase or extend"
        )


def _expired(
    record: SubjectRecord, policies: Policies, deadline: datetime, now: datetime
) -> SubjectErased:
    category, keep_days, _ = governing_period(record, policies)
    extended = f" and {record.extended_days} days of extension" if record.extended_days else ""
    return SubjectErased(
        subject_id=record.subject_id,
        subject_kind=record.subject_kind,
        at=now,
        owner_team=record.owner_team,
        categories=record.categories,
        cause="retention",
        by=None,
        reason=f"retention period of {keep_days} days ({category}){extended} after the last "
        f"activity ended at {deadline.isoformat()}",
    )


def _address(record: SubjectRecord, event: Event) -> Addressed:
    """To the owner; an erasure also to every team the subject went to."""
    owner = record.owner_team
    told = {owner, *record.audience} if isinstance(event, SubjectErased) else {owner}
    return Addressed(
        event, subject=record.subject_id, originator=owner, releasable_to=frozenset(told)
    )
