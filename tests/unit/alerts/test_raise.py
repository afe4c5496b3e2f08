"""Raising an alert: who may, what it pages, its deadline, and its idempotence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from events.alerts import (
    AlertDelivered,
    AlertRaised,
    AlertRouted,
    Category,
    DeliveryChannel,
    RouteBasis,
    Severity,
    WebhookDeliveryFailed,
)
from events.envelope import Addressed
from events.handling import Handling, HandlingCode, Tlp
from events.outcomes import Rejected
from services.alerts.domain import (
    AlertState,
    AlertStatus,
    EscalationPolicy,
    alert_id_for,
    decide,
    evolve,
    raise_for,
)
from services.alerts.routing import Desk, DeskRule, DirectoryView

from .builders import (
    COORD,
    DESKLESS,
    DIRECTORY,
    JIT,
    NL,
    POLICY,
    RO,
    STRANGER,
    T0,
    actor,
    events_of,
    raise_alert,
    raised,
)


def test_raise_emits_the_alert_and_one_route_per_desk() -> None:
    """A raise yields AlertRaised followed by an AlertRouted for each target team's desk."""
    outputs = decide(None, raise_alert(), now=T0, policy=POLICY, directory=DIRECTORY)
    events = events_of(outputs)
    assert isinstance(events[0], AlertRaised)
    routes = [e for e in events[1:] if isinstance(e, AlertRouted)]
    assert [(r.team, r.desk, r.basis, r.team_lead) for r in routes] == [
        (NL, "desk-nl", RouteBasis.DEFAULT, "nl-lead"),
        (RO, "desk-ro", RouteBasis.DEFAULT, "ro-lead"),
    ]
    assert len(events) == 3


def test_raise_is_addressed_to_the_targets_with_the_alerts_handling() -> None:
    """AlertRaised goes to every target, each AlertRouted to its team, all with the handling."""
    label = Handling(code=HandlingCode.H2, tlp=Tlp.RED)
    outputs = decide(None, raise_alert(handling=label), now=T0, policy=POLICY, directory=DIRECTORY)
    assert all(isinstance(o, Addressed) for o in outputs)
    first, *routes = [o for o in outputs if isinstance(o, Addressed)]
    assert first.subject == "alert-1"
    assert first.originator == NL
    assert first.releasable_to == frozenset({NL, RO})
    assert first.handling == label
    assert {(r.releasable_to, r.subject, r.handling) for r in routes} == {
        (frozenset({NL}), "alert-1", label),
        (frozenset({RO}), "alert-1", label),
    }


def test_state_after_raise_is_open_with_its_first_deadline() -> None:
    """A raised P1 alert is open, seen once, to be acknowledged within the P1 deadline."""
    state = raised()
    assert state.status is AlertStatus.OPEN
    assert state.count == 1
    assert state.first_seen == state.last_seen == T0
    assert state.acknowledge_by == T0 + POLICY.p1
    assert state.escalates_at == T0 + POLICY.p1
    assert state.step == 0
    assert state.originator == NL
    assert state.raised_by == "nl-investigator"
    assert [r.team for r in state.routes] == [NL, RO]
    assert state.version == 3


@pytest.mark.parametrize(
    ("severity", "deadline"),
    [(Severity.P1, POLICY.p1), (Severity.P2, POLICY.p2), (Severity.P3, POLICY.p3)],
)
def test_deadline_follows_severity(severity: Severity, deadline: timedelta) -> None:
    """The acknowledgement deadline is the policy's deadline for the alert's severity."""
    state = raised(severity=severity, category=Category.SUSPECT_MOVEMENT)
    assert state.acknowledge_by == T0 + deadline


def test_p4_has_no_deadline() -> None:
    """A P4 alert expects no acknowledgement by a deadline and never arms escalation."""
    state = raised(severity=Severity.P4, category=Category.OTHER)
    assert state.acknowledge_by is None
    assert state.escalates_at is None


