"""The sharing policy, pure: which teams' feeds carry an event, and what each team sees of it.

The release processor applies it once per event; every per-team feed is its output, so a rule
changed here changes every feed and nothing else has to agree with it.

Rules, in order:

1. The originator always sees its own record, unchanged.
2. TLP:RED records go to no other feed: RED is for named individuals, and a national system
   that files the record in a case-management system is a further disclosure.
3. Another team sees a record when the originator released it to that team (``releasableto``) or
   when the record itself is a later release by its originator to that team (deconfliction
   details released to the other side of a hit); sharing is never implicit.
4. ...and that team is a member of the JIT, according to the directory. Teams that a
   deconfliction record names as a party carry their own JIT (a cross-JIT hit pairs teams of two
   JITs); a team the record names without a JIT was paired by the deconfliction service itself.
   A JIT the directory does not know admits nobody but the originator.
5. ...and the disclosure policy lets that team's national system have it
   (:func:`services.kit.disclosure.may_feed`): TLP:RED, AMBER+STRICT and H2 records go to no
   other team's feed.
6. Victims are pseudonymous outside the originating team: a victim's name, Latin name, date of
   birth and nationality become the pseudonym the graph and the web UI show; identifiers owned
   by a victim are withheld (an identifier's entity id is derived from its value, so even the id
   would let a phone number be guessed back); the victim's names, birth date and identifiers are
   replaced in the lead's free-text summary by the disclosure policy's redactor, in any written
   form (a phone in national or international form, any spacing; names in any script).
7. A task's or an alert's links to leads, tasks and operations name only those the team's feed
   may carry (:func:`services.kit.disclosure.fed_links`); the others are dropped, as the API
   drops them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from events.alerts import AlertRaised, LinkKind
from events.catalogue import CATALOGUE, Catalogue
from events.deconfliction import (
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    OperationConflictDetected,
    RoleConflictDetected,
)
from events.directory import JitRegistered
from events.envelope import TEAM_PATTERN, Command, Envelope
from events.handling import victim_pseudonym
from events.identifiers import Person, PersonRole
from events.leads import EntityObserved, LeadSubmitted, person_entity_id
from events.tasking import TaskRequested
from events.topics import TopicSpec
from services.kit.disclosure import Record, Redactor, Victim, fed_links, may_feed, regions_of

"""Topics no feed carries: the directory (officers' records, webhooks), command outcomes, dead
letters and the audit trail are the platform's own, not a team's case information."""


# --------------------------------------------------------------------------------- directory


@dataclass(frozen=True)
class Directory:
    """What the policy reads of the JIT directory: each JIT's member teams."""

    jits: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def knows(self, jit: str) -> bool:
        return jit in self.jits

    def is_member(self, team: str, jit: str) -> bool:
        return team in self.jits.get(jit, frozenset())

    def with_record(self, key: str | None, envelope: Envelope | None) -> Directory:
        """The directory after one record of the compacted directory topic (None: a tombstone)."""
        if envelope is not None and isinstance(envelope.data, JitRegistered):
            jit = envelope.data
            return self._replace(jit.jit_id, frozenset(jit.member_teams))
        if envelope is None and key is not None and key.startswith("jit:"):
            return self._replace(key.removeprefix("jit:"), None)
        return self

    def _replace(self, jit: str, members: frozenset[str] | None) -> Directory:
        jits = dict(self.jits)
        if members is None:
            jits.pop(jit, None)
        else:
            jits[jit] = members
        return Directory(MappingProxyType(jits))

    @classmethod
    def of(cls, jits: Mapping[str, Iterable[str]]) -> Directory:
        return cls(MappingProxyType({j: frozenset(t) for j, t in jits.items()}))


# ---------------------------------------------------------------------------------- audience


def later_grants(envelope: Envelope) -> frozenset[str]:
    """Teams a record is itself a release to, beyond its ``releasableto``.

    Only the originator can release its own details: a release naming another team's side is
    not a grant.
    """
    data = envelope.data
    if isinstance(data, DeconflictionDetailsReleased) and data.by_team == envelope.originator:
        return frozenset({data.to_team})
    return frozenset()


def parties(envelope: Envelope) -> Mapping[str, str | None]:
    """Teams a deconfliction record names as its parties, with the JIT each is in (if named)."""
    data = envelope.data
    if isinstance(data, DeconflictionHit):
        return {data.registering.team: data.registering.jit, data.holding.team: data.holding.jit}
    if isinstance(data, RoleConflictDetected):
        return {data.victim.team: data.victim.jit, data.suspect.team: data.suspect.jit}
    if isinstance(data, OperationConflictDetected):
        return {side.team: data.jit for side in data.sides}
    if isinstance(data, DeconflictionDetailsReleased | DeconflictionDetailsDeclined):
        return {data.by_team: None, data.to_team: None}
    return {}


@dataclass(frozen=True)
class Decision:
    """The feeds an event goes to, and the teams refused only for want of JIT membership."""

    teams: frozenset[str]
    withheld: frozenset[str] = frozenset()


def decide(envelope: Envelope, directory: Directory) -> Decision:
    """Which teams' feeds carry ``envelope`` (rules 1-4 of the module docstring)."""
    originator = envelope.originator
    record = Record.of_envelope(envelope)
    named = parties(envelope)
    teams = {originator}
    withheld: set[str] = set()
    for team in (envelope.audience | later_grants(envelope)) - {originator}:
        granted = Record(originator, record.audience | {team}, record.marking)
        if not may_feed(team, granted):
            continue
        jit = named.get(team, envelope.jit)
        if jit is None or directory.is_member(team, jit):
            teams.add(team)
        else:
            withheld.add(team)
    return Decision(frozenset(teams), frozenset(withheld))


# ----------------------------------------------------------------------------------- content


def pseudonymous(person: Person, entity_id: str) -> Person:
    """A victim as other teams see them: the pseudonym, nothing that identifies the person."""
    alias = victim_pseudonym(entity_id)
    return Person(name=alias, latin_name=alias, role=PersonRole.VICTIM)


def _lead_for_other_team(lead: LeadSubmitted, regions: tuple[str, ...]) -> LeadSubmitted:
    victims = {i for i, p in enumerate(lead.persons) if p.role is PersonRole.VICTIM}
    if not victims:
        return lead
    persons = tuple(
        pseudonymous(p, person_entity_id(lead.lead_id, i)) if i in victims else p
        for i, p in enumerate(lead.persons)
    )
    identifiers = tuple(i for i in lead.identifiers if i.person not in victims)
    redactor = Redactor(tuple(victims_of(lead)), regions)
    return lead.model_copy(
        update={
            "persons": persons,
            "identifiers": identifiers,
            "summary": redactor.redact(lead.summary) or lead.summary,
        }
    )


def victims_of(lead: LeadSubmitted) -> list[Victim]:
    """The victims a lead records, with what identifies each, for the disclosure policy."""
    found = []
    for index, person in enumerate(lead.persons):
        if person.role is not PersonRole.VICTIM:
            continue
        entity_id = person_entity_id(lead.lead_id, index)
        found.append(
            Victim(
                entity_id=entity_id,
                team="",
                names=tuple(n for n in (person.name, person.latin_name) if n),
                birth_date=person.date_of_birth,
                identifiers=tuple(
                    (i.kind.value, i.value) for i in lead.identifiers if i.person == index
                ),
            )
        )
    return found


def _observation_for_other_team(seen: EntityObserved) -> EntityObserved | None:
    if seen.role is not PersonRole.VICTIM:
        return seen
    if seen.person is not None:
        return seen.model_copy(update={"person": pseudonymous(seen.person, seen.entity_id)})
    return None


LINKABLE = frozenset({LinkKind.LEAD, LinkKind.TASK, LinkKind.OPERATION})
"""Alert link kinds that point at a record with an audience of its own."""


def links_of(envelope: Envelope) -> frozenset[str]:
    """The ids of leads, tasks and operations an event links to (rule 7)."""
    data = envelope.data
    if isinstance(data, TaskRequested):
        return frozenset(data.links.leads) | frozenset(data.links.operations)
    if isinstance(data, AlertRaised):
        return frozenset(link.id for link in data.links if link.kind in LINKABLE)
    return frozenset()


def _links_for(data: object, team: str, shares: Mapping[str, Record]) -> object:
    if isinstance(data, TaskRequested):
        links = data.links.model_copy(
            update={
                "leads": fed_links(team, data.links.leads, shares),
                "operations": fed_links(team, data.links.operations, shares),
            }
        )
        return data if links == data.links else data.model_copy(update={"links": links})
    if isinstance(data, AlertRaised):
        kept = fed_links(team, [link.id for link in data.links if link.kind in LINKABLE], shares)
        alert_links = tuple(
            link for link in data.links if link.kind not in LINKABLE or link.id in kept
        )
        return data if alert_links == data.links else data.model_copy(update={"links": alert_links})
    return data


def view_for(
    envelope: Envelope,
    team: str,
    regions: tuple[str, ...] = (),
    shares: Mapping[str, Record] = MappingProxyType({}),
) -> Envelope | None:
    """What ``team`` sees of an event it may see; None when nothing of it may be shown.

    ``regions`` are the countries whose national phone formats free text may use (the JIT's);
    ``shares`` the sharing of the records the event may link to (rule 7).
    """
    if team == envelope.originator:
        return envelope
    data = envelope.data
    shown: object = data
    if isinstance(data, LeadSubmitted):
        shown = _lead_for_other_team(data, regions or regions_of(envelope.audience))
    elif isinstance(data, EntityObserved):
        shown = _observation_for_other_team(data)
    elif isinstance(data, TaskRequested | AlertRaised):
        shown = _links_for(data, team, shares)
    if shown is None:
        return None
    if shown is data:
        return envelope
    return envelope.model_copy(update={"data": shown})


def release(
    envelope: Envelope,
    directory: Directory,
    shares: Mapping[str, Record] = MappingProxyType({}),
) -> list[tuple[str, Envelope]]:
    """Each team whose feed carries the event, with its view of it, in team order."""
    out: list[tuple[str, Envelope]] = []
    regions = regions_of(directory.jits.get(envelope.jit, envelope.audience))
    for team in sorted(decide(envelope, directory).teams):
        view = view_for(envelope, team, regions, shares)
        if view is not None:
            out.append((team, view))
    return out


# ---------------------------------------------------------------------------------- topics


def fed_topics(catalogue: Catalogue = CATALOGUE) -> tuple[TopicSpec, ...]:
    """The topics the release reads (:meth:`events.registry.Catalogue.fed_topics`)."""
    return tuple(catalogue.fed_topics())


def command_topics(catalogue: Catalogue = CATALOGUE) -> tuple[TopicSpec, ...]:
    """The shared command topics, one per context."""
    return tuple(
        topic
        for topic in catalogue.topics()
        if any(entry.kind == "command" for entry in catalogue.on_topic(topic))
    )


def team_command_topic(context: TopicSpec, team: str) -> str:
    """The logical name of ``team``'s own command topic for a context: ``<context>.<TEAM>``."""
    return f"{context.name}.{team}"


TEAM_COMMAND_TOPIC = re.compile(r"^(?P<context>interlock\.[a-z]+\.commands)\.(?P<team>[^.]+)$")


def parse_team_command_topic(
    name: str, catalogue: Catalogue = CATALOGUE
) -> tuple[TopicSpec, str] | None:
    """The context and team of a per-team command topic's logical name, or None."""
    match = TEAM_COMMAND_TOPIC.match(name)
    if match is None or not re.match(TEAM_PATTERN, match["team"]):
        return None
    for context in command_topics(catalogue):
        if context.name == match["context"]:
            return context, match["team"]
    return None


def admit_command(
    envelope: Envelope, *, team: str, context: TopicSpec, catalogue: Catalogue = CATALOGUE
) -> str | None:
    """Why a command written to ``team``'s own command topic may not go on, or None.

    The topic's ACL proves who wrote it, so the command must speak for that team only: its
    originator and its actor's team are the topic's team, and it belongs to the topic's context.
    """
    if not isinstance(envelope.data, Command):
        return f"{envelope.type} is an event, not a command"
    entry = catalogue.entry(envelope.type)
    if entry.topic.name != context.name:
        return f"{envelope.type} belongs on {entry.topic.name}, not on {context.name}"
    if envelope.originator != team:
        return f"originator {envelope.originator} is not this topic's team {team}"
    if envelope.data.actor.team != team:
        return f"actor team {envelope.data.actor.team} is not this topic's team {team}"
    return None
