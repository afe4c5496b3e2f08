"""What each domain event is recorded as, the justification contract and the gateway limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from events.audit import AuditKind
from events.codec import envelop
from events.directory import JitRegistered, MemberRegistered, Role
from events.leads import LeadTriaged
from services.admin import jit_record, member_record
from services.audit import domain
from services.audit.http import consultation, security_kind
from services.audit.limits import BodyLimit, RateLimit
from services.kit.directory import DirectoryBook, StaticDirectory
from services.kit.identity import Principal
from services.kit.web import ApiError, problem


def triaged() -> Any:
    return envelop(
        LeadTriaged(lead_id="lead-1", by="anna", assignee="anna", priority="urgent"),
        subject="lead-1",
        jit="jit-1",
        originator="NL-KLPD",
        source="/t",
        correlation_id="c",
    )


def test_domain_events_are_classified() -> None:
    """Submissions are collections, hits combinations, transitions alterations, plumbing nothing."""
    assert domain.kind_of("interlock.lead.submitted") is AuditKind.COLLECTION
    assert domain.kind_of("interlock.deconfliction.hit_detected") is AuditKind.COMBINATION
    assert domain.kind_of("interlock.task.accepted") is AuditKind.ALTERATION
    assert domain.kind_of("interlock.alert.delivered") is None
    assert domain.kind_of("interlock.command.accepted") is None


def test_a_transition_is_recorded_with_ids_and_who() -> None:
    """A triage becomes an alteration by its member, about the lead, at the event's time."""
    env = triaged()
    record = domain.derive(env)
    assert record is not None
    assert record.kind is AuditKind.ALTERATION
    assert record.member == "anna" and record.team == "NL-KLPD" and record.jit == "jit-1"
    assert record.object_ids == ("lead-1",)
    assert record.at == env.time and record.cause_id == env.id
    assert domain.record_id(env.id) == domain.record_id(env.id)


def test_a_disclosure_names_the_recipient() -> None:
    """A feed record becomes a disclosure to that team."""
    record = domain.disclosure(triaged(), "RO-DIICOT", at=datetime.now(UTC))
    assert record.kind is AuditKind.DISCLOSURE and record.recipients == ("RO-DIICOT",)


def test_expired_tokens_are_misuse_and_forgeries_failures() -> None:
    """A genuine token used after expiry or for another audience is misuse; garbage is a failure."""
    assert security_kind("authentication_failed", "token refused: expired_token") is (
        AuditKind.TOKEN_MISUSE
    )
    assert security_kind("authentication_failed", "malformed bearer token") is (
        AuditKind.AUTHENTICATION_FAILED
    )
    assert security_kind("authorisation_refused", "x") is AuditKind.AUTHORISATION_REFUSED


def _app() -> FastAPI:
    def principal(request: Request) -> Principal:
        found = Principal.model_validate({"sub": "anna", "team": "NL-KLPD", "jits": ["j"]})
        request.state.principal = found
        return found

    router = APIRouter()

    @router.get("/jits/{jit}/persons/{person_id}")
    async def card(jit: str, person_id: str) -> dict[str, str]:
        return {"id": person_id}

    @router.get("/jits/{jit}/timeline")
    async def timeline(jit: str) -> dict[str, str]:
        return {}

    app = FastAPI()
    from services.kit.web import current_principal

    app.dependency_overrides[current_principal] = principal
    app.state.directory = StaticDirectory(
        DirectoryBook.of(
            [
                jit_record(
                    JitRegistered(
                        jit_id="j",
                        name="j",
                        legal_basis="agreement",
                        coordinator_team="NL-KLPD",
                        member_teams=("NL-KLPD",),
                        starts_on=date(2026, 1, 1),
                    )
                ),
                member_record(
                    MemberRegistered(
                        member_id="anna",
                        team="NL-KLPD",
                        display_name="Anna",
                        roles=(Role.INVESTIGATOR,),
                        jits=("j",),
                    )
                ),
            ]
        )
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), exc.errors)

    app.include_router(router, dependencies=[Depends(consultation)])
    return app


def test_a_card_without_a_purpose_is_refused_naming_the_headers() -> None:
    """428 names both headers when both are missing, and only the missing one otherwise."""
    client = TestClient(_app())
    bare = client.get("/jits/j/persons/p1")
    assert bare.status_code == 428
    assert "X-Justification-Case and X-Justification-Reason" in bare.json()["error"]
    half = client.get("/jits/j/persons/p1", headers={"X-Justification-Case": "C1"})
    assert half.status_code == 428
    assert "missing X-Justification-Reason " in half.json()["error"]
    ok = client.get("/jits/j/persons/p1", params={"purpose_case": "C1", "purpose_reason": "check"})
    assert ok.status_code == 200
    assert client.get("/jits/j/timeline").status_code == 200


def test_bodies_over_the_limit_are_refused_with_413() -> None:
    """A declared or streamed body over the limit is 413 with a JSON error; smaller ones pass."""
    app = FastAPI()

    @app.post("/x")
    async def x(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    client = TestClient(BodyLimit(app, max_bytes=100))
    assert client.post("/x", content=b"a" * 100).json() == {"n": 100}
    big = client.post("/x", content=b"a" * 101)
    assert big.status_code == 413 and "100-byte limit" in big.json()["error"]
    streamed = client.post("/x", content=iter([b"a" * 60, b"a" * 60]))
    assert streamed.status_code == 413


def test_rate_limit_is_per_principal_with_retry_after() -> None:
    """A token's burst is spent, then 429 with Retry-After; another token is unaffected; the
    bucket refills with time."""
    now = [0.0]
    app = FastAPI()

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {}

    client = TestClient(RateLimit(app, rate=2, burst=3, clock=lambda: now[0]))
    a = {"Authorization": "Bearer token-a"}
    assert [client.get("/x", headers=a).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = client.get("/x", headers=a)
    assert refused.headers["Retry-After"] == "1"
    assert "rate limit" in json.loads(refused.text)["error"]
    assert client.get("/x", headers={"Authorization": "Bearer token-b"}).status_code == 200
    now[0] = 1.0
    assert client.get("/x", headers=a).status_code == 200
