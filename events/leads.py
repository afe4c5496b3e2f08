"""Leads: how information enters a JIT, its grading, the entities it mentions, and its triage."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from events.envelope import ID_PATTERN, Command, Event
from events.identifiers import Identifier, Location, Organisation, Person, PersonRole
from events.outcomes import FieldError
from events.registry import CatalogueEntry
from events.topics import LEAD_COMMANDS, LEAD_EVENTS

ENTITY_NAMESPACE = uuid.UUID("3b0d9a0e-7f0c-4c36-9d1a-55d3c1b2e8a4")


def lead_id_for(team: str, idempotency_key: str) -> str:
    """The lead id a submission gets: the same team and key always name the same lead.

    Published so that a national system can compute the id of a lead it submits.
    """
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"lead|{team}|{idempotency_key}"))


def identifier_entity_id(jit: str, key: str) -> str:
    """One identifier is one entity within a JIT, whichever lead or team mentions it."""
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"identifier|{jit}|{key}"))


def person_entity_id(lead_id: str, index: int) -> str:
    """A person is an entity of the lead that mentions it; merging is deconfliction's job."""
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"person|{lead_id}|{index}"))


class SourceType(StrEnum):
    HOTLINE = "hotline"
    NGO = "ngo"
    BORDER_SCREENING = "border_screening"
    FINANCIAL_INTELLIGENCE = "financial_intelligence"
    OSINT = "osint"
    PARTNER_TEAM = "partner_team"
    OTHER = "other"


class SourceReliability(StrEnum):
    """Admiralty (4x4) source evaluation: A always reliable … D not reliable, X cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    X = "X"


class InformationCredibility(StrEnum):
    """1 known true without reservation … 4 not known personally, not corroborated."""

    KNOWN = "1"
    KNOWN_TO_SOURCE = "2"
    HEARSAY_CORROBORATED = "3"
    UNCORROBORATED = "4"


class LeadStatus(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ACTIONED = "actioned"
    CLOSED = "closed"
    DISCARDED = "discarded"


class LeadPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class LeadContent(Command):
    """The body of a lead as submitted; shared by the command and the event."""

    lead_id: str = Field(pattern=ID_PATTERN)
    source: SourceType
    received_at: AwareDatetime
    summary: str = Field(min_length=1, max_length=10_000)
    reliability: SourceReliability
    credibility: InformationCredibility
    persons: tuple[Person, ...] = Field(default=(), max_length=200)
    identifiers: tuple[Identifier, ...] = Field(default=(), max_length=500)
    organisations: tuple[Organisation, ...] = Field(default=(), max_length=200)
    locations: tuple[Location, ...] = Field(default=(), max_length=200)

    @model_validator(mode="after")
    def _identifiers_point_at_persons(self) -> LeadContent:
        for i, ident in enumerate(self.identifiers):
            if ident.person is not None and ident.person >= len(self.persons):
                raise ValueError(
                    f"identifiers.{i}.person: refers to person {ident.person}, "
                    f"but the lead has {len(self.persons)}"
                )
        return self


class SubmitLead(LeadContent):
    """Submit a lead. ``idempotency_key`` makes a repeated submission one lead."""

    type = "interlock.lead.submit"

    idempotency_key: str = Field(min_length=1, max_length=128)


class TriageLead(Command):
    type = "interlock.lead.triage"

    lead_id: str = Field(pattern=ID_PATTERN)
    assignee: str = Field(pattern=ID_PATTERN)
    priority: LeadPriority


class ActionLead(Command):
    type = "interlock.lead.action"

    lead_id: str = Field(pattern=ID_PATTERN)
    link_kind: Literal["task", "operation"]
    link_id: str = Field(pattern=ID_PATTERN)


class CloseLead(Command):
    type = "interlock.lead.close"

    lead_id: str = Field(pattern=ID_PATTERN)
    reason: str = Field(min_length=1, max_length=2_000)


class DiscardLead(Command):
    type = "interlock.lead.discard"

    lead_id: str = Field(pattern=ID_PATTERN)
    reason: str = Field(min_length=1, max_length=2_000)


class LeadSubmitted(Event):
    type = "interlock.lead.submitted"

    lead_id: str
    team: str
    submitted_by: str
    idempotency_key: str
    source: SourceType
    received_at: datetime
    summary: str
    reliability: SourceReliability
    credibility: InformationCredibility
    persons: tuple[Person, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    locations: tuple[Location, ...] = ()


class LeadTriaged(Event):
    type = "interlock.lead.triaged"

    lead_id: str
    by: str
    assignee: str
    priority: LeadPriority


class LeadActioned(Event):
    type = "interlock.lead.actioned"

    lead_id: str
    by: str
    link_kind: Literal["task", "operation"]
    link_id: str


class LeadClosed(Event):
    type = "interlock.lead.closed"

    lead_id: str
    by: str
    reason: str


class LeadDiscarded(Event):
    type = "interlock.lead.discarded"

    lead_id: str
    by: str
    reason: str


class EntityObserved(Event):
    """One normalised person or identifier seen in a lead; carries the lead's handling."""

    type = "interlock.entity.observed"

    lead_id: str
    entity_id: str
    person: Person | None = None
    identifier: Identifier | None = None
    role: PersonRole | None = None
    person_entity_id: str | None = Field(
        default=None,
        description="For an identifier that belongs to a person of the lead.",
    )


class LeadRejected(Event):
    """A lead submitted on the command topic was refused; nothing of it was written."""

    type = "interlock.lead.rejected"

    lead_id: str | None
    reason: str
    errors: tuple[FieldError, ...] = ()


ENTRIES = (
    CatalogueEntry(SubmitLead, LEAD_COMMANDS),
    CatalogueEntry(TriageLead, LEAD_COMMANDS),
    CatalogueEntry(ActionLead, LEAD_COMMANDS),
    CatalogueEntry(CloseLead, LEAD_COMMANDS),
    CatalogueEntry(DiscardLead, LEAD_COMMANDS),
    CatalogueEntry(LeadSubmitted, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(LeadTriaged, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(LeadActioned, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(LeadClosed, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(LeadDiscarded, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(EntityObserved, LEAD_EVENTS, sealed_by="lead_id"),
    CatalogueEntry(LeadRejected, LEAD_EVENTS),
)
