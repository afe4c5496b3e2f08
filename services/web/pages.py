"""The web UI's router: HTML pages under ``/ui``, rendered on the server, enhanced by htmx.

Every page reads through :class:`services.web.backend.Gateway` (the gateway's own team-scoped
JSON endpoints, with the viewer's token), and every command the browser sends goes to those
same JSON endpoints; this module adds only the log-in, the pages and a validation helper.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from pydantic import ValidationError

from events.alerts import Category
from events.identifiers import Identifier, IdentifierKind, PersonRole
from events.zones import CHOICES as ZONE_CHOICES
from events.zones import UTC_ZONE, in_zone, zone_of_team
from services.kit.errors import problems
from services.kit.identity import Issuer
from services.kit.logging import get_logger
from services.web.access import (
    COOKIE,
    PURPOSE_COOKIE,
    Purpose,
    Viewer,
    cookie_secure,
    demo_login_enabled,
    verify,
    viewer_of,
)
from services.web.backend import Gateway, Reply

log = get_logger()

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)

DEMO_PASSWORD = "demo"
TASK_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("requested", "Requested", ("requested",)),
    ("accepted", "Accepted", ("accepted",)),
    ("in_progress", "In progress", ("in_progress",)),
    ("blocked", "Blocked", ("blocked",)),
    ("done", "Done", ("completed", "declined", "cancelled", "stopped")),
)
READ_YOUR_WRITES_SECONDS = 2
"""How long a lead's page waits for the projection to write what is on the lead topic, so the
link shown after a submission opens the whole lead, not a 404 or a lead without its persons."""

LEAD_STATUSES = ("new", "triaged", "actioned", "closed", "discarded")
HIT_STATUSES = ("confirmed", "possible")
HIT_PROBE = "00000000-0000-4000-8000-000000000000"
"""A well-formed hit id, to ask the router whether the release endpoint exists."""
DESK_ROLES = ("desk_officer", "team_lead", "coordinator")
"""Who may watch a desk's live stream (the alerts router's rule)."""
ALERT_CATEGORIES = tuple(c.value for c in Category)


def mount_static(app: FastAPI) -> None:
    """Serve the UI's own CSS/JS and the vendored packages (``make ui-assets``) under /ui/static."""
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="ui-static")


# ------------------------------------------------------------------------------- rendering


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


ZONE_COOKIE = "interlock_zone"
"""The zone a member chose to read and enter times in (else their team's country's)."""


def viewer_zone(request: Request, viewer: Viewer | None) -> str:
    """The zone the viewer reads times in: the one they chose, else their team's country's."""
    chosen = request.cookies.get(ZONE_COOKIE, "")
    if chosen in ZONE_CHOICES:
        return chosen
    return zone_of_team(viewer.team) if viewer is not None else UTC_ZONE


def _local(value: Any, zone: str) -> str:
    when = _when(value)
    if when is None:
        return str(value or "")
    shown = in_zone(when, zone)
    if zone == UTC_ZONE:
        return shown.strftime("%Y-%m-%d %H:%M UTC")
    return shown.strftime("%Y-%m-%d %H:%M ") + (shown.tzname() or zone)


@pass_context
def _dt(context: Any, value: Any) -> str:
    """A timestamp in the viewer's zone: ``2026-03-02 16:05 EET``."""
    return _local(value, str(context.get("zone") or UTC_ZONE))


@pass_context
def _dtu(context: Any, value: Any) -> str:
    """A timestamp in the viewer's zone with UTC beside it, where a wrong hour matters:
    ``2026-03-02 16:05 EET (14:05 UTC)``."""
    zone = str(context.get("zone") or UTC_ZONE)
    local = _local(value, zone)
    when = _when(value)
    if when is None or zone == UTC_ZONE:
        return local
    return f"{local} ({when.astimezone(UTC):%H:%M} UTC)"


