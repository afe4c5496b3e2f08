"""Session fixtures for the real Kafka and Neo4j used by tests/integration and tests/e2e.

Endpoints come from tests/support/infra.py (environment, testcontainers, or deploy/infra.sh).
When they cannot be had, the test fails on CI (CI=true) and is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest
from hypothesis import settings

from services.kit.identity import Issuer
from tests.support import infra
from tests.support.platform import Platform, platform_env

T = TypeVar("T")

settings.register_profile("interlock", deadline=None)
settings.load_profile("interlock")
"""Property tests check behaviour, not speed: no per-example deadline (a loaded machine made the
default 200 ms deadline fail tests that were right)."""


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


def roles() -> tuple[str, ...]:
    """Every process role of the registry (the workers, then the gateway)."""
    from services.roles import process_roles

    return process_roles()


@pytest.fixture(scope="session")
def platform(kafka_bootstrap: str, neo4j_auth: tuple[str, str, str]) -> Iterator[Platform]:
    """Interlock's services as real processes with topics of their own, started once per session
    for the integration and the end-to-end tests alike (the demo log-in on, the demo directory
    loaded)."""
    from services.admin import publish
    from services.demo import directory_records
    from services.provisioning import provision_all

    run_dir = Path(tempfile.mkdtemp(prefix="interlock-it-"))
    env = platform_env(kafka_bootstrap, neo4j_auth, run_dir)
    env["INTERLOCK_DEMO_LOGIN"] = "true"
    running = Platform(env=env, run_dir=run_dir)
    provision_all(running.settings)
    publish(running.settings, directory_records())
    started = roles()
    for role in started:
        running.start(role)
    try:
        running.wait_ready(started)
        yield running
    finally:
        running.stop_all()
    denied = refused_by_the_acls(run_dir)
    if os.environ.get("INTERLOCK_KEEP_LOGS") != "1":
        shutil.rmtree(run_dir, ignore_errors=True)
    assert not denied, "a service was refused by its Kafka ACLs (services/roles.py):\n" + "\n".join(
        denied[:20]
    )


def refused_by_the_acls(run_dir: Path) -> list[str]:
    """The lines of the services' logs where the broker refused a read or a write: a process
    role whose registry entry lacks a topic it uses, which only shows under real ACLs."""
    found = []
    for log in sorted(run_dir.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "authorization failed" in line.lower() or "authorizationfailed" in line.lower():
                found.append(f"{log.stem}: {line[:300]}")
    return found


@pytest.fixture(scope="session")
def issuer(platform: Platform) -> Iterator[Issuer]:
    """The local token issuer the session's gateway trusts; it registers in the directory every
    member it issues a token to (the gateway admits no one the directory does not know)."""
    from tests.support.directory import EnrollingIssuer

    enrolling = EnrollingIssuer(platform.settings)
    yield enrolling
    enrolling.close()