def test_default_policy_matches_the_issue() -> None:
    """Out of the box: P1 5 min, P2 15 min, P3 1 h, P4 none."""
    policy = EscalationPolicy()
    assert [policy.deadline(s) for s in Severity] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        None,
    ]


def test_policy_refuses_non_positive_durations() -> None:
    """A zero or negative deadline is a configuration error, not an instant escalation."""
    with pytest.raises(ValueError, match="p2"):
        EscalationPolicy(p2=timedelta(0))


def test_alert_filtered_by_every_desk_pages_nobody_and_has_no_deadline() -> None:
    """When every target desk filters a non-critical alert, nobody is expected to acknowledge."""
    rules = {
        team: DeskRule(
            jit=JIT,
            team=team,
            categories=(Category.OFFICER_SAFETY,),
            min_severity=Severity.P1,
            set_by="x",
        )
        for team in (NL, RO)
    }
    state = raised(rules=rules, severity=Severity.P2, category=Category.TASK_OVERDUE)
    assert state.routes == ()
    assert state.acknowledge_by is None
    assert state.escalates_at is None


def test_safety_critical_alert_without_any_desk_still_arms_escalation() -> None:
    """A P1 officer-safety alert to a team without a desk escalates rather than staying silent."""
    state = raised(target_teams=(DESKLESS,))
    assert state.routes == ()
    assert state.acknowledge_by == T0 + POLICY.p1
    assert state.escalates_at == T0 + POLICY.p1


def test_no_escalation_armed_when_the_chain_has_no_further_step() -> None:
    """Without team leads or a coordinator desk, the deadline stands but nothing escalates."""
    bare = DirectoryView(
        jit=JIT,
        coordinator_team=COORD,
        member_teams=frozenset({NL, RO, COORD}),
        desks={NL: Desk(team=NL, desk_id="desk-nl")},
    )
    state = raised(directory=bare)
    assert state.acknowledge_by == T0 + POLICY.p1
    assert state.escalates_at is None
    assert state.coordinator_desk is None


def test_unknown_jit_is_404() -> None:
    """A raise for a JIT the service has no directory for is refused as not found."""
    with pytest.raises(Rejected) as refused:
        decide(None, raise_alert(), now=T0, policy=POLICY, directory=None)
    assert refused.value.status == 404


def test_directory_of_another_jit_is_404() -> None:
    """The domain refuses to route with the directory of a different JIT."""
    other = DIRECTORY.model_copy(update={"jit": "jit-other"})
    with pytest.raises(Rejected) as refused:
        decide(None, raise_alert(), now=T0, policy=POLICY, directory=other)
    assert refused.value.status == 404


def test_non_member_team_may_not_raise() -> None:
    """A team outside the JIT may not raise an alert in it."""
    with pytest.raises(Rejected) as refused:
        decide(None, raise_alert(actor=actor(STRANGER)), now=T0, policy=POLICY, directory=DIRECTORY)
    assert refused.value.status == 403


def test_auditor_may_not_raise() -> None:
    """An auditor looks but does not act: a raise by an auditor-only member is refused."""
    with pytest.raises(Rejected) as refused:
        decide(
            None,
            raise_alert(actor=actor(NL, roles=("auditor",))),
            now=T0,
            policy=POLICY,
            directory=DIRECTORY,
        )
    assert refused.value.status == 403


def test_target_outside_the_jit_is_422_naming_the_field() -> None:
    """Targeting a team outside the JIT is invalid content, reported on ``target_teams``."""
    with pytest.raises(Rejected) as refused:
        decide(
            None,
            raise_alert(target_teams=(NL, STRANGER)),
            now=T0,
            policy=POLICY,
            directory=DIRECTORY,
        )
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["target_teams"]
    assert STRANGER in refused.value.reason


def test_retried_raise_is_a_no_op() -> None:
    """The same raise delivered twice raises one alert."""
    state = raised()
    assert (
        decide(
            state, raise_alert(), now=T0 + timedelta(seconds=1), policy=POLICY, directory=DIRECTORY
        )
        == []
    )


