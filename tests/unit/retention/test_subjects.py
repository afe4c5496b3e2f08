"""Subjects: their categories, the period that governs them and when they are erased."""

from __future__ import annotations

import pytest

from events.envelope import Addressed
from events.identifiers import Person, PersonRole
from events.leads import (
    InformationCredibility,
    LeadSubmitted,
    SourceReliability,
    SourceType,
)
from events.retention import DataCategory, SubjectErased, SubjectKind
from events.tasking import (
    ConsentDecision,
    ConsentRecord,
    InformationRequest,
    ReferralService,
    TaskDetails,
    TaskPriority,
    TaskRequested,
    VictimReferral,
)
from services.retention.domain import (
    OPERATION_CATEGORIES,
    Policies,
    due,
    erase_after,
    lead_categories,
    observe,
    task_categories,
)

from .builders import JIT, LEAD, NOW, OTHER, OWNER, days, events_of, policy, subject

LEADS, PERSONS, VICTIMS = DataCategory.LEADS, DataCategory.PERSONS, DataCategory.VICTIMS


def lead(*roles: PersonRole) -> LeadSubmitted:
    return LeadSubmitted(
        lead_id=LEAD,
        team=OWNER,
        submitted_by="nl-klpd-m1",
        idempotency_key="k-1",
        source=SourceType.HOTLINE,
        received_at=NOW,
        summary="Two women recruited for work abroad",
        reliability=SourceReliability.B,
        credibility=InformationCredibility.KNOWN_TO_SOURCE,
        persons=tuple(Person(name=f"Person {i}", role=r) for i, r in enumerate(roles)),
    )


def task(details: TaskDetails) -> TaskRequested:
    return TaskRequested(
        task_id="task-1",
        at=NOW,
        by="nl-klpd-m1",
        team=OWNER,
        jit=JIT,
        to_team=OTHER,
        title="Refer to shelter",
        description="Refer the victim to a shelter",
        priority=TaskPriority.NORMAL,
        details=details,
    )


def test_a_lead_is_in_leads_plus_persons_plus_victims_when_it_names_one() -> None:
    """Persons are added when the lead names any, victims when one of them is a victim."""
    assert lead_categories(lead()) == {LEADS}
    assert lead_categories(lead(PersonRole.SUSPECT, PersonRole.WITNESS)) == {LEADS, PERSONS}
    assert lead_categories(lead(PersonRole.SUSPECT, PersonRole.VICTIM)) == {
        LEADS,
        PERSONS,
        VICTIMS,
    }


def test_a_victim_referral_is_in_tasks_and_victims_other_tasks_in_tasks() -> None:
    """A task holds victims' data only when it is a victim referral."""
    consent = ConsentRecord(
        decision=ConsentDecision.GIVEN, by="victim-1", at=NOW, purposes=("shelter",)
    )
    referral = VictimReferral(service=ReferralService.SHELTER, consent=consent)
    assert task_categories(task(referral)) == {DataCategory.TASKS, VICTIMS}
    assert task_categories(task(InformationRequest())) == {DataCategory.TASKS}
    assert frozenset({DataCategory.OPERATIONS}) == OPERATION_CATEGORIES


def test_the_shortest_category_period_governs_the_subject() -> None:
    """Data collected together is erased together, at the most protected category's time."""
    policies = Policies([policy(LEADS, 1000), policy(PERSONS, 500), policy(VICTIMS, 60)])
    assert erase_after(subject(LEADS), policies) == NOW + days(1000)
    assert erase_after(subject(LEADS, PERSONS), policies) == NOW + days(500)
    assert erase_after(subject(LEADS, PERSONS, VICTIMS), policies) == NOW + days(60)


def test_a_team_policy_longer_than_the_jit_one_governs_its_categories() -> None:
    """The team's own period replaces the JIT's even when it is longer (it is the owner's)."""
    policies = Policies([policy(LEADS, 100), policy(LEADS, 300, team=OWNER)])
    assert erase_after(subject(LEADS), policies) == NOW + days(300)
    assert erase_after(subject(LEADS, owner=OTHER), policies) == NOW + days(100)


