"""Envelopes for projection tests: a JIT scenario with every event type of the projected topics.

Ids, team codes and names are unique per scenario, so tests on one shared Neo4j and Kafka never
see each other's data. Times are fixed offsets from a base, so a scenario is reproducible.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from events.alerts import (
    AlertAcknowledged,
    AlertDeduplicated,
    AlertDelivered,
    AlertEscalated,
    AlertLink,
    AlertRaised,
    AlertResolved,
    AlertRouted,
    Category,
    DeliveryChannel,
    DeskEscalationSet,
    DeskRuleSet,
    EscalationTarget,
    EscalationTimes,
    LinkKind,
    RouteBasis,
    Severity,
    WebhookDeliveryFailed,
)
from events.codec import envelop
from events.deconfliction import (
    ConflictSide,
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    DeskContact,
    HitSide,
    HitStatus,
    OperationCancelled,
    OperationConflictCleared,
    OperationConflictDetected,
    OperationConflictResolutionRecorded,
    OperationConflictResolved,
    OperationKind,
    OperationMoved,
    OperationPlace,
    OperationPlanned,
    PersonRegistered,
    ReleasedDetails,
    RoleConflictDetected,
    RoleSide,
    TokenRegistered,
    TokenScope,
)
from events.directory import (
    DeskRegistered,
    JitRegistered,
    MemberRegistered,
    RetentionPolicySet,
    Role,
    TeamRegistered,
)
from events.envelope import Envelope, Event
from events.identifiers import (
    Identifier,
    IdentifierKind,
    Location,
    Organisation,
    Person,
    PersonRole,
)
from events.leads import (
    EntityObserved,
    InformationCredibility,
    LeadActioned,
    LeadClosed,
    LeadDiscarded,
    LeadPriority,
    LeadRejected,
    LeadSubmitted,
    LeadTriaged,
    SourceReliability,
    SourceType,
)
from events.retention import (
    DataCategory,
    RetentionExtended,
    ReviewDue,
    SubjectErased,
    SubjectKind,
)
from events.tasking import (
    ConsentDecision,
    ConsentRecord,
    ConsentRecorded,
    Deadline,
    InformationRequest,
    ReferralService,
    ReferralStopped,
    TaskAccepted,
    TaskBlocked,
    TaskCancelled,
    TaskCommented,
    TaskCompleted,
    TaskDeclined,
    TaskLinks,
    TaskOverdue,
    TaskPriority,
    TaskRequested,
    TaskStarted,
    TaskStatus,
    TaskUnblocked,
    VictimReferral,
)

ENTITY_NAMESPACE = uuid.UUID("3b0d9a0e-7f0c-4c36-9d1a-55d3c1b2e8a4")
"""The leads service's recipe for entity ids, repeated so these tests need only the catalogue."""


def identifier_entity_id(jit: str, key: str) -> str:
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"identifier|{jit}|{key}"))


def person_entity_id(lead_id: str, index: int) -> str:
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"person|{lead_id}|{index}"))


BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def unique_suffix() -> str:
    return uuid.uuid4().hex[:8].upper()


def team_codes(n: int, suffix: str | None = None) -> list[str]:
    """``n`` team codes nobody else uses: ``AA-P1X…``, ``AB-P1X…``."""
    tag = suffix or unique_suffix()
    return [f"A{chr(ord('A') + i)}-P{tag}" for i in range(n)]


