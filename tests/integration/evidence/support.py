"""Uploading evidence as a client does: declare, then send the bytes in chunks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from tests.support.api import Member

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 20


def new_jit() -> str:
    return f"jit-{uuid.uuid4().hex[:8]}"


def upload(
    member: Member,
    jit: str,
    content: bytes | Iterator[bytes],
    *,
    size: int | None = None,
    chunk: int = 8 * MIB,
    **declared: Any,
) -> httpx.Response:
    """Declare a file and send it chunk by chunk (``content`` may be an iterator of pieces)."""
    total = len(content) if isinstance(content, bytes) else size
    assert total is not None
    body = {"filename": "exhibit.bin", "size": total, **declared}
    started = member.post(f"/jits/{jit}/evidence/uploads", body)
    if started.status_code != 201:
        return started
    url = started.json()["url"]
    pieces = _chunks(content, chunk) if isinstance(content, bytes) else _regroup(content, chunk)
    offset = 0
    response = started
    for piece in pieces:
        response = member.http.patch(
            url,
            content=piece,
            headers={
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
            timeout=600,
        )
        if response.status_code not in (200, 201):
            return response
        offset = int(response.headers["Upload-Offset"])
    if total == 0:
        response = member.http.patch(url, content=b"", headers={"Upload-Offset": "0"})
    return response


def _chunks(content: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


def _regroup(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
