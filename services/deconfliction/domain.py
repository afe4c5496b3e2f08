"""Deconfliction domain: pure decisions over blind registrations, hits and operations.

Four aggregates, each kept as one faust table entry and processed by one writer:

* ``TokenHolders`` keyed by identifier token: who holds that token. ``register`` adds a holder
  and returns a hit for every holder of another team that may match.
* ``PersonBlock`` keyed by the keyed date of birth: the keyed name encodings born that day.
  ``register_person`` returns confirmed hits (same person key) and possible hits (Dice score at
  or above the threshold).
* ``HitState`` keyed by hit id: whether a hit was told, and the release or decline of details.
  The index's hits and role conflicts (both keyed by hit id) pass through it before they are
  published: ``admit`` says whether one is news (the same pair can surface under two tokens
  during a key rotation) and ``evolve_hit`` records it; ``decide_hit`` handles the decisions.
* ``OperationIndex`` keyed by JIT id: the JIT's operations, their H3 cells and conflicts.

Registration commands are stateless: ``decide_registration`` turns raw identifiers into tokens
(in memory only) and returns one ``TokenRegistered``/``PersonRegistered`` per token, which the
wiring sends on, keyed by token, to the partition that holds that token's index entry.

Desk contacts come from the directory: the wiring passes ``desks`` (team → contact) to the
functions that tell a team about another, so events carry the contact and nothing else.

Erasure (retention): ``forget_source`` drops an erased lead's holders from a token or block
entry, ``forget_operation`` takes an erased operation out of its JIT's index. A hit state keeps
ids, team codes and decisions only (never a registration id, source or value), so it stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.deconfliction import (
    PERSON_KIND,
    CancelOperation,
    ConflictSide,
    DeclineHitDetails,
    DeconflictionDetailsDeclined,
    DeconflictionDetailsReleased,
    DeconflictionHit,
    DeskContact,
    HitSide,
    HitStatus,
    MatchKind,
    MoveOperation,
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
    PlanOperation,
    RegisterBlindTokens,
    RegisterIdentifiers,
    ReleaseHitDetails,
    ResolveOperationConflict,
    RoleConflictDetected,
    RoleSide,
    TokenRegistered,
    TokenScope,
)
from events.envelope import Addressed, Event
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole, name_parts
from events.leads import EntityObserved
from events.outcomes import Rejected
from services.deconfliction import fuzzy, geo
from services.deconfliction.tokens import (
    TokenKeys,
    dob_token,
    identifier_token,
    person_token,
    purpose_key,
    token_country,
)

_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:interlock:deconfliction")
HIT_NAMESPACE = uuid.uuid5(_NS, "hit")
ROLE_CONFLICT_NAMESPACE = uuid.uuid5(_NS, "role-conflict")
OPERATION_CONFLICT_NAMESPACE = uuid.uuid5(_NS, "operation-conflict")

ROLE_KINDS: frozenset[str] = frozenset({PERSON_KIND, IdentifierKind.DOCUMENT.value})
"""Matches that identify a person, so opposite roles are a role conflict. A shared phone or
bank account does not: traffickers routinely hold their victims' phones and accounts."""

CLK_PURPOSE = "clk"


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def hit_id(registration_a: str, registration_b: str) -> str:
    """The id of the hit between two registrations, whichever registered first."""
    low, high = sorted((registration_a, registration_b))
    return str(uuid.uuid5(HIT_NAMESPACE, f"{low}\x1f{high}"))


def role_conflict_id(hit: str) -> str:
    return str(uuid.uuid5(ROLE_CONFLICT_NAMESPACE, hit))


def operation_conflict_id(jit: str, operation_a: str, operation_b: str) -> str:
    """The id of the conflict between two operations of a JIT, whichever was planned first."""
    low, high = sorted((operation_a, operation_b))
    return str(uuid.uuid5(OPERATION_CONFLICT_NAMESPACE, f"{jit}\x1f{low}\x1f{high}"))


def _check_member(team: str, members: Collection[str] | None) -> None:
    if members is not None and team not in members:
        raise Rejected(403, f"team {team} is not a member of this JIT")


# --- registration -------------------------------------------------------------------------------


