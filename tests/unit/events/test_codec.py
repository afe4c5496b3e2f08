"""The CloudEvents envelope and the strict codec."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from events.catalogue import CATALOGUE
from events.codec import InvalidEvent, decode, encode, envelop, follow, partition_key
from events.envelope import Actor
from events.handling import Handling, HandlingCode, Tlp
from events.leads import LeadTriaged, SubmitLead
from events.outcomes import CommandAccepted

ACTOR = Actor(member="anna", team="NL-KLPD", roles=("investigator",))


def a_command() -> SubmitLead:
    return SubmitLead(
        actor=ACTOR,
        lead_id="lead-1",
        idempotency_key="k",
        source="osint",
        received_at=datetime(2026, 11, 28, tzinfo=UTC),
        summary="advert",
        reliability="C",
        credibility="3",
        identifiers=[{"kind": "email", "value": "A@B.example"}],
    )


def wire(**overrides: object) -> bytes:
    env = envelop(
        a_command(),
        subject="lead-1",
        jit="jit-1",
        originator="NL-KLPD",
        source="/t",
        correlation_id="corr-1",
        releasable_to={"RO-DIICOT", "DE-BKA"},
        handling=Handling(code=HandlingCode.H2, tlp=Tlp.AMBER_STRICT),
    )
    doc = json.loads(encode(env))
    doc.update(overrides)
    return json.dumps(doc).encode()


def test_round_trip_keeps_every_attribute_and_the_typed_payload() -> None:
    """encode → decode gives back the same envelope with a typed payload."""
    raw = wire()
    env = decode(raw)
    assert isinstance(env.data, SubmitLead)
    assert env.releasable_to == frozenset({"RO-DIICOT", "DE-BKA"})
    assert env.audience == frozenset({"NL-KLPD", "RO-DIICOT", "DE-BKA"})
    assert env.handling is HandlingCode.H2 and env.tlp is Tlp.AMBER_STRICT
    assert decode(encode(env)) == env


def test_wire_form_is_cloudevents_json_with_scalar_extensions() -> None:
    """Extension attributes are lower-case scalars; releasableto is a sorted comma list."""
    doc = json.loads(wire())
    assert doc["specversion"] == "1.0"
    assert doc["releasableto"] == "DE-BKA,RO-DIICOT"
    assert doc["datacontenttype"] == "application/json"
    assert doc["dataschema"] == "urn:interlock:schema:interlock.lead.submit:1"
    for name, value in doc.items():
        if name != "data":
            assert name.isalnum() and name.islower()
            assert isinstance(value, (str, int))


def test_events_parse_with_the_cloudevents_sdk() -> None:
    """An event produced by the project parses with the cloudevents SDK."""
    from cloudevents.v1.http import from_json

    event = from_json(wire())
    assert event["type"] == "interlock.lead.submit"
    assert event["jit"] == "jit-1"
    assert event.data["lead_id"] == "lead-1"


def test_unknown_type_is_refused_naming_the_type() -> None:
    """A record of a type the catalogue does not know is refused, naming the type field."""
    with pytest.raises(InvalidEvent) as refused:
        decode(wire(type="interlock.nonsense"))
    assert "unknown event type" in refused.value.reason
    assert refused.value.fields == ("type",)


def test_invalid_payload_is_refused_naming_the_field() -> None:
    """An invalid payload field is named by its path inside data."""
    doc = json.loads(wire())
    doc["data"]["identifiers"][0]["value"] = "not-an-email"
    with pytest.raises(InvalidEvent) as refused:
        decode(json.dumps(doc).encode())
    assert "data.identifiers.0.value" in refused.value.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"", "not JSON"),
        (None, "empty record"),
        (b"x" * 1_000_001, "exceeds"),
    ],
)
def test_garbage_is_refused_with_a_reason(raw: bytes | None, expected: str) -> None:
    """Undecodable records give an InvalidEvent whose reason says what is wrong."""
    with pytest.raises(InvalidEvent) as refused:
        decode(raw)
    assert expected in refused.value.reason


def test_envelope_errors_name_the_attribute() -> None:
    """A bad team code in releasableto is refused naming the attribute."""
    with pytest.raises(InvalidEvent) as refused:
        decode(wire(releasableto="nl-klpd"))
    assert "releasableto" in refused.value.reason or "releasable_to" in refused.value.reason


def test_newer_schema_version_is_refused() -> None:
    """A record from a newer schema than the service knows is not silently misread."""
    with pytest.raises(InvalidEvent) as refused:
        decode(wire(schemaversion=99))
    assert "newer" in refused.value.reason


def test_follow_keeps_correlation_and_inherits_handling() -> None:
    """An event caused by a command shares its JIT and correlation and points back to it."""
    cause = decode(wire())
    effect = follow(
        cause,
        LeadTriaged(lead_id="lead-1", by="anna", assignee="anna", priority="high"),
        source="/leads",
    )
    assert effect.correlation_id == cause.correlation_id
    assert effect.causation_id == cause.id
    assert effect.releasable_to == cause.releasable_to
    assert effect.handling_label == cause.handling_label


def test_outcomes_are_keyed_by_correlation_and_aggregates_by_subject() -> None:
    """The catalogue's key choice decides the partition key."""
    cause = decode(wire())
    outcome = follow(cause, CommandAccepted(command_type="t", command_id=cause.id), source="/x")
    assert partition_key(outcome) == b"corr-1"
    assert partition_key(cause) == b"lead-1"


def test_catalogue_types_are_unique_and_every_model_is_frozen() -> None:
    """Each catalogued type appears once and its payload model refuses mutation and extras."""
    types = [e.type for e in CATALOGUE]
    assert len(types) == len(set(types))
    for entry in CATALOGUE:
        assert entry.model.model_config.get("frozen") is True, entry.type
        assert entry.model.model_config.get("extra") == "forbid", entry.type


def test_jit_keyed_commands_are_partitioned_by_jit() -> None:
    """A catalogue entry keyed by JIT puts every record of one JIT on one partition key."""
    from events.catalogue import Catalogue, CatalogueEntry
    from events.topics import LEAD_COMMANDS

    by_jit = Catalogue([CatalogueEntry(SubmitLead, LEAD_COMMANDS, key="jit")])
    cause = decode(wire())
    assert partition_key(cause, by_jit) == b"jit-1"
