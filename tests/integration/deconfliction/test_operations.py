"""Operation deconfliction end to end: overlap detected, cleared by a move, resolved by both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from events.deconfliction import OperationConflictDetected

from .support import CLEARED, CONFLICT, RESOLUTION, RESOLVED, EventLog, Jit

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


def _place(lat: float, lon: float, radius: float, start_h: float, end_h: float) -> dict[str, Any]:
    return {
        "latitude": lat,
        "longitude": lon,
        "radius_m": radius,
        "starts_at": (START + timedelta(hours=start_h)).isoformat(),
        "ends_at": (START + timedelta(hours=end_h)).isoformat(),
    }


def test_overlapping_operations_conflict_until_moved_and_are_resolved_by_both(
    jit: Jit, events: EventLog
) -> None:
    """Overlapping operations conflict (told to both), a move clears it, both teams resolve it."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    planned = nl.post(
        f"/jits/{jit.id}/operations",
        {"kind": "search", "place": _place(44.4268, 26.1025, 400, 0, 4)},
    )
    assert planned.status_code == 201, planned.text
    nl_op = planned.json()["operation_id"]
    planned = ro.post(
        f"/jits/{jit.id}/operations",
        {"kind": "arrest", "place": _place(44.4295, 26.1025, 300, 2, 6)},
    )
    assert planned.status_code == 201, planned.text
    ro_op = planned.json()["operation_id"]

    [detected_env] = events.wait(jit.id, CONFLICT)
    detected = detected_env.data
    assert isinstance(detected, OperationConflictDetected)
    assert detected_env.audience == {jit.nl, jit.ro}
    assert {s.operation_id for s in detected.sides} == {nl_op, ro_op}
    assert {s.desk for s in detected.sides} == {jit.desk(jit.nl), jit.desk(jit.ro)}
    assert (detected.severity, detected.category) == ("P1", "officer_safety")
    assert detected.overlap_starts_at == START + timedelta(hours=2)
    assert detected.overlap_ends_at == START + timedelta(hours=4)
    conflict = detected.conflict_id

    moved = ro.http.patch(
        f"/jits/{jit.id}/operations/{ro_op}", json={"latitude": 44.50, "longitude": 26.20}
    )
    assert moved.status_code == 200, moved.text
    [cleared] = events.wait(jit.id, CLEARED)
    assert cleared.data.conflict_id == conflict
    assert cleared.data.cause == "moved"
    assert cleared.audience == {jit.nl, jit.ro}

    back = ro.http.patch(
        f"/jits/{jit.id}/operations/{ro_op}", json={"latitude": 44.4295, "longitude": 26.1025}
    )
    assert back.status_code == 200, back.text
    again = events.wait(jit.id, CONFLICT, count=2)
    assert {e.data.conflict_id for e in again} == {conflict}

    path = f"/jits/{jit.id}/operation-conflicts/{conflict}/resolve"
    assert de.post(path, {}).status_code == 404, "not DE's conflict: answered as an unknown id"
    assert nl.post(path, {"note": "RO arrests first, NL searches after"}).status_code == 200
    assert nl.post(path, {}).status_code == 409
    assert events.events(jit.id, RESOLVED) == []
    assert ro.post(path, {}).status_code == 200
    [resolved] = events.wait(jit.id, RESOLVED)
    assert resolved.data.conflict_id == conflict
    assert resolved.audience == {jit.nl, jit.ro}
    assert len(events.events(jit.id, RESOLUTION)) == 2


def test_only_the_planning_team_moves_and_cancel_clears(jit: Jit, events: EventLog) -> None:
    """RO may not move NL's operation (the 404 of an unknown id); NL cancelling it clears the
    open conflict."""
    nl, ro = jit.member(jit.nl), jit.member(jit.ro)
    nl_op = nl.post(
        f"/jits/{jit.id}/operations",
        {"kind": "surveillance", "place": _place(52.37, 4.89, 1000, 0, 10)},
    ).json()["operation_id"]
    ro.post(
        f"/jits/{jit.id}/operations",
        {"kind": "controlled_delivery", "place": _place(52.372, 4.891, 500, 5, 8)},
    )
    events.wait(jit.id, CONFLICT)
    refused = ro.http.patch(f"/jits/{jit.id}/operations/{nl_op}", json={"radius_m": 10})
    assert refused.status_code == 404, refused.text
    assert "NL" not in refused.text
    cancelled = nl.post(f"/jits/{jit.id}/operations/{nl_op}/cancel", {"reason": "called off"})
    assert cancelled.status_code == 200, cancelled.text
    [cleared] = events.wait(jit.id, CLEARED)
    assert cleared.data.cause == "cancelled"


def test_operations_far_apart_or_at_other_times_do_not_conflict(jit: Jit, events: EventLog) -> None:
    """Operations far apart or on other days do not conflict; an inverted window is 422."""
    nl, ro, de = jit.member(jit.nl), jit.member(jit.ro), jit.member(jit.de)
    nl.post(
        f"/jits/{jit.id}/operations", {"kind": "search", "place": _place(48.2, 16.37, 500, 0, 2)}
    )
    ro.post(
        f"/jits/{jit.id}/operations", {"kind": "arrest", "place": _place(48.65, 16.37, 500, 0, 2)}
    )
    de.post(
        f"/jits/{jit.id}/operations", {"kind": "arrest", "place": _place(48.2, 16.37, 500, 30, 32)}
    )
    bad = nl.post(
        f"/jits/{jit.id}/operations", {"kind": "search", "place": _place(48.2, 16.37, 500, 2, 1)}
    )
    assert bad.status_code == 422
    events.wait(jit.id, "interlock.operation.planned", count=3, settle=2.0)
    assert events.events(jit.id, CONFLICT) == []
