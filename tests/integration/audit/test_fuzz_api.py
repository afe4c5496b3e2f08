"""Hostile input over HTTP: every operation of the gateway's OpenAPI document, fuzzed by
schemathesis against the running gateway with a real member's token. No 5xx; every status and
media type is one the document declares for that operation; every 4xx is an RFC 9457 problem
whose ``detail`` says what is wrong."""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    status_code_conformance,
)

from services.kit.identity import Issuer
from tests.support.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

JIT = f"jit-fuzz-{uuid.uuid4().hex[:6]}"
TEAM = "NL-KLPD"
MAX_EXAMPLES = int(os.environ.get("INTERLOCK_FUZZ_EXAMPLES", "8"))
"""Per operation (about 45 operations): 8 in ``make test``, 100 in ``make test-long``."""


def errors_name_the_problem(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answers with an RFC 9457 problem whose ``detail`` is a non-empty message."""
    if 400 <= response.status_code < 500:
        found = response.headers.get("content-type") or [""]  # schemathesis: name -> values
        media = found[0] if isinstance(found, list) else found
        assert media.startswith("application/problem+json"), (
            f"{response.status_code} is {media!r}, not a problem document"
        )
        body = response.json()
        assert isinstance(body, dict), f"{response.status_code} body is not a JSON object"
        detail = body.get("detail")
        assert isinstance(detail, str) and detail.strip(), (
            f"{response.status_code} without a detail: {str(body)[:200]}"
        )
        assert body.get("status") == response.status_code, f"status member {body.get('status')}"
    return None


def test_no_operation_fails_on_hostile_input(audited: Platform, issuer: Issuer) -> None:
    """Whatever schemathesis sends to any operation, the gateway answers below 500, and every
    4xx names the problem."""
    schema = schemathesis.openapi.from_url(audited.base_url + "/openapi.json").exclude(
        path_regex=r"/stream$"
    )
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as
        )  # found, and one slow operation cannot hold the suite for minutes of minimisation
        def fuzz(case: Any) -> None:
            _call(case, audited, issuer)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert operations > 30
    assert not failures, "\n\n".join(failures)


ROLES = ("investigator", "coordinator", "desk_officer", "auditor")
MEMBERS = [f"fuzz-{uuid.uuid4().hex[:6]}" for _ in range(48)]
"""Members the directory knows, enrolled once; each call is one of them in turn, so that no
principal meets its rate limit and no call waits for an enrolment."""
_turn = itertools.count()


def _enrolled(issuer: Issuer) -> None:
    enroll = getattr(issuer, "enroll", None)
    if enroll is not None and not getattr(issuer, "_fuzz_enrolled", False):
        for member in MEMBERS:
            enroll(member=member, team=TEAM, jits=(JIT,), roles=ROLES)
        issuer._fuzz_enrolled = True  # type: ignore[attr-defined]


def _call(case: Any, platform: Platform, issuer: Issuer) -> None:
    params = case.path_parameters or {}
    if "jit" in params and hash(repr(sorted(params.items()))) % 2:
        case.path_parameters["jit"] = JIT
    _enrolled(issuer)
    member = MEMBERS[next(_turn) % len(MEMBERS)]
    token = Issuer.issue(issuer, member=member, team=TEAM, jits=(JIT,), roles=ROLES)
    headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    response = case.call(base_url=platform.base_url, headers=headers, timeout=15)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            errors_name_the_problem,
        ],
        headers=headers,
    )
