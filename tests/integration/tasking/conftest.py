"""Fixtures for the tasking integration tests: the tasking worker, members of three teams of a
fresh JIT, and a reader of the session's task event topic."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import Member
from tests.support.platform import Platform

from .support import DE, NL, RO, TaskEventLog, Teams


@pytest.fixture(scope="module")
def task_events(tasking: Platform) -> Iterator[TaskEventLog]:
    """A reader of the session's task event topic."""
    log = TaskEventLog(tasking)
    try:
        yield log
    finally:
        log.close()


@pytest.fixture(scope="module")
def tasking(platform: Platform) -> Platform:
    """The platform with the tasking worker running (started here if the session did not)."""
    if "tasking" not in platform.processes:
        platform.start("tasking")
    platform.wait_ready(["tasking"])
    return platform


@pytest.fixture
def teams(tasking: Platform, issuer: Any) -> Teams:
    """A fresh JIT with an investigator from each of NL, RO and DE."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"

    def member(name: str, team: str) -> Member:
        return Member(tasking.base_url, issuer, member=name, team=team, jits=(jit,))

    return Teams(jit, member("anna", NL), member("ioana", RO), member("jonas", DE))