def decide_registration(
    command: RegisterIdentifiers | RegisterBlindTokens,
    *,
    jit: str,
    keys: TokenKeys,
    now: datetime,
    members: Collection[str] | None = None,
    cross_jit: bool = False,
) -> list[Event | Addressed]:
    """Turn a registration into one event per token, keyed by token, for the registering team.

    Raw values are tokenised here and dropped; tokens are computed under every live key version
    (both during a rotation's grace period) and, when the JIT's agreement allows cross-JIT
    matching (``cross_jit``), under the cross-JIT key too.
    """
    team = command.actor.team
    _check_member(team, members)
    versions = keys.ring.live_versions(now)
    scopes = (TokenScope.JIT, TokenScope.CROSS_JIT) if cross_jit else (TokenScope.JIT,)
    out: list[Event | Addressed] = []
    if isinstance(command, RegisterBlindTokens):
        for i, blind in enumerate(command.tokens):
            if blind.key_version not in versions:
                raise Rejected(
                    422,
                    f"tokens.{i}.key_version: version {blind.key_version} is not live "
                    f"(live: {', '.join(map(str, versions))})",
                )
            if blind.scope is TokenScope.CROSS_JIT and not cross_jit:
                raise Rejected(
                    403, f"tokens.{i}.scope: this JIT's agreement does not allow cross-JIT matching"
                )
            ref = blind.entry_ref or blind.token
            registration = keys.registration_id(jit, team, command.source_ref, blind.kind, ref)
            out.append(
                _token_event(
                    TokenRegistered(
                        token=blind.token,
                        scope=blind.scope,
                        key_version=blind.key_version,
                        registration_id=registration,
                        jit=jit,
                        team=team,
                        kind=blind.kind,
                        source_ref=command.source_ref,
                        role=blind.role,
                        registered_at=now,
                    )
                )
            )
        return out
    for ident in command.identifiers:
        role = command.persons[ident.person].role if ident.person is not None else None
        out += _identifier_events(
            ident,
            role=role,
            source_ref=command.source_ref,
            team=team,
            jit=jit,
            keys=keys,
            now=now,
            scopes=scopes,
            versions=versions,
        )
    for person in command.persons:
        out += _person_events(
            person,
            source_ref=command.source_ref,
            team=team,
            jit=jit,
            keys=keys,
            now=now,
            scopes=scopes,
            versions=versions,
        )
    return out


def registrations_from_entity(
    observed: EntityObserved,
    *,
    jit: str,
    team: str,
    keys: TokenKeys,
    now: datetime,
    cross_jit: bool = False,
) -> list[Event | Addressed]:
    """Register what a lead of ``team`` mentions: its identifiers and persons with a birth date."""
    versions = keys.ring.live_versions(now)
    scopes = (TokenScope.JIT, TokenScope.CROSS_JIT) if cross_jit else (TokenScope.JIT,)
    out: list[Event | Addressed] = []
    if observed.identifier is not None:
        out += _identifier_events(
            observed.identifier,
            role=observed.role,
            source_ref=observed.lead_id,
            team=team,
            jit=jit,
            keys=keys,
            now=now,
            scopes=scopes,
            versions=versions,
        )
    if observed.person is not None:
        person = observed.person
        if observed.role is not None and observed.role is not person.role:
            person = person.model_copy(update={"role": observed.role})
        out += _person_events(
            person,
            source_ref=observed.lead_id,
            team=team,
            jit=jit,
            keys=keys,
            now=now,
            scopes=scopes,
            versions=versions,
        )
    return out


def _identifier_events(
    ident: Identifier,
    *,
    role: PersonRole | None,
    source_ref: str,
    team: str,
    jit: str,
    keys: TokenKeys,
    now: datetime,
    scopes: tuple[TokenScope, ...],
    versions: tuple[int, ...],
) -> list[Event | Addressed]:
    """One ``TokenRegistered`` per scope and live key version, all of one registration: its id
    is keyed over opaque ids and the canonical value, so it is the same whichever way the
    identifier arrives (command or lead) and under whichever key version."""
    country = token_country(ident.kind, ident.country) or ""
    registration = keys.registration_id(
        jit, team, source_ref, ident.kind, f"{country}\x1f{ident.value}"
    )
    return [
        _token_event(
            TokenRegistered(
                token=identifier_token(keys.key(scope, jit, version), ident),
                scope=scope,
                key_version=version,
                registration_id=registration,
                jit=jit,
                team=team,
                kind=ident.kind,
                source_ref=source_ref,
                role=role,
                registered_at=now,
            )
        )
        for scope in scopes
        for version in versions
    ]


def _token_event(event: TokenRegistered) -> Addressed:
    """Keyed by token, and told to the registering team only whatever the command's audience:
    a token with its source ref lets a holder of the key test values against the team's leads."""
    return Addressed(event, subject=event.token, originator=event.team, releasable_to=frozenset())


