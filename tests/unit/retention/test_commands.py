"""Commands: only the owning team's coordinator or team lead erases early or extends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from events.envelope import Actor, Addressed
from events.outcomes import Rejected
from events.retention import (
    DataCategory,
    EraseSubject,
    RetentionCommand,
    RetentionExtended,
    SubjectErased,
    SubjectKind,
)
from services.retention.domain import Policies, decide, due, erase_after, observe

from .builders import (
    JIT,
    LEAD,
    LEADER,
    NOW,
    OTHER,
    OWNER,
    actor,
    apply,
    days,
    erase,
    events_of,
    extend,
    subject,
)

COMMANDS: dict[str, Callable[..., RetentionCommand]] = {"erase": erase, "extend": extend}


def test_an_early_erasure_names_who_asked_and_why() -> None:
    """EraseSubject by the owner's team lead erases at once, cause request, by the member."""
    record, outcome = apply(subject(DataCategory.LEADS, DataCategory.PERSONS), erase())
    (item,) = outcome
    assert isinstance(item, Addressed)
    assert (item.originator, item.releasable_to) == (OWNER, frozenset({OWNER}))
    erased = item.event
    assert isinstance(erased, SubjectErased)
    assert (erased.cause, erased.by, erased.at) == ("request", LEADER.member, NOW)
    assert erased.reason == erase().reason
    assert erased.categories == (DataCategory.LEADS, DataCategory.PERSONS)
    assert record.erased


def test_a_coordinator_of_the_owning_team_may_extend() -> None:
    """ExtendRetention by the owner's coordinator returns the new erase_after."""
    record = subject()
    by = actor(OWNER, "coordinator")
    (extended,) = events_of(decide(record, extend(40, by=by), Policies(), now=NOW))
    assert isinstance(extended, RetentionExtended)
    assert extended.by == by.member
    assert extended.days == 40
    assert extended.erase_after == erase_after(record, Policies()) + days(40)


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unknown_subject_is_not_found(name: str) -> None:
    """404 for a subject the service never saw."""
    with pytest.raises(Rejected) as refused:
        decide(None, COMMANDS[name](), Policies(), now=NOW)
    assert refused.value.status == 404


@pytest.mark.parametrize("name", COMMANDS)
def test_a_subject_of_another_kind_or_jit_is_not_found(name: str) -> None:
    """404 when the command names the id as another kind, or comes through another JIT."""
    task = subject(subject_id=LEAD, kind=SubjectKind.TASK)
    with pytest.raises(Rejected) as refused:
        decide(task, COMMANDS[name](), Policies(), now=NOW)
    assert refused.value.status == 404
    with pytest.raises(Rejected) as refused:
        decide(subject(), COMMANDS[name](), Policies(), now=NOW, jit="jit-other")
    assert refused.value.status == 404


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(
    "by",
    [
        actor(OTHER, "team_lead"),
        actor(OTHER, "coordinator"),
        actor(OWNER, "investigator", "analyst"),
        actor(OWNER, "admin"),
        actor(OWNER),
    ],
)
def test_only_the_owners_coordinator_or_team_lead_may_act(name: str, by: Actor) -> None:
    """Another team, whatever its role, gets the 404 of an unknown subject (it learns nothing of
    the owner or that the subject exists); the owner's other roles get 403."""
    with pytest.raises(Rejected) as refused:
        decide(subject(), COMMANDS[name](by=by), Policies(), now=NOW)
    assert refused.value.status == (404 if by.team == OTHER else 403)
    if by.team == OTHER:
        assert OWNER not in refused.value.reason


@pytest.mark.parametrize("name", COMMANDS)
def test_an_erased_subject_cannot_be_erased_or_extended_again(name: str) -> None:
    """409 once erased, for the owner; another team still gets 404, learning nothing."""
    record, _ = apply(subject(), erase())
    with pytest.raises(Rejected) as refused:
        decide(record, COMMANDS[name](), Policies(), now=NOW)
    assert refused.value.status == 409
    with pytest.raises(Rejected) as refused:
        decide(record, COMMANDS[name](by=actor(OTHER, "team_lead")), Policies(), now=NOW)
    assert refused.value.status == 404


def test_a_command_for_another_subject_than_the_record_is_a_wiring_error() -> None:
    """The record given must be the command's subject's."""
    with pytest.raises(ValueError, match=LEAD):
        decide(subject(), erase(subject_id="lead-9"), Policies(), now=NOW)


def test_a_reason_is_required_to_erase() -> None:
    """An early erasure without a reason is refused by the command model."""
    with pytest.raises(ValueError, match="reason"):
        EraseSubject.model_validate(
            {
                "subject_id": LEAD,
                "subject_kind": "lead",
                "actor": LEADER.model_dump(),
                "reason": "",
            }
        )


@pytest.mark.parametrize("value", [0, 3651])
def test_an_extension_is_one_day_to_ten_years(value: int) -> None:
    """ExtendRetention.days outside 1..3650 is refused at the field."""
    with pytest.raises(ValueError, match="days"):
        extend(value)


def test_an_erasure_is_told_to_every_team_it_went_to_a_reminder_to_its_owner() -> None:
    """Teams that received a shared lead hear of its erasure; its review stays the owner's."""
    shared = observe(
        subject(DataCategory.LEADS),
        subject_id=LEAD,
        subject_kind=SubjectKind.LEAD,
        jit=JIT,
        owner_team=OTHER,
        categories=(DataCategory.LEADS,),
        at=NOW,
        audience=(OWNER, OTHER),
    )
    assert shared.owner_team == OWNER and shared.audience == (OWNER, OTHER)
    (erased,) = decide(shared, erase(), Policies(), now=NOW)
    assert isinstance(erased, Addressed)
    assert erased.releasable_to == frozenset({OWNER, OTHER})
    (reminder,) = due(shared, Policies(), now=NOW + days(1095 - 29))
    assert isinstance(reminder, Addressed) and reminder.releasable_to == frozenset({OWNER})


@pytest.mark.parametrize("name", COMMANDS)
def test_a_team_the_subject_went_to_is_refused_without_naming_the_owner(name: str) -> None:
    """A team in the subject's audience already knows it exists: 403, naming no team."""
    record = observe(
        None, subject_id=LEAD, subject_kind=SubjectKind.LEAD, jit=JIT, owner_team=OWNER,
        categories=(DataCategory.LEADS,), at=NOW, audience=(OWNER, OTHER),
    )  # fmt: skip
    with pytest.raises(Rejected) as refused:
        decide(record, COMMANDS[name](by=actor(OTHER, "coordinator")), Policies(), now=NOW)
    assert refused.value.status == 403
    assert OWNER not in refused.value.reason and OTHER not in refused.value.reason
