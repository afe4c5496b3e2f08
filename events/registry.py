"""The catalogue's types: what one entry says (type → payload model → topic → key) and the
look-ups over a set of entries.

Context modules (``events/leads.py``, ...) declare their ``ENTRIES`` with these types and
``events/catalogue.py`` collects them; keeping the types here lets the catalogue import the
contexts at the top without an import circle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from events.envelope import Command, Payload
from events.topics import TopicSpec

KeyField = Literal["subject", "correlation_id", "jit"]
"""Which envelope attribute is the partition key: the aggregate, the command's correlation, or
the JIT (for aggregates that must share one writer per JIT, such as alerts and their dedup keys)."""


@dataclass(frozen=True)
class CatalogueEntry:
    """One event or command type and where it travels."""

    model: type[Payload]
    topic: TopicSpec
    key: KeyField = "subject"
    sealed_by: str | None = None
    """The payload field naming the subject (lead, task, operation) whose key seals this type's
    data; None for types that carry no personal data."""
    also_on: tuple[TopicSpec, ...] = ()
    """Internal topics that carry copies of this type, re-keyed for the worker that owns them
    (the deconfliction index and its candidate hits); documented so the wire has no surprise."""

    @property
    def type(self) -> str:
        return self.model.type

    @property
    def version(self) -> int:
        return self.model.schema_version

    @property
    def kind(self) -> Literal["command", "event"]:
        return "command" if issubclass(self.model, Command) else "event"

    @property
    def dataschema(self) -> str:
        return f"urn:interlock:schema:{self.type}:{self.version}"


class UnknownType(LookupError):
    """A record whose ``type`` the catalogue does not know."""


class Catalogue:
    """Look-ups over the catalogue entries; built once at import time."""

    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self._by_type: dict[str, CatalogueEntry] = {}
        self._by_model: dict[type[Payload], CatalogueEntry] = {}
        for entry in entries:
            if entry.type in self._by_type:
                raise ValueError(f"event type {entry.type!r} is catalogued twice")
            self._by_type[entry.type] = entry
            self._by_model[entry.model] = entry

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self._by_type.values())

    def __len__(self) -> int:
        return len(self._by_type)

    def entry(self, type_: str) -> CatalogueEntry:
        try:
            return self._by_type[type_]
        except KeyError:
            raise UnknownType(f"unknown event type {type_!r}") from None

    def entry_for(self, model: type[Payload]) -> CatalogueEntry:
        try:
            return self._by_model[model]
        except KeyError:
            raise UnknownType(f"payload model {model.__name__} is not catalogued") from None

    def on_topic(self, topic: TopicSpec) -> list[CatalogueEntry]:
        return [e for e in self if e.topic == topic]

    def carried_on(self, topic: TopicSpec) -> list[CatalogueEntry]:
        """Every type a record of ``topic`` can be: its own and the copies it carries."""
        return [e for e in self if e.topic == topic or topic in e.also_on]

    def topics(self) -> list[TopicSpec]:
        seen: dict[str, TopicSpec] = {}
        for e in self:
            seen.setdefault(e.topic.name, e.topic)
        return list(seen.values())

    def fed_topics(self) -> list[TopicSpec]:
        """The topics whose events reach the teams' feeds: every topic that carries only events
        and is not marked ``fed=False``. The release reads exactly these, and the AsyncAPI
        ``teamFeed`` channel lists exactly their types."""
        return [
            topic
            for topic in self.topics()
            if topic.fed and all(entry.kind == "event" for entry in self.on_topic(topic))
        ]

    def fed(self) -> list[CatalogueEntry]:
        """The types a team's feed can carry."""
        return [entry for topic in self.fed_topics() for entry in self.on_topic(topic)]
