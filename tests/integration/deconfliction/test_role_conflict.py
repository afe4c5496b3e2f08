"""Role conflict end to end: one team's victim is another team's suspect."""

from __future__ import annotations

from events.deconfliction import NON_PUNISHMENT_NOTE, DeconflictionHit, RoleConflictDetected

from .support import HIT, ROLE_CONFLICT, EventLog, Jit, lead, submit


def test_a_victim_of_one_team_held_as_a_suspect_by_another_is_a_role_conflict(
    jit: Jit, events: EventLog
) -> None:
    """One team's victim held by another as a suspect is a role conflict told to both, nameless."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    person = {"name": "Elena Rusu", "date_of_birth": "1999-11-23"}
    nl_lead = submit(nl, jit, lead("nl-v", persons=[{**person, "role": "victim"}]))
    ro_lead = submit(ro, jit, lead("ro-s", persons=[{**person, "role": "suspect"}]))

    [conflict_env] = events.wait(jit.id, ROLE_CONFLICT)
    conflict = conflict_env.data
    assert isinstance(conflict, RoleConflictDetected)
    assert conflict_env.audience == {jit.nl, jit.ro}
    assert (conflict.victim.team, conflict.suspect.team) == (jit.nl, jit.ro)
    assert (conflict.victim.desk, conflict.suspect.desk) == (jit.desk(jit.nl), jit.desk(jit.ro))
    assert conflict.note == NON_PUNISHMENT_NOTE
    [hit_env] = events.wait(jit.id, HIT)
    hit = hit_env.data
    assert isinstance(hit, DeconflictionHit)
    assert conflict.hit_id == hit.hit_id
    assert hit.kind == "person"
    for env in (conflict_env, hit_env):
        wire = env.model_dump_json()
        assert "Rusu" not in wire and nl_lead not in wire and ro_lead not in wire


def test_a_shared_phone_of_a_victim_and_a_suspect_is_a_hit_but_no_role_conflict(
    jit: Jit, events: EventLog
) -> None:
    """A phone shared by one team's victim and another's suspect is a hit but no role conflict."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    phone = {"kind": "phone", "value": "+40 733 000 111", "person": 0}
    submit(nl, jit, lead("nl-w", persons=[{"name": "Ana", "role": "victim"}], identifiers=[phone]))
    submit(
        ro, jit, lead("ro-t", persons=[{"name": "Vlad", "role": "suspect"}], identifiers=[phone])
    )
    [hit] = events.wait(jit.id, HIT, settle=2.0)
    assert hit.data.kind == "phone"
    assert events.events(jit.id, ROLE_CONFLICT) == []
