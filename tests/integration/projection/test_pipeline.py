"""The projection as it runs: events on real Kafka topics, the faust worker as a process, the
graph in the real Neo4j. Replays leave the graph identical; a rebuild from the log equals it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from neo4j import AsyncDriver

from events.directory import MemberRegistered
from events.leads import LeadSubmitted
from events.retention import RetentionExtended, ReviewDue, SubjectErased
from events.topics import DEAD_LETTER, LEAD_EVENTS
from services.kit.kafka import Publisher, admin_client, consumer_for, provision, watermarks
from services.kit.settings import Settings
from services.principals import provision_principals
from services.projection.agents import write
from services.projection.canonical import graph_digest, graph_lines
from services.projection.graph import IGNORED, STATEMENTS
from services.projection.lag import projection_lag
from services.projection.rebuild import clear_graph, rebuild
from services.projection.views import GraphViews
from services.supervisor import role_env
from tests.integration.projection.conftest import scope_of
from tests.support import infra
from tests.unit.projection.builders import Scenario

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EXPECTED_LABELS = {
    "Activity",
    "Alert",
    "Conflict",
    "DeconflictionHit",
    "Entity",
    "HitDetails",
    "Identifier",
    "JIT",
    "Lead",
    "Location",
    "Operation",
    "OperationConflict",
    "Organisation",
    "Person",
    "Registration",
    "RoleConflict",
    "Task",
    "Team",
}


@pytest.fixture(scope="module")
def projection_worker(projection_settings: Settings) -> Iterator[Settings]:
    """The projection worker as a process of its own, on this session's topics."""
    settings = projection_settings
    provision(settings)
    provision_principals(settings, admin_client(settings))  # the worker runs as svc-projection
    run_dir = Path(tempfile.mkdtemp(prefix="interlock-projection-"))
    env = role_env({k: v for k, v in os.environ.items() if not k.startswith("INTERLOCK_")})
    env.update(
        {
            **role_env(infra.kafka_client_env()),  # the admin's password left out
            "INTERLOCK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "INTERLOCK_NEO4J_URI": settings.neo4j_uri,
            "INTERLOCK_NEO4J_USER": settings.neo4j_user,
            "INTERLOCK_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
            "INTERLOCK_TOPIC_PREFIX": settings.topic_prefix,
            "INTERLOCK_PARTITIONS": str(settings.partitions),
            "INTERLOCK_READY_DIR": str(run_dir / "ready"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    log = (run_dir / "projection.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "projection"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while not (run_dir / "ready" / "projection").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = (run_dir / "projection.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"projection worker did not start:\n{tail}")
        time.sleep(0.2)
    try:
        yield settings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(run_dir, ignore_errors=True)


async def caught_up(settings: Settings, views: GraphViews, within: float = 30) -> dict[str, Any]:
    """Wait until the projection has written every record on its topics."""
    deadline = time.monotonic() + within
    while True:
        lag = await projection_lag(settings, views)
        if lag["behind_records"] == 0 and lag["newest_event_ms"] is not None:
            return lag
        if time.monotonic() > deadline:
            raise AssertionError(f"projection still behind after {within}s: {lag}")
        await asyncio.sleep(0.25)


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    consumer = consumer_for(
        settings,
        {
            "group.id": f"dl-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        },
    )
    topic = settings.topic(DEAD_LETTER.name)
    low, high = watermarks(consumer, topic, 0)
    consumer.assign([TopicPartition(topic, 0, low)])
    found: list[dict[str, Any]] = []
    while len(found) < high - low:
        msg = consumer.poll(5)
        if msg is None:
            break
        value = msg.value()
        if msg.error() is None and value is not None:
            found.append(json.loads(value))
    consumer.close()
    return found


async def test_events_from_kafka_project_replay_and_rebuild_to_the_same_graph(
    projection_worker: Settings, driver: AsyncDriver, views: GraphViews, scenario: Scenario
) -> None:
    """Every event type is projected from Kafka; replaying all of it, or one old event, leaves
    the graph identical; a rebuild from the log, and a direct write, give the same graph."""
    settings = projection_worker
    scope = scope_of(scenario)
    publisher = Publisher(settings)
    try:
        publisher.publish(scenario.envelopes)
        publisher.publish_raw(settings.topic(LEAD_EVENTS.name), b"poison", b"{not json")
        lag = await caught_up(settings, views)
        assert lag["lag_seconds"] == 0
        live = await graph_digest(driver, scope=scope)
        assert live.nodes > 50

        lines = await graph_lines(driver, scope=scope)
        labels = {
            label for line in lines if line.startswith('["node"') for label in json.loads(line)[1]
        }
        assert labels >= EXPECTED_LABELS

        publisher.publish(scenario.envelopes)
        await caught_up(settings, views)
        assert await graph_digest(driver, scope=scope) == live, "replaying the log changed it"

        submitted = next(e for e in scenario.envelopes if isinstance(e.data, LeadSubmitted))
        publisher.publish([submitted])
        await caught_up(settings, views)
        assert await graph_digest(driver, scope=scope) == live, "an old event overwrote newer"
        lead = await views.lead(
            team=submitted.originator, jit=scenario.jit, lead_id=submitted.subject
        )
        assert lead is not None
        assert lead["status"] == "closed"
    finally:
        publisher.close()

    report = await rebuild(settings, driver, scope=scope)
    assert report.digest == live, "the rebuilt graph differs from the live one"
    projected = sum(1 for e in scenario.envelopes if e.type in STATEMENTS)
    members = sum(1 for e in scenario.envelopes if isinstance(e.data, MemberRegistered))
    ignored = sum(1 for e in scenario.envelopes if e.type in IGNORED) - members
    assert report.projected == 2 * projected + 1
    assert report.ignored == 2 * ignored
    assert report.out_of_scope == 2 * members
    assert report.invalid == 1
    retention = {SubjectErased.type, ReviewDue.type, RetentionExtended.type}
    assert set(report.by_type) == set(STATEMENTS) - retention, "erasure: see test_erasure.py"

    await clear_graph(driver, scope=scope)
    await write(driver, scenario.envelopes)
    assert await graph_digest(driver, scope=scope) == live, "Kafka and a direct write differ"

    poison = [d for d in dead_letters(settings) if d["service"] == "projection"]
    assert len(poison) == 1
    assert poison[0]["reason"].startswith("not JSON")
