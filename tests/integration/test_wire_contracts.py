"""The wire and the published documents agree: every record of every topic of this session, read
back from Kafka, is what contracts/asyncapi.json and contracts/schemas/ say it is.

Runs last in its group, after the other tests' traffic (leaving out the poison records those
tests wrote on purpose, which the dead-letter topic names), and adds a scenario of its own (two
teams' leads sharing a phone number, so that deconfliction, alerts and both feeds carry records)
so that it never passes on empty topics. For each record: the ``content-type`` header is the
topic's; a CloudEvent's type is a message of the topic's channel (a sealed type as its
``…Sealed`` message on the platform's own topics, readable on a feed); the envelope validates
against ``cloudevent.json`` or ``sealed-cloudevent.json``, and readable data against its type's
schema.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from events.topics import ALL_TOPICS, DEAD_LETTER, FEED_PREFIX, LEAD_EVENTS, OUTCOMES, TopicSpec
from services.release.policy import parse_team_command_topic
from tests.support.api import Member, eventually, lead_body
from tests.support.kafka import every_record
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
SEALED = "application/jose"


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((CONTRACTS / "schemas" / name).read_text()))


class Documents:
    """The committed documents, as a reader in another language would load them."""

    def __init__(self) -> None:
        self.asyncapi = json.loads((CONTRACTS / "asyncapi.json").read_text())
        self.envelope = _validator("cloudevent.json")
        self.sealed = _validator("sealed-cloudevent.json")
        self._data: dict[str, Draft202012Validator] = {}
        messages = self.asyncapi["components"]["messages"]
        self.type_of = {
            name: next(
                part["properties"]["type"]["const"]
                for part in message["payload"]["allOf"]
                if "properties" in part
            )
            for name, message in messages.items()
        }
        self.channels = {c["address"]: c for c in self.asyncapi["channels"].values()}
        sealed = {"$ref": "#/components/schemas/SealedCloudEvent"}
        self.sealed_messages = {n for n, m in messages.items() if sealed in m["payload"]["allOf"]}

    def data(self, type_: str) -> Draft202012Validator:
        if type_ not in self._data:
            self._data[type_] = _validator(f"{type_}.json")
        return self._data[type_]

    def channel(self, logical: str) -> dict[str, Any] | None:
        if logical.startswith(FEED_PREFIX):
            return self.channels[FEED_PREFIX + "{team}"]
        team_topic = parse_team_command_topic(logical)
        if team_topic is not None:
            return self.channels[team_topic[0].name + ".{team}"]
        return self.channels.get(logical)

    def allowed(self, channel: dict[str, Any]) -> dict[str, bool]:
        """Type → whether it is sealed, for every message of ``channel`` (by the envelope its
        payload names, not by its name: ``EvidenceSealed`` is the readable custody act)."""
        return {self.type_of[n]: n in self.sealed_messages for n in channel["messages"]}


def _spec(logical: str) -> TopicSpec | None:
    if logical.startswith(FEED_PREFIX):
        return TopicSpec(logical, "a team's feed")
    team_topic = parse_team_command_topic(logical)
    if team_topic is not None:
        return team_topic[0]
    return next((t for t in ALL_TOPICS if t.name == logical), None)


def check(docs: Documents, logical: str, value: bytes, headers: dict[str, str]) -> list[str]:
    """What is wrong with one record of ``logical``, in words (empty: it matches)."""
    spec = _spec(logical)
    assert spec is not None
    wrong = []
    if headers.get("content-type") != spec.content_type:
        wrong.append(f"content-type {headers.get('content-type')!r}, not {spec.content_type!r}")
    if not spec.carries_cloudevents:
        return wrong
    event = json.loads(value)
    channel = docs.channel(logical)
    if channel is None:
        return [*wrong, "no channel in asyncapi.json"]
    allowed = docs.allowed(channel)
    type_ = event.get("type")
    if type_ not in allowed:
        return [*wrong, f"{type_} is not a message of its channel"]
    sealed = event.get("datacontenttype") == SEALED
    if sealed != allowed[type_]:
        form = "sealed" if sealed else "readable"
        wrong.append(f"{type_} from {event.get('source')} is {form}; the document says not")
    envelope = docs.sealed if sealed else docs.envelope
    wrong += [f"envelope: {e.message}" for e in envelope.iter_errors(event)]
    if not sealed:
        data = docs.data(type_)
        wrong += [f"data: {e.message}" for e in data.iter_errors(event.get("data"))]
    return wrong


def test_every_record_on_every_topic_matches_the_documents(platform: Platform, issuer) -> None:
    settings = platform.settings
    jit = f"jit-wire-{uuid.uuid4().hex[:6]}"
    nl = Member(platform.base_url, issuer, member="wire-nl", team="NL-KLPD", jits=(jit,))
    ro = Member(platform.base_url, issuer, member="wire-ro", team="RO-DIICOT", jits=(jit,))
    for member, key in ((nl, "nl"), (ro, "ro")):
        body = lead_body(f"wire-{key}-{uuid.uuid4()}", releasable_to=["NL-KLPD", "RO-DIICOT"])
        created = member.post(f"/jits/{jit}/leads", body)
        assert created.status_code == 201, created.text
    eventually(lambda: nl.get(f"/jits/{jit}/hits").json().get("items"), timeout=60)

    docs = Documents()
    seen: Counter[str] = Counter()
    problems: list[str] = []
    everything = every_record(settings)
    poison = {  # what other tests wrote on purpose, and a service dead-lettered with the reason
        (letter["topic"].removeprefix(settings.topic_prefix), letter["partition"], letter["offset"])
        for *_, value, _ in everything.get(settings.topic(DEAD_LETTER.name), [])
        for letter in [json.loads(value)]
    }
    for physical, records in everything.items():
        logical = physical.removeprefix(settings.topic_prefix)
        if _spec(logical) is None:
            continue  # a service's own changelog or repartition topic: not Interlock's wire
        for partition, offset, value, headers in records:
            if (logical, partition, offset) in poison:
                continue
            seen[logical] += 1
            for wrong in check(docs, logical, value, headers):
                problems.append(f"{logical}: {wrong}")
    print(f"\nrecords checked: {sum(seen.values())} on {len(seen)} topics")
    assert not problems, "\n".join(sorted(set(problems))[:40])
    read = set(seen)
    for needed in (LEAD_EVENTS.name, OUTCOMES.name, "interlock.directory", FEED_PREFIX + "NL-KLPD"):
        assert needed in read, f"no record on {needed}: the check would prove nothing"
    assert any(t.startswith("interlock.deconfliction") for t in read)
