"""The evidence HTTP router: resumable upload, the item and its custody, download, sharing,
H2 download permission, custody transfer, seals, erasure, and signed evidence packages.

Every act on an item is decided by the evidence service first (one writer per item, which
records it on Kafka, and so in the audit chain); only an accepted download or export lets bytes
out of the blob store.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from events import sealing
from events.audit import Justification
from events.envelope import ID_PATTERN, TEAM_PATTERN, Envelope
from events.evidence import (
    AcknowledgeEvidence,
    DecideEvidenceDownload,
    DownloadEvidence,
    EraseEvidence,
    EvidenceCommand,
    ExportEvidence,
    LinkKind,
    RegisterEvidence,
    RequestEvidenceDownload,
    SealEvidence,
    ShareEvidence,
    TransferEvidence,
    UnsealEvidence,
    ViewEvidence,
)
from events.handling import Handling, HandlingCode, Tlp
from events.outcomes import CommandAccepted
from services.evidence import package
from services.evidence.ledger import Item, Ledger
from services.evidence.sealed import BrokenSeal, open_chunks
from services.evidence.settings import EvidenceSettings
from services.evidence.store import BlobStore
from services.evidence.uploads import Arrived, Declared, UploadError, Uploads
from services.kit.commands import CommandBus
from services.kit.disclosure import Viewer
from services.kit.identity import Principal
from services.kit.victims import Victims
from services.kit.web import (
    ApiError,
    DecidingBus,
    JitMember,
    Sensitive,
    command_envelope,
    decided,
    problem,
    refuses,
)

router = APIRouter(tags=["evidence"])

SOURCE = "/interlock/gateway/evidence"
CASE_HEADER = "X-Justification-Case"
REASON_HEADER = "X-Justification-Reason"


class UploadIn(BaseModel):
    """What a file is, declared before its first byte."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0, description="The file's exact size in bytes.")
    exhibit_ref: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=4_000)
    link_kind: LinkKind | None = None
    link_id: str | None = Field(default=None, pattern=ID_PATTERN)
    handling: HandlingCode = HandlingCode.H0
    tlp: Tlp = Tlp.AMBER
    releasable_to: list[Annotated[str, Field(pattern=TEAM_PATTERN)]] = Field(
        default_factory=list, max_length=50
    )


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teams: list[Annotated[str, Field(pattern=TEAM_PATTERN)]] = Field(min_length=1, max_length=50)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant: bool


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_team: str = Field(pattern=TEAM_PATTERN)
    to_member: str = Field(pattern=ID_PATTERN)


class SealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000, description="Why the item is sealed.")
    seal_ref: str | None = Field(
        default=None, max_length=128, description="The seal's reference (a bag or seal number)."
    )


class UnsealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000, description="Why the seal is broken.")


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence_ids: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(
        min_length=1, max_length=500
    )


@refuses(428)
def justification(
    case: Annotated[str | None, Header(alias=CASE_HEADER, max_length=128)] = None,
    reason: Annotated[str | None, Header(alias=REASON_HEADER, max_length=500)] = None,
    purpose_case: Annotated[str | None, Query(max_length=128)] = None,
    purpose_reason: Annotated[str | None, Query(max_length=500)] = None,
) -> Justification:
    """Why the act is done: 428 naming what is missing (every custody act states its purpose)."""
    case_text = (case or purpose_case or "").strip()
    reason_text = (reason or purpose_reason or "").strip()
    missing = [h for h, t in ((CASE_HEADER, case_text), (REASON_HEADER, reason_text)) if not t]
    if missing:
        raise ApiError(
            428,
            f"justification required for an act on evidence: missing {' and '.join(missing)} "
            "(or the query parameters purpose_case and purpose_reason)",
            [{"field": f"header.{h}", "message": "required"} for h in missing],
        )
    return Justification(case=case_text, reason=reason_text)


Why = Annotated[Justification, Depends(justification)]


def _uploads(request: Request) -> Uploads:
    uploads: Uploads = request.app.state.evidence_uploads
    return uploads


