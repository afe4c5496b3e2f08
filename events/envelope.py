"""The CloudEvents 1.0 envelope every Interlock event and command travels in.

Extension attribute names follow the CloudEvents naming rule (lower-case letters and digits);
list-valued ``releasableto`` is a comma-separated string on the wire because CloudEvents
extension attributes must be scalar.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
)

from events.handling import Handling, HandlingCode, Tlp, audience

TEAM_PATTERN = r"^[A-Z]{2}-[A-Z0-9]{2,16}$"
"""A team code: ISO 3166 alpha-2 country, a dash, the agency (``NL-KLPD``, ``RO-DIICOT``)."""

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class Payload(BaseModel):
    """Base of every event and command payload: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1


class Event(Payload):
    """Something that happened; named in the past tense."""


class Actor(BaseModel):
    """Who issued a command: a member (or national-system principal) of a team, with roles."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member: str = Field(pattern=ID_PATTERN, description="Member or principal id.")
    team: str = Field(pattern=TEAM_PATTERN)
    roles: tuple[str, ...] = ()


class Command(Payload):
    """Something a member asks for; named in the imperative. Carries who asked."""

    actor: Actor


@dataclass(frozen=True)
class Addressed:
    """A payload with the audience it is for, where that differs from the command that caused it.

    A domain's ``decide`` returns plain events (which inherit the cause's JIT, originator,
    releasability and handling) or ``Addressed`` ones (a deconfliction hit told to two teams).
    """

    event: Event
    subject: str | None = None
    originator: str | None = None
    releasable_to: frozenset[str] | None = None
    handling: Handling | None = None


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """A CloudEvents 1.0 structured-mode event with Interlock's extension attributes."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=new_id, min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=128)
    time: AwareDatetime = Field(default_factory=utcnow)
    subject: str = Field(min_length=1, max_length=256, description="Aggregate id.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    jit: str = Field(pattern=ID_PATTERN)
    originator: str = Field(pattern=TEAM_PATTERN)
    releasable_to: frozenset[str] = Field(default=frozenset(), alias="releasableto")
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    readers: frozenset[str] | None = Field(
        default=None,
        description="TLP:RED: the members of receiving teams who may read it (comma-separated).",
    )
    correlation_id: str = Field(alias="correlationid", min_length=1, max_length=128)
    causation_id: str | None = Field(default=None, alias="causationid", max_length=128)
    schema_version: int = Field(default=1, alias="schemaversion", ge=1)
    aggregate_version: int = Field(default=0, alias="aggregateversion", ge=0)
    data: Any

    wire_names: ClassVar[dict[str, str]] = {
        "releasable_to": "releasableto",
        "correlation_id": "correlationid",
        "causation_id": "causationid",
        "schema_version": "schemaversion",
        "aggregate_version": "aggregateversion",
    }

    @field_validator("releasable_to", mode="before")
    @classmethod
    def _split_teams(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(t for t in value.split(",") if t)
        return value

    @field_validator("releasable_to")
    @classmethod
    def _teams_are_codes(cls, value: frozenset[str]) -> frozenset[str]:
        import re

        bad = sorted(t for t in value if not re.match(TEAM_PATTERN, t))
        if bad:
            raise ValueError(f"not team codes: {', '.join(bad)}")
        return value

    @field_serializer("releasable_to")
    def _join_teams(self, value: frozenset[str]) -> str:
        return ",".join(sorted(value))

    @field_validator("readers", mode="before")
    @classmethod
    def _split_readers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(m for m in value.split(",") if m) or None
        return frozenset(value) or None if value is not None else None

    @field_serializer("readers")
    def _join_readers(self, value: frozenset[str] | None) -> str | None:
        return ",".join(sorted(value)) if value else None

    @property
    def handling_label(self) -> Handling:
        return Handling(code=self.handling, tlp=self.tlp, readers=tuple(sorted(self.readers or ())))

    @property
    def audience(self) -> frozenset[str]:
        """Teams that may see this event."""
        return audience(self.originator, self.releasable_to)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object of the structured-mode CloudEvent."""
        wire = self.model_dump(mode="json", by_alias=True, exclude={"data"}, exclude_none=True)
        data = self.data
        wire["data"] = (
            data.model_dump(mode="json", exclude_none=False)
            if isinstance(data, BaseModel)
            else data
        )
        return wire
