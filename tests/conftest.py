"""Session fixtures for the real Kafka and Neo4j used by tests/integration and tests/e2e.

Endpoints come from tests/support/infra.py (environment, testcontainers, or deploy/infra.sh).
When they cannot be had, the test fails on CI (CI=true) and is skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn, TypeVar

import pytest

from tests.support import infra

T = TypeVar("T")


def _unavailable(what: str, reason: str) -> NoReturn:
    message = f"{what} unavailable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _get(what: str, provider: Callable[[], T]) -> T:
    try:
        return provider()
    except infra.NotProvidedError as exc:  # the infra is fine, it just lacks this feature
        pytest.skip(f"{what} not provided: {exc}")
    except infra.InfraUnavailableError as exc:
        _unavailable(what, str(exc))


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of a real Kafka 4.x broker (PLAINTEXT, full rights)."""
    return _get("Kafka", infra.kafka_endpoint)


@pytest.fixture(scope="session")
def neo4j_auth() -> tuple[str, str, str]:
    """``(uri, user, password)`` of a real Neo4j 5.26 database with authentication on."""
    return _get("Neo4j", infra.neo4j_endpoint)


@pytest.fixture(scope="session")
def kafka_sasl() -> infra.SaslEndpoint:
    """The SCRAM-SHA-512 listener with the admin (super user) credentials."""
    return _get("Kafka SASL listener", infra.kafka_sasl_endpoint)
