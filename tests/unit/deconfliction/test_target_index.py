"""The target index: hits between teams, never within one, told once, carrying no details."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from events.deconfliction import (
    DeconflictionHit,
    HitStatus,
    RoleConflictDetected,
    TokenRegistered,
)
from events.envelope import Addressed
from events.identifiers import IdentifierKind, PersonRole
from services.deconfliction.domain import TokenHolders, expire, hit_id, register
from services.deconfliction.tokens import KeyRing, TokenKeys

from .builders import (
    BG,
    CANONICAL_PHONE,
    DESKS,
    JIT,
    MASTER,
    NL,
    OTHER_JIT,
    RO,
    T0,
    Index,
    document,
    person,
    phone,
    registration_command,
    tokenise,
    tokens_of,
)


def _hits(told: list[Addressed]) -> list[DeconflictionHit]:
    return [a.event for a in told if isinstance(a.event, DeconflictionHit)]


def test_no_hit_within_one_team() -> None:
    """Two leads of the same team holding one phone are no hit."""
    index = Index()
    assert index.feed(tokenise(registration_command(NL, "lead-1", [phone()]))) == []
    assert index.feed(tokenise(registration_command(NL, "lead-2", [phone()]))) == []


def test_hit_between_two_teams_is_told_to_both() -> None:
    """A second team registering a phone the first holds (written another way) gets a confirmed
    hit, addressed to both teams, originated by the registering team, with both desks."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    written_otherwise = phone("0031 6 12345678")
    told = index.feed(tokenise(registration_command(RO, "ro-case-7", [written_otherwise])))
    [item] = told
    hit = item.event
    assert isinstance(hit, DeconflictionHit)
    assert hit.status is HitStatus.CONFIRMED
    assert hit.kind is IdentifierKind.PHONE
    assert (hit.registering.team, hit.holding.team) == (RO, NL)
    assert hit.registering.desk == DESKS[RO]
    assert hit.holding.desk == DESKS[NL]
    assert item.originator == RO
    assert item.releasable_to == frozenset({NL, RO})
    assert item.subject == hit.hit_id


def test_re_registration_tells_no_second_hit() -> None:
    """Processing the same registration again (a restart, a retry) tells no hit again."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    ro = tokenise(registration_command(RO, "ro-case-7", [phone()]))
    assert len(index.feed(ro)) == 1
    assert index.feed(ro) == []
    assert index.feed(tokenise(registration_command(RO, "ro-case-7", [phone()]))) == []


def test_third_team_hits_each_holder() -> None:
    """A third team holding the phone gets one hit per holder of another team."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    index.feed(tokenise(registration_command(RO, "ro-case-7", [phone()])))
    hits = _hits(index.feed(tokenise(registration_command(BG, "bg-9", [phone()]))))
    assert sorted(h.holding.team for h in hits) == sorted([NL, RO])
    assert {h.registering.team for h in hits} == {BG}


def test_hit_id_is_the_same_whichever_side_registers_first() -> None:
    """The hit id depends on the unordered pair of registrations only."""
    a = Index()
    a.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    [first] = _hits(a.feed(tokenise(registration_command(RO, "ro-case-7", [phone()]))))
    b = Index()
    b.feed(tokenise(registration_command(RO, "ro-case-7", [phone()])))
    [second] = _hits(b.feed(tokenise(registration_command(NL, "lead-1", [phone()]))))
    assert first.hit_id == second.hit_id
    assert first.hit_id == hit_id(first.registering.registration_id, first.holding.registration_id)


def test_hit_json_carries_neither_the_value_nor_the_other_sides_lead() -> None:
    """What both teams see of a hit holds no raw or canonical value and no source ref."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "nl-lead-secret-1", [phone()])))
    [item] = index.feed(tokenise(registration_command(RO, "ro-case-secret-7", [phone()])))
    dumped = json.dumps(item.event.model_dump(mode="json"))
    for leak in (CANONICAL_PHONE, "612345678", "nl-lead-secret-1", "ro-case-secret-7"):
        assert leak not in dumped
    tokens = {r.token for r in tokens_of(registration_command(NL, "x", [phone()]))}
    assert not any(t in dumped for t in tokens)


def test_same_value_in_two_jits_is_no_hit_without_cross_jit_matching() -> None:
    """JIT keys differ, so the same phone in two JITs meets nowhere in the index."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()]), jit=JIT))
    assert index.feed(tokenise(registration_command(RO, "ro-1", [phone()]), jit=OTHER_JIT)) == []


