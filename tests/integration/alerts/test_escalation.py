"""Unacknowledged alerts escalate after their deadline, acknowledged ones do not, and the timer
survives a restart of the alerts worker. The module's P1 deadline is 4 seconds."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.support.platform import Platform

from .conftest import P1_SECONDS
from .support import DeskStream, Jit, is_page

pytestmark = pytest.mark.integration


def _escalations(stream: DeskStream, alert_id: str) -> list[int]:
    return [m.payload["step"] for m in stream.of(alert_id, ".escalated")]


def test_unacknowledged_alert_escalates_and_acknowledged_one_does_not(jit: Jit) -> None:
    """Two P1 officer-safety alerts: the one nobody acknowledges goes to the team lead after the
    deadline and to the coordinator's desk one deadline later; the one RO's desk acknowledges
    at once never escalates, and a second acknowledgement is refused with 409."""
    nl_desk = jit.stream(jit.nl)
    coordinator_desk = jit.stream(jit.coordinator)
    try:
        raiser = jit.member(jit.nl)
        ignored = jit.raise_alert(raiser, severity="P1", category="officer_safety")
        raised = time.monotonic()  # its deadline counts from here, not from the checks below
        handled = jit.raise_alert(raiser, severity="P1", category="officer_safety")
        nl_desk.wait_for(is_page(handled))

        ro_officer = jit.desk_officer(jit.ro)
        acked = ro_officer.post(f"/jits/{jit.id}/alerts/{handled}/acknowledge", {})
        assert acked.status_code == 200, acked.text
        again = ro_officer.post(f"/jits/{jit.id}/alerts/{handled}/acknowledge", {})
        assert again.status_code == 409, again.text
        nl_desk.wait_for(lambda m: m.type.endswith(".acknowledged") and m.alert_id == handled)

        first = nl_desk.wait_for(
            lambda m: m.type.endswith(".escalated") and m.alert_id == ignored, timeout=15
        )
        assert time.monotonic() - raised >= P1_SECONDS - 2
        assert first.payload["to"] == "team_lead"
        assert first.payload["member"] == f"lead-{jit.nl.lower()}"
        assert first.data["alert"]["data"]["alert_id"] == ignored

        last = coordinator_desk.wait_for(
            lambda m: m.type.endswith(".escalated") and m.alert_id == ignored, timeout=15
        )
        assert last.payload["to"] == "coordinator_desk"
        assert last.payload["team"] == jit.coordinator
        assert "alert" not in last.data, "the coordinator team was not a target of the raise"

        time.sleep(1)
        assert _escalations(nl_desk, ignored) == [1, 2]
        assert _escalations(nl_desk, handled) == []
        assert not coordinator_desk.of(handled)
    finally:
        nl_desk.close()
        coordinator_desk.close()


def test_escalation_timer_survives_a_restart_of_the_alerts_worker(
    alerts: Platform, jit: Jit
) -> None:
    """The worker is killed (SIGKILL) right after a P1 alert is paged and restarted: the
    escalation the alert is owed still comes, exactly once per step."""
    nl_desk = jit.stream(jit.nl)
    try:
        alert_id = jit.raise_alert(jit.member(jit.ro), severity="P1", category="victim_at_risk")
        nl_desk.wait_for(is_page(alert_id))
        alerts.stop("alerts", kill=True)
        alerts.start("alerts")
        alerts.wait_ready(["alerts"], timeout=45)

        nl_desk.wait_for(
            lambda m: m.type.endswith(".escalated") and m.alert_id == alert_id, timeout=30
        )
        nl_desk.wait_for(
            lambda m: (
                m.type.endswith(".escalated") and m.alert_id == alert_id and m.payload["step"] == 2
            ),
            timeout=20,
        )
        time.sleep(2)
        assert Counter(_escalations(nl_desk, alert_id)) == {1: 1, 2: 1}
        assert len(nl_desk.of(alert_id, ".routed")) == 1
    finally:
        nl_desk.close()
