"""The alerts catalogue: types on the right topics, and payloads that survive the wire."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events import alerts
from events.alerts import AlertRaised, Category, Severity, WebhookDeliveryFailed
from events.catalogue import CATALOGUE
from events.codec import InvalidEvent, decode, encode, envelop
from events.envelope import Command
from events.topics import ALERT_COMMANDS, ALERT_EVENTS

from .builders import COORD, JIT, NL, RO, T0, raise_alert


def test_commands_and_events_are_on_the_alert_topics() -> None:
    """Every alert command travels on the command topic, every alert event on the event topic."""
    for entry in alerts.ENTRIES:
        expected = ALERT_COMMANDS if issubclass(entry.model, Command) else ALERT_EVENTS
        assert entry.topic == expected, entry.type
        assert CATALOGUE.entry(entry.type).model is entry.model


def test_type_names_follow_the_convention() -> None:
    """Types are ``interlock.alert.<verb>``: imperative for commands, past tense for events."""
    for entry in alerts.ENTRIES:
        assert entry.type.startswith("interlock.alert.")
        verb = entry.type.removeprefix("interlock.alert.")
        is_past = verb.endswith("ed") or verb.endswith("_set")
        assert is_past != (entry.kind == "command"), entry.type


def test_raise_round_trips_through_the_codec() -> None:
    """A RaiseAlert enveloped, encoded and decoded is equal to the original."""
    command = raise_alert(dedup_key="opconflict:OP-17:OP-23")
    envelope = envelop(
        command,
        subject=command.alert_id,
        jit=JIT,
        originator=NL,
        source="test",
        correlation_id="c-1",
    )
    assert decode(encode(envelope)).data == command


def test_raised_event_round_trips_through_the_codec() -> None:
    """An AlertRaised with times survives JSON on the wire."""
    event = AlertRaised(
        alert_id="alert-1",
        jit=JIT,
        severity=Severity.P2,
        category=Category.VICTIM_AT_RISK,
        target_teams=(NL, RO),
        summary="Shelter reports a victim contacted by a suspect",
        raised_by="nl-investigator",
        raising_team=NL,
        raised_at=T0,
        acknowledge_by=T0,
        coordinator_team=COORD,
    )
    envelope = envelop(
        event, subject="alert-1", jit=JIT, originator=NL, source="test", correlation_id="c-1"
    )
    assert decode(encode(envelope)).data == event


def test_invalid_severity_on_the_wire_names_the_field() -> None:
    """A raise with an unknown severity is refused naming the field, ready for the dead letters."""
    envelope = envelop(
        raise_alert(),
        subject="alert-1",
        jit=JIT,
        originator=NL,
        source="test",
        correlation_id="c-1",
    )
    wire = encode(envelope).replace(b'"severity":"P1"', b'"severity":"P0"')
    with pytest.raises(InvalidEvent) as error:
        decode(wire)
    assert error.value.fields == ("data.severity",)


def test_webhook_failure_records_a_host_not_a_url() -> None:
    """A webhook failure cannot carry a URL (whose path or query may hold a token)."""
    with pytest.raises(ValidationError, match="host"):
        WebhookDeliveryFailed(
            alert_id="alert-1",
            team=NL,
            host="cms.example/hook?token=x",
            attempts=3,
            last_error="timeout",
        )
