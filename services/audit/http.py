"""Accountability at the gateway: a stated purpose for every read of personal data, an audit
record per successful consultation and per security event, and the auditor's search.

``install(app, settings)`` is the one hook the gateway calls: it registers the limits, the
consultation log, the security-event recorder (``app.state.security_events``, called by
``services.kit.web`` on every failed authentication and refused authorisation) and the router.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from confluent_kafka import KafkaError, KafkaException, Message
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from events.audit import AuditKind, AuditRecorded, ChainLink, Justification
from events.codec import encode, partition_key
from events.envelope import ID_PATTERN
from events.topics import AUDIT
from services.audit import domain
from services.audit.limits import BodyLimit, RateLimit
from services.audit.store import chain_values
from services.kit.identity import Principal
from services.kit.kafka import new_producer, producer_config
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.web import ApiError, Authorize, JitMember, UtcTime

log = get_logger()
router = APIRouter(tags=["audit"])

CASE_HEADER = "X-Justification-Case"
REASON_HEADER = "X-Justification-Reason"
AUDITOR = "auditor"
Auditor = Annotated[Principal, Depends(Authorize(AUDITOR))]
"""An auditor of the route's JIT."""
JIT_IN_PATH = re.compile(r"^/jits/([^/]+)")
MISUSE_MARKS = ("expired", "invalid_claim", "aud", "iss")
"""Refusal reasons of a genuine token used where or when it must not be: token misuse."""


