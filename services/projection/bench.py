"""Projection throughput next to a raw ``UNWIND … MERGE`` baseline, in the same run.

    python -m services.projection.bench --events 20000 --batch 1000 [--kafka --rate 2000]

*direct*: the projection's own statements (``agents.write``), batch by batch, straight to Neo4j.
*raw*: ``UNWIND $rows MERGE (n:BenchNode {id}) SET n += props`` with the same batch size: the
ceiling for one MERGE per row. *kafka* (optional): events published to fresh topics, the
projection worker as its own process, lag sampled until it has caught up.
Everything written is deleted afterwards. Not a test: numbers go to stdout (and ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from events.codec import envelop
from events.envelope import Envelope, Event
from events.identifiers import Identifier, IdentifierKind, Person, PersonRole
from events.leads import (
    EntityObserved,
    InformationCredibility,
    LeadSubmitted,
    SourceReliability,
    SourceType,
)
from events.tasking import InformationRequest, TaskAccepted, TaskLinks, TaskPriority, TaskRequested
from services.kit.graphdb import async_driver
from services.kit.settings import Settings, load_settings
from services.projection.agents import ensure_schema, write
from services.projection.canonical import Scope
from services.projection.rebuild import clear_graph

NAMESPACE = uuid.UUID("0f5b8c1e-2d3a-4e6f-9a7b-8c9d0e1f2a3b")


def synthetic_log(events: int, jit: str, teams: tuple[str, str]) -> list[Envelope]:
    """A JIT's log: leads with two persons and three identifiers each (one shared across
    leads), and a task requested and accepted for every fifth lead."""
    a, b = teams
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out: list[Envelope] = []

    def emit(payload: Event, subject: str, originator: str, version: int) -> None:
        env = envelop(
            payload,
            subject=subject,
            jit=jit,
            originator=originator,
            source="/interlock/bench",
            correlation_id=subject,
            releasable_to=frozenset({a, b}) - {originator},
            aggregate_version=version,
        )
        out.append(env.model_copy(update={"time": start + timedelta(milliseconds=len(out))}))

    i = 0
    while len(out) < events:
        lead = f"bench-lead-{i}"
        team = a if i % 2 else b
        persons = (
            Person(name=f"Person {i} A", role=PersonRole.SUSPECT),
            Person(
                name=f"Person {i} B", role=PersonRole.VICTIM if i % 3 == 0 else PersonRole.WITNESS
            ),
        )
        idents = (
            Identifier(kind=IdentifierKind.HANDLE, value=f"telegram:user{i}", person=0),
            Identifier(kind=IdentifierKind.HANDLE, value=f"telegram:shared{i % 50}", person=1),
            Identifier(kind=IdentifierKind.EMAIL, value=f"p{i}@example.org"),
        )
        emit(
            LeadSubmitted(
                lead_id=lead, team=team, submitted_by="bench", idempotency_key=lead,
                source=SourceType.HOTLINE, received_at=start, summary=f"lead {i}",
                reliability=SourceReliability.B, credibility=InformationCredibility.UNCORROBORATED,
                persons=persons, identifiers=idents,
            ),
            lead, team, 1,
        )  # fmt: skip
        pids = [str(uuid.uuid5(NAMESPACE, f"{lead}|{n}")) for n in range(2)]
        for n, person in enumerate(persons):
            emit(EntityObserved(lead_id=lead, entity_id=pids[n], person=person, role=person.role),
                 lead, team, 2 + n)  # fmt: skip
        for n, ident in enumerate(idents):
            owner = ident.person
            emit(
                EntityObserved(
                    lead_id=lead, entity_id=str(uuid.uuid5(NAMESPACE, f"{jit}|{ident.key}")),
                    identifier=ident, role=persons[owner].role if owner is not None else None,
                    person_entity_id=pids[owner] if owner is not None else None,
                ),
                lead, team, 4 + n,
            )  # fmt: skip
        if i % 5 == 0:
            task = f"bench-task-{i}"
            other = b if team == a else a
            emit(
                TaskRequested(
                    task_id=task, at=start, by="bench", team=team, jit=jit, to_team=other,
                    title=f"task {i}", description="check", priority=TaskPriority.NORMAL,
                    links=TaskLinks(leads=(lead,), entities=(pids[0],)),
                    details=InformationRequest(),
                ),
                task, team, 1,
            )  # fmt: skip
            emit(TaskAccepted(task_id=task, at=start, by="bench", team=other, assignee="x"),
                 task, other, 2)  # fmt: skip
        i += 1
    return out[:events]


async def direct(driver: AsyncDriver, envelopes: list[Envelope], batch: int) -> float:
    """Projected events per second through the projection's own statements."""
    started = time.perf_counter()
    for i in range(0, len(envelopes), batch):
        await write(driver, envelopes[i : i + batch])
    return len(envelopes) / (time.perf_counter() - started)


RAW = "UNWIND $rows AS row MERGE (n:BenchNode {id: row.id}) SET n += row.props"