def _ago(value: Any) -> str:
    when = _when(value)
    if when is None:
        return ""
    seconds = int((datetime.now(UTC) - when).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds // size} {unit}"
            break
    else:
        text = f"{seconds} s"
    return f"in {text}" if future else f"{text} ago"


def _duration(seconds: Any) -> str:
    """A span as people say it: ``5 min``, ``1 h``, ``1 h 30 min``, ``45 s``."""
    try:
        total = int(float(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def _iso(value: Any) -> str:
    when = _when(value)
    return when.isoformat() if when else ""


templates.env.filters["dt"] = _dt
templates.env.filters["dtu"] = _dtu
templates.env.filters["ago"] = _ago
templates.env.filters["iso"] = _iso
templates.env.filters["short"] = lambda value: str(value or "")[:8]
templates.env.filters["duration"] = _duration
templates.env.globals["quote"] = quote

MENTION = re.compile(
    r"(?<![\w@])@(desk:[A-Z]{2}-[A-Z0-9]{2,16}\b|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?)"
)
"""A mention in a message's text: ``@member-id`` or ``@desk:TEAM`` (interlock.js reads the same)."""


def _mentions(text: Any, member: str = "", team: str = "") -> Markup:
    """The text, escaped, with each mention marked (the viewer's own more strongly)."""
    value = str(text or "")
    out: list[str] = []
    last = 0
    for found in MENTION.finditer(value):
        name = found.group(1)
        mine = name == member or name == f"desk:{team}"
        out.append(escape(value[last : found.start()]))
        out.append(
            Markup('<mark class="{}">@{}</mark>').format("mention me" if mine else "mention", name)
        )
        last = found.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


templates.env.filters["mentions"] = _mentions


def assets_ready() -> bool:
    return (STATIC / "vendor" / "htmx.min.js").exists()


def render(
    request: Request,
    name: str,
    viewer: Viewer | None = None,
    *,
    jit: str | None = None,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    from services.demo import ACCOUNTS

    query = [(k, v) for k, v in request.query_params.multi_items() if k != "partial"]
    here = request.url.path + ("?" + urlencode(query) if query else "")
    base = {
        "here": here,
        "purpose": viewer.purpose if viewer else None,
        "viewer": viewer,
        "principal": viewer.principal if viewer else None,
        "jit": jit,
        "section": section,
        "demo": demo_login_enabled(),
        "accounts": ACCOUNTS,
        "assets_ready": assets_ready(),
        "zone": viewer_zone(request, viewer),
        "zones": ZONE_CHOICES,
        "idps": sign_in_choices(request),
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _login_redirect(request: Request) -> Response:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": f"/ui/login?next={target}"})
    return RedirectResponse(f"/ui/login?next={target}", status_code=303)


def _session(request: Request, jit: str | None = None) -> tuple[Viewer, Gateway] | Response:
    """The viewer and their gateway, or the response to send instead (log-in, wrong JIT)."""
    viewer = viewer_of(request)
    if viewer is None:
        return _login_redirect(request)
    if jit is not None and jit not in viewer.principal.jits:
        return render(
            request,
            "message.html",
            viewer,
            title="Not a member of this JIT",
            message=f"Team {viewer.team} is not a member of JIT {jit}.",
            status_code=403,
        )
    return viewer, Gateway(request.app, viewer)


def jit_teams(request: Request, jit: str, *, but: str | None = None) -> list[str]:
    """The JIT's teams from the directory: what a form offers to share with, never free text."""
    directory = getattr(request.app.state, "directory", None)
    teams = directory.book.teams_of(jit) if directory is not None else frozenset()
    return sorted(t for t in teams if t != but)


def jit_members(request: Request, jit: str, teams: list[str]) -> list[Any]:
    """The directory's active members of ``teams`` in ``jit``: whom custody may go to."""
    directory = getattr(request.app.state, "directory", None)
    if directory is None or not teams:
        return []
    members = directory.book.members.values()
    return sorted(
        (m for m in members if m.active and m.team in teams and (not m.jits or jit in m.jits)),
        key=lambda m: (m.team, m.member_id),
    )


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the UI needs no multipart)."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


# ---------------------------------------------------------------------------------- log-in


@router.get("", summary="The UI's entry")
@router.get("/", summary="The UI's entry")
async def home(request: Request, jit: str = "") -> Response:
    """The first JIT of the token (or the one the switcher chose)."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/ui/login", status_code=303)
    if not viewer.principal.jits:
        return render(
            request,
            "message.html",
            viewer,
            title="No JIT",
            message="Your token names no JIT; ask your JIT administrator.",
        )
    chosen = jit if jit in viewer.principal.jits else viewer.principal.jits[0]
    return RedirectResponse(f"/ui/jits/{chosen}", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", viewer_of(request), next=_safe_next(next))


def sign_in_choices(request: Request) -> list[Any]:
    """The identity providers the log-in page offers ('Sign in with …')."""
    from services.kit.federation import Trust

    trust = getattr(request.app.state, "verifier", None)
    return trust.sign_in_choices() if isinstance(trust, Trust) else []


def _safe_next(target: str) -> str:
    """Only a path inside the UI: never an open redirect."""
    return target if target.startswith("/ui") and not target.startswith("//") else ""


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in with a demo account (when enabled) or a pasted bearer token; sets the cookie."""
    form = await _form(request)
    target = _safe_next(form.get("next", "")) or "/ui"
    token = form.get("token", "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if token:
        principal = verify(request, token)
        if principal is None:
            return render(
                request,
                "login.html",
                None,
                error="That token was refused: it is expired, forged or for another issuer.",
                status_code=401,
            )
    else:
        member = form.get("member", "")
        token_or_error = _demo_token(request, member, form.get("password", ""))
        if token_or_error[0] is None:
            return render(request, "login.html", None, error=token_or_error[1], status_code=401)
        token = token_or_error[0]
        principal = verify(request, token)
        assert principal is not None
    log.info("ui signed in", team=principal.team)
    response = RedirectResponse(target, status_code=303)
    claims_ttl = request.app.state.issuer.settings.token_ttl_seconds
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(claims_ttl),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(),
        path="/",
    )
    return response


def _demo_token(request: Request, member: str, password: str) -> tuple[str | None, str]:
    from services.demo import ACCOUNTS, JIT_ID

    if not demo_login_enabled():
        return None, "Demo log-in is switched off here; paste a token from your identity provider."
    account = next((a for a in ACCOUNTS if a.member == member), None)
    if account is None or password != DEMO_PASSWORD:
        return None, "Unknown demo account or wrong password."
    issuer: Issuer = request.app.state.issuer
    token = issuer.issue(
        member=account.member, team=account.team, jits=[JIT_ID], roles=account.roles
    )
    return token, ""


@router.get("/purpose")
async def purpose_page(request: Request, next: str = "") -> Response:
    """Where the member states why they read personal data (the audit records it with each read)."""
    viewer = viewer_of(request)
    if viewer is None:
        return _login_redirect(request)
    jit = viewer.principal.jits[0] if viewer.principal.jits else None
    return render(request, "purpose.html", viewer, jit=jit, next=_safe_next(next))


@router.post("/purpose")
async def state_purpose(request: Request) -> Response:
    """Keep the stated purpose for this browser session; every read of personal data carries it."""
    viewer = viewer_of(request)
    if viewer is None:
        return _login_redirect(request)
    form = await _form(request)
    target = _safe_next(form.get("next", "")) or "/ui"
    case, reason = form.get("case", "").strip(), form.get("reason", "").strip()
    if form.get("clear"):
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(PURPOSE_COOKIE, path="/", httponly=True, samesite="strict")
        return response
    errors = {}
    if not 1 <= len(case) <= 128:
        errors["case"] = "Give the case reference (1 to 128 characters)."
    if not 1 <= len(reason) <= 500:
        errors["reason"] = "Say why you need the personal data (1 to 500 characters)."
    if errors:
        jit = viewer.principal.jits[0] if viewer.principal.jits else None
        return render(
            request,
            "purpose.html",
            viewer,
            jit=jit,
            next=target,
            errors=errors,
            case=case,
            reason=reason,
            status_code=422,
        )
    log.info("ui purpose stated", team=viewer.team)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        PURPOSE_COOKIE,
        Purpose(case, reason).cookie(),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(),
        path="/",
    )
    return response


@router.post("/zone")
async def choose_zone(request: Request) -> Response:
    """Keep the zone the member reads and enters times in, for this browser."""
    form = await _form(request)
    target = _safe_next(form.get("next", "")) or "/ui"
    zone = form.get("zone", "")
    response = RedirectResponse(target, status_code=303)
    if zone in ZONE_CHOICES:
        response.set_cookie(
            ZONE_COOKIE, zone, httponly=True, samesite="strict", secure=cookie_secure(), path="/"
        )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(PURPOSE_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# ------------------------------------------------------------------------- live validation


@router.post("/validate/identifier")
async def validate_identifier(request: Request) -> HTMLResponse:
    """Normalise one identifier as the leads service will (htmx fragment: value or the error)."""
    form = await _form(request)
    fields = {key.rsplit(".", 1)[-1]: value for key, value in form.items()}
    kind = fields.get("kind", "")
    value = fields.get("value", "")
    country = fields.get("country", "").strip() or None
    if not value.strip():
        return HTMLResponse('<span class="hint">Enter a value to check it.</span>')
    try:
        identifier = Identifier.model_validate({"kind": kind, "value": value, "country": country})
    except ValidationError as exc:
        rows = problems(exc.errors(include_url=False))
        messages = " ".join(
            r["message"] if r["field"] in {"value", "(body)"} else f"{r['label']}: {r['message']}"
            for r in rows
        )
        return templates.TemplateResponse(
            request, "_validation.html", {"ok": False, "message": messages}
        )
    return templates.TemplateResponse(
        request, "_validation.html", {"ok": True, "identifier": identifier}
    )


# ----------------------------------------------------------------------------------- pages


@router.get("/jits/{jit}")
async def dashboard(jit: str, request: Request, partial: str = "") -> Response:
    """Open alerts, overdue tasks, new leads, recent hits and projection lag at a glance."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    leads, alerts, tasks, hits, health = await asyncio.gather(
        gateway.get(f"/jits/{jit}/leads", status="new", limit=10),
        gateway.get(f"/jits/{jit}/alerts", state="open", limit=50),
        gateway.get(f"/jits/{jit}/tasks", view="overdue"),
        gateway.get(f"/jits/{jit}/hits", limit=10),
        gateway.get("/health"),
    )
    open_alerts = sorted(
        (a for a in alerts.items() if _open_alert(a)),
        key=lambda a: (str(a.get("severity") or "P4"), _neg(a.get("raised_at"))),
    )
    name = "_dashboard.html" if partial else "dashboard.html"
    return render(
        request,
        name,
        viewer,
        jit=jit,
        section="dashboard",
        leads=leads,
        alerts=alerts,
        open_alerts=open_alerts,
        tasks=tasks,
        overdue=tasks.items(),
        hits=hits,
        lag=_lag(health),
    )


def _neg(value: Any) -> float:
    """Sort key: newest first."""
    when = _when(value)
    return -when.timestamp() if when else 0.0


def _open_alert(alert: dict[str, Any]) -> bool:
    """Whether an alert still waits for its desk (raised or escalated)."""
    state = alert.get("state") or alert.get("status") or "open"
    return str(state).lower() not in {"acknowledged", "resolved"}


def _lag(health: Reply) -> dict[str, Any] | None:
    if not health.ok or not isinstance(health.body, dict):
        return None
    for key in ("projection_lag", "projection", "projection_lag_seconds", "lag"):
        if key in health.body:
            found = health.body[key]
            if found is None:
                return {"seconds": None, "behind": None, "note": "measuring…"}
            if isinstance(found, dict) and "error" in found:
                return {"seconds": None, "behind": None, "note": "not measurable now"}
            if isinstance(found, dict):
                nested = found.get("lag")
                found = nested if isinstance(nested, dict) else found
                return {
                    "seconds": found.get("lag_seconds", found.get("seconds")),
                    "behind": found.get("behind_records"),
                }
            return {"seconds": found, "behind": None}
    return None


@router.get("/jits/{jit}/leads")
async def leads_inbox(
    jit: str, request: Request, status: str = "", q: str = "", partial: str = ""
) -> Response:
    """The leads the team may see, filtered by status and text, with triage actions."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    status = status if status in LEAD_STATUSES else ""
    leads = await gateway.get(f"/jits/{jit}/leads", status=status, limit=200)
    items = leads.items()
    if q:
        needle = q.lower()
        items = [lead for lead in items if needle in str(lead.get("summary", "")).lower()]
    return render(
        request,
        "_leads_list.html" if partial else "leads.html",
        viewer,
        jit=jit,
        section="leads",
        leads=leads,
        items=items,
        status=status,
        q=q,
        statuses=LEAD_STATUSES,
    )


@router.get("/jits/{jit}/leads/new")
async def lead_form(jit: str, request: Request) -> Response:
    """The lead form: grading, persons and identifiers, each identifier checked as it is typed."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, _ = session
    return render(
        request,
        "lead_form.html",
        viewer,
        jit=jit,
        section="new-lead",
        teams=jit_teams(request, jit, but=viewer.team),
        idempotency_key=f"ui-{uuid.uuid4()}",
        kinds=[k.value for k in IdentifierKind],
        roles=[r.value for r in PersonRole],
    )


@router.get("/jits/{jit}/leads/{lead_id}")
async def lead_detail(jit: str, lead_id: str, request: Request) -> Response:
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    lead = await gateway.get(f"/jits/{jit}/leads/{lead_id}", wait=READ_YOUR_WRITES_SECONDS)
    body = lead.body if lead.ok and isinstance(lead.body, dict) else {}
    teams = [body.get("originator") or viewer.team, *(body.get("shared_with") or [])]
    collaboration = (
        await _collaboration(viewer, gateway, jit, "lead", lead_id, teams) if lead.ok else {}
    )
    own = lead.ok and body.get("originator") == viewer.team
    hits = await gateway.get(f"/jits/{jit}/hits", lead=lead_id, limit=50) if own else None
    return render(
        request,
        "lead.html",
        viewer,
        jit=jit,
        section="leads",
        lead=lead,
        lead_id=lead_id,
        lead_hits=hits,
        status_code=404 if lead.status == 404 else 200,
        **collaboration,
    )


async def _collaboration(
    viewer: Viewer, gateway: Gateway, jit: str, kind: str, ref: str, audience: list[str]
) -> dict[str, Any]:
    """The thread and the evidence of a lead, task or operation, for its page's panels."""
    thread_id = f"{kind}:{ref}"
    thread, evidence = await asyncio.gather(
        gateway.get(f"/jits/{jit}/threads/{thread_id}"),
        gateway.get(f"/jits/{jit}/evidence", link_kind=kind, link_id=ref),
    )
    purpose = urlencode(viewer.purpose.params()) if viewer.purpose else ""
    return {
        "thread": thread,
        "thread_id": thread_id,
        "thread_stream": f"/jits/{jit}/threads/{thread_id}/stream?{purpose}",
        "evidence": evidence,
        "link_kind": kind,
        "link_id": ref,
        "audience": sorted(set(audience) - {viewer.team}),
        "purpose_query": purpose,
    }


@router.get("/jits/{jit}/tasks/{task_id}")
async def task_detail(jit: str, task_id: str, request: Request) -> Response:
    """What the receiving team is asked to do: the task, its linked records, thread and evidence."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    task = await gateway.get(f"/jits/{jit}/tasks/{task_id}")
    body = task.body if task.ok and isinstance(task.body, dict) else {}
    teams = [t for t in (body.get("team") or body.get("from_team"), body.get("to_team")) if t]
    collaboration = (
        await _collaboration(viewer, gateway, jit, "task", task_id, teams) if task.ok else {}
    )
    return render(
        request,
        "task.html",
        viewer,
        jit=jit,
        section="tasks",
        task=task,
        task_id=task_id,
        status_code=404 if task.status == 404 else 200,
        **collaboration,
    )


@router.get("/jits/{jit}/evidence/{evidence_id}")
async def evidence_detail(jit: str, evidence_id: str, request: Request) -> Response:
    """One evidence item: what it is, its marking and hashes, download, and its custody."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    item = await gateway.get(f"/jits/{jit}/evidence/{evidence_id}")
    custody = await gateway.get(f"/jits/{jit}/evidence/{evidence_id}/custody") if item.ok else None
    purpose = urlencode(viewer.purpose.params()) if viewer.purpose else ""
    body = item.body if item.ok and isinstance(item.body, dict) else {}
    holders = {body.get("originator"), *(body.get("releasable_to") or ())} - {None}
    teams = sorted(str(t) for t in holders - {body.get("custodian")})
    return render(
        request,
        "evidence.html",
        viewer,
        jit=jit,
        section="leads",
        item=item,
        custody=custody,
        evidence_id=evidence_id,
        download=f"/jits/{jit}/evidence/{evidence_id}/content?{purpose}",
        purpose_query=purpose,
        transfer_teams=teams,
        transfer_members=jit_members(request, jit, teams),
        status_code=404 if item.status == 404 else 200,
    )


@router.get("/jits/{jit}/tasks")
async def task_board(jit: str, request: Request, partial: str = "") -> Response:
    """Tasks to and from the team in columns, with the transitions the viewer may make."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    tasks = await gateway.get(f"/jits/{jit}/tasks")
    columns = [
        (key, title, [t for t in tasks.items() if str(t.get("status")) in statuses])
        for key, title, statuses in TASK_COLUMNS
    ]
    return render(
        request,
        "_task_board.html" if partial else "tasks.html",
        viewer,
        jit=jit,
        section="tasks",
        tasks=tasks,
        columns=columns,
        now=datetime.now(UTC),
    )


@router.get("/jits/{jit}/operations")
async def operations(jit: str, request: Request, partial: str = "") -> Response:
    """The team's (and shared) operations on a plot, the planner, and the conflicts."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    ops = await gateway.get(f"/jits/{jit}/operations", include_cancelled="true")
    conflicts = _conflicts(ops)
    return render(
        request,
        "_operations.html" if partial else "operations.html",
        viewer,
        jit=jit,
        section="operations",
        ops=ops,
        conflicts=conflicts,
        plot=_plot(ops.items(), conflicts),
        new_operation_id=f"op-{uuid.uuid4()}",
        can_plan=gateway.has(f"/jits/{jit}/operations", "POST"),
    )


def _conflicts(ops: Reply) -> list[dict[str, Any]]:
    """The operation conflicts the team may see, once each (the views nest them per operation)."""
    found: dict[str, dict[str, Any]] = {}
    for op in ops.items():
        for conflict in op.get("conflicts") or ():
            found.setdefault(str(conflict.get("id")), conflict)
    return sorted(found.values(), key=lambda c: str(c.get("detected_at") or ""), reverse=True)


def _conflict_sides(conflict: dict[str, Any]) -> list[dict[str, Any]]:
    """Both sides of a conflict as ``{team, operation_id, desk}``, from flat or nested fields."""
    if isinstance(conflict.get("sides"), list):
        return list(conflict["sides"])
    sides = []
    for side in ("side_a", "side_b"):
        if conflict.get(f"{side}_team"):
            sides.append(
                {
                    "team": conflict.get(f"{side}_team"),
                    "operation_id": conflict.get(f"{side}_operation"),
                    "desk": {
                        "name": conflict.get(f"{side}_desk_name"),
                        "phone": conflict.get(f"{side}_desk_phone"),
                        "email": conflict.get(f"{side}_desk_email"),
                    }
                    if conflict.get(f"{side}_desk_name")
                    else None,
                }
            )
    return sides


def _hit_sides(hit: dict[str, Any], team: str) -> dict[str, Any]:
    """Both sides of a hit as ``{team, desk, decision}``: ``mine`` and ``other``."""
    sides = {}
    for side in ("registering", "holding"):
        nested = hit.get(side)
        if isinstance(nested, dict):
            sides[side] = {
                "team": nested.get("team"),
                "desk": nested.get("desk"),
                "decision": nested.get("decision", "pending"),
            }
        else:
            sides[side] = {
                "team": hit.get(f"{side}_team"),
                "desk": {
                    "name": hit.get(f"{side}_desk_name"),
                    "phone": hit.get(f"{side}_desk_phone"),
                    "email": hit.get(f"{side}_desk_email"),
                }
                if hit.get(f"{side}_desk_name")
                else None,
            }
    mine = hit.get("our_side") or (
        "registering" if sides["registering"]["team"] == team else "holding"
    )
    other = "holding" if mine == "registering" else "registering"
    return {"other": sides[other], "mine": sides[mine]}


templates.env.globals["conflict_sides"] = _conflict_sides
templates.env.globals["hit_sides"] = _hit_sides


def _plot(ops: list[dict[str, Any]], conflicts: list[dict[str, Any]]) -> dict[str, Any]:
    """An equirectangular SVG plot of operation areas and conflict overlaps (no map tiles)."""
    import math

    shapes: list[dict[str, Any]] = []
    for op in ops:
        if op.get("status") == "cancelled":
            continue
        place: dict[str, Any] = op["place"] if isinstance(op.get("place"), dict) else op
        lat, lon, radius = place.get("latitude"), place.get("longitude"), place.get("radius_m")
        if lat is None or lon is None:
            continue
        shapes.append(
            {
                "lat": float(lat),
                "lon": float(lon),
                "r": float(radius or 100),
                "kind": "op",
                "label": op.get("id") or op.get("operation_id"),
                "team": op.get("team") or op.get("originator"),
            }
        )
    for conflict in conflicts:
        lat, lon = conflict.get("overlap_latitude"), conflict.get("overlap_longitude")
        if lat is None or lon is None:
            continue
        shapes.append(
            {
                "lat": float(lat),
                "lon": float(lon),
                "r": float(conflict.get("overlap_radius_m") or 50),
                "kind": "conflict",
                "label": "conflict",
                "team": "",
            }
        )
    metres_lat = 111_320.0
    if shapes:
        south = min(s["lat"] - s["r"] / metres_lat for s in shapes)
        north = max(s["lat"] + s["r"] / metres_lat for s in shapes)
        mid = math.cos(math.radians((south + north) / 2)) or 1e-6
        west = min(s["lon"] - s["r"] / (metres_lat * mid) for s in shapes)
        east = max(s["lon"] + s["r"] / (metres_lat * mid) for s in shapes)
        pad_lat, pad_lon = max((north - south) * 0.15, 0.002), max((east - west) * 0.15, 0.002)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
    else:
        south, west, north, east = 52.30, 4.80, 52.42, 5.00
        mid = math.cos(math.radians((south + north) / 2))
    width, height = 600.0, 400.0
    scale = min(width / ((east - west) * mid), height / (north - south))
    for s in shapes:
        s["x"] = round((s["lon"] - west) * mid * scale, 1)
        s["y"] = round((north - s["lat"]) * scale, 1)
        s["pr"] = max(round(s["r"] / metres_lat * scale, 1), 3.0)
    px_per_metre = scale / metres_lat
    bar = next(
        (
            m
            for m in (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
            if m * px_per_metre >= 80
        ),
        100_000,
    )
    return {
        "shapes": shapes,
        "bounds": [south, west, north, east],
        "scale": scale,
        "mid": mid,
        "bar": {
            "px": round(bar * px_per_metre, 1),
            "label": f"{bar // 1000} km" if bar >= 1000 else f"{bar} m",
        },
    }


@router.get("/jits/{jit}/hits")
async def hits(jit: str, request: Request, status: str = "", partial: str = "") -> Response:
    """Deconfliction hits of the team: the other side's desk, each side's decision on its
    details, and release or decline of ours, right from the list."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    status = status if status in HIT_STATUSES else ""
    found = await gateway.get(f"/jits/{jit}/hits", status=status, limit=200)
    return render(
        request,
        "_hits.html" if partial else "hits.html",
        viewer,
        jit=jit,
        section="hits",
        hits=found,
        status=status,
        statuses=HIT_STATUSES,
        can_release=gateway.has(f"/jits/{jit}/hits/{HIT_PROBE}/release", "POST"),
    )


@router.get("/jits/{jit}/desk")
async def alert_desk(jit: str, request: Request, partial: str = "") -> Response:
    """The team's rapid-response desk: live alerts, acknowledgement, countdown to escalation."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    alerts, handled, rules, overrides = await asyncio.gather(
        gateway.get(f"/jits/{jit}/alerts", state="open", limit=200),
        gateway.get(f"/jits/{jit}/alerts", state=["acknowledged", "resolved"], limit=10, wait="0"),
        gateway.get(f"/jits/{jit}/escalation") if not partial else _nothing(),
        gateway.get(f"/jits/{jit}/desks/escalation") if not partial else _nothing(),
    )
    stream = f"/desks/{viewer.team}/alerts/stream"
    watches = viewer.principal.has_role(*DESK_ROLES)
    items = sorted(
        (a for a in alerts.items() if _open_alert(a)),
        key=lambda a: (str(a.get("severity") or "P4"), _neg(a.get("raised_at"))),
    )
    cursor = alerts.body.get("cursor") if alerts.ok and isinstance(alerts.body, dict) else None
    live = gateway.has(stream) and watches
    return render(
        request,
        "_alerts.html" if partial else "desk.html",
        viewer,
        jit=jit,
        section="desk",
        alerts=alerts,
        items=items,
        handled=handled.items(),
        p1=next((a for a in items if a.get("severity") == "P1"), None),
        stream=(f"{stream}?{urlencode({'after': cursor})}" if cursor else stream) if live else "",
        stream_exists=gateway.has(stream),
        watches=watches,
        now=datetime.now(UTC),
        is_open=_open_alert,
        rules=rules.body if rules is not None and rules.ok else None,
        overrides=overrides.items() if overrides is not None else [],
        categories=ALERT_CATEGORIES,
    )


async def _nothing() -> None:
    return None


@router.get("/jits/{jit}/persons/{entity_id}")
async def person_card(jit: str, entity_id: str, request: Request) -> Response:
    """A suspect's (or any person's) card: identifiers, leads, operations, tasks, hits, alerts."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    card = await gateway.get(f"/jits/{jit}/persons/{entity_id}")
    return render(
        request,
        "person.html",
        viewer,
        jit=jit,
        section="graph",
        card=card,
        entity_id=entity_id,
        status_code=404 if card.status == 404 else 200,
    )


@router.get("/jits/{jit}/graph")
async def graph_explorer(
    jit: str,
    request: Request,
    focus: str = "",
    q: str = "",
    from_q: str = "",
    to_q: str = "",
    from_ref: str = "",
    to_ref: str = "",
) -> Response:
    """The suspect network around a person, expanded by clicking nodes (cytoscape.js), and the
    chain between two persons found by name (people type names, never ids)."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    search = await gateway.get(f"/jits/{jit}/search", q=q) if len(q.strip()) >= 2 else None
    probe = f"/jits/{jit}/persons/{focus or 'x'}/network"
    ends: dict[str, Any] = {}
    for side, typed, chosen in (("from", from_q, from_ref), ("to", to_q, to_ref)):
        ends[side] = {"q": typed, "ref": chosen, "choices": [], "reply": None}
        if chosen or len(typed.strip()) < 2:
            continue
        reply = await gateway.get(f"/jits/{jit}/search", q=typed)
        ends[side]["reply"] = reply
        persons = [r for r in reply.items() if r.get("kind") == "Person"] if reply.ok else []
        ends[side]["choices"] = persons
        if len(persons) == 1:
            ends[side]["ref"] = persons[0]["ref"]
    chain = None
    if ends["from"]["ref"] and ends["to"]["ref"]:
        chain = await gateway.get(
            f"/jits/{jit}/paths", **{"from": ends["from"]["ref"], "to": ends["to"]["ref"]}
        )
    return render(
        request,
        "graph.html",
        viewer,
        jit=jit,
        section="graph",
        focus=focus,
        q=q,
        search=search,
        ends=ends,
        chain=chain,
        steps=_chain_steps(chain.body) if chain is not None and chain.ok else [],
        network_available=gateway.has(probe),
    )


def _chain_steps(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The path as people read it: each node, then the relationship that leads to the next."""
    nodes = {n["id"]: n for n in found.get("nodes", [])}
    edges = found.get("edges", [])
    order = list(found.get("path", []))
    steps: list[dict[str, Any]] = []
    for here, there in zip(order, [*order[1:], None], strict=True):
        link = None
        if there is not None:
            link = next(
                (e for e in edges if {e["source"], e["target"]} == {here, there}),
                None,
            )
        steps.append({"node": nodes.get(here, {"label": here, "kind": ""}), "link": link})
    return steps


@router.get("/jits/{jit}/timeline")
async def timeline(jit: str, request: Request, kind: str = "") -> Response:
    """What happened in the JIT that the team may see, newest first."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    events = await gateway.get(f"/jits/{jit}/timeline", kind=kind, limit=300)
    return render(
        request, "timeline.html", viewer, jit=jit, section="timeline", events=events, kind=kind
    )


THREAD_PAGES = {"lead": "leads", "task": "tasks"}
"""Thread kinds whose record has a page carrying the thread (the others are read in the API)."""


@router.get("/jits/{jit}/mentions")
async def mentions(jit: str, request: Request) -> Response:
    """The messages that mention the viewer or their team's desk, newest first, each linked to
    the page of its thread."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    found = await gateway.get(f"/jits/{jit}/mentions")
    rows = []
    for m in reversed(found.body.get("mentions", []) if found.ok else []):
        kind, _, ref = str(m.get("thread_id", "")).partition(":")
        page = THREAD_PAGES.get(kind)
        link = f"/ui/jits/{jit}/{page}/{ref}#message-{m.get('message_id')}" if page else None
        rows.append({**m, "kind": kind, "ref": ref, "link": link})
    return render(
        request, "mentions.html", viewer, jit=jit, section="mentions", found=found, rows=rows
    )
