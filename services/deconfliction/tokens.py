"""Blind tokens: the keyed recipe a national system can reproduce (``contracts/token-recipe.md``).

A token is HMAC-SHA256 over the identifier's kind, country and canonical value, keyed with a key
derived per JIT and key version from a master secret (HKDF-SHA256, RFC 5869). The index only ever
sees tokens, so a leaked index reveals nothing without the key, and tokens of two JITs never
match because their keys differ. A separate platform-wide key gives cross-JIT tokens for JITs
whose agreements allow cross-JIT matching.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from events.deconfliction import TokenScope
from events.identifiers import COUNTRY_SCOPED, Identifier, IdentifierKind, normalise

HKDF_SALT = b"interlock/deconfliction"
"""The HKDF salt of every Interlock key derivation (RFC 5869 section 3.1: a fixed, public salt)."""

KEY_BYTES = 32
SEPARATOR = "\x1f"
"""ASCII unit separator between the fields of a token's message; no canonical value holds it."""

DOB_KIND = "dob"
PERSON_KEY_KIND = "person"
"""Pseudo-kinds used with the same recipe for the date-of-birth block and the exact person key."""


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 (RFC 5869), written out so a national system can check it line by line."""
    if length > 255 * hashlib.sha256().digest_size:
        raise ValueError("length: at most 8160 bytes")
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    counter = 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def jit_key_info(jit: str, version: int) -> str:
    return f"interlock/jit/{jit}/v{version}"


def cross_jit_key_info(version: int) -> str:
    return f"interlock/cross-jit/v{version}"


@lru_cache(maxsize=4096)
def _derive(master_secret: bytes, info: str) -> bytes:
    return hkdf_sha256(master_secret, salt=HKDF_SALT, info=info.encode("utf-8"))


def jit_key(master_secret: bytes, jit: str, version: int) -> bytes:
    """The key of one JIT at one key version; handed to that JIT's national systems."""
    return _derive(master_secret, jit_key_info(jit, version))


def cross_jit_key(master_secret: bytes, version: int) -> bytes:
    """The platform-wide key for cross-JIT tokens."""
    return _derive(master_secret, cross_jit_key_info(version))


def purpose_key(key: bytes, purpose: str) -> bytes:
    """A sub-key of a JIT or cross-JIT key for one purpose (name encoding), so keys never mix."""
    return hkdf_sha256(key, salt=HKDF_SALT, info=f"interlock/purpose/{purpose}".encode())


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def token_country(kind: IdentifierKind, country: str | None) -> str | None:
    """The country that is part of the token: the issuing country of a document or a vehicle
    plate; none for other kinds (a phone's country only guides normalisation to E.164)."""
    return country if kind in COUNTRY_SCOPED else None


def token_message(kind: str, canonical: str, country: str | None = None) -> bytes:
    """The bytes the HMAC runs over: ``kind ␟ country ␟ canonical value`` in UTF-8."""
    return SEPARATOR.join((kind, country or "", canonical)).encode("utf-8")


def blind_token(key: bytes, kind: str, canonical: str, country: str | None = None) -> str:
    """The token of an already canonical value: base64url(HMAC-SHA256(key, kind␟country␟value))."""
    return b64url(hmac.new(key, token_message(kind, canonical, country), hashlib.sha256).digest())


def token_for(key: bytes, kind: IdentifierKind, raw: str, country: str | None = None) -> str:
    """The token of a raw value: normalise it (``contracts/normalisation.md``), then tokenise."""
    return blind_token(key, kind.value, normalise(kind, raw, country), token_country(kind, country))


def identifier_token(key: bytes, identifier: Identifier) -> str:
    """The token of an identifier the catalogue has already normalised."""
    return blind_token(
        key,
        identifier.kind.value,
        identifier.value,
        token_country(identifier.kind, identifier.country),
    )


def dob_token(key: bytes, dob: date) -> str:
    """The keyed date of birth: the blocking key of fuzzy person matching."""
    return blind_token(key, DOB_KIND, dob.isoformat())


def person_token(key: bytes, name_parts: tuple[str, ...], dob: date) -> str:
    """The keyed exact person key: sorted transliterated name parts and the date of birth."""
    return blind_token(key, PERSON_KEY_KIND, " ".join(name_parts) + "|" + dob.isoformat())


_REGISTRATION_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:interlock:deconfliction:registration")


def registration_id(master_secret: bytes, *parts: str) -> str:
    """An opaque, stable registration id from opaque ids (JIT, team, source ref, kind, ref).

    Keyed, so that a team shown the other side's registration id cannot confirm a guess of the
    other team's lead id; stable across key versions, so a rotation re-registration is the same
    registration and the same hit.
    """
    key = _derive(master_secret, "interlock/registration-ids")
    digest = hmac.new(key, SEPARATOR.join(parts).encode("utf-8"), hashlib.sha256).digest()
    return str(uuid.uuid5(_REGISTRATION_NS, b64url(digest)))


