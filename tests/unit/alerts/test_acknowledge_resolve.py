"""Acknowledging and resolving: who may, in which states, and what it does to escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.alerts import AlertAcknowledged, AlertResolved
from events.envelope import Addressed, Event
from events.outcomes import Rejected
from services.alerts.domain import AlertCommand, AlertState, AlertStatus, decide

from .builders import (
    COORD,
    DIRECTORY,
    NL,
    POLICY,
    RO,
    STRANGER,
    T0,
    acknowledge,
    actor,
    apply,
    escalate,
    events_of,
    raise_alert,
    raised,
    resolve,
)

LATER = T0 + timedelta(seconds=2)


def _decide(state: AlertState | None, command: AlertCommand) -> list[Event | Addressed]:
    return decide(state, command, now=LATER, policy=POLICY, directory=DIRECTORY)


def _refused(state: AlertState | None, command: AlertCommand) -> int:
    with pytest.raises(Rejected) as refused:
        _decide(state, command)
    return refused.value.status


def test_desk_officer_of_a_target_acknowledges() -> None:
    """A target team's desk officer acknowledges; the alert is acknowledged and stops escalating."""
    state = raised()
    outputs = decide(
        state, acknowledge(actor(RO, "ro-officer")), now=LATER, policy=POLICY, directory=DIRECTORY
    )
    [event] = events_of(outputs)
    assert event == AlertAcknowledged(alert_id="alert-1", by="ro-officer", team=RO, at=LATER)
    after = apply(state, outputs)
    assert after.status is AlertStatus.ACKNOWLEDGED
    assert (after.acknowledged_by, after.acknowledged_team, after.acknowledged_at) == (
        "ro-officer",
        RO,
        LATER,
    )
    assert after.escalates_at is None


def test_acknowledgement_is_addressed_to_the_alerts_audience() -> None:
    """The acknowledgement reaches every target and the raising team, not just its own team."""
    [output] = decide(raised(), acknowledge(), now=LATER, policy=POLICY, directory=DIRECTORY)
    assert isinstance(output, Addressed)
    assert output.subject == "alert-1"
    assert output.originator == NL
    assert output.releasable_to == frozenset({NL, RO})


@pytest.mark.parametrize("role", ["desk_officer", "team_lead", "coordinator"])
def test_acknowledging_roles(role: str) -> None:
    """Desk officers, team leads and coordinators of a target team may acknowledge."""
    events = events_of(_decide(raised(), acknowledge(actor(NL, roles=(role,)))))
    assert isinstance(events[0], AlertAcknowledged)


@pytest.mark.parametrize("roles", [("investigator",), ("analyst",), ("admin",), ()])
def test_other_roles_may_not_acknowledge(roles: tuple[str, ...]) -> None:
    """A target-team member without an acknowledging role is refused with 403."""
    assert _refused(raised(), acknowledge(actor(RO, roles=roles))) == 403


def test_raising_team_that_is_not_a_target_may_not_acknowledge() -> None:
    """The raising team sees the alert but, not being a target, may not acknowledge it (403)."""
    state = raised(actor=actor(COORD, "be-analyst", ("analyst",)))
    assert _refused(state, acknowledge(actor(COORD))) == 403


def test_team_that_cannot_see_the_alert_gets_404() -> None:
    """A team outside the alert's audience learns nothing, not even that the alert exists."""
    assert _refused(raised(), acknowledge(actor(STRANGER))) == 404
    assert _refused(raised(), acknowledge(actor(COORD))) == 404


def test_unknown_alert_is_404() -> None:
    """Acknowledging an alert that was never raised is refused as not found."""
    assert _refused(None, acknowledge()) == 404


def test_acknowledging_twice_is_409() -> None:
    """A second acknowledgement, even from another target team, is a conflict."""
    state = apply(raised(), _decide(raised(), acknowledge(actor(RO))))
    assert _refused(state, acknowledge(actor(NL))) == 409


def test_acknowledging_a_resolved_alert_is_409() -> None:
    """A resolved alert can no longer be acknowledged."""
    state = apply(raised(), _decide(raised(), resolve()))
    assert _refused(state, acknowledge()) == 409


def test_coordinator_desk_may_acknowledge_once_escalated_to_it() -> None:
    """After the chain reaches the coordinator team's desk, that desk may acknowledge."""
    state = raised()
    state, _ = escalate(state, T0 + POLICY.p1)
    assert _refused(state, acknowledge(actor(COORD))) == 404
    state, _ = escalate(state, state.escalates_at or T0)
    assert state.step == 2
    events = events_of(_decide(state, acknowledge(actor(COORD, "be-officer"))))
    assert events == [AlertAcknowledged(alert_id="alert-1", by="be-officer", team=COORD, at=LATER)]


def test_target_desk_officer_resolves() -> None:
    """A target desk officer resolves with a reason; the alert is resolved and escalates no more."""
    state = raised()
    outputs = _decide(state, resolve(actor(RO, "ro-officer"), reason="operation moved"))
    assert events_of(outputs) == [
        AlertResolved(
            alert_id="alert-1", by="ro-officer", team=RO, reason="operation moved", at=LATER
        )
    ]
    after = apply(state, outputs)
    assert after.status is AlertStatus.RESOLVED
    assert (after.resolved_by, after.resolved_at, after.resolution) == (
        "ro-officer",
        LATER,
        "operation moved",
    )
    assert after.escalates_at is None


def test_acknowledged_alert_can_be_resolved() -> None:
    """Acknowledge then resolve is the normal life of an alert."""
    state = apply(raised(), _decide(raised(), acknowledge()))
    after = apply(state, _decide(state, resolve()))
    assert after.status is AlertStatus.RESOLVED
    assert after.acknowledged_team == RO


def test_raiser_may_resolve_their_own_alert_without_a_desk_role() -> None:
    """The member who raised an alert may withdraw it, e.g. when the condition cleared."""
    state = raised()
    events = events_of(_decide(state, resolve(actor(NL, "nl-investigator", ("investigator",)))))
    assert isinstance(events[0], AlertResolved)


def test_other_investigator_may_not_resolve() -> None:
    """An investigator of a target team who did not raise the alert may not resolve it (403)."""
    assert _refused(raised(), resolve(actor(RO, "ro-investigator", ("investigator",)))) == 403


def test_same_member_id_in_another_team_is_not_the_raiser() -> None:
    """Raiser identity is member and team together: a namesake in another team is not the raiser."""
    assert _refused(raised(), resolve(actor(RO, "nl-investigator", ("investigator",)))) == 403


def test_resolving_twice_is_409() -> None:
    """A resolved alert cannot be resolved again."""
    state = apply(raised(), _decide(raised(), resolve()))
    assert _refused(state, resolve()) == 409


def test_resolving_unknown_or_invisible_alert_is_404() -> None:
    """Resolving an alert that does not exist, or that the team may not see, is not found."""
    assert _refused(None, resolve()) == 404
    assert _refused(raised(), resolve(actor(STRANGER))) == 404


def test_acknowledge_and_resolve_bump_the_version() -> None:
    """Each applied event adds one to the alert's version, for the envelopes' aggregate_version."""
    state = raised()
    acked = apply(state, _decide(state, acknowledge()))
    assert acked.version == state.version + 1
    done = apply(acked, _decide(acked, resolve()))
    assert done.version == acked.version + 1


def test_raise_command_still_idempotent_after_acknowledgement() -> None:
    """A raise redelivered after the alert was acknowledged does not reopen or re-page it."""
    state = apply(raised(), _decide(raised(), acknowledge()))
    assert _decide(state, raise_alert()) == []
