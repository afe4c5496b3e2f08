"""Messaging on the real platform: a JIT thread for every team of the JIT, a lead thread for the
teams named, edits with history, tombstones, unread counts, mentions with a desk alert, victim
redaction in message text, live delivery over SSE with Last-Event-ID, and every read of a thread
recorded as a justified consultation; erasing a lead erases its thread."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date

import httpx
import pytest

from events.alerts import AlertRaised
from events.audit import AuditKind, AuditRecorded
from events.codec import ErasedEvent, decode, envelop
from events.directory import JitRegistered
from events.envelope import Actor
from events.messaging import MessageDeleted, MessageEdited, MessagePosted, PostMessage
from events.outcomes import CommandRejected
from events.topics import ALERT_EVENTS, AUDIT, MESSAGE_EVENTS, OUTCOMES
from services.admin import jit_record, publish
from services.kit.kafka import Publisher
from services.kit.keys import KafkaKeyRing
from tests.support.api import Member, eventually, lead_body
from tests.support.kafka import raw_records, read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NL, RO, BE = "NL-KLPD", "RO-DIICOT", "BE-FGP"


def people(platform: Platform, issuer, jit: str) -> tuple[Member, Member, Member]:
    return (
        Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,)),
        Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,)),
        Member(platform.base_url, issuer, member="bert", team=BE, jits=(jit,)),
    )


def test_a_lead_thread_edits_deletes_unread_and_events(platform: Platform, issuer) -> None:
    """A lead thread opened for NL and RO: BE never sees it; an edit keeps the earlier text; a
    deletion leaves a tombstone with its reason; unread counts follow read marks; each act is one
    event on the messaging topic."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl, ro, be = people(platform, issuer, jit)
    thread = f"lead:{uuid.uuid4()}"
    url = f"/jits/{jit}/threads/{thread}"
    first = nl.post(f"{url}/messages", {"text": "Who takes the farm?", "thread_audience": [RO]})
    assert first.status_code == 201, first.text
    second = ro.post(f"{url}/messages", {"text": "We do, Tuesday."})
    assert second.status_code == 201, second.text
    assert be.get(url).status_code == 404
    assert be.post(f"{url}/messages", {"text": "me too"}).status_code == 404

    assert ro.get(f"/jits/{jit}/threads").json()["threads"][0]["unread"] == 2
    assert ro.post(f"{url}/read", {"seq": 2}).json()["unread"] == 0

    message_id = first.json()["message_id"]
    assert ro.http.patch(f"{url}/messages/{message_id}", json={"text": "x"}).status_code == 403
    edited = nl.http.patch(f"{url}/messages/{message_id}", json={"text": "Who takes the barn?"})
    assert edited.status_code == 200, edited.text
    deleted = ro.post(f"{url}/messages/{second.json()['message_id']}/delete", {"reason": "typo"})
    assert deleted.status_code == 200, deleted.text

    shown = nl.get(url)
    assert shown.status_code == 200, shown.text
    one, two = shown.json()["messages"]
    assert one["text"] == "Who takes the barn?" and one["edited"]
    assert one["history"][0]["text"] == "Who takes the farm?"
    assert one["marking"]["banner"].startswith("TLP:AMBER")
    assert two["text"] is None and two["deleted"]["reason"] == "typo"

    events = read_events(
        platform.settings,
        MESSAGE_EVENTS,
        where=lambda e: e.subject == thread,
        until=lambda found: len(found) >= 5,
    )
    kinds = [type(e.data) for e in events]
    assert kinds.count(MessagePosted) == 2 and MessageEdited in kinds and MessageDeleted in kinds
    assert all(
        e.audience == frozenset({NL, RO}) for e in events if isinstance(e.data, MessagePosted)
    )