def _person_events(
    person: Person,
    *,
    source_ref: str,
    team: str,
    jit: str,
    keys: TokenKeys,
    now: datetime,
    scopes: tuple[TokenScope, ...],
    versions: tuple[int, ...],
) -> list[Event | Addressed]:
    """The keyed encodings of a person; none without a date of birth (there is no block key,
    and a name alone is too weak to tell two desks they share a target)."""
    dob = person.date_of_birth
    if dob is None:
        return []
    parts = name_parts(fuzzy.person_name(person))
    if not parts:
        return []
    registration = keys.registration_id(
        jit, team, source_ref, PERSON_KIND, f"{' '.join(parts)}|{dob.isoformat()}"
    )
    out: list[Event | Addressed] = []
    for scope in scopes:
        for version in versions:
            key = keys.key(scope, jit, version)
            event = PersonRegistered(
                block_token=dob_token(key, dob),
                person_token=person_token(key, parts, dob),
                clk=fuzzy.clk_to_text(fuzzy.encode(parts, key=purpose_key(key, CLK_PURPOSE))),
                scope=scope,
                key_version=version,
                registration_id=registration,
                jit=jit,
                team=team,
                source_ref=source_ref,
                role=person.role,
                registered_at=now,
            )
            out.append(
                Addressed(
                    event, subject=event.block_token, originator=team, releasable_to=frozenset()
                )
            )
    return out


# --- the token index ----------------------------------------------------------------------------


class Holder(_State):
    """One registration of a token: opaque ids only."""

    registration_id: str
    jit: str
    team: str
    kind: MatchKind
    source_ref: str
    role: PersonRole | None = None
    scope: TokenScope = TokenScope.JIT
    key_version: int = Field(ge=1)
    registered_at: datetime


class TokenHolders(_State):
    """Everyone who registered one token; the unit of partitioning of the target index."""

    token: str
    holders: tuple[Holder, ...] = ()


class PersonHolder(Holder):
    person_token: str
    clk: str


class PersonBlock(_State):
    """The persons registered with one keyed date of birth."""

    block_token: str
    holders: tuple[PersonHolder, ...] = ()


def _may_match(new: Holder, old: Holder, cross_jit_jits: Collection[str]) -> bool:
    """Another team, and the same JIT (JIT tokens) or two JITs that both allow cross-JIT
    matching (cross-JIT tokens; same-JIT pairs are found by their JIT tokens)."""
    if new.team == old.team or new.registration_id == old.registration_id:
        return False
    if new.scope is TokenScope.JIT:
        return new.jit == old.jit
    return new.jit != old.jit and new.jit in cross_jit_jits and old.jit in cross_jit_jits


def _told(
    new: Holder,
    old: Holder,
    *,
    kind: MatchKind,
    status: HitStatus,
    score: float | None,
    now: datetime,
    desks: Mapping[str, DeskContact],
) -> list[Addressed]:
    """The hit for a pair of registrations, told to both teams; and a role conflict when one
    team holds the person as a victim and the other as a suspect."""
    hid = hit_id(new.registration_id, old.registration_id)
    teams = frozenset({new.team, old.team})
    hit = DeconflictionHit(
        hit_id=hid,
        jit=new.jit,
        kind=kind,
        status=status,
        score=score,
        cross_jit=new.jit != old.jit,
        registering=HitSide(
            team=new.team,
            jit=new.jit,
            registration_id=new.registration_id,
            desk=desks.get(new.team),
        ),
        holding=HitSide(
            team=old.team,
            jit=old.jit,
            registration_id=old.registration_id,
            desk=desks.get(old.team),
        ),
        detected_at=now,
    )
    out = [Addressed(hit, subject=hid, originator=new.team, releasable_to=teams)]
    roles = {new.role, old.role}
    if (
        status is HitStatus.CONFIRMED
        and str(kind) in ROLE_KINDS
        and roles == {PersonRole.VICTIM, PersonRole.SUSPECT}
    ):
        victim, suspect = (new, old) if new.role is PersonRole.VICTIM else (old, new)
        conflict = RoleConflictDetected(
            conflict_id=role_conflict_id(hid),
            hit_id=hid,
            jit=new.jit,
            kind=kind,
            victim=RoleSide(
                team=victim.team,
                jit=victim.jit,
                role=PersonRole.VICTIM,
                registration_id=victim.registration_id,
                desk=desks.get(victim.team),
            ),
            suspect=RoleSide(
                team=suspect.team,
                jit=suspect.jit,
                role=PersonRole.SUSPECT,
                registration_id=suspect.registration_id,
                desk=desks.get(suspect.team),
            ),
            detected_at=now,
        )
        out.append(Addressed(conflict, subject=hid, originator=new.team, releasable_to=teams))
    return out


