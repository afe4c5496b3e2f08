"""Deconfliction: blind target registration, hits, operation and role conflicts.

The index holds keyed blind tokens (``contracts/token-recipe.md``), never raw identifier values.
A hit is told to both teams with the other side's desk contact and nothing of its lead, case or
person; details travel only when a team releases them.

Subjects (partition keys): registration commands by source ref, ``TokenRegistered`` by token,
``PersonRegistered`` by date-of-birth block token, hit commands, hit events and role conflicts
by hit id, operation commands by JIT id (one operation index per JIT), operation events by
operation id and operation-conflict events by conflict id.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from events.directory import DeskRegistered
from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.registry import CatalogueEntry
from events.topics import (
    DECONFLICTION_COMMANDS,
    DECONFLICTION_EVENTS,
    DECONFLICTION_HITS,
    DECONFLICTION_INDEX,
)

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{43}$"
"""A blind token: HMAC-SHA256 output (32 bytes) in base64url without padding."""

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

CLK_PATTERN = r"^[A-Za-z0-9_-]{8,400}$"
"""A keyed Bloom-filter encoding of a name, base64url without padding."""

MAX_RADIUS_M = 100_000.0

NON_PUNISHMENT_NOTE = (
    "One team holds this person as a victim of trafficking and another as a suspect. "
    "Victims must not be prosecuted or punished for offences they were compelled to commit "
    "as a direct consequence of being trafficked (non-punishment principle: Directive "
    "2011/36/EU art. 8, Council of Europe Convention art. 26). Both desks should coordinate "
    "before any action against the person."
)


class HitStatus(StrEnum):
    CONFIRMED = "confirmed"
    """The same canonical identifier or the same person key."""
    POSSIBLE = "possible"
    """A fuzzy person match at or above the threshold, with its score."""


class TokenScope(StrEnum):
    JIT = "jit"
    """Keyed with the JIT's key: matches only within the JIT."""
    CROSS_JIT = "cross_jit"
    """Keyed with the platform-wide cross-JIT key: matches other JITs that allow it."""


PERSON_KIND: Final = "person"
MatchKind = IdentifierKind | Literal["person"]
"""What matched: an identifier kind, or ``person`` for a person match."""


