"""Retention periods set over HTTP, as a coordinator or team lead would from the UI: the gateway
writes them to the directory as its own service principal, and every reader sees them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.retention.conftest import OWNER, members
from tests.support.api import eventually
from tests.support.platform import Platform

pytestmark = pytest.mark.integration


def _period(member: Any, jit: str, category: str) -> dict[str, Any]:
    answer = member.get(f"/jits/{jit}/retention/policies")
    assert answer.status_code == 200, answer.text
    return next(p for p in answer.json()["policies"] if p["category"] == category)


def test_a_coordinator_sets_and_shortens_a_period_only_when_confirmed(
    platform: Platform, issuer: Any, jit: str
) -> None:
    coordinator, investigator, _ = members(platform, issuer, jit)
    url = f"/jits/{jit}/retention/policies/victims"

    longer = coordinator.http.put(url, json={"keep_days": 3650, "review_days": 60})
    assert longer.status_code == 200, longer.text
    eventually(lambda: _period(coordinator, jit, "victims")["keep_days"] == 3650, timeout=30)
    assert _period(coordinator, jit, "victims")["set_for"] == "jit"
    assert _period(coordinator, jit, "victims")["set_by"] == "anna"

    shorter = {"keep_days": 400, "review_days": 30}
    refused = coordinator.http.put(url, json=shorter)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "body.confirm_shorter"
    confirmed = coordinator.http.put(url, json={**shorter, "confirm_shorter": True})
    assert confirmed.status_code == 200, confirmed.text
    eventually(lambda: _period(coordinator, jit, "victims")["keep_days"] == 400, timeout=30)

    team = investigator.http.put(url, json={"keep_days": 5000, "review_days": 0, "team": OWNER})
    assert team.status_code == 403, team.text
    assert _period(investigator, jit, "victims")["keep_days"] == 400