def test_cross_jit_hit_only_when_both_jits_allow() -> None:
    """Cross-JIT tokens hit across JITs only while both JITs' agreements allow it."""
    nl = tokenise(registration_command(NL, "lead-1", [phone()]), jit=JIT, cross_jit=True)
    ro = tokenise(registration_command(RO, "ro-1", [phone()]), jit=OTHER_JIT, cross_jit=True)
    one_allows = Index(cross_jit_jits=frozenset({JIT}))
    one_allows.feed(nl)
    assert one_allows.feed(ro) == []
    both = Index(cross_jit_jits=frozenset({JIT, OTHER_JIT}))
    both.feed(nl)
    [hit] = _hits(both.feed(ro))
    assert hit.cross_jit
    assert (hit.registering.jit, hit.holding.jit) == (OTHER_JIT, JIT)


def test_cross_jit_token_gives_no_second_hit_inside_one_jit() -> None:
    """Two teams of one JIT that allows cross-JIT matching get one hit (from the JIT token)."""
    index = Index(cross_jit_jits=frozenset({JIT}))
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()]), cross_jit=True))
    hits = _hits(index.feed(tokenise(registration_command(RO, "ro-1", [phone()]), cross_jit=True)))
    assert len(hits) == 1
    assert not hits[0].cross_jit


def test_victim_and_suspect_document_hit_is_a_role_conflict() -> None:
    """A passport held with a victim by one team and with a suspect by another raises a role
    conflict to both teams, with the non-punishment note."""
    index = Index()
    index.feed(
        tokenise(
            registration_command(
                NL, "lead-1", [document(person=0)], [person("Ana Ionescu", role=PersonRole.VICTIM)]
            )
        )
    )
    told = index.feed(
        tokenise(
            registration_command(
                RO, "ro-1", [document(person=0)], [person("A. Ionescu", role=PersonRole.SUSPECT)]
            )
        )
    )
    [conflict] = [a for a in told if isinstance(a.event, RoleConflictDetected)]
    event = conflict.event
    assert isinstance(event, RoleConflictDetected)
    assert (event.victim.team, event.suspect.team) == (NL, RO)
    assert "non-punishment" in event.note
    assert conflict.releasable_to == frozenset({NL, RO})
    assert conflict.subject == event.hit_id


def test_shared_phone_of_victim_and_suspect_is_no_role_conflict() -> None:
    """A phone is no proof of one person (traffickers hold victims' phones): hit, no conflict."""
    index = Index()
    index.feed(
        tokenise(
            registration_command(
                NL, "lead-1", [phone(person=0)], [person("Ana Ionescu", role=PersonRole.VICTIM)]
            )
        )
    )
    told = index.feed(
        tokenise(
            registration_command(
                RO, "ro-1", [phone(person=0)], [person("Vasile Dinu", role=PersonRole.SUSPECT)]
            )
        )
    )
    assert [type(a.event) for a in told] == [DeconflictionHit]


def test_state_round_trips_through_json() -> None:
    """A token's index entry survives the changelog: JSON out, JSON in, equal."""
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()])))
    [state] = index.tokens.values()
    assert TokenHolders.model_validate_json(state.model_dump_json()) == state


def test_registration_for_another_token_is_refused() -> None:
    """Routing a registration to the wrong token entry is a wiring error, not a silent merge."""
    [nl] = tokenise(registration_command(NL, "lead-1", [phone()]))
    assert isinstance(nl, TokenRegistered)
    with pytest.raises(ValueError, match="token"):
        register(TokenHolders(token="A" * 43), nl, now=T0, desks=DESKS)


def test_rotation_hit_under_both_versions_has_one_hit_id() -> None:
    """During a rotation's grace period a pair meets under both versions with the same hit id,
    so the hit aggregate (``admit``) tells it once."""
    keys = TokenKeys(MASTER, KeyRing().rotate(now=T0 - timedelta(days=1)))
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()]), keys=keys))
    hits = _hits(index.feed(tokenise(registration_command(RO, "ro-1", [phone()]), keys=keys)))
    assert len(hits) == 2
    assert len({h.hit_id for h in hits}) == 1


def test_expire_drops_tokens_of_versions_no_longer_live() -> None:
    """After the grace period, holders under the old version leave the index."""
    keys = TokenKeys(MASTER, KeyRing().rotate(now=T0 - timedelta(days=1)))
    index = Index()
    index.feed(tokenise(registration_command(NL, "lead-1", [phone()]), keys=keys))
    states = list(index.tokens.values())
    kept = [expire(s, live_versions={2}) for s in states]
    assert sum(s is None for s in kept) == 1
    assert all(h.key_version == 2 for s in kept if s is not None for h in s.holders)