def register(
    state: TokenHolders | None,
    registration: TokenRegistered,
    *,
    now: datetime,
    desks: Mapping[str, DeskContact],
    cross_jit_jits: Collection[str] = frozenset(),
) -> tuple[TokenHolders, list[Addressed]]:
    """Add a holder to a token and tell each pair with another team's holder as a hit.

    Idempotent: a registration already held returns the state unchanged and no hit, so
    re-processing after a restart never tells a hit twice. ``cross_jit_jits`` are the JITs
    whose agreements allow cross-JIT matching now.
    """
    if state is None:
        state = TokenHolders(token=registration.token)
    elif state.token != registration.token:
        raise ValueError(f"registration of token {registration.token} sent to {state.token}")
    if any(h.registration_id == registration.registration_id for h in state.holders):
        return state, []
    new = Holder(
        registration_id=registration.registration_id,
        jit=registration.jit,
        team=registration.team,
        kind=registration.kind,
        source_ref=registration.source_ref,
        role=registration.role,
        scope=registration.scope,
        key_version=registration.key_version,
        registered_at=registration.registered_at,
    )
    hits: list[Addressed] = []
    for old in state.holders:
        if _may_match(new, old, cross_jit_jits):
            hits += _told(
                new,
                old,
                kind=new.kind,
                status=HitStatus.CONFIRMED,
                score=None,
                now=now,
                desks=desks,
            )
    return state.model_copy(update={"holders": (*state.holders, new)}), hits


def register_person(
    state: PersonBlock | None,
    registration: PersonRegistered,
    *,
    now: datetime,
    desks: Mapping[str, DeskContact],
    cross_jit_jits: Collection[str] = frozenset(),
    threshold: float = fuzzy.DEFAULT_THRESHOLD,
) -> tuple[PersonBlock, list[Addressed]]:
    """Add a person to its birth-date block; the same person key is a confirmed hit, a Dice
    score of the name encodings at or above ``threshold`` a possible one. Idempotent."""
    if state is None:
        state = PersonBlock(block_token=registration.block_token)
    elif state.block_token != registration.block_token:
        raise ValueError("registration sent to another block")
    if any(h.registration_id == registration.registration_id for h in state.holders):
        return state, []
    new = PersonHolder(
        registration_id=registration.registration_id,
        jit=registration.jit,
        team=registration.team,
        kind=PERSON_KIND,
        source_ref=registration.source_ref,
        role=registration.role,
        scope=registration.scope,
        key_version=registration.key_version,
        registered_at=registration.registered_at,
        person_token=registration.person_token,
        clk=registration.clk,
    )
    encoding = fuzzy.clk_from_text(new.clk)
    hits: list[Addressed] = []
    for old in state.holders:
        if not _may_match(new, old, cross_jit_jits):
            continue
        if old.person_token == new.person_token:
            hits += _told(
                new,
                old,
                kind=PERSON_KIND,
                status=HitStatus.CONFIRMED,
                score=None,
                now=now,
                desks=desks,
            )
            continue
        similarity = fuzzy.dice(encoding, fuzzy.clk_from_text(old.clk))
        if similarity >= threshold:
            hits += _told(
                new,
                old,
                kind=PERSON_KIND,
                status=HitStatus.POSSIBLE,
                score=round(similarity, 3),
                now=now,
                desks=desks,
            )
    return state.model_copy(update={"holders": (*state.holders, new)}), hits


def expire(
    state: TokenHolders | PersonBlock, *, live_versions: Collection[int]
) -> TokenHolders | PersonBlock | None:
    """Drop holders under key versions no longer live; None when nothing is left (delete the
    entry). Run by the wiring after a rotation's grace period."""
    kept = tuple(h for h in state.holders if h.key_version in live_versions)
    if not kept:
        return None
    return state if len(kept) == len(state.holders) else state.model_copy(update={"holders": kept})


def forget_source(
    entry: TokenHolders | PersonBlock, *, jit: str, source_ref: str
) -> TokenHolders | PersonBlock | None:
    """Drop the holders registered from one source of a JIT, because the source (a lead) was
    erased; None when nothing is left (delete the entry). Other JITs' holders with the same
    source ref are kept: a source ref is only unique within its JIT."""
    kept = tuple(h for h in entry.holders if h.jit != jit or h.source_ref != source_ref)
    if not kept:
        return None
    return entry if len(kept) == len(entry.holders) else entry.model_copy(update={"holders": kept})


