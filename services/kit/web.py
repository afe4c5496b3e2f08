"""HTTP plumbing shared by every service's router: the caller's principal, JIT checks, the
command bus, and turning command outcomes into responses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from events.codec import envelop
from events.envelope import Command, Envelope, Payload
from events.handling import Handling
from events.outcomes import CommandAccepted, CommandRejected
from services.kit.commands import CommandBus
from services.kit.errors import label_of, problems, summary
from services.kit.identity import InvalidToken, Principal, Verifier
from services.kit.logging import get_logger

log = get_logger()

CommandT = TypeVar("CommandT", bound=Command)
bearer = HTTPBearer(auto_error=False, description="A JWT issued by the JIT's identity provider.")


def problem(
    status: int, reason: str, errors: Sequence[dict[str, str]] = (), **extra: Any
) -> JSONResponse:
    """An error body that says what is wrong, and which field where there is one."""
    body: dict[str, Any] = {"error": reason, **extra}
    if errors:
        body["errors"] = list(errors)
    headers = {"WWW-Authenticate": 'Bearer realm="interlock"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class ApiError(HTTPException):
    def __init__(self, status: int, reason: str, errors: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(status_code=status, detail=reason)
        self.errors = list(errors)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller; 401 for a missing, expired or forged token (logged, token never)."""
    token = credentials.credentials if credentials else request.cookies.get("interlock_token")
    if not token:
        _auth_failed(request, "missing bearer token")
        raise ApiError(401, "authentication required: send a bearer token")
    verifier: Verifier = request.app.state.verifier
    try:
        principal = verifier.verify(token)
    except InvalidToken as exc:
        _auth_failed(request, exc.reason)
        raise ApiError(401, exc.reason) from None
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


def member_of(request: Request, principal: Principal, jit: str) -> None:
    """403 unless the caller's team works in ``jit``."""
    if jit not in principal.jits:
        raise refuse(request, principal, f"team {principal.team} is not a member of JIT {jit}")


def require_role(request: Request, principal: Principal, *roles: str) -> None:
    if not principal.has_role(*roles):
        raise refuse(request, principal, f"needs one of the roles {', '.join(roles)}")


Caller = Annotated[Principal, Depends(current_principal)]


def command_bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.command_bus
    return bus


Bus = Annotated[CommandBus, Depends(command_bus)]


def build_command(model: type[CommandT], **fields: Any) -> CommandT:
    """Build a command, turning a refusal of its own checks into a 422 that names the field."""
    try:
        return model(**fields)
    except ValidationError as exc:
        rows = problems(exc.errors(include_url=False), prefix=("body",))
        raise ApiError(422, summary(rows), rows) from None


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
