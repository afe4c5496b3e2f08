"""Federated sign-in against a real Keycloak: its tokens on the API, a key rotation picked up
without restarting the gateway, the wrong country's IdP refused, and step-up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.kit.federation import unverified
from tests.integration.oidc.conftest import RO, STEP_UP_MAX_AGE, Keycloak, api
from tests.support.platform import Platform

pytestmark = pytest.mark.integration


def test_api_calls_with_each_countrys_tokens(
    keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """A member signed in by their own country's Keycloak realm reads the JIT; roles and JITs
    come from the directory (Keycloak's token names neither)."""
    for realm, member in (("nl-police", "anna.devries"), ("ro-police", "ioana.popa")):
        token = keycloak.password_grant(realm, member)["access_token"]
        with api(platform, token) as client:
            answer = client.get(f"/jits/{jit}/leads")
            assert answer.status_code == 200, (realm, answer.text)


def test_the_wrong_countrys_idp_is_refused(
    keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """nl-police's token naming RO-DIICOT is 403 (the issuer may not vouch for it); a token from
    ro-police for the Dutch member's name is 403 (the directory knows anna.devries as NL-KLPD)."""
    rogue = keycloak.password_grant("nl-police", "anna.devries", client="interlock-rogue")
    with api(platform, rogue["access_token"]) as client:
        answer = client.get(f"/jits/{jit}/leads")
    assert answer.status_code == 403
    assert "nl-police may not vouch for team RO-DIICOT" in answer.json()["error"]
    impostor = keycloak.password_grant("ro-police", "anna.devries")["access_token"]
    with api(platform, impostor) as client:
        answer = client.get(f"/jits/{jit}/leads")
    assert answer.status_code == 403, answer.text
    assert f"anna.devries of {RO} is not a member of JIT {jit}" in answer.json()["error"]


def _active_kid(token: str) -> str:
    return str(unverified(token)[0]["kid"])


def test_a_key_rotation_is_picked_up_without_restart(
    keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """A new RS256 key provider takes over in Keycloak and the old one is disabled (admin REST
    API): the same gateway process verifies tokens signed by the new key."""
    gateway = platform.processes["gateway"].pid
    before = keycloak.password_grant("nl-police", "anna.devries")["access_token"]
    with api(platform, before) as client:
        assert client.get(f"/jits/{jit}/leads").status_code == 200
    with keycloak.admin() as admin:
        realm = admin.get("/nl-police").json()
        providers = admin.get(
            "/nl-police/components", params={"type": "org.keycloak.keys.KeyProvider"}
        ).json()
        old = [p for p in providers if p["providerId"] == "rsa-generated"]
        created = admin.post(
            "/nl-police/components",
            json={
                "name": f"rotated-{int(time.time())}",
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm["id"],
                "config": {
                    "priority": ["1000"],
                    "enabled": ["true"],
                    "active": ["true"],
                    "keySize": ["2048"],
                    "algorithm": ["RS256"],
                },
            },
        )
        assert created.status_code == 201, created.text
        for provider in old:
            provider["config"]["active"] = ["false"]
            provider["config"]["enabled"] = ["false"]
            updated = admin.put(f"/nl-police/components/{provider['id']}", json=provider)
            assert updated.status_code == 204, updated.text
    after = keycloak.password_grant("nl-police", "anna.devries")["access_token"]
    assert _active_kid(after) != _active_kid(before)
    time.sleep(
        1.2
    )  # the gateway's rate limit on refetching (INTERLOCK_OIDC_JWKS_MIN_REFRESH_SECONDS)
    with api(platform, after) as client:
        answer = client.get(f"/jits/{jit}/leads")
    assert answer.status_code == 200, answer.text
    assert (
        platform.processes["gateway"].pid == gateway
        and platform.processes["gateway"].poll() is None
    )


def _challenge(answer: Any) -> str:
    assert answer.status_code == 401, answer.text
    return str(answer.headers["WWW-Authenticate"])


def test_step_up_asks_for_a_recent_authentication(
    keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """An export needs an authentication within nl-police's window: a refreshed token keeps the
    first authentication's auth_time, so once the window has passed it is 401 (RFC 9470)."""
    tokens = keycloak.code_flow("nl-police", "anna.devries")
    with api(platform, tokens["access_token"]) as client:
        fresh = client.get(f"/jits/{jit}/export.stix")
    assert fresh.status_code == 200, fresh.text
    authenticated = unverified(tokens["access_token"])[1]["auth_time"]
    # past the window and the gateway's leeway
    time.sleep(max(0.0, authenticated + STEP_UP_MAX_AGE + 11 - time.time()))
    refreshed = keycloak.refresh("nl-police", tokens["refresh_token"])["access_token"]
    with api(platform, refreshed) as client:
        assert client.get(f"/jits/{jit}/leads").status_code == 200  # an ordinary read still is
        stale = client.get(f"/jits/{jit}/export.stix")
    challenge = _challenge(stale)
    assert 'error="insufficient_user_authentication"' in challenge
    assert f"max_age={STEP_UP_MAX_AGE}" in challenge


def test_step_up_asks_for_a_second_factor_where_the_issuer_says_so(
    keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """ro-police's entry asks acr 2 for sensitive acts; a password sign-in is acr 1."""
    token = keycloak.code_flow("ro-police", "ioana.popa")["access_token"]
    with api(platform, token) as client:
        stale = client.get(f"/jits/{jit}/export.ftm")
    challenge = _challenge(stale)
    assert 'acr_values="2"' in challenge
    assert "a second factor" in stale.json()["error"]


def test_the_discovery_and_keys_are_keycloaks(keycloak: Keycloak) -> None:
    """The realms publish what the gateway reads: discovery names the issuer and a JWKS with
    RS256 signing keys."""
    import httpx

    for realm in ("nl-police", "ro-police"):
        document = httpx.get(
            f"{keycloak.realm(realm)}/.well-known/openid-configuration", timeout=30
        ).json()
        assert document["issuer"] == keycloak.realm(realm)
        assert "S256" in document["code_challenge_methods_supported"]
        keys = httpx.get(document["jwks_uri"], timeout=120).json()["keys"]
        assert any(k.get("alg") == "RS256" and k.get("use") == "sig" for k in keys)
