"""The gateway's OpenAPI document says what each route answers when it refuses.

FastAPI documents a route's success and a 422 for its parameters; a national system's generated
client also needs every refusal the route can answer, with the body it carries. The statuses are
read off what the route declares (its dependencies, its path and its body), so a new route is
documented by the same rules as the old ones and a new rule is one entry here:

- a verified caller (any :class:`~services.kit.web.Authorize` rule or a bare token check): 401;
- an authorization rule: 403;
- an id in the path besides the JIT and the team: 404 (unknown, or not visible to the caller:
  the two are one answer, so that a refusal never confirms a record exists);
- parameters or a body: 422; a body: 413 (over the size limit);
- a command sent on the bus: 409 when the record's state refuses it, 503 when the service does
  not answer; 202 while the outcome is pending, on the routes that answer before it
  (``Bus``; ``DecidingBus`` routes wait for the decision);
- a read of personal data that requires a stated purpose: 428;
- whatever a dependency declares with :func:`kit.web.refuses` (an evidence act's justification:
  428);
- every route but ``/health``: 429 (the per-principal rate limit).

Every error is an RFC 9457 ``application/problem+json`` document (:func:`kit.errors.problem_body`),
given once as the ``Problem`` schema; server-sent event streams are ``text/event-stream``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from sse_starlette import EventSourceResponse

from services.audit.http import REQUIRES_JUSTIFICATION, consultation
from services.audit.limits import EXEMPT_PATHS
from services.kit.errors import PROBLEM_CONTENT_TYPE
from services.kit.web import (
    REFUSALS,
    Authorize,
    api_routes,
    command_bus,
    current_principal,
    deciding_bus,
)

SCOPE_PARAMS = frozenset({"jit", "team"})
"""Path parameters that scope a route rather than name a record: a wrong one is a 403."""

REASONS = {
    202: "Accepted: the command is on the bus and its outcome is not known yet; poll the "
    "``Location`` (``/commands/{correlation_id}``).",
    401: "No valid token: missing, expired, forged, or from an issuer not trusted for the "
    "team. ``WWW-Authenticate`` says what to send.",
    403: "The caller may not do this: not a member of the JIT, not of the team, or without "
    "the role the route requires.",
    404: "No such record, or one the caller's team may not see (the same answer).",
    409: "The record's state refuses the command (already done, taken, or erased).",
    413: "The request body is over the size limit.",
    422: "The request is malformed; ``errors`` names each field and what is wrong with it.",
    428: "Reading personal data needs a stated purpose: the ``X-Interlock-Case`` and "
    "``X-Interlock-Reason`` headers (or ``purpose_case`` and ``purpose_reason``).",
    429: "Too many requests from this principal; ``Retry-After`` says when to try again.",
    503: "A service the request needs did not answer in time; try again.",
}

REPEATED = (
    "The same command was sent before (the same idempotency key): it is accepted again, nothing "
    "new is created, and ``events`` is empty."
)

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document. ``error`` repeats ``detail`` for clients of "
    "the first API version; command refusals also carry ``command_id`` and ``correlation_id``.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "error"],
    "properties": {
        "type": {"type": "string", "description": "Always ``about:blank``: the status says it."},
        "title": {"type": "string", "description": "The HTTP status's phrase."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What is wrong, in plain words."},
        "error": {"type": "string", "description": "The same as ``detail``."},
        "errors": {
            "type": "array",
            "description": "One row per field at fault.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "e.g. ``body.identifiers.0``"},
                    "label": {"type": "string", "description": "The field as people name it."},
                    "message": {"type": "string"},
                },
            },
        },
        "command_id": {"type": "string"},
        "correlation_id": {"type": "string"},
    },
    "additionalProperties": True,
}

SSE_CONTENT = {
    "text/event-stream": {
        "schema": {
            "type": "string",
            "description": "Server-sent events (WHATWG HTML §9.2); each event's ``id`` resumes "
            "the stream when sent back as ``Last-Event-ID``.",
        }
    }
}


def _calls(dependant: Dependant) -> list[Any]:
    found: list[Any] = []
    for dep in dependant.dependencies:
        found.append(dep.call)
        found.extend(_calls(dep))
    return found


def error_statuses(route: Any) -> set[int]:
    """The refusals ``route`` can answer, read off what it declares."""
    calls = _calls(route.dependant)
    statuses: set[int] = set()
    if current_principal in calls:
        statuses.add(401)
    if any(isinstance(call, Authorize) for call in calls):
        statuses |= {401, 403}
    if {p.name for p in route.dependant.path_params} - SCOPE_PARAMS:
        statuses.add(404)
    dependant = route.dependant
    if dependant.path_params or dependant.query_params or dependant.header_params:
        statuses.add(422)
    if dependant.body_params:
        statuses |= {413, 422}
    if command_bus in calls or deciding_bus in calls:
        statuses |= {409, 422, 503}
    if consultation in calls and route.path_format in REQUIRES_JUSTIFICATION:
        statuses.add(428)
    for call in calls:
        statuses |= REFUSALS.get(call, frozenset())
    if route.path_format not in EXEMPT_PATHS:
        statuses.add(429)
    return statuses


def _problem_response(status: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    description = (declared or {}).get("description") or REASONS.get(status, "Refused")
    if status == 422 or description in {"Validation Error", "Successful Response"}:
        description = REASONS.get(status, description)
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _document_route(route: Any, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(error_statuses(route) | {int(s) for s in responses if s[0] in "45"}):
        responses[str(status)] = _problem_response(status, responses.get(str(status)))
    calls = _calls(route.dependant)
    if route.status_code == 201 and (command_bus in calls or deciding_bus in calls):
        responses.setdefault(
            "200",
            {
                "description": REPEATED,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        )
    if command_bus in calls:
        responses.setdefault(
            "202",
            {
                "description": REASONS[202],
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        )
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    if isinstance(response_class, type) and issubclass(response_class, EventSourceResponse):
        success = str(route.status_code or 200)
        responses[success] = {
            "description": responses.get(success, {}).get("description", "The stream"),
            "content": SSE_CONTENT,
        }


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with every route's refusals, built once per app."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = doc.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _document_route(route, operation)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = doc
    return doc
