"""Deadlines and consent on the real worker: overdue notices from the timer, referrals stopped."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from events.topics import ALERT_EVENTS
from tests.support.api import Member, eventually
from tests.support.platform import Platform

from .support import NL, RO, TaskEventLog, Teams, register_in_directory, task_body

pytestmark = pytest.mark.integration


def test_task_not_accepted_in_time_emits_one_overdue_notice_for_the_receiving_team(
    teams: Teams, task_events: TaskEventLog
) -> None:
    """A task whose respond_by passes unaccepted gets one TaskOverdue (response deadline, RO
    responsible) told to both teams; the timer does not repeat it."""
    jit, nl = teams.jit, teams.nl
    # ten seconds: on a busy machine the request itself can take several
    respond_by = datetime.now(UTC) + timedelta(seconds=10)
    created = nl.post(
        f"/jits/{jit}/tasks",
        task_body(
            respond_by=respond_by.isoformat(),
            due_at=(respond_by + timedelta(hours=1)).isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    task = created.json()["task_id"]

    def overdue() -> list:  # type: ignore[type-arg]
        return [e for e in task_events.events(task) if e.type == "interlock.task.overdue"]

    (notice,) = eventually(overdue, timeout=30)
    emitted_after = notice.time - respond_by
    assert timedelta(0) <= emitted_after < timedelta(seconds=5), emitted_after
    assert notice.data.deadline == "response"
    assert notice.data.responsible_team == RO
    assert notice.data.due_at == respond_by
    assert notice.audience == {NL, RO}
    assert notice.aggregate_version == 2

    time.sleep(3)  # several timer periods: a second notice would show up here
    assert [e.type for e in task_events.events(task)] == [
        "interlock.task.requested",
        "interlock.task.overdue",
    ]

    def overdue_for(member: Member) -> list[str]:
        return [t["id"] for t in member.get(f"/jits/{jit}/tasks", view="overdue").json()["items"]]

    assert eventually(lambda: overdue_for(teams.ro) == [task])
    assert overdue_for(nl) == [task]
    assert overdue_for(teams.de) == []


def test_overdue_task_raises_an_alert_for_the_receiving_teams_desk(
    teams: Teams, tasking: Platform, task_events: TaskEventLog
) -> None:
    """The alerts service turns the TaskOverdue into a task-overdue alert for RO's desk, linked to
    the task (needs the alerts role; skipped in sessions without it)."""
    if "alerts" not in tasking.processes:
        pytest.skip("the alerts role does not run in this session")
    register_in_directory(tasking, teams)
    alerts = TaskEventLog(tasking, ALERT_EVENTS)
    try:
        respond_by = datetime.now(UTC) + timedelta(seconds=2)
        task = teams.nl.post(
            f"/jits/{teams.jit}/tasks", task_body(respond_by=respond_by.isoformat())
        ).json()["task_id"]

        def raised() -> list:  # type: ignore[type-arg]
            return [
                e
                for e in alerts.everything()
                if e.type == "interlock.alert.raised"
                and any(link.id == task for link in e.data.links)
            ]

        (alert,) = eventually(raised, timeout=30)
        assert alert.data.category == "task_overdue"
        assert alert.data.target_teams == (RO,)
        assert "overdue" in task_events.types(task)
    finally:
        alerts.close()


def test_accepted_task_is_not_reported_for_its_response_deadline(
    teams: Teams, task_events: TaskEventLog
) -> None:
    """A task accepted before respond_by owes no response notice when that time passes."""
    jit, nl, ro = teams.jit, teams.nl, teams.ro
    respond_by = datetime.now(UTC) + timedelta(seconds=2)
    task = nl.post(f"/jits/{jit}/tasks", task_body(respond_by=respond_by.isoformat())).json()[
        "task_id"
    ]
    assert ro.post(f"/jits/{jit}/tasks/{task}/accept", {}).status_code == 200
    time.sleep(max(0.0, (respond_by - datetime.now(UTC)).total_seconds()) + 3)
    assert task_events.types(task) == ["requested", "accepted"]


def _consent(decision: str, minutes_ago: int = 5) -> dict[str, object]:
    return {
        "decision": decision,
        "by": "victim-entity-42",
        "at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "purposes": ["referral to shelter", "sharing with RO-DIICOT"],
    }


def test_consent_withdrawal_stops_a_referral_and_both_teams_learn_it(
    teams: Teams, task_events: TaskEventLog
) -> None:
    """Withdrawn consent stops an accepted referral: ConsentRecorded then ReferralStopped, told to
    NL and RO; the receiving team can no longer start it."""
    jit, nl, ro = teams.jit, teams.nl, teams.ro
    referral = task_body(
        title="Shelter place for a victim",
        description="Refer the victim to a shelter through the national referral mechanism.",
        details={"kind": "victim_referral", "service": "shelter", "consent": _consent("given")},
    )
    created = nl.post(f"/jits/{jit}/tasks", referral)
    assert created.status_code == 201, created.text
    task = created.json()["task_id"]
    assert ro.post(f"/jits/{jit}/tasks/{task}/accept", {}).status_code == 200

    withdrawn = nl.post(f"/jits/{jit}/tasks/{task}/consent", _consent("withdrawn", 0))
    assert withdrawn.status_code == 201, withdrawn.text
    assert len(withdrawn.json()["events"]) == 2

    events = eventually(lambda: (found := task_events.events(task)) and len(found) >= 4 and found)
    assert [e.type.removeprefix("interlock.task.") for e in events] == [
        "requested",
        "accepted",
        "consent_recorded",
        "referral_stopped",
    ]
    stopped = events[-1]
    assert stopped.audience == {NL, RO}
    assert stopped.data.previous_status == "accepted"
    assert stopped.data.team == NL

    too_late = ro.http.post(f"/jits/{jit}/tasks/{task}/start")
    assert too_late.status_code == 409, too_late.text
    assert "stopped" in too_late.json()["error"]


def test_referral_without_given_consent_is_refused(teams: Teams) -> None:
    """A referral whose consent record is a withdrawal is refused with 422 on details.consent."""
    jit, nl = teams.jit, teams.nl
    refused = nl.post(
        f"/jits/{jit}/tasks",
        task_body(
            details={
                "kind": "victim_referral",
                "service": "medical_care",
                "consent": _consent("withdrawn"),
            }
        ),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "details.consent"