def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.evidence_ledger
    return ledger


def _settings(request: Request) -> EvidenceSettings:
    settings: EvidenceSettings = request.app.state.evidence_settings
    return settings


def _item(request: Request, principal: Principal, jit: str, evidence_id: str) -> Item:
    """The item if the caller's team may see it; 404 otherwise (its existence is not told)."""
    item = _ledger(request).get(evidence_id)
    if item is None or item.jit != jit or not item.visible_to(viewer(principal)):
        raise ApiError(404, f"no evidence {evidence_id}")
    return item


TEXT_FIELDS = ("filename", "description", "exhibit_ref")
"""An item's free text, written by its originator: where a victim's data is redacted."""


def _victims(request: Request) -> Victims:
    victims: Victims = request.app.state.victims
    return victims


def _shown(request: Request, item: Item, principal: Principal) -> dict[str, Any]:
    """The item as the caller may read it: its summary, with victims' data replaced by their
    pseudonym in its free text where the disclosure policy hides them from the caller's team."""
    book = _victims(request).book(item.jit, (item.originator, *item.releasable_to))
    return book.redactor(viewer(principal)).redact_all(item.summary(), TEXT_FIELDS)


def viewer(principal: Principal) -> Viewer:
    """The caller as the disclosure policy knows viewers."""
    return Viewer(
        team=principal.team,
        member=principal.member,
        national_system=principal.has_role("national_system"),
    )


async def _decided(
    bus: CommandBus, request: Request, principal: Principal, jit: str, command: EvidenceCommand
) -> CommandAccepted:
    """Send a custody act and wait for the service's decision; raise its refusal."""
    envelope = command_envelope(
        command,
        principal=principal,
        jit=jit,
        subject=command.evidence_id,
        source=SOURCE,
        request=request,
    )
    return await _outcome(bus, request, envelope)


async def _outcome(bus: CommandBus, request: Request, envelope: Envelope) -> CommandAccepted:
    outcome = await decided(bus, envelope, service="evidence")
    await asyncio.to_thread(_ledger(request).catch_up)
    return outcome


def _upload_error(exc: UploadError) -> JSONResponse:
    extra: dict[str, Any] = {} if exc.offset is None else {"offset": exc.offset}
    response = problem(exc.status, exc.reason, (), **extra)
    if exc.offset is not None:
        response.headers["Upload-Offset"] = str(exc.offset)
    return response


@router.post("/jits/{jit}/evidence/uploads", status_code=201, summary="Start an evidence upload")
async def start_upload(
    jit: str, body: UploadIn, request: Request, principal: JitMember, why: Why
) -> JSONResponse:
    """Declare a file; 413 when it is larger than the JIT accepts. Send its bytes with PATCH."""
    limit = _settings(request).limit(jit)
    if body.size > limit:
        raise ApiError(
            413,
            f"the file is {body.size} bytes; JIT {jit} accepts evidence up to {limit} bytes",
            [{"field": "body.size", "message": f"at most {limit}"}],
        )
    if (body.link_kind is None) != (body.link_id is None):
        raise ApiError(
            422,
            "link_kind and link_id go together",
            [{"field": "body.link_id", "message": "give both link_kind and link_id, or neither"}],
        )
    details = body.model_dump(mode="json", exclude={"size"})
    details["justification"] = why.model_dump()
    declared = await asyncio.to_thread(
        _uploads(request).declare,
        jit=jit,
        team=principal.team,
        member=principal.member,
        size=body.size,
        subject_id=body.link_id,
        details=details,
    )
    url = f"/jits/{jit}/evidence/uploads/{declared.upload_id}"
    return JSONResponse(
        {
            "upload_id": declared.upload_id,
            "evidence_id": declared.evidence_id,
            "offset": 0,
            "size": body.size,
            "chunk_size": 8 * 1024 * 1024,
            "url": url,
        },
        status_code=201,
        headers={"Location": url, "Upload-Offset": "0"},
    )


