"""The one rule for what a viewer is shown of the indicators: own team and the JIT aggregate,
other teams only to a coordinator, victim cells over 1–4 items suppressed outside one's team."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.indicators.domain import indicators
from services.indicators.facts import fact_of
from services.indicators.scoping import MIN_CELL, NotPermitted, Viewer, disclose
from tests.support.indicators_script import (
    BE,
    EXPECTED_NL_VICTIMS,
    NL,
    PERIOD,
    RO,
    SUPPRESSED_AGGREGATE_VICTIMS,
    scripted_jit,
)

JIT = "jit-script"


@pytest.fixture(scope="module")
def report() -> dict:
    facts = [f for env in scripted_jit(JIT) if (f := fact_of(env)) is not None]
    return indicators(facts, jit=JIT, start=PERIOD[0], end=PERIOD[1])


def viewer(team: str, *roles: str, jits: tuple[str, ...] = (JIT,)) -> Viewer:
    return Viewer(team=team, jits=frozenset(jits), roles=frozenset(roles))


def test_a_team_sees_its_own_figures_and_the_aggregate_only(report: dict) -> None:
    """An investigator of NL gets NL's breakdown and the aggregate, not RO's or BE's."""
    shown = disclose(report, viewer(NL, "investigator"))
    assert set(shown["teams"]) == {NL}
    assert shown["teams"][NL]["victims"] == EXPECTED_NL_VICTIMS
    assert shown["jit_aggregate"]["victims"] == SUPPRESSED_AGGREGATE_VICTIMS
    assert shown["min_cell"] == MIN_CELL == 5
    assert "jit_aggregate.victims.withdrawn" in shown["suppressed"]


def test_asking_for_another_team_needs_the_coordinator_role(report: dict) -> None:
    """team=RO from NL is refused; a coordinator may ask, and RO's small victim cells are hidden."""
    with pytest.raises(NotPermitted, match="not RO-DIICOT's"):
        disclose(report, viewer(NL, "investigator"), team=RO)
    shown = disclose(report, viewer(NL, "coordinator"), team=RO)
    assert set(shown["teams"]) == {RO}
    assert shown["teams"][RO]["victims"]["referrals"] is None  # RO made 1 referral
    assert shown["teams"][RO]["tasks"]["requested"] == 3  # T1, T3, T5


def test_a_coordinator_sees_every_team_with_small_victim_cells_suppressed(report: dict) -> None:
    """A coordinator's breakdown lists every team; BE's 3 referrals are shown as None."""
    shown = disclose(report, viewer(NL, "coordinator"))
    assert set(shown["teams"]) == {NL, RO, BE}
    assert shown["teams"][BE]["victims"]["referrals"] is None
    assert shown["teams"][NL]["victims"]["referrals"] == 1  # the viewer's own


def test_a_team_outside_the_jit_is_refused(report: dict) -> None:
    """A viewer whose token does not name the JIT sees nothing."""
    with pytest.raises(NotPermitted):
        disclose(report, viewer(NL, "coordinator", jits=("jit-other",)))


def test_disclosure_does_not_change_the_report(report: dict) -> None:
    """The rule works on a copy: the computed report stays whole for the next viewer."""
    before = json.dumps(report, sort_keys=True)
    disclose(report, viewer(NL, "investigator"))
    assert json.dumps(report, sort_keys=True) == before


@settings(max_examples=60, deadline=None)
@given(
    team=st.sampled_from([NL, RO, BE, "DE-BKA"]),
    roles=st.sets(st.sampled_from(["investigator", "coordinator", "analyst"])),
    ask=st.one_of(st.none(), st.sampled_from([NL, RO, BE])),
)
def test_no_viewer_ever_gets_a_small_victim_cell_of_another_team(
    report: dict, team: str, roles: set[str], ask: str | None
) -> None:
    """Property: for every viewer and question, each victim figure outside the viewer's own team
    is 0, at least MIN_CELL, or suppressed; no other team's breakdown reaches a non-coordinator."""
    v = viewer(team, *roles)
    try:
        shown = disclose(report, v, team=ask)
    except NotPermitted:
        assert ask not in (None, team) and "coordinator" not in roles
        return
    if "coordinator" not in roles:
        assert set(shown["teams"]) <= {team}
    scopes = [("jit", shown["jit_aggregate"])] + [
        (t, sections) for t, sections in shown["teams"].items() if t != team
    ]
    for _, sections in scopes:
        for value in sections["victims"].values():
            count = value["n"] if isinstance(value, dict) else value
            assert count is None or count == 0 or count >= MIN_CELL
    for row in shown["weekly"]:
        assert row["referrals"] is None or row["referrals"] == 0 or row["referrals"] >= MIN_CELL