# --- hits -----------------------------------------------------------------------------------------


class HitState(_State):
    """A hit as told, and what each team decided about releasing its details."""

    hit_id: str
    jit: str
    kind: MatchKind
    status: HitStatus
    score: float | None = None
    teams: tuple[str, str]
    released_by: tuple[str, ...] = ()
    declined_by: tuple[str, ...] = ()
    role_conflict: bool = False
    version: int = 0


def admit(state: HitState | None, event: DeconflictionHit | RoleConflictDetected) -> bool:
    """Whether a hit or role conflict from the index is news and should be published: a hit not
    yet told, a possible hit now confirmed, or a role conflict not yet told."""
    if isinstance(event, RoleConflictDetected):
        return state is None or not state.role_conflict
    if state is None:
        return True
    return state.status is HitStatus.POSSIBLE and event.status is HitStatus.CONFIRMED


def decide_hit(
    state: HitState | None, command: ReleaseHitDetails | DeclineHitDetails, *, now: datetime
) -> list[Event | Addressed]:
    """Release or decline details of one side of a hit; only the two teams may, each once."""
    if state is None:
        raise Rejected(404, f"no hit {command.hit_id}")
    team = command.actor.team
    if team not in state.teams:
        raise Rejected(404, f"no hit {command.hit_id}")
    other = state.teams[1] if state.teams[0] == team else state.teams[0]
    if team in state.released_by:
        raise Rejected(409, f"{team} has already released its details of this hit")
    if isinstance(command, ReleaseHitDetails):
        released = DeconflictionDetailsReleased(
            hit_id=state.hit_id,
            by_team=team,
            to_team=other,
            by=command.actor.member,
            details=command.details,
            released_at=now,
        )
        return [
            Addressed(
                released, subject=state.hit_id, originator=team, releasable_to=frozenset({other})
            )
        ]
    if team in state.declined_by:
        raise Rejected(409, f"{team} has already declined to release its details of this hit")
    declined = DeconflictionDetailsDeclined(
        hit_id=state.hit_id,
        by_team=team,
        to_team=other,
        by=command.actor.member,
        reason=command.reason,
        declined_at=now,
    )
    return [
        Addressed(declined, subject=state.hit_id, originator=team, releasable_to=frozenset({other}))
    ]


def evolve_hit(state: HitState | None, event: Event) -> HitState:
    """The hit after an event of its aggregate."""
    if isinstance(event, DeconflictionHit):
        if state is None:
            return HitState(
                hit_id=event.hit_id,
                jit=event.jit,
                kind=event.kind,
                status=event.status,
                score=event.score,
                teams=(event.registering.team, event.holding.team),
                version=1,
            )
        if state.status is HitStatus.POSSIBLE and event.status is HitStatus.CONFIRMED:
            return state.model_copy(
                update={"status": event.status, "score": None, "version": state.version + 1}
            )
        return state
    if state is None:
        raise ValueError(f"{type(event).__name__} for a hit that was never told")
    if isinstance(event, RoleConflictDetected):
        return state.model_copy(update={"role_conflict": True, "version": state.version + 1})
    if isinstance(event, DeconflictionDetailsReleased):
        return state.model_copy(
            update={
                "released_by": tuple(sorted({*state.released_by, event.by_team})),
                "declined_by": tuple(t for t in state.declined_by if t != event.by_team),
                "version": state.version + 1,
            }
        )
    if isinstance(event, DeconflictionDetailsDeclined):
        return state.model_copy(
            update={
                "declined_by": tuple(sorted({*state.declined_by, event.by_team})),
                "version": state.version + 1,
            }
        )
    return state


# --- operations -----------------------------------------------------------------------------------


class OperationRecord(_State):
    operation_id: str
    team: str
    kind: OperationKind
    place: OperationPlace
    resolution: int
    cells: tuple[str, ...]
    cancelled: bool = False

    @property
    def circle(self) -> geo.Circle:
        return geo.Circle(self.place.latitude, self.place.longitude, self.place.radius_m)


ConflictStatus = Literal["open", "resolved", "cleared"]


class ConflictRecord(_State):
    conflict_id: str
    operation_ids: tuple[str, str]
    teams: tuple[str, str]
    status: ConflictStatus = "open"
    resolved_by: tuple[str, ...] = ()


