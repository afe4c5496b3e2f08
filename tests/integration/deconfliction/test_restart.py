"""A deconfliction worker killed in the middle of registrations loses none and tells no hit twice.

NL registers 60 phones; RO then registers the same phones (written differently) one command at a
time while the worker is killed (SIGKILL) part-way and started again. Every registration must be
in the index after the restart, each of the 60 pairs must be exactly one hit told once, and the
recovered tables must still answer: a third team's phone meets both NL's and RO's holders, and a
hit found before the kill can have its details released.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict

from events.codec import envelop
from events.deconfliction import DeconflictionHit, RegisterIdentifiers, TokenRegistered
from events.envelope import Actor, Envelope, new_id
from events.identifiers import Identifier, IdentifierKind
from services.kit.kafka import Publisher
from tests.support.platform import Platform

from .support import HIT, TOKEN_REGISTERED, EventLog, Jit

PAIRS = 60


def _phone(i: int, *, local: bool) -> Identifier:
    """The i-th phone, in international form or as written down in the Netherlands."""
    digits = f"6{20_000_000 + i:08d}"
    if local:
        return Identifier(kind=IdentifierKind.PHONE, value=f"0{digits}", country="NL")
    return Identifier(kind=IdentifierKind.PHONE, value=f"+31 {digits}")


def _command(jit: Jit, team: str, source_ref: str, identifiers: list[Identifier]) -> Envelope:
    command = RegisterIdentifiers(
        actor=Actor(member=f"system-{team.lower()}", team=team, roles=("national_system",)),
        source_ref=source_ref,
        identifiers=tuple(identifiers),
    )
    return envelop(
        command,
        subject=source_ref,
        jit=jit.id,
        originator=team,
        source="/tests/deconfliction/restart",
        correlation_id=new_id(),
    )


def test_a_killed_worker_loses_no_registration_and_tells_no_hit_twice(
    deconfliction: Platform, jit: Jit, events: EventLog
) -> None:
    """A worker killed mid-registrations loses none, tells each hit once and recovers its tables."""
    publisher = Publisher(deconfliction.settings)
    try:
        publisher.publish(
            [
                _command(jit, jit.nl, f"nl-{n}", [_phone(i, local=False) for i in range(n, n + 10)])
                for n in range(0, PAIRS, 10)
            ]
        )
        events.wait(jit.id, TOKEN_REGISTERED, count=PAIRS, settle=0.5)
        ro_commands = [
            _command(jit, jit.ro, f"ro-{i}", [_phone(i, local=True)]) for i in range(PAIRS)
        ]

        def feed() -> None:
            for command in ro_commands:
                publisher.publish([command])
                time.sleep(0.05)

        feeder = threading.Thread(target=feed)
        feeder.start()
        events.wait(jit.id, HIT, count=PAIRS // 4, settle=0)
        deconfliction.stop("deconfliction", kill=True)
        killed_after = len(events.events(jit.id, HIT))
        feeder.join()
        deconfliction.start("deconfliction")
        deconfliction.wait_ready(["deconfliction"])

        hits = events.wait(jit.id, HIT, count=PAIRS, timeout=40, settle=3.0)
    finally:
        publisher.close()
    assert killed_after < PAIRS, "the worker was killed after all hits: no restart was tested"

    registrations = {
        e.data.registration_id: e.data.team
        for e in events.events(jit.id, TOKEN_REGISTERED)
        if isinstance(e.data, TokenRegistered)
    }
    assert Counter(registrations.values()) == {jit.nl: PAIRS, jit.ro: PAIRS}

    by_pair: dict[frozenset[str], set[str]] = defaultdict(set)
    ids_by_hit: dict[str, set[str]] = defaultdict(set)
    for env in hits:
        hit = env.data
        assert isinstance(hit, DeconflictionHit)
        by_pair[frozenset({hit.registering.registration_id, hit.holding.registration_id})].add(
            hit.hit_id
        )
    for env in events.records(jit.id):
        if env.type == HIT:
            ids_by_hit[env.data.hit_id].add(env.id)
    assert len(by_pair) == PAIRS
    assert all(len(hit_ids) == 1 for hit_ids in by_pair.values())
    assert len(ids_by_hit) == PAIRS
    assert all(len(event_ids) == 1 for event_ids in ids_by_hit.values()), "a hit told twice"

    de = jit.member(jit.de)
    response = de.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {
            "source_ref": f"de-{uuid.uuid4().hex[:6]}",
            "identifiers": [{"kind": "phone", "value": "+31 620000000"}],
        },
    )
    assert response.status_code == 201, response.text
    de_hits = events.wait(
        jit.id,
        HIT,
        count=2,
        where=lambda e: jit.de in e.audience,
    )
    assert {e.data.holding.team for e in de_hits} == {jit.nl, jit.ro}

    first = hits[0].data
    ro = jit.member(jit.ro)
    released = ro.post(f"/jits/{jit.id}/hits/{first.hit_id}/release", {"note": "call RO desk"})
    assert released.status_code == 201, released.text
