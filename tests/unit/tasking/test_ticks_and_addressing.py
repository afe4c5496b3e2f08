"""The deadline tick command and the envelope checks the wiring makes before ``decide``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.envelope import Actor
from events.outcomes import Rejected
from events.tasking import CheckTaskDeadlines, Deadline, TaskOverdue, TaskStatus
from services.tasking.domain import decide, decide_addressed

from .builders import (
    JIT,
    NOW,
    RECEIVER,
    REQUESTER,
    TASK,
    accept,
    apply,
    events_of,
    request,
    task_in,
)

RESPOND_BY = NOW + timedelta(hours=4)
TIMER = Actor(member="tasking-deadlines", team=REQUESTER)


def _tick(task_id: str = TASK) -> CheckTaskDeadlines:
    return CheckTaskDeadlines(task_id=task_id, actor=TIMER)


def test_tick_emits_the_overdue_notice_that_is_due() -> None:
    """A tick after respond_by makes the task's writer emit TaskOverdue for the receiving team."""
    state = task_in(TaskStatus.REQUESTED, respond_by=RESPOND_BY)
    (notice,) = events_of(decide(state, _tick(), now=RESPOND_BY))
    assert isinstance(notice, TaskOverdue)
    assert (notice.deadline, notice.responsible_team) == (Deadline.RESPONSE, RECEIVER)


def test_a_second_tick_finds_nothing_more_due() -> None:
    """Ticks arriving twice (timer restarts, redelivery) emit the notice only once."""
    state = task_in(TaskStatus.REQUESTED, respond_by=RESPOND_BY)
    state, first = apply(state, _tick(), RESPOND_BY)
    assert len(first) == 1
    assert decide(state, _tick(), now=RESPOND_BY + timedelta(minutes=1)) == []


def test_tick_before_the_deadline_or_for_an_unknown_task_does_nothing() -> None:
    """An early tick, or one for a task that does not exist, emits nothing and refuses nothing."""
    state = task_in(TaskStatus.REQUESTED, respond_by=RESPOND_BY)
    assert decide(state, _tick(), now=RESPOND_BY - timedelta(seconds=1)) == []
    assert decide(None, _tick("task-unknown"), now=NOW) == []


def test_tick_after_acceptance_does_not_report_the_response_deadline() -> None:
    """An accepted task owes no response notice, whenever the tick comes."""
    state = task_in(TaskStatus.ACCEPTED, respond_by=RESPOND_BY)
    assert decide(state, _tick(), now=RESPOND_BY + timedelta(hours=1)) == []


def test_command_whose_task_id_is_not_the_envelope_subject_is_refused() -> None:
    """A command keyed to one task but naming another is refused with 422 on task_id."""
    state = task_in(TaskStatus.REQUESTED)
    with pytest.raises(Rejected) as refused:
        decide_addressed(state, accept(), now=NOW, jit=JIT, subject="task-other")
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["task_id"]


def test_request_whose_jit_is_not_the_envelope_jit_is_refused() -> None:
    """A request naming another JIT than its envelope is refused with 422 on jit."""
    with pytest.raises(Rejected) as refused:
        decide_addressed(None, request(), now=NOW, jit="jit-other", subject=TASK)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["jit"]


def test_task_is_not_found_through_another_jit() -> None:
    """Working on a task through a JIT it does not belong to answers 404."""
    state = task_in(TaskStatus.REQUESTED)
    with pytest.raises(Rejected) as refused:
        decide_addressed(state, accept(), now=NOW, jit="jit-other", subject=TASK)
    assert refused.value.status == 404


def test_addressed_command_is_decided_like_any_other() -> None:
    """A well-addressed command gives exactly what ``decide`` gives."""
    state = task_in(TaskStatus.REQUESTED)
    assert events_of(
        decide_addressed(state, accept(), now=NOW, jit=JIT, subject=TASK)
    ) == events_of(decide(state, accept(), now=NOW))