class OperationIndex(_State):
    """A JIT's operations with their H3 cells (cell → operation ids) and conflicts.

    Kept per JIT (one faust table entry keyed by JIT id): conflicts are only ever between
    operations of one JIT, and a JIT has tens to hundreds of operations at a time.
    """

    jit: str
    operations: dict[str, OperationRecord] = {}
    cell_to_operations: dict[str, tuple[str, ...]] = {}
    conflicts: dict[str, ConflictRecord] = {}
    erased_operations: tuple[str, ...] = ()
    """Operations erased from the index: ids only, kept so that a replayed plan cannot bring
    an erased operation back."""
    version: int = 0


def _record(
    operation_id: str, team: str, kind: OperationKind, place: OperationPlace
) -> OperationRecord:
    resolution, cells = geo.index_cells(place.latitude, place.longitude, place.radius_m)
    return OperationRecord(
        operation_id=operation_id,
        team=team,
        kind=kind,
        place=place,
        resolution=resolution,
        cells=cells,
    )


def conflicting(index: OperationIndex, operation: OperationRecord) -> list[OperationRecord]:
    """The other teams' live operations whose area meets this one's while their windows overlap:
    candidates from shared H3 cells, then the exact check."""
    resolutions = {op_id: op.resolution for op_id, op in index.operations.items()}
    found = geo.candidates(
        operation.resolution, operation.cells, index.cell_to_operations, resolutions
    )
    out: list[OperationRecord] = []
    for other_id in sorted(found):
        other = index.operations[other_id]
        if (
            other_id != operation.operation_id
            and not other.cancelled
            and other.team != operation.team
            and overlaps(operation, other)
        ):
            out.append(other)
    return out


def overlaps(a: OperationRecord, b: OperationRecord) -> bool:
    """The exact check: the circles meet and the windows share an instant."""
    return geo.circles_overlap(a.circle, b.circle) and geo.windows_overlap(
        a.place.starts_at, a.place.ends_at, b.place.starts_at, b.place.ends_at
    )


def _detected(
    jit: str,
    new: OperationRecord,
    other: OperationRecord,
    *,
    now: datetime,
    desks: Mapping[str, DeskContact],
) -> Addressed:
    cid = operation_conflict_id(jit, new.operation_id, other.operation_id)
    area = geo.overlap_circle(new.circle, other.circle)
    conflict = OperationConflictDetected(
        conflict_id=cid,
        jit=jit,
        sides=(
            ConflictSide(team=new.team, operation_id=new.operation_id, desk=desks.get(new.team)),
            ConflictSide(
                team=other.team, operation_id=other.operation_id, desk=desks.get(other.team)
            ),
        ),
        overlap_latitude=area.latitude,
        overlap_longitude=area.longitude,
        overlap_radius_m=area.radius_m,
        overlap_starts_at=max(new.place.starts_at, other.place.starts_at),
        overlap_ends_at=min(new.place.ends_at, other.place.ends_at),
        detected_at=now,
    )
    return Addressed(
        conflict, subject=cid, originator=new.team, releasable_to=frozenset({new.team, other.team})
    )


def _cleared(
    index: OperationIndex,
    operation_id: str,
    keep: set[str],
    *,
    cause: Literal["moved", "cancelled"],
    now: datetime,
) -> list[Addressed]:
    """Clear the open conflicts of an operation except those in ``keep``."""
    out: list[Addressed] = []
    for conflict in sorted(index.conflicts.values(), key=lambda c: c.conflict_id):
        if (
            conflict.status == "open"
            and operation_id in conflict.operation_ids
            and conflict.conflict_id not in keep
        ):
            out.append(
                Addressed(
                    OperationConflictCleared(
                        conflict_id=conflict.conflict_id, cause=cause, cleared_at=now
                    ),
                    subject=conflict.conflict_id,
                    originator=index.operations[operation_id].team,
                    releasable_to=frozenset(conflict.teams),
                )
            )
    return out


def _refuse_erased(index: OperationIndex, operation_id: str) -> None:
    if operation_id in index.erased_operations:
        raise Rejected(410, f"operation {operation_id} was erased; nothing of it is kept")


def _owned(index: OperationIndex, operation_id: str, team: str) -> OperationRecord:
    operation = index.operations.get(operation_id)
    if operation is None:
        _refuse_erased(index, operation_id)
        raise Rejected(404, f"no operation {operation_id}")
    if operation.team != team:
        raise Rejected(404, f"no operation {operation_id}")
    if operation.cancelled:
        raise Rejected(409, f"operation {operation_id} is cancelled")
    return operation


