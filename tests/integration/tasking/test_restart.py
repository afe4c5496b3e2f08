"""Killing the tasking worker while requests are in flight loses and duplicates nothing."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.api import Member, eventually
from tests.support.platform import Platform

from .support import TaskEventLog, Teams, task_body

pytestmark = pytest.mark.integration

TASKS = 20
"""Tasks accepted while the worker dies, and as many new requests sent at the same time."""


def _outcome(member: Member, response: httpx.Response) -> dict[str, Any]:
    """The command's outcome: the answer itself, or the status URL's once the worker is back."""
    if response.status_code != 202:
        return {"status_code": response.status_code, **response.json()}
    url = response.json()["status_url"]

    def settled() -> dict[str, Any] | None:
        late = member.http.get(url)
        return None if late.status_code == 202 else {"status_code": late.status_code, **late.json()}

    found: dict[str, Any] = eventually(settled, timeout=40, interval=0.5)
    return found


def test_killing_the_worker_mid_flight_loses_and_duplicates_no_event(
    tasking: Platform, teams: Teams, task_events: TaskEventLog
) -> None:
    """Accepts of 20 tasks and 20 new requests are sent while the worker is killed (SIGKILL) and
    restarted: afterwards each task has each of its events exactly once by id, every command has
    an outcome, and no event the gateway reported is missing."""
    jit, nl, ro = teams.jit, teams.nl, teams.ro
    existing = []
    for i in range(TASKS):
        created = nl.post(f"/jits/{jit}/tasks", task_body(idempotency_key=f"before-{i}"))
        assert created.status_code == 201, created.text
        existing.append(created.json()["task_id"])

    def accept(task: str) -> tuple[str, str, Member, httpx.Response]:
        return "accept", task, ro, ro.post(f"/jits/{jit}/tasks/{task}/accept", {})

    def request(i: int) -> tuple[str, str, Member, httpx.Response]:
        response = nl.post(f"/jits/{jit}/tasks", task_body(idempotency_key=f"during-{i}"))
        return "request", response.json()["task_id"], nl, response

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2 * TASKS) as pool:
        futures = []
        for i, task in enumerate(existing):
            futures += [pool.submit(accept, task), pool.submit(request, i)]
            time.sleep(0.02)
            if i == TASKS // 3:
                tasking.stop("tasking", kill=True)
                killed_at = datetime.now(UTC)
        tasking.start("tasking")
        tasking.wait_ready(["tasking"])
        answers = [f.result() for f in futures]
    back_after = time.monotonic() - started

    outcomes = [(task, _outcome(member, response)) for _, task, member, response in answers]
    late = sum(1 for *_, response in answers if response.status_code == 202)
    for task, outcome in outcomes:
        replayed = outcome["status_code"] == 409 and (
            "while it is accepted" in outcome["error"] or "already exists" in outcome["error"]
        )
        assert outcome["status_code"] in (200, 201) or replayed, (task, outcome)
    new = sorted({task for kind, task, *_ in answers if kind == "request"})
    assert len(new) == TASKS

    def settled() -> bool:
        return all(task_events.types(t) == ["requested", "accepted"] for t in existing) and all(
            task_events.types(t) == ["requested"] for t in new
        )

    eventually(settled, timeout=30)
    everything = [e for t in (*existing, *new) for e in task_events.events(t)]
    assert len(everything) == 3 * TASKS
    assert len({e.id for e in everything}) == 3 * TASKS
    per_task_type = Counter((e.subject, e.type) for e in everything)
    assert set(per_task_type.values()) == {1}
    reported = {event_id for _, outcome in outcomes for event_id in outcome.get("events", ())}
    assert reported <= {e.id for e in everything}

    by_new_worker = sum(1 for e in everything if e.time > killed_at)
    assert by_new_worker > 0, "no command was left for the restarted worker"

    records = sum(len(task_events.records(t)) for t in (*existing, *new))
    print(
        f"\nrestart: worker back after {back_after:.1f}s; {late} of {2 * TASKS} answers were "
        f"202; {by_new_worker} of {2 * TASKS} in-flight events written by the restarted worker; "
        f"{records} records for {len(everything)} distinct events "
        f"({records - len(everything)} redeliveries of an id)"
    )
