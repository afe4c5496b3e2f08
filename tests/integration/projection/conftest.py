"""Fixtures for projection tests on the real Neo4j (and Kafka): a driver, the views, and scopes
that delete exactly what a test wrote."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from neo4j import AsyncDriver, AsyncGraphDatabase

from services.kit.settings import Settings
from services.projection.agents import ensure_schema
from services.projection.canonical import Scope
from services.projection.rebuild import clear_graph
from services.projection.views import GraphViews
from tests.support import infra
from tests.unit.projection.builders import Scenario, full_scenario


@pytest.fixture(scope="session")
def projection_settings(kafka_bootstrap: str, neo4j_auth: tuple[str, str, str]) -> Settings:
    """Settings with a topic prefix of this session's own."""
    uri, user, password = neo4j_auth
    return Settings.model_validate(
        {
            **infra.kafka_client_env(),  # the admin on the test broker
            "INTERLOCK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "INTERLOCK_NEO4J_URI": uri,
            "INTERLOCK_NEO4J_USER": user,
            "INTERLOCK_NEO4J_PASSWORD": password,
            "INTERLOCK_TOPIC_PREFIX": f"proj{uuid.uuid4().hex[:8]}.",
            "INTERLOCK_PARTITIONS": "3",
        }
    )


@pytest.fixture(scope="session")
async def driver(neo4j_auth: tuple[str, str, str]) -> AsyncIterator[AsyncDriver]:
    """An async driver with the projection's constraints and indexes in place."""
    uri, user, password = neo4j_auth
    found = AsyncGraphDatabase.driver(uri, auth=(user, password))
    await ensure_schema(found)
    yield found
    await found.close()


@pytest.fixture(scope="session")
def views(driver: AsyncDriver) -> GraphViews:
    return GraphViews(driver)


def scope_of(scenario: Scenario) -> Scope:
    return Scope(jits=frozenset({scenario.jit}), teams=frozenset(scenario.teams))


@pytest.fixture
async def scenario(driver: AsyncDriver) -> AsyncIterator[Scenario]:
    """A fresh JIT scenario with every event type; its nodes are deleted after the test."""
    found = full_scenario()
    yield found
    await clear_graph(driver, scope=scope_of(found))
