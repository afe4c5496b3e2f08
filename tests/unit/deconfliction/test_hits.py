"""The hit aggregate: told once, details released or declined by the two teams only."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from events.deconfliction import (
    DeclineHitDetails,
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    HitStatus,
    ReleasedDetails,
    ReleaseHitDetails,
    RoleConflictDetected,
)
from events.envelope import Addressed
from events.outcomes import Rejected
from services.deconfliction.domain import HitState, admit, decide_hit, evolve_hit

from .builders import BG, NL, RO, T0, Index, actor, phone, registration_command, tokenise


def _hit() -> DeconflictionHit:
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    [item] = index.feed(tokenise(registration_command(RO, "ro-1", [phone()])))
    assert isinstance(item.event, DeconflictionHit)
    return item.event


def _state() -> HitState:
    return evolve_hit(None, _hit())


def _release(team: str, hit_id: str) -> ReleaseHitDetails:
    return ReleaseHitDetails(
        actor=actor(team),
        hit_id=hit_id,
        details=ReleasedDetails(source_ref="lead-1", contact_officer="Insp. J. de Vries"),
    )


def _one(items: Sequence[object]) -> Addressed:
    [item] = items
    assert isinstance(item, Addressed)
    return item


def test_a_new_hit_is_admitted_and_a_repeat_is_not() -> None:
    """The first sight of a hit id is published; the same hit again (another token, a key
    rotation) is not."""
    hit = _hit()
    assert admit(None, hit)
    assert not admit(evolve_hit(None, hit), hit)


def test_a_possible_hit_later_confirmed_is_admitted_again() -> None:
    """A possible person hit that becomes confirmed is news; the state follows it."""
    hit = _hit()
    possible = hit.model_copy(update={"status": HitStatus.POSSIBLE, "score": 0.86})
    state = evolve_hit(None, possible)
    assert admit(state, hit)
    assert evolve_hit(state, hit).status is HitStatus.CONFIRMED


def test_a_role_conflict_is_admitted_once() -> None:
    """A role conflict for a hit is published once."""
    hit = _hit()
    state = evolve_hit(None, hit)
    conflict = RoleConflictDetected(
        conflict_id=hit.hit_id,
        hit_id=hit.hit_id,
        jit=hit.jit,
        kind=hit.kind,
        victim={
            "team": NL,
            "jit": hit.jit,
            "role": "victim",
            "registration_id": hit.holding.registration_id,
        },
        suspect={
            "team": RO,
            "jit": hit.jit,
            "role": "suspect",
            "registration_id": hit.registering.registration_id,
        },
        detected_at=T0,
    )
    assert admit(state, conflict)
    assert not admit(evolve_hit(state, conflict), conflict)


def test_release_is_told_to_the_two_teams_only() -> None:
    """A release by one team goes to the other team and no one else."""
    state = _state()
    item = _one(decide_hit(state, _release(NL, state.hit_id), now=T0))
    event = item.event
    assert isinstance(event, DeconflictionDetailsReleased)
    assert (event.by_team, event.to_team) == (NL, RO)
    assert event.details.source_ref == "lead-1"
    assert item.originator == NL
    assert item.releasable_to == frozenset({RO})


def test_a_third_team_may_not_release() -> None:
    """A team that is not one of the hit's two teams gets the 404 of an unknown hit."""
    state = _state()
    with pytest.raises(Rejected) as refused:
        decide_hit(state, _release(BG, state.hit_id), now=T0)
    assert refused.value.status == 404


def test_releasing_twice_is_a_conflict() -> None:
    """A team that already released is refused with 409."""
    state = _state()
    released = _one(decide_hit(state, _release(NL, state.hit_id), now=T0)).event
    state = evolve_hit(state, released)
    with pytest.raises(Rejected) as refused:
        decide_hit(state, _release(NL, state.hit_id), now=T0)
    assert refused.value.status == 409


def test_each_team_may_release_once() -> None:
    """After one team released, the other team may still release its side."""
    state = _state()
    state = evolve_hit(state, _one(decide_hit(state, _release(NL, state.hit_id), now=T0)).event)
    item = _one(decide_hit(state, _release(RO, state.hit_id), now=T0))
    assert isinstance(item.event, DeconflictionDetailsReleased)
    assert item.releasable_to == frozenset({NL})


def test_decline_is_told_to_the_other_team() -> None:
    """Declining tells the other team that no details will come."""
    state = _state()
    decline = DeclineHitDetails(actor=actor(RO), hit_id=state.hit_id, reason="covert phase")
    item = _one(decide_hit(state, decline, now=T0))
    assert isinstance(item.event, DeconflictionDetailsDeclined)
    assert item.releasable_to == frozenset({NL})


def test_declining_twice_or_after_release_is_a_conflict() -> None:
    """A team that declined or released cannot decline again (409)."""
    state = _state()
    decline = DeclineHitDetails(actor=actor(RO), hit_id=state.hit_id)
    declined = evolve_hit(state, _one(decide_hit(state, decline, now=T0)).event)
    with pytest.raises(Rejected) as refused:
        decide_hit(declined, decline, now=T0)
    assert refused.value.status == 409
    released = evolve_hit(state, _one(decide_hit(state, _release(RO, state.hit_id), now=T0)).event)
    with pytest.raises(Rejected) as refused:
        decide_hit(released, decline, now=T0)
    assert refused.value.status == 409


def test_a_team_that_declined_may_release_later() -> None:
    """Declining is not final: the team may release once its case allows."""
    state = _state()
    decline = DeclineHitDetails(actor=actor(RO), hit_id=state.hit_id)
    state = evolve_hit(state, _one(decide_hit(state, decline, now=T0)).event)
    assert isinstance(
        _one(decide_hit(state, _release(RO, state.hit_id), now=T0)).event,
        DeconflictionDetailsReleased,
    )


def test_an_unknown_hit_is_not_found() -> None:
    """Releasing details of a hit that was never told is refused with 404."""
    with pytest.raises(Rejected) as refused:
        decide_hit(None, _release(NL, _hit().hit_id), now=T0)
    assert refused.value.status == 404


def test_release_needs_some_detail() -> None:
    """A release with nothing in it is refused at the field."""
    with pytest.raises(ValueError, match="details"):
        ReleasedDetails()
