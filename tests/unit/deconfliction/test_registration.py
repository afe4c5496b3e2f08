"""Registration: raw values become tokens in memory and only tokens leave the domain."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from events.deconfliction import (
    BlindToken,
    PersonRegistered,
    RegisterBlindTokens,
    RegisterIdentifiers,
    TokenRegistered,
    TokenScope,
)
from events.envelope import Addressed
from events.identifiers import IdentifierKind, PersonRole
from events.leads import EntityObserved
from events.outcomes import Rejected
from services.deconfliction.domain import decide_registration, registrations_from_entity
from services.deconfliction.tokens import KeyRing, TokenKeys, jit_key, token_for

from .builders import (
    CANONICAL_PHONE,
    JIT,
    KEYS,
    MASTER,
    NL,
    PHONE,
    RO,
    T0,
    actor,
    document,
    person,
    phone,
    registration_command,
    tokenise,
    tokens_of,
)


def test_registration_gives_one_token_event_per_identifier_keyed_by_token() -> None:
    """Each identifier becomes a TokenRegistered keyed by its token, for the registering team
    only, with the platform's token for the raw value."""
    command = registration_command(NL, "lead-1", [phone()])
    [item] = decide_registration(command, jit=JIT, keys=KEYS, now=T0)
    assert isinstance(item, Addressed)
    event = item.event
    assert isinstance(event, TokenRegistered)
    assert event.token == token_for(jit_key(MASTER, JIT, 1), IdentifierKind.PHONE, PHONE)
    assert item.subject == event.token
    assert item.originator == NL
    assert item.releasable_to == frozenset()
    assert (event.team, event.source_ref, event.kind) == (NL, "lead-1", IdentifierKind.PHONE)


def test_registration_events_carry_no_raw_value_or_name() -> None:
    """Nothing a registration produces holds the identifier's value or the person's name."""
    command = registration_command(
        NL,
        "lead-1",
        [phone(person=0), document(person=0)],
        [person("Ion Popescu", role=PersonRole.VICTIM)],
    )
    dumped = json.dumps(
        [item.event.model_dump(mode="json") for item in tokenise_addressed(command)]
    ).lower()
    for secret in (CANONICAL_PHONE, "612345678", "123456789", "popescu"):
        assert secret not in dumped


def tokenise_addressed(command: RegisterIdentifiers) -> list[Addressed]:
    items = decide_registration(command, jit=JIT, keys=KEYS, now=T0)
    assert all(isinstance(i, Addressed) for i in items)
    return [i for i in items if isinstance(i, Addressed)]


def test_identifier_of_a_person_carries_that_persons_role() -> None:
    """An identifier pointing at a person of the registration takes the person's role."""
    command = registration_command(
        NL, "lead-1", [document(person=0)], [person("Ion Popescu", role=PersonRole.SUSPECT)]
    )
    tokens = [e for e in tokenise(command) if isinstance(e, TokenRegistered)]
    assert [t.role for t in tokens] == [PersonRole.SUSPECT]


def test_a_person_without_birth_date_is_not_registered() -> None:
    """Without a date of birth there is no block key, so only the identifiers register."""
    command = RegisterIdentifiers(
        actor=actor(NL),
        source_ref="lead-1",
        identifiers=(phone(),),
        persons=(person("Ion Popescu").model_copy(update={"date_of_birth": None}),),
    )
    assert all(isinstance(e, TokenRegistered) for e in tokenise(command))


def test_a_person_with_birth_date_gives_a_person_registration() -> None:
    """A person with a date of birth becomes a PersonRegistered keyed by its block token."""
    command = registration_command(NL, "lead-1", persons=[person("Ion Popescu")])
    [item] = decide_registration(command, jit=JIT, keys=KEYS, now=T0)
    assert isinstance(item, Addressed)
    assert isinstance(item.event, PersonRegistered)
    assert item.subject == item.event.block_token


def test_tokens_under_both_live_versions_during_a_rotation() -> None:
    """In a rotation's grace period a registration is tokenised under both versions, as one
    registration (the same registration id)."""
    keys = TokenKeys(MASTER, KeyRing().rotate(now=T0 - timedelta(days=1)))
    events = tokens_of(registration_command(NL, "lead-1", [phone()]), keys=keys)
    assert sorted(e.key_version for e in events) == [1, 2]
    assert len({e.token for e in events}) == 2
    assert len({e.registration_id for e in events}) == 1


