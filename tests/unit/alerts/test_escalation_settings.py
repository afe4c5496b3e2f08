"""Escalation times per JIT and per desk, set by the JIT coordinator, and the alerts that run on
them (services/alerts/domain.py ``decide_escalation``, ``escalation_for``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.alerts import (
    JIT_WIDE,
    Category,
    DeskEscalationSet,
    DeskRuleSet,
    EscalationTimes,
    SetDeskEscalation,
    Severity,
)
from events.envelope import Actor, Addressed
from events.outcomes import Rejected
from services.alerts.domain import decide_rule, describe_policy, escalation_for, evolve_rule
from services.alerts.routing import DeskRule, desk_rule_subject

from .builders import COORD, DIRECTORY, JIT, NL, POLICY, RO, T0, actor, escalate, raised

FAST = EscalationTimes(p1_seconds=60, p2_seconds=120, p3_seconds=600, repage_seconds=30)
SLOW = EscalationTimes(p1_seconds=120, p2_seconds=60, p3_seconds=900, repage_seconds=90)
COORDINATOR = actor(COORD, roles=("coordinator",))


def _set(
    team: str = NL, times: EscalationTimes | None = FAST, by: Actor = COORDINATOR
) -> SetDeskEscalation:
    return SetDeskEscalation(actor=by, jit=JIT, team=team, times=times)


def _rule(team: str, times: EscalationTimes | None) -> DeskRule:
    [output] = decide_rule(None, _set(team, times), directory=DIRECTORY)
    assert isinstance(output, Addressed) and isinstance(output.event, DeskEscalationSet)
    return evolve_rule(None, output.event)


def test_the_coordinator_sets_a_desks_times_for_every_member_team_to_read() -> None:
    """A coordinator of the coordinator team sets NL's times; every member team may see it."""
    [output] = decide_rule(None, _set(), directory=DIRECTORY)
    assert isinstance(output, Addressed)
    assert output.event == DeskEscalationSet(jit=JIT, team=NL, times=FAST, by=COORDINATOR.member)
    assert output.subject == desk_rule_subject(JIT, NL)
    assert output.releasable_to == DIRECTORY.member_teams - {COORD}


@pytest.mark.parametrize(
    "by",
    [actor(NL, roles=("coordinator",)), actor(COORD, roles=("desk_officer", "team_lead"))],
    ids=["another team's coordinator", "coordinator team's desk officer"],
)
def test_only_a_coordinator_of_the_coordinator_team_sets_times(by: Actor) -> None:
    """A coordinator of another team, or a desk officer of the coordinator team: 403."""
    with pytest.raises(Rejected) as refused:
        decide_rule(None, _set(by=by), directory=DIRECTORY)
    assert refused.value.status == 403


def test_a_team_outside_the_jit_is_named() -> None:
    """Times for a team that is not a member: 422 naming the team field."""
    with pytest.raises(Rejected) as refused:
        decide_rule(None, _set(team="FR-OCRTEH"), directory=DIRECTORY)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["team"]


def test_times_and_routing_rule_live_side_by_side() -> None:
    """Setting times keeps the desk's routing rule, and setting the rule keeps the times."""
    rule = _rule(NL, FAST)
    assert not rule.filters and rule.admits(Severity.P4, Category.OTHER)
    ruled = evolve_rule(
        rule,
        DeskRuleSet(
            jit=JIT, team=NL, categories=(Category.OFFICER_SAFETY,), min_severity=Severity.P2,
            by="nl-officer",
        ),
    )  # fmt: skip
    assert (ruled.escalation, ruled.version, ruled.filters) == (FAST, 2, True)
    reset = evolve_rule(ruled, DeskEscalationSet(jit=JIT, team=NL, times=None, by="c"))
    assert (reset.escalation, reset.categories) == (None, (Category.OFFICER_SAFETY,))
    assert decide_rule(reset, _set(times=None), directory=DIRECTORY) == []


def test_an_alert_runs_on_the_shortest_times_of_its_desks_else_the_jits() -> None:
    """Two paged desks with times: the shorter of each; none: the JIT's; nothing: None."""
    rules = {NL: _rule(NL, FAST), RO: _rule(RO, SLOW), JIT_WIDE: _rule(JIT_WIDE, SLOW)}
    both = escalation_for(rules, [NL, RO])
    assert both == EscalationTimes(p1_seconds=60, p2_seconds=60, p3_seconds=600, repage_seconds=30)
    assert escalation_for({JIT_WIDE: rules[JIT_WIDE]}, [NL]) == SLOW
    assert escalation_for({}, [NL]) is None


def test_the_chain_and_its_re_pages_follow_the_coordinators_times() -> None:
    """A P1 to a desk with its own times is due after its p1, and re-pages at its interval."""
    state = raised(rules={NL: _rule(NL, FAST)}, target_teams=(NL,))
    assert state.escalation == FAST
    assert state.acknowledge_by == T0 + timedelta(seconds=60)
    state, events = escalate(state, T0 + timedelta(seconds=60))
    assert [e.step for e in events] == [1]
    state, _ = escalate(state, T0 + timedelta(seconds=120))
    assert state.step == 2
    assert state.escalates_at == T0 + timedelta(seconds=150)


def test_the_rules_read_as_the_desk_shows_them() -> None:
    """The described policy gives each severity's deadline, the chain and the re-page."""
    described = describe_policy(POLICY)
    severities = described["severities"]
    assert isinstance(severities, list)
    assert [s["severity"] for s in severities] == ["P1", "P2", "P3", "P4"]
    assert severities[3]["escalates"] is False
    assert described["repage_seconds"] == POLICY.repage.total_seconds()
