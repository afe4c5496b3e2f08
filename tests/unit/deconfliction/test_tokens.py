"""The token recipe: HKDF per RFC 5869, the published test vectors, keys per JIT and version."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from events.identifiers import IdentifierKind, normalise
from services.deconfliction.tokens import (
    KeyRing,
    TokenKeys,
    blind_token,
    cross_jit_key,
    hkdf_sha256,
    jit_key,
    token_for,
    token_vectors,
)

from .builders import MASTER, T0

VECTORS_FILE = Path(__file__).parents[3] / "contracts" / "token-vectors.json"


def _vectors() -> dict[str, Any]:
    published: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return published


def test_hkdf_matches_rfc5869_test_case_1() -> None:
    """The written-out HKDF gives RFC 5869's test case 1 output."""
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_hkdf_matches_rfc5869_test_case_3_without_salt() -> None:
    """An empty salt means a zero-filled one, as RFC 5869 test case 3 expects."""
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), salt=b"", info=b"", length=42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_hkdf_agrees_with_the_cryptography_package() -> None:
    """The stdlib HKDF and the cryptography package's derive the same JIT key."""
    hkdf_module = pytest.importorskip("cryptography.hazmat.primitives.kdf.hkdf")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    theirs = hkdf_module.HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"interlock/deconfliction",
        info=b"interlock/jit/jit-9/v3",
    ).derive(MASTER)
    assert jit_key(MASTER, "jit-9", 3) == theirs


def _independent_token(vector: dict[str, Any], master: bytes, salt: bytes) -> str:
    """The recipe recomputed from the document alone, as a national system would."""
    hkdf_module = pytest.importorskip("cryptography.hazmat.primitives.kdf.hkdf")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    info = (
        f"interlock/jit/{vector['jit']}/v{vector['version']}"
        if vector["scope"] == "jit"
        else f"interlock/cross-jit/v{vector['version']}"
    )
    key = hkdf_module.HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=info.encode()
    ).derive(master)
    assert key.hex() == vector["key_hex"]
    country = vector["country"] if vector["kind"] in {"document", "vehicle_plate"} else ""
    message = "\x1f".join((vector["kind"], country or "", vector["canonical_value"])).encode()
    assert message.hex() == vector["message_hex"]
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_every_vector_recomputes_from_the_published_recipe() -> None:
    """Each vector's token follows from its master secret, JIT, version, kind, country and
    canonical value by the recipe of contracts/token-recipe.md, written independently here."""
    published = _vectors()
    master = bytes.fromhex(published["master_secret_hex"])
    salt = published["hkdf_salt"].encode()
    assert published["vectors"]
    for vector in published["vectors"]:
        assert _independent_token(vector, master, salt) == vector["token"], vector


def test_every_vector_raw_value_normalises_to_its_canonical_value() -> None:
    """A national system starting from the raw value reaches the same canonical value, so its
    token matches the platform's (fails when normalisation changes: regenerate the vectors)."""
    for vector in _vectors()["vectors"]:
        kind = IdentifierKind(vector["kind"])
        assert normalise(kind, vector["raw_value"], vector["country"]) == vector["canonical_value"]


def test_platform_tokens_equal_the_vectors() -> None:
    """The platform's token_for on the raw value gives each vector's token."""
    published = _vectors()
    master = bytes.fromhex(published["master_secret_hex"])
    for vector in published["vectors"]:
        key = (
            jit_key(master, vector["jit"], vector["version"])
            if vector["scope"] == "jit"
            else cross_jit_key(master, vector["version"])
        )
        kind = IdentifierKind(vector["kind"])
        assert token_for(key, kind, vector["raw_value"], vector["country"]) == vector["token"]


def test_vectors_file_is_what_the_generator_writes() -> None:
    """contracts/token-vectors.json is generated (python -m services.deconfliction.tokens)."""
    assert _vectors() == token_vectors()


def test_tokens_of_the_same_value_differ_across_jits() -> None:
    """Different JITs have different keys, so one value never gives equal tokens in two JITs."""
    a = token_for(jit_key(MASTER, "jit-a", 1), IdentifierKind.EMAIL, "x@example.org")
    b = token_for(jit_key(MASTER, "jit-b", 1), IdentifierKind.EMAIL, "x@example.org")
    assert a != b


def test_tokens_differ_across_key_versions_and_from_the_cross_jit_key() -> None:
    """A key version and the cross-JIT key each give their own token for the same value."""
    value = "x@example.org"
    tokens = {
        token_for(jit_key(MASTER, "jit-a", 1), IdentifierKind.EMAIL, value),
        token_for(jit_key(MASTER, "jit-a", 2), IdentifierKind.EMAIL, value),
        token_for(cross_jit_key(MASTER, 1), IdentifierKind.EMAIL, value),
    }
    assert len(tokens) == 3


def test_country_is_part_of_a_document_token_only() -> None:
    """The issuing country separates two documents with one number; a phone's country does not
    change its token because its E.164 form already carries it."""
    key = jit_key(MASTER, "jit-a", 1)
    assert token_for(key, IdentifierKind.DOCUMENT, "AB123456", "RO") != token_for(
        key, IdentifierKind.DOCUMENT, "AB123456", "MD"
    )
    assert token_for(key, IdentifierKind.PHONE, "06 1234 5678", "NL") == token_for(
        key, IdentifierKind.PHONE, "+31 6 1234 5678"
    )


def test_token_shape_is_43_base64url_characters() -> None:
    """A token is base64url without padding: 43 characters."""
    token = blind_token(jit_key(MASTER, "jit-a", 1), "email", "x@example.org")
    assert len(token) == 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_key_ring_keeps_the_previous_version_live_for_the_grace_period() -> None:
    """After a rotation both versions are live until the grace period ends, then only the new."""
    ring = KeyRing().rotate(now=T0)
    assert ring.current_version == 2
    assert ring.live_versions(T0 + timedelta(days=29)) == (2, 1)
    assert ring.live_versions(T0 + timedelta(days=30)) == (2,)


def test_key_ring_refuses_a_previous_version_not_below_the_current() -> None:
    """A key ring whose previous version is not older than the current one is invalid."""
    with pytest.raises(ValueError, match="previous_version"):
        KeyRing(current_version=2, previous_version=2, rotated_at=T0)


def test_token_keys_refuse_a_short_master_secret() -> None:
    """A master secret under 32 bytes is refused."""
    with pytest.raises(ValueError, match="master_secret"):
        TokenKeys(b"short")


def test_token_keys_never_show_the_master_secret() -> None:
    """The master secret is not in the keys' repr, so it cannot end up in a log line."""
    assert MASTER.hex() not in repr(TokenKeys(MASTER))
    assert "interlock-unit-test" not in repr(TokenKeys(MASTER))
