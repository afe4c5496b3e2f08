"""HTTP plumbing shared by every service's router: the caller's principal, JIT checks, the
command bus, and turning command outcomes into responses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, ValidationError

from events.codec import envelop
from events.envelope import Command, Envelope, Payload
from events.handling import Handling
from events.outcomes import CommandAccepted, CommandRejected
from services.kit.commands import CommandBus
from services.kit.directory import DirectoryBook, DirectoryView, StaticDirectory
from services.kit.errors import PROBLEM_CONTENT_TYPE, label_of, problem_body, problems, summary
from services.kit.federation import Trust
from services.kit.identity import InvalidToken, Principal, Verifier
from services.kit.logging import get_logger

log = get_logger()

CommandT = TypeVar("CommandT", bound=Command)
bearer = HTTPBearer(auto_error=False, description="A JWT issued by the JIT's identity provider.")


def problem(
    status: int,
    reason: str,
    errors: Sequence[dict[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem that says what is wrong, and which field where there is one."""
    sent = dict(headers or {})
    if status == 401:
        sent.setdefault("WWW-Authenticate", 'Bearer realm="interlock"')
    return JSONResponse(
        problem_body(status, reason, errors, **extra),
        status_code=status,
        headers=sent or None,
        media_type=PROBLEM_CONTENT_TYPE,
    )


class ApiError(HTTPException):
    def __init__(
        self,
        status: int,
        reason: str,
        errors: Sequence[dict[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=reason, headers=dict(headers or {}) or None)
        self.errors = list(errors)


REFUSALS: dict[Any, frozenset[int]] = {}
"""Dependency → the statuses it refuses with, for the OpenAPI document (``refuses``)."""

DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])


