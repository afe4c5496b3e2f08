"""An alert raised over HTTP reaches the desks live (SSE) and by signed webhook, with receipts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import eventually
from tests.support.platform import Platform

from .support import WebhookReceiver, is_page, register_jit, team_code

pytestmark = pytest.mark.integration


def test_alert_reaches_the_desk_stream_and_a_verifying_webhook_receiver(
    alerts: Platform, issuer: Any, receiver: WebhookReceiver
) -> None:
    """A P2 alert to NL and RO: NL's desk stream gets the page with the alert's content; both
    webhook receivers get a message whose HMAC signature verifies; NL's desk sees the
    AlertDelivered(webhook) receipt; RO's receiver keeps failing, so after the last of 3 tries
    RO's desk sees a final WebhookDeliveryFailed naming only the receiver's host."""
    jit = register_jit(alerts, issuer, webhook=receiver.url, team_leads=False)
    nl, ro = jit.nl, jit.ro
    receiver.fail.add(ro)
    nl_desk, ro_desk = jit.stream(nl), jit.stream(ro)
    try:
        assert nl_desk.status == 200
        alert_id = jit.raise_alert(jit.member(nl), severity="P2", category="victim_at_risk")

        page = nl_desk.wait_for(is_page(alert_id))
        assert page.event == "interlock.alert.routed"
        assert (page.id or "").startswith("c1-")
        assert page.payload["team"] == nl
        alert = page.data["alert"]
        assert alert["type"] == "interlock.alert.raised"
        assert alert["data"]["summary"].startswith("Vehicle linked")
        assert alert["data"]["severity"] == "P2"

        delivered = nl_desk.wait_for(
            lambda m: m.type == "interlock.alert.delivered" and m.alert_id == alert_id
        )
        assert delivered.payload["channel"] == "webhook"
        assert delivered.payload["status_code"] == 200
        assert delivered.payload["reference"].startswith("rcv-")

        nl_hooks = eventually(lambda: receiver.for_team(nl), timeout=10)
        assert len(nl_hooks) == 1
        assert nl_hooks[0].verified, nl_hooks[0].reason
        assert nl_hooks[0].body["event"]["type"] == "interlock.alert.routed"
        assert nl_hooks[0].body["alert"]["data"]["alert_id"] == alert_id

        failed = ro_desk.wait_for(
            lambda m: (
                m.type == "interlock.alert.webhook_delivery_failed"
                and m.alert_id == alert_id
                and m.payload["final"]
            ),
            timeout=20,
        )
        assert failed.payload["attempts"] == 3
        assert failed.payload["host"] == "127.0.0.1"
        assert "t0ps3cret" not in str(failed.data)
        ro_hooks = receiver.for_team(ro)
        assert len(ro_hooks) == 3
        assert all(r.verified for r in ro_hooks)
        assert [r.headers["Interlock-Attempt"] for r in ro_hooks] == ["1", "2", "3"]
        assert not [m for m in ro_desk.messages if m.type == "interlock.alert.delivered"]
        assert not [m for m in nl_desk.of(alert_id) if m.type.endswith("webhook_delivery_failed")]
    finally:
        nl_desk.close()
        ro_desk.close()


def test_desk_stream_is_only_for_that_teams_desk_officers(alerts: Platform, issuer: Any) -> None:
    """Another team's officer gets 403, an investigator of the team 403, no token 401, and a
    Last-Event-ID that is not a cursor 400 naming the header."""
    import httpx

    nl = team_code("NL")
    url = f"{alerts.base_url}/desks/{nl}/alerts/stream"

    def status(token: str | None, **headers: str) -> httpx.Response:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with httpx.stream("GET", url, headers=headers, timeout=10) as response:
            response.read()
            return response

    other = issuer.issue(member="x", team="RO-DIICOT", jits=("j",), roles=("desk_officer",))
    investigator = issuer.issue(member="y", team=nl, jits=("j",), roles=("investigator",))
    officer = issuer.issue(member="z", team=nl, jits=("j",), roles=("desk_officer",))
    assert status(None).status_code == 401
    assert status(other).status_code == 403
    assert status(investigator).status_code == 403
    bad = status(officer, **{"Last-Event-ID": "12:34"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "header.Last-Event-ID"