class AuditSink:
    """Queues audit records for the audit topic without blocking the event loop.

    Delivery is confirmed by librdkafka in the background (idempotent producer, acks=all); a
    record that cannot be queued is logged as lost, never as its content.
    """

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topic(AUDIT.name)
        self.producer = new_producer(producer_config(settings))
        self.lost = 0

    def _done(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self.lost += 1
            log.error("audit record not delivered", error=err.str())

    def record(self, record: AuditRecorded, *, correlation_id: str | None = None) -> str:
        record_id = str(uuid.uuid4())
        env = domain.envelope_of(record, id=record_id, correlation_id=correlation_id or record_id)
        try:
            self.producer.produce(
                self.topic, key=partition_key(env), value=encode(env), on_delivery=self._done
            )
        except (BufferError, KafkaException) as exc:
            self.lost += 1
            log.error("audit record not queued", kind=record.kind, error=str(exc))
        self.producer.poll(0)
        return record_id

    def close(self) -> None:
        self.producer.flush(10)


def _jit_of(path: str) -> str | None:
    found = JIT_IN_PATH.match(path)
    if found and re.match(ID_PATTERN, found.group(1)):
        return found.group(1)
    return None


def security_kind(kind: str, reason: str) -> AuditKind:
    """Authentication failure, refused authorisation or token misuse, from the kit's report."""
    if kind == "authorisation_refused":
        return AuditKind.AUTHORISATION_REFUSED
    if any(mark in reason for mark in MISUSE_MARKS):
        return AuditKind.TOKEN_MISUSE
    return AuditKind.AUTHENTICATION_FAILED


def security_recorder(sink: AuditSink) -> Callable[..., None]:
    """The ``app.state.security_events`` callback: one audit record per event, never a token."""

    def record(kind: str, **fields: Any) -> None:
        try:
            reason = str(fields.get("reason") or "")[:500]
            path = str(fields.get("path") or "")[:190]
            member = fields.get("member")
            sink.record(
                AuditRecorded(
                    kind=security_kind(kind, reason),
                    at=datetime.now(UTC),
                    member=member if isinstance(member, str) else None,
                    team=fields.get("team"),
                    jit=_jit_of(path),
                    operation=path or "(unknown)",
                    reason=reason or None,
                )
            )
        except (ValidationError, ValueError, KafkaException):
            log.exception("security event not recorded", kind=kind)

    return record


# ----------------------------------------------------------------------------- justification


@dataclass(frozen=True)
class Consultation:
    """A read to be logged once it has succeeded."""

    justification: Justification | None


CaseHeader = Annotated[
    str | None,
    Header(alias=CASE_HEADER, max_length=128, description="Case reference the read serves."),
]
ReasonHeader = Annotated[
    str | None,
    Header(alias=REASON_HEADER, max_length=500, description="Why the personal data is needed."),
]
CaseQuery = Annotated[
    str | None,
    Query(max_length=128, description=f"As {CASE_HEADER}, for links and event streams."),
]
ReasonQuery = Annotated[
    str | None,
    Query(max_length=500, description=f"As {REASON_HEADER}, for links and event streams."),
]


REQUIRES_JUSTIFICATION = frozenset(
    {
        "/jits/{jit}/leads/{lead_id}",
        "/jits/{jit}/persons/{person_id}",
        "/jits/{jit}/persons/{person_id}/network",
        "/jits/{jit}/paths",
        "/jits/{jit}/search",
        "/jits/{jit}/export.ftm",
        "/jits/{jit}/threads/{thread_id}",
        "/jits/{jit}/threads/{thread_id}/stream",
    }
)
"""Reads of personal data that are refused without a stated purpose (lead detail, suspect card,
network, path, search, export). Other reads of the views router (lists, operations, timeline)
are logged with their purpose when one is given."""


def _template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path_format", None) or request.url.path)


async def consultation(
    request: Request,
    principal: JitMember,
    case: CaseHeader = None,
    reason: ReasonHeader = None,
    purpose_case: CaseQuery = None,
    purpose_reason: ReasonQuery = None,
) -> Justification | None:
    """The stated purpose of a read; 428 naming what is missing where the route requires one.

    Depends on the caller so that a missing token is a 401 before it is a 428. The read is
    logged (``ConsultationLog``) once it has succeeded.
    """
    case_text = (case or purpose_case or "").strip()
    reason_text = (reason or purpose_reason or "").strip()
    missing = [
        (header, param)
        for text, header, param in (
            (case_text, CASE_HEADER, "purpose_case"),
            (reason_text, REASON_HEADER, "purpose_reason"),
        )
        if not text
    ]
    if missing and _template(request) in REQUIRES_JUSTIFICATION:
        names = " and ".join(h for h, _ in missing)
        raise ApiError(
            428,
            f"justification required to read personal data: missing {names} "
            "(or the query parameters purpose_case and purpose_reason)",
            [{"field": f"header.{h}", "message": f"required (or query.{q})"} for h, q in missing],
        )
    justification = None if missing else Justification(case=case_text, reason=reason_text)
    request.state.consultation = Consultation(justification)
    return justification


Consulted = Depends(consultation)
"""Add to a router that reads personal data: ``include_router(views, dependencies=[Consulted])``."""


class ConsultationLog:
    """Records a consultation for every successful (2xx/3xx) read that declared one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def capture(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, capture)
        state = scope.get("state") or {}
        note = state.get("consultation")
        principal = state.get("principal")
        if not isinstance(note, Consultation) or not isinstance(principal, Principal):
            return
        if not 200 <= status < 400:
            return
        sink: AuditSink | None = getattr(scope["app"].state, "audit_sink", None)
        if sink is None:
            return
        try:
            sink.record(consultation_record(scope, principal, note))
        except (ValidationError, ValueError):
            log.exception("consultation not recorded", path=scope.get("path"))


def consultation_record(scope: Scope, principal: Principal, note: Consultation) -> AuditRecorded:
    """What was read (the route and the ids in its path and id parameters), by whom, and why."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or scope.get("path", "")
    params: dict[str, Any] = dict(scope.get("path_params") or {})
    jit = params.pop("jit", None)
    ids = [str(v) for v in params.values()]
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    ids += [query[k] for k in ("from", "to") if k in query]
    return AuditRecorded(
        kind=AuditKind.CONSULTATION,
        at=datetime.now(UTC),
        member=principal.member,
        team=principal.team,
        jit=jit if isinstance(jit, str) and re.match(ID_PATTERN, jit) else None,
        operation=f"{scope.get('method', 'GET')} {template}"[:200],
        object_ids=tuple(i[:128] for i in dict.fromkeys(ids))[: domain.MAX_IDS],
        justification=note.justification,
    )


# ----------------------------------------------------------------------------- auditor search


def _links(settings: Settings) -> list[ChainLink]:
    return [ChainLink.model_validate_json(v) for v in chain_values(settings)]


@router.get("/jits/{jit}/audit", summary="Search the JIT's audit log (auditors only)")
async def search_audit(
    jit: str,
    request: Request,
    principal: Auditor,
    member: Annotated[str | None, Query(max_length=128, description="Who did it.")] = None,
    kind: Annotated[AuditKind | None, Query(description="The operation.")] = None,
    since: Annotated[
        UtcTime, Query(alias="from", description="From (ISO 8601; UTC if no zone).")
    ] = None,
    until: Annotated[
        UtcTime, Query(alias="to", description="Before (ISO 8601; UTC if no zone).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """The JIT's audit records, oldest first, with their place in the chain; 403 unless the
    caller is an auditor of the JIT."""
    settings: Settings = request.app.state.audit_settings
    links = await asyncio.to_thread(_links, settings)
    items = [
        {"sequence": link.sequence, "hash": link.hash, "record_id": link.record_id, **link.record}
        for link in links
        if domain.matches(
            link.record,
            jit=jit,
            member=member,
            kind=kind.value if kind else None,
            since=since,
            until=until,
        )
    ]
    request.state.consultation = Consultation(
        Justification(case=f"audit:{jit}", reason="auditor search of the audit log")
    )
    return {"items": items[:limit], "count": len(items), "chain_length": len(links)}


# ----------------------------------------------------------------------------- the gateway hook


def install(app: FastAPI, settings: Settings) -> None:
    """Wire accountability into the gateway: limits, consultation log, security events, search."""
    sink = AuditSink(settings)
    app.state.audit_sink = sink
    app.state.audit_settings = settings
    app.state.security_events = security_recorder(sink)
    app.include_router(router)
    app.add_middleware(ConsultationLog)
    app.add_middleware(RateLimit)
    app.add_middleware(BodyLimit)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            try:
                yield state
            finally:
                sink.close()

    app.router.lifespan_context = lifespan
