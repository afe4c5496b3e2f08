"""Deadlines: overdue notices for the response time and the due time, each sent exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from events.envelope import Addressed
from events.outcomes import Rejected
from events.tasking import Deadline, TaskOverdue, TaskStatus
from services.tasking.domain import TaskState, decide, due, evolve, next_deadline

from .builders import (
    NOW,
    OBSERVER,
    RECEIVER,
    REQUESTER,
    accept,
    apply,
    complete,
    events_of,
    request,
    start,
    task_in,
)

RESPOND_BY = NOW + timedelta(hours=4)
DUE_AT = NOW + timedelta(days=2)


def _task(status: TaskStatus) -> TaskState:
    return task_in(status, respond_by=RESPOND_BY, due_at=DUE_AT)


def _notices(state: TaskState, now: datetime) -> list[TaskOverdue]:
    found = [e for e in events_of(due(state, now=now)) if isinstance(e, TaskOverdue)]
    assert len(found) == len(due(state, now=now))
    return found


def _settle(state: TaskState, now: datetime) -> TaskState:
    for event in events_of(due(state, now=now)):
        state = evolve(state, event)
    return state


def test_nothing_is_due_before_the_response_time() -> None:
    """A requested task owes no notice a second before its response time."""
    assert due(_task(TaskStatus.REQUESTED), now=RESPOND_BY - timedelta(seconds=1)) == []


def test_not_accepted_by_the_response_time_is_overdue_once() -> None:
    """A task not accepted by respond_by emits one TaskOverdue for the receiving team."""
    state = _task(TaskStatus.REQUESTED)
    (notice,) = _notices(state, RESPOND_BY)
    assert (
        notice.task_id,
        notice.responsible_team,
        notice.deadline,
        notice.due_at,
    ) == (
        "task-1",
        RECEIVER,
        Deadline.RESPONSE,
        RESPOND_BY,
    )
    assert notice.at == RESPOND_BY
    state = evolve(state, notice)
    assert state.overdue_notices == (Deadline.RESPONSE,)
    assert due(state, now=RESPOND_BY + timedelta(hours=1)) == []


def test_accepted_in_time_is_never_overdue_for_response() -> None:
    """Acceptance before respond_by means no response notice, however late the timer runs."""
    assert _notices(_task(TaskStatus.ACCEPTED), RESPOND_BY + timedelta(hours=1)) == []


@pytest.mark.parametrize("status", [TaskStatus.DECLINED, TaskStatus.CANCELLED, TaskStatus.STOPPED])
def test_ended_tasks_owe_nothing(status: TaskStatus) -> None:
    """Declined, cancelled and stopped tasks never fall overdue."""
    assert due(_task(status), now=DUE_AT + timedelta(days=1)) == []


def test_completed_in_time_owes_nothing() -> None:
    """A task completed before its due time owes no notice afterwards."""
    assert due(_task(TaskStatus.COMPLETED), now=DUE_AT + timedelta(days=1)) == []


@pytest.mark.parametrize(
    "status", [TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED]
)
def test_not_completed_by_the_due_time_is_overdue_once(status: TaskStatus) -> None:
    """An accepted task not completed by due_at emits one completion notice."""
    state = _task(status)
    (notice,) = _notices(state, DUE_AT)
    assert (notice.deadline, notice.due_at, notice.responsible_team) == (
        Deadline.COMPLETION,
        DUE_AT,
        RECEIVER,
    )
    state = _settle(state, DUE_AT)
    assert state.status == status
    assert due(state, now=DUE_AT + timedelta(days=3)) == []


def test_a_task_ignored_past_both_deadlines_gets_both_notices() -> None:
    """A task never accepted owes a response notice and, once past due_at, a completion notice."""
    state = _task(TaskStatus.REQUESTED)
    late = DUE_AT + timedelta(minutes=1)
    assert [n.deadline for n in _notices(state, late)] == [
        Deadline.RESPONSE,
        Deadline.COMPLETION,
    ]
    assert due(_settle(state, late), now=late) == []


def test_each_deadline_is_noticed_on_its_own_tick() -> None:
    """The response notice at respond_by, then the completion notice at due_at, one each."""
    state = _settle(_task(TaskStatus.REQUESTED), RESPOND_BY)
    (notice,) = _notices(state, DUE_AT)
    assert notice.deadline == Deadline.COMPLETION


def test_notices_survive_a_restart() -> None:
    """A state reloaded from its JSON (a faust table after restart) remembers what was sent."""
    state = _settle(_task(TaskStatus.REQUESTED), DUE_AT)
    reloaded = TaskState.model_validate_json(state.model_dump_json())
    assert reloaded == state
    assert due(reloaded, now=DUE_AT + timedelta(hours=1)) == []


def test_late_acceptance_after_a_response_notice_then_completion() -> None:
    """Accepting late clears the overdue flag; the due time still counts."""
    state = _settle(_task(TaskStatus.REQUESTED), RESPOND_BY)
    assert state.overdue
    state, _ = apply(state, accept(), now=RESPOND_BY + timedelta(hours=1))
    assert not state.overdue
    state, _ = apply(state, start(), now=RESPOND_BY + timedelta(hours=1))
    state = _settle(state, DUE_AT)
    assert state.overdue
    state, _ = apply(state, complete(), now=DUE_AT + timedelta(hours=1))
    assert not state.overdue
    assert state.overdue_notices == (Deadline.RESPONSE, Deadline.COMPLETION)


def test_overdue_notice_goes_to_every_team_from_the_requester() -> None:
    """TaskOverdue is addressed to the task's whole audience, originated by the requester."""
    (item,) = due(_task(TaskStatus.REQUESTED), now=RESPOND_BY)
    assert isinstance(item, Addressed) and item.releasable_to is not None
    assert item.originator == REQUESTER
    assert {item.originator, *item.releasable_to} == {REQUESTER, RECEIVER, OBSERVER}


def test_tasks_without_deadlines_are_never_overdue() -> None:
    """A task with no respond_by and no due_at owes nothing, ever."""
    state = task_in(TaskStatus.REQUESTED)
    assert due(state, now=NOW + timedelta(days=3650)) == []
    assert next_deadline(state) is None


def test_next_deadline_is_the_earliest_unnoticed_one() -> None:
    """The timer can sleep until respond_by, then until due_at, then not at all."""
    state = _task(TaskStatus.REQUESTED)
    assert next_deadline(state) == RESPOND_BY
    state = _settle(state, RESPOND_BY)
    assert next_deadline(state) == DUE_AT
    assert next_deadline(_settle(state, DUE_AT)) is None
    assert next_deadline(_task(TaskStatus.COMPLETED)) is None


@pytest.mark.parametrize("field", ["respond_by", "due_at"])
def test_deadlines_in_the_past_are_422(field: str) -> None:
    """A request whose response or due time has already passed is refused, naming the field."""
    command = request(respond_by=None, due_at=None).model_copy(update={field: NOW})
    with pytest.raises(Rejected) as refused:
        decide(None, command, now=NOW)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == [field]
