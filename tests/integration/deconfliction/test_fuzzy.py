"""Fuzzy person matching end to end: name order, script and transliteration variants."""

from __future__ import annotations

from events.deconfliction import DeconflictionHit, HitStatus

from .support import HIT, EventLog, Jit, lead, submit

BORN = "1984-03-02"


def _hits_between(events: EventLog, jit: Jit, a: str, b: str) -> list[DeconflictionHit]:
    hits = [e.data for e in events.events(jit.id, HIT)]
    return [
        h
        for h in hits
        if isinstance(h, DeconflictionHit) and {h.registering.team, h.holding.team} == {a, b}
    ]


def test_name_order_is_confirmed_and_a_cyrillic_spelling_a_possible_hit_with_score(
    jit: Jit, events: EventLog
) -> None:
    """Swapped name order is a confirmed person hit, a Cyrillic spelling a possible one, scored."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    submit(nl, jit, lead("nl-p", persons=[{"name": "Popescu Ion", "date_of_birth": BORN}]))
    response = ro.post(
        f"/jits/{jit.id}/deconfliction/registrations",
        {"source_ref": "ro-rec-1", "persons": [{"name": "Ion Popescu", "date_of_birth": BORN}]},
    )
    assert response.status_code == 201, response.text
    events.wait(jit.id, HIT)
    submit(de, jit, lead("de-p", persons=[{"name": "Ион Попеску", "date_of_birth": BORN}]))
    envs = events.wait(jit.id, HIT, count=3)
    assert len(envs) == 3

    [confirmed] = _hits_between(events, jit, jit.nl, jit.ro)
    assert (confirmed.kind, confirmed.status, confirmed.score) == (
        "person",
        HitStatus.CONFIRMED,
        None,
    )
    for other in (jit.nl, jit.ro):
        [possible] = _hits_between(events, jit, jit.de, other)
        assert possible.kind == "person"
        assert possible.status is HitStatus.POSSIBLE
        assert possible.score is not None and 0.8 <= possible.score < 1.0
    for env in envs:
        wire = env.model_dump_json()
        assert "Popescu" not in wire and "Попеску" not in wire and BORN not in wire


def test_another_birth_date_is_no_hit(jit: Jit, events: EventLog) -> None:
    """The same name with another date of birth is not the same person: no hit."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    submit(nl, jit, lead("nl-q", persons=[{"name": "Ion Popescu", "date_of_birth": BORN}]))
    submit(ro, jit, lead("ro-q", persons=[{"name": "Ion Popescu", "date_of_birth": "1984-03-03"}]))
    events.wait(
        jit.id,
        "interlock.deconfliction.person_registered",
        count=2,
        settle=3.0,
    )
    assert events.events(jit.id, HIT) == []
