"""A scripted JIT for the indicators: known alerts, acknowledgements at known times, hits,
decisions, tasks, referrals, leads and data-protection events — and the values every
indicator must have for it (``EXPECTED``), worked out by hand in the comments.

The same script feeds the pure unit tests (events → facts → indicators) and the integration
test (events on the real topics → the indicators worker → Neo4j → the HTTP API).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from events.alerts import (
    AlertAcknowledged,
    AlertDeduplicated,
    AlertEscalated,
    AlertLink,
    AlertRaised,
    AlertResolved,
    AlertRouted,
    Category,
    EscalationTarget,
    LinkKind,
    RouteBasis,
    Severity,
)
from events.audit import AuditKind, AuditRecorded, Justification
from events.codec import envelop
from events.deconfliction import (
    ConflictSide,
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    HitSide,
    HitStatus,
    OperationConflictDetected,
    OperationConflictResolved,
    OperationKind,
    OperationPlace,
    OperationPlanned,
    ReleasedDetails,
    RoleConflictDetected,
    RoleSide,
    TokenRegistered,
    TokenScope,
)
from events.envelope import Envelope, Event
from events.identifiers import IdentifierKind, PersonRole
from events.leads import (
    InformationCredibility,
    LeadActioned,
    LeadPriority,
    LeadSubmitted,
    LeadTriaged,
    SourceReliability,
    SourceType,
)
from events.retention import DataCategory, RetentionExtended, ReviewDue, SubjectErased, SubjectKind
from events.tasking import (
    ConsentDecision,
    ConsentRecord,
    ConsentRecorded,
    Deadline,
    InformationRequest,
    InvestigativeAction,
    LegalAssistance,
    ReferralService,
    ReferralStopped,
    TaskAccepted,
    TaskCompleted,
    TaskDeclined,
    TaskLinks,
    TaskOverdue,
    TaskPriority,
    TaskRequested,
    TaskStatus,
    VictimReferral,
)

NL, RO, BE = "NL-KLPD", "RO-DIICOT", "BE-FGP"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
"""Monday of ISO week 2026-W45."""
PERIOD = (T0, T0 + timedelta(days=14))


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def d(days: float) -> timedelta:
    return timedelta(days=days)


class Script:
    """Builds the scripted JIT's events, each with its envelope time."""

    def __init__(self, jit: str) -> None:
        self.jit = jit
        self.events: list[Envelope] = []
        self.n = 0

    def add(self, payload: Event, *, at: datetime, team: str, subject: str) -> None:
        self.n += 1
        env = envelop(
            payload,
            subject=subject,
            jit=self.jit,
            originator=team,
            source="/interlock/tests/indicators",
            correlation_id=f"script-{self.n}",
        )
        self.events.append(env.model_copy(update={"time": at}))

    # ---------------------------------------------------------------- alerts
    def alert(
        self,
        ref: str,
        at: datetime,
        severity: Severity,
        raiser: str,
        targets: list[str],
        *,
        expects_ack: bool = True,
        conflict: str | None = None,
    ) -> None:
        links = (AlertLink(kind=LinkKind.CONFLICT, id=conflict),) if conflict else ()
        self.add(
            AlertRaised(
                alert_id=ref,
                jit=self.jit,
                severity=severity,
                category=Category.VICTIM_AT_RISK if conflict else Category.OTHER,
                target_teams=tuple(targets),
                summary="scripted",
                links=links,
                raised_by="script",
                raising_team=raiser,
                raised_at=at,
                acknowledge_by=at + s(300) if expects_ack else None,
                coordinator_team=NL,
            ),
            at=at,
            team=raiser,
            subject=ref,
        )
        for team in targets:
            desk = f"desk-{team[:2].lower()}"
            self.add(
                AlertRouted(alert_id=ref, team=team, desk=desk, basis=RouteBasis.DEFAULT),
                at=at,
                team=raiser,
                subject=ref,
            )

    def ack(self, ref: str, at: datetime, team: str) -> None:
        self.add(
            AlertAcknowledged(alert_id=ref, by="m1", team=team, at=at),
            at=at,
            team=team,
            subject=ref,
        )

    def escalate(self, ref: str, at: datetime, step: int, team: str) -> None:
        self.add(
            AlertEscalated(
                alert_id=ref,
                step=step,
                to=EscalationTarget.TEAM_LEAD if step == 1 else EscalationTarget.COORDINATOR_DESK,
                team=team,
                severity=Severity.P2,
                category=Category.OTHER,
                at=at,
                acknowledge_by=at + s(300),
            ),
            at=at,
            team=team,
            subject=ref,
        )


