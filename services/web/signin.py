"""Sign-in with the member's own identity provider: OIDC authorization code with PKCE.

``/ui/login/oidc/{name}`` sends the browser to the issuer's authorization endpoint with a fresh
``state``, ``nonce`` and PKCE ``code_challenge`` (S256), kept for ten minutes in an HttpOnly
cookie scoped to the callback's path. The callback checks ``state`` (constant time), exchanges the
code with the ``code_verifier`` at the token endpoint, verifies the ID token (signature, issuer,
the client as audience, the ``nonce``) and the access token as the API would (the issuer's team
binding included), and keeps the access token in the session cookie as the demo log-in does.
Step-up asks the same endpoint with ``max_age``/``acr_values`` (RFC 9470), so the provider
authenticates the member again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.kit.federation import IssuerConfig, Trust
from services.kit.identity import InvalidToken
from services.kit.logging import get_logger
from services.web.access import COOKIE, cookie_secure

log = get_logger()

router = APIRouter(prefix="/ui/login/oidc", include_in_schema=False)
FLOW_COOKIE = "interlock_oidc"
FLOW_SECONDS = 600


def _trust(request: Request) -> Trust | None:
    trust = getattr(request.app.state, "verifier", None)
    return trust if isinstance(trust, Trust) else None


def _choice(request: Request, name: str) -> tuple[Trust, IssuerConfig] | None:
    trust = _trust(request)
    if trust is None:
        return None
    config = next((c for c in trust.sign_in_choices() if c.name == name), None)
    return (trust, config) if config is not None else None


def _callback_url(request: Request, name: str) -> str:
    return str(request.url_for("oidc_callback", name=name))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _refusal(request: Request, message: str, status: int = 400) -> HTMLResponse:
    from services.web.pages import render

    log.warning("ui sign-in refused", reason=message)
    return render(request, "login.html", None, error=message, status_code=status)


@router.get("/{name}", name="oidc_start")
async def start(
    request: Request, name: str, next: str = "", max_age: int | None = None, acr_values: str = ""
) -> Response:
    """Send the browser to the member's identity provider (authorization code + PKCE)."""
    from services.web.pages import _safe_next

    chosen = _choice(request, name)
    if chosen is None:
        return _refusal(request, f"No identity provider called {name!r} is offered here.", 404)
    trust, config = chosen
    try:
        metadata = trust.keys(config.name).metadata()
    except InvalidToken as exc:
        return _refusal(
            request, f"{config.label or config.name} cannot be reached: {exc.reason}", 502
        )
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": _callback_url(request, name),
        "scope": config.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    if max_age is not None:
        params["max_age"] = str(max(0, max_age))
    if acr_values:
        params["acr_values"] = acr_values[:200]
    flow = {"s": state, "n": nonce, "v": verifier, "next": _safe_next(next), "t": int(time.time())}
    response = RedirectResponse(
        f"{metadata['authorization_endpoint']}?{urlencode(params)}", status_code=303
    )
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation
    response.set_cookie(
        FLOW_COOKIE,
        _b64(json.dumps(flow).encode()),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(),
        path=f"/ui/login/oidc/{name}",
    )
    return response


def _flow(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(FLOW_COOKIE, "")
    try:
        flow = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(flow, dict) or time.time() - float(flow.get("t", 0)) > FLOW_SECONDS:
        return None
    return flow


@router.get("/{name}/callback", name="oidc_callback")
async def callback(
    request: Request,
    name: str,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """The provider's answer: check state, redeem the code with the PKCE verifier, verify the ID
    token's nonce and the access token, and open the session."""
    chosen = _choice(request, name)
    if chosen is None:
        return _refusal(request, f"No identity provider called {name!r} is offered here.", 404)
    trust, config = chosen
    flow = _flow(request)
    if flow is None:
        return _refusal(request, "The sign-in expired or was not started here; start again.")
    if not state or not hmac.compare_digest(str(flow.get("s", "")), state):
        return _refusal(request, "The sign-in's state does not match; start again.")
    if error:
        return _refusal(
            request,
            f"{config.label or config.name} refused: {error_description or error}"[:300],
            401,
        )
    if not code:
        return _refusal(request, "The identity provider sent no authorization code.")
    metadata = trust.keys(config.name).metadata()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _callback_url(request, name),
        "client_id": config.client_id or "",
        "code_verifier": str(flow.get("v", "")),
    }
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.post(metadata["token_endpoint"], data=form)
        tokens = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        return _refusal(request, f"The token endpoint did not answer ({type(exc).__name__}).", 502)
    if answer.status_code != 200 or not isinstance(tokens, dict):
        said = tokens.get("error_description") if isinstance(tokens, dict) else None
        return _refusal(request, f"The code was not redeemed: {said or answer.status_code}", 401)
    access, id_token = tokens.get("access_token"), tokens.get("id_token")
    if not isinstance(access, str) or not isinstance(id_token, str):
        return _refusal(request, "The identity provider sent no access or ID token.", 401)
    try:
        trust.decode(id_token, audience=config.client_id, nonce=str(flow.get("n", "")))
        issuer, claims = trust.decode(access)
        principal = trust.principal(issuer, claims)
    except InvalidToken as exc:
        return _refusal(request, f"The sign-in was refused: {exc.reason}", exc.status)
    if issuer.name != config.name:
        return _refusal(request, "The access token comes from another issuer.", 401)
    log.info("ui signed in", team=principal.team, issuer=config.name)
    target = html.escape(str(flow.get("next") or "/ui"), quote=True)
    # A page of our own navigates on: a SameSite=Strict cookie set on the answer to a
    # cross-site redirect would not be sent with a redirect that follows it at once.
    page = HTMLResponse(
        f'<!doctype html><meta http-equiv="refresh" content="0;url={target}">'
        f'<title>Signed in</title><p><a href="{target}">Continue</a></p>'
    )
    lifetime = max(60, int(claims.get("exp", time.time() + 300) - time.time()))
    page.set_cookie(
        COOKIE,
        access,
        max_age=lifetime,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(),
        path="/",
    )
    page.delete_cookie(FLOW_COOKIE, path=f"/ui/login/oidc/{name}")
    return page
