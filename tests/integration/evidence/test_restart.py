"""Killing the evidence worker while files are registered loses none and registers none twice."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from events.evidence import EvidenceRegistered
from events.topics import EVIDENCE_EVENTS
from tests.integration.evidence.support import PNG, new_jit, upload
from tests.support.api import Member
from tests.support.kafka import read_events
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NL = "NL-KLPD"
FILES = 15
"""Files whose upload completes while the worker dies and comes back."""


def test_killing_the_worker_mid_burst_loses_no_item_and_registers_none_twice(
    platform: Platform, issuer: Any
) -> None:
    """15 uploads complete while the evidence worker is killed (SIGKILL) and restarted:
    afterwards each file is registered exactly once (one ``EvidenceRegistered`` event id per
    item, however often redelivered), and every item the gateway confirmed is among them."""
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))

    def send(i: int) -> httpx.Response:
        return upload(nl, jit, PNG + os.urandom(1024), filename=f"exhibit-{i}.png")

    with ThreadPoolExecutor(max_workers=FILES) as pool:
        futures = []
        for i in range(FILES):
            futures.append(pool.submit(send, i))
            time.sleep(0.05)
            if i == FILES // 3:
                platform.stop("evidence", kill=True)
        platform.start("evidence")
        platform.wait_ready(["evidence"])
        answers = [f.result() for f in futures]

    for answer in answers:  # 503: the worker was down longer than the gateway waits
        assert answer.status_code in (201, 503), answer.text
    confirmed = {a.json()["evidence_id"] for a in answers if a.status_code == 201}
    events = read_events(
        platform.settings,
        EVIDENCE_EVENTS,
        where=lambda e: e.jit == jit and isinstance(e.data, EvidenceRegistered),
        until=lambda found: len({e.data.evidence_id for e in found}) >= FILES,
        timeout=120,
    )
    ids_of: dict[str, str] = {}
    for event in events:
        assert ids_of.setdefault(event.data.evidence_id, event.id) == event.id, event.data
    assert len(ids_of) == FILES
    assert confirmed <= set(ids_of)
    print(
        f"\nevidence restart: {len(confirmed)} of {FILES} uploads confirmed at once, "
        f"{len(events)} records for {FILES} items ({len(events) - FILES} redeliveries of an id)"
    )