async def raw(driver: AsyncDriver, count: int, batch: int, tag: str) -> float:
    """Nodes per second for one UNWIND MERGE per row, same batch size: the baseline."""
    async with driver.session() as session:
        await (
            await session.run(
                "CREATE CONSTRAINT bench_node_id IF NOT EXISTS "
                "FOR (n:BenchNode) REQUIRE n.id IS UNIQUE"
            )
        ).consume()
    rows = [{"id": f"{tag}-{i}", "props": {"name": f"node {i}", "tag": tag}} for i in range(count)]
    started = time.perf_counter()
    for i in range(0, count, batch):
        chunk = rows[i : i + batch]

        async def work(tx: Any, chunk: list[dict[str, Any]] = chunk) -> None:
            await (await tx.run(RAW, rows=chunk)).consume()

        async with driver.session() as session:
            await session.execute_write(work)
    rate = count / (time.perf_counter() - started)
    async with driver.session() as session:
        await (
            await session.run(
                "MATCH (n:BenchNode {tag: $tag}) CALL (n) { DELETE n } IN TRANSACTIONS", tag=tag
            )
        ).consume()
    return rate


def _publish(settings: Settings, envelopes: list[Envelope], rate: float) -> None:
    from services.kit.kafka import Publisher

    publisher = Publisher(settings)
    try:
        if rate <= 0:
            publisher.publish(envelopes)
            return
        step = max(1, int(rate / 20))
        started = time.perf_counter()
        for i in range(0, len(envelopes), step):
            publisher.publish(envelopes[i : i + step])
            ahead = (i + step) / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
    finally:
        publisher.close()


async def through_kafka(
    settings: Settings, envelopes: list[Envelope], rate: float
) -> dict[str, Any]:
    """Publish to fresh topics while the worker projects; sample the lag until caught up."""
    from services.kit.kafka import provision
    from services.projection.lag import projection_lag
    from services.projection.views import GraphViews

    provision(settings)
    run_dir = Path(tempfile.mkdtemp(prefix="interlock-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLOCK_")}
    env |= {
        "INTERLOCK_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "INTERLOCK_NEO4J_URI": settings.neo4j_uri,
        "INTERLOCK_NEO4J_USER": settings.neo4j_user,
        "INTERLOCK_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "INTERLOCK_TOPIC_PREFIX": settings.topic_prefix,
        "INTERLOCK_PARTITIONS": str(settings.partitions),
        "INTERLOCK_READY_DIR": str(run_dir / "ready"),
        "INTERLOCK_LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "warning"),
    }
    log = (run_dir / "projection.log").open("ab")
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measurement
        [sys.executable, "-m", "services.cli", "projection"], env=env, stdout=log, stderr=log
    )
    driver = async_driver(settings)
    views = GraphViews(driver)
    try:
        while not (run_dir / "ready" / "projection").exists():
            if worker.poll() is not None:
                raise RuntimeError((run_dir / "projection.log").read_text()[-2000:])
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # the consumer joins its group
        started = time.perf_counter()
        publishing = threading.Thread(target=_publish, args=(settings, envelopes, rate))
        publishing.start()
        samples: list[float] = []
        while True:
            lag = await projection_lag(settings, views)
            if lag["lag_seconds"] is not None:
                samples.append(lag["lag_seconds"])
            if not publishing.is_alive() and lag["behind_records"] == 0:
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        publishing.join()
        samples.sort()
        return {
            "events_per_s": round(len(envelopes) / elapsed, 1),
            "publish_rate": rate or "unthrottled",
            "lag_p50_s": samples[len(samples) // 2] if samples else None,
            "lag_max_s": samples[-1] if samples else None,
            "seconds": round(elapsed, 2),
        }
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        await driver.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    base = load_settings()
    tag = uuid.uuid4().hex[:8]
    settings = base.model_copy(update={"topic_prefix": f"bench{tag}.", "partitions": 3})
    jit = f"bench-{tag}"
    teams = (f"BA-B{tag.upper()}", f"BB-B{tag.upper()}")
    envelopes = synthetic_log(args.events, jit, teams)
    driver = async_driver(settings)
    scope = Scope(jits=frozenset({jit}), teams=frozenset(teams))
    result: dict[str, Any] = {"events": len(envelopes), "batch": args.batch}
    try:
        await ensure_schema(driver)
        result["raw_unwind_merge_nodes_per_s"] = round(
            await raw(driver, len(envelopes), args.batch, tag), 1
        )
        result["projected_events_per_s"] = round(await direct(driver, envelopes, args.batch), 1)
        result["ratio"] = round(
            result["projected_events_per_s"] / result["raw_unwind_merge_nodes_per_s"], 3
        )
        await clear_graph(driver, scope=scope)
        if args.kafka:
            result["kafka"] = await through_kafka(settings, envelopes, args.rate)
    finally:
        await clear_graph(driver, scope=scope)
        await driver.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--kafka", action="store_true", help="also through Kafka and the worker")
    parser.add_argument(
        "--rate", type=float, default=0, help="events/s to publish (0: all at once)"
    )
    parser.add_argument("--out", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
