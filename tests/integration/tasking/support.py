"""Helpers for the tasking integration tests: team codes, a task body, and a reader of the
session's ``interlock.tasking.events`` topic."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from events.codec import decode
from events.envelope import Envelope
from events.topics import TASK_EVENTS, TopicSpec
from services.kit.kafka import consumer_for
from tests.support.api import Member
from tests.support.kafka import key_ring
from tests.support.platform import Platform

NL = "NL-KLPD"
RO = "RO-DIICOT"
DE = "DE-BKA"


class TaskEventLog:
    """Every record on one of the session's topics (the task events unless told), by subject,
    read from the beginning.

    Keeps redeliveries (the same event id twice) so that tests can tell them from duplicates.
    """

    def __init__(self, platform: Platform, spec: TopicSpec = TASK_EVENTS) -> None:
        settings = platform.settings
        self._ring = key_ring(settings)
        topic = settings.topic(spec.name)
        self._consumer = consumer_for(
            settings,
            {
                "group.id": f"tasking-it-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._by_task: dict[str, list[Envelope]] = defaultdict(list)

    def _drain(self) -> None:
        while True:
            batch = self._consumer.consume(num_messages=1000, timeout=0.2)
            if not batch:
                return
            for msg in batch:
                if msg.error():
                    continue
                envelope = decode(msg.value(), ring=self._ring)
                self._by_task[envelope.subject].append(envelope)

    def records(self, task_id: str) -> list[Envelope]:
        """Every record of the task so far, redeliveries included, in log order."""
        self._drain()
        return list(self._by_task[task_id])

    def events(self, task_id: str) -> list[Envelope]:
        """The task's events, each id once (a redelivery of an id is the same event)."""
        seen: dict[str, Envelope] = {}
        for envelope in self.records(task_id):
            seen.setdefault(envelope.id, envelope)
        return list(seen.values())

    def everything(self) -> list[Envelope]:
        """Every record read so far, of every subject."""
        self._drain()
        return [e for records in self._by_task.values() for e in records]

    def types(self, task_id: str) -> list[str]:
        return [e.type.removeprefix("interlock.task.") for e in self.events(task_id)]

    def close(self) -> None:
        self._consumer.close()


@dataclass
class Teams:
    """Members of three teams of one fresh JIT: NL requests, RO receives, DE looks on."""

    jit: str
    nl: Member
    ro: Member
    de: Member


def task_body(**overrides: Any) -> dict[str, Any]:
    """A request from NL to RO to check a phone subscriber."""
    body: dict[str, Any] = {
        "to_team": RO,
        "title": "Check the phone subscriber",
        "description": "Identify the subscriber of +40 721 555 123 seen in lead L-7.",
        "priority": "high",
        "details": {"kind": "investigative_action"},
    }
    body.update(overrides)
    return body


def register_in_directory(platform: Platform, teams: Teams) -> None:
    """Put the teams' JIT and their desks in the session's directory (the alerts service
    raises alerts only in JITs it knows)."""
    from datetime import date

    from events.directory import DeskRegistered, JitRegistered
    from services.admin import desk_record, jit_record, publish

    records = [
        jit_record(
            JitRegistered(
                jit_id=teams.jit,
                name="Operation Ceres",
                legal_basis="JIT agreement 2026/17 under Council Framework Decision 2002/465/JHA",
                coordinator_team=DE,
                member_teams=(NL, RO, DE),
                starts_on=date(2026, 1, 1),
            )
        ),
        *(
            desk_record(
                DeskRegistered(
                    team=team,
                    name=f"{team} rapid-response desk",
                    phone="+31 70 000 0000",
                    email="desk@example.org",
                )
            )
            for team in (NL, RO, DE)
        ),
    ]
    publish(platform.settings, records)
