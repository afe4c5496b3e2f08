"""The release on real Kafka: every event a team may see reaches its feed once, nothing else does,
victims are pseudonymous outside their team, and details released later arrive."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from events.codec import envelop
from events.deconfliction import (
    DeconflictionDetailsReleased,
    DeconflictionHit,
    HitSide,
    HitStatus,
    ReleasedDetails,
)
from events.envelope import Envelope, Event
from events.handling import victim_pseudonym
from tests.integration.release.conftest import Feeds, new_team, of_subject, triaged
from tests.support.api import Member, lead_body
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _lead_events(events: list[dict[str, Any]], lead_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["data"].get("lead_id") == lead_id]


def test_an_event_shared_with_two_teams_is_once_in_each_feed_and_an_unshared_one_in_neither(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """A lead released by A to B is in A's and B's feeds once each; C's own lead is in C's only."""
    a, b, c = new_team("NL"), new_team("RO"), new_team("BG")
    jit = feeds.register_jit(a, b, c)
    anna = Member(platform.base_url, issuer, member="anna", team=a, jits=(jit,))
    boris = Member(platform.base_url, issuer, member="boris", team=c, jits=(jit,))

    shared = anna.post(f"/jits/{jit}/leads", lead_body(f"shared-{uuid.uuid4()}", releasable_to=[b]))
    assert shared.status_code == 201, shared.text
    kept = boris.post(f"/jits/{jit}/leads", lead_body(f"kept-{uuid.uuid4()}"))
    assert kept.status_code == 201, kept.text
    shared_id, kept_id = shared.json()["lead_id"], kept.json()["lead_id"]

    # the lead, its person and its two identifiers: four events
    for team in (a, b):
        feeds.wait_for(team, lambda ev: len(_lead_events(ev, shared_id)) >= 4)
    feeds.wait_for(c, lambda ev: len(_lead_events(ev, kept_id)) >= 4)
    time.sleep(1.0)  # anything else the release wrote for these batches has landed by now

    for team in (a, b):
        mine = _lead_events(feeds.read(team), shared_id)
        ids = [e["id"] for e in mine]
        assert len(ids) == 4, [e["type"] for e in mine]
        assert len(set(ids)) == 4, "an event appears twice in one feed"
        assert mine[0]["type"] == "interlock.lead.submitted"
        assert _lead_events(feeds.read(team), kept_id) == []
    assert {e["id"] for e in _lead_events(feeds.read(a), shared_id)} == {
        e["id"] for e in _lead_events(feeds.read(b), shared_id)
    }, "the two feeds carry different event ids for the same events"
    assert _lead_events(feeds.read(c), shared_id) == []


def test_a_team_named_but_outside_the_jit_gets_nothing(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """The API refuses releasability to a team that is not a member of the JIT (422 naming the
    JIT's teams); an event that names one anyway (written to the log by another way) does not
    reach that team's feed."""
    a, b, outsider = new_team("NL"), new_team("RO"), new_team("FR")
    jit = feeds.register_jit(a, b)
    anna = Member(platform.base_url, issuer, member="anna", team=a, jits=(jit,))
    refused = anna.post(
        f"/jits/{jit}/leads", lead_body(f"out-{uuid.uuid4()}", releasable_to=[b, outsider])
    )
    assert refused.status_code == 422, refused.text
    assert outsider in refused.text and b in refused.text

    event = triaged(a, releasable_to=frozenset({b, outsider}), jit=jit)
    lead_id = event.subject
    feeds.publish([event])
    feeds.wait_for(b, lambda ev: any(e["subject"] == lead_id for e in ev))
    time.sleep(1.0)
    assert [e for e in feeds.read(outsider) if e["subject"] == lead_id] == []


def test_a_victim_is_pseudonymous_in_every_feed_but_her_teams(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """B gets the pseudonym and none of her identifiers; A, who recorded her, gets her name."""
    a, b = new_team("NL"), new_team("RO")
    jit = feeds.register_jit(a, b)
    anna = Member(platform.base_url, issuer, member="anna", team=a, jits=(jit,))
    body = lead_body(
        f"victim-{uuid.uuid4()}",
        releasable_to=[b],
        summary="Elena Vasilescu was found at the farm; her phone +40 745 123 456 was taken.",
        persons=[
            {"name": "Elena Vasilescu", "role": "victim", "date_of_birth": "2003-02-01"},
            {"name": "Ion Popescu", "role": "suspect"},
        ],
        identifiers=[
            {"kind": "phone", "value": "+40 745 123 456", "person": 0},
            {"kind": "iban", "value": "RO49 AAAA 1B31 0075 9384 0000", "person": 1},
        ],
    )
    created = anna.post(f"/jits/{jit}/leads", body)
    assert created.status_code == 201, created.text
    lead_id = created.json()["lead_id"]

    own = feeds.wait_for(a, lambda ev: len(_lead_events(ev, lead_id)) >= 5)
    theirs = feeds.wait_for(b, lambda ev: len(_lead_events(ev, lead_id)) >= 4)
    own_text = json.dumps(_lead_events(own, lead_id))
    assert "Elena Vasilescu" in own_text
    assert "+40745123456" in own_text

    seen_by_b = _lead_events(theirs, lead_id)
    text = json.dumps(seen_by_b)
    assert "Elena" not in text
    assert "Vasilescu" not in text
    assert "745123456" not in text
    assert "2003-02-01" not in text
    victim = next(
        e
        for e in seen_by_b
        if e["type"] == "interlock.entity.observed"
        and e["data"]["person"]
        and e["data"]["role"] == "victim"
    )
    assert victim["data"]["person"]["name"] == victim_pseudonym(victim["data"]["entity_id"])
    submitted = next(e for e in seen_by_b if e["type"] == "interlock.lead.submitted")
    assert submitted["data"]["persons"][0]["name"] == victim["data"]["person"]["name"]
    assert [i["kind"] for i in submitted["data"]["identifiers"]] == ["iban"]
    assert len(seen_by_b) == 4, "B got an event about the victim's phone"


def _deconfliction(event: Event, *, originator: str, to: str, jit: str, subject: str) -> Envelope:
    return envelop(
        event,
        subject=subject,
        jit=jit,
        originator=originator,
        source="/tests/deconfliction",
        correlation_id=str(uuid.uuid4()),
        releasable_to=frozenset({to}),
    )


def test_details_released_later_appear_in_the_feed(feeds: Feeds) -> None:
    """After a hit, B releases details of its side to A: A's feed gets the hit, then the details."""
    a, b = new_team("NL"), new_team("RO")
    jit = feeds.register_jit(a, b)
    hit_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    hit = DeconflictionHit(
        hit_id=hit_id,
        jit=jit,
        kind="phone",
        status=HitStatus.CONFIRMED,
        registering=HitSide(team=a, jit=jit, registration_id=str(uuid.uuid4())),
        holding=HitSide(team=b, jit=jit, registration_id=str(uuid.uuid4())),
        detected_at=now,
    )
    feeds.publish([_deconfliction(hit, originator=a, to=b, jit=jit, subject=hit_id)])
    before = feeds.wait_for(a, of_subject(hit_id))
    assert [e["type"] for e in of_subject(hit_id)(before)] == [
        "interlock.deconfliction.hit_detected"
    ]

    released = DeconflictionDetailsReleased(
        hit_id=hit_id,
        by_team=b,
        to_team=a,
        by="ioana",
        details=ReleasedDetails(source_ref="RO-case-17", contact_officer="Insp. Radu"),
        released_at=now,
    )
    feeds.publish([_deconfliction(released, originator=b, to=a, jit=jit, subject=hit_id)])
    after = feeds.wait_for(a, lambda ev: len(of_subject(hit_id)(ev)) >= 2)
    details = of_subject(hit_id)(after)[-1]
    assert details["type"] == "interlock.deconfliction.details_released"
    assert details["data"]["details"]["contact_officer"] == "Insp. Radu"
    assert details["originator"] == b


def test_the_feed_keeps_the_order_of_an_aggregate(feeds: Feeds) -> None:
    """Twenty events of one aggregate reach the feed in the order they were written."""
    team = new_team("NL")
    first = triaged(team)
    events = [first] + [
        first.model_copy(update={"id": str(uuid.uuid4()), "aggregate_version": i})
        for i in range(1, 20)
    ]
    feeds.publish(events)
    got = feeds.wait_for(team, lambda ev: len(of_subject(first.subject)(ev)) >= 20)
    assert [e["id"] for e in of_subject(first.subject)(got)] == [e.id for e in events]


def test_a_tasks_feed_record_links_only_the_leads_released_to_its_team(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """A task from A to B links a lead released to B and one A kept: B's feed record of the
    task names only the first, A's names both (rule 7 of the release policy)."""
    a, b = new_team("NL"), new_team("RO")
    jit = feeds.register_jit(a, b)
    anna = Member(platform.base_url, issuer, member="anna", team=a, jits=(jit,))
    shared = anna.post(f"/jits/{jit}/leads", lead_body(f"shared-{uuid.uuid4()}", releasable_to=[b]))
    kept = anna.post(f"/jits/{jit}/leads", lead_body(f"kept-{uuid.uuid4()}"))
    assert shared.status_code == 201 and kept.status_code == 201, (shared.text, kept.text)
    shared_id, kept_id = shared.json()["lead_id"], kept.json()["lead_id"]
    task = anna.post(
        f"/jits/{jit}/tasks",
        {
            "to_team": b,
            "title": "Check the flat",
            "description": "Who lives there?",
            "details": {"kind": "investigative_action"},
            "links": {"leads": [shared_id, kept_id]},
        },
    )
    assert task.status_code in (201, 202), task.text
    task_id = task.json()["task_id"]

    def requested(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            e for e in events if e["type"] == "interlock.task.requested" and e["subject"] == task_id
        ]

    [theirs] = requested(feeds.wait_for(b, requested))
    [ours] = requested(feeds.wait_for(a, requested))
    assert theirs["data"]["links"]["leads"] == [shared_id]
    assert kept_id not in json.dumps(theirs)
    assert sorted(ours["data"]["links"]["leads"]) == sorted([shared_id, kept_id])