class KeyRing(BaseModel):
    """Which key versions are live: the current one and, for a grace period, the previous one.

    Rotation: set ``current_version`` to the next version, ``previous_version`` to the old one
    and ``rotated_at`` to now; hand the new JIT keys to national systems; owners re-submit their
    registrations (the platform computes tokens under every live version); after ``grace`` the
    old version is no longer live and its tokens are expired from the index.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    current_version: int = Field(default=1, ge=1)
    previous_version: int | None = Field(default=None, ge=1)
    rotated_at: AwareDatetime | None = None
    grace: timedelta = timedelta(days=30)

    @model_validator(mode="after")
    def _rotation(self) -> KeyRing:
        if self.previous_version is not None:
            if self.previous_version >= self.current_version:
                raise ValueError("previous_version: must be below current_version")
            if self.rotated_at is None:
                raise ValueError("rotated_at: required with previous_version")
        return self

    def live_versions(self, now: datetime) -> tuple[int, ...]:
        """The versions under which tokens are computed and accepted at ``now``."""
        if (
            self.previous_version is not None
            and self.rotated_at is not None
            and now < self.rotated_at + self.grace
        ):
            return (self.current_version, self.previous_version)
        return (self.current_version,)

    def rotate(self, *, now: datetime) -> KeyRing:
        """The key ring after rotating to the next version at ``now``."""
        return self.model_copy(
            update={
                "current_version": self.current_version + 1,
                "previous_version": self.current_version,
                "rotated_at": now,
            }
        )


@dataclass(frozen=True)
class TokenKeys:
    """The master secret and the key ring; never serialised, never logged."""

    master_secret: bytes = field(repr=False)
    ring: KeyRing = field(default_factory=KeyRing)

    def __post_init__(self) -> None:
        if len(self.master_secret) < 32:
            raise ValueError("master_secret: at least 32 bytes")

    def key(self, scope: TokenScope, jit: str, version: int) -> bytes:
        """The key of ``scope`` for ``jit`` at ``version``."""
        if scope is TokenScope.CROSS_JIT:
            return cross_jit_key(self.master_secret, version)
        return jit_key(self.master_secret, jit, version)

    def registration_id(self, *parts: str) -> str:
        return registration_id(self.master_secret, *parts)


# --- test vectors ------------------------------------------------------------------------------

VECTOR_MASTER_SECRET = bytes(range(32))
"""The published, non-secret master secret of the test vectors only."""

_VECTOR_INPUTS: tuple[tuple[str, int, str, str, str | None], ...] = (
    ("jit-2025-001", 1, "phone", "+31 6 1234 5678", None),
    ("jit-2025-001", 1, "phone", "06 1234 5678", "NL"),
    ("jit-2025-001", 1, "email", "Ion.Popescu@Example.org", None),
    ("jit-2025-001", 2, "email", "Ion.Popescu@Example.org", None),
    ("jit-2025-002", 1, "email", "Ion.Popescu@Example.org", None),
    ("jit-2025-001", 1, "document", "RO 123456789", "RO"),
    ("jit-2025-001", 1, "document", "RO 123456789", "MD"),
    ("jit-2025-001", 1, "iban", "RO49 AAAA 1B31 0075 9384 0000", None),
    ("jit-2025-001", 1, "vehicle_plate", "B-123-ABC", "RO"),
    ("jit-2025-001", 1, "handle", "Telegram:@Ștefan_Ionuț", None),
    (
        "jit-2025-001",
        1,
        "crypto_wallet",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        None,
    ),
    ("jit-2025-001", 1, "url", "HTTPS://Example.org/ads/123?utm_source=x", None),
    ("jit-2025-001", 1, "address", "Strada Victoriei 10, București", None),
)


def token_vectors() -> dict[str, Any]:
    """The test vectors of ``contracts/token-vectors.json``, computed with this recipe."""
    vectors: list[dict[str, Any]] = []
    for jit, version, kind, raw, country in _VECTOR_INPUTS:
        canonical = normalise(IdentifierKind(kind), raw, country)
        key = jit_key(VECTOR_MASTER_SECRET, jit, version)
        message = token_message(kind, canonical, token_country(IdentifierKind(kind), country))
        vectors.append(
            {
                "scope": TokenScope.JIT.value,
                "jit": jit,
                "version": version,
                "kind": kind,
                "raw_value": raw,
                "country": country,
                "canonical_value": canonical,
                "key_info": jit_key_info(jit, version),
                "key_hex": key.hex(),
                "message_hex": message.hex(),
                "token": b64url(hmac.new(key, message, hashlib.sha256).digest()),
            }
        )
    for version in (1, 2):
        kind, raw, country = "email", "Ion.Popescu@Example.org", None
        canonical = normalise(IdentifierKind(kind), raw, country)
        key = cross_jit_key(VECTOR_MASTER_SECRET, version)
        message = token_message(kind, canonical, token_country(IdentifierKind(kind), country))
        vectors.append(
            {
                "scope": TokenScope.CROSS_JIT.value,
                "jit": None,
                "version": version,
                "kind": kind,
                "raw_value": raw,
                "country": country,
                "canonical_value": canonical,
                "key_info": cross_jit_key_info(version),
                "key_hex": key.hex(),
                "message_hex": message.hex(),
                "token": b64url(hmac.new(key, message, hashlib.sha256).digest()),
            }
        )
    return {
        "recipe": "contracts/token-recipe.md",
        "hkdf_salt": HKDF_SALT.decode("ascii"),
        "master_secret_hex": VECTOR_MASTER_SECRET.hex(),
        "vectors": vectors,
    }


if __name__ == "__main__":
    import json
    import sys

    json.dump(token_vectors(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
