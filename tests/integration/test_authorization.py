"""One authorization check, read from the directory, on every route of the running gateway.

The routes are enumerated from the gateway's own OpenAPI document, so a new route family is
covered the moment it exists. Each is called, with correctly signed tokens, by:

- a member of a team the directory does not list in the JIT, although the token's ``jits``
  claim and the member's own record name it;
- a member the directory has since marked inactive (removed from the JIT).

Both are refused with 403 before any input is read; ``GET /commands/{id}`` answers only the
team that sent the command, and nobody without a token.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from events.directory import JitRegistered, MemberRegistered, Role
from services.admin import jit_record, member_record, publish
from services.kit.directory import DirectoryView
from tests.support.api import Member, lead_body
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

NL, RO, OUTSIDER = "NL-KLPD", "RO-DIICOT", "FR-OCRTEH"
PARAM = re.compile(r"\{([^}]+)\}")
SKIPPED_PREFIXES = ("/ui", "/static")
"""Pages call the same endpoints in process with the viewer's token (see the unit test
tests/unit/kit/test_authorization_rules.py)."""


@pytest.fixture(scope="module")
def jit(platform: Platform) -> str:
    jit_id = f"jit-{uuid.uuid4().hex[:8]}"
    record = JitRegistered(
        jit_id=jit_id,
        name="Authorization test",
        legal_basis="test",
        coordinator_team=NL,
        member_teams=(NL, RO),
        starts_on=date(2026, 1, 1),
    )
    publish(platform.settings, [jit_record(record)])
    return jit_id


def _token_client(platform: Platform, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=platform.base_url,
        headers={
            "Authorization": f"Bearer {token}",
            "X-Justification-Case": "TEST-CASE",
            "X-Justification-Reason": "authorization test",
        },
        timeout=20,
    )


def _registered(platform: Platform, record: MemberRegistered) -> None:
    """Publish a member record and wait until a directory reader has it."""
    publish(platform.settings, [member_record(record)])
    view = DirectoryView(platform.settings, name=f"authz-{uuid.uuid4().hex[:6]}")
    try:
        view.wait_loaded(60)
        deadline = time.monotonic() + 30
        while view.book.members.get(record.member_id) != record and time.monotonic() < deadline:
            view.catch_up()
            time.sleep(0.1)
    finally:
        view.stop()


@pytest.fixture(scope="module")
def outsider(platform: Platform, issuer: Any, jit: str) -> Iterator[httpx.Client]:
    """FR-OCRTEH's member, whose own record and token name the JIT; the JIT does not list FR."""
    member = f"fr-{uuid.uuid4().hex[:6]}"
    roles = ("investigator", "coordinator", "team_lead", "auditor", "desk_officer")
    _registered(
        platform,
        MemberRegistered(
            member_id=member,
            team=OUTSIDER,
            display_name=member,
            roles=tuple(Role(r) for r in roles if r in Role._value2member_map_),
            jits=(jit,),
        ),
    )
    token = issuer.issue(member=member, team=OUTSIDER, jits=(jit,), roles=roles, enroll=False)
    with _token_client(platform, token) as client:
        yield client


@pytest.fixture(scope="module")
def removed(platform: Platform, issuer: Any, jit: str) -> Iterator[httpx.Client]:
    """An NL member whose token is still valid, marked inactive in the directory since."""
    member = f"nl-{uuid.uuid4().hex[:6]}"
    roles = ("investigator", "coordinator")
    token = issuer.issue(member=member, team=NL, jits=(jit,), roles=roles)
    with _token_client(platform, token) as client:
        assert client.get(f"/jits/{jit}/leads").status_code == 200, "admitted before removal"
        record = MemberRegistered(
            member_id=member,
            team=NL,
            display_name=member,
            roles=(Role.INVESTIGATOR, Role.COORDINATOR),
            jits=(jit,),
            active=False,
        )
        publish(platform.settings, [member_record(record)])
        published = time.monotonic()
        while client.get(f"/jits/{jit}/leads").status_code != 403:
            assert time.monotonic() - published < 30, "the removal never reached the gateway"
            time.sleep(0.01)
        print(f"directory propagation: {(time.monotonic() - published) * 1000:.0f} ms")
        yield client


def _routes(platform: Platform) -> list[tuple[str, str]]:
    document = httpx.get(f"{platform.base_url}/openapi.json", timeout=20).json()
    out = []
    for path, operations in document["paths"].items():
        if path.startswith(SKIPPED_PREFIXES):
            continue
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                out.append((method.upper(), path))
    return sorted(out)


def _filled(path: str, jit: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "jit":
            return jit
        if name == "team":
            return NL
        if name == "kind":
            return "lead"
        if name == "category":
            return "leads"
        return str(uuid.uuid4())

    return PARAM.sub(value, path)


def _refusals(client: httpx.Client, routes: list[tuple[str, str]], jit: str) -> list[str]:
    wrong = []
    for method, path in routes:
        url = _filled(path, jit)
        if method in {"GET", "DELETE"}:
            response = client.request(method, url)
        else:
            response = client.request(method, url, json={})
        if response.status_code != 403:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    return wrong


def test_a_team_outside_the_jit_is_refused_on_every_jit_route(
    platform: Platform, outsider: httpx.Client, jit: str
) -> None:
    """The token's claim and the member's own record do not make FR a team of the JIT."""
    routes = [(m, p) for m, p in _routes(platform) if "{jit}" in p]
    assert len(routes) > 30, "the OpenAPI document lists the gateway's JIT routes"
    assert _refusals(outsider, routes, jit) == []


def test_a_member_removed_from_the_directory_is_refused_on_every_route(
    platform: Platform, removed: httpx.Client, jit: str
) -> None:
    """Removal takes effect at once, on JIT routes and on the others (feeds, commands)."""
    public = {("GET", "/health"), ("GET", "/.well-known/jwks.json")}
    routes = [r for r in _routes(platform) if r not in public]
    assert _refusals(removed, routes, jit) == []


def test_a_commands_outcome_answers_only_the_team_that_sent_it(
    platform: Platform, issuer: Any, jit: str
) -> None:
    """Another team gets exactly the answer of an unknown id; a caller without a token a 401."""
    anna = Member(platform.base_url, issuer, member="anna", team=NL, jits=(jit,))
    ioana = Member(platform.base_url, issuer, member="ioana", team=RO, jits=(jit,))
    correlation = str(uuid.uuid4())
    sent = anna.http.post(
        f"/jits/{jit}/leads",
        json=lead_body(f"authz-{uuid.uuid4()}"),
        headers={"X-Correlation-Id": correlation},
    )
    assert sent.status_code == 201, sent.text
    lead_id = sent.json()["lead_id"]
    mine = anna.get(f"/commands/{correlation}")
    assert mine.status_code == 200 and mine.json()["status"] == "accepted", mine.text

    other = ioana.get(f"/commands/{correlation}")
    unknown = ioana.get(f"/commands/{uuid.uuid4()}")
    assert other.status_code == unknown.status_code == 202, other.text
    assert other.json()["status"] == unknown.json()["status"] == "pending"
    assert other.text.replace(correlation, "") == unknown.text.replace(
        unknown.json()["correlation_id"], ""
    ), "another team's answer differs from an unknown id's"
    assert lead_id not in other.text and NL not in other.text
    anonymous = httpx.get(f"{platform.base_url}/commands/{correlation}", timeout=20)
    assert anonymous.status_code == 401, anonymous.text
