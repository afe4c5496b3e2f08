"""A small client for the gateway, as a national system or a member's browser would use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from services.kit.identity import Issuer


class Member:
    """A member's authenticated session against the gateway."""

    def __init__(
        self,
        base_url: str,
        issuer: Issuer,
        *,
        member: str,
        team: str,
        jits: tuple[str, ...],
        roles: tuple[str, ...] = ("investigator",),
    ) -> None:
        self.team = team
        self.member = member
        token = issuer.issue(member=member, team=team, jits=jits, roles=roles)
        self.http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "X-Justification-Case": "TEST-CASE",
                "X-Justification-Reason": "integration test of the platform",
            },
            timeout=20,
        )

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(path, json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params or None)  # {} would drop a query in path


def eventually(check: Callable[[], Any], *, timeout: float = 20, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns a truthy value; the projection is eventually consistent."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last result: {last!r}")


def lead_body(key: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": key,
        "source": "ngo",
        "summary": "Workers housed at a farm; passports held by the employer.",
        "reliability": "B",
        "credibility": "2",
        "persons": [{"name": "Ion Popescu", "role": "suspect", "date_of_birth": "1984-03-02"}],
        "identifiers": [
            {"kind": "phone", "value": "+40 721 555 123", "person": 0},
            {"kind": "iban", "value": "RO49 AAAA 1B31 0075 9384 0000"},
        ],
    }
    body.update(overrides)
    return body