def _declared(request: Request, principal: Principal, jit: str, upload_id: str) -> Declared:
    try:
        declared = _uploads(request).declared(
            upload_id, team=principal.team, member=principal.member
        )
    except UploadError as exc:
        raise ApiError(exc.status, exc.reason) from None
    if declared.jit != jit:
        raise ApiError(404, f"no upload {upload_id}")
    return declared


@router.get("/jits/{jit}/evidence/uploads/{upload_id}", summary="Where an upload stands")
async def upload_status(
    jit: str, upload_id: str, request: Request, principal: JitMember
) -> JSONResponse:
    """The offset to continue from (after an interruption)."""
    declared = _declared(request, principal, jit, upload_id)
    offset = _uploads(request).offset(declared)
    return JSONResponse(
        {"upload_id": upload_id, "offset": offset, "size": declared.size},
        headers={"Upload-Offset": str(offset)},
    )


@router.patch(
    "/jits/{jit}/evidence/uploads/{upload_id}",
    summary="Send bytes of an upload",
    responses={
        409: {
            "description": "Upload-Offset is not where the upload stands, or another "
            "request is sending it; ``offset`` and the Upload-Offset header say where it is"
        },
        413: {"description": "The bytes go beyond the declared size"},
        503: {"description": "No key ring to seal the evidence with yet; try again"},
    },
)
async def send_upload(
    jit: str,
    upload_id: str,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0)],
) -> Response:
    """Append the body at ``Upload-Offset``: 200 with the new offset, or 201 with the registered
    item once the last byte is in; 409 (with the right offset) when the offset is wrong."""
    declared = _declared(request, principal, jit, upload_id)
    uploads = _uploads(request)
    try:
        arrived = await uploads.receive(declared, upload_offset, request.stream())
    except UploadError as exc:
        return _upload_error(exc)
    if isinstance(arrived, int):
        return JSONResponse(
            {"upload_id": upload_id, "offset": arrived, "size": declared.size},
            headers={"Upload-Offset": str(arrived)},
        )
    return await _register(request, principal, bus, arrived)


async def _register(
    request: Request, principal: Principal, bus: CommandBus, arrived: Arrived
) -> JSONResponse:
    declared = arrived.declared
    d = declared.details
    command = RegisterEvidence(
        actor=principal.actor(),
        evidence_id=declared.evidence_id,
        justification=Justification.model_validate(d["justification"]),
        subject_id=declared.subject_id,
        filename=d["filename"],
        media_type=arrived.media_type,
        size=arrived.size,
        sha256=arrived.sha256,
        sha512=arrived.sha512,
        blob=arrived.blob,
        exhibit_ref=d.get("exhibit_ref"),
        description=d.get("description"),
        link_kind=d.get("link_kind"),
        link_id=d.get("link_id"),
        handling=d["handling"],
        tlp=d["tlp"],
        releasable_to=tuple(d.get("releasable_to") or ()),
    )
    envelope = command_envelope(
        command,
        principal=principal,
        jit=declared.jit,
        subject=declared.evidence_id,
        source=SOURCE,
        releasable_to=command.releasable_to,
        handling=Handling(code=command.handling, tlp=command.tlp),
        request=request,
    )
    try:
        await _outcome(bus, request, envelope)
    except ApiError as exc:
        if exc.status_code != 503:
            _store(request).delete(arrived.blob)
        raise
    url = f"/jits/{declared.jit}/evidence/{declared.evidence_id}"
    return JSONResponse(
        {
            "evidence_id": declared.evidence_id,
            "url": url,
            "sha256": arrived.sha256,
            "sha512": arrived.sha512,
            "size": arrived.size,
            "media_type": arrived.media_type,
            "offset": arrived.size,
        },
        status_code=201,
        headers={"Location": url, "Upload-Offset": str(arrived.size)},
    )


