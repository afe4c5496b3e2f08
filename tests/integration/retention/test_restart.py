"""The retention worker killed in the middle of a burst of erasures loses none and erases none
twice."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from events.directory import JitRegistered
from events.retention import SubjectErased
from events.topics import RETENTION_EVENTS
from services.admin import jit_record, publish
from tests.support.api import Member, eventually, lead_body
from tests.support.kafka import read_events
from tests.support.platform import Platform

OWNER = "NL-KLPD"
BURST = 30


def test_killing_the_worker_mid_burst_loses_no_erasure_and_erases_none_twice(
    platform: Platform, issuer
) -> None:  # type: ignore[no-untyped-def]
    """30 leads are erased on request while the retention worker is killed (SIGKILL) after the
    first 15 and started again: exactly 30 SubjectErased, one per lead, each under one event id
    (an erasure redelivered after the kill is published again under the same id)."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    publish(
        platform.settings,
        [
            jit_record(
                JitRegistered(
                    jit_id=jit,
                    name="Retention restart test",
                    legal_basis="test",
                    coordinator_team=OWNER,
                    member_teams=(OWNER,),
                    starts_on=date(2026, 1, 1),
                )
            )
        ],
    )
    coordinator = Member(
        platform.base_url,
        issuer,
        member="anna",
        team=OWNER,
        jits=(jit,),
        roles=("investigator", "coordinator"),
    )
    leads = []
    for i in range(BURST):
        submitted = coordinator.post(f"/jits/{jit}/leads", lead_body(f"retention-burst-{i}"))
        assert submitted.status_code == 201, submitted.text
        leads.append(submitted.json()["lead_id"])

    def erase(lead_id: str) -> int:
        response = coordinator.http.post(
            f"/jits/{jit}/retention/lead/{lead_id}/erase",
            json={"reason": "burst test"},
            headers={"Prefer": "wait=1"},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(erase, leads[: BURST // 2]))
        platform.stop("retention", kill=True)
        statuses += list(pool.map(erase, leads[BURST // 2 :]))
    platform.start("retention")
    platform.wait_ready(["retention"], timeout=60)
    for lead_id, status in zip(leads, statuses, strict=True):
        if status not in (200, 202):  # refused before the worker had observed the lead
            eventually(lambda lead_id=lead_id: erase(lead_id) in (200, 409), timeout=60)

    wanted = set(leads)
    erased = read_events(
        platform.settings,
        RETENTION_EVENTS,
        where=lambda e: isinstance(e.data, SubjectErased) and e.data.subject_id in wanted,
        until=lambda found: {e.data.subject_id for e in found} >= wanted,  # type: ignore[attr-defined]
        timeout=120,
    )
    ids_per_lead: dict[str, set[str]] = {}
    for event in erased:
        assert isinstance(event.data, SubjectErased)
        ids_per_lead.setdefault(event.data.subject_id, set()).add(event.id)
    assert set(ids_per_lead) == wanted, f"missing {len(wanted - set(ids_per_lead))} erasures"
    assert len(ids_per_lead) == BURST
    twice = {lead for lead, ids in ids_per_lead.items() if len(ids) > 1}
    assert not twice, f"{len(twice)} leads were erased twice under different event ids"
