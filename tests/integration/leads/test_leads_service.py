"""The leads service on real Kafka: intake over HTTP and over the command topic, idempotency,
field-level rejection, and a restart in the middle of a burst."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from events.codec import encode, envelop
from events.deadletter import DeadLetter
from events.envelope import Actor
from events.leads import EntityObserved, LeadRejected, LeadSubmitted, SubmitLead, lead_id_for
from events.topics import DEAD_LETTER, LEAD_COMMANDS, LEAD_EVENTS, OUTCOMES
from services.kit.kafka import Publisher
from tests.support.api import Member, lead_body
from tests.support.kafka import raw_records, read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration


def new_jit() -> str:
    return f"jit-{uuid.uuid4().hex[:8]}"


def test_lead_over_http_produces_exactly_the_lead_and_its_entities(
    platform: Platform, issuer
) -> None:
    """One person and two identifiers → LeadSubmitted + three EntityObserved, nothing else."""
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    response = nl.post(f"/jits/{jit}/leads", lead_body("http-1", releasable_to=["RO-DIICOT"]))
    assert response.status_code == 201, response.text
    lead_id = response.json()["lead_id"]

    events = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: e.subject == lead_id,
        until=lambda found: len(found) >= 4,
    )
    assert Counter(type(e.data) for e in events) == {LeadSubmitted: 1, EntityObserved: 3}
    assert {e.id for e in events} == set(response.json()["events"])
    for event in events:
        assert event.jit == jit and event.originator == "NL-KLPD"
        assert event.releasable_to == frozenset({"RO-DIICOT"})
        assert event.correlation_id == response.json()["correlation_id"]


def test_duplicate_submission_yields_one_lead(platform: Platform, issuer) -> None:
    """The same idempotency key twice: 201 then 200 with the same lead, one LeadSubmitted."""
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    first = nl.post(f"/jits/{jit}/leads", lead_body("dup-1"))
    second = nl.post(f"/jits/{jit}/leads", lead_body("dup-1"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["lead_id"] == second.json()["lead_id"]
    assert second.json()["events"] == []
    submitted = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: e.subject == first.json()["lead_id"] and isinstance(e.data, LeadSubmitted),
    )
    assert len(submitted) == 1


def test_bad_identifier_is_a_field_level_error_and_writes_nothing(
    platform: Platform, issuer
) -> None:
    """One invalid IBAN among good identifiers: 422 naming the field, no command, no event."""
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    body = lead_body("bad-1")
    body["identifiers"].append({"kind": "iban", "value": "RO00 AAAA 0000 0000 0000 0000"})
    response = nl.post(f"/jits/{jit}/leads", body)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["body.identifiers.2.value"], response.json()
    assert "IBAN" in response.json()["errors"][0]["message"]
    lead_id = lead_id_for("NL-KLPD", "bad-1")
    assert (
        read_events(
            platform.settings, LEAD_COMMANDS, where=lambda e: e.subject == lead_id, timeout=3
        )
        == []
    )


def national_submission(jit: str, key: str, *, identifiers: list[dict] | None = None) -> dict:  # type: ignore[type-arg]
    actor = Actor(member="ro-case-system", team="RO-DIICOT", roles=("national_system",))
    body = lead_body(key)
    if identifiers is not None:
        body["identifiers"] = identifiers
    command = SubmitLead.model_validate(
        {
            **body,
            "actor": actor.model_dump(),
            "lead_id": lead_id_for("RO-DIICOT", key),
            "received_at": "2026-11-28T08:00:00Z",
        }
    )
    env = envelop(
        command,
        subject=command.lead_id,
        jit=jit,
        originator="RO-DIICOT",
        source="/ro-diicot/case-system",
        correlation_id=str(uuid.uuid4()),
    )
    return json.loads(encode(env))


def test_lead_over_the_command_topic_is_accepted(platform: Platform) -> None:
    """A national system's SubmitLead on the command topic yields the same events and an outcome."""
    jit = new_jit()
    wire = national_submission(jit, "ns-1")
    publisher = Publisher(platform.settings)
    try:
        publisher.publish_raw(
            platform.settings.topic(LEAD_COMMANDS.name),
            wire["subject"].encode(),
            json.dumps(wire).encode(),
        )
    finally:
        publisher.close()
    events = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: e.subject == wire["subject"],
        until=lambda found: len(found) >= 4,
    )
    assert Counter(type(e.data) for e in events) == {LeadSubmitted: 1, EntityObserved: 3}
    outcomes = read_events(
        platform.settings,
        OUTCOMES,
        where=lambda e: e.correlation_id == wire["correlationid"],
        until=lambda found: len(found) >= 1,
    )
    assert outcomes[0].type == "interlock.command.accepted"


