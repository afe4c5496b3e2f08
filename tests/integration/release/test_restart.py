"""Killing the release worker mid-burst loses no event from a feed and sends none to a team that
may not see it; a redelivery repeats an event's id, never a new one."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from events.topics import FEED_PREFIX
from tests.support.api import Member, lead_body
from tests.support.kafka import read_events
from tests.support.platform import Platform, burst_through_a_kill

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

LEADS = 30
NL, RO, BG = "NL-KLPD", "RO-DIICOT", "BG-GDBOP"


def test_killing_the_release_mid_burst_loses_no_feed_event(platform: Platform, issuer) -> None:
    """30 leads, shared with RO only, are submitted while the release worker is killed (SIGKILL)
    and restarted: RO's feed has each lead's submission exactly once by id, BG's has none."""
    jit = f"jit-rel-{uuid.uuid4().hex[:6]}"
    nl = Member(platform.base_url, issuer, member="rel-nl", team=NL, jits=(jit,))

    def submit(i: int) -> str:
        body = lead_body(f"rel-{i}-{uuid.uuid4()}", releasable_to=[RO])
        response = nl.post(f"/jits/{jit}/leads", body)
        assert response.status_code in (201, 202), response.text
        return str(response.json()["lead_id"])

    leads, back_after = burst_through_a_kill(platform, "release", submit, LEADS)
    assert len(leads) == LEADS

    settings = platform.settings
    wanted = set(leads)

    def submitted(team: str, timeout: float) -> list:
        return read_events(
            settings,
            settings.topic(FEED_PREFIX + team),
            where=lambda e: e.type == "interlock.lead.submitted" and e.subject in wanted,
            until=lambda found: {e.subject for e in found} >= wanted,
            timeout=timeout,
        )

    on_ro = submitted(RO, 120)
    assert {e.subject for e in on_ro} == wanted
    per_lead = Counter(e.subject for e in on_ro)
    ids_per_lead = {lead: {e.id for e in on_ro if e.subject == lead} for lead in wanted}
    assert all(len(ids) == 1 for ids in ids_per_lead.values()), "a lead submitted twice"
    assert submitted(BG, 5) == []
    print(
        f"\nrelease restart: back after {back_after:.1f}s; {len(on_ro)} records on RO's feed "
        f"for {LEADS} leads ({sum(per_lead.values()) - LEADS} redeliveries of an id); none on BG's"
    )
