"""Escalation timers: desk → team lead → coordinator team's desk, with injected time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.alerts import AlertEscalated, Category, EscalationTarget, Severity
from events.envelope import Addressed
from services.alerts.domain import AlertState, decide, due
from services.alerts.routing import Desk, DeskRule, DirectoryView

from .builders import (
    COORD,
    DESKLESS,
    DIRECTORY,
    JIT,
    NL,
    POLICY,
    RO,
    T0,
    acknowledge,
    actor,
    apply,
    escalate,
    raised,
)

TICK = timedelta(microseconds=1)


def _escalations(events: Sequence[object]) -> list[AlertEscalated]:
    assert all(isinstance(e, AlertEscalated) for e in events)
    return [e for e in events if isinstance(e, AlertEscalated)]


def test_nothing_is_due_before_the_deadline() -> None:
    """One microsecond before the deadline the alert has not escalated."""
    assert due(raised(), now=T0 + POLICY.p1 - TICK, policy=POLICY) == []


def test_at_the_deadline_the_team_leads_of_the_paged_teams_are_paged() -> None:
    """At the deadline each paged team's lead gets an AlertEscalated with a new step deadline."""
    at = T0 + POLICY.p1
    state, events = escalate(raised(), at)
    escalations = _escalations(events)
    assert [(e.step, e.to, e.team, e.member) for e in escalations] == [
        (1, EscalationTarget.TEAM_LEAD, NL, "nl-lead"),
        (1, EscalationTarget.TEAM_LEAD, RO, "ro-lead"),
    ]
    assert all(e.acknowledge_by == at + POLICY.p1 for e in escalations)
    assert all(e.next_escalation_at == at + POLICY.p1 for e in escalations)
    assert all(
        (e.severity, e.category) == (Severity.P1, Category.OFFICER_SAFETY) for e in escalations
    )
    assert state.step == 1
    assert state.acknowledge_by == at + POLICY.p1
    assert state.escalates_at == at + POLICY.p1


def test_team_lead_escalation_is_addressed_to_that_team_only() -> None:
    """A team lead's page goes to that lead's team, not to the other targets."""
    outputs = due(raised(), now=T0 + POLICY.p1, policy=POLICY)
    assert [(o.releasable_to, o.subject) for o in outputs if isinstance(o, Addressed)] == [
        (frozenset({NL}), "alert-1"),
        (frozenset({RO}), "alert-1"),
    ]


def test_after_the_team_lead_deadline_the_coordinator_desk_is_paged() -> None:
    """The last step pages the JIT coordinator team's desk and arms its re-page."""
    state, _ = escalate(raised(), T0 + POLICY.p1)
    at = state.escalates_at
    assert at is not None
    assert due(state, now=at - TICK, policy=POLICY) == []
    state, events = escalate(state, at)
    [escalation] = _escalations(events)
    assert (escalation.step, escalation.to, escalation.team, escalation.desk) == (
        2,
        EscalationTarget.COORDINATOR_DESK,
        COORD,
        "desk-be",
    )
    assert escalation.acknowledge_by == at + POLICY.p1
    assert escalation.next_escalation_at == at + POLICY.repage
    assert escalation.repeat == 0
    assert state.step == 2
    assert state.escalates_at == at + POLICY.repage


def test_coordinator_escalation_releases_the_alert_to_the_coordinator() -> None:
    """Paging the coordinator desk makes the coordinator team part of the alert's audience."""
    state, _ = escalate(raised(), T0 + POLICY.p1)
    outputs = due(state, now=state.escalates_at or T0, policy=POLICY)
    [output] = [o for o in outputs if isinstance(o, Addressed)]
    assert output.releasable_to == frozenset({NL, RO, COORD})
    assert apply(state, outputs).audience == frozenset({NL, RO, COORD})


def test_after_the_last_step_the_coordinator_desk_is_paged_again_until_acknowledged() -> None:
    """Past the last step the coordinator desk is paged again at the re-page interval, counting
    the repeats, and an acknowledgement stops it."""
    state, _ = escalate(raised(), T0 + POLICY.p1)
    state, _ = escalate(state, state.escalates_at or T0)
    first = state.escalates_at
    assert first is not None
    assert due(state, now=first - TICK, policy=POLICY) == []
    state, events = escalate(state, first)
    [again] = _escalations(events)
    assert (again.step, again.to, again.team, again.repeat) == (
        2,
        EscalationTarget.COORDINATOR_DESK,
        COORD,
        1,
    )
    assert again.next_escalation_at == first + POLICY.repage
    state, events = escalate(state, first + POLICY.repage)
    assert [e.repeat for e in _escalations(events)] == [2]
    state = apply(
        state,
        decide(
            state, acknowledge(actor(team=COORD)), now=first, policy=POLICY, directory=DIRECTORY
        ),
    )
    assert due(state, now=T0 + timedelta(days=30), policy=POLICY) == []


def test_acknowledgement_stops_escalation() -> None:
    """An alert acknowledged before its deadline never escalates."""
    state = raised()
    state = apply(
        state, decide(state, acknowledge(), now=T0 + TICK, policy=POLICY, directory=DIRECTORY)
    )
    assert due(state, now=T0 + timedelta(hours=2), policy=POLICY) == []


def test_acknowledgement_at_the_team_lead_step_stops_the_coordinator_step() -> None:
    """Acknowledging after the first escalation prevents the second."""
    state, _ = escalate(raised(), T0 + POLICY.p1)
    state = apply(
        state,
        decide(
            state,
            acknowledge(actor(NL, roles=("team_lead",))),
            now=T0 + POLICY.p1 + TICK,
            policy=POLICY,
            directory=DIRECTORY,
        ),
    )
    assert due(state, now=T0 + timedelta(hours=2), policy=POLICY) == []
    assert state.step == 1


