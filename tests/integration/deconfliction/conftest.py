"""Fixtures for the deconfliction integration tests: the deconfliction worker, a fresh JIT of
three teams with desks, and a reader of the session's deconfliction event topic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.platform import Platform

from .support import EventLog, Jit, register_jit


@pytest.fixture(scope="module")
def deconfliction(platform: Platform) -> Platform:
    """The platform with the deconfliction worker running (started here if the session did not)."""
    if "deconfliction" not in platform.processes:
        platform.start("deconfliction")
    platform.wait_ready(["deconfliction"])
    return platform


@pytest.fixture(scope="module")
def events(deconfliction: Platform) -> Iterator[EventLog]:
    """A reader of the session's deconfliction event topic."""
    log = EventLog(deconfliction)
    try:
        yield log
    finally:
        log.close()


@pytest.fixture
def jit(deconfliction: Platform, issuer: Any) -> Jit:
    """A fresh JIT of NL, RO and DE teams, each with a desk in the directory."""
    return register_jit(deconfliction, issuer)
