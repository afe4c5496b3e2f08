"""Sealed files open only whole and unaltered; packages verify only as signed; media types are
read from content."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from services.evidence import package
from services.evidence.sealed import CHUNK, BrokenSeal, Sealer, header, open_chunks
from services.evidence.uploads import sniff


def seal(content: bytes, key: bytes) -> bytes:
    head = header("jit:subject")
    sealer = Sealer(key, head)
    out = bytearray(head)
    whole = len(content) // CHUNK * CHUNK
    for start in range(0, whole, CHUNK):
        out += sealer.chunk(content[start : start + CHUNK], final=False)
    out += sealer.chunk(content[whole:], final=True)
    return bytes(out)


def opened(sealed: bytes, key: bytes) -> bytes:
    return b"".join(open_chunks(io.BytesIO(sealed), len(sealed), key))


@pytest.mark.parametrize("size", [0, 10, CHUNK, CHUNK + 1, 2 * CHUNK + 5])
def test_a_sealed_file_opens_to_its_content(size: int) -> None:
    """Any size, including none and exact multiples of the chunk, round-trips."""
    key = os.urandom(32)
    content = os.urandom(size)
    assert opened(seal(content, key), key) == content


def test_an_altered_truncated_or_foreign_key_file_does_not_open() -> None:
    """A flipped byte, a dropped final chunk or another key: BrokenSeal, never wrong bytes."""
    key = os.urandom(32)
    sealed = seal(os.urandom(2 * CHUNK + 5), key)
    flipped = bytearray(sealed)
    flipped[len(sealed) // 2] ^= 1
    for bad, with_key in (
        (bytes(flipped), key),
        (sealed[: len(sealed) - 21], key),
        (sealed, os.urandom(32)),
    ):
        with pytest.raises(BrokenSeal):
            opened(bad, with_key)


def test_media_type_comes_from_content_not_name() -> None:
    """PNG magic is image/png, UTF-8 is text/plain, random bytes are octet-stream."""
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64) == "image/png"
    assert sniff("Zeugenaussage über …".encode()) == "text/plain"
    assert sniff(b"\xff\xfe\x00\x81" * 10) == "application/octet-stream"


def test_a_package_verifies_and_a_changed_byte_or_other_key_is_caught(tmp_path: Path) -> None:
    """Signed with one key: verifies with its JWKS; a changed file byte or another key fails."""
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"})
    key.ensure_kid()
    content = b"exhibit bytes " * 100
    import hashlib

    entry = {
        "evidence_id": "ev-1",
        "filename": "exhibit.txt",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "sha512": hashlib.sha512(content).hexdigest(),
    }
    target = tmp_path / "p.zip"
    package.build(target, [package.PackedItem(entry, [content])], header={"jit": "j"}, key=key)
    keys = package.keys_from({"keys": [key.as_dict(private=False)]})
    assert package.verify(target, keys) == []
    data = target.read_bytes()
    where = data.index(b"exhibit bytes")
    (tmp_path / "bad.zip").write_bytes(data[:where] + b"E" + data[where + 1 :])
    assert package.verify(tmp_path / "bad.zip", keys)
    other = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"})
    other.ensure_kid()
    other_keys = package.keys_from({"keys": [other.as_dict(private=False)]})
    assert package.verify(target, other_keys)
