"""The indicators computed from the scripted JIT's events, by the pure facts and domain modules."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.indicators.domain import indicators, measure, nearest_rank, stats
from services.indicators.facts import fact_of, instrument
from tests.support.indicators_script import (
    EXPECTED,
    EXPECTED_NL_VICTIMS,
    EXPECTED_WEEKLY,
    NL,
    PERIOD,
    scripted_jit,
)

JIT = "jit-script"


@pytest.fixture(scope="module")
def facts() -> list[dict]:
    return [f for env in scripted_jit(JIT) if (f := fact_of(env)) is not None]


@pytest.mark.parametrize("section", sorted(EXPECTED))
def test_each_section_of_the_scripted_jit_has_its_worked_out_values(
    facts: list[dict], section: str
) -> None:
    """Every indicator of the aggregate equals the value worked out by hand in the script."""
    start, end = PERIOD
    assert measure(facts, start=start, end=end)[section] == EXPECTED[section]


def test_weeks_and_composition(facts: list[dict]) -> None:
    """The weekly trend counts what opened in each ISO week; the composition names the teams."""
    start, end = PERIOD
    report = indicators(facts, jit=JIT, start=start, end=end)
    assert report["weekly"] == EXPECTED_WEEKLY
    assert report["composition"] == {
        "teams": ["BE-FGP", "NL-KLPD", "RO-DIICOT"],
        "operations_planned": 1,
        "operations_by_kind": {"arrest": 1},
    }


def test_a_team_counts_only_what_it_is_party_to(facts: list[dict]) -> None:
    """NL's figures cover the alerts, tasks and referrals NL raised, received or was asked for."""
    start, end = PERIOD
    mine = measure(facts, start=start, end=end, team=NL)
    assert mine["victims"] == EXPECTED_NL_VICTIMS
    assert mine["alerts"]["raised"] == 5  # A1, A2, A4, A5, A7
    assert mine["tasks"]["requested"] == 5  # T1, T2, T3, T4, T5 all involve NL
    assert mine["leads"]["submitted"] == 2


def test_facts_are_idempotent_and_order_free(facts: list[dict]) -> None:
    """The same facts twice, in any order, give the same indicators (a replay changes nothing)."""
    start, end = PERIOD
    shuffled = facts + facts
    random.Random(7).shuffle(shuffled)
    assert measure(shuffled, start=start, end=end) == measure(facts, start=start, end=end)


def test_the_period_bounds_what_opened(facts: list[dict]) -> None:
    """Items opened before ``from`` or at/after ``to`` do not count; later steps still do."""
    start, _ = PERIOD
    first_week = measure(facts, start=start, end=start + timedelta(days=7))
    assert first_week["alerts"]["raised"] == 6
    assert first_week["tasks"]["requested"] == 4
    empty = measure(facts, start=start - timedelta(days=30), end=start)
    assert empty["alerts"]["raised"] == 0
    assert empty["alerts"]["time_to_acknowledge"]["p50"] is None


def test_facts_carry_no_free_text() -> None:
    """No fact holds a summary, description, reason, note or name from its event."""
    for env in scripted_jit(JIT):
        fact = fact_of(env)
        if fact is None:
            continue
        values = [str(v) for v in fact.values()]
        assert not any("scripted" in v or "duty officer" in v for v in values), fact


def test_nearest_rank_percentiles() -> None:
    """p50/p90 are values that were measured: the ⌈p·n/100⌉-th smallest."""
    assert nearest_rank([5.0], 90) == 5.0
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert nearest_rank(list(map(float, range(1, 11))), 90) == 9.0
    assert stats([]) == {"n": 0, "p50": None, "p90": None, "max": None}


def test_legal_instrument_from_the_legal_basis() -> None:
    """A legal basis naming the EIO Directive is an EIO; anything else is MLA."""
    assert instrument("Directive 2014/41/EU") == "EIO"
    assert instrument("European Investigation Order, art. 10") == "EIO"
    assert instrument("1959 Convention on Mutual Assistance in Criminal Matters") == "MLA"
