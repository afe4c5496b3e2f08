"""The web UI signs in through Keycloak's own log-in page: authorization code with PKCE."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

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


def test_a_sensitive_act_sends_the_member_back_to_their_idp_for_a_stronger_sign_in(
    browser: Any, keycloak: Keycloak, platform: Platform, jit: str
) -> None:
    """ro-police asks a second factor (acr 2) for an erasure; Ioana signed in with a password:
    the page's erase form is answered 401 (RFC 9470), and the UI takes her to ro-police again
    with the gateway's acr_values and max_age, to come back to the same page."""
    context = browser.new_context(base_url=platform.base_url)
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        page.goto("/ui/login")
        page.get_by_role("link", name="Sign in with Poliția (RO)").click()
        page.fill("#username", "ioana.popa")
        page.fill("#password", "demo")
        page.click("#kc-login")
        page.wait_for_url(f"**/ui/jits/{jit}**")
        assert page.locator("body").get_attribute("data-idp") == "ro-police"
        action = f"/jits/{jit}/retention/lead/{uuid.uuid4()}/erase"
        page.evaluate(
            """action => {
                const form = document.createElement("form");
                form.id = "erase-probe";
                form.dataset.command = action;
                form.innerHTML = '<input name="reason" value="the case was closed">'
                    + '<p data-result></p><button type="submit">Erase</button>';
                document.querySelector("main").appendChild(form);
            }""",
            action,
        )
        realm = keycloak.realm("ro-police")
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if r.url.startswith(realm) else None)
        page.click("#erase-probe button")
        expect(page.locator("#erase-probe [data-result]")).to_contain_text("second factor")
        for _ in range(600):
            if asked:
                break
            page.wait_for_timeout(100)
        assert asked, "the UI did not send the member back to ro-police"
        assert "acr_values=2" in asked[0] and "max_age=900" in asked[0], asked[0]
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
