"""Session fixtures for integration tests: the platform's process roles on real Kafka and Neo4j."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.platform import Platform, platform_env

ROLES = ("leads", "projection", "gateway")
"""Roles every integration session runs; suites that need more start them with ``platform.start``."""


@pytest.fixture(scope="session")
def platform(kafka_bootstrap: str, neo4j_auth: tuple[str, str, str]) -> Iterator[Platform]:
    """Interlock's services as real processes, with topics of their own for this session."""
    from services.cli import provision_all

    run_dir = Path(tempfile.mkdtemp(prefix="interlock-it-"))
    running = Platform(env=platform_env(kafka_bootstrap, neo4j_auth, run_dir), run_dir=run_dir)
    provision_all(running.settings)
    for role in ROLES:
        running.start(role)
    try:
        running.wait_ready(ROLES)
        yield running
    finally:
        running.stop_all()


@pytest.fixture(scope="session")
def issuer(platform: Platform):  # type: ignore[no-untyped-def]
    """The local token issuer the session's gateway trusts."""
    from services.kit.identity import Issuer

    return Issuer(platform.settings)
