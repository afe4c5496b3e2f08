"""The retention catalogue: no personal data in any record, on its own topics, round-trips."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.catalogue import CATALOGUE
from events.codec import decode, encode, envelop
from events.directory import RetentionPolicySet
from events.envelope import Command, Payload
from events.retention import (
    ENTRIES,
    CheckRetention,
    EraseSubject,
    ExtendRetention,
    RetentionExtended,
    ReviewDue,
    SubjectErased,
)
from events.topics import ALL_TOPICS, DAY_MS, DIRECTORY, RETENTION_COMMANDS, RETENTION_EVENTS
from services.retention.domain import Policies, due

from .builders import JIT, NOW, OWNER, apply, erase, events_of, extend, subject

ALLOWED_FIELDS: dict[type[Payload], set[str]] = {
    ReviewDue: {"subject_id", "subject_kind", "at", "owner_team", "categories", "erase_after"},
    RetentionExtended: {"subject_id", "subject_kind", "at", "by", "days", "reason", "erase_after"},
    SubjectErased: {
        "subject_id",
        "subject_kind",
        "at",
        "owner_team",
        "categories",
        "cause",
        "by",
        "reason",
    },
    EraseSubject: {"actor", "subject_id", "subject_kind", "reason"},
    ExtendRetention: {"actor", "subject_id", "subject_kind", "days", "reason"},
    CheckRetention: {"actor", "subject_id", "subject_kind"},
    RetentionPolicySet: {
        "jit_id",
        "team",
        "category",
        "keep_days",
        "review_days",
        "set_by",
    },
}
"""Ids, categories, times, periods and the requester's reason: nothing about a person."""


@pytest.mark.parametrize("model", ALLOWED_FIELDS, ids=lambda m: m.__name__)
def test_retention_records_carry_only_ids_categories_and_times(model: type[Payload]) -> None:
    """A new field on a retention record fails here until someone checks it is not personal."""
    assert set(model.model_fields) == ALLOWED_FIELDS[model]


def test_every_retention_type_is_catalogued_on_its_topic() -> None:
    """Commands on the commands topic, events on the events topic, the policy on the directory."""
    assert {e.model for e in ENTRIES} | {RetentionPolicySet} == set(ALLOWED_FIELDS)
    for entry in ENTRIES:
        assert CATALOGUE.entry(entry.type) is entry
        expected = RETENTION_COMMANDS if issubclass(entry.model, Command) else RETENTION_EVENTS
        assert entry.topic == expected
        assert entry.key == "subject"
        assert entry.type.startswith("interlock.retention.")
    assert CATALOGUE.entry_for(RetentionPolicySet).topic == DIRECTORY
    assert RetentionPolicySet.type == "interlock.directory.retention"


def test_retention_topics_are_provisioned_events_kept_for_ever_commands_a_week() -> None:
    """The events are the record of every erasure; the commands are kept 7 days."""
    assert RETENTION_COMMANDS in ALL_TOPICS
    assert RETENTION_EVENTS in ALL_TOPICS
    assert RETENTION_EVENTS.retention_ms == -1
    assert RETENTION_COMMANDS.retention_ms == 7 * DAY_MS
    assert RETENTION_COMMANDS.name == "interlock.retention.commands"
    assert RETENTION_EVENTS.name == "interlock.retention.events"


def test_every_retention_record_survives_the_wire() -> None:
    """Each command and event the domain produces encodes and decodes to an equal payload."""
    record, erased = apply(subject(), erase())
    payloads: list[Payload] = [
        erase(),
        extend(),
        *events_of(erased),
        *events_of(due(subject(), Policies(), now=NOW + timedelta(days=1080))),
        *events_of(apply(subject(), extend())[1]),
    ]
    for payload in payloads:
        env = envelop(
            payload, subject="lead-1", jit=JIT, originator=OWNER, source="/t", correlation_id="c"
        )
        assert decode(encode(env)).data == payload
    assert {type(p) for p in payloads} == {
        EraseSubject,
        ExtendRetention,
        SubjectErased,
        ReviewDue,
        RetentionExtended,
    }
    assert record.erased