def test_reused_alert_id_with_other_content_is_409() -> None:
    """A different alert under an id already used is refused, not merged."""
    state = raised()
    with pytest.raises(Rejected) as refused:
        decide(
            state, raise_alert(summary="something else"), now=T0, policy=POLICY, directory=DIRECTORY
        )
    assert refused.value.status == 409


def test_naive_now_is_a_programming_error() -> None:
    """Time without a zone would make deadlines ambiguous; the domain refuses it."""
    with pytest.raises(ValueError, match="timezone"):
        decide(
            None, raise_alert(), now=datetime(2026, 3, 2, 9, 0), policy=POLICY, directory=DIRECTORY
        )


def test_state_survives_a_json_round_trip() -> None:
    """Alert state is JSON-serialisable, as a table value must be, without losing anything."""
    state = raised()
    assert AlertState.model_validate_json(state.model_dump_json()) == state


def test_raise_for_derives_a_stable_alert_id_from_the_cause() -> None:
    """A redelivered cause maps to the same alert id; different causes to different ids."""
    service = actor(NL, "svc-deconfliction", ("national_system",))
    first = raise_for(
        "evt-42",
        actor=service,
        jit=JIT,
        severity=Severity.P1,
        category=Category.DECONFLICTION,
        target_teams=[RO, NL],
        summary="Identifier registered by two teams",
    )
    again = raise_for(
        "evt-42",
        actor=service,
        jit=JIT,
        severity=Severity.P1,
        category=Category.DECONFLICTION,
        target_teams=[NL, RO],
        summary="Identifier registered by two teams",
    )
    assert first == again
    assert first.alert_id == alert_id_for("evt-42") != alert_id_for("evt-43")
    assert first.target_teams == (NL, RO)


def test_raise_normalises_target_teams() -> None:
    """Target teams are kept once each, in a stable order, so equal raises compare equal."""
    assert raise_alert(target_teams=(RO, NL, RO)).target_teams == (NL, RO)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "   "),
        ("target_teams", ()),
        ("target_teams", ("nl-klpd",)),
        ("dedup_key", "has spaces"),
        ("severity", "P5"),
        ("category", "rumour"),
        ("alert_id", "-bad"),
    ],
)
def test_invalid_raise_names_the_field(field: str, value: object) -> None:
    """Bad raise content fails validation with an error located at the offending field."""
    with pytest.raises(ValidationError) as error:
        raise_alert(**{field: value})
    assert field in {str(e["loc"][0]) for e in error.value.errors()}


def test_evolve_refuses_events_for_an_alert_never_raised() -> None:
    """An acknowledgement for an alert with no state is a wiring bug, not a silent new alert."""
    with pytest.raises(ValueError, match="never raised"):
        evolve(
            None, AlertRouted(alert_id="alert-9", team=NL, desk="desk-nl", basis=RouteBasis.DEFAULT)
        )


def test_delivery_receipts_do_not_change_the_alert() -> None:
    """Receipts and webhook failures, from delivery workers, leave the alert and its version."""
    state = raised()
    receipt = AlertDelivered(
        alert_id="alert-1", team=NL, channel=DeliveryChannel.SSE, delivered_at=T0, reference="17"
    )
    failure = WebhookDeliveryFailed(
        alert_id="alert-1", team=NL, host="cms.example.nl", attempts=1, last_error="HTTP 503"
    )
    assert evolve(evolve(state, receipt), failure) == state


def test_replayed_raise_and_route_leave_the_state_alone() -> None:
    """Applying a raise or a route a second time (a replayed changelog) changes nothing."""
    state = raised()
    raised_again = AlertRaised(
        alert_id="alert-1",
        jit=JIT,
        severity=Severity.P3,
        category=Category.OTHER,
        target_teams=(NL,),
        summary="x",
        raised_by="x",
        raising_team=NL,
        raised_at=T0,
        coordinator_team=COORD,
    )
    route_again = AlertRouted(alert_id="alert-1", team=NL, desk="desk-nl", basis=RouteBasis.DEFAULT)
    assert evolve(evolve(state, raised_again), route_again) == state
