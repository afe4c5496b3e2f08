"""Resumable uploads: a file arrives in any number of requests, is sealed and hashed as it
streams (at most one chunk of it in memory), and becomes a content-addressed blob when complete.

The offset an upload reports is what is durably staged: whole sealed chunks. A request that ends
inside a chunk keeps only the whole chunks it brought; the client continues from the offset it is
told (as in tus, the resumable upload protocol). The hashes survive between requests in memory;
a gateway that did not see the beginning (a restart, another instance) recomputes them from the
staged file.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import filetype
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events import sealing
from services.evidence.sealed import (
    CHUNK,
    SEALED_CHUNK,
    Digests,
    Sealer,
    header,
    nonce,
    read_header,
)
from services.evidence.store import BlobStore


class UploadError(Exception):
    """An upload request that cannot be honoured: ``status`` and a reason naming the problem."""

    def __init__(self, status: int, reason: str, *, offset: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True)
class Declared:
    """What the uploader said the file is, before its first byte."""

    upload_id: str
    evidence_id: str
    jit: str
    team: str
    member: str
    subject_id: str
    size: int
    head: str
    """The sealed file's header, hex: names the key and the nonce prefix."""
    details: dict[str, Any]
    """Filename, exhibit reference, description, link and markings, for the registration."""


@dataclass(frozen=True)
class Arrived:
    """A complete upload: its blob and what was learnt while it streamed."""

    declared: Declared
    blob: str
    sha256: str
    sha512: str
    size: int
    media_type: str


@dataclass
class _Progress:
    digests: Digests = field(default_factory=Digests)
    sealer: Sealer | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def sniff(head: bytes) -> str:
    """The media type read from a file's first bytes (never its name)."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if not head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sniffed bytes is still text
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain"


class Uploads:
    """Upload sessions over one blob store, sealing with the installed key ring."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self._progress: dict[str, _Progress] = {}

    def declare(
        self,
        *,
        jit: str,
        team: str,
        member: str,
        size: int,
        subject_id: str | None,
        details: dict[str, Any],
    ) -> Declared:
        """Start an upload; the key of its subject is created here if it is new."""
        evidence_id = str(uuid.uuid4())
        upload_id = uuid.uuid4().hex
        subject = subject_id or evidence_id
        kid = sealing.key_id(jit, subject)
        head = header(kid)
        declared = Declared(
            upload_id=upload_id,
            evidence_id=evidence_id,
            jit=jit,
            team=team,
            member=member,
            subject_id=subject,
            size=size,
            head=head.hex(),
            details=details,
        )
        with self.store.append(upload_id) as out:
            out.write(head)
        self.store.put_meta(upload_id, json.dumps(declared.__dict__).encode())
        return declared

    def declared(self, upload_id: str, *, team: str, member: str) -> Declared:
        """An upload of this member; 404 for anyone else's (whose existence is not told)."""
        try:
            raw = self.store.get_meta(upload_id)
        except ValueError:
            raw = None
        if raw is None:
            raise UploadError(404, f"no upload {upload_id}")
        declared = Declared(**json.loads(raw))
        if (declared.team, declared.member) != (team, member):
            raise UploadError(404, f"no upload {upload_id}")
        return declared

    def offset(self, declared: Declared) -> int:
        """Plaintext bytes durably staged (whole chunks only)."""
        staged = self.store.staged_size(declared.upload_id) - len(bytes.fromhex(declared.head))
        return max(0, staged // SEALED_CHUNK) * CHUNK

    async def receive(
        self, declared: Declared, offset: int, body: AsyncIterator[bytes]
    ) -> Arrived | int:
        """Take one request's bytes from ``offset``: the new offset, or the arrived file."""
        progress = self._progress.setdefault(declared.upload_id, _Progress())
        if progress.lock.locked():
            raise UploadError(409, "another request is sending this upload right now")
        async with progress.lock:
            current = await asyncio.to_thread(self._resume, declared, progress)
            if offset != current:
                raise UploadError(
                    409, f"Upload-Offset is {offset} but the upload is at {current}", offset=current
                )
            assert progress.sealer is not None
            buffer = bytearray()
            received = current
            out = self.store.append(declared.upload_id)
            try:
                async for piece in body:
                    received += len(piece)
                    if received > declared.size:
                        raise UploadError(
                            413,
                            f"the body goes beyond the declared size of {declared.size} bytes",
                            offset=self.offset(declared),
                        )
                    buffer += piece
                    while len(buffer) >= CHUNK:
                        block = bytes(buffer[:CHUNK])
                        del buffer[:CHUNK]
                        await asyncio.to_thread(self._seal, out, progress, block, final=False)
                if received == declared.size:
                    await asyncio.to_thread(self._seal, out, progress, bytes(buffer), final=True)
                    out.close()
                    return await asyncio.to_thread(self._commit, declared, progress)
            finally:
                out.close()
            return self.offset(declared)

    def abandon(self, declared: Declared) -> None:
        self._progress.pop(declared.upload_id, None)
        self.store.discard(declared.upload_id)

    def _seal(self, out: Any, progress: _Progress, block: bytes, *, final: bool) -> None:
        assert progress.sealer is not None
        sealed = progress.sealer.chunk(block, final=final)
        out.write(sealed)
        out.flush()
        progress.digests.plain(block)
        progress.digests.sealed.update(sealed)

    def _resume(self, declared: Declared, progress: _Progress) -> int:
        """Bring the in-memory hashes level with the staged file (after a restart: all of it)."""
        head = bytes.fromhex(declared.head)
        staged = self.store.staged_size(declared.upload_id)
        whole = len(head) + (staged - len(head)) // SEALED_CHUNK * SEALED_CHUNK
        if staged != whole:
            self.store.truncate(declared.upload_id, whole)
        chunks = (whole - len(head)) // SEALED_CHUNK
        if progress.sealer is not None and progress.sealer.index == chunks:
            return chunks * CHUNK
        ring = sealing.installed()
        if ring is None:
            raise UploadError(503, "this gateway has no key ring to seal evidence with")
        key = ring.sealing_key(read_header_kid(head))
        progress.digests = Digests()
        progress.sealer = Sealer(key, head, index=chunks)
        if chunks:
            aead = AESGCM(key)
            with self.store.staged(declared.upload_id) as staged_file:
                progress.digests.sealed.update(staged_file.read(len(head)))
                for index in range(chunks):
                    sealed = staged_file.read(SEALED_CHUNK)
                    progress.digests.sealed.update(sealed)
                    progress.digests.plain(aead.decrypt(nonce(head, index), sealed, head + b"\x00"))
        else:
            progress.digests.sealed.update(head)
        return chunks * CHUNK

    def _commit(self, declared: Declared, progress: _Progress) -> Arrived:
        digests = progress.digests
        address = digests.sealed.hexdigest()
        self.store.commit(declared.upload_id, address)
        self.store.discard(declared.upload_id)
        self._progress.pop(declared.upload_id, None)
        return Arrived(
            declared=declared,
            blob=address,
            sha256=digests.sha256.hexdigest(),
            sha512=digests.sha512.hexdigest(),
            size=digests.size,
            media_type=sniff(digests.head),
        )


def read_header_kid(head: bytes) -> str:
    return read_header(io.BytesIO(head))[1]
