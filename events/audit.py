"""Accountability records (LED 2016/680 Art. 25; OWASP ASVS V16): who did what, when, why and
for whom, with ids only — never the personal data itself.

``AuditRecorded`` travels on the audit topic (one partition, so the chain has one writer); the
audit service appends each record, in order, to the hash-chained log on the chain topic as a
``ChainLink``. A link is not a CloudEvent of the catalogue: it is the log itself, read by
``interlock audit verify`` and the auditor's search, and never fed to any team.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.envelope import ID_PATTERN, TEAM_PATTERN, Event
from events.registry import CatalogueEntry
from events.topics import AUDIT

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first link of a chain."""


class AuditKind(StrEnum):
    """The operation an audit record accounts for."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"
    AUTHENTICATION_FAILED = "authentication_failed"
    AUTHORISATION_REFUSED = "authorisation_refused"
    TOKEN_MISUSE = "token_misuse"


SECURITY_KINDS = frozenset(
    {AuditKind.AUTHENTICATION_FAILED, AuditKind.AUTHORISATION_REFUSED, AuditKind.TOKEN_MISUSE}
)


class Justification(BaseModel):
    """Why personal data was processed: the case it serves and the stated reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case: str = Field(min_length=1, max_length=128, description="Case reference.")
    reason: str = Field(min_length=1, max_length=500, description="Why it is needed.")


class AuditRecorded(Event):
    """One accountable operation. ``object_ids`` are ids only; ``reason`` is never a secret."""

    type = "interlock.audit.recorded"

    kind: AuditKind
    at: AwareDatetime = Field(description="When the operation happened (UTC).")
    member: str | None = Field(default=None, max_length=128, description="Who (None: a service).")
    team: str | None = Field(default=None, pattern=TEAM_PATTERN)
    jit: str | None = Field(default=None, pattern=ID_PATTERN)
    operation: str = Field(
        min_length=1,
        max_length=200,
        description="The event type or HTTP route that did it (``GET /jits/{jit}/paths``).",
    )
    object_ids: tuple[str, ...] = Field(default=(), max_length=200)
    justification: Justification | None = None
    recipients: tuple[str, ...] = Field(default=(), description="To whom (disclosures).")
    cause_id: str | None = Field(default=None, max_length=128, description="The source event.")
    reason: str | None = Field(default=None, max_length=500, description="Why it was refused.")


class ChainLink(BaseModel):
    """One record of the append-only log, chained to the one before it.

    ``hash = sha256(canonical JSON of the link without ``hash`` + previous_hash)``; altering,
    removing or reordering any link breaks the chain from there on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sequence: int = Field(ge=0)
    previous_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    record_id: str = Field(min_length=1, max_length=128)
    source_offset: int = Field(ge=0, description="Offset of the record on the audit topic.")
    record: dict[str, Any]
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


ENTRIES: tuple[CatalogueEntry, ...] = (CatalogueEntry(AuditRecorded, AUDIT),)