def token(seed: str) -> str:
    """A syntactically valid blind token (43 base64url characters)."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")


@dataclass
class Scenario:
    """Envelopes of one JIT, in log order; ``versions`` counts each aggregate's events."""

    jit: str
    teams: list[str]
    envelopes: list[Envelope] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    clock: int = 0
    ids: dict[str, str] = field(default_factory=dict)

    def emit(
        self,
        payload: Event,
        *,
        subject: str,
        originator: str,
        releasable_to: frozenset[str] | set[str] = frozenset(),
        aggregate: str | None = None,
        jit: str | None = None,
        versioned: bool = True,
    ) -> Envelope:
        self.clock += 1
        key = aggregate or subject
        if versioned:
            self.versions[key] += 1
        env = envelop(
            payload,
            subject=subject,
            jit=jit or self.jit,
            originator=originator,
            source="/interlock/tests",
            correlation_id=str(uuid.uuid4()),
            releasable_to=frozenset(releasable_to) - {originator},
            aggregate_version=self.versions[key] if versioned else 0,
        )
        env = env.model_copy(update={"time": BASE + timedelta(seconds=self.clock)})
        self.envelopes.append(env)
        return env

    @property
    def now(self) -> datetime:
        return BASE + timedelta(seconds=self.clock)

    # ----------------------------------------------------------------------------- leads

    def lead(
        self,
        team: str,
        *,
        shared_with: set[str] | frozenset[str] = frozenset(),
        persons: list[Person] | None = None,
        identifiers: list[Identifier] | None = None,
        organisations: list[Organisation] | None = None,
        locations: list[Location] | None = None,
        summary: str = "Workers housed at a farm; passports held by the employer.",
        lead_id: str | None = None,
        source: SourceType = SourceType.NGO,
        reliability: SourceReliability = SourceReliability.B,
        credibility: InformationCredibility = InformationCredibility.KNOWN_TO_SOURCE,
    ) -> str:
        """A submitted lead and its observed entities, as the leads service emits them."""
        lead_id = lead_id or f"lead-{uuid.uuid4().hex[:12]}"
        persons = persons or []
        identifiers = identifiers or []
        audience = {team, *shared_with}
        self.emit(
            LeadSubmitted(
                lead_id=lead_id,
                team=team,
                submitted_by=f"{team.lower()}-officer",
                idempotency_key=lead_id,
                source=source,
                received_at=self.now,
                summary=summary,
                reliability=reliability,
                credibility=credibility,
                persons=tuple(persons),
                identifiers=tuple(identifiers),
                organisations=tuple(organisations or ()),
                locations=tuple(locations or ()),
            ),
            subject=lead_id,
            originator=team,
            releasable_to=audience,
        )
        pids = [person_entity_id(lead_id, i) for i in range(len(persons))]
        for pid, person in zip(pids, persons, strict=True):
            self.emit(
                EntityObserved(lead_id=lead_id, entity_id=pid, person=person, role=person.role),
                subject=lead_id,
                originator=team,
                releasable_to=audience,
            )
        for ident in identifiers:
            owner = ident.person
            self.emit(
                EntityObserved(
                    lead_id=lead_id,
                    entity_id=identifier_entity_id(self.jit, ident.key),
                    identifier=ident,
                    role=persons[owner].role if owner is not None else None,
                    person_entity_id=pids[owner] if owner is not None else None,
                ),
                subject=lead_id,
                originator=team,
                releasable_to=audience,
            )
        return lead_id

    def person_id(self, lead_id: str, index: int) -> str:
        return person_entity_id(lead_id, index)

    def identifier_id(self, ident: Identifier) -> str:
        return identifier_entity_id(self.jit, ident.key)

    def audience_of(self, subject: str) -> set[str]:
        for env in self.envelopes:
            if env.subject == subject:
                return set(env.audience)
        return set()

    def lead_event(self, lead_id: str, payload: Event) -> None:
        first = next(e for e in self.envelopes if e.subject == lead_id)
        self.emit(
            payload,
            subject=lead_id,
            originator=first.originator,
            releasable_to=first.releasable_to,
        )

    # ----------------------------------------------------------------------------- tasks

    def task(
        self,
        by: str,
        to: str,
        *,
        leads: tuple[str, ...] = (),
        entities: tuple[str, ...] = (),
        operations: tuple[str, ...] = (),
        shared_with: frozenset[str] = frozenset(),
        referral: bool = False,
        title: str = "Check the farm's registered workers",
    ) -> str:
        task_id = f"task-{uuid.uuid4().hex[:12]}"
        details = (
            VictimReferral(
                service=ReferralService.SHELTER,
                consent=ConsentRecord(
                    decision=ConsentDecision.GIVEN,
                    by="guardian-1",
                    at=self.now,
                    purposes=("referral to shelter",),
                ),
            )
            if referral
            else InformationRequest()
        )
        self.task_event(
            task_id,
            by,
            {by, to, *shared_with},
            TaskRequested(
                task_id=task_id,
                at=self.now,
                by=f"{by.lower()}-officer",
                team=by,
                jit=self.jit,
                to_team=to,
                title=title,
                description="Who works there and since when?",
                priority=TaskPriority.HIGH,
                due_at=self.now + timedelta(days=3),
                links=TaskLinks(leads=leads, entities=entities, operations=operations),
                details=details,
                releasable_to=tuple(sorted(shared_with)),
            ),
        )
        return task_id

    def task_event(self, task_id: str, originator: str, audience: set[str], payload: Event) -> None:
        self.emit(payload, subject=task_id, originator=originator, releasable_to=audience)

    # ------------------------------------------------------------------------ operations

    def place(self, latitude: float, longitude: float, *, hours: int = 0) -> OperationPlace:
        start = BASE + timedelta(days=2, hours=hours)
        return OperationPlace(
            latitude=latitude,
            longitude=longitude,
            radius_m=500,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
        )

    def operation(
        self,
        team: str,
        *,
        latitude: float = 44.43,
        longitude: float = 26.10,
        shared_with: frozenset[str] = frozenset(),
    ) -> str:
        op_id = f"op-{uuid.uuid4().hex[:12]}"
        self.emit(
            OperationPlanned(
                operation_id=op_id,
                jit=self.jit,
                team=team,
                kind=OperationKind.SEARCH,
                place=self.place(latitude, longitude),
                planned_by=f"{team.lower()}-officer",
                planned_at=self.now,
            ),
            subject=op_id,
            originator=team,
            releasable_to={team, *shared_with},
            aggregate=f"ops:{self.jit}",
        )
        return op_id


