"""Every record Interlock writes carries a ``content-type`` header chosen in one place
(``services.kit.kafka.record_headers``): structured-mode CloudEvents on every event, command,
outcome, directory, audit and feed topic; the internal non-event topics say what they hold."""

from __future__ import annotations

import ast
from pathlib import Path

from events.topics import ALL_TOPICS, AUDIT_CHAIN, DEAD_LETTER, KEYS, feed_topic
from services.kit.kafka import CLOUDEVENT_HEADERS, record_headers
from services.kit.streams import _Headed

ROOT = Path(__file__).resolve().parents[3]
STRUCTURED = ("content-type", b"application/cloudevents+json; charset=UTF-8")


def test_cloudevent_topics_get_the_structured_mode_header_with_or_without_a_prefix() -> None:
    """Event, command, outcome, directory, audit and feed topics: the binding's header."""
    cloudevent_topics = [t.name for t in ALL_TOPICS if t.carries_cloudevents]
    names = [*cloudevent_topics, feed_topic("RO-DIICOT").name, "interlock.leads.commands.NL-KLPD"]
    for name in names:
        assert record_headers(name) == [STRUCTURED], name
        assert record_headers(f"it-3f2a.{name}") == [STRUCTURED], name
    assert CLOUDEVENT_HEADERS == [STRUCTURED]


def test_internal_topics_that_hold_no_events_say_what_they_hold() -> None:
    """Dead letters, audit-chain links and wrapped keys are not CloudEvents, and say so."""
    assert record_headers(f"p.{DEAD_LETTER.name}") == [
        ("content-type", b"application/vnd.interlock.deadletter+json")
    ]
    assert record_headers(AUDIT_CHAIN.name) == [
        ("content-type", b"application/vnd.interlock.audit-link+json")
    ]
    assert record_headers(KEYS.name) == [("content-type", b"application/jose")]
    assert record_headers("interlock.audit") == [STRUCTURED]


def test_faust_topics_add_the_header_and_keep_the_callers() -> None:
    """A faust send through ``raw_topic``'s schema gets its topic's header, once."""
    schema = _Headed(record_headers("interlock.feed.NL-KLPD"))
    assert schema.on_dumps_value_prepare_headers(b"{}", {}) == {
        "content-type": STRUCTURED[1],
    }
    assert schema.on_dumps_value_prepare_headers(b"{}", [("trace", b"1")]) == [
        ("trace", b"1"),
        STRUCTURED,
    ]
    assert schema.on_dumps_value_prepare_headers(b"{}", None) == [STRUCTURED]


def _constructs_a_raw_producer(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("confluent_kafka", "aiokafka"):
            names = {alias.name for alias in node.names}
            if names & {"Producer", "SerializingProducer", "AIOKafkaProducer"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        in_kit = path.name == "kafka.py" and path.parent.name == "kit"
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("Producer", "AIOKafkaProducer")
            and isinstance(node.value, ast.Name)
            and node.value.id in ("confluent_kafka", "aiokafka")
            and not in_kit
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_service_writes_to_kafka_around_the_kit_producer() -> None:
    """No module in services/ builds its own Kafka producer: every record goes out through
    the kit's ``Producer`` (or a faust topic made by ``raw_topic``), so none lacks its header."""
    offenders = [
        where
        for path in sorted((ROOT / "services").rglob("*.py"))
        for where in _constructs_a_raw_producer(path)
    ]
    assert offenders == []


def test_faust_topics_that_services_send_to_are_made_by_raw_topic() -> None:
    """``app.topic(`` outside the kit is only for reading (agents' channels), never sent to."""
    senders = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        if path.parent.name == "kit":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("send", "send_soon")
                and isinstance(node.func.value, ast.Call)
                and isinstance(node.func.value.func, ast.Attribute)
                and node.func.value.func.attr == "topic"
            ):
                senders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert senders == []