def refuses(*statuses: int) -> Callable[[DependencyT], DependencyT]:
    """Declare the statuses a route dependency answers when it refuses (e.g. 428 for a missing
    justification), so every route that depends on it documents them."""

    def declare(dependency: DependencyT) -> DependencyT:
        REFUSALS[dependency] = frozenset(statuses)
        return dependency

    return declare


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller; 401 for a missing, expired or forged token (logged, token never)."""
    token = credentials.credentials if credentials else request.cookies.get("interlock_token")
    if not token:
        _auth_failed(request, "missing bearer token")
        raise ApiError(401, "authentication required: send a bearer token")
    verifier: Verifier | Trust = request.app.state.verifier
    try:
        principal = verifier.verify(token)
    except InvalidToken as exc:
        _auth_failed(request, exc.reason)
        raise ApiError(exc.status, exc.reason) from None
    request.state.principal = principal
    return principal


def _auth_failed(request: Request, reason: str) -> None:
    log.warning(
        "authentication failed",
        reason=reason,
        path=request.url.path,
        client=request.client.host if request.client else None,
    )
    recorder = getattr(request.app.state, "security_events", None)
    if recorder is not None:
        recorder("authentication_failed", reason=reason, path=request.url.path)


def refuse(request: Request, principal: Principal, reason: str) -> ApiError:
    """A 403, logged as a refused authorisation."""
    log.warning(
        "authorisation refused",
        reason=reason,
        team=principal.team,
        path=request.url.path,
    )
    recorder = getattr(request.app.state, "security_events", None)
    if recorder is not None:
        recorder(
            "authorisation_refused",
            reason=reason,
            path=request.url.path,
            member=principal.member,
            team=principal.team,
        )
    return ApiError(403, reason)


def admitted(book: DirectoryBook, principal: Principal, jit: str | None) -> Principal | None:
    """The caller as the directory knows them, or None when it does not admit them.

    A token only says who the caller claims to be: the member must be registered, active and of
    the token's team, and (for a JIT's route) the team a member team of the JIT and the JIT one of
    the member's. Roles and JITs come from the directory, never from the token's claims (an
    issuer trusted with roles may only narrow the directory's).
    """
    member = book.member(principal.member)
    if member is None or member.team != principal.team:
        return None
    jits = tuple(j for j in member.jits if book.is_member(principal.team, j))
    if jit is not None and jit not in jits:
        return None
    roles = tuple(r.value for r in member.roles)
    if principal.roles_from_token:
        roles = tuple(r for r in roles if r in principal.roles)
    return principal.model_copy(update={"roles": roles, "jits": jits})


class Authorize:
    """A route's one authorization rule, declared on the route as its dependency.

    The caller's token is verified, then the caller is admitted by the directory (the compacted
    topic, as :func:`admitted` reads it): on a route with ``{jit}``, the team must be a member
    team of that JIT and the member one of its members; with ``roles``, the member must hold one
    of them in the directory. A refusal is a 403 that names only the caller's own standing.
    """

    def __init__(self, *roles: str, jit: bool = True) -> None:
        self.roles = roles
        self.jit = jit

    async def __call__(self, request: Request, principal: Caller) -> Principal:
        jit = request.path_params.get("jit") if self.jit else None
        if self.jit and not jit:
            raise ApiError(500, "route declares a JIT rule but has no {jit}")
        directory: DirectoryView | StaticDirectory = request.app.state.directory
        book = await directory.fresh(jit=jit, member=principal.member)
        granted = admitted(book, principal, jit)
        if granted is None:
            # The directory may be a moment behind a change that admits the caller: catch up once.
            await asyncio.to_thread(directory.catch_up)
            granted = admitted(directory.book, principal, jit)
        if granted is None:
            where = f"a member of JIT {jit}" if jit else "a registered member"
            raise refuse(
                request, principal, f"{principal.member} of {principal.team} is not {where}"
            )
        if self.roles and not granted.has_role(*self.roles):
            raise refuse(request, principal, f"needs one of the roles {', '.join(self.roles)}")
        request.state.principal = granted
        return granted

    def __repr__(self) -> str:
        return f"Authorize(roles={self.roles}, jit={self.jit})"


class StepUp:
    """A sensitive act's rule: the caller admitted to the route's ``{jit}`` (:class:`Authorize`)
    *and* recently authenticated, with a second factor where their issuer asks for one.

    Recent means ``auth_time`` within the issuer's ``max_age`` (``INTERLOCK_STEP_UP_MAX_AGE`` by
    default); a second factor means an ``acr`` among the issuer's ``acr_values`` or an ``amr``
    among its ``amr_values``. Otherwise 401 with ``WWW-Authenticate: Bearer
    error="insufficient_user_authentication"`` and the ``max_age``/``acr_values`` to
    authenticate with again (RFC 9470). Declared as :data:`Sensitive` on the route.
    """

    def __init__(self, act: str = "this act") -> None:
        self.act = act

    async def __call__(self, request: Request, principal: JitMember) -> Principal:
        trust = request.app.state.verifier
        policy = trust.step_up(principal.issuer) if isinstance(trust, Trust) else None
        if policy is None:
            return principal
        max_age = int(policy.max_age or 0)
        now = time.time()
        missing = []
        if principal.auth_time is None or now - principal.auth_time > max_age + trust.leeway:
            missing.append(f"an authentication within the last {max_age} s")
        if policy.second_factor and not (
            (principal.acr is not None and principal.acr in policy.acr_values)
            or set(principal.amr).intersection(policy.amr_values)
        ):
            missing.append("a second factor")
        if not missing:
            return principal
        reason = f"{self.act} needs {' and '.join(missing)}: sign in again"
        _auth_failed(request, reason)
        challenge = f'Bearer error="insufficient_user_authentication", error_description="{reason}"'
        challenge += f", max_age={max_age}"
        if policy.acr_values:
            challenge += f', acr_values="{" ".join(policy.acr_values)}"'
        raise ApiError(401, reason, headers={"WWW-Authenticate": challenge})

    def __repr__(self) -> str:
        return f"StepUp({self.act!r})"


def rule_of(dependant: Any) -> Authorize | None:
    """The :class:`Authorize` rule among a route's dependencies (searched depth-first), if any."""
    for dep in getattr(dependant, "dependencies", ()):
        if isinstance(dep.call, Authorize):
            return dep.call
        found = rule_of(dep)
        if found is not None:
            return found
    return None


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of ``app`` with the dependencies it runs, included routers' routes too.

    FastAPI includes routers lazily: ``app.router.routes`` holds one entry per included router,
    so a check that walks it sees only the app's own few routes and passes vacuously. Each item
    answers like an :class:`~fastapi.routing.APIRoute` (``path_format``, ``methods``,
    ``dependant`` with the router's dependencies, ``response_class``, ``include_in_schema``).
    """
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]


Caller = Annotated[Principal, Depends(current_principal)]
"""A verified token only: not a rule on its own (use :data:`JitMember` or :class:`Authorize`)."""

JitMember = Annotated[Principal, Depends(Authorize())]
"""The caller, admitted by the directory to the route's ``{jit}``."""

Member = Annotated[Principal, Depends(Authorize(jit=False))]
"""The caller, a registered and active member (routes without a JIT)."""

Sensitive = Annotated[Principal, Depends(StepUp())]
"""The caller, admitted to the route's ``{jit}`` and recently authenticated (:class:`StepUp`):
releasing details after a hit, erasure, exporting evidence or a package."""


def command_bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.command_bus
    return bus


Bus = Annotated[CommandBus, Depends(command_bus)]
"""For routes that answer with the outcome, or 202 while it is pending (:func:`dispatch`)."""


def deciding_bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.command_bus
    return bus


DecidingBus = Annotated[CommandBus, Depends(deciding_bus)]
"""For routes whose answer needs the decision (a file after its download is recorded, a message
shown in its thread): they wait for it (:func:`decided`) and never answer 202."""


async def decided(bus: CommandBus, envelope: Envelope, *, service: str) -> CommandAccepted:
    """Send a command and wait for its decision: the acceptance, or its refusal raised with the
    refusal's status; 503 when ``service`` did not answer in time."""
    outcome = await bus.send(envelope)
    if outcome is None:
        raise ApiError(503, f"the {service} service did not answer in time; try again")
    if isinstance(outcome, CommandRejected):
        raise ApiError(
            outcome.status,
            outcome.reason,
            [{"field": e.field, "message": e.message} for e in outcome.errors],
        )
    return outcome


def build_command(model: type[CommandT], **fields: Any) -> CommandT:
    """Build a command, turning a refusal of its own checks into a 422 that names the field."""
    try:
        return model(**fields)
    except ValidationError as exc:
        rows = problems(exc.errors(include_url=False), prefix=("body",))
        raise ApiError(422, summary(rows), rows) from None


def require_teams(request: Request, jit: str, fields: Mapping[str, Iterable[str]]) -> None:
    """422 unless every team code in ``fields`` (field name → codes) is a team of ``jit``.

    The message names each unknown code and the JIT's teams, so a typo is caught at once
    instead of sharing a record with a team that does not exist.
    """
    directory: DirectoryView | StaticDirectory | None = getattr(
        request.app.state, "directory", None
    )
    if directory is None:
        raise ApiError(503, "the directory is not available; retry shortly")
    wanted = {f: list(codes) for f, codes in fields.items()}
    if any(directory.book.unknown_teams(jit, codes) for codes in wanted.values()):
        directory.catch_up()
    book = directory.book
    listed = ", ".join(sorted(book.teams_of(jit))) or "(none: the JIT is not registered)"
    errors = [
        {"field": field, "message": f"{code} is not a team of {jit}: {listed}"}
        for field, codes in wanted.items()
        for code in book.unknown_teams(jit, codes)
    ]
    if errors:
        raise ApiError(422, "; ".join(e["message"] for e in errors), errors)


def require_readers(request: Request, readers: Iterable[str], teams: Iterable[str]) -> None:
    """422 unless every named reader of a TLP:RED record is an active member of one of ``teams``
    (the record's audience): naming someone outside it would widen nothing, and is a mistake."""
    directory: DirectoryView | StaticDirectory = request.app.state.directory
    allowed = set(teams)
    errors = []
    for reader in readers:
        member = directory.book.member(reader)
        if member is None or member.team not in allowed:
            message = f"{reader} is not a member of a team the record is released to"
            errors.append({"field": "body.readers", "message": message})
    if errors:
        raise ApiError(422, "; ".join(e["message"] for e in errors), errors)


def command_envelope(
    payload: Payload,
    *,
    principal: Principal,
    jit: str,
    subject: str,
    source: str = "/interlock/gateway",
    releasable_to: Sequence[str] = (),
    handling: Handling | None = None,
    request: Request | None = None,
) -> Envelope:
    if request is not None and releasable_to:
        require_teams(request, jit, {"body.releasable_to": releasable_to})
    if request is not None and handling is not None and handling.readers:
        require_readers(request, handling.readers, {principal.team, *releasable_to})
    correlation = (request.headers.get("x-correlation-id") if request else None) or str(
        uuid.uuid4()
    )
    return envelop(
        payload,
        subject=subject,
        jit=jit,
        originator=principal.team,
        source=source,
        correlation_id=correlation[:128],
        releasable_to=frozenset(releasable_to),
        handling=handling,
    )


def preferred_wait(request: Request | None) -> float | None:
    """How long the caller wants to wait for an outcome (RFC 7240 ``Prefer``), if it said so.

    ``Prefer: respond-async`` answers 202 as soon as the broker has the command;
    ``Prefer: wait=2`` waits at most two seconds (never longer than the configured timeout).
    """
    if request is None:
        return None
    prefer = request.headers.get("prefer", "").lower()
    if "respond-async" in prefer:
        return 0.0
    for part in prefer.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name == "wait":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


async def dispatch(
    bus: CommandBus,
    command: Envelope,
    *,
    created: bool = False,
    body: dict[str, Any] | None = None,
    request: Request | None = None,
) -> JSONResponse:
    """Send a command and answer with its outcome: 201/200, the refusal's status, or 202."""
    outcome = await bus.send(command, timeout=preferred_wait(request))
    base = {
        "command_id": command.id,
        "correlation_id": command.correlation_id,
        **(body or {}),
    }
    status_url = f"/commands/{command.correlation_id}"
    if outcome is None:
        return JSONResponse(
            {**base, "status": "pending", "status_url": status_url},
            status_code=202,
            headers={"Location": status_url},
        )
    return outcome_response(outcome, base, created=created)


def outcome_response(
    outcome: CommandAccepted | CommandRejected,
    base: dict[str, Any],
    *,
    created: bool = False,
) -> JSONResponse:
    if isinstance(outcome, CommandRejected):
        return problem(
            outcome.status,
            outcome.reason,
            [
                {"field": e.field, "label": label_of(e.field.split(".")), "message": e.message}
                for e in outcome.errors
            ],
            **base,
        )
    status = 201 if created and outcome.events else 200
    return JSONResponse(
        {**base, "status": "accepted", "events": list(outcome.events)},
        status_code=status,
    )


def _in_utc(value: datetime | None) -> datetime | None:
    """A time in UTC: one without a zone is read as UTC. ISO 8601 allows offsets that Neo4j
    refuses (beyond ±18:00: the fuzz test's ``+20:24`` was a 500), so only UTC goes further."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of the range of times") from None


def _with_offset(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give the UTC offset, e.g. 2026-11-28T09:00:00Z")
    return _in_utc(value)


UtcTime = Annotated[datetime | None, AfterValidator(_in_utc)]
"""A query time for the UI's reads and the auditor's search: ISO 8601, UTC when no zone is given;
always handed on in UTC. A bad one is a 422 that names its parameter."""

OffsetTime = Annotated[datetime | None, AfterValidator(_with_offset)]
"""A query time from a national system: its UTC offset is required (a zone guessed across
borders is an hour wrong), then handed on in UTC."""
