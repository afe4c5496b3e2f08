"""Who is looking at a page: the session cookie, the demo log-in switch and the CSRF guard.

The browser keeps its bearer token in an HttpOnly, SameSite=Strict cookie that the gateway's
``current_principal`` already accepts. SameSite=Strict keeps other sites' requests from carrying
it; as a second line, a state-changing request that authenticates with the cookie (no
``Authorization`` header) must carry ``X-Requested-With``, which a cross-site form cannot set
and a cross-site script cannot send without a CORS preflight the gateway never grants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kit.federation import Trust
from services.kit.identity import InvalidToken, Principal, Verifier
from services.kit.logging import get_logger
from services.kit.web import admitted

log = get_logger()

COOKIE = "interlock_token"
PURPOSE_COOKIE = "interlock_purpose"
"""The purpose the member stated for reading personal data (case reference and reason)."""
CSRF_HEADER = "x-requested-with"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_EXEMPT = frozenset({"/ui/login", "/ui/logout", "/ui/purpose", "/ui/zone"})
"""Log-in needs credentials of its own, log-out only forgets the cookie, the stated purpose is
the member's own words about their next reads, and the zone only sets how times are shown (a
cross-site request carries no cookie: SameSite=Strict)."""


def demo_login_enabled() -> bool:
    """Whether /ui/login offers the demo accounts (INTERLOCK_DEMO_LOGIN=true); off by default."""
    return os.environ.get("INTERLOCK_DEMO_LOGIN", "").strip().lower() in {"1", "true", "yes", "on"}


def cookie_secure() -> bool:
    """Mark the cookie Secure when served over HTTPS: ``INTERLOCK_COOKIE_SECURE=true``."""
    return os.environ.get("INTERLOCK_COOKIE_SECURE", "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Purpose:
    """Why the member reads personal data: the case it serves and the reason (the audit's words)."""

    case: str
    reason: str

    def params(self) -> dict[str, str]:
        """As the gateway's query parameters (UTF-8 safe, unlike headers)."""
        return {"purpose_case": self.case, "purpose_reason": self.reason}

    def cookie(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"case": self.case, "reason": self.reason})


def purpose_of(request: Request) -> Purpose | None:
    """The purpose stated in this browser session, if any."""
    from urllib.parse import parse_qs

    raw = request.cookies.get(PURPOSE_COOKIE)
    if not raw:
        return None
    fields = parse_qs(raw)
    case = (fields.get("case") or [""])[0].strip()[:128]
    reason = (fields.get("reason") or [""])[0].strip()[:500]
    return Purpose(case, reason) if case and reason else None


@dataclass(frozen=True)
class Viewer:
    """The signed-in member, the token their pages read the API with, and their stated purpose."""

    principal: Principal
    token: str
    purpose: Purpose | None = None

    @property
    def team(self) -> str:
        return self.principal.team


def token_of(request: Request) -> str | None:
    """The bearer token of the request: the Authorization header first, then the cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def verify(request: Request, token: str) -> Principal | None:
    """The principal of ``token``, or None when the gateway would refuse it (reason logged).

    A member the directory knows is shown with the directory's JITs and roles (a token from a
    country's identity provider names neither); the API's own rule decides what they may do.
    """
    verifier: Verifier | Trust = request.app.state.verifier
    try:
        principal = verifier.verify(token)
    except InvalidToken as exc:
        log.info("ui session refused", reason=exc.reason, path=request.url.path)
        return None
    directory = getattr(request.app.state, "directory", None)
    if directory is not None:
        known = admitted(directory.book, principal, None)
        if known is not None:
            return known
    return principal


def viewer_of(request: Request) -> Viewer | None:
    """The viewer of a page, or None when nobody (validly) signed in."""
    token = token_of(request)
    if token is None:
        return None
    principal = verify(request, token)
    return Viewer(principal, token, purpose_of(request)) if principal is not None else None


class CookieCsrfGuard:
    """Refuse state-changing requests authenticated by the cookie alone without X-Requested-With."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
            cookie = headers.get("cookie", b"").decode("latin-1")
            by_cookie = f"{COOKIE}=" in cookie and "authorization" not in headers
            if by_cookie and CSRF_HEADER not in headers and scope["path"] not in CSRF_EXEMPT:
                log.warning("csrf guard refused", path=scope["path"], method=scope["method"])
                response = JSONResponse(
                    {
                        "error": "a request authenticated by the session cookie must send the "
                        "X-Requested-With header"
                    },
                    status_code=403,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
