"""Repeats of a condition fold into the open alert; other contexts' events raise alerts once."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.codec import envelop
from events.deconfliction import ConflictSide, OperationConflictDetected
from services.kit.kafka import Publisher
from tests.support.platform import Platform

from .support import Jit, is_page

pytestmark = pytest.mark.integration


def test_a_repeat_folds_into_the_open_alert_without_paging_again(jit: Jit) -> None:
    """The same dedup key raised again (by another member, as another alert) while the first is
    open gives AlertDeduplicated with count 2 on the desk and no second page; once resolved, the
    condition pages afresh."""
    desk = jit.stream(jit.nl)
    try:
        key = f"opconflict:OP-{uuid.uuid4().hex[:6]}:OP-2"
        first = jit.raise_alert(jit.member(jit.nl), dedup_key=key)
        desk.wait_for(is_page(first))
        repeat = jit.raise_alert(jit.member(jit.ro, "ioana"), dedup_key=key)

        folded = desk.wait_for(lambda m: m.type.endswith(".deduplicated"))
        assert folded.alert_id == first
        assert folded.payload["duplicate_id"] == repeat
        assert folded.payload["count"] == 2
        time.sleep(1)
        assert [m.alert_id for m in desk.messages if m.type.endswith(".routed")] == [first]

        resolved = jit.desk_officer(jit.nl).post(
            f"/jits/{jit.id}/alerts/{first}/resolve", {"reason": "operations re-planned"}
        )
        assert resolved.status_code == 200, resolved.text
        desk.wait_for(lambda m: m.type.endswith(".resolved") and m.alert_id == first)
        fresh = jit.raise_alert(jit.member(jit.nl), dedup_key=key)
        desk.wait_for(is_page(fresh))
    finally:
        desk.close()


def test_operation_conflict_pages_both_desks_once_with_a_p1(alerts: Platform, jit: Jit) -> None:
    """An OperationConflictDetected from deconfliction becomes one P1 officer-safety alert paged
    to both teams' desks; the same event delivered twice raises it once."""
    nl_desk, ro_desk = jit.stream(jit.nl), jit.stream(jit.ro)
    now = datetime.now(UTC)
    conflict = OperationConflictDetected(
        conflict_id=str(uuid.uuid4()),
        jit=jit.id,
        sides=(
            ConflictSide(team=jit.nl, operation_id="OP-NL-7"),
            ConflictSide(team=jit.ro, operation_id="OP-RO-3"),
        ),
        overlap_latitude=46.1431,
        overlap_longitude=20.7144,
        overlap_radius_m=250.0,
        overlap_starts_at=now + timedelta(hours=2),
        overlap_ends_at=now + timedelta(hours=3),
        detected_at=now,
    )
    event = envelop(
        conflict,
        subject=conflict.conflict_id,
        jit=jit.id,
        originator=jit.ro,
        source="/interlock/deconfliction",
        correlation_id=str(uuid.uuid4()),
        releasable_to={jit.nl},
    )
    publisher = Publisher(alerts.settings)
    try:
        publisher.publish([event])
        publisher.publish([event])
        pages = [
            desk.wait_for(lambda m: m.type.endswith(".routed"), timeout=20)
            for desk in (nl_desk, ro_desk)
        ]
        alert = pages[0].data["alert"]["data"]
        assert pages[0].alert_id == pages[1].alert_id
        assert alert["severity"] == "P1"
        assert alert["category"] == "officer_safety"
        assert sorted(alert["target_teams"]) == sorted([jit.nl, jit.ro])
        assert {"kind": "conflict", "id": conflict.conflict_id} in alert["links"]
        time.sleep(1.5)
        for desk in (nl_desk, ro_desk):
            assert len([m for m in desk.messages if m.type.endswith(".routed")]) == 1
    finally:
        publisher.close()
        nl_desk.close()
        ro_desk.close()


def test_a_lead_triaged_as_urgent_pages_its_own_teams_desk(jit: Jit) -> None:
    """A lead submitted and triaged as urgent through the leads service raises a P2 alert to the
    submitting team's desk, linked to the lead; the other team's desk is not paged."""
    from tests.support.api import lead_body

    nl_desk, ro_desk = jit.stream(jit.nl), jit.stream(jit.ro)
    try:
        analyst = jit.member(jit.nl, "anna")
        created = analyst.post(f"/jits/{jit.id}/leads", lead_body(f"urgent-{uuid.uuid4()}"))
        assert created.status_code == 201, created.text
        lead_id = created.json()["lead_id"]
        triaged = analyst.post(
            f"/jits/{jit.id}/leads/{lead_id}/triage", {"assignee": "anna", "priority": "urgent"}
        )
        assert triaged.status_code == 200, triaged.text

        page = nl_desk.wait_for(lambda m: m.type.endswith(".routed"), timeout=20)
        alert = page.data["alert"]["data"]
        assert alert["severity"] == "P2"
        assert alert["target_teams"] == [jit.nl]
        assert alert["links"] == [{"kind": "lead", "id": lead_id}]
        assert lead_id in alert["summary"]
        time.sleep(1)
        assert not [m for m in ro_desk.messages if m.type.endswith(".routed")]
    finally:
        nl_desk.close()
        ro_desk.close()
