"""Blind registration: a national system computes tokens itself with the published recipe.

The recipe is written out here again from ``contracts/token-recipe.md`` alone (HKDF-SHA256 from
RFC 5869, the message layout, HMAC-SHA256, base64url), checked against the published test
vectors, and then used as a national system would: its tokens must meet the platform's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from events.deconfliction import DeconflictionHit
from tests.support.platform import Platform

from .support import HIT, EventLog, Jit, lead, submit

VECTORS = Path(__file__).resolve().parents[3] / "contracts" / "token-vectors.json"
COUNTRY_SCOPED = ("document", "vehicle_plate")
"""The kinds whose issuing country is part of the token's message (recipe, step 2)."""


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def jit_key(master: bytes, jit: str, version: int) -> bytes:
    return hkdf(master, b"interlock/deconfliction", f"interlock/jit/{jit}/v{version}".encode())


def token(key: bytes, kind: str, canonical: str, country: str | None) -> str:
    message = "\x1f".join((kind, country or "", canonical)).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def test_the_independent_recipe_reproduces_the_published_vectors() -> None:
    """Keys and tokens written from the document alone equal every published JIT vector."""
    doc: dict[str, Any] = json.loads(VECTORS.read_text())
    master = bytes.fromhex(doc["master_secret_hex"])
    jit_vectors = [v for v in doc["vectors"] if v["scope"] == "jit"]
    assert jit_vectors
    for v in jit_vectors:
        key = jit_key(master, v["jit"], v["version"])
        assert key.hex() == v["key_hex"]
        country = v["country"] if v["kind"] in COUNTRY_SCOPED else None
        assert token(key, v["kind"], v["canonical_value"], country) == v["token"]


def test_a_national_systems_blind_token_meets_another_teams_lead(
    deconfliction: Platform, jit: Jit, events: EventLog
) -> None:
    """A national system's own blind token for a phone is a hit with another team's lead."""
    master = deconfliction.settings.deconfliction_secret.get_secret_value().encode()
    ro_token = token(jit_key(master, jit.id, 1), "phone", "+40721555124", None)
    national = jit.member(jit.ro, "case-system", roles=("national_system",))
    response = national.post(
        f"/jits/{jit.id}/deconfliction/blind-tokens",
        {
            "source_ref": "ro-case-2231",
            "tokens": [
                {"kind": "phone", "token": ro_token, "key_version": 1, "entry_ref": "tel-88"}
            ],
        },
    )
    assert response.status_code == 201, response.text

    submit(
        jit.member(jit.nl),
        jit,
        lead("nl-blind", identifiers=[{"kind": "phone", "value": "+40 (721) 555-124"}]),
    )
    [hit_env] = events.wait(jit.id, HIT)
    hit = hit_env.data
    assert isinstance(hit, DeconflictionHit)
    assert hit.kind == "phone"
    assert {hit.registering.team, hit.holding.team} == {jit.nl, jit.ro}
    assert hit_env.audience == {jit.nl, jit.ro}


def test_a_token_under_a_key_version_that_is_not_live_is_refused(jit: Jit) -> None:
    """A blind token under key version 2 while only version 1 is live is 422 naming the field."""
    national = jit.member(jit.ro, "case-system", roles=("national_system",))
    response = national.post(
        f"/jits/{jit.id}/deconfliction/blind-tokens",
        {
            "source_ref": "ro-case-2232",
            "tokens": [{"kind": "phone", "token": "A" * 43, "key_version": 2}],
        },
    )
    assert response.status_code == 422
    assert "key_version" in response.json()["error"]
