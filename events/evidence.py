"""Evidence: files exchanged within a JIT, and every act of their chain of custody.

The file itself never travels on Kafka: it is stored sealed (with the data key of the subject it
belongs to, so that erasing the subject shreds the file too) in a content-addressed blob store.
What travels are the facts about it: its hashes, size, media type and markings when it is
registered, then one event per act of custody (viewed, downloaded, shared, transferred and
acknowledged, exported, erased), each with who, which team, when, why and the hashes.

One writer per evidence item (the evidence service, keyed by evidence id). Every event is sealed
with the key of ``subject_id``: the lead, task or operation the evidence belongs to, or the
evidence itself when it belongs to none.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from events.audit import Justification
from events.envelope import ID_PATTERN, TEAM_PATTERN, Command, Event
from events.handling import HandlingCode, Tlp
from events.registry import CatalogueEntry
from events.topics import EVIDENCE_COMMANDS, EVIDENCE_EVENTS

RefId = Annotated[str, Field(pattern=ID_PATTERN)]
TeamCode = Annotated[str, Field(pattern=TEAM_PATTERN)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sha512 = Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]


class LinkKind(StrEnum):
    """What an evidence item belongs to."""

    LEAD = "lead"
    TASK = "task"
    OPERATION = "operation"


class CustodyAct(StrEnum):
    """The acts of a chain of custody, as shown on the custody timeline."""

    REGISTERED = "registered"
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"
    SHARED = "shared"
    DOWNLOAD_REQUESTED = "download_requested"
    DOWNLOAD_GRANTED = "download_granted"
    DOWNLOAD_DENIED = "download_denied"
    TRANSFERRED = "transferred"
    RECEIPT_ACKNOWLEDGED = "receipt_acknowledged"
    SEALED = "sealed"
    UNSEALED = "unsealed"
    EXPORTED = "exported"
    ERASED = "erased"


class EvidenceCommand(Command):
    """A custody act asked for by a member, with the reason it is needed."""

    evidence_id: RefId
    justification: Justification


class RegisterEvidence(EvidenceCommand):
    """Register a file that has been stored sealed in the blob store."""

    type = "interlock.evidence.register"

    subject_id: RefId = Field(description="The subject whose key sealed the file.")
    filename: str = Field(min_length=1, max_length=255)
    media_type: str = Field(min_length=3, max_length=127)
    size: int = Field(ge=0)
    sha256: Sha256
    sha512: Sha512
    blob: Sha256 = Field(description="The blob store address: SHA-256 of the sealed bytes.")
    exhibit_ref: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=4_000)
    link_kind: LinkKind | None = None
    link_id: RefId | None = None
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    releasable_to: tuple[TeamCode, ...] = Field(default=(), max_length=50)


class ViewEvidence(EvidenceCommand):
    type = "interlock.evidence.view"


class DownloadEvidence(EvidenceCommand):
    type = "interlock.evidence.download"


class ShareEvidence(EvidenceCommand):
    """Release the item to more teams (only its originating team may)."""

    type = "interlock.evidence.share"

    teams: tuple[TeamCode, ...] = Field(min_length=1, max_length=50)


class RequestEvidenceDownload(EvidenceCommand):
    """Ask the originating team for permission to download an H2 item."""

    type = "interlock.evidence.request_download"


class DecideEvidenceDownload(EvidenceCommand):
    """Grant or deny a team's pending request to download an H2 item."""

    type = "interlock.evidence.decide_download"

    team: TeamCode
    grant: bool


class TransferEvidence(EvidenceCommand):
    """Pass custody to a named member of a team, who must acknowledge receipt."""

    type = "interlock.evidence.transfer"

    to_team: TeamCode
    to_member: RefId


class AcknowledgeEvidence(EvidenceCommand):
    """The named recipient of a transfer confirms it has the item."""

    type = "interlock.evidence.acknowledge"


class SealEvidence(EvidenceCommand):
    """Put a tamper-evident seal on the item (its custodian team): while it is sealed, its file
    is neither downloaded nor exported; its details and custody stay readable."""

    type = "interlock.evidence.seal"

    reason: str = Field(min_length=1, max_length=2_000)
    seal_ref: str | None = Field(
        default=None, max_length=128, description="The physical or procedural seal's reference."
    )


class UnsealEvidence(EvidenceCommand):
    """Break the item's seal (its custodian team), saying why."""

    type = "interlock.evidence.unseal"

    reason: str = Field(min_length=1, max_length=2_000)


