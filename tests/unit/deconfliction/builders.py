"""A JIT with three teams, desks, keys and ways to run registrations through the index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from events.deconfliction import (
    DeskContact,
    PersonRegistered,
    RegisterIdentifiers,
    TokenRegistered,
)
from events.envelope import Actor, Addressed
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from services.deconfliction.domain import (
    PersonBlock,
    TokenHolders,
    decide_registration,
    register,
    register_person,
)
from services.deconfliction.tokens import TokenKeys

JIT = "jit-2025-001"
OTHER_JIT = "jit-2025-002"
NL, RO, BG = "NL-KLPD", "RO-DIICOT", "BG-GDNP"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
MASTER = b"interlock-unit-test-master-secret-0123456789"
KEYS = TokenKeys(MASTER)
DESKS: Mapping[str, DeskContact] = {
    team: DeskContact(team=team, name=f"{team} desk", phone="+3170000000", email=f"desk@{team}.eu")
    for team in (NL, RO, BG)
}
PHONE = "+31 6 1234 5678"
CANONICAL_PHONE = "+31612345678"


def actor(team: str, member: str = "m1") -> Actor:
    return Actor(member=f"{team.lower()}-{member}", team=team, roles=("investigator",))


def phone(value: str = PHONE, person: int | None = None) -> Identifier:
    return Identifier(kind=IdentifierKind.PHONE, value=value, person=person)


def document(number: str = "RO 123456789", person: int | None = None) -> Identifier:
    return Identifier(kind=IdentifierKind.DOCUMENT, value=number, country="RO", person=person)


def registration_command(
    team: str,
    source_ref: str,
    identifiers: Iterable[Identifier] = (),
    persons: Iterable[Person] = (),
) -> RegisterIdentifiers:
    return RegisterIdentifiers(
        actor=actor(team),
        source_ref=source_ref,
        identifiers=tuple(identifiers),
        persons=tuple(persons),
    )


def tokenise(
    command: RegisterIdentifiers,
    *,
    jit: str = JIT,
    keys: TokenKeys = KEYS,
    now: datetime = T0,
    cross_jit: bool = False,
) -> list[TokenRegistered | PersonRegistered]:
    """The registration events of a command, unwrapped."""
    out: list[TokenRegistered | PersonRegistered] = []
    for item in decide_registration(command, jit=jit, keys=keys, now=now, cross_jit=cross_jit):
        assert isinstance(item, Addressed)
        assert isinstance(item.event, TokenRegistered | PersonRegistered)
        out.append(item.event)
    return out


def tokens_of(command: RegisterIdentifiers, **kw: Any) -> list[TokenRegistered]:
    """Only the identifier tokens of a command."""
    return [e for e in tokenise(command, **kw) if isinstance(e, TokenRegistered)]


class Index:
    """The target index as the wiring keeps it: one entry per token, one per birth-date block."""

    def __init__(
        self, *, cross_jit_jits: frozenset[str] = frozenset(), threshold: float = 0.8
    ) -> None:
        self.tokens: dict[str, TokenHolders] = {}
        self.blocks: dict[str, PersonBlock] = {}
        self.cross_jit_jits = cross_jit_jits
        self.threshold = threshold

    def feed(
        self, registrations: Iterable[TokenRegistered | PersonRegistered], now: datetime = T0
    ) -> list[Addressed]:
        told: list[Addressed] = []
        for r in registrations:
            if isinstance(r, TokenRegistered):
                state, hits = register(
                    self.tokens.get(r.token),
                    r,
                    now=now,
                    desks=DESKS,
                    cross_jit_jits=self.cross_jit_jits,
                )
                self.tokens[r.token] = state
            else:
                block, hits = register_person(
                    self.blocks.get(r.block_token),
                    r,
                    now=now,
                    desks=DESKS,
                    cross_jit_jits=self.cross_jit_jits,
                    threshold=self.threshold,
                )
                self.blocks[r.block_token] = block
            told += hits
        return told


def person(name: str, born: str = "1990-05-17", role: PersonRole = PersonRole.UNKNOWN) -> Person:
    return Person(name=name, date_of_birth=datetime.fromisoformat(born).date(), role=role)
