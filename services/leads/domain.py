"""Leads as a pure aggregate: one writer per lead, ``decide`` refuses or emits, ``evolve`` folds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.envelope import Actor, Addressed, Command, Envelope, Event
from events.identifiers import PersonRole
from events.leads import (
    ActionLead,
    CloseLead,
    DiscardLead,
    EntityObserved,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadPriority,
    LeadRejected,
    LeadStatus,
    LeadSubmitted,
    LeadTriaged,
    SubmitLead,
    TriageLead,
    identifier_entity_id,
    person_entity_id,
)
from events.outcomes import FieldError, Rejected

TRIAGE_ROLES = frozenset({"investigator", "analyst", "coordinator", "team_lead", "national_system"})

ALLOWED_FROM: dict[type[Command], frozenset[LeadStatus]] = {
    TriageLead: frozenset({LeadStatus.NEW, LeadStatus.TRIAGED}),
    ActionLead: frozenset({LeadStatus.TRIAGED, LeadStatus.ACTIONED}),
    CloseLead: frozenset({LeadStatus.TRIAGED, LeadStatus.ACTIONED}),
    DiscardLead: frozenset({LeadStatus.NEW, LeadStatus.TRIAGED}),
}


class LeadState(BaseModel):
    """What the leads service must remember of a lead to decide on its next command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead_id: str
    originator: str
    idempotency_key: str
    status: LeadStatus = LeadStatus.NEW
    version: int = 0
    assignee: str | None = None
    priority: LeadPriority | None = None
    links: tuple[str, ...] = ()


def decide(
    state: LeadState | None, command: Command, *, now: datetime, jit: str = ""
) -> list[Event | Addressed]:
    """The events a command on a lead produces, or Rejected with the reason."""
    if isinstance(command, SubmitLead):
        return _submit(state, command, jit=jit)
    if state is None:
        raise Rejected(404, f"no lead {getattr(command, 'lead_id', '?')}")
    _authorise(state, command.actor)
    allowed = ALLOWED_FROM.get(type(command))
    if allowed is None:
        raise Rejected(400, f"the leads service does not handle {command.type}")
    if state.status not in allowed:
        raise Rejected(
            409,
            f"cannot {command.type.rsplit('.', 1)[-1]} a lead that is {state.status.value}; "
            f"allowed from {', '.join(sorted(s.value for s in allowed))}",
        )
    by = command.actor.member
    if isinstance(command, TriageLead):
        return [
            LeadTriaged(
                lead_id=state.lead_id,
                by=by,
                assignee=command.assignee,
                priority=command.priority,
            )
        ]
    if isinstance(command, ActionLead):
        if f"{command.link_kind}:{command.link_id}" in state.links:
            raise Rejected(409, f"lead is already linked to {command.link_kind} {command.link_id}")
        return [
            LeadActioned(
                lead_id=state.lead_id,
                by=by,
                link_kind=command.link_kind,
                link_id=command.link_id,
            )
        ]
    if isinstance(command, CloseLead):
        return [LeadClosed(lead_id=state.lead_id, by=by, reason=command.reason)]
    assert isinstance(command, DiscardLead)
    return [LeadDiscarded(lead_id=state.lead_id, by=by, reason=command.reason)]


def _authorise(state: LeadState, actor: Actor) -> None:
    if actor.team != state.originator:
        # Another team is told what an unknown id is told: neither its owner nor that it exists.
        raise Rejected(404, f"no lead {state.lead_id}")
    if not TRIAGE_ROLES.intersection(actor.roles):
        raise Rejected(403, f"triage needs one of the roles {', '.join(sorted(TRIAGE_ROLES))}")


def _submit(state: LeadState | None, command: SubmitLead, *, jit: str) -> list[Event | Addressed]:
    if state is not None:
        if (
            state.idempotency_key == command.idempotency_key
            and state.originator == command.actor.team
        ):
            return []
        raise Rejected(409, f"lead id {command.lead_id} is already taken by another submission")
    submitted = LeadSubmitted(
        lead_id=command.lead_id,
        team=command.actor.team,
        submitted_by=command.actor.member,
        idempotency_key=command.idempotency_key,
        source=command.source,
        received_at=command.received_at,
        summary=command.summary,
        reliability=command.reliability,
        credibility=command.credibility,
        persons=command.persons,
        identifiers=command.identifiers,
        organisations=command.organisations,
        locations=command.locations,
    )
    observed: list[Event | Addressed] = []
    person_ids = [person_entity_id(command.lead_id, i) for i in range(len(command.persons))]
    for pid, person in zip(person_ids, command.persons, strict=True):
        observed.append(
            EntityObserved(lead_id=command.lead_id, entity_id=pid, person=person, role=person.role)
        )
    for ident in command.identifiers:
        owner = person_ids[ident.person] if ident.person is not None else None
        role = command.persons[ident.person].role if ident.person is not None else None
        observed.append(
            EntityObserved(
                lead_id=command.lead_id,
                entity_id=identifier_entity_id(jit, ident.key),
                identifier=ident,
                role=role,
                person_entity_id=owner,
            )
        )
    return [submitted, *observed]


def evolve(state: LeadState | None, event: Event) -> LeadState:
    """Fold one lead event into the state."""
    if isinstance(event, LeadSubmitted):
        return LeadState(
            lead_id=event.lead_id,
            originator=event.team,
            idempotency_key=event.idempotency_key,
            version=1,
        )
    if state is None:
        if isinstance(event, EntityObserved):
            raise TypeError("an entity observed before its lead")
        raise TypeError(f"{event.type} before the lead was submitted")
    version = state.version + 1
    if isinstance(event, EntityObserved):
        return state.model_copy(update={"version": version})
    if isinstance(event, LeadTriaged):
        return state.model_copy(
            update={
                "status": LeadStatus.TRIAGED,
                "assignee": event.assignee,
                "priority": event.priority,
                "version": version,
            }
        )
    if isinstance(event, LeadActioned):
        return state.model_copy(
            update={
                "status": LeadStatus.ACTIONED,
                "links": (*state.links, f"{event.link_kind}:{event.link_id}"),
                "version": version,
            }
        )
    if isinstance(event, LeadClosed):
        return state.model_copy(update={"status": LeadStatus.CLOSED, "version": version})
    if isinstance(event, LeadDiscarded):
        return state.model_copy(update={"status": LeadStatus.DISCARDED, "version": version})
    return state


def rejected_events(
    cause: Envelope | None, reason: str, errors: tuple[FieldError, ...], command: object
) -> list[Event]:
    """A refused submission is told on the lead topic too, for national systems that used it."""
    if cause is None or cause.type != SubmitLead.type:
        return []
    lead_id = command.lead_id if isinstance(command, SubmitLead) else None
    return [LeadRejected(lead_id=lead_id, reason=reason, errors=errors)]


def is_victim(role: PersonRole | None) -> bool:
    return role is PersonRole.VICTIM
