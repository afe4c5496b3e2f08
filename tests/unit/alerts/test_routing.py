"""Routing: which desks an alert pages, under desk rules, with the safety override."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.alerts import Category, RouteBasis, Severity
from services.alerts.routing import DeskRule, is_safety_critical, route

from .builders import DESKLESS, DIRECTORY, JIT, NL, RO


def _rule(
    team: str, categories: tuple[Category, ...], minimum: Severity, jit: str = JIT
) -> DeskRule:
    return DeskRule(jit=jit, team=team, categories=categories, min_severity=minimum, set_by="x")


def _routes(
    severity: Severity,
    category: Category,
    rules: dict[str, DeskRule],
    targets: tuple[str, ...] = (NL, RO),
) -> dict[str, RouteBasis]:
    routed = route(
        alert_id="alert-1",
        severity=severity,
        category=category,
        target_teams=targets,
        rules=rules,
        directory=DIRECTORY,
    )
    return {r.team: r.basis for r in routed}


def test_desk_without_a_rule_gets_everything() -> None:
    """No rule means every alert reaches the desk, with the desk id and its team lead."""
    routed = route(
        alert_id="a",
        severity=Severity.P4,
        category=Category.OTHER,
        target_teams=[RO, NL],
        rules={},
        directory=DIRECTORY,
    )
    assert [(r.team, r.desk, r.team_lead, r.basis) for r in routed] == [
        (NL, "desk-nl", "nl-lead", RouteBasis.DEFAULT),
        (RO, "desk-ro", "ro-lead", RouteBasis.DEFAULT),
    ]


def test_rule_admits_its_categories_at_or_above_its_minimum() -> None:
    """A rule lets through its categories at its minimum severity and more urgent ones."""
    rules = {NL: _rule(NL, (Category.SUSPECT_MOVEMENT,), Severity.P2)}
    assert _routes(Severity.P2, Category.SUSPECT_MOVEMENT, rules)[NL] is RouteBasis.RULE
    assert _routes(Severity.P1, Category.SUSPECT_MOVEMENT, rules)[NL] is RouteBasis.RULE


def test_rule_filters_lower_severity() -> None:
    """An alert below the rule's minimum does not page that desk; other desks are unaffected."""
    rules = {NL: _rule(NL, (Category.SUSPECT_MOVEMENT,), Severity.P2)}
    assert _routes(Severity.P3, Category.SUSPECT_MOVEMENT, rules) == {RO: RouteBasis.DEFAULT}


def test_rule_filters_other_categories() -> None:
    """An alert in a category the rule does not list does not page that desk."""
    rules = {NL: _rule(NL, (Category.SUSPECT_MOVEMENT,), Severity.P4)}
    assert NL not in _routes(Severity.P1, Category.TASK_OVERDUE, rules)


@pytest.mark.parametrize("category", [Category.OFFICER_SAFETY, Category.VICTIM_AT_RISK])
def test_p1_safety_alert_overrides_any_rule(category: Category) -> None:
    """A P1 officer-safety or victim-at-risk alert reaches a desk whose rule would filter it."""
    rules = {NL: _rule(NL, (Category.TASK_OVERDUE,), Severity.P1)}
    assert _routes(Severity.P1, category, rules)[NL] is RouteBasis.SAFETY


def test_safety_override_is_only_for_p1() -> None:
    """A P2 officer-safety alert respects the desk's rule."""
    rules = {NL: _rule(NL, (Category.TASK_OVERDUE,), Severity.P1)}
    assert NL not in _routes(Severity.P2, Category.OFFICER_SAFETY, rules)


def test_safety_override_is_only_for_safety_categories() -> None:
    """A P1 suspect-movement alert respects the desk's rule."""
    rules = {NL: _rule(NL, (Category.TASK_OVERDUE,), Severity.P1)}
    assert NL not in _routes(Severity.P1, Category.SUSPECT_MOVEMENT, rules)


def test_admitted_safety_alert_is_routed_by_the_rule() -> None:
    """When the rule admits a safety alert anyway, the basis says rule, not override."""
    rules = {NL: _rule(NL, (Category.OFFICER_SAFETY,), Severity.P1)}
    assert _routes(Severity.P1, Category.OFFICER_SAFETY, rules)[NL] is RouteBasis.RULE


def test_team_without_a_desk_gets_no_route() -> None:
    """A target team with no registered desk has nobody to page."""
    assert _routes(Severity.P1, Category.OFFICER_SAFETY, {}, (NL, DESKLESS)) == {
        NL: RouteBasis.DEFAULT
    }


def test_rule_of_another_jit_is_ignored() -> None:
    """A desk's rule applies to the JIT it was set in only."""
    rules = {NL: _rule(NL, (Category.TASK_OVERDUE,), Severity.P1, jit="jit-other")}
    assert _routes(Severity.P3, Category.OTHER, rules)[NL] is RouteBasis.DEFAULT


def test_severity_order() -> None:
    """P1 is the most urgent: it is at least every severity, and P4 is at least only P4."""
    assert all(Severity.P1.at_least(s) for s in Severity)
    assert [s for s in Severity if Severity.P4.at_least(s)] == [Severity.P4]
    assert Severity.P2.at_least(Severity.P3)
    assert not Severity.P3.at_least(Severity.P2)


def test_safety_critical() -> None:
    """Exactly P1 officer-safety and P1 victim-at-risk are safety-critical."""
    critical = {(s, c) for s in Severity for c in Category if is_safety_critical(s, c)}
    assert critical == {
        (Severity.P1, Category.OFFICER_SAFETY),
        (Severity.P1, Category.VICTIM_AT_RISK),
    }


rules_strategy = st.dictionaries(
    st.sampled_from([NL, RO]),
    st.tuples(
        st.sets(st.sampled_from(list(Category)), min_size=1), st.sampled_from(list(Severity))
    ),
).map(
    lambda drawn: {
        team: _rule(team, tuple(cats), minimum) for team, (cats, minimum) in drawn.items()
    }
)


@given(st.sampled_from(list(Severity)), st.sampled_from(list(Category)), rules_strategy)
def test_routes_are_targets_with_desks_and_safety_always_reaches_them(
    severity: Severity, category: Category, rules: dict[str, DeskRule]
) -> None:
    """Routes only ever go to target desks, and a safety-critical alert reaches all of them."""
    routed = _routes(severity, category, rules, (NL, RO, DESKLESS))
    assert set(routed) <= {NL, RO}
    if is_safety_critical(severity, category):
        assert set(routed) == {NL, RO}
    for team, basis in routed.items():
        rule = rules.get(team)
        assert (basis is RouteBasis.DEFAULT) == (rule is None)
