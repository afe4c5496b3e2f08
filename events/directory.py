"""The JIT directory: JITs, their member teams, desks and members with roles.

Each record is the whole current state of one directory entry, keyed by its id on a compacted
topic, so a consumer that reads the topic from the start has the directory.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, HttpUrl, field_validator, model_validator

from events.envelope import ID_PATTERN, TEAM_PATTERN, Event
from events.registry import CatalogueEntry
from events.retention import MAX_KEEP_DAYS, MAX_REVIEW_DAYS, DataCategory
from events.topics import DIRECTORY
from events.zones import is_zone

DIRECTORY_JIT = "directory"
"""The ``jit`` attribute of directory records that belong to no single JIT (teams, members)."""


class Role(StrEnum):
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    DESK_OFFICER = "desk_officer"
    TEAM_LEAD = "team_lead"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    AUDITOR = "auditor"
    NATIONAL_SYSTEM = "national_system"


class JitRegistered(Event):
    """A JIT and its agreement: member teams, coordinator, legal basis, dates."""

    type = "interlock.directory.jit"

    jit_id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    legal_basis: str = Field(min_length=1, max_length=1_000)
    coordinator_team: str = Field(pattern=TEAM_PATTERN)
    member_teams: tuple[str, ...] = Field(min_length=1)
    starts_on: date
    ends_on: date | None = None
    cross_jit_matching: bool = Field(
        default=False,
        description="Whether this JIT's agreement allows deconfliction against other JITs.",
    )

    @model_validator(mode="after")
    def _coordinator_is_member(self) -> JitRegistered:
        if self.coordinator_team not in self.member_teams:
            raise ValueError("coordinator_team must be one of member_teams")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class TeamRegistered(Event):
    type = "interlock.directory.team"

    team: str = Field(pattern=TEAM_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class DeskRegistered(Event):
    """A team's 24/7 rapid-response desk: the contact point told in deconfliction hits."""

    type = "interlock.directory.desk"

    team: str = Field(pattern=TEAM_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    phone: str = Field(min_length=3, max_length=64)
    email: str = Field(min_length=3, max_length=256)
    team_lead: str | None = Field(default=None, pattern=ID_PATTERN)
    webhook_url: HttpUrl | None = None
    on_call: tuple[
        Annotated[str, Field(min_length=3, max_length=256, pattern=r"^[^@\s]+@[^@\s]+$")], ...
    ] = Field(
        default=(),
        max_length=20,
        description="E-mail addresses paged when an alert waits on the desk; none: ``email``.",
    )


class MemberRegistered(Event):
    type = "interlock.directory.member"

    member_id: str = Field(pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    display_name: str = Field(min_length=1, max_length=256)
    roles: tuple[Role, ...] = Field(min_length=1)
    jits: tuple[str, ...] = ()
    active: bool = True
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone the member reads and enters times in, e.g. Europe/Bucharest; "
        "none: the zone of the team's country.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_zone(value):
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Bucharest)")
        return value


def retention_record_key(jit: str, team: str | None, category: DataCategory | str) -> str:
    """The directory key of a retention policy: one record per JIT, team (``*``: JIT-wide) and
    category, so that setting a policy again replaces it on the compacted topic."""
    return f"retention:{jit}:{team or '*'}:{DataCategory(category).value}"


class RetentionPolicySet(Event):
    """How long a JIT, or one team within it, keeps one category of data after its last use.

    A team's policy governs the subjects that team owns; the JIT-wide one (``team`` None) the
    rest; ``events.retention.DEFAULT_KEEP_DAYS`` applies where neither is set.
    """

    type = "interlock.directory.retention"

    jit_id: str = Field(pattern=ID_PATTERN)
    team: str | None = Field(
        pattern=TEAM_PATTERN, description="The team it applies to; None: the JIT-wide default."
    )
    category: DataCategory
    keep_days: int = Field(
        ge=1, le=MAX_KEEP_DAYS, description="Days kept after the subject's last activity."
    )
    review_days: int = Field(
        ge=0,
        le=MAX_REVIEW_DAYS,
        description="Days before erasure the owning team is reminded (0: no reminder).",
    )
    set_by: str = Field(pattern=ID_PATTERN, description="The member who set it.")

    @property
    def key(self) -> str:
        """Its key on the directory topic."""
        return retention_record_key(self.jit_id, self.team, self.category)


ENTRIES = (
    CatalogueEntry(JitRegistered, DIRECTORY),
    CatalogueEntry(TeamRegistered, DIRECTORY),
    CatalogueEntry(DeskRegistered, DIRECTORY),
    CatalogueEntry(MemberRegistered, DIRECTORY),
    CatalogueEntry(RetentionPolicySet, DIRECTORY),
)