def test_jit_thread_mentions_alert_and_victim_redaction(platform: Platform, issuer) -> None:
    """A JIT thread is for every team of the JIT; a victim's name and phone in a message are
    replaced by her pseudonym for other teams; a mentioned desk gets a P3 alert; the read is a
    consultation in the audit log with its justification."""
    jit = "jit-ember"
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    key = f"victim-{uuid.uuid4().hex[:6]}"
    lead = nl.post(
        f"/jits/{jit}/leads",
        lead_body(
            key,
            persons=[{"name": "Daria Vasilescu", "role": "victim"}],
            identifiers=[{"kind": "phone", "value": "+40 721 555 987", "person": 0}],
        ),
    )
    assert lead.status_code == 201, lead.text
    thread = f"jit:{jit}"
    url = f"/jits/{jit}/threads/{thread}"
    text = "Daria Vasilescu called from 0721 555 987; @desk please check"
    posted = nl.post(
        f"{url}/messages", {"text": text, "desks": [RO], "alert_desks": True, "mentions": ["ioana"]}
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["alerts"]

    def redacted() -> str | None:
        body = ro.get(url)
        if body.status_code != 200:
            return None
        texts = [
            m["text"]
            for m in body.json()["messages"]
            if m["message_id"] == posted.json()["message_id"]
        ]
        return texts[0] if texts and "Vasilescu" not in texts[0] else None

    shown = eventually(redacted)
    assert "Daria" not in shown and "555 987" not in shown and "[victim" in shown
    own = nl.get(url).json()["messages"]
    assert any("Daria Vasilescu" in (m["text"] or "") for m in own)
    assert ro.get(f"/jits/{jit}/mentions").json()["mentions"]

    alert_id = posted.json()["alerts"][0]
    raised = read_events(
        platform.settings,
        ALERT_EVENTS,
        where=lambda e: isinstance(e.data, AlertRaised) and e.data.alert_id == alert_id,
        until=bool,
    )
    assert (
        raised and raised[0].data.severity.value == "P3" and "Daria" not in raised[0].data.summary
    )

    bare = httpx.get(
        platform.base_url + url, headers={"Authorization": ro.http.headers["Authorization"]}
    )
    assert bare.status_code == 428
    consulted = read_events(
        platform.settings,
        AUDIT,
        where=lambda e: (
            isinstance(e.data, AuditRecorded)
            and e.data.kind is AuditKind.CONSULTATION
            and e.data.member == "ioana"
            and thread in e.data.object_ids
        ),
        until=bool,
    )
    assert consulted and consulted[0].data.justification is not None


def test_live_messages_over_sse_resume_with_last_event_id(platform: Platform, issuer) -> None:
    """A stream gets a message posted after it opened; reconnecting with Last-Event-ID sends only
    what came after that id."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl, ro, _ = people(platform, issuer, jit)
    thread = f"task:{uuid.uuid4()}"
    url = f"/jits/{jit}/threads/{thread}"
    assert nl.post(f"{url}/messages", {"text": "first", "thread_audience": [RO]}).status_code == 201

    got: list[dict] = []
    ids: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        with ro.http.stream("GET", f"{url}/stream", timeout=30) as response:
            assert response.status_code == 200
            ready.set()
            event_id = None
            for line in response.iter_lines():
                if line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    got.append(json.loads(line[5:]))
                    ids.append(event_id or "")
                    if len(got) == 2:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(20)
    assert nl.post(f"{url}/messages", {"text": "second, live"}).status_code == 201
    listener.join(30)
    assert [m["text"] for m in got] == ["first", "second, live"]

    assert nl.post(f"{url}/messages", {"text": "third"}).status_code == 201
    with ro.http.stream(
        "GET", f"{url}/stream", headers={"Last-Event-ID": ids[-1]}, timeout=30
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                assert json.loads(line[5:])["text"] == "third"
                break


def test_task_comments_are_read_in_the_tasks_thread(platform: Platform, issuer) -> None:
    """A comment posted on a task (201) is readable in the task's thread by the requesting and
    the receiving team, next to messages posted there; a team outside the task sees nothing."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl, ro, be = people(platform, issuer, jit)
    requested = nl.post(
        f"/jits/{jit}/tasks",
        {
            "to_team": RO,
            "title": "Check the phone subscriber",
            "description": "Identify the subscriber of the number in the lead.",
            "priority": "high",
            "details": {"kind": "investigative_action"},
        },
    )
    assert requested.status_code == 201, requested.text
    task_id = requested.json()["task_id"]
    comment = ro.post(
        f"/jits/{jit}/tasks/{task_id}/comments", {"text": "Subscriber data due Friday"}
    )
    assert comment.status_code == 201, comment.text
    url = f"/jits/{jit}/threads/task:{task_id}"

    def comments_of(member: Member) -> list[str]:
        shown = member.get(url)
        if shown.status_code != 200:
            return []
        return [m["text"] for m in shown.json()["messages"]]

    assert eventually(lambda: comments_of(nl) == ["Subscriber data due Friday"])
    posted = nl.post(f"{url}/messages", {"text": "Thanks"})
    assert posted.status_code == 201, posted.text
    assert comments_of(ro) == ["Subscriber data due Friday", "Thanks"]
    assert be.get(url).status_code == 404


def test_erasing_a_lead_erases_its_thread(platform: Platform, issuer) -> None:
    """A lead's thread is sealed with the lead's key: once the lead is erased, its thread is gone
    for every team, a new message about it is 410, and its events on the log cannot be opened."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    publish(
        platform.settings,
        [
            jit_record(
                JitRegistered(
                    jit_id=jit, name="Thread erasure", legal_basis="test", coordinator_team=NL,
                    member_teams=(NL, RO), starts_on=date(2026, 1, 1),
                )
            )
        ],
    )  # fmt: skip
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,),
                roles=("investigator", "coordinator"))  # fmt: skip
    ro = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    lead = nl.post(f"/jits/{jit}/leads", lead_body(f"thread-{uuid.uuid4().hex[:6]}"))
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["lead_id"]
    url = f"/jits/{jit}/threads/lead:{lead_id}"
    text = "The farm manager is Ilie Munteanu-Brad"
    posted = nl.post(f"{url}/messages", {"text": text, "thread_audience": [RO]})
    assert posted.status_code == 201, posted.text
    assert ro.get(url).status_code == 200

    erased = nl.post(f"/jits/{jit}/retention/lead/{lead_id}/erase", {"reason": "closed"})
    assert erased.status_code == 200, erased.text
    assert eventually(lambda: nl.get(url).status_code == 404 and ro.get(url).status_code == 404)
    assert nl.post(f"{url}/messages", {"text": "still there?"}).status_code == 410
    assert lead_id not in json.dumps(nl.get(f"/jits/{jit}/threads").json())

    # a command already on its way when the lead was erased reaches the worker: refused as gone,
    # and the worker goes on with other threads
    late = envelop(
        PostMessage(
            actor=Actor(member="anna", team=NL), thread_id=f"lead:{lead_id}",
            message_id=str(uuid.uuid4()), text="late",
        ),
        subject=f"lead:{lead_id}", jit=jit, originator=NL, source="/it",
        correlation_id=str(uuid.uuid4()),
    )  # fmt: skip
    publisher = Publisher(platform.settings)
    try:
        publisher.publish([late])
    finally:
        publisher.close()
    outcomes = read_events(
        platform.settings,
        OUTCOMES,
        where=lambda e: e.correlation_id == late.correlation_id,
        until=bool,
        timeout=60,
    )
    assert outcomes and isinstance(outcomes[0].data, CommandRejected), outcomes
    assert outcomes[0].data.status == 410
    other = f"/jits/{jit}/threads/jit:{jit}/messages"
    assert nl.post(other, {"text": "the worker goes on"}).status_code == 201

    raws = raw_records(
        platform.settings, MESSAGE_EVENTS, timeout=4, where=lambda raw: lead_id.encode() in raw
    )
    assert raws and not any(b"Munteanu" in raw for raw in raws)
    fresh = KafkaKeyRing(platform.settings, name="it-messaging-fresh").start()
    try:
        for raw in raws:
            with pytest.raises(ErasedEvent):
                decode(raw, ring=fresh)
    finally:
        fresh.stop()
