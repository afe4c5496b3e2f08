"""Poison records on the topics the deconfliction worker reads are dead-lettered with the reason
(an oversized one cut short), and deconfliction goes on."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from events.topics import DECONFLICTION_COMMANDS, LEAD_EVENTS
from services.kit.kafka import dead_letter_topic, producer_for
from tests.support.kafka import raw_records
from tests.support.platform import Platform

from .support import HIT, EventLog, Jit, lead, submit


def _poison(type_: str) -> dict[str, bytes]:
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/hostile",
        "type": type_,
        "subject": "x-1",
        "jit": "jit-hostile",
        "originator": "NL-KLPD",
        "correlationid": str(uuid.uuid4()),
    }
    return {
        "not json": b"\xff{not json",
        "wrongly typed": json.dumps({**envelope, "data": {"operation_id": []}}).encode(),
        "oversized": json.dumps({**envelope, "data": {"pad": "x" * 1_000_100}}).encode(),
    }


def test_poison_records_are_dead_lettered_and_deconfliction_goes_on(
    deconfliction: Platform, jit: Jit, events: EventLog
) -> None:
    """Poison records on the worker's topics are dead-lettered with a reason and hits still flow."""
    settings = deconfliction.settings
    producer = producer_for(settings, {"message.max.bytes": 2_000_000})
    sent: dict[tuple[str, int, int], str] = {}

    def delivered(err: Any, msg: Any) -> None:
        assert err is None, err
        sent[(msg.topic(), msg.partition(), msg.offset())] = msg.key().decode()

    for spec, type_ in (
        (DECONFLICTION_COMMANDS, "interlock.operation.plan"),
        (LEAD_EVENTS, "interlock.entity.observed"),
    ):
        for name, value in _poison(type_).items():
            producer.produce(
                settings.topic(spec.name), key=name.encode(), value=value, on_delivery=delivered
            )
    assert producer.flush(30) == 0

    phone = {"kind": "phone", "value": "+40 744 123 987"}
    submit(jit.member(jit.nl), jit, lead("nl-after-poison", identifiers=[phone]))
    submit(jit.member(jit.ro), jit, lead("ro-after-poison", identifiers=[phone]))
    events.wait(jit.id, HIT)

    service = f"{settings.topic_prefix}interlock-deconfliction"
    deadline = time.monotonic() + 30
    letters: dict[tuple[str, int, int], dict[str, Any]] = {}
    while time.monotonic() < deadline and not set(sent) <= set(letters):
        for raw in raw_records(settings, dead_letter_topic(settings), timeout=3):
            letter = json.loads(raw)
            if letter["service"] == service:
                letters[(letter["topic"], letter["partition"], letter["offset"])] = letter
    assert set(sent) <= set(letters), "a poison record was not dead-lettered"
    for where, name in sent.items():
        letter = letters[where]
        assert letter["reason"]
        assert base64.b64decode(letter["value"])
        if name == "oversized":
            assert "exceeds" in letter["reason"]