def test_p4_never_escalates() -> None:
    """A P4 alert stays with the desk however long it waits."""
    state = raised(severity=Severity.P4, category=Category.OTHER)
    assert due(state, now=T0 + timedelta(days=365), policy=POLICY) == []


def test_p4_never_escalates_even_with_a_timer_in_its_state() -> None:
    """Even a P4 state that somehow carries an escalation time is not escalated."""
    state = raised(severity=Severity.P4, category=Category.OTHER).model_copy(
        update={"escalates_at": T0}
    )
    assert due(state, now=T0 + timedelta(days=1), policy=POLICY) == []


@pytest.mark.parametrize(
    ("severity", "deadline"), [(Severity.P2, POLICY.p2), (Severity.P3, POLICY.p3)]
)
def test_each_step_gets_the_severitys_deadline(severity: Severity, deadline: timedelta) -> None:
    """P2 and P3 escalate after their own deadlines, and each new step gets that deadline again."""
    state = raised(severity=severity, category=Category.SUSPECT_MOVEMENT)
    assert due(state, now=T0 + deadline - TICK, policy=POLICY) == []
    state, events = escalate(state, T0 + deadline)
    assert {e.acknowledge_by for e in _escalations(events)} == {T0 + 2 * deadline}


def test_late_timer_gives_the_next_step_its_full_time() -> None:
    """A tick long after the deadline (a restart) counts the next step's deadline from now."""
    late = T0 + timedelta(minutes=10)
    state, events = escalate(raised(), late)
    assert {e.acknowledge_by for e in _escalations(events)} == {late + POLICY.p1}
    assert state.step == 1


def test_one_step_per_tick() -> None:
    """However late the tick, the alert moves one step, so each step is actually paged."""
    _, events = escalate(raised(), T0 + timedelta(days=1))
    assert {e.step for e in _escalations(events)} == {1}


def test_timers_survive_a_restart() -> None:
    """State restored from JSON (a table's changelog) escalates at the same instant as before."""
    restored = AlertState.model_validate_json(raised().model_dump_json())
    assert due(restored, now=T0 + POLICY.p1 - TICK, policy=POLICY) == []
    assert len(due(restored, now=T0 + POLICY.p1, policy=POLICY)) == 2


def test_only_paged_teams_leads_are_escalated_to() -> None:
    """A team whose desk rule filtered the alert does not have its lead paged either."""
    rules = {
        RO: DeskRule(
            jit=JIT,
            team=RO,
            categories=(Category.OFFICER_SAFETY,),
            min_severity=Severity.P1,
            set_by="x",
        )
    }
    state = raised(rules=rules, severity=Severity.P2, category=Category.SUSPECT_MOVEMENT)
    _, events = escalate(state, T0 + POLICY.p2)
    assert [e.team for e in _escalations(events)] == [NL]


def test_without_team_leads_the_chain_goes_straight_to_the_coordinator_desk() -> None:
    """When no paged team has a lead, the first escalation pages the coordinator desk."""
    no_leads = DirectoryView(
        jit=JIT,
        coordinator_team=COORD,
        member_teams=frozenset({NL, RO, COORD}),
        desks={
            NL: Desk(team=NL, desk_id="desk-nl"),
            RO: Desk(team=RO, desk_id="desk-ro"),
            COORD: Desk(team=COORD, desk_id="desk-be"),
        },
    )
    state, events = escalate(raised(directory=no_leads), T0 + POLICY.p1)
    assert [(e.step, e.to) for e in _escalations(events)] == [
        (2, EscalationTarget.COORDINATOR_DESK)
    ]
    assert state.escalates_at == T0 + POLICY.p1 + POLICY.repage


def test_without_a_coordinator_desk_the_chain_ends_at_the_team_leads() -> None:
    """With no coordinator desk the team-lead step is the last one: the leads are paged again."""
    no_coordinator_desk = DIRECTORY.model_copy(
        update={"desks": {k: v for k, v in DIRECTORY.desks.items() if k != COORD}}
    )
    at = T0 + POLICY.p1
    state, events = escalate(raised(directory=no_coordinator_desk), at)
    assert {e.next_escalation_at for e in _escalations(events)} == {at + POLICY.repage}
    state, events = escalate(state, at + POLICY.repage)
    assert [(e.step, e.team, e.repeat) for e in _escalations(events)] == [(1, NL, 1), (1, RO, 1)]


def test_safety_alert_to_a_deskless_team_escalates_to_the_coordinator() -> None:
    """A P1 officer-safety alert nobody could be paged for reaches the coordinator desk."""
    _, events = escalate(raised(target_teams=(DESKLESS,)), T0 + POLICY.p1)
    assert [(e.to, e.team) for e in _escalations(events)] == [
        (EscalationTarget.COORDINATOR_DESK, COORD)
    ]


def test_nothing_due_for_no_alert() -> None:
    """The timer tolerates a key with no state."""
    assert due(None, now=T0, policy=POLICY) == []


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_escalation_is_monotonic_and_bounded(offsets: list[int]) -> None:
    """Any run of timer ticks escalates at most to the last step; steps only rise; a page is
    repeated only at the last step, with a repeat count that only rises."""
    state = raised()
    seen: list[tuple[int, str, int]] = []
    for offset in sorted(offsets):
        before = state.step
        state, events = escalate(state, T0 + timedelta(seconds=offset))
        assert state.step >= before
        seen.extend((e.step, e.team, e.repeat) for e in _escalations(events))
    assert len(seen) == len(set(seen))
    assert {(step, team) for step, team, _ in seen} <= {(1, NL), (1, RO), (2, COORD)}
    assert all(step == 2 for step, _, repeat in seen if repeat)
    assert state.step <= 2