def desk(team: str) -> DeskContact:
    return DeskContact(
        team=team, name=f"{team} desk", phone="+31 70 000 0000", email="desk@example.org"
    )


ERASED_NAME = "Elena Stergiou-Erased"
ERASED_PHONE = "+30 694 111 2222"


def erased_subjects(s: Scenario) -> list[Envelope]:
    """Team C's lead (a person, its own phone and the suspect's phone B also holds, a registration
    and a hit against B), a task and an operation; then the erasure of all three.

    Returns the erasures, emitted last, so that a test can publish them after the rest.
    """
    _, b, c = s.teams
    lead = s.lead(
        c,
        shared_with={b},
        persons=[Person(name=ERASED_NAME, role=PersonRole.SUSPECT)],
        identifiers=[
            Identifier(kind=IdentifierKind.PHONE, value=ERASED_PHONE, person=0),
            Identifier(kind=IdentifierKind.PHONE, value="+40721555123"),
        ],
        summary="Recruiter seen at the bus station.",
    )
    registration, hit = str(uuid.uuid4()), str(uuid.uuid4())
    s.emit(
        TokenRegistered(
            token=token(registration), scope=TokenScope.JIT, key_version=1,
            registration_id=registration, jit=s.jit, team=c, kind=IdentifierKind.PHONE,
            source_ref=lead, role=PersonRole.SUSPECT, registered_at=s.now,
        ),
        subject=token(registration),
        originator=c,
    )  # fmt: skip
    s.emit(
        DeconflictionHit(
            hit_id=hit, jit=s.jit, kind=IdentifierKind.PHONE, status=HitStatus.CONFIRMED,
            registering=HitSide(team=c, jit=s.jit, registration_id=registration, desk=desk(c)),
            holding=HitSide(team=b, jit=s.jit, registration_id=s.ids["reg_b"], desk=desk(b)),
            detected_at=s.now,
        ),
        subject=hit,
        originator=c,
        releasable_to={b, c},
        versioned=False,
    )  # fmt: skip
    task = s.task(c, c, leads=(lead,), title="Find the recruiter's flat")
    operation = s.operation(c, latitude=40.64, longitude=22.94)
    policy = RetentionPolicySet(
        jit_id=s.jit, team=c, category=DataCategory.PERSONS, keep_days=30, review_days=7,
        set_by="carl",
    )  # fmt: skip
    s.emit(policy, subject=policy.key, originator=c, jit="directory")
    erase_after = s.now + timedelta(days=30)
    s.emit(
        ReviewDue(subject_id=lead, subject_kind=SubjectKind.LEAD, at=s.now, owner_team=c,
                  categories=(DataCategory.PERSONS,), erase_after=erase_after),
        subject=lead, originator=c,
    )  # fmt: skip
    s.emit(
        RetentionExtended(subject_id=lead, subject_kind=SubjectKind.LEAD, at=s.now, by="carl",
                          days=10, reason="trial pending", erase_after=erase_after),
        subject=lead, originator=c,
    )  # fmt: skip
    erasures = []
    for subject, kind, category in (
        (lead, SubjectKind.LEAD, DataCategory.PERSONS),
        (task, SubjectKind.TASK, DataCategory.TASKS),
        (operation, SubjectKind.OPERATION, DataCategory.OPERATIONS),
    ):
        erasures.append(
            s.emit(
                SubjectErased(
                    subject_id=subject, subject_kind=kind, at=s.now, owner_team=c,
                    categories=(category,), cause="request", by="carl",
                    reason="case closed without charges",
                ),
                subject=subject,
                originator=c,
                releasable_to={b, c},
            )
        )  # fmt: skip
    s.ids.update(
        erased_lead=lead, erased_task=task, erased_operation=operation, erased_hit=hit,
        erased_person=s.person_id(lead, 0), erased_registration=registration,
        erased_phone=identifier_entity_id(s.jit, Identifier(kind=IdentifierKind.PHONE,
                                                            value=ERASED_PHONE).key),
    )  # fmt: skip
    return erasures