def uid(name: str, jit: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{jit}/{name}"))


def token(name: str) -> str:
    return (name * 43)[:43]


def scripted_jit(jit: str) -> list[Envelope]:
    """Every event of the scripted JIT, in the order they happened."""
    sc = Script(jit)
    # --- alerts (A1–A7). Time to acknowledge: A1 60 s (RO), A2 180 s (NL), A3 600 s (RO),
    # A6 30 s (BE), A7 900 s (NL); A4 never; A5 is a P4 nobody is asked to acknowledge.
    sc.alert("A1", T0, Severity.P1, NL, [NL, RO])
    sc.ack("A1", T0 + s(60), RO)
    sc.alert("A2", T0 + s(3600), Severity.P1, NL, [NL])
    sc.ack("A2", T0 + s(3600 + 180), NL)
    sc.alert("A3", T0 + s(7200), Severity.P2, RO, [RO])
    sc.escalate("A3", T0 + s(7200 + 300), 1, RO)
    sc.add(
        AlertDeduplicated(alert_id="A3", duplicate_id="A3-dup", count=2, last_seen=T0 + s(7400)),
        at=T0 + s(7400),
        team=RO,
        subject="A3",
    )
    sc.ack("A3", T0 + s(7200 + 600), RO)
    sc.alert("A4", T0 + s(10800), Severity.P2, NL, [NL])
    sc.escalate("A4", T0 + s(10800 + 300), 1, NL)
    sc.escalate("A4", T0 + s(10800 + 600), 2, NL)
    sc.alert("A5", T0 + s(14400), Severity.P4, NL, [NL], expects_ack=False)
    sc.alert("A6", T0 + d(8), Severity.P1, BE, [BE])
    sc.ack("A6", T0 + d(8) + s(30), BE)

    # --- leads: L1 (NL, B2 hotline), L2 (NL, A1 ngo), L3 (RO, C3 osint)
    def lead(
        ref: str, at: datetime, team: str, grade: str, source: SourceType, received: datetime
    ) -> None:
        sc.add(
            LeadSubmitted(
                lead_id=ref,
                team=team,
                submitted_by="m1",
                idempotency_key=ref,
                source=source,
                received_at=received,
                summary="scripted",
                reliability=SourceReliability(grade[0]),
                credibility=InformationCredibility(grade[1]),
            ),
            at=at,
            team=team,
            subject=ref,
        )

    l1_at = T0 + d(1) - s(3 * 3600)
    lead("L1", l1_at, NL, "B2", SourceType.HOTLINE, l1_at)
    sc.add(
        LeadTriaged(lead_id="L1", by="m1", assignee="m1", priority=LeadPriority.NORMAL),
        at=l1_at + s(1800),
        team=NL,
        subject="L1",
    )
    l2_at = T0 + d(1) - s(3600)
    lead("L2", l2_at, NL, "A1", SourceType.NGO, l2_at - s(7200))
    sc.add(
        LeadTriaged(lead_id="L2", by="m1", assignee="m1", priority=LeadPriority.HIGH),
        at=l2_at + s(3600),
        team=NL,
        subject="L2",
    )
    sc.add(
        LeadActioned(lead_id="L2", by="m1", link_kind="operation", link_id="OP1"),
        at=l2_at + s(7200),
        team=NL,
        subject="L2",
    )
    lead("L3", T0 + s(12 * 3600), RO, "C3", SourceType.OSINT, T0 + s(12 * 3600))

    # --- target hits: H1 (phone, NL registering L1, RO holding L3): NL releases at +120 s,
    # RO at +300 s. H2 (person, RO registering, BE holding): BE declines at +600 s.
    r1, r2, r3, r4 = (uid(f"r{i}", jit) for i in range(1, 5))
    for reg, team, source in ((r2, RO, "L3"), (r1, NL, "L1"), (r3, RO, "L9"), (r4, BE, "L8")):
        sc.add(
            TokenRegistered(
                token=token(reg[0]),
                scope=TokenScope.JIT,
                key_version=1,
                registration_id=reg,
                jit=jit,
                team=team,
                kind=IdentifierKind.PHONE,
                source_ref=source,
                registered_at=T0 + s(12 * 3600),
            ),
            at=T0 + s(12 * 3600),
            team=team,
            subject=reg,
        )
    h1, h2 = uid("H1", jit), uid("H2", jit)
    h1_at, h2_at = T0 + d(1), T0 + d(1) + s(3600)

    def hit(ref: str, at: datetime, kind: Any, reg: tuple[str, str], hold: tuple[str, str]) -> None:
        sc.add(
            DeconflictionHit(
                hit_id=ref,
                jit=jit,
                kind=kind,
                status=HitStatus.CONFIRMED,
                registering=HitSide(team=reg[0], jit=jit, registration_id=reg[1]),
                holding=HitSide(team=hold[0], jit=jit, registration_id=hold[1]),
                detected_at=at,
            ),
            at=at,
            team=reg[0],
            subject=ref,
        )

    hit(h1, h1_at, IdentifierKind.PHONE, (NL, r1), (RO, r2))
    hit(h2, h2_at, "person", (RO, r3), (BE, r4))
    details = ReleasedDetails(contact_officer="duty officer")
    sc.add(
        DeconflictionDetailsReleased(
            hit_id=h1, by_team=NL, to_team=RO, by="m1", details=details, released_at=h1_at + s(120)
        ),
        at=h1_at + s(120),
        team=NL,
        subject=h1,
    )
    sc.add(
        DeconflictionDetailsReleased(
            hit_id=h1, by_team=RO, to_team=NL, by="m2", details=details, released_at=h1_at + s(300)
        ),
        at=h1_at + s(300),
        team=RO,
        subject=h1,
    )
    sc.add(
        DeconflictionDetailsDeclined(
            hit_id=h2, by_team=BE, to_team=RO, by="m3", declined_at=h2_at + s(600)
        ),
        at=h2_at + s(600),
        team=BE,
        subject=h2,
    )

    # --- a role conflict (NL victim, RO suspect) and its P2 alert A7, acknowledged by NL at
    # +900 s and resolved
    rc = uid("RC1", jit)
    rc_at = T0 + d(2)
    sc.add(
        RoleConflictDetected(
            conflict_id=rc,
            hit_id=h1,
            jit=jit,
            kind="person",
            victim=RoleSide(team=NL, jit=jit, role=PersonRole.VICTIM, registration_id=r1),
            suspect=RoleSide(team=RO, jit=jit, role=PersonRole.SUSPECT, registration_id=r2),
            detected_at=rc_at,
        ),
        at=rc_at,
        team=NL,
        subject=rc,
    )
    sc.alert("A7", rc_at, Severity.P2, NL, [NL, RO], conflict=rc)
    sc.ack("A7", rc_at + s(900), NL)
    sc.add(
        AlertResolved(alert_id="A7", by="m1", team=NL, reason="handled", at=rc_at + s(2000)),
        at=rc_at + s(2000),
        team=NL,
        subject="A7",
    )

    # --- officer-safety conflicts: OC1 (NL, BE) handled after 1800 s; OC2 (RO, NL) open
    place = OperationPlace(
        latitude=52.0, longitude=4.3, radius_m=200, starts_at=T0 + d(4), ends_at=T0 + d(4) + s(7200)
    )
    sc.add(
        OperationPlanned(
            operation_id="OP1",
            jit=jit,
            team=NL,
            kind=OperationKind.ARREST,
            place=place,
            planned_by="m1",
            planned_at=T0 + d(3),
        ),
        at=T0 + d(3),
        team=NL,
        subject="OP1",
    )
    oc1, oc2 = uid("OC1", jit), uid("OC2", jit)
    for ref, at, teams in ((oc1, T0 + d(3), (NL, BE)), (oc2, T0 + d(3) + s(3600), (RO, NL))):
        sc.add(
            OperationConflictDetected(
                conflict_id=ref,
                jit=jit,
                sides=(
                    ConflictSide(team=teams[0], operation_id="OP1"),
                    ConflictSide(team=teams[1], operation_id="OP2"),
                ),
                overlap_latitude=52.0,
                overlap_longitude=4.3,
                overlap_radius_m=100,
                overlap_starts_at=T0 + d(4),
                overlap_ends_at=T0 + d(4) + s(3600),
                detected_at=at,
            ),
            at=at,
            team=teams[0],
            subject=ref,
        )
    sc.add(
        OperationConflictResolved(conflict_id=oc1, teams=(NL, BE), resolved_at=T0 + d(3) + s(1800)),
        at=T0 + d(3) + s(1800),
        team=NL,
        subject=oc1,
    )

    # --- tasks T1–T5
    def task(
        ref: str, at: datetime, by: str, to: str, details: Any, leads: tuple[str, ...] = ()
    ) -> None:
        sc.add(
            TaskRequested(
                task_id=ref,
                at=at,
                by="m1",
                team=by,
                jit=jit,
                to_team=to,
                title="scripted",
                description="scripted",
                priority=TaskPriority.NORMAL,
                links=TaskLinks(leads=leads),
                details=details,
            ),
            at=at,
            team=by,
            subject=ref,
        )

    def step(event: Event, at: datetime, team: str, ref: str) -> None:
        sc.add(event, at=at, team=team, subject=ref)

    t1 = T0 + d(1)
    task("T1", t1, NL, RO, InvestigativeAction())
    step(
        TaskAccepted(task_id="T1", at=t1 + s(3600), by="m2", team=RO, assignee="m2"),
        t1 + s(3600),
        RO,
        "T1",
    )
    step(
        TaskCompleted(task_id="T1", at=t1 + s(86400), by="m2", team=RO, result_summary="done"),
        t1 + s(86400),
        RO,
        "T1",
    )
    eio = LegalAssistance(legal_basis="Directive 2014/41/EU (EIO)", requested_measure="hearing")
    task("T2", t1, NL, BE, eio)
    step(
        TaskAccepted(task_id="T2", at=t1 + s(7200), by="m3", team=BE, assignee="m3"),
        t1 + s(7200),
        BE,
        "T2",
    )
    step(
        TaskCompleted(task_id="T2", at=t1 + s(172800), by="m3", team=BE, result_summary="ok"),
        t1 + s(172800),
        BE,
        "T2",
    )
    mla = LegalAssistance(
        legal_basis="1959 Convention on Mutual Assistance", requested_measure="records"
    )
    t3 = T0 + d(2)
    task("T3", t3, RO, NL, mla)
    step(
        TaskDeclined(task_id="T3", at=t3 + s(1800), by="m1", team=NL, reason="no basis"),
        t3 + s(1800),
        NL,
        "T3",
    )
    task("T4", t3, BE, NL, InformationRequest())
    step(
        TaskOverdue(
            task_id="T4",
            at=t3 + d(2),
            responsible_team=NL,
            deadline=Deadline.RESPONSE,
            due_at=t3 + d(2),
        ),
        t3 + d(2),
        BE,
        "T4",
    )
    t5 = T0 + d(9)
    task("T5", t5, NL, RO, InformationRequest(), leads=("L1",))
    step(
        TaskAccepted(task_id="T5", at=t5 + s(600), by="m2", team=RO, assignee="m2"),
        t5 + s(600),
        RO,
        "T5",
    )

    # --- victim referrals V1–V5: V1 NL (consent at request, lead L2 received 4 h before),
    # V2 RO (consent recorded later, then withdrawn), V3/V4 BE with consent, V5 BE without
    def consent(at: datetime, decision: ConsentDecision = ConsentDecision.GIVEN) -> ConsentRecord:
        return ConsentRecord(decision=decision, by="victim-ref", at=at, purposes=("referral",))

    v1 = T0 + d(1) + s(3600)
    task(
        "V1",
        v1,
        NL,
        NL,
        VictimReferral(service=ReferralService.SHELTER, consent=consent(v1)),
        leads=("L2",),
    )
    v2 = T0 + d(2)
    task("V2", v2, RO, RO, VictimReferral(service=ReferralService.MEDICAL_CARE))
    step(
        ConsentRecorded(task_id="V2", at=v2 + s(600), by="m2", team=RO, consent=consent(v2)),
        v2 + s(600),
        RO,
        "V2",
    )
    step(
        ReferralStopped(
            task_id="V2",
            at=T0 + d(5),
            by="m2",
            team=RO,
            previous_status=TaskStatus.ACCEPTED,
            reason="withdrawn",
        ),
        T0 + d(5),
        RO,
        "V2",
    )
    for ref, given in (("V3", True), ("V4", True), ("V5", False)):
        at = T0 + d(3)
        task(
            ref,
            at,
            BE,
            BE,
            VictimReferral(
                service=ReferralService.LEGAL_AID, consent=consent(at) if given else None
            ),
        )

    # --- data protection: 3 consultations (2 justified); reviews of subj-1 (NL) and subj-2
    # (RO); subj-1 extended to +7 d and erased at +6 d 1 h (on time), subj-2 erased after its
    # date (late), subj-3 erased on request
    for i, (team, why) in enumerate(((NL, True), (NL, True), (RO, False)), start=1):
        at = T0 + d(1) + s(i)
        sc.add(
            AuditRecorded(
                kind=AuditKind.CONSULTATION,
                at=at,
                member="m1",
                team=team,
                jit=jit,
                operation="GET /jits/{jit}/cards/{entity}",
                justification=Justification(case="c1", reason="r") if why else None,
            ),
            at=at,
            team=team,
            subject=f"audit-{i}",
        )
    for ref, team, due in (("subj-1", NL, T0 + d(6)), ("subj-2", RO, T0 + d(5))):
        sc.add(
            ReviewDue(
                subject_id=ref,
                subject_kind=SubjectKind.LEAD,
                at=T0 + d(4),
                owner_team=team,
                categories=(DataCategory.LEADS,),
                erase_after=due,
            ),
            at=T0 + d(4),
            team=team,
            subject=ref,
        )
    sc.add(
        RetentionExtended(
            subject_id="subj-1",
            subject_kind=SubjectKind.LEAD,
            at=T0 + d(5),
            by="m1",
            days=1,
            reason="ongoing",
            erase_after=T0 + d(7),
        ),
        at=T0 + d(5),
        team=NL,
        subject="subj-1",
    )
    for ref, team, at, cause in (
        ("subj-1", NL, T0 + d(6) + s(3600), "retention"),
        ("subj-2", RO, T0 + d(5) + s(7200), "retention"),
        ("subj-3", BE, T0 + d(3), "request"),
    ):
        sc.add(
            SubjectErased(
                subject_id=ref,
                subject_kind=SubjectKind.LEAD,
                at=at,
                owner_team=team,
                categories=(DataCategory.LEADS,),
                cause=cause,  # type: ignore[arg-type]
                by="m1" if cause == "request" else None,
                reason="scripted",
            ),
            at=at,
            team=team,
            subject=ref,
        )
    return sorted(sc.events, key=lambda e: e.time)


def stats(n: int, p50: float | None, p90: float | None, mx: float | None) -> dict[str, Any]:
    return {"n": n, "p50": p50, "p90": p90, "max": mx}


NONE = stats(0, None, None, None)

EXPECTED: dict[str, dict[str, Any]] = {
    "alerts": {
        "raised": 7,
        "by_priority": {"P1": 3, "P2": 3, "P3": 0, "P4": 1},
        "acknowledged": 5,
        "never_acknowledged": 1,  # A4 (A5 expects none)
        "escalated": 2,  # A3, A4
        "escalations": 3,
        "repages": 1,
        # [30, 60, 180, 600, 900]: p50 is the 3rd, p90 the 5th
        "time_to_acknowledge": stats(5, 180.0, 900.0, 900.0),
        "time_to_acknowledge_by_priority": {
            "P1": stats(3, 60.0, 180.0, 180.0),  # [30, 60, 180]
            "P2": stats(2, 600.0, 900.0, 900.0),  # [600, 900]
            "P3": NONE,
            "P4": NONE,
        },
        "time_to_acknowledge_by_desk": {
            "desk-be": stats(1, 30.0, 30.0, 30.0),
            "desk-nl": stats(2, 180.0, 900.0, 900.0),
            "desk-ro": stats(2, 60.0, 600.0, 600.0),
        },
    },
    "deconfliction": {
        "hits": {"target": 2, "operation": 2, "role": 1},
        "target_hits_by_match": {"person": 1, "phone": 1},
        "time_to_first_decision": stats(2, 120.0, 600.0, 600.0),
        "time_to_both_decisions": stats(1, 300.0, 300.0, 300.0),
        "decisions": {
            "released": 2,
            "declined": 1,
            "released_share": 0.6667,
            "declined_share": 0.3333,
        },
        "officer_safety": {
            "conflicts": 2,
            "handled": 1,
            "time_to_handled": stats(1, 1800.0, 1800.0, 1800.0),
        },
    },
    "tasks": {
        "requested": 5,
        "accepted": 3,
        "declined": 1,
        "completed": 2,
        "cancelled": 0,
        "overdue": 1,
        "by_kind": {"information_request": 2, "investigative_action": 1, "legal_assistance": 2},
        "time_to_accept": stats(3, 3600.0, 7200.0, 7200.0),  # [600, 3600, 7200]
        "time_to_complete": stats(2, 86400.0, 172800.0, 172800.0),
        "overdue_rate": 0.2,
        "legal_assistance": [
            {
                "requesting_team": NL,
                "executing_team": BE,
                "instrument": "EIO",
                "requested": 1,
                "completed": 1,
                "turnaround": stats(1, 172800.0, 172800.0, 172800.0),
            },
            {
                "requesting_team": RO,
                "executing_team": NL,
                "instrument": "MLA",
                "requested": 1,
                "completed": 0,
                "turnaround": NONE,
            },
        ],
    },
    "victims": {
        "referrals": 5,
        "with_consent": 4,
        "withdrawn": 1,
        "time_to_referral": stats(1, 14400.0, 14400.0, 14400.0),  # L2 received 4 h before V1
        "role_conflicts_raised": 1,
        "role_conflicts_resolved": 1,
    },
    "leads": {
        "submitted": 3,
        "by_grading": {"A1": 1, "B2": 1, "C3": 1},
        "by_source": {"hotline": 1, "ngo": 1, "osint": 1},
        "time_to_triage": stats(2, 1800.0, 3600.0, 3600.0),
        "led_to_hit": 2,  # L1, L3 through H1's registrations
        "led_to_task": 2,  # L1 (T5), L2 (the referral V1)
        "led_to_operation": 1,  # L2
    },
    "data_protection": {
        "consultations": 3,
        "with_justification": 2,
        "erasures": 3,
        "erasures_on_time": 1,
        "erasures_late": 1,
        "erasures_on_request": 1,
        "retention_reviews": 2,
        "retention_extensions": 1,
    },
}
"""The JIT aggregate for ``PERIOD``, before any suppression."""

EXPECTED_WEEKLY = [
    {"week": "2026-W45", "alerts": 6, "hits": 2, "tasks": 4, "referrals": 5, "leads": 3},
    {"week": "2026-W46", "alerts": 1, "hits": 0, "tasks": 1, "referrals": 0, "leads": 0},
]

EXPECTED_NL_VICTIMS = {
    "referrals": 1,
    "with_consent": 1,
    "withdrawn": 0,
    "time_to_referral": stats(1, 14400.0, 14400.0, 14400.0),
    "role_conflicts_raised": 1,
    "role_conflicts_resolved": 1,
}
"""NL's own victim figures (V1 and the role conflict), shown to NL unsuppressed."""

SUPPRESSED_AGGREGATE_VICTIMS = {
    "referrals": 5,
    "with_consent": None,
    "withdrawn": None,
    "time_to_referral": dict.fromkeys(("n", "p50", "p90", "max")),
    "role_conflicts_raised": None,
    "role_conflicts_resolved": None,
}
"""The aggregate's victim figures as any viewer sees them: cells over 1–4 items suppressed."""


T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a thread of its own: a test with a browser open (whose
    sync API keeps an event loop running on the main thread) cannot ``asyncio.run`` it there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
