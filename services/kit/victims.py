"""The victims of each JIT, as the disclosure policy needs them to redact free text that lives
outside the graph (messages, evidence descriptions and file names).

Folded from the lead topic (a person recorded in a lead as a victim, and the identifiers that
belong to her) and the retention topic (an erased lead takes its victims with it). One instance
per gateway, shared by the channels that show such text; what it gives them is a
:class:`services.kit.disclosure.VictimBook`, so the redaction rules stay in the policy.

A victim is hidden from every team but the one that recorded her: as in the graph, where a
victim's ``identity_audience`` is her recording team alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

from events.codec import InvalidEvent, decode
from events.identifiers import PersonRole
from events.leads import EntityObserved
from events.retention import SubjectErased
from events.topics import LEAD_EVENTS, RETENTION_EVENTS
from services.kit.compacted import CompactedReader
from services.kit.disclosure import Victim, VictimBook, regions_of
from services.kit.settings import Settings


@dataclass
class _Person:
    team: str
    lead_id: str
    names: tuple[str, ...]
    birth_date: date | None
    identifiers: list[tuple[str, str]] = field(default_factory=list)


class Victims:
    """Victims by JIT, kept current from the lead and retention topics."""

    def __init__(self, settings: Settings, *, name: str = "victims") -> None:
        self._people: dict[str, dict[str, _Person]] = {}
        self._books: dict[tuple[str, tuple[str, ...]], VictimBook] = {}
        self._lock = threading.Lock()
        self._leads = CompactedReader(
            settings,
            settings.topic(LEAD_EVENTS.name),
            self._take_lead,
            name=f"{settings.topic_prefix}{name}-leads",
        )
        self._erasures = CompactedReader(
            settings,
            settings.topic(RETENTION_EVENTS.name),
            self._take_erasure,
            name=f"{settings.topic_prefix}{name}-erasures",
        )

    def start(self) -> Victims:
        self._leads.start()
        self._erasures.start()
        return self

    def stop(self) -> None:
        self._leads.stop()
        self._erasures.stop()

    def catch_up(self) -> bool:
        """Read the lead topic up to its end (a victim recorded a moment ago is known after)."""
        return self._leads.catch_up() and self._erasures.catch_up()

    def book(self, jit: str, teams: tuple[str, ...] | list[str] = ()) -> VictimBook:
        """The JIT's victims for the policy's redactor; ``teams`` give the phone regions."""
        regions = regions_of(teams)
        with self._lock:
            found = self._books.get((jit, regions))
            if found is None:
                found = VictimBook(
                    victims=tuple(
                        Victim(
                            entity_id=entity_id,
                            team=p.team,
                            names=p.names,
                            birth_date=p.birth_date,
                            identifiers=tuple(p.identifiers),
                        )
                        for entity_id, p in self._people.get(jit, {}).items()
                    ),
                    regions=regions,
                )
                self._books[(jit, regions)] = found
            return found

    def observe(self, jit: str, team: str, seen: EntityObserved) -> None:
        """Remember a victim recorded by ``team`` in a lead of ``jit``, or her identifier."""
        with self._lock:
            people = self._people.setdefault(jit, {})
            if seen.person is not None and seen.role is PersonRole.VICTIM:
                names = tuple(n for n in (seen.person.name, seen.person.latin_name) if n)
                people[seen.entity_id] = _Person(
                    team=team,
                    lead_id=seen.lead_id,
                    names=names,
                    birth_date=seen.person.date_of_birth,
                )
            elif seen.identifier is not None and seen.person_entity_id in people:
                people[seen.person_entity_id].identifiers.append(
                    (seen.identifier.kind.value, seen.identifier.value)
                )
            else:
                return
            self._forget_books(jit)

    def erase(self, jit: str, subject_id: str) -> None:
        """Forget the victims a lead recorded, once the lead is erased."""
        with self._lock:
            people = self._people.get(jit, {})
            gone = [e for e, p in people.items() if p.lead_id == subject_id]
            for entity_id in gone:
                del people[entity_id]
            if gone:
                self._forget_books(jit)

    def _forget_books(self, jit: str) -> None:
        for key in [k for k in self._books if k[0] == jit]:
            del self._books[key]

    def _take_lead(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:  # erased (key destroyed) or unreadable: nothing of it is kept
            return
        if isinstance(envelope.data, EntityObserved):
            self.observe(envelope.jit, envelope.originator, envelope.data)

    def _take_erasure(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = decode(value)
        except InvalidEvent:
            return
        if isinstance(envelope.data, SubjectErased):
            self.erase(envelope.jit, envelope.data.subject_id)