def full_scenario(
    jit: str | None = None, teams: list[str] | None = None, *, erasures: bool = False
) -> Scenario:
    """A JIT of three teams with every event type of the projected topics, at least once.

    Team A's lead (suspect, victim, their identifiers) is shared with B but not C; B has a lead of
    its own that mentions the suspect's phone; tasks, operations, a hit, alerts follow.
    """
    teams = teams or team_codes(3)
    a, b, c = teams
    s = Scenario(jit=jit or f"jit-{uuid.uuid4().hex[:10]}", teams=teams)
    d = "directory"
    s.emit(
        JitRegistered(
            jit_id=s.jit,
            name="Operation Harvest",
            legal_basis="JIT agreement 2025/17",
            coordinator_team=a,
            member_teams=(a, b),
            starts_on=date(2025, 1, 1),
        ),
        subject=s.jit,
        originator=a,
        jit=d,
    )
    for team in teams:
        s.emit(TeamRegistered(team=team, name=f"Team {team}", country=team[:2]), subject=team,
               originator=team, jit=d)  # fmt: skip
        s.emit(
            DeskRegistered(
                team=team,
                name=f"{team} desk",
                phone="+31 70 000 0000",
                email="desk@example.org",
                webhook_url="https://hooks.example.org/secret-token",
            ),
            subject=f"desk:{team}",
            originator=team,
            jit=d,
        )
    s.emit(
        JitRegistered(
            jit_id=s.jit,
            name="Operation Harvest",
            legal_basis="JIT agreement 2025/17",
            coordinator_team=a,
            member_teams=(a, b, c),
            starts_on=date(2025, 1, 1),
        ),
        subject=s.jit,
        originator=a,
        jit=d,
    )
    s.emit(
        MemberRegistered(member_id="anna", team=a, display_name="Anna", roles=(Role.INVESTIGATOR,)),
        subject="anna",
        originator=a,
        jit=d,
    )

    suspect_phone = Identifier(kind=IdentifierKind.PHONE, value="+40 721 555 123", person=0)
    victim_email = Identifier(kind=IdentifierKind.EMAIL, value="maria.v@example.org", person=1)
    iban = Identifier(kind=IdentifierKind.IBAN, value="RO49 AAAA 1B31 0075 9384 0000")
    lead_a = s.lead(
        a,
        shared_with={b},
        persons=[
            Person(name="Ion Popescu", role=PersonRole.SUSPECT, date_of_birth=date(1984, 3, 2)),
            Person(name="Мария Иванова", role=PersonRole.VICTIM, nationality="MD"),
        ],
        identifiers=[suspect_phone, victim_email, iban],
        organisations=[Organisation(name="Harvest Agro SRL", country="RO")],
        locations=[Location(name="Farm near Ilfov", latitude=44.5, longitude=26.1)],
    )
    lead_b = s.lead(
        b,
        persons=[Person(name="Ion Popescu", role=PersonRole.SUSPECT)],
        identifiers=[Identifier(kind=IdentifierKind.PHONE, value="+40721555123", person=0)],
        summary="Driver seen moving workers at night.",
    )
    lead_c = s.lead(c, summary="Advert for farm work abroad.", source=SourceType.OSINT)
    s.lead_event(lead_a, LeadTriaged(lead_id=lead_a, by="anna", assignee="anna",
                                     priority=LeadPriority.HIGH))  # fmt: skip

    op_a = s.operation(a, shared_with=frozenset({b}))
    op_b = s.operation(b, latitude=44.431, longitude=26.101)
    s.emit(
        OperationMoved(
            operation_id=op_a,
            jit=s.jit,
            team=a,
            place=s.place(44.432, 26.102, hours=1),
            moved_by="anna",
            moved_at=s.now,
        ),
        subject=op_a,
        originator=a,
        releasable_to={a, b},
        aggregate=f"ops:{s.jit}",
    )
    conflict = str(uuid.uuid4())
    s.emit(
        OperationConflictDetected(
            conflict_id=conflict,
            jit=s.jit,
            sides=(
                ConflictSide(team=a, operation_id=op_a, desk=desk(a)),
                ConflictSide(team=b, operation_id=op_b, desk=desk(b)),
            ),
            overlap_latitude=44.431,
            overlap_longitude=26.101,
            overlap_radius_m=200,
            overlap_starts_at=BASE + timedelta(days=2, hours=1),
            overlap_ends_at=BASE + timedelta(days=2, hours=4),
            detected_at=s.now,
        ),
        subject=conflict,
        originator=a,
        releasable_to={a, b},
        aggregate=f"ops:{s.jit}",
    )
    for team in (a, b):
        s.emit(
            OperationConflictResolutionRecorded(
                conflict_id=conflict, team=team, by="anna", recorded_at=s.now
            ),
            subject=conflict,
            originator=team,
            releasable_to={a, b},
            aggregate=f"ops:{s.jit}",
        )
    s.emit(
        OperationConflictResolved(conflict_id=conflict, teams=(a, b), resolved_at=s.now),
        subject=conflict,
        originator=a,
        releasable_to={a, b},
        aggregate=f"ops:{s.jit}",
    )
    op_c = s.operation(c, latitude=45.0, longitude=25.0)
    conflict_2 = str(uuid.uuid4())
    s.emit(
        OperationConflictDetected(
            conflict_id=conflict_2,
            jit=s.jit,
            sides=(
                ConflictSide(team=b, operation_id=op_b),
                ConflictSide(team=c, operation_id=op_c),
            ),
            overlap_latitude=44.7,
            overlap_longitude=25.5,
            overlap_radius_m=10,
            overlap_starts_at=BASE + timedelta(days=2),
            overlap_ends_at=BASE + timedelta(days=2, hours=1),
            detected_at=s.now,
        ),
        subject=conflict_2,
        originator=c,
        releasable_to={b, c},
        aggregate=f"ops:{s.jit}",
    )
    s.emit(
        OperationCancelled(
            operation_id=op_c,
            jit=s.jit,
            team=c,
            reason="called off",
            cancelled_by="carl",
            cancelled_at=s.now,
        ),
        subject=op_c,
        originator=c,
        aggregate=f"ops:{s.jit}",
    )
    s.emit(
        OperationConflictCleared(conflict_id=conflict_2, cause="cancelled", cleared_at=s.now),
        subject=conflict_2,
        originator=c,
        releasable_to={b, c},
        aggregate=f"ops:{s.jit}",
    )

    suspect_a = s.person_id(lead_a, 0)
    victim_a = s.person_id(lead_a, 1)
    task = s.task(a, b, leads=(lead_a,), entities=(suspect_a,), operations=(op_a,))
    s.lead_event(lead_a, LeadActioned(lead_id=lead_a, by="anna", link_kind="task", link_id=task))
    s.lead_event(lead_a, LeadActioned(lead_id=lead_a, by="anna", link_kind="operation",
                                      link_id=op_a))  # fmt: skip
    audience = {a, b}
    acted = {"at": s.now, "by": "bert", "team": b}
    for payload in (
        TaskAccepted(task_id=task, assignee="bert", **acted),
        TaskStarted(task_id=task, **acted),
        TaskBlocked(task_id=task, reason="waiting for a warrant", **acted),
        TaskUnblocked(task_id=task, **acted),
        TaskCommented(task_id=task, text="Warrant granted.", **acted),
        TaskCompleted(task_id=task, result_summary="Twelve workers registered.", **acted),
    ):
        s.task_event(task, b, audience, payload)
    s.emit(
        TaskOverdue(
            task_id=task, at=s.now, responsible_team=b, deadline=Deadline.COMPLETION, due_at=s.now
        ),
        subject=task,
        originator=a,
        releasable_to=audience,
    )
    referral = s.task(a, a, entities=(victim_a,), referral=True, title="Shelter for the victim")
    s.task_event(referral, a, {a}, ConsentRecorded(
        task_id=referral, at=s.now, by="anna", team=a,
        consent=ConsentRecord(decision=ConsentDecision.WITHDRAWN, by="guardian-1", at=s.now,
                              purposes=("referral to shelter",)),
    ))  # fmt: skip
    s.task_event(referral, a, {a}, ReferralStopped(
        task_id=referral, at=s.now, by="anna", team=a, previous_status=TaskStatus.REQUESTED,
        reason="consent withdrawn"))  # fmt: skip
    declined = s.task(b, c, title="Ask the port authority")
    s.task_event(declined, c, {b, c}, TaskDeclined(task_id=declined, at=s.now, by="carl",
                                                    team=c, reason="not our port"))  # fmt: skip
    cancelled = s.task(c, c, title="Internal check")
    s.task_event(cancelled, c, {c}, TaskCancelled(task_id=cancelled, at=s.now, by="carl",
                                                   team=c, reason="duplicate"))  # fmt: skip

    reg_a, reg_b, reg_p = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    for team, reg, source in ((a, reg_a, lead_a), (b, reg_b, lead_b)):
        s.emit(
            TokenRegistered(
                token=token(reg), scope=TokenScope.JIT, key_version=1, registration_id=reg,
                jit=s.jit, team=team, kind=IdentifierKind.PHONE, source_ref=source,
                role=PersonRole.SUSPECT, registered_at=s.now,
            ),
            subject=token(reg),
            originator=team,
        )  # fmt: skip
    s.emit(
        PersonRegistered(
            block_token=token("dob"), person_token=token("pk"), clk="A" * 40,
            scope=TokenScope.JIT, key_version=1, registration_id=reg_p, jit=s.jit, team=a,
            source_ref=lead_a, role=PersonRole.VICTIM, registered_at=s.now,
        ),
        subject=token("dob"),
        originator=a,
    )  # fmt: skip
    hit = str(uuid.uuid4())
    s.emit(
        DeconflictionHit(
            hit_id=hit, jit=s.jit, kind=IdentifierKind.PHONE, status=HitStatus.CONFIRMED,
            registering=HitSide(team=b, jit=s.jit, registration_id=reg_b, desk=desk(b)),
            holding=HitSide(team=a, jit=s.jit, registration_id=reg_a, desk=desk(a)),
            detected_at=s.now,
        ),
        subject=hit,
        originator=b,
        releasable_to={a, b},
        versioned=False,
    )  # fmt: skip
    s.emit(
        DeconflictionDetailsReleased(
            hit_id=hit, by_team=a, to_team=b, by="anna",
            details=ReleasedDetails(contact_officer="Insp. Anna", note="call before acting"),
            released_at=s.now,
        ),
        subject=hit,
        originator=a,
        releasable_to={b},
    )  # fmt: skip
    s.emit(
        DeconflictionDetailsDeclined(
            hit_id=hit, by_team=b, to_team=a, by="bert", declined_at=s.now
        ),
        subject=hit,
        originator=b,
        releasable_to={a},
    )
    s.emit(
        RoleConflictDetected(
            conflict_id=str(uuid.uuid4()), hit_id=hit, jit=s.jit, kind="person",
            victim=RoleSide(team=a, jit=s.jit, role=PersonRole.VICTIM, registration_id=reg_p),
            suspect=RoleSide(team=b, jit=s.jit, role=PersonRole.SUSPECT, registration_id=reg_b),
            detected_at=s.now,
        ),
        subject=hit,
        originator=b,
        releasable_to={a, b},
    )  # fmt: skip

    alert = f"alert-{uuid.uuid4().hex[:10]}"
    s.emit(
        AlertRaised(
            alert_id=alert, jit=s.jit, severity=Severity.P2, category=Category.SUSPECT_MOVEMENT,
            target_teams=(b,), summary="Suspect car seen at the border crossing",
            links=(AlertLink(kind=LinkKind.LEAD, id=lead_a),
                   AlertLink(kind=LinkKind.ENTITY, id=suspect_a),
                   AlertLink(kind=LinkKind.HIT, id=hit)),
            raised_by="anna", raising_team=a, raised_at=s.now,
            acknowledge_by=s.now + timedelta(minutes=15), coordinator_team=a,
        ),
        subject=alert,
        originator=a,
        releasable_to={b},
    )  # fmt: skip
    s.emit(AlertRouted(alert_id=alert, team=b, desk=f"desk-{b}", basis=RouteBasis.DEFAULT),
           subject=alert, originator=a, releasable_to={b})  # fmt: skip
    s.emit(AlertDelivered(alert_id=alert, team=b, channel=DeliveryChannel.SSE, delivered_at=s.now),
           subject=alert, originator=a, releasable_to={b}, versioned=False)  # fmt: skip
    s.emit(
        AlertEscalated(alert_id=alert, step=1, to=EscalationTarget.TEAM_LEAD, team=b,
                       severity=Severity.P2, category=Category.SUSPECT_MOVEMENT, at=s.now,
                       acknowledge_by=s.now + timedelta(minutes=10)),
        subject=alert, originator=a, releasable_to={b},
    )  # fmt: skip
    s.emit(AlertAcknowledged(alert_id=alert, by="bert", team=b, at=s.now),
           subject=alert, originator=a, releasable_to={b})  # fmt: skip
    s.emit(AlertDeduplicated(alert_id=alert, duplicate_id="alert-dup", count=2, last_seen=s.now),
           subject=alert, originator=a, releasable_to={b}, versioned=False)  # fmt: skip
    s.emit(AlertResolved(alert_id=alert, by="bert", team=b, reason="car stopped", at=s.now),
           subject=alert, originator=a, releasable_to={b})  # fmt: skip
    s.emit(
        WebhookDeliveryFailed(alert_id=alert, team=b, host="hooks.example.org", attempts=3,
                              last_error="timeout", final=True),
        subject=alert, originator=a, releasable_to={b}, versioned=False,
    )  # fmt: skip
    s.emit(
        DeskRuleSet(jit=s.jit, team=b, categories=(Category.OFFICER_SAFETY,),
                    min_severity=Severity.P3, by="bert"),
        subject=f"rule:{b}", originator=b,
    )  # fmt: skip
    s.emit(
        DeskEscalationSet(jit=s.jit, team=b, by="carla", times=EscalationTimes(
            p1_seconds=120, p2_seconds=600, p3_seconds=1800, repage_seconds=60)),
        subject=f"{s.jit}/{b}", originator=a, releasable_to={b},
    )  # fmt: skip
    s.lead_event(lead_a, LeadClosed(lead_id=lead_a, by="anna", reason="handed to prosecutor"))
    s.lead_event(lead_c, LeadDiscarded(lead_id=lead_c, by="carl", reason="spam"))
    s.emit(LeadRejected(lead_id=None, reason="summary: empty"), subject="rejected", originator=c)
    s.ids = {
        "lead_a": lead_a, "lead_b": lead_b, "lead_c": lead_c, "suspect_a": suspect_a,
        "victim_a": victim_a, "suspect_b": s.person_id(lead_b, 0), "op_a": op_a, "op_b": op_b,
        "op_c": op_c, "task": task, "referral": referral, "hit": hit, "alert": alert,
        "conflict": conflict, "victim_email": s.identifier_id(victim_email),
        "suspect_phone": s.identifier_id(suspect_phone), "iban": s.identifier_id(iban),
        "reg_b": reg_b,
    }  # fmt: skip
    if erasures:
        erased_subjects(s)
    return s
