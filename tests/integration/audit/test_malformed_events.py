"""Hostile input on Kafka: malformed, oversized and wrongly typed records on every topic a
service consumes go to the dead-letter topic with the reason, and the services keep going."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import defaultdict
from typing import Any

import pytest

from events.topics import (
    ALERT_COMMANDS,
    ALERT_EVENTS,
    AUDIT,
    DECONFLICTION_COMMANDS,
    DECONFLICTION_EVENTS,
    LEAD_COMMANDS,
    LEAD_EVENTS,
    RETENTION_COMMANDS,
    RETENTION_EVENTS,
    TASK_COMMANDS,
    TASK_EVENTS,
    TopicSpec,
)
from services.kit.kafka import dead_letter_topic, producer_for
from tests.integration.audit.conftest import PURPOSE, records
from tests.support.api import Member, eventually, lead_body
from tests.support.kafka import raw_records
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

CONSUMED: dict[TopicSpec, str] = {
    LEAD_COMMANDS: "interlock.lead.submit",
    TASK_COMMANDS: "interlock.task.request",
    ALERT_COMMANDS: "interlock.alert.raise",
    DECONFLICTION_COMMANDS: "interlock.operation.plan",
    LEAD_EVENTS: "interlock.lead.submitted",
    DECONFLICTION_EVENTS: "interlock.deconfliction.hit_detected",
    TASK_EVENTS: "interlock.task.requested",
    ALERT_EVENTS: "interlock.alert.raised",
    AUDIT: "interlock.audit.recorded",
    RETENTION_COMMANDS: "interlock.retention.erase_subject",
    RETENTION_EVENTS: "interlock.retention.subject_erased",
}
"""Every topic a service consumes, with a type that belongs on it."""


def hostile_records(type_: str) -> dict[str, bytes]:
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
        "not an object": b"[1, 2, 3]",
        "unknown type": json.dumps({**envelope, "type": "interlock.nothing", "data": {}}).encode(),
        "wrongly typed": json.dumps(
            {**envelope, "data": {"lead_id": 7, "task_id": [], "actor": "me", "at": False}}
        ).encode(),
        "bad envelope": json.dumps({**envelope, "originator": "nobody", "data": None}).encode(),
        "oversized": json.dumps({**envelope, "data": {"pad": "x" * 1_000_100}}).encode(),
    }


def test_hostile_records_are_dead_lettered_and_the_pipeline_goes_on(
    audited: Platform, issuer: Any
) -> None:
    """Each hostile record on each consumed topic is dead-lettered with its reason by the
    services that read it; a lead submitted afterwards is still processed end to end."""
    settings = audited.settings
    producer = producer_for(
        settings,
        {
            "compression.type": "lz4",
            "message.max.bytes": 2_000_000,
        },
    )
    sent: dict[tuple[str, int], str] = {}

    def delivered(err: Any, msg: Any) -> None:
        assert err is None, err
        sent[(msg.topic(), msg.partition(), msg.offset())] = msg.key().decode()  # type: ignore[index]

    for spec, type_ in CONSUMED.items():
        for name, value in hostile_records(type_).items():
            producer.produce(
                settings.topic(spec.name), key=name.encode(), value=value, on_delivery=delivered
            )
    assert producer.flush(30) == 0

    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl = Member(audited.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    created = nl.post(f"/jits/{jit}/leads", lead_body(f"after-{uuid.uuid4()}"))
    assert created.status_code == 201, created.text
    lead_id = created.json()["lead_id"]
    eventually(
        lambda: nl.http.get(f"/jits/{jit}/leads/{lead_id}", headers=PURPOSE).status_code == 200,
        timeout=60,
    )
    records(audited, lambda r: r["jit"] == jit and r["kind"] == "disclosure", timeout=60)

    dead: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dead.clear()
        for raw in raw_records(settings, dead_letter_topic(settings), timeout=5):
            letter = json.loads(raw)
            dead[(letter["topic"], letter["partition"], letter["offset"])].append(letter)
        if all(key in dead for key in sent):
            break
    missing = {f"{k[0]}: {v}" for k, v in sent.items() if k not in dead}
    assert not missing, f"not dead-lettered: {sorted(missing)}"
    for key, letters in dead.items():
        if key in sent:
            assert all(letter["reason"] for letter in letters)
            assert base64.b64decode(letters[0]["value"]) or sent[key] == "oversized"
