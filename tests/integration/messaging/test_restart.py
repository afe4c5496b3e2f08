"""Killing the messaging worker while messages are posted loses none and posts none twice."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from events.messaging import MessagePosted
from events.topics import MESSAGE_EVENTS
from tests.support.api import Member
from tests.support.kafka import read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NL, RO = "NL-KLPD", "RO-DIICOT"
THREADS = 3
MESSAGES = 30
"""Messages posted (over ``THREADS`` threads) while the worker dies and comes back."""


def test_killing_the_worker_mid_burst_loses_no_message_and_posts_none_twice(
    platform: Platform, issuer: Any
) -> None:
    """30 messages are posted to three lead threads while the messaging worker is killed
    (SIGKILL) and restarted: afterwards each of them is on the topic as one ``MessagePosted``
    (one event id, however often redelivered), each thread numbers its messages 1..n without a
    gap or a repeat, and every message the gateway confirmed is among them."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    threads = [f"lead:{uuid.uuid4()}" for _ in range(THREADS)]
    for thread in threads:
        opened = nl.post(
            f"/jits/{jit}/threads/{thread}/messages", {"text": "opened", "thread_audience": [RO]}
        )
        assert opened.status_code == 201, opened.text

    def post(i: int) -> httpx.Response:
        thread = threads[i % THREADS]
        return nl.post(f"/jits/{jit}/threads/{thread}/messages", {"text": f"message {i}"})

    with ThreadPoolExecutor(max_workers=MESSAGES) as pool:
        futures = []
        for i in range(MESSAGES):
            futures.append(pool.submit(post, i))
            time.sleep(0.02)
            if i == MESSAGES // 3:
                platform.stop("messaging", kill=True)
        platform.start("messaging")
        platform.wait_ready(["messaging"])
        answers = [f.result() for f in futures]

    for answer in answers:  # 503: the worker was down longer than the gateway waits
        assert answer.status_code in (201, 503), answer.text
    confirmed = {a.json()["message_id"] for a in answers if a.status_code == 201}
    expected = THREADS + MESSAGES
    events = read_events(
        platform.settings,
        MESSAGE_EVENTS,
        where=lambda e: e.subject in threads and isinstance(e.data, MessagePosted),
        until=lambda found: len({e.data.message_id for e in found}) >= expected,
        timeout=120,
    )
    ids_of: dict[str, str] = {}
    for event in events:
        assert ids_of.setdefault(event.data.message_id, event.id) == event.id, event.data
    assert len(ids_of) == expected
    assert confirmed <= set(ids_of)
    distinct = {e.id: e for e in events}.values()
    per_thread = Counter(e.subject for e in distinct)
    assert sum(per_thread.values()) == expected
    for thread in threads:
        seqs = sorted(e.data.seq for e in distinct if e.subject == thread)
        assert seqs == list(range(1, per_thread[thread] + 1)), (thread, seqs)
    print(
        f"\nmessaging restart: {len(confirmed)} of {MESSAGES} posts confirmed at once, "
        f"{len(events)} records for {expected} messages "
        f"({len(events) - expected} redeliveries of an id)"
    )
