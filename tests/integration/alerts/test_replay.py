"""A desk that reconnects with Last-Event-ID gets what it missed, and nothing twice."""

from __future__ import annotations

from collections import Counter

import pytest

from .support import DeskStream, Jit, is_page

pytestmark = pytest.mark.integration


def _pages(stream: DeskStream) -> list[str]:
    return [m.alert_id or "" for m in stream.messages if m.type == "interlock.alert.routed"]


def _ids(stream: DeskStream) -> list[str]:
    return [m.id or "" for m in stream.messages]


@pytest.mark.parametrize(
    "missed",
    [2, 6],
    ids=["from-the-ring", "from-kafka"],
)
def test_reconnect_replays_missed_alerts_once(jit: Jit, missed: int) -> None:
    """Alert A is seen live; ``missed`` alerts are raised while the desk is away; the reconnect
    with the last id gets exactly those pages, then a live one, and never A again.
    The module's ring holds 3 messages per desk, so 6 missed pages come from Kafka."""
    raiser = jit.member(jit.ro)
    first = jit.stream(jit.nl)
    try:
        seen = jit.raise_alert(raiser)
        first.wait_for(is_page(seen))
        last_id = first.last_id
    finally:
        first.close()

    watcher = jit.stream(jit.ro)
    try:
        away = [
            jit.raise_alert(raiser, summary=f"Sighting {i} at the border") for i in range(missed)
        ]
        for alert_id in away:
            watcher.wait_for(is_page(alert_id))
    finally:
        watcher.close()

    back = jit.stream(jit.nl, last_event_id=last_id)
    try:
        for alert_id in away:
            back.wait_for(is_page(alert_id))
        live = jit.raise_alert(raiser, summary="Seen again after the reconnect")
        back.wait_for(is_page(live))
        pages = _pages(back)
        assert sorted(pages[:-1]) == sorted(away), "alerts on different partitions may interleave"
        assert pages[-1] == live
        assert seen not in pages
        assert not [i for i, n in Counter(_ids(back)).items() if n > 1]
        assert all(
            m.data["alert"]["data"]["summary"]
            for m in back.messages
            if m.type == "interlock.alert.routed"
        )

        again = jit.stream(jit.nl, last_event_id=back.last_id)
        try:
            later = jit.raise_alert(raiser, summary="One more")
            again.wait_for(is_page(later))
            assert _pages(again) == [later]
        finally:
            again.close()
    finally:
        back.close()


def test_a_fresh_stream_starts_live(jit: Jit) -> None:
    """Without Last-Event-ID the desk gets what happens from now on, not the history."""
    raiser = jit.member(jit.ro)
    watcher = jit.stream(jit.ro)
    try:
        before = jit.raise_alert(raiser)
        watcher.wait_for(is_page(before))
    finally:
        watcher.close()
    fresh = jit.stream(jit.nl)
    try:
        after = jit.raise_alert(raiser)
        fresh.wait_for(is_page(after))
        assert _pages(fresh) == [after]
    finally:
        fresh.close()
