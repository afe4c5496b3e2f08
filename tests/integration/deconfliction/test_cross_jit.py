"""Cross-JIT matching: only between JITs whose agreements both allow it."""

from __future__ import annotations

import time
from typing import Any

from events.deconfliction import DeconflictionHit
from tests.support.platform import Platform

from .support import HIT, TOKEN_REGISTERED, EventLog, register_jit

EMAIL = "Broker.Cross@Example.org"


def test_a_target_shared_across_two_consenting_jits_is_a_cross_jit_hit(
    deconfliction: Platform, issuer: Any, events: EventLog
) -> None:
    """An email in two JITs allowing cross-JIT matching is a cross-JIT hit; not in a closed JIT."""
    first = register_jit(deconfliction, issuer, cross_jit=True)
    second = register_jit(deconfliction, issuer, cross_jit=True)
    closed = register_jit(deconfliction, issuer, cross_jit=False)
    for jit, team, ref in ((first, first.nl, "nl-x"), (closed, closed.de, "de-x")):
        response = jit.member(team).post(
            f"/jits/{jit.id}/deconfliction/registrations",
            {"source_ref": ref, "identifiers": [{"kind": "email", "value": EMAIL}]},
        )
        assert response.status_code == 201, response.text
    events.wait(first.id, TOKEN_REGISTERED, count=2)
    events.wait(closed.id, TOKEN_REGISTERED)
    response = second.member(second.ro).post(
        f"/jits/{second.id}/deconfliction/registrations",
        {"source_ref": "ro-x", "identifiers": [{"kind": "email", "value": EMAIL}]},
    )
    assert response.status_code == 201, response.text

    [hit_env] = events.wait(second.id, HIT)
    hit = hit_env.data
    assert isinstance(hit, DeconflictionHit)
    assert hit.cross_jit
    assert (hit.registering.team, hit.registering.jit) == (second.ro, second.id)
    assert (hit.holding.team, hit.holding.jit) == (first.nl, first.id)
    assert hit_env.audience == {first.nl, second.ro}
    time.sleep(1.0)
    assert not [e for e in events.all_records() if e.type == HIT and closed.de in e.audience]