class ExportEvidence(EvidenceCommand):
    """Put the item in an evidence package."""

    type = "interlock.evidence.export"

    package_id: RefId


class EraseEvidence(EvidenceCommand):
    """Erase the item: its file is deleted from the blob store and can no longer be read."""

    type = "interlock.evidence.erase"


class CustodyEvent(Event):
    """One act of custody: who, which team, why, and the hashes of the item it was done on."""

    evidence_id: str
    subject_id: str
    by: str
    team: str
    justification: Justification
    sha256: str
    sha512: str


class EvidenceRegistered(CustodyEvent):
    type = "interlock.evidence.registered"

    filename: str
    media_type: str
    size: int
    blob: str
    exhibit_ref: str | None = None
    description: str | None = None
    link_kind: LinkKind | None = None
    link_id: str | None = None
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    releasable_to: tuple[str, ...] = ()


class EvidenceViewed(CustodyEvent):
    type = "interlock.evidence.viewed"


class EvidenceDownloaded(CustodyEvent):
    type = "interlock.evidence.downloaded"


class EvidenceShared(CustodyEvent):
    type = "interlock.evidence.shared"

    teams: tuple[str, ...]


class EvidenceDownloadRequested(CustodyEvent):
    type = "interlock.evidence.download_requested"


class EvidenceDownloadDecided(CustodyEvent):
    type = "interlock.evidence.download_decided"

    for_team: str
    decision: Literal["granted", "denied"]


class EvidenceTransferred(CustodyEvent):
    type = "interlock.evidence.transferred"

    to_team: str
    to_member: str


class EvidenceReceiptAcknowledged(CustodyEvent):
    type = "interlock.evidence.receipt_acknowledged"

    from_team: str


class EvidenceSealed(CustodyEvent):
    type = "interlock.evidence.sealed"

    reason: str
    seal_ref: str | None = None


class EvidenceUnsealed(CustodyEvent):
    type = "interlock.evidence.unsealed"

    reason: str
    seal_ref: str | None = None
    """The reference of the seal that was broken."""


class EvidenceExported(CustodyEvent):
    type = "interlock.evidence.exported"

    package_id: str


class EvidenceErased(CustodyEvent):
    type = "interlock.evidence.erased"

    blob: str


def act_of(event: CustodyEvent) -> CustodyAct:
    """The custody act an event records."""
    if isinstance(event, EvidenceDownloadDecided):
        return (
            CustodyAct.DOWNLOAD_GRANTED
            if event.decision == "granted"
            else CustodyAct.DOWNLOAD_DENIED
        )
    return ACTS[type(event)]


ACTS: dict[type[CustodyEvent], CustodyAct] = {
    EvidenceRegistered: CustodyAct.REGISTERED,
    EvidenceViewed: CustodyAct.VIEWED,
    EvidenceDownloaded: CustodyAct.DOWNLOADED,
    EvidenceShared: CustodyAct.SHARED,
    EvidenceDownloadRequested: CustodyAct.DOWNLOAD_REQUESTED,
    EvidenceTransferred: CustodyAct.TRANSFERRED,
    EvidenceReceiptAcknowledged: CustodyAct.RECEIPT_ACKNOWLEDGED,
    EvidenceSealed: CustodyAct.SEALED,
    EvidenceUnsealed: CustodyAct.UNSEALED,
    EvidenceExported: CustodyAct.EXPORTED,
    EvidenceErased: CustodyAct.ERASED,
}

_COMMANDS: tuple[type[EvidenceCommand], ...] = (
    RegisterEvidence,
    ViewEvidence,
    DownloadEvidence,
    ShareEvidence,
    RequestEvidenceDownload,
    DecideEvidenceDownload,
    TransferEvidence,
    AcknowledgeEvidence,
    SealEvidence,
    UnsealEvidence,
    ExportEvidence,
    EraseEvidence,
)
_EVENTS: tuple[type[CustodyEvent], ...] = (
    EvidenceRegistered,
    EvidenceViewed,
    EvidenceDownloaded,
    EvidenceShared,
    EvidenceDownloadRequested,
    EvidenceDownloadDecided,
    EvidenceTransferred,
    EvidenceReceiptAcknowledged,
    EvidenceSealed,
    EvidenceUnsealed,
    EvidenceExported,
    EvidenceErased,
)

ENTRIES = (
    *(CatalogueEntry(model, EVIDENCE_COMMANDS) for model in _COMMANDS),
    *(CatalogueEntry(model, EVIDENCE_EVENTS, sealed_by="subject_id") for model in _EVENTS),
)
