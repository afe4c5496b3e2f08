"""Fixtures for the audit suite: the platform with the audit worker, a reader of the chained
log, and members who state a purpose."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from events.audit import ChainLink
from services.audit.store import chain_values
from tests.support.platform import Platform

PURPOSE = {"X-Justification-Case": "CASE-2026-017", "X-Justification-Reason": "lead review"}


@pytest.fixture(scope="module")
def audited(platform: Platform) -> Platform:
    """The session's platform with the audit worker running."""
    if "audit" not in platform.processes:
        platform.start("audit")
    platform.wait_ready(["audit"])
    return platform


def chain(platform: Platform) -> list[ChainLink]:
    return [ChainLink.model_validate_json(v) for v in chain_values(platform.settings)]


def records(
    platform: Platform,
    where: Callable[[dict[str, Any]], bool],
    *,
    count: int = 1,
    timeout: float = 30,
) -> list[dict[str, Any]]:
    """Chained audit records matching ``where``, once at least ``count`` are there."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [link.record for link in chain(platform) if where(link.record)]
        if len(found) >= count:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{len(found)} of {count} audit records within {timeout}s: {found[:3]}")