def decide_operation(
    state: OperationIndex | None,
    command: PlanOperation | MoveOperation | CancelOperation | ResolveOperationConflict,
    *,
    jit: str,
    now: datetime,
    desks: Mapping[str, DeskContact],
    members: Collection[str] | None = None,
) -> list[Event | Addressed]:
    """Plan, move, cancel an operation or resolve a conflict; every plan and move is checked
    against the JIT's other operations and every overlapping pair is (re)reported."""
    index = state or OperationIndex(jit=jit)
    team = command.actor.team
    _check_member(team, members)
    if isinstance(command, PlanOperation):
        _refuse_erased(index, command.operation_id)
        existing = index.operations.get(command.operation_id)
        if existing is not None:
            same = (
                existing.team == team
                and existing.kind is command.kind
                and existing.place == command.place
            )
            if same and not existing.cancelled:
                return []
            raise Rejected(409, f"operation {command.operation_id} already exists")
        if command.place.ends_at <= now:
            raise Rejected(422, "place.ends_at: the operation's window has already ended")
        planned = OperationPlanned(
            operation_id=command.operation_id,
            jit=jit,
            team=team,
            kind=command.kind,
            place=command.place,
            planned_by=command.actor.member,
            planned_at=now,
        )
        record = _record(command.operation_id, team, command.kind, command.place)
        return [
            Addressed(planned, subject=command.operation_id),
            *(
                _detected(jit, record, other, now=now, desks=desks)
                for other in conflicting(index, record)
            ),
        ]
    if isinstance(command, MoveOperation):
        current = _owned(index, command.operation_id, team)
        was = current.place
        try:
            place = OperationPlace(
                latitude=was.latitude if command.latitude is None else command.latitude,
                longitude=was.longitude if command.longitude is None else command.longitude,
                radius_m=command.radius_m or was.radius_m,
                starts_at=command.starts_at or was.starts_at,
                ends_at=command.ends_at or was.ends_at,
            )
        except ValueError as exc:
            raise Rejected(422, f"the moved window is invalid: {exc}") from None
        if place == was:
            return []
        moved = OperationMoved(
            operation_id=current.operation_id,
            jit=jit,
            team=team,
            place=place,
            moved_by=command.actor.member,
            moved_at=now,
        )
        record = _record(current.operation_id, team, current.kind, place)
        still = conflicting(index, record)
        keep = {operation_conflict_id(jit, record.operation_id, o.operation_id) for o in still}
        return [
            Addressed(moved, subject=current.operation_id),
            *_cleared(index, current.operation_id, keep, cause="moved", now=now),
            *(_detected(jit, record, other, now=now, desks=desks) for other in still),
        ]
    if isinstance(command, CancelOperation):
        current = _owned(index, command.operation_id, team)
        cancelled = OperationCancelled(
            operation_id=current.operation_id,
            jit=jit,
            team=team,
            reason=command.reason,
            cancelled_by=command.actor.member,
            cancelled_at=now,
        )
        return [
            Addressed(cancelled, subject=current.operation_id),
            *_cleared(index, current.operation_id, set(), cause="cancelled", now=now),
        ]
    conflict = index.conflicts.get(command.conflict_id)
    if conflict is None:
        raise Rejected(404, f"no operation conflict {command.conflict_id}")
    if team not in conflict.teams:
        raise Rejected(404, f"no operation conflict {command.conflict_id}")
    if conflict.status != "open":
        raise Rejected(409, f"the conflict is {conflict.status}")
    if team in conflict.resolved_by:
        raise Rejected(409, f"{team} has already resolved this conflict")
    teams = frozenset(conflict.teams)
    out: list[Event | Addressed] = [
        Addressed(
            OperationConflictResolutionRecorded(
                conflict_id=conflict.conflict_id,
                team=team,
                by=command.actor.member,
                note=command.note,
                recorded_at=now,
            ),
            subject=conflict.conflict_id,
            originator=team,
            releasable_to=teams,
        )
    ]
    if set(conflict.resolved_by) | {team} >= set(conflict.teams):
        out.append(
            Addressed(
                OperationConflictResolved(
                    conflict_id=conflict.conflict_id, teams=conflict.teams, resolved_at=now
                ),
                subject=conflict.conflict_id,
                originator=team,
                releasable_to=teams,
            )
        )
    return out


def _unindex(cells: dict[str, tuple[str, ...]], operation: OperationRecord) -> None:
    for cell in operation.cells:
        left = tuple(o for o in cells.get(cell, ()) if o != operation.operation_id)
        if left:
            cells[cell] = left
        else:
            cells.pop(cell, None)


