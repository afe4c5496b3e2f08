"""Crypto-shredding: personal data in events is sealed with a key of its own subject.

Kafka topics are the system of record and are never rewritten, so erasing a lead, a task or an
operation means destroying the one key its events were sealed with. A sealed record keeps its
envelope in the clear (type, ids, JIT, audience, times) so that routing, ordering, releasability
and the audit trail work without any key; only ``data`` becomes a compact JWE (``dir`` +
``A256GCM``, RFC 7516) whose protected header names the key and binds the envelope's id, so a
ciphertext cannot be moved onto another envelope.

Where keys live is not this module's business: a :class:`KeyRing` is installed once per process
(see ``services/kit/keys.py``). A process without one writes plaintext and cannot read sealed
records, which is what unit tests and the contract generator want.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwe import JWERegistry
from joserfc.jwk import OctKey
from joserfc.registry import HeaderParameter

SEALED_CONTENT_TYPE = "application/jose"
ALGORITHM = "dir"
ENCRYPTION = "A256GCM"
REGISTRY = JWERegistry(
    header_registry={"eid": HeaderParameter("The id of the envelope the data belongs to", "str")},
    algorithms=[ALGORITHM, ENCRYPTION],
)


class SealingError(ValueError):
    """A sealed record that cannot be opened for a reason other than erasure."""


class Erased(SealingError):
    """The record's key was destroyed: its subject was erased. Skip it; never dead-letter it."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"sealed with key {kid!r}, which was destroyed (subject erased)")
        self.kid = kid


class KeyRing(Protocol):
    """Per-subject data keys (32 bytes each)."""

    def sealing_key(self, kid: str) -> bytes:
        """The key to seal new data of ``kid`` with, created on first use.

        Raises :class:`Erased` when the key was destroyed: nothing new is written for an erased
        subject.
        """
        ...

    def opening_key(self, kid: str) -> bytes | None:
        """The key to open data of ``kid``, or None if it was destroyed."""
        ...


_installed: KeyRing | None = None


def install(ring: KeyRing | None) -> None:
    """Make ``ring`` the process's key ring (None removes it)."""
    global _installed
    _installed = ring


def installed() -> KeyRing | None:
    return _installed


def key_id(jit: str, subject_id: str) -> str:
    """One key per subject within its JIT."""
    return f"{jit}:{subject_id}"


def seal(wire: dict[str, Any], kid: str, key: bytes) -> dict[str, Any]:
    """The wire form with ``data`` replaced by its JWE."""
    header = {"alg": ALGORITHM, "enc": ENCRYPTION, "kid": kid, "eid": wire["id"]}
    plaintext = json.dumps(wire["data"], separators=(",", ":"), ensure_ascii=False).encode()
    token = jwe.encrypt_compact(header, plaintext, OctKey.import_key(key), registry=REGISTRY)
    return {**wire, "datacontenttype": SEALED_CONTENT_TYPE, "data": token}


def sealed_kid(wire: dict[str, Any]) -> str | None:
    """The key id of a sealed wire record, or None if its data is in the clear."""
    if wire.get("datacontenttype") != SEALED_CONTENT_TYPE:
        return None
    token = wire.get("data")
    if not isinstance(token, str) or token.count(".") != 4:
        raise SealingError("data: a sealed record's data must be a compact JWE")
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:
        raise SealingError(f"data: unreadable JWE header ({exc})") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(kid, str) or not kid:
        raise SealingError("data: the JWE header names no key (kid)")
    return kid


def unseal(wire: dict[str, Any], ring: KeyRing | None = None) -> dict[str, Any]:
    """The wire form with ``data`` opened; a record in the clear is returned as it is."""
    kid = sealed_kid(wire)
    if kid is None:
        return wire
    if ring is None:
        ring = _installed
    if ring is None:
        raise SealingError(f"data: sealed with key {kid!r}, and this process has no key ring")
    key = ring.opening_key(kid)
    if key is None:
        raise Erased(kid)
    try:
        opened = jwe.decrypt_compact(wire["data"], OctKey.import_key(key), registry=REGISTRY)
    except (JoseError, ValueError) as exc:
        raise SealingError(f"data: cannot open the JWE sealed with {kid!r} ({exc})") from None
    if opened.protected.get("eid") != wire.get("id"):
        raise SealingError("data: the JWE was sealed for another envelope (eid differs from id)")
    try:
        data = json.loads(opened.plaintext or b"")
    except ValueError as exc:
        raise SealingError(f"data: sealed plaintext is not JSON ({exc})") from None
    return {**wire, "datacontenttype": "application/json", "data": data}