@router.delete(
    "/jits/{jit}/evidence/uploads/{upload_id}", status_code=204, summary="Abandon an upload"
)
async def abandon_upload(
    jit: str, upload_id: str, request: Request, principal: JitMember
) -> Response:
    declared = _declared(request, principal, jit, upload_id)
    await asyncio.to_thread(_uploads(request).abandon, declared)
    return Response(status_code=204)


def _store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.evidence_store
    return store


@router.get("/jits/{jit}/evidence", summary="Evidence the caller's team may see")
async def list_evidence(
    jit: str,
    request: Request,
    principal: JitMember,
    link_kind: LinkKind | None = None,
    link_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    """The JIT's items the caller's team may see, or those of one lead, task or operation."""
    items = [
        _shown(request, i, principal)
        for i in _ledger(request).items(jit)
        if i.visible_to(viewer(principal))
        and (link_kind is None or i.registered.link_kind == link_kind)
        and (link_id is None or i.registered.link_id == link_id)
    ]
    items.sort(key=lambda s: s["registered_at"], reverse=True)
    return {"jit": jit, "items": items}


@router.get("/jits/{jit}/evidence/{evidence_id}", summary="One evidence item (a view)")
async def get_evidence(
    jit: str, evidence_id: str, request: Request, principal: JitMember, bus: DecidingBus, why: Why
) -> dict[str, Any]:
    """The item's details; reading them is a custody act (viewed), recorded first."""
    _item(request, principal, jit, evidence_id)
    await _decided(
        bus,
        request,
        principal,
        jit,
        ViewEvidence(actor=principal.actor(), evidence_id=evidence_id, justification=why),
    )
    item = _item(request, principal, jit, evidence_id)
    await asyncio.to_thread(_victims(request).catch_up)
    shown = _shown(request, item, principal)
    return {**shown, "custody_url": f"/jits/{jit}/evidence/{evidence_id}/custody"}


@router.get("/jits/{jit}/evidence/{evidence_id}/custody", summary="The chain of custody")
async def custody(
    jit: str, evidence_id: str, request: Request, principal: JitMember
) -> dict[str, Any]:
    """Every act on the item, oldest first: who, which team, when, why and the hashes."""
    item = _item(request, principal, jit, evidence_id)
    return {"evidence_id": evidence_id, "custody": list(item.custody)}


def _opened(request: Request, item: Item) -> Iterator[bytes]:
    """The file's plaintext chunk by chunk; the key is the subject's, so erasure shreds it."""
    ring = sealing.installed()
    key = ring.opening_key(sealing.key_id(item.jit, item.subject_id)) if ring else None
    store = _store(request)
    blob = item.registered.blob
    if key is None or not store.exists(blob):
        raise ApiError(410, f"evidence {item.evidence_id} was erased; its file cannot be read")
    size = store.size(blob)

    def chunks() -> Iterator[bytes]:
        with store.open(blob) as fh:
            yield from open_chunks(fh, size, key)

    return chunks()


@router.get(
    "/jits/{jit}/evidence/{evidence_id}/content",
    summary="Download the file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, in the media type it was registered with",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        409: {"description": "The item is sealed: the problem names the seal (unseal it first)"},
        410: {"description": "The evidence was erased: its file cannot be read"},
    },
)
async def download(
    jit: str, evidence_id: str, request: Request, principal: JitMember, bus: DecidingBus, why: Why
) -> StreamingResponse:
    """The file, streamed; the download is recorded before the first byte (403 for H2 evidence
    of another team without the originator's permission, 409 naming the seal while sealed)."""
    item = _item(request, principal, jit, evidence_id)
    await _decided(
        bus,
        request,
        principal,
        jit,
        DownloadEvidence(actor=principal.actor(), evidence_id=evidence_id, justification=why),
    )
    chunks = await asyncio.to_thread(_opened, request, item)
    name = package.safe_name(item.registered.filename)
    return StreamingResponse(
        chunks,
        media_type=item.registered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(item.registered.size),
            "Digest": f"sha-256={item.registered.sha256}",
        },
    )