def _index(cells: dict[str, tuple[str, ...]], operation: OperationRecord) -> None:
    for cell in operation.cells:
        held = cells.get(cell, ())
        if operation.operation_id not in held:
            cells[cell] = (*held, operation.operation_id)


def evolve_operation(
    state: OperationIndex | None, event: Event, *, jit: str | None = None
) -> OperationIndex:
    """The JIT's operation index after an event."""
    index = state or OperationIndex(jit=jit or getattr(event, "jit", ""))
    operations = dict(index.operations)
    cells = dict(index.cell_to_operations)
    conflicts = dict(index.conflicts)
    if isinstance(event, OperationPlanned):
        record = _record(event.operation_id, event.team, event.kind, event.place)
        operations[record.operation_id] = record
        _index(cells, record)
    elif isinstance(event, OperationMoved):
        old = operations[event.operation_id]
        _unindex(cells, old)
        record = _record(old.operation_id, old.team, old.kind, event.place)
        operations[record.operation_id] = record
        _index(cells, record)
    elif isinstance(event, OperationCancelled):
        old = operations[event.operation_id]
        _unindex(cells, old)
        operations[old.operation_id] = old.model_copy(update={"cancelled": True, "cells": ()})
    elif isinstance(event, OperationConflictDetected):
        conflicts[event.conflict_id] = ConflictRecord(
            conflict_id=event.conflict_id,
            operation_ids=(event.sides[0].operation_id, event.sides[1].operation_id),
            teams=(event.sides[0].team, event.sides[1].team),
        )
    elif isinstance(event, OperationConflictResolutionRecorded):
        c = conflicts[event.conflict_id]
        conflicts[c.conflict_id] = c.model_copy(
            update={"resolved_by": tuple(sorted({*c.resolved_by, event.team}))}
        )
    elif isinstance(event, OperationConflictResolved):
        conflicts[event.conflict_id] = conflicts[event.conflict_id].model_copy(
            update={"status": "resolved"}
        )
    elif isinstance(event, OperationConflictCleared):
        conflicts[event.conflict_id] = conflicts[event.conflict_id].model_copy(
            update={"status": "cleared"}
        )
    else:
        return index
    return index.model_copy(
        update={
            "operations": operations,
            "cell_to_operations": cells,
            "conflicts": conflicts,
            "version": index.version + 1,
        }
    )


def prune(state: OperationIndex, *, now: datetime, keep_for: float = 86_400.0) -> OperationIndex:
    """Drop operations whose window ended more than ``keep_for`` seconds ago, and their
    conflicts: a timer the wiring calls so the index holds only what can still collide."""
    gone = {
        op_id
        for op_id, op in state.operations.items()
        if (now - op.place.ends_at).total_seconds() > keep_for
    }
    if not gone:
        return state
    cells = dict(state.cell_to_operations)
    for op_id in gone:
        _unindex(cells, state.operations[op_id])
    return state.model_copy(
        update={
            "operations": {k: v for k, v in state.operations.items() if k not in gone},
            "cell_to_operations": cells,
            "conflicts": {
                k: c for k, c in state.conflicts.items() if not set(c.operation_ids) & gone
            },
            "version": state.version + 1,
        }
    )


def conflicts_of(state: OperationIndex | None, operation_id: str) -> tuple[str, ...]:
    """Every conflict an operation was ever in, open or not: their events are sealed with a key
    of their own, destroyed when either operation is erased."""
    if state is None:
        return ()
    return tuple(
        sorted(c.conflict_id for c in state.conflicts.values() if operation_id in c.operation_ids)
    )


def forget_operation(
    state: OperationIndex | None, *, jit: str, operation_id: str
) -> OperationIndex:
    """Take an erased operation out of its JIT's index: its place, window, cells and conflicts
    go, so that later plans never meet it; its id stays, so that a replayed plan is refused
    (410) instead of bringing it back. Idempotent."""
    index = state or OperationIndex(jit=jit)
    operation = index.operations.get(operation_id)
    if operation is None and operation_id in index.erased_operations:
        return index
    cells = dict(index.cell_to_operations)
    if operation is not None:
        _unindex(cells, operation)
    return index.model_copy(
        update={
            "operations": {k: v for k, v in index.operations.items() if k != operation_id},
            "cell_to_operations": cells,
            "conflicts": {
                k: c for k, c in index.conflicts.items() if operation_id not in c.operation_ids
            },
            "erased_operations": tuple(sorted({*index.erased_operations, operation_id})),
            "version": index.version + 1,
        }
    )
