"""Retention and erasure on the real platform: a subject erased on request and one whose period
ended are gone from the graph, the services' state and a rebuild; their sealed events cannot be
opened any more; the teams that received them are told; the audit trail keeps the erasure by id.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events import sealing
from events.audit import AuditKind, AuditRecorded
from events.codec import ErasedEvent, decode, envelop
from events.envelope import Envelope
from events.identifiers import Person, PersonRole
from events.leads import LeadSubmitted
from events.retention import ReviewDue, SubjectErased
from events.topics import AUDIT, LEAD_EVENTS, RETENTION_EVENTS, feed_topic
from services.indicators.store import LABEL as INDICATOR_FACT
from services.kit.graphdb import async_driver
from services.kit.keys import KafkaKeyRing
from services.projection.canonical import Scope
from services.projection.rebuild import rebuild
from tests.integration.retention.conftest import OWNER, PARTNER, members
from tests.support.api import eventually, lead_body
from tests.support.kafka import publish_as_the_platform, raw_records, read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NAME = "Teodora Erasmus-Vlad"
PHONE = "+40 733 999 000"
PHONE_DIGITS = ("733 999 000", "733999000")
"""The phone as written and as normalised: long enough never to turn up in ciphertext or ids."""


def raw_lead_events(platform: Platform, lead_id: str) -> list[bytes]:
    return raw_records(
        platform.settings, LEAD_EVENTS, timeout=4, where=lambda raw: lead_id.encode() in raw
    )


def test_a_lead_erased_on_request_is_gone_everywhere(
    platform: Platform, issuer, jit: str, neo4j_auth
) -> None:  # type: ignore[no-untyped-def]
    """Sealed on the log, shared, erased by its owner: graph, state, feed, key, rebuild, audit."""
    coordinator, investigator, partner = members(platform, issuer, jit)
    body = lead_body(
        f"erase-{uuid.uuid4().hex[:6]}",
        persons=[{"name": NAME, "role": "suspect"}],
        identifiers=[{"kind": "phone", "value": PHONE, "person": 0}],
        releasable_to=[PARTNER],
    )
    submitted = coordinator.post(f"/jits/{jit}/leads", body)
    assert submitted.status_code == 201, submitted.text
    lead_id = submitted.json()["lead_id"]

    raws = raw_lead_events(platform, lead_id)
    assert len(raws) >= 3
    for raw in raws:
        assert NAME.encode() not in raw
        assert not any(digits.encode() in raw for digits in PHONE_DIGITS)
        assert json.loads(raw)["datacontenttype"] == sealing.SEALED_CONTENT_TYPE
    eventually(lambda: partner.get(f"/jits/{jit}/leads/{lead_id}").status_code == 200)
    fed = read_events(platform.settings, feed_topic(PARTNER), where=lambda e: e.subject == lead_id)
    assert any(isinstance(e.data, LeadSubmitted) for e in fed), "the partner's feed is readable"

    path = f"/jits/{jit}/retention/lead/{lead_id}/erase"
    reason = {"reason": "case closed without charges"}
    assert partner.post(path, reason).status_code == 403
    assert investigator.post(path, reason).status_code == 403
    erased = coordinator.post(path, reason)
    assert erased.status_code == 200, erased.text
    assert coordinator.post(path, reason).status_code == 409

    eventually(lambda: coordinator.get(f"/jits/{jit}/leads/{lead_id}").status_code == 404)
    for member in (coordinator, partner):
        found = member.get(f"/jits/{jit}/search", q="Erasmus")
        assert found.status_code == 200 and lead_id not in found.text and NAME not in found.text
    again = coordinator.post(f"/jits/{jit}/leads", body)
    assert again.status_code == 410, again.text
    triage = coordinator.post(
        f"/jits/{jit}/leads/{lead_id}/triage", {"assignee": "anna", "priority": "high"}
    )
    assert triage.status_code in (404, 410), triage.text

    notices = read_events(
        platform.settings,
        feed_topic(PARTNER),
        where=lambda e: isinstance(e.data, SubjectErased) and e.data.subject_id == lead_id,
        until=bool,
    )
    assert notices and notices[0].data.cause == "request" and notices[0].data.by == "anna"

    fresh = KafkaKeyRing(platform.settings, name="it-fresh").start()
    try:
        for raw in raws:
            with pytest.raises(ErasedEvent):
                decode(raw, ring=fresh)
    finally:
        fresh.stop()

    records = read_events(
        platform.settings,
        AUDIT,
        where=lambda e: (
            isinstance(e.data, AuditRecorded)
            and e.data.kind is AuditKind.ERASURE
            and lead_id in e.data.object_ids
        ),
        until=bool,
    )
    assert records and records[0].data.member == "anna"
    assert NAME not in records[0].model_dump_json()

    async def rebuilt() -> str:
        driver = async_driver(platform.settings)
        try:
            report = await rebuild(
                platform.settings, driver, scope=Scope(jits=frozenset({jit}), teams=frozenset())
            )
            assert report.erased >= 3
            rows, _, _ = await driver.execute_query(
                f"MATCH (n) WHERE n.jit = $jit AND NOT n:{INDICATOR_FACT} "
                "RETURN collect(properties(n)) AS nodes",
                jit=jit,
            )
            return json.dumps(rows[0]["nodes"], default=str, ensure_ascii=False)
        finally:
            await driver.close()

    graph = asyncio.run(rebuilt())
    assert lead_id not in graph and NAME not in graph
    assert not any(digits in graph for digits in PHONE_DIGITS)


def test_a_lead_past_its_period_is_erased_and_one_near_it_reviewed(
    platform: Platform, issuer, jit: str
) -> None:  # type: ignore[no-untyped-def]
    """A victim's lead 200 days old (victims: 180) is erased by the timer; one 160 days old is
    only reminded to its owner, 30 days before."""
    now = datetime.now(UTC)
    old, near = str(uuid.uuid4()), str(uuid.uuid4())
    aged = []
    for lead_id, age in ((old, 200), (near, 160)):
        event = LeadSubmitted(
            lead_id=lead_id, team=OWNER, submitted_by="anna", idempotency_key=lead_id,
            source="ngo", received_at=now - timedelta(days=age), summary="Old report.",
            reliability="B", credibility="2",
            persons=(Person(name="Ana Victim-Old", role=PersonRole.VICTIM),),
        )  # fmt: skip
        env = envelop(event, subject=lead_id, jit=jit, originator=OWNER, source="/it",
                      correlation_id=str(uuid.uuid4()))  # fmt: skip
        aged.append(env.model_copy(update={"time": now - timedelta(days=age)}))
    publish_as_the_platform(platform.settings, aged)

    def retention_events() -> list[Envelope]:
        return read_events(
            platform.settings,
            RETENTION_EVENTS,
            where=lambda e: e.subject in (old, near),
            timeout=5,
        )

    wanted = {(SubjectErased, old), (ReviewDue, near)}

    def arrived() -> list[Envelope] | None:
        events = retention_events()
        return events if {(type(e.data), e.subject) for e in events} >= wanted else None

    found = eventually(arrived, timeout=90)
    erased = [e for e in found if isinstance(e.data, SubjectErased)]
    assert [e.subject for e in erased] == [old]
    assert erased[0].data.cause == "retention" and erased[0].data.by is None
    assert "180 days" in erased[0].data.reason
    review = next(e for e in found if isinstance(e.data, ReviewDue))
    assert review.audience == frozenset({OWNER})
    assert review.data.erase_after > now
    read_old = raw_lead_events(platform, old)
    fresh = KafkaKeyRing(platform.settings, name="it-old").start()
    try:
        with pytest.raises(ErasedEvent):
            decode(read_old[0], ring=fresh)
    finally:
        fresh.stop()
