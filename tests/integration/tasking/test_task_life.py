"""A task's life across two teams through the gateway and the tasking worker on real Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import Member, eventually

from .support import NL, RO, TaskEventLog, Teams, task_body

pytestmark = pytest.mark.integration

LIFE = ["requested", "accepted", "started", "blocked", "unblocked", "completed"]


def test_task_goes_through_its_whole_life_across_two_teams(
    teams: Teams, task_events: TaskEventLog
) -> None:
    """NL requests, RO accepts, starts, blocks, unblocks, completes: exactly six events, in order,
    each told to both teams, versioned 1..6, with the ids the gateway answered."""
    jit, nl, ro = teams.jit, teams.nl, teams.ro
    created = nl.post(f"/jits/{jit}/tasks", task_body())
    assert created.status_code == 201, created.text
    task = created.json()["task_id"]
    answered = list(created.json()["events"])

    steps = [
        ("accept", {}),
        ("start", None),
        ("block", {"reason": "Waiting for a court order"}),
        ("unblock", None),
        ("complete", {"result_summary": "Subscriber identified as entity E-19"}),
    ]
    for action, body in steps:
        path = f"/jits/{jit}/tasks/{task}/{action}"
        response = ro.post(path, body) if body is not None else ro.http.post(path)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == "accepted"
        answered += response.json()["events"]

    events = eventually(lambda: (found := task_events.events(task)) and len(found) >= 6 and found)
    assert [e.type.removeprefix("interlock.task.") for e in events] == LIFE
    assert [e.id for e in events] == answered
    assert [e.aggregate_version for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.originator for e in events] == [NL, RO, RO, RO, RO, RO]
    assert all(e.audience == {NL, RO} and e.jit == jit for e in events)
    requested, accepted = events[0].data, events[1].data
    assert (requested.team, requested.to_team, requested.by) == (NL, RO, "anna")
    assert accepted.assignee == "ioana"
    assert events[-1].data.result_summary == "Subscriber identified as entity E-19"


def test_third_team_gets_404_wrong_party_403_and_nothing_is_written(
    teams: Teams, task_events: TaskEventLog
) -> None:
    """DE (in the JIT, the task not released to it) learns nothing: the 404 of an unknown task.
    The requester may not accept its own request: 403 with the reason. Only the request is
    written."""
    jit, nl, de = teams.jit, teams.nl, teams.de
    task = nl.post(f"/jits/{jit}/tasks", task_body()).json()["task_id"]

    by_third = de.post(f"/jits/{jit}/tasks/{task}/accept", {})
    assert by_third.status_code == 404, by_third.text
    assert by_third.json()["error"] == f"no task {task}"
    assert "RO-DIICOT" not in by_third.text and "NL-" not in by_third.text

    by_requester = nl.post(f"/jits/{jit}/tasks/{task}/accept", {})
    assert by_requester.status_code == 403, by_requester.text
    assert "only the receiving team RO-DIICOT may accept" in by_requester.json()["error"]

    third_comment = de.post(f"/jits/{jit}/tasks/{task}/comments", {"text": "Mine too?"})
    assert third_comment.status_code == 404, third_comment.text

    outsider = de.post("/jits/jit-elsewhere/tasks", task_body())
    assert outsider.status_code == 403
    assert eventually(lambda: task_events.types(task) == ["requested"])


def test_wrong_transition_gets_409_with_the_reason(teams: Teams, task_events: TaskEventLog) -> None:
    """Completing a task that was never started, or accepting it twice, is a 409 that says why."""
    jit, nl, ro = teams.jit, teams.nl, teams.ro
    task = nl.post(f"/jits/{jit}/tasks", task_body()).json()["task_id"]

    early = ro.post(f"/jits/{jit}/tasks/{task}/complete", {"result_summary": "done"})
    assert early.status_code == 409, early.text
    assert "cannot complete" in early.json()["error"]
    assert "while it is requested" in early.json()["error"]

    assert ro.post(f"/jits/{jit}/tasks/{task}/accept", {}).status_code == 200
    again = ro.post(f"/jits/{jit}/tasks/{task}/accept", {})
    assert again.status_code == 409, again.text

    cancelled = nl.post(f"/jits/{jit}/tasks/{task}/cancel", {"reason": "No longer needed"})
    assert cancelled.status_code == 200, cancelled.text
    too_late = ro.http.post(f"/jits/{jit}/tasks/{task}/start")
    assert too_late.status_code == 409, too_late.text
    assert eventually(lambda: task_events.types(task) == ["requested", "accepted", "cancelled"])


def test_bad_input_gets_422_naming_the_field(teams: Teams) -> None:
    """Body errors are refused by the gateway, domain errors by the service; both name the field."""
    jit, nl = teams.jit, teams.nl
    bad_team = nl.post(f"/jits/{jit}/tasks", task_body(to_team="romania", title=""))
    assert bad_team.status_code == 422, bad_team.text
    fields = {e["field"] for e in bad_team.json()["errors"]}
    assert {"body.to_team", "body.title"} <= fields

    soon = datetime.now(UTC) + timedelta(hours=1)
    inverted = nl.post(
        f"/jits/{jit}/tasks",
        task_body(respond_by=(soon + timedelta(hours=1)).isoformat(), due_at=soon.isoformat()),
    )
    assert inverted.status_code == 422, inverted.text
    assert inverted.json()["errors"][0]["field"] == "body.respond_by"

    no_consent = nl.post(
        f"/jits/{jit}/tasks",
        task_body(details={"kind": "victim_referral", "service": "shelter"}),
    )
    assert no_consent.status_code == 422, no_consent.text
    assert no_consent.json()["errors"][0]["field"] == "details.consent"

    past = nl.post(
        f"/jits/{jit}/tasks",
        task_body(due_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat()),
    )
    assert past.status_code == 422, past.text
    assert past.json()["errors"][0]["field"] == "due_at"


def test_task_reads_are_scoped_to_the_teams_that_see_the_task(teams: Teams) -> None:
    """Through the projection: both teams get the task and find it in their lists (NL under
    requested, RO under team and mine once accepted); DE, not in the audience, gets 404 and
    empty lists."""
    jit, nl, ro, de = teams.jit, teams.nl, teams.ro, teams.de
    task = nl.post(f"/jits/{jit}/tasks", task_body()).json()["task_id"]
    assert ro.post(f"/jits/{jit}/tasks/{task}/accept", {}).status_code == 200

    seen = eventually(
        lambda: (
            (r := ro.get(f"/jits/{jit}/tasks/{task}")).status_code == 200
            and r.json()["status"] == "accepted"
            and r.json()
        )
    )
    assert (seen["team"], seen["to_team"], seen["assignee"]) == (NL, RO, "ioana")
    assert nl.get(f"/jits/{jit}/tasks/{task}").json()["title"] == "Check the phone subscriber"

    def ids(member: Member, **params: str) -> list[str]:
        response = member.get(f"/jits/{jit}/tasks", **params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids(nl, view="requested") == [task]
    assert ids(nl, view="team") == []
    assert ids(ro, view="team") == [task]
    assert ids(ro, view="mine") == [task]
    assert ids(ro, view="overdue") == []
    assert ids(ro, status="accepted") == [task]
    assert ids(ro, status="completed") == []

    hidden = de.get(f"/jits/{jit}/tasks/{task}")
    assert hidden.status_code == 404, hidden.text
    assert ids(de) == []
    assert de.get(f"/jits/{jit}/tasks", view="nonsense").status_code == 422