class OperationKind(StrEnum):
    ARREST = "arrest"
    SEARCH = "search"
    SURVEILLANCE = "surveillance"
    CONTROLLED_DELIVERY = "controlled_delivery"
    VICTIM_RESCUE = "victim_rescue"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeskContact(_Value):
    """A team's rapid-response desk, as told in hits and conflicts: who to call, nothing else."""

    team: str = Field(pattern=TEAM_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    phone: str = Field(min_length=3, max_length=64)
    email: str = Field(min_length=3, max_length=256)

    @classmethod
    def from_directory(cls, desk: DeskRegistered) -> DeskContact:
        """The contact part of a directory desk record (no webhook, no team lead)."""
        return cls(team=desk.team, name=desk.name, phone=desk.phone, email=desk.email)


class HitSide(_Value):
    """One side of a hit: the team, its JIT, its registration and its desk contact.

    ``registration_id`` is an opaque keyed id: the owning team finds its own lead through its
    ``TokenRegistered`` events; the other team learns nothing from it.
    """

    team: str = Field(pattern=TEAM_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    registration_id: str = Field(pattern=UUID_PATTERN)
    desk: DeskContact | None = Field(
        default=None,
        description="None only while the directory has no desk for the team.",
    )


# --- registration -----------------------------------------------------------------------------


class RegisterIdentifiers(Command):
    """Register the identifiers and persons of one source (lead, suspect record) for matching.

    Raw values pass through the service's memory only: the index stores keyed tokens.
    An identifier's ``person`` index gives it that person's role.
    """

    type = "interlock.deconfliction.register_identifiers"

    source_ref: str = Field(pattern=ID_PATTERN, description="The team's own lead or record id.")
    identifiers: tuple[Identifier, ...] = Field(default=(), max_length=500)
    persons: tuple[Person, ...] = Field(default=(), max_length=200)

    @model_validator(mode="after")
    def _something_to_register(self) -> Self:
        if not self.identifiers and not self.persons:
            raise ValueError("identifiers: give at least one identifier or person")
        for i, ident in enumerate(self.identifiers):
            if ident.person is not None and ident.person >= len(self.persons):
                raise ValueError(
                    f"identifiers.{i}.person: refers to person {ident.person}, "
                    f"but the registration has {len(self.persons)}"
                )
        return self


class BlindToken(_Value):
    """A token a national system computed itself with the published recipe."""

    kind: IdentifierKind
    token: str = Field(pattern=TOKEN_PATTERN)
    key_version: int = Field(ge=1)
    scope: TokenScope = TokenScope.JIT
    role: PersonRole | None = Field(
        default=None,
        description="The role of the person the identifier belongs to, if any.",
    )
    entry_ref: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="The national system's own stable id of this identifier record. Give it so "
        "that re-registering under a new key version is the same registration (no second hit).",
    )


class RegisterBlindTokens(Command):
    """Register tokens computed by a national system, which never sends the raw values."""

    type = "interlock.deconfliction.register_blind_tokens"

    source_ref: str = Field(pattern=ID_PATTERN)
    tokens: tuple[BlindToken, ...] = Field(min_length=1, max_length=10_000)


class TokenRegistered(Event):
    """One identifier token entered the index. Told to the registering team only.

    It links the team's own source ref to the opaque registration id that hits carry.
    """

    type = "interlock.deconfliction.token_registered"

    token: str = Field(pattern=TOKEN_PATTERN)
    scope: TokenScope
    key_version: int = Field(ge=1)
    registration_id: str = Field(pattern=UUID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    kind: IdentifierKind
    source_ref: str = Field(pattern=ID_PATTERN)
    role: PersonRole | None = None
    registered_at: AwareDatetime


class PersonRegistered(Event):
    """One person entered the fuzzy index, as keyed encodings only. Told to the registering team.

    ``block_token`` is the keyed date of birth (the blocking key), ``person_token`` the keyed
    exact person key, ``clk`` the keyed Bloom filter of the name's bigrams.
    """

    type = "interlock.deconfliction.person_registered"

    block_token: str = Field(pattern=TOKEN_PATTERN)
    person_token: str = Field(pattern=TOKEN_PATTERN)
    clk: str = Field(pattern=CLK_PATTERN)
    scope: TokenScope
    key_version: int = Field(ge=1)
    registration_id: str = Field(pattern=UUID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    source_ref: str = Field(pattern=ID_PATTERN)
    role: PersonRole | None = None
    registered_at: AwareDatetime


# --- hits -------------------------------------------------------------------------------------


class DeconflictionHit(Event):
    """Two teams hold the same target. Told to both teams; carries no lead, case, person or value.

    ``registering`` is the side whose registration found the other (the originator).
    """

    type = "interlock.deconfliction.hit_detected"

    hit_id: str = Field(pattern=UUID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    kind: MatchKind
    status: HitStatus
    score: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Similarity of a possible person match.",
    )
    cross_jit: bool = False
    registering: HitSide
    holding: HitSide
    detected_at: AwareDatetime

    @model_validator(mode="after")
    def _score_for_possible(self) -> Self:
        if self.status is HitStatus.POSSIBLE and self.score is None:
            raise ValueError("score: a possible hit carries its score")
        if self.registering.team == self.holding.team:
            raise ValueError("holding.team: a hit pairs two different teams")
        return self

    @property
    def teams(self) -> frozenset[str]:
        return frozenset({self.registering.team, self.holding.team})


class ReleasedDetails(_Value):
    """What a team chooses to tell the other team about its side of a hit."""

    source_ref: str | None = Field(default=None, pattern=ID_PATTERN, description="Its lead id.")
    summary_ref: str | None = Field(default=None, min_length=1, max_length=256)
    contact_officer: str | None = Field(default=None, min_length=1, max_length=256)
    note: str | None = Field(default=None, min_length=1, max_length=2_000)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not any((self.source_ref, self.summary_ref, self.contact_officer, self.note)):
            raise ValueError(
                "details: release at least one of source_ref, summary_ref, contact_officer, note"
            )
        return self


class ReleaseHitDetails(Command):
    """One of the two teams of a hit releases details of its side to the other."""

    type = "interlock.deconfliction.release_hit_details"

    hit_id: str = Field(pattern=UUID_PATTERN)
    details: ReleasedDetails


class DeclineHitDetails(Command):
    """One of the two teams of a hit declines to release details of its side."""

    type = "interlock.deconfliction.decline_hit_details"

    hit_id: str = Field(pattern=UUID_PATTERN)
    reason: str | None = Field(default=None, min_length=1, max_length=2_000)


class DeconflictionDetailsReleased(Event):
    """Details of one side of a hit, visible only to the two teams."""

    type = "interlock.deconfliction.details_released"

    hit_id: str = Field(pattern=UUID_PATTERN)
    by_team: str = Field(pattern=TEAM_PATTERN)
    to_team: str = Field(pattern=TEAM_PATTERN)
    by: str = Field(pattern=ID_PATTERN, description="The member who released.")
    details: ReleasedDetails
    released_at: AwareDatetime


class DeconflictionDetailsDeclined(Event):
    """A team declined to release details of its side of a hit; visible to the two teams."""

    type = "interlock.deconfliction.details_declined"

    hit_id: str = Field(pattern=UUID_PATTERN)
    by_team: str = Field(pattern=TEAM_PATTERN)
    to_team: str = Field(pattern=TEAM_PATTERN)
    by: str = Field(pattern=ID_PATTERN)
    reason: str | None = Field(default=None, max_length=2_000)
    declined_at: AwareDatetime


class RoleSide(_Value):
    team: str = Field(pattern=TEAM_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    role: Literal[PersonRole.VICTIM, PersonRole.SUSPECT]
    registration_id: str = Field(pattern=UUID_PATTERN)
    desk: DeskContact | None = None


class RoleConflictDetected(Event):
    """The same person is held as a victim by one team and as a suspect by another."""

    type = "interlock.deconfliction.role_conflict_detected"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    hit_id: str = Field(pattern=UUID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    kind: MatchKind
    victim: RoleSide
    suspect: RoleSide
    severity: Literal["P2"] = "P2"
    category: Literal["role_conflict"] = "role_conflict"
    note: str = Field(default=NON_PUNISHMENT_NOTE, min_length=1)
    detected_at: AwareDatetime

    @model_validator(mode="after")
    def _roles(self) -> Self:
        if self.victim.role is not PersonRole.VICTIM or self.suspect.role is not PersonRole.SUSPECT:
            raise ValueError("victim.role must be victim and suspect.role suspect")
        if self.victim.team == self.suspect.team:
            raise ValueError("suspect.team: a role conflict pairs two different teams")
        return self


# --- operations -------------------------------------------------------------------------------


class OperationPlace(_Value):
    """Where and when an operation happens: a point with a radius, and a time window."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=MAX_RADIUS_M)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


class PlanOperation(Command):
    """Plan an operation; it is checked against the JIT's other operations at once."""

    type = "interlock.operation.plan"

    operation_id: str = Field(pattern=ID_PATTERN)
    kind: OperationKind
    place: OperationPlace


class MoveOperation(Command):
    """Change an operation's place and/or time window; fields left out keep their value."""

    type = "interlock.operation.move"

    operation_id: str = Field(pattern=ID_PATTERN)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _something_moves(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("longitude: give latitude and longitude together")
        if all(v is None for v in (self.latitude, self.radius_m, self.starts_at, self.ends_at)):
            raise ValueError("operation_id: nothing to move (give a place or a window)")
        return self


class CancelOperation(Command):
    type = "interlock.operation.cancel"

    operation_id: str = Field(pattern=ID_PATTERN)
    reason: str = Field(min_length=1, max_length=2_000)


class ResolveOperationConflict(Command):
    """One team declares the conflict handled on its side; resolved once both teams have."""

    type = "interlock.operation.resolve_conflict"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    note: str | None = Field(default=None, min_length=1, max_length=2_000)


class OperationPlanned(Event):
    type = "interlock.operation.planned"

    operation_id: str = Field(pattern=ID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    kind: OperationKind
    place: OperationPlace
    planned_by: str = Field(pattern=ID_PATTERN)
    planned_at: AwareDatetime


class OperationMoved(Event):
    """The operation's place and window as they are now."""

    type = "interlock.operation.moved"

    operation_id: str = Field(pattern=ID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    place: OperationPlace
    moved_by: str = Field(pattern=ID_PATTERN)
    moved_at: AwareDatetime


class OperationCancelled(Event):
    type = "interlock.operation.cancelled"

    operation_id: str = Field(pattern=ID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    reason: str = Field(min_length=1, max_length=2_000)
    cancelled_by: str = Field(pattern=ID_PATTERN)
    cancelled_at: AwareDatetime


class ConflictSide(_Value):
    """One side of an operation conflict: team, its operation's opaque id, its desk."""

    team: str = Field(pattern=TEAM_PATTERN)
    operation_id: str = Field(pattern=ID_PATTERN)
    desk: DeskContact | None = None


class OperationConflictDetected(Event):
    """Two teams' operations overlap in place and time: a P1 officer-safety alert to both desks.

    Carries where and when they overlap (a circle covering the intersection of the two areas,
    and the common window), never the other operation's kind, centre or full window. Sent
    again with the same ``conflict_id`` when a move changes the overlap; both teams then
    resolve it anew.
    """

    type = "interlock.operation.conflict_detected"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    jit: str = Field(pattern=ID_PATTERN)
    sides: tuple[ConflictSide, ConflictSide]
    overlap_latitude: float = Field(ge=-90, le=90)
    overlap_longitude: float = Field(ge=-180, le=180)
    overlap_radius_m: float = Field(ge=0, le=2 * MAX_RADIUS_M)
    overlap_starts_at: AwareDatetime
    overlap_ends_at: AwareDatetime
    severity: Literal["P1"] = "P1"
    category: Literal["officer_safety"] = "officer_safety"
    detected_at: AwareDatetime

    @model_validator(mode="after")
    def _two_teams(self) -> Self:
        if self.sides[0].team == self.sides[1].team:
            raise ValueError("sides: a conflict pairs two different teams")
        if self.overlap_ends_at <= self.overlap_starts_at:
            raise ValueError("overlap_ends_at: must be after overlap_starts_at")
        return self

    @property
    def teams(self) -> frozenset[str]:
        return frozenset(s.team for s in self.sides)


class OperationConflictResolutionRecorded(Event):
    """One team declared its side of a conflict handled."""

    type = "interlock.operation.conflict_resolution_recorded"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    by: str = Field(pattern=ID_PATTERN)
    note: str | None = Field(default=None, max_length=2_000)
    recorded_at: AwareDatetime


class OperationConflictResolved(Event):
    """Both teams declared the conflict handled."""

    type = "interlock.operation.conflict_resolved"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    teams: tuple[str, str]
    resolved_at: AwareDatetime


class OperationConflictCleared(Event):
    """An open conflict ended because an operation moved away or was cancelled."""

    type = "interlock.operation.conflict_cleared"

    conflict_id: str = Field(pattern=UUID_PATTERN)
    cause: Literal["moved", "cancelled"]
    cleared_at: AwareDatetime


ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(RegisterIdentifiers, DECONFLICTION_COMMANDS),
    CatalogueEntry(RegisterBlindTokens, DECONFLICTION_COMMANDS),
    CatalogueEntry(ReleaseHitDetails, DECONFLICTION_COMMANDS),
    CatalogueEntry(DeclineHitDetails, DECONFLICTION_COMMANDS),
    CatalogueEntry(PlanOperation, DECONFLICTION_COMMANDS, key="jit"),
    CatalogueEntry(MoveOperation, DECONFLICTION_COMMANDS, key="jit"),
    CatalogueEntry(CancelOperation, DECONFLICTION_COMMANDS, key="jit"),
    CatalogueEntry(ResolveOperationConflict, DECONFLICTION_COMMANDS, key="jit"),
    CatalogueEntry(TokenRegistered, DECONFLICTION_EVENTS, also_on=(DECONFLICTION_INDEX,)),
    CatalogueEntry(PersonRegistered, DECONFLICTION_EVENTS, also_on=(DECONFLICTION_INDEX,)),
    CatalogueEntry(DeconflictionHit, DECONFLICTION_EVENTS, also_on=(DECONFLICTION_HITS,)),
    CatalogueEntry(DeconflictionDetailsReleased, DECONFLICTION_EVENTS),
    CatalogueEntry(DeconflictionDetailsDeclined, DECONFLICTION_EVENTS),
    CatalogueEntry(RoleConflictDetected, DECONFLICTION_EVENTS, also_on=(DECONFLICTION_HITS,)),
    CatalogueEntry(OperationPlanned, DECONFLICTION_EVENTS, sealed_by="operation_id"),
    CatalogueEntry(OperationMoved, DECONFLICTION_EVENTS, sealed_by="operation_id"),
    CatalogueEntry(OperationCancelled, DECONFLICTION_EVENTS, sealed_by="operation_id"),
    CatalogueEntry(OperationConflictDetected, DECONFLICTION_EVENTS, sealed_by="conflict_id"),
    CatalogueEntry(
        OperationConflictResolutionRecorded, DECONFLICTION_EVENTS, sealed_by="conflict_id"
    ),
    CatalogueEntry(OperationConflictResolved, DECONFLICTION_EVENTS),
    CatalogueEntry(OperationConflictCleared, DECONFLICTION_EVENTS),
)


# --- internal to the deconfliction service ---------------------------------------------------


class ExpireTokens(Command):
    """Timer tick to one partition of the index topic: drop the index entries of that partition
    held under key versions no longer live. Internal: never on a public topic, not in the
    catalogue nor the contracts, so no team or national system can send it."""

    type = "interlock.deconfliction.expire_tokens"


class ForgetSource(Command):
    """Sent to every partition of the index topic when a lead is erased: drop that partition's
    index holders registered from the source (the lead) in the JIT, and refuse its later
    registrations. Internal, like :class:`ExpireTokens`: only the service's erasure agent sends
    it, on reading a ``SubjectErased`` of a lead."""

    type = "interlock.deconfliction.forget_source"

    jit: str = Field(pattern=ID_PATTERN)
    source_ref: str = Field(pattern=ID_PATTERN)


class ForgetOperation(Command):
    """Sent, keyed by JIT, to the index partition that owns the JIT's operation index (the index
    and command topics are co-partitioned) when an operation is erased: its place and window
    leave the index. Internal, like :class:`ExpireTokens`."""

    type = "interlock.deconfliction.forget_operation"

    jit: str = Field(pattern=ID_PATTERN)
    operation_id: str = Field(pattern=ID_PATTERN)


INTERNAL_ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(ExpireTokens, DECONFLICTION_INDEX),
    CatalogueEntry(ForgetSource, DECONFLICTION_INDEX),
    CatalogueEntry(ForgetOperation, DECONFLICTION_INDEX),
)
"""Types only the deconfliction service writes and reads, on its internal topics."""
