"""The task state and the catalogue: serialisable, versioned, and consistent under any history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.catalogue import CATALOGUE
from events.codec import decode, encode, envelop
from events.envelope import Actor, Addressed
from events.outcomes import Rejected
from events.tasking import (
    ENTRIES,
    ConsentDecision,
    RequestTask,
    TaskCommand,
    TaskStatus,
)
from events.topics import TASK_COMMANDS, TASK_EVENTS
from services.tasking.domain import TaskState, decide, due, evolve, replay

from .builders import (
    COMMANDS,
    JIT,
    KINDS,
    NOW,
    OBSERVER,
    RCV,
    RECEIVER,
    REQ,
    REQUESTER,
    STRANGER,
    actor,
    events_of,
    record_consent,
    request,
    task_in,
)

TERMINAL = {
    TaskStatus.DECLINED,
    TaskStatus.COMPLETED,
    TaskStatus.CANCELLED,
    TaskStatus.STOPPED,
}


@pytest.mark.parametrize("status", list(TaskStatus))
def test_state_round_trips_through_json(status: TaskStatus) -> None:
    """A task in any status is stored as JSON and read back equal (a faust table value)."""
    state = task_in(status)
    assert TaskState.model_validate_json(state.model_dump_json()) == state


@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_specific_details_round_trip(kind: str) -> None:
    """Each kind's details come back as the same kind after JSON."""
    state = task_in(TaskStatus.REQUESTED, KINDS[kind])
    back = TaskState.model_validate_json(state.model_dump_json())
    assert type(back.details) is type(KINDS[kind])


def test_tasking_catalogue_puts_commands_and_events_on_their_topics() -> None:
    """Every tasking command travels on the command topic and every event on the event topic."""
    assert len(ENTRIES) == 23
    for entry in ENTRIES:
        assert CATALOGUE.entry(entry.type) is entry
        expected = TASK_COMMANDS if issubclass(entry.model, TaskCommand) else TASK_EVENTS
        assert entry.topic == expected
        assert entry.type.startswith("interlock.task.")


def test_every_event_of_a_whole_life_survives_the_wire() -> None:
    """Events the domain emits envelope, encode and decode to equal payloads with their audience."""
    history = [
        request(KINDS["victim_referral"]),
        COMMANDS["accept"](RCV),
        COMMANDS["comment"](REQ),
        COMMANDS["start"](RCV),
        record_consent(RCV, ConsentDecision.WITHDRAWN),
    ]
    state: TaskState | None = None
    for command in history:
        for item in decide(state, command, now=NOW):
            assert isinstance(item, Addressed)
            state = evolve(state, item.event)
            envelope = envelop(
                item.event,
                subject=item.subject or "",
                jit=JIT,
                originator=item.originator or "",
                source="/interlock/tasking",
                correlation_id="c-1",
                releasable_to=item.releasable_to or frozenset(),
                handling=item.handling,
                aggregate_version=state.version,
            )
            back = decode(encode(envelope))
            assert back.data == item.event
            assert back.audience == {REQUESTER, RECEIVER, OBSERVER}
    assert state is not None and state.status == TaskStatus.STOPPED


def test_commands_survive_the_wire() -> None:
    """A referral request with its consent decodes from its CloudEvent unchanged."""
    command = request(KINDS["victim_referral"])
    envelope = envelop(
        command,
        subject="task-1",
        jit=JIT,
        originator=REQUESTER,
        source="/interlock/gateway",
        correlation_id="c-1",
    )
    assert decode(encode(envelope)).data == command


def test_legal_assistance_needs_basis_and_measure() -> None:
    """A legal-assistance request without its legal basis or measure is invalid, naming both."""
    with pytest.raises(ValidationError) as invalid:
        RequestTask.model_validate(
            {
                **request().model_dump(mode="json"),
                "details": {"kind": "legal_assistance"},
            }
        )
    assert {e["loc"][-1] for e in invalid.value.errors()} == {
        "legal_basis",
        "requested_measure",
    }


def test_response_time_after_due_time_is_invalid() -> None:
    """respond_by after due_at is refused by the model, naming respond_by."""
    with pytest.raises(ValidationError, match="respond_by"):
        request(respond_by=NOW + timedelta(days=2), due_at=NOW + timedelta(days=1))


def test_unknown_kind_is_invalid() -> None:
    """A task kind outside the four is refused."""
    with pytest.raises(ValidationError):
        RequestTask.model_validate(
            {**request().model_dump(mode="json"), "details": {"kind": "surveillance"}}
        )


def test_replay_rebuilds_the_same_state() -> None:
    """Replaying a task's events from the log gives the state the service kept."""
    state: TaskState | None = None
    log = []
    for command in [request(), COMMANDS["accept"](RCV), COMMANDS["start"](RCV)]:
        for event in events_of(decide(state, command, now=NOW)):
            log.append(event)
            state = evolve(state, event)
    assert replay(log) == state


def test_evolve_refuses_impossible_histories() -> None:
    """An event before the task was requested, or a second request, is a programming error."""
    (requested,) = events_of(decide(None, request(), now=NOW))
    state = evolve(None, requested)
    accepted = events_of(decide(state, COMMANDS["accept"](RCV), now=NOW))[0]
    with pytest.raises(ValueError):
        evolve(None, accepted)
    with pytest.raises(ValueError):
        evolve(state, requested)


def _addressed(item: object, task: TaskState) -> Addressed:
    assert isinstance(item, Addressed) and item.releasable_to is not None
    assert {item.originator, *item.releasable_to} == task.audience
    return item


ACTORS = [REQ, RCV, actor(RECEIVER, "desk_officer"), actor(STRANGER, "coordinator")]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(sorted(COMMANDS)),
        st.sampled_from(ACTORS),
        st.integers(min_value=0, max_value=72),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS, kind=st.sampled_from(sorted(KINDS)))
def test_any_history_keeps_the_task_consistent(
    steps: list[tuple[str, Actor, int]], kind: str
) -> None:
    """Under any command sequence: versions count events, ended tasks stay ended, JSON survives."""
    state = task_in(
        TaskStatus.REQUESTED,
        KINDS[kind],
        respond_by=NOW + timedelta(hours=4),
        due_at=NOW + timedelta(hours=48),
    )
    for name, who, hours in steps:
        now = NOW + timedelta(hours=hours)
        before = state
        try:
            outcome = decide(state, COMMANDS[name](who), now=now)
        except Rejected as refused:
            status = refused.status
            assert status in (403, 404, 409, 422)
            continue
        for item in outcome:
            state = evolve(state, _addressed(item, before).event)
        notices = due(state, now=now)
        for item in notices:
            state = evolve(state, _addressed(item, before).event)
        assert state.version == before.version + len(outcome) + len(notices)
        if before.status in TERMINAL:
            assert state.status == before.status
        assert len(set(state.overdue_notices)) == len(state.overdue_notices)
    assert TaskState.model_validate_json(state.model_dump_json()) == state