def test_cross_jit_tokens_only_when_the_agreement_allows() -> None:
    """The cross-JIT token is computed only for a JIT whose agreement allows cross-JIT matching."""
    command = registration_command(NL, "lead-1", [phone()])
    assert {e.scope for e in tokenise(command)} == {TokenScope.JIT}
    assert {e.scope for e in tokenise(command, cross_jit=True)} == {
        TokenScope.JIT,
        TokenScope.CROSS_JIT,
    }


def test_a_team_outside_the_jit_may_not_register() -> None:
    """Registering for a JIT the team is not a member of is refused with 403."""
    command = registration_command(NL, "lead-1", [phone()])
    with pytest.raises(Rejected) as refused:
        decide_registration(command, jit=JIT, keys=KEYS, now=T0, members={RO})
    assert refused.value.status == 403


def test_registration_needs_an_identifier_or_a_person() -> None:
    """An empty registration is refused at the field."""
    with pytest.raises(ValidationError, match="identifiers"):
        RegisterIdentifiers(actor=actor(NL), source_ref="lead-1")


def _blind(version: int = 1, scope: TokenScope = TokenScope.JIT) -> RegisterBlindTokens:
    token = token_for(jit_key(MASTER, JIT, version), IdentifierKind.PHONE, PHONE)
    return RegisterBlindTokens(
        actor=actor(RO),
        source_ref="ro-case-7",
        tokens=(
            BlindToken(kind=IdentifierKind.PHONE, token=token, key_version=version, scope=scope),
        ),
    )


def test_blind_tokens_register_as_given() -> None:
    """A national system's token enters the index unchanged, for its team."""
    [item] = decide_registration(_blind(), jit=JIT, keys=KEYS, now=T0)
    assert isinstance(item, Addressed)
    assert isinstance(item.event, TokenRegistered)
    assert item.event.token == _blind().tokens[0].token
    assert item.event.team == RO


def test_blind_tokens_under_a_version_no_longer_live_are_refused() -> None:
    """A token under an expired key version is refused with 422 naming the field."""
    with pytest.raises(Rejected) as refused:
        decide_registration(_blind(version=3), jit=JIT, keys=KEYS, now=T0)
    assert refused.value.status == 422
    assert "tokens.0.key_version" in refused.value.reason


def test_cross_jit_blind_tokens_are_refused_without_the_agreement() -> None:
    """A cross-JIT token for a JIT whose agreement does not allow it is refused with 403."""
    with pytest.raises(Rejected) as refused:
        decide_registration(_blind(scope=TokenScope.CROSS_JIT), jit=JIT, keys=KEYS, now=T0)
    assert refused.value.status == 403


def test_a_blind_token_must_look_like_a_token() -> None:
    """A token that is not 43 base64url characters is refused at the field."""
    with pytest.raises(ValidationError, match="token"):
        BlindToken(kind=IdentifierKind.PHONE, token="+31612345678", key_version=1)


def test_entity_observed_registers_like_the_command() -> None:
    """An identifier seen in a lead gives the same token and registration id as registering it
    by command, so the two paths never make two registrations of one identifier."""
    observed = EntityObserved(lead_id="lead-1", entity_id="ent-1", identifier=phone())
    [from_lead] = registrations_from_entity(observed, jit=JIT, team=NL, keys=KEYS, now=T0)
    [from_command] = tokens_of(registration_command(NL, "lead-1", [phone()]))
    assert isinstance(from_lead, Addressed)
    assert isinstance(from_lead.event, TokenRegistered)
    assert from_lead.event.token == from_command.token
    assert from_lead.event.registration_id == from_command.registration_id


def test_entity_observed_person_takes_the_observed_role() -> None:
    """A person seen in a lead registers with the role the lead gives it."""
    observed = EntityObserved(
        lead_id="lead-1", entity_id="ent-2", person=person("Ion Popescu"), role=PersonRole.VICTIM
    )
    [item] = registrations_from_entity(observed, jit=JIT, team=NL, keys=KEYS, now=T0)
    assert isinstance(item, Addressed)
    assert isinstance(item.event, PersonRegistered)
    assert item.event.role is PersonRole.VICTIM
