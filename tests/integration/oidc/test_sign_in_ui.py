"""The web UI signs in through Keycloak's own log-in page: authorization code with PKCE."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.oidc.conftest import Keycloak
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e


def test_sign_in_with_the_members_idp_through_keycloaks_page(
    browser: Any, keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """'Sign in with Politie (NL)' → Keycloak's log-in form → back on the JIT's dashboard, with
    the session cookie as the demo log-in sets it (HttpOnly, SameSite=Strict)."""
    context = browser.new_context(base_url=platform.base_url)
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        page.goto("/ui/login")
        page.get_by_role("link", name="Sign in with Politie (NL)").click()
        page.wait_for_url(f"{keycloak.realm('nl-police')}/**")
        assert "code_challenge_method=S256" in page.url and "nonce=" in page.url
        page.fill("#username", "anna.devries")
        page.fill("#password", "demo")
        page.click("#kc-login")
        page.wait_for_url(f"**/ui/jits/{jit}**")
        assert "anna.devries" in page.content()
        [cookie] = [c for c in context.cookies() if c["name"] == "interlock_token"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        with httpx.Client(base_url=platform.base_url, timeout=120) as client:
            me = client.get(
                f"/jits/{jit}/leads", headers={"Authorization": f"Bearer {cookie['value']}"}
            )
        assert me.status_code == 200, me.text
    finally:
        context.close()


def test_a_callback_without_the_flows_state_is_refused(platform: Platform) -> None:
    """A forged or replayed callback (no flow cookie, or another state) opens no session."""
    with httpx.Client(base_url=platform.base_url, timeout=120) as client:
        started = client.get("/ui/login/oidc/nl-police", follow_redirects=False)
        assert started.status_code == 303
        assert "code_challenge=" in started.headers["location"]
        forged = client.get(
            "/ui/login/oidc/nl-police/callback", params={"code": "x", "state": "not-the-state"}
        )
        assert forged.status_code == 400 and "state does not match" in forged.text
        assert "interlock_token" not in forged.headers.get("set-cookie", "")
        client.cookies.clear()
        lost = client.get("/ui/login/oidc/nl-police/callback", params={"code": "x", "state": "s"})
        assert lost.status_code == 400 and "not started here" in lost.text
