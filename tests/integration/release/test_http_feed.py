"""The HTTP feed through the gateway: pages resume from their cursor with nothing lost or
repeated, the stream resumes from Last-Event-ID, and only the team may read its feed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.integration.release.conftest import Feeds, new_team, triaged
from tests.support.api import Member
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _publish(feeds: Feeds, team: str, count: int, aggregates: int = 3) -> list[str]:
    """``count`` events of ``team`` over a few aggregates; returns their ids in write order."""
    import uuid

    heads = [triaged(team) for _ in range(aggregates)]
    events = [
        heads[i % aggregates].model_copy(update={"id": str(uuid.uuid4()), "aggregate_version": i})
        for i in range(count)
    ]
    feeds.publish(events)
    wanted = {e.id for e in events}
    feeds.wait_for(team, lambda ev: wanted <= {e["id"] for e in ev})
    return [e.id for e in events]


def _in_order_per_aggregate(got: list[dict[str, Any]], written: list[str]) -> bool:
    position = {event_id: i for i, event_id in enumerate(written)}
    last: dict[str, int] = {}
    for event in got:
        if position[event["id"]] < last.get(event["subject"], -1):
            return False
        last[event["subject"]] = position[event["id"]]
    return True


def _pages(
    member: Member, team: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """Every page from ``cursor`` until caught up: the events and the last cursor."""
    events: list[dict[str, Any]] = []
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = member.get(f"/feeds/{team}/events", **params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["events"]) <= limit
        events += body["events"]
        cursor = body["cursor"]
        if body["caught_up"] and not body["events"]:
            break
    assert cursor is not None
    return events, cursor


def test_pages_resume_from_their_cursor_with_nothing_lost_or_repeated(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """Eleven events in pages of three, then five more from the last cursor: each exactly once."""
    team = new_team("NL")
    system = Member(
        platform.base_url, issuer, member="ns-feed", team=team, jits=(), roles=("national_system",)
    )
    first = _publish(feeds, team, 11)
    got, cursor = _pages(system, team, None, limit=3)
    assert sorted(e["id"] for e in got) == sorted(first)

    later = _publish(feeds, team, 5)
    resumed, _ = _pages(system, team, cursor, limit=3)
    assert sorted(e["id"] for e in resumed) == sorted(later)

    handed_out = [e["id"] for e in got + resumed]
    assert len(handed_out) == len(set(handed_out)), "an event came twice"
    assert _in_order_per_aggregate(got + resumed, first + later)


def test_only_the_team_reads_its_feed_and_a_bad_cursor_is_named(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """Another team's member gets 403; a forged cursor gets 422 naming ``query.cursor``."""
    team, other = new_team("NL"), new_team("RO")
    _publish(feeds, team, 1)
    member = Member(platform.base_url, issuer, member="anna", team=team, jits=())
    outsider = Member(platform.base_url, issuer, member="ioana", team=other, jits=())
    assert member.get(f"/feeds/{team}/events").status_code == 200
    refused = outsider.get(f"/feeds/{team}/events")
    assert refused.status_code == 403, refused.text
    bad = member.get(f"/feeds/{team}/events", cursor="v1.not-a-cursor")
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"] == "query.cursor"
    anonymous = httpx.get(f"{platform.base_url}/feeds/{team}/events", timeout=10)
    assert anonymous.status_code == 401


def _stream(
    member: Member, team: str, count: int, last_event_id: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Read ``count`` events from the SSE stream: (id, CloudEvent) pairs."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    out: list[tuple[str, dict[str, Any]]] = []
    with member.http.stream(
        "GET", f"/feeds/{team}/stream", headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200
        event_id, data = "", ""
        for line in response.iter_lines():
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                out.append((event_id, json.loads(data)))
                event_id, data = "", ""
                if len(out) == count:
                    break
    return out


def test_the_stream_resumes_from_last_event_id(
    platform: Platform, issuer: Any, feeds: Feeds
) -> None:
    """A reconnect with the id of the third event gets the fourth onwards, and new ones live."""
    team = new_team("BG")
    member = Member(platform.base_url, issuer, member="desk", team=team, jits=())
    ids = _publish(feeds, team, 6)
    head = _stream(member, team, 3, None)
    rest_ids = {e["id"] for _, e in head}
    assert rest_ids <= set(ids)
    tail = _stream(member, team, 3, head[-1][0])
    assert {e["id"] for _, e in tail} == set(ids) - rest_ids
    live = triaged(team)
    feeds.publish([live])
    assert _stream(member, team, 1, tail[-1][0])[0][1]["id"] == live.id