async def _act(
    jit: str,
    evidence_id: str,
    request: Request,
    principal: Principal,
    bus: CommandBus,
    command: EvidenceCommand,
) -> dict[str, Any]:
    _item(request, principal, jit, evidence_id)
    outcome = await _decided(bus, request, principal, jit, command)
    item = _item(request, principal, jit, evidence_id)
    return {**_shown(request, item, principal), "events": list(outcome.events)}


@router.post("/jits/{jit}/evidence/{evidence_id}/share", summary="Share with more teams")
async def share(
    jit: str,
    evidence_id: str,
    body: ShareIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    why: Why,
) -> dict[str, Any]:
    """Release the item to more teams (its originating team only)."""
    command = ShareEvidence(
        actor=principal.actor(), evidence_id=evidence_id, justification=why, teams=tuple(body.teams)
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post(
    "/jits/{jit}/evidence/{evidence_id}/download-requests",
    summary="Ask for permission to download H2 evidence",
)
async def request_download(
    jit: str, evidence_id: str, request: Request, principal: JitMember, bus: DecidingBus, why: Why
) -> dict[str, Any]:
    command = RequestEvidenceDownload(
        actor=principal.actor(), evidence_id=evidence_id, justification=why
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post(
    "/jits/{jit}/evidence/{evidence_id}/download-requests/{team}",
    summary="Grant or deny a team's download request",
)
async def decide_download(
    jit: str,
    evidence_id: str,
    team: Annotated[str, PathParam(pattern=TEAM_PATTERN)],
    body: DecisionIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    why: Why,
) -> dict[str, Any]:
    command = DecideEvidenceDownload(
        actor=principal.actor(),
        evidence_id=evidence_id,
        justification=why,
        team=team,
        grant=body.grant,
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post("/jits/{jit}/evidence/{evidence_id}/transfer", summary="Transfer custody")
async def transfer(
    jit: str,
    evidence_id: str,
    body: TransferIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    why: Why,
) -> dict[str, Any]:
    """Pass custody to a named member of a team the item is shared with; they acknowledge it."""
    command = TransferEvidence(
        actor=principal.actor(),
        evidence_id=evidence_id,
        justification=why,
        to_team=body.to_team,
        to_member=body.to_member,
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post("/jits/{jit}/evidence/{evidence_id}/acknowledge", summary="Acknowledge receipt")
async def acknowledge(
    jit: str, evidence_id: str, request: Request, principal: JitMember, bus: DecidingBus, why: Why
) -> dict[str, Any]:
    command = AcknowledgeEvidence(
        actor=principal.actor(), evidence_id=evidence_id, justification=why
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post("/jits/{jit}/evidence/{evidence_id}/erase", summary="Erase the file")
async def erase(
    jit: str, evidence_id: str, request: Request, principal: Sensitive, bus: DecidingBus, why: Why
) -> dict[str, Any]:
    """Record the erasure, then delete the sealed file (the originating team only)."""
    item = _item(request, principal, jit, evidence_id)
    result = await _act(
        jit,
        evidence_id,
        request,
        principal,
        bus,
        EraseEvidence(actor=principal.actor(), evidence_id=evidence_id, justification=why),
    )
    await asyncio.to_thread(_store(request).delete, item.registered.blob)
    return result


@router.post(
    "/jits/{jit}/evidence/packages",
    summary="Export a signed evidence package",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The zip: files, manifest and detached signature",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        409: {"description": "An item is sealed: the problem names each seal (unseal first)"},
        410: {"description": "An item was erased: its file cannot be read"},
        404: {"description": "An evidence id of the body is unknown, or not visible to the team"},
    },
)
async def export_package(
    jit: str, body: PackageIn, request: Request, principal: Sensitive, bus: DecidingBus, why: Why
) -> FileResponse:
    """A zip of the files, a manifest and a detached signature by the platform key; each item's
    export is recorded first (and refused as a download would be)."""
    items = [_item(request, principal, jit, e) for e in dict.fromkeys(body.evidence_ids)]
    refused = [i.evidence_id for i in items if not i.exportable_by(viewer(principal))]
    if refused:
        raise ApiError(
            403,
            f"not exportable by team {principal.team} (H2 of another team): {', '.join(refused)}",
            [{"field": "body.evidence_ids", "message": f"not exportable: {e}"} for e in refused],
        )
    sealed = [i for i in items if i.seal is not None]
    if sealed:
        raise ApiError(
            409,
            "sealed evidence is not exported; unseal it first: "
            + "; ".join(f"{i.evidence_id} ({_seal_name(i)})" for i in sealed),
            [{"field": "body.evidence_ids", "message": f"sealed: {i.evidence_id}"} for i in sealed],
        )
    package_id = str(uuid.uuid4())
    await asyncio.gather(
        *(
            _decided(
                bus,
                request,
                principal,
                jit,
                ExportEvidence(
                    actor=principal.actor(),
                    evidence_id=i.evidence_id,
                    justification=why,
                    package_id=package_id,
                ),
            )
            for i in items
        )
    )
    items = [_item(request, principal, jit, i.evidence_id) for i in items]
    packed = [
        package.PackedItem(
            entry=_entry(request, i, principal), chunks=await asyncio.to_thread(_opened, request, i)
        )
        for i in items
    ]
    header = {
        "package_id": package_id,
        "jit": jit,
        "exported_by": principal.member,
        "team": principal.team,
        "justification": why.model_dump(),
        "exported_at": datetime.now(UTC).isoformat(),
    }
    target = Path(tempfile.mkdtemp(prefix="interlock-package-")) / f"evidence-{package_id}.zip"
    try:
        await asyncio.to_thread(
            package.build, target, packed, header=header, key=request.app.state.issuer.key
        )
    except (ValueError, BrokenSeal) as exc:
        _remove(target)
        raise ApiError(409, f"the package was not made: {exc}") from None
    return FileResponse(
        target,
        media_type="application/zip",
        filename=target.name,
        background=BackgroundTask(_remove, target),
    )


def _entry(request: Request, item: Item, principal: Principal) -> dict[str, Any]:
    summary = _shown(request, item, principal)
    keep = (
        "evidence_id", "filename", "media_type", "size", "sha256", "sha512", "exhibit_ref",
        "description", "link_kind", "link_id", "originator", "handling", "tlp", "marking",
        "releasable_to", "custodian",
    )  # fmt: skip
    return {**{k: summary[k] for k in keep}, "custody": list(item.custody)}


def _remove(target: Path) -> None:
    target.unlink(missing_ok=True)
    target.parent.rmdir()


def _seal_name(item: Item) -> str:
    seal = item.seal or {}
    ref = f"seal {seal['seal_ref']}" if seal.get("seal_ref") else "a seal"
    return f"{ref} by {seal.get('by')} ({seal.get('team')}): {seal.get('reason')}"


@router.post("/jits/{jit}/evidence/{evidence_id}/seal", summary="Seal the item")
async def seal(
    jit: str,
    evidence_id: str,
    body: SealIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    why: Why,
) -> dict[str, Any]:
    """Put a tamper-evident seal on the item (its custodian team): until it is unsealed, its
    download and export are 409 naming the seal; its details and custody stay readable."""
    command = SealEvidence(
        actor=principal.actor(),
        evidence_id=evidence_id,
        justification=why,
        reason=body.reason,
        seal_ref=body.seal_ref,
    )
    return await _act(jit, evidence_id, request, principal, bus, command)


@router.post("/jits/{jit}/evidence/{evidence_id}/unseal", summary="Break the item's seal")
async def unseal(
    jit: str,
    evidence_id: str,
    body: UnsealIn,
    request: Request,
    principal: JitMember,
    bus: DecidingBus,
    why: Why,
) -> dict[str, Any]:
    """Break the seal (its custodian team), with the reason it is broken."""
    command = UnsealEvidence(
        actor=principal.actor(), evidence_id=evidence_id, justification=why, reason=body.reason
    )
    return await _act(jit, evidence_id, request, principal, bus, command)