def test_invalid_lead_on_the_command_topic_is_rejected_and_dead_lettered(
    platform: Platform,
) -> None:
    """A bad identifier on the command topic → LeadRejected naming the field, a 422 outcome, a
    dead letter with the reason, no LeadSubmitted; and the service goes on."""
    jit = new_jit()
    wire = national_submission(jit, "ns-bad")
    wire["data"]["identifiers"][1]["value"] = "RO00 AAAA 0000 0000 0000 0000"
    publisher = Publisher(platform.settings)
    try:
        topic = platform.settings.topic(LEAD_COMMANDS.name)
        publisher.publish_raw(topic, wire["subject"].encode(), json.dumps(wire).encode())
        publisher.publish_raw(topic, b"garbage", b"{not json")
        good = national_submission(jit, "ns-after-bad")
        publisher.publish_raw(topic, good["subject"].encode(), json.dumps(good).encode())
    finally:
        publisher.close()
    rejected = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: e.correlation_id == wire["correlationid"],
        until=lambda found: len(found) >= 1,
    )
    assert len(rejected) == 1 and isinstance(rejected[0].data, LeadRejected)
    assert "data.identifiers.1.value" in rejected[0].data.reason
    outcome = read_events(
        platform.settings,
        OUTCOMES,
        where=lambda e: e.correlation_id == wire["correlationid"],
        until=lambda found: len(found) >= 1,
    )
    assert outcome[0].data.status == 422
    letters = [
        DeadLetter.model_validate_json(r)
        for r in raw_records(
            platform.settings,
            DEAD_LETTER,
            where=lambda r: (
                wire["id"].encode() in base64.b64decode(json.loads(r)["value"])
                or b"{not json" in base64.b64decode(json.loads(r)["value"])
            ),
            timeout=5,
        )
    ]
    reasons = " | ".join(letter.reason for letter in letters)
    assert "data.identifiers.1.value" in reasons and "not JSON" in reasons
    after = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: e.subject == good["subject"],
        until=lambda found: len(found) >= 1,
    )
    assert isinstance(after[0].data, LeadSubmitted)


def test_restart_during_a_burst_loses_no_lead_and_duplicates_none(
    platform: Platform, issuer
) -> None:
    """Kill the leads worker mid-burst and restart it: no lead lost, none submitted twice.

    A record redelivered after the crash keeps its event id, so consumers drop the repeat by id.
    """
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    keys = [f"burst-{i}" for i in range(80)]

    def submit(key: str) -> int:
        response = nl.http.post(
            f"/jits/{jit}/leads", json=lead_body(key), headers={"Prefer": "wait=1"}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        first_half = list(pool.map(submit, keys[:40]))
        platform.stop("leads", kill=True)
        second_half = list(pool.map(submit, keys[40:]))
    platform.start("leads")
    platform.wait_ready(["leads"])
    assert set(first_half) <= {201, 202} and set(second_half) <= {202, 201}

    wanted = {lead_id_for("NL-KLPD", k) for k in keys}
    submitted = read_events(
        platform.settings,
        LEAD_EVENTS,
        where=lambda e: isinstance(e.data, LeadSubmitted) and e.subject in wanted,
        until=lambda found: {e.subject for e in found} >= wanted,
        timeout=120,
    )
    ids_per_lead: dict[str, set[str]] = {}
    for event in submitted:
        ids_per_lead.setdefault(event.subject, set()).add(event.id)
    assert set(ids_per_lead) == wanted, f"missing {len(wanted - set(ids_per_lead))} leads"
    duplicated = {lead for lead, ids in ids_per_lead.items() if len(ids) > 1}
    assert not duplicated, f"{len(duplicated)} leads were submitted twice under different ids"
