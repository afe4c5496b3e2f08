"""Desk rules: set by the desk's own team, and used when routing."""

from __future__ import annotations

import pytest

from events.alerts import Category, DeskRuleSet, SetDeskRule, Severity
from events.envelope import Actor, Addressed
from events.outcomes import Rejected
from services.alerts.domain import decide_rule, evolve_rule
from services.alerts.routing import DeskRule, desk_rule_subject

from .builders import DIRECTORY, JIT, NL, RO, STRANGER, T0, actor, raised


def _set(by: Actor | None = None, team: str = NL, **overrides: object) -> SetDeskRule:
    fields: dict[str, object] = {
        "actor": by or actor(NL),
        "jit": JIT,
        "team": team,
        "categories": (Category.SUSPECT_MOVEMENT, Category.OFFICER_SAFETY),
        "min_severity": Severity.P2,
    }
    fields.update(overrides)
    return SetDeskRule.model_validate(fields)


def _refused(command: SetDeskRule) -> int:
    with pytest.raises(Rejected) as refused:
        decide_rule(None, command, directory=DIRECTORY)
    return refused.value.status


def test_desk_officer_sets_their_desks_rule() -> None:
    """A desk officer sets the rule; the event is the team's own, keyed by JIT and team."""
    [output] = decide_rule(None, _set(), directory=DIRECTORY)
    assert isinstance(output, Addressed)
    assert output.event == DeskRuleSet(
        jit=JIT,
        team=NL,
        categories=(Category.OFFICER_SAFETY, Category.SUSPECT_MOVEMENT),
        min_severity=Severity.P2,
        by="nl-klpd-officer",
    )
    assert (output.subject, output.originator, output.releasable_to) == (
        desk_rule_subject(JIT, NL),
        NL,
        frozenset(),
    )


def test_rule_state_and_version() -> None:
    """Applying the event gives the rule; changing it bumps the version."""
    [first] = decide_rule(None, _set(), directory=DIRECTORY)
    assert isinstance(first, Addressed)
    assert isinstance(first.event, DeskRuleSet)
    rule = evolve_rule(None, first.event)
    assert (rule.team, rule.min_severity, rule.version) == (NL, Severity.P2, 1)
    assert rule.admits(Severity.P1, Category.SUSPECT_MOVEMENT)
    [second] = decide_rule(rule, _set(min_severity=Severity.P1), directory=DIRECTORY)
    assert isinstance(second, Addressed)
    assert isinstance(second.event, DeskRuleSet)
    assert evolve_rule(rule, second.event).version == 2


def test_same_rule_again_is_a_no_op() -> None:
    """Setting the rule the desk already has writes nothing."""
    [output] = decide_rule(None, _set(), directory=DIRECTORY)
    assert isinstance(output, Addressed)
    assert isinstance(output.event, DeskRuleSet)
    rule = evolve_rule(None, output.event)
    assert (
        decide_rule(
            rule,
            _set(categories=(Category.OFFICER_SAFETY, Category.SUSPECT_MOVEMENT)),
            directory=DIRECTORY,
        )
        == []
    )


def test_another_team_may_not_set_the_rule() -> None:
    """Only a desk's own team decides what pages it."""
    assert _refused(_set(by=actor(RO), team=NL)) == 403


@pytest.mark.parametrize("role", ["investigator", "analyst", "auditor"])
def test_roles_that_may_not_set_rules(role: str) -> None:
    """Investigators, analysts and auditors may not change what their desk is paged for."""
    assert _refused(_set(by=actor(NL, roles=(role,)))) == 403


@pytest.mark.parametrize("role", ["desk_officer", "team_lead", "coordinator", "admin"])
def test_roles_that_may_set_rules(role: str) -> None:
    """Desk officers, team leads, coordinators and admins of the team may set its rule."""
    assert len(decide_rule(None, _set(by=actor(NL, roles=(role,))), directory=DIRECTORY)) == 1


def test_unknown_jit_is_404() -> None:
    """A rule for a JIT without a directory view is not found."""
    with pytest.raises(Rejected) as refused:
        decide_rule(None, _set(), directory=None)
    assert refused.value.status == 404


def test_team_outside_the_jit_is_422() -> None:
    """A rule for a team that is not a member of the JIT is invalid, reported on ``team``."""
    with pytest.raises(Rejected) as refused:
        decide_rule(None, _set(by=actor(STRANGER), team=STRANGER), directory=DIRECTORY)
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["team"]


def test_rule_needs_a_category() -> None:
    """A rule with no categories is refused at validation: a desk cannot mute itself entirely."""
    with pytest.raises(ValueError, match="categories"):
        _set(categories=())


def test_rules_change_what_a_raise_pages() -> None:
    """A raise decided with the desk's rule skips that desk when the rule filters it."""
    rule = DeskRule(
        jit=JIT,
        team=NL,
        categories=(Category.OFFICER_SAFETY,),
        min_severity=Severity.P1,
        set_by="x",
    )
    state = raised(rules={NL: rule}, severity=Severity.P3, category=Category.TASK_OVERDUE, now=T0)
    assert [r.team for r in state.routes] == [RO]
