"""A real Keycloak (deploy/keycloak.sh: realms nl-police and ro-police) and a gateway that trusts
it, started once for this group's pytest session.

Keycloak is found or started like Kafka and Neo4j: ``KEYCLOAK_URL`` (with
``KEYCLOAK_ADMIN_PASSWORD_FILE``) names a running one; otherwise ``deploy/keycloak.sh up`` starts
one with its own data dir (``.data/test-keycloak``) and port (18180), stopped at the end unless
``INTERLOCK_KEEP_INFRA=1``. Only the gateway runs: sign-in, verification and step-up are its.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import _unavailable
from tests.support.platform import Platform, platform_env

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy" / "keycloak.sh"
TEST_DATA = ROOT / ".data" / "test-keycloak"
TEST_PORT = "18180"
NL, RO = "NL-KLPD", "RO-DIICOT"
STEP_UP_MAX_AGE = 20
"""nl-police's step-up window in this group: short, so a test can outlive it."""


@dataclass(frozen=True)
class Keycloak:
    url: str
    admin_password: str

    def realm(self, name: str) -> str:
        return f"{self.url}/realms/{name}"

    def password_grant(
        self, realm: str, username: str, client: str = "interlock-web"
    ) -> dict[str, Any]:
        """Tokens for a test user (the realms' clients allow the password grant for tests)."""
        answer = httpx.post(
            f"{self.realm(realm)}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client,
                "username": username,
                "password": "demo",
                "scope": "openid",
            },
            timeout=120,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def code_flow(self, realm: str, username: str) -> dict[str, Any]:
        """Tokens by the authorization code flow with PKCE, through Keycloak's log-in form as a
        browser would send it (Keycloak's password grant carries no ``auth_time``)."""
        redirect = "http://127.0.0.1:1/callback"
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        with httpx.Client(timeout=120) as client:
            page = client.get(
                f"{self.realm(realm)}/protocol/openid-connect/auth",
                params={
                    "client_id": "interlock-web",
                    "response_type": "code",
                    "redirect_uri": redirect,
                    "scope": "openid",
                    "state": "s",
                    "nonce": "n",
                    "code_challenge": challenge.rstrip(b"=").decode(),
                    "code_challenge_method": "S256",
                },
            )
            found = re.search(r'action="([^"]+)"', page.text)
            assert found, "Keycloak's log-in form"
            # Keycloak marks its cookies Secure; a browser sends them to loopback over http
            jar = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
            sent = client.post(
                html.unescape(found.group(1)),
                data={"username": username, "password": "demo", "credentialId": ""},
                headers={"Cookie": jar},
                follow_redirects=False,
            )
            assert sent.status_code == 302, sent.text[:500]
            code = parse_qs(urlsplit(sent.headers["location"]).query)["code"][0]
            tokens = client.post(
                f"{self.realm(realm)}/protocol/openid-connect/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": "interlock-web",
                    "redirect_uri": redirect,
                    "code_verifier": verifier,
                },
            )
            tokens.raise_for_status()
            return dict(tokens.json())

    def refresh(self, realm: str, refresh_token: str) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.realm(realm)}/protocol/openid-connect/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "interlock-web",
                "refresh_token": refresh_token,
            },
            timeout=120,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def admin(self) -> httpx.Client:
        token = httpx.post(
            f"{self.realm('master')}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": "admin",
                "password": self.admin_password,
            },
            timeout=120,
        )
        token.raise_for_status()
        return httpx.Client(
            base_url=f"{self.url}/admin/realms",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=120,
        )


def _env(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        if line.startswith("export "):
            name, _, value = line[7:].partition("=")
            found[name] = value.strip("'")
    return found


@pytest.fixture(scope="session")
def keycloak() -> Iterator[Keycloak]:
    url = os.environ.get("KEYCLOAK_URL")
    if url:
        password_file = os.environ.get("KEYCLOAK_ADMIN_PASSWORD_FILE", "")
        yield Keycloak(url.rstrip("/"), Path(password_file).read_text().strip())
        return
    env = {**os.environ, "INTERLOCK_DATA": str(TEST_DATA), "KEYCLOAK_PORT": TEST_PORT}
    started = subprocess.run(
        [str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if started.returncode != 0:
        _unavailable("Keycloak", started.stderr.strip()[-2000:])
    variables = _env(
        subprocess.run(
            [str(SCRIPT), "env"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    try:
        yield Keycloak(
            variables["KEYCLOAK_URL"],
            Path(variables["KEYCLOAK_ADMIN_PASSWORD_FILE"]).read_text().strip(),
        )
    finally:
        if os.environ.get("INTERLOCK_KEEP_INFRA") != "1":
            subprocess.run([str(SCRIPT), "down"], env=env, check=False, timeout=120)


def issuers(keycloak: Keycloak) -> list[dict[str, Any]]:
    claims = {"member": "preferred_username", "team": "team"}
    return [
        {
            "name": "nl-police",
            "label": "Politie (NL)",
            "issuer": keycloak.realm("nl-police"),
            "teams": [NL],
            "claims": claims,
            "client_id": "interlock-web",
            "step_up": {"max_age": STEP_UP_MAX_AGE},
        },
        {
            "name": "ro-police",
            "label": "Poliția (RO)",
            "issuer": keycloak.realm("ro-police"),
            "teams": [RO],
            "claims": claims,
            "client_id": "interlock-web",
            # Keycloak says acr "1" for a password: a second factor ("2") is asked of RO
            "step_up": {"max_age": 900, "acr_values": ["2"]},
        },
    ]


@pytest.fixture(scope="session")
def platform(
    keycloak: Keycloak, kafka_bootstrap: str, neo4j_auth: tuple[str, str, str]
) -> Iterator[Platform]:
    """The gateway alone, trusting the two realms (and the local issuer, for the directory)."""
    from services.provisioning import provision_all

    run_dir = Path(tempfile.mkdtemp(prefix="interlock-oidc-"))
    env = platform_env(kafka_bootstrap, neo4j_auth, run_dir)
    env["INTERLOCK_OIDC_ISSUERS"] = json.dumps(issuers(keycloak))
    env["INTERLOCK_OIDC_JWKS_MIN_REFRESH_SECONDS"] = "1"
    env["INTERLOCK_STEP_UP_MAX_AGE"] = "900"
    env["INTERLOCK_DEMO_LOGIN"] = "false"
    running = Platform(env=env, run_dir=run_dir)
    provision_all(running.settings)
    running.start("gateway")
    try:
        running.wait_ready(["gateway"])
        yield running
    finally:
        running.stop_all()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def jit(platform: Platform, issuer: Any) -> str:
    """A JIT of NL-KLPD and RO-DIICOT, with the realms' users as its members."""
    jit_id = f"jit-oidc-{uuid.uuid4().hex[:6]}"
    issuer.enroll(
        member="anna.devries", team=NL, jits=[jit_id], roles=["investigator", "coordinator"]
    )
    issuer.enroll(member="ioana.popa", team=RO, jits=[jit_id], roles=["investigator"])
    return jit_id


def api(platform: Platform, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=platform.base_url,
        headers={
            "Authorization": f"Bearer {token}",
            "X-Justification-Case": "OIDC-TEST",
            "X-Justification-Reason": "integration test of federated sign-in",
        },
        timeout=120,
    )


from tests.e2e.conftest import browser  # noqa: E402, F401  (Chromium, for the sign-in through the UI)
