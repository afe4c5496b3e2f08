"""Deadlines: the owner is reminded once per deadline, then the subject is erased, once."""

from __future__ import annotations

from datetime import datetime

from events.envelope import Addressed, Event
from events.retention import (
    CheckRetention,
    DataCategory,
    RetentionExtended,
    ReviewDue,
    SubjectErased,
    SubjectKind,
)
from services.retention.domain import (
    Policies,
    SubjectRecord,
    decide,
    due,
    erase_after,
    next_due,
    observe,
)

from .builders import (
    JIT,
    LEAD,
    NOW,
    OWNER,
    apply,
    apply_all,
    days,
    events_of,
    extend,
    policy,
    subject,
)

LEADS = DataCategory.LEADS
POLICIES = Policies([policy(LEADS, 100, review_days=10)])
DEADLINE = NOW + days(100)
REVIEW = NOW + days(90)


def tick(record: SubjectRecord, now: datetime) -> tuple[SubjectRecord, list[Event]]:
    outcome = due(record, POLICIES, now=now)
    return apply_all(record, outcome), events_of(outcome)


def test_nothing_is_due_before_the_review_window() -> None:
    """Before erase_after − review_days the subject owes nothing."""
    assert due(subject(LEADS), POLICIES, now=REVIEW - days(0.001)) == []


def test_the_review_is_sent_once_then_the_erasure() -> None:
    """One ReviewDue when the window opens, none on later ticks, then SubjectErased at the end."""
    record = subject(LEADS)
    record, sent = tick(record, REVIEW)
    assert [type(e) for e in sent] == [ReviewDue]
    reminder = sent[0]
    assert isinstance(reminder, ReviewDue)
    assert reminder.erase_after == DEADLINE
    assert reminder.owner_team == OWNER
    assert reminder.categories == (LEADS,)
    assert record.reviewed_for == DEADLINE
    record, again = tick(record, REVIEW + days(5))
    assert again == []
    record, erased = tick(record, DEADLINE)
    assert [type(e) for e in erased] == [SubjectErased]
    assert record.erased
    assert tick(record, DEADLINE + days(1000))[1] == []


def test_every_event_is_addressed_to_the_owning_team_alone() -> None:
    """Reminders and erasures go to the owner: originator and only recipient, subject the id."""
    for now in (REVIEW, DEADLINE):
        (item,) = due(subject(LEADS), POLICIES, now=now)
        assert isinstance(item, Addressed)
        assert (item.originator, item.releasable_to) == (OWNER, frozenset({OWNER}))
        assert item.subject == LEAD


def test_an_extension_postpones_both_the_review_and_the_erasure() -> None:
    """After ExtendRetention the reminder is sent anew for the new deadline, erasure moves too."""
    record, _ = tick(subject(LEADS), REVIEW)
    record, outcome = apply(record, extend(30), POLICIES, now=REVIEW + days(1))
    (extended,) = events_of(outcome)
    assert isinstance(extended, RetentionExtended)
    assert extended.erase_after == DEADLINE + days(30)
    assert erase_after(record, POLICIES) == DEADLINE + days(30)
    assert tick(record, DEADLINE)[1] == []
    record, sent = tick(record, REVIEW + days(30))
    assert [type(e) for e in sent] == [ReviewDue]
    assert sent[0].erase_after == DEADLINE + days(30)  # type: ignore[attr-defined]
    assert tick(record, DEADLINE + days(30) - days(0.001))[1] == []
    assert [type(e) for e in tick(record, DEADLINE + days(30))[1]] == [SubjectErased]


def test_extensions_add_up() -> None:
    """Two extensions keep the subject for both."""
    record, _ = apply(subject(LEADS), extend(30), POLICIES)
    record, _ = apply(record, extend(15), POLICIES)
    assert record.extended_days == 45
    assert erase_after(record, POLICIES) == DEADLINE + days(45)


def test_new_activity_moves_the_deadline_and_a_new_reminder_follows() -> None:
    """A subject used again after its reminder is reminded again before its new deadline."""
    record, _ = tick(subject(LEADS), REVIEW)
    record = observe(
        record,
        subject_id=LEAD,
        subject_kind=SubjectKind.LEAD,
        jit=JIT,
        owner_team=OWNER,
        categories=(LEADS,),
        at=NOW + days(95),
    )
    assert tick(record, DEADLINE)[1] == []
    assert [type(e) for e in tick(record, REVIEW + days(95))[1]] == [ReviewDue]


def test_no_reminder_when_the_review_period_is_zero() -> None:
    """review_days 0: the subject is erased at its deadline without a reminder before."""
    policies = Policies([policy(LEADS, 100, review_days=0)])
    record = subject(LEADS)
    assert due(record, policies, now=DEADLINE - days(0.001)) == []
    assert [type(e) for e in events_of(due(record, policies, now=DEADLINE))] == [SubjectErased]


def test_a_subject_past_its_deadline_is_erased_without_a_late_reminder() -> None:
    """A policy shortened below a subject's age erases it at the next tick, reminder or not."""
    record = subject(LEADS)
    shortened = Policies([policy(LEADS, 10, review_days=5)])
    assert [type(e) for e in events_of(due(record, shortened, now=NOW + days(50)))] == [
        SubjectErased
    ]


def test_next_due_is_the_reminder_then_the_deadline_then_nothing() -> None:
    """A timer can sleep until next_due: the review time, then erase_after, None once erased."""
    record = subject(LEADS)
    assert next_due(record, POLICIES) == REVIEW
    record, _ = tick(record, REVIEW)
    assert next_due(record, POLICIES) == DEADLINE
    record, _ = tick(record, DEADLINE)
    assert next_due(record, POLICIES) is None


def test_a_tick_command_emits_what_is_due_and_nothing_for_an_unknown_subject() -> None:
    """CheckRetention is the timer's tick: due() for a known subject, nothing otherwise."""
    from .builders import LEADER

    check = CheckRetention(subject_id=LEAD, subject_kind=SubjectKind.LEAD, actor=LEADER)
    assert decide(None, check, POLICIES, now=DEADLINE) == []
    assert decide(subject(LEADS), check, POLICIES, now=DEADLINE) == due(
        subject(LEADS), POLICIES, now=DEADLINE
    )
