"""Envelopes for the sharing policy's tests: a JIT of three teams, leads, hits and releases."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from events.codec import envelop
from events.deconfliction import (
    DeconflictionDetailsReleased,
    DeconflictionHit,
    HitSide,
    HitStatus,
    ReleasedDetails,
)
from events.envelope import Envelope, Payload
from events.handling import Handling, Tlp
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import EntityObserved, LeadSubmitted
from services.release.policy import Directory

JIT = "jit-2026-007"
OTHER_JIT = "jit-2026-008"
NL, RO, BG, FR = "NL-KLPD", "RO-DIICOT", "BG-GDNP", "FR-OCRTEH"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DIRECTORY = Directory.of({JIT: (NL, RO, BG), OTHER_JIT: (FR,)})
VICTIM_NAME = "Mariana Dumitrescu"
VICTIM_PHONE = "+40721555123"


def envelope(
    payload: Payload,
    *,
    originator: str = NL,
    releasable_to: Iterable[str] = (),
    jit: str = JIT,
    tlp: Tlp = Tlp.AMBER,
    subject: str = "agg-1",
) -> Envelope:
    return envelop(
        payload,
        subject=subject,
        jit=jit,
        originator=originator,
        source="/tests",
        correlation_id=str(uuid.uuid4()),
        releasable_to=frozenset(releasable_to),
        handling=Handling(tlp=tlp),
    )


def lead(*, lead_id: str = "lead-1", summary: str | None = None) -> LeadSubmitted:
    """A lead by NL naming a victim (with her phone) and a suspect (with his IBAN)."""
    return LeadSubmitted(
        lead_id=lead_id,
        team=NL,
        submitted_by="anna",
        idempotency_key="k-1",
        source="ngo",
        received_at=T0,
        summary=summary
        or f"{VICTIM_NAME} (born 2001) was made to work; she called from {VICTIM_PHONE}.",
        reliability="B",
        credibility="2",
        persons=(
            Person(name=VICTIM_NAME, date_of_birth="2001-04-05", nationality="MD", role="victim"),
            Person(name="Ion Popescu", role=PersonRole.SUSPECT),
        ),
        identifiers=(
            Identifier(kind=IdentifierKind.PHONE, value=VICTIM_PHONE, person=0),
            Identifier(kind=IdentifierKind.IBAN, value="RO49AAAA1B31007593840000", person=1),
        ),
    )


def observed_victim(entity_id: str = "ent-victim-1") -> EntityObserved:
    return EntityObserved(
        lead_id="lead-1",
        entity_id=entity_id,
        person=Person(name=VICTIM_NAME, role="victim"),
        role=PersonRole.VICTIM,
    )


def observed_victim_phone() -> EntityObserved:
    return EntityObserved(
        lead_id="lead-1",
        entity_id="ent-phone-1",
        identifier=Identifier(kind=IdentifierKind.PHONE, value=VICTIM_PHONE),
        role=PersonRole.VICTIM,
        person_entity_id="ent-victim-1",
    )


def side(team: str, jit: str = JIT) -> HitSide:
    return HitSide(team=team, jit=jit, registration_id=str(uuid.uuid4()))


def hit(registering: str = NL, holding: str = RO, holding_jit: str = JIT) -> DeconflictionHit:
    return DeconflictionHit(
        hit_id=str(uuid.uuid4()),
        jit=JIT,
        kind="phone",
        status=HitStatus.CONFIRMED,
        cross_jit=holding_jit != JIT,
        registering=side(registering),
        holding=side(holding, holding_jit),
        detected_at=T0,
    )


def details_released(by_team: str = RO, to_team: str = NL) -> DeconflictionDetailsReleased:
    return DeconflictionDetailsReleased(
        hit_id=str(uuid.uuid4()),
        by_team=by_team,
        to_team=to_team,
        by="ioana",
        details=ReleasedDetails(source_ref="RO-case-17", contact_officer="Insp. Ionescu"),
        released_at=T0,
    )
