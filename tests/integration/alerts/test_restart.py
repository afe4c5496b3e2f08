"""The alerts worker killed in the middle of a burst of alerts loses none and raises none twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from events.alerts import AlertRaised
from events.topics import ALERT_EVENTS
from services.alerts.domain import alert_id_for
from tests.support.kafka import read_events
from tests.support.platform import Platform

from .support import Jit

BURST = 80


def test_killing_the_worker_mid_burst_loses_no_alert_and_raises_none_twice(
    alerts: Platform, jit: Jit
) -> None:
    """80 alerts are raised over HTTP while the alerts worker is killed (SIGKILL) after the
    first 40 and started again: exactly 80 AlertRaised, one per alert, each under one event id
    (a command redelivered after the kill is decided again under the same ids)."""
    member = jit.member(jit.ro)
    keys = [f"burst-{i}" for i in range(BURST)]

    def raise_one(key: str) -> int:
        response = member.http.post(
            f"/jits/{jit.id}/alerts",
            json={
                "idempotency_key": key,
                "severity": "P3",
                "category": "suspect_movement",
                "target_teams": [jit.nl, jit.ro],
                "summary": f"Vehicle {key} crossed the border at Nadlac.",
            },
            headers={"Prefer": "wait=1"},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        first_half = list(pool.map(raise_one, keys[: BURST // 2]))
        alerts.stop("alerts", kill=True)
        second_half = list(pool.map(raise_one, keys[BURST // 2 :]))
    alerts.start("alerts")
    alerts.wait_ready(["alerts"], timeout=60)
    assert set(first_half) <= {201, 202} and set(second_half) <= {201, 202}

    wanted = {alert_id_for(f"{jit.ro}/investigator/{key}") for key in keys}
    raised = read_events(
        alerts.settings,
        ALERT_EVENTS,
        where=lambda e: isinstance(e.data, AlertRaised) and e.data.alert_id in wanted,
        until=lambda found: {e.data.alert_id for e in found} >= wanted,  # type: ignore[attr-defined]
        timeout=120,
    )
    ids_per_alert: dict[str, set[str]] = {}
    for event in raised:
        assert isinstance(event.data, AlertRaised)
        ids_per_alert.setdefault(event.data.alert_id, set()).add(event.id)
    assert set(ids_per_alert) == wanted, f"missing {len(wanted - set(ids_per_alert))} alerts"
    assert len(ids_per_alert) == BURST
    twice = {alert for alert, ids in ids_per_alert.items() if len(ids) > 1}
    assert not twice, f"{len(twice)} alerts were raised twice under different event ids"
