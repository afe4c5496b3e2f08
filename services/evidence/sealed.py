"""The sealed form of an evidence file: AES-256-GCM over fixed-size chunks, streamed both ways.

A file of any size is sealed and opened one chunk at a time (never whole in memory) with the data
key of its subject, so destroying that key (crypto-shredding) leaves only ciphertext. Layout:

    header  = MAGIC | chunk size (4 bytes) | nonce prefix (8 random bytes) | len(kid) (2) | kid
    chunk i = AES-GCM(key, nonce = prefix | i (4 bytes), plaintext, aad = header | final flag)

Every chunk but the last holds exactly ``CHUNK`` bytes of plaintext; the last one (possibly
empty) is sealed with the final flag, so a truncated, reordered or spliced file does not open.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"ILEVID01"
CHUNK = 1024 * 1024
TAG = 16
SEALED_CHUNK = CHUNK + TAG


class BrokenSeal(ValueError):
    """A sealed file that does not open: altered, truncated, or sealed with another key."""


def header(kid: str, prefix: bytes | None = None) -> bytes:
    encoded = kid.encode()
    return (
        MAGIC
        + struct.pack(">I", CHUNK)
        + (prefix or os.urandom(8))
        + struct.pack(">H", len(encoded))
        + encoded
    )


def read_header(stream: BinaryIO) -> tuple[bytes, str]:
    """The header bytes and the key id a sealed file names."""
    fixed = stream.read(len(MAGIC) + 4 + 8 + 2)
    if len(fixed) < len(MAGIC) + 14 or not fixed.startswith(MAGIC):
        raise BrokenSeal("not a sealed evidence file (bad magic)")
    (chunk,) = struct.unpack(">I", fixed[len(MAGIC) : len(MAGIC) + 4])
    if chunk != CHUNK:
        raise BrokenSeal(f"unsupported chunk size {chunk}")
    (length,) = struct.unpack(">H", fixed[-2:])
    kid = stream.read(length)
    if len(kid) != length:
        raise BrokenSeal("truncated header")
    return fixed + kid, kid.decode()


def nonce(head: bytes, index: int) -> bytes:
    prefix = head[len(MAGIC) + 4 : len(MAGIC) + 12]
    return prefix + struct.pack(">I", index)


@dataclass
class Digests:
    """What is learnt of a file while it streams through: its hashes, size and first bytes."""

    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    sha512: hashlib._Hash = field(default_factory=hashlib.sha512)
    sealed: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytes = b""

    def plain(self, data: bytes) -> None:
        self.sha256.update(data)
        self.sha512.update(data)
        self.size += len(data)
        if len(self.head) < 8192:
            self.head += data[: 8192 - len(self.head)]


class Sealer:
    """Seals a stream chunk by chunk, appending to ``out``; ``index`` continues a resumed one."""

    def __init__(self, key: bytes, head: bytes, *, index: int = 0) -> None:
        self._aead = AESGCM(key)
        self.head = head
        self.index = index

    def chunk(self, data: bytes, *, final: bool) -> bytes:
        if not final and len(data) != CHUNK:
            raise ValueError("only the final chunk may be shorter than CHUNK")
        sealed = self._aead.encrypt(
            nonce(self.head, self.index), data, self.head + (b"\x01" if final else b"\x00")
        )
        self.index += 1
        return sealed


def open_chunks(stream: BinaryIO, size: int, key: bytes) -> Iterator[bytes]:
    """The plaintext of a sealed file of ``size`` bytes, chunk by chunk; BrokenSeal if altered."""
    head, _ = read_header(stream)
    aead = AESGCM(key)
    remaining = size - len(head)
    index = 0
    while True:
        take = min(SEALED_CHUNK, remaining)
        if take < TAG:
            raise BrokenSeal("truncated: the final chunk is missing")
        sealed = stream.read(take)
        if len(sealed) != take:
            raise BrokenSeal("truncated while reading")
        remaining -= take
        final = remaining == 0
        try:
            yield aead.decrypt(nonce(head, index), sealed, head + (b"\x01" if final else b"\x00"))
        except InvalidTag:
            raise BrokenSeal(f"chunk {index} does not open: altered or truncated") from None
        index += 1
        if final:
            return


def sealed_sha256(stream: BinaryIO) -> str:
    """SHA-256 of the sealed bytes: the blob's address (checked without any key)."""
    digest = hashlib.sha256()
    while block := stream.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()