def test_a_victims_lead_is_erased_at_180_days_while_a_plain_lead_is_kept() -> None:
    """Under the defaults a lead naming a victim goes after 180 days, a plain one stays."""
    policies = Policies()
    victims = subject(*lead_categories(lead(PersonRole.VICTIM)), subject_id="lead-v")
    plain = subject(*lead_categories(lead(PersonRole.SUSPECT)), subject_id="lead-p")
    at = NOW + days(180)
    erased = [e for e in events_of(due(victims, policies, now=at)) if isinstance(e, SubjectErased)]
    assert [e.subject_id for e in erased] == ["lead-v"]
    assert erased[0].cause == "retention"
    assert erased[0].by is None
    assert "180 days (victims)" in erased[0].reason
    assert not any(isinstance(e, SubjectErased) for e in events_of(due(plain, policies, now=at)))
    before = events_of(due(victims, policies, now=at - days(0.5)))
    assert not any(isinstance(e, SubjectErased) for e in before)


def test_categories_only_grow_and_activity_only_moves_forward() -> None:
    """A later event adds categories, never removes them; an older event does not rewind."""
    record = subject(LEADS, PERSONS)
    record = observe(
        record,
        subject_id=LEAD,
        subject_kind=SubjectKind.LEAD,
        jit=JIT,
        owner_team=OWNER,
        categories={VICTIMS},
        at=NOW + days(10),
    )
    assert record.categories == (LEADS, PERSONS, VICTIMS)
    record = observe(
        record,
        subject_id=LEAD,
        subject_kind=SubjectKind.LEAD,
        jit=JIT,
        owner_team=OWNER,
        categories=(),
        at=NOW + days(3),
    )
    assert record.categories == (LEADS, PERSONS, VICTIMS)
    assert record.last_activity == NOW + days(10)
    assert record.collected_at == NOW


def test_activity_restarts_the_period() -> None:
    """A further event of the subject (triage, a move) postpones its erasure."""
    record = subject(LEADS)
    later = observe(
        record,
        subject_id=LEAD,
        subject_kind=SubjectKind.LEAD,
        jit=JIT,
        owner_team=OWNER,
        categories=(LEADS,),
        at=NOW + days(100),
    )
    assert erase_after(later, Policies()) == erase_after(record, Policies()) + days(100)


def test_the_team_that_collected_the_data_stays_its_owner() -> None:
    """A later event by another team (a task accepted by the receiver) does not change owner."""
    record = subject(DataCategory.TASKS, subject_id="task-1", kind=SubjectKind.TASK)
    record = observe(
        record,
        subject_id="task-1",
        subject_kind=SubjectKind.TASK,
        jit=JIT,
        owner_team=OTHER,
        categories=(DataCategory.TASKS,),
        at=NOW + days(1),
    )
    assert record.owner_team == OWNER
    outcome = due(record, Policies(), now=NOW + days(5000))
    assert isinstance(outcome[0], Addressed)
    assert outcome[0].originator == OWNER
    assert outcome[0].releasable_to == frozenset({OWNER})


@pytest.mark.parametrize(
    ("subject_id", "kind", "jit"),
    [
        ("lead-2", SubjectKind.LEAD, JIT),
        (LEAD, SubjectKind.TASK, JIT),
        (LEAD, SubjectKind.LEAD, "jit-other"),
    ],
)
def test_observing_another_subject_into_a_record_is_a_wiring_error(
    subject_id: str, kind: SubjectKind, jit: str
) -> None:
    """A record is never merged with another subject's, kind's or JIT's events."""
    with pytest.raises(ValueError, match=r"lead-1|JIT"):
        observe(
            subject(LEADS),
            subject_id=subject_id,
            subject_kind=kind,
            jit=jit,
            owner_team=OWNER,
            categories=(LEADS,),
            at=NOW,
        )


def test_categories_are_stored_sorted_and_unique() -> None:
    """The record's categories are one canonical tuple, whatever order they came in."""
    record = subject(VICTIMS, LEADS, VICTIMS, PERSONS)
    assert record.categories == (LEADS, PERSONS, VICTIMS)
    assert type(record).model_validate(record.model_dump(mode="json")) == record
