"""The task lifecycle: every transition, every permission, and the reasons given for refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from events.envelope import Actor, Addressed, Event
from events.handling import Handling, HandlingCode, Tlp
from events.outcomes import Rejected
from events.tasking import (
    AcceptTask,
    ConsentRecorded,
    TaskAccepted,
    TaskBlocked,
    TaskCancelled,
    TaskCommand,
    TaskCommented,
    TaskCompleted,
    TaskDeclined,
    TaskRequested,
    TaskStarted,
    TaskStatus,
    TaskUnblocked,
)
from services.tasking.domain import TaskState, decide

from .builders import (
    COMMANDS,
    KINDS,
    NOW,
    OBSERVER,
    RCV,
    RECEIVER,
    REQ,
    REQUESTER,
    STRANGER,
    accept,
    actor,
    apply,
    block,
    cancel,
    comment,
    complete,
    decline,
    drive,
    events_of,
    request,
    start,
    task_in,
    unblock,
)

S = TaskStatus
OPEN = {S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.BLOCKED}
ALL = set(S)

SPEC: dict[str, tuple[str, set[TaskStatus], type[Event], TaskStatus | None]] = {
    "accept": ("receiver", {S.REQUESTED}, TaskAccepted, S.ACCEPTED),
    "decline": ("receiver", {S.REQUESTED}, TaskDeclined, S.DECLINED),
    "start": ("receiver", {S.ACCEPTED}, TaskStarted, S.IN_PROGRESS),
    "block": ("receiver", {S.IN_PROGRESS}, TaskBlocked, S.BLOCKED),
    "unblock": ("receiver", {S.BLOCKED}, TaskUnblocked, S.IN_PROGRESS),
    "complete": ("receiver", {S.IN_PROGRESS}, TaskCompleted, S.COMPLETED),
    "cancel": ("requester", OPEN, TaskCancelled, S.CANCELLED),
    "comment": ("either", ALL, TaskCommented, None),
    "record_consent": ("either", ALL, ConsentRecorded, None),
}
"""The issue's lifecycle, written independently of the domain: (who, from which statuses,
the event, the status after; None keeps the status)."""

ACTORS: dict[str, Actor] = {
    "requester": REQ,
    "receiver": RCV,
    "observer": actor(OBSERVER, "investigator"),
    "stranger": actor(STRANGER, "coordinator"),
}
PARTIES = {
    "receiver": {"receiver"},
    "requester": {"requester"},
    "either": {"requester", "receiver"},
}

MATRIX = [
    pytest.param(status, name, who, id=f"{status}-{name}-{who}")
    for status in S
    for name in SPEC
    for who in ACTORS
]


@pytest.mark.parametrize(("status", "name", "who"), MATRIX)
def test_every_command_in_every_status_by_every_team(
    status: TaskStatus, name: str, who: str
) -> None:
    """Each command yields its event only for the right team in an allowed status, else 403/409;
    a team the task is not released to gets the 404 of an unknown task."""
    party, allowed_from, event_type, after = SPEC[name]
    state = task_in(status)
    command = COMMANDS[name](ACTORS[who])
    if who == "stranger":
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 404
        assert refused.value.reason == f"no task {state.task_id}", "names nobody"
    elif who not in PARTIES[party]:
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 403
        assert ACTORS[who].team in refused.value.reason
    elif status not in allowed_from:
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 409
        assert str(status) in refused.value.reason
    else:
        new, outcome = apply(state, command)
        assert [type(e) for e in events_of(outcome)] == [event_type]
        assert new.status == (after or status)
        assert new.version == state.version + 1


SPOT_CHECKS = [
    (S.REQUESTED, accept, RCV, TaskAccepted),
    (S.REQUESTED, decline, RCV, TaskDeclined),
    (S.ACCEPTED, start, RCV, TaskStarted),
    (S.IN_PROGRESS, block, RCV, TaskBlocked),
    (S.BLOCKED, unblock, RCV, TaskUnblocked),
    (S.IN_PROGRESS, complete, RCV, TaskCompleted),
    (S.REQUESTED, cancel, REQ, TaskCancelled),
    (S.BLOCKED, cancel, REQ, TaskCancelled),
    (S.COMPLETED, comment, RCV, TaskCommented),
    (S.REQUESTED, accept, REQ, 403),
    (S.IN_PROGRESS, complete, REQ, 403),
    (S.REQUESTED, cancel, RCV, 403),
    (S.REQUESTED, comment, actor(OBSERVER, "investigator"), 403),
    (S.REQUESTED, accept, actor(RECEIVER, "desk_officer"), 403),
    (S.REQUESTED, start, RCV, 409),
    (S.ACCEPTED, complete, RCV, 409),
    (S.BLOCKED, complete, RCV, 409),
    (S.IN_PROGRESS, accept, RCV, 409),
    (S.DECLINED, accept, RCV, 409),
    (S.COMPLETED, cancel, REQ, 409),
    (S.CANCELLED, cancel, REQ, 409),
    (S.STOPPED, start, RCV, 409),
]


@pytest.mark.parametrize(("status", "make", "by", "expected"), SPOT_CHECKS)
def test_spot_checks_of_the_lifecycle(
    status: TaskStatus,
    make: Callable[[Actor], TaskCommand],
    by: Actor,
    expected: type[Event] | int,
) -> None:
    """Hand-picked (state, command, actor) cases give the event or status the issue names."""
    state = task_in(status)
    if isinstance(expected, int):
        with pytest.raises(Rejected) as refused:
            decide(state, make(by), now=NOW)
        assert refused.value.status == expected
    else:
        assert [type(e) for e in events_of(decide(state, make(by), now=NOW))] == [expected]


ACTING: list[str | None] = [
    "investigator",
    "analyst",
    "team_lead",
    "coordinator",
    "national_system",
]
NOT_ACTING: list[str | None] = ["desk_officer", "admin", "auditor", None]


@pytest.mark.parametrize("role", ACTING + NOT_ACTING)
@pytest.mark.parametrize("name", list(SPEC))
def test_roles_that_may_act(name: str, role: str | None) -> None:
    """Only investigators, analysts, team leads, coordinators and national systems act on tasks."""
    party, allowed_from, _, _ = SPEC[name]
    team = REQUESTER if party == "requester" else RECEIVER
    state = task_in(min(allowed_from))
    command = COMMANDS[name](actor(team, *([role] if role else [])))
    if role in ACTING:
        assert events_of(decide(state, command, now=NOW))
    else:
        with pytest.raises(Rejected) as refused:
            decide(state, command, now=NOW)
        assert refused.value.status == 403
        assert "role" in refused.value.reason


@pytest.mark.parametrize("role", NOT_ACTING)
def test_request_needs_an_acting_role(role: str | None) -> None:
    """A desk officer, admin or auditor cannot request a task."""
    with pytest.raises(Rejected) as refused:
        decide(None, request(by=actor(REQUESTER, *([role] if role else []))), now=NOW)
    assert refused.value.status == 403


@pytest.mark.parametrize("name", list(SPEC))
def test_unknown_task_is_404(name: str) -> None:
    """Any command other than a request to a task that does not exist is refused with 404."""
    with pytest.raises(Rejected) as refused:
        decide(None, COMMANDS[name](RCV), now=NOW)
    assert refused.value.status == 404
    assert "task-1" in refused.value.reason


def test_requesting_twice_is_409() -> None:
    """A second request with the same task id does not overwrite the first."""
    state = task_in(S.ACCEPTED)
    with pytest.raises(Rejected) as refused:
        decide(state, request(), now=NOW)
    assert refused.value.status == 409
    assert "accepted" in refused.value.reason


def test_conflict_reason_names_status_and_what_is_needed() -> None:
    """A 409 says what the task is now and which status the transition needs."""
    with pytest.raises(Rejected) as refused:
        decide(task_in(S.COMPLETED), accept(), now=NOW)
    assert refused.value.reason == (
        "cannot accept task task-1 while it is completed (only when requested)"
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_whole_life_of_every_kind(kind: str) -> None:
    """Every kind of task goes requested → accepted → in progress ↔ blocked → completed."""
    state = drive(request(KINDS[kind]), accept(), start(), block(), unblock(), block(), unblock())
    assert state.status == S.IN_PROGRESS
    state, _ = apply(state, complete())
    assert state.status == S.COMPLETED
    assert state.kind == kind
    assert state.result_summary == "Subscriber identified: E-19"
    assert state.closed_at == NOW
    assert state.block_reason is None
    assert state.version == 8


def test_request_is_recorded_in_full() -> None:
    """The requested task keeps who asked whom for what, and starts at version 1."""
    state, outcome = apply(None, request(KINDS["legal_assistance"]))
    (event,) = events_of(outcome)
    assert isinstance(event, TaskRequested)
    assert (state.status, state.version) == (S.REQUESTED, 1)
    assert (state.requester_team, state.requested_by) == (REQUESTER, REQ.member)
    assert (state.to_team, state.to_member, state.assignee) == (
        RECEIVER,
        "ro-diicot-m7",
        "ro-diicot-m7",
    )
    assert state.details == KINDS["legal_assistance"]
    assert state.requested_at == NOW


def test_accept_names_the_accepting_member_unless_an_assignee_is_given() -> None:
    """The assignee is the accepting member by default, or the member the team assigns."""
    state = task_in(S.REQUESTED)
    mine, _ = apply(state, accept())
    theirs, _ = apply(state, AcceptTask(task_id="task-1", actor=RCV, assignee="ro-m9"))
    assert (mine.assignee, mine.accepted_at) == (RCV.member, NOW)
    assert theirs.assignee == "ro-m9"


def test_reasons_are_kept() -> None:
    """Decline, block and cancel reasons are kept on the task."""
    assert task_in(S.DECLINED).decline_reason == "No legal basis in Romania"
    assert task_in(S.BLOCKED).block_reason == "Waiting for a court order"
    assert task_in(S.CANCELLED).cancel_reason == "Lead turned out to be false"


def test_comments_from_both_teams_are_kept_in_order() -> None:
    """Comments by the requesting and the receiving team are kept with who wrote them and when."""
    later = NOW.replace(hour=10)
    state = drive(request(), comment(REQ))
    state, _ = apply(state, comment(RCV), now=later)
    assert [(c.team, c.by, c.at, c.text) for c in state.comments] == [
        (REQUESTER, REQ.member, NOW, "Any news?"),
        (RECEIVER, RCV.member, later, "Any news?"),
    ]
    assert state.status == S.REQUESTED


def test_a_task_within_one_team() -> None:
    """A team may task itself; its members then act as both requester and receiver."""
    own = request(by=REQ).model_copy(update={"to_team": REQUESTER})
    state = drive(own, accept(REQ), start(REQ), complete(REQ))
    assert state.status == S.COMPLETED
    assert state.audience == {REQUESTER, OBSERVER}


class TestReleasability:
    """Every task event reaches the requesting team, the receiving team and the named teams."""

    def test_every_event_is_addressed_to_the_whole_audience(self) -> None:
        """Events caused by either team are released to all the task's teams, whichever acted."""
        state: TaskState | None = None
        steps = [
            request(),
            accept(),
            comment(REQ),
            start(),
            block(),
            unblock(),
            complete(),
        ]
        for command in steps:
            state, outcome = apply(state, command)
            for item in outcome:
                assert isinstance(item, Addressed)
                assert item.subject == "task-1"
                assert item.originator == command.actor.team
                assert item.releasable_to is not None
                assert {item.originator, *item.releasable_to} == {
                    REQUESTER,
                    RECEIVER,
                    OBSERVER,
                }

    def test_request_releases_to_the_receiving_team_even_if_not_named(self) -> None:
        """A request that names no other team is still released to the receiving team."""
        (item,) = decide(None, request(releasable_to=()), now=NOW)
        assert isinstance(item, Addressed)
        assert item.originator == REQUESTER
        assert item.releasable_to == frozenset({RECEIVER})

    def test_named_teams_are_not_duplicated(self) -> None:
        """Naming the requester or receiver in releasable_to adds nothing."""
        state = drive(request(releasable_to=(REQUESTER, RECEIVER, OBSERVER)))
        assert state.releasable_to == (OBSERVER,)

    def test_handling_of_the_request_travels_with_every_event(self) -> None:
        """The task's handling code and TLP label every event, even the receiver's."""
        label = Handling(code=HandlingCode.H2, tlp=Tlp.RED)
        state = drive(request().model_copy(update={"handling": label}))
        (item,) = decide(state, accept(), now=NOW)
        assert isinstance(item, Addressed)
        assert item.handling == label
